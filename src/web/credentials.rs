//! API Credential Management: the credentials table, the Create New Credential dialog, the
//! one-time key view, revoking, and Manage API Key Permissions.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db::credentials::Credential;
use crate::rules::access::Action;
use crate::rules::text::FieldErrors;
use crate::rules::words::{ApiType, ProductWord};
use crate::use_cases::credentials::{self as use_cases, CredentialRequest};
use crate::use_cases::{Failure, client_applications};

use super::context::{PageContext, Section};
use super::error::AppError;
use super::forms::HtmlForm;
use super::login::see_other;
use super::picker::EndpointPicker;

const LIST: &str = "/configure/dev_center/credentials";

fn when(at: chrono::NaiveDateTime) -> String {
    at.format("%b %-d, %Y %H:%M UTC").to_string()
}

fn key_display(credential_prefix: &str, last4: &str) -> String {
    format!("{credential_prefix}…{last4}")
}

struct Row {
    id: i32,
    description: String,
    api_type: &'static str,
    partner: Option<String>,
    key: String,
    created_by: String,
    created_at: String,
    last_used: Option<String>,
    revoked: bool,
    manage_permissions: bool,
    revocable: bool,
    /// Whether the viewer may read this key's history in the audit log.
    history: bool,
}

#[derive(Template)]
#[template(path = "credentials/list.html")]
struct CredentialsPage {
    rows: Vec<Row>,
    page: i64,
    pages: i64,
    total: i64,
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

pub async fn list(
    ctx: PageContext,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let viewer = ctx.viewer.clone();
    let requested = query.page.unwrap_or(1);
    let paged = ctx
        .db(move |conn| use_cases::list(conn, &viewer, requested))
        .await?;
    let rows = paged
        .items
        .into_iter()
        .map(|c| {
            let api_type = ApiType::parse(&c.api_type).unwrap_or(ApiType::Harvest);
            let live = c.revoked_at.is_none();
            Row {
                id: c.id,
                api_type: api_type.label(),
                partner: c.client_application_name,
                key: key_display(&c.key_prefix, &c.key_last4),
                created_by: c.created_by_name,
                created_at: when(c.created_at),
                last_used: c.last_used_at.map(when),
                revoked: !live,
                manage_permissions: api_type == ApiType::Harvest
                    && ctx.viewer.may(Action::ManageEndpointGrants),
                revocable: live && ctx.viewer.may(Action::ManageCredential(api_type)),
                history: ctx.viewer.may(Action::ReadAuditLog),
                description: c.description,
            }
        })
        .collect();
    let page = CredentialsPage {
        rows,
        page: paged.page,
        pages: paged.pages,
        total: paged.total,
    };
    ctx.render("API Credential Management", Section::DevCenter, &page)
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// An API type in the dialog, with what the submit button says when it is chosen.
struct TypeChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
    submit_label: &'static str,
}

/// The dialog's submit button: a Harvest key goes on to its endpoint permissions.
fn submit_label(api_type: ApiType) -> &'static str {
    if api_type == ApiType::Harvest {
        "Manage Permissions"
    } else {
        "Create"
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
    errors: FieldErrors,
    submit_label: &'static str,
}

impl NewCredentialDialog {
    async fn build(
        ctx: &PageContext,
        request: &CredentialRequest,
        errors: FieldErrors,
    ) -> Result<Self, AppError> {
        let offered = ctx.viewer.manageable_api_types();
        if offered.is_empty() {
            return Err(AppError::Forbidden);
        }
        let chosen = ApiType::parse(&request.api_type)
            .filter(|t| offered.contains(t))
            .unwrap_or(offered[0]);
        let offers_partner = offered.iter().any(|t| *t != ApiType::JobBoard);
        let applications = if offers_partner {
            ctx.db(client_applications::choices).await?
        } else {
            Vec::new()
        };
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
                    selected: a.id.to_string() == request.client_application_id.trim(),
                    value: a.id.to_string(),
                    label: a.name,
                })
                .collect(),
            offers_partner,
            description: request.description.clone(),
            errors,
            submit_label: submit_label(chosen),
        })
    }
}

pub async fn new_form(ctx: PageContext) -> Result<HttpResponse, AppError> {
    ctx.require(Action::OpenDevCenter)?;
    let dialog =
        NewCredentialDialog::build(&ctx, &CredentialRequest::default(), FieldErrors::default())
            .await?;
    ctx.render("Create New Credential", Section::DevCenter, &dialog)
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    api_type: String,
    #[serde(default)]
    client_application_id: String,
    #[serde(default)]
    description: String,
}

