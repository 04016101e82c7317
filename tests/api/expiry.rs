//! Credentials that expire: a date chosen at creation or later, within the organization's
//! longest lifetime; refused at the gate and the token endpoint from the first second
//! after their last day, with a message that says when.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{CREDENTIALS, TestApp};

fn in_days(days: i64) -> String {
    (Utc::now().date_naive() + Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

const SETTINGS: &str = "/configure/dev_center/settings";

#[tokio::test]
async fn a_credential_made_to_expire_shows_its_days_left_and_its_date_can_change() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let made = admin
        .post(
            CREDENTIALS,
            &[
                ("api_type", "job_board"),
                ("client_application_id", ""),
                ("description", "Careers site"),
                ("expires_on", &in_days(10)),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let (key, id) = made.api_key();
    let list = admin.credentials().await;
    assert_eq!(
        list.text(r#"[data-testid="credential-expiry"]"#),
        "Expires in 10 days"
    );
    assert!(list.has(".expiring-soon"), "highlighted within 14 days");

    // A past or malformed date is refused beside the field; nothing changes.
    for bad in [in_days(0), in_days(-3), "12/31/2030".to_owned()] {
        let refused = admin
            .post(
                &format!("{CREDENTIALS}/{id}/expiry"),
                &[("expires_on", &bad)],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(!refused.field_error("expires_on").is_empty(), "{bad}");
    }
    let changed = admin
        .post(
            &format!("{CREDENTIALS}/{id}/expiry"),
            &[("expires_on", &in_days(200))],
        )
        .await;
    assert!(changed.status.is_redirection(), "{}", changed.body);
    assert_eq!(
        admin
            .credentials()
            .await
            .text(r#"[data-testid="credential-expiry"]"#),
        "Expires in 200 days"
    );
    let never = admin
        .post(&format!("{CREDENTIALS}/{id}/expiry"), &[("expires_on", "")])
        .await;
    assert!(never.status.is_redirection());
    assert_eq!(
        admin
            .credentials()
            .await
            .text(r#"[data-testid="credential-expiry"]"#),
        "Never expires"
    );
    let audit = app.audit_text();
    assert!(
        audit.contains(&format!("on {} (UTC) → never", in_days(200))),
        "{audit}"
    );
    assert!(!audit.contains(&key));
}

#[tokio::test]
async fn the_organizations_longest_lifetime_refuses_credentials_beyond_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for bad in ["0", "3651", "ninety"] {
        let refused = admin.post(SETTINGS, &[("max_lifetime_days", bad)]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let saved = admin.post(SETTINGS, &[("max_lifetime_days", "90")]).await;
    assert!(saved.status.is_redirection(), "{}", saved.body);
    assert!(app.audit_text().contains("no limit → 90 days"));

    let create = |expires_on: String| {
        let admin = &admin;
        async move {
            admin
                .post(
                    CREDENTIALS,
                    &[
                        ("api_type", "harvest"),
                        ("client_application_id", ""),
                        ("description", "Payroll sync"),
                        ("expires_on", &expires_on),
                    ],
                )
                .await
        }
    };
    for beyond in [in_days(91), String::new()] {
        let refused = create(beyond.clone()).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{beyond:?}"
        );
        assert!(
            refused
                .field_error("expires_on")
                .contains("at most 90 days"),
            "{}",
            refused.field_error("expires_on")
        );
    }
    assert_eq!(
        app.count("SELECT count(*) FROM credentials"),
        0,
        "nothing written"
    );
    assert_eq!(create(in_days(90)).await.status, StatusCode::OK);

    // The settings are the Site Admins'.
    let manager = app
        .user("manager@example.com", "basic", &["manage_all_credentials"])
        .await;
    assert_eq!(manager.get(SETTINGS).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_expired_credential_is_refused_from_the_first_second_after_its_last_day() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, id) = admin.new_key("harvest", "Payroll sync").await;
    admin.update_permissions(id, &["GET /v1/candidates"]).await;
    let v3 = admin
        .v3_credential_with_scopes("Reporting", &["harvest:candidates:list"])
        .await;
    let token = reqwest::Client::new()
        .post(format!("http://{}/oauth/token", app.address))
        .basic_auth(&v3.client_id, Some(&v3.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("a token")
        .json::<Value>()
        .await
        .expect("JSON")["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let basic = || {
        reqwest::Client::new()
            .get(format!("http://{}/harvest/v1/candidates", app.address))
            .basic_auth(&key, Some(""))
            .send()
    };
    let bearer = || {
        reqwest::Client::new()
            .get(format!("http://{}/harvest/v3/candidates", app.address))
            .bearer_auth(&token)
            .send()
    };

    // The clock moved on: both end six seconds from now (as if their last day were ending).
    // A saved change (trusting the tests' own address) makes the gate read them again.
    let end = Utc::now().naive_utc() + Duration::seconds(6);
    for credential in [id, v3.id] {
        app.execute(&format!(
            "UPDATE credentials SET expires_at = '{}' WHERE id = {credential}",
            end.format("%Y-%m-%d %H:%M:%S%.6f")
        ));
        let saved = admin
            .post(
                &format!("{CREDENTIALS}/{credential}/trusted_ips"),
                &[("trusted_ips", "127.0.0.1")],
            )
            .await;
        assert!(saved.status.is_redirection(), "{}", saved.body);
    }
    assert_eq!(basic().await.expect("an answer").status(), StatusCode::OK);
    assert_eq!(bearer().await.expect("an answer").status(), StatusCode::OK);
    let wait = (end - Utc::now().naive_utc()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + std::time::Duration::from_millis(50)).await;

    let last_day = (end - Duration::seconds(1))
        .date()
        .format("%Y-%m-%d")
        .to_string();
    let refused = basic().await.expect("an answer");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let body: Value = refused.json().await.expect("JSON");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("expired on {last_day}")),
        "{body}"
    );
    let refused = bearer().await.expect("an answer");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let challenge = refused.headers()["www-authenticate"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(
        challenge.contains(r#"error="invalid_token""#) && challenge.contains("expired"),
        "{challenge}"
    );
    let answer = reqwest::Client::new()
        .post(format!("http://{}/oauth/token", app.address))
        .basic_auth(&v3.client_id, Some(&v3.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("an answer");
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let body: Value = answer.json().await.expect("JSON");
    assert_eq!(body["error"], "invalid_client");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("expired on {last_day}"))
    );
    let list = admin.credentials().await;
    assert_eq!(list.texts(r#"[data-testid="credential-expired"]"#).len(), 2);

    // The list narrows by status.
    let (_, revoked) = admin.new_key("job_board", "Old careers site").await;
    admin.revoke(revoked).await;
    admin.new_key("job_board", "Careers site").await;
    let rows = |status: &'static str| {
        let admin = &admin;
        async move {
            let page = admin.get(&format!("{CREDENTIALS}?status={status}")).await;
            assert_eq!(page.status, StatusCode::OK, "{status}");
            let mut ids = page.attrs(r#"[data-testid="credential-row"]"#, "data-credential-id");
            ids.sort();
            ids
        }
    };
    let mut expired = vec![id.to_string(), v3.id.to_string()];
    expired.sort();
    assert_eq!(rows("expired").await, expired);
    assert_eq!(rows("revoked").await, vec![revoked.to_string()]);
    assert_eq!(
        rows("active").await.len(),
        1,
        "only the live, unexpired key"
    );
    assert!(rows("expiring").await.is_empty());
    let bogus = admin.get(&format!("{CREDENTIALS}?status=bogus")).await;
    assert_eq!(bogus.status, StatusCode::BAD_REQUEST);
}
