//! Form bodies, parsed by `serde_html_form` so repeated fields (`endpoints`) arrive as lists.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::rules::text::FieldErrors;
use crate::rules::words::ProductWord;
use crate::use_cases::Failure;

use super::error::AppError;

/// Largest form body accepted anywhere.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// An `application/x-www-form-urlencoded` body as `T`; a malformed body is a 400 page and
/// one over 64 KiB a 413 page.
pub struct HtmlForm<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for HtmlForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(body_error)?;
            serde_html_form::from_bytes(&bytes)
                .map(HtmlForm)
                .map_err(|_| {
                    AppError::BadRequest(
                        "The form was sent in a shape Dev Center does not understand.".into(),
                    )
                })
        })
    }
}

/// How a failure to read a body is shown.
pub fn body_error(error: actix_web::Error) -> AppError {
    if error.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::BadRequest("The request body could not be read.".into())
    }
}

/// One option of a select, or one checkbox of a group, as a form shows it.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    /// Every word of a kind, with `selected` ticked.
    pub fn words<W: ProductWord>(selected: impl Fn(W) -> bool) -> Vec<Choice> {
        W::ALL
            .iter()
            .map(|w| Choice {
                value: w.as_str().to_owned(),
                label: w.label().to_owned(),
                selected: selected(*w),
            })
            .collect()
    }
}

/// Splits a use case's refusal of the input (to show beside the fields, with 422) from
/// every other failure (an error page).
pub fn refused_fields<T>(result: Result<T, Failure>) -> Result<Result<T, FieldErrors>, AppError> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(Failure::Invalid(errors)) => Ok(Err(errors)),
        Err(other) => Err(other.into()),
    }
}
