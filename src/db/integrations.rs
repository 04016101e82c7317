//! Partner integrations (OAuth authorization code): each authorization a person gave a
//! client application's OAuth client, its one-minute codes, and its token families with
//! their refresh tokens. Codes and refresh tokens are kept as BLAKE3 hashes only.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    authorization_codes, client_applications, credentials, integrations, refresh_tokens,
    token_families, users,
};
use super::{Conn, now};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = integrations, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Integration {
    pub id: i32,
    /// The partner's OAuth client.
    pub credential_id: i32,
    pub authorized_by: i32,
    pub service_account: bool,
    /// The scopes consented to, space separated.
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub disconnected_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = integrations)]
pub struct NewIntegration<'a> {
    pub credential_id: i32,
    pub authorized_by: i32,
    pub service_account: bool,
    pub scopes: &'a str,
    pub created_at: NaiveDateTime,
}

/// One row of the Connected Integrations page.
#[derive(Debug, Clone, Queryable)]
pub struct IntegrationListing {
    pub id: i32,
    pub client_application_name: String,
    pub authorized_by_name: String,
    pub authorized_by_email: String,
    pub service_account: bool,
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub disconnected_at: Option<NaiveDateTime>,
}

/// Integrations with their partner's and authorizer's names, as `IntegrationListing` reads
/// them (a macro: the query's type is unnameable).
macro_rules! listed {
    () => {
        integrations::table
            .inner_join(credentials::table.inner_join(client_applications::table))
            .inner_join(users::table.on(users::id.eq(integrations::authorized_by)))
            .select((
                integrations::id,
                client_applications::name,
                users::name,
                users::email,
                integrations::service_account,
                integrations::scopes,
                integrations::created_at,
                integrations::last_used_at,
                integrations::disconnected_at,
            ))
    };
}

impl Integration {
    pub fn insert(conn: &mut Conn, new: &NewIntegration<'_>) -> QueryResult<i32> {
        diesel::insert_into(integrations::table)
            .values(new)
            .returning(integrations::id)
            .get_result(conn)
    }

    pub fn find(conn: &mut Conn, id: i32) -> QueryResult<Option<Integration>> {
        integrations::table
            .find(id)
            .select(Integration::as_select())
            .first(conn)
            .optional()
    }

    pub fn count(conn: &mut Conn) -> QueryResult<i64> {
        integrations::table.count().get_result(conn)
    }

    /// A page of every integration, newest first.
    pub fn list(conn: &mut Conn, limit: i64, offset: i64) -> QueryResult<Vec<IntegrationListing>> {
        listed!()
            .order((integrations::created_at.desc(), integrations::id.desc()))
            .limit(limit)
            .offset(offset)
            .load(conn)
    }

    /// One integration as the Connected Integrations page shows it.
    pub fn listing(conn: &mut Conn, id: i32) -> QueryResult<Option<IntegrationListing>> {
        listed!()
            .filter(integrations::id.eq(id))
            .first(conn)
            .optional()
    }

    /// Every connected integration, for the gate.
    pub fn all_connected(conn: &mut Conn) -> QueryResult<Vec<Integration>> {
        integrations::table
            .filter(integrations::disconnected_at.is_null())
            .select(Integration::as_select())
            .load(conn)
    }

