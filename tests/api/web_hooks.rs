//! Web hooks, as their receivers see them: a receiver started here verifies every
//! signature; one that is down for a while gets every event after it comes back, in order;
//! a crash between commit and delivery loses nothing; a rolled-back change sends nothing;
//! a slow receiver holds back only itself; and a hook cannot be aimed at this machine,
//! private networks (unless allowed) or cloud metadata services.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::Sha256;

use devcenter::web::urls::{
    CREDENTIAL_ENABLE, CREDENTIAL_ROTATE, NEW_WEB_HOOK, WEB_HOOK, WEB_HOOK_DELIVERIES,
    WEB_HOOK_DISABLE, WEB_HOOK_ENABLE, WEB_HOOK_PING, WEB_HOOKS, with_id,
};

use crate::helpers::{Backend, Person, TestApp};

/// Every test server here may reach this machine and retries fast.
pub const FLAGS: &[&str] = &[
    "--web-hook-allow-private-addresses",
    "--web-hook-first-retry",
    "100ms",
    "--web-hook-timeout",
    "3s",
];

pub const SECRET_KEY: &str = "receiver-secret-key-0123456789abcdef";

/// One delivery as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    signature: String,
    delivery_id: String,
    event: String,
    timestamp: String,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    pub fn action(&self) -> String {
        self.json()["action"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// What the receiver answers: a status, after a delay, optionally a redirect.
struct Behaviour {
    status: AtomicU16,
    delay_ms: AtomicU64,
    received: Mutex<Vec<Received>>,
}

/// A web hook receiver on its own port.
pub struct Receiver {
    port: u16,
    behaviour: Arc<Behaviour>,
    running: bool,
}

impl Receiver {
    /// A receiver listening now.
    pub fn start() -> Receiver {
        let mut receiver = Self::down();
        receiver.come_up();
        receiver
    }

    /// A receiver whose port is chosen but nobody listens yet (connections are refused).
    fn down() -> Receiver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Receiver {
            port,
            behaviour: Arc::new(Behaviour {
                status: AtomicU16::new(200),
                delay_ms: AtomicU64::new(0),
                received: Mutex::new(Vec::new()),
            }),
            running: false,
        }
    }

    fn come_up(&mut self) {
        assert!(!self.running);
        self.running = true;
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("the receiver's port");
        let behaviour = web::Data::from(self.behaviour.clone());
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                HttpServer::new(move || {
                    App::new()
                        .app_data(behaviour.clone())
                        .default_service(web::to(receive))
                })
                .workers(1)
                .listen(listener)
                .expect("listen")
                .run()
                .await
            })
        });
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/devcenter", self.port)
    }

    fn answer_with(&self, status: u16) {
        self.behaviour.status.store(status, Ordering::SeqCst);
    }

    fn delay(&self, delay: Duration) {
        self.behaviour
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.behaviour.received.lock().expect("the log").clone()
    }

    fn actions(&self) -> Vec<String> {
        self.received().iter().map(Received::action).collect()
    }

    /// Waits until `count` deliveries arrived (at most `within`), and returns them all.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                started.elapsed() < within,
                "{count} deliveries expected within {within:?}, got {:?}",
                received.iter().map(Received::action).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    behaviour: web::Data<Behaviour>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let delay = behaviour.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = behaviour.status.load(Ordering::SeqCst);
    if (200..300).contains(&status) {
        behaviour.received.lock().expect("the log").push(Received {
            signature: header("signature"),
            delivery_id: header("devcenter-delivery"),
            event: header("devcenter-event"),
            timestamp: header("devcenter-timestamp"),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    let mut answer =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("a status"));
    if (300..400).contains(&status) {
        answer.insert_header(("Location", "http://127.0.0.1:9/elsewhere"));
    }
    answer.body("ok")
}

/// What a receiver does with every delivery: the HMAC-SHA256 of the exact body with the
/// shared secret key, compared with the `Signature` header.
pub fn verify(received: &Received, secret_key: &str) {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()).expect("any key");
    mac.update(received.body.as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        received.signature,
        format!("sha256 {expected}"),
        "the signature of {}",
        received.body
    );
    // The headers repeat what the signed body says, so a receiver may reject replays.
    let json = received.json();
    assert_eq!(json["delivery_id"], received.delivery_id);
    assert_eq!(json["action"], received.event);
    let sent_at = chrono::DateTime::parse_from_rfc3339(json["sent_at"].as_str().expect("sent_at"))
        .expect("an RFC 3339 time");
    assert_eq!(sent_at.timestamp().to_string(), received.timestamp);
    assert!((chrono::Utc::now().timestamp() - sent_at.timestamp()).abs() < 60);
}

