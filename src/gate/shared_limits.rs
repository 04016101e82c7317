//! Rate limits that hold across instances. On PostgreSQL, where several instances share
//! one database, a key's window is kept in the database (`rate_windows`), and each
//! instance leases a tenth of the limit at a time and spends it from memory: one round
//! trip per tenth of the limit, never one per request. Leases never add up to more than
//! the limit, so a client spreading its calls over every instance gets at most the limit
//! in a window; a lease one instance has not spent yet is the most another may be short
//! of. On SQLite (one process) the window stays in memory.
//!
//! When the database cannot lease within `LEASE_WAIT` (it is gone, or slow), the instance
//! counts the key against a window of its own rather than refuse every request or make
//! it wait: each instance then allows the whole limit. It asks the database again only
//! after `BACK_OFF`, so requests never queue behind a database that does not answer.

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::db::{self, Pool, rate_windows};
use crate::limiter::{Admission, Limit};

use super::live_keys::LiveKey;

/// One instance's lease of a key's current shared window.
#[derive(Debug, Default)]
pub struct Lease {
    /// Which shared window the lease is of (by when it started).
    window_started: Option<NaiveDateTime>,
    /// When that window ends, by this instance's clock.
    window_ends: Option<Instant>,
    /// Requests leased and not yet spent.
    unused: u32,
    /// What the window had left for every instance at the last lease.
    left: u32,
}

impl Lease {
    /// Spends one request of the lease: the answer, or `None` when a lease is needed first.
    fn spend(&mut self, limit: Limit, now: Instant) -> Option<Admission> {
        let ends = self.window_ends.filter(|ends| *ends > now)?;
        let reset_after = (ends - now).as_secs_f64().ceil().max(1.0) as u64;
        let answer = |allowed: bool, remaining: u32| Admission {
            allowed,
            limit: limit.count,
            remaining,
            reset_after,
        };
        if self.unused > 0 {
            self.unused -= 1;
            return Some(answer(true, self.left + self.unused));
        }
        // Spent, and the window has nothing left for anyone: refused until it ends.
        (self.left == 0).then(|| answer(false, 0))
    }

    /// Adds what the database leased (starting over when it is of a newer window).
    fn add(&mut self, leased: rate_windows::Leased, ends: Instant) {
        if self.window_started != Some(leased.window_started) {
            self.window_started = Some(leased.window_started);
            self.unused = 0;
        }
        self.window_ends = Some(ends);
        self.unused += leased.granted;
        self.left = leased.left;
    }
}

/// How long a request may wait for a lease.
const LEASE_WAIT: Duration = Duration::from_millis(250);
/// How long after a failed lease the database is left alone.
const BACK_OFF: Duration = Duration::from_secs(5);

/// The shared windows, through the database.
pub struct SharedLimits {
    pool: Pool,
    /// Until when leases are not asked for, after one failed.
    backing_off: std::sync::Mutex<Option<Instant>>,
}

impl SharedLimits {
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            backing_off: std::sync::Mutex::new(None),
        }
    }

    fn backing_off(&self, now: Instant) -> bool {
        let until = *self.backing_off.lock().unwrap_or_else(|e| e.into_inner());
        until.is_some_and(|until| until > now)
    }

    fn back_off(&self, now: Instant) {
        *self.backing_off.lock().unwrap_or_else(|e| e.into_inner()) = Some(now + BACK_OFF);
    }

    /// Counts a request of `key` against its shared window.
    pub async fn admit(&self, key: &LiveKey, limit: Limit) -> Admission {
        let now = Instant::now();
        if let Some(answer) = key.activity.with_lease(|lease| lease.spend(limit, now)) {
            return answer;
        }
        if self.backing_off(now) {
            return key.activity.admit(limit, now);
        }
        let (pool, credential_id) = (self.pool.clone(), key.credential_id);
        let wanted = (limit.count / 10).max(1);
        let period = chrono::Duration::from_std(limit.period).unwrap_or(chrono::Duration::MAX);
        let leasing = actix_web::web::block(move || -> anyhow::Result<_> {
            let mut conn = pool.get_timeout(LEASE_WAIT)?;
            let leased = db::write(&mut conn, |conn| {
                // The database's clock, not this instance's: every instance then agrees
                // on when a window started and ends, however their clocks drift.
                let at = rate_windows::clock(conn)?;
                rate_windows::lease(conn, credential_id, limit.count, period, wanted, at)
                    .map(|leased| (leased, at))
            })?;
            Ok(leased)
        });
        let leased = match tokio::time::timeout(LEASE_WAIT, leasing).await {
            Ok(leased) => leased
                .map_err(anyhow::Error::from)
                .and_then(|leased| leased),
            Err(_) => Err(anyhow::anyhow!("no lease within {LEASE_WAIT:?}")),
        };
        match leased {
            Ok((leased, at)) => {
                let elapsed = (at - leased.window_started)
                    .to_std()
                    .unwrap_or(Duration::ZERO);
                let ends = now + limit.period.saturating_sub(elapsed);
                key.activity
                    .with_lease(|lease| {
                        lease.add(leased, ends);
                        lease.spend(limit, Instant::now())
                    })
                    // The window ended in the meantime: the next request leases anew.
                    .unwrap_or_else(|| key.activity.admit(limit, now))
            }
            Err(error) => {
                self.back_off(now);
                tracing::warn!(
                    credential_id,
                    error = format!("{error:#}"),
                    "no lease of the shared rate limit; counting this instance's own window"
                );
                key.activity.admit(limit, now)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leased(started: i64, granted: u32, left: u32) -> rate_windows::Leased {
        rate_windows::Leased {
            window_started: chrono::DateTime::from_timestamp(started, 0)
                .map(|t| t.naive_utc())
                .unwrap_or_default(),
            granted,
            left,
        }
    }

    #[test]
    fn a_lease_is_spent_then_asked_again_then_refused_when_the_window_is_spent() {
        let limit = Limit {
            count: 10,
            period: Duration::from_secs(10),
        };
        let now = Instant::now();
        let mut lease = Lease::default();
        assert_eq!(lease.spend(limit, now), None, "no lease yet");
        lease.add(leased(1, 1, 9), now + Duration::from_secs(10));
        let first = lease.spend(limit, now).expect("spent");
        assert!(first.allowed);
        assert_eq!((first.remaining, first.reset_after), (9, 10));
        assert_eq!(lease.spend(limit, now), None, "spent: lease again");
        lease.add(leased(1, 0, 0), now + Duration::from_secs(4));
        let refused = lease.spend(limit, now).expect("an answer");
        assert!(!refused.allowed);
        assert_eq!(refused.reset_after, 4);
        assert_eq!(
            lease.spend(limit, now + Duration::from_secs(5)),
            None,
            "a new window is leased anew"
        );
    }
}
