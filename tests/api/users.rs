//! Configure → Users: Site Admins see and change users' levels and developer permissions;
//! changes apply on the user's next request; the last Site Admin stays.

use reqwest::StatusCode;

use crate::helpers::{CREDENTIALS, PASSWORD, TestApp};

const ALL: &str = "manage_all_credentials";
const JOB_BOARD: &str = "manage_job_board_credentials";
const WEBHOOKS: &str = "manage_webhooks";

#[tokio::test]
async fn a_site_admin_sees_every_user_with_level_permissions_and_status() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create_user("ada.lovelace@example.com", "job_admin", &[ALL, WEBHOOKS]);
    app.create_user("grace.hopper@example.com", "basic", &[]);
    let grace = app.user_id("grace.hopper@example.com");
    app.execute(&format!(
        "UPDATE users SET disabled = TRUE WHERE id = {grace}"
    ));

    let page = admin.users("", 1).await;
    assert_eq!(page.status, StatusCode::OK);
    let rows = page.attrs(r#"[data-testid="user-row"]"#, "data-user-id");
    assert_eq!(rows.len(), 3, "{}", page.body);
    let ada = app.user_id("ada.lovelace@example.com");
    let row = page.text(&format!(r#"[data-user-id="{ada}"]"#));
    for expected in [
        "ada lovelace",
        "ada.lovelace@example.com",
        "Job Admin",
        "Can manage ALL organization's API Credentials",
        "Can manage and configure web hooks",
        "Active",
    ] {
        assert!(row.contains(expected), "{expected} in {row}");
    }
    assert!(
        page.text(&format!(r#"[data-user-id="{grace}"]"#))
            .contains("Disabled")
    );
    assert!(page.has(r#"[data-testid="nav-users"][aria-current="page"]"#));

    // Search by name or by e-mail, any case.
    let by_name = admin.users("LOVELACE", 1).await;
    assert_eq!(
        by_name.attrs(r#"[data-testid="user-row"]"#, "data-user-id"),
        vec![ada.to_string()]
    );
    let by_email = admin.users("hopper@", 1).await;
    assert_eq!(
        by_email.attrs(r#"[data-testid="user-row"]"#, "data-user-id"),
        vec![grace.to_string()]
    );
    // LIKE's wildcards are taken literally.
    assert!(!admin.users("%", 1).await.has(r#"[data-testid="user-row"]"#));

    // A user's page, in the original's words.
    let user = admin.user_page(ada).await;
    assert_eq!(user.status, StatusCode::OK);
    assert_eq!(user.text("h1"), "ada lovelace");
    assert_eq!(
        user.attrs("#level option[selected]", "value"),
        vec!["job_admin"]
    );
    assert_eq!(
        user.texts(".check-list label"),
        vec![
            "Can manage Job Board related API Credentials",
            "Can manage ALL organization's API Credentials",
            "Can manage and configure web hooks",
        ]
    );
    assert_eq!(
        user.attrs(r#"input[name="permissions"][checked]"#, "value"),
        vec![ALL, WEBHOOKS]
    );
    assert!(!user.has(r#"input[name="disabled"][checked]"#));
    assert_eq!(admin.user_page(9999).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_users_list_is_paginated_and_keeps_the_search() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let values: Vec<String> = (1..=30)
        .map(|n| {
            format!(
                "('member{n:02}@example.com', 'Member {n:02}', 'x', 'basic', '2026-01-01 00:00:00')"
            )
        })
        .collect();
    app.execute(&format!(
        "INSERT INTO users (email, name, password_hash, level, created_at) VALUES {}",
        values.join(", ")
    ));
    let first = admin.users("member", 1).await;
    assert_eq!(first.texts(r#"[data-testid="user-row"]"#).len(), 25);
    assert!(first.text(".pagination").contains("Page 1 of 2 · 30 users"));
    assert_eq!(
        first.attrs(r#".pagination a[rel="next"]"#, "href"),
        vec!["?q=member&page=2"]
    );
    let second = admin.users("member", 2).await;
    assert_eq!(second.texts(r#"[data-testid="user-row"]"#).len(), 5);
    assert!(second.body.contains("Member 30"));
}

#[tokio::test]
async fn everyone_but_a_site_admin_gets_403_on_every_users_route() {
    let app = TestApp::spawn().await;
    let admin_id = app.user_id(&app.admin_email);
    let people = [
        app.user("basic@example.com", "basic", &[]).await,
        app.user("jobs@example.com", "job_admin", &[ALL, JOB_BOARD, WEBHOOKS])
            .await,
        app.user("dev@example.com", "basic", &[ALL]).await,
    ];
    for person in &people {
        let pages = [
            person.users("", 1).await,
            person.get("/configure/users/new").await,
            person.user_page(admin_id).await,
            person.update_user(admin_id, "basic", &[], true).await,
            person
                .add_user("Sneaky", "sneaky@example.com", "site_admin", &[ALL])
                .await,
        ];
        for page in pages {
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
            assert!(page.body.contains("Configure → Users is for Site Admins"));
        }
        let configure = person.get("/configure").await;
        assert!(!configure.has(r#"[data-testid="nav-users"]"#));
    }
    assert_eq!(app.count("SELECT count(*) FROM users"), 4);
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE level = 'site_admin' AND disabled = FALSE"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action <> 'user_created'"),
        0
    );
    // Anonymous people are sent to sign in.
    let visitor = app.visitor();
    let page = visitor.get("/configure/users").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location.unwrap_or_default().starts_with("/login"));
}

#[tokio::test]
async fn a_removed_permission_takes_effect_on_the_users_next_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let dev = app.user("dev@example.com", "site_admin", &[ALL]).await;
    let id = app.user_id("dev@example.com");
    assert_eq!(dev.credentials().await.status, StatusCode::OK);
    assert_eq!(dev.users("", 1).await.status, StatusCode::OK);

    let saved = admin
        .update_user(id, "site_admin", &[JOB_BOARD], false)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location, Some(format!("/configure/users/{id}")));
    // Same open session: Job Board keys only now.
    assert_eq!(dev.credentials().await.status, StatusCode::OK);
    assert_eq!(
        dev.create_credential("harvest", "", "Too late")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        dev.create_credential("job_board", "", "Allowed")
            .await
            .status,
        StatusCode::OK
    );

    // Demoted from Site Admin: Configure → Users is gone at once.
    admin.update_user(id, "basic", &[], false).await;
    assert_eq!(dev.users("", 1).await.status, StatusCode::FORBIDDEN);
    assert_eq!(dev.credentials().await.status, StatusCode::FORBIDDEN);
    let page = admin.user_page(id).await;
    assert_eq!(
        page.attrs("#level option[selected]", "value"),
        vec!["basic"]
    );
    assert!(page.text(".flash").contains("next request"));
}

#[tokio::test]
async fn disabling_signs_the_user_out_everywhere_and_refuses_sign_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let laptop = app.user("dev@example.com", "basic", &[ALL]).await;
    let phone = app.visitor();
    phone.sign_in("dev@example.com", PASSWORD).await;
    let id = app.user_id("dev@example.com");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM sessions WHERE user_id = {id}"
        )),
        2
    );

    let saved = admin.update_user(id, "basic", &[ALL], true).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM sessions WHERE user_id = {id}"
        )),
        0,
        "every session of the user ended with the change"
    );
    for browser in [&laptop, &phone] {
        let page = browser.get(CREDENTIALS).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(page.location.unwrap_or_default().starts_with("/login"));
    }
    let stranger = app.visitor();
    stranger.get("/login").await;
    let refused = stranger
        .post(
            "/login",
            &[("email", "dev@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let users = admin.users("dev@", 1).await;
    assert!(
        users
            .text(r#"[data-testid="user-row"]"#)
            .contains("Disabled")
    );

    // Enabled again, they can sign in again.
    admin.update_user(id, "basic", &[ALL], false).await;
    laptop.sign_in("dev@example.com", PASSWORD).await;
    assert_eq!(laptop.credentials().await.status, StatusCode::OK);
    // The admin's own session was untouched throughout.
    assert_eq!(admin.users("", 1).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_last_active_site_admin_cannot_be_demoted_or_disabled() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let me = app.user_id(&app.admin_email);
    let every = [JOB_BOARD, ALL, WEBHOOKS];

    let demoted = admin.update_user(me, "job_admin", &every, false).await;
    assert_eq!(demoted.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        demoted
            .field_error("level")
            .contains("is the last active Site Admin"),
        "{}",
        demoted.body
    );
    // The form keeps what was submitted.
    assert_eq!(
        demoted.attrs("#level option[selected]", "value"),
        vec!["job_admin"]
    );
    let disabled = admin.update_user(me, "site_admin", &every, true).await;
    assert_eq!(disabled.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        disabled
            .field_error("disabled")
            .contains("last active Site Admin")
    );

    // A disabled Site Admin does not count.
    app.create_user("other@example.com", "site_admin", &[]);
    let other = app.user_id("other@example.com");
    assert_eq!(
        admin
            .update_user(other, "site_admin", &[], true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        admin.update_user(me, "basic", &every, false).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM users WHERE id = {me} AND level = 'site_admin' AND disabled = FALSE"
        )),
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE object_id = {me} AND action <> 'user_created'"
        )),
        0,
        "a refused change records nothing"
    );

    // With another active Site Admin, stepping down is fine.
    admin.update_user(other, "site_admin", &[], false).await;
    let stepped_down = admin.update_user(me, "basic", &every, false).await;
    assert_eq!(stepped_down.status, StatusCode::SEE_OTHER);
    assert_eq!(admin.users("", 1).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_bad_level_or_permission_is_refused_beside_the_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.create_user("dev@example.com", "basic", &[]);
    let id = app.user_id("dev@example.com");
    let page = admin.update_user(id, "overlord", &["root"], false).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.field_error("level").contains("Choose a level"));
    assert!(
        page.field_error("permissions")
            .contains("Choose developer permissions")
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM users WHERE id = {id} AND level = 'basic'"
        )),
        1
    );
}

#[tokio::test]
async fn adding_a_user_shows_a_generated_first_password_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let form = admin.get("/configure/users/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.texts(".check-list label").len(), 3);

    let added = admin
        .add_user(
            "Katherine Johnson",
            "KJ@example.com",
            "job_admin",
            &[JOB_BOARD],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let password = added.text(r#"[data-testid="user-password"]"#);
    assert_eq!(password.len(), 20);
    assert!(
        added.headers["cache-control"]
            .to_str()
            .unwrap_or("")
            .contains("no-store")
    );
    let id: i32 = added.attrs(r#"[data-testid="user-password"]"#, "data-user-id")[0]
        .parse()
        .expect("an id");
    assert_eq!(id, app.user_id("kj@example.com"));

    // The password works, and is nowhere to be seen again.
    let kj = app.visitor();
    kj.sign_in("kj@example.com", &password).await;
    assert_eq!(kj.credentials().await.status, StatusCode::OK);
    assert!(!admin.user_page(id).await.body.contains(&password));
    assert!(!admin.users("", 1).await.body.contains(&password));
    assert!(!app.logs().contains(&password));
    assert!(!app.audit_text().contains(&password));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM users WHERE password_hash LIKE '%{password}%'"
        )),
        0
    );

    // A taken e-mail or missing name is refused beside the field; nothing is added.
    let again = admin.add_user("", "kj@example.com", "basic", &[]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.field_error("name").contains("Enter a name"));
    let again = admin.add_user("KJ", "kj@example.com", "basic", &[]).await;
    assert!(again.field_error("email").contains("already exists"));
    assert!(!again.has(r#"[data-testid="user-password"]"#));
    assert_eq!(app.count("SELECT count(*) FROM users"), 2);
}
