//! Moving an installation from its SQLite file to a PostgreSQL database
//! (`devcenter copy-database`): every row of every table, ids kept, in one PostgreSQL
//! transaction, verified by row counts before it commits. The target must be empty: a
//! copy never merges into, or overwrites, data already there.

use anyhow::{Context, bail};
use chrono::NaiveDateTime;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::schema::{
    audit_events, authorization_codes, client_application_endpoints, client_application_scopes,
    client_applications, credential_endpoints, credential_scopes, credential_secrets,
    credential_usage, credentials, endpoints, gate_requests, integrations, refresh_tokens,
    server_secrets, sessions, signing_keys, token_families, user_permissions, users,
};
use super::schema::{
    credential_expiry_notices, dev_center_settings, web_hook_deliveries, web_hook_subscriptions,
    web_hooks,
};
use super::{Conn, Database};

/// Rows read and inserted at a time: few enough that the widest table (audit_events, 11
/// columns) stays far below PostgreSQL's 65,535 bind parameters per statement, and that a
/// large request log never sits in memory whole.
const BATCH: i64 = 1000;

/// One copied table and its rows, as both sides counted them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    pub table: &'static str,
    pub rows: i64,
}

/// What a copy did: each table in the order it was copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub tables: Vec<TableCount>,
}

impl CopyReport {
    pub fn total_rows(&self) -> i64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

// Each table's row with every column, read from SQLite and inserted on PostgreSQL as is.
// Text columns holding product words stay text: the copy moves what is stored, and the
// target's CHECK constraints are the same as the source's. No row type derives Debug:
// several hold password hashes, key hashes, session state or server secrets.

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite))]
struct UserRow {
    id: i32,
    email: String,
    name: String,
    password_hash: String,
    level: String,
    disabled: bool,
    created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = user_permissions, check_for_backend(diesel::sqlite::Sqlite))]
struct UserPermissionRow {
    user_id: i32,
    permission: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = client_applications, check_for_backend(diesel::sqlite::Sqlite))]
struct ClientApplicationRow {
    id: i32,
    name: String,
    active: bool,
    created_by: i32,
    created_at: NaiveDateTime,
    redirect_uris: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = client_application_endpoints, check_for_backend(diesel::sqlite::Sqlite))]
struct ClientApplicationEndpointRow {
    client_application_id: i32,
    endpoint_id: i32,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = client_application_scopes, check_for_backend(diesel::sqlite::Sqlite))]
struct ClientApplicationScopeRow {
    client_application_id: i32,
    scope: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credentials, check_for_backend(diesel::sqlite::Sqlite))]
struct CredentialRow {
    id: i32,
    description: String,
    api_type: String,
    client_application_id: Option<i32>,
    client_id: Option<String>,
    trusted_ips: String,
    created_by: i32,
    created_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    revoked_by: Option<i32>,
    last_used_at: Option<NaiveDateTime>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credential_secrets, check_for_backend(diesel::sqlite::Sqlite))]
struct CredentialSecretRow {
    id: i32,
    credential_id: i32,
    secret_hash: Vec<u8>,
    secret_prefix: String,
    secret_last4: String,
    created_at: NaiveDateTime,
    ends_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
    quiet_hours: Option<i32>,
    rotated_at: Option<NaiveDateTime>,
    last_used_from: Option<String>,
    last_user_agent: Option<String>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credential_scopes, check_for_backend(diesel::sqlite::Sqlite))]
struct CredentialScopeRow {
    credential_id: i32,
    scope: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credential_endpoints, check_for_backend(diesel::sqlite::Sqlite))]
struct CredentialEndpointRow {
    credential_id: i32,
    endpoint_id: i32,
}

/// SQLite's implicit rowid becomes PostgreSQL's real `rowid` column, value kept.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credential_usage, check_for_backend(diesel::sqlite::Sqlite))]
struct CredentialUsageRow {
    rowid: i32,
    credential_id: i32,
    day: String,
    endpoint_id: Option<i32>,
    requests: i64,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events, check_for_backend(diesel::sqlite::Sqlite))]
struct AuditEventRow {
    id: i32,
    occurred_at: NaiveDateTime,
    actor_id: Option<i32>,
    actor_name: String,
    actor_address: Option<String>,
    action: String,
    object_type: String,
    object_id: Option<i32>,
    object_label: String,
    summary: String,
    details: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions, check_for_backend(diesel::sqlite::Sqlite))]
struct SessionRow {
    id: Vec<u8>,
    state: String,
    expires_at: NaiveDateTime,
    user_id: Option<i32>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = server_secrets, check_for_backend(diesel::sqlite::Sqlite))]
