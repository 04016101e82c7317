//! A rotation's overlap: how long a credential's old secret keeps working beside the new
//! one, so an integration can switch without an outage.

use chrono::TimeDelta;

use super::text::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// The old secret stops at once.
    Now,
    OneHour,
    OneDay,
    SevenDays,
}

impl Overlap {
    /// Every overlap, in the order the form offers them.
    pub const ALL: [Overlap; 4] = [
        Overlap::Now,
        Overlap::OneHour,
        Overlap::OneDay,
        Overlap::SevenDays,
    ];

    /// The form's value (`overlap=24h`), refused beside the field when it is not one.
    pub fn parse(value: &str) -> Result<Overlap, FieldError> {
        Overlap::ALL
            .into_iter()
            .find(|o| o.as_str() == value.trim())
            .ok_or_else(|| {
                FieldError::new(
                    "overlap",
                    "Choose how long the old secret keeps working: not at all, 1 hour, 24 hours or 7 days.",
                )
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Overlap::Now => "now",
            Overlap::OneHour => "1h",
            Overlap::OneDay => "24h",
            Overlap::SevenDays => "7d",
        }
    }

    /// How the form and the audit log say it.
    pub fn label(self) -> &'static str {
        match self {
            Overlap::Now => "Stop the old secret now",
            Overlap::OneHour => "1 hour",
            Overlap::OneDay => "24 hours",
            Overlap::SevenDays => "7 days",
        }
    }

    pub fn duration(self) -> TimeDelta {
        match self {
            Overlap::Now => TimeDelta::zero(),
            Overlap::OneHour => TimeDelta::hours(1),
            Overlap::OneDay => TimeDelta::hours(24),
            Overlap::SevenDays => TimeDelta::days(7),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offered_value_reads_back_and_nothing_else_does() {
        for overlap in Overlap::ALL {
            assert_eq!(Overlap::parse(overlap.as_str()), Ok(overlap));
        }
        for refused in ["", "2h", "NOW", "7 days", "24", "-1h", "quiet:4h"] {
            let error = Overlap::parse(refused).expect_err(refused);
            assert_eq!(error.field, "overlap");
        }
        assert_eq!(Overlap::SevenDays.duration(), TimeDelta::hours(168));
        assert_eq!(Overlap::Now.duration(), TimeDelta::zero());
    }
}
