//! Fixed windows: the per-key rate limit of the gate, and the counting of the gate's failed
//! authentications per address — past the limit within a window, every attempt is refused
//! until the window ends, so guessing keys is slow. (The sign-in throttle counts the same
//! windows in the database: `db::failure_windows`.)
//!
//! Ours rather than a crate's: the gate promises a fixed window that starts at a key's
//! first request, with `X-RateLimit-Remaining` counting down within it and
//! `X-RateLimit-Reset` at its end. A GCRA limiter (`governor`) refills continuously: it
//! has no such window to count down or to end.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// At most `count` within `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub count: u32,
    pub period: Duration,
}

/// A fixed window: it starts at the first event after the previous window ended.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    started: Option<Instant>,
    count: u32,
}

/// A window's answer to one more event: whether it was counted, and what to tell the
/// client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window ends (at least 1).
    pub reset_after: u64,
}

impl Window {
    /// Counts an event at `now` (in a new window if this one has ended), unless the window
    /// already holds `limit.count`.
    pub fn admit(&mut self, limit: Limit, now: Instant) -> Admission {
        if !self.is_open(limit.period, now) {
            *self = Self {
                started: Some(now),
                count: 0,
            };
        }
        let allowed = self.count < limit.count;
        if allowed {
            self.count += 1;
        }
        Admission {
            allowed,
            limit: limit.count,
            remaining: limit.count.saturating_sub(self.count),
            reset_after: self.seconds_left(limit.period, now),
        }
    }

    /// Seconds until the window ends, when it is full.
    pub fn refusal(&self, limit: Limit, now: Instant) -> Option<u64> {
        (self.is_open(limit.period, now) && self.count >= limit.count)
            .then(|| self.seconds_left(limit.period, now))
    }

    /// Takes back an event `admit` counted.
    pub fn give_back(&mut self) {
        self.count = self.count.saturating_sub(1);
    }

    fn is_open(&self, period: Duration, now: Instant) -> bool {
        self.started
            .is_some_and(|started| now.duration_since(started) < period)
    }

    fn seconds_left(&self, period: Duration, now: Instant) -> u64 {
        let elapsed = self
            .started
            .map_or(period, |started| now.duration_since(started));
        period.saturating_sub(elapsed).as_secs_f64().ceil().max(1.0) as u64
    }
}

/// Failures per account or address, each in its own window. Failures `record`ed are also
/// kept aside until taken (`take_unshared`), for other instances to hear of; what they
/// recorded comes back through `adopt`.
pub struct Failures<K> {
    limit: Option<Limit>,
    windows: Mutex<HashMap<K, Window>>,
    /// How many keys have failures on record; 0 keeps the lock off the hot path.
    recorded: AtomicUsize,
    /// Failures recorded since they were last taken, per key.
    unshared: Mutex<HashMap<K, u32>>,
}

impl<K: Hash + Eq> Failures<K> {
    pub fn new(limit: Option<Limit>) -> Self {
        Self {
            limit,
            windows: Mutex::new(HashMap::new()),
            recorded: AtomicUsize::new(0),
            unshared: Mutex::new(HashMap::new()),
        }
    }

    pub fn limit(&self) -> Option<Limit> {
        self.limit
    }

    /// Seconds until `key` may try again, when it is over the limit.
    pub fn blocked(&self, key: &K, now: Instant) -> Option<u64> {
        let limit = self.limit?;
        if self.recorded.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.get(key)?.refusal(limit, now)
    }

    /// Counts an attempt before it is checked, so that a burst cannot check more than the
    /// limit: `Ok(true)` when this attempt takes the count to the limit, `Err` with the
    /// seconds to wait when the limit is already reached. A successful attempt gives its
    /// place back with `release`.
    pub fn reserve(&self, key: K, now: Instant) -> Result<bool, u64> {
        let Some(limit) = self.limit else {
            return Ok(false);
        };
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.retain(|_, window| window.is_open(limit.period, now));
        let admission = windows.entry(key).or_default().admit(limit, now);
        self.recorded.store(windows.len(), Ordering::Relaxed);
        if admission.allowed {
            Ok(admission.remaining == 0)
        } else {
            Err(admission.reset_after)
        }
    }

