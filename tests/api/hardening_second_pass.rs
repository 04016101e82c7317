//! The second hardening pass, tried as an attacker would: every finding is a test here.

use std::os::unix::fs::PermissionsExt;

use reqwest::StatusCode;

use crate::helpers::{LIST, TestApp};

#[tokio::test]
async fn errors_from_the_csrf_layer_carry_the_security_headers() {
    let app = TestApp::spawn().await;
    let visitor = app.visitor();
    visitor.get("/login").await;
    let refused = visitor.post_raw("/logout", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    for header in [
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
        "permissions-policy",
    ] {
        assert!(
            refused.headers.contains_key(header),
            "{header} on the CSRF refusal"
        );
    }
}

#[tokio::test]
async fn a_very_long_user_search_is_bounded_not_a_500() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for search in ["x".repeat(60_000), "%_\\".repeat(2_000), "é".repeat(5_000)] {
        let page = admin.users(&search, 1).await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "{}",
            &page.body[..page.body.len().min(300)]
        );
    }
    // A long search still finds what its first 255 characters find.
    let page = admin.users(&format!("admin{}", "!".repeat(400)), 1).await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn invisible_and_direction_characters_and_look_alike_names_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for description in [
        "Payroll\u{200B} sync",
        "Invoice \u{202E}fdp.exe",
        "\u{FEFF}=cmd",
        "a\u{2028}b",
    ] {
        let page = admin.create_credential("harvest", "", description).await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{description:?}"
        );
        assert!(
            page.field_error("description").contains("invisible"),
            "{}",
            page.field_error("description")
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM credentials"), 0);

    admin.client_application("Acme", &[]).await;
    for twin in ["Acm\u{0435}", "\u{0410}cme", "Acme\u{200D}"] {
        let page = admin.add_client_application(twin, &[]).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{twin:?}");
    }
    let page = admin.add_client_application("Acm\u{0435}", &[]).await;
    assert!(
        page.field_error("name")
            .contains("mistaken for the client application “Acme”"),
        "{}",
        page.field_error("name")
    );
    assert_eq!(app.count("SELECT count(*) FROM client_applications"), 1);
    // A different name is fine.
    admin.client_application("Acme Payroll", &[]).await;
}

#[tokio::test]
async fn a_job_board_manager_cannot_tell_other_keys_from_missing_ones() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, harvest) = admin.new_key("harvest", "Secret Harvest key").await;
    let manager = app
        .user(
            "boards@example.com",
            "basic",
            &["manage_job_board_credentials"],
        )
        .await;
    let other = manager.get(&format!("{LIST}/{harvest}/revoke")).await;
    let missing = manager.get(&format!("{LIST}/99999/revoke")).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(other.text("main h1"), missing.text("main h1"));
    let revoke = manager.post(&format!("{LIST}/{harvest}/revoke"), &[]).await;
    assert_eq!(revoke.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.count("SELECT count(*) FROM credentials WHERE revoked_at IS NOT NULL"),
        0
    );
}

#[tokio::test]
async fn the_database_and_its_folder_are_owner_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    admin.new_key("harvest", "Makes the WAL").await;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .expect("the file")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&app.database()), 0o600);
    let wal = app.database().with_extension("db-wal");
    assert_eq!(mode(&wal), 0o600, "the WAL too");

    let dir = tempfile::tempdir().expect("a folder");
    let database = dir.path().join("new/folder/devcenter.db");
    let output = std::process::Command::new(crate::helpers::BINARY)
        .args([
            "create-user",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--password-stdin",
            "--database",
        ])
        .arg(&database)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("create-user runs");
    assert!(
        !output.status.success(),
        "no password given, but the database was opened"
    );
    assert_eq!(mode(&database), 0o600);
    assert_eq!(mode(database.parent().expect("a folder")), 0o700);
}
