//! The live keys, in memory: what the gate checks on every request without touching the
//! database. Loaded at start and reloaded, one credential at a time, by every use case that
//! creates, re-grants or revokes a key, before its answer goes out — so a change applies
//! to the very next request. Each key's activity (requests per endpoint, last use, its
//! rate-limit window) is counted here and written to the database in batches.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use chrono::DateTime;

use crate::db::Conn;
use crate::db::client_applications::ClientApplication;
use crate::db::credentials::{Credential, KeyRecord};
use crate::db::usage::UsageBatch;

use super::keys::KeyHash;
use super::people::{ApiType, ProductWord};

/// A key the gate accepts.
#[derive(Debug)]
pub struct LiveKey {
    pub credential_id: i32,
    pub api_type: ApiType,
    grants: HashSet<i32>,
    /// Whether the key's client application is deactivated: its Partner and Harvest keys
    /// stop with it.
    pub suspended: bool,
    pub activity: Arc<KeyActivity>,
    /// `{"id":…,"type":…}`, as the gate names the credential in its answers.
    pub described: String,
}

impl LiveKey {
    pub fn is_granted(&self, endpoint_id: i32) -> bool {
        self.grants.contains(&endpoint_id)
    }
}

/// What a key did since the last batch, and its rate-limit window.
#[derive(Debug)]
pub struct KeyActivity {
    credential_id: i32,
    /// Unix milliseconds of the last authorized request; 0 when none since the last batch.
    last_used: AtomicI64,
    /// Requests per endpoint id; slot 0 counts requests outside the catalogue.
    requests: Box<[AtomicU64]>,
    window: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    started: Option<Instant>,
    count: u32,
}

/// The answer of a rate limit: whether to serve, and what to tell the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window ends (at least 1).
    pub reset_after: u64,
}

impl KeyActivity {
    fn new(credential_id: i32, slots: usize) -> Self {
        Self {
            credential_id,
            last_used: AtomicI64::new(0),
            requests: (0..slots).map(|_| AtomicU64::new(0)).collect(),
            window: Mutex::new(Window {
                started: None,
                count: 0,
            }),
        }
    }

    /// Counts a request against `limit` requests per `period`; windows start at a key's
    /// first request after the previous window ended.
    pub fn admit(&self, limit: u32, period: Duration, now: Instant) -> Admission {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let started = match window.started {
            Some(started) if now.duration_since(started) < period => started,
            _ => {
                window.started = Some(now);
                window.count = 0;
                now
            }
        };
        window.count = window.count.saturating_add(1);
        let left = period.saturating_sub(now.duration_since(started));
        Admission {
            allowed: window.count <= limit,
            limit,
            remaining: limit.saturating_sub(window.count),
            reset_after: left.as_secs_f64().ceil().max(1.0) as u64,
        }
    }

    /// Records an authorized request to `endpoint_id` (`None` outside the catalogue).
    pub fn record(&self, endpoint_id: Option<i32>, unix_millis: i64) {
        let slot = endpoint_id
            .and_then(|e| usize::try_from(e).ok())
            .filter(|e| *e < self.requests.len())
            .unwrap_or(0);
        self.requests[slot].fetch_add(1, Ordering::Relaxed);
        self.last_used.fetch_max(unix_millis, Ordering::Relaxed);
    }

    fn drain(&self) -> Option<UsageBatch> {
        let requests: Vec<(Option<i32>, i64)> = self
            .requests
            .iter()
            .enumerate()
            .filter_map(|(slot, count)| {
                let n = count.swap(0, Ordering::Relaxed);
                (n > 0).then(|| ((slot > 0).then_some(slot as i32), n as i64))
            })
            .collect();
        let last_used = self.last_used.swap(0, Ordering::Relaxed);
        if requests.is_empty() && last_used == 0 {
            return None;
        }
        Some(UsageBatch {
            credential_id: self.credential_id,
            last_used_at: DateTime::from_timestamp_millis(last_used)
                .filter(|_| last_used > 0)
                .map(|t| t.naive_utc()),
            requests,
        })
    }

    fn restore(&self, batch: &UsageBatch) {
        for (endpoint, n) in &batch.requests {
            let slot = endpoint.map_or(0, |e| e as usize);
            if let Some(count) = self.requests.get(slot) {
                count.fetch_add(*n as u64, Ordering::Relaxed);
            }
        }
        if let Some(at) = batch.last_used_at {
            self.last_used
                .fetch_max(at.and_utc().timestamp_millis(), Ordering::Relaxed);
        }
    }
}

/// Every live key by the hash of its text.
pub struct LiveKeys {
    index: ArcSwap<HashMap<KeyHash, Arc<LiveKey>>>,
    activity: Mutex<HashMap<i32, Arc<KeyActivity>>>,
    /// Serialises reloads, so two changes cannot overwrite each other's map.
    reloading: Mutex<()>,
    slots: usize,
}

