//! What every response promises a security team.

use reqwest::StatusCode;

use crate::helpers::{CREDENTIALS, TestApp};

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let visitor = app.visitor();
    let pages = [
        admin.credentials().await,
        admin.get(&format!("{CREDENTIALS}/new")).await,
        visitor.get("/login").await,
        visitor.get("/no/such/page").await,
        visitor.get("/static/app.js").await,
        visitor.get("/harvest/v1/candidates").await,
        visitor.get("/healthz").await,
    ];
    for page in &pages {
        let header = |name: &str| {
            page.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let csp = header("content-security-policy");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert!(!header("referrer-policy").is_empty());
        assert!(!header("permissions-policy").is_empty());
    }
    assert_eq!(pages[3].status, StatusCode::NOT_FOUND);
    // No page carries inline script for the policy to allow.
    for page in &pages[..3] {
        assert!(!page.body.contains("<script>"), "inline script");
        assert!(!page.body.contains(" style=\""), "inline style");
    }
}

mod forms {
    //! Property tests: any input to any form gets an answer below 500, and either the
    //! whole change or none of it.

    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use reqwest::StatusCode;

    use crate::helpers::{CREDENTIALS, Person, TestApp};

    const CASES: u32 = 128;

    /// Text as people and attackers type it: any Unicode, control characters, markup,
    /// SQL, very long runs.
    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![
            ".{0,40}",
            "\\PC{0,300}",
            "[\\x00-\\x1f\\x7f]{1,8}",
            Just("<script>alert(1)</script>".to_owned()),
            Just("'; DROP TABLE credentials; --".to_owned()),
            "[a-zé…]{250,260}",
            Just("x".repeat(70_000)),
        ]
    }

    fn any_api_type() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("harvest".to_owned()),
            Just("job_board".to_owned()),
            Just("partner".to_owned()),
            any_text(),
        ]
    }

    fn any_endpoints() -> impl Strategy<Value = Vec<String>> {
        let endpoint = prop_oneof![
            Just("GET /v1/candidates".to_owned()),
            Just("POST /v1/candidates".to_owned()),
            Just("PATCH /v2/users/".to_owned()),
            Just("GET /v1/payroll".to_owned()),
            any_text(),
        ];
        proptest::collection::vec(endpoint, 0..12)
    }

    /// Runs `property` on CASES inputs against one server, on this test's runtime.
    fn check<S: Strategy>(strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) {
        let mut runner = TestRunner::new(Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(e) = runner.run(&strategy, property) {
            panic!("{e}");
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    }

    /// A runtime for one property, a fresh server, and its first Site Admin signed in.
    fn server_with_admin() -> (tokio::runtime::Runtime, TestApp, Person) {
        let rt = runtime();
        let (app, admin) = rt.block_on(async {
            let app = TestApp::spawn().await;
            let admin = app.admin().await;
            (app, admin)
        });
        (rt, app, admin)
    }

    fn no_server_error(status: StatusCode) -> Result<(), TestCaseError> {
        prop_assert!(status.as_u16() < 500, "server error {status}");
        Ok(())
    }

    #[test]
    fn create_credential_accepts_or_refuses_whole() {
        let (rt, app, admin) = server_with_admin();
        let partner = rt
            .block_on(admin.client_application("Acme", &["GET /v1/jobs"]))
            .to_string();
        let client_application = prop_oneof![Just(String::new()), Just(partner), any_text()];
        check(
            (any_api_type(), client_application, any_text()),
            |(api_type, app_id, description)| {
                let before = app.count("SELECT count(*) FROM credentials");
                let grants_before = app.count("SELECT count(*) FROM credential_endpoints");
                let page = rt.block_on(admin.create_credential(&api_type, &app_id, &description));
                no_server_error(page.status)?;
                let after = app.count("SELECT count(*) FROM credentials");
                if page.status == StatusCode::OK {
                    prop_assert_eq!(after, before + 1);
                    prop_assert!(page.has(r#"[data-testid="api-key-value"]"#));
                } else {
                    prop_assert!(
                        [
                            StatusCode::UNPROCESSABLE_ENTITY,
                            StatusCode::PAYLOAD_TOO_LARGE,
                            StatusCode::BAD_REQUEST
                        ]
                        .contains(&page.status),
                        "{}",
                        page.status
                    );
                    prop_assert_eq!(after, before);
                    prop_assert_eq!(
                        app.count("SELECT count(*) FROM credential_endpoints"),
                        grants_before
                    );
                }
                Ok(())
            },
        );
    }

    #[test]
    fn update_permissions_replaces_all_or_nothing() {
        let (rt, app, admin) = server_with_admin();
        let (_, id) = rt.block_on(admin.new_key("harvest", "Property"));
        let catalogue = [
            "GET /v1/candidates",
            "POST /v1/candidates",
            "PATCH /v2/users/",
        ];
        check(any_endpoints(), |endpoints| {
            let before = rt.block_on(admin.permissions(id)).checked_endpoints();
            let submitted: Vec<&str> = endpoints.iter().map(String::as_str).collect();
            let page = rt.block_on(admin.update_permissions(id, &submitted));
            no_server_error(page.status)?;
            let mut after = rt.block_on(admin.permissions(id)).checked_endpoints();
            after.sort();
            let stored = app.count("SELECT count(*) FROM credential_endpoints");
            prop_assert_eq!(
                usize::try_from(stored).ok(),
                Some(after.len()),
                "the page shows what is stored"
            );
            if page.status == StatusCode::SEE_OTHER {
                let mut expected: Vec<String> =
                    endpoints.iter().map(|e| e.trim().to_owned()).collect();
                expected.sort();
                expected.dedup();
                prop_assert!(expected.iter().all(|e| catalogue.contains(&e.as_str())));
                prop_assert_eq!(after, expected);
            } else {
                let mut before = before;
                before.sort();
                prop_assert_eq!(after, before);
            }
            Ok(())
        });
    }

    #[test]
    fn add_client_application_accepts_or_refuses_whole() {
        let (rt, app, admin) = server_with_admin();
        check((any_text(), any_endpoints()), |(name, endpoints)| {
            let apps = app.count("SELECT count(*) FROM client_applications");
            let presets = app.count("SELECT count(*) FROM client_application_endpoints");
            let submitted: Vec<&str> = endpoints.iter().map(String::as_str).collect();
            let page = rt.block_on(admin.add_client_application(&name, &submitted));
            no_server_error(page.status)?;
            let grew = app.count("SELECT count(*) FROM client_applications") - apps;
            if page.status == StatusCode::SEE_OTHER {
                prop_assert_eq!(grew, 1);
            } else {
                prop_assert_eq!(grew, 0);
                prop_assert_eq!(
                    app.count("SELECT count(*) FROM client_application_endpoints"),
                    presets
                );
            }
            Ok(())
        });
    }

    #[test]
    fn sign_in_never_errs_and_never_lets_a_wrong_password_in() {
        let rt = runtime();
        let app = rt.block_on(TestApp::spawn());
        let visitor: Person = app.visitor();
        rt.block_on(visitor.get("/login"));
        check(
            (any_text(), any_text(), any_text()),
            |(email, password, next)| {
                let page = rt.block_on(visitor.post(
                    "/login",
                    &[("email", &email), ("password", &password), ("next", &next)],
                ));
                no_server_error(page.status)?;
                prop_assert_ne!(
                    page.status,
                    StatusCode::SEE_OTHER,
                    "signed in with a made-up password"
                );
                Ok(())
            },
        );
    }

    fn any_level() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("basic".to_owned()),
            Just("job_admin".to_owned()),
            Just("site_admin".to_owned()),
            any_text()
        ]
    }

    fn any_permissions() -> impl Strategy<Value = Vec<String>> {
        let permission = prop_oneof![
            Just("manage_job_board_credentials".to_owned()),
            Just("manage_all_credentials".to_owned()),
            Just("manage_webhooks".to_owned()),
            any_text(),
        ];
        proptest::collection::vec(permission, 0..5)
    }

    #[test]
    fn a_users_page_saves_whole_or_not_at_all() {
        let (rt, app, admin) = server_with_admin();
        app.create_user("target@example.com", "basic", &["manage_webhooks"]);
        let id = app.user_id("target@example.com");
        let state = |app: &TestApp| {
            (
                app.count(&format!("SELECT CASE level WHEN 'basic' THEN 1 WHEN 'job_admin' THEN 2 ELSE 3 END FROM users WHERE id = {id}")),
                app.count(&format!("SELECT count(*) FROM user_permissions WHERE user_id = {id}")),
                app.count(&format!("SELECT disabled FROM users WHERE id = {id}")),
            )
        };
        check(
            (any_level(), any_permissions(), any::<bool>()),
            |(level, permissions, disabled)| {
                let before = state(&app);
                let submitted: Vec<&str> = permissions.iter().map(String::as_str).collect();
                let page = rt.block_on(admin.update_user(id, &level, &submitted, disabled));
                no_server_error(page.status)?;
                let after = state(&app);
                if page.status == StatusCode::SEE_OTHER {
                    let expected_level = match level.as_str() {
                        "basic" => 1,
                        "job_admin" => 2,
                        _ => 3,
                    };
                    prop_assert_eq!(after.0, expected_level);
                    prop_assert_eq!(after.2, i64::from(disabled));
                } else {
                    prop_assert_eq!(after, before, "a refused save changes nothing");
                }
                Ok(())
            },
        );
    }

    #[test]
    fn add_a_user_accepts_or_refuses_whole() {
        let (rt, app, admin) = server_with_admin();
        let email = prop_oneof![
            Just("someone@example.com".to_owned()),
            "[a-z]{1,8}@[a-z]{1,8}\\.com",
            any_text()
        ];
        check(
            (any_text(), email, any_level(), any_permissions()),
            |(name, email, level, permissions)| {
                let users = app.count("SELECT count(*) FROM users");
                let grants = app.count("SELECT count(*) FROM user_permissions");
                let submitted: Vec<&str> = permissions.iter().map(String::as_str).collect();
                let page = rt.block_on(admin.add_user(&name, &email, &level, &submitted));
                no_server_error(page.status)?;
                let added = app.count("SELECT count(*) FROM users") - users;
                if page.status.is_success() || page.status == StatusCode::SEE_OTHER {
                    prop_assert_eq!(added, 1);
                } else {
                    prop_assert_eq!(added, 0);
                    prop_assert_eq!(app.count("SELECT count(*) FROM user_permissions"), grants);
                }
                Ok(())
            },
        );
    }

    #[test]
    fn any_audit_log_filter_gets_a_clear_answer() {
        let (rt, _app, admin) = server_with_admin();
        rt.block_on(admin.new_key("job_board", "Something to list"));
        // Query strings: as hostile as form text, but within what a URL can carry.
        let text = || {
            prop_oneof![
                ".{0,40}",
                "\\PC{0,300}",
                "[\\x00-\\x1f\\x7f]{1,8}",
                Just("<script>alert(1)</script>".to_owned()),
                Just("9".repeat(8_000)),
                Just("2026-13-45".to_owned())
            ]
        };
        let filters = (text(), text(), text(), text(), text(), text());
        check(filters, |(actor, action, from, to, credential, page)| {
            let fields = [
                ("actor", actor.as_str()),
                ("action", action.as_str()),
                ("from", from.as_str()),
                ("to", to.as_str()),
                ("credential", credential.as_str()),
                ("page", page.as_str()),
            ];
            let shown = rt.block_on(admin.audit_log(&fields));
            no_server_error(shown.status)?;
            let exported = rt.block_on(admin.audit_export(&fields));
            no_server_error(exported.status)?;
            Ok(())
        });
    }

    #[test]
    fn any_search_or_filter_gets_a_clear_answer() {
        let (rt, _app, admin) = server_with_admin();
        let (_, key) = rt.block_on(admin.new_key("harvest", "Something to filter"));
        // Long and odd strings, up to what one URL can carry.
        let text = || {
            prop_oneof![
                ".{0,40}",
                "\\PC{0,300}",
                "[\\x00-\\x1f\\x7f]{1,8}",
                "[%_\\\\*?\\[\\]]{1,64}",
                Just("x".repeat(30_000)),
                Just("%_\\".repeat(1_000)),
                Just("é".repeat(2_500)),
                Just("4xx".to_owned()),
            ]
        };
        check((text(), text()), |(search, page)| {
            let users = rt.block_on(admin.get(&format!(
                "/configure/users?{}",
                serde_html_form::to_string([("q", &search), ("page", &page)]).unwrap_or_default()
            )));
            no_server_error(users.status)?;
            let requests = rt.block_on(admin.get(&format!(
                    "{CREDENTIALS}/{key}/requests?{}",
                    serde_html_form::to_string([("status", &search), ("page", &page)])
                        .unwrap_or_default()
                )));
            no_server_error(requests.status)?;
            Ok(())
        });
    }

    #[test]
    fn any_bytes_as_a_form_body_get_a_clear_answer() {
        let (rt, app, admin) = server_with_admin();
        let token = admin.csrf_token();
        let bodies = proptest::collection::vec(any::<u8>(), 0..2048);
        check(bodies, |mut body| {
            body.extend_from_slice(format!("&csrf_token={token}").as_bytes());
            let response = rt.block_on(
                admin
                    .client
                    .post(format!("{}{CREDENTIALS}", admin.base))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send(),
            );
            let status = response.expect("an answer").status();
            no_server_error(status)?;
            Ok(())
        });
        assert!(app.count("SELECT count(*) FROM credentials") <= i64::from(CASES));
    }
}

#[tokio::test]
async fn a_form_over_64_kib_is_refused_with_413_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let page = admin
        .create_credential("job_board", "", &"x".repeat(70 * 1024))
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.body.contains("64 KiB"));
    assert_eq!(app.count("SELECT count(*) FROM credentials"), 0);
}

