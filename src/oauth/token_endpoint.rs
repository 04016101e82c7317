//! The authorization server's HTTP side: `POST /oauth/token` (client credentials),
//! `POST /oauth/introspect` (RFC 7662) and the RFC 8414 metadata. Requests are read as
//! RFC 6749 says (form body, each parameter at most once, client authentication by HTTP
//! Basic or by form fields but not both); refusals are RFC 6749 section 5.2 JSON.
//!
//! Written here rather than with `oxide-auth`: its grant flows keep clients, grants and
//! issued tokens behind its own `Registrar`/`Authorizer`/`Issuer` traits and own the
//! request parsing, while our clients are rows checked in one transaction with their
//! scopes and acting user, and our tokens are JWTs signed by `oauth::signing` and
//! checked live at the gate. What remains to write is only the wire format: a handful of
//! fields in and out, tested against a real OAuth client (the `oauth2` crate).

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, SecondsFormat, Utc};
use rand::RngExt;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::client_address;
use crate::db::Pool;
use crate::gate::Gate;
use crate::gate::live_keys::LiveKeys;
use crate::oauth::access_token::{AUDIENCE, AccessClaims};
use crate::oauth::signing::{SigningKeys, TOKEN_LIFETIME};
use crate::rules::words::ApiType;
use crate::use_cases::tokens::{self, ClientCredentials, TokenGrant, TokenRefusal};
use crate::use_cases::{AfterCommit, Changes, Committed, Failure, integrations};
use crate::web::database;

/// Paths of the authorization server.
pub const TOKEN: &str = "/oauth/token";
pub const INTROSPECT: &str = "/oauth/introspect";
pub const METADATA: &str = "/.well-known/oauth-authorization-server";
pub const JWKS: &str = "/.well-known/jwks.json";
pub const AUTHORIZE: &str = "/oauth/authorize";

/// Longest token request read: a few short fields.
const MAX_REQUEST_BYTES: usize = 8 * 1024;

/// What the token endpoint shares across requests.
pub struct TokenEndpoint {
    pub pool: Pool,
    pub keys: Arc<LiveKeys>,
    /// The one post-commit step (the gate's live keys).
    pub after_commit: Arc<dyn AfterCommit>,
    pub signing: Arc<SigningKeys>,
    /// This server's issuer identifier: `iss` in every token, and the metadata's base.
    pub issuer: String,
    /// Every v3 scope, for the metadata.
    pub scopes_supported: Vec<String>,
}

/// A refusal in RFC 6749 section 5.2's shape.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        let status = match error {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    fn response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        no_store(&mut response);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="devcenter""#));
        }
        response.json(json!({ "error": self.error, "error_description": self.description }))
    }
}

impl From<TokenRefusal> for OAuthError {
    fn from(refusal: TokenRefusal) -> Self {
        match refusal {
            TokenRefusal::InvalidClient(text) => Self::new("invalid_client", text),
            TokenRefusal::InvalidRequest(text) => Self::new("invalid_request", text),
            TokenRefusal::InvalidScope(text) => Self::new("invalid_scope", text),
            TokenRefusal::UnauthorizedClient(text) => Self::new("unauthorized_client", text),
            TokenRefusal::InvalidGrant(text) => Self::new("invalid_grant", text),
            TokenRefusal::Expired(text) => Self::new("invalid_client", text),
        }
    }
}

/// The grant a token request asks for.
#[derive(Debug, Clone, Copy)]
enum Grant {
    ClientCredentials,
    AuthorizationCode,
    RefreshToken,
}

/// A token request's outcome, and what its transaction changed (a code or refresh token
/// presented twice revokes its family even though the request is refused).
struct Answered {
    grant: Result<TokenGrant, TokenRefusal>,
    changes: Option<Changes>,
}

impl Answered {
    fn now(grant: Result<TokenGrant, TokenRefusal>) -> Self {
        Self {
            grant,
            changes: None,
        }
    }

    fn committed(committed: Committed<Result<TokenGrant, TokenRefusal>>) -> Self {
        Self {
            grant: committed.value,
            changes: Some(committed.changes),
        }
    }
}

impl TokenEndpoint {
    /// Hands what a committed grant changed to the gate's post-commit step.
    async fn after_commit(&self, changes: &Changes) {
        if changes.is_empty() {
            return;
        }
        let (pool, after_commit, changes) = (
            self.pool.clone(),
            self.after_commit.clone(),
            changes.clone(),
        );
        let done = web::block(move || {
            let mut conn = pool.get()?;
            after_commit.after_commit(&mut conn, &changes);
            Ok::<_, anyhow::Error>(())
        })
        .await;
        if !matches!(done, Ok(Ok(()))) {
            tracing::warn!(
                "the gate was not told of a token grant's changes; the next reconcile will"
            );
        }
    }
}

