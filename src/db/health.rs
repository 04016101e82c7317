//! What the credential health panel reads: live credentials' dates, write endpoints, what
//! each credential is granted and what it ever used.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Conn;
use super::schema::{
    credential_endpoints, credential_scopes, credential_usage, credentials, endpoints,
};

/// (id, created, last used, expires) of every credential not revoked.
pub type LiveDates = (
    i32,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

pub fn live_dates(conn: &mut Conn) -> QueryResult<Vec<LiveDates>> {
    credentials::table
        .filter(credentials::revoked_at.is_null())
        .select((
            credentials::id,
            credentials::created_at,
            credentials::last_used_at,
            credentials::expires_at,
        ))
        .load(conn)
}

/// Every endpoint that writes (any method but `GET`), with the v3 scope that opens it.
pub fn write_endpoints(conn: &mut Conn) -> QueryResult<Vec<(i32, Option<String>)>> {
    endpoints::table
        .filter(endpoints::method.ne("GET"))
        .select((endpoints::id, endpoints::scope))
        .load(conn)
}

/// (credential, endpoint) for every endpoint a credential ever had a request to.
pub fn used_pairs(conn: &mut Conn) -> QueryResult<Vec<(i32, i32)>> {
    Ok(credential_usage::table
        .filter(credential_usage::endpoint_id.is_not_null())
        .select((
            credential_usage::credential_id,
            credential_usage::endpoint_id,
        ))
        .distinct()
        .load::<(i32, Option<i32>)>(conn)?
        .into_iter()
        .filter_map(|(c, e)| Some((c, e?)))
        .collect())
}

/// (credential, endpoint) for every v1/v2 grant.
pub fn endpoint_grants(conn: &mut Conn) -> QueryResult<Vec<(i32, i32)>> {
    credential_endpoints::table
        .select((
            credential_endpoints::credential_id,
            credential_endpoints::endpoint_id,
        ))
        .load(conn)
}

/// (credential, scope) for every v3 scope granted.
pub fn scope_grants(conn: &mut Conn) -> QueryResult<Vec<(i32, String)>> {
    credential_scopes::table
        .select((credential_scopes::credential_id, credential_scopes::scope))
        .load(conn)
}
