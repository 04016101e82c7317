//! When a credential stops working. An admin chooses a date (or never); the credential
//! works through that whole day and stops at the next midnight, UTC, the time zone every
//! date in Dev Center is shown in. The organization may cap how long a credential lives.

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime};

/// The presets the Create New Credential dialog offers, in days.
pub const PRESET_DAYS: [u32; 4] = [30, 90, 180, 365];

/// Days a credential "expiring soon" has left: the list highlights it.
pub const SOON_DAYS: i64 = 14;

/// A chosen expiry: the last day the credential works, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry(Option<NaiveDate>);

impl Expiry {
    pub const NEVER: Expiry = Expiry(None);

    /// The form's `expires_on`: empty for never, or `YYYY-MM-DD`, a day after `today`.
    pub fn parse(expires_on: &str, today: NaiveDate) -> Result<Expiry, String> {
        let text = expires_on.trim();
        if text.is_empty() {
            return Ok(Expiry::NEVER);
        }
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| "Enter the date as YYYY-MM-DD, or leave it empty for never.".to_owned())?;
        if date <= today {
            return Err(format!(
                "Choose a date after today ({}): a credential works through its last day.",
                today.format("%Y-%m-%d")
            ));
        }
        Ok(Expiry(Some(date)))
    }

    /// Refused when it goes beyond the organization's longest lifetime.
    pub fn within(
        self,
        max_lifetime_days: Option<u32>,
        today: NaiveDate,
    ) -> Result<Expiry, String> {
        let Some(max) = max_lifetime_days else {
            return Ok(self);
        };
        let latest = today + Days::new(u64::from(max));
        match self.0 {
            Some(date) if date <= latest => Ok(self),
            Some(_) => Err(format!(
                "Your organization lets a credential live at most {max} days: choose {} or earlier.",
                latest.format("%Y-%m-%d")
            )),
            None => Err(format!(
                "Your organization lets a credential live at most {max} days: choose a date, {} or earlier.",
                latest.format("%Y-%m-%d")
            )),
        }
    }

    /// The first moment it no longer works: midnight (UTC) after its last day.
    pub fn ends_at(self) -> Option<NaiveDateTime> {
        self.0
            .and_then(|date| date.succ_opt())
            .map(|next| next.and_time(NaiveTime::MIN))
    }

    /// The last day, as stored `ends_at` reads back.
    pub fn last_day(ends_at: NaiveDateTime) -> NaiveDate {
        (ends_at - chrono::Duration::seconds(1)).date()
    }
}

/// How the list describes a credential's expiry at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpiryStatus {
    Never,
    /// Days left (0: its last day is today); `soon` within `SOON_DAYS`.
    In {
        days: i64,
        soon: bool,
    },
    Expired {
        on: NaiveDate,
    },
}

impl ExpiryStatus {
    pub fn at(ends_at: Option<NaiveDateTime>, now: NaiveDateTime) -> ExpiryStatus {
        match ends_at {
            None => ExpiryStatus::Never,
            Some(end) if end <= now => ExpiryStatus::Expired {
                on: Expiry::last_day(end),
            },
            Some(end) => {
                let days = (Expiry::last_day(end) - now.date()).num_days();
                ExpiryStatus::In {
                    days,
                    soon: days < SOON_DAYS,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
    }

    #[test]
    fn a_credential_works_through_its_last_day() {
        let today = day("2026-11-29");
        let expiry = Expiry::parse("2026-12-01", today).expect("a date");
        let end = expiry.ends_at().expect("an end");
        assert_eq!(end, day("2026-12-02").and_time(NaiveTime::MIN));
        assert_eq!(Expiry::last_day(end), day("2026-12-01"));
        let just_before = end - chrono::Duration::seconds(1);
        assert!(matches!(
            ExpiryStatus::at(Some(end), just_before),
            ExpiryStatus::In {
                days: 0,
                soon: true
            }
        ));
        assert_eq!(
            ExpiryStatus::at(Some(end), end),
            ExpiryStatus::Expired {
                on: day("2026-12-01")
            }
        );
        assert_eq!(Expiry::parse("", today), Ok(Expiry::NEVER));
        assert_eq!(Expiry::NEVER.ends_at(), None);
    }

    #[test]
    fn past_days_and_other_shapes_are_refused() {
        let today = day("2026-11-29");
        for bad in [
            "2026-11-29",
            "2026-11-01",
            "29/12/2026",
            "2026-13-01",
            "tomorrow",
        ] {
            assert!(Expiry::parse(bad, today).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_organizations_longest_lifetime_caps_the_choice() {
        let today = day("2026-11-29");
        let ninety = Expiry::parse("2027-02-27", today).expect("a date");
        assert!(ninety.within(Some(90), today).is_ok());
        assert!(ninety.within(Some(89), today).is_err());
        assert!(Expiry::NEVER.within(Some(90), today).is_err());
        assert!(Expiry::NEVER.within(None, today).is_ok());
    }

    #[test]
    fn the_list_counts_days_left_and_highlights_the_last_two_weeks() {
        let now = day("2026-11-29").and_hms_opt(12, 0, 0).expect("a time");
        let ends = |last: &str| {
            Expiry::parse(last, day("2026-11-28"))
                .expect("a date")
                .ends_at()
        };
        assert_eq!(
            ExpiryStatus::at(ends("2026-12-13"), now),
            ExpiryStatus::In {
                days: 14,
                soon: false
            }
        );
        assert_eq!(
            ExpiryStatus::at(ends("2026-12-12"), now),
            ExpiryStatus::In {
                days: 13,
                soon: true
            }
        );
        assert_eq!(ExpiryStatus::at(None, now), ExpiryStatus::Never);
    }
}
