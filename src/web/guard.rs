//! The route table's audiences, enforced: every page route is registered with the
//! audience the table gives it, and this runs before its handler. It loads the person
//! from the database (signed out, gone or disabled: to the sign-in page), checks them
//! against the audience (403), and leaves the `Viewer` for the handler's `PageContext`.
//! Handlers never check access themselves; per-object checks (this key, this user) are
//! the use cases'.

use actix_htmx::Htmx;
use actix_session::SessionExt;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::rules::access::{Audience, Viewer};
use crate::use_cases::sign_in;

use super::context::AppState;
use super::csrf;
use super::error::AppError;
use super::session::{self, SessionPolicy};

pub async fn admit(
    audience: Audience,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if audience != Audience::Anyone {
        // Refusals are answered here, not raised: the session middleware then still ends
        // a session that was purged on the way.
        let viewer = match signed_in(&req).await {
            Ok(viewer) => viewer,
            Err(refusal) => return Ok(req.error_response(refusal).map_into_right_body()),
        };
        if let Err(denied) = viewer.admits(audience) {
            // Signed in but not allowed: the page keeps their name and Sign out.
            let token = csrf::token(&req.get_session());
            let page = AppError::Denied(denied.0).page_for_signed_in(&viewer.name, token);
            return Ok(req.into_response(page).map_into_right_body());
        }
        req.extensions_mut().insert(viewer);
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The person this request is made by, as the database describes them now.
async fn signed_in(req: &ServiceRequest) -> Result<Viewer, AppError> {
    let session = req.get_session();
    let htmx = req
        .extensions()
        .get::<Htmx>()
        .is_some_and(|htmx| htmx.is_htmx);
    let next = if req.method().is_safe() {
        req.uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default()
    } else {
        String::new()
    };
    let sign_in = || AppError::SignInRequired { next, htmx };
    let Some(user_id) = session::user_id(&session) else {
        return Err(sign_in());
    };
    let expired = req
        .app_data::<web::Data<SessionPolicy>>()
        .is_some_and(|policy| policy.expired(session::signed_in_at(&session)));
    if expired {
        session.purge();
        return Err(sign_in());
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no app state")))?;
    match state
        .read(move |conn| sign_in::viewer(conn, user_id))
        .await?
    {
        Some(viewer) => Ok(Viewer {
            address: Some(crate::client_address::of(req.request()).to_string()),
            ..viewer
        }),
        None => {
            session.purge();
            Err(sign_in())
        }
    }
}