struct ServerSecretRow {
    name: String,
    value: Vec<u8>,
}

/// Copied as stored: the private key stays sealed with the source's sealing key, which the
/// servers on the target must be given.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys, check_for_backend(diesel::sqlite::Sqlite))]
struct SigningKeyRow {
    kid: String,
    public_key: Vec<u8>,
    sealed_private_key: Vec<u8>,
    created_at: NaiveDateTime,
    retired_at: Option<NaiveDateTime>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = gate_requests, check_for_backend(diesel::sqlite::Sqlite))]
struct GateRequestRow {
    id: i32,
    credential_id: i32,
    at: NaiveDateTime,
    method: String,
    path: String,
    status: i32,
    latency_us: i64,
    client_address: String,
    user_agent: Option<String>,
    endpoint_id: Option<i32>,
    refused_address: bool,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = integrations, check_for_backend(diesel::sqlite::Sqlite))]
struct IntegrationRow {
    id: i32,
    credential_id: i32,
    authorized_by: i32,
    service_account: bool,
    scopes: String,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    disconnected_at: Option<NaiveDateTime>,
    disconnected_by: Option<i32>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = token_families, check_for_backend(diesel::sqlite::Sqlite))]
struct TokenFamilyRow {
    id: i32,
    integration_id: i32,
    created_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
}

/// A hook's secret key is copied sealed: the target's instances need the same sealing key
/// file to sign with it.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = web_hooks, check_for_backend(diesel::sqlite::Sqlite))]
struct WebHookRow {
    id: i32,
    name: String,
    url: String,
    secret_key_sealed: Vec<u8>,
    enabled: bool,
    created_at: NaiveDateTime,
    created_by: i32,
    consecutive_failures: i32,
    failing_since: Option<NaiveDateTime>,
    sending_until: Option<NaiveDateTime>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = web_hook_subscriptions, check_for_backend(diesel::sqlite::Sqlite))]
struct WebHookSubscriptionRow {
    web_hook_id: i32,
    event: String,
}

/// The outbox goes along: what was waiting is delivered by the target's instances.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = web_hook_deliveries, check_for_backend(diesel::sqlite::Sqlite))]
struct WebHookDeliveryRow {
    id: i32,
    web_hook_id: i32,
    delivery_id: String,
    event: String,
    payload: String,
    created_at: NaiveDateTime,
    state: String,
    attempts: i32,
    next_attempt_at: Option<NaiveDateTime>,
    last_attempt_at: Option<NaiveDateTime>,
    last_status: Option<i32>,
    last_duration_ms: Option<i32>,
    last_error: Option<String>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = credential_expiry_notices, check_for_backend(diesel::sqlite::Sqlite))]
struct CredentialExpiryNoticeRow {
    credential_id: i32,
    expires_at: NaiveDateTime,
    event: String,
}

/// Codes and refresh tokens are copied as their hashes: a partner holding one can still
/// use it against the target.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes, check_for_backend(diesel::sqlite::Sqlite))]
struct AuthorizationCodeRow {
    code_hash: Vec<u8>,
    integration_id: i32,
    redirect_uri: String,
    code_challenge: Option<String>,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    family_id: Option<i32>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens, check_for_backend(diesel::sqlite::Sqlite))]
struct RefreshTokenRow {
    token_hash: Vec<u8>,
    family_id: i32,
    issued_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
}

/// Copies one table in batches, in primary-key order (the source is read in one
/// snapshot, so the pages neither skip nor repeat rows); how many rows it copied.
macro_rules! copy_table {
    ($source:expr, $target:expr, $table:ident, $row:ty, $order:expr) => {{
        let mut copied: i64 = 0;
        loop {
            let rows: Vec<$row> = $table::table
                .order($order)
                .limit(BATCH)
                .offset(copied)
                .select(<$row>::as_select())
                .load($source)
                .with_context(|| format!("cannot read {} from the source", stringify!($table)))?;
            if rows.is_empty() {
                break;
            }
            diesel::insert_into($table::table)
                .values(&rows)
                .execute($target)
                .with_context(|| format!("cannot copy {} to the target", stringify!($table)))?;
            copied += i64::try_from(rows.len()).unwrap_or(i64::MAX);
        }
        copied
    }};
}

/// Counts one table on both sides.
macro_rules! counts {
    ($source:expr, $target:expr, $table:ident) => {{
        let source: i64 = $table::table
            .count()
            .get_result($source)
            .with_context(|| format!("cannot count {} in the source", stringify!($table)))?;
        let target: i64 = $table::table
            .count()
            .get_result($target)
            .with_context(|| format!("cannot count {} in the target", stringify!($table)))?;
        (stringify!($table), source, target)
    }};
}

