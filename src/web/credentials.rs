//! API Credential Management: the credentials table, the Create New Credential dialog, the
//! one-time key view (client credentials for v3), revoking, Manage API Key Permissions and
//! Manage Scopes.

use std::collections::BTreeSet;

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db::credentials::StatusFilter;
use crate::rules::endpoints::EndpointIdentifier;
use crate::rules::text::FieldErrors;
use crate::rules::words::{ApiType, ProductWord};
use crate::use_cases::client_applications;
use crate::use_cases::credentials::{self as use_cases, CredentialRequest, Saved};
use crate::use_cases::health::Concern;

use super::context::{PageContext, Section};
use super::display::{key_display, paged_title, when};
use super::error::AppError;
use super::forms::{Choice, HtmlForm, refused_fields};
use super::picker::{EndpointPicker, ScopePicker};
use super::respond::see_other;
use super::review::Review;
use super::urls::{CREDENTIAL_PERMISSIONS, CREDENTIAL_SCOPES, CREDENTIALS, with_id};

struct Row {
    id: i32,
    description: String,
    api_type: &'static str,
    partner: Option<String>,
    key: String,
    /// A v3 credential's client ID, shown again on every visit (its secret never is).
    client_id: Option<String>,
    created_by: String,
    created_at: String,
    last_used: Option<String>,
    revoked: bool,
    expiry: super::display::ExpiryDisplay,
    manage_permissions: bool,
    manage_scopes: bool,
    revocable: bool,
    /// Whether the viewer may read this key's history in the audit log.
    history: bool,
}

#[derive(Template)]
#[template(path = "credentials/list.html")]
struct CredentialsPage {
    csrf_token: String,
    rows: Vec<Row>,
    filters: Vec<FilterLink>,
    /// The status filter in force, for the pages' links (empty: none).
    status: &'static str,
    /// The health concern in force, likewise.
    health: &'static str,
    page: i64,
    pages: i64,
    total: i64,
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
    /// `active`, `expiring`, `expired`, `revoked` or `disabled`.
    status: Option<String>,
    /// One of the health panel's concerns (`never_used`, `idle`, ...).
    health: Option<String>,
}

/// One of the list's status filters, as a link.
struct FilterLink {
    label: &'static str,
    href: String,
    current: bool,
}

pub async fn list(
    ctx: PageContext,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let requested = query.page.unwrap_or(1);
    let status = match query.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(StatusFilter::parse(text).ok_or_else(|| {
            AppError::BadRequest(
                "Filter the list by status active, expiring, expired, revoked or disabled.".into(),
            )
        })?),
    };
    let concern = match query.health.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(Concern::parse(text).ok_or_else(|| {
            AppError::BadRequest("That is not one of the credential health panel's lists.".into())
        })?),
    };
    let paged = ctx
        .read(move |conn, viewer| use_cases::list(conn, viewer, status, concern, requested))
        .await?;
    let filters: Vec<FilterLink> = std::iter::once(("All", None))
        .chain(StatusFilter::ALL.map(|f| (f.label(), Some(f))))
        .map(|(label, filter)| FilterLink {
            label,
            href: match filter {
                Some(f) => format!("{CREDENTIALS}?status={}", f.as_str()),
                None => CREDENTIALS.to_owned(),
            },
            current: filter == status && concern.is_none(),
        })
        .chain(concern.map(|c| FilterLink {
            label: c.label(),
            href: format!("{CREDENTIALS}?health={}", c.as_str()),
            current: true,
        }))
        .collect();
    let offers = ctx.viewer.offers();
    let rows = paged
        .items
        .into_iter()
        .map(|c| {
            let api_type = c.api_type;
            let live = c.revoked_at.is_none();
            Row {
                id: c.id,
                api_type: api_type.label(),
                partner: c.client_application_name,
                key: key_display(&c.key_prefix, &c.key_last4),
                client_id: c.client_id,
                created_by: c.created_by_name,
                created_at: when(c.created_at),
                last_used: c.last_used_at.map(when),
                revoked: !live,
                expiry: super::display::expiry(c.expires_at),
                manage_permissions: api_type == ApiType::Harvest && offers.endpoint_grants,
                manage_scopes: api_type == ApiType::HarvestV3 && offers.endpoint_grants,
                // The list holds only keys of the types the viewer manages.
                revocable: live,
                history: offers.audit_log,
                description: c.description,
            }
        })
        .collect();
    let page = CredentialsPage {
        csrf_token: ctx.csrf_token(),
        rows,
        filters,
        status: status.map_or("", StatusFilter::as_str),
        health: concern.map_or("", Concern::as_str),
        page: paged.page,
        pages: paged.pages,
        total: paged.total,
    };
    let title = paged_title("API Credential Management", page.page, page.pages);
    ctx.render(&title, Section::DevCenter, &page)
}

