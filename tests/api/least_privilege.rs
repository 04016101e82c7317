//! Least privilege from real traffic: a save that drops what the credential used in the
//! last 30 days shows what would have been refused and changes nothing until confirmed;
//! "Remove unused" lists exactly what went unused, for confirmation, and removes exactly
//! that.

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{CREDENTIALS, Page, TestApp};

const CANDIDATES: &str = "GET /v1/candidates";
const JOBS: &str = "GET /v1/jobs";
const OFFERS: &str = "GET /v1/offers";

/// Waits for the gate's next usage batch to reach the database.
async fn usage_written(app: &TestApp, credential: i32, requests: i64) {
    let sql = format!(
        "SELECT coalesce(sum(requests), 0) FROM credential_usage WHERE credential_id = {credential}"
    );
    let mut waited = Duration::ZERO;
    while app.count(&sql) < requests {
        assert!(
            waited < Duration::from_secs(15),
            "the usage batch never came"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        waited += Duration::from_millis(250);
    }
}

/// Traffic from before the window, as the gate would have counted it then.
fn used_long_ago(app: &TestApp, credential: i32, endpoint: &str, days_ago: i64) -> String {
    let day = (Utc::now().date_naive() - chrono::Duration::days(days_ago))
        .format("%Y-%m-%d")
        .to_string();
    let (method, path) = endpoint.split_once(' ').expect("METHOD path");
    app.execute(&format!(
        "INSERT INTO credential_usage (credential_id, day, endpoint_id, requests) \
         SELECT {credential}, '{day}', id, 7 FROM endpoints WHERE method = '{method}' AND path = '{path}'"
    ));
    day
}

fn granted(app: &TestApp, credential: i32) -> Vec<String> {
    let mut granted = app.texts(&format!(
        "SELECT e.method || ' ' || e.path AS t FROM credential_endpoints g \
         JOIN endpoints e ON e.id = g.endpoint_id WHERE g.credential_id = {credential}"
    ));
    granted.sort();
    granted
}

/// The hidden fields a confirmation form carries, as a browser would send them.
fn confirmation(page: &Page, testid: &str) -> Vec<(String, String)> {
    let html = scraper::Html::parse_document(&page.body);
    let selector = scraper::Selector::parse(&format!(
        r#"[data-testid="{testid}"] form input[type="hidden"]"#
    ))
    .expect("a selector");
    html.select(&selector)
        .filter_map(|i| {
            let name = i.value().attr("name")?;
            (name != "csrf_token").then(|| {
                (
                    name.to_owned(),
                    i.value().attr("value").unwrap_or_default().to_owned(),
                )
            })
        })
        .collect()
}

#[tokio::test]
async fn dropping_a_used_endpoint_shows_its_impact_and_changes_nothing_until_confirmed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, id) = admin.new_key("harvest", "Payroll sync").await;
    admin
        .update_permissions(id, &[CANDIDATES, JOBS, OFFERS])
        .await;
    for _ in 0..3 {
        let used = reqwest::Client::new()
            .get(format!("http://{}/harvest/v1/candidates", app.address))
            .basic_auth(&key, Some(""))
            .send()
            .await
            .expect("the gate answers");
        assert_eq!(used.status(), StatusCode::OK);
    }
    usage_written(&app, id, 3).await;
    let audit_before = app.audit_text();

    let first = admin.update_permissions(id, &[JOBS, OFFERS]).await;
    assert_eq!(first.status, StatusCode::OK, "a preview, not a redirect");
    let today = Utc::now().date_naive().format("%Y-%m-%d").to_string();
    assert_eq!(
        first.texts(r#"[data-testid="grant-impact"] li"#),
        vec![format!(
            "{CANDIDATES}: 3 requests in the last 30 days, last on {today}"
        )]
    );
    assert_eq!(
        granted(&app, id),
        vec![CANDIDATES, JOBS, OFFERS],
        "nothing changed"
    );
    assert_eq!(app.audit_text(), audit_before, "nothing audited");

    let fields = confirmation(&first, "grant-impact");
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert!(fields.contains(&("confirm", "1")));
    let confirmed = admin
        .post(&format!("{CREDENTIALS}/{id}/permissions"), &fields)
        .await;
    assert!(confirmed.status.is_redirection(), "{}", confirmed.body);
    assert_eq!(granted(&app, id), vec![JOBS, OFFERS]);
    let refused = reqwest::Client::new()
        .get(format!("http://{}/harvest/v1/candidates", app.address))
        .basic_auth(&key, Some(""))
        .send()
        .await
        .expect("the gate answers");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // Dropping what was never used saves at once.
    let direct = admin.update_permissions(id, &[JOBS]).await;
    assert!(direct.status.is_redirection());
    assert_eq!(granted(&app, id), vec![JOBS]);
}

