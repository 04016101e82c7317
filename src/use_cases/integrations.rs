//! Partner integrations (OAuth 2.0 authorization code, with PKCE): checking an
//! authorization request, a person's consent (an integration and a one-minute code),
//! exchanging the code and refreshing tokens (refresh tokens rotate on every use; one
//! presented twice revokes its whole family), listing and disconnecting integrations.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use rand::Rng;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::db::client_applications::ClientApplication;
use crate::db::credentials::Credential;
use crate::db::integrations::{
    AuthorizationCode, Integration, IntegrationListing, NewIntegration, RefreshToken, TokenFamily,
};
use crate::db::{self, Conn};
use crate::oauth::access_token::Acting;
use crate::rules::access::{Action, Viewer};
use crate::rules::paging::Paged;
use crate::rules::redirect_uris::RedirectUris;
use crate::rules::words::ApiType;

use super::audit::{self, Actor, Event};
use super::tokens::{IntegrationGrant, TokenGrant, TokenRefusal};
use super::{Committed, Failure, write};

/// How long a refresh token lasts: after a day without a refresh, the person authorizes
/// again.
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::hours(24);

/// An authorization request's parameters, as the partner sent them.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct AuthorizeParams {
    #[serde(default)]
    pub response_type: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub redirect_uri: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub code_challenge: String,
    #[serde(default)]
    pub code_challenge_method: String,
}

/// An authorization request that may be shown for consent.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    /// The partner's OAuth client (a credential of type `oauth_client`).
    pub client: Credential,
    pub client_application: ClientApplication,
    pub redirect_uri: String,
    /// The scopes asked for: a subset of those the client application asks for.
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
}

/// Why an authorization request goes no further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeRefusal {
    /// The client or the redirect URI cannot be trusted: an error page, never a redirect
    /// (RFC 6749 section 4.1.2.1).
    NotRedirectable(&'static str),
    /// Back to the partner with `error` (and the request's `state`).
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: String,
        state: Option<String>,
    },
}

/// Checks an authorization request: the client and its redirect URI first (nothing is
/// sent anywhere before both are known), then what it asks for.
pub fn check(
    conn: &mut Conn,
    params: &AuthorizeParams,
) -> Result<AuthorizeRequest, AuthorizeRefusal> {
    use AuthorizeRefusal::NotRedirectable;
    let client = Credential::find_by_client_id(conn, params.client_id.trim())
        .map_err(|_| NotRedirectable("Dev Center cannot check this request right now; try again."))?
        .filter(|c| c.api_type == ApiType::OauthClient)
        .ok_or(NotRedirectable(
            "This link names an application that is not registered with this organization.",
        ))?;
    let client_application = client
        .client_application_id
        .map(|id| ClientApplication::find(conn, id))
        .transpose()
        .map_err(|_| NotRedirectable("Dev Center cannot check this request right now; try again."))?
        .flatten()
        .ok_or(NotRedirectable(
            "This link names an application that is not registered with this organization.",
        ))?;
    if !RedirectUris::stored(&client_application.redirect_uris).contains(&params.redirect_uri) {
        return Err(NotRedirectable(
            "This link's redirect URI is not one the application registered, so Dev Center will not send you there.",
        ));
    }
    let state = Some(params.state.clone()).filter(|s| !s.is_empty());
    let refuse = |error: &'static str, description: &str| AuthorizeRefusal::Redirect {
        redirect_uri: params.redirect_uri.clone(),
        error,
        description: description.to_owned(),
        state: state.clone(),
    };
    if client.revoked_at.is_some() || !client_application.active {
        return Err(refuse(
            "unauthorized_client",
            "This application's access to the organization is turned off.",
        ));
    }
    if params.response_type != "code" {
        return Err(refuse(
            "unsupported_response_type",
            "Only response_type=code is supported.",
        ));
    }
    let code_challenge = match (
        params.code_challenge.as_str(),
        params.code_challenge_method.as_str(),
    ) {
        ("", "") => None,
        (challenge, "S256") if is_s256_challenge(challenge) => Some(challenge.to_owned()),
        _ => {
            return Err(refuse(
                "invalid_request",
                "PKCE needs code_challenge_method=S256 and a 43-character base64url code_challenge.",
            ));
        }
    };
    let requested: BTreeSet<String> = ClientApplication::preset_scopes(conn, client_application.id)
        .map_err(|_| NotRedirectable("Dev Center cannot check this request right now; try again."))?
        .into_iter()
        .collect();
    let asked: BTreeSet<String> = params
        .scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let scopes: Vec<String> = if asked.is_empty() {
        requested.iter().cloned().collect()
    } else if asked.is_subset(&requested) {
        asked.into_iter().collect()
    } else {
        return Err(refuse(
            "invalid_scope",
            "The request asks for scopes this application is not registered for.",
        ));
    };
    if scopes.is_empty() {
        return Err(refuse(
            "invalid_scope",
            "This application asks for no scopes.",
        ));
    }
    Ok(AuthorizeRequest {
        client,
        client_application,
        redirect_uri: params.redirect_uri.clone(),
        scopes,
        state,
        code_challenge,
    })
}

