//! The API gate, as partners use it: HTTP Basic with the key as user name.

use std::net::TcpListener;
use std::time::Duration;

use devcenter::rules::keys::ApiKey;
use devcenter::rules::words::ApiType;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Person, TestApp};
use crate::upstream::TestUpstream;

/// What came back from the gate.
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    json: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn call(app: &TestApp, method: Method, path: &str, key: Option<&str>) -> Answer {
    let client = reqwest::Client::new();
    let mut request = client.request(method, format!("http://{}{path}", app.address));
    if let Some(key) = key {
        request = request.basic_auth(key, Some(""));
    }
    let response = request.send().await.expect("the gate answers");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        json,
    }
}

async fn get(app: &TestApp, path: &str, key: &str) -> Answer {
    call(app, Method::GET, path, Some(key)).await
}

/// A Harvest key granted exactly `endpoints`.
async fn harvest_key(admin: &Person, endpoints: &[&str]) -> (String, i32) {
    let (key, id) = admin.new_key("harvest", "Gate test").await;
    admin.update_permissions(id, endpoints).await;
    (key, id)
}

fn assert_unauthenticated(answer: &Answer, case: &str) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{case}");
    assert!(
        answer
            .header("www-authenticate")
            .unwrap_or("")
            .starts_with("Basic"),
        "{case}"
    );
    assert!(
        answer.json["message"].is_string(),
        "{case}: {}",
        answer.json
    );
}

#[tokio::test]
async fn a_granted_harvest_endpoint_is_served_with_ids_query_strings_and_trailing_slashes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, id) = harvest_key(&admin, &["GET /v1/candidates/{id}", "PATCH /v2/users/"]).await;

    for path in [
        "/harvest/v1/candidates/42",
        "/harvest/v1/candidates/42?per_page=10&page=2",
        "/harvest/v1/candidates/42/",
    ] {
        let answer = get(&app, path, &key).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.json["endpoint"]["path"], "/v1/candidates/{id}");
        assert_eq!(answer.json["endpoint"]["name"], "Retrieve Candidate");
        assert_eq!(answer.json["credential"]["id"], id);
        assert_eq!(answer.json["credential"]["type"], "harvest");
    }
    for path in ["/harvest/v2/users", "/harvest/v2/users/"] {
        let answer = call(&app, Method::PATCH, path, Some(&key)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.json["endpoint"]["name"], "Edit User");
    }
}

#[tokio::test]
async fn every_refusal_of_the_harvest_mount() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, _) = harvest_key(&admin, &["GET /v1/candidates"]).await;
    let path = "/harvest/v1/candidates";

    assert_unauthenticated(&call(&app, Method::GET, path, None).await, "no key");
    assert_unauthenticated(&get(&app, path, "not-a-key").await, "malformed");
    let never_issued = ApiKey::generate(ApiType::Harvest);
    assert_unauthenticated(&get(&app, path, never_issued.reveal()).await, "unknown");
    let (job_board, _) = admin.new_key("job_board", "Wrong type").await;
    assert_unauthenticated(&get(&app, path, &job_board).await, "a Job Board key");

    let not_granted = get(&app, "/harvest/v1/jobs", &key).await;
    assert_eq!(not_granted.status, StatusCode::FORBIDDEN);
    assert!(
        not_granted.json["message"]
            .as_str()
            .unwrap_or("")
            .contains("not granted")
    );

    for (method, unknown) in [
        (Method::GET, "/harvest/v1/payroll"),
        (Method::GET, "/harvest/v4/candidates"),
        (Method::GET, "/harvest/candidates"),
        (Method::DELETE, path),
    ] {
        let answer = call(&app, method.clone(), unknown, Some(&key)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {unknown}");
    }
    // Authentication comes first: an unknown path without a key is still a 401.
    assert_unauthenticated(
        &call(&app, Method::GET, "/harvest/v1/payroll", None).await,
        "no key, no path",
    );
}

