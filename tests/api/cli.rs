//! The command line: adding users, moving an installation from SQLite to PostgreSQL,
//! and what `--help` documents.

use reqwest::StatusCode;

use crate::helpers::{PASSWORD, PostgresDatabase, TestApp, TestDatabase, devcenter};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn create_user_adds_a_user_who_can_sign_in() {
    let app = TestApp::spawn().await;
    let output = app.create_user(
        "Dev@Example.com",
        "job_admin",
        &["manage_all_credentials", "manage_webhooks"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("dev@example.com"));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM users WHERE email = 'dev@example.com' AND level = 'job_admin'"
        ),
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM user_permissions WHERE permission IN ('manage_all_credentials', 'manage_webhooks')"), 2 + 2);
    let person = app.visitor();
    person.sign_in("dev@example.com", PASSWORD).await;
    assert_eq!(person.credentials().await.status, reqwest::StatusCode::OK);
}

#[tokio::test]
async fn create_user_refuses_a_duplicate_email() {
    let app = TestApp::spawn().await;
    assert!(
        app.create_user("dev@example.com", "basic", &[])
            .status
            .success()
    );
    let again = app.create_user("DEV@example.com", "site_admin", &[]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("A user with the e-mail dev@example.com already exists."),
        "{}",
        stderr(&again)
    );
    assert_eq!(app.count("SELECT count(*) FROM users"), 2);
}

#[tokio::test]
async fn create_user_refuses_bad_values_clearly() {
    let app = TestApp::spawn().await;
    let bad_level = app.create_user("a@example.com", "overlord", &[]);
    assert!(!bad_level.status.success());
    assert!(
        stderr(&bad_level).contains("invalid value 'overlord'"),
        "{}",
        stderr(&bad_level)
    );

    let bad_permission = app.create_user("b@example.com", "basic", &["root"]);
    assert!(!bad_permission.status.success());
    assert!(
        stderr(&bad_permission).contains("manage_all_credentials"),
        "the message lists the choices"
    );

    let bad_email = app.create_user("not-an-email", "basic", &[]);
    assert!(!bad_email.status.success());
    assert!(
        stderr(&bad_email).contains("Enter an e-mail address"),
        "{}",
        stderr(&bad_email)
    );

    let short = app.create_user_with_password("c@example.com", "basic", &[], "short");
    assert!(!short.status.success());
    assert!(
        stderr(&short).contains("at least 10 characters"),
        "{}",
        stderr(&short)
    );
    assert_eq!(app.count("SELECT count(*) FROM users"), 1);
}

#[test]
fn help_documents_every_flag_and_its_environment_variable() {
    let serve = devcenter()
        .args(["serve", "--help"])
        .output()
        .expect("run --help");
    let text = String::from_utf8_lossy(&serve.stdout);
    for expected in [
        "--database",
        "DATABASE_URL",
        "--bind",
        "DEVCENTER_BIND",
        "127.0.0.1:8080",
        "data/devcenter.db",
        "--authorization-code-lifetime",
        "DEVCENTER_AUTHORIZATION_CODE_LIFETIME",
    ] {
        assert!(
            text.contains(expected),
            "serve --help lacks {expected}: {text}"
        );
    }
    let copy = devcenter()
        .args(["copy-database", "--help"])
        .output()
        .expect("run --help");
    let text = String::from_utf8_lossy(&copy.stdout);
    for expected in ["--from", "--to", "PostgreSQL"] {
        assert!(
            text.contains(expected),
            "copy-database --help lacks {expected}: {text}"
        );
    }
    let create = devcenter()
        .args(["create-user", "--help"])
        .output()
        .expect("run --help");
    let text = String::from_utf8_lossy(&create.stdout);
    for expected in [
        "--email",
        "--name",
        "--level",
        "--permission",
        "--password-stdin",
        "manage_job_board_credentials",
        "job_admin",
    ] {
        assert!(
            text.contains(expected),
            "create-user --help lacks {expected}: {text}"
        );
    }
}

