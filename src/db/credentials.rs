//! Credentials, their secrets (API keys and client secrets, stored as hashes), their
//! endpoint grants (v1/v2) and scopes (v3).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::rules::words::ApiType;

use super::schema::{
    client_applications, credential_endpoints, credential_scopes, credential_secrets, credentials,
    endpoints, users,
};
use super::{Conn, on_backend};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = credentials, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Credential {
    pub id: i32,
    pub description: String,
    pub api_type: ApiType,
    pub client_application_id: Option<i32>,
    /// A v3 credential's public client ID.
    pub client_id: Option<String>,
    /// One address or CIDR per line; empty: anywhere.
    pub trusted_ips: String,
    /// The current secret's type prefix and last four characters (read with
    /// `with_current_secret`).
    #[diesel(select_expression = credential_secrets::secret_prefix)]
    pub key_prefix: String,
    #[diesel(select_expression = credential_secrets::secret_last4)]
    pub key_last4: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    /// The first moment it no longer works; `None`: never.
    pub expires_at: Option<NaiveDateTime>,
}

/// What the credentials list can be narrowed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Works now: not revoked, not expired, its client application (if any) active.
    Active,
    /// Works now and expires within 30 days.
    Expiring,
    Expired,
    Revoked,
    /// Its client application is deactivated.
    Disabled,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 5] = [
        StatusFilter::Active,
        StatusFilter::Expiring,
        StatusFilter::Expired,
        StatusFilter::Revoked,
        StatusFilter::Disabled,
    ];

    pub fn parse(text: &str) -> Option<StatusFilter> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Active => "active",
            StatusFilter::Expiring => "expiring",
            StatusFilter::Expired => "expired",
            StatusFilter::Revoked => "revoked",
            StatusFilter::Disabled => "disabled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::Active => "Active",
            StatusFilter::Expiring => "Expiring within 30 days",
            StatusFilter::Expired => "Expired",
            StatusFilter::Revoked => "Revoked",
            StatusFilter::Disabled => "Disabled",
        }
    }
}

/// The credentials list's rows: the keys of some types beside their creator, client
/// application and current secret, narrowed to one status if asked.
macro_rules! listed {
    ($api_types:expr, $status:expr, $only:expr) => {{
        let now = super::now();
        let mut query = credentials::table
            .inner_join(users::table.on(users::id.eq(credentials::created_by)))
            .left_join(client_applications::table)
            .inner_join(
                credential_secrets::table.on(credential_secrets::credential_id
                    .eq(credentials::id)
                    .and(credential_secrets::ends_at.is_null())),
            )
            .filter(credentials::api_type.eq_any($api_types))
            .into_boxed();
        let live = credentials::revoked_at.is_null();
        let unexpired = credentials::expires_at
            .is_null()
            .or(credentials::expires_at.gt(now));
        let enabled = client_applications::active
            .nullable()
            .is_null()
            .or(client_applications::active.nullable().eq(true));
        query = match $status {
            None => query,
            Some(StatusFilter::Active) => query.filter(live.and(unexpired).and(enabled)),
            Some(StatusFilter::Expiring) => query.filter(
                live.and(credentials::expires_at.gt(now))
                    .and(credentials::expires_at.le(now + chrono::Duration::days(30))),
            ),
            Some(StatusFilter::Expired) => query.filter(live.and(credentials::expires_at.le(now))),
            Some(StatusFilter::Revoked) => query.filter(credentials::revoked_at.is_not_null()),
            Some(StatusFilter::Disabled) => {
                query.filter(live.and(client_applications::active.nullable().eq(false)))
            }
        };
        if let Some(ids) = $only {
            query = query.filter(credentials::id.eq_any(ids));
        }
        query
    }};
}

/// Credentials beside their current secret, as `Credential` reads them.
macro_rules! with_current_secret {
    () => {
        credentials::table.inner_join(
            credential_secrets::table.on(credential_secrets::credential_id
                .eq(credentials::id)
                .and(credential_secrets::ends_at.is_null())),
        )
    };
}

#[derive(Debug, Insertable)]
#[diesel(table_name = credentials)]
pub struct NewCredential<'a> {
    pub description: &'a str,
    pub api_type: ApiType,
    pub client_application_id: Option<i32>,
    pub client_id: Option<&'a str>,
    pub created_by: i32,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

