//! Several instances on one PostgreSQL database, behind a balancer, behave as one: a
//! change made on one reaches the others' gates within a second, a session signed in on
//! one is valid on the others, and killing one loses nothing the others answered.
//! PostgreSQL only (`tests/api_postgres.rs`): SQLite is one process's database.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{CREDENTIALS, PASSWORD, TestApp};

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
        assert_eq!(a.stored_keys(key, None), 1, "an answered creation was lost");
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
    // Setting up: the key reaches the others (how fast is another test's promise).
    for other in [&b, &c] {
        until(other, &key, StatusCode::OK, Duration::from_secs(5)).await;
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

#[tokio::test]
async fn sign_in_failures_spread_over_two_instances_are_throttled_as_one() {
    let a = TestApp::init()
        .with_flags(&["--trusted-proxy", "127.0.0.1", "--sign-in-limit", "4/15m"])
        .spawn()
        .await;
    let b = a.another_instance().await;
    a.create_user("dev@example.com", "basic", &[]);
    let fail = |app: &TestApp, from: &str, email: &str| {
        let guesser = app.visitor_behind_proxy(from);
        let email = email.to_owned();
        async move {
            guesser.get("/login").await;
            guesser
                .post("/login", &[("email", &email), ("password", "wrong wrong")])
                .await
                .status
        }
    };
    let throttled = |page: &crate::helpers::Page| {
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
        let retry: u64 = page.headers["retry-after"]
            .to_str()
            .unwrap_or("")
            .parse()
            .unwrap_or(0);
        assert!((1..=900).contains(&retry), "{retry}");
    };

    // One account guessed at from two addresses, two failures on each instance.
    for (app, from) in [(&a, "203.0.113.5"), (&b, "198.51.100.6")] {
        for _ in 0..2 {
            assert_eq!(
                fail(app, from, "dev@example.com").await,
                StatusCode::UNPROCESSABLE_ENTITY
            );
        }
    }
    for app in [&a, &b] {
        let owner = app.visitor_behind_proxy("192.0.2.7");
        owner.get("/login").await;
        let page = owner
            .post(
                "/login",
                &[("email", "dev@example.com"), ("password", PASSWORD)],
            )
            .await;
        throttled(&page);
    }

    // One address guessing at other accounts, two failures on each instance.
    for app in [&a, &b] {
        for n in 0..2 {
            let email = format!("nobody{n}@{}.example.com", app.address.replace(':', "-"));
            assert_eq!(
                fail(app, "203.0.113.9", &email).await,
                StatusCode::UNPROCESSABLE_ENTITY
            );
        }
    }
    for app in [&a, &b] {
        let guesser = app.visitor_behind_proxy("203.0.113.9");
        guesser.get("/login").await;
        let page = guesser
            .post(
                "/login",
                &[("email", &a.admin_email), ("password", &a.admin_password)],
            )
            .await;
        throttled(&page);
    }
    assert_eq!(
        a.count("SELECT count(*) FROM audit_events WHERE action = 'sign_in_throttled'"),
        2,
        "each throttling is in the audit log once"
    );
}

/// The gate's answer at `app` to `key` from the client at `from` (behind the trusted
/// proxy).
async fn gate_from(app: &TestApp, from: &str, key: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("http://{}/harvest/v1/candidates", app.address))
        .header("x-forwarded-for", from)
        .basic_auth(key, Some(""))
        .send()
        .await
        .expect("the gate answers")
}

