//! The credential health panel on the Dev Center page: each concern counts the live
//! credentials that deserve a look, and opens the list of exactly those.

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;

use crate::helpers::{CREDENTIALS, Person, TestApp};

async fn listed(person: &Person, concern: &str) -> Vec<i32> {
    let page = person.get(&format!("{CREDENTIALS}?health={concern}")).await;
    assert_eq!(page.status, StatusCode::OK, "{concern}");
    let mut ids: Vec<i32> = page
        .attrs(r#"[data-testid="credential-row"]"#, "data-credential-id")
        .iter()
        .filter_map(|id| id.parse().ok())
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn each_concern_counts_and_lists_exactly_its_credentials() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (used_key, used) = admin.new_key("harvest", "Used daily").await;
    admin
        .update_permissions(used, &["GET /v1/candidates"])
        .await;
    let (_, idle) = admin.new_key("job_board", "Idle since spring").await;
    let (_, writes) = admin.new_key("harvest", "Writes never used").await;
    admin
        .update_permissions(writes, &["POST /v1/candidates/{id}/activity_feed/notes"])
        .await;
    let expiring_on = (Utc::now().date_naive() + chrono::Duration::days(10))
        .format("%Y-%m-%d")
        .to_string();
    let made = admin
        .post(
            CREDENTIALS,
            &[
                ("api_type", "job_board"),
                ("client_application_id", ""),
                ("description", "Expiring soon"),
                ("expires_on", &expiring_on),
            ],
        )
        .await;
    let (_, expiring) = made.api_key();
    let (outside_key, outside) = admin.new_key("job_board", "Office only").await;
    admin
        .post(
            &format!("{CREDENTIALS}/{outside}/trusted_ips"),
            &[("trusted_ips", "203.0.113.0/24")],
        )
        .await;

    let gate = reqwest::Client::new();
    let ok = gate
        .get(format!("http://{}/harvest/v1/candidates", app.address))
        .basic_auth(&used_key, Some(""))
        .send()
        .await
        .expect("an answer");
    assert_eq!(ok.status(), StatusCode::OK);
    let refused = gate
        .post(format!(
            "http://{}/boards-api/v1/boards/acme/jobs/7",
            app.address
        ))
        .basic_auth(&outside_key, Some(""))
        .send()
        .await
        .expect("an answer");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let mut waited = Duration::ZERO;
    while app.count("SELECT count(*) FROM gate_requests WHERE refused_address = TRUE") == 0
        || app.count(&format!(
            "SELECT count(*) FROM credentials WHERE id = {used} AND last_used_at IS NOT NULL"
        )) == 0
    {
        assert!(waited < Duration::from_secs(15), "the batch never came");
        tokio::time::sleep(Duration::from_millis(250)).await;
        waited += Duration::from_millis(250);
    }
    let long_ago = (Utc::now().naive_utc() - chrono::Duration::days(100))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    app.execute(&format!(
        "UPDATE credentials SET last_used_at = '{long_ago}' WHERE id = {idle}"
    ));

    let page = admin.get("/configure/dev_center").await;
    let count = |concern: &str| {
        page.text(&format!(
            r#"[data-testid="health-{concern}"] .health-count"#
        ))
    };
    assert_eq!(count("idle"), "1");
    assert_eq!(count("expiring"), "1");
    assert_eq!(count("outside_trusted_ips"), "1");
    assert_eq!(count("too_old"), "0", "no longest lifetime set");

    assert_eq!(listed(&admin, "idle").await, vec![idle]);
    assert_eq!(listed(&admin, "expiring").await, vec![expiring]);
    assert_eq!(listed(&admin, "unused_writes").await, vec![writes]);
    assert_eq!(listed(&admin, "outside_trusted_ips").await, vec![outside]);
    let never = listed(&admin, "never_used").await;
    assert!(
        never.contains(&writes)
            && never.contains(&expiring)
            && !never.contains(&used)
            && !never.contains(&idle),
        "{never:?}"
    );
    assert_eq!(
        admin
            .get(&format!("{CREDENTIALS}?health=bogus"))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // Keys made now are younger than any longest lifetime: set one in the past to see it.
    admin
        .post(
            "/configure/dev_center/settings",
            &[("max_lifetime_days", "30")],
        )
        .await;
    let old = (Utc::now().naive_utc() - chrono::Duration::days(45))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    app.execute(&format!(
        "UPDATE credentials SET created_at = '{old}' WHERE id = {used}"
    ));
    assert_eq!(listed(&admin, "too_old").await, vec![used]);

    // The panel is for managers of all credentials.
    let job_board = app
        .user(
            "boards@example.com",
            "basic",
            &["manage_job_board_credentials"],
        )
        .await;
    assert!(
        !job_board
            .get("/configure/dev_center")
            .await
            .has(r#"[data-testid="credential-health"]"#)
    );
}
