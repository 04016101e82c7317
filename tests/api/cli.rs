//! The command line: adding users, and what `--help` documents.

use crate::helpers::{PASSWORD, TestApp, devcenter};

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
    ] {
        assert!(
            text.contains(expected),
            "serve --help lacks {expected}: {text}"
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
    let first = migrate();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        String::from_utf8_lossy(&first.stdout).contains("is up to date: 6 migrations applied now."),
        "{}",
        String::from_utf8_lossy(&first.stdout)
    );
    let again = migrate();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 migrations applied now."));
}
