//! The authorization matrix: every route the app serves × every kind of person → what
//! they get. Page routes come from the app's own route table, so a new route cannot be
//! left out; the expected answers are the product's promises, written down here
//! independently of the access module.

use devcenter::web::{Audience, PAGE_ROUTES};
use reqwest::StatusCode;

use crate::helpers::{Page, Person, TestApp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    Basic,
    SiteAdminWithoutDeveloperPermissions,
    JobBoardManager,
    AllCredentialsManager,
    WebHookManager,
    SiteAdminWithEveryPermission,
}

use Role::*;

const ROLES: [Role; 7] = [
    Anonymous,
    Basic,
    SiteAdminWithoutDeveloperPermissions,
    JobBoardManager,
    AllCredentialsManager,
    WebHookManager,
    SiteAdminWithEveryPermission,
];

/// The promise: who may use a route with this audience (for key routes, a key of this kind).
fn allowed(audience: Audience, role: Role, job_board_key: bool) -> bool {
    let all = matches!(role, AllCredentialsManager | SiteAdminWithEveryPermission);
    let site_admin = matches!(
        role,
        SiteAdminWithoutDeveloperPermissions | SiteAdminWithEveryPermission
    );
    match audience {
        Audience::Anyone => true,
        Audience::SignedIn => role != Anonymous,
        Audience::CredentialManagers => all || role == JobBoardManager,
        Audience::KeyTypeManagers => all || (job_board_key && role == JobBoardManager),
        Audience::AllCredentialManagers => all,
        Audience::SiteAdmins => site_admin,
        Audience::Auditors => site_admin || all,
        // The permission, whatever the level: a Site Admin without it is refused.
        Audience::WebHookManagers => matches!(role, WebHookManager | SiteAdminWithEveryPermission),
    }
}

