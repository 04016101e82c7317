//! Signing in and out.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::users;

use super::context::{AppState, Chrome, render_layout};
use super::csrf;
use super::error::AppError;
use super::forms::HtmlForm;

pub const USER_ID: &str = "user_id";

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
    session: Session,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let next = query.into_inner().next.unwrap_or_default();
    if session.get::<i32>(USER_ID).ok().flatten().is_some() {
        return Ok(see_other(&safe_next(&next)));
    }
    render(&session, StatusCode::OK, "", &next, None)
}

#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn submit(
    session: Session,
    state: web::Data<AppState>,
    HtmlForm(form): HtmlForm<SignIn>,
) -> Result<HttpResponse, AppError> {
    let (email, password) = (form.email.clone(), form.password);
    let user = state
        .db(move |conn| users::authenticate(conn, &email, &password))
        .await?;
    let Some(user_id) = user else {
        return render(
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form.email,
            &form.next,
            Some("That e-mail and password do not match an active account."),
        );
    };
    // A new session id at sign-in, so a planted or observed anonymous id is worthless.
    session.renew();
    session
        .insert(USER_ID, user_id)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    csrf::renew(&session);
    tracing::info!(user_id, "signed in");
    Ok(see_other(&safe_next(&form.next)))
}

pub async fn logout(session: Session) -> HttpResponse {
    session.purge();
    see_other("/login")
}

fn render(
    session: &Session,
    status: StatusCode,
    email: &str,
    next: &str,
    error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let csrf_token = csrf::token(session);
    let body = LoginForm {
        csrf_token: &csrf_token,
        email,
        next,
        error,
    }
    .render()
    .map_err(|e| AppError::Internal(e.into()))?;
    let chrome = Chrome {
        title: "Sign in".into(),
        user_name: None,
        csrf_token,
        section: None,
        show_users: false,
        show_audit_log: false,
        flash: None,
    };
    render_layout(status, &chrome, &body)
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
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
        "/configure".to_owned()
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
