//! Secrets the server makes for itself once and keeps in its database.

use diesel::prelude::*;
use secrecy::SecretSlice;

use super::Conn;
use super::schema::server_secrets;

/// The secret called `name`, made by `make` on first use and the same ever after; held in
/// `secrecy`'s type, so it is never printed.
pub fn get_or_create(
    conn: &mut Conn,
    name: &str,
    make: impl FnOnce() -> Vec<u8>,
) -> QueryResult<SecretSlice<u8>> {
    super::write(conn, |conn| {
        let existing = server_secrets::table
            .find(name)
            .select(server_secrets::value)
            .first::<Vec<u8>>(conn)
            .optional()?;
        if let Some(value) = existing {
            return Ok(value.into());
        }
        let value = make();
        diesel::insert_into(server_secrets::table)
            .values((
                server_secrets::name.eq(name),
                server_secrets::value.eq(&value),
            ))
            .execute(conn)?;
        Ok(value.into())
    })
}
