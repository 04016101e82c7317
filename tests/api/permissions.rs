//! Manage API Key Permissions and client applications' preset endpoints.

use reqwest::StatusCode;

use crate::helpers::{CREDENTIALS, TestApp};

#[tokio::test]
async fn the_permissions_page_lists_the_whole_catalogue_by_resource() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, id) = admin.new_key("harvest", "Catalogue").await;
    let page = admin.permissions(id).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.attrs(r#"input[name="endpoints"]"#, "value").len(), 133);
    let resources = page.texts("fieldset.resource-group legend");
    assert_eq!(resources.len(), 27);
    assert_eq!(resources[0], "Activity Feed");
    assert_eq!(resources[1], "Applications");
    assert!(
        page.body
            .contains("comparable to granting the partner Site Admin permissions")
    );
    let first = &page.texts("li.endpoint")[0];
    assert!(
        first.contains("GET:") && first.contains("Retrieve Activity Feed"),
        "{first}"
    );
    assert!(
        first.contains("/v1/candidates/{id}/activity_feed"),
        "{first}"
    );
    assert!(page.has(r#"[data-testid="select-all-endpoints"]"#));
    assert!(page.has(r#"[data-testid="update-permissions"]"#));
    assert!(page.checked_endpoints().is_empty());
}

#[tokio::test]
async fn update_replaces_the_grants_with_exactly_the_submitted_set() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, id) = admin.new_key("harvest", "Grants").await;

    let updated = admin
        .update_permissions(
            id,
            &["GET /v1/candidates", "POST /v1/candidates", "GET /v1/jobs"],
        )
        .await;
    assert_eq!(updated.status, StatusCode::SEE_OTHER);
    let page = admin.permissions(id).await;
    assert_eq!(
        page.text(".flash"),
        "Permissions updated: this key is granted 3 endpoints."
    );
    let mut granted = page.checked_endpoints();
    granted.sort();
    assert_eq!(
        granted,
        vec!["GET /v1/candidates", "GET /v1/jobs", "POST /v1/candidates"]
    );

    admin
        .update_permissions(id, &["GET /v1/jobs", "GET /v1/jobs"])
        .await;
    assert_eq!(
        admin.permissions(id).await.checked_endpoints(),
        vec!["GET /v1/jobs"]
    );

    admin.update_permissions(id, &[]).await;
    assert!(admin.permissions(id).await.checked_endpoints().is_empty());
    assert_eq!(app.count("SELECT count(*) FROM credential_endpoints"), 0);
}

#[tokio::test]
async fn select_all_grants_all_133_endpoints() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, id) = admin.new_key("harvest", "Everything").await;
    let every = admin
        .permissions(id)
        .await
        .attrs(r#"input[name="endpoints"]"#, "value");
    let every: Vec<&str> = every.iter().map(String::as_str).collect();
    admin.update_permissions(id, &every).await;
    assert_eq!(admin.permissions(id).await.checked_endpoints().len(), 133);
}

#[tokio::test]
async fn an_unknown_endpoint_is_refused_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, id) = admin.new_key("harvest", "Strict").await;
    admin.update_permissions(id, &["GET /v1/jobs"]).await;

    let refused = admin
        .update_permissions(id, &["GET /v1/candidates", "GET /v1/payroll"])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text(".form-error")
            .contains("“GET /v1/payroll” is not a Harvest endpoint")
    );
    assert_eq!(
        admin.permissions(id).await.checked_endpoints(),
        vec!["GET /v1/jobs"]
    );
}

#[tokio::test]
async fn only_harvest_keys_have_a_permissions_page() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, id) = admin.new_key("job_board", "Careers").await;
    assert_eq!(admin.permissions(id).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        admin.update_permissions(id, &["GET /v1/jobs"]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(admin.permissions(4242).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT count(*) FROM credential_endpoints"), 0);
}

#[tokio::test]
async fn a_revoked_keys_grants_can_no_longer_change() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, id) = admin.new_key("harvest", "Gone").await;
    admin.update_permissions(id, &["GET /v1/jobs"]).await;
    admin.revoke(id).await;
    let refused = admin.update_permissions(id, &["GET /v1/candidates"]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        admin.permissions(id).await.checked_endpoints(),
        vec!["GET /v1/jobs"]
    );
}

#[tokio::test]
async fn a_listed_partners_harvest_key_arrives_with_its_preset_endpoints() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let partner = admin
        .client_application(
            "Acme Background Checks",
            &["GET /v1/candidates", "GET /v1/applications/{id}"],
        )
        .await;
    let listed = admin.get("/configure/dev_center/client_applications").await;
    let row = listed.text(&format!(r#"[data-client-application-id="{partner}"]"#));
    assert!(
        row.contains("GET /v1/candidates") && row.contains("GET /v1/applications/{id}"),
        "{row}"
    );

    let shown = admin
        .create_credential("harvest", &partner.to_string(), "Acme sync")
        .await;
    let (_, id) = shown.api_key();
    let mut granted = admin.permissions(id).await.checked_endpoints();
    granted.sort();
    assert_eq!(
        granted,
        vec!["GET /v1/applications/{id}", "GET /v1/candidates"]
    );

    let (_, plain) = admin.new_key("harvest", "No partner").await;
    assert!(
        admin
            .permissions(plain)
            .await
            .checked_endpoints()
            .is_empty()
    );
}

#[tokio::test]
async fn a_client_application_needs_a_unique_name_and_known_endpoints() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    admin.client_application("Acme", &[]).await;
    let duplicate = admin.add_client_application("Acme", &[]).await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        duplicate.field_error("name"),
        "A client application with this name already exists."
    );
    let blank = admin.add_client_application("", &[]).await;
    assert_eq!(blank.field_error("name"), "Enter a name.");
    let unknown = admin
        .add_client_application("Beta", &["GET /v1/secrets"])
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT count(*) FROM client_applications"), 1);
}

#[tokio::test]
async fn the_key_views_continue_link_opens_that_keys_permissions() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let shown = admin.create_credential("harvest", "", "Continue").await;
    let href = &shown.attrs(r#"[data-testid="stored-api-key-continue"]"#, "href")[0];
    let page = admin.get(href).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.has(r#"[data-testid="permissions-form"]"#));
    assert!(page.text("h1").contains("Manage API Key Permissions"));
    assert!(page.body.contains(&format!("action=\"{CREDENTIALS}/")));
}
