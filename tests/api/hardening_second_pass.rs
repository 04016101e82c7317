//! The second hardening pass, tried as an attacker would: every finding is a test here.

use std::os::unix::fs::PermissionsExt;

use reqwest::StatusCode;

use crate::helpers::{CREDENTIALS, TestApp};

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
    let other = manager
        .get(&format!("{CREDENTIALS}/{harvest}/revoke"))
        .await;
    let missing = manager.get(&format!("{CREDENTIALS}/99999/revoke")).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(other.text("main h1"), missing.text("main h1"));
    let revoke = manager
        .post(&format!("{CREDENTIALS}/{harvest}/revoke"), &[])
        .await;
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
    // A server's own file, on SQLite; the command line below makes one on either crate.
    if let Some(file) = app.sqlite_file() {
        assert_eq!(mode(&file), 0o600);
        let wal = file.with_extension("db-wal");
        assert_eq!(mode(&wal), 0o600, "the WAL too");
    }

    let dir = tempfile::tempdir().expect("a folder");
    let database = dir.path().join("new/folder/devcenter.db");
    let output = crate::helpers::devcenter()
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

/// `n` visitors, each with the sign-in form's token, ready to post at once.
async fn visitors_at_the_sign_in_form(
    app: &TestApp,
    n: usize,
) -> Vec<(crate::helpers::Person, String)> {
    let mut ready = Vec::with_capacity(n);
    for _ in 0..n {
        let visitor = app.visitor();
        let token = visitor
            .get("/login")
            .await
            .csrf_token()
            .expect("the sign-in form's token");
        ready.push((visitor, token));
    }
    ready
}