/// One of a credential's secrets: its key (v1/v2) or client secret (v3), by hash.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = credential_secrets, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct CredentialSecret {
    pub id: i32,
    pub credential_id: i32,
    pub secret_prefix: String,
    pub secret_last4: String,
    pub created_at: NaiveDateTime,
    /// `None`: the current secret; otherwise when it stops (or stopped) working.
    pub ends_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    /// A quiet-driven overlap: it ends after this many hours without a request.
    pub quiet_hours: Option<i32>,
    /// Where, and with which user agent, its last request came from.
    pub last_used_from: Option<String>,
    pub last_user_agent: Option<String>,
}

/// A quiet overlap's row as stored (its columns nullable for other secrets).
type QuietRow = (
    i32,
    i32,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<i32>,
    Option<NaiveDateTime>,
);

/// A rotated-out secret whose overlap ends when it goes quiet.
#[derive(Debug, Clone, Queryable)]
pub struct QuietOverlap {
    pub id: i32,
    pub credential_id: i32,
    pub rotated_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub quiet_hours: i32,
    pub ends_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = credential_secrets)]
pub struct NewSecret<'a> {
    pub credential_id: i32,
    pub secret_hash: Vec<u8>,
    pub secret_prefix: &'a str,
    pub secret_last4: &'a str,
    pub created_at: NaiveDateTime,
}

impl CredentialSecret {
    pub fn insert(conn: &mut Conn, new: &NewSecret<'_>) -> QueryResult<i32> {
        diesel::insert_into(credential_secrets::table)
            .values(new)
            .returning(credential_secrets::id)
            .get_result(conn)
    }

    /// The credential's secrets that work now or may still show their last use: the
    /// current one and those rotated out, newest first.
    pub fn of_credential(conn: &mut Conn, credential_id: i32) -> QueryResult<Vec<Self>> {
        credential_secrets::table
            .filter(credential_secrets::credential_id.eq(credential_id))
            .order(credential_secrets::id.desc())
            .select(Self::as_select())
            .load(conn)
    }

    /// Gives the current secret an end (a rotation's overlap); returns its id.
    pub fn end_current(
        conn: &mut Conn,
        credential_id: i32,
        at: NaiveDateTime,
    ) -> QueryResult<Option<i32>> {
        diesel::update(
            credential_secrets::table.filter(
                credential_secrets::credential_id
                    .eq(credential_id)
                    .and(credential_secrets::ends_at.is_null()),
            ),
        )
        .set(credential_secrets::ends_at.eq(at))
        .returning(credential_secrets::id)
        .get_result(conn)
        .optional()
    }

    /// Ends every rotated-out secret still in its overlap; returns how many.
    pub fn end_overlaps(
        conn: &mut Conn,
        credential_id: i32,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            credential_secrets::table.filter(
                credential_secrets::credential_id
                    .eq(credential_id)
                    .and(credential_secrets::ends_at.gt(at)),
            ),
        )
        .set(credential_secrets::ends_at.eq(at))
        .execute(conn)
    }

    /// Records when, from where and with which user agent each secret was last used
    /// (never moves a time backwards).
    pub fn record_last_use(
        conn: &mut Conn,
        id: i32,
        at: NaiveDateTime,
        from: Option<&str>,
        user_agent: Option<&str>,
    ) -> QueryResult<()> {
        diesel::update(
            credential_secrets::table.filter(
                credential_secrets::id.eq(id).and(
                    credential_secrets::last_used_at
                        .is_null()
                        .or(credential_secrets::last_used_at.lt(at)),
                ),
            ),
        )
        .set((
            credential_secrets::last_used_at.eq(at),
            credential_secrets::last_used_from.eq(from),
            credential_secrets::last_user_agent.eq(user_agent),
        ))
        .execute(conn)
        .map(drop)
    }

    /// Makes a rotated-out secret's overlap end when it goes quiet for `hours`.
    pub fn set_quiet(
        conn: &mut Conn,
        id: i32,
        hours: u32,
        rotated_at: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(credential_secrets::table.find(id))
            .set((
                credential_secrets::quiet_hours.eq(i32::try_from(hours).unwrap_or(i32::MAX)),
                credential_secrets::rotated_at.eq(rotated_at),
            ))
            .execute(conn)
            .map(drop)
    }

    /// Quiet-driven overlaps still running at `now`.
    pub fn quiet_overlaps(conn: &mut Conn, now: NaiveDateTime) -> QueryResult<Vec<QuietOverlap>> {
        let rows: Vec<QuietRow> = credential_secrets::table
            .filter(credential_secrets::quiet_hours.is_not_null())
            .filter(credential_secrets::ends_at.gt(now))
            .select((
                credential_secrets::id,
                credential_secrets::credential_id,
                credential_secrets::rotated_at,
                credential_secrets::last_used_at,
                credential_secrets::quiet_hours,
                credential_secrets::ends_at,
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(
                |(id, credential_id, rotated_at, last_used_at, quiet_hours, ends_at)| {
                    Some(QuietOverlap {
                        id,
                        credential_id,
                        rotated_at: rotated_at?,
                        last_used_at,
                        quiet_hours: quiet_hours?,
                        ends_at: ends_at?,
                    })
                },
            )
            .collect())
    }

    /// Ends one secret at `at` (an overlap that went quiet).
    pub fn end_at(conn: &mut Conn, id: i32, at: NaiveDateTime) -> QueryResult<()> {
        diesel::update(credential_secrets::table.find(id))
            .set(credential_secrets::ends_at.eq(at))
            .execute(conn)
            .map(drop)
    }
}