fn is_s256_challenge(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A person's consent: the integration, and the code the partner exchanges for tokens.
/// `service_account`: act as the organization's service account of this integration
/// (Site Admins only) instead of as the person.
pub fn authorize(
    conn: &mut Conn,
    viewer: &Viewer,
    request: &AuthorizeRequest,
    service_account: bool,
    code_lifetime: Duration,
) -> Result<Committed<(i32, SecretString)>, Failure> {
    viewer.require(Action::AuthorizeIntegration)?;
    if service_account {
        viewer.require(Action::AuthorizeAsServiceAccount)?;
    }
    let code = secret_text();
    let hash = hash_of(code.expose_secret());
    write(conn, |conn, changes| {
        let scopes = request.scopes.join(" ");
        let id = Integration::insert(
            conn,
            &NewIntegration {
                credential_id: request.client.id,
                authorized_by: viewer.id,
                service_account,
                scopes: &scopes,
                created_at: db::now(),
            },
        )?;
        AuthorizationCode::insert(
            conn,
            &hash,
            id,
            &request.redirect_uri,
            request.code_challenge.as_deref(),
            db::now() + code_lifetime,
        )?;
        audit::record(
            conn,
            &Actor::Person(viewer),
            &Event::integration_connected(
                id,
                &request.client_application.name,
                service_account,
                &request.scopes,
            ),
        )?;
        changes.integrations.push(id);
        Ok((id, code))
    })
}

/// Exchanges a code (RFC 6749 section 4.1.3, RFC 7636): the first exchange starts a
/// token family; a code presented again revokes that family and is refused.
pub fn exchange_code(
    conn: &mut Conn,
    client: &Credential,
    secret_id: i32,
    code: &str,
    redirect_uri: &str,
    code_verifier: Option<&str>,
) -> Result<Committed<Result<TokenGrant, TokenRefusal>>, Failure> {
    const UNKNOWN: TokenRefusal = TokenRefusal::InvalidGrant(
        "The code is unknown, expired or already used, or was issued to another client.",
    );
    let hash = hash_of(code);
    write(conn, |conn, changes| {
        let Some(stored) = AuthorizationCode::find(conn, &hash)? else {
            return Ok(Err(UNKNOWN));
        };
        let Some(integration) = Integration::find(conn, stored.integration_id)? else {
            return Ok(Err(UNKNOWN));
        };
        if integration.credential_id != client.id {
            return Ok(Err(UNKNOWN));
        }
        if let Some(family) = stored.family_id {
            // Used twice: whoever holds it now may not be the partner. The tokens issued
            // from it stop.
            revoke_for_reuse(
                conn,
                changes,
                integration.id,
                family,
                "its authorization code was presented twice",
            )?;
            return Ok(Err(UNKNOWN));
        }
        if stored.expires_at <= db::now() || integration.disconnected_at.is_some() {
            return Ok(Err(UNKNOWN));
        }
        if stored.redirect_uri != redirect_uri {
            return Ok(Err(TokenRefusal::InvalidGrant(
                "redirect_uri differs from the authorization request's.",
            )));
        }
        match (&stored.code_challenge, code_verifier) {
            (Some(challenge), verifier) => {
                let verified = verifier
                    .filter(|v| (43..=128).contains(&v.len()))
                    .is_some_and(|v| {
                        URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())) == *challenge
                    });
                if !verified {
                    return Ok(Err(TokenRefusal::InvalidGrant(
                        "code_verifier does not match the authorization request's code_challenge.",
                    )));
                }
            }
            // A verifier for a code issued without a challenge: the code was not made for
            // this client's request (a code injected into its flow), RFC 9700 section 4.8.2.
            (None, Some(_)) => {
                return Ok(Err(TokenRefusal::InvalidGrant(
                    "This code was issued without a code_challenge: it does not belong to a request that used PKCE.",
                )));
            }
            (None, None) => {}
        }
        let family = TokenFamily::insert(conn, integration.id)?;
        if !AuthorizationCode::mark_used(conn, &hash, family)? {
            // Redeemed at the same moment by another request: a reuse like any other. The
            // tokens that exchange started stop.
            if let Some(first) = AuthorizationCode::find(conn, &hash)?.and_then(|c| c.family_id) {
                revoke_for_reuse(
                    conn,
                    changes,
                    integration.id,
                    first,
                    "its authorization code was presented twice",
                )?;
            }
            return Ok(Err(UNKNOWN));
        }
        issue(conn, client, secret_id, &integration, family, None)
    })
}