#[tokio::test]
async fn migrate_brings_a_database_up_to_date_and_exits() {
    let dir = tempfile::tempdir().expect("a folder");
    let database = crate::helpers::TestDatabase::fresh(dir.path());
    let migrate = || {
        devcenter()
            .args(["migrate", "--database", &database.argument()])
            .output()
            .expect("migrate runs")
    };
    let folder = match crate::BACKEND {
        crate::helpers::Backend::Sqlite => "migrations/sqlite",
        crate::helpers::Backend::Postgres => "migrations/postgres",
    };
    let migrations = std::fs::read_dir(folder).expect("the migrations").count();
    let first = migrate();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        String::from_utf8_lossy(&first.stdout).contains(&format!(
            "is up to date: {migrations} migrations applied now."
        )),
        "{}",
        String::from_utf8_lossy(&first.stdout)
    );
    let again = migrate();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 migrations applied now."));
}

/// Every table copy-database copies, in its (foreign-key) order.
const COPIED_TABLES: [&str; 23] = [
    "users",
    "user_permissions",
    "client_applications",
    "client_application_endpoints",
    "client_application_scopes",
    "credentials",
    "credential_secrets",
    "credential_endpoints",
    "credential_scopes",
    "credential_usage",
    "audit_events",
    "sessions",
    "server_secrets",
    "signing_keys",
    "gate_requests",
    "integrations",
    "token_families",
    "authorization_codes",
    "refresh_tokens",
    "web_hooks",
    "web_hook_subscriptions",
    "web_hook_deliveries",
    "credential_expiry_notices",
];

/// Each copied table's rows in the database `--database` names, in `COPIED_TABLES` order.
fn row_counts(database: &str) -> Vec<(&'static str, i64)> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Number {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = devcenter::db::Database::parse(database)
        .connect_to()
        .expect("open the database");
    COPIED_TABLES
        .iter()
        .map(|table| {
            let count = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
                .get_result::<Number>(&mut conn)
                .expect("a count");
            (*table, count.n)
        })
        .collect()
}

fn copy_database(from: &str, to: &str) -> std::process::Output {
    devcenter()
        .args(["copy-database", "--from", from, "--to", to])
        .output()
        .expect("run copy-database")
}