/// Token answers are never cached (RFC 6749 section 5.1).
fn no_store(response: &mut actix_web::HttpResponseBuilder) {
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
}

/// A form body's parameters; a parameter sent twice is refused, as RFC 6749 section 3.2
/// requires.
fn parameters(req: &HttpRequest, body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return Err(OAuthError::new(
            "invalid_request",
            "Send the parameters as an application/x-www-form-urlencoded body.",
        ));
    }
    let mut parameters = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        if parameters
            .insert(name.clone().into_owned(), value.into_owned())
            .is_some()
        {
            return Err(OAuthError::new(
                "invalid_request",
                format!("The parameter {name:?} is sent more than once."),
            ));
        }
    }
    Ok(parameters)
}

/// The client's ID and secret, from HTTP Basic (each form-urlencoded, RFC 6749 section
/// 2.3.1) or from `client_id`/`client_secret` fields; both at once is refused.
fn client_credentials<'a>(
    headers: &HeaderMap,
    parameters: &'a HashMap<String, String>,
    basic: &'a mut Option<(String, String)>,
) -> Result<ClientCredentials<'a>, OAuthError> {
    let in_form = parameters.contains_key("client_secret");
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        if in_form {
            return Err(OAuthError::new(
                "invalid_request",
                "Authenticate the client one way: HTTP Basic or client_id and client_secret fields, not both.",
            ));
        }
        *basic = Some(decode_basic(value).ok_or_else(|| {
            OAuthError::new(
                "invalid_client",
                "The Authorization header is not HTTP Basic client_id:client_secret.",
            )
        })?);
        let (id, secret) = basic
            .as_ref()
            .map(|(i, s)| (i.as_str(), s.as_str()))
            .unwrap_or_default();
        if parameters
            .get("client_id")
            .is_some_and(|form_id| form_id != id)
        {
            return Err(OAuthError::new(
                "invalid_request",
                "client_id differs from the client authenticated by HTTP Basic.",
            ));
        }
        return Ok(ClientCredentials {
            client_id: id,
            client_secret: secret,
        });
    }
    match (parameters.get("client_id"), parameters.get("client_secret")) {
        (Some(id), Some(secret)) => Ok(ClientCredentials {
            client_id: id,
            client_secret: secret,
        }),
        _ => Err(OAuthError::new(
            "invalid_client",
            "Client authentication is missing: send client_id and client_secret by HTTP Basic or as form fields.",
        )),
    }
}

fn decode_basic(value: &HeaderValue) -> Option<(String, String)> {
    let value = value.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") || encoded.trim().len() > 1024 {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((percent_decode(id)?, percent_decode(secret)?))
}

/// `application/x-www-form-urlencoded` decoding of one value (`+` is a space).
fn percent_decode(text: &str) -> Option<String> {
    let pair = format!("v={text}");
    let (name, value) = url::form_urlencoded::parse(pair.as_bytes()).next()?;
    (name == "v").then(|| value.into_owned())
}

/// `POST /oauth/token`.
pub async fn token(
    req: HttpRequest,
    body: web::Bytes,
    endpoint: web::Data<TokenEndpoint>,
    gate: web::Data<Gate>,
) -> HttpResponse {
    match issue(&req, &body, &endpoint, &gate).await {
        Ok(response) => response,
        Err(refused) => refused.response(),
    }
}

