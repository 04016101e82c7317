//! A rotation that ends when the old secret goes quiet: it works until it has had no
//! request for N hours (at the latest 7 days), the rotate page shows who still uses it,
//! and a restart neither ends nor extends it: its end is the moment it went quiet.

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;

use crate::helpers::{CREDENTIALS, TestApp};

async fn call(app: &TestApp, key: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("http://{}/harvest/v1/candidates", app.address))
        .basic_auth(key, Some(""))
        .header("User-Agent", "acme-sync/2.1")
        .send()
        .await
        .expect("the gate answers")
        .status()
}

/// Polls until `sql` counts at least one row.
async fn eventually(app: &TestApp, sql: &str, what: &str) {
    let mut waited = Duration::ZERO;
    while app.count(sql) == 0 {
        assert!(waited < Duration::from_secs(20), "never: {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
        waited += Duration::from_millis(250);
    }
}

fn at(offset: chrono::Duration) -> String {
    (Utc::now().naive_utc() + offset)
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string()
}

#[tokio::test]
async fn the_old_secret_works_until_it_goes_quiet_and_its_users_are_shown_meanwhile() {
    let mut app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (old, id) = admin.new_key("harvest", "Payroll sync").await;
    admin.update_permissions(id, &["GET /v1/candidates"]).await;
    let refused = admin
        .post(
            &format!("{CREDENTIALS}/{id}/rotate"),
            &[("overlap", "quiet:0h")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let rotated = admin
        .post(
            &format!("{CREDENTIALS}/{id}/rotate"),
            &[("overlap", "quiet:2h")],
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let (new, _) = rotated.api_key();
    for key in [&old, &new] {
        assert_eq!(call(&app, key).await, StatusCode::OK);
    }

    // Who still uses the old secret: its last request, address and user agent.
    eventually(&app, "SELECT count(*) FROM credential_secrets WHERE last_used_from IS NOT NULL AND ends_at IS NOT NULL", "the old secret's use written").await;
    let page = admin.get(&format!("{CREDENTIALS}/{id}/rotate")).await;
    let rows = page.texts(r#"[data-testid="secret-row"]"#);
    assert!(
        rows[1].contains("Works until it has had no request for 2 hours"),
        "{rows:?}"
    );
    assert!(
        page.texts(r#"[data-testid="secret-last-seen"]"#)
            .iter()
            .any(|t| t == "from 127.0.0.1 · acme-sync/2.1"),
        "{:?}",
        page.texts(r#"[data-testid="secret-last-seen"]"#)
    );

    // Still in use an hour ago: it keeps working.
    let old_secret = "quiet_hours IS NOT NULL";
    app.execute(&format!(
        "UPDATE credential_secrets SET rotated_at = '{}', last_used_at = '{}' WHERE {old_secret}",
        at(chrono::Duration::hours(-5)),
        at(chrono::Duration::hours(-1))
    ));
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(app.count(&format!("SELECT count(*) FROM credential_secrets WHERE {old_secret} AND ends_at > CURRENT_TIMESTAMP")), 1);

    // Quiet for three hours, found after a restart: it ends at the moment it went quiet
    // (its last request plus two hours), not at the restart.
    let last = Utc::now().naive_utc() - chrono::Duration::hours(3);
    app.execute(&format!(
        "UPDATE credential_secrets SET last_used_at = '{}' WHERE {old_secret}",
        last.format("%Y-%m-%d %H:%M:%S%.6f")
    ));
    app.restart().await;
    eventually(
        &app,
        &format!(
            "SELECT count(*) FROM credential_secrets WHERE {old_secret} AND ends_at < '{}'",
            at(chrono::Duration::minutes(-59))
        ),
        "the quiet overlap ended",
    )
    .await;
    let ended = app.texts(&format!(
        "SELECT CAST(ends_at AS TEXT) AS t FROM credential_secrets WHERE {old_secret}"
    ));
    let expected = (last + chrono::Duration::hours(2))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    assert!(ended[0].starts_with(&expected), "{ended:?} vs {expected}");
    assert_eq!(call(&app, &old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&app, &new).await, StatusCode::OK);
    assert!(app.audit_text().contains("it had no request for 2 hours"));
}
