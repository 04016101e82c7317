//! The sign-in throttle: failed sign-ins counted per account and per client address, in
//! the database, so that every instance on it throttles as one.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::db::failure_windows::{self, OpenWindow, Scope};
use crate::db::{self, Conn, Pool};
use crate::limiter::Limit;
use crate::use_cases::Failure;

use super::database;

/// Sign-in attempts per account (the e-mail typed, known or not) and per client address.
/// Each attempt is counted before its password is checked and given back if it succeeds,
/// so that no burst checks more passwords than the limit — across instances too: the
/// counts live in `failure_windows`, read and written in one writing transaction per
/// attempt (a sign-in spends far longer on its password hash than on that).
pub struct SignInThrottle {
    limit: Option<Limit>,
    pool: Pool,
    /// Accounts and addresses the database has refused, until when: refused again here
    /// without a transaction, so that a flood of attempts over the limit cannot hold the
    /// pool's connections and the writers' lock that every other write needs.
    refused: Mutex<HashMap<String, Instant>>,
}

/// An attempt's place in the throttle: given back on success, kept on failure.
pub struct Attempt {
    account: String,
    address: String,
    /// The windows it was counted in; `None` when there is no limit.
    counted: Option<Counted>,
}

struct Counted {
    /// When the account's and the address's windows started: a success gives its place
    /// back to these windows only, not to later ones.
    account_window: NaiveDateTime,
    address_window: NaiveDateTime,
    /// Whether this attempt took a count to the limit (its failure is then audited).
    reaches_limit: bool,
}

/// The throttle's answer to an attempt.
pub enum Reservation {
    Counted(Attempt),
    /// The account or the address is over the limit: the seconds to wait.
    Refused(u64),
}

impl SignInThrottle {
    pub fn new(limit: Option<Limit>, pool: Pool) -> Self {
        Self {
            limit,
            pool,
            refused: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait, when this instance already knows `subject` is refused.
    fn known_refused(&self, subjects: [&str; 2], now: Instant) -> Option<u64> {
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        refused.retain(|_, until| *until > now);
        subjects
            .iter()
            .filter_map(|subject| refused.get(*subject))
            .max()
            .map(|until| (*until - now).as_secs_f64().ceil().max(1.0) as u64)
    }

    fn remember_refused(&self, subject: &str, retry_after: u64, now: Instant) {
        let until = now + Duration::from_secs(retry_after);
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        refused.insert(subject.to_owned(), until);
    }

    /// Counts an attempt, unless the account or the address is over the limit.
    pub async fn reserve(&self, account: String, address: IpAddr) -> Result<Reservation, Failure> {
        // What was typed is not trusted: the account is counted by its printable
        // characters (PostgreSQL's text cannot even hold a NUL).
        let account: String = account.chars().filter(|c| !c.is_control()).collect();
        let address = address.to_string();
        let Some(limit) = self.limit else {
            return Ok(Reservation::Counted(Attempt {
                account,
                address,
                counted: None,
            }));
        };
        let now = Instant::now();
        let account_key = format!("account {account}");
        let address_key = format!("address {address}");
        if let Some(retry_after) = self.known_refused([&account_key, &address_key], now) {
            return Ok(Reservation::Refused(retry_after));
        }
        let counted = database::run(&self.pool, move |conn| {
            let counted = db::write(conn, |conn| count(conn, limit, &account, &address))?;
            Ok::<_, Failure>(counted.map(|counted| Attempt {
                account,
                address,
                counted: Some(counted),
            }))
        })
        .await?;
        Ok(match counted {
            Ok(attempt) => Reservation::Counted(attempt),
            Err((scope, retry_after)) => {
                let refused = match scope {
                    Scope::SignInAccount => account_key,
                    _ => address_key,
                };
                self.remember_refused(&refused, retry_after, now);
                Reservation::Refused(retry_after)
            }
        })
    }

    /// Gives the attempt's places back. The person is let in even if that fails: the
    /// places then count until their windows end, as a failure's would.
    pub async fn succeeded(&self, attempt: Attempt) {
        let Some(counted) = attempt.counted else {
            return;
        };
        let given_back = database::run(&self.pool, move |conn| {
            db::write(conn, |conn| {
                failure_windows::give_back(
                    conn,
                    Scope::SignInAccount,
                    &attempt.account,
                    counted.account_window,
                )?;
                failure_windows::give_back(
                    conn,
                    Scope::SignInAddress,
                    &attempt.address,
                    counted.address_window,
                )
            })
            .map_err(Failure::from)
        })
        .await;
        if let Err(error) = given_back {
            tracing::warn!(
                error = format!("{error:#}"),
                "a successful sign-in's places in the throttle were not given back"
            );
        }
    }

    /// The limit's count, when this failure is the one that reached it.
    pub fn failed(&self, attempt: &Attempt) -> Option<u32> {
        self.limit
            .filter(|_| attempt.counted.as_ref().is_some_and(|c| c.reaches_limit))
            .map(|l| l.count)
    }
}

/// Counts an attempt in the account's and the address's windows, inside a writing
/// transaction; or, writing nothing, the seconds to wait when either is full.
fn count(
    conn: &mut Conn,
    limit: Limit,
    account: &str,
    address: &str,
) -> diesel::QueryResult<Result<Counted, (Scope, u64)>> {
    let now = failure_windows::stored(db::now());
    let by_account = match one_more(conn, limit, Scope::SignInAccount, account, now)? {
        Ok(window) => window,
        Err(retry_after) => return Ok(Err((Scope::SignInAccount, retry_after))),
    };
    let by_address = match one_more(conn, limit, Scope::SignInAddress, address, now)? {
        Ok(window) => window,
        Err(retry_after) => return Ok(Err((Scope::SignInAddress, retry_after))),
    };
    failure_windows::put(conn, Scope::SignInAccount, account, by_account)?;
    failure_windows::put(conn, Scope::SignInAddress, address, by_address)?;
    Ok(Ok(Counted {
        account_window: by_account.started,
        address_window: by_address.started,
        reaches_limit: by_account.failures == limit.count || by_address.failures == limit.count,
    }))
}

/// The subject's window with one more failure (a new window when its last has ended), or
/// the seconds to wait when it is full.
fn one_more(
    conn: &mut Conn,
    limit: Limit,
    scope: Scope,
    subject: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<Result<OpenWindow, u64>> {
    Ok(
        match failure_windows::open(conn, scope, subject, limit.period, now)? {
            Some(open) if open.failures >= limit.count => Err(open.seconds_left(limit.period, now)),
            Some(open) => Ok(OpenWindow {
                started: open.started,
                failures: open.failures + 1,
            }),
            None => Ok(OpenWindow {
                started: now,
                failures: 1,
            }),
        },
    )
}