async fn issue(
    req: &HttpRequest,
    body: &[u8],
    endpoint: &TokenEndpoint,
    gate: &Gate,
) -> Result<HttpResponse, OAuthError> {
    let address = client_address::of(req);
    if let Some(retry_after) = gate.address_blocked(address) {
        return Ok(HttpResponse::TooManyRequests()
            .insert_header((header::RETRY_AFTER, retry_after.to_string()))
            .json(json!({
                "error": "invalid_request",
                "error_description": "Too many failed authentications from your address. Try again later.",
            })));
    }
    if body.len() > MAX_REQUEST_BYTES {
        return Err(OAuthError::new(
            "invalid_request",
            "The request body is too long.",
        ));
    }
    let parameters = parameters(req, body)?;
    let grant_type = match parameters.get("grant_type").map(String::as_str) {
        None | Some("") => {
            return Err(OAuthError::new("invalid_request", "grant_type is missing."));
        }
        Some("client_credentials") => Grant::ClientCredentials,
        Some("authorization_code") => Grant::AuthorizationCode,
        Some("refresh_token") => Grant::RefreshToken,
        Some(_) => {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                "This server issues tokens for grant_type client_credentials, authorization_code and refresh_token.",
            ));
        }
    };
    let mut basic = None;
    let client = client_credentials(req.headers(), &parameters, &mut basic)?;
    let (client_id, client_secret) = (client.client_id.to_owned(), client.client_secret.to_owned());
    let field = |name: &str| parameters.get(name).cloned();
    let (sub, scope) = (field("sub"), field("scope"));
    let (code, redirect_uri, verifier, refresh) = (
        field("code"),
        field("redirect_uri"),
        field("code_verifier"),
        field("refresh_token"),
    );
    let answered = database::run(&endpoint.pool, move |conn| {
        let client = ClientCredentials {
            client_id: &client_id,
            client_secret: &client_secret,
        };
        let (credential, secret_id) = match tokens::authenticate(conn, &client, address) {
            Ok(authenticated) => authenticated,
            Err(refused) => return Ok(Answered::now(Err(refused))),
        };
        let partner = credential.api_type == ApiType::OauthClient;
        match grant_type {
            Grant::ClientCredentials if partner => Ok(Answered::now(Err(TokenRefusal::UnauthorizedClient(
                "A partner's OAuth client gets tokens through the authorization code flow, with a person's consent.",
            )))),
            Grant::ClientCredentials => Ok(Answered::now(tokens::client_credentials(
                conn,
                &credential,
                secret_id,
                sub.as_deref(),
                scope.as_deref(),
            ))),
            Grant::AuthorizationCode | Grant::RefreshToken if !partner => {
                Ok(Answered::now(Err(TokenRefusal::UnauthorizedClient(
                    "This credential gets tokens with grant_type=client_credentials.",
                ))))
            }
            Grant::AuthorizationCode => {
                let (Some(code), Some(redirect_uri)) = (code, redirect_uri) else {
                    return Ok(Answered::now(Err(TokenRefusal::InvalidRequest(
                        "code and redirect_uri are required.".into(),
                    ))));
                };
                integrations::exchange_code(
                    conn,
                    &credential,
                    secret_id,
                    &code,
                    &redirect_uri,
                    verifier.as_deref(),
                )
                .map(Answered::committed)
            }
            Grant::RefreshToken => {
                let Some(refresh) = refresh else {
                    return Ok(Answered::now(Err(TokenRefusal::InvalidRequest(
                        "refresh_token is required.".into(),
                    ))));
                };
                integrations::refresh(conn, &credential, secret_id, &refresh, scope.as_deref())
                    .map(Answered::committed)
            }
        }
    })
    .await
    .map_err(|error: Failure| {
        tracing::error!(error = format!("{error:#}"), "token request not answered");
        OAuthError::new("invalid_request", "The token endpoint cannot answer right now; try again.")
    })?;
    if let Some(changes) = &answered.changes {
        endpoint.after_commit(changes).await;
    }
    let grant = answered.grant.inspect_err(|refusal| {
        if matches!(refusal, TokenRefusal::InvalidClient(_)) {
            gate.record_failed_authentication(address);
        }
    })?;
    let response = signed(endpoint, &grant)?;
    if let Some(key) = endpoint.keys.credential(grant.credential_id) {
        key.activity.record_secret(
            grant.secret_id,
            Utc::now().timestamp_millis(),
            address,
            req.headers().get(header::USER_AGENT),
        );
    }
    tracing::info!(
        credential_id = grant.credential_id,
        scopes = grant.scopes.len(),
        "access token issued"
    );
    Ok(response)
}

