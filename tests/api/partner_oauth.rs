//! Partner integrations, the whole authorization code flow driven by a real OAuth client
//! (the `oauth2` crate: an authorization URL with PKCE, the code exchange, refreshes)
//! against the real binary, with a person signing in and consenting in between; and every
//! way the flow must refuse: a redirect URI one character off, a code used twice or too
//! late, a refresh token used twice, a wrong verifier, Deny, a service account asked for
//! by someone who may not.

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Page, Person, TestApp};
use crate::oauth::http_client;

const LIST_CANDIDATES: &str = "harvest:candidates:list";
const LIST_JOBS: &str = "harvest:jobs:list";
const LIST_DEPARTMENTS: &str = "harvest:departments:list";
const REDIRECT: &str = "https://vendor.example/oauth/callback";

/// A partner as its vendor holds it: its OAuth client's ID and secret (and, for the
/// organization's side, its client application and redirect URIs).
struct Partner {
    application_id: i32,
    redirect_uris: String,
    client_id: String,
    client_secret: String,
}

impl Person {
    /// Registers a partner on the Client Applications page: the scopes it asks for, its
    /// redirect URIs, and its OAuth client.
    async fn register_partner(
        &self,
        name: &str,
        scopes: &[&str],
        redirect_uris: &[&str],
    ) -> Partner {
        let application_id = self.client_application_asking(name, &[], scopes).await;
        let redirect_uris = redirect_uris.join("\n");
        let edited = self
            .edit_client_application(application_id, &redirect_uris, scopes)
            .await;
        assert!(edited.status.is_redirection(), "{}", edited.body);
        let client = self.oauth_client(application_id).await;
        Partner {
            application_id,
            redirect_uris,
            client_id: client.client_id,
            client_secret: client.client_secret,
        }
    }

    /// Changes the scopes a partner asks for (its redirect URIs kept).
    async fn set_partner_scopes(&self, partner: &Partner, scopes: &[&str]) {
        let edited = self
            .edit_client_application(partner.application_id, &partner.redirect_uris, scopes)
            .await;
        assert!(edited.status.is_redirection(), "{}", edited.body);
    }
}

type Client = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

/// The vendor's OAuth client, configured as the vendor would.
fn client(app: &TestApp, partner: &Partner, redirect: &str) -> Client {
    BasicClient::new(ClientId::new(partner.client_id.clone()))
        .set_client_secret(ClientSecret::new(partner.client_secret.clone()))
        .set_auth_uri(
            AuthUrl::new(format!("http://{}/oauth/authorize", app.address)).expect("a URL"),
        )
        .set_token_uri(TokenUrl::new(format!("http://{}/oauth/token", app.address)).expect("a URL"))
        .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).expect("a URL"))
}

/// The authorization URL the vendor sends a person to (PKCE S256), its state and verifier.
fn authorization(client: &Client, scopes: &[&str]) -> (String, CsrfToken, PkceCodeVerifier) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    let (url, state) = request.url();
    (url.to_string(), state, verifier)
}

