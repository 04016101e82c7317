//! A credential's request log: its most recent requests at the gate, for whoever may
//! manage it, to see what an integration is doing and why calls fail.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db::request_log::StatusClass;
use crate::use_cases::credentials as use_cases;

use super::context::{PageContext, Section};
use super::display::{paged_title, when_exactly};
use super::error::AppError;
use super::urls::{CREDENTIAL_REQUESTS, with_id};

/// `?status=2xx|3xx|4xx|5xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum StatusFilter {
    #[serde(rename = "2xx")]
    Success,
    #[serde(rename = "3xx")]
    Redirection,
    #[serde(rename = "4xx")]
    ClientError,
    #[serde(rename = "5xx")]
    ServerError,
}

impl StatusFilter {
    const ALL: [StatusFilter; 4] = [
        StatusFilter::Success,
        StatusFilter::Redirection,
        StatusFilter::ClientError,
        StatusFilter::ServerError,
    ];

    fn class(self) -> StatusClass {
        StatusClass(match self {
            StatusFilter::Success => 2,
            StatusFilter::Redirection => 3,
            StatusFilter::ClientError => 4,
            StatusFilter::ServerError => 5,
        })
    }

    fn value(self) -> &'static str {
        match self {
            StatusFilter::Success => "2xx",
            StatusFilter::Redirection => "3xx",
            StatusFilter::ClientError => "4xx",
            StatusFilter::ServerError => "5xx",
        }
    }
}

#[derive(Deserialize)]
pub struct LogQuery {
    status: Option<StatusFilter>,
    page: Option<i64>,
}

struct Row {
    at: String,
    method: String,
    path: String,
    status: i32,
    latency: String,
    client_address: String,
    user_agent: String,
}

struct FilterLink {
    label: &'static str,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "credentials/requests.html")]
struct RequestLogPage {
    description: String,
    /// A v3 credential's client ID.
    client_id: Option<String>,
    filters: Vec<FilterLink>,
    status: &'static str,
    rows: Vec<Row>,
    page: i64,
    pages: i64,
    total: i64,
}

pub async fn page(
    ctx: PageContext,
    id: web::Path<i32>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let LogQuery { status, page } = query.into_inner();
    let (credential, paged) = ctx
        .read(move |conn, viewer| {
            use_cases::request_log(
                conn,
                viewer,
                id,
                status.map(StatusFilter::class),
                page.unwrap_or(1),
            )
        })
        .await?;
    let base = with_id(CREDENTIAL_REQUESTS, id);
    let filters = std::iter::once(("All", None))
        .chain(StatusFilter::ALL.map(|f| (f.value(), Some(f))))
        .map(|(label, filter)| FilterLink {
            label,
            href: match filter {
                Some(f) => format!("{base}?status={}", f.value()),
                None => base.clone(),
            },
            current: filter == status,
        })
        .collect();
    let rows = paged
        .items
        .into_iter()
        .map(|r| Row {
            at: when_exactly(r.at),
            method: r.method,
            path: r.path,
            status: r.status,
            latency: format!("{:.1} ms", r.latency_us as f64 / 1000.0),
            client_address: r.client_address,
            user_agent: r.user_agent.unwrap_or_default(),
        })
        .collect();
    let page = RequestLogPage {
        description: credential.description,
        client_id: credential.client_id,
        filters,
        status: status.map_or("", StatusFilter::value),
        rows,
        page: paged.page,
        pages: paged.pages,
        total: paged.total,
    };
    let title = paged_title("Request log", page.page, page.pages);
    ctx.render(&title, Section::DevCenter, &page)
}