impl LiveKeys {
    /// Loads every live key; `catalogue_len` is the highest endpoint id.
    pub fn load(conn: &mut Conn, catalogue_len: usize) -> diesel::QueryResult<Self> {
        let keys = Self {
            index: ArcSwap::from_pointee(HashMap::new()),
            activity: Mutex::new(HashMap::new()),
            reloading: Mutex::new(()),
            slots: catalogue_len + 1,
        };
        let mut grants: HashMap<i32, HashSet<i32>> = HashMap::new();
        for (credential, endpoint) in KeyRecord::all_live_grants(conn)? {
            grants.entry(credential).or_default().insert(endpoint);
        }
        let active: HashMap<i32, bool> = ClientApplication::all(conn)?
            .into_iter()
            .map(|a| (a.id, a.active))
            .collect();
        let mut index = HashMap::new();
        for record in KeyRecord::all_live(conn)? {
            let own = grants.remove(&record.id).unwrap_or_default();
            if let Some((hash, key)) = keys.entry(&record, own, &active) {
                index.insert(hash, Arc::new(key));
            }
        }
        keys.index.store(Arc::new(index));
        Ok(keys)
    }

    fn entry(
        &self,
        record: &KeyRecord,
        grants: HashSet<i32>,
        active: &HashMap<i32, bool>,
    ) -> Option<(KeyHash, LiveKey)> {
        let hash = KeyHash(record.key_hash.as_slice().try_into().ok()?);
        let api_type = ApiType::parse(&record.api_type)?;
        let activity = self
            .activity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(record.id)
            .or_insert_with(|| Arc::new(KeyActivity::new(record.id, self.slots)))
            .clone();
        let suspended = record
            .client_application_id
            .is_some_and(|app| !active.get(&app).copied().unwrap_or(false));
        Some((
            hash,
            LiveKey {
                credential_id: record.id,
                api_type,
                grants,
                suspended,
                activity,
                described: serde_json::json!({ "id": record.id, "type": api_type.as_str() })
                    .to_string(),
            },
        ))
    }

    /// The live key with this hash.
    pub fn get(&self, hash: &KeyHash) -> Option<Arc<LiveKey>> {
        self.index.load().get(hash).cloned()
    }

    pub fn len(&self) -> usize {
        self.index.load().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Makes the index agree with the database about one credential.
    pub fn reload(&self, conn: &mut Conn, credential_id: i32) -> diesel::QueryResult<()> {
        let _guard = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let Some(record) = KeyRecord::find(conn, credential_id)? else {
            return Ok(());
        };
        let mut index = HashMap::clone(&self.index.load());
        index.retain(|_, key| key.credential_id != credential_id);
        if record.revoked_at.is_none() {
            let grants = Credential::granted_endpoint_ids(conn, credential_id)?
                .into_iter()
                .collect();
            let active = match record.client_application_id {
                Some(app) => ClientApplication::find(conn, app)?
                    .map(|a| HashMap::from([(a.id, a.active)]))
                    .unwrap_or_default(),
                None => HashMap::new(),
            };
            if let Some((hash, key)) = self.entry(&record, grants, &active) {
                index.insert(hash, Arc::new(key));
            }
        }
        self.index.store(Arc::new(index));
        Ok(())
    }

    /// Takes every key's counts since the last batch.
    pub fn drain_usage(&self) -> Vec<UsageBatch> {
        let all: Vec<Arc<KeyActivity>> = self
            .activity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        all.iter().filter_map(|a| a.drain()).collect()
    }

    /// Puts back counts that could not be written, for the next batch.
    pub fn restore_usage(&self, batches: &[UsageBatch]) {
        let activity = self.activity.lock().unwrap_or_else(|e| e.into_inner());
        for batch in batches {
            if let Some(a) = activity.get(&batch.credential_id) {
                a.restore(batch);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_admits_its_limit_then_refuses_until_it_ends() {
        let activity = KeyActivity::new(1, 4);
        let start = Instant::now();
        let period = Duration::from_secs(10);
        for n in 0..3 {
            let a = activity.admit(3, period, start + Duration::from_millis(n));
            assert!(a.allowed);
            assert_eq!(a.remaining, 2 - n as u32);
        }
        let refused = activity.admit(3, period, start + Duration::from_secs(4));
        assert!(!refused.allowed);
        assert_eq!((refused.remaining, refused.reset_after), (0, 6));
        assert!(
            activity
                .admit(3, period, start + Duration::from_secs(10))
                .allowed
        );
    }

    #[test]
    fn usage_is_drained_once_and_restored_on_failure() {
        let activity = KeyActivity::new(7, 4);
        activity.record(Some(2), 1_000);
        activity.record(Some(2), 3_000);
        activity.record(None, 2_000);
        activity.record(Some(99), 2_500);
        let batch = activity.drain().expect("counts");
        assert_eq!(batch.credential_id, 7);
        assert_eq!(batch.requests, vec![(None, 2), (Some(2), 2)]);
        assert_eq!(
            batch.last_used_at.map(|t| t.and_utc().timestamp_millis()),
            Some(3_000)
        );
        assert!(activity.drain().is_none());
        activity.restore(&batch);
        assert_eq!(activity.drain(), Some(batch));
    }
}