/// Refreshes (RFC 6749 section 6): the refresh token is used up and a new one issued in
/// the same family; one presented again revokes the family and is refused.
pub fn refresh(
    conn: &mut Conn,
    client: &Credential,
    secret_id: i32,
    refresh_token: &str,
    scope: Option<&str>,
) -> Result<Committed<Result<TokenGrant, TokenRefusal>>, Failure> {
    const UNKNOWN: TokenRefusal = TokenRefusal::InvalidGrant(
        "The refresh token is unknown, expired or already used, or was issued to another client.",
    );
    let hash = hash_of(refresh_token);
    write(conn, |conn, changes| {
        let Some(stored) = RefreshToken::find(conn, &hash)? else {
            return Ok(Err(UNKNOWN));
        };
        let Some(family) = TokenFamily::find(conn, stored.family_id)? else {
            return Ok(Err(UNKNOWN));
        };
        let Some(integration) = Integration::find(conn, family.integration_id)? else {
            return Ok(Err(UNKNOWN));
        };
        if integration.credential_id != client.id {
            return Ok(Err(UNKNOWN));
        }
        if stored.used_at.is_some() {
            // Reuse: the token was copied. Everything issued in its family stops.
            revoke_for_reuse(
                conn,
                changes,
                integration.id,
                family.id,
                "a refresh token was presented twice",
            )?;
            return Ok(Err(UNKNOWN));
        }
        if family.revoked_at.is_some()
            || stored.expires_at <= db::now()
            || integration.disconnected_at.is_some()
        {
            return Ok(Err(UNKNOWN));
        }
        if !RefreshToken::mark_used(conn, &hash)? {
            // Used at the same moment by another request: a reuse like any other.
            revoke_for_reuse(
                conn,
                changes,
                integration.id,
                family.id,
                "a refresh token was presented twice",
            )?;
            return Ok(Err(UNKNOWN));
        }
        issue(conn, client, secret_id, &integration, family.id, scope)
    })
}

/// Revokes a token family because something of it came back a second time (audited once).
fn revoke_for_reuse(
    conn: &mut Conn,
    changes: &mut super::Changes,
    integration_id: i32,
    family: i32,
    why: &str,
) -> Result<(), Failure> {
    if TokenFamily::revoke(conn, family, db::now())? {
        audit::record(
            conn,
            &Actor::System("Dev Center"),
            &Event::integration_tokens_revoked(integration_id, why),
        )?;
        changes.families.push(family);
    }
    Ok(())
}

/// A new refresh token in `family`, and what the access token beside it says.
fn issue(
    conn: &mut Conn,
    client: &Credential,
    secret_id: i32,
    integration: &Integration,
    family: i32,
    scope: Option<&str>,
) -> Result<Result<TokenGrant, TokenRefusal>, Failure> {
    let acting = match integration.service_account {
        true => Acting::ServiceAccount,
        false => Acting::User(integration.authorized_by),
    };
    if let Acting::User(user) = acting
        && !may_act(conn, user)?
    {
        return Ok(Err(TokenRefusal::InvalidGrant(
            "The person who authorized this integration can no longer act for it: they must authorize it again.",
        )));
    }
    // What the partner still asks for, of what was consented to: a scope it dropped stops
    // at once; one it added needs a new consent.
    let requested: BTreeSet<String> = match client.client_application_id {
        Some(app) => ClientApplication::preset_scopes(conn, app)?
            .into_iter()
            .collect(),
        None => BTreeSet::new(),
    };
    let mut scopes: Vec<String> = integration
        .scopes
        .split(' ')
        .filter(|s| requested.contains(*s))
        .map(str::to_owned)
        .collect();
    if let Some(asked) = scope
        .map(|s| {
            s.split(' ')
                .filter(|s| !s.is_empty())
                .collect::<BTreeSet<_>>()
        })
        .filter(|a| !a.is_empty())
    {
        if !asked.iter().all(|s| scopes.iter().any(|g| g == s)) {
            return Ok(Err(TokenRefusal::InvalidScope(
                "The refresh asks for scopes beyond those consented to.".into(),
            )));
        }
        scopes.retain(|s| asked.contains(s.as_str()));
    }
    let refresh_token = secret_text();
    RefreshToken::insert(
        conn,
        &hash_of(refresh_token.expose_secret()),
        family,
        db::now() + REFRESH_TOKEN_LIFETIME,
    )?;
    Integration::record_last_use(conn, integration.id, db::now())?;
    Ok(Ok(TokenGrant {
        credential_id: client.id,
        client_id: client.client_id.clone().unwrap_or_default(),
        secret_id,
        acting,
        scopes,
        integration: Some(IntegrationGrant {
            integration_id: integration.id,
            family_id: family,
            refresh_token,
        }),
    }))
}

