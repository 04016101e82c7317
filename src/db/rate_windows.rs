//! The shared rate-limit windows: one row per credential, from which instances lease
//! parts of the current window.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Conn;
use super::schema::rate_windows;

/// A part of a credential's window, leased to one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leased {
    /// When the shared window started, by the database's clock.
    pub window_started: NaiveDateTime,
    /// How many requests the lease allows (0: the window is spent).
    pub granted: u32,
    /// What the window has left for every instance after this lease.
    pub left: u32,
}

/// The time by the database's clock (on SQLite, one process: this one's).
pub fn clock(conn: &mut Conn) -> QueryResult<NaiveDateTime> {
    match conn {
        Conn::Postgres(conn) => diesel::select(diesel::dsl::now).get_result(conn),
        Conn::Sqlite(_) => Ok(super::now()),
    }
}

/// Leases up to `wanted` requests of the credential's window of `limit` per `period`,
/// opening a new window when the last has ended; inside the caller's transaction.
pub fn lease(
    conn: &mut Conn,
    credential_id: i32,
    limit: u32,
    period: chrono::Duration,
    wanted: u32,
    now: NaiveDateTime,
) -> QueryResult<Leased> {
    let current: Option<(NaiveDateTime, i32)> = rate_windows::table
        .find(credential_id)
        .select((rate_windows::started_at, rate_windows::taken))
        .first(conn)
        .optional()?;
    let (window_started, taken) = match current {
        Some((started, taken)) if now - started < period => (started, taken.max(0) as u32),
        Some(_) => (now, 0),
        None => {
            diesel::insert_into(rate_windows::table)
                .values((
                    rate_windows::credential_id.eq(credential_id),
                    rate_windows::started_at.eq(now),
                    rate_windows::taken.eq(0),
                ))
                .execute(conn)?;
            (now, 0)
        }
    };
    let granted = wanted.min(limit.saturating_sub(taken));
    let taken = taken + granted;
    diesel::update(rate_windows::table.find(credential_id))
        .set((
            rate_windows::started_at.eq(window_started),
            rate_windows::taken.eq(i32::try_from(taken).unwrap_or(i32::MAX)),
        ))
        .execute(conn)?;
    Ok(Leased {
        window_started,
        granted,
        left: limit.saturating_sub(taken),
    })
}
