//! Client Applications: the partner integrations keys are made for, and their preset
//! Harvest endpoints.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::rules::access::Action;
use crate::rules::text::FieldErrors;
use crate::use_cases::Failure;
use crate::use_cases::client_applications as use_cases;

use super::context::{PageContext, Section};
use super::error::AppError;
use super::forms::HtmlForm;
use super::login::see_other;
use super::picker::EndpointPicker;

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
    let viewer = ctx.viewer.clone();
    let (listed, groups) = ctx.db(move |conn| use_cases::list(conn, &viewer)).await?;
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
    let viewer = ctx.viewer.clone();
    let (name, endpoints) = (form.name.clone(), form.endpoints.clone());
    match ctx
        .db(move |conn| use_cases::create(conn, &viewer, &name, &endpoints))
        .await
    {
        Ok(id) => {
            tracing::info!(client_application_id = id, "client application added");
            ctx.flash(format!(
                "Added the client application “{}”.",
                form.name.trim()
            ));
            Ok(see_other("/configure/dev_center/client_applications"))
        }
        Err(Failure::Invalid(errors)) => {
            let body = page(&ctx, form.name, form.endpoints, errors).await?;
            ctx.render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Client Applications",
                Section::DevCenter,
                &body,
            )
        }
        Err(other) => Err(other.into()),
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
    // Who may ask comes before what they asked for.
    ctx.require(Action::ManageClientApplications)?;
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(AppError::BadRequest(
                "Choose Activate or Deactivate.".into(),
            ));
        }
    };
    let (viewer, keys, id) = (ctx.viewer.clone(), ctx.state.keys.clone(), id.into_inner());
    let application = ctx
        .db(move |conn| use_cases::set_active(conn, &keys, &viewer, id, active))
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
    Ok(see_other("/configure/dev_center/client_applications"))
}