/// Each table's rows on both sides, in the copy's (foreign-key) order.
fn all_counts(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
) -> anyhow::Result<Vec<(&'static str, i64, i64)>> {
    Ok(vec![
        counts!(source, target, users),
        counts!(source, target, user_permissions),
        counts!(source, target, client_applications),
        counts!(source, target, client_application_endpoints),
        counts!(source, target, client_application_scopes),
        counts!(source, target, credentials),
        counts!(source, target, credential_secrets),
        counts!(source, target, credential_scopes),
        counts!(source, target, credential_endpoints),
        counts!(source, target, credential_usage),
        counts!(source, target, audit_events),
        counts!(source, target, sessions),
        counts!(source, target, server_secrets),
        counts!(source, target, signing_keys),
        counts!(source, target, gate_requests),
        counts!(source, target, integrations),
        counts!(source, target, token_families),
        counts!(source, target, authorization_codes),
        counts!(source, target, refresh_tokens),
        counts!(source, target, web_hooks),
        counts!(source, target, web_hook_subscriptions),
        counts!(source, target, web_hook_deliveries),
        counts!(source, target, credential_expiry_notices),
    ])
}

/// Copies the SQLite database `from` into the PostgreSQL database `to`, after migrating
/// both. Refuses, changing nothing, when `to` already holds data or when the two endpoint
/// catalogues differ; rolls back when any table's rows do not count the same on both sides
/// after the copy.
pub fn copy_database(from: &Database, to: &Database) -> anyhow::Result<CopyReport> {
    let Database::Sqlite(path) = from else {
        bail!("the source must be a SQLite file, not a PostgreSQL URL");
    };
    if !matches!(to, Database::Postgres(_)) {
        bail!("the target must be a PostgreSQL URL (postgres://user@host/name)");
    }
    // Opening a missing file would create an empty database and copy nothing from it.
    if !path.is_file() {
        bail!("there is no SQLite database at {}", path.display());
    }
    super::migrate(from)?;
    super::migrate(to)?;
    let Conn::Sqlite(mut source) = from.connect_to()? else {
        bail!("the source did not open as SQLite");
    };
    let mut target = to.connect_to()?;
    // The target's writers' lock is held throughout: a server started on the target
    // meanwhile waits, and finds either no users (before) or the copied ones (after).
    super::write(&mut target, |target| {
        let Conn::Postgres(target) = target else {
            bail!("the target did not open as PostgreSQL");
        };
        // One read transaction on the source: every table is read in the same snapshot,
        // even if a server were still writing to the file.
        source.transaction(|source| copy_into(source, target, to))
    })
}

