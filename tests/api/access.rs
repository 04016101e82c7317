//! Who may use each credential route: decided by developer permissions, whatever the level.

use reqwest::StatusCode;

use crate::helpers::{CREDENTIALS, Person, TestApp};

/// The credential routes, each with what a person would do there.
#[derive(Debug, Clone, Copy)]
enum Route {
    DevCenter,
    List,
    NewDialog,
    CreateHarvest,
    CreateJobBoard,
    CreatePartner,
    Permissions,
    UpdatePermissions,
    RevokeHarvest,
    RevokeJobBoard,
    ClientApplications,
    AddClientApplication,
}

const ROUTES: [Route; 12] = [
    Route::DevCenter,
    Route::List,
    Route::NewDialog,
    Route::CreateHarvest,
    Route::CreateJobBoard,
    Route::CreatePartner,
    Route::Permissions,
    Route::UpdatePermissions,
    Route::RevokeHarvest,
    Route::RevokeJobBoard,
    Route::ClientApplications,
    Route::AddClientApplication,
];

struct Fixtures {
    harvest: i32,
    job_board: i32,
    partner: i32,
}

async fn call(person: &Person, route: Route, f: &Fixtures, n: usize) -> StatusCode {
    let partner = f.partner.to_string();
    let page = match route {
        Route::DevCenter => person.get("/configure/dev_center").await,
        Route::List => person.get(CREDENTIALS).await,
        Route::NewDialog => person.get(&format!("{CREDENTIALS}/new")).await,
        Route::CreateHarvest => person.create_credential("harvest", "", "Matrix").await,
        Route::CreateJobBoard => person.create_credential("job_board", "", "Matrix").await,
        Route::CreatePartner => {
            person
                .create_credential("partner", &partner, "Matrix")
                .await
        }
        Route::Permissions => person.permissions(f.harvest).await,
        Route::UpdatePermissions => {
            person
                .update_permissions(f.harvest, &["GET /v1/jobs"])
                .await
        }
        Route::RevokeHarvest => person.revoke(f.harvest).await,
        Route::RevokeJobBoard => person.revoke(f.job_board).await,
        Route::ClientApplications => {
            person
                .get("/configure/dev_center/client_applications")
                .await
        }
        Route::AddClientApplication => {
            person
                .add_client_application(&format!("Matrix {n}"), &[])
                .await
        }
    };
    if page.status == StatusCode::FORBIDDEN {
        assert!(
            page.body.contains("Back to Configure"),
            "a 403 is a friendly page"
        );
    }
    page.status
}

const OK: StatusCode = StatusCode::OK;
const MOVED: StatusCode = StatusCode::SEE_OTHER;
const DENIED: StatusCode = StatusCode::FORBIDDEN;
/// A key the person may not manage is not found, like a missing one.
const HIDDEN: StatusCode = StatusCode::NOT_FOUND;

#[tokio::test]
async fn each_role_against_each_credential_route() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let partner = admin.client_application("Acme", &[]).await;
    let (_, harvest) = admin.new_key("harvest", "Harvest fixture").await;
    let (_, job_board) = admin.new_key("job_board", "Job Board fixture").await;
    let fixtures = Fixtures {
        harvest,
        job_board,
        partner,
    };

    let nobody = [DENIED; 12];
    // In ROUTES order; revocations come after everything else a role does to the key.
    let table: Vec<(&str, &str, Vec<&str>, [StatusCode; 12])> = vec![
        ("basic@example.com", "basic", vec![], nobody),
        ("job.admin@example.com", "job_admin", vec![], nobody),
        ("site.admin@example.com", "site_admin", vec![], nobody),
        (
            "webhooks@example.com",
            "site_admin",
            vec!["manage_webhooks"],
            nobody,
        ),
        (
            "job.board@example.com",
            "basic",
            vec!["manage_job_board_credentials"],
            [
                OK, OK, OK, DENIED, OK, DENIED, DENIED, DENIED, HIDDEN, MOVED, DENIED, DENIED,
            ],
        ),
        (
            "all.keys@example.com",
            "basic",
            vec!["manage_all_credentials"],
            [OK, OK, OK, OK, OK, OK, OK, MOVED, MOVED, MOVED, OK, MOVED],
        ),
    ];
    for (n, (email, level, permissions, expected)) in table.iter().enumerate() {
        let person = app.user(email, level, permissions).await;
        for (route, want) in ROUTES.iter().zip(expected) {
            let got = call(&person, *route, &fixtures, n).await;
            assert_eq!(
                got, *want,
                "{email} ({level}, {permissions:?}) on {route:?}"
            );
        }
    }
    // The first Site Admin holds every permission (fresh keys: the last role revoked them).
    let (_, harvest) = admin.new_key("harvest", "Harvest fixture").await;
    let (_, job_board) = admin.new_key("job_board", "Job Board fixture").await;
    let fixtures = Fixtures {
        harvest,
        job_board,
        partner,
    };
    for route in ROUTES {
        let got = call(&admin, route, &fixtures, 99).await;
        assert!(got == OK || got == MOVED, "admin on {route:?}: {got}");
    }
}

