//! Client applications: the partner integrations a key can be made for, with the Harvest
//! endpoints each one needs and the v3 scopes each one asks for.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{client_application_endpoints, client_application_scopes, client_applications};
use super::{Conn, on_backend};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = client_applications, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ClientApplication {
    pub id: i32,
    pub name: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    /// Where its OAuth client may send people back: one exact URI per line.
    pub redirect_uris: String,
}

impl ClientApplication {
    pub fn find(conn: &mut Conn, id: i32) -> QueryResult<Option<ClientApplication>> {
        client_applications::table
            .find(id)
            .select(ClientApplication::as_select())
            .first(conn)
            .optional()
    }

    /// Every client application, by name.
    pub fn all(conn: &mut Conn) -> QueryResult<Vec<ClientApplication>> {
        client_applications::table
            .order(client_applications::name)
            .select(ClientApplication::as_select())
            .load(conn)
    }

    pub fn insert(
        conn: &mut Conn,
        name: &str,
        created_by: i32,
        at: NaiveDateTime,
    ) -> QueryResult<i32> {
        diesel::insert_into(client_applications::table)
            .values((
                client_applications::name.eq(name),
                client_applications::created_by.eq(created_by),
                client_applications::created_at.eq(at),
            ))
            .returning(client_applications::id)
            .get_result(conn)
    }

    pub fn set_active(conn: &mut Conn, id: i32, active: bool) -> QueryResult<()> {
        diesel::update(client_applications::table.find(id))
            .set(client_applications::active.eq(active))
            .execute(conn)
            .map(drop)
    }

    pub fn preset_endpoint_ids(conn: &mut Conn, id: i32) -> QueryResult<Vec<i32>> {
        client_application_endpoints::table
            .filter(client_application_endpoints::client_application_id.eq(id))
            .order(client_application_endpoints::endpoint_id)
            .select(client_application_endpoints::endpoint_id)
            .load(conn)
    }

    /// (client application id, endpoint id) for every preset, for listing.
    pub fn all_presets(conn: &mut Conn) -> QueryResult<Vec<(i32, i32)>> {
        client_application_endpoints::table
            .order((
                client_application_endpoints::client_application_id,
                client_application_endpoints::endpoint_id,
            ))
            .load(conn)
    }

    pub fn set_presets(conn: &mut Conn, id: i32, endpoint_ids: &[i32]) -> QueryResult<()> {
        let rows: Vec<_> = endpoint_ids
            .iter()
            .map(|e| {
                (
                    client_application_endpoints::client_application_id.eq(id),
                    client_application_endpoints::endpoint_id.eq(e),
                )
            })
            .collect();
        on_backend!(conn, |conn| {
            diesel::insert_into(client_application_endpoints::table)
                .values(&rows)
                .execute(conn)
        })
        .map(drop)
    }

    /// The v3 scopes the client application asks for, by name.
    pub fn preset_scopes(conn: &mut Conn, id: i32) -> QueryResult<Vec<String>> {
        client_application_scopes::table
            .filter(client_application_scopes::client_application_id.eq(id))
            .order(client_application_scopes::scope)
            .select(client_application_scopes::scope)
            .load(conn)
    }

    /// (client application id, scope) for every scope asked for, for listing.
    pub fn all_preset_scopes(conn: &mut Conn) -> QueryResult<Vec<(i32, String)>> {
        client_application_scopes::table
            .order((
                client_application_scopes::client_application_id,
                client_application_scopes::scope,
            ))
            .load(conn)
    }

    pub fn set_scopes(conn: &mut Conn, id: i32, scopes: &[String]) -> QueryResult<()> {
        let rows: Vec<_> = scopes
            .iter()
            .map(|scope| {
                (
                    client_application_scopes::client_application_id.eq(id),
                    client_application_scopes::scope.eq(scope),
                )
            })
            .collect();
        on_backend!(conn, |conn| {
            diesel::insert_into(client_application_scopes::table)
                .values(&rows)
                .execute(conn)
        })
        .map(drop)
    }

    /// Replaces the scopes the client application asks for with exactly `scopes`.
    pub fn replace_scopes(conn: &mut Conn, id: i32, scopes: &[String]) -> QueryResult<()> {
        diesel::delete(
            client_application_scopes::table
                .filter(client_application_scopes::client_application_id.eq(id)),
        )
        .execute(conn)?;
        Self::set_scopes(conn, id, scopes)
    }

    /// `redirect_uris`: the canonical text of `RedirectUris`.
    pub fn set_redirect_uris(conn: &mut Conn, id: i32, redirect_uris: &str) -> QueryResult<()> {
        diesel::update(client_applications::table.find(id))
            .set(client_applications::redirect_uris.eq(redirect_uris))
            .execute(conn)
            .map(drop)
    }
}