/// Adds a hook through its form; its id.
pub async fn add_hook(
    app: &TestApp,
    person: &Person,
    name: &str,
    url: &str,
    events: &[&str],
) -> i32 {
    let mut fields = vec![("name", name), ("url", url), ("secret_key", SECRET_KEY)];
    fields.extend(events.iter().map(|e| ("events", *e)));
    let page = person.post(WEB_HOOKS, &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    i32::try_from(app.count(&format!(
        "SELECT MAX(id) FROM web_hooks WHERE name = '{name}'"
    )))
    .expect("an id")
}

pub const EVERY_EVENT: &[&str] = &[
    "credential.created",
    "credential.revoked",
    "credential.enabled",
    "credential.rotated",
    "credential.grants_changed",
    "credential.expiring",
    "credential.expired",
    "integration.connected",
    "integration.disconnected",
];

pub async fn web_hook_manager(app: &TestApp) -> Person {
    app.user("hooks@example.com", "basic", &["manage_webhooks"])
        .await
}

/// A server with `FLAGS`, its first Site Admin, a web hook manager, and one hook (`name`)
/// hearing `events`, delivered to `receiver`.
struct Hooked {
    app: TestApp,
    admin: Person,
    manager: Person,
    hook: i32,
}

async fn hooked(name: &str, receiver: &Receiver, events: &[&str]) -> Hooked {
    let app = TestApp::spawn_with(FLAGS).await;
    let admin = app.admin().await;
    let manager = web_hook_manager(&app).await;
    let hook = add_hook(&app, &manager, name, &receiver.url(), events).await;
    Hooked {
        app,
        admin,
        manager,
        hook,
    }
}

#[tokio::test]
async fn every_delivery_is_signed_and_names_the_change_never_a_secret() {
    let receiver = Receiver::start();
    let Hooked {
        app,
        admin,
        manager,
        hook,
    } = hooked("SIEM", &receiver, EVERY_EVENT).await;

    let (key, id) = admin.new_key("harvest", "Payroll sync").await;
    let granted = admin
        .update_permissions(id, &["GET /v1/candidates", "GET /v1/jobs"])
        .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.body);
    let regranted = admin
        .update_permissions(id, &["GET /v1/jobs", "GET /v1/offers"])
        .await;
    assert!(regranted.status.is_redirection(), "{}", regranted.body);
    let rotated = admin
        .post(&with_id(CREDENTIAL_ROTATE, id), &[("overlap", "1h")])
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let (new_key, _) = rotated.api_key();
    assert_eq!(admin.revoke(id).await.status, StatusCode::SEE_OTHER);
    let enabled = admin.post(&with_id(CREDENTIAL_ENABLE, id), &[]).await;
    assert_eq!(enabled.status, StatusCode::SEE_OTHER, "{}", enabled.body);
    let (_, client_secret, v3) = admin.new_v3_credential("", "Reporting (v3)").await;

    let received = receiver.wait_for(7, Duration::from_secs(10)).await;
    for delivery in &received {
        verify(delivery, SECRET_KEY);
        for secret in [
            key.as_str(),
            new_key.as_str(),
            client_secret.as_str(),
            SECRET_KEY,
        ] {
            assert!(!delivery.body.contains(secret), "{}", delivery.body);
        }
    }
    assert_eq!(
        receiver.actions(),
        [
            "credential.created",
            "credential.grants_changed",
            "credential.grants_changed",
            "credential.rotated",
            "credential.revoked",
            "credential.enabled",
            "credential.created",
        ]
    );
    let created = received[0].json();
    let payload = &created["payload"];
    assert_eq!(payload["credential"]["id"], id);
    assert_eq!(payload["credential"]["description"], "Payroll sync");
    assert_eq!(payload["credential"]["type"], "harvest");
    assert_eq!(payload["actor"]["kind"], "person");
    assert_eq!(payload["actor"]["email"], app.admin_email.as_str());
    assert!(chrono::DateTime::parse_from_rfc3339(payload["occurred_at"].as_str().unwrap()).is_ok());
    let changed = &received[2].json()["payload"]["change"];
    assert_eq!(
        changed["added"].as_array().map(Vec::len),
        Some(1),
        "{changed}"
    );
    assert_eq!(
        changed["removed"].as_array().map(Vec::len),
        Some(1),
        "{changed}"
    );
    let v3_created = &received[6].json()["payload"]["credential"];
    assert_eq!(v3_created["id"], v3);
    assert_eq!(v3_created["type"], "harvest_v3");
    assert!(
        v3_created["client_id"]
            .as_str()
            .is_some_and(|c| c.starts_with("dci_")),
        "{v3_created}"
    );
    // Each delivery has its own id.
    let mut ids: Vec<_> = received.iter().map(|r| r.delivery_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), received.len());

    // The deliveries page lists them, newest first, each answered 200 at the first attempt.
    let page = manager.get(&with_id(WEB_HOOK_DELIVERIES, hook)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.texts(r#"[data-testid="web-hook-delivery-row"] [data-testid="delivery-event"]"#),
        received
            .iter()
            .rev()
            .map(|r| r.event.clone())
            .collect::<Vec<_>>()
    );
    assert!(
        page.texts(r#"[data-testid="delivery-status"]"#)
            .iter()
            .all(|s| s == "200")
    );
    assert!(
        page.texts(r#"[data-testid="delivery-attempts"]"#)
            .iter()
            .all(|s| s == "1")
    );
    // Nothing stored or logged holds the hook's secret key in the clear.
    let stored = app.everything_stored();
    assert!(
        !stored
            .windows(SECRET_KEY.len())
            .any(|w| w == SECRET_KEY.as_bytes())
    );
    assert!(!app.audit_text().contains(SECRET_KEY));
    assert!(!app.logs().contains(SECRET_KEY));
}

#[tokio::test]
async fn a_hook_hears_only_its_events_and_nothing_while_disabled() {
    let receiver = Receiver::start();
    let Hooked {
        app,
        admin,
        manager,
        hook,
    } = hooked("Revocations", &receiver, &["credential.revoked"]).await;
    let (_, first) = admin.new_key("harvest", "Heard when revoked").await;
    admin.revoke(first).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;

    let disabled = manager.post(&with_id(WEB_HOOK_DISABLE, hook), &[]).await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    let list = manager.get(WEB_HOOKS).await;
    assert_eq!(list.text(r#"[data-testid="web-hook-status"]"#), "Disabled");
    let (_, second) = admin.new_key("harvest", "Revoked while disabled").await;
    admin.revoke(second).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM web_hook_deliveries WHERE web_hook_id = {hook}"
        )),
        1,
        "a disabled hook has nothing written for it"
    );
    assert_eq!(
        manager
            .post(&with_id(WEB_HOOK_ENABLE, hook), &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let (_, third) = admin.new_key("harvest", "Revoked once enabled").await;
    admin.revoke(third).await;
    let received = receiver.wait_for(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        receiver.actions(),
        ["credential.revoked", "credential.revoked"]
    );
    let described: Vec<_> = received
        .iter()
        .map(|r| r.json()["payload"]["credential"]["description"].clone())
        .collect();
    assert_eq!(described, ["Heard when revoked", "Revoked once enabled"]);
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_every_event_in_order_once_it_is_back() {
    let mut receiver = Receiver::down();
    let Hooked {
        app,
        admin,
        manager,
        hook,
    } = hooked("Down for a while", &receiver, EVERY_EVENT).await;
    let mut made = Vec::new();
    for n in 1..=3 {
        let (_, id) = admin.new_key("harvest", &format!("Key {n}")).await;
        made.push(id);
    }
    admin.revoke(made[0]).await;

    // The first event is retried with growing waits; the others wait behind it.
    let started = Instant::now();
    while app.count(&format!(
        "SELECT failing_since IS NOT NULL FROM web_hooks WHERE id = {hook}"
    )) == 0
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "five failed attempts in a row make the hook failing"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM web_hook_deliveries WHERE state <> 'pending'"),
        0
    );
    assert_eq!(
        app.count(&format!(
            "SELECT MAX(attempts) FROM web_hook_deliveries WHERE web_hook_id = {hook}"
        )),
        app.count(&format!(
            "SELECT attempts FROM web_hook_deliveries WHERE id = (SELECT MIN(id) FROM web_hook_deliveries WHERE web_hook_id = {hook})"
        )),
        "only the oldest delivery was attempted"
    );
    let list = manager.get(WEB_HOOKS).await;
    assert_eq!(list.text(r#"[data-testid="web-hook-status"]"#), "Failing");
    let deliveries = manager.get(&with_id(WEB_HOOK_DELIVERIES, hook)).await;
    assert!(deliveries.has(r#"[data-testid="web-hook-failing"]"#));
    assert!(
        deliveries
            .text(r#"[data-testid="delivery-error"]"#)
            .contains("Could not reach the receiver"),
        "{}",
        deliveries.body
    );

    // Back up: a ping that succeeds clears "failing" and sends what waited, in order.
    receiver.come_up();
    let pinged = manager.post(&with_id(WEB_HOOK_PING, hook), &[]).await;
    assert_eq!(pinged.status, StatusCode::SEE_OTHER);
    let received = receiver.wait_for(5, Duration::from_secs(10)).await;
    for delivery in &received {
        verify(delivery, SECRET_KEY);
    }
    assert_eq!(
        receiver.actions(),
        [
            "ping",
            "credential.created",
            "credential.created",
            "credential.created",
            "credential.revoked"
        ]
    );
    let keys: Vec<_> = received[1..4]
        .iter()
        .map(|r| r.json()["payload"]["credential"]["id"].clone())
        .collect();
    assert_eq!(
        keys,
        made.iter().map(|id| Value::from(*id)).collect::<Vec<_>>()
    );
    assert_eq!(
        app.count(&format!(
            "SELECT failing_since IS NULL FROM web_hooks WHERE id = {hook}"
        )),
        1
    );
    let list = manager.get(WEB_HOOKS).await;
    assert_eq!(list.text(r#"[data-testid="web-hook-status"]"#), "Enabled");
}

#[tokio::test]
async fn a_crash_between_commit_and_delivery_loses_nothing() {
    let mut receiver = Receiver::down();
    let Hooked { mut app, admin, .. } = hooked("Crash", &receiver, EVERY_EVENT).await;
    let (_, id) = admin.new_key("harvest", "Made before the crash").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM web_hook_deliveries WHERE state = 'pending'"),
        1,
        "the event is in the outbox with its change"
    );
    app.restart().await; // SIGKILL, then start again on the same database
    receiver.come_up();
    let received = receiver.wait_for(1, Duration::from_secs(15)).await;
    verify(&received[0], SECRET_KEY);
    assert_eq!(received[0].action(), "credential.created");
    assert_eq!(received[0].json()["payload"]["credential"]["id"], id);
}

#[tokio::test]
async fn a_change_that_rolls_back_sends_nothing() {
    let receiver = Receiver::start();
    let Hooked { app, admin, .. } = hooked("Rollback", &receiver, EVERY_EVENT).await;
    let (key, id) = admin.new_key("harvest", "Survives a failed revoke").await;
    receiver.wait_for(1, Duration::from_secs(10)).await;

    // The audit event is written after the outbox's delivery, in the same transaction:
    // refusing it makes the whole revoke roll back.
    match app.backend() {
        Backend::Sqlite => app.execute(
            "CREATE TRIGGER refuse_revocations BEFORE INSERT ON audit_events \
             WHEN NEW.action = 'credential_revoked' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        ),
        Backend::Postgres => {
            app.execute(
                "CREATE FUNCTION refuse_revocations() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION 'refused by the test'; END; $$",
            );
            app.execute(
                "CREATE TRIGGER refuse_revocations BEFORE INSERT ON audit_events \
                 FOR EACH ROW WHEN (NEW.action = 'credential_revoked') \
                 EXECUTE FUNCTION refuse_revocations()",
            );
        }
    }
    let failed = admin.revoke(id).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM credentials WHERE id = {id} AND revoked_at IS NULL"
        )),
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM web_hook_deliveries WHERE event = 'credential.revoked'"),
        0
    );
    // The key still works at the gate, and nothing was sent.
    let gate = reqwest::Client::new()
        .get(format!("http://{}/harvest/v1/candidates", app.address))
        .basic_auth(&key, Some(""))
        .send()
        .await
        .expect("the gate answers");
    assert_ne!(gate.status(), StatusCode::UNAUTHORIZED);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.actions(), ["credential.created"]);
}

#[tokio::test]
async fn a_slow_receiver_holds_back_only_itself() {
    let app = TestApp::spawn_with(FLAGS).await;
    let admin = app.admin().await;
    let manager = web_hook_manager(&app).await;
    let slow = Receiver::start();
    slow.delay(Duration::from_secs(6)); // beyond the 3 s timeout
    let fast = Receiver::start();
    add_hook(&app, &manager, "Slow", &slow.url(), EVERY_EVENT).await;
    let fast_hook = add_hook(&app, &manager, "Fast", &fast.url(), EVERY_EVENT).await;
    let started = Instant::now();
    for n in 1..=3 {
        admin.new_key("harvest", &format!("Key {n}")).await;
    }
    fast.wait_for(3, Duration::from_secs(5)).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the fast receiver got every event in {:?}, without waiting for the slow one",
        started.elapsed()
    );
    assert!(slow.received().is_empty());
    // The slow one's attempt timed out; it is retried.
    let started = Instant::now();
    while app.count(
        "SELECT COUNT(*) FROM web_hook_deliveries d JOIN web_hooks h ON h.id = d.web_hook_id \
         WHERE h.name = 'Slow' AND d.attempts > 0",
    ) == 0
    {
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deliveries = manager
        .get(&with_id(
            WEB_HOOK_DELIVERIES,
            app.count("SELECT id FROM web_hooks WHERE name = 'Slow'"),
        ))
        .await;
    assert!(
        deliveries
            .texts(r#"[data-testid="delivery-error"]"#)
            .iter()
            .any(|e| e.contains("No answer within 3s")),
        "{}",
        deliveries.body
    );
    assert_eq!(
        manager
            .get(&with_id(WEB_HOOK_DELIVERIES, fast_hook))
            .await
            .texts(r#"[data-testid="delivery-status"]"#),
        ["200", "200", "200"]
    );
}

#[tokio::test]
async fn hook_urls_are_https_or_http_to_this_machine() {
    let app = TestApp::spawn_with(FLAGS).await;
    let manager = web_hook_manager(&app).await;
    for (url, why) in [
        ("http://siem.example.com/hooks", "https://"),
        ("ftp://siem.example.com/hooks", "https://"),
        (
            "https://user:pw@siem.example.com/hooks",
            "user name or password",
        ),
        ("siem.example.com", "whole URL"),
        ("", "Enter the URL"),
    ] {
        let page = manager
            .post(
                WEB_HOOKS,
                &[
                    ("name", "Refused"),
                    ("url", url),
                    ("secret_key", SECRET_KEY),
                    ("events", "credential.created"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert!(
            page.field_error("url").contains(why),
            "{url}: {}",
            page.field_error("url")
        );
        assert!(
            !page.body.contains(SECRET_KEY),
            "a refused form never shows the secret key again"
        );
    }
    for (fields, field) in [
        (vec![("secret_key", "short")], "secret_key"),
        (vec![("events", "credential.everything")], "events"),
        (vec![("events", "ping")], "events"),
        (vec![("name", "")], "name"),
    ] {
        let mut form = vec![
            ("name", "A hook"),
            ("url", "https://siem.example.com/hooks"),
            ("secret_key", SECRET_KEY),
            ("events", "credential.created"),
        ];
        for (name, value) in &fields {
            form.retain(|(n, _)| n != name);
            form.push((name, value));
        }
        let page = manager.post(WEB_HOOKS, &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(!page.field_error(field).is_empty(), "{fields:?}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM web_hooks"), 0);
    let saved = manager
        .post(
            WEB_HOOKS,
            &[
                ("name", "SIEM"),
                ("url", "https://siem.example.com/hooks"),
                ("secret_key", SECRET_KEY),
                ("events", "credential.created"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT COUNT(*) FROM web_hooks"), 1);
}

#[tokio::test]
async fn deliveries_never_reach_metadata_services_private_networks_or_redirects() {
    // Without --web-hook-allow-private-addresses: this machine is a private address.
    let app = TestApp::spawn_with(&["--web-hook-allow-http"]).await;
    let manager = web_hook_manager(&app).await;
    let receiver = Receiver::start();
    for (url, why) in [
        (
            receiver.url(),
            "Refused to send to 127.0.0.1: it is a private or loopback address",
        ),
        (
            format!("http://localhost:{}/in", receiver.port),
            "a private or loopback address",
        ),
        (
            "http://169.254.169.254/latest/meta-data".to_owned(),
            "link-local",
        ),
        ("http://[fd00:ec2::254]/latest".to_owned(), "metadata"),
        ("http://10.0.0.1/in".to_owned(), "private"),
    ] {
        let hook = add_hook(&app, &manager, &format!("To {url}"), &url, EVERY_EVENT).await;
        let pinged = manager.post(&with_id(WEB_HOOK_PING, hook), &[]).await;
        assert_eq!(pinged.status, StatusCode::SEE_OTHER);
        let deliveries = manager.get(&with_id(WEB_HOOK_DELIVERIES, hook)).await;
        assert_eq!(
            deliveries.attrs(r#"[data-testid="web-hook-delivery-row"]"#, "data-state"),
            ["failed"],
            "{url}"
        );
        assert!(
            deliveries
                .text(r#"[data-testid="delivery-error"]"#)
                .contains(why),
            "{url}: {}",
            deliveries.text(r#"[data-testid="delivery-error"]"#)
        );
    }
    assert!(receiver.received().is_empty());

    // Allowed private addresses still never include link-local and metadata ones.
    let app = TestApp::spawn_with(&[
        "--web-hook-allow-http",
        "--web-hook-allow-private-addresses",
    ])
    .await;
    let manager = web_hook_manager(&app).await;
    let hook = add_hook(
        &app,
        &manager,
        "Metadata",
        "http://169.254.169.254/",
        EVERY_EVENT,
    )
    .await;
    manager.post(&with_id(WEB_HOOK_PING, hook), &[]).await;
    let deliveries = manager.get(&with_id(WEB_HOOK_DELIVERIES, hook)).await;
    assert!(
        deliveries
            .text(r#"[data-testid="delivery-error"]"#)
            .contains("link-local"),
        "{}",
        deliveries.body
    );

    // A redirect is an answer that is not 2xx: not followed, not delivered.
    receiver.answer_with(302);
    let hook = add_hook(&app, &manager, "Redirects", &receiver.url(), EVERY_EVENT).await;
    manager.post(&with_id(WEB_HOOK_PING, hook), &[]).await;
    let deliveries = manager.get(&with_id(WEB_HOOK_DELIVERIES, hook)).await;
    assert_eq!(
        deliveries.texts(r#"[data-testid="delivery-status"]"#),
        ["302"]
    );
    assert!(
        deliveries
            .text(r#"[data-testid="delivery-error"]"#)
            .contains("do not follow redirects")
    );
}

#[tokio::test]
async fn the_secret_key_is_write_only_and_a_new_one_signs_from_then_on() {
    let app = TestApp::spawn_with(FLAGS).await;
    let admin = app.admin().await;
    let manager = web_hook_manager(&app).await;
    let receiver = Receiver::start();

    // The form suggests a key; once saved it is never shown again.
    let form = manager.get(NEW_WEB_HOOK).await;
    let suggested = form.attrs("#secret_key", "value");
    assert_eq!(suggested.len(), 1);
    assert_eq!(suggested[0].len(), 64);
    let hook = add_hook(
        &app,
        &manager,
        "Rotating keys",
        &receiver.url(),
        EVERY_EVENT,
    )
    .await;
    let edit = manager.get(&with_id(WEB_HOOK, hook)).await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(!edit.body.contains(SECRET_KEY));
    assert_eq!(edit.attrs("#secret_key", "value"), [""]);

    // Saved without a key: the old one still signs.
    let kept = manager
        .post(
            &with_id(WEB_HOOK, hook),
            &[
                ("name", "Rotating keys"),
                ("url", &receiver.url()),
                ("secret_key", ""),
                ("events", "credential.created"),
            ],
        )
        .await;
    assert_eq!(kept.status, StatusCode::SEE_OTHER, "{}", kept.body);
    admin.new_key("harvest", "Signed with the first key").await;
    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    verify(&received[0], SECRET_KEY);

    let new_key = "a-brand-new-secret-key-for-the-receiver";
    let changed = manager
        .post(
            &with_id(WEB_HOOK, hook),
            &[
                ("name", "Rotating keys"),
                ("url", &receiver.url()),
                ("secret_key", new_key),
                ("events", "credential.created"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    admin.new_key("harvest", "Signed with the second key").await;
    let received = receiver.wait_for(2, Duration::from_secs(10)).await;
    verify(&received[1], new_key);
    let audit = app.audit_text();
    assert!(audit.contains("a new secret key"), "{audit}");
    // The audit log names the receiver's origin, never its path (often a token itself).
    assert!(
        audit.contains(&format!("http://127.0.0.1:{}/… (#", receiver.port)),
        "{audit}"
    );
    assert!(!audit.contains("/hooks/devcenter"), "{audit}");
    assert!(!audit.contains(new_key) && !audit.contains(SECRET_KEY));
}

#[tokio::test]
async fn expiry_is_announced_once_per_date() {
    let receiver = Receiver::start();
    let events = ["credential.expiring", "credential.expired"];
    let Hooked { app, admin, .. } = hooked("Expiry", &receiver, &events).await;
    let (_, id) = admin.new_key("harvest", "Expires soon").await;
    let in_days = |days: i64| {
        (chrono::Utc::now().naive_utc() + chrono::Duration::days(days))
            .format("%Y-%m-%d %H:%M:%S%.6f")
            .to_string()
    };
    app.execute(&format!(
        "UPDATE credentials SET expires_at = '{}' WHERE id = {id}",
        in_days(3)
    ));
    let received = receiver.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(received[0].action(), "credential.expiring");
    assert_eq!(received[0].json()["payload"]["credential"]["id"], id);
    assert_eq!(received[0].json()["payload"]["actor"]["kind"], "system");

    // Past its date: expired, once.
    app.execute(&format!(
        "UPDATE credentials SET expires_at = '{}' WHERE id = {id}",
        (chrono::Utc::now().naive_utc() - chrono::Duration::minutes(1))
            .format("%Y-%m-%d %H:%M:%S%.6f")
    ));
    receiver.wait_for(2, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        receiver.actions(),
        ["credential.expiring", "credential.expired"]
    );
    assert!(app.audit_text().contains("expired"));
}

#[tokio::test]
async fn disconnecting_an_integration_is_announced() {
    let receiver = Receiver::start();
    let events = ["integration.disconnected"];
    let Hooked { app, admin, .. } = hooked("Integrations", &receiver, &events).await;
    let partner = admin.client_application("Sourcing partner", &[]).await;
    let oauth_client = admin.oauth_client(partner).await;
    let integration = app.insert_integration(
        oauth_client.id,
        app.user_id(&app.admin_email),
        true,
        "harvest:candidates:list",
        "2026-12-05 10:00:00",
    );
    let disconnected = admin
        .post(
            &with_id(devcenter::web::urls::INTEGRATION_DISCONNECT, integration),
            &[],
        )
        .await;
    assert_eq!(disconnected.status, StatusCode::SEE_OTHER);
    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    verify(&received[0], SECRET_KEY);
    let payload = &received[0].json()["payload"];
    assert_eq!(received[0].action(), "integration.disconnected");
    assert_eq!(payload["integration"]["id"], integration);
    assert_eq!(payload["integration"]["partner"], "Sourcing partner");
    assert_eq!(
        payload["credential"]["client_id"],
        oauth_client.client_id.as_str()
    );
    assert!(!received[0].body.contains(&oauth_client.client_secret));
}

#[tokio::test]
async fn retries_last_a_day_from_each_deliverys_first_attempt() {
    let receiver = Receiver::down();
    let Hooked {
        app,
        admin,
        manager,
        hook,
    } = hooked("Gone", &receiver, EVERY_EVENT).await;
    admin.new_key("harvest", "First").await;
    admin.new_key("harvest", "Second").await;
    let first = app.count(&format!(
        "SELECT MIN(id) FROM web_hook_deliveries WHERE web_hook_id = {hook}"
    ));
    let started = Instant::now();
    while app.count(&format!(
        "SELECT attempts FROM web_hook_deliveries WHERE id = {first}"
    )) == 0
    {
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The first has been retried for 25 hours; the second waited that long behind it
    // without an attempt of its own.
    let day_ago = (chrono::Utc::now().naive_utc() - chrono::Duration::hours(25))
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string();
    app.execute(&format!(
        "UPDATE web_hook_deliveries SET first_attempt_at = '{day_ago}', created_at = '{day_ago}' \
         WHERE id = {first}"
    ));
    app.execute(&format!(
        "UPDATE web_hook_deliveries SET created_at = '{day_ago}' WHERE id > {first}"
    ));
    let started = Instant::now();
    while app.count(&format!(
        "SELECT COUNT(*) FROM web_hook_deliveries WHERE id > {first} AND attempts > 0"
    )) == 0
    {
        assert!(started.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deliveries = manager.get(&with_id(WEB_HOOK_DELIVERIES, hook)).await;
    assert_eq!(
        deliveries.attrs(r#"[data-testid="web-hook-delivery-row"]"#, "data-state"),
        ["pending", "failed"],
        "the first gave up after its day; the second has its own day ahead"
    );
}

#[tokio::test]
async fn a_secret_key_that_cannot_be_opened_is_a_failed_attempt_never_an_error_page() {
    let receiver = Receiver::start();
    let Hooked {
        app,
        admin,
        manager,
        hook,
    } = hooked("Resealed", &receiver, EVERY_EVENT).await;
    // As if the sealing key file were replaced: the stored key no longer opens.
    let garbage = match app.backend() {
        Backend::Sqlite => format!("x'{}'", "00".repeat(48)),
        Backend::Postgres => format!("'\\x{}'::bytea", "00".repeat(48)),
    };
    app.execute(&format!(
        "UPDATE web_hooks SET secret_key_sealed = {garbage} WHERE id = {hook}"
    ));
    let pinged = manager.post(&with_id(WEB_HOOK_PING, hook), &[]).await;
    assert_eq!(pinged.status, StatusCode::SEE_OTHER);
    admin.new_key("harvest", "Not signed with a lost key").await;
    let started = Instant::now();
    while app.count(&format!(
        "SELECT COUNT(*) FROM web_hook_deliveries WHERE web_hook_id = {hook} AND attempts > 0"
    )) < 2
    {
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deliveries = manager.get(&with_id(WEB_HOOK_DELIVERIES, hook)).await;
    assert_eq!(deliveries.status, StatusCode::OK);
    let errors = deliveries.texts(r#"[data-testid="delivery-error"]"#);
    assert_eq!(errors.len(), 2, "{}", deliveries.body);
    assert!(
        errors.iter().all(|e| e.contains("cannot be opened")),
        "{errors:?}"
    );
    assert!(receiver.received().is_empty(), "nothing goes out unsigned");
}
