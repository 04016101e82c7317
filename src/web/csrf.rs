//! Cross-site request forgery protection, in one place for every state-changing request.
//!
//! A signed-in session holds a random token. Pages carry it in `<meta name="csrf-token">`
//! and in a hidden `csrf_token` field of every form; htmx sends it as `X-CSRF-Token`.
//! Anonymous visitors (the sign-in form) get no server-side session at all: their token is
//! a signed double submit, an HMAC of a random value kept in a cookie of their own, so
//! visiting `/login` writes nothing. A POST (or any unsafe method) without a matching
//! token is refused with 403 before a handler runs.

use actix_session::{Session, SessionExt};
use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderName};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::distr::{Alphanumeric, SampleString};
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use secrecy::{ExposeSecret, SecretSlice};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::error::AppError;
use super::forms::body_error;

const SESSION_KEY: &str = "csrf_token";
/// The anonymous visitor's random value; its HMAC is the form's token. Behind https the
/// `__Host-` prefix keeps a sibling subdomain from planting one.
const VISITOR_COOKIE: &str = "devcenter_visitor";
const SECURE_VISITOR_COOKIE: &str = "__Host-devcenter_visitor";
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

/// The key that signs anonymous visitors' tokens (derived from the server's session key).
pub struct VisitorTokens {
    key: SecretSlice<u8>,
    secure: bool,
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

impl VisitorTokens {
    pub fn new(server_secret: &[u8], secure: bool) -> Self {
        use hmac::Mac;
        // A key of its own, so that the session key is never used for two things.
        let mut derive = <HmacSha256 as hmac::digest::KeyInit>::new_from_slice(server_secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        derive.update(b"devcenter anonymous csrf v1");
        Self {
            key: derive.finalize().into_bytes().to_vec().into(),
            secure,
        }
    }

    fn cookie_name(&self) -> &'static str {
        if self.secure {
            SECURE_VISITOR_COOKIE
        } else {
            VISITOR_COOKIE
        }
    }

    fn sign(&self, value: &str) -> String {
        use hmac::Mac;
        let mut mac =
            <HmacSha256 as hmac::digest::KeyInit>::new_from_slice(self.key.expose_secret())
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(value.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The token for an anonymous visitor's form, and the cookie to set when the visitor
    /// has none yet.
    pub fn for_visitor(&self, req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
        if let Some(value) = req.cookie(self.cookie_name()).map(|c| c.value().to_owned())
            && value.len() == 43
            && value.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return (self.sign(&value), None);
        }
        let value = Alphanumeric.sample_string(&mut UnwrapErr(SysRng), 43);
        let cookie = Cookie::build(self.cookie_name(), value.clone())
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .finish();
        (self.sign(&value), Some(cookie))
    }

    /// The token an anonymous visitor's form must carry, from their cookie.
    fn expected(&self, req: &ServiceRequest) -> Option<String> {
        req.cookie(self.cookie_name()).map(|c| self.sign(c.value()))
    }
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
    let expected = req
        .get_session()
        .get::<String>(SESSION_KEY)
        .ok()
        .flatten()
        .or_else(|| {
            req.app_data::<web::Data<VisitorTokens>>()
                .and_then(|tokens| tokens.expected(&req))
        });
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
