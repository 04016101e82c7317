//! Dev Center settings: the organization's longest credential lifetime (Site Admins).

use crate::db::Conn;
use crate::db::settings::DevCenterSettings;
use crate::rules::access::{Action, Viewer};
use crate::rules::text::FieldError;

use super::audit::{self, Actor, Event};
use super::{Committed, Failure, write};

pub fn get(conn: &mut Conn, viewer: &Viewer) -> Result<DevCenterSettings, Failure> {
    viewer.require(Action::ManageUsers)?;
    Ok(DevCenterSettings::get(conn)?)
}

/// The form's `max_lifetime_days`: empty for no limit, or 1 to 3650 days.
pub fn parse_max_lifetime(text: &str) -> Result<Option<i32>, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i32>()
        .ok()
        .filter(|days| (1..=3650).contains(days))
        .map(Some)
        .ok_or_else(|| {
            FieldError::new(
                "max_lifetime_days",
                "Enter a number of days from 1 to 3650, or leave it empty for no limit.",
            )
        })
}

/// Sets the longest lifetime for credentials made or changed from now on (existing ones
/// keep their dates: the health of older ones is for their managers to review).
pub fn set(
    conn: &mut Conn,
    viewer: &Viewer,
    max_lifetime_days: Option<i32>,
) -> Result<Committed<DevCenterSettings>, Failure> {
    viewer.require(Action::ManageUsers)?;
    write(conn, |conn, _| {
        let before = DevCenterSettings::get(conn)?;
        let after = DevCenterSettings { max_lifetime_days };
        if before != after {
            DevCenterSettings::set(conn, after)?;
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event::dev_center_settings_changed(before.max_lifetime_days, max_lifetime_days),
            )?;
        }
        Ok(after)
    })
}
