//! The Harvest endpoint catalogue, seeded by a migration from the Harvest documentation.

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
}

impl Endpoint {
    /// The endpoint's stable identifier, `METHOD path`, as forms submit it.
    pub fn identifier(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }

    /// Every endpoint, in catalogue order.
    pub fn all(conn: &mut Conn) -> QueryResult<Vec<Endpoint>> {
        endpoints::table
            .order(endpoints::id)
            .select(Endpoint::as_select())
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
