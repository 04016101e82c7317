//! Signing in and out.

use actix_session::Session;
use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use secrecy::SecretString;

use crate::rules::email::Email;
use crate::use_cases::sign_in;

use super::context::{AppState, Chrome, render_layout};
use super::csrf::{self, VisitorTokens};
use super::error::AppError;
use super::forms::HtmlForm;
use super::password_checks::PasswordChecks;
use super::respond::see_other;
use super::session;
use super::sign_in_throttle::{Reservation, SignInThrottle};
use super::urls::{CONFIGURE, SIGN_IN};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginForm<'a> {
    csrf_token: &'a str,
    email: &'a str,
    next: &'a str,
    error: Option<&'a str>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn form(
    req: HttpRequest,
    session: Session,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let next = query
        .into_inner()
        .next
        .filter(|n| !n.is_empty())
        .or_else(|| remembered_return(&req))
        .unwrap_or_default();
    if session::user_id(&session).is_some() {
        return Ok(see_other(&safe_next(&next)));
    }
    render(&req, StatusCode::OK, "", &next, None)
}

#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    email: String,
    password: Option<SecretString>,
    #[serde(default)]
    next: String,
}

pub async fn submit(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    throttle: web::Data<SignInThrottle>,
    checks: web::Data<PasswordChecks>,
    HtmlForm(form): HtmlForm<SignIn>,
) -> Result<HttpResponse, AppError> {
    let address = crate::client_address::of(&req);
    let account: String = Email::normalise(&form.email).chars().take(254).collect();
    let refuse = |status: StatusCode, message: &str, retry_after: u64| {
        let mut page = render(&req, status, &form.email, &form.next, Some(message))?;
        page.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
        Ok::<_, AppError>(page)
    };
    let attempt = match throttle.reserve(account.clone(), address).await? {
        Reservation::Counted(attempt) => attempt,
        Reservation::Refused(retry_after) => {
            let minutes = retry_after.div_ceil(60);
            let message = format!(
                "Too many failed sign-ins. For your account's safety, try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            );
            return refuse(StatusCode::TOO_MANY_REQUESTS, &message, retry_after);
        }
    };
    let email = Email::parse(&form.email).ok();
    let candidate = state
        .read(move |conn| sign_in::candidate(conn, email.as_ref()))
        .await?;
    let Some(matches) = checks
        .matches(candidate.password_hash, form.password.clone())
        .await
    else {
        throttle.succeeded(attempt).await; // not checked: it is not a failure either
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "Dev Center is busy checking other sign-ins. Try again in a moment.",
            1,
        );
    };
    let Some(user_id) = candidate.user_id.filter(|_| matches) else {
        if let Some(failures) = throttle.failed(&attempt) {
            tracing::warn!(%address, failures, "sign-in throttled");
            let from = address.to_string();
            state
                .write(move |conn| sign_in::record_throttled(conn, Some(&from), &account, failures))
                .await?;
        }
        return render(
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form.email,
            &form.next,
            Some("That e-mail and password do not match an active account."),
        );
    };
    throttle.succeeded(attempt).await;
    session::sign_in(&session, user_id)?;
    csrf::renew(&session);
    tracing::info!(user_id, "signed in");
    let next = match form.next.as_str() {
        "" => remembered_return(&req).unwrap_or_default(),
        given => given.to_owned(),
    };
    let mut response = see_other(&safe_next(&next));
    let mut forget = Cookie::build(RETURN_COOKIE, "").path(SIGN_IN).finish();
    forget.make_removal();
    response
        .add_cookie(&forget)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(response)
}

/// Where a signed-out visitor was going, kept beside `?next=` for a few minutes: a person
/// who opens the sign-in page afresh (a bookmark, a new tab) still goes back to the
/// partner's authorization request they came with. Sent only to the sign-in page; used only
/// through `safe_next`, like `next` itself.
const RETURN_COOKIE: &str = "devcenter_return_to";

/// The cookie that remembers `next` for the sign-in page.
pub fn remember_return(next: &str) -> Cookie<'static> {
    let value: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    Cookie::build(RETURN_COOKIE, value)
        .path(SIGN_IN)
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::minutes(10))
        .finish()
}

/// actix reads cookies percent-decoded: the value is the path again (a request's path and
/// query never hold a space, the one character `byte_serialize` writes as `+`).
fn remembered_return(req: &HttpRequest) -> Option<String> {
    req.cookie(RETURN_COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|next| !next.is_empty())
}

pub async fn logout(session: Session) -> HttpResponse {
    session.purge();
    see_other(SIGN_IN)
}

/// The sign-in form, for an anonymous visitor: its token is the visitor's own (no
/// server-side session is written until sign-in succeeds).
fn render(
    req: &HttpRequest,
    status: StatusCode,
    email: &str,
    next: &str,
    error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let tokens = req
        .app_data::<web::Data<VisitorTokens>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no visitor tokens")))?;
    let (csrf_token, new_cookie) = tokens.for_visitor(req);
    let body = LoginForm {
        csrf_token: &csrf_token,
        email,
        next,
        error,
    }
    .render()
    .map_err(|e| AppError::Internal(e.into()))?;
    let chrome = Chrome::anonymous("Sign in", csrf_token);
    let mut page = render_layout(status, &chrome, &body)?;
    if let Some(cookie) = new_cookie {
        page.add_cookie(&cookie)
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(page)
}

/// Where to go after signing in: `next` only when it is a path on this site.
pub fn safe_next(next: &str) -> String {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if local {
        next.to_owned()
    } else {
        CONFIGURE.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_leads_only_to_local_paths() {
        assert_eq!(
            safe_next("/configure/dev_center?page=2"),
            "/configure/dev_center?page=2"
        );
        for hostile in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example/",
            "/%0a\\evil",
            "javascript:alert(1)",
            "",
            "configure",
            "/\tevil",
        ] {
            assert_eq!(safe_next(hostile), "/configure", "{hostile:?}");
        }
    }
}