/// The path and query of an absolute URL on the app.
fn local(url: &str) -> String {
    let url = url::Url::parse(url).expect("a URL");
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// The consent form's fields as the page carries them, plus the person's decision.
fn consent_fields(page: &Page, decision: &str, service_account: bool) -> Vec<(String, String)> {
    let html = scraper::Html::parse_document(&page.body);
    let inputs = scraper::Selector::parse(r#"[data-testid="consent-form"] input[type="hidden"]"#)
        .expect("a selector");
    let mut fields: Vec<(String, String)> = html
        .select(&inputs)
        .filter_map(|input| {
            let name = input.value().attr("name")?;
            (name != "csrf_token").then(|| {
                (
                    name.to_owned(),
                    input.value().attr("value").unwrap_or_default().to_owned(),
                )
            })
        })
        .collect();
    fields.push(("decision".into(), decision.into()));
    if service_account {
        fields.push(("service_account".into(), "on".into()));
    }
    fields
}

/// A person opens the authorization URL and answers; the redirect's query parameters.
async fn consent(
    person: &Person,
    url: &str,
    decision: &str,
    service_account: bool,
) -> Vec<(String, String)> {
    let page = person.get(&local(url)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let fields = consent_fields(&page, decision, service_account);
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let answer = person.post("/oauth/authorize", &fields).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let location = answer.location.expect("a redirect");
    assert!(location.starts_with(REDIRECT), "{location}");
    url::Url::parse(&location)
        .expect("a URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The code a person's consent sends back, checked against the state.
async fn code_for(person: &Person, url: &str, state: &CsrfToken, service_account: bool) -> String {
    let query = consent(person, url, "authorize", service_account).await;
    assert_eq!(param(&query, "state"), Some(state.secret().as_str()));
    param(&query, "code").expect("a code").to_owned()
}

async fn gate(app: &TestApp, token: &str, path: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("http://{}{path}", app.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("the gate answers")
        .status()
}

fn invalid_grant<T: std::fmt::Debug>(
    answer: Result<T, RequestTokenError<reqwest::Error, oauth2::basic::BasicErrorResponse>>,
) {
    match answer {
        Err(RequestTokenError::ServerResponse(error)) => {
            assert_eq!(
                error.error(),
                &BasicErrorResponseType::InvalidGrant,
                "{error:?}"
            )
        }
        other => panic!("expected invalid_grant, got {other:?}"),
    }
}

#[tokio::test]
async fn a_partner_connects_with_pkce_refreshes_and_a_reused_refresh_token_revokes_the_family() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let partner = admin
        .register_partner("Acme ATS", &[LIST_CANDIDATES, LIST_JOBS], &[REDIRECT])
        .await;
    let client = client(&app, &partner, REDIRECT);
    let (url, state, verifier) = authorization(&client, &[LIST_CANDIDATES]);

    // Not signed in: through sign-in, and back to the same request.
    let visitor = app.visitor();
    let page = visitor.get(&local(&url)).await;
    assert!(page.status.is_redirection(), "{}", page.status);
    let signed_in = visitor.sign_in(&app.admin_email, &app.admin_password).await;
    let back = signed_in.location.clone().unwrap_or_default();
    assert!(
        back.contains("/oauth/authorize?") || signed_in.body.contains("consent-form"),
        "{back}"
    );
    let consent_page = visitor.get(&local(&url)).await;
    assert_eq!(
        consent_page.texts(r#"[data-testid="consent-scope"]"#).len(),
        1
    );
    assert!(consent_page.body.contains("Acme ATS"));

    let code = code_for(&visitor, &url, &state, false).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http_client())
        .await
        .expect("tokens for the code");
    let access = tokens.access_token().secret().clone();
    let first_refresh = tokens.refresh_token().expect("a refresh token").clone();
    assert_eq!(tokens.expires_in().map(|d| d.as_secs()), Some(3600));
    assert_eq!(
        gate(&app, &access, "/harvest/v3/candidates").await,
        StatusCode::OK
    );
    // Consented to candidates only: jobs is beyond the token.
    assert_eq!(
        gate(&app, &access, "/harvest/v3/jobs").await,
        StatusCode::FORBIDDEN
    );

    // A refresh rotates the refresh token.
    let refreshed = client
        .exchange_refresh_token(&first_refresh)
        .request_async(&http_client())
        .await
        .expect("a refresh");
    let second_refresh = refreshed
        .refresh_token()
        .expect("a new refresh token")
        .clone();
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    let second_access = refreshed.access_token().secret().clone();
    assert_eq!(
        gate(&app, &second_access, "/harvest/v3/candidates").await,
        StatusCode::OK
    );

    // The first refresh token again: someone copied it. The whole family stops.
    invalid_grant(
        client
            .exchange_refresh_token(&first_refresh)
            .request_async(&http_client())
            .await,
    );
    for token in [&access, &second_access] {
        assert_eq!(
            gate(&app, token, "/harvest/v3/candidates").await,
            StatusCode::UNAUTHORIZED
        );
    }
    invalid_grant(
        client
            .exchange_refresh_token(&second_refresh)
            .request_async(&http_client())
            .await,
    );
    assert!(
        app.audit_text()
            .contains("a refresh token was presented twice")
    );
    // Codes and refresh tokens are stored as hashes only.
    let stored = String::from_utf8_lossy(&app.everything_stored()).into_owned();
    for secret in [
        code.as_str(),
        first_refresh.secret(),
        second_refresh.secret(),
        partner.client_secret.as_str(),
    ] {
        assert!(!stored.contains(secret));
    }
}

#[tokio::test]
async fn a_code_works_once_within_a_minute_for_its_redirect_uri_and_verifier() {
    let app = TestApp::spawn_with(&["--authorization-code-lifetime", "6s"]).await;
    let admin = app.admin().await;
    let partner = admin
        .register_partner("Acme ATS", &[LIST_CANDIDATES], &[REDIRECT])
        .await;
    let client = client(&app, &partner, REDIRECT);

    // Used twice: the second exchange fails and the first one's tokens stop.
    let (url, state, verifier) = authorization(&client, &[]);
    let code = code_for(&admin, &url, &state, false).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http_client())
        .await
        .expect("tokens");
    let access = tokens.access_token().secret().clone();
    assert_eq!(
        gate(&app, &access, "/harvest/v3/candidates").await,
        StatusCode::OK
    );
    let (_, again) = PkceCodeChallenge::new_random_sha256();
    invalid_grant(
        client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(again)
            .request_async(&http_client())
            .await,
    );
    assert_eq!(
        gate(&app, &access, "/harvest/v3/candidates").await,
        StatusCode::UNAUTHORIZED
    );
    invalid_grant(
        client
            .exchange_refresh_token(tokens.refresh_token().expect("a refresh token"))
            .request_async(&http_client())
            .await,
    );

    // A wrong verifier, another redirect URI at the exchange.
    let (url, state, _) = authorization(&client, &[]);
    let code = code_for(&admin, &url, &state, false).await;
    let (_, wrong) = PkceCodeChallenge::new_random_sha256();
    invalid_grant(
        client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(wrong)
            .request_async(&http_client())
            .await,
    );
    let (url, state, verifier) = authorization(&client, &[]);
    let code = code_for(&admin, &url, &state, false).await;
    let elsewhere = self::client(&app, &partner, "https://vendor.example/oauth/callbacK");
    invalid_grant(
        elsewhere
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .request_async(&http_client())
            .await,
    );

    // A verifier for a code issued without a challenge: not this client's request (a code
    // injected into its flow) — PKCE cannot be downgraded.
    let (url, state) = client.authorize_url(CsrfToken::new_random).url();
    let code = code_for(&admin, url.as_str(), &state, false).await;
    let (_, verifier) = PkceCodeChallenge::new_random_sha256();
    invalid_grant(
        client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .request_async(&http_client())
            .await,
    );

    // Too late: the code lived six seconds here (a minute by default).
    let (url, state, verifier) = authorization(&client, &[]);
    let code = code_for(&admin, &url, &state, false).await;
    tokio::time::sleep(std::time::Duration::from_millis(6500)).await;
    invalid_grant(
        client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .request_async(&http_client())
            .await,
    );
}

#[tokio::test]
async fn the_authorization_request_is_checked_before_anything_is_sent_anywhere() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let partner = admin
        .register_partner("Acme ATS", &[LIST_CANDIDATES], &[REDIRECT])
        .await;

    // A redirect URI one character off, or an unknown client: an error page, no redirect.
    for (what, client_id, redirect) in [
        (
            "a redirect URI one character off",
            partner.client_id.as_str(),
            "https://vendor.example/oauth/callbacK",
        ),
        (
            "a redirect URI with more after it",
            partner.client_id.as_str(),
            "https://vendor.example/oauth/callback/x",
        ),
        ("an unknown client", "dci_unknownunknownunknown", REDIRECT),
    ] {
        let url = format!(
            "/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}&state=s1",
            urlencode(redirect)
        );
        let page = admin.get(&url).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{what}");
        assert!(page.location.is_none(), "{what}: never a redirect");
        assert!(!page.body.contains("consent-form"), "{what}");
    }

    // Deny: back to the vendor with access_denied and its state; nothing connected.
    let client = client(&app, &partner, REDIRECT);
    let (url, state, _) = authorization(&client, &[]);
    let query = consent(&admin, &url, "deny", false).await;
    assert_eq!(param(&query, "error"), Some("access_denied"));
    assert_eq!(param(&query, "state"), Some(state.secret().as_str()));
    assert_eq!(param(&query, "code"), None);
    assert_eq!(app.count("SELECT count(*) FROM integrations"), 0);

    // The partner's client cannot use the client credentials grant; a v3 credential
    // cannot exchange codes.
    let answer = reqwest::Client::new()
        .post(format!("http://{}/oauth/token", app.address))
        .basic_auth(&partner.client_id, Some(&partner.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json::<Value>().await.expect("JSON")["error"],
        "unauthorized_client"
    );
    let v3 = admin
        .v3_credential_with_scopes("Internal", &[LIST_JOBS])
        .await;
    let answer = reqwest::Client::new()
        .post(format!("http://{}/oauth/token", app.address))
        .basic_auth(&v3.client_id, Some(&v3.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .expect("an answer");
    assert_eq!(
        answer.json::<Value>().await.expect("JSON")["error"],
        "unauthorized_client"
    );
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn service_accounts_are_for_site_admins_and_outlive_a_person_losing_access() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let partner = admin
        .register_partner("Acme ATS", &[LIST_CANDIDATES], &[REDIRECT])
        .await;
    let client = client(&app, &partner, REDIRECT);
    let manager = app
        .user("manager@example.com", "basic", &["manage_all_credentials"])
        .await;

    // A manager who is not a Site Admin ticks the box anyway: refused on the server.
    let (url, _, _) = authorization(&client, &[]);
    let page = manager.get(&local(&url)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.has(r#"[data-testid="authorize-service-account"]"#));
    let fields = consent_fields(&page, "authorize", true);
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let refused = manager.post("/oauth/authorize", &fields).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.count("SELECT count(*) FROM integrations"),
        0,
        "nothing written"
    );

    // The manager authorizes as themselves; the Site Admin as a service account.
    let (url, state, verifier) = authorization(&client, &[]);
    let code = code_for(&manager, &url, &state, false).await;
    let as_manager = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http_client())
        .await
        .expect("tokens");
    let (url, state, verifier) = authorization(&client, &[]);
    let code = code_for(&admin, &url, &state, true).await;
    let as_service = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http_client())
        .await
        .expect("tokens");
    assert_eq!(
        app.count("SELECT count(*) FROM integrations WHERE service_account = TRUE"),
        1
    );
    for tokens in [&as_manager, &as_service] {
        assert_eq!(
            gate(
                &app,
                tokens.access_token().secret(),
                "/harvest/v3/candidates"
            )
            .await,
            StatusCode::OK
        );
    }

    // The manager loses "manage ALL": what they authorized as themselves stops; the
    // service account's integration keeps working.
    let manager_id = app.user_id("manager@example.com");
    let changed = admin
        .post(
            &format!("/configure/users/{manager_id}"),
            &[("level", "basic")],
        )
        .await;
    assert!(changed.status.is_redirection(), "{}", changed.body);
    assert_eq!(
        gate(
            &app,
            as_manager.access_token().secret(),
            "/harvest/v3/candidates"
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    invalid_grant(
        client
            .exchange_refresh_token(as_manager.refresh_token().expect("refresh"))
            .request_async(&http_client())
            .await,
    );
    assert_eq!(
        gate(
            &app,
            as_service.access_token().secret(),
            "/harvest/v3/candidates"
        )
        .await,
        StatusCode::OK
    );
    assert!(
        app.audit_text()
            .contains("no longer manages ALL API credentials")
    );
}

#[tokio::test]
async fn disconnecting_or_dropping_a_scope_stops_tokens_on_the_next_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let partner = admin
        .register_partner("Acme ATS", &[LIST_CANDIDATES, LIST_JOBS], &[REDIRECT])
        .await;
    let client = client(&app, &partner, REDIRECT);
    let (url, state, verifier) = authorization(&client, &[]);
    let code = code_for(&admin, &url, &state, false).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http_client())
        .await
        .expect("tokens");
    let access = tokens.access_token().secret().clone();
    assert_eq!(
        gate(&app, &access, "/harvest/v3/jobs").await,
        StatusCode::OK
    );

    // The partner stops asking for jobs: the scope stops at once.
    admin.set_partner_scopes(&partner, &[LIST_CANDIDATES]).await;
    assert_eq!(
        gate(&app, &access, "/harvest/v3/jobs").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        gate(&app, &access, "/harvest/v3/candidates").await,
        StatusCode::OK
    );
    // A scope the partner adds needs a new consent: refreshed tokens do not carry it.
    admin
        .set_partner_scopes(&partner, &[LIST_CANDIDATES, LIST_DEPARTMENTS])
        .await;
    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().expect("refresh"))
        .request_async(&http_client())
        .await
        .expect("a refresh");
    let scopes: Vec<String> = refreshed
        .scopes()
        .map(|s| s.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    assert_eq!(scopes, vec![LIST_CANDIDATES.to_owned()]);
    assert_eq!(
        gate(
            &app,
            refreshed.access_token().secret(),
            "/harvest/v3/departments"
        )
        .await,
        StatusCode::FORBIDDEN
    );

    // A deactivated partner gets no tokens; activated again, it does.
    let toggle = format!(
        "/configure/dev_center/client_applications/{}",
        partner.application_id
    );
    assert!(
        admin
            .post(&toggle, &[("active", "false")])
            .await
            .status
            .is_redirection()
    );
    let (url, _, _) = authorization(&client, &[]);
    let refused = admin.get(&local(&url)).await;
    assert_eq!(
        refused.status,
        StatusCode::SEE_OTHER,
        "back to the partner with unauthorized_client"
    );
    assert!(
        refused
            .location
            .as_deref()
            .unwrap_or_default()
            .contains("error=unauthorized_client")
    );
    match client
        .exchange_refresh_token(refreshed.refresh_token().expect("refresh"))
        .request_async(&http_client())
        .await
    {
        Err(RequestTokenError::ServerResponse(error)) => {
            assert_eq!(error.error(), &BasicErrorResponseType::InvalidClient)
        }
        other => panic!("expected invalid_client, got {other:?}"),
    }
    assert!(
        admin
            .post(&toggle, &[("active", "true")])
            .await
            .status
            .is_redirection()
    );

    // Disconnect on the Connected Integrations page.
    let integrations = admin.get("/configure/dev_center/integrations").await;
    let ids = integrations.attrs(r#"[data-testid="integration-row"]"#, "data-integration-id");
    assert_eq!(ids.len(), 1);
    let disconnected = admin
        .post(
            &format!("/configure/dev_center/integrations/{}/disconnect", ids[0]),
            &[],
        )
        .await;
    assert!(
        disconnected.status.is_redirection(),
        "{}",
        disconnected.body
    );
    assert_eq!(
        gate(
            &app,
            refreshed.access_token().secret(),
            "/harvest/v3/candidates"
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    invalid_grant(
        client
            .exchange_refresh_token(refreshed.refresh_token().expect("refresh"))
            .request_async(&http_client())
            .await,
    );
}
