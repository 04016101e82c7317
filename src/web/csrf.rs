//! Cross-site request forgery protection, in one place for every state-changing request.
//!
//! Each session holds a random token. Pages carry it in `<meta name="csrf-token">` and in a
//! hidden `csrf_token` field of every form; htmx sends it as `X-CSRF-Token`. A POST (or any
//! unsafe method) without the session's token is refused with 403 before a handler runs.

use actix_session::{Session, SessionExt};
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderName};
use actix_web::middleware::Next;
use actix_web::web;
use rand::distr::{Alphanumeric, SampleString};
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::error::AppError;
use super::forms::body_error;

const SESSION_KEY: &str = "csrf_token";
const HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

/// The session's token, made on first use.
pub fn token(session: &Session) -> String {
    if let Ok(Some(token)) = session.get::<String>(SESSION_KEY) {
        return token;
    }
    renew(session)
}

/// A fresh token, after sign-in.
pub fn renew(session: &Session) -> String {
    let token = Alphanumeric.sample_string(&mut UnwrapErr(SysRng), 43);
    // Without a stored token every later form is refused, which is the safe failure.
    let _ = session.insert(SESSION_KEY, &token);
    token
}

#[derive(Deserialize)]
struct TokenField {
    csrf_token: Option<String>,
}

/// Middleware: refuses unsafe requests that do not carry the session's token.
pub async fn protect(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method().is_safe() {
        return next.call(req).await;
    }
    let expected = req.get_session().get::<String>(SESSION_KEY).ok().flatten();
    let presented = match req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        Some(header) => Some(header.to_owned()),
        None if is_form(&req) => {
            let bytes = req.extract::<web::Bytes>().await.map_err(body_error)?;
            let field = serde_html_form::from_bytes::<TokenField>(&bytes)
                .ok()
                .and_then(|f| f.csrf_token);
            req.set_payload(Payload::from(bytes));
            field
        }
        None => None,
    };
    match (expected, presented) {
        (Some(expected), Some(presented))
            if bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) =>
        {
            next.call(req).await
        }
        _ => Err(AppError::CsrfRejected.into()),
    }
}

fn is_form(req: &ServiceRequest) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}
