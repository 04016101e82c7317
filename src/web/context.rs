//! What every signed-in page needs: the viewer (loaded from the database on each request),
//! the session, whether htmx asked, and the chrome (top bar, left-hand panel) around a page.

use actix_htmx::Htmx;
use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::future::LocalBoxFuture;

use std::sync::Arc;

use crate::db::{Conn, Pool};
use crate::gate::live_keys::LiveKeys;
use crate::rules::access::{Action, Viewer};
use crate::use_cases::Failure;
use crate::use_cases::users;

use super::csrf;
use super::error::AppError;
use super::login::{SIGNED_IN_AT, SessionPolicy, USER_ID};

/// Shared by every worker.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub keys: Arc<LiveKeys>,
}

impl AppState {
    /// Runs database work off the async workers.
    pub async fn db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Conn) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get().map_err(|e| Failure::Internal(e.into()))?;
            work(&mut conn)
        })
        .await
        .map_err(|e| Failure::Internal(e.into()))?
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

const FLASH_KEY: &str = "flash";

/// A signed-in request. Extracting it signs anonymous (or disabled) people out to `/login`.
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
        let session = req.get_session();
        let htmx = Htmx::from_request(req, payload).into_inner();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let policy = req.app_data::<web::Data<SessionPolicy>>().cloned();
        let address = Some(crate::client_address::of(req).to_string());
        let next = if req.method().is_safe() {
            req.uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default()
        } else {
            String::new()
        };
        Box::pin(async move {
            let htmx = htmx.map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
            let state = state.ok_or_else(|| AppError::Internal(anyhow::anyhow!("no app state")))?;
            let sign_in = || AppError::SignInRequired {
                next: next.clone(),
                htmx: htmx.is_htmx,
            };
            let Some(user_id) = session.get::<i32>(USER_ID).ok().flatten() else {
                return Err(sign_in());
            };
            let signed_in_at = session.get::<i64>(SIGNED_IN_AT).ok().flatten();
            if policy.is_some_and(|p| p.expired(signed_in_at)) {
                session.purge();
                return Err(sign_in());
            }
            match state.db(move |conn| users::viewer(conn, user_id)).await? {
                Some(viewer) => Ok(PageContext {
                    viewer: Viewer { address, ..viewer },
                    session,
                    htmx,
                    state,
                }),
                None => {
                    session.purge();
                    Err(sign_in())
                }
            }
        })
    }
}

impl PageContext {
    /// Fails with 403 unless the viewer may do `action`.
    pub fn require(&self, action: Action) -> Result<(), AppError> {
        self.viewer
            .require(action)
            .map_err(|denied| AppError::Denied(denied.0))
    }

    pub async fn db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Conn) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        self.state.db(work).await
    }

    pub fn csrf_token(&self) -> String {
        csrf::token(&self.session)
    }

    /// A message for the next page this person sees.
    pub fn flash(&self, message: impl Into<String>) {
        let _ = self.session.insert(FLASH_KEY, message.into());
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
            show_users: self.viewer.may(Action::ManageUsers),
            show_audit_log: self.viewer.may(Action::ReadAuditLog),
            flash: self
                .session
                .remove_as::<String>(FLASH_KEY)
                .and_then(Result::ok),
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

pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(body)
}
