//! The gate in a real deployment, tried as an attacker and as a partner would: what each
//! upstream receives is asserted, not only what the client is told.

use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Person, TestApp};
use crate::upstream::{TestCertificates, TestUpstream};

/// What a raw HTTP exchange came back with.
struct RawAnswer {
    status: u16,
    head: String,
    body: String,
}

/// Sends `method target` exactly as written (no client-side URL normalisation, which
/// would hide the attacks), with the key as Basic credentials and optional extra header
/// lines, and reads the whole answer.
async fn raw(
    address: &str,
    method: &str,
    target: &str,
    key: Option<&str>,
    extra: &str,
) -> RawAnswer {
    let mut request =
        format!("{method} {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some(key) = key {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
        request.push_str(&format!("Authorization: Basic {encoded}\r\n"));
    }
    request.push_str(extra);
    request.push_str("\r\n");
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("an HTTP answer to {method} {target}: {text:?}"));
    RawAnswer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// A server forwarding `/harvest` to `upstream` (with `flags` besides), and a Harvest key
/// granted exactly `endpoints`.
async fn harvest_gate(
    upstream: &TestUpstream,
    flags: &[&str],
    endpoints: &[&str],
) -> (TestApp, String, i32) {
    let mut all = vec!["--harvest-upstream", upstream.url.as_str()];
    all.extend_from_slice(flags);
    let app = TestApp::spawn_with(&all).await;
    let admin = app.admin().await;
    let (key, id) = harvest_key(&admin, endpoints).await;
    (app, key, id)
}

async fn harvest_key(admin: &Person, endpoints: &[&str]) -> (String, i32) {
    let (key, id) = admin.new_key("harvest", "Deployment test").await;
    admin.update_permissions(id, endpoints).await;
    (key, id)
}

#[tokio::test]
async fn traversal_and_encoding_attacks_are_refused_and_never_reach_any_upstream() {
    let harvest = TestUpstream::start();
    let boards = TestUpstream::start();
    let partners = TestUpstream::start();
    let app = TestApp::spawn_with(&[
        "--harvest-upstream",
        &harvest.url,
        "--job-board-upstream",
        &boards.url,
        "--partner-upstream",
        &partners.url,
    ])
    .await;
    let admin = app.admin().await;
    let (reader, _) = harvest_key(&admin, &["GET /v1/candidates/{id}"]).await;
    let (tagger, _) = harvest_key(
        &admin,
        &["DELETE /v1/candidates/{candidate_id}/tags/{tag_id}"],
    )
    .await;
    let attacks: &[(&str, &str, Option<&str>)] = &[
        (
            "GET",
            r"/harvest/v1/candidates/..\..\v1\users",
            Some(&reader),
        ),
        (
            "GET",
            "/harvest/v1/candidates/%2e%2e%5c..%5cv1%5cusers",
            Some(&reader),
        ),
        (
            "GET",
            "/harvest/v1/candidates/..%2F..%2Fv1%2Fusers",
            Some(&reader),
        ),
        ("GET", "/harvest/v1/candidates/%2E%2E", Some(&reader)),
        ("GET", "/harvest/v1/candidates/.%2e", Some(&reader)),
        ("GET", "/harvest/v1/candidates/..;/users", Some(&reader)),
        ("GET", "/harvest/v1/candidates/%252e%252e", Some(&reader)),
        ("GET", "/harvest/v1//candidates/1", Some(&reader)),
        ("GET", "/harvest/v1/candidates/1%00", Some(&reader)),
        ("GET", "/%68arvest/v1/candidates/1", Some(&reader)),
        ("DELETE", "/harvest/v1/candidates/7/tags/..", Some(&tagger)),
        (
            "DELETE",
            "/harvest/v1/candidates/7/tags/%2e%2e",
            Some(&tagger),
        ),
        (
            "GET",
            "/boards-api/v1/boards/x/../../../v1/candidates",
            None,
        ),
        (
            "GET",
            "/boards-api/v1/boards/x/..%2F..%2F..%2Fv1%2Foffers",
            None,
        ),
        (
            "GET",
            "/boards-api/v1/boards/x/%2e%2e/%2e%2e/%2e%2e/v1/offers",
            None,
        ),
        ("GET", "/partner/../harvest/v1/users", None),
        // Servers that strip `;` parameters would read these as the list endpoints.
        ("GET", "/harvest/v1/candidates/;x", Some(&reader)),
        ("GET", "/harvest/v1/candidates/%3Bx", Some(&reader)),
        ("DELETE", "/harvest/v1/candidates/7/tags/;", Some(&tagger)),
        ("GET", "/boards-api/v1/boards/;", None),
        // Look-alike dots for lenient decoders: overlong UTF-8, fullwidth, trailing space.
        ("GET", "/harvest/v1/candidates/%c0%ae%c0%ae", Some(&reader)),
        (
            "GET",
            "/harvest/v1/candidates/%EF%BC%8E%EF%BC%8E",
            Some(&reader),
        ),
        ("GET", "/harvest/v1/candidates/..%20", Some(&reader)),
    ];
    for (method, target, key) in attacks {
        let answer = raw(&app.address, method, target, *key, "").await;
        assert_eq!(answer.status, 400, "{method} {target}: {}", answer.body);
        let message: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
        assert!(message["message"].is_string(), "{target}: {}", answer.body);
    }
    assert!(harvest.targets().is_empty(), "{:?}", harvest.targets());
    assert!(boards.targets().is_empty(), "{:?}", boards.targets());
    assert!(partners.targets().is_empty(), "{:?}", partners.targets());

    // The same keys on their own endpoints: the upstream receives exactly what was asked.
    assert_eq!(
        raw(
            &app.address,
            "GET",
            "/harvest/v1/candidates/42?x=%20y",
            Some(&reader),
            ""
        )
        .await
        .status,
        201
    );
    assert_eq!(
        raw(
            &app.address,
            "DELETE",
            "/harvest/v1/candidates/7/tags/3",
            Some(&tagger),
            ""
        )
        .await
        .status,
        201
    );
    assert_eq!(
        harvest.targets(),
        ["/v1/candidates/42?x=%20y", "/v1/candidates/7/tags/3"]
    );
    // A query a URL parser would rewrite (`'` in an http query) arrives as it was sent.
    let quoted = raw(
        &app.address,
        "GET",
        "/harvest/v1/candidates/42?name=O'Brien",
        Some(&reader),
        "",
    )
    .await;
    assert_eq!(quoted.status, 201);
    assert_eq!(harvest.targets()[2], "/v1/candidates/42?name=O'Brien");
}