#[tokio::test]
async fn failed_gate_authentications_spread_over_two_instances_are_limited_as_one() {
    let a = TestApp::init()
        .with_flags(&[
            "--trusted-proxy",
            "127.0.0.1",
            "--failed-auth-limit",
            "6/60s",
        ])
        .spawn()
        .await;
    let b = a.another_instance().await;
    let admin = a.admin().await;
    let (key, id) = admin.new_key("harvest", "Works from anywhere").await;
    admin.update_permissions(id, &["GET /v1/candidates"]).await;
    // Setting up: the key reaches b (how fast is another test's promise).
    until(&b, &key, StatusCode::OK, Duration::from_secs(5)).await;

    let wrong = "dch_not_a_key";
    for app in [&a, &b] {
        for _ in 0..3 {
            let status = gate_from(app, "203.0.113.50", wrong).await.status();
            assert_eq!(status, StatusCode::UNAUTHORIZED, "under the limit here");
        }
    }
    // Six failures in all: within two sync periods both instances refuse the address,
    // even with a right key (which, unlike a guess, adds no failure while polling).
    let started = Instant::now();
    for app in [&a, &b] {
        while gate_from(app, "203.0.113.50", &key).await.status() != StatusCode::TOO_MANY_REQUESTS {
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "{} still lets the address in",
                app.address
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let refused = gate_from(app, "203.0.113.50", wrong).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap_or("")
            .parse()
            .unwrap_or(0);
        assert!((1..=60).contains(&retry), "{retry}");
        assert_eq!(
            gate_from(app, "198.51.100.60", &key).await.status(),
            StatusCode::OK,
            "another address is not refused"
        );
    }
    println!(
        "failed authentications shared: both instances refuse after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_gate_cut_off_from_its_database_stops_accepting_keys() {
    let app = TestApp::spawn_with(&["--reconcile-interval", "1s"]).await;
    let admin = app.admin().await;
    let (key, id) = admin.new_key("harvest", "Revoked elsewhere, maybe").await;
    admin.update_permissions(id, &["GET /v1/candidates"]).await;
    assert_eq!(gate_status(&app, &key).await, StatusCode::OK);

    // Cut off, the instance cannot learn of a revocation: after three missed reconciles
    // (and 5 s) it accepts no key rather than one that may be revoked.
    app.drop_postgres_database();
    let waited = until(
        &app,
        &key,
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_secs(15),
    )
    .await;
    println!("a gate cut off from its database refused keys after {waited:?}");
    let answer = reqwest::Client::new()
        .get(format!("http://{}/harvest/v1/candidates", app.address))
        .basic_auth(&key, Some(""))
        .send()
        .await
        .expect("the gate answers");
    assert_eq!(answer.headers()["retry-after"], "5");
    assert!(
        answer
            .text()
            .await
            .expect("a body")
            .contains("cannot confirm API keys")
    );
}

#[tokio::test]
async fn web_hooks_are_sent_once_and_in_order_whichever_instances_make_the_changes() {
    use crate::web_hooks::{
        EVERY_EVENT, FLAGS, Receiver, SECRET_KEY, add_hook, verify, web_hook_manager,
    };
    let a = TestApp::spawn_with(FLAGS).await;
    let b = a.another_instance().await;
    let c = a.another_instance().await;
    let receiver = Receiver::start();
    add_hook(
        &a,
        &web_hook_manager(&a).await,
        "Shared",
        &receiver.url(),
        EVERY_EVENT,
    )
    .await;
    let on_a = a.admin().await;
    let on_b = b.admin().await;
    let mut made = Vec::new();
    for n in 0..8 {
        let admin = if n % 2 == 0 { &on_a } else { &on_b };
        let (_, id) = admin.new_key("harvest", &format!("Key {n}")).await;
        made.push(serde_json::Value::from(id));
    }
    let received = receiver.wait_for(8, Duration::from_secs(15)).await;
    // Three senders polled the same outbox: still each event once, in commit order.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received_now = receiver.received();
    assert_eq!(received_now.len(), 8, "no event sent twice");
    for delivery in &received {
        verify(delivery, SECRET_KEY);
    }
    let order: Vec<_> = received
        .iter()
        .map(|r| r.json()["payload"]["credential"]["id"].clone())
        .collect();
    assert_eq!(order, made);
    drop(c);
}
