//! Client Applications: the partner integrations keys are made for, their preset Harvest
//! endpoints and the v3 scopes they ask for.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::rules::endpoints::EndpointIdentifier;
use crate::rules::text::{FieldErrors, parse_label};
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

#[derive(Deserialize)]
pub struct ActivationForm {
    #[serde(default)]
    active: String,
}

/// Activate or Deactivate, from a client application's row.
pub async fn set_active(
    ctx: PageContext,
    id: web::Path<i32>,
    HtmlForm(form): HtmlForm<ActivationForm>,
) -> Result<HttpResponse, AppError> {
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(AppError::BadRequest(
                "Choose Activate or Deactivate.".into(),
            ));
        }
    };
    let id = id.into_inner();
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