/// Every page route and its audience, as the product promises them, written here apart
/// from the app's table: a route added, removed or given another audience in the app
/// fails `the_route_table_keeps_the_promised_audiences`.
const PROMISED: &[(&str, &str, Audience)] = &[
    ("GET", "/", Audience::Anyone),
    ("GET", "/login", Audience::Anyone),
    ("POST", "/login", Audience::Anyone),
    ("POST", "/logout", Audience::Anyone),
    ("GET", "/configure", Audience::SignedIn),
    ("GET", "/configure/dev_center", Audience::CredentialManagers),
    (
        "GET",
        "/configure/dev_center/credentials",
        Audience::CredentialManagers,
    ),
    (
        "POST",
        "/configure/dev_center/credentials",
        Audience::CredentialManagers,
    ),
    (
        "GET",
        "/configure/dev_center/credentials/new",
        Audience::CredentialManagers,
    ),
    (
        "GET",
        "/configure/dev_center/credentials/{id}/permissions",
        Audience::AllCredentialManagers,
    ),
    (
        "POST",
        "/configure/dev_center/credentials/{id}/permissions",
        Audience::AllCredentialManagers,
    ),
    (
        "GET",
        "/configure/dev_center/credentials/{id}/scopes",
        Audience::AllCredentialManagers,
    ),
    (
        "POST",
        "/configure/dev_center/credentials/{id}/scopes",
        Audience::AllCredentialManagers,
    ),
    (
        "GET",
        "/configure/dev_center/credentials/{id}/requests",
        Audience::KeyTypeManagers,
    ),
    (
        "GET",
        "/configure/dev_center/credentials/{id}/revoke",
        Audience::KeyTypeManagers,
    ),
    (
        "POST",
        "/configure/dev_center/credentials/{id}/revoke",
        Audience::KeyTypeManagers,
    ),
    (
        "GET",
        "/configure/dev_center/credentials/{id}/rotate",
        Audience::KeyTypeManagers,
    ),
    (
        "POST",
        "/configure/dev_center/credentials/{id}/rotate",
        Audience::KeyTypeManagers,
    ),
    (
        "POST",
        "/configure/dev_center/credentials/{id}/end_overlap",
        Audience::KeyTypeManagers,
    ),
    (
        "GET",
        "/configure/dev_center/credentials/{id}/trusted_ips",
        Audience::KeyTypeManagers,
    ),
    (
        "POST",
        "/configure/dev_center/credentials/{id}/trusted_ips",
        Audience::KeyTypeManagers,
    ),
    (
        "POST",
        "/configure/dev_center/credentials/{id}/enable",
        Audience::KeyTypeManagers,
    ),
    (
        "GET",
        "/configure/dev_center/credentials/{id}/expiry",
        Audience::KeyTypeManagers,
    ),
    (
        "POST",
        "/configure/dev_center/credentials/{id}/expiry",
        Audience::KeyTypeManagers,
    ),
    (
        "GET",
        "/configure/dev_center/settings",
        Audience::SiteAdmins,
    ),
    (
        "POST",
        "/configure/dev_center/settings",
        Audience::SiteAdmins,
    ),
    (
        "GET",
        "/configure/dev_center/client_applications",
        Audience::AllCredentialManagers,
    ),
    (
        "POST",
        "/configure/dev_center/client_applications",
        Audience::AllCredentialManagers,
    ),
    (
        "GET",
        "/configure/dev_center/client_applications/{id}",
        Audience::AllCredentialManagers,
    ),
    (
        "POST",
        "/configure/dev_center/client_applications/{id}",
        Audience::AllCredentialManagers,
    ),
    (
        "POST",
        "/configure/dev_center/client_applications/{id}/oauth_client",
        Audience::AllCredentialManagers,
    ),
    (
        "GET",
        "/configure/dev_center/integrations",
        Audience::AllCredentialManagers,
    ),
    (
        "GET",
        "/configure/dev_center/integrations/{id}/disconnect",
        Audience::AllCredentialManagers,
    ),
    (
        "POST",
        "/configure/dev_center/integrations/{id}/disconnect",
        Audience::AllCredentialManagers,
    ),
    (
        "GET",
        "/configure/dev_center/web_hooks",
        Audience::WebHookManagers,
    ),
    (
        "POST",
        "/configure/dev_center/web_hooks",
        Audience::WebHookManagers,
    ),
    (
        "GET",
        "/configure/dev_center/web_hooks/new",
        Audience::WebHookManagers,
    ),
    (
        "GET",
        "/configure/dev_center/web_hooks/{id}",
        Audience::WebHookManagers,
    ),
    (
        "POST",
        "/configure/dev_center/web_hooks/{id}",
        Audience::WebHookManagers,
    ),
    (
        "POST",
        "/configure/dev_center/web_hooks/{id}/ping",
        Audience::WebHookManagers,
    ),
    (
        "POST",
        "/configure/dev_center/web_hooks/{id}/disable",
        Audience::WebHookManagers,
    ),
    (
        "POST",
        "/configure/dev_center/web_hooks/{id}/enable",
        Audience::WebHookManagers,
    ),
    (
        "GET",
        "/configure/dev_center/web_hooks/{id}/deliveries",
        Audience::WebHookManagers,
    ),
    ("GET", "/configure/users", Audience::SiteAdmins),
    ("POST", "/configure/users", Audience::SiteAdmins),
    ("GET", "/configure/users/new", Audience::SiteAdmins),
    ("GET", "/configure/users/{id}", Audience::SiteAdmins),
    ("POST", "/configure/users/{id}", Audience::SiteAdmins),
    ("GET", "/configure/audit_log", Audience::Auditors),
    ("GET", "/configure/audit_log/export", Audience::Auditors),
    ("GET", "/oauth/authorize", Audience::SignedIn),
    ("POST", "/oauth/authorize", Audience::SignedIn),
];

/// The promised audience of a route the app serves.
fn promised(method: &str, path: &str) -> Audience {
    PROMISED
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, audience)| *audience)
        .unwrap_or_else(|| panic!("{method} {path} is served but promised to no one"))
}