/// One row of the API Credential Management table.
#[derive(Debug, Clone, Queryable)]
pub struct CredentialListing {
    pub id: i32,
    pub description: String,
    pub api_type: ApiType,
    pub client_application_name: Option<String>,
    pub client_id: Option<String>,
    pub key_prefix: String,
    pub key_last4: String,
    pub created_by_name: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
}

impl Credential {
    pub fn find(conn: &mut Conn, id: i32) -> QueryResult<Option<Credential>> {
        with_current_secret!()
            .filter(credentials::id.eq(id))
            .select(Credential::as_select())
            .first(conn)
            .optional()
    }

    pub fn insert(conn: &mut Conn, new: &NewCredential<'_>) -> QueryResult<i32> {
        diesel::insert_into(credentials::table)
            .values(new)
            .returning(credentials::id)
            .get_result(conn)
    }

    pub fn count_of_types(
        conn: &mut Conn,
        api_types: &[ApiType],
        status: Option<StatusFilter>,
        only: Option<&[i32]>,
    ) -> QueryResult<i64> {
        listed!(api_types, status, only).count().get_result(conn)
    }

    /// A page of the keys of `api_types` (of one status, and among `only`, if given),
    /// newest first.
    pub fn list_of_types(
        conn: &mut Conn,
        api_types: &[ApiType],
        status: Option<StatusFilter>,
        only: Option<&[i32]>,
        limit: i64,
        offset: i64,
    ) -> QueryResult<Vec<CredentialListing>> {
        listed!(api_types, status, only)
            .order((credentials::created_at.desc(), credentials::id.desc()))
            .limit(limit)
            .offset(offset)
            .select((
                credentials::id,
                credentials::description,
                credentials::api_type,
                client_applications::name.nullable(),
                credentials::client_id,
                credential_secrets::secret_prefix,
                credential_secrets::secret_last4,
                users::name,
                credentials::created_at,
                credentials::revoked_at,
                credentials::last_used_at,
                credentials::expires_at,
            ))
            .load(conn)
    }

