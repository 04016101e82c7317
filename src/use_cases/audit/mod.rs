//! The audit log: who changed which key, client application or user, when, and from where.
//! Use cases call `record` inside the transaction of the change itself, so the log holds
//! an event exactly when the change happened. It never holds a key: descriptions, prefixes
//! and endpoint identifiers only.

use chrono::{Days, NaiveDate, NaiveDateTime};

use crate::db::audit::{AuditEvent, EventFilter, NewAuditEvent};
use crate::db::users::User;
use crate::db::{self, Conn};

mod events;

pub use events::user_label;

use super::Failure;
use crate::rules::access::{Action, Viewer};
use crate::rules::paging::Paged;
use crate::rules::text::FieldErrors;
use crate::rules::words::ProductWord;
pub use crate::rules::words::{AuditAction, ObjectKind};

/// Who did it.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// A signed-in person, from the address their request came from.
    Person(&'a Viewer),
    /// Dev Center itself or its operator: the first start, the command line.
    System(&'static str),
    /// Someone not signed in (e.g. attempts to sign in), known only by address.
    Anonymous { address: Option<&'a str> },
}

impl Actor<'_> {
    fn id(&self) -> Option<i32> {
        match self {
            Actor::Person(viewer) => Some(viewer.id),
            _ => None,
        }
    }

    fn name(&self) -> String {
        match self {
            Actor::Person(viewer) => format!("{} ({})", viewer.name, viewer.email),
            Actor::System(what) => (*what).to_owned(),
            Actor::Anonymous { .. } => "Not signed in".to_owned(),
        }
    }

    /// Who did it, as a web hook's payload names them (never an address).
    pub fn described(&self) -> serde_json::Value {
        match self {
            Actor::Person(viewer) => serde_json::json!({
                "kind": "person",
                "id": viewer.id,
                "name": viewer.name,
                "email": viewer.email,
            }),
            Actor::System(what) => serde_json::json!({ "kind": "system", "name": what }),
            Actor::Anonymous { .. } => serde_json::json!({ "kind": "anonymous" }),
        }
    }

    fn address(&self) -> Option<&str> {
        match self {
            Actor::Person(viewer) => viewer.address.as_deref(),
            Actor::System(_) => None,
            Actor::Anonymous { address } => *address,
        }
    }
}

/// What happened, to which object.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: AuditAction,
    pub object: ObjectKind,
    pub object_id: Option<i32>,
    /// The object as a person would name it then: a key's description, a user's e-mail.
    pub object_label: String,
    /// One sentence for people.
    pub summary: String,
    /// The same facts for machines (the export).
    pub details: serde_json::Value,
}

/// Appends an event, and its web hook deliveries when hooks subscribe to it. Call it inside
/// the transaction that makes the change: the change, its audit event and its deliveries
/// are committed together or not at all.
pub fn record(conn: &mut Conn, actor: &Actor<'_>, event: &Event) -> Result<(), Failure> {
    super::web_hooks::enqueue(conn, actor, event)?;
    let details = serde_json::to_string(&event.details)
        .map_err(|e| Failure::Internal(anyhow::anyhow!("cannot encode audit details: {e}")))?;
    AuditEvent::insert(
        conn,
        &NewAuditEvent {
            occurred_at: db::now(),
            actor_id: actor.id(),
            actor_name: &actor.name(),
            actor_address: actor.address(),
            action: event.action,
            object_type: event.object,
            object_id: event.object_id,
            object_label: &event.object_label,
            summary: &event.summary,
            details: &details,
        },
    )?;
    Ok(())
}

/// The filters of the audit log page as submitted (all optional, empty means any).
#[derive(Debug, Clone, Default)]
pub struct FilterRequest {
    pub actor: String,
    pub action: String,
    pub from: String,
    pub to: String,
    pub credential: String,
    pub user: String,
}

/// The audit log's filters, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub actor: Option<i32>,
    pub action: Option<AuditAction>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// One object's history.
    pub object: Option<(ObjectKind, i32)>,
}