#[derive(Template)]
#[template(path = "credentials/key.html")]
struct OneTimeKey<'a> {
    id: i32,
    key: &'a str,
    type_label: &'static str,
    continue_href: String,
}

pub async fn create(
    ctx: PageContext,
    HtmlForm(form): HtmlForm<CreateForm>,
) -> Result<HttpResponse, AppError> {
    let request = CredentialRequest {
        api_type: form.api_type,
        client_application_id: form.client_application_id,
        description: form.description,
    };
    let (viewer, keys) = (ctx.viewer.clone(), ctx.state.keys.clone());
    let submitted = request.clone();
    match ctx
        .db(move |conn| use_cases::create(conn, &keys, &viewer, &submitted))
        .await
    {
        Ok(created) => {
            tracing::info!(
                credential_id = created.id,
                api_type = created.api_type.as_str(),
                "API key created"
            );
            let view = OneTimeKey {
                id: created.id,
                key: created.key.reveal(),
                type_label: created.api_type.label(),
                continue_href: if created.api_type == ApiType::Harvest {
                    format!("{LIST}/{}/permissions", created.id)
                } else {
                    LIST.to_owned()
                },
            };
            ctx.render("Your new API key", Section::DevCenter, &view)
        }
        Err(Failure::Invalid(errors)) => {
            let dialog = NewCredentialDialog::build(&ctx, &request, errors).await?;
            ctx.render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Create New Credential",
                Section::DevCenter,
                &dialog,
            )
        }
        Err(other) => Err(other.into()),
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
    let (viewer, id) = (ctx.viewer.clone(), id.into_inner());
    let (credential, api_type) = ctx
        .db(move |conn| use_cases::find(conn, &viewer, id))
        .await?;
    if credential.revoked_at.is_some() {
        ctx.flash(format!("“{}” is already revoked.", credential.description));
        return Ok(see_other(LIST));
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
    let (viewer, keys, id) = (ctx.viewer.clone(), ctx.state.keys.clone(), id.into_inner());
    let credential: Credential = ctx
        .db(move |conn| use_cases::revoke(conn, &keys, &viewer, id))
        .await?;
    tracing::info!(credential_id = id, "API key revoked");
    ctx.flash(format!(
        "Revoked “{}” ({}). It no longer works.",
        credential.description,
        key_display(&credential.key_prefix, &credential.key_last4)
    ));
    Ok(see_other(LIST))
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
}

async fn permissions_page(
    ctx: &PageContext,
    id: i32,
    submitted: Option<(BTreeSet<String>, String)>,
) -> Result<PermissionsPage, AppError> {
    let viewer = ctx.viewer.clone();
    let grants = ctx
        .db(move |conn| use_cases::grants(conn, &viewer, id))
        .await?;
    let (picker, error) = match submitted {
        Some((chosen, error)) => (
            EndpointPicker::new(&grants.groups, |e| chosen.contains(&e.identifier())),
            Some(error),
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
    })
}

pub async fn permissions(ctx: PageContext, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let page = permissions_page(&ctx, id.into_inner(), None).await?;
    ctx.render("Manage API Key Permissions", Section::DevCenter, &page)
}

#[derive(Deserialize)]
pub struct PermissionsForm {
    #[serde(default)]
    endpoints: Vec<String>,
}

pub async fn update_permissions(
    ctx: PageContext,
    id: web::Path<i32>,
    HtmlForm(form): HtmlForm<PermissionsForm>,
) -> Result<HttpResponse, AppError> {
    let (viewer, keys, id) = (ctx.viewer.clone(), ctx.state.keys.clone(), id.into_inner());
    let endpoints = form.endpoints.clone();
    match ctx
        .db(move |conn| use_cases::replace_grants(conn, &keys, &viewer, id, &endpoints))
        .await
    {
        Ok(granted) => {
            tracing::info!(credential_id = id, granted, "endpoint grants replaced");
            ctx.flash(format!(
                "Permissions updated: this key is granted {granted} endpoint{}.",
                if granted == 1 { "" } else { "s" }
            ));
            Ok(see_other(&format!("{LIST}/{id}/permissions")))
        }
        Err(Failure::Invalid(errors)) => {
            let chosen = form.endpoints.into_iter().collect();
            let page = permissions_page(&ctx, id, Some((chosen, errors.to_string()))).await?;
            ctx.render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Manage API Key Permissions",
                Section::DevCenter,
                &page,
            )
        }
        Err(other) => Err(other.into()),
    }
}
