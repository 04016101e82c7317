//! Dev Center's organization-wide settings (one row).

use diesel::prelude::*;

use super::Conn;
use super::schema::dev_center_settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = dev_center_settings, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct DevCenterSettings {
    /// The longest a credential may live, in days; `None`: no limit.
    pub max_lifetime_days: Option<i32>,
}

impl DevCenterSettings {
    pub fn get(conn: &mut Conn) -> QueryResult<DevCenterSettings> {
        dev_center_settings::table
            .find(1)
            .select(DevCenterSettings::as_select())
            .first(conn)
    }

    pub fn set(conn: &mut Conn, settings: DevCenterSettings) -> QueryResult<()> {
        diesel::update(dev_center_settings::table.find(1))
            .set(dev_center_settings::max_lifetime_days.eq(settings.max_lifetime_days))
            .execute(conn)
            .map(drop)
    }

    /// The longest lifetime as the expiry rule takes it.
    pub fn max_lifetime(self) -> Option<u32> {
        self.max_lifetime_days.and_then(|d| u32::try_from(d).ok())
    }
}
