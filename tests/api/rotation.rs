//! Rotating a credential's secret with an overlap, ending the overlap, trusted IPs and
//! enabling a revoked credential again, as managers do it and as partners feel it at the
//! gate.

use std::time::{Duration, Instant};

use devcenter::rules::keys::ApiKey;
use devcenter::rules::words::ApiType;
use devcenter::web::urls::{
    CREDENTIAL_ENABLE, CREDENTIAL_END_OVERLAP, CREDENTIAL_ROTATE, CREDENTIAL_TRUSTED_IPS, with_id,
};
use reqwest::{Method, StatusCode};

use crate::helpers::{Backend, CREDENTIALS, Page, Person, TestApp, TestDatabase};

/// How a partner calls the gate with a credential of each type: a route its key opens.
#[derive(Clone, Copy)]
enum Kind {
    Harvest,
    JobBoard,
    Partner,
}

impl Kind {
    fn route(self) -> (Method, &'static str) {
        match self {
            Kind::Harvest => (Method::GET, "/harvest/v1/candidates"),
            Kind::JobBoard => (Method::POST, "/boards-api/v1/boards/acme/jobs/127"),
            Kind::Partner => (Method::GET, "/partner/v1/feed"),
        }
    }
}

/// The gate's status for `key` on its kind's route, from this machine (127.0.0.1).
async fn gate(app: &TestApp, kind: Kind, key: &str) -> StatusCode {
    gate_from(app, kind, key, None).await
}

/// The same, sent as if through a proxy for `forwarded_for`.
async fn gate_from(
    app: &TestApp,
    kind: Kind,
    key: &str,
    forwarded_for: Option<&str>,
) -> StatusCode {
    let (method, path) = kind.route();
    let mut request = reqwest::Client::new()
        .request(method, format!("http://{}{path}", app.address))
        .basic_auth(key, Some(""));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.expect("the gate answers").status()
}

/// A key of `kind` that works at the gate: a Harvest key granted its route, a Partner key
/// of an active client application.
async fn working_key(admin: &Person, kind: Kind, description: &str) -> (String, i32) {
    let (key, id) = match kind {
        Kind::Harvest => {
            let made = admin.new_key("harvest", description).await;
            let granted = admin
                .update_permissions(made.1, &["GET /v1/candidates"])
                .await;
            assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.body);
            made
        }
        Kind::JobBoard => admin.new_key("job_board", description).await,
        Kind::Partner => {
            let partner = admin
                .client_application(&format!("{description} partner"), &[])
                .await;
            let shown = admin
                .create_credential("partner", &partner.to_string(), description)
                .await;
            assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
            shown.api_key()
        }
    };
    (key, id)
}

async fn rotate(person: &Person, id: i32, overlap: &str) -> Page {
    person
        .post(&with_id(CREDENTIAL_ROTATE, id), &[("overlap", overlap)])
        .await
}

/// Rotates and returns the new key shown once.
async fn rotated(person: &Person, id: i32, overlap: &str) -> String {
    let page = rotate(person, id, overlap).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.headers["cache-control"], "no-store");
    let (key, shown_for) = page.api_key();
    assert_eq!(shown_for, id);
    assert!(page.has(r#"[data-testid="copy-api-key"]"#));
    assert_eq!(
        page.attrs(r#"[data-testid="stored-api-key-continue"]"#, "href"),
        vec![with_id(CREDENTIAL_ROTATE, id)]
    );
    key
}

async fn save_trusted_ips(person: &Person, id: i32, text: &str) -> Page {
    person
        .post(
            &with_id(CREDENTIAL_TRUSTED_IPS, id),
            &[("trusted_ips", text)],
        )
        .await
}

fn secrets_of(app: &TestApp, id: i32) -> i64 {
    app.count(&format!(
        "SELECT count(*) FROM credential_secrets WHERE credential_id = {id}"
    ))
}

fn audit_count(app: &TestApp, action: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) FROM audit_events WHERE action = '{action}'"
    ))
}

