//! Client Applications: the partner integrations keys are made for, their preset Harvest
//! endpoints and the v3 scopes they ask for; each one's redirect URIs and OAuth client.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::rules::endpoints::EndpointIdentifier;
use crate::rules::redirect_uris::RedirectUris;
use crate::rules::text::{FieldErrors, parse_label};
use crate::rules::words::{ApiType, ProductWord};
use crate::use_cases::client_applications as use_cases;

use super::context::{PageContext, Section};
use super::error::AppError;
use super::forms::{HtmlForm, refused_fields};
use super::picker::{EndpointPicker, ScopePicker};
use super::respond::see_other;
use super::urls::CLIENT_APPLICATIONS;

struct Row {
    id: i32,
    name: String,
    active: bool,
    presets: Vec<String>,
    scopes: Vec<String>,
    redirect_uris: Vec<String>,
    oauth_client: Option<OauthClient>,
}

/// A client application's OAuth client as its row shows it.
struct OauthClient {
    credential_id: i32,
    client_id: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "client_applications.html")]
struct ClientApplicationsPage {
    csrf_token: String,
    rows: Vec<Row>,
    name: String,
    picker: EndpointPicker,
    scope_picker: ScopePicker,
    /// How many scopes the form has ticked (the disclosure opens itself when any are).
    scopes_chosen: usize,
    errors: FieldErrors,
}

/// What the Add form was sent with: its name, endpoints and scopes.
#[derive(Default)]
struct Submitted {
    name: String,
    endpoints: Vec<String>,
    scopes: Vec<String>,
}

async fn page(
    ctx: &PageContext,
    submitted: Submitted,
    errors: FieldErrors,
) -> Result<ClientApplicationsPage, AppError> {
    let catalogue = ctx.read(use_cases::list).await?;
    let scope_picker = ScopePicker::new(&catalogue.scopes, |s| {
        submitted.scopes.iter().any(|chosen| chosen == s)
    });
    Ok(ClientApplicationsPage {
        csrf_token: ctx.csrf_token(),
        rows: catalogue
            .listed
            .into_iter()
            .map(|l| Row {
                id: l.application.id,
                name: l.application.name,
                active: l.application.active,
                presets: l.presets.iter().map(|e| e.identifier()).collect(),
                scopes: l.scopes,
                redirect_uris: RedirectUris::stored(&l.application.redirect_uris)
                    .iter()
                    .map(str::to_owned)
                    .collect(),
                oauth_client: l.oauth_client.map(|c| OauthClient {
                    credential_id: c.id,
                    client_id: c.client_id.unwrap_or_default(),
                    revoked: c.revoked_at.is_some(),
                }),
            })
            .collect(),
        picker: EndpointPicker::new(&catalogue.endpoints, |e| {
            submitted.endpoints.contains(&e.identifier())
        }),
        scopes_chosen: scope_picker.checked(),
        scope_picker,
        name: submitted.name,
        errors,
    })
}

pub async fn list(ctx: PageContext) -> Result<HttpResponse, AppError> {
    let body = page(&ctx, Submitted::default(), FieldErrors::default()).await?;
    ctx.render("Client Applications", Section::DevCenter, &body)
}

#[derive(Deserialize)]
pub struct ClientApplicationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    endpoints: Vec<String>,
    #[serde(default)]
    scopes: Vec<String>,
}

pub async fn create(
    ctx: PageContext,
    HtmlForm(form): HtmlForm<ClientApplicationForm>,
) -> Result<HttpResponse, AppError> {
    let mut errors = FieldErrors::default();
    let name = parse_label("name", "name", &form.name)
        .map_err(|e| errors.add(e.field, e.message))
        .ok();
    let endpoints = EndpointIdentifier::parse_all(&form.endpoints)
        .map_err(|e| errors.add(e.field, e.message))
        .ok();
    let added = match (name, endpoints) {
        (Some(name), Some(endpoints)) => {
            let scopes = form.scopes.clone();
            refused_fields(
                ctx.write(move |conn, viewer| {
                    use_cases::create(conn, viewer, &name, &endpoints, &scopes)
                })
                .await,
            )?
        }
        _ => Err(errors),
    };
    match added {
        Ok(id) => {
            tracing::info!(client_application_id = id, "client application added");
            ctx.flash(format!(
                "Added the client application “{}”.",
                form.name.trim()
            ));
            Ok(see_other(CLIENT_APPLICATIONS))
        }
        Err(errors) => {
            let submitted = Submitted {
                name: form.name,
                endpoints: form.endpoints,
                scopes: form.scopes,
            };
            let body = page(&ctx, submitted, errors).await?;
            ctx.render_refused("Client Applications", Section::DevCenter, &body)
        }
    }
}

#[derive(Template)]
#[template(path = "client_application.html")]
struct EditPage {
    csrf_token: String,
    id: i32,
    name: String,
    redirect_uris: String,
    scope_picker: ScopePicker,
    has_oauth_client: bool,
    errors: FieldErrors,
}