/// Whether an integration may act as this user: active, and still managing every
/// credential (what authorizing one takes).
fn may_act(conn: &mut Conn, user_id: i32) -> Result<bool, Failure> {
    let active = crate::db::users::User::find(conn, user_id)?.is_some_and(|u| !u.disabled);
    Ok(active
        && crate::db::users::User::permissions(conn, user_id)?
            .contains(&crate::rules::words::DeveloperPermission::ManageAllCredentials))
}

/// The Connected Integrations page: every authorization, newest first.
pub fn list(
    conn: &mut Conn,
    viewer: &Viewer,
    page: i64,
) -> Result<Paged<IntegrationListing>, Failure> {
    viewer.require(Action::ManageIntegrations)?;
    let total = Integration::count(conn)?;
    Ok(Paged::read(page, total, |offset, limit| {
        Integration::list(conn, limit, offset)
    })?)
}

/// One integration, for the Disconnect confirmation.
pub fn find(conn: &mut Conn, viewer: &Viewer, id: i32) -> Result<IntegrationListing, Failure> {
    viewer.require(Action::ManageIntegrations)?;
    Integration::listing(conn, id)?.ok_or(Failure::NotFound("integration"))
}

/// Disconnects an integration: every token of it stops on its next request, and its
/// refresh tokens are refused. Disconnecting a disconnected one changes nothing.
pub fn disconnect(conn: &mut Conn, viewer: &Viewer, id: i32) -> Result<Committed<String>, Failure> {
    viewer.require(Action::ManageIntegrations)?;
    write(conn, |conn, changes| {
        let integration = Integration::find(conn, id)?.ok_or(Failure::NotFound("integration"))?;
        let partner = partner_name(conn, &integration)?;
        if Integration::disconnect(conn, id, Some(viewer.id), db::now())? {
            changes
                .families
                .extend(TokenFamily::revoke_all_of(conn, id, db::now())?);
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event::integration_disconnected(id, &partner, "disconnected in Dev Center"),
            )?;
        }
        changes.integrations.push(id);
        Ok(partner)
    })
}

/// Stops the integrations a user authorized as themselves, inside the caller's
/// transaction: the user was disabled or no longer manages every credential. Those
/// authorized as a service account keep working.
pub fn stop_those_acting_as(
    conn: &mut Conn,
    user_id: i32,
    why: &str,
    changes: &mut super::Changes,
) -> Result<(), Failure> {
    for integration in Integration::connected_as_user(conn, user_id)? {
        let partner = partner_name(conn, &integration)?;
        if Integration::disconnect(conn, integration.id, None, db::now())? {
            changes
                .families
                .extend(TokenFamily::revoke_all_of(conn, integration.id, db::now())?);
            audit::record(
                conn,
                &Actor::System("Dev Center"),
                &Event::integration_disconnected(integration.id, &partner, why),
            )?;
            changes.integrations.push(integration.id);
        }
    }
    Ok(())
}

fn partner_name(conn: &mut Conn, integration: &Integration) -> Result<String, Failure> {
    let app = Credential::find(conn, integration.credential_id)?
        .and_then(|c| c.client_application_id)
        .map(|id| ClientApplication::find(conn, id))
        .transpose()?
        .flatten();
    Ok(app.map_or_else(|| "a removed application".to_owned(), |a| a.name))
}

/// 256 bits from the operating system's CSPRNG, base64url: a code or a refresh token.
fn secret_text() -> SecretString {
    let mut bytes = [0u8; 32];
    UnwrapErr(SysRng).fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes).into()
}

fn hash_of(text: &str) -> [u8; 32] {
    *blake3::hash(text.as_bytes()).as_bytes()
}
