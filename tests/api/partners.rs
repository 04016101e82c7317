//! Partner OAuth, the admin's side: a client application's redirect URIs and requested
//! scopes, its OAuth client (client ID and secret shown once, rotated like any credential),
//! and Connected Integrations with Disconnect.

use devcenter::web::urls::{
    CLIENT_APPLICATION, CLIENT_APPLICATION_OAUTH_CLIENT, CLIENT_APPLICATIONS, CREDENTIAL_ROTATE,
    INTEGRATION_DISCONNECT, INTEGRATIONS, with_id,
};
use reqwest::StatusCode;

use crate::helpers::{CREDENTIALS, TestApp};

const SCOPE: &str = "harvest:candidates:list";

fn stored_redirect_uris(app: &TestApp, id: i32) -> String {
    app.texts(&format!(
        "SELECT redirect_uris AS t FROM client_applications WHERE id = {id}"
    ))
    .concat()
}

fn audit_count(app: &TestApp, action: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) FROM audit_events WHERE action = '{action}'"
    ))
}

#[tokio::test]
async fn redirect_uris_are_checked_and_stored_one_per_line() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin
        .client_application_asking("Acme ATS", &[], &[SCOPE])
        .await;

    let form = admin.get(&with_id(CLIENT_APPLICATION, acme)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.has(r#"textarea[name="redirect_uris"]"#));
    assert_eq!(form.checked_scopes(), [SCOPE]);

    let saved = admin
        .edit_client_application(
            acme,
            "https://acme.example/callback\r\n  http://127.0.0.1:8080/cb \r\n\r\nhttps://acme.example/callback",
            &[SCOPE, "harvest:jobs:list"],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        stored_redirect_uris(&app, acme),
        "https://acme.example/callback\nhttp://127.0.0.1:8080/cb"
    );
    let listed = admin.get(CLIENT_APPLICATIONS).await;
    assert_eq!(
        listed.texts(r#"[data-testid="client-application-redirect-uris"] li"#),
        ["https://acme.example/callback", "http://127.0.0.1:8080/cb"]
    );
    assert_eq!(audit_count(&app, "client_application_oauth_changed"), 1);
    let details: serde_json::Value = serde_json::from_str(
        &app.texts(
            "SELECT details AS t FROM audit_events WHERE action = 'client_application_oauth_changed'",
        )[0],
    )
    .expect("JSON details");
    assert_eq!(details["redirect_uris"]["before"], serde_json::json!([]));
    assert_eq!(details["scopes"]["after"][1], "harvest:jobs:list");

    for (line, why) in [
        (
            "http://acme.example/callback",
            "http://acme.example/callback",
        ),
        ("https://acme.example/callback#done", "fragment"),
        ("acme.example/callback", "not an absolute URL"),
    ] {
        let refused = admin
            .edit_client_application(acme, &format!("https://ok.example/cb\n{line}"), &[SCOPE])
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{line}");
        assert!(
            refused.field_error("redirect_uris").contains(why),
            "{line}: {}",
            refused.field_error("redirect_uris")
        );
        assert!(refused.text("textarea#redirect_uris").contains(line));
        assert_eq!(
            stored_redirect_uris(&app, acme),
            "https://acme.example/callback\nhttp://127.0.0.1:8080/cb",
            "nothing written"
        );
    }
    let unknown = admin
        .edit_client_application(acme, "https://ok.example/cb", &["harvest:nothing:list"])
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains("is not a Harvest v3 scope"));
    assert_eq!(
        stored_redirect_uris(&app, acme),
        "https://acme.example/callback\nhttp://127.0.0.1:8080/cb"
    );
    assert_eq!(audit_count(&app, "client_application_oauth_changed"), 1);

    // Saving the same again changes nothing and records nothing.
    let same = admin
        .edit_client_application(
            acme,
            "https://acme.example/callback\nhttp://127.0.0.1:8080/cb",
            &["harvest:jobs:list", SCOPE],
        )
        .await;
    assert_eq!(same.status, StatusCode::SEE_OTHER);
    assert_eq!(audit_count(&app, "client_application_oauth_changed"), 1);

    // The row's Activate/Deactivate button still posts to the same address.
    let deactivated = admin
        .post(&with_id(CLIENT_APPLICATION, acme), &[("active", "false")])
        .await;
    assert_eq!(deactivated.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM client_applications WHERE id = {acme} AND NOT active"
        )),
        1
    );
    assert_eq!(
        stored_redirect_uris(&app, acme),
        "https://acme.example/callback\nhttp://127.0.0.1:8080/cb"
    );
}

