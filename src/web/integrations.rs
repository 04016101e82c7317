//! Connected Integrations: every authorization people gave a partner's OAuth client, and
//! Disconnect, which stops its tokens on their next request.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db::integrations::IntegrationListing;
use crate::use_cases::integrations as use_cases;

use super::context::{PageContext, Section};
use super::display::{paged_title, when};
use super::error::AppError;
use super::respond::see_other;
use super::urls::INTEGRATIONS;

struct Row {
    id: i32,
    partner: String,
    authorized_by_name: String,
    authorized_by_email: String,
    /// "Service account", or "As <name>".
    acting: String,
    scopes: Vec<String>,
    created_at: String,
    last_used: Option<String>,
    connected: bool,
}

impl From<IntegrationListing> for Row {
    fn from(i: IntegrationListing) -> Row {
        Row {
            id: i.id,
            acting: if i.service_account {
                "Service account".to_owned()
            } else {
                format!("As {}", i.authorized_by_name)
            },
            partner: i.client_application_name,
            authorized_by_name: i.authorized_by_name,
            authorized_by_email: i.authorized_by_email,
            scopes: i
                .scopes
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            created_at: when(i.created_at),
            last_used: i.last_used_at.map(when),
            connected: i.disconnected_at.is_none(),
        }
    }
}

#[derive(Template)]
#[template(path = "integrations.html")]
struct IntegrationsPage {
    rows: Vec<Row>,
    page: i64,
    pages: i64,
    total: i64,
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

pub async fn list(
    ctx: PageContext,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let requested = query.page.unwrap_or(1);
    let paged = ctx
        .read(move |conn, viewer| use_cases::list(conn, viewer, requested))
        .await?;
    let page = IntegrationsPage {
        rows: paged.items.into_iter().map(Row::from).collect(),
        page: paged.page,
        pages: paged.pages,
        total: paged.total,
    };
    let title = paged_title("Connected Integrations", page.page, page.pages);
    ctx.render(&title, Section::DevCenter, &page)
}

#[derive(Template)]
#[template(path = "disconnect.html")]
struct DisconnectDialog {
    csrf_token: String,
    row: Row,
}

pub async fn disconnect_confirm(
    ctx: PageContext,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let row = Row::from(
        ctx.read(move |conn, viewer| use_cases::find(conn, viewer, id))
            .await?,
    );
    if !row.connected {
        ctx.flash(format!("“{}” is already disconnected.", row.partner));
        return Ok(see_other(INTEGRATIONS));
    }
    let dialog = DisconnectDialog {
        csrf_token: ctx.csrf_token(),
        row,
    };
    ctx.render("Disconnect integration", Section::DevCenter, &dialog)
}

/// Through `ctx.write`: the committed changes reach the gate, so the integration's tokens
/// stop on their next request.
pub async fn disconnect(ctx: PageContext, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let partner = ctx
        .write(move |conn, viewer| use_cases::disconnect(conn, viewer, id))
        .await?;
    tracing::info!(integration_id = id, "integration disconnected");
    ctx.flash(format!(
        "Disconnected “{partner}”. Its tokens no longer work."
    ));
    Ok(see_other(INTEGRATIONS))
}
