//! What a person does in Dev Center, each use case in one transaction over the database:
//! it checks what the person asks for against the rules, writes the change with its audit
//! event, and hands what changed to the one post-commit step.

pub mod audit;
pub mod catalogue;
pub mod client_applications;
pub mod consent;
pub mod credential_lifecycle;
pub mod credentials;
pub mod health;
pub mod integrations;
pub mod settings;
pub mod sign_in;
pub mod tokens;
pub mod users;
pub mod web_hooks;

use crate::db::{Conn, announce};
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

/// What a committed transaction changed, for the step that follows every commit.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Credentials whose key, grants, type or client application changed: the gate must
    /// see them anew.
    pub credentials: Vec<i32>,
    /// Users whose level, permissions or disabled state changed: tokens acting as them
    /// must be checked anew.
    pub users: Vec<i32>,
    /// Partner integrations connected, disconnected or changed.
    pub integrations: Vec<i32>,
    /// Token families revoked (a code or refresh token presented twice): their access
    /// tokens stop on the next request.
    pub families: Vec<i32>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.credentials.is_empty()
            && self.users.is_empty()
            && self.integrations.is_empty()
            && self.families.is_empty()
    }
}

/// A use case's answer once its transaction has committed, with what it changed. Only
/// `AppState::write` (in the web layer) takes it apart, handing the changes to the one
/// post-commit step before the answer goes out.
#[must_use = "what a transaction changed must reach the post-commit step"]
#[derive(Debug)]
pub struct Committed<T> {
    pub value: T,
    pub changes: Changes,
}

/// The one step after every commit (today: the gate's live keys; next, web hook events and
/// token revocations). It never fails a change that is already saved: it logs, and a
/// periodic reconcile corrects whatever it missed.
pub trait AfterCommit: Send + Sync {
    fn after_commit(&self, conn: &mut Conn, changes: &Changes);
}

/// Runs `work` in one immediate transaction (writers queue up front instead of failing on
/// upgrade) and returns its answer with what it recorded as changed.
pub fn write<T>(
    conn: &mut Conn,
    work: impl FnOnce(&mut Conn, &mut Changes) -> Result<T, Failure>,
) -> Result<Committed<T>, Failure> {
    let mut changes = Changes::default();
    let value = crate::db::write(conn, |conn| {
        let value = work(conn, &mut changes)?;
        // The other instances hear of it when, and only if, this commits.
        announce::changes(conn, &changes)?;
        Ok::<_, Failure>(value)
    })?;
    Ok(Committed { value, changes })
}