#[tokio::test]
async fn a_key_with_any_one_character_changed_is_refused() {
    let app = TestApp::spawn_with(&["--failed-auth-limit", "off"]).await;
    let admin = app.admin().await;
    let (key, _) = harvest_key(&admin, &["GET /v1/candidates"]).await;
    assert_eq!(
        get(&app, "/harvest/v1/candidates", &key).await.status,
        StatusCode::OK
    );
    let mut changed = 0;
    for position in (0..key.len()).step_by(3) {
        let mut bytes = key.clone().into_bytes();
        bytes[position] = if bytes[position] == b'a' { b'b' } else { b'a' };
        let typo = String::from_utf8(bytes).expect("ASCII");
        assert_unauthenticated(&get(&app, "/harvest/v1/candidates", &typo).await, &typo);
        changed += 1;
    }
    assert!(changed >= 17);
}

#[tokio::test]
async fn grant_changes_and_revocation_apply_to_the_next_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, id) = harvest_key(&admin, &[]).await;
    let path = "/harvest/v1/applications";
    assert_eq!(get(&app, path, &key).await.status, StatusCode::FORBIDDEN);
    admin
        .update_permissions(id, &["GET /v1/applications"])
        .await;
    assert_eq!(get(&app, path, &key).await.status, StatusCode::OK);
    admin.update_permissions(id, &["GET /v1/jobs"]).await;
    assert_eq!(get(&app, path, &key).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&app, "/harvest/v1/jobs", &key).await.status,
        StatusCode::OK
    );
    admin.revoke(id).await;
    assert_unauthenticated(&get(&app, "/harvest/v1/jobs", &key).await, "revoked");
}

#[tokio::test]
async fn job_board_applications_need_a_job_board_key_and_reading_is_public() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (job_board, id) = admin.new_key("job_board", "Careers site").await;
    let (harvest, _) = harvest_key(&admin, &[]).await;
    let apply = "/boards-api/v1/boards/acme/jobs/127";

    assert_unauthenticated(&call(&app, Method::POST, apply, None).await, "no key");
    assert_unauthenticated(
        &call(&app, Method::POST, apply, Some(&harvest)).await,
        "a Harvest key",
    );
    let accepted = call(&app, Method::POST, apply, Some(&job_board)).await;
    assert_eq!(accepted.status, StatusCode::OK);
    assert_eq!(accepted.json["credential"]["id"], id);
    assert_eq!(accepted.json["credential"]["type"], "job_board");

    let public = call(
        &app,
        Method::GET,
        "/boards-api/v1/boards/acme/jobs?content=true",
        None,
    )
    .await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.json["credential"].is_null());
    assert_eq!(
        call(
            &app,
            Method::DELETE,
            "/boards-api/v1/boards/acme/jobs/127",
            Some(&job_board)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    admin.revoke(id).await;
    assert_unauthenticated(
        &call(&app, Method::POST, apply, Some(&job_board)).await,
        "revoked",
    );
}

#[tokio::test]
async fn the_partner_mount_takes_live_partner_keys_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let partner = admin.client_application("Acme", &[]).await;
    let shown = admin
        .create_credential("partner", &partner.to_string(), "Acme feed")
        .await;
    let (key, id) = shown.api_key();
    let (harvest, _) = harvest_key(&admin, &[]).await;

    let answer = call(&app, Method::POST, "/partner/v1/candidates?x=1", Some(&key)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json["credential"]["type"], "partner");
    assert_eq!(answer.json["credential"]["id"], id);
    assert_unauthenticated(
        &call(&app, Method::GET, "/partner/anything", None).await,
        "no key",
    );
    assert_unauthenticated(
        &call(&app, Method::GET, "/partner/anything", Some(&harvest)).await,
        "a Harvest key",
    );
    admin.revoke(id).await;
    assert_unauthenticated(
        &call(&app, Method::GET, "/partner/anything", Some(&key)).await,
        "revoked",
    );
}

