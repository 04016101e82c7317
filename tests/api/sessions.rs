//! Signing in and out, sessions on the server, and CSRF.

use reqwest::StatusCode;

use crate::helpers::{CREDENTIALS, PASSWORD, TestApp};

#[tokio::test]
async fn the_printed_first_password_signs_in() {
    let app = TestApp::spawn().await;
    assert_eq!(app.admin_email, "admin@devcenter.local");
    assert_eq!(app.admin_password.len(), 20);
    let admin = app.visitor();
    let signed_in = admin.sign_in(&app.admin_email, &app.admin_password).await;
    assert_eq!(signed_in.location.as_deref(), Some("/configure"));
    let configure = admin.get("/configure").await;
    assert_eq!(configure.status, StatusCode::OK);
    assert!(configure.has(r#"[data-testid="configure-icon"]"#));
    assert!(configure.has(r#"[data-testid="nav-dev-center"]"#));
    assert!(configure.text(".user-name").contains("Site Admin"));
}

#[tokio::test]
async fn a_wrong_password_rerenders_the_form_with_an_error() {
    let app = TestApp::spawn().await;
    let visitor = app.visitor();
    visitor.get("/login").await;
    for (email, password) in [
        (app.admin_email.as_str(), "not the password"),
        ("nobody@example.com", "whatever it is"),
    ] {
        let page = visitor
            .post("/login", &[("email", email), ("password", password)])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.location.is_none());
        assert_eq!(
            page.text(".form-error"),
            "That e-mail and password do not match an active account."
        );
    }
    assert_eq!(
        visitor.get("/configure").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sign_in_returns_to_a_local_next_only() {
    let app = TestApp::spawn().await;
    app.create_user("dev@example.com", "basic", &["manage_all_credentials"]);
    for (next, expected) in [
        (
            "/configure/dev_center/credentials",
            "/configure/dev_center/credentials",
        ),
        ("//evil.example/", "/configure"),
        ("/\\evil.example/", "/configure"),
        ("https://evil.example/", "/configure"),
    ] {
        let person = app.visitor();
        person.get("/login").await;
        let page = person
            .post(
                "/login",
                &[
                    ("email", "dev@example.com"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(page.location.as_deref(), Some(expected), "next={next}");
    }
    // The login form carries next through.
    let form = app
        .visitor()
        .get("/login?next=%2Fconfigure%2Fdev_center")
        .await;
    assert_eq!(
        form.attrs(r#"input[name="next"]"#, "value"),
        vec!["/configure/dev_center"]
    );
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    assert_eq!(admin.credentials().await.status, StatusCode::OK);
    let copied = admin.cookie_header().expect("a session cookie");
    assert_eq!(app.count("SELECT count(*) FROM sessions"), 1);

    let out = admin.sign_out().await;
    assert_eq!(out.location.as_deref(), Some("/login"));
    assert_eq!(admin.credentials().await.status, StatusCode::SEE_OTHER);

    // Someone who copied the cookie before sign-out gets nothing from it.
    let thief = app.visitor();
    let page = thief.get_with_cookie(CREDENTIALS, &copied).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location.unwrap_or_default().starts_with("/login"));
}

#[tokio::test]
async fn a_session_survives_a_restart() {
    let mut app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, id) = admin.new_key("harvest", "Before restart").await;
    app.restart().await;
    let admin = admin.at(&app);
    let page = admin.credentials().await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.has(&format!(r#"[data-credential-id="{id}"]"#)));
    // Forms keep working with the same session's token.
    assert_eq!(
        admin.update_permissions(id, &["GET /v1/jobs"]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.logs().matches("password: ").count(),
        1,
        "the first password is printed once"
    );
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in() {
    let app = TestApp::spawn().await;
    let person = app.visitor();
    person.get("/login").await;
    let anonymous = person
        .cookie_header()
        .expect("an anonymous session for the CSRF token");
    person.sign_in(&app.admin_email, &app.admin_password).await;
    let signed_in = person.cookie_header().expect("a session");
    assert_ne!(anonymous, signed_in);
    // The anonymous id does not lead into the signed-in session.
    let fixated = app.visitor().get_with_cookie(CREDENTIALS, &anonymous).await;
    assert_eq!(fixated.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let fields = [("api_type", "job_board"), ("description", "Forged")];
    let missing = admin.post_raw(CREDENTIALS, &fields).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(missing.body.contains("Reload the page and try again"));

    let mut wrong = fields.to_vec();
    wrong.push(("csrf_token", "not-the-token"));
    assert_eq!(
        admin.post_raw(CREDENTIALS, &wrong).await.status,
        StatusCode::FORBIDDEN
    );

    // A token from someone else's session is no good either.
    let other = app.visitor();
    let theirs = other
        .get("/login")
        .await
        .csrf_token()
        .expect("the sign-in form's token");
    let mut foreign = fields.to_vec();
    foreign.push(("csrf_token", &theirs));
    assert_eq!(
        admin.post_raw(CREDENTIALS, &foreign).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin.post_raw("/logout", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.count("SELECT count(*) FROM credentials"), 0);
    assert_eq!(
        admin.credentials().await.status,
        StatusCode::OK,
        "still signed in"
    );
}

#[tokio::test]
async fn htmx_sends_the_csrf_token_as_a_header() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = admin.csrf_token();
    let page = admin
        .client
        .post(format!("{}{CREDENTIALS}", admin.base))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", token)
        .form(&[("api_type", "job_board"), ("description", "Via htmx")])
        .send()
        .await
        .expect("POST");
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.expect("body");
    assert!(body.contains(r#"data-testid="api-key-value""#));
    assert!(!body.contains("<html"), "htmx gets the key view alone");
}

#[tokio::test]
async fn health_static_files_and_unknown_pages() {
    let app = TestApp::spawn().await;
    let visitor = app.visitor();
    let health = visitor.get("/healthz").await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::OK, "ok")
    );
    let htmx = visitor.get("/static/htmx.min.js").await;
    assert_eq!(htmx.status, StatusCode::OK);
    assert!(htmx.body.contains("htmx"));
    assert!(
        htmx.headers["cache-control"]
            .to_str()
            .unwrap_or("")
            .contains("max-age")
    );
    let etag = htmx.headers["etag"].clone();
    let again = visitor
        .client
        .get(format!("{}/static/htmx.min.js", visitor.base))
        .header("If-None-Match", etag)
        .send()
        .await
        .expect("GET");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let missing = visitor.get("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Page not found"));
    let admin = app.admin().await;
    assert_eq!(
        admin
            .get(&format!("{CREDENTIALS}/not-a-number/permissions"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_top_bar_names_the_organization_and_no_other_brand() {
    let app = TestApp::spawn_with(&["--organization", "Acme Corp"]).await;
    let admin = app.admin().await;
    let page = admin.get("/configure").await;
    assert_eq!(page.text(r#"[data-testid="organization"]"#), "Acme Corp");
    assert_eq!(page.text(".brand-mark"), "AC");
    assert!(
        !page
            .text(".topbar .brand")
            .to_lowercase()
            .contains("greenhouse")
    );
    let missing = admin.get("/no/such/page").await;
    assert_eq!(
        missing.text(r#"[data-testid="organization"]"#),
        "Acme Corp",
        "error pages too"
    );
}

#[tokio::test]
async fn a_refused_page_keeps_the_persons_name_and_sign_out() {
    let app = TestApp::spawn().await;
    let basic = app.user("basic@example.com", "basic", &[]).await;
    let refused = basic.get("/configure/users").await;
    assert_eq!(refused.status, reqwest::StatusCode::FORBIDDEN);
    assert_eq!(refused.text(".user-name"), "basic");
    assert_eq!(
        refused.attrs(
            r#"form[action="/logout"] input[name="csrf_token"]"#,
            "value"
        ),
        vec![basic.csrf_token()],
        "a Sign out that works"
    );
    let signed_out = basic.sign_out().await;
    assert_eq!(signed_out.location.as_deref(), Some("/login"));
    assert_eq!(
        basic.get("/configure").await.location.as_deref(),
        Some("/login")
    );
}