#[test]
fn the_route_table_keeps_the_promised_audiences() {
    let served: Vec<(&str, &str, Audience)> = PAGE_ROUTES
        .iter()
        .map(|r| (r.method, r.path, r.audience))
        .collect();
    assert_eq!(
        served, PROMISED,
        "the app's route table and its promises differ"
    );
}

struct Fixtures {
    harvest: i32,
    /// For the v3 credentials' pages (Manage Scopes).
    harvest_v3: i32,
    job_board: i32,
    user: i32,
    client_application: i32,
    /// An integration of the client application's OAuth client, inserted in SQL.
    integration: i32,
    /// A partner's valid authorization request (its query), so the consent page is shown.
    authorize_query: String,
    /// A web hook (to a closed port on this machine, so its ping fails at once).
    web_hook: i32,
}

/// The route's path with its `{id}` filled for the object it is about.
fn concrete(path: &str, f: &Fixtures, job_board_key: bool) -> String {
    if path == "/oauth/authorize" {
        return format!("{path}?{}", f.authorize_query);
    }
    let id = if path.starts_with("/configure/users/") {
        f.user
    } else if path.starts_with("/configure/dev_center/client_applications/") {
        f.client_application
    } else if path.starts_with("/configure/dev_center/integrations/") {
        f.integration
    } else if path.starts_with("/configure/dev_center/web_hooks/") {
        f.web_hook
    } else if path.ends_with("/scopes") {
        f.harvest_v3
    } else if job_board_key {
        f.job_board
    } else {
        f.harvest
    };
    path.replace("{id}", &id.to_string())
}

async fn request(person: &Person, method: &str, path: &str) -> Page {
    match method {
        "GET" => person.get(path).await,
        "POST" => person.post(path, &[]).await,
        other => panic!("no requests of method {other} in the matrix"),
    }
}

/// `hidden`: the person may use the route, but not for this key's type.
fn check(page: &Page, role: Role, method: &str, path: &str, allowed: bool, hidden: bool) {
    let case = format!("{role:?} {method} {path}");
    for header in [
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
    ] {
        assert!(
            page.headers.contains_key(header),
            "{case}: {header} on a {}",
            page.status
        );
    }
    let to_sign_in = page
        .location
        .as_deref()
        .is_some_and(|l| l.starts_with("/login"));
    if path == "/logout" {
        assert_eq!(
            (page.status, to_sign_in),
            (StatusCode::SEE_OTHER, true),
            "{case}"
        );
    } else if allowed {
        assert!(
            !to_sign_in
                && ![
                    StatusCode::FORBIDDEN,
                    StatusCode::NOT_FOUND,
                    StatusCode::UNAUTHORIZED
                ]
                .contains(&page.status)
                && page.status.as_u16() < 500,
            "{case}: {} {:?}",
            page.status,
            page.location
        );
    } else if role == Anonymous {
        assert_eq!(
            (page.status, to_sign_in),
            (StatusCode::SEE_OTHER, true),
            "{case}"
        );
    } else if hidden {
        assert_eq!(
            page.status,
            StatusCode::NOT_FOUND,
            "{case}: not found, like a missing key"
        );
        assert!(
            page.body.contains("Back to Configure"),
            "{case}: a friendly 404 page"
        );
    } else {
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{case}");
        assert!(
            page.body.contains("Back to Configure"),
            "{case}: a friendly 403 page"
        );
    }
}