    /// Gives back a place `reserve` took, for an attempt that did not fail.
    pub fn release(&self, key: &K) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(window) = windows.get_mut(key) {
            window.give_back();
        }
    }

    /// Counts a failure; true when this one reached the limit.
    pub fn record(&self, key: K, now: Instant) -> bool
    where
        K: Clone,
    {
        let counted = self.reserve(key.clone(), now);
        if counted.is_ok() && self.limit.is_some() {
            let mut unshared = self.unshared.lock().unwrap_or_else(|e| e.into_inner());
            *unshared.entry(key).or_default() += 1;
        }
        counted == Ok(true)
    }

    /// The failures recorded since the last call, per key.
    pub fn take_unshared(&self) -> Vec<(K, u32)> {
        let mut unshared = self.unshared.lock().unwrap_or_else(|e| e.into_inner());
        unshared.drain().collect()
    }

    /// Puts back failures `take_unshared` gave that could not be shared, to be taken again.
    pub fn restore_unshared(&self, failures: Vec<(K, u32)>) {
        let mut unshared = self.unshared.lock().unwrap_or_else(|e| e.into_inner());
        for (key, count) in failures {
            *unshared.entry(key).or_default() += count;
        }
    }

    /// Takes in a window counted elsewhere (`count` failures since `started`): while it is
    /// open, `key`'s window is that one, holding at least its failures. Every instance so
    /// ends its key's window when the shared one ends.
    pub fn adopt(&self, key: K, started: Instant, count: u32, now: Instant) {
        let Some(limit) = self.limit else { return };
        let shared = Window {
            started: Some(started),
            count,
        };
        if !shared.is_open(limit.period, now) {
            return;
        }
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.retain(|_, window| window.is_open(limit.period, now));
        let window = windows.entry(key).or_default();
        let local = if window.is_open(limit.period, now) {
            window.count
        } else {
            0
        };
        *window = Window {
            count: count.max(local),
            ..shared
        };
        self.recorded.store(windows.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    #[test]
    fn an_address_is_blocked_after_its_failures_until_the_window_ends() {
        let failures = Failures::new(Some(Limit {
            count: 2,
            period: Duration::from_secs(60),
        }));
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap());
        let now = Instant::now();
        assert_eq!(failures.blocked(&a, now), None);
        assert!(!failures.record(a, now));
        assert_eq!(failures.blocked(&a, now), None);
        assert!(
            failures.record(a, now),
            "the second failure reaches the limit"
        );
        assert_eq!(
            failures.blocked(&a, now + Duration::from_secs(15)),
            Some(45)
        );
        assert_eq!(failures.blocked(&b, now), None);
        assert_eq!(failures.blocked(&a, now + Duration::from_secs(60)), None);
    }

    #[test]
    fn reservations_count_before_the_check_and_successes_give_them_back() {
        let failures = Failures::new(Some(Limit {
            count: 2,
            period: Duration::from_secs(60),
        }));
        let now = Instant::now();
        assert_eq!(failures.reserve("a", now), Ok(false));
        assert_eq!(
            failures.reserve("a", now),
            Ok(true),
            "the second reaches the limit"
        );
        assert_eq!(
            failures.reserve("a", now + Duration::from_secs(20)),
            Err(40)
        );
        failures.release(&"a");
        assert_eq!(
            failures.reserve("a", now),
            Ok(true),
            "a success gave its place back"
        );
        assert_eq!(failures.reserve("b", now), Ok(false));
    }

    #[test]
    fn failures_recorded_are_taken_once_and_shared_windows_block_until_they_end() {
        let failures = Failures::new(Some(Limit {
            count: 3,
            period: Duration::from_secs(60),
        }));
        let now = Instant::now();
        failures.record("a", now);
        failures.record("a", now);
        assert_eq!(failures.take_unshared(), vec![("a", 2)]);
        assert_eq!(failures.take_unshared(), vec![], "taken once");
        failures.restore_unshared(vec![("a", 2)]);
        assert_eq!(
            failures.take_unshared(),
            vec![("a", 2)],
            "kept when not shared"
        );

        // Others saw "b" fail three times in a window that started 20 s ago.
        failures.adopt("b", now, 3, now + Duration::from_secs(20));
        assert_eq!(
            failures.blocked(&"b", now + Duration::from_secs(20)),
            Some(40)
        );
        assert_eq!(failures.blocked(&"b", now + Duration::from_secs(60)), None);
        // Below the limit, a shared window holds its failures here too.
        failures.adopt("a", now, 2, now);
        assert!(failures.record("a", now), "the third reaches the limit");
    }
}