const EDIT_TITLE: &str = "Edit client application";

/// The edit form, with `submitted` (redirect URIs as typed, scopes) when it is shown again.
async fn edit_page(
    ctx: &PageContext,
    id: i32,
    submitted: Option<(String, Vec<String>)>,
    errors: FieldErrors,
) -> Result<EditPage, AppError> {
    let editing = ctx
        .read(move |conn, viewer| use_cases::editing(conn, viewer, id))
        .await?;
    let (redirect_uris, scopes) =
        submitted.unwrap_or((editing.application.redirect_uris, editing.scopes));
    Ok(EditPage {
        csrf_token: ctx.csrf_token(),
        id,
        name: editing.application.name,
        redirect_uris,
        scope_picker: ScopePicker::new(&editing.catalogue, |s| scopes.iter().any(|c| c == s)),
        has_oauth_client: editing.oauth_client.is_some(),
        errors,
    })
}

pub async fn edit(ctx: PageContext, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let page = edit_page(&ctx, id.into_inner(), None, FieldErrors::default()).await?;
    ctx.render(EDIT_TITLE, Section::DevCenter, &page)
}

/// Two forms post to a client application's address: its row's Activate/Deactivate button
/// (`active` alone) and the edit form (`redirect_uris`, `scopes`).
#[derive(Deserialize)]
pub struct ClientApplicationChange {
    active: Option<String>,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    scopes: Vec<String>,
}

pub async fn update(
    ctx: PageContext,
    id: web::Path<i32>,
    HtmlForm(form): HtmlForm<ClientApplicationChange>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    if let Some(active) = form.active {
        return set_active(ctx, id, &active).await;
    }
    let saved = match RedirectUris::parse(&form.redirect_uris) {
        Ok(uris) => {
            let scopes = form.scopes.clone();
            refused_fields(
                ctx.write(move |conn, viewer| {
                    use_cases::update_oauth(conn, viewer, id, &uris, &scopes)
                })
                .await,
            )?
        }
        Err(message) => {
            let mut errors = FieldErrors::default();
            errors.add("redirect_uris", message);
            Err(errors)
        }
    };
    match saved {
        Ok(application) => {
            tracing::info!(client_application_id = id, "client application edited");
            ctx.flash(format!("Saved “{}”.", application.name));
            Ok(see_other(CLIENT_APPLICATIONS))
        }
        Err(errors) => {
            let page = edit_page(&ctx, id, Some((form.redirect_uris, form.scopes)), errors).await?;
            ctx.render_refused(EDIT_TITLE, Section::DevCenter, &page)
        }
    }
}

/// Activate or Deactivate, from a client application's row.
async fn set_active(ctx: PageContext, id: i32, active: &str) -> Result<HttpResponse, AppError> {
    let active = match active {
        "true" => true,
        "false" => false,
        _ => {
            return Err(AppError::BadRequest(
                "Choose Activate or Deactivate.".into(),
            ));
        }
    };
    let application = ctx
        .write(move |conn, viewer| use_cases::set_active(conn, viewer, id, active))
        .await?;
    tracing::info!(
        client_application_id = id,
        active,
        "client application changed"
    );
    ctx.flash(if active {
        format!("Activated “{}”: its keys work again.", application.name)
    } else {
        format!(
            "Deactivated “{}”: its keys no longer work.",
            application.name
        )
    });
    Ok(see_other(CLIENT_APPLICATIONS))
}

/// The one-time view of the new OAuth client: its client ID and, this once, its secret.
#[derive(Template)]
#[template(path = "credentials/client_credentials.html")]
struct OneTimeClientCredentials<'a> {
    id: i32,
    client_id: &'a str,
    secret: &'a str,
    type_label: &'static str,
    continue_href: &'static str,
}

/// Create OAuth client, from a client application's row.
pub async fn create_oauth_client(
    ctx: PageContext,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let created = refused_fields(
        ctx.write(move |conn, viewer| use_cases::create_oauth_client(conn, viewer, id))
            .await,
    )?;
    match created {
        Ok(created) => {
            tracing::info!(
                client_application_id = id,
                credential_id = created.id,
                "OAuth client created"
            );
            let view = OneTimeClientCredentials {
                id: created.id,
                client_id: created.client_id.as_deref().unwrap_or_default(),
                secret: created.key.reveal(),
                type_label: ApiType::OauthClient.label(),
                continue_href: CLIENT_APPLICATIONS,
            };
            let page = ctx.render("Your new OAuth client", Section::DevCenter, &view)?;
            // Set after rendering, so the one-time view never takes it.
            ctx.flash("Created the OAuth client. Its client secret is not shown again.");
            Ok(page)
        }
        Err(errors) => {
            let body = page(&ctx, Submitted::default(), errors).await?;
            ctx.render_refused("Client Applications", Section::DevCenter, &body)
        }
    }
}
