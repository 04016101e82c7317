//! Partner OAuth's consent page (`/oauth/authorize`): a partner sends a person here, they
//! sign in if needed, read what the partner asks for, and authorize or deny it. An
//! untrusted client or redirect URI is an error page, never a redirect.

use reqwest::StatusCode;

use crate::helpers::{Page, Person, TestApp};

const AUTHORIZE: &str = "/oauth/authorize";
const REDIRECT_URI: &str = "https://partner.example/callback?tenant=7";
const SCOPES: [&str; 3] = [
    "harvest:candidates:list",
    "harvest:candidates:update",
    "harvest:jobs:list",
];
/// A state with characters that must survive every hop percent-encoded.
const STATE: &str = "x y&z=1/é+%";

/// A partner ("Acme Sourcing") registered with an OAuth client, asking for `SCOPES`.
async fn partner(app: &TestApp, admin: &Person) -> String {
    let id = admin
        .client_application_asking("Acme Sourcing", &[], &SCOPES)
        .await;
    app.register_oauth_client(id, &[REDIRECT_URI, "http://127.0.0.1:9/cb"])
}

/// The authorize URL's path and query, as a partner builds it.
fn authorize_url(fields: &[(&str, &str)]) -> String {
    let query = serde_html_form::to_string(fields).expect("a query");
    format!("{AUTHORIZE}?{query}")
}

/// A well-formed request of `client_id` for `scope`, with `STATE`.
fn request(client_id: &str, scope: &str) -> String {
    authorize_url(&[
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT_URI),
        ("scope", scope),
        ("state", STATE),
    ])
}

/// The query parameters of a redirect to the partner, after checking it goes there.
fn back_at_partner(page: &Page) -> Vec<(String, String)> {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location.as_deref().expect("a redirect");
    let url = url::Url::parse(location).expect("an absolute redirect URI");
    assert_eq!(
        (url.scheme(), url.host_str(), url.path()),
        ("https", Some("partner.example"), "/callback"),
        "{location}"
    );
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The consent form's hidden fields as the page carries them, plus `extra`.
fn consent_fields(page: &Page, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
    ]
    .iter()
    .map(|name| {
        let css = format!(r#"[data-testid="consent-form"] input[name="{name}"]"#);
        let found = page.attrs(&css, "value");
        assert_eq!(found.len(), 1, "one hidden {name}: {}", page.body);
        ((*name).to_owned(), found[0].clone())
    })
    .collect();
    fields.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    fields
}

async fn submit(person: &Person, page: &Page, extra: &[(&str, &str)]) -> Page {
    let fields = consent_fields(page, extra);
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    person.post(AUTHORIZE, &borrowed).await
}

fn integrations(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM integrations")
}

fn assert_error_page(page: &Page, message: &str) {
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert_eq!(page.location, None, "never a redirect");
    assert!(page.body.contains(message), "{}", page.body);
    assert!(
        !page.body.contains("partner.example"),
        "no link to the redirect URI: {}",
        page.body
    );
}

#[tokio::test]
async fn an_unknown_client_is_an_error_page_never_a_redirect() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    partner(&app, &admin).await;
    let page = admin
        .get(&request("dci_nobody_registered_this", SCOPES[0]))
        .await;
    assert_error_page(&page, "not registered with this organization");
}

#[tokio::test]
async fn a_redirect_uri_one_character_off_is_an_error_page_never_a_redirect() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let client_id = partner(&app, &admin).await;
    for uri in [
        "https://partner.example/callback?tenant=8",
        "https://partner.example/callbacks?tenant=7",
        "",
    ] {
        let page = admin
            .get(&authorize_url(&[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", uri),
                ("state", STATE),
            ]))
            .await;
        assert_error_page(&page, "redirect URI is not one the application registered");
    }
    // A query Dev Center cannot read at all is an error page too, not a 500.
    let page = admin.get(&format!("{AUTHORIZE}?scope=a&scope=b")).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert_eq!(page.location, None);
}