    /// Ends the integration; false when it already was.
    pub fn disconnect(
        conn: &mut Conn,
        id: i32,
        by: Option<i32>,
        at: NaiveDateTime,
    ) -> QueryResult<bool> {
        diesel::update(
            integrations::table.filter(
                integrations::id
                    .eq(id)
                    .and(integrations::disconnected_at.is_null()),
            ),
        )
        .set((
            integrations::disconnected_at.eq(at),
            integrations::disconnected_by.eq(by),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// The connected integrations a user authorized as themselves.
    pub fn connected_as_user(conn: &mut Conn, user_id: i32) -> QueryResult<Vec<Integration>> {
        integrations::table
            .filter(integrations::authorized_by.eq(user_id))
            .filter(integrations::service_account.eq(false))
            .filter(integrations::disconnected_at.is_null())
            .select(Integration::as_select())
            .load(conn)
    }

    /// Moves the last-used time forward (never back).
    pub fn record_last_use(conn: &mut Conn, id: i32, at: NaiveDateTime) -> QueryResult<()> {
        diesel::update(
            integrations::table.filter(
                integrations::id.eq(id).and(
                    integrations::last_used_at
                        .is_null()
                        .or(integrations::last_used_at.lt(at)),
                ),
            ),
        )
        .set(integrations::last_used_at.eq(at))
        .execute(conn)
        .map(drop)
    }
}

/// A code as stored: what its exchange must match.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = authorization_codes, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct AuthorizationCode {
    pub integration_id: i32,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub family_id: Option<i32>,
}

impl AuthorizationCode {
    pub fn insert(
        conn: &mut Conn,
        hash: &[u8; 32],
        integration_id: i32,
        redirect_uri: &str,
        code_challenge: Option<&str>,
        expires_at: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::insert_into(authorization_codes::table)
            .values((
                authorization_codes::code_hash.eq(hash.as_slice()),
                authorization_codes::integration_id.eq(integration_id),
                authorization_codes::redirect_uri.eq(redirect_uri),
                authorization_codes::code_challenge.eq(code_challenge),
                authorization_codes::expires_at.eq(expires_at),
            ))
            .execute(conn)
            .map(drop)
    }

    pub fn find(conn: &mut Conn, hash: &[u8; 32]) -> QueryResult<Option<AuthorizationCode>> {
        authorization_codes::table
            .find(hash.as_slice())
            .select(AuthorizationCode::as_select())
            .first(conn)
            .optional()
    }

    /// Marks the code used by the exchange that started `family_id`; false when it was
    /// used already (the caller's transaction decides what that means).
    pub fn mark_used(conn: &mut Conn, hash: &[u8; 32], family_id: i32) -> QueryResult<bool> {
        diesel::update(
            authorization_codes::table.filter(
                authorization_codes::code_hash
                    .eq(hash.as_slice())
                    .and(authorization_codes::used_at.is_null()),
            ),
        )
        .set((
            authorization_codes::used_at.eq(now()),
            authorization_codes::family_id.eq(family_id),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = token_families, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct TokenFamily {
    pub id: i32,
    pub integration_id: i32,
    pub revoked_at: Option<NaiveDateTime>,
}

impl TokenFamily {
    pub fn insert(conn: &mut Conn, integration_id: i32) -> QueryResult<i32> {
        diesel::insert_into(token_families::table)
            .values((
                token_families::integration_id.eq(integration_id),
                token_families::created_at.eq(now()),
            ))
            .returning(token_families::id)
            .get_result(conn)
    }

    pub fn find(conn: &mut Conn, id: i32) -> QueryResult<Option<TokenFamily>> {
        token_families::table
            .find(id)
            .select(TokenFamily::as_select())
            .first(conn)
            .optional()
    }

    /// Revokes the family; false when it already was.
    pub fn revoke(conn: &mut Conn, id: i32, at: NaiveDateTime) -> QueryResult<bool> {
        diesel::update(
            token_families::table.filter(
                token_families::id
                    .eq(id)
                    .and(token_families::revoked_at.is_null()),
            ),
        )
        .set(token_families::revoked_at.eq(at))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Revokes every family of an integration; returns their ids.
    pub fn revoke_all_of(
        conn: &mut Conn,
        integration_id: i32,
        at: NaiveDateTime,
    ) -> QueryResult<Vec<i32>> {
        diesel::update(
            token_families::table.filter(
                token_families::integration_id
                    .eq(integration_id)
                    .and(token_families::revoked_at.is_null()),
            ),
        )
        .set(token_families::revoked_at.eq(at))
        .returning(token_families::id)
        .get_results(conn)
    }

    /// Families revoked since `since`: their access tokens may still be unexpired.
    pub fn revoked_since(conn: &mut Conn, since: NaiveDateTime) -> QueryResult<Vec<i32>> {
        token_families::table
            .filter(token_families::revoked_at.gt(since))
            .select(token_families::id)
            .load(conn)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct RefreshToken {
    pub family_id: i32,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

impl RefreshToken {
    pub fn insert(
        conn: &mut Conn,
        hash: &[u8; 32],
        family_id: i32,
        expires_at: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::insert_into(refresh_tokens::table)
            .values((
                refresh_tokens::token_hash.eq(hash.as_slice()),
                refresh_tokens::family_id.eq(family_id),
                refresh_tokens::issued_at.eq(now()),
                refresh_tokens::expires_at.eq(expires_at),
            ))
            .execute(conn)
            .map(drop)
    }

    pub fn find(conn: &mut Conn, hash: &[u8; 32]) -> QueryResult<Option<RefreshToken>> {
        refresh_tokens::table
            .find(hash.as_slice())
            .select(RefreshToken::as_select())
            .first(conn)
            .optional()
    }

    /// Marks the token used; false when it was used already.
    pub fn mark_used(conn: &mut Conn, hash: &[u8; 32]) -> QueryResult<bool> {
        diesel::update(
            refresh_tokens::table.filter(
                refresh_tokens::token_hash
                    .eq(hash.as_slice())
                    .and(refresh_tokens::used_at.is_null()),
            ),
        )
        .set(refresh_tokens::used_at.eq(now()))
        .execute(conn)
        .map(|n| n == 1)
    }
}