#[tokio::test]
async fn refused_requests_change_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, harvest) = admin.new_key("harvest", "Keep").await;
    let basic = app.user("basic@example.com", "site_admin", &[]).await;
    basic.create_credential("job_board", "", "Sneaky").await;
    basic
        .update_permissions(harvest, &["GET /v1/candidates"])
        .await;
    basic.revoke(harvest).await;
    basic.add_client_application("Sneaky", &[]).await;
    assert_eq!(app.count("SELECT count(*) FROM credentials"), 1);
    assert_eq!(app.count("SELECT count(*) FROM credential_endpoints"), 0);
    assert_eq!(
        app.count("SELECT count(*) FROM credentials WHERE revoked_at IS NOT NULL"),
        0
    );
    assert_eq!(app.count("SELECT count(*) FROM client_applications"), 0);
}

#[tokio::test]
async fn a_job_board_manager_sees_and_creates_job_board_keys_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, harvest) = admin.new_key("harvest", "Secret Harvest key").await;
    let (_, job_board) = admin.new_key("job_board", "Careers site").await;
    let manager = app
        .user(
            "job.board@example.com",
            "site_admin",
            &["manage_job_board_credentials"],
        )
        .await;

    let list = manager.credentials().await;
    let ids = list.attrs(r#"[data-testid="credential-row"]"#, "data-credential-id");
    assert_eq!(ids, vec![job_board.to_string()]);
    assert!(!list.body.contains("Secret Harvest key"));
    assert_eq!(
        manager
            .get(&format!("{CREDENTIALS}/{harvest}/revoke"))
            .await
            .status,
        HIDDEN
    );

    let dialog = manager.get(&format!("{CREDENTIALS}/new")).await;
    assert_eq!(dialog.texts("#api_type option"), vec!["Job Board"]);
    assert!(!dialog.has("#client_application_id"));
    assert_eq!(dialog.text(".dialog-content button[type=submit]"), "Create");
}

#[tokio::test]
async fn anonymous_people_are_sent_to_sign_in() {
    let app = TestApp::spawn().await;
    let visitor = app.visitor();
    for path in [
        "/configure",
        "/configure/dev_center",
        CREDENTIALS,
        &format!("{CREDENTIALS}/new"),
        &format!("{CREDENTIALS}/1/permissions"),
    ] {
        let page = visitor.get(path).await;
        assert_eq!(page.status, MOVED, "{path}");
        let location = page.location.expect("a redirect");
        assert!(location.starts_with("/login"), "{path}: {location}");
    }
    let page = visitor.get(CREDENTIALS).await;
    assert_eq!(
        page.location.as_deref(),
        Some("/login?next=%2Fconfigure%2Fdev_center%2Fcredentials")
    );
    visitor.get("/login").await; // the sign-in form gives the visitor a token
    let posted = visitor
        .create_credential("job_board", "", "Anonymous")
        .await;
    assert_eq!(posted.status, MOVED);
    assert_eq!(app.count("SELECT count(*) FROM credentials"), 0);
}
