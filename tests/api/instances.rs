//! Several instances on one PostgreSQL database, behind a balancer, behave as one: a
//! change made on one reaches the others' gates within a second, a session signed in on
//! one is valid on the others, and killing one loses nothing the others answered.
//! PostgreSQL only (`tests/api_postgres.rs`): SQLite is one process's database.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{CREDENTIALS, TestApp};

/// The status the gate at `app` answers `key` for a granted Harvest endpoint.
async fn gate_status(app: &TestApp, key: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("http://{}/harvest/v1/candidates", app.address))
        .basic_auth(key, Some(""))
        .send()
        .await
        .expect("the gate answers")
        .status()
}

/// How long until the gate at `app` answers `want` for `key`, polling every 5 ms, at
/// most `limit`.
async fn until(app: &TestApp, key: &str, want: StatusCode, limit: Duration) -> Duration {
    let started = Instant::now();
    while gate_status(app, key).await != want {
        assert!(
            started.elapsed() < limit,
            "{} still does not answer {want} after {limit:?}",
            app.address
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn three_instances_agree_within_a_second() {
    let a = TestApp::spawn().await;
    let b = a.another_instance().await;
    let mut c = a.another_instance().await;

    let admin = a.admin().await;
    let (key, id) = admin.new_key("harvest", "Shared between instances").await;
    admin.update_permissions(id, &["GET /v1/candidates"]).await;
    for other in [&b, &c] {
        let waited = until(other, &key, StatusCode::OK, Duration::from_secs(1)).await;
        println!("grant made on A works at {}: {waited:?}", other.address);
    }

    // Signed in on A is signed in on B: sessions live in the shared database.
    let admin = admin.at(&b);
    let page = admin.get(CREDENTIALS).await;
    assert_eq!(page.status, StatusCode::OK, "a session from A on B");

    // Revoked through B: A and C refuse the key within a second.
    let revoked = admin.revoke(id).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    for other in [&a, &c] {
        let waited = until(
            other,
            &key,
            StatusCode::UNAUTHORIZED,
            Duration::from_secs(1),
        )
        .await;
        println!("revocation on B refused at {}: {waited:?}", other.address);
    }

    // One instance killed mid-load: creations alternate between A and C, C is killed
    // halfway, and every creation that was answered is there; A and B keep serving.
    let on_a = admin.at(&a);
    let on_c = a.admin().await.at(&c);
    let mut answered = Vec::new();
    let mut unanswered = 0;
    for n in 0..30 {
        if n == 15 {
            c.kill();
        }
        let person = if n % 2 == 0 { &on_c } else { &on_a };
        match person
            .try_create_credential("job_board", &format!("During the kill {n}"))
            .await
        {
            Some(page) if page.status == StatusCode::OK => answered.push(page.api_key().0),
            _ => unanswered += 1,
        }
    }
    assert!(unanswered >= 7, "C stopped answering: {unanswered}");
    assert!(answered.len() >= 15, "A kept answering: {}", answered.len());
    for key in &answered {
        let hash = blake3::hash(key.as_bytes()).to_hex();
        assert_eq!(
            a.count(&format!(
                "SELECT count(*) FROM credentials WHERE key_hash = {}",
                a.bytes_literal(&hash)
            )),
            1,
            "an answered creation was lost"
        );
    }
    assert_eq!(
        b.visitor().get("/readyz").await.status,
        StatusCode::OK,
        "B stays ready"
    );
}

#[tokio::test]
async fn readyz_tells_a_balancer_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    let visitor = app.visitor();
    let ready = visitor.get("/readyz").await;
    assert_eq!(
        (ready.status, ready.body.as_str()),
        (StatusCode::OK, "ready")
    );

    app.drop_postgres_database();
    let started = Instant::now();
    let gone = visitor.get("/readyz").await;
    assert_eq!(gone.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        gone.body
            .starts_with("not ready: the database does not answer"),
        "{}",
        gone.body
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered in time"
    );
    assert_eq!(
        visitor.get("/healthz").await.status,
        StatusCode::OK,
        "the process itself still answers"
    );
}

#[tokio::test]
async fn a_rate_limit_holds_for_a_client_spreading_over_three_instances() {
    let a = TestApp::spawn_with(&["--rate-limit", "100/10s"]).await;
    let b = a.another_instance().await;
    let c = a.another_instance().await;
    let admin = a.admin().await;
    let (key, id) = admin.new_key("harvest", "Spread over three").await;
    admin.update_permissions(id, &["GET /v1/candidates"]).await;
    for other in [&b, &c] {
        until(other, &key, StatusCode::OK, Duration::from_secs(1)).await;
    }
    // `until` spent a few of the window; a new one starts after it.
    tokio::time::sleep(Duration::from_secs(10)).await;

    let instances = [&a, &b, &c];
    let started = Instant::now();
    let mut allowed = 0;
    let mut calls = 0;
    while started.elapsed() < Duration::from_secs(8) && calls < 600 {
        let status = gate_status(instances[calls % 3], &key).await;
        if status == StatusCode::OK {
            allowed += 1;
        } else {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        }
        calls += 1;
    }
    println!(
        "{allowed} of {calls} calls allowed in one 10 s window of a 100/10s limit over 3 instances"
    );
    assert!(allowed <= 110, "at most the limit plus 10%: {allowed}");
    assert!(
        allowed >= 80,
        "leases not spent elsewhere still serve: {allowed}"
    );
}
