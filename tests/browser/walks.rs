//! The walks, in the help article's order.

use fantoccini::key::Key;

use crate::harness::{PHONE, Walk};

use devcenter::web::urls::CREDENTIALS;
const TOTAL_ENDPOINTS: usize = 133;

/// The checked and the total endpoint boxes on a permissions page.
async fn endpoint_boxes(walk: &Walk) -> (usize, usize) {
    (
        walk.count(r#"input[name="endpoints"]:checked"#).await,
        walk.count(r#"input[name="endpoints"]"#).await,
    )
}

/// Waits (a little) for focus to land on the element `Walk::focused` describes as
/// starting with `prefix`.
async fn focus_reaches(walk: &Walk, prefix: &str) {
    let started = std::time::Instant::now();
    loop {
        let now = walk.focused().await;
        if now.starts_with(prefix) {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "focus is on “{now}”, not on “{prefix}…”"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Walk 1: the article, step by step, for a Harvest key.
#[tokio::test]
async fn a_site_admin_creates_a_harvest_key_and_grants_it_every_endpoint() {
    let Some(mut walk) = Walk::start("harvest").await else {
        return;
    };
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;

    // "click the Configure icon in the upper right-hand corner"
    walk.click_testid("configure-icon").await;
    walk.arrive("/configure").await;
    walk.see("Configure").await;
    walk.testid("nav-dev-center").await;
    walk.step("configure").await;

    // "Navigate to Dev Center on the left-hand panel."
    walk.click_testid("nav-dev-center").await;
    walk.arrive("/configure/dev_center").await;
    walk.see_in("main h1", "Dev Center").await;
    walk.step("dev-center").await;

    // "From the Dev Center page, click API Credential Management."
    walk.click_testid("api-credential-management-link").await;
    walk.arrive(CREDENTIALS).await;
    walk.see_in("main h1", "API Credential Management").await;
    walk.see("No API keys yet").await;
    walk.step("credentials-empty").await;

    // "click Create New API Key"
    walk.click_testid("create-new-api-key").await;
    walk.dialog_open("Create New Credential").await;
    walk.testid("create-credential-dialog").await;
    assert!(walk.focus_in_dialog().await, "focus moves into the dialog");
    walk.choose("#api_type", "Harvest").await;
    walk.type_into("#description", "Background checks (Acme)")
        .await;
    walk.see_in("[data-submit-label]", "Manage Permissions")
        .await;
    walk.step("create-dialog-harvest").await;

    // Harvest: the submit reads "Manage Permissions"; the key is shown once, with Copy.
    walk.click_text("Manage Permissions").await;
    walk.dialog_open("Your new Harvest API key").await;
    let key = walk.text_of(r#"[data-testid="api-key-value"]"#).await;
    assert!(
        key.starts_with("dch_") && key.len() == 4 + 43 + 6,
        "a Harvest key is shown: {key}"
    );
    walk.see("For your security, Dev Center will not show it again.")
        .await;
    walk.step("key-shown").await;

    walk.click_testid("copy-api-key").await;
    walk.see_in(r#"[data-testid="copy-api-key"]"#, "Copied")
        .await;
    walk.see("The key is on your clipboard.").await;
    assert_eq!(
        walk.clipboard().await,
        key,
        "Copy puts the key on the clipboard"
    );
    walk.step("key-copied").await;

    // Esc must not lose a key that is never shown again.
    walk.press(&[Key::Escape]).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        walk.dialog_is_open().await,
        "Esc does not close the one-time key view"
    );

    // "you will be directed to the Manage API Key Permissions page"
    walk.click_testid("stored-api-key-continue").await;
    let id = walk
        .js("return location.pathname.split('/')[4];", vec![])
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned();
    walk.arrive(&format!("{CREDENTIALS}/{id}/permissions"))
        .await;
    walk.see_in("main h1", "Manage API Key Permissions").await;
    walk.see("Background checks (Acme)").await;
    walk.see(&format!("0 of {TOTAL_ENDPOINTS} endpoints selected"))
        .await;
    assert_eq!(endpoint_boxes(&walk).await, (0, TOTAL_ENDPOINTS));
    walk.step("permissions").await;

    walk.click_testid("select-all-endpoints").await;
    walk.see(&format!(
        "{TOTAL_ENDPOINTS} of {TOTAL_ENDPOINTS} endpoints selected"
    ))
    .await;
    assert_eq!(
        endpoint_boxes(&walk).await,
        (TOTAL_ENDPOINTS, TOTAL_ENDPOINTS)
    );
    walk.step("select-all").await;

    // "When finished granting access, click Update at the bottom of the page."
    walk.click_testid("update-permissions").await;
    walk.see("Permissions updated: this key is granted 133 endpoints.")
        .await;
    walk.find(".flash[role=status]").await;
    // The confirmation has focus, so it is read.
    focus_reaches(&walk, "div||Permissions updated").await;
    walk.step("updated").await;

    // Reloading shows what was stored, not what the browser remembered.
    walk.client.refresh().await.expect("reload");
    walk.see_in("main h1", "Manage API Key Permissions").await;
    assert_eq!(
        endpoint_boxes(&walk).await,
        (TOTAL_ENDPOINTS, TOTAL_ENDPOINTS)
    );
    assert!(
        walk.testid("select-all-endpoints")
            .await
            .is_selected()
            .await
            .unwrap()
    );
    assert!(
        !walk.visible_text().await.contains("Permissions updated"),
        "the success message is shown once"
    );
    walk.step("reloaded").await;

    // Back to the list: prefix…last4, never the key.
    walk.click_text("Back to API keys").await;
    walk.arrive(CREDENTIALS).await;
    let row = format!(r#"[data-testid="credential-row"][data-credential-id="{id}"]"#);
    walk.find(&row).await;
    let hint = walk.text_of(&format!("{row} .key-hint")).await;
    assert_eq!(hint, format!("dch_…{}", &key[key.len() - 4..]));
    assert!(
        walk.visible_text()
            .await
            .contains("Background checks (Acme)")
    );
    let source = walk.client.source().await.expect("the page source");
    assert!(!source.contains(&key), "the list never shows the key");
    walk.step("list").await;

    walk.finish().await;
}

/// Configure icon → Dev Center → API Credential Management, by clicking.
async fn open_credentials(walk: &Walk) {
    walk.click_testid("configure-icon").await;
    walk.arrive("/configure").await;
    walk.click_testid("nav-dev-center").await;
    walk.arrive("/configure/dev_center").await;
    walk.click_testid("api-credential-management-link").await;
    walk.arrive(CREDENTIALS).await;
    walk.see_in("main h1", "API Credential Management").await;
}

/// Dev Center → Client Applications: adds a partner integration with its preset endpoints,
/// found with the filter box and ticked.
async fn add_client_application(walk: &mut Walk, name: &str, endpoints: &[&str]) {
    walk.click_testid("configure-icon").await;
    walk.click_testid("nav-dev-center").await;
    walk.click_text("Client Applications").await;
    walk.arrive("/configure/dev_center/client_applications")
        .await;
    walk.see_in("main h1", "Client Applications").await;
    walk.type_into("#name", name).await;
    for endpoint in endpoints {
        let (_, path) = endpoint.split_once(' ').unwrap_or_default();
        walk.type_into("#endpoint-filter", path).await;
        walk.click(&format!(r#"input[name="endpoints"][value="{endpoint}"]"#))
            .await;
    }
    walk.type_into("#endpoint-filter", "").await;
    walk.step("client-application-form").await;
    walk.click_text("Add client application").await;
    walk.see(&format!("Added the client application “{name}”."))
        .await;
    let row = walk
        .text_of(r#"[data-testid="client-application-row"]:last-of-type"#)
        .await;
    assert!(
        row.contains(name),
        "the new client application is listed: {row}"
    );
    for endpoint in endpoints {
        assert!(
            row.contains(endpoint),
            "{endpoint} is among its presets: {row}"
        );
    }
    walk.step("client-application-added").await;
}

/// Opens Create New API Key from the list and fills the dialog.
async fn fill_create_dialog(walk: &Walk, api_type: &str, partner: Option<&str>, description: &str) {
    walk.click_testid("create-new-api-key").await;
    walk.dialog_open("Create New Credential").await;
    walk.choose("#api_type", api_type).await;
    if let Some(partner) = partner {
        walk.choose("#client_application_id", partner).await;
    }
    walk.type_into("#description", description).await;
}

/// The one-time key view: the key of this type, Copy puts it on the clipboard.
async fn copy_shown_key(walk: &Walk, label: &str, prefix: &str) -> String {
    walk.dialog_open(&format!("Your new {label} API key")).await;
    let key = walk.text_of(r#"[data-testid="api-key-value"]"#).await;
    assert!(
        key.starts_with(prefix) && key.len() == 53,
        "a {label} key is shown: {key}"
    );
    walk.click_testid("copy-api-key").await;
    walk.see("The key is on your clipboard.").await;
    assert_eq!(
        walk.clipboard().await,
        key,
        "Copy puts the key on the clipboard"
    );
    key
}

/// The row of the list whose description is `description`, as a CSS selector.
async fn row_of(walk: &Walk, description: &str) -> String {
    let id = walk
        .js(
            "var rows = document.querySelectorAll('[data-testid=credential-row]');
             for (var i = 0; i < rows.length; i++) {
               if (rows[i].querySelector('.description').innerText.trim() === arguments[0])
                 return rows[i].getAttribute('data-credential-id');
             }
             return null;",
            vec![description.into()],
        )
        .await;
    let id = id
        .as_str()
        .unwrap_or_else(|| panic!("no row “{description}” in the list"))
        .to_owned();
    format!(r#"[data-testid="credential-row"][data-credential-id="{id}"]"#)
}

/// Walk 2: a Job Board key, then a Partner key for a client application.
#[tokio::test]
async fn a_site_admin_creates_job_board_and_partner_keys() {
    let Some(mut walk) = Walk::start("job_board_and_partner").await else {
        return;
    };
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;
    add_client_application(&mut walk, "Acme Assessments", &["GET /v1/candidates"]).await;

    // Job Board: "Create", then copy the key and give it to the partner.
    open_credentials(&walk).await;

    // A refused dialog puts focus on the field in error and announces the message.
    fill_create_dialog(&walk, "Job Board", None, "").await;
    walk.click_text("Create").await;
    walk.find("#description[aria-invalid=true]").await;
    focus_reaches(&walk, "input|description").await;
    let alert = walk.text_of("#app-dialog [role=alert]").await;
    assert!(!alert.is_empty(), "the message is announced");
    walk.click_text("Cancel").await;
    walk.dialog_closed().await;

    fill_create_dialog(&walk, "Job Board", None, "Careers site").await;
    assert!(
        walk.count("[data-partner-field]:not([hidden])").await == 0,
        "a Job Board key has no partner to choose"
    );
    walk.see_in("[data-submit-label]", "Create").await;
    walk.step("create-dialog-job-board").await;
    walk.click_text("Create").await;
    let job_board_key = copy_shown_key(&walk, "Job Board", "dcj_").await;
    walk.step("job-board-key").await;
    walk.click_testid("stored-api-key-continue").await;
    walk.dialog_closed().await;
    let row = row_of(&walk, "Careers site").await;
    assert_eq!(
        walk.text_of(&format!("{row} .key-hint")).await,
        format!("dcj_…{}", &job_board_key[49..])
    );
    walk.see("Job Board").await;
    walk.see("Created the Job Board key “Careers site”.").await;
    focus_reaches(&walk, "div||Created the Job Board key").await;

    // Partner without a client application: the message is beside the field.
    fill_create_dialog(&walk, "Partner", None, "Assessments").await;
    walk.see_in("[data-submit-label]", "Create").await;
    walk.click_text("Create").await;
    walk.see_in(
        "#client_application_id-error",
        "A Partner key needs a client application: choose one.",
    )
    .await;
    assert!(
        walk.dialog_is_open().await,
        "the dialog stays open on a mistake"
    );
    walk.step("partner-needs-client-application").await;

    // Partner with its client application.
    walk.choose("#client_application_id", "Acme Assessments")
        .await;
    walk.click_text("Create").await;
    let partner_key = copy_shown_key(&walk, "Partner", "dcp_").await;
    walk.step("partner-key").await;
    walk.click_testid("stored-api-key-continue").await;
    walk.dialog_closed().await;
    let row = row_of(&walk, "Assessments").await;
    let text = walk.text_of(&row).await;
    assert!(
        text.contains("Partner") && text.contains("Acme Assessments"),
        "{text}"
    );
    assert_eq!(
        walk.text_of(&format!("{row} .key-hint")).await,
        format!("dcp_…{}", &partner_key[49..])
    );
    let source = walk.client.source().await.expect("the page source");
    assert!(!source.contains(&partner_key) && !source.contains(&job_board_key));
    walk.step("list").await;
    walk.finish().await;
}

/// Walk 3: a listed partner's Harvest key arrives with its preset endpoints; the filter
/// narrows the list; a resource's toggle ticks and unticks its endpoints.
#[tokio::test]
async fn a_partners_harvest_key_arrives_with_its_preset_endpoints() {
    let Some(mut walk) = Walk::start("partner_preset").await else {
        return;
    };
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;
    let presets = ["GET /v1/candidates", "GET /v1/applications", "GET /v1/jobs"];
    add_client_application(&mut walk, "Checkr", &presets).await;

    open_credentials(&walk).await;
    fill_create_dialog(&walk, "Harvest", Some("Checkr"), "Checkr background checks").await;
    walk.see_in("[data-submit-label]", "Manage Permissions")
        .await;
    walk.click_text("Manage Permissions").await;
    copy_shown_key(&walk, "Harvest", "dch_").await;
    walk.click_testid("stored-api-key-continue").await;
    walk.see_in("main h1", "Manage API Key Permissions").await;
    walk.see("Checkr background checks").await;
    walk.see("3 of 133 endpoints selected").await;
    let mut checked = walk
        .js(
            "return Array.from(document.querySelectorAll('input[name=endpoints]:checked')).map(function (b) { return b.value; });",
            vec![],
        )
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect::<Vec<_>>();
    checked.sort();
    let mut expected = presets.map(str::to_owned).to_vec();
    expected.sort();
    assert_eq!(
        checked, expected,
        "exactly the partner's preset endpoints are ticked"
    );
    walk.step("presets").await;

    // The filter box narrows the list to what matches.
    walk.type_into("#endpoint-filter", "offer").await;
    let visible = walk
        .js(
            "return Array.from(document.querySelectorAll('[data-endpoint]'))
                .filter(function (e) { return e.offsetParent !== null; })
                .map(function (e) { return e.innerText; });",
            vec![],
        )
        .await
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !visible.is_empty() && visible.len() < TOTAL_ENDPOINTS,
        "the filter narrows the list: {} shown",
        visible.len()
    );
    for item in &visible {
        let text = item.as_str().unwrap_or_default().to_lowercase();
        assert!(
            text.contains("offer"),
            "only matching endpoints are shown: {text}"
        );
    }
    walk.step("filtered").await;

    // The Offers toggle ticks every Offers endpoint, and unticks them again.
    let offers = r#"input[aria-label="Select all Offers endpoints"]"#;
    walk.click(offers).await;
    let offers_count = walk
        .count(r#"[data-resource-group]:not([hidden]) input[name="endpoints"]:checked"#)
        .await;
    assert_eq!(offers_count, 5, "the five Offers endpoints are ticked");
    walk.see("8 of 133 endpoints selected").await;
    walk.step("resource-toggle-on").await;
    walk.click(offers).await;
    walk.see("3 of 133 endpoints selected").await;
    walk.click(offers).await;
    walk.see("8 of 133 endpoints selected").await;
    walk.type_into("#endpoint-filter", "").await;
    assert_eq!(endpoint_boxes(&walk).await, (8, TOTAL_ENDPOINTS));
    walk.click_testid("update-permissions").await;
    walk.see("Permissions updated: this key is granted 8 endpoints.")
        .await;
    assert_eq!(endpoint_boxes(&walk).await, (8, TOTAL_ENDPOINTS));
    walk.step("updated").await;
    walk.finish().await;
}

/// Walk 4: revoking asks first; the row then shows Revoked and the key stops working.
#[tokio::test]
async fn revoking_a_key_asks_first_and_the_row_shows_revoked() {
    let Some(mut walk) = Walk::start("revoke").await else {
        return;
    };
    let admin = walk.app.admin().await;
    let (key, _) = admin.new_key("job_board", "Careers site").await;
    admin.new_key("harvest", "Payroll sync").await;
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;
    open_credentials(&walk).await;
    let row = row_of(&walk, "Careers site").await;
    assert!(walk.text_of(&row).await.contains("Active"));
    walk.step("credentials").await;

    // Cancel leaves the key alone and gives focus back to Revoke.
    walk.click(&format!("{row} .danger-link")).await;
    walk.dialog_open("Revoke this API key?").await;
    walk.see("Careers site").await;
    walk.see("it cannot be undone").await;
    walk.click_text("Cancel").await;
    walk.dialog_closed().await;
    assert!(
        walk.focused().await.contains("Revoke"),
        "focus returns to Revoke"
    );
    assert!(walk.text_of(&row).await.contains("Active"));

    walk.click(&format!("{row} .danger-link")).await;
    walk.dialog_open("Revoke this API key?").await;
    walk.step("confirm").await;
    walk.click_testid("confirm-revoke").await;
    walk.see(&format!(
        "Revoked “Careers site” (dcj_…{}). It no longer works.",
        &key[49..]
    ))
    .await;
    let text = walk.text_of(&row).await;
    assert!(
        text.contains("Revoked") && !text.contains("Active"),
        "{text}"
    );
    assert_eq!(
        walk.count(&format!("{row} .danger-link")).await,
        0,
        "a revoked key offers no Revoke"
    );
    let other = row_of(&walk, "Payroll sync").await;
    assert!(
        walk.text_of(&other).await.contains("Active"),
        "other keys stay live"
    );
    walk.step("revoked").await;

    let refused = reqwest::Client::new()
        .post(walk.url("/boards-api/v1/boards/acme/jobs/1"))
        .basic_auth(&key, Some(""))
        .send()
        .await
        .expect("the gate answers");
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    walk.finish().await;
}

/// Walk 5: a Job Board manager is offered Job Board keys only and never sees Harvest keys.
#[tokio::test]
async fn a_job_board_manager_sees_and_creates_job_board_keys_only() {
    let Some(mut walk) = Walk::start("job_board_manager").await else {
        return;
    };
    let admin = walk.app.admin().await;
    admin.new_key("harvest", "Payroll sync").await;
    admin.new_key("job_board", "Careers site").await;
    let output = walk.app.create_user(
        "jo.board@example.com",
        "basic",
        &["manage_job_board_credentials"],
    );
    assert!(output.status.success());
    walk.sign_in("jo.board@example.com", crate::helpers::PASSWORD)
        .await;
    walk.click_testid("nav-dev-center").await;
    walk.arrive("/configure/dev_center").await;
    assert!(
        !walk.visible_text().await.contains("Client Applications"),
        "client applications are for managers of all credentials"
    );
    walk.click_testid("api-credential-management-link").await;
    walk.arrive(CREDENTIALS).await;
    let text = walk.visible_text().await;
    assert!(text.contains("Careers site"), "{text}");
    assert!(
        !text.contains("Payroll sync"),
        "Harvest keys are not listed: {text}"
    );
    assert!(!text.contains("Manage Permissions"));
    walk.step("credentials").await;

    walk.click_testid("create-new-api-key").await;
    walk.dialog_open("Create New Credential").await;
    let offered = walk
        .js(
            "return Array.from(document.querySelectorAll('#api_type option')).map(function (o) { return o.text.trim(); });",
            vec![],
        )
        .await;
    assert_eq!(
        offered,
        serde_json::json!(["Job Board"]),
        "only Job Board is offered"
    );
    assert_eq!(
        walk.count("#client_application_id").await,
        0,
        "no partner to choose"
    );
    walk.see_in("[data-submit-label]", "Create").await;
    walk.type_into("#description", "Internal careers page")
        .await;
    walk.step("create-dialog").await;
    walk.click_text("Create").await;
    copy_shown_key(&walk, "Job Board", "dcj_").await;
    walk.step("key").await;
    walk.click_testid("stored-api-key-continue").await;
    walk.dialog_closed().await;
    let text = walk.visible_text().await;
    assert!(text.contains("Internal careers page") && !text.contains("Payroll sync"));
    walk.step("list").await;
    walk.finish().await;
}

/// Walk 6: without a developer permission, Dev Center answers with a friendly 403 page.
#[tokio::test]
async fn a_user_without_developer_permissions_meets_a_friendly_403_page() {
    let Some(mut walk) = Walk::start("forbidden").await else {
        return;
    };
    let output = walk
        .app
        .create_user("sam.recruiter@example.com", "basic", &[]);
    assert!(output.status.success());
    walk.sign_in("sam.recruiter@example.com", crate::helpers::PASSWORD)
        .await;
    walk.see_in("main h1", "Configure").await;
    walk.step("configure").await;
    walk.click_testid("nav-dev-center").await;
    walk.arrive("/configure/dev_center").await;
    walk.see_in("h1", "You don't have access to this page")
        .await;
    walk.see("ERROR 403").await; // "Error 403", set in capitals by the stylesheet
    walk.see("Can manage ALL organization's API Credentials")
        .await;
    walk.see("Ask a Site Admin to grant it.").await;
    // Signed in, refused: the top bar still names them and offers Sign out.
    walk.see_in(".user-name", "sam recruiter").await;
    walk.find("form[action=\"/logout\"] button").await;
    walk.step("forbidden").await;

    // Typing the address of the list gets the same page, and a way back.
    walk.visit(CREDENTIALS).await;
    walk.see_in("h1", "You don't have access to this page")
        .await;
    walk.click_text("Back to Configure").await;
    walk.arrive("/configure").await;
    walk.see_in("main h1", "Configure").await;

    // The top bar keeps its Configure icon on the error page too.
    walk.visit("/configure/dev_center/credentials/new").await;
    walk.see_in("h1", "You don't have access to this page")
        .await;
    walk.click_testid("configure-icon").await;
    walk.arrive("/configure").await;
    walk.finish().await;
}

/// Walk 7: the whole create walk with the keyboard only.
#[tokio::test]
async fn the_create_walk_works_with_the_keyboard_only() {
    let Some(mut walk) = Walk::start("keyboard").await else {
        return;
    };
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.visit("/login").await;
    walk.see("Sign in to Dev Center").await;
    walk.tab_until(10, |f| f.starts_with("input|email")).await;
    walk.assert_focus_visible().await;
    walk.type_keys(&email).await;
    walk.press(&[Key::Tab]).await;
    walk.type_keys(&password).await;
    walk.step("sign-in").await;
    walk.press(&[Key::Enter]).await;
    walk.arrive("/configure").await;

    walk.tab_until(20, |f| f.contains("|nav-dev-center|")).await;
    walk.assert_focus_visible().await;
    walk.press(&[Key::Enter]).await;
    walk.arrive("/configure/dev_center").await;
    walk.tab_until(20, |f| f.contains("|api-credential-management-link|"))
        .await;
    walk.step("dev-center-focused").await;
    walk.press(&[Key::Enter]).await;
    walk.arrive(CREDENTIALS).await;

    // Tab to Create New API Key; Enter opens the dialog with focus inside; Esc closes it
    // and focus returns.
    walk.tab_until(20, |f| f.contains("|create-new-api-key|"))
        .await;
    walk.assert_focus_visible().await;
    walk.step("create-focused").await;
    walk.press(&[Key::Enter]).await;
    walk.dialog_open("Create New Credential").await;
    assert!(walk.focus_in_dialog().await, "focus is inside the dialog");
    assert!(
        walk.focused().await.starts_with("select|api_type"),
        "{}",
        walk.focused().await
    );
    walk.press(&[Key::Escape]).await;
    walk.dialog_closed().await;
    assert!(
        walk.focused().await.contains("|create-new-api-key|"),
        "focus returns to Create New API Key: {}",
        walk.focused().await
    );

    walk.press(&[Key::Enter]).await;
    walk.dialog_open("Create New Credential").await;
    // "H" moves past Harvest (chosen already) to Harvest v3, whose button differs; the up
    // arrow comes back to Harvest.
    walk.type_keys("H").await;
    walk.see_in("[data-submit-label]", "View and store credentials")
        .await;
    walk.press(&[Key::Up]).await;
    walk.see_in("[data-submit-label]", "Manage Permissions")
        .await;
    walk.tab_until(5, |f| f.starts_with("input|description"))
        .await;
    walk.type_keys("Keyboard only").await;
    walk.step("dialog-filled").await;
    walk.press(&[Key::Enter]).await;
    walk.dialog_open("Your new Harvest API key").await;
    assert!(walk.focus_in_dialog().await, "focus is inside the key view");
    let key = walk.text_of(r#"[data-testid="api-key-value"]"#).await;
    walk.tab_until(5, |f| f.contains("|copy-api-key|")).await;
    walk.press(&[Key::Enter]).await;
    walk.see("The key is on your clipboard.").await;
    assert_eq!(walk.clipboard().await, key);
    walk.press(&[Key::Escape]).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(walk.dialog_is_open().await, "Esc does not lose the key");
    walk.step("key-copied").await;
    walk.tab_until(5, |f| f.contains("|stored-api-key-continue|"))
        .await;
    walk.press(&[Key::Enter]).await;
    walk.see_in("main h1", "Manage API Key Permissions").await;

    walk.tab_until(40, |f| f.contains("|select-all-endpoints|"))
        .await;
    walk.assert_focus_visible().await;
    walk.press(&[Key::Space]).await;
    walk.see("133 of 133 endpoints selected").await;
    walk.step("select-all").await;
    // Past the filter box, "Skip to Update" saves Tab-ing through 133 endpoints.
    walk.tab_until(4, |f| f.ends_with("|Skip to Update")).await;
    walk.assert_focus_visible().await;
    walk.step("skip-to-update").await;
    walk.press(&[Key::Enter]).await;
    let focused = walk.focused().await;
    assert!(
        focused.starts_with("button|update-permissions|Update"),
        "{focused}"
    );
    walk.assert_focus_visible().await;
    walk.press(&[Key::Enter]).await;
    walk.see("Permissions updated: this key is granted 133 endpoints.")
        .await;
    walk.step("updated").await;
    walk.finish().await;
}

/// Walk 8: at phone width nothing scrolls sideways and the table stays usable.
#[tokio::test]
async fn at_phone_width_nothing_scrolls_sideways() {
    let Some(mut walk) = Walk::start_at("phone", PHONE).await else {
        return;
    };
    let admin = walk.app.admin().await;
    admin
        .new_key(
            "harvest",
            "Background checks for the Northern Europe offices (Acme)",
        )
        .await;
    admin.new_key("job_board", "Careers site").await;
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;
    walk.assert_no_sideways_scroll().await;

    walk.click_testid("configure-icon").await;
    walk.testid("nav-dev-center").await;
    walk.assert_no_sideways_scroll().await;
    walk.step("configure").await;
    walk.click_testid("nav-dev-center").await;
    walk.click_testid("api-credential-management-link").await;
    walk.arrive(CREDENTIALS).await;
    walk.assert_no_sideways_scroll().await;

    // Every row shows its description, key and status, and its actions fit on screen.
    let rows = walk.count(r#"[data-testid="credential-row"]"#).await;
    assert_eq!(rows, 2);
    let overflow = walk
        .js(
            "var out = [];
             document.querySelectorAll('[data-testid=credential-row] td, [data-testid=credential-row] a').forEach(function (e) {
               var r = e.getBoundingClientRect();
               if (r.width > 0 && (r.left < 0 || r.right > window.innerWidth)) out.push(e.outerHTML.slice(0, 80));
             });
             return out;",
            vec![],
        )
        .await;
    assert_eq!(
        overflow,
        serde_json::json!([]),
        "table cells fit the screen"
    );
    let text = walk.visible_text().await;
    for seen in [
        "Careers site",
        "Job Board",
        "Harvest",
        "Active",
        "Manage Permissions",
    ] {
        assert!(text.contains(seen), "{seen} is readable at phone width");
    }
    walk.step("credentials").await;

    walk.click_testid("create-new-api-key").await;
    walk.dialog_open("Create New Credential").await;
    let dialog_width = walk
        .js(
            "return document.getElementById('app-dialog').getBoundingClientRect().right <= window.innerWidth;",
            vec![],
        )
        .await;
    assert_eq!(
        dialog_width,
        serde_json::json!(true),
        "the dialog fits the screen"
    );
    walk.choose("#api_type", "Harvest").await;
    walk.type_into("#description", "Phone-made key").await;
    walk.assert_no_sideways_scroll().await;
    walk.step("create-dialog").await;
    walk.click_text("Manage Permissions").await;
    walk.dialog_open("Your new Harvest API key").await;
    walk.assert_no_sideways_scroll().await;
    walk.step("key").await;
    walk.click_testid("stored-api-key-continue").await;
    walk.see_in("main h1", "Manage API Key Permissions").await;
    walk.assert_no_sideways_scroll().await;
    walk.click_testid("select-all-endpoints").await;
    walk.testid("update-permissions").await;
    walk.step("permissions").await;
    walk.click_testid("update-permissions").await;
    walk.see("Permissions updated: this key is granted 133 endpoints.")
        .await;
    walk.assert_no_sideways_scroll().await;

    // From the list on a phone: Manage Permissions and Revoke are reachable.
    walk.click_text("Back to API keys").await;
    let row = row_of(&walk, "Careers site").await;
    walk.click(&format!("{row} .danger-link")).await;
    walk.dialog_open("Revoke this API key?").await;
    walk.assert_no_sideways_scroll().await;
    walk.click_testid("confirm-revoke").await;
    walk.see("It no longer works.").await;
    assert!(walk.text_of(&row).await.contains("Revoked"));
    walk.assert_no_sideways_scroll().await;
    walk.step("revoked").await;
    walk.finish().await;
}

/// Walk 9: a Site Admin grants a developer permission on Configure → Users, and the user —
/// who met the 403 page a moment before, in their own browser — can manage API keys on
/// their very next request, without signing in again.
#[tokio::test]
async fn a_site_admin_grants_a_developer_permission_that_applies_at_once() {
    let Some(mut walk) = Walk::start("grant_permission").await else {
        return;
    };
    let sam = "sam.recruiter@example.com";
    for (email, level) in [(sam, "basic"), ("jo.coordinator@example.com", "basic")] {
        let output = walk.app.create_user(email, level, &[]);
        assert!(output.status.success());
    }
    let sam_id = walk.app.user_id(sam);
    let all_credentials = "Can manage ALL organization's API Credentials";

    // Sam, in a browser of their own, has no developer permission yet.
    let mut user = walk.another_browser("grant_permission_user").await;
    user.sign_in(sam, crate::helpers::PASSWORD).await;
    user.click_testid("nav-dev-center").await;
    user.arrive("/configure/dev_center").await;
    user.see_in("h1", "You don't have access to this page")
        .await;
    user.see(all_credentials).await;
    user.step("forbidden").await;

    // The Site Admin: Configure → Users, on the left-hand panel.
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;
    walk.click_testid("nav-users").await;
    walk.arrive("/configure/users").await;
    walk.see_in("main h1", "Users").await;
    let row = format!(r#"[data-testid="user-row"][data-user-id="{sam_id}"]"#);
    let text = walk.text_of(&row).await;
    assert!(
        text.contains("sam recruiter") && text.contains(sam) && text.contains("Basic"),
        "Sam's row: {text}"
    );
    assert!(text.contains("None"), "no developer permission yet: {text}");
    assert_eq!(walk.count(r#"[data-testid="user-row"]"#).await, 3);
    walk.step("users").await;

    // The search box narrows the table to Sam.
    walk.type_into("#user-search", "sam").await;
    walk.press(&[Key::Enter]).await;
    walk.see_in("main h1", "Users").await;
    walk.see("Clear").await;
    let started = std::time::Instant::now();
    while walk.count(r#"[data-testid="user-row"]"#).await != 1 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the search leaves Sam alone"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    walk.find(&row).await;
    walk.step("search").await;

    // Sam's page: tick the permission, Save.
    walk.click(&format!("{row} a")).await;
    walk.arrive(&format!("/configure/users/{sam_id}")).await;
    walk.see_in("main h1", "sam recruiter").await;
    walk.see(sam).await;
    let all_box = r#"input[name="permissions"][value="manage_all_credentials"]"#;
    assert!(!walk.find(all_box).await.is_selected().await.unwrap());
    assert_eq!(walk.count(r#"input[name="permissions"]:checked"#).await, 0);
    walk.click(all_box).await;
    assert!(walk.find(all_box).await.is_selected().await.unwrap());
    walk.step("ticked").await;
    walk.click_testid("save-user").await;
    walk.see("Saved. The change applies on the user's next request.")
        .await;
    walk.find(".flash[role=status]").await;
    walk.arrive(&format!("/configure/users/{sam_id}")).await;
    assert!(
        walk.find(all_box).await.is_selected().await.unwrap(),
        "the page shows what was stored"
    );
    assert_eq!(walk.count(r#"input[name="permissions"]:checked"#).await, 1);
    walk.step("saved").await;

    // The users table says so too.
    walk.click_text("Back to users").await;
    walk.arrive("/configure/users").await;
    let text = walk.text_of(&row).await;
    assert!(text.contains(all_credentials), "{text}");

    // Sam's very next request — a reload of the page that refused them — is let in.
    user.client.refresh().await.expect("reload");
    user.see_in("main h1", "Dev Center").await;
    user.arrive("/configure/dev_center").await;
    user.step("dev-center").await;
    user.click_testid("api-credential-management-link").await;
    user.arrive(CREDENTIALS).await;
    user.see_in("main h1", "API Credential Management").await;
    user.see_in(
        r#"[data-testid="create-new-api-key"]"#,
        "Create New API Key",
    )
    .await;
    user.see("No API keys yet").await;
    user.step("credentials").await;

    // The grant is in Sam's history on the audit log, newest first.
    walk.click(&format!("{row} a")).await;
    walk.click_testid("user-history").await;
    walk.arrive("/configure/audit_log").await;
    walk.see_in("main h1", "Audit Log").await;
    walk.see("The history of one user.").await;
    let actions = walk.texts_of(r#"[data-testid="audit-action"]"#).await;
    assert_eq!(
        actions.first().map(String::as_str),
        Some("Developer permissions changed"),
        "{actions:?}"
    );
    let summaries = walk.texts_of(r#"[data-testid="audit-summary"]"#).await;
    assert_eq!(
        summaries[0],
        format!("Developer permissions of sam recruiter <{sam}>: granted “{all_credentials}”.")
    );
    assert!(
        !walk
            .text_of(r#"[data-testid="audit-log-table"]"#)
            .await
            .contains("jo coordinator"),
        "only Sam's history"
    );
    walk.step("history").await;

    // Add a user with a bad e-mail: the title says so and focus is on the e-mail.
    walk.visit("/configure/users/new").await;
    walk.see_in("main h1", "Add a user").await;
    walk.type_into("#name", "Pat Typo").await;
    walk.type_into("#email", "not-an-email").await;
    walk.click_text("Add user").await;
    walk.find("#email[aria-invalid=true]").await;
    let title = walk.client.title().await.expect("the title");
    assert!(title.starts_with("Error:"), "{title}");
    focus_reaches(&walk, "input|email").await;

    user.finish().await;
    walk.finish().await;
}

/// Walk 10: a manager creates a Harvest key, grants it endpoints, and reads the key's
/// history from the credentials table: newest first, filtered, exported — never the key.
#[tokio::test]
async fn a_manager_reads_a_keys_history_from_the_credentials_table() {
    let Some(mut walk) = Walk::start("key_history").await else {
        return;
    };
    // Someone else's key, with grants of its own: not part of this key's history.
    let admin = walk.app.admin().await;
    let (_, other) = admin.new_key("harvest", "Payroll sync").await;
    admin
        .update_permissions(other, &["GET /v1/jobs", "GET /v1/offers"])
        .await;
    let output = walk.app.create_user(
        "mia.manager@example.com",
        "basic",
        &["manage_all_credentials"],
    );
    assert!(output.status.success());
    walk.sign_in("mia.manager@example.com", crate::helpers::PASSWORD)
        .await;

    // A Harvest key, shown once.
    open_credentials(&walk).await;
    fill_create_dialog(&walk, "Harvest", None, "Background checks (Acme)").await;
    walk.click_text("Manage Permissions").await;
    walk.dialog_open("Your new Harvest API key").await;
    let key = walk.text_of(r#"[data-testid="api-key-value"]"#).await;
    assert!(key.starts_with("dch_"), "a Harvest key is shown: {key}");
    walk.step("key-shown").await;

    // Manage API Key Permissions: two endpoints, found with the filter box, then Update.
    walk.click_testid("stored-api-key-continue").await;
    walk.see_in("main h1", "Manage API Key Permissions").await;
    let granted = ["GET /v1/candidates", "GET /v1/applications"];
    for endpoint in granted {
        let (_, path) = endpoint.split_once(' ').unwrap_or_default();
        walk.type_into("#endpoint-filter", path).await;
        walk.click(&format!(r#"input[name="endpoints"][value="{endpoint}"]"#))
            .await;
    }
    walk.type_into("#endpoint-filter", "").await;
    walk.see(&format!("2 of {TOTAL_ENDPOINTS} endpoints selected"))
        .await;
    walk.click_testid("update-permissions").await;
    walk.see("Permissions updated: this key is granted 2 endpoints.")
        .await;
    walk.step("granted").await;

    // From the credentials table, the row's History link.
    walk.click_text("Back to API keys").await;
    walk.arrive(CREDENTIALS).await;
    let row = row_of(&walk, "Background checks (Acme)").await;
    walk.click(&format!(r#"{row} [data-testid="credential-history"]"#))
        .await;
    walk.arrive("/configure/audit_log").await;
    walk.see_in("main h1", "Audit Log").await;
    walk.see_in(
        r#"[data-testid="object-history"]"#,
        "The history of one API key. Show every event",
    )
    .await;
    let actions = walk.texts_of(r#"[data-testid="audit-action"]"#).await;
    assert_eq!(
        actions,
        ["Endpoint grants changed", "API key created"],
        "this key's events, newest first"
    );
    let summaries = walk.texts_of(r#"[data-testid="audit-summary"]"#).await;
    for endpoint in granted {
        assert!(
            summaries[0].starts_with("Endpoint grants of “Background checks (Acme)”: granted ")
                && summaries[0].contains(&format!("“{endpoint}”")),
            "the grant names {endpoint}: {}",
            summaries[0]
        );
    }
    assert!(
        summaries[0].ends_with("2 granted in all."),
        "{}",
        summaries[0]
    );
    assert_eq!(
        summaries[1],
        "Created the Harvest API key “Background checks (Acme)”."
    );
    let rows = walk.texts_of(r#"[data-testid="audit-row"]"#).await;
    assert!(
        rows.iter().all(|r| r.contains("mia manager")),
        "Mia did both: {rows:?}"
    );
    let text = walk.visible_text().await;
    assert!(
        !text.contains("Payroll sync") && !text.contains("GET /v1/offers"),
        "another key's events are not in this history"
    );
    let source = walk.client.source().await.expect("the page source");
    assert!(!source.contains(&key), "the audit log never shows the key");
    assert!(
        !source.contains(&key[4..]),
        "nor the key without its prefix"
    );
    walk.step("history").await;

    // Narrowed to one action: the key's filter stays.
    walk.choose("#action", "API key created").await;
    walk.click_text("Filter").await;
    walk.see("Clear filters").await;
    let actions = walk.texts_of(r#"[data-testid="audit-action"]"#).await;
    assert_eq!(actions, ["API key created"]);
    walk.see("The history of one API key.").await;
    walk.step("filtered").await;

    // Export CSV: the same filtered view, as a file; never the key.
    walk.click_testid("export-audit-log").await;
    let (file, csv) = walk.downloaded().await;
    assert!(
        file.starts_with("audit_log-") && file.ends_with(".csv"),
        "{file}"
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "a header and one event: {csv}");
    assert!(lines[0].starts_with("time_utc,actor,"), "{}", lines[0]);
    assert!(
        lines[1].contains("credential_created")
            && lines[1].contains("Background checks (Acme)")
            && lines[1].contains("mia manager"),
        "{}",
        lines[1]
    );
    assert!(!csv.contains(&key[4..]), "the export never holds the key");
    walk.finish().await;
}

/// A manager reads what a partner's key did at the gate: the credentials table's Request
/// log link, the requests newest first with their statuses, and the 4xx filter.
#[tokio::test]
async fn a_manager_reads_a_keys_request_log() {
    let Some(mut walk) = Walk::start("request_log").await else {
        return;
    };
    let admin = walk.app.admin().await;
    let (key, id) = admin.new_key("harvest", "Acme background checks").await;
    admin
        .update_permissions(id, &["GET /v1/candidates", "GET /v1/candidates/{id}"])
        .await;
    let gate = format!("http://{}", walk.app.address);
    let client = reqwest::Client::new();
    for (path, status) in [
        ("/harvest/v1/candidates?per_page=100", 200),
        ("/harvest/v1/candidates/4242", 200),
        ("/harvest/v1/offers", 403),
        ("/harvest/v1/candidates/4242/secret", 404),
    ] {
        let answer = client
            .get(format!("{gate}{path}"))
            .basic_auth(&key, Some(""))
            .header("User-Agent", "acme-checks/3.2")
            .send()
            .await
            .expect("the gate answers");
        assert_eq!(answer.status().as_u16(), status, "{path}");
    }
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;
    open_credentials(&walk).await;
    let row = row_of(&walk, "Acme background checks").await;
    walk.click(&format!(r#"{row} [data-testid="credential-request-log"]"#))
        .await;
    let log = format!("{CREDENTIALS}/{id}/requests");
    walk.arrive(&log).await;
    walk.see_in("main h1", "Request log: Acme background checks")
        .await;
    // Requests are written in batches a few seconds apart: reload until they are there.
    let started = std::time::Instant::now();
    while walk.count(r#"[data-testid="request-log-row"]"#).await < 4
        && started.elapsed() < std::time::Duration::from_secs(20)
    {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        walk.visit(&log).await;
    }
    let rows = walk.texts_of(r#"[data-testid="request-log-row"]"#).await;
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(
        rows[0].contains("/harvest/v1/candidates/4242/secret") && rows[0].contains("404"),
        "newest first: {}",
        rows[0]
    );
    assert!(rows[1].contains("/harvest/v1/offers") && rows[1].contains("403"));
    assert!(
        rows.iter()
            .all(|r| r.contains("acme-checks/3.2") && r.contains("127.0.0.1"))
    );
    let source = walk.client.source().await.expect("the page source");
    assert!(!source.contains(&key), "the log never shows the key");
    assert!(!source.contains("per_page"), "nor a query string");
    walk.step("requests").await;

    walk.click_text("4xx").await;
    walk.see_in(r#".status-filters [aria-current="page"]"#, "4xx")
        .await;
    let rows = walk.texts_of(r#"[data-testid="request-log-row"]"#).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    walk.step("client-errors").await;
    walk.finish().await;
}

/// Small and muted text reads at AAA contrast (7:1) and at 13 px or more; titles say where
/// a person is, once, with the page number on paged lists, and every breadcrumb starts
/// at Configure.
#[tokio::test]
async fn small_text_reads_at_aaa_contrast_and_titles_say_where_you_are() {
    let Some(mut walk) = Walk::start("aaa").await else {
        return;
    };
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;
    let admin = walk.app.admin().await;
    let (_, id) = admin.new_key("harvest", "Contrast check").await;
    for n in 0..30 {
        admin.new_key("job_board", &format!("Paged key {n}")).await;
    }

    // Each small or muted text: its colour against the first opaque background behind it,
    // and its size. Any below 7:1 or 13 px is listed.
    let below_aaa = r#"
        const lum = (rgb) => {
            const c = rgb.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => {
                v /= 255;
                return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
            });
            return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
        };
        const background = (el) => {
            for (; el; el = el.parentElement) {
                const bg = getComputedStyle(el).backgroundColor;
                const alpha = bg.match(/\d+(\.\d+)?/g)[3];
                if (alpha === undefined || Number(alpha) > 0.5) return bg;
            }
            return 'rgb(255, 255, 255)';
        };
        const found = [];
        for (const el of document.querySelectorAll(arguments[0])) {
            if (!el.offsetParent) continue;
            const style = getComputedStyle(el);
            const [a, b] = [lum(style.color), lum(background(el))].sort((x, y) => y - x);
            const ratio = (a + 0.05) / (b + 0.05);
            const size = parseFloat(style.fontSize);
            if (ratio < 7 || size < 13) {
                found.push(`${el.className || el.tagName} "${el.textContent.trim().slice(0, 20)}": ${ratio.toFixed(2)}:1 at ${size}px`);
            }
        }
        return found;
    "#;
    let small = ".data-table th, .breadcrumb, .hint, .side-panel-title, .method, .endpoint-path, .muted, .pagination";
    for page in [
        CREDENTIALS.to_owned(),
        format!("{CREDENTIALS}/{id}/permissions"),
        "/configure/audit_log".to_owned(),
    ] {
        walk.visit(&page).await;
        walk.find("main h1").await;
        let found = walk.js(below_aaa, vec![small.into()]).await;
        assert_eq!(found, serde_json::json!([]), "below AAA on {page}");
    }
    walk.step("aaa").await;

    walk.visit("/configure/dev_center").await;
    walk.find("main h1").await;
    let title = walk.js("return document.title", vec![]).await;
    assert_eq!(title, "Dev Center", "the product's name once");
    walk.visit(&format!("{CREDENTIALS}?page=2")).await;
    walk.find("main h1").await;
    let title = walk.js("return document.title", vec![]).await;
    assert_eq!(
        title, "API Credential Management, page 2 of 2 · Dev Center",
        "a paged list's title has its page"
    );
    walk.visit(&format!("{CREDENTIALS}/{id}/permissions")).await;
    let crumbs = walk.text_of(".breadcrumb").await;
    assert!(crumbs.starts_with("Configure"), "{crumbs}");
    // The filter says how many it shows, says so when none match, and Select All says it
    // selects the shown ones only.
    walk.type_into("#endpoint-filter", "jobs").await;
    let shown = walk.count("[data-endpoint]:not([hidden])").await;
    assert!(shown > 0 && shown < 133, "{shown}");
    let status = "return document.querySelector('[data-filter-status]').textContent";
    assert_eq!(
        walk.js(status, vec![]).await,
        format!("{shown} of 133 endpoints shown"),
        "read out to screen readers"
    );
    walk.see_in(
        "[data-select-all-label]",
        &format!("Select the {shown} shown"),
    )
    .await;
    walk.type_into("#endpoint-filter", "zzzz").await;
    assert_eq!(walk.js(status, vec![]).await, "0 of 133 endpoints shown");
    walk.see("No endpoint matches this filter").await;
    // Erased as a person erases it, key by key: each one filters again.
    for _ in 0.."zzzz".len() {
        walk.press(&[Key::Backspace]).await;
    }
    walk.see_in("[data-select-all-label]", "Select All").await;
    let slashes_break = walk
        .js(
            "return [...document.querySelectorAll('.endpoint-path')].every(p => \
             p.querySelectorAll('wbr').length === (p.textContent.match(/\\//g) || []).length)",
            vec![],
        )
        .await;
    assert_eq!(slashes_break, true, "a path may break after each /");
    let brand = walk.text_of(".brand").await;
    assert!(
        !brand.to_lowercase().contains("greenhouse"),
        "the product is Dev Center, not another's brand: {brand}"
    );
    let first_heading = walk
        .js(
            "return document.querySelector('h1, h2, h3').tagName",
            vec![],
        )
        .await;
    assert_eq!(first_heading, "H1", "the page's own heading comes first");

    // Error pages say something the heading does not, and lead back where a person was.
    walk.visit("/configure/no-such-page").await;
    let heading = walk.text_of("main h1").await;
    let text = walk
        .text_of(".error-card p:not(.error-status):not(.error-actions)")
        .await;
    assert_ne!(
        text.trim_end_matches('.'),
        heading,
        "the text does not repeat the heading"
    );
    walk.visit(&format!("{CREDENTIALS}/999999/revoke")).await;
    walk.see_in("main h1", "API key not found").await;
    let back = walk
        .js(
            "return [...document.querySelectorAll('.error-actions a')].map(a => a.getAttribute('href'))",
            vec![],
        )
        .await;
    assert!(
        back.as_array()
            .is_some_and(|links| links.iter().any(|l| l == CREDENTIALS)),
        "a way back to API Credential Management: {back}"
    );
    walk.step("missing-key").await;
    walk.finish().await;
}

/// The accessibility check is able to fail: a sign-in field stripped of its label is caught.
#[tokio::test]
async fn the_accessibility_check_catches_an_unlabelled_field() {
    let Some(mut walk) = Walk::start("axe_self_check").await else {
        return;
    };
    walk.visit("/login").await;
    walk.see("Sign in to Dev Center").await;
    walk.step("labelled").await;
    walk.js(
        "document.querySelector('label[for=password]').remove();",
        vec![],
    )
    .await;
    let found = walk.accessibility_violations().await;
    assert!(
        found
            .iter()
            .any(|v| v.id == "label" && v.impact == "critical"),
        "axe-core reports the unlabelled password field: {found:?}"
    );
    walk.finish().await;
}

/// The README's walkthrough shows every curated screenshot, and each is committed.
#[test]
fn the_readme_shows_every_curated_screenshot() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("the README");
    let curated = crate::harness::curated_docs();
    assert!(curated.len() >= 6, "at least six screenshots");
    for name in curated {
        assert!(
            root.join("docs/screenshots").join(name).is_file(),
            "docs/screenshots/{name} is committed"
        );
        assert!(
            readme.contains(&format!("](docs/screenshots/{name})")),
            "the README shows {name}"
        );
    }
}

/// Every link in every credential row's Actions cell that is cut off: outside the viewport
/// or outside the table's scrolling box. Also the table's width against its box's.
async fn credential_actions_cut_off(walk: &Walk) -> (i64, i64, Vec<String>) {
    let measured = walk
        .js(
            "var table = document.querySelector('[data-testid=credentials-table]');
             var wrap = table.closest('.table-wrap');
             var box = wrap.getBoundingClientRect();
             var out = [];
             document.querySelectorAll('[data-testid=credential-row] .actions a').forEach(function (a) {
               var r = a.getBoundingClientRect();
               if (r.width === 0 || r.left < 0 || r.right > window.innerWidth
                   || r.left < box.left || r.right > box.right + 0.5)
                 out.push(a.innerText.trim() + ' at ' + Math.round(r.left) + '–' + Math.round(r.right));
             });
             return [table.scrollWidth, wrap.clientWidth, out];",
            vec![],
        )
        .await;
    let cut: Vec<String> = measured[2]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    (
        measured[0].as_i64().unwrap_or_default(),
        measured[1].as_i64().unwrap_or_default(),
        cut,
    )
}

/// Walk 13: at desktop widths the credentials table fits its card with the longest
/// realistic values — a 255-character description, a long partner name, every status —
/// and every row's actions are on screen.
#[tokio::test]
async fn at_desktop_widths_the_credentials_table_fits_with_long_values() {
    let Some(mut walk) = Walk::start("wide_values").await else {
        return;
    };
    let admin = walk.app.admin().await;
    let partner = "Northwind Background Screening and Assessment Services International (EMEA)";
    let app_id = admin
        .client_application(partner, &["GET /v1/candidates"])
        .await;
    let long = "Nightly sync of candidates, applications, scorecards and offers into the \
                Northwind background screening platform for every office in Europe, the \
                Middle East and Africa, owned by the people team; rotate every quarter \
                and ask Danah in the people team before changing any of its endpoints";
    let long: String = long.chars().take(255).collect();
    assert_eq!(long.chars().count(), 255);
    let made = admin
        .create_credential("partner", &app_id.to_string(), &long)
        .await;
    assert_eq!(made.status, reqwest::StatusCode::OK, "{}", made.body);
    let (_, revoked) = admin
        .new_key("harvest", "Payroll sync for the finance team (retired)")
        .await;
    admin.revoke(revoked).await;
    admin.new_key("job_board", "Careers site").await;
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;
    open_credentials(&walk).await;
    assert_eq!(walk.count(r#"[data-testid="credential-row"]"#).await, 3);
    let text = walk.visible_text().await;
    for seen in [partner, long.as_str(), "Revoked", "Active"] {
        assert!(text.contains(seen), "{seen} is on the page");
    }

    for (width, label) in [(1280, "table-1280"), (1024, "table-1024")] {
        walk.resize((width, 860)).await;
        walk.assert_no_sideways_scroll().await;
        let (table, wrap, cut) = credential_actions_cut_off(&walk).await;
        assert!(
            table <= wrap,
            "at {width}px the table is {table}px wide in a {wrap}px box"
        );
        assert!(cut.is_empty(), "at {width}px actions are cut off: {cut:?}");
        for action in ["Manage Permissions", "History", "Revoke"] {
            assert!(
                walk.texts_of(r#"[data-testid="credential-row"] .actions a"#)
                    .await
                    .iter()
                    .any(|t| t.starts_with(action)),
                "{action} is offered at {width}px"
            );
        }
        walk.step(label).await;
    }
    walk.finish().await;
}

/// The filter fields of the audit log whose top edges are not level with the other
/// fields of their row.
async fn misaligned_filter_fields(walk: &Walk) -> Vec<String> {
    let found = walk
        .js(
            "var ids = ['actor', 'action', 'from', 'to'];
             var boxes = ids.map(function (id) {
               var control = document.getElementById(id);
               return { id: id, field: control.closest('.field').getBoundingClientRect(),
                        top: control.getBoundingClientRect().top };
             });
             var out = [];
             boxes.forEach(function (a) { boxes.forEach(function (b) {
               var sameRow = a.field.top < b.field.bottom && b.field.top < a.field.bottom;
               if (a.id < b.id && sameRow && Math.abs(a.top - b.top) > 1)
                 out.push(a.id + ' ' + a.top + ' / ' + b.id + ' ' + b.top);
             }); });
             return out;",
            vec![],
        )
        .await;
    strings(&found)
}

/// The texts of a script's answer that is a list of texts.
fn strings(found: &serde_json::Value) -> Vec<String> {
    found
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The left-hand panel's links that are not wholly visible (cut off by the strip or the
/// screen).
async fn panel_links_cut_off(walk: &Walk) -> Vec<String> {
    let found = walk
        .js(
            "var panel = document.querySelector('.side-panel').getBoundingClientRect();
             var out = [];
             document.querySelectorAll('.side-panel a').forEach(function (a) {
               var r = a.getBoundingClientRect();
               if (r.left < Math.max(0, panel.left) - 0.5 || r.right > Math.min(window.innerWidth, panel.right) + 0.5
                   || r.top < panel.top - 0.5 || r.bottom > panel.bottom + 0.5)
                 out.push(a.innerText.trim() + (a.getAttribute('aria-current') ? ' (current)' : ''));
             });
             return out;",
            vec![],
        )
        .await;
    strings(&found)
}

/// Walk 14: on a phone the left-hand panel shows every item, the audit log's filters sit
/// level, its cards keep the address beside Who, and an invalid date says what is wrong.
#[tokio::test]
async fn at_phone_width_the_panel_and_the_audit_log_read_well() {
    let Some(mut walk) = Walk::start_at("phone_audit_log", PHONE).await else {
        return;
    };
    let admin = walk.app.admin().await;
    admin.new_key("job_board", "Careers site").await;
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;
    walk.visit("/configure/dev_center").await;
    walk.testid("nav-audit-log").await;
    assert_eq!(
        panel_links_cut_off(&walk).await,
        Vec::<String>::new(),
        "every left-panel item is wholly visible"
    );
    walk.step("panel").await;

    walk.click_testid("nav-audit-log").await;
    walk.arrive("/configure/audit_log").await;
    walk.see_in("main h1", "Audit Log").await;
    walk.assert_no_sideways_scroll().await;
    assert_eq!(
        panel_links_cut_off(&walk).await,
        Vec::<String>::new(),
        "every left-panel item, the current one too, is wholly visible"
    );
    assert_eq!(misaligned_filter_fields(&walk).await, Vec::<String>::new());
    // In the cards, the address stays beside Who, right of the label column.
    let strays = walk
        .js(
            "var out = [];
             document.querySelectorAll('[data-testid=audit-row] td[data-label=Who] .muted').forEach(function (m) {
               var td = m.closest('td');
               var label = parseFloat(getComputedStyle(td).paddingLeft) + 7.5 * 16;
               if (m.getBoundingClientRect().left < td.getBoundingClientRect().left + label)
                 out.push(m.innerText);
             });
             return out;",
            vec![],
        )
        .await;
    assert_eq!(
        strays,
        serde_json::json!([]),
        "addresses sit in the value column"
    );
    // No line of a card starts with a closing parenthesis.
    let lone = walk
        .js(
            "var out = [];
             document.querySelectorAll('[data-testid=audit-row] td').forEach(function (td) {
               var texts = document.createTreeWalker(td, NodeFilter.SHOW_TEXT), before = null;
               while (texts.nextNode()) {
                 var node = texts.currentNode;
                 for (var i = 0; i < node.length; i++) {
                   if (/\\s/.test(node.data[i])) continue;
                   var range = document.createRange();
                   range.setStart(node, i); range.setEnd(node, i + 1);
                   var box = range.getBoundingClientRect();
                   if (!box.width) continue;
                   if (node.data[i] === ')' && before && box.top > before.top + 2)
                     out.push(td.getAttribute('data-label') + ': ' + td.innerText.slice(0, 60));
                   before = box;
                 }
               }
             });
             return out;",
            vec![],
        )
        .await;
    assert_eq!(lone, serde_json::json!([]), "a ) alone at a line's start");
    walk.step("audit-log").await;

    // An impossible date says what is wrong, not that nothing matched.
    walk.visit("/configure/audit_log?from=2026-02-31").await;
    walk.see_in("#from-error", "Enter a date such as 2026-12-31.")
        .await;
    let text = walk.visible_text().await;
    assert!(
        !text.contains("No events match these filters"),
        "an invalid date is not reported as no matches:\n{text}"
    );
    walk.see("The filters need fixing").await;
    assert_eq!(misaligned_filter_fields(&walk).await, Vec::<String>::new());
    walk.step("invalid-date").await;

    // At desktop width too, the four filters sit level, with an error under one of them.
    walk.resize((1280, 860)).await;
    assert_eq!(
        misaligned_filter_fields(&walk).await,
        Vec::<String>::new(),
        "the filter fields' tops are level at 1280px with an error"
    );
    walk.visit("/configure/audit_log").await;
    assert_eq!(
        misaligned_filter_fields(&walk).await,
        Vec::<String>::new(),
        "the filter fields' tops are level at 1280px"
    );
    walk.step("filters-desktop").await;
    walk.finish().await;
}

/// The checked and the total scope boxes on Manage Scopes.
async fn scope_boxes(walk: &Walk) -> (usize, usize) {
    (
        walk.count(r#"input[name="scopes"]:checked"#).await,
        walk.count(r#"input[name="scopes"]"#).await,
    )
}

/// Walk: a Harvest v3 (OAuth) credential: its client ID and secret shown once and copied,
/// then its scopes chosen with the filter, the Read-only shortcut and a resource toggle.
#[tokio::test]
async fn a_site_admin_creates_a_v3_credential_and_chooses_its_scopes() {
    let Some(mut walk) = Walk::start("harvest_v3").await else {
        return;
    };
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;
    open_credentials(&walk).await;
    fill_create_dialog(&walk, "Harvest v3 (OAuth)", None, "Acme OAuth").await;
    walk.see_in("[data-submit-label]", "View and store credentials")
        .await;
    walk.step("create-dialog-v3").await;

    walk.click_text("View and store credentials").await;
    walk.dialog_open("Your new Harvest v3 (OAuth) credentials")
        .await;
    let client_id = walk.text_of(r#"[data-testid="client-id-value"]"#).await;
    let secret = walk.text_of(r#"[data-testid="client-secret-value"]"#).await;
    assert!(client_id.starts_with("dci_"), "a client ID: {client_id}");
    assert!(secret.starts_with("dcs_"), "a client secret: {secret}");
    walk.see("Dev Center will not show the client secret again")
        .await;
    walk.click_testid("copy-client-id").await;
    walk.see("The client ID is on your clipboard.").await;
    assert_eq!(walk.clipboard().await, client_id);
    walk.click_testid("copy-client-secret").await;
    walk.see("The client secret is on your clipboard.").await;
    assert_eq!(walk.clipboard().await, secret);
    walk.step("client-credentials-shown").await;

    // Esc must not lose a secret that is never shown again.
    walk.press(&[Key::Escape]).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(walk.dialog_is_open().await, "Esc keeps the one-time view");

    walk.click_testid("stored-client-credentials-continue")
        .await;
    walk.see_in("main h1", "Manage Scopes").await;
    walk.see(&client_id).await;
    walk.see("0 of 147 scopes selected").await;
    assert_eq!(scope_boxes(&walk).await, (0, 147));
    walk.step("scopes").await;

    // Read-only: every list scope, and only those.
    walk.click_testid("select-read-only-scopes").await;
    walk.see("70 of 147 scopes selected").await;
    assert_eq!(
        walk.count(r#"input[name="scopes"]:checked:not([value$=":list"])"#)
            .await,
        0
    );
    walk.step("read-only").await;
    walk.click_testid("select-all-scopes").await;
    walk.see("147 of 147 scopes selected").await;
    walk.click_testid("select-all-scopes").await;
    walk.see("0 of 147 scopes selected").await;

    // The filter narrows the list to the candidates' scopes; tick two of them.
    walk.type_into("#scope-filter", "harvest:candidates:").await;
    let shown = walk
        .js(
            "return Array.from(document.querySelectorAll('[data-endpoint]'))
                .filter(function (e) { return e.offsetParent !== null; })
                .map(function (e) { return e.querySelector('input').value; });",
            vec![],
        )
        .await
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !shown.is_empty() && shown.len() < 147,
        "the filter narrows the list: {} shown",
        shown.len()
    );
    for scope in &shown {
        assert!(
            scope
                .as_str()
                .unwrap_or_default()
                .starts_with("harvest:candidates:"),
            "only matching scopes are shown: {scope}"
        );
    }
    walk.click(r#"input[name="scopes"][value="harvest:candidates:list"]"#)
        .await;
    walk.click(r#"input[name="scopes"][value="harvest:candidates:update"]"#)
        .await;
    walk.see("2 of 147 scopes selected").await;
    walk.step("filtered").await;
    walk.type_into("#scope-filter", "").await;

    walk.click_testid("save-scopes").await;
    walk.see("Scopes saved: this credential is granted 2 scopes.")
        .await;
    assert_eq!(scope_boxes(&walk).await, (2, 147));
    walk.see("No requests in 30 days").await;
    walk.step("saved").await;

    // The list shows the client ID again, never the secret.
    walk.click_text("Back to API keys").await;
    walk.arrive(CREDENTIALS).await;
    let row = row_of(&walk, "Acme OAuth").await;
    let row_text = walk.text_of(&row).await;
    assert!(row_text.contains(&client_id), "{row_text}");
    let source = walk.client.source().await.expect("the page source");
    assert!(!source.contains(&secret), "the list never shows the secret");
    walk.step("list").await;

    // Rotate the client secret with a 24-hour overlap: the new one is shown once, the
    // client ID stays, and both secrets work until the old one's end.
    walk.click(&format!(r#"{row} [data-testid="credential-rotate"]"#))
        .await;
    walk.see_in("main h1", "Rotate: Acme OAuth").await;
    walk.click(r#"input[name="overlap"][value="24h"]"#).await;
    walk.click_testid("confirm-rotate").await;
    walk.see_in("#dialog-title", "New client secret for “Acme OAuth”")
        .await;
    assert_eq!(
        walk.text_of(r#"[data-testid="client-id-value"]"#).await,
        client_id,
        "a rotation keeps the client ID"
    );
    let rotated = walk.text_of(r#"[data-testid="client-secret-value"]"#).await;
    assert!(
        rotated.starts_with("dcs_") && rotated != secret,
        "{rotated}"
    );
    walk.click_testid("copy-client-secret").await;
    assert_eq!(walk.clipboard().await, rotated);
    walk.step("rotated").await;
    walk.click_testid("stored-client-credentials-continue")
        .await;
    let rows = walk.texts_of(r#"[data-testid="secret-row"]"#).await;
    assert!(
        rows.len() == 2 && rows[0].contains("Current") && rows[1].contains("Works until"),
        "{rows:?}"
    );
    walk.step("overlap").await;
    walk.finish().await;
}

/// Walk: a manager rotates a key with an overlap, ends the overlap, limits where the key
/// may be used from, and enables it again after a revocation; every page tidy on a phone.
#[tokio::test]
async fn a_manager_rotates_a_key_limits_it_and_enables_it_again() {
    let Some(mut walk) = Walk::start("rotation").await else {
        return;
    };
    let admin = walk.app.admin().await;
    let (old, id) = admin.new_key("job_board", "Careers site").await;
    admin.new_key("harvest", "Payroll sync").await;
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;
    open_credentials(&walk).await;
    let row = row_of(&walk, "Careers site").await;
    walk.click(&format!(r#"{row} [data-testid="credential-rotate"]"#))
        .await;
    let rotate = format!("{CREDENTIALS}/{id}/rotate");
    walk.arrive(&rotate).await;
    walk.see_in("main h1", "Rotate: Careers site").await;
    assert_eq!(walk.count(r#"[data-testid="secret-row"]"#).await, 1);
    walk.step("rotate").await;

    walk.click_testid("confirm-rotate").await;
    walk.see_in("#dialog-title", "New Job Board API key for “Careers site”")
        .await;
    let new = walk.text_of(r#"[data-testid="api-key-value"]"#).await;
    assert!(new.starts_with("dcj_") && new != old, "{new}");
    walk.click_testid("copy-api-key").await;
    walk.see("The key is on your clipboard.").await;
    assert_eq!(walk.clipboard().await, new);
    walk.step("rotated").await;
    walk.click_testid("stored-api-key-continue").await;
    walk.arrive(&rotate).await;
    walk.see("Its new secret is not shown again.").await;
    let rows = walk.texts_of(r#"[data-testid="secret-row"]"#).await;
    assert!(
        rows[0].contains("Current") && rows[1].contains("Works until"),
        "{rows:?}"
    );
    walk.step("overlap").await;
    walk.resize(PHONE).await;
    walk.assert_no_sideways_scroll().await;
    walk.step("overlap-phone").await;

    walk.click_testid("end-overlap").await;
    walk.see("the old secret of “Careers site” no longer works.")
        .await;
    walk.assert_no_sideways_scroll().await;
    let rows = walk.texts_of(r#"[data-testid="secret-row"]"#).await;
    assert!(rows[1].contains("Ended"), "{rows:?}");

    walk.visit(CREDENTIALS).await;
    let row = row_of(&walk, "Careers site").await;
    walk.click(&format!(r#"{row} [data-testid="credential-trusted-ips"]"#))
        .await;
    walk.see_in("main h1", "Trusted IPs: Careers site").await;
    walk.type_into("#trusted_ips", "203.0.113.0/24\nthe office")
        .await;
    walk.click_testid("save-trusted-ips").await;
    walk.see("“the office” is not an IP address or CIDR range")
        .await;
    assert!(
        walk.text_of("#trusted_ips-error")
            .await
            .contains("the office")
    );
    walk.assert_no_sideways_scroll().await;
    walk.step("trusted-ips-refused").await;
    walk.type_into("#trusted_ips", "203.0.113.0/24\n2001:db8::/32")
        .await;
    walk.click_testid("save-trusted-ips").await;
    walk.see("may now be used only from 203.0.113.0/24, 2001:db8::/32.")
        .await;
    walk.step("trusted-ips").await;

    admin.revoke(id).await;
    walk.visit(CREDENTIALS).await;
    walk.assert_no_sideways_scroll().await;
    let (_, _, cut) = credential_actions_cut_off(&walk).await;
    assert!(cut.is_empty(), "actions are cut off on a phone: {cut:?}");
    walk.step("revoked-phone").await;
    walk.resize((1024, 860)).await;
    let (table, wrap, cut) = credential_actions_cut_off(&walk).await;
    assert!(
        table <= wrap,
        "the table is {table}px wide in a {wrap}px box"
    );
    assert!(cut.is_empty(), "actions are cut off: {cut:?}");
    walk.click(&format!(r#"{row} [data-testid="credential-enable"]"#))
        .await;
    walk.see("It works again.").await;
    assert!(walk.text_of(&row).await.contains("Active"));
    walk.step("enabled").await;
    walk.finish().await;
}

/// Walk: a Site Admin registers a partner's redirect URI and makes its OAuth client
/// (copying its client ID and secret), then disconnects an integration someone authorized.
#[tokio::test]
async fn a_site_admin_makes_a_partners_oauth_client_and_disconnects_an_integration() {
    use devcenter::web::urls::{CLIENT_APPLICATION, CLIENT_APPLICATIONS, INTEGRATIONS, with_id};
    let Some(mut walk) = Walk::start("partner_oauth").await else {
        return;
    };
    let admin = walk.app.admin().await;
    let acme = admin
        .client_application_asking("Acme ATS", &[], &["harvest:candidates:list"])
        .await;
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;
    walk.click_testid("configure-icon").await;
    walk.click_testid("nav-dev-center").await;
    walk.click_text("Client Applications").await;
    walk.arrive(CLIENT_APPLICATIONS).await;
    walk.click_testid("edit-client-application").await;
    walk.arrive(&with_id(CLIENT_APPLICATION, acme)).await;
    walk.see_in("main h1", "Edit “Acme ATS”").await;

    // Plain http to a partner's server is refused beside the field.
    walk.type_into("#redirect_uris", "http://acme.example/callback")
        .await;
    walk.click_testid("save-client-application").await;
    walk.see_in(
        "#redirect_uris-error",
        "“http://acme.example/callback” must use https (plain http only to localhost or a loopback address).",
    )
    .await;
    walk.step("redirect-uri-refused").await;
    walk.type_into("#redirect_uris", "https://acme.example/callback")
        .await;
    walk.click_testid("save-client-application").await;
    walk.arrive(CLIENT_APPLICATIONS).await;
    walk.see("Saved “Acme ATS”.").await;
    walk.see_in(
        r#"[data-testid="client-application-redirect-uris"]"#,
        "https://acme.example/callback",
    )
    .await;

    walk.click_testid("create-oauth-client").await;
    walk.see_in("#dialog-title", "Your new Partner OAuth client credentials")
        .await;
    let client_id = walk.text_of(r#"[data-testid="client-id-value"]"#).await;
    let secret = walk.text_of(r#"[data-testid="client-secret-value"]"#).await;
    assert!(client_id.starts_with("dci_"), "a client ID: {client_id}");
    assert!(secret.starts_with("dco_"), "a client secret: {secret}");
    walk.click_testid("copy-client-id").await;
    walk.see("The client ID is on your clipboard.").await;
    assert_eq!(walk.clipboard().await, client_id);
    walk.click_testid("copy-client-secret").await;
    walk.see("The client secret is on your clipboard.").await;
    assert_eq!(walk.clipboard().await, secret);
    walk.step("oauth-client-shown").await;
    walk.click_testid("stored-client-credentials-continue")
        .await;
    walk.arrive(CLIENT_APPLICATIONS).await;
    walk.see_in(
        r#"[data-testid="client-application-client-id"]"#,
        &client_id,
    )
    .await;
    let source = walk.client.source().await.expect("the page source");
    assert!(!source.contains(&secret), "the page never shows the secret");
    walk.step("oauth-client").await;

    // Someone authorized Acme (the consent pages are another walk's).
    let credential = walk
        .app
        .count("SELECT id FROM credentials WHERE api_type = 'oauth_client'");
    let integration = walk.app.insert_integration(
        i32::try_from(credential).expect("an id"),
        walk.app.user_id(&email),
        false,
        "harvest:candidates:list",
        "2026-12-05 10:00:00",
    );
    walk.click_testid("configure-icon").await;
    walk.click_testid("nav-dev-center").await;
    walk.click_testid("connected-integrations-link").await;
    walk.arrive(INTEGRATIONS).await;
    walk.see_in("main h1", "Connected Integrations").await;
    let row = format!(r#"[data-testid="integration-row"][data-integration-id="{integration}"]"#);
    let text = walk.text_of(&row).await;
    assert!(
        text.contains("Acme ATS") && text.contains(&email) && text.contains("Connected"),
        "{text}"
    );
    walk.step("integrations").await;

    walk.click(&format!(r#"{row} [data-testid="disconnect-integration"]"#))
        .await;
    walk.dialog_open("Disconnect “Acme ATS”?").await;
    walk.click_testid("confirm-disconnect").await;
    walk.arrive(INTEGRATIONS).await;
    walk.see("Disconnected “Acme ATS”. Its tokens no longer work.")
        .await;
    walk.see_in(
        &format!(r#"{row} [data-testid="integration-status"]"#),
        "Disconnected",
    )
    .await;
    walk.step("disconnected").await;
    walk.finish().await;
}

/// The partner's own site in a walk: answers every request on a loopback port with a small
/// page, so the browser lands somewhere real when consent sends it back.
fn partner_site() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port for the partner");
    let port = listener.local_addr().expect("its address").port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let page = "<!doctype html><html lang=\"en\"><head><title>Acme Sourcing</title></head>\
                        <body><main><h1>Acme Sourcing is connected</h1></main></body></html>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    port
}

/// Walk: a person follows a partner's authorize link while signed out, signs in, reads
/// what the partner asks for, opens a scope's details and authorizes it; the browser
/// arrives back at the partner with a code and the partner's state.
#[tokio::test]
async fn a_person_signs_in_from_a_partners_link_and_authorizes_it() {
    let Some(mut walk) = Walk::start("consent").await else {
        return;
    };
    let port = partner_site();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let admin = walk.app.admin().await;
    let application = admin
        .client_application_asking(
            "Acme Sourcing",
            &[],
            &["harvest:candidates:list", "harvest:jobs:list"],
        )
        .await;
    let edited = admin
        .edit_client_application(
            application,
            &redirect_uri,
            &["harvest:candidates:list", "harvest:jobs:list"],
        )
        .await;
    assert!(edited.status.is_redirection(), "{}", edited.body);
    let client = admin.oauth_client(application).await;
    let client_id = client.client_id.clone();
    let query = serde_html_form::to_string([
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("scope", "harvest:candidates:list harvest:jobs:list"),
        ("state", "af0ifjsldkj"),
    ])
    .expect("a query");

    walk.visit(&format!("/oauth/authorize?{query}")).await;
    walk.arrive("/login").await;
    walk.see("Sign in to Dev Center").await;
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.type_into("#email", &email).await;
    walk.type_into("#password", &password).await;
    walk.step("sign-in").await;
    walk.click_text("Sign in").await;

    walk.arrive("/oauth/authorize").await;
    walk.see_in(
        "main h1",
        "Acme Sourcing wants to access your organization's Greenhouse data",
    )
    .await;
    assert_eq!(walk.count(r#"[data-testid="consent-scope"]"#).await, 2);
    walk.see("List candidates").await;
    walk.see("List jobs").await;
    walk.see("Authorize using a service account").await;
    walk.step("consent").await;

    walk.click(r#"[data-testid="consent-scope"] summary"#).await;
    walk.see("/v3/candidates").await;
    walk.step("scope-details").await;
    // A partner's link is often opened on a phone.
    walk.resize(PHONE).await;
    walk.assert_no_sideways_scroll().await;
    walk.step("consent-phone").await;
    walk.resize(crate::harness::DESKTOP).await;

    walk.click_testid("consent-authorize").await;
    walk.see("Acme Sourcing is connected").await;
    let arrived = walk.client.current_url().await.expect("the URL");
    assert_eq!(
        format!(
            "{}{}",
            arrived.origin().ascii_serialization(),
            arrived.path()
        ),
        redirect_uri
    );
    let pairs: Vec<(String, String)> = arrived.query_pairs().into_owned().collect();
    assert!(
        pairs.iter().any(|(k, v)| k == "code" && v.len() >= 43),
        "{arrived}"
    );
    assert!(pairs.contains(&("state".to_owned(), "af0ifjsldkj".to_owned())));

    // The partner exchanges the code and calls the API; then the organization disconnects
    // it, and the partner's next call is refused.
    let code = pairs
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.clone())
        .expect("a code");
    let tokens: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{}/oauth/token", walk.app.address))
        .basic_auth(&client.client_id, Some(&client.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
        ])
        .send()
        .await
        .expect("the token endpoint answers")
        .json()
        .await
        .expect("JSON");
    let token = tokens["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    let api = format!("http://{}/harvest/v3/candidates", walk.app.address);
    let partner_call = || reqwest::Client::new().get(&api).bearer_auth(&token).send();
    assert_eq!(
        partner_call().await.expect("an answer").status(),
        reqwest::StatusCode::OK
    );
    walk.visit("/configure/dev_center").await;
    walk.click_testid("connected-integrations-link").await;
    walk.see_in("main h1", "Connected Integrations").await;
    walk.see("Acme Sourcing").await;
    walk.step("connected").await;
    walk.click_testid("disconnect-integration").await;
    walk.dialog_open("Disconnect “Acme Sourcing”?").await;
    walk.click_testid("confirm-disconnect").await;
    walk.see("Disconnected “Acme Sourcing”. Its tokens no longer work.")
        .await;
    walk.step("disconnected").await;
    assert_eq!(
        partner_call().await.expect("an answer").status(),
        reqwest::StatusCode::UNAUTHORIZED,
        "the partner's next call is refused"
    );
    walk.finish().await;
}

/// Walk: least privilege from real traffic. A manager unticks an endpoint the key used
/// this month: nothing is saved until they have read what would have been refused and
/// confirmed; then the Dev Center page's credential health panel.
#[tokio::test]
async fn a_manager_reads_what_a_change_would_refuse_before_it_is_saved() {
    let Some(mut walk) = Walk::start("lifecycle").await else {
        return;
    };
    let admin = walk.app.admin().await;
    let (key, id) = admin.new_key("harvest", "Payroll sync").await;
    admin
        .update_permissions(id, &["GET /v1/candidates", "GET /v1/jobs"])
        .await;
    admin.new_key("job_board", "Careers site").await;
    for _ in 0..3 {
        let used = reqwest::Client::new()
            .get(format!("http://{}/harvest/v1/candidates", walk.app.address))
            .basic_auth(&key, Some(""))
            .send()
            .await
            .expect("the gate answers");
        assert_eq!(used.status(), reqwest::StatusCode::OK);
    }
    let usage = format!(
        "SELECT coalesce(sum(requests), 0) FROM credential_usage WHERE credential_id = {id}"
    );
    let mut waited = std::time::Duration::ZERO;
    while walk.app.count(&usage) < 3 {
        assert!(
            waited < std::time::Duration::from_secs(15),
            "no usage batch"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        waited += std::time::Duration::from_millis(250);
    }
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;
    walk.visit(&format!("{CREDENTIALS}/{id}/permissions")).await;
    walk.type_into("#endpoint-filter", "List Candidates").await;
    walk.click(r#"input[name="endpoints"][value="GET /v1/candidates"]"#)
        .await;
    walk.click_testid("update-permissions").await;
    walk.see("Nothing is saved yet").await;
    walk.see("GET /v1/candidates: 3 requests in the last 30 days")
        .await;
    walk.step("impact").await;
    walk.click_testid("confirm-grant-change").await;
    walk.see("Permissions updated: this key is granted 1 endpoint.")
        .await;
    walk.step("saved").await;

    walk.visit("/configure/dev_center").await;
    walk.see("Credential health").await;
    walk.step("health").await;
    walk.finish().await;
}

/// What a web hook receiver got: the `Signature` header and the body, in arrival order.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A web hook receiver on a loopback port of its own (an actix-web server in its own
/// thread): answers every POST with 200 and keeps what it got. Its URL and its log.
fn web_hook_receiver() -> (String, Received) {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port for the receiver");
    let port = listener.local_addr().expect("its address").port();
    let received = Received::default();
    let log = web::Data::new(received.clone());
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                App::new().app_data(log.clone()).default_service(web::to(
                    |req: HttpRequest, body: web::Bytes, log: web::Data<Received>| async move {
                        let signature = req
                            .headers()
                            .get("signature")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        log.lock()
                            .expect("the receiver's log")
                            .push((signature, String::from_utf8_lossy(&body).into_owned()));
                        HttpResponse::Ok().body("ok")
                    },
                ))
            })
            .workers(1)
            .listen(listener)
            .expect("the receiver listens")
            .run()
            .await
        })
    });
    (format!("http://127.0.0.1:{port}/hooks"), received)
}

/// Waits until the receiver has got an event with this `action`: its `Signature` header
/// and its exact body.
async fn received_event(received: &Received, action: &str) -> (String, String) {
    let started = std::time::Instant::now();
    loop {
        let found = received
            .lock()
            .expect("the receiver's log")
            .iter()
            .find(|(_, body)| {
                serde_json::from_str::<serde_json::Value>(body)
                    .is_ok_and(|json| json["action"] == action)
            })
            .cloned();
        if let Some(found) = found {
            return found;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the receiver never got “{action}”"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// What a receiver checks: `Signature: sha256 <hex>`, the HMAC-SHA256 of the exact body
/// with the secret key.
fn assert_signed(signature: &str, body: &str, secret_key: &str) {
    use hmac::{Hmac, Mac};
    let hex = signature
        .strip_prefix("sha256 ")
        .unwrap_or_else(|| panic!("a Signature header of sha256 and hex: “{signature}”"));
    assert!(
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "64 hexadecimal digits: “{signature}”"
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret_key.as_bytes()).expect("any key");
    mac.update(body.as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, expected, "the signature of {body}");
}

/// Walk: a Site Admin adds a web hook for their SIEM from the Dev Center, keeps the
/// suggested secret key and every event, sends it a test ping and reads the delivery; a
/// key created afterwards reaches the receiver as `credential.created`, signed.
#[tokio::test]
async fn a_site_admin_adds_a_web_hook_and_sends_it_a_test_ping() {
    use devcenter::web::urls::{NEW_WEB_HOOK, WEB_HOOK_DELIVERIES, WEB_HOOKS, with_id};
    let Some(mut walk) = Walk::start_with(
        "web_hooks",
        crate::harness::DESKTOP,
        &[
            "--web-hook-allow-private-addresses",
            "--web-hook-first-retry",
            "100ms",
        ],
    )
    .await
    else {
        return;
    };
    let (url, received) = web_hook_receiver();
    let (email, password) = (
        walk.app.admin_email.clone(),
        walk.app.admin_password.clone(),
    );
    walk.sign_in(&email, &password).await;

    // Configure → Dev Center → Web Hooks.
    walk.click_testid("configure-icon").await;
    walk.click_testid("nav-dev-center").await;
    walk.arrive("/configure/dev_center").await;
    walk.click_testid("web-hooks-link").await;
    walk.arrive(WEB_HOOKS).await;
    walk.see_in("main h1", "Web Hooks").await;
    walk.see("No web hooks yet").await;
    walk.step("web-hooks-empty").await;

    walk.click_testid("add-web-hook").await;
    walk.arrive(NEW_WEB_HOOK).await;
    walk.see_in("main h1", "Add web hook").await;
    walk.testid("web-hook-form").await;
    walk.type_into("#name", "Security SIEM").await;
    walk.type_into("#url", &url).await;
    let secret_key = walk
        .find("#secret_key")
        .await
        .prop("value")
        .await
        .expect("the secret key field's value")
        .unwrap_or_default();
    assert!(
        secret_key.len() == 64 && secret_key.bytes().all(|b| b.is_ascii_hexdigit()),
        "a suggested secret key of 64 hexadecimal digits: “{secret_key}”"
    );
    let events = walk.count(r#"input[name="events"]"#).await;
    assert!(events > 0, "the events to choose from");
    assert_eq!(
        walk.count(r#"input[name="events"]:checked"#).await,
        events,
        "every event is ticked to begin with"
    );
    walk.step("add-web-hook").await;

    walk.click_testid("save-web-hook").await;
    walk.arrive(WEB_HOOKS).await;
    walk.see("Added the web hook “Security SIEM”.").await;
    let id = walk
        .find(r#"[data-testid="web-hook-row"]"#)
        .await
        .attr("data-web-hook-id")
        .await
        .expect("the row's attribute")
        .expect("the row names its hook");
    let row = format!(r#"[data-testid="web-hook-row"][data-web-hook-id="{id}"]"#);
    let text = walk.text_of(&row).await;
    assert!(
        text.contains("Security SIEM") && text.contains(&url),
        "the new hook is listed: {text}"
    );
    walk.see_in(
        &format!(r#"{row} [data-testid="web-hook-status"]"#),
        "Enabled",
    )
    .await;
    walk.step("web-hook-added").await;

    // Send test ping: the deliveries page, with the ping delivered.
    walk.click(&format!(r#"{row} [data-testid="ping-web-hook"]"#))
        .await;
    let deliveries = with_id(WEB_HOOK_DELIVERIES, &id);
    walk.arrive(&deliveries).await;
    walk.see_in("main h1", "Deliveries of “Security SIEM”")
        .await;
    walk.see("The ping was delivered: the receiver answered 200 in ")
        .await;
    let first = r#"[data-testid="web-hook-delivery-row"]"#;
    walk.see_in(
        &format!(r#"{first} [data-testid="delivery-event"]"#),
        "ping",
    )
    .await;
    walk.see_in(
        &format!(r#"{first} [data-testid="delivery-status"]"#),
        "200",
    )
    .await;
    walk.see_in(
        &format!(r#"{first} [data-testid="delivery-attempts"]"#),
        "1",
    )
    .await;
    assert_eq!(
        walk.find(first)
            .await
            .attr("data-state")
            .await
            .expect("the row's attribute")
            .as_deref(),
        Some("delivered")
    );
    walk.step("deliveries").await;
    let (signature, body) = received_event(&received, "ping").await;
    assert_signed(&signature, &body, &secret_key);

    // A key made now reaches the receiver as credential.created, signed, and is listed.
    let admin = walk.app.admin().await;
    let (key, _) = admin.new_key("harvest", "Payroll sync").await;
    let (signature, body) = received_event(&received, "credential.created").await;
    assert_signed(&signature, &body, &secret_key);
    assert!(!body.contains(&key), "the event never carries the key");
    assert!(!body.contains(&secret_key), "nor the secret key");
    let created = format!(r#"{first}[data-state="delivered"] [data-testid="delivery-event"]"#);
    let started = std::time::Instant::now();
    loop {
        walk.visit(&deliveries).await;
        if walk.texts_of(&created).await.first().map(String::as_str) == Some("credential.created") {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "credential.created is not listed as delivered:\n{}",
            walk.visible_text().await
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    walk.see_in(
        &format!(r#"{first} [data-testid="delivery-status"]"#),
        "200",
    )
    .await;
    walk.step("credential-created").await;
    walk.finish().await;
}