#[tokio::test]
async fn a_malformed_form_is_a_400_page() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let token = admin.csrf_token();
    let response = admin
        .client
        .post(format!("{}{CREDENTIALS}", admin.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf_token={token}&description=one&description=two&api_type=job_board"
        ))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .text()
            .await
            .unwrap_or_default()
            .contains("Back to Configure")
    );
    assert_eq!(app.count("SELECT count(*) FROM credentials"), 0);
}

/// Creates `count` Job Board keys as `person`; returns those answered with a key.
async fn create_many(
    person: crate::helpers::Person,
    writer: usize,
    count: usize,
) -> (Vec<(String, i32)>, usize) {
    let mut created = Vec::new();
    let mut failed = 0;
    for n in 0..count {
        let description = format!("Writer {writer} key {n}");
        let Some(page) = person
            .try_create_credential("job_board", &description)
            .await
        else {
            break; // the server went away: what was answered is what counts
        };
        if page.status == StatusCode::OK {
            created.push(page.api_key());
        } else {
            failed += 1;
        }
    }
    (created, failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_writers_create_200_keys_while_the_gate_is_under_load() {
    let app = TestApp::spawn_with(&["--rate-limit", "off"]).await;
    let admin = app.admin().await;
    let (gate_key, _) = admin.new_key("harvest", "Load").await;
    let address = app.address.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (address, key, stop) = (address.clone(), gate_key.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut answered = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let status = client
                    .get(format!("http://{address}/harvest/v1/jobs"))
                    .basic_auth(&key, Some(""))
                    .send()
                    .await
                    .map(|r| r.status());
                assert_eq!(
                    status.ok(),
                    Some(StatusCode::FORBIDDEN),
                    "the gate stays correct under load"
                );
                answered += 1;
            }
            answered
        }));
    }
    let mut writers = Vec::new();
    for writer in 0..8 {
        let person = app.admin().await;
        writers.push(tokio::spawn(create_many(person, writer, 25)));
    }
    let mut keys = Vec::new();
    for writer in writers {
        let (created, failed) = writer.await.expect("a writer");
        assert_eq!(failed, 0, "every creation succeeds");
        keys.extend(created);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut gate_requests = 0;
    for task in load {
        gate_requests += task.await.expect("a load task");
    }
    assert!(gate_requests > 0);
    assert_eq!(keys.len(), 200);
    assert_eq!(
        app.count("SELECT count(*) FROM credentials WHERE api_type = 'job_board'"),
        200
    );
    // Every key is present and works at once.
    let client = reqwest::Client::new();
    for (key, _) in &keys {
        let status = client
            .post(format!(
                "http://{}/boards-api/v1/boards/acme/jobs/1",
                app.address
            ))
            .basic_auth(key, Some(""))
            .send()
            .await
            .expect("the gate answers")
            .status();
        assert_eq!(status, StatusCode::OK);
    }
    println!(
        "8 writers × 25 keys: 200 created and verified; {gate_requests} gate requests meanwhile"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_mid_write_loses_no_answered_creation() {
    let mut app = TestApp::spawn().await;
    let mut writers = Vec::new();
    for writer in 0..8 {
        let person = app.admin().await;
        writers.push(tokio::spawn(create_many(person, writer, 40)));
    }
    let started = std::time::Instant::now();
    while app.count("SELECT count(*) FROM credentials") < 40 {
        assert!(
            started.elapsed().as_secs() < 60,
            "the writers never got going"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    app.restart().await; // SIGKILL in the middle of the writes, then start again
    let mut answered = Vec::new();
    for writer in writers {
        answered.extend(writer.await.expect("a writer").0);
    }
    assert!(
        !answered.is_empty(),
        "some creations were answered before the crash"
    );
    assert!(
        answered.len() < 320,
        "the crash came in the middle of the writes"
    );
    if let Some(verdict) = app.integrity_check() {
        assert_eq!(verdict, "ok");
    }
    for (key, id) in &answered {
        assert_eq!(
            app.stored_keys(key, Some(*id)),
            1,
            "an answered creation was lost"
        );
        let status = reqwest::Client::new()
            .post(format!(
                "http://{}/boards-api/v1/boards/acme/jobs/1",
                app.address
            ))
            .basic_auth(key, Some(""))
            .send()
            .await
            .expect("the gate answers")
            .status();
        assert_eq!(
            status,
            StatusCode::OK,
            "a key answered before the crash works after it"
        );
    }
    println!(
        "crash test: {} creations answered before SIGKILL, all present after restart",
        answered.len()
    );
}

mod sign_in {
    //! Sign-in under attack: throttled per account and per address, no user enumeration,
    //! sessions that end.

    use std::time::{Duration, Instant};

    use reqwest::StatusCode;

    use crate::helpers::{CREDENTIALS, PASSWORD, TestApp};

    #[tokio::test]
    async fn ten_failures_lock_the_account_even_for_the_right_password() {
        let app = TestApp::spawn().await;
        app.create_user("dev@example.com", "basic", &["manage_all_credentials"]);
        let attacker = app.visitor();
        attacker.get("/login").await;
        for _ in 0..10 {
            let page = attacker
                .post(
                    "/login",
                    &[
                        ("email", "dev@example.com"),
                        ("password", "guess guess guess"),
                    ],
                )
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        }
        let owner = app.visitor();
        owner.get("/login").await;
        let refused = owner
            .post(
                "/login",
                &[("email", "DEV@example.com"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = refused.headers["retry-after"]
            .to_str()
            .unwrap_or("")
            .parse()
            .unwrap_or(0);
        assert!((1..=900).contains(&retry), "{retry}");
        assert!(
            refused
                .text(".form-error")
                .contains("Too many failed sign-ins")
        );
        assert_eq!(
            owner.get(CREDENTIALS).await.status,
            StatusCode::SEE_OTHER,
            "not signed in"
        );
        assert_eq!(
            app.count("SELECT count(*) FROM audit_events WHERE action = 'sign_in_throttled'"),
            1,
            "the throttling is in the audit log once"
        );
        println!("sign-in throttling: 10 failures, then the right password refused with 429");
    }

    #[tokio::test]
    async fn failures_from_one_address_lock_out_other_accounts_too() {
        let app = TestApp::spawn_with(&["--sign-in-limit", "4/15m"]).await;
        app.create_user("dev@example.com", "basic", &[]);
        let visitor = app.visitor();
        visitor.get("/login").await;
        for n in 0..4 {
            let email = format!("nobody{n}@example.com");
            let page = visitor
                .post("/login", &[("email", &email), ("password", "wrong wrong")])
                .await;
            assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        }
        let page = visitor
            .post(
                "/login",
                &[("email", "dev@example.com"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    }

    /// Time of one failed sign-in for `email`.
    async fn failure(visitor: &crate::helpers::Person, email: &str) -> Duration {
        let token = visitor
            .get("/login")
            .await
            .csrf_token()
            .expect("the sign-in form's token");
        let started = Instant::now();
        let page = visitor
            .post_raw(
                "/login",
                &[
                    ("email", email),
                    ("password", "not the password"),
                    ("csrf_token", &token),
                ],
            )
            .await;
        let took = started.elapsed();
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        took
    }

    #[tokio::test]
    async fn an_unknown_email_costs_as_much_as_a_wrong_password() {
        let app = TestApp::spawn_with(&["--sign-in-limit", "off"]).await;
        app.create_user("dev@example.com", "basic", &[]);
        let visitor = app.visitor();
        failure(&visitor, "warm@example.com").await;
        // Interleaved, so both kinds see the same load from whatever else runs.
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        for _ in 0..9 {
            known.push(failure(&visitor, "dev@example.com").await);
            unknown.push(failure(&visitor, "nobody@example.com").await);
        }
        known.sort();
        unknown.sort();
        let (known, unknown) = (known[4], unknown[4]);
        let ratio = unknown.as_secs_f64() / known.as_secs_f64();
        println!(
            "sign-in failure, median of 9: known {known:?}, unknown {unknown:?}, ratio {ratio:.2}"
        );
        // Without the decoy hash an unknown e-mail answers in well under a tenth of the time.
        assert!(
            (0.5..2.0).contains(&ratio),
            "known {known:?} vs unknown {unknown:?}"
        );
    }

    #[tokio::test]
    async fn an_idle_session_ends() {
        let app = TestApp::spawn_with(&["--session-idle", "2s"]).await;
        let admin = app.admin().await;
        assert_eq!(admin.credentials().await.status, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(
            admin.credentials().await.status,
            StatusCode::OK,
            "activity keeps it alive"
        );
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let page = admin.credentials().await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "idle for longer than 2 s"
        );
        assert!(page.location.unwrap_or_default().starts_with("/login"));
    }

    #[tokio::test]
    async fn a_session_ends_after_its_lifetime_however_active() {
        let app = TestApp::spawn_with(&["--session-lifetime", "3s"]).await;
        let admin = app.admin().await;
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(2000) {
            assert_eq!(admin.credentials().await.status, StatusCode::OK);
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(admin.credentials().await.status, StatusCode::SEE_OTHER);
        assert_eq!(
            app.count("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL"),
            0,
            "ended on the server"
        );
    }

    fn cookie(headers: &reqwest::header::HeaderMap, name: &str) -> String {
        headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("a {name} cookie"))
            .to_owned()
    }

    /// The cookies a visitor gets: at the sign-in form (its own, anonymous) and at sign-in
    /// (the session's).
    async fn cookies(app: &TestApp, visitor_cookie: &str) -> (String, String) {
        let visitor = app.visitor();
        let form = visitor.get("/login").await;
        let signed_in = visitor
            .post(
                "/login",
                &[
                    ("email", &app.admin_email),
                    ("password", &app.admin_password),
                ],
            )
            .await;
        (
            cookie(&form.headers, visitor_cookie),
            cookie(&signed_in.headers, "devcenter_session"),
        )
    }

    #[tokio::test]
    async fn the_session_cookie_is_http_only_same_site_and_secure_behind_https() {
        let plain = TestApp::spawn().await;
        for cookie in <[String; 2]>::from(cookies(&plain, "devcenter_visitor").await) {
            assert!(
                cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
                "{cookie}"
            );
            assert!(!cookie.contains("Secure"), "{cookie}");
        }

        let https = TestApp::spawn_with(&["--public-url", "https://devcenter.example.com"]).await;
        // Behind https the visitor's cookie is `__Host-`: no sibling subdomain can plant it.
        for cookie in <[String; 2]>::from(cookies(&https, "__Host-devcenter_visitor").await) {
            assert!(
                cookie.contains("Secure") && cookie.contains("HttpOnly"),
                "{cookie}"
            );
        }
    }
}