/// An API type in the dialog, with what the submit button says when it is chosen.
struct TypeChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
    submit_label: &'static str,
}

/// The dialog's submit button: a Harvest key goes on to its endpoint permissions, a v3
/// credential to the one view of its client credentials.
fn submit_label(api_type: ApiType) -> &'static str {
    match api_type {
        ApiType::Harvest => "Manage Permissions",
        ApiType::HarvestV3 => "View and store credentials",
        _ => "Create",
    }
}

#[derive(Template)]
#[template(path = "credentials/new.html")]
struct NewCredentialDialog {
    csrf_token: String,
    types: Vec<TypeChoice>,
    client_applications: Vec<Choice>,
    offers_partner: bool,
    description: String,
    expires_on: String,
    max_lifetime_days: Option<i32>,
    errors: FieldErrors,
    submit_label: &'static str,
}

impl NewCredentialDialog {
    /// The dialog, showing `form` as submitted (empty for a new one) and its refusals.
    async fn build(
        ctx: &PageContext,
        form: &CreateForm,
        errors: FieldErrors,
    ) -> Result<Self, AppError> {
        // The route admits only people who manage some type of key.
        let offered: Vec<ApiType> = ctx
            .viewer
            .manageable_api_types()
            .into_iter()
            .filter(|t| t.made_in_the_dialog())
            .collect();
        let chosen = ApiType::parse(form.api_type.trim())
            .filter(|t| offered.contains(t))
            .or_else(|| offered.first().copied())
            .unwrap_or(ApiType::JobBoard);
        let offers_partner = offered.iter().any(|t| *t != ApiType::JobBoard);
        let applications = if offers_partner {
            ctx.state.read(client_applications::choices).await?
        } else {
            Vec::new()
        };
        let settings = ctx
            .state
            .read(|conn| Ok(crate::db::settings::DevCenterSettings::get(conn)?))
            .await?;
        Ok(Self {
            csrf_token: ctx.csrf_token(),
            types: offered
                .iter()
                .map(|t| TypeChoice {
                    value: t.as_str(),
                    label: t.label(),
                    selected: *t == chosen,
                    submit_label: submit_label(*t),
                })
                .collect(),
            client_applications: applications
                .into_iter()
                .map(|a| Choice {
                    selected: a.id.to_string() == form.client_application_id.trim(),
                    value: a.id.to_string(),
                    label: a.name,
                })
                .collect(),
            offers_partner,
            description: form.description.clone(),
            expires_on: form.expires_on.clone(),
            max_lifetime_days: settings.max_lifetime_days,
            errors,
            submit_label: submit_label(chosen),
        })
    }
}

pub async fn new_form(ctx: PageContext) -> Result<HttpResponse, AppError> {
    let dialog =
        NewCredentialDialog::build(&ctx, &CreateForm::default(), FieldErrors::default()).await?;
    ctx.render("Create New Credential", Section::DevCenter, &dialog)
}

#[derive(Deserialize, Default)]
pub struct CreateForm {
    #[serde(default)]
    api_type: String,
    #[serde(default)]
    client_application_id: String,
    #[serde(default)]
    description: String,
    /// Empty for never, or `YYYY-MM-DD`.
    #[serde(default)]
    expires_on: String,
}

#[derive(Template)]
#[template(path = "credentials/key.html")]
struct OneTimeKey<'a> {
    id: i32,
    key: &'a str,
    type_label: &'static str,
    continue_href: String,
}

/// The one-time view of a v3 credential: its client ID and, this once, its client secret.
#[derive(Template)]
#[template(path = "credentials/client_credentials.html")]
struct OneTimeClientCredentials<'a> {
    id: i32,
    client_id: &'a str,
    secret: &'a str,
    type_label: &'static str,
    continue_href: String,
}

