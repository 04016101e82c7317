//! Failures counted in fixed windows, in the database: what the sign-in throttle and the
//! gate's failed-authentication limit share between instances. One row per scope and
//! subject; a window starts at its first failure and counts for nothing once its period
//! has passed, when the sweep deletes it. Writes belong in the caller's `db::write`
//! transaction, which serialises them on both backends.

use std::time::Duration;

use chrono::{NaiveDateTime, SubsecRound, TimeDelta};
use diesel::prelude::*;

use super::Conn;
use super::schema::failure_windows;

/// What is counted, and so what a row's subject names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Failed sign-ins per account: the normalised e-mail typed, known or not.
    SignInAccount,
    /// Failed sign-ins per client address.
    SignInAddress,
    /// Failed gate authentications per client address.
    GateAddress,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::SignInAccount => "sign_in_account",
            Scope::SignInAddress => "sign_in_address",
            Scope::GateAddress => "gate_address",
        }
    }
}

/// A window still open: when it started and how many failures it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenWindow {
    pub started: NaiveDateTime,
    pub failures: u32,
}

impl OpenWindow {
    /// Seconds until the window ends (at least 1), rounded up as the limiter's are.
    pub fn seconds_left(&self, period: Duration, now: NaiveDateTime) -> u64 {
        let elapsed = (now - self.started).to_std().unwrap_or(Duration::ZERO);
        period.saturating_sub(elapsed).as_secs_f64().ceil().max(1.0) as u64
    }
}

/// A time as the table keeps it. PostgreSQL stores microseconds: a start read back must
/// compare equal to the one written, for `give_back` to find its window.
pub fn stored(time: NaiveDateTime) -> NaiveDateTime {
    time.trunc_subsecs(6)
}

/// Windows that started after this are still open at `now`.
fn open_since(now: NaiveDateTime, period: Duration) -> NaiveDateTime {
    TimeDelta::from_std(period)
        .ok()
        .and_then(|period| now.checked_sub_signed(period))
        .unwrap_or(NaiveDateTime::MIN)
}

fn window(row: (NaiveDateTime, i32)) -> OpenWindow {
    OpenWindow {
        started: row.0,
        failures: u32::try_from(row.1).unwrap_or(0),
    }
}

/// The subject's window, if it is open at `now`.
pub fn open(
    conn: &mut Conn,
    scope: Scope,
    subject: &str,
    period: Duration,
    now: NaiveDateTime,
) -> QueryResult<Option<OpenWindow>> {
    failure_windows::table
        .find((scope.as_str(), subject))
        .filter(failure_windows::window_started.gt(open_since(now, period)))
        .select((failure_windows::window_started, failure_windows::failures))
        .first(conn)
        .optional()
        .map(|row| row.map(window))
}

/// Makes `window` the subject's, replacing whatever window it had.
pub fn put(conn: &mut Conn, scope: Scope, subject: &str, window: OpenWindow) -> QueryResult<()> {
    let failures = i32::try_from(window.failures).unwrap_or(i32::MAX);
    let updated = diesel::update(failure_windows::table.find((scope.as_str(), subject)))
        .set((
            failure_windows::window_started.eq(window.started),
            failure_windows::failures.eq(failures),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(failure_windows::table)
            .values((
                failure_windows::scope.eq(scope.as_str()),
                failure_windows::subject.eq(subject),
                failure_windows::window_started.eq(window.started),
                failure_windows::failures.eq(failures),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Takes one failure back from the subject's window that started at `started`; nothing
/// when that window has been replaced since (its failures no longer count anyway).
pub fn give_back(
    conn: &mut Conn,
    scope: Scope,
    subject: &str,
    started: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        failure_windows::table
            .find((scope.as_str(), subject))
            .filter(
                failure_windows::window_started
                    .eq(started)
                    .and(failure_windows::failures.gt(0)),
            ),
    )
    .set(failure_windows::failures.eq(failure_windows::failures - 1))
    .execute(conn)
    .map(drop)
}

/// Adds `failures` to the subject's open window, or opens one at `now` with them.
pub fn add(
    conn: &mut Conn,
    scope: Scope,
    subject: &str,
    failures: u32,
    period: Duration,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let window = match open(conn, scope, subject, period, now)? {
        Some(open) => OpenWindow {
            started: open.started,
            failures: open.failures.saturating_add(failures),
        },
        None => OpenWindow {
            started: stored(now),
            failures,
        },
    };
    put(conn, scope, subject, window)
}

/// The subjects whose window, open at `now`, holds at least `count` failures.
pub fn at_limit(
    conn: &mut Conn,
    scope: Scope,
    count: u32,
    period: Duration,
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, OpenWindow)>> {
    let rows: Vec<(String, NaiveDateTime, i32)> = failure_windows::table
        .filter(
            failure_windows::scope
                .eq(scope.as_str())
                .and(failure_windows::window_started.gt(open_since(now, period)))
                .and(failure_windows::failures.ge(i32::try_from(count).unwrap_or(i32::MAX))),
        )
        .select((
            failure_windows::subject,
            failure_windows::window_started,
            failure_windows::failures,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(subject, started, failures)| (subject, window((started, failures))))
        .collect())
}

/// Deletes the windows of `scope` that have ended at `now`; every one of them when the
/// scope has no limit (`period` is `None`), for then they count for nothing. How many.
pub fn sweep(
    conn: &mut Conn,
    scope: Scope,
    period: Option<Duration>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let of_scope = failure_windows::scope.eq(scope.as_str());
    match period {
        Some(period) => diesel::delete(
            failure_windows::table
                .filter(of_scope.and(failure_windows::window_started.le(open_since(now, period)))),
        )
        .execute(conn),
        None => diesel::delete(failure_windows::table.filter(of_scope)).execute(conn),
    }
}
