//! Creating keys through the Create New Credential dialog, seeing each exactly once,
//! listing and revoking them.

use reqwest::StatusCode;

use crate::helpers::{CREDENTIALS, TestApp};

fn credentials_count(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM credentials")
}

#[tokio::test]
async fn a_site_admin_creates_a_harvest_key_and_sees_it_exactly_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;

    let shown = admin
        .create_credential("harvest", "", "Acme background checks")
        .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.headers["cache-control"], "no-store");
    let (key, id) = shown.api_key();
    assert!(key.starts_with("dch_"), "{key}");
    assert!(shown.text("#dialog-title").contains("Harvest"));
    let continue_to = shown.attrs(r#"[data-testid="stored-api-key-continue"]"#, "href");
    assert_eq!(continue_to, vec![format!("{CREDENTIALS}/{id}/permissions")]);
    assert_eq!(
        shown.text(r#"[data-testid="stored-api-key-continue"]"#),
        "I have stored the API key"
    );

    let list = admin.credentials().await;
    assert!(!list.body.contains(&key), "the list shows the whole key");
    let row = list.text(&format!(
        r#"[data-testid="credential-row"][data-credential-id="{id}"]"#
    ));
    assert!(row.contains("Acme background checks"), "{row}");
    assert!(
        row.contains(&format!("dch_…{}", &key[key.len() - 4..])),
        "{row}"
    );
    assert!(row.contains("Active"), "{row}");
    assert!(!admin.permissions(id).await.body.contains(&key));
}

#[tokio::test]
async fn job_board_and_partner_keys_lead_back_to_the_list() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let partner = admin.client_application("Acme Careers", &[]).await;

    let job_board = admin
        .create_credential("job_board", "", "Careers site")
        .await;
    let (key, _) = job_board.api_key();
    assert!(key.starts_with("dcj_"));
    assert_eq!(
        job_board.attrs(r#"[data-testid="stored-api-key-continue"]"#, "href"),
        vec![CREDENTIALS.to_owned()]
    );

    let partner_key = admin
        .create_credential("partner", &partner.to_string(), "Acme partner feed")
        .await;
    let (key, id) = partner_key.api_key();
    assert!(key.starts_with("dcp_"));
    let list = admin.credentials().await;
    let row = list.text(&format!(r#"[data-credential-id="{id}"]"#));
    assert!(
        row.contains("Partner") && row.contains("Acme Careers"),
        "{row}"
    );
}

#[tokio::test]
async fn the_key_is_stored_only_as_a_hash_and_never_logged() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, id) = admin.new_key("harvest", "Never in plain text").await;
    admin.update_permissions(id, &["GET /v1/candidates"]).await;
    admin.revoke(id).await;

    let stored = app.everything_stored();
    assert!(!stored.is_empty());
    let secret = &key.as_bytes()[4..];
    assert!(
        !stored.windows(secret.len()).any(|w| w == secret),
        "the key's secret is in the database file"
    );
    assert_eq!(app.stored_keys(&key, None), 1);
    let logs = app.logs();
    assert!(
        logs.contains("API key created"),
        "the creation is logged: {logs}"
    );
    assert!(!logs.contains(&key[4..]), "the key is in the logs");
}

#[tokio::test]
async fn a_missing_description_is_refused_beside_the_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let page = admin.create_credential("harvest", "", "   ").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(page.field_error("description"), "Enter a description.");
    assert!(!page.has(r#"[data-testid="api-key-value"]"#));
    assert!(page.has(r#"[data-testid="create-credential-dialog"]"#));
    assert_eq!(credentials_count(&app), 0);
}

#[tokio::test]
async fn a_description_over_255_characters_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let long = "é".repeat(256);
    let page = admin.create_credential("job_board", "", &long).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.field_error("description").contains("255 characters"));
    assert_eq!(credentials_count(&app), 0);
    // Exactly 255 characters is fine, whatever their byte length.
    let ok = admin
        .create_credential("job_board", "", &"é".repeat(255))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_api_type_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let page = admin.create_credential("ingest", "", "Mystery").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.field_error("api_type")
            .contains("Harvest, Harvest v3 (OAuth), Job Board or Partner")
    );
    assert_eq!(credentials_count(&app), 0);
}

#[tokio::test]
async fn a_partner_key_needs_a_client_application() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let page = admin
        .create_credential("partner", "", "No partner chosen")
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.field_error("client_application_id")
            .contains("needs a client application")
    );
    let unknown = admin
        .create_credential("partner", "9999", "Unknown partner")
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        unknown.field_error("client_application_id"),
        "Choose a client application from the list."
    );
    let junk = admin
        .create_credential("harvest", "abc", "Junk partner")
        .await;
    assert_eq!(junk.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(credentials_count(&app), 0);
}

