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