/// The copy itself, inside both transactions.
fn copy_into(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    to: &Database,
) -> anyhow::Result<CopyReport> {
    let occupied: Vec<&str> = all_counts(source, target)?
        .into_iter()
        .filter(|(_, _, target)| *target > 0)
        .map(|(table, _, _)| table)
        .collect();
    if !occupied.is_empty() {
        bail!(
            "the target {} is not empty ({} already hold rows): copy-database only copies \
             into a new database, and has changed nothing",
            to.describe(),
            occupied.join(", ")
        );
    }
    same_catalogue(source, target)?;

    copy_table!(source, target, users, UserRow, users::id);
    copy_table!(
        source,
        target,
        user_permissions,
        UserPermissionRow,
        (user_permissions::user_id, user_permissions::permission)
    );
    copy_table!(
        source,
        target,
        client_applications,
        ClientApplicationRow,
        client_applications::id
    );
    copy_table!(
        source,
        target,
        client_application_endpoints,
        ClientApplicationEndpointRow,
        (
            client_application_endpoints::client_application_id,
            client_application_endpoints::endpoint_id
        )
    );
    copy_table!(
        source,
        target,
        client_application_scopes,
        ClientApplicationScopeRow,
        (
            client_application_scopes::client_application_id,
            client_application_scopes::scope
        )
    );
    copy_table!(source, target, credentials, CredentialRow, credentials::id);
    copy_table!(
        source,
        target,
        credential_secrets,
        CredentialSecretRow,
        credential_secrets::id
    );
    copy_table!(
        source,
        target,
        credential_scopes,
        CredentialScopeRow,
        (credential_scopes::credential_id, credential_scopes::scope)
    );
    copy_table!(
        source,
        target,
        credential_endpoints,
        CredentialEndpointRow,
        (
            credential_endpoints::credential_id,
            credential_endpoints::endpoint_id
        )
    );
    copy_table!(
        source,
        target,
        credential_usage,
        CredentialUsageRow,
        credential_usage::rowid
    );
    copy_table!(
        source,
        target,
        audit_events,
        AuditEventRow,
        audit_events::id
    );
    copy_table!(source, target, sessions, SessionRow, sessions::id);
    copy_table!(
        source,
        target,
        server_secrets,
        ServerSecretRow,
        server_secrets::name
    );
    copy_table!(
        source,
        target,
        signing_keys,
        SigningKeyRow,
        signing_keys::kid
    );
    copy_table!(
        source,
        target,
        gate_requests,
        GateRequestRow,
        gate_requests::id
    );
    // After credentials and users, which they refer to; a code refers to the family its
    // exchange started, so families come before codes.
    copy_table!(
        source,
        target,
        integrations,
        IntegrationRow,
        integrations::id
    );
    copy_table!(
        source,
        target,
        token_families,
        TokenFamilyRow,
        token_families::id
    );
    copy_table!(
        source,
        target,
        authorization_codes,
        AuthorizationCodeRow,
        authorization_codes::code_hash
    );
    copy_table!(
        source,
        target,
        refresh_tokens,
        RefreshTokenRow,
        refresh_tokens::token_hash
    );
    copy_table!(source, target, web_hooks, WebHookRow, web_hooks::id);
    copy_table!(
        source,
        target,
        web_hook_subscriptions,
        WebHookSubscriptionRow,
        (
            web_hook_subscriptions::web_hook_id,
            web_hook_subscriptions::event
        )
    );
    copy_table!(
        source,
        target,
        web_hook_deliveries,
        WebHookDeliveryRow,
        web_hook_deliveries::id
    );
    copy_table!(
        source,
        target,
        credential_expiry_notices,
        CredentialExpiryNoticeRow,
        (
            credential_expiry_notices::credential_id,
            credential_expiry_notices::expires_at,
            credential_expiry_notices::event
        )
    );
    // The settings' one row is seeded by each side's migrations: its value is copied.
    let max_lifetime_days: Option<i32> = dev_center_settings::table
        .find(1)
        .select(dev_center_settings::max_lifetime_days)
        .first(source)
        .context("cannot read the source's Dev Center settings")?;
    diesel::update(dev_center_settings::table.find(1))
        .set(dev_center_settings::max_lifetime_days.eq(max_lifetime_days))
        .execute(target)
        .context("cannot copy the Dev Center settings")?;

    // Explicit ids do not advance an identity's sequence: move each past the copied ids,
    // so that the next row the app inserts gets a new one. Table and column names come
    // from this fixed list, never from input.
    for (table, column) in [
        ("users", "id"),
        ("client_applications", "id"),
        ("credentials", "id"),
        ("credential_secrets", "id"),
        ("credential_usage", "rowid"),
        ("audit_events", "id"),
        ("gate_requests", "id"),
        ("integrations", "id"),
        ("token_families", "id"),
        ("web_hooks", "id"),
        ("web_hook_deliveries", "id"),
    ] {
        diesel::sql_query(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
             coalesce(max({column}), 0) + 1, false) FROM {table}"
        ))
        .execute(target)
        .with_context(|| format!("cannot move the id sequence of {table}"))?;
    }

    let mut tables = Vec::new();
    for (table, source_rows, target_rows) in all_counts(source, target)? {
        if source_rows != target_rows {
            bail!(
                "{table} has {source_rows} rows in the source but {target_rows} in the target \
                 after the copy: nothing was committed"
            );
        }
        tables.push(TableCount {
            table,
            rows: target_rows,
        });
    }
    Ok(CopyReport { tables })
}

/// The endpoint catalogue is seeded by each side's migrations, not copied: grants refer
/// to its ids, so both must name the same endpoints by the same ids.
fn same_catalogue(source: &mut SqliteConnection, target: &mut PgConnection) -> anyhow::Result<()> {
    type Entry = (i32, String, String);
    let columns = (endpoints::id, endpoints::method, endpoints::path);
    let theirs: Vec<Entry> = endpoints::table
        .order(endpoints::id)
        .select(columns)
        .load(source)
        .context("cannot read the source's endpoint catalogue")?;
    let ours: Vec<Entry> = endpoints::table
        .order(endpoints::id)
        .select(columns)
        .load(target)
        .context("cannot read the target's endpoint catalogue")?;
    if theirs != ours {
        let first = theirs
            .iter()
            .zip(&ours)
            .find(|(a, b)| a != b)
            .map(|((id, method, path), _)| {
                format!(": the first difference is at id {id} ({method} {path})")
            })
            .unwrap_or_default();
        bail!(
            "the endpoint catalogues differ ({} endpoints in the source, {} in the target{first}); \
             both must be migrated by the same devcenter version",
            theirs.len(),
            ours.len()
        );
    }
    Ok(())
}
