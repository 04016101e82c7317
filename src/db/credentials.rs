//! Credentials (API keys, stored as hashes) and their endpoint grants.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::rules::words::ApiType;

use super::schema::{client_applications, credential_endpoints, credentials, users};
use super::{Conn, on_backend};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = credentials, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Credential {
    pub id: i32,
    pub description: String,
    pub api_type: ApiType,
    pub client_application_id: Option<i32>,
    pub key_prefix: String,
    pub key_last4: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = credentials)]
pub struct NewCredential<'a> {
    pub description: &'a str,
    pub api_type: ApiType,
    pub client_application_id: Option<i32>,
    pub key_hash: &'a [u8],
    pub key_prefix: &'a str,
    pub key_last4: &'a str,
    pub created_by: i32,
    pub created_at: NaiveDateTime,
}

/// One row of the API Credential Management table.
#[derive(Debug, Clone, Queryable)]
pub struct CredentialListing {
    pub id: i32,
    pub description: String,
    pub api_type: ApiType,
    pub client_application_name: Option<String>,
    pub key_prefix: String,
    pub key_last4: String,
    pub created_by_name: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
}

impl Credential {
    pub fn find(conn: &mut Conn, id: i32) -> QueryResult<Option<Credential>> {
        credentials::table
            .find(id)
            .select(Credential::as_select())
            .first(conn)
            .optional()
    }

    pub fn insert(conn: &mut Conn, new: &NewCredential<'_>) -> QueryResult<i32> {
        diesel::insert_into(credentials::table)
            .values(new)
            .returning(credentials::id)
            .get_result(conn)
    }

    pub fn count_of_types(conn: &mut Conn, api_types: &[ApiType]) -> QueryResult<i64> {
        credentials::table
            .filter(credentials::api_type.eq_any(api_types))
            .count()
            .get_result(conn)
    }

    /// A page of the keys of `api_types`, newest first.
    pub fn list_of_types(
        conn: &mut Conn,
        api_types: &[ApiType],
        limit: i64,
        offset: i64,
    ) -> QueryResult<Vec<CredentialListing>> {
        credentials::table
            .inner_join(users::table.on(users::id.eq(credentials::created_by)))
            .left_join(client_applications::table)
            .filter(credentials::api_type.eq_any(api_types))
            .order((credentials::created_at.desc(), credentials::id.desc()))
            .limit(limit)
            .offset(offset)
            .select((
                credentials::id,
                credentials::description,
                credentials::api_type,
                client_applications::name.nullable(),
                credentials::key_prefix,
                credentials::key_last4,
                users::name,
                credentials::created_at,
                credentials::revoked_at,
                credentials::last_used_at,
            ))
            .load(conn)
    }

    /// Marks a live key revoked; false when it already was.
    pub fn revoke(conn: &mut Conn, id: i32, by: i32, at: NaiveDateTime) -> QueryResult<bool> {
        diesel::update(
            credentials::table.filter(
                credentials::id
                    .eq(id)
                    .and(credentials::revoked_at.is_null()),
            ),
        )
        .set((
            credentials::revoked_at.eq(at),
            credentials::revoked_by.eq(by),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// The keys made for a client application.
    pub fn ids_for_client_application(
        conn: &mut Conn,
        client_application_id: i32,
    ) -> QueryResult<Vec<i32>> {
        credentials::table
            .filter(credentials::client_application_id.eq(client_application_id))
            .select(credentials::id)
            .load(conn)
    }

    pub fn granted_endpoint_ids(conn: &mut Conn, id: i32) -> QueryResult<Vec<i32>> {
        credential_endpoints::table
            .filter(credential_endpoints::credential_id.eq(id))
            .select(credential_endpoints::endpoint_id)
            .load(conn)
    }

    /// Makes `endpoint_ids` the key's whole grant set (call inside a transaction).
    pub fn replace_grants(conn: &mut Conn, id: i32, endpoint_ids: &[i32]) -> QueryResult<()> {
        diesel::delete(
            credential_endpoints::table.filter(credential_endpoints::credential_id.eq(id)),
        )
        .execute(conn)?;
        let rows: Vec<_> = endpoint_ids
            .iter()
            .map(|e| {
                (
                    credential_endpoints::credential_id.eq(id),
                    credential_endpoints::endpoint_id.eq(e),
                )
            })
            .collect();
        on_backend!(conn, |conn| {
            diesel::insert_into(credential_endpoints::table)
                .values(&rows)
                .execute(conn)
        })
        .map(drop)
    }
}

/// What the gate needs of a key to check it.
#[derive(Debug, Clone, Queryable)]
pub struct KeyRecord {
    pub id: i32,
    pub api_type: ApiType,
    pub key_hash: Vec<u8>,
    pub client_application_id: Option<i32>,
    pub revoked_at: Option<NaiveDateTime>,
}

type KeyRecordColumns = (
    credentials::id,
    credentials::api_type,
    credentials::key_hash,
    credentials::client_application_id,
    credentials::revoked_at,
);

const KEY_RECORD: KeyRecordColumns = (
    credentials::id,
    credentials::api_type,
    credentials::key_hash,
    credentials::client_application_id,
    credentials::revoked_at,
);

impl KeyRecord {
    pub fn find(conn: &mut Conn, id: i32) -> QueryResult<Option<KeyRecord>> {
        credentials::table
            .find(id)
            .select(KEY_RECORD)
            .first(conn)
            .optional()
    }

    /// Every key that has not been revoked.
    pub fn all_live(conn: &mut Conn) -> QueryResult<Vec<KeyRecord>> {
        credentials::table
            .filter(credentials::revoked_at.is_null())
            .select(KEY_RECORD)
            .load(conn)
    }

    /// (credential id, endpoint id) for every grant of a live key.
    pub fn all_live_grants(conn: &mut Conn) -> QueryResult<Vec<(i32, i32)>> {
        credential_endpoints::table
            .inner_join(credentials::table)
            .filter(credentials::revoked_at.is_null())
            .select((
                credential_endpoints::credential_id,
                credential_endpoints::endpoint_id,
            ))
            .load(conn)
    }
}
