//! The Harvest endpoint catalogues, seeded by migrations from the Harvest documentation:
//! v1/v2 endpoints, granted one by one to keys, and v3 endpoints, each opened by a scope.

use diesel::prelude::*;

use crate::rules::words::{EndpointMethod, ProductWord};

use super::Conn;
use super::schema::endpoints;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = endpoints, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Endpoint {
    pub id: i32,
    pub resource: String,
    pub method: EndpointMethod,
    pub name: String,
    pub path: String,
    /// Whether clients may leave out the path's last segment (`GET /v1/custom_fields`).
    pub last_segment_optional: bool,
    /// The v3 scope that opens the endpoint; `None` for v1/v2 endpoints.
    pub scope: Option<String>,
}

impl Endpoint {
    /// The endpoint's stable identifier, `METHOD path`, as forms submit it.
    pub fn identifier(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }

    /// Every endpoint of both catalogues, in catalogue order: what the gate routes.
    pub fn all(conn: &mut Conn) -> QueryResult<Vec<Endpoint>> {
        endpoints::table
            .order(endpoints::id)
            .select(Endpoint::as_select())
            .load(conn)
    }

    /// The v1/v2 endpoints, granted to Harvest keys one by one, in catalogue order.
    pub fn harvest(conn: &mut Conn) -> QueryResult<Vec<Endpoint>> {
        endpoints::table
            .filter(endpoints::scope.is_null())
            .order(endpoints::id)
            .select(Endpoint::as_select())
            .load(conn)
    }

    /// The v3 endpoints, each with its scope, in catalogue order.
    pub fn v3(conn: &mut Conn) -> QueryResult<Vec<Endpoint>> {
        endpoints::table
            .filter(endpoints::scope.is_not_null())
            .order(endpoints::id)
            .select(Endpoint::as_select())
            .load(conn)
    }

    /// The ids of the v3 endpoints `scopes` open.
    pub fn ids_of_scopes(conn: &mut Conn, scopes: &[&str]) -> QueryResult<Vec<i32>> {
        endpoints::table
            .filter(endpoints::scope.eq_any(scopes))
            .select(endpoints::id)
            .load(conn)
    }

    /// The `METHOD path` identifiers of `ids`, in catalogue order.
    pub fn identifiers_of(conn: &mut Conn, ids: &[i32]) -> QueryResult<Vec<String>> {
        Ok(endpoints::table
            .filter(endpoints::id.eq_any(ids))
            .order(endpoints::id)
            .select(Endpoint::as_select())
            .load(conn)?
            .iter()
            .map(Endpoint::identifier)
            .collect())
    }
}
