//! The live keys, in memory: what the gate checks on every request without touching the
//! database. Loaded at start; after every commit that changes a credential, the one
//! post-commit step (`after_commit`) updates that credential alone, and a periodic
//! `reconcile` brings the whole index back in line with the database, so that a failed
//! update can never leave a revoked key alive for long. Each key's activity (requests per
//! endpoint, last use, its rate-limit window) is counted here and written to the database
//! in batches.
//!
//! Sized for many keys: the index is a concurrent map changed one key at a time (no copy
//! of the others), grants are a bit set, and usage is counted only for endpoints used.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::DateTime;
use dashmap::DashMap;

use crate::db::Conn;
use crate::db::client_applications::ClientApplication;
use crate::db::credentials::{Credential, KeyRecord};
use crate::db::usage::UsageBatch;
use crate::limiter::{Admission, Limit, Window};
use crate::rules::keys::KeyHash;

use super::shared_limits::Lease;
use crate::rules::words::{ApiType, ProductWord};
use crate::use_cases::{AfterCommit, Changes};

/// A key the gate accepts.
#[derive(Debug)]
pub struct LiveKey {
    pub credential_id: i32,
    pub api_type: ApiType,
    grants: Grants,
    /// Whether the key's client application is deactivated: its Partner and Harvest keys
    /// stop with it.
    pub suspended: bool,
    pub activity: Arc<KeyActivity>,
    /// `{"id":…,"type":…}`, as the gate names the credential in its answers.
    pub described: String,
}

impl LiveKey {
    pub fn is_granted(&self, endpoint_id: i32) -> bool {
        self.grants.contains(endpoint_id)
    }

    /// Whether the gate would treat `other` exactly as this key.
    fn same_as(&self, other: &LiveKey) -> bool {
        self.credential_id == other.credential_id
            && self.api_type == other.api_type
            && self.grants == other.grants
            && self.suspended == other.suspended
    }
}

/// Endpoint ids as a bit set: a few words for the whole catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Grants(Box<[u64]>);

impl Grants {
    fn new(ids: impl IntoIterator<Item = i32>) -> Self {
        let ids: Vec<usize> = ids
            .into_iter()
            .filter_map(|id| usize::try_from(id).ok())
            .collect();
        let words = ids.iter().max().map_or(0, |max| max / 64 + 1);
        let mut bits = vec![0u64; words];
        for id in ids {
            bits[id / 64] |= 1 << (id % 64);
        }
        Self(bits.into_boxed_slice())
    }

    fn contains(&self, id: i32) -> bool {
        usize::try_from(id)
            .ok()
            .and_then(|id| self.0.get(id / 64).map(|word| word & (1 << (id % 64)) != 0))
            .unwrap_or(false)
    }
}

/// What a key did since the last batch, and its rate-limit window.
#[derive(Debug)]
pub struct KeyActivity {
    credential_id: i32,
    state: Mutex<Activity>,
}

#[derive(Debug, Default)]
struct Activity {
    window: Window,
    /// This instance's lease of the key's shared window, on PostgreSQL.
    lease: Lease,
    /// Unix milliseconds of the last authorized request; 0 when none since the last batch.
    last_used: i64,
    /// Requests per endpoint used since the last batch (`None`: outside the catalogue).
    requests: Vec<(Option<i32>, i64)>,
}