#[tokio::test]
async fn each_mount_forwards_only_to_its_own_upstream() {
    let harvest = TestUpstream::start();
    let partners = TestUpstream::start();
    let app = TestApp::spawn_with(&[
        "--harvest-upstream",
        &harvest.url,
        "--partner-upstream",
        &partners.url,
    ])
    .await;
    let admin = app.admin().await;
    let acme = admin.client_application("Acme", &[]).await;
    let (partner_key, partner_id) = admin
        .create_credential("partner", &acme.to_string(), "Acme feed")
        .await
        .api_key();
    // A Partner key can call anything below /partner — on the partner upstream only.
    let deleted = raw(
        &app.address,
        "DELETE",
        "/partner/v1/candidates",
        Some(&partner_key),
        "",
    )
    .await;
    assert_eq!(deleted.status, 201);
    assert_eq!(partners.targets(), ["/v1/candidates"]);
    assert_eq!(partners.seen()[0].credential, Some(partner_id.to_string()));
    assert!(partners.seen()[0].authorization.is_none());
    assert!(
        harvest.targets().is_empty(),
        "a Partner key never lands on Harvest"
    );
    // CONNECT would reach the upstream as a tunnel to its own authority, not the path.
    let tunnel = raw(
        &app.address,
        "CONNECT",
        "/partner/admin/secret",
        Some(&partner_key),
        "",
    )
    .await;
    assert_eq!(tunnel.status, 405);
    let trace = raw(
        &app.address,
        "TRACE",
        "/partner/v1/x",
        Some(&partner_key),
        "",
    )
    .await;
    assert_eq!(trace.status, 405);
    assert_eq!(partners.targets(), ["/v1/candidates"]);
    // Headers the client lists in Connection are hop-by-hop: not forwarded.
    let hop = raw(
        &app.address,
        "GET",
        "/partner/v1/me",
        Some(&partner_key),
        "On-Behalf-Of: 7\r\nConnection: On-Behalf-Of\r\n",
    )
    .await;
    assert_eq!(hop.status, 201);
    assert!(hop.body.contains(r#""on_behalf_of":null"#), "{}", hop.body);
    // A Partner key is no Harvest key.
    let refused = raw(
        &app.address,
        "DELETE",
        "/harvest/v1/candidates/1",
        Some(&partner_key),
        "",
    )
    .await;
    assert_eq!(refused.status, 401);
    // The Job Board mount has no upstream here: it answers in authorization-only mode.
    let public = raw(
        &app.address,
        "GET",
        "/boards-api/v1/boards/acme/jobs",
        None,
        "",
    )
    .await;
    assert_eq!(public.status, 200);
    let described: Value = serde_json::from_str(&public.body).expect("JSON");
    assert_eq!(described["endpoint"]["path"], "/v1/boards/acme/jobs");
    assert!(harvest.targets().is_empty() && partners.targets().len() == 2);
}

#[tokio::test]
async fn a_harvest_key_of_a_deactivated_client_application_stops_with_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = admin.client_application("Acme", &["GET /v1/jobs"]).await;
    let (key, _) = admin
        .create_credential("harvest", &acme.to_string(), "Acme sync")
        .await
        .api_key();
    let toggle = format!("/configure/dev_center/client_applications/{acme}");
    assert_eq!(
        raw(&app.address, "GET", "/harvest/v1/jobs", Some(&key), "")
            .await
            .status,
        200
    );
    admin.post(&toggle, &[("active", "false")]).await;
    assert_eq!(
        raw(&app.address, "GET", "/harvest/v1/jobs", Some(&key), "")
            .await
            .status,
        401
    );
    admin.post(&toggle, &[("active", "true")]).await;
    assert_eq!(
        raw(&app.address, "GET", "/harvest/v1/jobs", Some(&key), "")
            .await
            .status,
        200
    );
}

#[test]
fn the_single_upstream_flag_is_refused_naming_the_three() {
    let dir = tempfile::tempdir().expect("a folder");
    let output = crate::helpers::devcenter()
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--upstream",
            "http://127.0.0.1:9",
            "--database",
        ])
        .arg(dir.path().join("db"))
        .output()
        .expect("devcenter runs");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    for flag in [
        "--harvest-upstream",
        "--job-board-upstream",
        "--partner-upstream",
    ] {
        assert!(said.contains(flag), "{said}");
    }
    let output = crate::helpers::devcenter()
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--harvest-upstream",
            "ftp://x",
            "--database",
        ])
        .arg(dir.path().join("db"))
        .output()
        .expect("devcenter runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("http:// or https://"));
}