/// A moment as both backends store a `TIMESTAMP`.
fn timestamp(at: chrono::NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

#[tokio::test]
async fn during_each_overlap_both_secrets_work_and_the_new_one_is_shown_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut keys = Vec::new();
    for (overlap, hours) in [("1h", 1), ("24h", 24), ("7d", 168)] {
        let (old, id) = working_key(&admin, Kind::Harvest, &format!("Overlap {overlap}")).await;
        assert_eq!(gate(&app, Kind::Harvest, &old).await, StatusCode::OK);

        let before = chrono::Utc::now().naive_utc();
        let new = rotated(&admin, id, overlap).await;
        assert_ne!(new, old);
        assert!(new.starts_with("dch_"), "{new}");

        assert_eq!(
            gate(&app, Kind::Harvest, &old).await,
            StatusCode::OK,
            "{overlap}: old"
        );
        assert_eq!(
            gate(&app, Kind::Harvest, &new).await,
            StatusCode::OK,
            "{overlap}: new"
        );
        // Only hashes are stored; the grants stayed on the credential.
        assert_eq!(app.stored_keys(&new, Some(id)), 1);
        assert_eq!(app.stored_keys(&old, Some(id)), 1);
        assert_eq!(secrets_of(&app, id), 2);
        let ends = before + chrono::TimeDelta::hours(hours);
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM credential_secrets WHERE credential_id = {id} \
                 AND ends_at > '{}' AND ends_at < '{}'",
                timestamp(ends),
                timestamp(ends + chrono::TimeDelta::minutes(1))
            )),
            1,
            "{overlap}: the old secret ends when the overlap does"
        );

        // Never shown again: not on the list, not on the rotate page.
        let page = admin.get(&with_id(CREDENTIAL_ROTATE, id)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains(&new) && !page.body.contains(&old));
        let rows = page.texts(r#"[data-testid="secret-row"]"#);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(rows[0].contains(&new[new.len() - 4..]) && rows[0].contains("Current"));
        assert!(rows[1].contains(&old[old.len() - 4..]) && rows[1].contains("Works until"));
        assert!(page.has(r#"[data-testid="end-overlap"]"#));
        let list = admin.credentials().await;
        assert!(!list.body.contains(&new));
        let row = list.text(&format!(r#"[data-credential-id="{id}"]"#));
        assert!(
            row.contains(&format!("dch_…{}", &new[new.len() - 4..])),
            "{row}"
        );
        keys.extend([old, new]);
    }
    let stored = app.everything_stored();
    let audit = app.audit_text();
    let logs = app.logs();
    for key in &keys {
        let plain = stored.windows(key.len()).any(|w| w == key.as_bytes());
        assert!(!plain, "a key stored in plain text");
        assert!(!audit.contains(key.as_str()), "a key in the audit log");
        assert!(!logs.contains(key.as_str()), "a key in the server's log");
    }
    assert_eq!(audit_count(&app, "credential_rotated"), 3);
    for overlap in ["1h", "24h", "7d"] {
        assert!(
            audit.contains(&format!("\"overlap\":\"{overlap}\""))
                || audit.contains(&format!("\"overlap\": \"{overlap}\"")),
            "{overlap}: {audit}"
        );
    }
}

#[tokio::test]
async fn rotating_with_no_overlap_stops_the_old_job_board_key_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (old, id) = working_key(&admin, Kind::JobBoard, "Careers site").await;
    let new = rotated(&admin, id, "now").await;
    assert!(new.starts_with("dcj_"));
    assert_eq!(
        gate(&app, Kind::JobBoard, &old).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(gate(&app, Kind::JobBoard, &new).await, StatusCode::OK);

    let page = admin.get(&with_id(CREDENTIAL_ROTATE, id)).await;
    assert!(
        !page.has(r#"[data-testid="end-overlap"]"#),
        "nothing to end"
    );
    let rows = page.texts(r#"[data-testid="secret-row"]"#);
    assert!(rows[1].contains("Ended"), "{rows:?}");
    assert!(!app.audit_text().contains(&new) && !app.audit_text().contains(&old));
}

#[tokio::test]
async fn ending_the_overlap_stops_every_old_partner_secret_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (first, id) = working_key(&admin, Kind::Partner, "Acme feed").await;
    let second = rotated(&admin, id, "7d").await;
    // A second rotation during the overlap leaves the first secret's end alone.
    let first_end = app.texts(&format!(
        "SELECT CAST(ends_at AS TEXT) AS t FROM credential_secrets WHERE credential_id = {id} \
         AND ends_at IS NOT NULL"
    ));
    let third = rotated(&admin, id, "1h").await;
    assert_eq!(
        app.texts(&format!(
            "SELECT CAST(ends_at AS TEXT) AS t FROM credential_secrets WHERE credential_id = {id} \
             AND ends_at IS NOT NULL ORDER BY id LIMIT 1"
        )),
        first_end
    );
    for key in [&first, &second, &third] {
        assert_eq!(gate(&app, Kind::Partner, key).await, StatusCode::OK);
    }

    admin.get(&with_id(CREDENTIAL_ROTATE, id)).await;
    let ended = admin.post(&with_id(CREDENTIAL_END_OVERLAP, id), &[]).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_eq!(ended.location, Some(with_id(CREDENTIAL_ROTATE, id)));
    assert_eq!(
        gate(&app, Kind::Partner, &first).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        gate(&app, Kind::Partner, &second).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(gate(&app, Kind::Partner, &third).await, StatusCode::OK);
    let page = admin.get(&with_id(CREDENTIAL_ROTATE, id)).await;
    assert!(
        page.text(".flash").contains("2 old secrets"),
        "{}",
        page.body
    );
    assert!(!page.has(r#"[data-testid="end-overlap"]"#));
    assert_eq!(audit_count(&app, "credential_overlap_ended"), 1);

    // Nothing left to end: no change, no audit event.
    admin.post(&with_id(CREDENTIAL_END_OVERLAP, id), &[]).await;
    assert_eq!(audit_count(&app, "credential_overlap_ended"), 1);
    let audit = app.audit_text();
    for key in [&first, &second, &third] {
        assert!(!audit.contains(key.as_str()));
    }
}

#[tokio::test]
async fn an_overlap_that_has_passed_stops_the_old_secret_with_no_request_to_dev_center() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (old, id) = working_key(&admin, Kind::Harvest, "Time passes").await;
    let new = rotated(&admin, id, "1h").await;

    // Time passes: the overlap now ends in a few seconds (room for a busy machine).
    // Saving the same grants again makes the gate read the credential anew, before the end.
    let soon = chrono::Utc::now().naive_utc() + chrono::TimeDelta::seconds(5);
    app.execute(&format!(
        "UPDATE credential_secrets SET ends_at = '{}' WHERE credential_id = {id} \
         AND ends_at IS NOT NULL",
        timestamp(soon)
    ));
    admin.update_permissions(id, &["GET /v1/candidates"]).await;
    assert_eq!(gate(&app, Kind::Harvest, &old).await, StatusCode::OK);

    // Then nobody touches Dev Center; the gate alone sees the end pass.
    let left = (soon - chrono::Utc::now().naive_utc())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(100)).await;
    assert_eq!(
        gate(&app, Kind::Harvest, &old).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(gate(&app, Kind::Harvest, &new).await, StatusCode::OK);
}

#[tokio::test]
async fn each_secrets_last_use_is_shown_on_the_rotate_page() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (old, id) = working_key(&admin, Kind::JobBoard, "Last use").await;
    rotated(&admin, id, "24h").await;
    assert_eq!(gate(&app, Kind::JobBoard, &old).await, StatusCode::OK);

    // The gate records uses in batches: give it a few seconds.
    let started = Instant::now();
    loop {
        let page = admin.get(&with_id(CREDENTIAL_ROTATE, id)).await;
        let rows = page.texts(r#"[data-testid="secret-row"]"#);
        if !rows[1].contains("Never") {
            assert!(
                rows[0].contains("Never"),
                "the new secret is unused: {rows:?}"
            );
            assert!(rows[1].contains("UTC"), "{rows:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the old secret's use never showed: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_bad_overlap_is_refused_beside_the_field_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (old, id) = working_key(&admin, Kind::Harvest, "Bad overlap").await;
    admin.get(&with_id(CREDENTIAL_ROTATE, id)).await;
    for bad in ["", "2h", "forever", "quiet:0h", "quiet:169h", "quiet:4"] {
        let page = rotate(&admin, id, bad).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(page.field_error("overlap").contains("Choose"), "{bad}");
        assert!(!page.has(r#"[data-testid="api-key-value"]"#));
    }
    assert_eq!(secrets_of(&app, id), 1);
    assert_eq!(audit_count(&app, "credential_rotated"), 0);
    assert_eq!(gate(&app, Kind::Harvest, &old).await, StatusCode::OK);
}

#[tokio::test]
async fn a_revoked_key_is_not_rotated_until_it_is_enabled_again() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, id) = working_key(&admin, Kind::Harvest, "Revoked then enabled").await;
    // A secret whose overlap ended while the key was revoked stays ended.
    let current = rotated(&admin, id, "now").await;
    admin.revoke(id).await;
    assert_eq!(
        gate(&app, Kind::Harvest, &current).await,
        StatusCode::UNAUTHORIZED
    );

    let refused = rotate(&admin, id, "24h").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("revoked"), "{}", refused.body);
    assert_eq!(secrets_of(&app, id), 2);

    let list = admin.credentials().await;
    let row = format!(r#"[data-credential-id="{id}"]"#);
    assert!(list.has(&format!(r#"{row} [data-testid="credential-enable"]"#)));
    assert!(!list.has(&format!(r#"{row} [data-testid="credential-rotate"]"#)));
    assert!(
        !list.has(&format!("{row} a.danger-link")),
        "no Revoke on a revoked key"
    );

    let enabled = admin.post(&with_id(CREDENTIAL_ENABLE, id), &[]).await;
    assert_eq!(enabled.status, StatusCode::SEE_OTHER);
    assert_eq!(enabled.location.as_deref(), Some(CREDENTIALS));
    assert_eq!(gate(&app, Kind::Harvest, &current).await, StatusCode::OK);
    assert_eq!(
        gate(&app, Kind::Harvest, &key).await,
        StatusCode::UNAUTHORIZED
    );
    let list = admin.credentials().await;
    assert!(list.text(".flash").contains("works again"));
    assert!(list.text(&row).contains("Active"));
    assert!(list.has(&format!(r#"{row} [data-testid="credential-rotate"]"#)));
    assert_eq!(audit_count(&app, "credential_enabled"), 1);

    // Enabling a live key changes nothing.
    admin.post(&with_id(CREDENTIAL_ENABLE, id), &[]).await;
    assert_eq!(audit_count(&app, "credential_enabled"), 1);
    let audit = app.audit_text();
    assert!(!audit.contains(&key) && !audit.contains(&current));
}

#[tokio::test]
async fn trusted_ips_refuse_a_bad_line_and_are_enforced_at_the_gate() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, id) = working_key(&admin, Kind::Harvest, "Office only").await;
    let page = admin.get(&with_id(CREDENTIAL_TRUSTED_IPS, id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.has(r#"[data-testid="trusted-ips-form"] textarea[name="trusted_ips"]"#));

    let refused = save_trusted_ips(&admin, id, "203.0.113.0/24\nnot-an-address\n").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .field_error("trusted_ips")
            .contains("not-an-address")
    );
    assert!(
        refused.text("textarea").contains("not-an-address"),
        "kept as typed"
    );
    let stored = format!("SELECT trusted_ips AS t FROM credentials WHERE id = {id}");
    assert_eq!(app.texts(&stored), vec![String::new()]);
    assert_eq!(gate(&app, Kind::Harvest, &key).await, StatusCode::OK);

    let saved = save_trusted_ips(&admin, id, " 203.0.113.9/24 \n\n2001:DB8::/32\n").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.texts(&stored),
        vec!["203.0.113.0/24\n2001:db8::/32".to_owned()]
    );
    assert_eq!(gate(&app, Kind::Harvest, &key).await, StatusCode::FORBIDDEN);

    save_trusted_ips(&admin, id, "203.0.113.0/24\n127.0.0.1\n::1").await;
    assert_eq!(gate(&app, Kind::Harvest, &key).await, StatusCode::OK);
    let page = admin.get(&with_id(CREDENTIAL_TRUSTED_IPS, id)).await;
    assert_eq!(page.text("textarea"), "203.0.113.0/24\n127.0.0.1\n::1");

    save_trusted_ips(&admin, id, "").await;
    assert_eq!(app.texts(&stored), vec![String::new()]);
    assert_eq!(audit_count(&app, "credential_trusted_ips_changed"), 3);
    let audit = app.audit_text();
    assert!(audit.contains("203.0.113.0/24") && audit.contains("any address"));
    assert!(!audit.contains(&key));
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_must_be_trusted() {
    let app = TestApp::spawn_with(&["--trusted-proxy", "127.0.0.1"]).await;
    let admin = app.admin().await;
    let (key, id) = working_key(&admin, Kind::JobBoard, "Proxy").await;
    let saved = save_trusted_ips(&admin, id, "198.51.100.0/24\n2001:db8::/32").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    for (from, expected) in [
        ("198.51.100.23", StatusCode::OK),
        ("2001:db8::7", StatusCode::OK),
        ("203.0.113.5", StatusCode::FORBIDDEN),
        ("2001:db9::1", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            gate_from(&app, Kind::JobBoard, &key, Some(from)).await,
            expected,
            "{from}"
        );
    }
}

#[tokio::test]
async fn a_job_board_manager_rotates_job_board_keys_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, harvest) = working_key(&admin, Kind::Harvest, "Not theirs").await;
    let manager = app
        .user(
            "jobs@example.com",
            "basic",
            &["manage_job_board_credentials"],
        )
        .await;
    let (old, job_board) = working_key(&manager, Kind::JobBoard, "Theirs").await;

    assert_eq!(
        manager
            .get(&with_id(CREDENTIAL_ROTATE, job_board))
            .await
            .status,
        StatusCode::OK
    );
    let new = rotated(&manager, job_board, "1h").await;
    assert_eq!(gate(&app, Kind::JobBoard, &old).await, StatusCode::OK);
    assert_eq!(gate(&app, Kind::JobBoard, &new).await, StatusCode::OK);
    let saved = save_trusted_ips(&manager, job_board, "127.0.0.1").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);

    manager.credentials().await;
    for (method, pattern) in [
        ("GET", CREDENTIAL_ROTATE),
        ("POST", CREDENTIAL_ROTATE),
        ("POST", CREDENTIAL_END_OVERLAP),
        ("GET", CREDENTIAL_TRUSTED_IPS),
        ("POST", CREDENTIAL_TRUSTED_IPS),
        ("POST", CREDENTIAL_ENABLE),
    ] {
        let path = with_id(pattern, harvest);
        let page = match method {
            "GET" => manager.get(&path).await,
            _ => {
                manager
                    .post(&path, &[("overlap", "now"), ("trusted_ips", "10.0.0.1")])
                    .await
            }
        };
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    assert_eq!(secrets_of(&app, harvest), 1);
    assert_eq!(
        app.texts(&format!(
            "SELECT trusted_ips AS t FROM credentials WHERE id = {harvest}"
        )),
        vec![String::new()]
    );
}

#[tokio::test]
async fn a_harvest_v3_credential_rotates_its_client_secret_and_keeps_its_client_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let created = admin
        .create_credential("harvest_v3", "", "Reporting app")
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id: i32 = created.attrs("[data-credential-id]", "data-credential-id")[0]
        .parse()
        .expect("an id");
    let client_id = app.texts(&format!(
        "SELECT client_id AS t FROM credentials WHERE id = {id}"
    ));

    let page = rotate(&admin, id, "24h").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        page.text(r#"[data-testid="client-id-value"]"#),
        client_id[0]
    );
    let secret = page.text(r#"[data-testid="client-secret-value"]"#);
    assert!(ApiKey::parse(&secret).is_ok_and(|k| k.api_type() == ApiType::HarvestV3));
    for hook in ["client-id-value", "client-secret-value"] {
        assert_eq!(
            page.attrs(&format!(r#"[data-testid="{hook}"]"#), "data-credential-id"),
            vec![id.to_string()]
        );
    }
    for hook in [
        "copy-client-id",
        "copy-client-secret",
        "stored-client-credentials-continue",
    ] {
        assert!(page.has(&format!(r#"[data-testid="{hook}"]"#)), "{hook}");
    }
    assert!(!page.has(r#"[data-testid="api-key-value"]"#));
    assert_eq!(app.stored_keys(&secret, Some(id)), 1);
    assert_eq!(secrets_of(&app, id), 2);
    let again = admin.get(&with_id(CREDENTIAL_ROTATE, id)).await;
    assert!(!again.body.contains(&secret));
    assert!(
        again.body.contains(&client_id[0]),
        "the client ID is shown again"
    );
    assert!(!app.audit_text().contains(&secret));
}

/// The version diesel records for a migration folder: its name's digits before the first
/// `_`, without dashes.
fn version_of(folder: &str) -> String {
    folder.split('_').next().unwrap_or(folder).replace('-', "")
}

/// The first seven migrations of this backend, applied by hand as an installation made
/// before Harvest v3 had them.
fn first_seven_migrations() -> Vec<(String, String)> {
    let folder = match crate::BACKEND {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    };
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .expect("the migrations")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.as_str() <= "2026-12-03-000007_rate_windows")
        .collect();
    names.sort();
    assert_eq!(names.len(), 7, "{names:?}");
    names
        .into_iter()
        .map(|name| {
            let sql = std::fs::read_to_string(format!("{folder}/{name}/up.sql")).expect("up.sql");
            (version_of(&name), sql)
        })
        .collect()
}

#[tokio::test]
async fn a_key_made_before_harvest_v3_still_works_after_the_upgrade() {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;

    let dir = tempfile::tempdir().expect("a folder");
    let key = ApiKey::generate(ApiType::Harvest);
    let hash = blake3::hash(key.reveal().as_bytes()).to_hex().to_string();
    let (database, bytes) = match crate::BACKEND {
        Backend::Sqlite => (
            TestDatabase::Sqlite(dir.path().join("devcenter.db")),
            format!("x'{hash}'"),
        ),
        Backend::Postgres => (
            TestDatabase::Postgres(crate::helpers::PostgresDatabase::create()),
            format!("'\\x{hash}'::bytea"),
        ),
    };
    let old_schema = format!(
        "CREATE TABLE __diesel_schema_migrations (
             version VARCHAR(50) PRIMARY KEY NOT NULL,
             run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);
         INSERT INTO users (email, name, password_hash, level, created_at)
             VALUES ('early@example.com', 'Early Adopter', 'not a hash', 'site_admin',
                     '2026-11-30 09:00:00');
         INSERT INTO credentials (description, api_type, key_hash, key_prefix, key_last4,
                                  created_by, created_at)
             SELECT 'Made in November', 'harvest', {bytes}, '{prefix}', '{last4}', id,
                    '2026-11-30 09:05:00'
             FROM users;
         INSERT INTO credential_endpoints (credential_id, endpoint_id)
             SELECT c.id, e.id FROM credentials c, endpoints e
             WHERE e.method = 'GET' AND e.path = '/v1/candidates';
         INSERT INTO audit_events (occurred_at, actor_id, actor_name, actor_address, action,
                                   object_type, object_id, object_label, summary, details)
             SELECT '2026-11-30 09:05:00', created_by, 'Early Adopter', '127.0.0.1',
                    'credential_created', 'credential', id, description,
                    'Created the Harvest API key “Made in November”.', '{{}}'
             FROM credentials;",
        prefix = key.prefix(),
        last4 = key.last4(),
    );
    let apply = |conn: &mut dyn SimpleConnection| {
        for (version, sql) in first_seven_migrations() {
            conn.batch_execute(&sql).expect("an old migration");
            if version.ends_with("000007") {
                conn.batch_execute(&old_schema).expect("the old rows");
                let mut recorded = String::new();
                for (version, _) in first_seven_migrations() {
                    recorded.push_str(&format!(
                        "INSERT INTO __diesel_schema_migrations (version) VALUES ('{version}');"
                    ));
                }
                conn.batch_execute(&recorded)
                    .expect("the recorded migrations");
            }
        }
    };
    match &database {
        TestDatabase::Sqlite(path) => {
            let mut conn = diesel::SqliteConnection::establish(path.to_str().expect("a path"))
                .expect("a SQLite file");
            apply(&mut conn);
        }
        other => {
            let mut conn =
                diesel::PgConnection::establish(&other.argument()).expect("the test database");
            apply(&mut conn);
        }
    }

    // The real binary migrates it as it starts.
    let app = TestApp::init()
        .on_existing_database(database, "early@example.com", "unused")
        .spawn()
        .await;
    assert_eq!(
        gate(&app, Kind::Harvest, key.reveal()).await,
        StatusCode::OK
    );
    let id: i32 = app.texts("SELECT CAST(id AS TEXT) AS t FROM credentials")[0]
        .parse()
        .expect("the old key's id");
    assert_eq!(app.stored_keys(key.reveal(), Some(id)), 1);

    // The audit log kept its history through the upgrade, and stays append-only.
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'credential_created'"),
        1
    );
    {
        use diesel::RunQueryDsl;
        let mut conn = app.connection();
        assert!(
            diesel::sql_query("UPDATE audit_events SET summary = 'rewritten'")
                .execute(&mut conn)
                .is_err()
        );
        assert!(
            diesel::sql_query("DELETE FROM audit_events")
                .execute(&mut conn)
                .is_err()
        );
    }

    let output = app.create_user("keys@example.com", "basic", &["manage_all_credentials"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manager = app.visitor();
    manager
        .sign_in("keys@example.com", crate::helpers::PASSWORD)
        .await;
    let list = manager.credentials().await;
    let row = list.text(&format!(r#"[data-credential-id="{id}"]"#));
    assert!(
        row.contains(&format!("{}…{}", key.prefix(), key.last4())),
        "{row}"
    );
    assert!(
        row.contains("Made in November") && row.contains("Active"),
        "{row}"
    );

    // And it rotates like any other.
    manager.get(&with_id(CREDENTIAL_ROTATE, id)).await;
    let new = rotated(&manager, id, "1h").await;
    assert_eq!(
        gate(&app, Kind::Harvest, key.reveal()).await,
        StatusCode::OK
    );
    assert_eq!(gate(&app, Kind::Harvest, &new).await, StatusCode::OK);
}

#[tokio::test]
async fn a_keys_history_tells_its_rotations_trusted_ips_and_re_enabling() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (old, id) = working_key(&admin, Kind::Partner, "Audited feed").await;
    let new = rotated(&admin, id, "7d").await;
    admin.post(&with_id(CREDENTIAL_END_OVERLAP, id), &[]).await;
    save_trusted_ips(&admin, id, "198.51.100.0/24").await;
    save_trusted_ips(&admin, id, "198.51.100.0/24\n::1").await;
    admin.revoke(id).await;
    admin.post(&with_id(CREDENTIAL_ENABLE, id), &[]).await;

    let history = admin.audit_log(&[("credential", &id.to_string())]).await;
    assert_eq!(history.status, StatusCode::OK);
    let actions = history.texts(r#"[data-testid="audit-action"]"#);
    assert_eq!(
        actions,
        [
            "API key enabled",
            "API key revoked",
            "Trusted IPs changed",
            "Trusted IPs changed",
            "Rotation overlap ended",
            "API key rotated",
            "API key created",
        ],
        "newest first"
    );
    let summaries = history.texts(r#"[data-testid="audit-summary"]"#);
    assert!(
        summaries[2].contains("from 198.51.100.0/24 to 198.51.100.0/24, ::1"),
        "{summaries:?}"
    );
    assert!(summaries[5].contains("7 days"), "{summaries:?}");
    let details = app.texts(&format!(
        "SELECT details AS t FROM audit_events WHERE object_id = {id} \
         AND action = 'credential_trusted_ips_changed' ORDER BY id"
    ));
    let last: serde_json::Value = serde_json::from_str(&details[1]).expect("JSON details");
    assert_eq!(last["before"], serde_json::json!(["198.51.100.0/24"]));
    assert_eq!(last["after"], serde_json::json!(["198.51.100.0/24", "::1"]));
    let filtered = admin.audit_log(&[("action", "credential_rotated")]).await;
    assert_eq!(filtered.texts(r#"[data-testid="audit-row"]"#).len(), 1);
    for page in [&history.body, &filtered.body] {
        assert!(!page.contains(&old) && !page.contains(&new));
    }
}