pub async fn create(
    ctx: PageContext,
    HtmlForm(form): HtmlForm<CreateForm>,
) -> Result<HttpResponse, AppError> {
    let created = match CredentialRequest::parse(
        &form.api_type,
        &form.client_application_id,
        &form.description,
        &form.expires_on,
        chrono::Utc::now().date_naive(),
    ) {
        Ok(request) => {
            let created = ctx
                .write(move |conn, viewer| use_cases::create(conn, viewer, &request))
                .await;
            refused_fields(created)?
        }
        Err(errors) => Err(errors),
    };
    match created {
        Ok(created) => {
            tracing::info!(
                credential_id = created.id,
                api_type = created.api_type.as_str(),
                "API key created"
            );
            let page = match &created.client_id {
                Some(client_id) => {
                    let view = OneTimeClientCredentials {
                        id: created.id,
                        client_id,
                        secret: created.key.reveal(),
                        type_label: created.api_type.label(),
                        continue_href: with_id(CREDENTIAL_SCOPES, created.id),
                    };
                    ctx.render("Your new client credentials", Section::DevCenter, &view)?
                }
                None => {
                    let view = OneTimeKey {
                        id: created.id,
                        key: created.key.reveal(),
                        type_label: created.api_type.label(),
                        continue_href: if created.api_type == ApiType::Harvest {
                            with_id(CREDENTIAL_PERMISSIONS, created.id)
                        } else {
                            CREDENTIALS.to_owned()
                        },
                    };
                    ctx.render("Your new API key", Section::DevCenter, &view)?
                }
            };
            // "I have stored the API key" leads to the list: it confirms the key there.
            // (Set after rendering, so the key's own page never takes it.) A Harvest key
            // goes on to its permissions, a v3 credential to its scopes, which confirm
            // themselves.
            if !matches!(created.api_type, ApiType::Harvest | ApiType::HarvestV3) {
                ctx.flash(format!(
                    "Created the {} key “{}”. Its secret is not shown again.",
                    created.api_type.label(),
                    form.description.trim()
                ));
            }
            Ok(page)
        }
        Err(errors) => {
            let dialog = NewCredentialDialog::build(&ctx, &form, errors).await?;
            ctx.render_refused("Create New Credential", Section::DevCenter, &dialog)
        }
    }
}

#[derive(Template)]
#[template(path = "credentials/revoke.html")]
struct RevokeDialog {
    csrf_token: String,
    id: i32,
    description: String,
    key: String,
    type_label: &'static str,
}

pub async fn revoke_confirm(
    ctx: PageContext,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (credential, api_type) = ctx
        .read(move |conn, viewer| use_cases::find(conn, viewer, id))
        .await?;
    if credential.revoked_at.is_some() {
        ctx.flash(format!("“{}” is already revoked.", credential.description));
        return Ok(see_other(CREDENTIALS));
    }
    let dialog = RevokeDialog {
        csrf_token: ctx.csrf_token(),
        id,
        key: key_display(&credential.key_prefix, &credential.key_last4),
        description: credential.description,
        type_label: api_type.label(),
    };
    ctx.render("Revoke API key", Section::DevCenter, &dialog)
}

pub async fn revoke(ctx: PageContext, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let credential = ctx
        .write(move |conn, viewer| use_cases::revoke(conn, viewer, id))
        .await?;
    tracing::info!(credential_id = id, "API key revoked");
    ctx.flash(format!(
        "Revoked “{}” ({}). It no longer works.",
        credential.description,
        key_display(&credential.key_prefix, &credential.key_last4)
    ));
    Ok(see_other(CREDENTIALS))
}

#[derive(Template)]
#[template(path = "credentials/permissions.html")]
struct PermissionsPage {
    csrf_token: String,
    id: i32,
    description: String,
    key: String,
    partner: Option<String>,
    revoked: bool,
    picker: EndpointPicker,
    checked: usize,
    total: usize,
    error: Option<String>,
    review: Review,
    action: String,
}

