//! The audit log's rows: appended in the transaction of the change they record, never
//! updated or deleted (triggers refuse both).

use super::MultiBackend;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::rules::words::{AuditAction, ObjectKind};

use super::Conn;
use super::schema::audit_events;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct AuditEvent {
    pub id: i32,
    pub occurred_at: NaiveDateTime,
    pub actor_id: Option<i32>,
    pub actor_name: String,
    pub actor_address: Option<String>,
    pub action: AuditAction,
    pub object_type: ObjectKind,
    pub object_id: Option<i32>,
    pub object_label: String,
    pub summary: String,
    pub details: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent<'a> {
    pub occurred_at: NaiveDateTime,
    pub actor_id: Option<i32>,
    pub actor_name: &'a str,
    pub actor_address: Option<&'a str>,
    pub action: AuditAction,
    pub object_type: ObjectKind,
    pub object_id: Option<i32>,
    pub object_label: &'a str,
    pub summary: &'a str,
    pub details: &'a str,
}

/// Which events to read; every field narrows, `None` does not.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub actor_id: Option<i32>,
    pub action: Option<AuditAction>,
    /// Inclusive.
    pub since: Option<NaiveDateTime>,
    /// Exclusive.
    pub before: Option<NaiveDateTime>,
    pub object: Option<(ObjectKind, i32)>,
}

impl EventFilter {
    fn query(&self) -> audit_events::BoxedQuery<'static, MultiBackend> {
        let mut query = audit_events::table.into_boxed();
        if let Some(actor) = self.actor_id {
            query = query.filter(audit_events::actor_id.eq(actor));
        }
        if let Some(action) = self.action {
            query = query.filter(audit_events::action.eq(action));
        }
        if let Some(since) = self.since {
            query = query.filter(audit_events::occurred_at.ge(since));
        }
        if let Some(before) = self.before {
            query = query.filter(audit_events::occurred_at.lt(before));
        }
        if let Some((object_type, object_id)) = self.object {
            query = query.filter(
                audit_events::object_type
                    .eq(object_type)
                    .and(audit_events::object_id.eq(object_id)),
            );
        }
        query
    }
}

impl AuditEvent {
    pub fn insert(conn: &mut Conn, new: &NewAuditEvent<'_>) -> QueryResult<()> {
        diesel::insert_into(audit_events::table)
            .values(new)
            .execute(conn)
            .map(drop)
    }

    pub fn count(conn: &mut Conn, filter: &EventFilter) -> QueryResult<i64> {
        filter.query().count().get_result(conn)
    }

    /// Matching events, newest first; `limit` `None` reads them all (for the export).
    pub fn list(
        conn: &mut Conn,
        filter: &EventFilter,
        limit: Option<i64>,
        offset: i64,
    ) -> QueryResult<Vec<AuditEvent>> {
        let query = filter
            .query()
            .order((audit_events::occurred_at.desc(), audit_events::id.desc()))
            .select(AuditEvent::as_select());
        match limit {
            Some(limit) => query.limit(limit).offset(offset).load(conn),
            None => query.load(conn),
        }
    }
}
