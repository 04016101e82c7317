//! Harvest v3 (OAuth): a partner's program obtains access tokens with a real OAuth client
//! (the `oauth2` crate) and calls `/harvest/v3`; an upstream verifies the tokens from the
//! JWKS alone; and every bad token request and every bad token gets its exact answer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use devcenter::oauth::access_token::AccessClaims;
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{AuthType, ClientId, ClientSecret, RequestTokenError, Scope, TokenResponse, TokenUrl};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Person, TestApp, V3Credential};
use crate::upstream::TestUpstream;

const LIST_CANDIDATES: &str = "harvest:candidates:list";
const LIST_JOBS: &str = "harvest:jobs:list";
const UPDATE_CANDIDATES: &str = "harvest:candidates:update";

/// The suite's reqwest client as the `oauth2` crate's HTTP client.
pub fn http_client() -> impl Fn(
    oauth2::HttpRequest,
) -> std::pin::Pin<
    Box<dyn Future<Output = Result<oauth2::HttpResponse, reqwest::Error>> + Send>,
> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    move |request: oauth2::HttpRequest| {
        let client = client.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut sent = client
                .request(parts.method, parts.uri.to_string())
                .body(body);
            for (name, value) in &parts.headers {
                sent = sent.header(name, value);
            }
            let answer = sent.send().await?;
            let mut response = http::Response::builder().status(answer.status());
            for (name, value) in answer.headers() {
                response = response.header(name, value);
            }
            let body = answer.bytes().await?.to_vec();
            Ok(response.body(body).expect("a response"))
        })
    }
}

type Client = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn oauth_client(app: &TestApp, credential: &V3Credential) -> Client {
    BasicClient::new(ClientId::new(credential.client_id.clone()))
        .set_client_secret(ClientSecret::new(credential.client_secret.clone()))
        .set_token_uri(TokenUrl::new(format!("http://{}/oauth/token", app.address)).expect("a URL"))
}

/// A token for `credential` from the `oauth2` crate, with `scopes` (all when empty).
async fn token(app: &TestApp, credential: &V3Credential, scopes: &[&str]) -> String {
    let client = oauth_client(app, credential);
    let mut request = client.exchange_client_credentials();
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    let answer = request
        .request_async(&http_client())
        .await
        .expect("a token");
    answer.access_token().secret().clone()
}

/// A raw token request, as any HTTP client could send it.
async fn token_request(
    app: &TestApp,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut request = reqwest::Client::new()
        .post(format!("http://{}/oauth/token", app.address))
        .form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let answer = request.send().await.expect("the token endpoint answers");
    let status = answer.status();
    let headers = answer.headers().clone();
    (status, answer.json().await.unwrap_or(Value::Null), headers)
}