impl Filter {
    pub fn parse(request: &FilterRequest) -> Result<Filter, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut id = |field: &'static str, raw: &str, message: &str| -> Option<i32> {
            let raw = raw.trim();
            if raw.is_empty() {
                return None;
            }
            raw.parse().ok().or_else(|| {
                errors.add(field, message);
                None
            })
        };
        let actor = id("actor", &request.actor, "Choose a person from the list.");
        let credential = id("credential", &request.credential, "That is not an API key.");
        let user = id("user", &request.user, "That is not a user.");
        let action = match request.action.trim() {
            "" => None,
            raw => AuditAction::parse(raw).or_else(|| {
                errors.add("action", "Choose an action from the list.");
                None
            }),
        };
        let mut date = |field: &'static str, raw: &str| -> Option<NaiveDate> {
            let raw = raw.trim();
            if raw.is_empty() {
                return None;
            }
            NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().or_else(|| {
                errors.add(field, "Enter a date such as 2026-12-31.");
                None
            })
        };
        let from = date("from", &request.from);
        let to = date("to", &request.to);
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            errors.add("to", "The end date is before the start date.");
        }
        errors.into_result()?;
        let object = match (credential, user) {
            (Some(id), _) => Some((ObjectKind::Credential, id)),
            (None, Some(id)) => Some((ObjectKind::User, id)),
            (None, None) => None,
        };
        Ok(Filter {
            actor,
            action,
            from,
            to,
            object,
        })
    }

    fn query(&self) -> EventFilter {
        let midnight = |d: NaiveDate| -> NaiveDateTime { d.and_time(chrono::NaiveTime::MIN) };
        EventFilter {
            actor_id: self.actor,
            action: self.action,
            since: self.from.map(midnight),
            before: self
                .to
                .and_then(|d| d.checked_add_days(Days::new(1)))
                .map(midnight),
            object: self.object,
        }
    }
}

/// One page of the audit log, newest first.
pub fn page(
    conn: &mut Conn,
    viewer: &Viewer,
    filter: &Filter,
    page: i64,
) -> Result<Paged<AuditEvent>, Failure> {
    viewer.require(Action::ReadAuditLog)?;
    let query = filter.query();
    let total = AuditEvent::count(conn, &query)?;
    Ok(Paged::read(page, total, |offset, limit| {
        AuditEvent::list(conn, &query, Some(limit), offset)
    })?)
}

/// Every event the filter matches, newest first, for the CSV export.
pub fn export(
    conn: &mut Conn,
    viewer: &Viewer,
    filter: &Filter,
) -> Result<Vec<AuditEvent>, Failure> {
    viewer.require(Action::ReadAuditLog)?;
    Ok(AuditEvent::list(conn, &filter.query(), None, 0)?)
}

/// The people the actor filter offers: everyone, by name.
pub fn actors(conn: &mut Conn, viewer: &Viewer) -> Result<Vec<(i32, String)>, Failure> {
    viewer.require(Action::ReadAuditLog)?;
    Ok(User::names(conn)?)
}

/// A list of endpoint identifiers or permission labels for a summary sentence.
pub fn listing<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items
        .iter()
        .map(|i| format!("“{}”", i.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_refuse_nonsense() {
        let parsed = Filter::parse(&FilterRequest {
            actor: "3".into(),
            action: "credential_revoked".into(),
            from: "2026-01-01".into(),
            to: "2026-01-31".into(),
            credential: "7".into(),
            user: String::new(),
        })
        .expect("valid filters");
        assert_eq!(parsed.actor, Some(3));
        assert_eq!(parsed.action, Some(AuditAction::CredentialRevoked));
        assert_eq!(parsed.object, Some((ObjectKind::Credential, 7)));
        let query = parsed.query();
        assert_eq!(
            query.before.map(|d| d.to_string()).as_deref(),
            Some("2026-02-01 00:00:00")
        );
        assert_eq!(
            Filter::parse(&FilterRequest::default()),
            Ok(Filter::default())
        );

        let refused = Filter::parse(&FilterRequest {
            actor: "me".into(),
            action: "everything".into(),
            from: "yesterday".into(),
            ..FilterRequest::default()
        })
        .expect_err("nonsense is refused");
        for field in ["actor", "action", "from"] {
            assert!(refused.get(field).is_some(), "{field}");
        }
        let backwards = Filter::parse(&FilterRequest {
            from: "2026-02-01".into(),
            to: "2026-01-01".into(),
            ..FilterRequest::default()
        })
        .expect_err("an end before the start is refused");
        assert!(backwards.get("to").is_some());
    }
}