#[tokio::test]
async fn deactivating_a_client_application_stops_its_partner_keys_at_the_next_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let partner = admin.client_application("Acme", &[]).await;
    let (key, _) = admin
        .create_credential("partner", &partner.to_string(), "Acme feed")
        .await
        .api_key();
    let page = "/configure/dev_center/client_applications";
    let toggle = format!("{page}/{partner}");
    assert_eq!(
        call(&app, Method::GET, "/partner/feed", Some(&key))
            .await
            .status,
        StatusCode::OK
    );

    let off = admin.post(&toggle, &[("active", "false")]).await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    assert_unauthenticated(
        &call(&app, Method::GET, "/partner/feed", Some(&key)).await,
        "inactive application",
    );
    let listed = admin.get(page).await;
    assert!(listed.text(".flash").contains("Deactivated “Acme”"));
    let row = listed.text(&format!(r#"[data-client-application-id="{partner}"]"#));
    assert!(
        row.contains("Inactive") && row.contains("Activate"),
        "{row}"
    );
    let dialog = admin.get("/configure/dev_center/credentials/new").await;
    assert!(
        !dialog
            .texts("#client_application_id option")
            .contains(&"Acme".to_owned()),
        "no new keys for it"
    );

    assert_eq!(
        admin.post(&toggle, &[("active", "true")]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        call(&app, Method::GET, "/partner/feed", Some(&key))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'client_application_changed'"),
        2
    );
    assert_eq!(
        admin.post(&toggle, &[("active", "maybe")]).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        admin
            .post(&format!("{page}/9999"), &[("active", "false")])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_rate_limit_counts_per_key_with_its_headers() {
    let app = TestApp::spawn_with(&["--rate-limit", "3/30s"]).await;
    let admin = app.admin().await;
    let (key, _) = harvest_key(&admin, &["GET /v1/jobs"]).await;
    let (other, _) = harvest_key(&admin, &["GET /v1/jobs"]).await;
    for remaining in ["2", "1", "0"] {
        let answer = get(&app, "/harvest/v1/jobs", &key).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.header("x-ratelimit-limit"), Some("3"));
        assert_eq!(answer.header("x-ratelimit-remaining"), Some(remaining));
        assert_eq!(answer.header("retry-after"), None);
    }
    let refused = get(&app, "/harvest/v1/jobs", &key).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    let reset: u64 = refused
        .header("x-ratelimit-reset")
        .expect("a reset")
        .parse()
        .expect("seconds");
    assert!((1..=30).contains(&reset), "{reset}");
    assert_eq!(
        refused.header("retry-after"),
        refused.header("x-ratelimit-reset")
    );
    // Refusals of a known key count too, and carry the headers.
    assert_eq!(
        get(&app, "/harvest/v1/payroll", &key)
            .await
            .header("x-ratelimit-remaining"),
        Some("0")
    );
    // Another key has its own window.
    assert_eq!(
        get(&app, "/harvest/v1/jobs", &other).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn guessing_keys_from_one_address_is_throttled() {
    let app = TestApp::spawn_with(&["--failed-auth-limit", "3/60s"]).await;
    let admin = app.admin().await;
    let (key, _) = harvest_key(&admin, &["GET /v1/jobs"]).await;
    for _ in 0..3 {
        let guess = ApiKey::generate(ApiType::Harvest);
        assert_unauthenticated(
            &get(&app, "/harvest/v1/jobs", guess.reveal()).await,
            "a guess",
        );
    }
    let guess = ApiKey::generate(ApiType::Harvest);
    let throttled = get(&app, "/harvest/v1/jobs", guess.reveal()).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = throttled
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry));
    // Even a right key learns nothing from this address until the window passes.
    assert_eq!(
        get(&app, "/harvest/v1/jobs", &key).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn usage_is_counted_shown_and_kept_across_a_restart() {
    let mut app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, id) = harvest_key(&admin, &["GET /v1/jobs", "GET /v1/candidates"]).await;
    for _ in 0..3 {
        assert_eq!(
            get(&app, "/harvest/v1/jobs?page=1", &key).await.status,
            StatusCode::OK
        );
    }
    get(&app, "/harvest/v1/payroll", &key).await;
    app.restart_gracefully().await;
    let admin = admin.at(&app);

    let page = admin.permissions(id).await;
    let usage = page.texts("[data-endpoint-usage]");
    assert!(
        usage.contains(&"3 requests in 30 days".to_owned()),
        "{usage:?}"
    );
    assert!(
        usage.contains(&"No requests in 30 days".to_owned()),
        "{usage:?}"
    );
    let row = admin.credentials().await.text(&format!(
        r#"[data-credential-id="{id}"] [data-label="Last used"]"#
    ));
    assert!(!row.contains("Never"), "{row}");
    assert_eq!(
        app.count("SELECT coalesce(sum(requests), 0) FROM credential_usage"),
        3
    );
    // The key still works after the restart: the live keys were loaded again.
    assert_eq!(
        get(&app, "/harvest/v1/candidates", &key).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn usage_is_written_in_batches_while_running() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, _) = harvest_key(&admin, &["GET /v1/jobs"]).await;
    get(&app, "/harvest/v1/jobs", &key).await;
    assert_eq!(
        app.count("SELECT count(*) FROM credential_usage"),
        0,
        "no write per request"
    );
    let mut waited = Duration::ZERO;
    while app.count("SELECT count(*) FROM credential_usage") == 0 {
        assert!(waited < Duration::from_secs(15), "the batch never came");
        tokio::time::sleep(Duration::from_millis(250)).await;
        waited += Duration::from_millis(250);
    }
    assert_eq!(
        app.count("SELECT count(*) FROM credentials WHERE last_used_at IS NOT NULL"),
        1
    );
}

#[tokio::test]
async fn authorized_requests_are_forwarded_upstream_without_the_key() {
    let upstream = TestUpstream::start();
    let app = TestApp::spawn_with(&["--harvest-upstream", &upstream.url]).await;
    let admin = app.admin().await;
    let (key, id) = harvest_key(&admin, &["POST /v1/candidates/{id}/activity_feed/notes"]).await;
    let response = reqwest::Client::new()
        .post(format!(
            "http://{}/harvest/v1/candidates/7/activity_feed/notes?draft=1",
            app.address
        ))
        .basic_auth(&key, Some(""))
        .header("Content-Type", "application/json")
        .header("On-Behalf-Of", "12345")
        .body(r#"{"body":"Great call"}"#)
        .send()
        .await
        .expect("forwarded");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()["location"],
        format!("http://{}/harvest/v1/candidates/99", app.address),
        "the upstream's own links point at the gate"
    );
    assert_eq!(response.headers()["x-ratelimit-limit"], "50");
    let echoed: Value = response.json().await.expect("JSON");
    assert_eq!(echoed["method"], "POST");
    assert_eq!(echoed["path"], "/v1/candidates/7/activity_feed/notes");
    assert_eq!(echoed["query"], "draft=1");
    assert_eq!(echoed["body"], r#"{"body":"Great call"}"#);
    assert_eq!(echoed["content_type"], "application/json");
    assert_eq!(echoed["on_behalf_of"], "12345");
    assert_eq!(echoed["credential"], id.to_string());
    assert!(
        echoed["authorization"].is_null(),
        "the partner's key stays here"
    );
    // Refusals never reach the upstream.
    let refused = get(&app, "/harvest/v1/jobs", &key).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        upstream.targets(),
        ["/v1/candidates/7/activity_feed/notes?draft=1"]
    );
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502() {
    let closed = TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = closed.local_addr().expect("an address");
    drop(closed);
    let app = TestApp::spawn_with(&["--harvest-upstream", &format!("http://{address}")]).await;
    let admin = app.admin().await;
    let (key, _) = harvest_key(&admin, &["GET /v1/jobs"]).await;
    let answer = get(&app, "/harvest/v1/jobs", &key).await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
    assert!(
        answer.json["message"]
            .as_str()
            .unwrap_or("")
            .contains("upstream")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_requests_in_flight_finish_and_keeps_their_usage() {
    let upstream = TestUpstream::start();
    let mut app = TestApp::spawn_with(&["--harvest-upstream", &upstream.url]).await;
    let admin = app.admin().await;
    let (key, id) = harvest_key(&admin, &["GET /v1/jobs"]).await;
    let url = format!("http://{}/harvest/v1/jobs?slow=1", app.address);
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .get(url)
            .basic_auth(key, Some(""))
            .send()
            .await
            .map(|r| r.status())
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.restart_gracefully().await; // SIGTERM while the upstream is still answering
    let status = in_flight.await.expect("the request task");
    assert_eq!(
        status.ok(),
        Some(StatusCode::CREATED),
        "the request in flight got its answer"
    );
    let admin = admin.at(&app);
    let usage = admin.permissions(id).await.texts("[data-endpoint-usage]");
    assert_eq!(usage, vec!["1 request in 30 days"]);
}