#[tokio::test]
async fn https_upstreams_are_verified_against_the_platform_roots_and_upstream_ca() {
    let certificates = TestCertificates::new();
    let upstream = TestUpstream::start_tls(&certificates);
    let dir = tempfile::tempdir().expect("a folder");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &certificates.ca_pem).expect("write the CA");
    let ca = ca.to_str().expect("a path").to_owned();

    let app =
        TestApp::spawn_with(&["--harvest-upstream", &upstream.url, "--upstream-ca", &ca]).await;
    let admin = app.admin().await;
    let (key, id) = harvest_key(&admin, &["GET /v1/jobs"]).await;
    let answer = raw(
        &app.address,
        "GET",
        "/harvest/v1/jobs?per_page=2",
        Some(&key),
        "",
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(upstream.targets(), ["/v1/jobs?per_page=2"]);
    assert_eq!(upstream.seen()[0].credential, Some(id.to_string()));

    // Without the private CA the certificate is not trusted: 502, and the log says why.
    let untrusting = TestApp::spawn_with(&["--harvest-upstream", &upstream.url]).await;
    let admin = untrusting.admin().await;
    let (key, _) = harvest_key(&admin, &["GET /v1/jobs"]).await;
    let answer = raw(
        &untrusting.address,
        "GET",
        "/harvest/v1/jobs",
        Some(&key),
        "",
    )
    .await;
    assert_eq!(answer.status, 502);
    assert_eq!(
        upstream.targets().len(),
        1,
        "nothing was sent over the untrusted connection"
    );
    let logs = untrusting.logs();
    assert!(
        logs.lines().any(|l| l.contains("upstream unreachable") && l.to_lowercase().contains("certificate")),
        "{logs}"
    );
}

