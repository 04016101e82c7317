//! Server-side session state for actix-session. Rows are keyed by the BLAKE3 hash of the
//! cookie's session key, so the file alone cannot be used to ride a session.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Conn;
use super::schema::sessions;

pub fn load(conn: &mut Conn, id: &[u8], now: NaiveDateTime) -> QueryResult<Option<String>> {
    sessions::table
        .filter(sessions::id.eq(id).and(sessions::expires_at.gt(now)))
        .select(sessions::state)
        .first(conn)
        .optional()
}

/// Deletes expired sessions; how many.
pub fn sweep(conn: &mut Conn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)
}

/// Writes the state (and whose session it is); on a new session also sweeps away expired
/// ones.
pub fn save(
    conn: &mut Conn,
    id: &[u8],
    state: &str,
    user_id: Option<i32>,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    super::write(conn, |conn| {
        diesel::delete(
            sessions::table.filter(sessions::expires_at.le(now).or(sessions::id.eq(id))),
        )
        .execute(conn)?;
        diesel::insert_into(sessions::table)
            .values((
                sessions::id.eq(id),
                sessions::state.eq(state),
                sessions::expires_at.eq(expires_at),
                sessions::user_id.eq(user_id),
            ))
            .execute(conn)
            .map(drop)
    })
}

/// Updates a live session; false when it has expired or was ended meanwhile.
pub fn update(
    conn: &mut Conn,
    id: &[u8],
    state: &str,
    user_id: Option<i32>,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(sessions::table.filter(sessions::id.eq(id).and(sessions::expires_at.gt(now))))
        .set((
            sessions::state.eq(state),
            sessions::expires_at.eq(expires_at),
            sessions::user_id.eq(user_id),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

pub fn extend(conn: &mut Conn, id: &[u8], expires_at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.find(id))
        .set(sessions::expires_at.eq(expires_at))
        .execute(conn)
        .map(drop)
}

pub fn delete(conn: &mut Conn, id: &[u8]) -> QueryResult<()> {
    diesel::delete(sessions::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Ends every session of a user (call inside the transaction that disables them).
pub fn delete_for_user(conn: &mut Conn, user_id: i32) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
}