/// Posts every visitor's sign-in at once, each on a fresh connection (an idle keep-alive
/// connection from preparing the form may be closed meanwhile); the statuses, in order.
async fn sign_in_at_once(
    ready: Vec<(crate::helpers::Person, String)>,
    email: &str,
    passwords: Vec<String>,
) -> Vec<StatusCode> {
    let attempts: Vec<_> = ready
        .into_iter()
        .zip(passwords)
        .map(|((visitor, token), password)| {
            let email = email.to_owned();
            let cookie = visitor
                .cookie_header()
                .expect("the sign-in form's session cookie");
            tokio::spawn(async move {
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .expect("a client")
                    .post(format!("{}/login", visitor.base))
                    .header("cookie", cookie)
                    .form(&[
                        ("email", email.as_str()),
                        ("password", &password),
                        ("csrf_token", &token),
                    ])
                    .send()
                    .await
                    .expect("an answer")
                    .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.expect("an attempt"));
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_sign_ins_checks_no_more_passwords_than_the_limit() {
    let app = TestApp::spawn_with(&["--sign-in-limit", "10/15m"]).await;
    let ready = visitors_at_the_sign_in_form(&app, 60).await;
    let mut passwords = vec!["wrong wrong wrong".to_owned(); 59];
    passwords.push(app.admin_password.clone());
    let statuses = sign_in_at_once(ready, &app.admin_email, passwords).await;
    let count = |wanted: &[StatusCode]| statuses.iter().filter(|s| wanted.contains(s)).count();
    let failed = count(&[StatusCode::UNPROCESSABLE_ENTITY]);
    let succeeded = count(&[StatusCode::SEE_OTHER]);
    let refused = count(&[
        StatusCode::TOO_MANY_REQUESTS,
        StatusCode::SERVICE_UNAVAILABLE,
    ]);
    println!(
        "60 sign-ins at once, limit 10: {failed} wrong passwords checked, {succeeded} right, {refused} refused unchecked"
    );
    // A success gives its place back, so the right password may be checked besides ten
    // wrong ones; never more than ten wrong ones.
    assert!(failed <= 10, "{statuses:?}");
    assert_eq!(failed + succeeded + refused, 60, "{statuses:?}");
    // Ten failures lock the account, even for the right password.
    let visitor = app.visitor();
    visitor.get("/login").await;
    let page = visitor
        .post(
            "/login",
            &[
                ("email", &app.admin_email),
                ("password", &app.admin_password),
            ],
        )
        .await;
    if failed == 10 {
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_parallel_sign_ins_are_answered_quickly_and_memory_stays_bounded() {
    let app = TestApp::spawn_with(&["--sign-in-limit", "off"]).await;
    let before = app.resident_bytes();
    let mut busy = 0;
    for _ in 0..4 {
        let ready = visitors_at_the_sign_in_form(&app, 100).await;
        let statuses = sign_in_at_once(
            ready,
            "nobody@example.com",
            vec!["wrong wrong wrong".to_owned(); 100],
        )
        .await;
        assert!(
            statuses.iter().all(|s| [
                StatusCode::UNPROCESSABLE_ENTITY,
                StatusCode::SERVICE_UNAVAILABLE
            ]
            .contains(s)),
            "{statuses:?}"
        );
        busy += statuses
            .iter()
            .filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE)
            .count();
    }
    let after = app.resident_bytes();
    println!(
        "4 bursts of 100 parallel sign-ins: {busy} answered 503 at once; resident memory {} MiB before, {} MiB after",
        before >> 20,
        after >> 20
    );
    assert!(after < 128 << 20, "resident memory {} MiB", after >> 20);
    // The busy answer says when to come back.
    let ready = visitors_at_the_sign_in_form(&app, 60).await;
    let statuses = sign_in_at_once(ready, "nobody@example.com", vec!["x".to_owned(); 60]).await;
    assert!(
        statuses.contains(&StatusCode::SERVICE_UNAVAILABLE),
        "a burst beyond the queue is turned away"
    );
}

#[tokio::test]
async fn a_failed_update_after_a_commit_loses_nothing_and_the_reconcile_corrects_the_gate() {
    let app = TestApp::spawn_with(&[
        "--test-fail-live-index-updates",
        "--reconcile-interval",
        "1s",
    ])
    .await;
    let admin = app.admin().await;
    // The key is saved and shown once, although the gate's index could not be updated.
    let (key, id) = admin.new_key("job_board", "Careers site").await;
    assert!(key.starts_with("dcj_"));
    let apply = |key: String| {
        let address = app.address.clone();
        async move {
            reqwest::Client::new()
                .post(format!("http://{address}/boards-api/v1/boards/acme/jobs/1"))
                .basic_auth(key, Some(""))
                .send()
                .await
                .expect("the gate answers")
                .status()
        }
    };
    let waited = std::time::Instant::now();
    while apply(key.clone()).await != StatusCode::OK {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(5),
            "the reconcile adds the key"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    println!(
        "a key the post-commit update missed worked after {:?}",
        waited.elapsed()
    );
    // A revocation whose update fails still takes effect within the interval.
    let page = admin.revoke(id).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let waited = std::time::Instant::now();
    while apply(key.clone()).await != StatusCode::UNAUTHORIZED {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(5),
            "the reconcile removes the key"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    println!(
        "a revoked key the post-commit update missed stopped after {:?}",
        waited.elapsed()
    );
    assert!(app.logs().contains("live keys not updated after a commit"));
    assert!(app.logs().contains("live keys corrected by the reconcile"));
}

#[tokio::test]
async fn anonymous_visits_write_no_sessions_and_the_sign_in_form_stays_protected() {
    let app = TestApp::spawn().await;
    for _ in 0..300 {
        let page = app.visitor().get("/login").await;
        assert_eq!(page.status, StatusCode::OK);
    }
    assert_eq!(
        app.count("SELECT count(*) FROM sessions"),
        0,
        "300 visits, no session rows"
    );
    // A failed sign-in writes none either.
    let visitor = app.visitor();
    visitor.get("/login").await;
    let failed = visitor
        .post(
            "/login",
            &[("email", "nobody@example.com"), ("password", "wrong wrong")],
        )
        .await;
    assert_eq!(failed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT count(*) FROM sessions"), 0);

    // The form's token belongs to its visitor: missing, forged or another visitor's is 403.
    let (email, password) = (app.admin_email.clone(), app.admin_password.clone());
    let someone_else = app
        .visitor()
        .get("/login")
        .await
        .csrf_token()
        .expect("the sign-in form's token");
    let victim = app.visitor();
    victim.get("/login").await;
    for token in ["", "forged", &someone_else] {
        let page = victim
            .post_raw(
                "/login",
                &[
                    ("email", &email),
                    ("password", &password),
                    ("csrf_token", token),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "token {token:?}");
    }
    assert_eq!(app.count("SELECT count(*) FROM sessions"), 0);
    // With its own token the visitor signs in, and only then is a session stored.
    victim.sign_in(&email, &password).await;
    assert_eq!(app.count("SELECT count(*) FROM sessions"), 1);
    assert_eq!(victim.get("/configure").await.status, StatusCode::OK);
}

#[tokio::test]
async fn expired_sessions_are_swept_on_a_timer() {
    let app = TestApp::spawn_with(&["--session-idle", "1s"]).await;
    app.admin().await;
    assert_eq!(app.count("SELECT count(*) FROM sessions"), 1);
    let waited = std::time::Instant::now();
    while app.count("SELECT count(*) FROM sessions") > 0 {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(12),
            "swept within the flusher's 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
