//! What a person does in Dev Center, each use case in one transaction over the database:
//! it checks what the person asks for against the rules, writes the change with its audit
//! event, and hands what changed to the one post-commit step.

pub mod audit;
pub mod catalogue;
pub mod client_applications;
pub mod credentials;
pub mod users;

use crate::rules::access;
use crate::rules::text::{FieldError, FieldErrors};

/// Why a use case did not happen. Nothing was written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The input was refused; each message belongs beside its field.
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Denied(#[from] access::Denied),
    /// The thing asked for does not exist (or is not of the kind the page is for).
    #[error("{0}")]
    NotFound(&'static str),
    #[error(transparent)]
    Storage(#[from] diesel::result::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<FieldError> for Failure {
    fn from(error: FieldError) -> Self {
        Self::Invalid(error.into())
    }
}

impl From<FieldErrors> for Failure {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}