#[tokio::test]
async fn remove_unused_lists_exactly_the_unused_endpoints_and_removes_exactly_those() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, id) = admin.new_key("harvest", "Payroll sync").await;
    admin
        .update_permissions(id, &[CANDIDATES, JOBS, OFFERS])
        .await;
    reqwest::Client::new()
        .get(format!("http://{}/harvest/v1/candidates", app.address))
        .basic_auth(&key, Some(""))
        .send()
        .await
        .expect("the gate answers");
    usage_written(&app, id, 1).await;
    let long_ago = used_long_ago(&app, id, JOBS, 40);

    let listed = admin
        .get(&format!("{CREDENTIALS}/{id}/permissions?remove_unused=1"))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.texts(r#"[data-testid="unused-grants"] li"#),
        vec![
            format!("{JOBS} · last used on {long_ago}"),
            format!("{OFFERS} · never used")
        ]
    );
    assert_eq!(
        granted(&app, id),
        vec![CANDIDATES, JOBS, OFFERS],
        "listing changes nothing"
    );
    let fields = confirmation(&listed, "unused-grants");
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let removed = admin
        .post(&format!("{CREDENTIALS}/{id}/permissions"), &fields)
        .await;
    assert!(removed.status.is_redirection(), "{}", removed.body);
    assert_eq!(granted(&app, id), vec![CANDIDATES]);
}

#[tokio::test]
async fn dropping_a_used_scope_shows_its_impact_first() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let v3 = admin
        .v3_credential_with_scopes(
            "Reporting",
            &["harvest:candidates:list", "harvest:jobs:list"],
        )
        .await;
    let token: Value = reqwest::Client::new()
        .post(format!("http://{}/oauth/token", app.address))
        .basic_auth(&v3.client_id, Some(&v3.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("a token")
        .json()
        .await
        .expect("JSON");
    let token = token["access_token"].as_str().expect("a token");
    for _ in 0..2 {
        let used = reqwest::Client::new()
            .get(format!("http://{}/harvest/v3/candidates", app.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("the gate answers");
        assert_eq!(used.status(), StatusCode::OK);
    }
    usage_written(&app, v3.id, 2).await;

    let first = admin.update_scopes(v3.id, &["harvest:jobs:list"]).await;
    assert_eq!(first.status, StatusCode::OK);
    let lines = first.texts(r#"[data-testid="grant-impact"] li"#);
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with("harvest:candidates:list: 2 requests in the last 30 days"),
        "{lines:?}"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM credential_scopes WHERE credential_id = {}",
            v3.id
        )),
        2
    );

    let unused = admin
        .get(&format!("{CREDENTIALS}/{}/scopes?remove_unused=1", v3.id))
        .await;
    assert_eq!(
        unused.texts(r#"[data-testid="unused-grants"] li"#),
        vec!["harvest:jobs:list · never used".to_owned()]
    );
    let fields = confirmation(&first, "grant-impact");
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let confirmed = admin
        .post(&format!("{CREDENTIALS}/{}/scopes", v3.id), &fields)
        .await;
    assert!(confirmed.status.is_redirection(), "{}", confirmed.body);
    let refused = reqwest::Client::new()
        .get(format!("http://{}/harvest/v3/candidates", app.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("the gate answers");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn what_a_key_asked_for_and_was_refused_is_one_click_from_granted() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, id) = admin.new_key("harvest", "Payroll sync").await;
    admin.update_permissions(id, &[CANDIDATES]).await;
    for _ in 0..3 {
        let refused = reqwest::Client::new()
            .get(format!("http://{}/harvest/v1/offers", app.address))
            .basic_auth(&key, Some(""))
            .send()
            .await
            .expect("the gate answers");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }
    let mut waited = Duration::ZERO;
    while app.count(&format!(
        "SELECT count(*) FROM gate_requests WHERE credential_id = {id} AND status = 403"
    )) < 3
    {
        assert!(
            waited < Duration::from_secs(15),
            "the request log never came"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        waited += Duration::from_millis(250);
    }
    let page = admin.permissions(id).await;
    let items = page.texts(r#"[data-testid="refused-endpoints"] li span"#);
    assert_eq!(
        items,
        vec![format!(
            "Asked for {OFFERS} 3 times this week, and was refused"
        )]
    );
    let html = scraper::Html::parse_document(&page.body);
    let inputs = scraper::Selector::parse(
        r#"[data-testid="refused-endpoints"] form input[name="endpoints"]"#,
    )
    .expect("a selector");
    let fields: Vec<(&str, String)> = html
        .select(&inputs)
        .map(|i| {
            (
                "endpoints",
                i.value().attr("value").unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let fields: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let granted_now = admin
        .post(&format!("{CREDENTIALS}/{id}/permissions"), &fields)
        .await;
    assert!(granted_now.status.is_redirection(), "{}", granted_now.body);
    assert_eq!(granted(&app, id), vec![CANDIDATES, OFFERS]);
    let now_ok = reqwest::Client::new()
        .get(format!("http://{}/harvest/v1/offers", app.address))
        .basic_auth(&key, Some(""))
        .send()
        .await
        .expect("the gate answers");
    assert_eq!(now_ok.status(), StatusCode::OK);
    assert!(
        !admin
            .permissions(id)
            .await
            .has(r#"[data-testid="refused-endpoints"]"#)
    );
}
