//! How the pages show times and keys.

use chrono::NaiveDateTime;

/// A moment in a table: `Dec 2, 2026 14:05 UTC`.
pub fn when(at: NaiveDateTime) -> String {
    at.format("%b %-d, %Y %H:%M UTC").to_string()
}

/// A moment in a log, to the second: `Dec 2, 2026 14:05:09 UTC`.
pub fn when_exactly(at: NaiveDateTime) -> String {
    at.format("%b %-d, %Y %H:%M:%S UTC").to_string()
}

/// A key as the tables show it: its type prefix and last four characters.
pub fn key_display(prefix: &str, last4: &str) -> String {
    format!("{prefix}…{last4}")
}

/// A paged list's title: its name, and which page when there is more than one.
pub fn paged_title(name: &str, page: i64, pages: i64) -> String {
    if pages > 1 {
        format!("{name}, page {page} of {pages}")
    } else {
        name.to_owned()
    }
}

/// A credential's expiry as the pages say it: "Never expires", "Expires in 12 days"
/// (`soon` within two weeks), "Expired on 2026-12-01".
pub struct ExpiryDisplay {
    pub text: String,
    pub soon: bool,
    pub expired: bool,
}

pub fn expiry(ends_at: Option<NaiveDateTime>) -> ExpiryDisplay {
    use crate::rules::expiry::ExpiryStatus;
    match ExpiryStatus::at(ends_at, crate::db::now()) {
        ExpiryStatus::Never => ExpiryDisplay {
            text: "Never expires".to_owned(),
            soon: false,
            expired: false,
        },
        ExpiryStatus::In { days, soon } => ExpiryDisplay {
            text: match days {
                0 => "Expires at the end of today (UTC)".to_owned(),
                1 => "Expires in 1 day".to_owned(),
                n => format!("Expires in {n} days"),
            },
            soon,
            expired: false,
        },
        ExpiryStatus::Expired { on } => ExpiryDisplay {
            text: format!("Expired on {}", on.format("%Y-%m-%d")),
            soon: false,
            expired: true,
        },
    }
}
