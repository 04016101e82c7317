//! Client Applications: the partner integrations keys are made for, and their preset
//! Harvest endpoints.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::rules::endpoints::EndpointIdentifier;
use crate::rules::text::{FieldErrors, parse_label};
use crate::use_cases::client_applications as use_cases;

use super::context::{PageContext, Section};
use super::error::AppError;
use super::forms::{HtmlForm, refused_fields};
use super::picker::EndpointPicker;
use super::respond::see_other;
use super::urls::CLIENT_APPLICATIONS;

struct Row {
    id: i32,
    name: String,
    active: bool,
    presets: Vec<String>,
}

#[derive(Template)]
#[template(path = "client_applications.html")]
struct ClientApplicationsPage {
    csrf_token: String,
    rows: Vec<Row>,
    name: String,
    picker: EndpointPicker,
    errors: FieldErrors,
}

async fn page(
    ctx: &PageContext,
    name: String,
    chosen: Vec<String>,
    errors: FieldErrors,
) -> Result<ClientApplicationsPage, AppError> {
    let (listed, groups) = ctx.read(use_cases::list).await?;
    Ok(ClientApplicationsPage {
        csrf_token: ctx.csrf_token(),
        rows: listed
            .into_iter()
            .map(|l| Row {
                id: l.application.id,
                name: l.application.name,
                active: l.application.active,
                presets: l.presets.iter().map(|e| e.identifier()).collect(),
            })
            .collect(),
        name,
        picker: EndpointPicker::new(&groups, |e| chosen.contains(&e.identifier())),
        errors,
    })
}

pub async fn list(ctx: PageContext) -> Result<HttpResponse, AppError> {
    let body = page(&ctx, String::new(), Vec::new(), FieldErrors::default()).await?;
    ctx.render("Client Applications", Section::DevCenter, &body)
}

#[derive(Deserialize)]
pub struct ClientApplicationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    endpoints: Vec<String>,
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
        (Some(name), Some(endpoints)) => refused_fields(
            ctx.write(move |conn, viewer| use_cases::create(conn, viewer, &name, &endpoints))
                .await,
        )?,
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
            let body = page(&ctx, form.name, form.endpoints, errors).await?;
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
