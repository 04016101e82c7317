//! What every signed-in page needs: the viewer (loaded and admitted by the route's guard),
//! the session, whether htmx asked, and the chrome (top bar, left-hand panel) around a page.

use std::sync::{Arc, OnceLock};

use actix_htmx::Htmx;
use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::future::LocalBoxFuture;

use crate::db::{Conn, Pool};
use crate::rules::access::Viewer;
use crate::use_cases::{AfterCommit, Committed, Failure};

use super::error::AppError;
use super::respond::html;
use super::{csrf, database, session};

/// Shared by every worker.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    /// The one step after every commit.
    pub after_commit: Arc<dyn AfterCommit>,
}

impl AppState {
    /// Reads from the database, off the async workers.
    pub async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Conn) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        database::run(&self.pool, work).await
    }

    /// Runs a use case that writes; once it has committed, what it changed goes through
    /// the post-commit step before the answer goes out.
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Conn) -> Result<Committed<T>, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        let after = Arc::clone(&self.after_commit);
        database::run(&self.pool, move |conn| {
            let Committed { value, changes } = work(conn)?;
            if !changes.is_empty() {
                after.after_commit(conn, &changes);
            }
            Ok(value)
        })
        .await
    }
}

/// Which part of Configure a page belongs to, for the left-hand panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Configure,
    DevCenter,
    Users,
    AuditLog,
}

/// The product's own name, at the end of every title.
const PRODUCT: &str = "Dev Center";

/// The organization's name (`--organization`), set once at start. A process-wide value
/// rather than app data because error pages, which have the frame too, are rendered
/// without a request to read app data from.
static ORGANIZATION: OnceLock<String> = OnceLock::new();

/// Names the organization the top bar shows (once, at start).
pub fn name_the_organization(name: Option<&str>) {
    if let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) {
        let _ = ORGANIZATION.set(name.to_owned());
    }
}

/// The frame around a page.
pub struct Chrome {
    pub title: String,
    pub user_name: Option<String>,
    pub csrf_token: String,
    pub section: Option<Section>,
    pub show_users: bool,
    pub show_audit_log: bool,
    pub flash: Option<String>,
}

#[derive(Template)]
#[template(path = "layout.html")]
struct Layout<'a> {
    chrome: &'a Chrome,
    body: &'a str,
}

impl Chrome {
    /// The frame of a page for someone not signed in (the sign-in form).
    pub fn anonymous(title: &str, csrf_token: String) -> Chrome {
        Chrome {
            title: title.to_owned(),
            user_name: None,
            csrf_token,
            section: None,
            show_users: false,
            show_audit_log: false,
            flash: None,
        }
    }

    /// The organization whose Dev Center this is, when named.
    pub fn organization(&self) -> Option<&'static str> {
        ORGANIZATION.get().map(String::as_str)
    }

    /// The top bar's mark: the organization's initials, or the product's.
    pub fn mark(&self) -> String {
        self.organization()
            .unwrap_or(PRODUCT)
            .split_whitespace()
            .filter_map(|word| word.chars().next())
            .take(2)
            .flat_map(char::to_uppercase)
            .collect()
    }

    /// The browser's title: the page's, then the product's, which is not said twice.
    pub fn document_title(&self) -> String {
        if self.title == PRODUCT {
            PRODUCT.to_owned()
        } else {
            format!("{} · {PRODUCT}", self.title)
        }
    }

    pub fn in_dev_center(&self) -> bool {
        self.section == Some(Section::DevCenter)
    }

    pub fn in_users(&self) -> bool {
        self.section == Some(Section::Users)
    }

    pub fn in_audit_log(&self) -> bool {
        self.section == Some(Section::AuditLog)
    }
}

/// A request on a route the table guards: its `Viewer` was admitted before the handler.
pub struct PageContext {
    pub viewer: Viewer,
    pub session: Session,
    pub htmx: Htmx,
    pub state: web::Data<AppState>,
}

impl FromRequest for PageContext {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let viewer = req.extensions().get::<Viewer>().cloned();
        let session = req.get_session();
        let htmx = Htmx::from_request(req, payload).into_inner();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let internal = |what: &str| AppError::Internal(anyhow::anyhow!("{what}"));
            Ok(PageContext {
                viewer: viewer.ok_or_else(|| internal("a page route without its audience"))?,
                htmx: htmx.map_err(|e| internal(&e.to_string()))?,
                state: state.ok_or_else(|| internal("no app state"))?,
                session,
            })
        })
    }
}

impl PageContext {
    /// Reads from the database as the viewer.
    pub async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Conn, &Viewer) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        let viewer = self.viewer.clone();
        self.state.read(move |conn| work(conn, &viewer)).await
    }

    /// Runs a use case that writes, as the viewer (see `AppState::write`).
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Conn, &Viewer) -> Result<Committed<T>, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        let viewer = self.viewer.clone();
        self.state.write(move |conn| work(conn, &viewer)).await
    }

    pub fn csrf_token(&self) -> String {
        csrf::token(&self.session)
    }

    /// A message for the next page this person sees.
    pub fn flash(&self, message: impl Into<String>) {
        session::flash(&self.session, message);
    }

    /// Whether htmx asked for a fragment (boosted navigation gets whole pages).
    pub fn wants_fragment(&self) -> bool {
        self.htmx.is_htmx && !self.htmx.boosted
    }

    /// The page, or only its body when htmx asked for it.
    pub fn render(
        &self,
        title: &str,
        section: Section,
        body: &impl Template,
    ) -> Result<HttpResponse, AppError> {
        self.render_status(StatusCode::OK, title, section, body)
    }

    /// A form shown again with what was refused beside each field (422). The title
    /// starts with "Error: ", so the first thing read of the page says so.
    pub fn render_refused(
        &self,
        title: &str,
        section: Section,
        body: &impl Template,
    ) -> Result<HttpResponse, AppError> {
        let title = format!("Error: {title}");
        self.render_status(StatusCode::UNPROCESSABLE_ENTITY, &title, section, body)
    }

    /// A page of its own, outside Configure (no left-hand panel): the consent page, which
    /// a person reaches from a partner's site.
    pub fn render_standalone(
        &self,
        status: StatusCode,
        title: &str,
        body: &impl Template,
    ) -> Result<HttpResponse, AppError> {
        let body = body.render().map_err(|e| AppError::Internal(e.into()))?;
        let chrome = Chrome {
            title: title.to_owned(),
            user_name: Some(self.viewer.name.clone()),
            csrf_token: self.csrf_token(),
            section: None,
            show_users: false,
            show_audit_log: false,
            flash: session::take_flash(&self.session),
        };
        render_layout(status, &chrome, &body)
    }

    pub fn render_status(
        &self,
        status: StatusCode,
        title: &str,
        section: Section,
        body: &impl Template,
    ) -> Result<HttpResponse, AppError> {
        let body = body.render().map_err(|e| AppError::Internal(e.into()))?;
        if self.wants_fragment() {
            return Ok(html(status, body));
        }
        let chrome = Chrome {
            title: title.to_owned(),
            user_name: Some(self.viewer.name.clone()),
            csrf_token: self.csrf_token(),
            section: Some(section),
            show_users: self.viewer.offers().users,
            show_audit_log: self.viewer.offers().audit_log,
            flash: session::take_flash(&self.session),
        };
        render_layout(status, &chrome, &body)
    }
}

/// A whole page around an already rendered body.
pub fn render_layout(
    status: StatusCode,
    chrome: &Chrome,
    body: &str,
) -> Result<HttpResponse, AppError> {
    let page = Layout { chrome, body }
        .render()
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(html(status, page))
}