/// Adds a user to the database `--database` names through the command line, with no
/// server running.
fn create_user_offline(database: &str, email: &str) {
    use std::io::Write;
    let mut child = devcenter()
        .args(["create-user", "--email", email, "--name", "Offline User"])
        .args(["--database", database, "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run create-user");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .expect("write the password");
    let output = child.wait_with_output().expect("create-user finishes");
    assert!(output.status.success(), "{}", stderr(&output));
}

/// The audit log as text, one line per event, in id order, on either backend.
const AUDIT_EVENTS: &str = "SELECT CAST(id AS TEXT) || ' ' || action || ' ' || actor_name || ' ' \
     || object_label || ' ' || summary || ' ' || details AS t FROM audit_events ORDER BY id";

#[tokio::test]
async fn copy_database_moves_an_installation_to_postgresql() {
    let Some(target) = PostgresDatabase::try_create() else {
        return;
    };
    // The installation to move: a SQLite server with users, a client application, keys
    // with grants, a v3 credential with scopes, usage at the gate and a signed-in session.
    let mut source = TestApp::init().on_sqlite().spawn().await;
    let admin = source.admin().await;
    // A web hook, whose deliveries of what follows wait in the outbox (its receiver is a
    // closed port this server may not reach).
    let hooked = admin
        .post(
            "/configure/dev_center/web_hooks",
            &[
                ("name", "Moved hook"),
                ("url", "http://127.0.0.1:9/hooks"),
                ("secret_key", "moved-hook-secret-key-0123456789"),
                ("events", "credential.created"),
            ],
        )
        .await;
    assert_eq!(hooked.status, StatusCode::SEE_OTHER, "{}", hooked.body);
    let acme = admin
        .client_application_asking(
            "Acme ATS",
            &["GET /v1/candidates"],
            &["harvest:candidates:list"],
        )
        .await;
    let (_, client_secret, _) = admin.new_v3_credential(&acme.to_string(), "Acme v3").await;
    // Acme connects with OAuth too: its redirect URI and OAuth client.
    let redirect = admin
        .edit_client_application(
            acme,
            "https://acme.example/callback",
            &["harvest:candidates:list"],
        )
        .await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER, "{}", redirect.body);
    let oauth_client = admin.oauth_client(acme).await;
    let partner = admin
        .create_credential("partner", &acme.to_string(), "Acme integration")
        .await;
    assert_eq!(partner.status, StatusCode::OK, "{}", partner.body);
    let (key, key_id) = admin.new_key("harvest", "Moved key").await;
    let granted = admin
        .update_permissions(key_id, &["GET /v1/candidates"])
        .await;
    assert!(granted.status.is_redirection() || granted.status.is_success());
    let developer = source.create_user("dev@example.com", "basic", &[]);
    assert!(developer.status.success(), "{}", stderr(&developer));
    let gate = reqwest::Client::new();
    let used = gate
        .get(format!("http://{}/harvest/v1/candidates", source.address))
        .basic_auth(&key, Some(""))
        .send()
        .await
        .expect("the gate answers");
    assert_eq!(used.status(), StatusCode::OK);
    // A graceful stop writes the gate's pending usage and request log.
    source.stop_gracefully();
    // Someone authorized Acme: an integration, its token family, the code exchanged for
    // it and a refresh token (arranged in SQL, as the consent flow would leave them).
    let admin_id = source.user_id(&source.admin_email);
    let integration = source.insert_integration(
        oauth_client.id,
        admin_id,
        false,
        "harvest:candidates:list",
        "2026-12-05 10:00:00",
    );
    source.execute(&format!(
        "INSERT INTO token_families (integration_id, created_at) \
         VALUES ({integration}, '2026-12-05 10:00:01')"
    ));
    source.execute(&format!(
        "INSERT INTO credential_expiry_notices (credential_id, expires_at, event) \
         VALUES ({key_id}, '2026-12-31 00:00:00', 'credential.expiring')"
    ));
    let hash = |byte: char| format!("x'{}'", byte.to_string().repeat(64));
    source.execute(&format!(
        "INSERT INTO authorization_codes (code_hash, integration_id, redirect_uri, expires_at, \
         used_at, family_id) VALUES ({}, {integration}, 'https://acme.example/callback', \
         '2026-12-05 10:01:00', '2026-12-05 10:00:01', \
         (SELECT max(id) FROM token_families))",
        hash('a')
    ));
    source.execute(&format!(
        "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES \
         ({}, (SELECT max(id) FROM token_families), '2026-12-05 10:00:01', '2026-12-06 10:00:01')",
        hash('b')
    ));

    let sqlite = source
        .sqlite_file()
        .expect("the source is SQLite")
        .to_str()
        .expect("a UTF-8 path")
        .to_owned();
    let before = row_counts(&sqlite);
    for (table, rows) in &before {
        assert!(*rows > 0, "the source has no {table} to copy");
    }
    let events = source.texts(AUDIT_EVENTS);

    let copied = copy_database(&sqlite, target.url());
    let printed = String::from_utf8_lossy(&copied.stdout).into_owned();
    assert!(copied.status.success(), "{}", stderr(&copied));
    for (table, rows) in &before {
        assert!(
            printed
                .lines()
                .any(|l| l == format!("{table}: {rows} rows")),
            "no count for {table} ({rows}): {printed}"
        );
    }
    let total: i64 = before.iter().map(|(_, rows)| rows).sum();
    assert!(
        printed.contains(&format!(
            "copied {total} rows in {} tables",
            COPIED_TABLES.len()
        )),
        "{printed}"
    );
    assert_eq!(row_counts(target.url()), before);
    assert_eq!(row_counts(&sqlite), before, "the source is left as it was");
    for secret in [&source.admin_password, &key, &client_secret] {
        assert!(!printed.contains(secret.as_str()) && !stderr(&copied).contains(secret.as_str()));
    }

    // The copied signing keys are sealed with the source's sealing key: the copy is
    // served with it, as copy-database says.
    let sealing = source.dir.path().join("sealing.key");
    let sealing = format!("--sealing-key-file={}", sealing.display());
    let copy = TestApp::init()
        .on_existing_database(
            TestDatabase::Postgres(target),
            &source.admin_email,
            &source.admin_password,
        )
        .with_flags(&[&sealing])
        .spawn()
        .await;
    assert_eq!(copy.texts(AUDIT_EVENTS), events, "the same audit log");
    assert_eq!(
        copy.texts("SELECT redirect_uris AS t FROM client_applications ORDER BY id"),
        ["https://acme.example/callback"],
        "the redirect URIs moved"
    );

    // The session and the key that signs its cookie moved too: still signed in.
    let admin = admin.at(&copy);
    assert_eq!(admin.credentials().await.status, StatusCode::OK);
    // The same passwords sign in.
    copy.admin().await;
    copy.visitor().sign_in("dev@example.com", PASSWORD).await;

    // The key authenticates at the gate with its grants.
    let at_gate = |path: &str| {
        gate.get(format!("http://{}{path}", copy.address))
            .basic_auth(&key, Some(""))
            .send()
    };
    assert_eq!(
        at_gate("/harvest/v1/candidates")
            .await
            .expect("the gate answers")
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        at_gate("/harvest/v1/jobs")
            .await
            .expect("the gate answers")
            .status(),
        StatusCode::FORBIDDEN
    );

    // Every id sequence is past the copied ids: new rows do not collide.
    let (_, new_key) = admin.new_key("harvest", "After the move").await;
    assert!(new_key > key_id);
    let another = copy.create_user("later@example.com", "basic", &[]);
    assert!(another.status.success(), "{}", stderr(&another));
    assert_eq!(copy.texts(AUDIT_EVENTS)[..events.len()], events[..]);
    assert_eq!(copy.texts(AUDIT_EVENTS).len(), events.len() + 2);
    let next = copy.insert_integration(
        oauth_client.id,
        admin_id,
        true,
        "harvest:candidates:list",
        "2026-12-07 10:00:00",
    );
    assert!(next > integration, "the integrations' ids move on too");
}

