//! Harvest v3 (OAuth) credentials: their client credentials, shown once, and Manage Scopes;
//! client applications' requested scopes.

use reqwest::StatusCode;

use crate::helpers::{CREDENTIALS, TestApp};

/// The credential's scopes as stored, sorted.
fn stored_scopes(app: &TestApp, id: i32) -> Vec<String> {
    app.texts(&format!(
        "SELECT scope AS t FROM credential_scopes WHERE credential_id = {id} ORDER BY scope"
    ))
}

/// The details of every audit event of `action`, oldest first.
fn audit_details(app: &TestApp, action: &str) -> Vec<serde_json::Value> {
    app.texts(&format!(
        "SELECT details AS t FROM audit_events WHERE action = '{action}' ORDER BY id"
    ))
    .iter()
    .map(|d| serde_json::from_str(d).expect("JSON details"))
    .collect()
}

#[tokio::test]
async fn creating_a_v3_credential_shows_its_client_id_and_secret_exactly_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;

    let refused = admin.create_credential("harvest_v3", "", "").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.text(".dialog-content button[type=submit]"),
        "View and store credentials"
    );
    let dialog = admin.get_htmx(&format!("{CREDENTIALS}/new")).await;
    assert_eq!(
        dialog.attrs(
            r#"#api_type option[value="harvest_v3"]"#,
            "data-submit-text"
        ),
        vec!["View and store credentials"]
    );

    let shown = admin
        .create_credential("harvest_v3", "", "Acme OAuth")
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.headers["cache-control"], "no-store");
    let (client_id, secret, id) = shown.client_credentials();
    assert!(client_id.starts_with("dci_"), "{client_id}");
    assert!(secret.starts_with("dcs_"), "{secret}");
    assert_eq!(
        shown.attrs(r#"[data-testid="client-id-value"]"#, "data-credential-id"),
        vec![id.to_string()]
    );
    assert!(shown.has(r#"[data-testid="copy-client-id"]"#));
    assert!(shown.has(r#"[data-testid="copy-client-secret"]"#));
    assert!(shown.body.contains("will not show the client secret again"));
    assert!(!shown.has(r#"[data-testid="api-key-value"]"#));
    let next = r#"[data-testid="stored-client-credentials-continue"]"#;
    assert_eq!(shown.text(next), "I have stored the client credentials");
    assert_eq!(
        shown.attrs(next, "href"),
        vec![format!("{CREDENTIALS}/{id}/scopes")]
    );

    // The secret is stored as its BLAKE3 hash only; the client ID is public.
    assert_eq!(app.stored_keys(&secret, Some(id)), 1);
    let stored = app.everything_stored();
    let contains = |needle: &str| stored.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(
        !contains(&secret),
        "the client secret is stored in plain text"
    );
    assert!(contains(&client_id));

    // Afterwards: the client ID on its row and pages, the secret nowhere.
    let list = admin.credentials().await;
    let row = list.text(&format!(r#"[data-credential-id="{id}"]"#));
    assert!(
        row.contains(&client_id) && row.contains("Harvest v3 (OAuth)"),
        "{row}"
    );
    assert!(!list.body.contains(&secret));
    assert_eq!(
        list.attrs(r#"[data-testid="credential-scopes"]"#, "href"),
        vec![format!("{CREDENTIALS}/{id}/scopes")]
    );
    let scopes = admin.scopes(id).await;
    assert_eq!(
        scopes.text(r#"[data-testid="credential-client-id"]"#),
        client_id
    );
    assert!(!scopes.body.contains(&secret));
    let log = admin.get(&format!("{CREDENTIALS}/{id}/requests")).await;
    assert_eq!(
        log.text(r#"[data-testid="credential-client-id"]"#),
        client_id
    );
    assert!(!app.logs().contains(&secret), "the client secret is logged");
    assert!(!app.audit_text().contains(&secret));
    assert_eq!(
        admin.permissions(id).await.status,
        StatusCode::NOT_FOUND,
        "a v3 credential has scopes, not endpoint permissions"
    );
}

#[tokio::test]
async fn manage_scopes_lists_the_147_scopes_by_resource_with_what_each_opens() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, _, id) = admin.new_v3_credential("", "Catalogue").await;
    let page = admin.scopes(id).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.has(r#"[data-testid="scopes-form"]"#));
    assert!(page.has(r#"[data-testid="select-all-scopes"]"#));
    assert!(page.has(r#"[data-testid="save-scopes"]"#));
    assert!(page.has("[data-select-read-only]"));
    assert!(page.has("[data-endpoint-filter]"));
    assert!(
        page.body
            .contains("comparable to granting the partner Site Admin permissions")
    );
    let scopes = page.attrs(r#"input[name="scopes"]"#, "value");
    assert_eq!(scopes.len(), 147);
    let resources = page.texts("fieldset.resource-group legend");
    assert_eq!(
        resources.len() as i64,
        app.count("SELECT count(DISTINCT resource) FROM endpoints WHERE scope IS NOT NULL")
    );
    assert_eq!(resources[0], "Application stages");
    assert_eq!(resources[1], "Applications");
    assert!(page.checked_scopes().is_empty());

    // Each scope shows the endpoints it opens.
    let applications = page
        .texts("li.scope")
        .into_iter()
        .find(|s| s.contains("harvest:applications:list"))
        .expect("harvest:applications:list");
    assert!(
        applications.contains("GET") && applications.contains("/v3/applications"),
        "{applications}"
    );
    let two = page
        .texts("li.scope")
        .into_iter()
        .find(|s| s.contains("harvest:jobs:create"))
        .expect("harvest:jobs:create");
    assert_eq!(two.matches("POST").count(), 2, "{two}");

    // Read-only is exactly the list scopes: every scope that opens only GETs.
    let read_only = page.attrs(r#"input[name="scopes"][data-read-only]"#, "value");
    assert_eq!(read_only.len(), 70);
    assert!(
        read_only.iter().all(|s| s.ends_with(":list")),
        "{read_only:?}"
    );
    assert_eq!(
        scopes.iter().filter(|s| s.ends_with(":list")).count(),
        read_only.len()
    );
}

#[tokio::test]
async fn saving_replaces_the_scopes_with_exactly_the_submitted_set() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, secret, id) = admin.new_v3_credential("", "Scoped").await;

    let saved = admin
        .update_scopes(
            id,
            &[
                "harvest:candidates:list",
                "harvest:candidates:create",
                "harvest:jobs:create",
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let page = admin.scopes(id).await;
    assert_eq!(
        page.text(".flash"),
        "Scopes saved: this credential is granted 3 scopes."
    );
    let mut checked = page.checked_scopes();
    checked.sort();
    assert_eq!(
        checked,
        vec![
            "harvest:candidates:create",
            "harvest:candidates:list",
            "harvest:jobs:create"
        ]
    );
    assert_eq!(stored_scopes(&app, id), checked);
    assert_eq!(
        page.texts("[data-scope-usage]"),
        vec!["No requests in 30 days"; 3],
        "usage beside each granted scope"
    );

    // What the gate's live keys open: the endpoints of exactly those scopes.
    let opened = |app: &TestApp| {
        let mut ids =
            devcenter::db::credentials::KeyRecord::granted_endpoints(&mut app.connection(), id)
                .expect("the granted endpoints");
        ids.sort();
        ids
    };
    let expected = |app: &TestApp, scopes: &str| {
        app.texts(&format!(
            "SELECT CAST(id AS TEXT) AS t FROM endpoints WHERE scope IN ({scopes}) ORDER BY id"
        ))
    };
    let as_text = |ids: Vec<i32>| ids.iter().map(i32::to_string).collect::<Vec<_>>();
    assert_eq!(
        as_text(opened(&app)),
        expected(
            &app,
            "'harvest:candidates:list', 'harvest:candidates:create', 'harvest:jobs:create'"
        )
    );
    assert_eq!(opened(&app).len(), 4, "jobs:create opens two endpoints");

    admin
        .update_scopes(
            id,
            &[
                "harvest:candidates:list",
                "harvest:candidates:list",
                "harvest:applications:list",
            ],
        )
        .await;
    assert_eq!(
        stored_scopes(&app, id),
        vec!["harvest:applications:list", "harvest:candidates:list"]
    );
    assert_eq!(
        as_text(opened(&app)),
        expected(
            &app,
            "'harvest:applications:list', 'harvest:candidates:list'"
        )
    );

    // Saving the same set again changes nothing and writes no event.
    admin
        .update_scopes(
            id,
            &["harvest:applications:list", "harvest:candidates:list"],
        )
        .await;
    admin.update_scopes(id, &[]).await;
    assert!(stored_scopes(&app, id).is_empty());
    assert!(opened(&app).is_empty());

    let events = audit_details(&app, "credential_scopes_changed");
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(
        events[0]["added"],
        serde_json::json!([
            "harvest:candidates:create",
            "harvest:candidates:list",
            "harvest:jobs:create"
        ])
    );
    assert_eq!(
        events[1],
        serde_json::json!({
            "added": ["harvest:applications:list"],
            "removed": ["harvest:candidates:create", "harvest:jobs:create"],
            "granted_count": 2,
        })
    );
    assert_eq!(events[2]["granted_count"], 0);
    let log = admin
        .audit_log(&[("action", "credential_scopes_changed")])
        .await;
    assert!(log.body.contains("Scopes of “Scoped”"), "{}", log.body);
    assert!(!app.audit_text().contains(&secret));
}

#[tokio::test]
async fn an_unknown_scope_is_refused_by_name_and_nothing_changes() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, _, id) = admin.new_v3_credential("", "Strict").await;
    admin.update_scopes(id, &["harvest:jobs:list"]).await;

    let refused = admin
        .update_scopes(id, &["harvest:candidates:list", "harvest:payroll:list"])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text(".form-error")
            .contains("“harvest:payroll:list” is not a Harvest v3 scope"),
        "{}",
        refused.body
    );
    // The form comes back as submitted, with the unknown scope left out.
    assert_eq!(refused.checked_scopes(), vec!["harvest:candidates:list"]);
    assert_eq!(stored_scopes(&app, id), vec!["harvest:jobs:list"]);
    assert_eq!(audit_details(&app, "credential_scopes_changed").len(), 1);
    // A v1 endpoint is not a scope either.
    let endpoint = admin.update_scopes(id, &["GET /v1/candidates"]).await;
    assert_eq!(endpoint.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stored_scopes(&app, id), vec!["harvest:jobs:list"]);
}

#[tokio::test]
async fn only_v3_credentials_have_scopes_and_only_managers_of_all_credentials_manage_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, harvest) = admin.new_key("harvest", "Harvest v1").await;
    let (_, job_board) = admin.new_key("job_board", "Careers").await;
    for id in [harvest, job_board, 9999] {
        assert_eq!(admin.scopes(id).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            admin.update_scopes(id, &["harvest:jobs:list"]).await.status,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM credential_scopes"), 0);

    let (_, _, id) = admin.new_v3_credential("", "Managed OAuth").await;
    let job_board_manager = app
        .user(
            "jobs@example.com",
            "basic",
            &["manage_job_board_credentials"],
        )
        .await;
    assert_eq!(
        job_board_manager.scopes(id).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        job_board_manager
            .update_scopes(id, &["harvest:jobs:list"])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert!(
        !job_board_manager
            .credentials()
            .await
            .body
            .contains("Managed OAuth"),
        "a job-board manager does not see v3 credentials"
    );
    let all = app
        .user("all@example.com", "basic", &["manage_all_credentials"])
        .await;
    assert_eq!(all.scopes(id).await.status, StatusCode::OK);
    assert_eq!(
        all.update_scopes(id, &["harvest:jobs:list"]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(stored_scopes(&app, id), vec!["harvest:jobs:list"]);
}

#[tokio::test]
async fn a_revoked_credentials_scopes_cannot_change() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (_, _, id) = admin.new_v3_credential("", "Retired").await;
    admin.update_scopes(id, &["harvest:jobs:list"]).await;
    admin.revoke(id).await;

    let page = admin.scopes(id).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("This credential is revoked"));
    assert_eq!(
        page.attrs(r#"[data-testid="save-scopes"]"#, "disabled"),
        vec![""]
    );
    let refused = admin.update_scopes(id, &["harvest:candidates:list"]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text(".form-error").contains("revoked"));
    assert_eq!(stored_scopes(&app, id), vec!["harvest:jobs:list"]);
}

#[tokio::test]
async fn a_client_applications_scopes_are_granted_to_a_v3_credential_made_for_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;

    let refused = admin
        .add_client_application_asking("Acme OAuth", &[], &["harvest:nothing:list"])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("“harvest:nothing:list” is not a Harvest v3 scope")
    );
    assert_eq!(
        refused.checked_scopes(),
        Vec::<String>::new(),
        "the unknown scope is not offered back"
    );
    assert_eq!(app.count("SELECT count(*) FROM client_applications"), 0);

    let acme = admin
        .client_application_asking(
            "Acme OAuth",
            &["GET /v1/candidates"],
            &["harvest:candidates:list", "harvest:jobs:list"],
        )
        .await;
    let listed = admin
        .get(devcenter::web::urls::CLIENT_APPLICATIONS)
        .await
        .text(&format!(r#"[data-client-application-id="{acme}"]"#));
    assert!(
        listed.contains("harvest:candidates:list") && listed.contains("harvest:jobs:list"),
        "{listed}"
    );
    let created = audit_details(&app, "client_application_created");
    assert_eq!(
        created[0]["scopes"],
        serde_json::json!(["harvest:candidates:list", "harvest:jobs:list"])
    );

    let (_, secret, id) = admin.new_v3_credential(&acme.to_string(), "Acme v3").await;
    assert_eq!(
        stored_scopes(&app, id),
        vec!["harvest:candidates:list", "harvest:jobs:list"]
    );
    let mut checked = admin.scopes(id).await.checked_scopes();
    checked.sort();
    assert_eq!(checked, stored_scopes(&app, id));
    let made = audit_details(&app, "credential_created");
    assert_eq!(
        made[0]["scopes_granted"],
        serde_json::json!(["harvest:candidates:list", "harvest:jobs:list"])
    );
    assert!(!app.audit_text().contains(&secret));

    // A Harvest key for the same partner gets its endpoints, not its scopes.
    let (_, harvest) = admin.new_key("harvest", "No partner").await;
    let for_acme = admin
        .create_credential("harvest", &acme.to_string(), "Acme v1")
        .await;
    let (_, v1) = for_acme.api_key();
    assert_eq!(
        admin.permissions(v1).await.checked_endpoints(),
        vec!["GET /v1/candidates"]
    );
    assert!(stored_scopes(&app, v1).is_empty() && stored_scopes(&app, harvest).is_empty());
}
