//! The audit log page: newest first, filtered by actor, action, date range or one object,
//! and the same filtered view as CSV.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db::audit::AuditEvent;
use crate::rules::text::FieldErrors;
use crate::rules::words::ProductWord;
use crate::use_cases::audit::{self as use_cases, AuditAction, Filter, FilterRequest, ObjectKind};

use super::context::{PageContext, Section};
use super::display::{paged_title, when_exactly};
use super::error::AppError;
use super::forms::Choice;

/// The page's query: the filters and the page number.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    user: String,
    page: Option<i64>,
}

impl AuditQuery {
    fn request(&self) -> FilterRequest {
        FilterRequest {
            actor: self.actor.clone(),
            action: self.action.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            credential: self.credential.clone(),
            user: self.user.clone(),
        }
    }

    /// The filters as a query string (without the page), for paging and the export.
    fn filters(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("actor", &self.actor),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
            ("credential", &self.credential),
            ("user", &self.user),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k, v.trim()))
        .collect();
        serde_html_form::to_string(pairs).unwrap_or_default()
    }
}

struct Row {
    at: String,
    actor: String,
    /// The actor's e-mail in parentheses, in two parts: a narrow card breaks it after
    /// the `@`, never before its `)`.
    actor_contact: Option<(String, String)>,
    address: Option<String>,
    action: &'static str,
    object: String,
    summary: String,
    credential_id: Option<i32>,
}

impl From<AuditEvent> for Row {
    fn from(event: AuditEvent) -> Self {
        let kind = event.object_type;
        Row {
            at: when_exactly(event.occurred_at),
            actor_contact: event
                .actor_name
                .rsplit_once(" (")
                .filter(|(_, contact)| contact.ends_with(')'))
                .map(|(_, contact)| match contact.split_once('@') {
                    Some((name, domain)) => (format!("({name}@"), domain.to_owned()),
                    None => (format!("({contact}"), String::new()),
                }),
            actor: match event.actor_name.rsplit_once(" (") {
                Some((name, contact)) if contact.ends_with(')') => name.to_owned(),
                _ => event.actor_name,
            },
            address: event.actor_address,
            action: event.action.label(),
            object: format!("{}: {}", kind.label(), event.object_label),
            credential_id: event.object_id.filter(|_| kind == ObjectKind::Credential),
            summary: event.summary,
        }
    }
}

#[derive(Template)]
#[template(path = "audit_log.html")]
struct AuditLogPage {
    rows: Vec<Row>,
    actors: Vec<Choice>,
    actions: Vec<Choice>,
    from: String,
    to: String,
    credential: String,
    user: String,
    filtered: bool,
    filters: String,
    errors: FieldErrors,
    page: i64,
    pages: i64,
    total: i64,
}

pub async fn page(
    ctx: PageContext,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let (filter, errors) = match Filter::parse(&query.request()) {
        Ok(filter) => (Some(filter), FieldErrors::default()),
        Err(errors) => (None, errors),
    };
    let requested = query.page.unwrap_or(1);
    let (actors, paged) = ctx
        .read(move |conn, viewer| {
            let actors = use_cases::actors(conn, viewer)?;
            let paged = match &filter {
                Some(filter) => Some(use_cases::page(conn, viewer, filter, requested)?),
                None => None,
            };
            Ok((actors, paged))
        })
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (rows, page, pages, total) = match paged {
        Some(p) => (
            p.items.into_iter().map(Row::from).collect(),
            p.page,
            p.pages,
            p.total,
        ),
        None => (Vec::new(), 1, 1, 0),
    };
    let body = AuditLogPage {
        rows,
        actors: actors
            .into_iter()
            .map(|(id, name)| Choice {
                selected: id.to_string() == query.actor.trim(),
                value: id.to_string(),
                label: name,
            })
            .collect(),
        actions: Choice::words(|a: AuditAction| a.as_str() == query.action.trim()),
        filtered: !query.filters().is_empty(),
        filters: query.filters(),
        from: query.from,
        to: query.to,
        credential: query.credential,
        user: query.user,
        errors,
        page,
        pages,
        total,
    };
    let title = paged_title("Audit Log", body.page, body.pages);
    ctx.render_status(status, &title, Section::AuditLog, &body)
}

/// The filtered view as CSV, every matching event, newest first.
pub async fn export(
    ctx: PageContext,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let filter =
        Filter::parse(&query.request()).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let events = ctx
        .read(move |conn, viewer| use_cases::export(conn, viewer, &filter))
        .await?;
    let csv = to_csv(&events).map_err(AppError::Internal)?;
    let filename = format!(
        "audit_log-{}.csv",
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    );
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(csv))
}

/// Spreadsheets run cells that start with these as formulas; a leading quote keeps the
/// text as typed (a description is free text a person entered).
fn neutralised(cell: &str) -> String {
    // Spreadsheets skip invisible format characters (a byte-order mark, zero-width
    // spaces) before they look for a formula: so does this guard.
    let visible = cell.trim_start_matches(|c: char| {
        crate::rules::text::is_invisible(c) || c.is_whitespace() && c != '\t' && c != '\r'
    });
    if visible.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

fn to_csv(events: &[AuditEvent]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "time_utc",
        "actor",
        "actor_user_id",
        "actor_address",
        "action",
        "object_type",
        "object_id",
        "object",
        "summary",
        "details",
    ])?;
    for event in events {
        writer.write_record([
            event.occurred_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            neutralised(&event.actor_name),
            event.actor_id.map(|id| id.to_string()).unwrap_or_default(),
            event.actor_address.clone().unwrap_or_default(),
            event.action.as_str().to_owned(),
            event.object_type.as_str().to_owned(),
            event.object_id.map(|id| id.to_string()).unwrap_or_default(),
            neutralised(&event.object_label),
            neutralised(&event.summary),
            event.details.clone(),
        ])?;
    }
    writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod csv_tests {
    use super::neutralised;

    #[test]
    fn formulas_are_neutralised_behind_invisible_characters_too() {
        for formula in [
            "=1+1",
            "+1",
            "-1",
            "@SUM(A1)",
            "\u{FEFF}=HYPERLINK(\"x\")",
            "\u{200B}\u{200B}=1",
            " =1",
        ] {
            assert!(neutralised(formula).starts_with('\''), "{formula:?}");
        }
        assert_eq!(neutralised("Payroll sync"), "Payroll sync");
    }
}
