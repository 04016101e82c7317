//! Access tokens for Harvest v3 credentials (OAuth 2.0 client credentials): who the
//! client is, who the token acts as and which scopes it carries, decided from the database
//! at the moment the token is asked for. Signing and the wire format are the token
//! endpoint's (`oauth::token_endpoint`).

use std::collections::BTreeSet;
use std::net::IpAddr;

use secrecy::SecretString;
use subtle::ConstantTimeEq;

use crate::db::client_applications::ClientApplication;
use crate::db::credentials::{Credential, KeyRecord};
use crate::db::users::User;
use crate::db::{self, Conn};
use crate::oauth::access_token::Acting;
use crate::rules::expiry::Expiry;
use crate::rules::keys::ApiKey;
use crate::rules::trusted_ips::TrustedIps;
use crate::rules::words::ApiType;

/// Why no token was issued, in the words of RFC 6749 section 5.2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// No such client, a wrong secret, or a credential that no longer works.
    #[error("{0}")]
    InvalidClient(&'static str),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidScope(String),
    /// The client is known but may not have a token this way (here: from this address).
    #[error("{0}")]
    UnauthorizedClient(&'static str),
    /// The credential is past its expiry date (an `invalid_client`, saying when).
    #[error("{0}")]
    Expired(String),
    /// The code or refresh token is unknown, expired, used, or not this client's.
    #[error("{0}")]
    InvalidGrant(&'static str),
}

/// A token request's client, as it authenticated.
#[derive(Debug)]
pub struct ClientCredentials<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a str,
}

/// What the token will say, once signed.
#[derive(Debug)]
pub struct TokenGrant {
    pub credential_id: i32,
    pub client_id: String,
    pub secret_id: i32,
    pub acting: Acting,
    /// The token's scopes, in catalogue text order.
    pub scopes: Vec<String>,
    /// A partner integration's grant: its integration, token family and new refresh
    /// token (shown once, in the answer).
    pub integration: Option<IntegrationGrant>,
}

#[derive(Debug)]
pub struct IntegrationGrant {
    pub integration_id: i32,
    pub family_id: i32,
    pub refresh_token: SecretString,
}

/// The v3 credential or partner OAuth client whose client ID and live secret were
/// presented, if it may ask for tokens from `address`.
pub fn authenticate(
    conn: &mut Conn,
    client: &ClientCredentials<'_>,
    address: IpAddr,
) -> Result<(Credential, i32), TokenRefusal> {
    const UNKNOWN: TokenRefusal =
        TokenRefusal::InvalidClient("Unknown client, or a wrong client secret.");
    // The secret's shape and checksum first: a mistyped secret costs no lookup.
    let hash = ApiKey::hash_of(client.client_secret).map_err(|_| UNKNOWN)?;
    let credential = Credential::find_by_client_id(conn, client.client_id)
        .map_err(storage)?
        .filter(|c| matches!(c.api_type, ApiType::HarvestV3 | ApiType::OauthClient))
        .ok_or(UNKNOWN)?;
    let secrets = KeyRecord::live_secrets(conn, credential.id, db::now()).map_err(storage)?;
    let secret = secrets
        .iter()
        .find(|s| bool::from(s.hash.as_slice().ct_eq(&hash.0)))
        .ok_or(UNKNOWN)?;
    if credential.revoked_at.is_some() {
        return Err(TokenRefusal::InvalidClient(
            "This credential is revoked: an admin can re-enable it in Dev Center.",
        ));
    }
    // A deactivated client application's credentials stop with it, here as at the gate.
    if let Some(app) = credential.client_application_id
        && !ClientApplication::find(conn, app)
            .map_err(storage)?
            .is_some_and(|a| a.active)
    {
        return Err(TokenRefusal::InvalidClient(
            "This credential's client application is deactivated.",
        ));
    }
    if let Some(end) = credential.expires_at.filter(|end| *end <= db::now()) {
        return Err(TokenRefusal::Expired(format!(
            "This credential expired on {} (UTC): its managers can set a new expiry date in Dev Center.",
            Expiry::last_day(end).format("%Y-%m-%d")
        )));
    }
    if !TrustedIps::stored(&credential.trusted_ips).admits(address) {
        return Err(TokenRefusal::UnauthorizedClient(
            "This credential may not be used from your address: it is outside the credential's trusted IPs.",
        ));
    }
    Ok((credential, secret.id))
}

/// The client credentials grant: a token for the credential, acting as `sub` (an active
/// user's id) or its service account, with `scope` (a subset of the credential's scopes)
/// or all of them.
pub fn client_credentials(
    conn: &mut Conn,
    credential: &Credential,
    secret_id: i32,
    sub: Option<&str>,
    scope: Option<&str>,
) -> Result<TokenGrant, TokenRefusal> {
    let acting = match sub.map(str::trim) {
        None | Some("") => Acting::ServiceAccount,
        Some(sub) => {
            let user = sub
                .parse::<i32>()
                .ok()
                .map(|id| User::find(conn, id))
                .transpose()
                .map_err(storage)?
                .flatten()
                .filter(|u| !u.disabled);
            match user {
                Some(user) => Acting::User(user.id),
                None => {
                    return Err(TokenRefusal::InvalidRequest(
                        "sub must be the id of an active user, or left out to act as the credential's service account.".into(),
                    ));
                }
            }
        }
    };
    let granted: BTreeSet<String> = Credential::scopes(conn, credential.id)
        .map_err(storage)?
        .into_iter()
        .collect();
    let scopes = narrowed(&granted, scope)?;
    Ok(TokenGrant {
        credential_id: credential.id,
        client_id: credential.client_id.clone().unwrap_or_default(),
        secret_id,
        acting,
        scopes,
        integration: None,
    })
}

/// The scopes a token gets: all `granted`, or the requested subset of them.
fn narrowed(
    granted: &BTreeSet<String>,
    requested: Option<&str>,
) -> Result<Vec<String>, TokenRefusal> {
    if granted.is_empty() {
        return Err(TokenRefusal::InvalidScope(
            "This credential has no scopes yet: an admin chooses them under Manage Scopes.".into(),
        ));
    }
    let requested: BTreeSet<&str> = requested
        .map(|s| s.split(' ').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if requested.is_empty() {
        return Ok(granted.iter().cloned().collect());
    }
    let beyond: Vec<&str> = requested
        .iter()
        .copied()
        .filter(|s| !granted.contains(*s))
        .collect();
    if let Some(first) = beyond.first() {
        let shown: String = first.chars().take(80).collect();
        return Err(TokenRefusal::InvalidScope(format!(
            "{shown:?} is not among this credential's scopes{}.",
            match beyond.len() {
                1 => String::new(),
                n => format!(" (nor are {} other requested scopes)", n - 1),
            }
        )));
    }
    Ok(requested.into_iter().map(str::to_owned).collect())
}

fn storage(error: diesel::result::Error) -> TokenRefusal {
    tracing::error!(error = %error, "token request not answered: database error");
    TokenRefusal::InvalidRequest("The token endpoint cannot reach its database; try again.".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted(scopes: &[&str]) -> BTreeSet<String> {
        scopes.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_token_carries_every_scope_or_a_requested_subset() {
        let all = granted(&["harvest:jobs:list", "harvest:candidates:list"]);
        assert_eq!(
            narrowed(&all, None).expect("all"),
            vec!["harvest:candidates:list", "harvest:jobs:list"]
        );
        assert_eq!(
            narrowed(&all, Some(" harvest:jobs:list  ")).expect("one"),
            vec!["harvest:jobs:list"]
        );
        assert_eq!(
            narrowed(&all, Some("")).expect("all"),
            narrowed(&all, None).expect("all")
        );
    }

    #[test]
    fn a_broader_or_unknown_scope_is_refused() {
        let all = granted(&["harvest:jobs:list"]);
        let refused = narrowed(&all, Some("harvest:jobs:list harvest:jobs:update nonsense"))
            .expect_err("broader");
        assert!(
            matches!(&refused, TokenRefusal::InvalidScope(m) if m.contains("\"harvest:jobs:update\"") && m.contains("1 other")),
            "{refused:?}"
        );
        assert!(matches!(
            narrowed(&BTreeSet::new(), None),
            Err(TokenRefusal::InvalidScope(_))
        ));
    }
}
