//! The audit log: every change recorded with its details in the change's own transaction,
//! read newest first with filters, exported as CSV, and never holding a key.

use reqwest::StatusCode;

use crate::helpers::{CREDENTIALS, TestApp};

const ALL: &str = "manage_all_credentials";
const JOB_BOARD: &str = "manage_job_board_credentials";

/// One audit row's column, by SQL, for the newest event of `action`.
fn newest(app: &TestApp, action: &str, column: &str) -> String {
    let sql = format!(
        "SELECT {column} FROM audit_events WHERE action = '{action}' ORDER BY id DESC LIMIT 1"
    );
    text(app, &sql)
}

fn text(app: &TestApp, sql: &str) -> String {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    diesel::sql_query(format!("SELECT ({sql}) AS t"))
        .get_result::<Text>(&mut app.connection())
        .expect("a text")
        .t
}

fn details(app: &TestApp, action: &str) -> serde_json::Value {
    serde_json::from_str(&newest(app, action, "details")).expect("JSON details")
}

#[tokio::test]
async fn every_change_to_keys_is_recorded_with_who_where_and_what() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let me = app.user_id(&app.admin_email);
    let partner = admin
        .client_application("Acme Checks", &["GET /v1/candidates", "GET /v1/jobs"])
        .await;
    let created = admin
        .create_credential("harvest", &partner.to_string(), "Background checks")
        .await;
    let (key, id) = created.api_key();
    let changed = admin
        .update_permissions(id, &["GET /v1/candidates", "GET /v1/applications"])
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    // The same set again changes nothing and records nothing.
    admin
        .update_permissions(id, &["GET /v1/applications", "GET /v1/candidates"])
        .await;
    // A refused update writes nothing either.
    let refused = admin.update_permissions(id, &["GET /v1/nothing"]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(admin.revoke(id).await.status, StatusCode::SEE_OTHER);
    admin.revoke(id).await;

    assert_eq!(
        app.texts("SELECT action AS t FROM audit_events ORDER BY id")
            .join(" "),
        "user_created client_application_created credential_created \
         credential_grants_changed credential_revoked"
    );
    for action in [
        "client_application_created",
        "credential_created",
        "credential_grants_changed",
        "credential_revoked",
    ] {
        assert_eq!(
            newest(&app, action, "CAST(actor_id AS TEXT)"),
            me.to_string()
        );
        assert_eq!(newest(&app, action, "actor_address"), "127.0.0.1");
        assert!(newest(&app, action, "actor_name").contains(&app.admin_email));
    }
    let app_details = details(&app, "client_application_created");
    assert_eq!(app_details["name"], "Acme Checks");
    assert_eq!(
        app_details["endpoints"],
        serde_json::json!(["GET /v1/candidates", "GET /v1/jobs"])
    );

    assert_eq!(
        newest(&app, "credential_created", "CAST(object_id AS TEXT)"),
        id.to_string()
    );
    let created = details(&app, "credential_created");
    assert_eq!(created["api_type"], "harvest");
    assert_eq!(created["description"], "Background checks");
    assert_eq!(created["client_application"]["name"], "Acme Checks");
    assert_eq!(
        created["endpoints_granted"],
        serde_json::json!(["GET /v1/candidates", "GET /v1/jobs"])
    );

    let grants = details(&app, "credential_grants_changed");
    assert_eq!(grants["added"], serde_json::json!(["GET /v1/applications"]));
    assert_eq!(grants["removed"], serde_json::json!(["GET /v1/jobs"]));
    assert!(
        newest(&app, "credential_grants_changed", "summary").contains("“GET /v1/applications”")
    );
    assert_eq!(details(&app, "credential_revoked")["api_type"], "harvest");

    // Never a key: not in the table, the page or the export.
    assert!(!app.audit_text().contains(&key));
    assert!(!app.audit_text().contains(&key[key.len() - 12..]));
    let page = admin.audit_log(&[]).await;
    assert!(!page.body.contains(&key));
    let export = admin.audit_export(&[]).await;
    assert!(!export.body.contains(&key));
    assert!(!export.body.contains(&key[key.len() - 12..]));

    // The audit log is append-only.
    let mut conn = app.connection();
    use diesel::RunQueryDsl;
    assert!(
        diesel::sql_query("DELETE FROM audit_events")
            .execute(&mut conn)
            .is_err()
    );
    assert!(
        diesel::sql_query("UPDATE audit_events SET summary = 'nothing happened'")
            .execute(&mut conn)
            .is_err()
    );
}

