//! The gate's request log: each credential's most recent requests, written in batches.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::gate_requests;
use super::{Conn, on_backend};

/// Requests kept per credential; older ones are dropped as new ones are written.
pub const KEPT_PER_CREDENTIAL: i64 = 1000;

/// One request as the log keeps it: never a key, a token, a query or a body.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = gate_requests, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct LoggedRequest {
    pub credential_id: i32,
    pub at: NaiveDateTime,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub latency_us: i64,
    pub client_address: String,
    pub user_agent: Option<String>,
    /// The catalogue endpoint the request matched, if any.
    pub endpoint_id: Option<i32>,
    /// Refused because it came from outside the credential's trusted IPs.
    pub refused_address: bool,
}

/// A class of statuses, as the log's filter names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusClass(pub i32);

/// Adds `requests` (oldest first) and trims each credential they name to the newest
/// `KEPT_PER_CREDENTIAL`; inside the caller's transaction.
pub fn append(conn: &mut Conn, requests: &[LoggedRequest]) -> QueryResult<()> {
    for chunk in requests.chunks(500) {
        on_backend!(conn, |conn| diesel::insert_into(gate_requests::table)
            .values(chunk)
            .execute(conn))?;
    }
    let mut credentials: Vec<i32> = requests.iter().map(|r| r.credential_id).collect();
    credentials.sort_unstable();
    credentials.dedup();
    for credential in credentials {
        let oldest_kept: Option<i32> = gate_requests::table
            .filter(gate_requests::credential_id.eq(credential))
            .order(gate_requests::id.desc())
            .offset(KEPT_PER_CREDENTIAL - 1)
            .select(gate_requests::id)
            .first(conn)
            .optional()?;
        if let Some(oldest_kept) = oldest_kept {
            diesel::delete(
                gate_requests::table.filter(
                    gate_requests::credential_id
                        .eq(credential)
                        .and(gate_requests::id.lt(oldest_kept)),
                ),
            )
            .execute(conn)?;
        }
    }
    Ok(())
}

fn of_credential(
    credential_id: i32,
    class: Option<StatusClass>,
) -> gate_requests::BoxedQuery<'static, super::MultiBackend> {
    let query = gate_requests::table
        .filter(gate_requests::credential_id.eq(credential_id))
        .into_boxed();
    match class {
        Some(StatusClass(class)) => {
            query.filter(gate_requests::status.between(class * 100, class * 100 + 99))
        }
        None => query,
    }
}

/// How many requests of a credential are logged, optionally of one status class
/// (`StatusClass(4)`: 400–499).
pub fn count(conn: &mut Conn, credential_id: i32, class: Option<StatusClass>) -> QueryResult<i64> {
    of_credential(credential_id, class).count().get_result(conn)
}

/// A credential's logged requests, newest first, from `offset`.
pub fn newest(
    conn: &mut Conn,
    credential_id: i32,
    class: Option<StatusClass>,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<LoggedRequest>> {
    of_credential(credential_id, class)
        .order(gate_requests::id.desc())
        .offset(offset)
        .limit(limit)
        .select(LoggedRequest::as_select())
        .load(conn)
}

/// The catalogue endpoints a credential was refused (403, not for its address) since
/// `since`, with how many times: what it asked for and was not granted.
pub fn refused_endpoints(
    conn: &mut Conn,
    credential_id: i32,
    since: NaiveDateTime,
) -> QueryResult<Vec<(i32, i64)>> {
    let rows: Vec<(Option<i32>, i64)> = gate_requests::table
        .filter(gate_requests::credential_id.eq(credential_id))
        .filter(gate_requests::status.eq(403))
        .filter(gate_requests::refused_address.eq(false))
        .filter(gate_requests::endpoint_id.is_not_null())
        .filter(gate_requests::at.ge(since))
        .group_by(gate_requests::endpoint_id)
        .select((gate_requests::endpoint_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(e, n)| Some((e?, n)))
        .collect())
}

/// The credentials refused since `since` for coming from outside their trusted IPs.
pub fn refused_for_address_since(conn: &mut Conn, since: NaiveDateTime) -> QueryResult<Vec<i32>> {
    gate_requests::table
        .filter(gate_requests::refused_address.eq(true))
        .filter(gate_requests::at.ge(since))
        .select(gate_requests::credential_id)
        .distinct()
        .load(conn)
}
