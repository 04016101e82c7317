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
use std::net::IpAddr;

use actix_web::http::header::HeaderValue;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::DateTime;
use dashmap::{DashMap, DashSet};

use crate::db::Conn;
use crate::db::catalogue::Endpoint;
use crate::db::client_applications::ClientApplication;
use crate::db::credentials::{KeyRecord, SecretRecord};
use crate::db::integrations::{Integration, TokenFamily};
use crate::db::usage::{SecretUse, UsageBatch};
use crate::db::users::User;
use crate::limiter::{Admission, Limit, Window};
use crate::oauth::access_token::Acting;
use crate::rules::keys::KeyHash;
use crate::rules::trusted_ips::TrustedIps;

use super::shared_limits::Lease;
use crate::rules::words::{ApiType, DeveloperPermission, ProductWord};
use crate::use_cases::{AfterCommit, Changes};

/// A credential the gate accepts.
#[derive(Debug)]
pub struct LiveKey {
    pub credential_id: i32,
    pub api_type: ApiType,
    /// v1/v2: the endpoints granted; v3: the endpoints its scopes open.
    grants: Grants,
    /// Whether the key's client application is deactivated: its Partner and Harvest keys
    /// stop with it.
    pub suspended: bool,
    /// Where it may be used from.
    trusted_ips: TrustedIps,
    /// Its secrets that have not ended: a rotation's old one works until its end.
    secrets: Vec<Secret>,
    /// A v3 credential's client ID.
    pub client_id: Option<Box<str>>,
    /// Unix milliseconds of the first moment it no longer works; `None`: never.
    expires_at: Option<i64>,
    pub activity: Arc<KeyActivity>,
    /// `{"id":…,"type":…}`, as the gate names the credential in its answers.
    pub described: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Secret {
    id: i32,
    hash: KeyHash,
    /// Unix milliseconds; `None`: the current secret.
    ends_at: Option<i64>,
}

impl LiveKey {
    pub fn is_granted(&self, endpoint_id: i32) -> bool {
        self.grants.contains(endpoint_id)
    }

    /// Whether a request from `address` may use the credential.
    pub fn admits_address(&self, address: std::net::IpAddr) -> bool {
        self.trusted_ips.admits(address)
    }

    /// When it expired, if it had by `unix_millis`: the last day it worked (UTC).
    pub fn expired(&self, unix_millis: i64) -> Option<chrono::NaiveDate> {
        self.expires_at
            .filter(|end| unix_millis >= *end)
            .and_then(DateTime::from_timestamp_millis)
            .map(|end| crate::rules::expiry::Expiry::last_day(end.naive_utc()))
    }

    /// Whether the secret `secret_id` still works at `unix_millis`.
    pub fn secret_works(&self, secret_id: i32, unix_millis: i64) -> bool {
        self.secrets
            .iter()
            .any(|s| s.id == secret_id && s.ends_at.is_none_or(|end| unix_millis < end))
    }