    /// Marks a live key revoked; false when it already was.
    pub fn revoke(conn: &mut Conn, id: i32, by: i32, at: NaiveDateTime) -> QueryResult<bool> {
        diesel::update(
            credentials::table.filter(
                credentials::id
                    .eq(id)
                    .and(credentials::revoked_at.is_null()),
            ),
        )
        .set((
            credentials::revoked_at.eq(at),
            credentials::revoked_by.eq(by),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Makes a revoked credential live again; false when it was not revoked.
    pub fn enable(conn: &mut Conn, id: i32) -> QueryResult<bool> {
        diesel::update(
            credentials::table.filter(
                credentials::id
                    .eq(id)
                    .and(credentials::revoked_at.is_not_null()),
            ),
        )
        .set((
            credentials::revoked_at.eq(None::<NaiveDateTime>),
            credentials::revoked_by.eq(None::<i32>),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    pub fn set_expiry(
        conn: &mut Conn,
        id: i32,
        expires_at: Option<NaiveDateTime>,
    ) -> QueryResult<()> {
        diesel::update(credentials::table.find(id))
            .set(credentials::expires_at.eq(expires_at))
            .execute(conn)
            .map(drop)
    }

    pub fn set_trusted_ips(conn: &mut Conn, id: i32, trusted_ips: &str) -> QueryResult<()> {
        diesel::update(credentials::table.find(id))
            .set(credentials::trusted_ips.eq(trusted_ips))
            .execute(conn)
            .map(drop)
    }

    /// The v3 credential with this client ID.
    pub fn find_by_client_id(conn: &mut Conn, client_id: &str) -> QueryResult<Option<Credential>> {
        with_current_secret!()
            .filter(credentials::client_id.eq(client_id))
            .select(Credential::as_select())
            .first(conn)
            .optional()
    }

    pub fn scopes(conn: &mut Conn, id: i32) -> QueryResult<Vec<String>> {
        credential_scopes::table
            .filter(credential_scopes::credential_id.eq(id))
            .order(credential_scopes::scope)
            .select(credential_scopes::scope)
            .load(conn)
    }

    /// Makes `scopes` the v3 credential's whole scope set (call inside a transaction).
    pub fn replace_scopes(conn: &mut Conn, id: i32, scopes: &[&str]) -> QueryResult<()> {
        diesel::delete(credential_scopes::table.filter(credential_scopes::credential_id.eq(id)))
            .execute(conn)?;
        let rows: Vec<_> = scopes
            .iter()
            .map(|scope| {
                (
                    credential_scopes::credential_id.eq(id),
                    credential_scopes::scope.eq(*scope),
                )
            })
            .collect();
        on_backend!(conn, |conn| {
            diesel::insert_into(credential_scopes::table)
                .values(&rows)
                .execute(conn)
        })
        .map(drop)
    }

    /// The keys made for a client application.
    pub fn ids_for_client_application(
        conn: &mut Conn,
        client_application_id: i32,
    ) -> QueryResult<Vec<i32>> {
        credentials::table
            .filter(credentials::client_application_id.eq(client_application_id))
            .select(credentials::id)
            .load(conn)
    }

    /// A client application's OAuth client (revoked or not): it has at most one.
    pub fn oauth_client_of(
        conn: &mut Conn,
        client_application_id: i32,
    ) -> QueryResult<Option<Credential>> {
        with_current_secret!()
            .filter(credentials::client_application_id.eq(client_application_id))
            .filter(credentials::api_type.eq(ApiType::OauthClient))
            .order(credentials::id)
            .select(Credential::as_select())
            .first(conn)
            .optional()
    }

    pub fn granted_endpoint_ids(conn: &mut Conn, id: i32) -> QueryResult<Vec<i32>> {
        credential_endpoints::table
            .filter(credential_endpoints::credential_id.eq(id))
            .select(credential_endpoints::endpoint_id)
            .load(conn)
    }

    /// Makes `endpoint_ids` the key's whole grant set (call inside a transaction).
    pub fn replace_grants(conn: &mut Conn, id: i32, endpoint_ids: &[i32]) -> QueryResult<()> {
        diesel::delete(
            credential_endpoints::table.filter(credential_endpoints::credential_id.eq(id)),
        )
        .execute(conn)?;
        let rows: Vec<_> = endpoint_ids
            .iter()
            .map(|e| {
                (
                    credential_endpoints::credential_id.eq(id),
                    credential_endpoints::endpoint_id.eq(e),
                )
            })
            .collect();
        on_backend!(conn, |conn| {
            diesel::insert_into(credential_endpoints::table)
                .values(&rows)
                .execute(conn)
        })
        .map(drop)
    }
}

/// What the gate needs of a credential to check it.
#[derive(Debug, Clone, Queryable)]
pub struct KeyRecord {
    pub id: i32,
    pub api_type: ApiType,
    pub client_application_id: Option<i32>,
    pub client_id: Option<String>,
    pub trusted_ips: String,
    pub revoked_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
}

type KeyRecordColumns = (
    credentials::id,
    credentials::api_type,
    credentials::client_application_id,
    credentials::client_id,
    credentials::trusted_ips,
    credentials::revoked_at,
    credentials::expires_at,
);

const KEY_RECORD: KeyRecordColumns = (
    credentials::id,
    credentials::api_type,
    credentials::client_application_id,
    credentials::client_id,
    credentials::trusted_ips,
    credentials::revoked_at,
    credentials::expires_at,
);

/// A secret the gate may accept: its credential, hash and end.
#[derive(Debug, Clone, Queryable)]
pub struct SecretRecord {
    pub id: i32,
    pub credential_id: i32,
    pub hash: Vec<u8>,
    pub ends_at: Option<NaiveDateTime>,
}

type SecretRecordColumns = (
    credential_secrets::id,
    credential_secrets::credential_id,
    credential_secrets::secret_hash,
    credential_secrets::ends_at,
);

const SECRET_RECORD: SecretRecordColumns = (
    credential_secrets::id,
    credential_secrets::credential_id,
    credential_secrets::secret_hash,
    credential_secrets::ends_at,
);

impl KeyRecord {
    pub fn find(conn: &mut Conn, id: i32) -> QueryResult<Option<KeyRecord>> {
        credentials::table
            .find(id)
            .select(KEY_RECORD)
            .first(conn)
            .optional()
    }

    /// Every credential that has not been revoked.
    pub fn all_live(conn: &mut Conn) -> QueryResult<Vec<KeyRecord>> {
        credentials::table
            .filter(credentials::revoked_at.is_null())
            .select(KEY_RECORD)
            .load(conn)
    }

    /// Every secret of a live credential that has not ended by `now`.
    pub fn all_live_secrets(conn: &mut Conn, now: NaiveDateTime) -> QueryResult<Vec<SecretRecord>> {
        credential_secrets::table
            .inner_join(credentials::table)
            .filter(credentials::revoked_at.is_null())
            .filter(
                credential_secrets::ends_at
                    .is_null()
                    .or(credential_secrets::ends_at.gt(now)),
            )
            .select(SECRET_RECORD)
            .load(conn)
    }

    /// The credential's secrets that have not ended by `now`.
    pub fn live_secrets(
        conn: &mut Conn,
        credential_id: i32,
        now: NaiveDateTime,
    ) -> QueryResult<Vec<SecretRecord>> {
        credential_secrets::table
            .filter(credential_secrets::credential_id.eq(credential_id))
            .filter(
                credential_secrets::ends_at
                    .is_null()
                    .or(credential_secrets::ends_at.gt(now)),
            )
            .select(SECRET_RECORD)
            .load(conn)
    }

    /// (credential id, endpoint id) for every grant of a live key, and for every endpoint
    /// a live v3 credential's scopes open.
    pub fn all_live_grants(conn: &mut Conn) -> QueryResult<Vec<(i32, i32)>> {
        let mut grants: Vec<(i32, i32)> = credential_endpoints::table
            .inner_join(credentials::table)
            .filter(credentials::revoked_at.is_null())
            .select((
                credential_endpoints::credential_id,
                credential_endpoints::endpoint_id,
            ))
            .load(conn)?;
        grants.extend(
            credential_scopes::table
                .inner_join(credentials::table)
                .inner_join(
                    endpoints::table.on(endpoints::scope.eq(credential_scopes::scope.nullable())),
                )
                .filter(credentials::revoked_at.is_null())
                .select((credential_scopes::credential_id, endpoints::id))
                .load::<(i32, i32)>(conn)?,
        );
        Ok(grants)
    }

    /// The endpoints the credential may call: its grants (v1/v2) or what its scopes open
    /// (v3).
    pub fn granted_endpoints(conn: &mut Conn, id: i32) -> QueryResult<Vec<i32>> {
        let mut granted = Credential::granted_endpoint_ids(conn, id)?;
        granted.extend(
            credential_scopes::table
                .inner_join(
                    endpoints::table.on(endpoints::scope.eq(credential_scopes::scope.nullable())),
                )
                .filter(credential_scopes::credential_id.eq(id))
                .select(endpoints::id)
                .load::<i32>(conn)?,
        );
        Ok(granted)
    }
}
