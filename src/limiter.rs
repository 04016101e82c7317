//! Counting failures (of sign-in, of gate authentication) per account or address: past
//! the limit within a window, every attempt is refused until the window ends, so guessing
//! passwords or keys is slow.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// At most `failures` within `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub failures: u32,
    pub period: Duration,
}

pub struct Failures<K> {
    limit: Option<Limit>,
    windows: Mutex<HashMap<K, (Instant, u32)>>,
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
        let (started, failures) = windows.get(key)?;
        let elapsed = now.duration_since(*started);
        (elapsed < limit.period && *failures >= limit.failures)
            .then(|| (limit.period - elapsed).as_secs_f64().ceil().max(1.0) as u64)
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
        windows.retain(|_, (started, _)| now.duration_since(*started) < limit.period);
        let (started, count) = windows.entry(key).or_insert((now, 0));
        if *count >= limit.failures {
            let left = limit.period.saturating_sub(now.duration_since(*started));
            return Err(left.as_secs_f64().ceil().max(1.0) as u64);
        }
        *count += 1;
        let reached = *count == limit.failures;
        self.recorded.store(windows.len(), Ordering::Relaxed);
        Ok(reached)
    }

    /// Gives back a place `reserve` took, for an attempt that did not fail.
    pub fn release(&self, key: &K) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, count)) = windows.get_mut(key) {
            *count = count.saturating_sub(1);
        }
    }

    /// Counts a failure; true when this one reached the limit.
    pub fn record(&self, key: K, now: Instant) -> bool {
        let Some(limit) = self.limit else {
            return false;
        };
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.retain(|_, (started, _)| now.duration_since(*started) < limit.period);
        let window = windows.entry(key).or_insert((now, 0));
        window.1 = window.1.saturating_add(1);
        let reached = window.1 == limit.failures;
        self.recorded.store(windows.len(), Ordering::Relaxed);
        reached
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    #[test]
    fn an_address_is_blocked_after_its_failures_until_the_window_ends() {
        let failures = Failures::new(Some(Limit {
            failures: 2,
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
            failures: 2,
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
