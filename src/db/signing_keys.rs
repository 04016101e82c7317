//! The keys that sign OAuth access tokens: each one's public half, its private half sealed
//! (see `crate::oauth::sealing`), and when a newer key retired it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Conn;
use super::schema::signing_keys;

/// A stored key. No `Debug`: the sealed private key is nobody's business in a log, sealed
/// or not.
#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct SigningKeyRow {
    pub kid: String,
    pub public_key: Vec<u8>,
    pub sealed_private_key: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

impl SigningKeyRow {
    pub fn insert(conn: &mut Conn, row: &SigningKeyRow) -> QueryResult<()> {
        diesel::insert_into(signing_keys::table)
            .values(row)
            .execute(conn)
            .map(|_| ())
    }

    /// The key that signs: the newest one not retired.
    pub fn current(conn: &mut Conn) -> QueryResult<Option<SigningKeyRow>> {
        signing_keys::table
            .filter(signing_keys::retired_at.is_null())
            .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
            .select(SigningKeyRow::as_select())
            .first(conn)
            .optional()
    }

    /// The keys tokens may still be verified with: those not retired, and those retired
    /// after `retired_after`. Newest first.
    pub fn published(
        conn: &mut Conn,
        retired_after: NaiveDateTime,
    ) -> QueryResult<Vec<SigningKeyRow>> {
        signing_keys::table
            .filter(
                signing_keys::retired_at
                    .is_null()
                    .or(signing_keys::retired_at.gt(retired_after)),
            )
            .order((signing_keys::created_at.desc(), signing_keys::kid.desc()))
            .select(SigningKeyRow::as_select())
            .load(conn)
    }

    /// Retires every key not yet retired, at `at`; how many it retired.
    pub fn retire_current(conn: &mut Conn, at: NaiveDateTime) -> QueryResult<usize> {
        diesel::update(signing_keys::table.filter(signing_keys::retired_at.is_null()))
            .set(signing_keys::retired_at.eq(at))
            .execute(conn)
    }

    pub fn count(conn: &mut Conn) -> QueryResult<i64> {
        signing_keys::table.count().get_result(conn)
    }
}