async fn permissions_page(
    ctx: &PageContext,
    id: i32,
    submitted: Option<(BTreeSet<String>, Option<String>)>,
    review: Review,
) -> Result<PermissionsPage, AppError> {
    let grants = ctx
        .read(move |conn, viewer| use_cases::grants(conn, viewer, id))
        .await?;
    let (picker, error) = match submitted {
        Some((chosen, error)) => (
            EndpointPicker::new(&grants.groups, |e| chosen.contains(&e.identifier())),
            error,
        ),
        None => (
            EndpointPicker::new(&grants.groups, |e| grants.granted.contains(&e.id)).with_usage(
                |e| {
                    grants
                        .granted
                        .contains(&e.id)
                        .then(|| grants.usage.get(&e.id).copied().unwrap_or(0))
                },
            ),
            None,
        ),
    };
    Ok(PermissionsPage {
        csrf_token: ctx.csrf_token(),
        id,
        key: key_display(&grants.credential.key_prefix, &grants.credential.key_last4),
        description: grants.credential.description,
        partner: grants.client_application.map(|a| a.name),
        revoked: grants.credential.revoked_at.is_some(),
        checked: picker.checked(),
        total: picker.total(),
        picker,
        error,
        review,
        action: with_id(CREDENTIAL_PERMISSIONS, id),
    })
}

#[derive(Deserialize)]
pub struct ReviewQuery {
    /// `1`: list the grants unused in 30 days, for confirmation.
    #[serde(default)]
    remove_unused: Option<String>,
}

pub async fn permissions(
    ctx: PageContext,
    id: web::Path<i32>,
    query: web::Query<ReviewQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let remove_unused = query.remove_unused.as_deref() == Some("1");
    let (unused, granted, refused) = ctx
        .read(move |conn, viewer| {
            let unused = match remove_unused {
                true => Some(use_cases::unused_grants(conn, viewer, id)?),
                false => None,
            };
            let granted = use_cases::granted_identifiers(conn, viewer, id)?;
            let refused = use_cases::refused_requests(conn, viewer, id)?;
            Ok::<_, crate::use_cases::Failure>((unused, granted, refused))
        })
        .await?;
    let review = match unused {
        Some(unused) => Review::of_unused(unused, granted.clone()),
        None => Review::default(),
    }
    .with_refused(refused, &granted);
    let page = permissions_page(&ctx, id, None, review).await?;
    ctx.render("Manage API Key Permissions", Section::DevCenter, &page)
}

#[derive(Deserialize)]
pub struct PermissionsForm {
    #[serde(default)]
    endpoints: Vec<String>,
    /// `1` once the person has seen what the change would refuse.
    #[serde(default)]
    confirm: String,
}

pub async fn update_permissions(
    ctx: PageContext,
    id: web::Path<i32>,
    HtmlForm(form): HtmlForm<PermissionsForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let confirmed = form.confirm == "1";
    let replaced = match EndpointIdentifier::parse_all(&form.endpoints) {
        Ok(endpoints) => refused_fields(
            ctx.write(move |conn, viewer| {
                use_cases::replace_grants(conn, viewer, id, &endpoints, confirmed)
            })
            .await,
        )?,
        Err(refused) => Err(refused.into()),
    };
    match replaced {
        Ok(Saved::Confirm(impacts)) => {
            let chosen: BTreeSet<String> = form.endpoints.iter().cloned().collect();
            let review = Review::of_impact(&impacts, form.endpoints);
            let page = permissions_page(&ctx, id, Some((chosen, None)), review).await?;
            ctx.render("Manage API Key Permissions", Section::DevCenter, &page)
        }
        Ok(Saved::Done(granted)) => {
            tracing::info!(credential_id = id, granted, "endpoint grants replaced");
            ctx.flash(format!(
                "Permissions updated: this key is granted {granted} endpoint{}.",
                if granted == 1 { "" } else { "s" }
            ));
            Ok(see_other(&with_id(CREDENTIAL_PERMISSIONS, id)))
        }
        Err(errors) => {
            let chosen = form.endpoints.into_iter().collect();
            let page = permissions_page(
                &ctx,
                id,
                Some((chosen, Some(errors.to_string()))),
                Review::default(),
            )
            .await?;
            ctx.render_refused("Manage API Key Permissions", Section::DevCenter, &page)
        }
    }
}

#[derive(Template)]
#[template(path = "credentials/scopes.html")]
struct ScopesPage {
    csrf_token: String,
    id: i32,
    description: String,
    client_id: String,
    partner: Option<String>,
    revoked: bool,
    picker: ScopePicker,
    checked: usize,
    total: usize,
    error: Option<String>,
    review: Review,
    action: String,
}