/// A call to the gate with a bearer token.
async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut request =
        reqwest::Client::new().request(method, format!("http://{}{path}", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.expect("the gate answers");
    let status = answer.status();
    let headers = answer.headers().clone();
    (status, answer.json().await.unwrap_or(Value::Null), headers)
}

fn challenge(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn v3_credential(admin: &Person, scopes: &[&str]) -> V3Credential {
    admin
        .v3_credential_with_scopes("Reporting sync", scopes)
        .await
}

#[tokio::test]
async fn a_partner_obtains_a_token_with_an_oauth_client_and_calls_v3_within_its_scopes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let credential = v3_credential(&admin, &[LIST_CANDIDATES, LIST_JOBS]).await;

    let answer = oauth_client(&app, &credential)
        .exchange_client_credentials()
        .request_async(&http_client())
        .await
        .expect("a token");
    assert_eq!(answer.token_type(), &oauth2::basic::BasicTokenType::Bearer);
    assert_eq!(answer.expires_in(), Some(Duration::from_secs(3600)));
    let mut scopes: Vec<String> = answer
        .scopes()
        .expect("the scopes")
        .iter()
        .map(|s| s.to_string())
        .collect();
    scopes.sort();
    assert_eq!(scopes, vec![LIST_CANDIDATES, LIST_JOBS]);
    let token = answer.access_token().secret().clone();

    let (status, body, headers) = call(
        &app,
        reqwest::Method::GET,
        "/harvest/v3/candidates?per_page=2",
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["endpoint"]["scope"], LIST_CANDIDATES);
    assert_eq!(body["credential"]["id"], credential.id);
    assert_eq!(body["credential"]["type"], "harvest_v3");
    assert!(headers.contains_key("x-ratelimit-remaining"));

    // HEAD goes wherever GET does; a scope the token lacks is RFC 6750's insufficient_scope.
    let (status, _, _) = call(
        &app,
        reqwest::Method::HEAD,
        "/harvest/v3/jobs",
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, headers) = call(
        &app,
        reqwest::Method::PATCH,
        "/harvest/v3/candidates/7",
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        challenge(&headers),
        format!(
            r#"Bearer realm="devcenter", error="insufficient_scope", scope="{UPDATE_CANDIDATES}""#
        )
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains(UPDATE_CANDIDATES)
    );
    let (status, _, _) = call(
        &app,
        reqwest::Method::GET,
        "/harvest/v3/payroll",
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A narrower token opens only what it asked for.
    let narrow = self::token(&app, &credential, &[LIST_JOBS]).await;
    let (status, _, _) = call(
        &app,
        reqwest::Method::GET,
        "/harvest/v3/jobs",
        Some(&narrow),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, headers) = call(
        &app,
        reqwest::Method::GET,
        "/harvest/v3/candidates",
        Some(&narrow),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(challenge(&headers).contains("insufficient_scope"));

    // The raw answer carries expires_at too, an hour from now.
    let (status, body, headers) = token_request(
        &app,
        Some((&credential.client_id, &credential.client_secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().expect("expires_at"))
            .expect("RFC 3339");
    let in_an_hour = chrono::Utc::now() + chrono::Duration::hours(1);
    assert!(
        (expires_at.timestamp() - in_an_hour.timestamp()).abs() <= 5,
        "{expires_at}"
    );

    // The client secret is never stored or logged; its use is recorded.
    assert!(!String::from_utf8_lossy(&app.everything_stored()).contains(&credential.client_secret));
    assert!(!app.logs().contains(&credential.client_secret));
    assert!(!app.logs().contains(&token));
}

#[tokio::test]
async fn an_upstream_verifies_tokens_from_the_jwks_alone_and_receives_exactly_what_was_authorized()
{
    let upstream = TestUpstream::start();
    let app = TestApp::spawn_with(&["--harvest-upstream", &upstream.url]).await;
    let admin = app.admin().await;
    let credential = v3_credential(&admin, &[LIST_CANDIDATES]).await;
    let user = app.user_id(&app.admin_email);
    let (status, body, _) = token_request(
        &app,
        Some((&credential.client_id, &credential.client_secret)),
        &[
            ("grant_type", "client_credentials"),
            ("sub", &user.to_string()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().expect("a token").to_owned();

    let answer = reqwest::Client::new()
        .get(format!(
            "http://{}/harvest/v3/candidates?per_page=2",
            app.address
        ))
        .bearer_auth(&token)
        .header("On-Behalf-Of", "1")
        .send()
        .await
        .expect("the gate answers");
    assert_eq!(answer.status(), StatusCode::CREATED);
    let seen = upstream.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, "/v3/candidates?per_page=2");
    assert_eq!(
        seen[0].credential.as_deref(),
        Some(credential.id.to_string().as_str())
    );
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(
        seen[0].on_behalf_of, None,
        "v3 names the acting user in the token only"
    );

    // What an upstream does: read the issuer's metadata and keys, and verify on its own.
    let metadata: Value = reqwest::get(format!(
        "http://{}/.well-known/oauth-authorization-server",
        app.address
    ))
    .await
    .expect("metadata")
    .json()
    .await
    .expect("JSON");
    let issuer = metadata["issuer"].as_str().expect("an issuer");
    assert_eq!(metadata["token_endpoint"], format!("{issuer}/oauth/token"));
    assert_eq!(
        metadata["introspection_endpoint"],
        format!("{issuer}/oauth/introspect")
    );
    assert_eq!(
        metadata["scopes_supported"].as_array().map(Vec::len),
        Some(147)
    );
    let jwks: jsonwebtoken::jwk::JwkSet =
        reqwest::get(metadata["jwks_uri"].as_str().expect("jwks_uri"))
            .await
            .expect("the JWKS")
            .json()
            .await
            .expect("a key set");
    let header = jsonwebtoken::decode_header(&token).expect("a JWT header");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    let jwk = jwks
        .find(header.kid.as_deref().expect("a kid"))
        .expect("the signing key is published");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&["harvest"]);
    let claims = jsonwebtoken::decode::<AccessClaims>(
        &token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).expect("a key"),
        &validation,
    )
    .expect("the upstream verifies the token")
    .claims;
    assert_eq!(claims.sub, user.to_string());
    assert_eq!(claims.client_id, credential.client_id);
    assert_eq!(claims.scope, LIST_CANDIDATES);
    assert_eq!(claims.exp - claims.iat, 3600);
    assert!(!claims.jti.is_empty());
}

#[tokio::test]
async fn client_authentication_by_form_fields_works_and_both_ways_at_once_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let credential = v3_credential(&admin, &[LIST_JOBS]).await;
    let answer = oauth_client(&app, &credential)
        .set_auth_type(AuthType::RequestBody)
        .exchange_client_credentials()
        .request_async(&http_client())
        .await
        .expect("a token with form authentication");
    let token = answer.access_token().secret();
    assert_eq!(
        call(&app, reqwest::Method::GET, "/harvest/v3/jobs", Some(token))
            .await
            .0,
        StatusCode::OK
    );

    let (status, body, _) = token_request(
        &app,
        Some((&credential.client_id, &credential.client_secret)),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &credential.client_id),
            ("client_secret", &credential.client_secret),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
}

/// What an OAuth client sees for a refused token request.
async fn refused(
    app: &TestApp,
    credential: &V3Credential,
    secret: &str,
    extra: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    let (status, body, headers) =
        token_request(app, Some((&credential.client_id, secret)), &form).await;
    let error = body["error"].as_str().unwrap_or_default().to_owned();
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    if status == StatusCode::UNAUTHORIZED {
        assert_eq!(challenge(&headers), r#"Basic realm="devcenter""#);
    }
    (
        status,
        error,
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn every_bad_token_request_has_its_exact_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let credential = v3_credential(&admin, &[LIST_JOBS]).await;
    let secret = credential.client_secret.clone();
    let invalid_client = (StatusCode::UNAUTHORIZED, "invalid_client".to_owned());
    let err = |r: (StatusCode, String, String)| (r.0, r.1);

    // The oauth2 crate reads a wrong secret as the server's invalid_client.
    let mut wrong = V3Credential {
        id: credential.id,
        client_id: credential.client_id.clone(),
        // The last character changed (to one it is not), so the checksum fails.
        client_secret: format!(
            "{}{}",
            &secret[..secret.len() - 1],
            if secret.ends_with('x') { 'y' } else { 'x' }
        ),
    };
    match oauth_client(&app, &wrong)
        .exchange_client_credentials()
        .request_async(&http_client())
        .await
    {
        Err(RequestTokenError::ServerResponse(error)) => {
            assert_eq!(error.error(), &BasicErrorResponseType::InvalidClient)
        }
        other => panic!("expected invalid_client, got {other:?}"),
    }
    let another =
        devcenter::rules::keys::ApiKey::generate(devcenter::rules::words::ApiType::HarvestV3);
    assert_eq!(
        err(refused(&app, &credential, another.reveal(), &[]).await),
        invalid_client,
        "a well-formed secret of nobody"
    );
    wrong.client_id = "dci_nobodynobodynobodynob".into();
    assert_eq!(
        err(refused(&app, &wrong, &secret, &[]).await),
        invalid_client,
        "an unknown client"
    );

    // A Basic header that does not decode, and none at all.
    for header in ["Basic !!!", "Basic ZGNpX29ubHk=", "Bearer abc"] {
        let answer = reqwest::Client::new()
            .post(format!("http://{}/oauth/token", app.address))
            .header("Authorization", header)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("an answer");
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{header}");
        let body: Value = answer.json().await.expect("JSON");
        assert_eq!(body["error"], "invalid_client", "{header}");
    }
    let (status, body, _) =
        token_request(&app, None, &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );

    // grant_type: missing, unsupported; a parameter twice.
    let (status, body, _) = token_request(&app, Some((&credential.client_id, &secret)), &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (status, body, _) = token_request(
        &app,
        Some((&credential.client_id, &secret)),
        &[("grant_type", "password")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
    let (status, body, _) = token_request(
        &app,
        Some((&credential.client_id, &secret)),
        &[
            ("grant_type", "client_credentials"),
            ("scope", LIST_JOBS),
            ("scope", LIST_JOBS),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );

    // Scopes: unknown, broader than the credential's.
    let (status, error, description) = refused(
        &app,
        &credential,
        &secret,
        &[("scope", "harvest:nothing:list")],
    )
    .await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_scope")
    );
    assert!(
        description.contains("harvest:nothing:list"),
        "{description}"
    );
    let (status, error, _) = refused(
        &app,
        &credential,
        &secret,
        &[("scope", &format!("{LIST_JOBS} {LIST_CANDIDATES}"))],
    )
    .await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_scope")
    );

    // sub: not a user, unknown, disabled.
    app.create_user("gone@example.com", "basic", &[]);
    let gone = app.user_id("gone@example.com");
    let disabled = admin
        .post(
            &format!("/configure/users/{gone}"),
            &[("level", "basic"), ("disabled", "on")],
        )
        .await;
    assert!(disabled.status.is_redirection(), "{}", disabled.body);
    for sub in ["alice", "999999", &gone.to_string()] {
        let (status, error, _) = refused(&app, &credential, &secret, &[("sub", sub)]).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "sub {sub}"
        );
    }

    // A revoked credential.
    let revoked = admin.revoke(credential.id).await;
    assert!(revoked.status.is_redirection());
    let (status, error, description) = refused(&app, &credential, &secret, &[]).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    assert!(description.contains("revoked"), "{description}");
}

/// Signs `claims` with the server's own current signing key, read as an attacker who had
/// it (or a clock moved on) would: for tokens the server would never issue itself.
fn signed_by_the_server(app: &TestApp, claims: &AccessClaims) -> String {
    let sealing = devcenter::oauth::sealing::SealingKey::load_or_create(&app.sealing_key_file())
        .expect("the sealing key");
    let mut conn = app.connection();
    let keys = devcenter::oauth::signing::SigningKeys::ensure_and_load(&mut conn, &sealing)
        .expect("the signing keys");
    keys.sign(claims).expect("signed")
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

#[tokio::test]
async fn the_gate_refuses_every_token_it_did_not_issue_as_it_stands() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let credential = v3_credential(&admin, &[LIST_JOBS]).await;
    let good = token(&app, &credential, &[]).await;
    assert_eq!(
        call(&app, reqwest::Method::GET, "/harvest/v3/jobs", Some(&good))
            .await
            .0,
        StatusCode::OK
    );
    let parts: Vec<&str> = good.split('.').collect();
    let payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64")).expect("claims");
    let claims: AccessClaims = serde_json::from_value(payload.clone()).expect("our claims");

    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    // alg none, no signature.
    let none = format!(
        "{}.{}.",
        encode(&serde_json::json!({"alg": "none", "typ": "JWT"})),
        parts[1]
    );
    // HS256 with the published public key as the HMAC secret.
    let jwks: jsonwebtoken::jwk::JwkSet =
        reqwest::get(format!("http://{}/.well-known/jwks.json", app.address))
            .await
            .expect("the JWKS")
            .json()
            .await
            .expect("a key set");
    let public = match &jwks.keys[0].algorithm {
        jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(okp) => {
            URL_SAFE_NO_PAD.decode(&okp.x).expect("x")
        }
        other => panic!("an Ed25519 key, not {other:?}"),
    };
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.kid = jwks.keys[0].common.key_id.clone();
    let hs256 = jsonwebtoken::encode(
        &hs_header,
        &payload,
        &jsonwebtoken::EncodingKey::from_secret(&public).expect("an HMAC key"),
    )
    .expect("HS256");
    // The payload changed after signing: a broader scope.
    let mut broader = payload.clone();
    broader["scope"] = Value::from(format!("{LIST_JOBS} {LIST_CANDIDATES}"));
    let tampered = format!("{}.{}.{}", parts[0], encode(&broader), parts[2]);
    // Signed by the server's key, but expired, or for another issuer or audience.
    let expired = signed_by_the_server(
        &app,
        &AccessClaims {
            iat: now() - 7200,
            exp: now() - 60,
            ..claims.clone()
        },
    );
    let elsewhere = signed_by_the_server(
        &app,
        &AccessClaims {
            iss: "https://evil.example".into(),
            ..claims.clone()
        },
    );
    let other_audience = signed_by_the_server(
        &app,
        &AccessClaims {
            aud: "jobs".into(),
            ..claims.clone()
        },
    );
    // Signed by another Ed25519 key under the server's kid.
    let stranger = {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let der = ed25519_dalek::pkcs8::EncodePrivateKey::to_pkcs8_der(&key).expect("DER");
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = jwks.keys[0].common.key_id.clone();
        jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes()),
        )
        .expect("signed")
    };

    for (what, token) in [
        ("alg none", none.as_str()),
        ("HS256 with the public key", &hs256),
        ("a tampered payload", &tampered),
        ("an expired token", &expired),
        ("another issuer", &elsewhere),
        ("another audience", &other_audience),
        ("another key", &stranger),
        ("not a JWT", "abc"),
    ] {
        let (status, body, headers) =
            call(&app, reqwest::Method::GET, "/harvest/v3/jobs", Some(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
        assert!(
            challenge(&headers).starts_with(r#"Bearer realm="devcenter", error="invalid_token""#),
            "{what}: {}",
            challenge(&headers)
        );
        assert!(body["message"].is_string(), "{what}");
    }
    let (status, _, headers) = call(&app, reqwest::Method::GET, "/harvest/v3/jobs", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge(&headers).contains(r#"error="invalid_token""#));
    let expired_message = call(
        &app,
        reqwest::Method::GET,
        "/harvest/v3/jobs",
        Some(&expired),
    )
    .await
    .1;
    assert!(
        expired_message["message"]
            .as_str()
            .unwrap_or_default()
            .contains("expired")
    );

    // A v1 key is not a v3 credential, and a token is not a v1 key.
    let (key, _) = admin.new_key("harvest", "Old key").await;
    let basic = reqwest::Client::new()
        .get(format!("http://{}/harvest/v3/jobs", app.address))
        .basic_auth(&key, Some(""))
        .send()
        .await
        .expect("an answer");
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    let (status, _, headers) =
        call(&app, reqwest::Method::GET, "/harvest/v1/jobs", Some(&good)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge(&headers).starts_with("Basic"));
    // The good token still works: nothing above changed it.
    assert_eq!(
        call(&app, reqwest::Method::GET, "/harvest/v3/jobs", Some(&good))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn revoking_removing_a_scope_or_disabling_the_acting_user_stops_tokens_on_the_next_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let credential = v3_credential(&admin, &[LIST_JOBS, LIST_CANDIDATES]).await;
    app.create_user("acting@example.com", "basic", &[]);
    let acting = app.user_id("acting@example.com");
    let as_user = {
        let (status, body, _) = token_request(
            &app,
            Some((&credential.client_id, &credential.client_secret)),
            &[
                ("grant_type", "client_credentials"),
                ("sub", &acting.to_string()),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().expect("a token").to_owned()
    };
    let service = token(&app, &credential, &[]).await;
    let get = |path: &'static str, token: String| {
        let app = &app;
        async move { call(app, reqwest::Method::GET, path, Some(&token)).await }
    };
    for token in [&as_user, &service] {
        assert_eq!(
            get("/harvest/v3/candidates", token.clone()).await.0,
            StatusCode::OK
        );
    }

    // A scope removed from the credential stops at once, though the tokens carry it.
    let saved = admin.update_scopes(credential.id, &[LIST_JOBS]).await;
    assert!(saved.status.is_redirection(), "{}", saved.body);
    let (status, _, headers) = get("/harvest/v3/candidates", service.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(challenge(&headers).contains("insufficient_scope"));
    assert_eq!(
        get("/harvest/v3/jobs", service.clone()).await.0,
        StatusCode::OK
    );

    // The acting user disabled: their tokens stop; the service account's do not.
    let disabled = admin
        .post(
            &format!("/configure/users/{acting}"),
            &[("level", "basic"), ("disabled", "on")],
        )
        .await;
    assert!(disabled.status.is_redirection(), "{}", disabled.body);
    let (status, _, headers) = get("/harvest/v3/jobs", as_user.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge(&headers).contains("invalid_token"));
    assert_eq!(
        get("/harvest/v3/jobs", service.clone()).await.0,
        StatusCode::OK
    );

    // Revoked: every token stops, without waiting for expiry.
    assert!(admin.revoke(credential.id).await.status.is_redirection());
    let (status, body, _) = get("/harvest/v3/jobs", service.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("revoked")
    );
}

#[tokio::test]
async fn introspection_answers_a_client_about_its_own_live_tokens_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ours = v3_credential(&admin, &[LIST_JOBS]).await;
    let theirs = admin
        .v3_credential_with_scopes("Another team", &[LIST_JOBS])
        .await;
    let token = token(&app, &ours, &[]).await;
    let other_token = self::token(&app, &theirs, &[]).await;
    let introspect = |credential: &V3Credential, token: &str| {
        let request = reqwest::Client::new()
            .post(format!("http://{}/oauth/introspect", app.address))
            .basic_auth(&credential.client_id, Some(&credential.client_secret))
            .form(&[("token", token)]);
        async move {
            let answer = request.send().await.expect("an answer");
            (answer.status(), answer.json::<Value>().await.expect("JSON"))
        }
    };
    let (status, active) = introspect(&ours, &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(active["active"], true);
    assert_eq!(active["client_id"], ours.client_id);
    assert_eq!(active["scope"], LIST_JOBS);
    assert_eq!(active["sub"], format!("service-account:{}", ours.client_id));
    assert_eq!(active["token_type"], "Bearer");
    for (what, token) in [
        ("another client's token", other_token.as_str()),
        ("not a token", "abc"),
    ] {
        let (status, answer) = introspect(&ours, token).await;
        assert_eq!(
            (status, answer),
            (StatusCode::OK, serde_json::json!({"active": false})),
            "{what}"
        );
    }
    let unauthenticated = reqwest::Client::new()
        .post(format!("http://{}/oauth/introspect", app.address))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .expect("an answer");
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    assert!(admin.revoke(theirs.id).await.status.is_redirection());
    // Their revocation does not touch ours; ours reads as inactive once its scope is gone.
    assert_eq!(introspect(&ours, &token).await.1["active"], true);
    assert!(
        admin
            .update_scopes(ours.id, &[LIST_CANDIDATES])
            .await
            .status
            .is_redirection()
    );
    assert_eq!(introspect(&ours, &token).await.1["scope"], "");
}

#[tokio::test]
async fn v3_counts_its_own_rate_limit_window() {
    let app = TestApp::spawn_with(&["--v3-rate-limit", "2/30s", "--rate-limit", "100/10s"]).await;
    let admin = app.admin().await;
    let credential = v3_credential(&admin, &[LIST_JOBS]).await;
    let token = token(&app, &credential, &[]).await;
    for remaining in ["1", "0"] {
        let (status, _, headers) =
            call(&app, reqwest::Method::GET, "/harvest/v3/jobs", Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers
                .get("x-ratelimit-limit")
                .and_then(|v| v.to_str().ok()),
            Some("2")
        );
        assert_eq!(
            headers
                .get("x-ratelimit-remaining")
                .and_then(|v| v.to_str().ok()),
            Some(remaining)
        );
    }
    let (status, _, headers) =
        call(&app, reqwest::Method::GET, "/harvest/v3/jobs", Some(&token)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let reset: u64 = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((25..=30).contains(&reset), "a 30-second window: {reset}");
}

#[tokio::test]
async fn a_rotated_signing_key_keeps_old_tokens_valid_and_new_ones_verify_everywhere() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let credential = v3_credential(&admin, &[LIST_JOBS]).await;
    let before = token(&app, &credential, &[]).await;
    let old_kid = jsonwebtoken::decode_header(&before)
        .expect("a header")
        .kid
        .expect("a kid");

    let rotated = crate::helpers::devcenter()
        .args(["rotate-signing-key", "--database", &app.database_argument()])
        .arg(format!(
            "--sealing-key-file={}",
            app.sealing_key_file().display()
        ))
        .output()
        .expect("run rotate-signing-key");
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    let printed = String::from_utf8_lossy(&rotated.stdout);
    assert!(printed.contains("new token signing key"), "{printed}");

    // A token signed with the new key (as another instance would, once it reloaded) is
    // verified here at once: the gate reloads on a kid it does not know.
    let parts: Vec<&str> = before.split('.').collect();
    let claims: AccessClaims =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64")).expect("claims");
    let after = signed_by_the_server(
        &app,
        &AccessClaims {
            jti: "after-rotation".into(),
            ..claims
        },
    );
    let new_kid = jsonwebtoken::decode_header(&after)
        .expect("a header")
        .kid
        .expect("a kid");
    assert_ne!(new_kid, old_kid);
    for token in [&after, &before] {
        assert_eq!(
            call(&app, reqwest::Method::GET, "/harvest/v3/jobs", Some(token))
                .await
                .0,
            StatusCode::OK
        );
    }
    let jwks: Value = reqwest::get(format!("http://{}/.well-known/jwks.json", app.address))
        .await
        .expect("the JWKS")
        .json()
        .await
        .expect("JSON");
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{kids:?}"
    );
    // The private halves are nowhere in plain text, and never published.
    assert!(
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .all(|k| k.get("d").is_none())
    );
}