#[tokio::test]
async fn an_oauth_client_is_made_once_and_its_secret_shown_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin
        .client_application_asking("Acme ATS", &[], &[SCOPE])
        .await;

    let page = admin.create_oauth_client(acme).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (client_id, secret, id) = page.client_credentials();
    assert!(secret.starts_with("dco_"), "{secret}");
    assert_eq!(
        page.attrs(
            r#"[data-testid="stored-client-credentials-continue"]"#,
            "href"
        ),
        [CLIENT_APPLICATIONS]
    );
    assert_eq!(app.stored_keys(&secret, Some(id)), 1, "stored as its hash");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM credentials WHERE id = {id} AND api_type = 'oauth_client' \
             AND client_application_id = {acme}"
        )),
        1
    );
    let audit = app.audit_text();
    assert!(audit.contains(&client_id));
    assert!(!audit.contains(&secret), "never the secret");
    assert_eq!(audit_count(&app, "client_application_oauth_changed"), 1);

    // The page shows the client ID from now on, never the secret.
    let listed = admin.get(CLIENT_APPLICATIONS).await;
    assert_eq!(
        listed.text(r#"[data-testid="client-application-client-id"]"#),
        client_id
    );
    assert!(!listed.has(r#"[data-testid="client-id-value"]"#));
    assert!(!listed.body.contains(&secret));
    assert!(!listed.has(r#"[data-testid="create-oauth-client"]"#));
    assert_eq!(
        listed.attrs(r#"[data-testid="rotate-client-secret"]"#, "href"),
        [with_id(CREDENTIAL_ROTATE, id)]
    );

    // One per application.
    let again = admin.create_oauth_client(acme).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("already has an OAuth client"));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM credentials WHERE client_application_id = {acme}"
        )),
        1
    );

    // Rotating keeps the client ID and shows the new secret once, with the same hooks.
    let rotate = admin.get(&with_id(CREDENTIAL_ROTATE, id)).await;
    assert_eq!(rotate.status, StatusCode::OK, "{}", rotate.body);
    let rotated = admin
        .post(&with_id(CREDENTIAL_ROTATE, id), &[("overlap", "now")])
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let (same_client_id, new_secret, same_id) = rotated.client_credentials();
    assert_eq!((same_client_id.as_str(), same_id), (client_id.as_str(), id));
    assert!(new_secret.starts_with("dco_") && new_secret != secret);
    assert_eq!(app.stored_keys(&new_secret, Some(id)), 1);
}

#[tokio::test]
async fn a_job_board_manager_cannot_reach_the_partner_pages() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin
        .client_application_asking("Acme ATS", &[], &[SCOPE])
        .await;
    let client = admin.oauth_client(acme).await;
    let integration = app.insert_integration(
        client.id,
        app.user_id(&app.admin_email),
        true,
        SCOPE,
        "2026-12-05 10:00:00",
    );
    let job_board = app
        .user(
            "job.board@example.com",
            "basic",
            &["manage_job_board_credentials"],
        )
        .await;
    job_board.get(CREDENTIALS).await; // a page's CSRF token, for the POSTs
    let edit = with_id(CLIENT_APPLICATION, acme);
    let disconnect = with_id(INTEGRATION_DISCONNECT, integration);
    for page in [
        job_board.get(&edit).await,
        job_board
            .edit_client_application(acme, "https://evil.example/cb", &[])
            .await,
        job_board
            .post(&with_id(CLIENT_APPLICATION_OAUTH_CLIENT, acme), &[])
            .await,
        job_board.get(INTEGRATIONS).await,
        job_board.get(&disconnect).await,
        job_board.post(&disconnect, &[]).await,
    ] {
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    }
    assert_eq!(stored_redirect_uris(&app, acme), "");
    assert_eq!(
        app.count("SELECT count(*) FROM integrations WHERE disconnected_at IS NULL"),
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM credentials"), 1);
}

#[tokio::test]
async fn connected_integrations_are_listed_and_disconnected_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let empty = admin.get(INTEGRATIONS).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.has(r#"[data-testid="integrations-empty"]"#));
    let dev_center = admin.get(devcenter::web::urls::DEV_CENTER).await;
    assert_eq!(
        dev_center.attrs(r#"[data-testid="connected-integrations-link"]"#, "href"),
        [INTEGRATIONS]
    );

    let acme = admin
        .client_application_asking("Acme ATS", &[], &[SCOPE, "harvest:jobs:list"])
        .await;
    let client = admin.oauth_client(acme).await;
    let admin_id = app.user_id(&app.admin_email);
    let older = app.insert_integration(client.id, admin_id, true, SCOPE, "2026-12-05 10:00:00");
    let newer = app.insert_integration(
        client.id,
        admin_id,
        false,
        "harvest:candidates:list harvest:jobs:list",
        "2026-12-06 09:30:00",
    );
    app.execute(&format!(
        "INSERT INTO token_families (integration_id, created_at) VALUES ({newer}, '2026-12-06 09:30:00')"
    ));
    let admin_name = app
        .texts(&format!(
            "SELECT name AS t FROM users WHERE id = {admin_id}"
        ))
        .concat();

    let listed = admin.get(INTEGRATIONS).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.attrs(r#"[data-testid="integration-row"]"#, "data-integration-id"),
        [newer.to_string(), older.to_string()],
        "newest first"
    );
    let body = &listed.body;
    assert!(body.contains("Acme ATS") && body.contains(&app.admin_email));
    assert!(body.contains("Service account") && body.contains(&format!("As {admin_name}")));
    assert!(body.contains("2 scopes") && body.contains("harvest:jobs:list"));
    assert_eq!(
        listed.texts(r#"[data-testid="integration-status"]"#),
        ["Connected", "Connected"]
    );

    let confirm = admin.get(&with_id(INTEGRATION_DISCONNECT, newer)).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.has(r#"[data-testid="confirm-disconnect"]"#));
    let disconnected = admin
        .post(&with_id(INTEGRATION_DISCONNECT, newer), &[])
        .await;
    assert_eq!(disconnected.status, StatusCode::SEE_OTHER);
    assert_eq!(disconnected.location.as_deref(), Some(INTEGRATIONS));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM integrations WHERE id = {newer} \
             AND disconnected_at IS NOT NULL AND disconnected_by = {admin_id}"
        )),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM token_families WHERE revoked_at IS NOT NULL"),
        1,
        "its tokens stop"
    );
    assert_eq!(audit_count(&app, "integration_disconnected"), 1);
    let after = admin.get(INTEGRATIONS).await;
    assert!(after.body.contains("Disconnected “Acme ATS”"), "the flash");
    assert_eq!(
        after.texts(r#"[data-testid="integration-status"]"#),
        ["Disconnected", "Connected"]
    );
    let log = admin.get(devcenter::web::urls::AUDIT_LOG).await;
    assert!(
        log.body.contains("Integration disconnected"),
        "{}",
        log.body
    );

    // A second Disconnect changes nothing.
    let when = app.texts(&format!(
        "SELECT CAST(disconnected_at AS TEXT) AS t FROM integrations WHERE id = {newer}"
    ));
    let again = admin
        .post(&with_id(INTEGRATION_DISCONNECT, newer), &[])
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(audit_count(&app, "integration_disconnected"), 1);
    assert_eq!(
        app.texts(&format!(
            "SELECT CAST(disconnected_at AS TEXT) AS t FROM integrations WHERE id = {newer}"
        )),
        when
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM integrations WHERE id = {older} AND disconnected_at IS NULL"
        )),
        1
    );
}
