//! Fixed windows: the per-key rate limit of the gate, and the counting of failures (of
//! sign-in, of gate authentication) per account or address — past the limit within a
//! window, every attempt is refused until the window ends, so guessing passwords or keys
//! is slow.
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

/// Failures per account or address, each in its own window.
pub struct Failures<K> {
    limit: Option<Limit>,
    windows: Mutex<HashMap<K, Window>>,
    /// How many keys have failures on record; 0 keeps the lock off the hot path.
    recorded: AtomicUsize,
}

impl<K: Hash + Eq> Failures<K> {
    pub fn new(limit: Option<Limit>) -> Self {
        Self {
            limit,
            windows: Mutex::new(HashMap::new()),
            recorded: AtomicUsize::new(0),
        }
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
    pub fn record(&self, key: K, now: Instant) -> bool {
        self.reserve(key, now) == Ok(true)
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
}
