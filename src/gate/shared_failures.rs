//! The gate's failed-authentication limit, shared between instances without touching the
//! database on the gate's path: each instance decides from its own in-memory counts, and
//! on a timer (`SYNC_PERIOD`) adds the failures it saw since to `failure_windows` and
//! reads back the addresses whose shared count reached the limit, which it then refuses
//! too until their shared window ends.
//!
//! The bound: an address is refused everywhere once the instances together saw `limit`
//! failures from it, give or take what they let through before hearing of it. An attacker
//! spreading guesses over N instances gets at most the limit plus what the N instances
//! see within the sync periods it takes to hear (one for each instance to write its
//! count, one for the others to read the total back: about `2 × SYNC_PERIOD`), and never
//! more than N × the limit in one window, since each instance also stops at the limit
//! alone. Windows start at the database's first record of them, by the writing
//! instance's clock: instances' clocks should agree to well within a window.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::db::failure_windows::{self, OpenWindow, Scope};
use crate::db::{self, Pool};

use super::Gate;

/// How often each instance shares its failures and hears of the others'.
pub const SYNC_PERIOD: Duration = Duration::from_secs(1);

impl Gate {
    /// Whether there is a failed-authentication limit to share.
    pub fn limits_failures(&self) -> bool {
        self.failures.limit().is_some()
    }

    /// Adds this instance's new failures to the shared counts and blocks the addresses
    /// whose shared count reached the limit. Failures not written are kept for the next
    /// sync.
    pub fn share_failures(&self, pool: &Pool) {
        let Some(limit) = self.failures.limit() else {
            return;
        };
        let new = self.failures.take_unshared();
        let shared = pool
            .get()
            .map_err(anyhow::Error::from)
            .and_then(|mut conn| {
                let now = db::now();
                let at_limit = |conn: &mut db::Conn| {
                    failure_windows::at_limit(
                        conn,
                        Scope::GateAddress,
                        limit.count,
                        limit.period,
                        now,
                    )
                };
                // With nothing new to add, a read is enough: no writers' lock.
                if new.is_empty() {
                    return at_limit(&mut conn).map_err(anyhow::Error::from);
                }
                db::write(&mut conn, |conn| {
                    for (address, failures) in &new {
                        failure_windows::add(
                            conn,
                            Scope::GateAddress,
                            &address.to_string(),
                            *failures,
                            limit.period,
                            now,
                        )?;
                    }
                    at_limit(conn)
                })
                .map_err(anyhow::Error::from)
            });
        match shared {
            Ok(blocked) => self.adopt(blocked),
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "failed authentications not shared yet; trying again"
                );
                self.failures.restore_unshared(new);
            }
        }
    }

    /// Blocks here the addresses blocked across instances, until their shared windows end.
    fn adopt(&self, blocked: Vec<(String, OpenWindow)>) {
        let (wall, now) = (db::now(), Instant::now());
        for (subject, window) in blocked {
            let Ok(address) = subject.parse::<IpAddr>() else {
                continue;
            };
            // A start ahead of this clock (another instance's clock runs fast) counts as
            // now: the window then ends a little late here, never early.
            let elapsed = (wall - window.started).to_std().unwrap_or(Duration::ZERO);
            if let Some(started) = now.checked_sub(elapsed) {
                self.failures.adopt(address, started, window.failures, now);
            }
        }
    }
}