    /// Whether the gate would treat `other` exactly as this key.
    fn same_as(&self, other: &LiveKey) -> bool {
        self.credential_id == other.credential_id
            && self.api_type == other.api_type
            && self.grants == other.grants
            && self.suspended == other.suspended
            && self.trusted_ips == other.trusted_ips
            && self.secrets == other.secrets
            && self.client_id == other.client_id
            && self.expires_at == other.expires_at
    }
}

/// A connected partner integration, as the gate checks its tokens.
#[derive(Debug)]
pub struct LiveIntegration {
    pub id: i32,
    /// The partner's OAuth client.
    pub credential_id: i32,
    pub acting: Acting,
    /// The endpoints its consented scopes open, of those the partner still asks for.
    grants: Grants,
}

impl LiveIntegration {
    pub fn is_granted(&self, endpoint_id: i32) -> bool {
        self.grants.contains(endpoint_id)
    }
}

/// How long a revoked token family is remembered: longer than its last access token lives.
const FAMILY_MEMORY: chrono::Duration = chrono::Duration::minutes(65);

/// Makes `set` hold exactly `ids`.
fn replace_set(set: &DashSet<i32>, ids: Vec<i32>) {
    let wanted: HashSet<i32> = ids.into_iter().collect();
    set.retain(|id| wanted.contains(id));
    for id in wanted {
        set.insert(id);
    }
}

/// What a presented secret found: its credential, and which of its secrets it is.
#[derive(Debug, Clone)]
pub struct LiveSecret {
    pub key: Arc<LiveKey>,
    pub secret_id: i32,
}

impl LiveSecret {
    /// Whether the secret still works at `unix_millis` (a rotation's overlap may have
    /// ended since the index last changed).
    pub fn works(&self, unix_millis: i64) -> bool {
        self.key.secret_works(self.secret_id, unix_millis)
    }
}

/// Endpoint ids as a bit set: a few words for the whole catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grants(Box<[u64]>);

impl Grants {
    pub fn new(ids: impl IntoIterator<Item = i32>) -> Self {
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

    pub fn contains(&self, id: i32) -> bool {
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
    /// Each secret's last use since the last batch: when (unix milliseconds), from where,
    /// with which user agent.
    secrets_used: Vec<SecretSeen>,
    /// Unix milliseconds each partner integration's token was last used.
    integrations_used: Vec<(i32, i64)>,
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

    /// Records a use of one of the credential's secrets (a key at the gate, a client
    /// secret at the token endpoint), and where it came from. The user agent is the
    /// request's own header value, shared, not copied.
    pub fn record_secret(
        &self,
        secret_id: i32,
        unix_millis: i64,
        from: IpAddr,
        user_agent: Option<&HeaderValue>,
    ) {
        let mut state = self.state();
        let seen = SecretSeen {
            secret_id,
            at: unix_millis,
            from,
            user_agent: user_agent.cloned(),
        };
        match state
            .secrets_used
            .iter_mut()
            .find(|s| s.secret_id == secret_id)
        {
            Some(known) if known.at > unix_millis => {}
            Some(known) => *known = seen,
            None => state.secrets_used.push(seen),
        }
    }

    /// Records a request made with a partner integration's token.
    pub fn record_integration(&self, integration_id: i32, unix_millis: i64) {
        latest(
            &mut self.state().integrations_used,
            integration_id,
            unix_millis,
        );
    }

    fn drain(&self) -> Option<UsageBatch> {
        let mut state = self.state();
        let mut requests = std::mem::take(&mut state.requests);
        let last_used = std::mem::take(&mut state.last_used);
        let secrets_used = std::mem::take(&mut state.secrets_used);
        let integrations_used = std::mem::take(&mut state.integrations_used);
        drop(state);
        if requests.is_empty()
            && last_used == 0
            && secrets_used.is_empty()
            && integrations_used.is_empty()
        {
            return None;
        }
        requests.sort_unstable();
        Some(UsageBatch {
            credential_id: self.credential_id,
            last_used_at: naive(last_used),
            requests,
            secrets_last_used: secrets_used
                .into_iter()
                .filter_map(|seen| {
                    Some(SecretUse {
                        secret_id: seen.secret_id,
                        at: naive(seen.at)?,
                        from: Some(seen.from.to_canonical().to_string()),
                        user_agent: seen.user_agent.and_then(|ua| {
                            ua.to_str().ok().map(|ua| ua.chars().take(512).collect())
                        }),
                    })
                })
                .collect(),
            integrations_last_used: integrations_used
                .into_iter()
                .filter_map(|(id, at)| Some((id, naive(at)?)))
                .collect(),
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
        drop(state);
        for used in &batch.secrets_last_used {
            let from = used
                .from
                .as_deref()
                .and_then(|f| f.parse().ok())
                .unwrap_or(IpAddr::from([0, 0, 0, 0]));
            let user_agent = used
                .user_agent
                .as_deref()
                .and_then(|ua| HeaderValue::from_str(ua).ok());
            self.record_secret(
                used.secret_id,
                used.at.and_utc().timestamp_millis(),
                from,
                user_agent.as_ref(),
            );
        }
        for (id, at) in &batch.integrations_last_used {
            self.record_integration(*id, at.and_utc().timestamp_millis());
        }
    }
}

/// A secret's latest use, as counted in memory.
#[derive(Debug, Clone)]
struct SecretSeen {
    secret_id: i32,
    at: i64,
    from: IpAddr,
    user_agent: Option<HeaderValue>,
}

/// Keeps the latest time for `id`.
fn latest(used: &mut Vec<(i32, i64)>, id: i32, unix_millis: i64) {
    match used.iter_mut().find(|(known, _)| *known == id) {
        Some((_, at)) => *at = (*at).max(unix_millis),
        None => used.push((id, unix_millis)),
    }
}

fn naive(unix_millis: i64) -> Option<chrono::NaiveDateTime> {
    DateTime::from_timestamp_millis(unix_millis)
        .filter(|_| unix_millis > 0)
        .map(|t| t.naive_utc())
}

fn add(requests: &mut Vec<(Option<i32>, i64)>, endpoint: Option<i32>, n: i64) {
    match requests.iter_mut().find(|(e, _)| *e == endpoint) {
        Some((_, count)) => *count += n,
        None => requests.push((endpoint, n)),
    }
}

/// Every live credential, by the hash of each of its secrets and by its id.
pub struct LiveKeys {
    index: DashMap<KeyHash, LiveSecret>,
    by_credential: DashMap<i32, Arc<LiveKey>>,
    /// v3 credentials by client ID, for the token endpoint and bearer tokens.
    by_client_id: DashMap<Box<str>, Arc<LiveKey>>,
    /// Each credential's activity, kept across updates of its key.
    activity: DashMap<i32, Arc<KeyActivity>>,
    /// Disabled users: a token acting as one of them is refused. (Tokens are only issued
    /// to act as users who exist and were active then.)
    disabled_users: DashSet<i32>,
    /// Users who may manage every credential, as an integration acting as a person needs.
    all_credential_managers: DashSet<i32>,
    /// Connected partner integrations.
    integrations: DashMap<i32, Arc<LiveIntegration>>,
    /// Token families revoked within an access token's lifetime: their tokens stop.
    revoked_families: DashSet<i32>,
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
            by_credential: DashMap::new(),
            by_client_id: DashMap::new(),
            activity: DashMap::new(),
            disabled_users: DashSet::new(),
            all_credential_managers: DashSet::new(),
            integrations: DashMap::new(),
            revoked_families: DashSet::new(),
            updating: Mutex::new(()),
            fail_updates,
            reconciled_at: AtomicI64::new(0),
        };
        keys.reconcile(conn)?;
        Ok(keys)
    }

    /// Makes the whole index agree with the database: adds and changes what differs,
    /// removes what is no longer live. Returns how many credentials it had to correct.
    pub fn reconcile(&self, conn: &mut Conn) -> diesel::QueryResult<usize> {
        let _updating = self.updating.lock().unwrap_or_else(|e| e.into_inner());
        let mut grants: HashMap<i32, Vec<i32>> = HashMap::new();
        for (credential, endpoint) in KeyRecord::all_live_grants(conn)? {
            grants.entry(credential).or_default().push(endpoint);
        }
        let mut secrets: HashMap<i32, Vec<SecretRecord>> = HashMap::new();
        for secret in KeyRecord::all_live_secrets(conn, crate::db::now())? {
            secrets
                .entry(secret.credential_id)
                .or_default()
                .push(secret);
        }
        let active: HashMap<i32, bool> = ClientApplication::all(conn)?
            .into_iter()
            .map(|a| (a.id, a.active))
            .collect();
        let mut live = HashSet::new();
        let mut corrected = 0;
        for record in KeyRecord::all_live(conn)? {
            let own = grants.remove(&record.id).unwrap_or_default();
            let own_secrets = secrets.remove(&record.id).unwrap_or_default();
            let key = self.entry(&record, own, own_secrets, &active);
            live.insert(record.id);
            let current = self
                .by_credential
                .get(&record.id)
                .map(|k| Arc::clone(k.value()));
            if !current.is_some_and(|current| current.same_as(&key)) {
                self.put(Arc::new(key));
                corrected += 1;
            }
        }
        replace_set(&self.disabled_users, User::disabled_ids(conn)?);
        replace_set(
            &self.all_credential_managers,
            User::ids_with(conn, DeveloperPermission::ManageAllCredentials)?,
        );
        replace_set(
            &self.revoked_families,
            TokenFamily::revoked_since(conn, crate::db::now() - FAMILY_MEMORY)?,
        );
        let connected = Integration::all_connected(conn)?;
        let ids: HashSet<i32> = connected.iter().map(|i| i.id).collect();
        self.integrations.retain(|id, _| ids.contains(id));
        for integration in connected {
            let live = self.live_integration(conn, &integration)?;
            self.integrations.insert(integration.id, Arc::new(live));
        }
        let gone: Vec<i32> = self
            .by_credential
            .iter()
            .map(|k| *k.key())
            .filter(|id| !live.contains(id))
            .collect();
        corrected += gone.len();
        for id in gone {
            self.remove(id);
        }
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
        secrets: Vec<SecretRecord>,
        active: &HashMap<i32, bool>,
    ) -> LiveKey {
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
        let mut secrets: Vec<Secret> = secrets
            .into_iter()
            .filter_map(|s| {
                Some(Secret {
                    id: s.id,
                    hash: KeyHash(s.hash.as_slice().try_into().ok()?),
                    ends_at: s.ends_at.map(|t| t.and_utc().timestamp_millis()),
                })
            })
            .collect();
        secrets.sort_by_key(|s| s.id);
        LiveKey {
            credential_id: record.id,
            api_type,
            grants: Grants::new(grants),
            suspended,
            trusted_ips: TrustedIps::stored(&record.trusted_ips),
            secrets,
            client_id: record.client_id.as_deref().map(Box::from),
            expires_at: record.expires_at.map(|t| t.and_utc().timestamp_millis()),
            activity,
            described: serde_json::json!({ "id": record.id, "type": api_type.as_str() })
                .to_string(),
        }
    }

    /// Makes `key` the credential's live entry, under each of its secrets and its client
    /// ID; secrets it no longer has stop at once.
    fn put(&self, key: Arc<LiveKey>) {
        if let Some(old) = self
            .by_credential
            .insert(key.credential_id, Arc::clone(&key))
        {
            for secret in old.secrets.iter().filter(|s| !key.secrets.contains(s)) {
                self.index.remove(&secret.hash);
            }
            if let Some(client_id) = old
                .client_id
                .as_ref()
                .filter(|c| key.client_id.as_ref() != Some(*c))
            {
                self.by_client_id.remove(client_id);
            }
        }
        for secret in &key.secrets {
            self.index.insert(
                secret.hash,
                LiveSecret {
                    key: Arc::clone(&key),
                    secret_id: secret.id,
                },
            );
        }
        if let Some(client_id) = &key.client_id {
            self.by_client_id
                .insert(client_id.clone(), Arc::clone(&key));
        }
    }

    /// Stops the credential: none of its secrets or tokens is accepted any more.
    fn remove(&self, credential_id: i32) {
        if let Some((_, old)) = self.by_credential.remove(&credential_id) {
            for secret in &old.secrets {
                self.index.remove(&secret.hash);
            }
            if let Some(client_id) = &old.client_id {
                self.by_client_id.remove(client_id);
            }
        }
    }

    /// The live secret with this hash.
    pub fn get(&self, hash: &KeyHash) -> Option<LiveSecret> {
        self.index.get(hash).map(|secret| secret.value().clone())
    }

    /// The live credential with this id.
    pub fn credential(&self, credential_id: i32) -> Option<Arc<LiveKey>> {
        self.by_credential
            .get(&credential_id)
            .map(|key| Arc::clone(key.value()))
    }

    /// The live v3 credential with this client ID.
    pub fn by_client_id(&self, client_id: &str) -> Option<Arc<LiveKey>> {
        self.by_client_id
            .get(client_id)
            .map(|key| Arc::clone(key.value()))
    }

    /// Whether the user may still be acted as (is not disabled).
    pub fn user_active(&self, user_id: i32) -> bool {
        !self.disabled_users.contains(&user_id)
    }

    /// Whether an integration may act as this user: not disabled, and still managing every
    /// credential (what authorizing one takes).
    pub fn user_may_act_for_integrations(&self, user_id: i32) -> bool {
        self.user_active(user_id) && self.all_credential_managers.contains(&user_id)
    }

    /// The connected integration with this id.
    pub fn integration(&self, id: i32) -> Option<Arc<LiveIntegration>> {
        self.integrations.get(&id).map(|i| Arc::clone(i.value()))
    }

    /// Whether a token family was revoked (its access tokens stop).
    pub fn family_revoked(&self, family_id: i32) -> bool {
        self.revoked_families.contains(&family_id)
    }

    /// Makes the index agree with the database about one user.
    fn update_user(&self, conn: &mut Conn, user_id: i32) -> diesel::QueryResult<()> {
        match User::find(conn, user_id)?.is_none_or(|u| u.disabled) {
            true => self.disabled_users.insert(user_id),
            false => self.disabled_users.remove(&user_id).is_some(),
        };
        let manages_all =
            User::permissions(conn, user_id)?.contains(&DeveloperPermission::ManageAllCredentials);
        match manages_all {
            true => self.all_credential_managers.insert(user_id),
            false => self.all_credential_managers.remove(&user_id).is_some(),
        };
        Ok(())
    }

    /// What the gate checks of an integration: its client, who it acts as, and the
    /// endpoints its scopes open (those consented to that the partner still asks for).
    fn live_integration(
        &self,
        conn: &mut Conn,
        integration: &Integration,
    ) -> diesel::QueryResult<LiveIntegration> {
        let requested: HashSet<String> = match KeyRecord::find(conn, integration.credential_id)?
            .and_then(|c| c.client_application_id)
        {
            Some(app) => ClientApplication::preset_scopes(conn, app)?
                .into_iter()
                .collect(),
            None => HashSet::new(),
        };
        let scopes: Vec<&str> = integration
            .scopes
            .split(' ')
            .filter(|s| requested.contains(*s))
            .collect();
        Ok(LiveIntegration {
            id: integration.id,
            credential_id: integration.credential_id,
            acting: match integration.service_account {
                true => Acting::ServiceAccount,
                false => Acting::User(integration.authorized_by),
            },
            grants: Grants::new(Endpoint::ids_of_scopes(conn, &scopes)?),
        })
    }

    /// Makes the index agree with the database about one integration.
    fn update_integration(&self, conn: &mut Conn, id: i32) -> diesel::QueryResult<()> {
        match Integration::find(conn, id)?.filter(|i| i.disconnected_at.is_none()) {
            Some(integration) => {
                let live = self.live_integration(conn, &integration)?;
                self.integrations.insert(id, Arc::new(live));
                // Whoever authorized it is read now too: a person added since the last
                // reconcile (by the command line) is not in the index yet.
                self.update_user(conn, integration.authorized_by)?;
            }
            None => {
                self.integrations.remove(&id);
            }
        }
        Ok(())
    }

    /// Makes the index agree with the database about one token family.
    fn update_family(&self, conn: &mut Conn, id: i32) -> diesel::QueryResult<()> {
        if TokenFamily::find(conn, id)?.is_none_or(|f| f.revoked_at.is_some()) {
            self.revoked_families.insert(id);
        }
        Ok(())
    }

    /// How many live credentials there are.
    pub fn len(&self) -> usize {
        self.by_credential.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_credential.is_empty()
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
        let record = KeyRecord::find(conn, credential_id)?;
        let Some(record) = record.filter(|r| r.revoked_at.is_none()) else {
            self.remove(credential_id);
            return Ok(());
        };
        let grants = KeyRecord::granted_endpoints(conn, credential_id)?;
        let secrets = KeyRecord::live_secrets(conn, credential_id, crate::db::now())?;
        let active = match record.client_application_id {
            Some(app) => ClientApplication::find(conn, app)?
                .map(|a| HashMap::from([(a.id, a.active)]))
                .unwrap_or_default(),
            None => HashMap::new(),
        };
        let key = self.entry(&record, grants, secrets, &active);
        self.put(Arc::new(key));
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
        // A credential's change (a client application's scopes) reaches its integrations.
        let integrations: Vec<i32> = self
            .integrations
            .iter()
            .filter(|i| changes.credentials.contains(&i.credential_id))
            .map(|i| *i.key())
            .chain(changes.integrations.iter().copied())
            .collect();
        // Serialised with the reconcile, so that it cannot put back what it read before
        // this commit.
        let _updating = self.updating.lock().unwrap_or_else(|e| e.into_inner());
        let mut updates = Vec::new();
        for &id in &changes.users {
            updates.push(("user", id, self.update_user(conn, id)));
        }
        for &id in &integrations {
            updates.push(("integration", id, self.update_integration(conn, id)));
        }
        for &id in &changes.families {
            updates.push(("token family", id, self.update_family(conn, id)));
        }
        for (what, id, updated) in updates {
            if let Err(error) = updated {
                tracing::warn!(
                    what,
                    id,
                    error = format!("{error:#}"),
                    "gate not updated after a commit; the next reconcile will"
                );
            }
        }
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
        assert!(batch.secrets_last_used.is_empty());
        assert!(batch.integrations_last_used.is_empty());
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