/// The grant as a signed access token, in RFC 6749 section 5.1's answer (plus
/// `expires_at`, which real clients read).
fn signed(endpoint: &TokenEndpoint, grant: &TokenGrant) -> Result<HttpResponse, OAuthError> {
    let issued = Utc::now();
    let lifetime = i64::try_from(TOKEN_LIFETIME.as_secs()).unwrap_or(3600);
    let expires = issued + chrono::Duration::seconds(lifetime);
    let scope = grant.scopes.join(" ");
    let integration = grant.integration.as_ref();
    let claims = AccessClaims {
        iss: endpoint.issuer.clone(),
        sub: grant
            .acting
            .subject(&grant.client_id, integration.map(|i| i.integration_id)),
        aud: AUDIENCE.to_owned(),
        client_id: grant.client_id.clone(),
        scope: scope.clone(),
        iat: issued.timestamp(),
        exp: expires.timestamp(),
        jti: URL_SAFE_NO_PAD.encode(rand::rng().random::<[u8; 16]>()),
        secret_id: grant.secret_id,
        integration_id: integration.map(|i| i.integration_id),
        family_id: integration.map(|i| i.family_id),
    };
    let token = endpoint.signing.sign(&claims).map_err(|error| {
        tracing::error!(error = format!("{error:#}"), "cannot sign an access token");
        OAuthError::new(
            "invalid_request",
            "The token endpoint cannot sign right now; try again.",
        )
    })?;
    let mut response = HttpResponse::Ok();
    no_store(&mut response);
    let mut answer = json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "expires_at": rfc3339(expires),
        "scope": scope,
    });
    if let Some(integration) = integration {
        answer["refresh_token"] = Value::from(integration.refresh_token.expose_secret());
    }
    Ok(response.json(answer))
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `POST /oauth/introspect` (RFC 7662): a client learns whether one of its own tokens is
/// active, and what it says. Another client's token, or anything that is not a live
/// token, is `{"active": false}`.
pub async fn introspect(
    req: HttpRequest,
    body: web::Bytes,
    endpoint: web::Data<TokenEndpoint>,
    gate: web::Data<Gate>,
) -> HttpResponse {
    match introspection(&req, &body, &endpoint, &gate).await {
        Ok(answer) => {
            let mut response = HttpResponse::Ok();
            no_store(&mut response);
            response.json(answer)
        }
        Err(refused) => refused.response(),
    }
}

async fn introspection(
    req: &HttpRequest,
    body: &[u8],
    endpoint: &TokenEndpoint,
    gate: &Gate,
) -> Result<Value, OAuthError> {
    let address = client_address::of(req);
    if gate.address_blocked(address).is_some() {
        return Err(OAuthError::new(
            "invalid_client",
            "Too many failed authentications from your address. Try again later.",
        ));
    }
    let parameters = parameters(req, body)?;
    let Some(token) = parameters.get("token").filter(|t| !t.is_empty()).cloned() else {
        return Err(OAuthError::new("invalid_request", "token is missing."));
    };
    let mut basic = None;
    let client = client_credentials(req.headers(), &parameters, &mut basic)?;
    let (client_id, client_secret) = (client.client_id.to_owned(), client.client_secret.to_owned());
    let authenticated = database::run(&endpoint.pool, move |conn| {
        let client = ClientCredentials {
            client_id: &client_id,
            client_secret: &client_secret,
        };
        Ok::<_, anyhow::Error>(tokens::authenticate(conn, &client, address))
    })
    .await
    .map_err(|error| {
        tracing::error!(error = format!("{error:#}"), "introspection not answered");
        OAuthError::new(
            "invalid_request",
            "The introspection endpoint cannot answer right now; try again.",
        )
    })?;
    let (credential, _) = authenticated.inspect_err(|refusal| {
        if matches!(refusal, TokenRefusal::InvalidClient(_)) {
            gate.record_failed_authentication(address);
        }
    })?;
    let inactive = json!({ "active": false });
    let Some(claims) = gate.live_claims(&token) else {
        return Ok(inactive);
    };
    if Some(&claims.client_id) != credential.client_id.as_ref() {
        return Ok(inactive);
    }
    Ok(json!({
        "active": true,
        "token_type": "Bearer",
        "client_id": claims.client_id,
        "sub": claims.sub,
        "scope": claims.scope,
        "iss": claims.iss,
        "aud": claims.aud,
        "iat": claims.iat,
        "exp": claims.exp,
        "jti": claims.jti,
    }))
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
pub async fn metadata(endpoint: web::Data<TokenEndpoint>) -> HttpResponse {
    let issuer = &endpoint.issuer;
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(json!({
            "issuer": issuer,
            "token_endpoint": format!("{issuer}{TOKEN}"),
            "jwks_uri": format!("{issuer}{JWKS}"),
            "introspection_endpoint": format!("{issuer}{INTROSPECT}"),
            "authorization_endpoint": format!("{issuer}{AUTHORIZE}"),
            "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "token_endpoint_auth_signing_alg_values_supported": ["EdDSA"],
            "scopes_supported": endpoint.scopes_supported,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_client_authentication_is_form_urlencoded_parts() {
        let header = |raw: &str| {
            HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(raw))).expect("a header")
        };
        assert_eq!(
            decode_basic(&header("dci_abc:dcs_x%2By+z")),
            Some(("dci_abc".into(), "dcs_x+y z".into()))
        );
        assert_eq!(decode_basic(&header("no-colon")), None);
        assert_eq!(decode_basic(&HeaderValue::from_static("Bearer abc")), None);
        assert_eq!(decode_basic(&HeaderValue::from_static("Basic !!!")), None);
    }
}