#[tokio::test]
async fn a_job_board_key_ignores_a_client_application() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let partner = admin.client_application("Acme", &[]).await;
    let page = admin
        .create_credential("job_board", &partner.to_string(), "Careers")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        app.count("SELECT count(*) FROM credentials WHERE client_application_id IS NULL"),
        1
    );
}

#[tokio::test]
async fn the_dialog_offers_every_type_and_names_its_button_as_the_original() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let dialog = admin.get_htmx(&format!("{CREDENTIALS}/new")).await;
    assert_eq!(dialog.status, StatusCode::OK);
    assert!(!dialog.body.contains("<html"), "htmx gets the dialog alone");
    assert!(dialog.has(r#"[data-testid="create-credential-dialog"]"#));
    assert_eq!(
        dialog.texts("#api_type option"),
        vec!["Harvest", "Harvest v3 (OAuth)", "Job Board", "Partner"]
    );
    assert_eq!(
        dialog.text(".dialog-content button[type=submit]"),
        "Manage Permissions"
    );

    let page = admin.get(&format!("{CREDENTIALS}/new")).await;
    assert!(
        page.body.contains("<html"),
        "without htmx it is a whole page"
    );
    assert!(page.has(r#"[data-testid="create-credential-dialog"]"#));

    let retry = admin.create_credential("job_board", "", "").await;
    assert_eq!(retry.text(".dialog-content button[type=submit]"), "Create");
}

#[tokio::test]
async fn revoking_a_key_marks_it_revoked() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, id) = admin.new_key("job_board", "Old careers site").await;
    let confirm = admin.get(&format!("{CREDENTIALS}/{id}/revoke")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.text("#dialog-title").contains("Revoke"));

    let revoked = admin.revoke(id).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let list = admin.credentials().await;
    assert!(list.text(".flash").contains("Revoked “Old careers site”"));
    let row = list.text(&format!(r#"[data-credential-id="{id}"]"#));
    assert!(row.contains("Revoked"), "{row}");
    assert!(
        !list.body.contains(&format!("{CREDENTIALS}/{id}/revoke\"")),
        "a revoked key offers no Revoke"
    );
    assert_eq!(app.count("SELECT count(*) FROM credentials WHERE revoked_at IS NOT NULL AND revoked_by IS NOT NULL"), 1);
}

#[tokio::test]
async fn the_table_is_paginated_newest_first() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for n in 1..=27 {
        admin.new_key("job_board", &format!("Key {n:02}")).await;
    }
    let first = admin.credentials().await;
    let rows = first.texts(r#"[data-testid="credential-row"] .description"#);
    assert_eq!(rows.len(), 25);
    assert_eq!(rows[0], "Key 27");
    assert!(first.text(".pagination").contains("Page 1 of 2"));
    let second = admin.get(&format!("{CREDENTIALS}?page=2")).await;
    assert_eq!(
        second.texts(r#"[data-testid="credential-row"] .description"#),
        vec!["Key 02", "Key 01"]
    );
    let junk = admin.get(&format!("{CREDENTIALS}?page=abc")).await;
    assert_eq!(junk.status, StatusCode::BAD_REQUEST);
    assert!(junk.body.contains("Back to Configure"));
}