#[tokio::test]
async fn a_bad_request_from_a_known_partner_goes_back_to_it_with_the_error_and_state() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let client_id = partner(&app, &admin).await;

    let token = admin
        .get(&authorize_url(&[
            ("response_type", "token"),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT_URI),
            ("state", STATE),
        ]))
        .await;
    let pairs = back_at_partner(&token);
    assert_eq!(
        value(&pairs, "tenant"),
        Some("7"),
        "the URI's own query stays"
    );
    assert_eq!(value(&pairs, "error"), Some("unsupported_response_type"));
    assert_eq!(value(&pairs, "state"), Some(STATE));
    assert!(value(&pairs, "error_description").is_some());

    let beyond = admin
        .get(&request(
            &client_id,
            "harvest:candidates:list harvest:users:list",
        ))
        .await;
    let pairs = back_at_partner(&beyond);
    assert_eq!(value(&pairs, "error"), Some("invalid_scope"));
    assert_eq!(value(&pairs, "state"), Some(STATE));
    assert_eq!(integrations(&app), 0);
}

#[tokio::test]
async fn a_signed_out_person_signs_in_and_comes_back_to_the_same_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let client_id = partner(&app, &admin).await;
    let url = request(&client_id, "harvest:candidates:list harvest:jobs:list");

    let person = app.visitor();
    let sent = person.get(&url).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let to_sign_in = sent.location.expect("to sign in");
    assert!(to_sign_in.starts_with("/login?next="), "{to_sign_in}");
    let form = person.get(&to_sign_in).await;
    let next = form.attrs(r#"input[name="next"]"#, "value");
    assert_eq!(next.len(), 1);
    assert_eq!(next[0], url, "the sign-in form keeps the whole request");
    let signed_in = person
        .post(
            "/login",
            &[
                ("email", &app.admin_email),
                ("password", &app.admin_password),
                ("next", &next[0]),
            ],
        )
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(signed_in.location.as_deref(), Some(url.as_str()), "exactly");

    let consent = person.get(&url).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    assert!(
        consent
            .text("h1")
            .contains("Acme Sourcing wants to access your organization's Greenhouse data")
    );
    assert_eq!(
        consent.attrs(r#"[data-testid="consent-scope"]"#, "data-scope"),
        ["harvest:candidates:list", "harvest:jobs:list"]
    );
    let labels = consent.texts(r#"[data-testid="consent-scope"] .consent-scope-label"#);
    assert_eq!(labels, ["List candidates", "List jobs"]);
    // Behind each scope's disclosure: the endpoints it opens.
    let opened = consent.texts(r#"[data-testid="consent-scope"] details li"#);
    assert!(
        opened.iter().any(|e| e.starts_with("GET /v3/candidates")),
        "{opened:?}"
    );
    assert_eq!(
        consent_fields(&consent, &[])
            .into_iter()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v),
        Some(STATE.to_owned())
    );
    assert!(consent.has(r#"[data-testid="consent-authorize"]"#));
    assert!(consent.has(r#"[data-testid="consent-deny"]"#));
}

#[tokio::test]
async fn the_consent_page_cannot_be_framed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let client_id = partner(&app, &admin).await;
    let page = admin.get(&request(&client_id, "")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        page.headers
            .get("x-frame-options")
            .and_then(|v| v.to_str().ok()),
        Some("DENY")
    );
    let policy = page
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    // The form's answer is a redirect to the partner, and only there.
    assert!(
        policy.contains("form-action 'self' https://partner.example;"),
        "{policy}"
    );
    // No scope asked: everything the application asks for.
    assert_eq!(page.texts(r#"[data-testid="consent-scope"]"#).len(), 3);
}

#[tokio::test]
async fn deny_goes_back_to_the_partner_with_access_denied() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let client_id = partner(&app, &admin).await;
    let page = admin.get(&request(&client_id, SCOPES[0])).await;
    let denied = submit(&admin, &page, &[("decision", "deny")]).await;
    let pairs = back_at_partner(&denied);
    assert_eq!(value(&pairs, "error"), Some("access_denied"));
    assert_eq!(value(&pairs, "state"), Some(STATE));
    assert_eq!(value(&pairs, "code"), None);
    assert_eq!(integrations(&app), 0);
}

#[tokio::test]
async fn authorize_connects_the_integration_and_sends_a_code_back() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let client_id = partner(&app, &admin).await;
    let page = admin.get(&request(&client_id, SCOPES[1])).await;
    let authorized = submit(&admin, &page, &[("decision", "authorize")]).await;
    let pairs = back_at_partner(&authorized);
    let code = value(&pairs, "code").expect("a code").to_owned();
    assert!(code.len() >= 43, "{code}");
    assert_eq!(value(&pairs, "state"), Some(STATE));
    assert_eq!(value(&pairs, "error"), None);

    assert_eq!(integrations(&app), 1);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM integrations WHERE service_account = false \
             AND scopes = 'harvest:candidates:update'"
        ),
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM authorization_codes"), 1);
    let log = admin.audit_log(&[]).await;
    assert!(log.body.contains("Integration connected"), "{}", log.body);
    assert!(
        !app.audit_text().contains(&code),
        "the audit log never has the code"
    );
    assert!(!app.logs().contains(&code), "the logs never have the code");
}

#[tokio::test]
async fn the_code_lives_as_long_as_the_flag_says() {
    let app = TestApp::spawn_with(&["--authorization-code-lifetime", "1h"]).await;
    let admin = app.admin().await;
    let client_id = partner(&app, &admin).await;
    let page = admin.get(&request(&client_id, SCOPES[0])).await;
    back_at_partner(&submit(&admin, &page, &[("decision", "authorize")]).await);
    // A minute by default; here an hour, so it is still valid well past a minute from now.
    let later = match app.backend() {
        crate::helpers::Backend::Sqlite => "datetime('now', '+50 minutes')",
        crate::helpers::Backend::Postgres => "(now() AT TIME ZONE 'UTC') + interval '50 minutes'",
    };
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM authorization_codes WHERE expires_at > {later}"
        )),
        1
    );
}

#[tokio::test]
async fn a_manager_who_is_not_a_site_admin_cannot_use_the_service_account() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let client_id = partner(&app, &admin).await;
    let manager = app
        .user("manager@example.com", "basic", &["manage_all_credentials"])
        .await;
    let page = manager.get(&request(&client_id, SCOPES[0])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.has(r#"[data-testid="authorize-service-account"]"#));
    assert!(page.has(r#"[data-testid="consent-authorize"]"#));

    // Ticking the box the page never showed is refused on the server.
    let refused = submit(
        &manager,
        &page,
        &[("decision", "authorize"), ("service_account", "on")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.location, None);
    assert!(refused.body.contains("Only Site Admins may authorize"));
    assert_eq!(integrations(&app), 0);
    assert_eq!(app.count("SELECT count(*) FROM authorization_codes"), 0);

    // As themselves, they may.
    let authorized = submit(&manager, &page, &[("decision", "authorize")]).await;
    assert!(value(&back_at_partner(&authorized), "code").is_some());
}

#[tokio::test]
async fn a_site_admin_authorizes_as_the_service_account() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let client_id = partner(&app, &admin).await;
    let page = admin.get(&request(&client_id, SCOPES[0])).await;
    assert_eq!(
        page.text("label.check"),
        "Authorize using a service account"
    );
    let authorized = submit(
        &admin,
        &page,
        &[("decision", "authorize"), ("service_account", "on")],
    )
    .await;
    assert!(value(&back_at_partner(&authorized), "code").is_some());
    assert_eq!(
        app.count("SELECT count(*) FROM integrations WHERE service_account = true"),
        1
    );
    assert!(
        app.audit_text()
            .contains("as the organization's service account")
    );
}

#[tokio::test]
async fn without_the_form_token_nothing_is_authorized() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let client_id = partner(&app, &admin).await;
    let page = admin.get(&request(&client_id, SCOPES[0])).await;
    let fields = consent_fields(&page, &[("decision", "authorize")]);
    let mut borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let missing = admin.post_raw(AUTHORIZE, &borrowed).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    borrowed.push(("csrf_token", "not-the-token"));
    let wrong = admin.post_raw(AUTHORIZE, &borrowed).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong.location, None);
    assert_eq!(integrations(&app), 0);
}

#[tokio::test]
async fn a_person_without_the_permission_sees_why_and_may_only_deny() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let client_id = partner(&app, &admin).await;
    let person = app.user("basic@example.com", "site_admin", &[]).await;
    let page = person.get(&request(&client_id, SCOPES[0])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.text(r#"[data-testid="consent-refusal"]"#)
            .contains("Can manage ALL organization's API Credentials")
    );
    assert!(!page.has(r#"[data-testid="consent-authorize"]"#));
    assert!(!page.has(r#"[data-testid="authorize-service-account"]"#));
    assert!(page.has(r#"[data-testid="consent-deny"]"#));

    let forced = submit(&person, &page, &[("decision", "authorize")]).await;
    assert_eq!(forced.status, StatusCode::FORBIDDEN, "{}", forced.body);
    assert_eq!(integrations(&app), 0);

    let denied = submit(&person, &page, &[("decision", "deny")]).await;
    assert_eq!(
        value(&back_at_partner(&denied), "error"),
        Some("access_denied")
    );
}

#[tokio::test]
async fn the_posted_request_is_checked_again() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let client_id = partner(&app, &admin).await;
    let page = admin.get(&request(&client_id, SCOPES[0])).await;
    // A hidden field changed on the way: a redirect URI the partner never registered.
    let fields: Vec<(String, String)> = consent_fields(&page, &[("decision", "authorize")])
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "redirect_uri" => (k, "https://evil.example/".to_owned()),
            _ => (k, v),
        })
        .collect();
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let refused = admin.post(AUTHORIZE, &borrowed).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(refused.location, None);
    assert_eq!(integrations(&app), 0);
}

#[tokio::test]
async fn a_pkce_challenge_travels_through_consent_to_the_code() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let client_id = partner(&app, &admin).await;
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let page = admin
        .get(&authorize_url(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT_URI),
            ("state", STATE),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let fields = consent_fields(&page, &[]);
    assert!(fields.contains(&("code_challenge".to_owned(), challenge.to_owned())));
    assert!(fields.contains(&("code_challenge_method".to_owned(), "S256".to_owned())));
    let authorized = submit(&admin, &page, &[("decision", "authorize")]).await;
    assert!(value(&back_at_partner(&authorized), "code").is_some());
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM authorization_codes WHERE code_challenge = '{challenge}'"
        )),
        1
    );

    // A challenge without S256 goes back to the partner.
    let plain = admin
        .get(&authorize_url(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT_URI),
            ("code_challenge", challenge),
            ("code_challenge_method", "plain"),
        ]))
        .await;
    assert_eq!(
        value(&back_at_partner(&plain), "error"),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn a_person_who_opens_the_sign_in_page_afresh_still_comes_back_to_the_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let client_id = partner(&app, &admin).await;
    let url = request(&client_id, SCOPES[0]);
    let person = app.visitor();
    let sent = person.get(&url).await;
    assert!(sent.location.is_some_and(|l| l.starts_with("/login?next=")));
    // `sign_in` loads `/login` itself, without `?next=`, and submits only e-mail and
    // password: the sign-in page remembers where they were going.
    let signed_in = person.sign_in(&app.admin_email, &app.admin_password).await;
    assert_eq!(signed_in.location.as_deref(), Some(url.as_str()));
    // Once back, it is forgotten: the next sign-in goes to Configure.
    person.sign_out().await;
    let again = person.sign_in(&app.admin_email, &app.admin_password).await;
    assert_eq!(again.location.as_deref(), Some("/configure"));
}

#[tokio::test]
async fn connecting_an_integration_is_announced_to_web_hooks_without_the_code() {
    use crate::web_hooks::{FLAGS, Receiver, SECRET_KEY, add_hook, verify, web_hook_manager};
    let app = TestApp::spawn_with(FLAGS).await;
    let admin = app.admin().await;
    let receiver = Receiver::start();
    let manager = web_hook_manager(&app).await;
    add_hook(
        &app,
        &manager,
        "Integrations",
        &receiver.url(),
        &["integration.connected"],
    )
    .await;
    let client_id = partner(&app, &admin).await;
    let page = admin.get(&request(&client_id, SCOPES[2])).await;
    let authorized = submit(&admin, &page, &[("decision", "authorize")]).await;
    let pairs = back_at_partner(&authorized);
    let code = value(&pairs, "code").expect("a code").to_owned();

    let received = receiver
        .wait_for(1, std::time::Duration::from_secs(10))
        .await;
    verify(&received[0], SECRET_KEY);
    assert_eq!(received[0].action(), "integration.connected");
    let payload = &received[0].json()["payload"];
    assert_eq!(payload["integration"]["partner"], "Acme Sourcing");
    assert_eq!(payload["integration"]["acting_as"], "person");
    assert_eq!(payload["change"]["scopes"][0], SCOPES[2]);
    assert_eq!(payload["credential"]["client_id"], client_id.as_str());
    assert_eq!(payload["actor"]["email"], app.admin_email.as_str());
    assert!(!received[0].body.contains(&code));
}