#[tokio::test]
async fn a_client_paging_by_link_stays_on_the_gate() {
    let upstream = TestUpstream::start();
    let app = TestApp::spawn_with(&["--harvest-upstream", &upstream.url]).await;
    let admin = app.admin().await;
    let (key, id) = harvest_key(&admin, &["GET /v1/candidates"]).await;
    let client = reqwest::Client::new();
    let gate = format!("http://{}/harvest", app.address);
    let mut url = format!("{gate}/v1/candidates?per_page=2");
    for page in 1..=3 {
        let response = client
            .get(&url)
            .basic_auth(&key, Some(""))
            .send()
            .await
            .expect("a page");
        assert_eq!(response.status(), StatusCode::CREATED);
        let link = response.headers()["link"]
            .to_str()
            .expect("text")
            .to_owned();
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["page"], page);
        // Every link points at the gate, none at the upstream.
        assert!(!link.contains(&upstream.url), "{link}");
        let next = link
            .split(',')
            .find(|l| l.contains(r#"rel="next""#))
            .and_then(|l| l.split_once('<'))
            .and_then(|(_, rest)| rest.split_once('>'))
            .map(|(next, _)| next.to_owned())
            .expect("a next link");
        assert!(next.starts_with(&gate), "{next}");
        url = next;
    }
    let seen = upstream.seen();
    assert_eq!(
        seen.iter().map(|s| s.target.as_str()).collect::<Vec<_>>(),
        [
            "/v1/candidates?per_page=2",
            "/v1/candidates?page=2&per_page=2",
            "/v1/candidates?page=3&per_page=2"
        ]
    );
    assert!(seen.iter().all(|s| s.credential == Some(id.to_string())));

    // Behind a public address, links carry it.
    let public = TestApp::spawn_with(&[
        "--harvest-upstream",
        &upstream.url,
        "--public-url",
        "https://api.example.com/",
    ])
    .await;
    let admin = public.admin().await;
    let (key, _) = harvest_key(&admin, &["GET /v1/candidates"]).await;
    let answer = raw(
        &public.address,
        "GET",
        "/harvest/v1/candidates",
        Some(&key),
        "",
    )
    .await;
    assert!(
        answer.head.contains(
            "<https://api.example.com/harvest/v1/candidates?page=2&per_page=2>; rel=\"next\""
        ),
        "{}",
        answer.head
    );
}

#[tokio::test]
async fn the_answer_carries_the_apps_security_headers_not_the_upstreams() {
    let upstream = TestUpstream::start();
    let (app, key, _) = harvest_gate(&upstream, &[], &["GET /v1/jobs"]).await;
    let response = reqwest::Client::new()
        .get(format!("http://{}/harvest/v1/jobs", app.address))
        .basic_auth(&key, Some(""))
        .send()
        .await
        .expect("forwarded");
    let headers = response.headers();
    assert!(headers.get("set-cookie").is_none());
    assert!(headers.get("strict-transport-security").is_none());
    assert_eq!(headers["x-frame-options"], "DENY");
    let policies: Vec<_> = headers.get_all("content-security-policy").iter().collect();
    assert_eq!(policies.len(), 1);
    assert!(
        policies[0]
            .to_str()
            .expect("text")
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["x-upstream"], "kept",
        "the upstream's own headers pass"
    );
}

#[tokio::test]
async fn bodies_stream_through_and_a_stalled_body_is_cut_off_with_408() {
    let upstream = TestUpstream::start();
    let (app, key, _) = harvest_gate(
        &upstream,
        &["--body-idle-timeout", "1s"],
        &[
            "POST /v1/candidates/{id}/activity_feed/notes",
            "GET /v1/jobs",
        ],
    )
    .await;
    let path = "/harvest/v1/candidates/7/activity_feed/notes";
    // A body of 3 MiB arrives whole.
    let body = vec![b'x'; 3 << 20];
    let response = reqwest::Client::new()
        .post(format!("http://{}{path}", app.address))
        .basic_auth(&key, Some(""))
        .body(body)
        .send()
        .await
        .expect("forwarded");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(upstream.seen()[0].body_bytes, 3 << 20);

    // Ten bytes of a promised thousand, then nothing.
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
    let mut stream = TcpStream::connect(&app.address).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {encoded}\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n0123456789"
    );
    stream.write_all(head.as_bytes()).await.expect("send");
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "cut off after the idle limit"
    );

    // GET and HEAD cannot carry a body.
    let with_body = raw(
        &app.address,
        "GET",
        "/harvest/v1/jobs",
        Some(&key),
        "Content-Length: 3\r\n\r\nabc",
    )
    .await;
    assert_eq!(with_body.status, 400);
    assert!(
        with_body.body.contains("cannot carry a body"),
        "{}",
        with_body.body
    );
    // The upstream saw the stalled upload begin, and then break off: never a whole body.
    let seen = upstream.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1].body_bytes, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_16_mib_uploads_stream_through_without_growing_memory() {
    const UPLOADS: usize = 20;
    const SIZE: usize = 16 << 20;
    const CHUNK: usize = 256 << 10;
    let upstream = TestUpstream::start();
    let (app, key, _) = harvest_gate(
        &upstream,
        &["--rate-limit", "off"],
        &["POST /v1/candidates/{id}/activity_feed/notes"],
    )
    .await;
    let url = format!(
        "http://{}/harvest/v1/candidates/7/activity_feed/notes",
        app.address
    );
    let before = app.resident_bytes();
    let uploads: Vec<_> = (0..UPLOADS)
        .map(|_| {
            let (url, key) = (url.clone(), key.clone());
            tokio::spawn(async move {
                // Sent slowly enough that all twenty are in flight at once.
                let chunks = futures_util::stream::iter(0..SIZE / CHUNK).then(|_| async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<_, std::io::Error>(vec![b'x'; CHUNK])
                });
                reqwest::Client::new()
                    .post(url)
                    .basic_auth(key, Some(""))
                    .header("Content-Length", SIZE)
                    .body(reqwest::Body::wrap_stream(chunks))
                    .send()
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    let mut peak = before;
    while !uploads.iter().all(|u| u.is_finished()) {
        peak = peak.max(app.resident_bytes());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for upload in uploads {
        assert_eq!(
            upload.await.expect("an upload").ok(),
            Some(StatusCode::CREATED)
        );
    }
    let seen = upstream.seen();
    assert_eq!(seen.len(), UPLOADS);
    assert!(
        seen.iter().all(|s| s.body_bytes == SIZE),
        "every body arrived whole"
    );
    let grown = peak.saturating_sub(before);
    println!(
        "resident memory {} MiB before, {} MiB at peak during {UPLOADS} concurrent 16 MiB uploads",
        before >> 20,
        peak >> 20
    );
    // Buffering them would take 320 MiB; streaming keeps a few chunks per upload.
    assert!(grown < 64 << 20, "the server grew by {} MiB", grown >> 20);
}

#[tokio::test]
async fn head_is_allowed_where_get_is_granted_and_optional_segments_are_optional() {
    let upstream = TestUpstream::start();
    let (app, key, _) = harvest_gate(
        &upstream,
        &[],
        &["GET /v1/jobs", "GET /v1/custom_fields/{field_type}"],
    )
    .await;
    assert_eq!(
        raw(&app.address, "HEAD", "/harvest/v1/jobs", Some(&key), "")
            .await
            .status,
        201
    );
    assert_eq!(
        raw(
            &app.address,
            "GET",
            "/harvest/v1/custom_fields",
            Some(&key),
            ""
        )
        .await
        .status,
        201
    );
    assert_eq!(
        raw(
            &app.address,
            "GET",
            "/harvest/v1/custom_fields/job",
            Some(&key),
            ""
        )
        .await
        .status,
        201
    );
    assert_eq!(
        raw(&app.address, "HEAD", "/harvest/v1/offers", Some(&key), "")
            .await
            .status,
        403
    );
    assert_eq!(
        upstream
            .seen()
            .iter()
            .map(|s| format!("{} {}", s.method, s.target))
            .collect::<Vec<_>>(),
        [
            "HEAD /v1/jobs",
            "GET /v1/custom_fields",
            "GET /v1/custom_fields/job"
        ]
    );
}

#[tokio::test]
async fn public_job_board_reads_are_capped_per_address() {
    let upstream = TestUpstream::start();
    let app = TestApp::spawn_with(&[
        "--job-board-upstream",
        &upstream.url,
        "--public-concurrency",
        "2",
    ])
    .await;
    // Headers come at once, the body over 1.5 s: the place is held until it is sent.
    let slow = "/boards-api/v1/boards/acme/jobs?trickle=1";
    let calls: Vec<_> = (0..3)
        .map(|_| {
            let address = app.address.clone();
            tokio::spawn(async move { raw(&address, "GET", slow, None, "").await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for call in calls {
        statuses.push(call.await.expect("a call"));
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 201, 429]);
    // Once they finish, the address may read again.
    assert_eq!(
        raw(&app.address, "GET", "/boards-api/v1/boards/acme", None, "")
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn an_upstream_that_does_not_answer_in_time_is_a_504() {
    let upstream = TestUpstream::start();
    let app = TestApp::spawn_with(&[
        "--harvest-upstream",
        &upstream.url,
        "--upstream-timeout",
        "1s",
    ])
    .await;
    let admin = app.admin().await;
    let (key, _) = harvest_key(&admin, &["GET /v1/jobs"]).await;
    let started = Instant::now();
    let answer = raw(
        &app.address,
        "GET",
        "/harvest/v1/jobs?slow=1",
        Some(&key),
        "",
    )
    .await;
    assert_eq!(answer.status, 504, "{}", answer.body);
    assert!(started.elapsed() < Duration::from_millis(1400));
    assert!(app.logs().contains("upstream did not answer in time"));

    // An answer that starts, then pauses longer than the limit, is cut off.
    let (app, key, _) = harvest_gate(
        &upstream,
        &["--upstream-timeout", "300ms"],
        &["GET /v1/jobs"],
    )
    .await;
    let started = Instant::now();
    let answer = raw(
        &app.address,
        "GET",
        "/harvest/v1/jobs?trickle=1",
        Some(&key),
        "",
    )
    .await;
    assert_eq!(answer.status, 201, "the headers came in time");
    assert!(!answer.body.contains("piece"), "{}", answer.body);
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "not waited out"
    );
    assert!(app.logs().contains("upstream stopped sending its answer"));
}

#[tokio::test]
async fn the_client_address_comes_from_trusted_proxies_only() {
    // Behind a trusted proxy, failures count against the forwarded client.
    let app = TestApp::spawn_with(&[
        "--trusted-proxy",
        "127.0.0.0/8",
        "--failed-auth-limit",
        "2/60s",
    ])
    .await;
    let from = |client: &str| format!("X-Forwarded-For: {client}, 127.0.0.5\r\n");
    for _ in 0..2 {
        assert_eq!(
            raw(
                &app.address,
                "GET",
                "/harvest/v1/jobs",
                Some("dch_wrong"),
                &from("203.0.113.9")
            )
            .await
            .status,
            401
        );
    }
    assert_eq!(
        raw(
            &app.address,
            "GET",
            "/harvest/v1/jobs",
            Some("dch_wrong"),
            &from("203.0.113.9")
        )
        .await
        .status,
        429
    );
    assert_eq!(
        raw(
            &app.address,
            "GET",
            "/harvest/v1/jobs",
            Some("dch_wrong"),
            &from("198.51.100.4")
        )
        .await
        .status,
        401
    );

    // From an untrusted peer the header is ignored: spoofing it escapes nothing.
    let app = TestApp::spawn_with(&["--failed-auth-limit", "2/60s"]).await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        assert_eq!(
            raw(
                &app.address,
                "GET",
                "/harvest/v1/jobs",
                Some("dch_wrong"),
                &from(client)
            )
            .await
            .status,
            401
        );
    }
    assert_eq!(
        raw(
            &app.address,
            "GET",
            "/harvest/v1/jobs",
            Some("dch_wrong"),
            &from("203.0.113.3")
        )
        .await
        .status,
        429
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_sign_in_throttles_and_the_audit_log_use_the_client_address() {
    let app =
        TestApp::spawn_with(&["--trusted-proxy", "127.0.0.1", "--sign-in-limit", "4/15m"]).await;
    let (email, password) = (app.admin_email.clone(), app.admin_password.clone());
    let guesser = app.visitor_behind_proxy("203.0.113.5");
    guesser.get("/login").await;
    for n in 0..4 {
        let email = format!("nobody{n}@example.com");
        let page = guesser
            .post("/login", &[("email", &email), ("password", "wrong wrong")])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let page = guesser
        .post("/login", &[("email", &email), ("password", &password)])
        .await;
    assert_eq!(
        page.status,
        StatusCode::TOO_MANY_REQUESTS,
        "that client is throttled"
    );
    // Another client behind the same proxy is not.
    let admin = app.visitor_behind_proxy("198.51.100.77");
    admin.sign_in(&email, &password).await;
    admin.new_key("harvest", "From the office").await;
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'credential_created' AND actor_address = '198.51.100.77'"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'sign_in_throttled' AND actor_address = '203.0.113.5'"),
        1
    );
}

#[tokio::test]
async fn the_request_log_shows_each_credentials_recent_requests_to_its_managers() {
    let app = TestApp::spawn_with(&["--trusted-proxy", "127.0.0.1"]).await;
    let admin = app.admin().await;
    let (key, id) = harvest_key(&admin, &["GET /v1/jobs"]).await;
    let (board_key, board_id) = admin.new_key("job_board", "Careers site").await;
    let agent = "User-Agent: acme-sync/2.1\r\nX-Forwarded-For: 198.51.100.23\r\n";
    assert_eq!(
        raw(
            &app.address,
            "GET",
            "/harvest/v1/jobs?secret_query=1",
            Some(&key),
            agent
        )
        .await
        .status,
        200
    );
    assert_eq!(
        raw(&app.address, "GET", "/harvest/v1/offers", Some(&key), agent)
            .await
            .status,
        403
    );
    assert_eq!(
        raw(
            &app.address,
            "GET",
            "/harvest/v1/nothing",
            Some(&key),
            agent
        )
        .await
        .status,
        404
    );
    assert_eq!(
        raw(
            &app.address,
            "POST",
            "/boards-api/v1/boards/acme/jobs/1",
            Some(&board_key),
            "Content-Length: 0\r\n"
        )
        .await
        .status,
        200
    );

    // Written in a batch within seconds, not per request.
    let log = format!("/configure/dev_center/credentials/{id}/requests");
    let mut page = admin.get(&log).await;
    let waited = Instant::now();
    while page.texts(r#"[data-testid="request-log-row"]"#).len() < 3
        && waited.elapsed() < Duration::from_secs(15)
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
        page = admin.get(&log).await;
    }
    let rows = page.texts(r#"[data-testid="request-log-row"]"#);
    assert_eq!(rows.len(), 3, "{}", page.body);
    assert!(
        rows[0].contains("/harvest/v1/nothing") && rows[0].contains("404"),
        "newest first: {}",
        rows[0]
    );
    assert!(rows[1].contains("/harvest/v1/offers") && rows[1].contains("403"));
    assert!(rows[2].contains("/harvest/v1/jobs") && rows[2].contains("200"));
    assert!(
        rows[2].contains("198.51.100.23") && rows[2].contains("acme-sync/2.1"),
        "{}",
        rows[2]
    );
    assert!(!page.body.contains("secret_query"), "never a query string");
    assert!(!page.body.contains(&key), "never a key");
    let errors = admin.get(&format!("{log}?status=4xx")).await;
    assert_eq!(errors.texts(r#"[data-testid="request-log-row"]"#).len(), 2);
    let ok = admin.get(&format!("{log}?status=2xx")).await;
    assert_eq!(ok.texts(r#"[data-testid="request-log-row"]"#).len(), 1);
    assert_eq!(
        admin.get(&format!("{log}?status=6xx")).await.status,
        StatusCode::BAD_REQUEST
    );
    let listed = admin.credentials().await;
    assert!(
        listed
            .attrs(r#"[data-testid="credential-request-log"]"#, "href")
            .contains(&log)
    );

    // Managers of that key's type only.
    let board_manager = app
        .user(
            "boards@example.com",
            "basic",
            &["manage_job_board_credentials"],
        )
        .await;
    assert_eq!(board_manager.get(&log).await.status, StatusCode::NOT_FOUND);
    let board_log = format!("/configure/dev_center/credentials/{board_id}/requests");
    let mut page = board_manager.get(&board_log).await;
    let waited = Instant::now();
    while page.texts(r#"[data-testid="request-log-row"]"#).is_empty()
        && waited.elapsed() < Duration::from_secs(15)
    {
        tokio::time::sleep(Duration::from_millis(500)).await;
        page = board_manager.get(&board_log).await;
    }
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.texts(r#"[data-testid="request-log-row"]"#).len(), 1);
    assert_eq!(
        app.count("SELECT count(*) FROM gate_requests WHERE client_address = '198.51.100.23'"),
        3
    );
}

mod property {
    //! For arbitrary paths, the gate either refuses, or the upstream receives a path
    //! equal to one the credential is granted.

    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    use super::{harvest_key, raw};
    use crate::helpers::TestApp;
    use crate::upstream::TestUpstream;

    /// Granted templates: a path matches one when every `{…}` stands for one segment.
    const GRANTED: [&str; 2] = [
        "/v1/candidates/{id}",
        "/v1/candidates/{candidate_id}/tags/{tag_id}",
    ];

    fn matches_granted(path: &str) -> bool {
        let segments: Vec<&str> = path.split('/').collect();
        GRANTED.iter().any(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(p, s)| {
                    if p.starts_with('{') {
                        !s.is_empty()
                    } else {
                        p == s
                    }
                })
        })
    }

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("v1".to_owned()),
            Just("candidates".to_owned()),
            Just("tags".to_owned()),
            Just("users".to_owned()),
            Just("..".to_owned()),
            Just(".".to_owned()),
            Just("%2e%2e".to_owned()),
            Just("%2E.".to_owned()),
            Just("..;".to_owned()),
            Just("%5c".to_owned()),
            Just("\\".to_owned()),
            Just("%2f".to_owned()),
            Just("%00".to_owned()),
            Just(String::new()),
            "[0-9]{1,4}",
            "[a-zA-Z0-9._~%;:@!$&'()*+,=-]{1,8}",
        ]
    }

    #[test]
    fn the_upstream_only_ever_receives_granted_paths() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let upstream = TestUpstream::start();
        let (app, key) = rt.block_on(async {
            let app =
                TestApp::spawn_with(&["--harvest-upstream", &upstream.url, "--rate-limit", "off"])
                    .await;
            let admin = app.admin().await;
            let (key, _) = harvest_key(
                &admin,
                &GRANTED.map(|t| {
                    if t.contains("tags") {
                        "GET /v1/candidates/{candidate_id}/tags/{tag_id}"
                    } else {
                        "GET /v1/candidates/{id}"
                    }
                }),
            )
            .await;
            (app, key)
        });
        let mut runner = TestRunner::new(Config {
            cases: 256,
            failure_persistence: None,
            ..Config::default()
        });
        let paths = proptest::collection::vec(segment(), 1..7)
            .prop_map(|s| format!("/harvest/{}", s.join("/")));
        let result = runner.run(&paths, |path| {
            let before = upstream.seen().len();
            let answer = rt.block_on(raw(&app.address, "GET", &path, Some(&key), ""));
            let seen = upstream.seen();
            if answer.status == 201 {
                prop_assert_eq!(
                    seen.len(),
                    before + 1,
                    "{} was answered without the upstream",
                    path
                );
                let received = &seen[before].target;
                prop_assert!(
                    matches_granted(received),
                    "{} reached the upstream as {}",
                    path,
                    received
                );
                prop_assert_eq!(
                    received.as_str(),
                    path.strip_prefix("/harvest")
                        .map(|p| p.trim_end_matches('/'))
                        .unwrap_or_default(),
                    "what was authorized is what was sent"
                );
            } else {
                prop_assert!(
                    answer.status >= 400 && answer.status < 500,
                    "{}: {}",
                    path,
                    answer.status
                );
                prop_assert_eq!(
                    seen.len(),
                    before,
                    "{} was refused but reached the upstream",
                    path
                );
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    }
}
