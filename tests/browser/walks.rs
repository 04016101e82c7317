//! The walks, in the help article's order.

use fantoccini::key::Key;

use crate::harness::{PHONE, Walk};

const LIST: &str = "/configure/dev_center/credentials";
const TOTAL_ENDPOINTS: usize = 133;

/// The checked and the total endpoint boxes on a permissions page.
async fn endpoint_boxes(walk: &Walk) -> (usize, usize) {
    (
        walk.count(r#"input[name="endpoints"]:checked"#).await,
        walk.count(r#"input[name="endpoints"]"#).await,
    )
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
    walk.arrive(LIST).await;
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
    walk.arrive(&format!("{LIST}/{id}/permissions")).await;
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
    walk.arrive(LIST).await;
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
