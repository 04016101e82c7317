//! The one error type of the web layer: every refusal becomes a friendly page in the app's
//! look (or, for sign-in, a redirect), never a raw message.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::rules::access::Action;
use crate::use_cases::Failure;

use super::context::Chrome;
use super::urls::{CLIENT_APPLICATIONS, CONFIGURE, CREDENTIALS, SIGN_IN, USERS};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("Sign in to continue.")]
    SignInRequired { next: String, htmx: bool },
    /// A refusal by the access rules, which say what the action needs.
    #[error("{}", .0.refusal())]
    Denied(Action),
    #[error(
        "This form has expired or did not come from Dev Center. Reload the page and try again."
    )]
    CsrfRejected,
    #[error("{0} not found.")]
    NotFound(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("That request is larger than Dev Center accepts (64 KiB).")]
    PayloadTooLarge,
    #[error("Something went wrong on our side. Try again in a moment.")]
    Internal(#[source] anyhow::Error),
}

impl From<Failure> for AppError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Invalid(errors) => Self::BadRequest(errors.to_string()),
            Failure::Denied(denied) => Self::Denied(denied.0),
            Failure::NotFound(what) => Self::NotFound(what),
            Failure::Storage(e) => Self::Internal(e.into()),
            Failure::Internal(e) => Self::Internal(e),
        }
    }
}

/// Laid out like every page, in a frame without a viewer: no database, no session.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    heading: String,
    message: String,
    /// Where the person was, besides Configure: (address, link text).
    back: Option<(&'static str, &'static str)>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignInRequired { .. } => StatusCode::SEE_OTHER,
            Self::Denied(_) | Self::CsrfRejected => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.page_for(None)
    }
}

impl AppError {
    /// The error as a friendly page for a signed-in person (`name`, and the session's
    /// form token): the top bar keeps their name and Sign out.
    pub fn page_for_signed_in(&self, name: &str, csrf_token: String) -> HttpResponse {
        self.page_for(Some((name, csrf_token)))
    }

    fn page_for(&self, signed_in: Option<(&str, String)>) -> HttpResponse {
        let mut response = self.page(signed_in);
        crate::security_headers::add_to(response.headers_mut());
        response
    }

    /// The error as a friendly page (or, for sign-in, a redirect).
    fn page(&self, signed_in: Option<(&str, String)>) -> HttpResponse {
        if let Self::SignInRequired { next, htmx } = self {
            let location = sign_in_location(next);
            let mut response = if *htmx {
                HttpResponse::Ok()
                    .insert_header(("HX-Redirect", location.as_str()))
                    .finish()
            } else {
                HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location.as_str()))
                    .finish()
            };
            if location != SIGN_IN {
                // Not worth failing a redirect to sign-in for: `?next=` still carries it.
                let _ = response.add_cookie(&super::login::remember_return(next));
            }
            return response;
        }
        if let Self::Internal(e) = self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
        let status = self.status_code();
        let heading = match self {
            Self::Denied(_) => "You don't have access to this page".to_owned(),
            Self::CsrfRejected => "This form could not be accepted".to_owned(),
            Self::NotFound(what) => format!("{what} not found"),
            Self::BadRequest(_) => "That request could not be understood".to_owned(),
            Self::PayloadTooLarge => "That request is too large".to_owned(),
            _ => "Something went wrong".to_owned(),
        };
        let message = match self {
            Self::NotFound("Page") => {
                "Nothing answers at this address: check it for a typo, or start again from \
                 Configure."
                    .to_owned()
            }
            // The same words whether it never existed or is not the viewer's to see.
            Self::NotFound(what) => format!(
                "There is no {} at this address that you can see: it may have been removed, \
                 or the address mistyped.",
                what.to_lowercase()
            )
            .replace("api key", "API key"),
            other => other.to_string(),
        };
        let back = match self {
            Self::NotFound("API key" | "Harvest API key") => {
                Some((CREDENTIALS, "Back to API Credential Management"))
            }
            Self::NotFound("User") => Some((USERS, "Back to Users")),
            Self::NotFound("Client application") => {
                Some((CLIENT_APPLICATIONS, "Back to Client Applications"))
            }
            _ => None,
        };
        let page = ErrorPage {
            chrome: match signed_in {
                Some((name, csrf_token)) => Chrome {
                    user_name: Some(name.to_owned()),
                    ..Chrome::anonymous(&heading, csrf_token)
                },
                None => Chrome::anonymous(&heading, String::new()),
            },
            status: status.as_u16(),
            heading: heading.clone(),
            message,
            back,
        };
        let body = page
            .render()
            .unwrap_or_else(|_| format!("{heading}. {}", self));
        HttpResponse::build(status)
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ))
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .body(body)
    }
}

/// `/login?next=...` for a page a person was sent away from.
pub fn sign_in_location(next: &str) -> String {
    if next.is_empty() || next == CONFIGURE {
        return SIGN_IN.to_owned();
    }
    match serde_html_form::to_string([("next", next)]) {
        Ok(query) => format!("{SIGN_IN}?{query}"),
        Err(_) => SIGN_IN.to_owned(),
    }
}