#[tokio::test]
async fn every_change_to_users_is_recorded_before_and_after() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // The first start and the command line record who they added.
    assert_eq!(newest(&app, "user_created", "actor_name"), "First start");
    app.create_user("dev@example.com", "basic", &[JOB_BOARD]);
    assert_eq!(newest(&app, "user_created", "actor_name"), "Command line");
    let created = details(&app, "user_created");
    assert_eq!(created["email"], "dev@example.com");
    assert_eq!(created["level"], "basic");
    assert_eq!(created["permissions"], serde_json::json!([JOB_BOARD]));
    let id = app.user_id("dev@example.com");

    admin.update_user(id, "site_admin", &[ALL], false).await;
    let level = details(&app, "user_level_changed");
    assert_eq!(
        (level["before"].as_str(), level["after"].as_str()),
        (Some("basic"), Some("site_admin"))
    );
    let permissions = details(&app, "user_permissions_changed");
    assert_eq!(permissions["before"], serde_json::json!([JOB_BOARD]));
    assert_eq!(permissions["after"], serde_json::json!([ALL]));
    assert_eq!(permissions["added"], serde_json::json!([ALL]));
    assert_eq!(permissions["removed"], serde_json::json!([JOB_BOARD]));
    assert!(
        newest(&app, "user_permissions_changed", "summary")
            .contains("granted “Can manage ALL organization's API Credentials”")
    );

    admin.update_user(id, "site_admin", &[ALL], true).await;
    admin.update_user(id, "site_admin", &[ALL], false).await;
    assert_eq!(details(&app, "user_disabled")["disabled"], true);
    assert_eq!(details(&app, "user_enabled")["disabled"], false);
    for action in [
        "user_level_changed",
        "user_permissions_changed",
        "user_disabled",
        "user_enabled",
    ] {
        assert_eq!(
            newest(&app, action, "CAST(object_id AS TEXT)"),
            id.to_string()
        );
        assert_eq!(newest(&app, action, "actor_address"), "127.0.0.1");
    }
    // Saving without a change records nothing.
    let before = app.count("SELECT count(*) FROM audit_events");
    admin.update_user(id, "site_admin", &[ALL], false).await;
    assert_eq!(app.count("SELECT count(*) FROM audit_events"), before);

    // Added through Configure → Users: the admin is the actor; the password is not there.
    let added = admin
        .add_user("New Person", "new@example.com", "basic", &[])
        .await;
    let password = added.text(r#"[data-testid="user-password"]"#);
    assert_eq!(
        newest(&app, "user_created", "CAST(actor_id AS TEXT)"),
        app.user_id(&app.admin_email).to_string()
    );
    assert!(!app.audit_text().contains(&password));

    // A user's history is one click from their page.
    let page = admin.user_page(id).await;
    let history = page.attrs(r#"[data-testid="user-history"]"#, "href")[0].clone();
    let history = admin.get(&history).await;
    assert_eq!(history.texts(r#"[data-testid="audit-row"]"#).len(), 5);
}

#[tokio::test]
async fn throttled_sign_in_failures_can_be_recorded() {
    let app = TestApp::spawn().await;
    let pool = devcenter::db::open(&devcenter::db::Database::parse(&app.database_argument()))
        .expect("open the database");
    let mut conn = pool.get().expect("a connection");
    let devcenter::use_cases::Committed { .. } = devcenter::use_cases::sign_in::record_throttled(
        &mut conn,
        Some("203.0.113.9"),
        &app.admin_email,
        10,
    )
    .expect("recorded");
    assert_eq!(
        newest(&app, "sign_in_throttled", "actor_address"),
        "203.0.113.9"
    );
    assert_eq!(
        newest(&app, "sign_in_throttled", "CAST(object_id AS TEXT)"),
        app.user_id(&app.admin_email).to_string()
    );
    assert_eq!(details(&app, "sign_in_throttled")["failures"], 10);
    let page = app
        .admin()
        .await
        .audit_log(&[("action", "sign_in_throttled")])
        .await;
    assert!(
        page.text(r#"[data-testid="audit-summary"]"#)
            .contains("203.0.113.9")
    );
}

#[tokio::test]
async fn the_audit_log_filters_by_actor_action_date_and_credential() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let dev = app.user("dev@example.com", "basic", &[ALL]).await;
    let dev_id = app.user_id("dev@example.com");
    let (_, first) = admin.new_key("job_board", "Careers site").await;
    let (_, second) = dev.new_key("harvest", "Reporting").await;
    dev.update_permissions(second, &["GET /v1/jobs"]).await;
    dev.revoke(first).await;

    let all = admin.audit_log(&[]).await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(all.has(r#"[data-testid="nav-audit-log"][aria-current="page"]"#));
    // Newest first.
    assert_eq!(
        all.texts(r#"[data-testid="audit-action"]"#),
        vec![
            "API key revoked",
            "Endpoint grants changed",
            "API key created",
            "API key created",
            "User added",
            "User added",
        ]
    );
    let by_dev = admin.audit_log(&[("actor", &dev_id.to_string())]).await;
    assert_eq!(by_dev.texts(r#"[data-testid="audit-row"]"#).len(), 3);
    assert!(
        by_dev
            .texts(r#"[data-testid="audit-row"]"#)
            .iter()
            .all(|r| r.contains("dev@example.com"))
    );
    assert_eq!(
        by_dev.attrs("#actor option[selected]", "value"),
        vec![dev_id.to_string()]
    );
    let created = admin.audit_log(&[("action", "credential_created")]).await;
    assert_eq!(created.texts(r#"[data-testid="audit-row"]"#).len(), 2);
    let both = admin
        .audit_log(&[
            ("actor", &dev_id.to_string()),
            ("action", "credential_created"),
        ])
        .await;
    assert_eq!(both.texts(r#"[data-testid="audit-row"]"#).len(), 1);

    let today = chrono::Utc::now().date_naive();
    let (yesterday, tomorrow) = (today.pred_opt().unwrap(), today.succ_opt().unwrap());
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let in_range = admin
        .audit_log(&[("from", &day(yesterday)), ("to", &day(today))])
        .await;
    assert_eq!(in_range.texts(r#"[data-testid="audit-row"]"#).len(), 6);
    let past = admin.audit_log(&[("to", &day(yesterday))]).await;
    assert!(!past.has(r#"[data-testid="audit-row"]"#));
    let future = admin.audit_log(&[("from", &day(tomorrow))]).await;
    assert!(!future.has(r#"[data-testid="audit-row"]"#));
    let nonsense = admin.audit_log(&[("from", "last week")]).await;
    assert_eq!(nonsense.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nonsense.field_error("from").contains("Enter a date"));

    // A credential's history is reachable from its row.
    let list = admin.get(CREDENTIALS).await;
    let link = list.attrs(
        &format!(r#"[data-credential-id="{second}"] [data-testid="credential-history"]"#),
        "href",
    );
    assert_eq!(
        link,
        vec![format!("/configure/audit_log?credential={second}")]
    );
    let history = admin.get(&link[0]).await;
    assert_eq!(
        history.texts(r#"[data-testid="audit-action"]"#),
        vec!["Endpoint grants changed", "API key created"]
    );
    assert!(history.has(r#"[data-testid="object-history"]"#));
}

#[tokio::test]
async fn the_export_is_the_filtered_view_as_csv() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (key, id) = admin
        .new_key("harvest", "=HYPERLINK(\"http://evil\")")
        .await;
    admin.update_permissions(id, &["GET /v1/jobs"]).await;
    admin.new_key("job_board", "Careers, \"main\" site").await;

    let export = admin
        .audit_export(&[("action", "credential_created")])
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export.headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    assert!(
        export.headers["content-disposition"]
            .to_str()
            .unwrap_or("")
            .starts_with("attachment; filename=\"audit_log-")
    );
    let mut reader = csv::Reader::from_reader(export.body.as_bytes());
    let headers = reader.headers().expect("headers").clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        vec![
            "time_utc",
            "actor",
            "actor_user_id",
            "actor_address",
            "action",
            "object_type",
            "object_id",
            "object",
            "summary",
            "details"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| &r[4] == "credential_created"));
    // Newest first, commas and quotes intact, formulas neutralised.
    assert_eq!(&rows[0][7], "Careers, \"main\" site");
    assert_eq!(&rows[1][7], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(&rows[1][6], &id.to_string());
    assert_eq!(&rows[1][3], "127.0.0.1");
    assert!(!export.body.contains(&key));

    // The page's Export link carries its filters.
    let page = admin.audit_log(&[("action", "credential_created")]).await;
    assert_eq!(
        page.attrs(r#"[data-testid="export-audit-log"]"#, "href"),
        vec!["/configure/audit_log/export?action=credential_created"]
    );
    let everything = admin.audit_export(&[]).await;
    let count = csv::Reader::from_reader(everything.body.as_bytes())
        .records()
        .count();
    assert_eq!(count as i64, app.count("SELECT count(*) FROM audit_events"));
}

#[tokio::test]
async fn site_admins_and_managers_of_all_credentials_read_the_audit_log() {
    let app = TestApp::spawn().await;
    let readers = [
        app.user("admin2@example.com", "site_admin", &[]).await,
        app.user("all@example.com", "basic", &[ALL]).await,
    ];
    for person in &readers {
        assert_eq!(person.audit_log(&[]).await.status, StatusCode::OK);
        assert_eq!(person.audit_export(&[]).await.status, StatusCode::OK);
        assert!(
            person
                .get("/configure")
                .await
                .has(r#"[data-testid="nav-audit-log"]"#)
        );
    }
    let others = [
        app.user("jobs@example.com", "job_admin", &[JOB_BOARD])
            .await,
        app.user("basic@example.com", "basic", &[]).await,
    ];
    for person in &others {
        let page = person.audit_log(&[]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("The audit log is for Site Admins"));
        assert_eq!(person.audit_export(&[]).await.status, StatusCode::FORBIDDEN);
        assert!(
            !person
                .get("/configure")
                .await
                .has(r#"[data-testid="nav-audit-log"]"#)
        );
    }
    // A job-board manager sees no History link on their keys.
    let (_, id) = others[0].new_key("job_board", "Careers").await;
    let list = others[0].credentials().await;
    assert!(list.has(&format!(r#"[data-credential-id="{id}"]"#)));
    assert!(!list.has(r#"[data-testid="credential-history"]"#));
}

#[tokio::test]
async fn every_audit_word_the_app_knows_is_a_row_the_database_accepts() {
    use devcenter::rules::words::{AuditAction, ObjectKind, ProductWord};
    let app = TestApp::spawn().await;
    let actions = app.texts("SELECT action AS t FROM audit_actions");
    for action in AuditAction::ALL {
        assert!(
            actions.iter().any(|a| a == action.as_str()),
            "{} needs a row in audit_actions (a migration's INSERT)",
            action.as_str()
        );
    }
    let kinds = app.texts("SELECT object_type AS t FROM audit_object_kinds");
    for kind in ObjectKind::ALL {
        assert!(
            kinds.iter().any(|k| k == kind.as_str()),
            "{} needs a row in audit_object_kinds",
            kind.as_str()
        );
    }
    assert_eq!(
        actions.len(),
        AuditAction::ALL.len(),
        "no word the app has forgotten"
    );
}
