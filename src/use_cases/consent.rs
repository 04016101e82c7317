//! What the consent page shows: an authorization request that passed
//! `integrations::check`, and the scopes it asks for in plain words, by resource, each with
//! the endpoints it opens.

use crate::db::Conn;
use crate::db::catalogue::Endpoint;
use crate::rules::access::{Action, Viewer};

use super::Failure;
use super::catalogue::{ScopeGroup, group_by_scope};
use super::integrations::{self, AuthorizeParams, AuthorizeRefusal, AuthorizeRequest};

/// A request a person may consent to, and what they would consent to.
#[derive(Debug, Clone)]
pub struct Consent {
    pub request: AuthorizeRequest,
    /// Only the requested scopes, grouped as the catalogue groups them.
    pub scopes: Vec<ScopeGroup>,
    pub may_authorize: bool,
    pub may_use_service_account: bool,
}

/// Checks the request (the client and redirect URI first) and, when it may be shown,
/// describes it. Who may authorize is answered here, so the page explains a refusal
/// before the person asks.
pub fn review(
    conn: &mut Conn,
    viewer: &Viewer,
    params: &AuthorizeParams,
) -> Result<Result<Consent, AuthorizeRefusal>, Failure> {
    let request = match integrations::check(conn, params) {
        Ok(request) => request,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let mut scopes = group_by_scope(Endpoint::v3(conn)?);
    for group in &mut scopes {
        group.scopes.retain(|s| request.scopes.contains(&s.name));
    }
    scopes.retain(|g| !g.scopes.is_empty());
    Ok(Ok(Consent {
        request,
        scopes,
        may_authorize: viewer.may(Action::AuthorizeIntegration),
        may_use_service_account: viewer.may(Action::AuthorizeAsServiceAccount),
    }))
}
