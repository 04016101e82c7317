//! What the session holds, and for how long: who signed in and when, and a message for
//! the next page. Nothing else reads or writes the session's keys.

use std::collections::HashMap;
use std::time::Duration;

use actix_session::Session;

use super::error::AppError;

const USER_ID: &str = "user_id";
/// Unix seconds of the sign-in, for the session's absolute lifetime.
const SIGNED_IN_AT: &str = "signed_in_at";
const FLASH: &str = "flash";

/// How long a signed-in session may last, however active.
pub struct SessionPolicy {
    pub lifetime: Duration,
}

impl SessionPolicy {
    /// Whether a session signed in at `signed_in_at` (unix seconds) has outlived its lifetime.
    pub fn expired(&self, signed_in_at: Option<i64>) -> bool {
        let now = chrono::Utc::now().timestamp();
        signed_in_at.is_none_or(|at| now.saturating_sub(at) >= self.lifetime.as_secs() as i64)
    }
}

/// The signed-in user's id, if the session has one.
pub fn user_id(session: &Session) -> Option<i32> {
    session.get::<i32>(USER_ID).ok().flatten()
}

/// When the session signed in (unix seconds).
pub fn signed_in_at(session: &Session) -> Option<i64> {
    session.get::<i64>(SIGNED_IN_AT).ok().flatten()
}

/// Starts a signed-in session under a new id, so a planted or observed anonymous id is
/// worthless.
pub fn sign_in(session: &Session, user_id: i32) -> Result<(), AppError> {
    session.renew();
    session
        .insert(USER_ID, user_id)
        .and_then(|()| session.insert(SIGNED_IN_AT, chrono::Utc::now().timestamp()))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
}

/// Whose session a stored state is: the user id as the session store keeps it
/// (JSON-encoded under its key).
pub fn stored_user_id(state: &HashMap<String, String>) -> Option<i32> {
    state
        .get(USER_ID)
        .and_then(|v| serde_json::from_str::<i32>(v).ok())
}

/// A stored state with its sign-in taken out.
pub fn signed_out(mut state: HashMap<String, String>) -> HashMap<String, String> {
    state.remove(USER_ID);
    state
}

/// A message for the next page this person sees.
pub fn flash(session: &Session, message: impl Into<String>) {
    let _ = session.insert(FLASH, message.into());
}

/// The message left for this page, once.
pub fn take_flash(session: &Session) -> Option<String> {
    session.remove_as::<String>(FLASH).and_then(Result::ok)
}