#[tokio::test]
async fn every_route_for_every_kind_of_person() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, harvest) = admin.new_key("harvest", "Matrix Harvest key").await;
    let (_, job_board) = admin.new_key("job_board", "Matrix Job Board key").await;
    let (_, _, harvest_v3) = admin.new_v3_credential("", "Matrix v3 credential").await;
    let client_application = admin.client_application("Matrix partner", &[]).await;
    let oauth_client = admin.oauth_client(client_application).await;
    let integration = app.insert_integration(
        oauth_client.id,
        app.user_id(&app.admin_email),
        true,
        "harvest:candidates:list",
        "2026-12-05 10:00:00",
    );
    let oauth_partner = admin
        .client_application_asking("Matrix OAuth partner", &[], &["harvest:jobs:list"])
        .await;
    let client_id = app.register_oauth_client(oauth_partner, &["https://partner.example/cb"]);
    let people = [
        (Anonymous, None),
        (Basic, Some(("basic@example.com", "basic", vec![]))),
        (
            SiteAdminWithoutDeveloperPermissions,
            Some(("site.admin@example.com", "site_admin", vec![])),
        ),
        (
            JobBoardManager,
            Some((
                "job.board@example.com",
                "basic",
                vec!["manage_job_board_credentials"],
            )),
        ),
        (
            AllCredentialsManager,
            Some((
                "all.keys@example.com",
                "basic",
                vec!["manage_all_credentials"],
            )),
        ),
        (
            WebHookManager,
            Some(("hooks@example.com", "basic", vec!["manage_webhooks"])),
        ),
        (SiteAdminWithEveryPermission, None),
    ];
    let mut signed_in = Vec::new();
    for (role, account) in people {
        let person = match (role, account) {
            (Anonymous, _) => {
                let visitor = app.visitor();
                visitor.get("/login").await; // the sign-in form's token, for the POSTs
                visitor
            }
            (_, Some((email, level, permissions))) => app.user(email, level, &permissions).await,
            (_, None) => app.admin().await,
        };
        signed_in.push((role, person));
    }
    let fixtures = Fixtures {
        harvest,
        harvest_v3,
        job_board,
        user: app.user_id("basic@example.com"),
        client_application,
        integration,
        authorize_query: format!(
            "response_type=code&client_id={client_id}&redirect_uri=https%3A%2F%2Fpartner.example%2Fcb&state=s"
        ),
        web_hook: {
            let added = admin
                .post(
                    "/configure/dev_center/web_hooks",
                    &[
                        ("name", "Matrix hook"),
                        ("url", "http://127.0.0.1:9/hooks"),
                        ("secret_key", "matrix-secret-key-0123456789"),
                        ("events", "credential.created"),
                    ],
                )
                .await;
            assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
            i32::try_from(app.count("SELECT MAX(id) FROM web_hooks")).expect("an id")
        },
    };
    assert!(
        PAGE_ROUTES.len() >= 22,
        "the route table lists every page route"
    );

    // Signing out comes last for each person, so every other route sees them signed in.
    let mut routes: Vec<_> = PAGE_ROUTES.iter().collect();
    routes.sort_by_key(|r| r.path == "/logout");
    let mut checked = 0;
    for (role, person) in &signed_in {
        for route in &routes {
            let audience = promised(route.method, route.path);
            let kinds: &[bool] = if audience == Audience::KeyTypeManagers {
                &[true, false]
            } else {
                &[false]
            };
            for &job_board_key in kinds {
                let path = concrete(route.path, &fixtures, job_board_key);
                let page = request(person, route.method, &path).await;
                let may = allowed(audience, *role, job_board_key);
                let hidden =
                    audience == Audience::KeyTypeManagers && !may && allowed(audience, *role, true);
                check(&page, *role, route.method, &path, may, hidden);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, PAGE_ROUTES.len() * ROLES.len());
    assert_eq!(signed_in.iter().map(|(r, _)| *r).collect::<Vec<_>>(), ROLES);

    // Outside the pages: health and static files for anyone; the gate only for API keys,
    // whatever session cookie comes along.
    for person in [app.visitor(), app.admin().await] {
        assert_eq!(person.get("/healthz").await.status, StatusCode::OK);
        assert_eq!(person.get("/static/app.css").await.status, StatusCode::OK);
        assert_eq!(
            person.get("/harvest/v1/candidates").await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            person.get("/partner/anything").await.status,
            StatusCode::UNAUTHORIZED
        );
        let apply = person
            .client
            .post(format!("{}/boards-api/v1/boards/acme/jobs/1", person.base))
            .send()
            .await;
        assert_eq!(
            apply.map(|r| r.status()).ok(),
            Some(StatusCode::UNAUTHORIZED)
        );
    }
}