/// Manage Scopes, showing the credential's scopes, or `submitted` with its refusal.
async fn scopes_page(
    ctx: &PageContext,
    id: i32,
    submitted: Option<(BTreeSet<String>, Option<String>)>,
    review: Review,
) -> Result<ScopesPage, AppError> {
    let scopes = ctx
        .read(move |conn, viewer| use_cases::scopes(conn, viewer, id))
        .await?;
    let (picker, error) = match submitted {
        Some((chosen, error)) => (
            ScopePicker::new(&scopes.groups, |s| chosen.contains(s)),
            error,
        ),
        // Usage beside each granted scope, and beside a scope no longer granted that was
        // used lately: what removing it took away.
        None => (
            ScopePicker::new(&scopes.groups, |s| scopes.granted.contains(s)).with_usage(
                |scope, requests| scope.checked || requests > 0,
                |endpoint| scopes.usage.get(&endpoint).copied().unwrap_or(0),
            ),
            None,
        ),
    };
    Ok(ScopesPage {
        csrf_token: ctx.csrf_token(),
        id,
        description: scopes.credential.description,
        client_id: scopes.credential.client_id.unwrap_or_default(),
        partner: scopes.client_application.map(|a| a.name),
        revoked: scopes.credential.revoked_at.is_some(),
        checked: picker.checked(),
        total: picker.total(),
        picker,
        error,
        review,
        action: with_id(CREDENTIAL_SCOPES, id),
    })
}

pub async fn scopes(
    ctx: PageContext,
    id: web::Path<i32>,
    query: web::Query<ReviewQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let remove_unused = query.remove_unused.as_deref() == Some("1");
    let (unused, granted, refused) = ctx
        .read(move |conn, viewer| {
            let unused = match remove_unused {
                true => Some(use_cases::unused_scopes(conn, viewer, id)?),
                false => None,
            };
            let granted: Vec<String> = use_cases::scopes(conn, viewer, id)?
                .granted
                .into_iter()
                .collect();
            let refused = use_cases::refused_requests(conn, viewer, id)?;
            Ok::<_, crate::use_cases::Failure>((unused, granted, refused))
        })
        .await?;
    let review = match unused {
        Some(unused) => Review::of_unused(unused, granted.clone()),
        None => Review::default(),
    }
    .with_refused(refused, &granted);
    let page = scopes_page(&ctx, id, None, review).await?;
    ctx.render("Manage Scopes", Section::DevCenter, &page)
}

#[derive(Deserialize)]
pub struct ScopesForm {
    #[serde(default)]
    scopes: Vec<String>,
    /// `1` once the person has seen what the change would refuse.
    #[serde(default)]
    confirm: String,
}

pub async fn update_scopes(
    ctx: PageContext,
    id: web::Path<i32>,
    HtmlForm(form): HtmlForm<ScopesForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let submitted = form.scopes.clone();
    let confirmed = form.confirm == "1";
    let replaced = refused_fields(
        ctx.write(move |conn, viewer| {
            use_cases::replace_scopes(conn, viewer, id, &submitted, confirmed)
        })
        .await,
    )?;
    match replaced {
        Ok(Saved::Confirm(impacts)) => {
            let chosen: BTreeSet<String> = form.scopes.iter().cloned().collect();
            let review = Review::of_impact(&impacts, form.scopes);
            let page = scopes_page(&ctx, id, Some((chosen, None)), review).await?;
            ctx.render("Manage Scopes", Section::DevCenter, &page)
        }
        Ok(Saved::Done(granted)) => {
            tracing::info!(credential_id = id, granted, "scopes replaced");
            ctx.flash(format!(
                "Scopes saved: this credential is granted {granted} scope{}.",
                if granted == 1 { "" } else { "s" }
            ));
            Ok(see_other(&with_id(CREDENTIAL_SCOPES, id)))
        }
        Err(errors) => {
            let chosen = form.scopes.into_iter().collect();
            let page = scopes_page(
                &ctx,
                id,
                Some((chosen, Some(errors.to_string()))),
                Review::default(),
            )
            .await?;
            ctx.render_refused("Manage Scopes", Section::DevCenter, &page)
        }
    }
}
