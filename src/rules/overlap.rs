//! A rotation's overlap: how long a credential's old secret keeps working beside the new
//! one, so an integration can switch without an outage. Fixed (now, 1 hour, 24 hours,
//! 7 days), or until the old secret goes quiet: no request for N hours, at the latest
//! after 7 days.

use chrono::{NaiveDateTime, TimeDelta};

use super::text::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// The old secret stops at once.
    Now,
    OneHour,
    OneDay,
    SevenDays,
    /// Until the old secret has had no request for this many hours (1 to 168), and at the
    /// latest `QUIET_CAP`.
    Quiet(u32),
}

/// The longest a quiet-driven overlap lasts, however busy the old secret stays.
pub const QUIET_CAP: TimeDelta = TimeDelta::days(7);

impl Overlap {
    /// Every overlap the form offers, in its order.
    pub const ALL: [Overlap; 7] = [
        Overlap::Now,
        Overlap::OneHour,
        Overlap::OneDay,
        Overlap::SevenDays,
        Overlap::Quiet(1),
        Overlap::Quiet(4),
        Overlap::Quiet(24),
    ];

    /// The form's value (`overlap=24h`, `overlap=quiet:4h`), refused beside the field when
    /// it is not one.
    pub fn parse(value: &str) -> Result<Overlap, FieldError> {
        let value = value.trim();
        let quiet = value
            .strip_prefix("quiet:")
            .and_then(|h| h.strip_suffix('h'))
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|h| h.parse::<u32>().ok())
            .filter(|h| (1..=168).contains(h));
        if let Some(hours) = quiet {
            return Ok(Overlap::Quiet(hours));
        }
        Overlap::ALL
            .into_iter()
            .find(|o| o.as_str() == value)
            .ok_or_else(|| {
                FieldError::new(
                    "overlap",
                    "Choose how long the old secret keeps working: not at all, 1 hour, 24 hours, 7 days, or until it has had no request for 1 to 168 hours (quiet:Nh).",
                )
            })
    }

    pub fn as_str(self) -> String {
        match self {
            Overlap::Now => "now".into(),
            Overlap::OneHour => "1h".into(),
            Overlap::OneDay => "24h".into(),
            Overlap::SevenDays => "7d".into(),
            Overlap::Quiet(hours) => format!("quiet:{hours}h"),
        }
    }

    /// How the form and the audit log say it.
    pub fn label(self) -> String {
        match self {
            Overlap::Now => "Stop the old secret now".into(),
            Overlap::OneHour => "1 hour".into(),
            Overlap::OneDay => "24 hours".into(),
            Overlap::SevenDays => "7 days".into(),
            Overlap::Quiet(1) => {
                "Until the old secret has had no request for 1 hour (7 days at most)".into()
            }
            Overlap::Quiet(hours) => format!(
                "Until the old secret has had no request for {hours} hours (7 days at most)"
            ),
        }
    }

    /// How long the old secret works at most.
    pub fn duration(self) -> TimeDelta {
        match self {
            Overlap::Now => TimeDelta::zero(),
            Overlap::OneHour => TimeDelta::hours(1),
            Overlap::OneDay => TimeDelta::hours(24),
            Overlap::SevenDays => TimeDelta::days(7),
            Overlap::Quiet(_) => QUIET_CAP,
        }
    }

    /// The quiet hours that end it early, for a quiet-driven overlap.
    pub fn quiet_hours(self) -> Option<u32> {
        match self {
            Overlap::Quiet(hours) => Some(hours),
            _ => None,
        }
    }
}

/// When a quiet-driven overlap ends: `quiet_hours` after the old secret's last request
/// (or after the rotation, if none came since), and never after `ends_at` (the cap).
pub fn quiet_end(
    rotated_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    quiet_hours: u32,
    ends_at: NaiveDateTime,
) -> NaiveDateTime {
    let quiet_since = last_used_at.map_or(rotated_at, |used| used.max(rotated_at));
    (quiet_since + TimeDelta::hours(i64::from(quiet_hours))).min(ends_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offered_value_reads_back_and_nothing_else_does() {
        for overlap in Overlap::ALL {
            assert_eq!(Overlap::parse(&overlap.as_str()), Ok(overlap));
        }
        assert_eq!(Overlap::parse("quiet:4h"), Ok(Overlap::Quiet(4)));
        assert_eq!(Overlap::parse("quiet:168h"), Ok(Overlap::Quiet(168)));
        for refused in [
            "",
            "2h",
            "NOW",
            "7 days",
            "24",
            "-1h",
            "quiet:0h",
            "quiet:169h",
            "quiet:h",
            "quiet:4",
            "quiet:+4h",
            "quiet:4.5h",
        ] {
            let error = Overlap::parse(refused).expect_err(refused);
            assert_eq!(error.field, "overlap");
        }
        assert_eq!(Overlap::SevenDays.duration(), TimeDelta::hours(168));
        assert_eq!(Overlap::Now.duration(), TimeDelta::zero());
    }
}

#[cfg(test)]
mod quiet_tests {
    use super::*;

    fn at(hour: i64) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
            .expect("a date")
            .and_hms_opt(0, 0, 0)
            .expect("a time")
            + TimeDelta::hours(hour)
    }

    #[test]
    fn a_quiet_overlap_ends_n_hours_after_the_last_request_and_at_the_latest_at_its_cap() {
        let cap = at(0) + QUIET_CAP;
        // No request since the rotation: N hours after the rotation.
        assert_eq!(quiet_end(at(0), None, 4, cap), at(4));
        // A request before the rotation does not count.
        assert_eq!(quiet_end(at(0), Some(at(-3)), 4, cap), at(4));
        // Requests push the end: N hours after the last one.
        assert_eq!(quiet_end(at(0), Some(at(10)), 4, cap), at(14));
        // Never after the cap.
        assert_eq!(quiet_end(at(0), Some(at(167)), 4, cap), cap);
    }
}