#[tokio::test]
async fn copy_database_refuses_a_target_that_holds_data() {
    let Some(target) = PostgresDatabase::try_create() else {
        return;
    };
    let folder = tempfile::tempdir().expect("a temporary folder");
    let sqlite = folder.path().join("devcenter.db");
    let sqlite = sqlite.to_str().expect("a UTF-8 path");
    create_user_offline(sqlite, "first@example.com");
    let first = copy_database(sqlite, target.url());
    assert!(first.status.success(), "{}", stderr(&first));
    let copied = row_counts(target.url());

    create_user_offline(sqlite, "second@example.com");
    let again = copy_database(sqlite, target.url());
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("is not empty (users, audit_events already hold rows)"),
        "{}",
        stderr(&again)
    );
    assert!(stderr(&again).contains("has changed nothing"));
    assert!(again.stdout.is_empty(), "no counts for a refused copy");
    assert_eq!(row_counts(target.url()), copied, "nothing changed");
}

#[tokio::test]
async fn copy_database_refuses_a_different_endpoint_catalogue() {
    let Some(target) = PostgresDatabase::try_create() else {
        return;
    };
    let postgres = devcenter::db::Database::parse(target.url());
    devcenter::db::migrate(&postgres).expect("migrate the target");
    {
        use diesel::RunQueryDsl;
        let mut conn = postgres.connect_to().expect("the target");
        diesel::sql_query("UPDATE endpoints SET path = '/v1/elsewhere' WHERE id = 7")
            .execute(&mut conn)
            .expect("change the target's catalogue");
    }
    let folder = tempfile::tempdir().expect("a temporary folder");
    let sqlite = folder.path().join("devcenter.db");
    let sqlite = sqlite.to_str().expect("a UTF-8 path");
    create_user_offline(sqlite, "first@example.com");

    let refused = copy_database(sqlite, target.url());
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("the endpoint catalogues differ (295 endpoints in the source, 295 in the target: the first difference is at id 7"),
        "{}",
        stderr(&refused)
    );
    assert!(row_counts(target.url()).iter().all(|(_, rows)| *rows == 0));
}

#[test]
fn copy_database_refuses_addresses_the_wrong_way_round() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let sqlite = folder.path().join("devcenter.db");
    let sqlite = sqlite.to_str().expect("a UTF-8 path");

    let not_postgres = copy_database(
        sqlite,
        &folder.path().join("other.db").display().to_string(),
    );
    assert!(!not_postgres.status.success());
    assert!(
        stderr(&not_postgres).contains("--to must be a PostgreSQL URL (postgres://user@host/name)"),
        "{}",
        stderr(&not_postgres)
    );

    let from_postgres = copy_database(
        "postgres://root@127.0.0.1:5432/postgres",
        "postgres://root@127.0.0.1:5432/other",
    );
    assert!(!from_postgres.status.success());
    assert!(
        stderr(&from_postgres).contains("--from must be a SQLite file"),
        "{}",
        stderr(&from_postgres)
    );

    // A missing source is not created (as an empty database to copy).
    let missing = copy_database(sqlite, "postgres://root@127.0.0.1:5432/postgres");
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("there is no SQLite database at"),
        "{}",
        stderr(&missing)
    );
    assert!(!std::path::Path::new(sqlite).exists());
    assert!(!folder.path().join("other.db").exists());
}
