//! Rate limits: requests per key, and failed authentications per client address.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// `N/Ws` (or `N/Wm`): at most N requests per window of W seconds (minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub period: Duration,
}

/// A limit, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSetting(pub Option<RateLimit>);

impl FromStr for LimitSetting {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(Self(None));
        }
        let refuse = || format!("{text:?} is not a limit: write N/Ws such as 50/10s, N/Wm, or off");
        let (requests, window) = text.split_once('/').ok_or_else(refuse)?;
        let requests: u32 = requests.trim().parse().map_err(|_| refuse())?;
        let window = window.trim();
        let (amount, unit) = window.split_at(window.len().saturating_sub(1));
        let amount: u64 = amount.parse().map_err(|_| refuse())?;
        let seconds = match unit {
            "s" => amount,
            "m" => amount * 60,
            _ => return Err(refuse()),
        };
        if requests == 0 || seconds == 0 {
            return Err(refuse());
        }
        Ok(Self(Some(RateLimit {
            requests,
            period: Duration::from_secs(seconds),
        })))
    }
}

impl fmt::Display for LimitSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("off"),
            Some(limit) => write!(f, "{}/{}s", limit.requests, limit.period.as_secs()),
        }
    }
}

/// Failed authentications per client address: past the limit, every request from that
/// address is refused until its window ends, so guessing keys is slow.
pub struct FailedAuthentications {
    limit: Option<RateLimit>,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    /// How many addresses have failures on record; 0 keeps the lock off the hot path.
    recorded: AtomicUsize,
}

impl FailedAuthentications {
    pub fn new(limit: Option<RateLimit>) -> Self {
        Self {
            limit,
            windows: Mutex::new(HashMap::new()),
            recorded: AtomicUsize::new(0),
        }
    }

    /// Seconds until `address` may try again, when it is over the limit.
    pub fn blocked(&self, address: IpAddr, now: Instant) -> Option<u64> {
        let limit = self.limit?;
        if self.recorded.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let (started, failures) = windows.get(&address)?;
        let elapsed = now.duration_since(*started);
        (elapsed < limit.period && *failures >= limit.requests)
            .then(|| (limit.period - elapsed).as_secs_f64().ceil().max(1.0) as u64)
    }

    pub fn record(&self, address: IpAddr, now: Instant) {
        let Some(limit) = self.limit else { return };
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.retain(|_, (started, _)| now.duration_since(*started) < limit.period);
        let window = windows.entry(address).or_insert((now, 0));
        window.1 = window.1.saturating_add(1);
        self.recorded.store(windows.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_as_written_on_the_command_line() {
        let limit = |requests, seconds| {
            LimitSetting(Some(RateLimit {
                requests,
                period: Duration::from_secs(seconds),
            }))
        };
        assert_eq!("50/10s".parse(), Ok(limit(50, 10)));
        assert_eq!("20/1m".parse(), Ok(limit(20, 60)));
        assert_eq!("off".parse(), Ok(LimitSetting(None)));
        for bad in [
            "", "50", "50/10", "0/10s", "50/0s", "x/10s", "50/10h", "-1/10s",
        ] {
            assert!(bad.parse::<LimitSetting>().is_err(), "{bad:?}");
        }
        assert_eq!(limit(50, 10).to_string(), "50/10s");
    }

    #[test]
    fn an_address_is_blocked_after_its_failures_until_the_window_ends() {
        let failures = FailedAuthentications::new(Some(RateLimit {
            requests: 2,
            period: Duration::from_secs(60),
        }));
        let (a, b): (IpAddr, IpAddr) = ("127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap());
        let now = Instant::now();
        assert_eq!(failures.blocked(a, now), None);
        failures.record(a, now);
        assert_eq!(failures.blocked(a, now), None);
        failures.record(a, now);
        assert_eq!(failures.blocked(a, now + Duration::from_secs(15)), Some(45));
        assert_eq!(failures.blocked(b, now), None);
        assert_eq!(failures.blocked(a, now + Duration::from_secs(60)), None);
    }
}