impl KeyActivity {
    fn new(credential_id: i32) -> Self {
        Self {
            credential_id,
            state: Mutex::new(Activity::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Activity> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a request against the key's rate limit.
    pub fn admit(&self, limit: Limit, now: Instant) -> Admission {
        self.state().window.admit(limit, now)
    }

    /// Works on this instance's lease of the key's shared window.
    pub fn with_lease<T>(&self, work: impl FnOnce(&mut Lease) -> T) -> T {
        work(&mut self.state().lease)
    }

    /// Records an authorized request to `endpoint_id` (`None` outside the catalogue).
    pub fn record(&self, endpoint_id: Option<i32>, unix_millis: i64) {
        let mut state = self.state();
        state.last_used = state.last_used.max(unix_millis);
        add(&mut state.requests, endpoint_id, 1);
    }

    fn drain(&self) -> Option<UsageBatch> {
        let mut state = self.state();
        let mut requests = std::mem::take(&mut state.requests);
        let last_used = std::mem::take(&mut state.last_used);
        drop(state);
        if requests.is_empty() && last_used == 0 {
            return None;
        }
        requests.sort_unstable();
        Some(UsageBatch {
            credential_id: self.credential_id,
            last_used_at: DateTime::from_timestamp_millis(last_used)
                .filter(|_| last_used > 0)
                .map(|t| t.naive_utc()),
            requests,
        })
    }

    fn restore(&self, batch: &UsageBatch) {
        let mut state = self.state();
        for (endpoint, n) in &batch.requests {
            add(&mut state.requests, *endpoint, *n);
        }
        if let Some(at) = batch.last_used_at {
            state.last_used = state.last_used.max(at.and_utc().timestamp_millis());
        }
    }
}

fn add(requests: &mut Vec<(Option<i32>, i64)>, endpoint: Option<i32>, n: i64) {
    match requests.iter_mut().find(|(e, _)| *e == endpoint) {
        Some((_, count)) => *count += n,
        None => requests.push((endpoint, n)),
    }
}

/// Every live key by the hash of its text.
pub struct LiveKeys {
    index: DashMap<KeyHash, Arc<LiveKey>>,
    /// Each credential's activity, kept across updates of its key.
    activity: DashMap<i32, Arc<KeyActivity>>,
    /// Serialises updates, so an older read of a credential cannot overwrite a newer one.
    updating: Mutex<()>,
    /// For tests of what follows a failed update: every `after_commit` update fails.
    fail_updates: bool,
    /// When the whole index last agreed with the database (unix seconds), for readiness.
    reconciled_at: AtomicI64,
}

impl LiveKeys {
    /// Loads every live key.
    pub fn load(conn: &mut Conn, fail_updates: bool) -> diesel::QueryResult<Self> {
        let keys = Self {
            index: DashMap::new(),
            activity: DashMap::new(),
            updating: Mutex::new(()),
            fail_updates,
            reconciled_at: AtomicI64::new(0),
        };
        keys.reconcile(conn)?;
        Ok(keys)
    }

    /// Makes the whole index agree with the database: adds and changes what differs,
    /// removes what is no longer live. Returns how many keys it had to correct.
    pub fn reconcile(&self, conn: &mut Conn) -> diesel::QueryResult<usize> {
        let _updating = self.updating.lock().unwrap_or_else(|e| e.into_inner());
        let mut grants: HashMap<i32, Vec<i32>> = HashMap::new();
        for (credential, endpoint) in KeyRecord::all_live_grants(conn)? {
            grants.entry(credential).or_default().push(endpoint);
        }
        let active: HashMap<i32, bool> = ClientApplication::all(conn)?
            .into_iter()
            .map(|a| (a.id, a.active))
            .collect();
        let mut live = HashSet::new();
        let mut corrected = 0;
        for record in KeyRecord::all_live(conn)? {
            let own = grants.remove(&record.id).unwrap_or_default();
            let Some((hash, key)) = self.entry(&record, own, &active) else {
                continue;
            };
            live.insert(hash);
            let current = self.index.get(&hash).map(|k| Arc::clone(k.value()));
            if !current.is_some_and(|current| current.same_as(&key)) {
                self.index.insert(hash, Arc::new(key));
                corrected += 1;
            }
        }
        let before = self.index.len();
        self.index.retain(|hash, _| live.contains(hash));
        corrected += before - self.index.len();
        self.reconciled_at
            .store(chrono::Utc::now().timestamp(), Ordering::Relaxed);
        Ok(corrected)
    }

    /// How long ago the whole index last agreed with the database.
    pub fn since_reconciled(&self) -> Duration {
        let at = self.reconciled_at.load(Ordering::Relaxed);
        let seconds = chrono::Utc::now().timestamp().saturating_sub(at);
        Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
    }

    fn entry(
        &self,
        record: &KeyRecord,
        grants: Vec<i32>,
        active: &HashMap<i32, bool>,
    ) -> Option<(KeyHash, LiveKey)> {
        let hash = KeyHash(record.key_hash.as_slice().try_into().ok()?);
        let api_type = record.api_type;
        let activity = Arc::clone(
            self.activity
                .entry(record.id)
                .or_insert_with(|| Arc::new(KeyActivity::new(record.id)))
                .value(),
        );
        let suspended = record
            .client_application_id
            .is_some_and(|app| !active.get(&app).copied().unwrap_or(false));
        Some((
            hash,
            LiveKey {
                credential_id: record.id,
                api_type,
                grants: Grants::new(grants),
                suspended,
                activity,
                described: serde_json::json!({ "id": record.id, "type": api_type.as_str() })
                    .to_string(),
            },
        ))
    }

    /// The live key with this hash.
    pub fn get(&self, hash: &KeyHash) -> Option<Arc<LiveKey>> {
        self.index.get(hash).map(|key| Arc::clone(key.value()))
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The changed credentials, made to agree with the database one by one.
    fn update_all(&self, conn: &mut Conn, credential_ids: &[i32]) {
        for &id in credential_ids {
            let updated = if self.fail_updates {
                Err(anyhow::anyhow!(
                    "updates are set to fail (a test of the reconcile)"
                ))
            } else {
                self.update(conn, id).map_err(anyhow::Error::from)
            };
            if let Err(error) = updated {
                tracing::warn!(
                    credential_id = id,
                    error = format!("{error:#}"),
                    "live keys not updated after a commit; the next reconcile will"
                );
            }
        }
    }

    /// Makes the index agree with the database about one credential, without touching
    /// the others.
    fn update(&self, conn: &mut Conn, credential_id: i32) -> diesel::QueryResult<()> {
        let _updating = self.updating.lock().unwrap_or_else(|e| e.into_inner());
        let Some(record) = KeyRecord::find(conn, credential_id)? else {
            return Ok(());
        };
        let Ok(hash) = record.key_hash.as_slice().try_into().map(KeyHash) else {
            return Ok(());
        };
        if record.revoked_at.is_some() {
            self.index.remove(&hash);
            return Ok(());
        }
        let grants = Credential::granted_endpoint_ids(conn, credential_id)?;
        let active = match record.client_application_id {
            Some(app) => ClientApplication::find(conn, app)?
                .map(|a| HashMap::from([(a.id, a.active)]))
                .unwrap_or_default(),
            None => HashMap::new(),
        };
        match self.entry(&record, grants, &active) {
            Some((hash, key)) => {
                self.index.insert(hash, Arc::new(key));
            }
            None => {
                self.index.remove(&hash);
            }
        }
        Ok(())
    }

    /// Takes every key's counts since the last batch.
    pub fn drain_usage(&self) -> Vec<UsageBatch> {
        let all: Vec<Arc<KeyActivity>> = self
            .activity
            .iter()
            .map(|a| Arc::clone(a.value()))
            .collect();
        all.iter().filter_map(|a| a.drain()).collect()
    }

    /// Puts back counts that could not be written, for the next batch.
    pub fn restore_usage(&self, batches: &[UsageBatch]) {
        for batch in batches {
            if let Some(activity) = self.activity.get(&batch.credential_id) {
                activity.restore(batch);
            }
        }
    }
}

/// The gate learns of every committed change to credentials before the answer goes out.
/// A failure never fails the change, which is already saved: it is logged, and the next
/// `reconcile` corrects the index.
impl AfterCommit for LiveKeys {
    fn after_commit(&self, conn: &mut Conn, changes: &Changes) {
        self.update_all(conn, &changes.credentials);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Duration;

    #[test]
    fn a_window_admits_its_limit_then_refuses_until_it_ends() {
        let activity = KeyActivity::new(1);
        let start = Instant::now();
        let period = Duration::from_secs(10);
        let limit = Limit { count: 3, period };
        for n in 0..3 {
            let a = activity.admit(limit, start + Duration::from_millis(n));
            assert!(a.allowed);
            assert_eq!(a.remaining, 2 - n as u32);
        }
        let refused = activity.admit(limit, start + Duration::from_secs(4));
        assert!(!refused.allowed);
        assert_eq!((refused.remaining, refused.reset_after), (0, 6));
        assert!(
            activity
                .admit(limit, start + Duration::from_secs(10))
                .allowed
        );
    }

    #[test]
    fn usage_is_drained_once_and_restored_on_failure() {
        let activity = KeyActivity::new(7);
        activity.record(Some(2), 1_000);
        activity.record(Some(2), 3_000);
        activity.record(None, 2_000);
        activity.record(Some(99), 2_500);
        let batch = activity.drain().expect("counts");
        assert_eq!(batch.credential_id, 7);
        assert_eq!(batch.requests, vec![(None, 1), (Some(2), 2), (Some(99), 1)]);
        assert_eq!(
            batch.last_used_at.map(|t| t.and_utc().timestamp_millis()),
            Some(3_000)
        );
        assert!(activity.drain().is_none());
        activity.restore(&batch);
        assert_eq!(activity.drain(), Some(batch));
    }

    #[test]
    fn grants_are_a_bit_set_of_endpoint_ids() {
        let grants = Grants::new([1, 63, 64, 133]);
        for id in [1, 63, 64, 133] {
            assert!(grants.contains(id), "{id}");
        }
        for id in [0, 2, 62, 65, 132, 134, 10_000, -1] {
            assert!(!grants.contains(id), "{id}");
        }
        assert!(!Grants::new([]).contains(1));
        assert_eq!(
            std::mem::size_of_val(&*grants.0),
            24,
            "three words for 133 ids"
        );
    }
}
