//! Limits as written on the command line: `N/Ws`, `N/Wm` or `off`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::limiter::Limit;

/// `N/Ws` (or `N/Wm`): at most N per window of W seconds (minutes); or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSetting(pub Option<Limit>);

impl FromStr for LimitSetting {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(Self(None));
        }
        let refuse = || format!("{text:?} is not a limit: write N/Ws such as 50/10s, N/Wm, or off");
        let (count, window) = text.split_once('/').ok_or_else(refuse)?;
        let count: u32 = count.trim().parse().map_err(|_| refuse())?;
        let window = window.trim();
        let (amount, unit) = window.split_at(window.len().saturating_sub(1));
        let amount: u64 = amount.parse().map_err(|_| refuse())?;
        let seconds = match unit {
            "s" => amount,
            "m" => amount * 60,
            _ => return Err(refuse()),
        };
        if count == 0 || seconds == 0 {
            return Err(refuse());
        }
        Ok(Self(Some(Limit {
            count,
            period: Duration::from_secs(seconds),
        })))
    }
}

impl fmt::Display for LimitSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("off"),
            Some(limit) => write!(f, "{}/{}s", limit.count, limit.period.as_secs()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_as_written_on_the_command_line() {
        let limit = |requests, seconds| {
            LimitSetting(Some(Limit {
                count: requests,
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
}
