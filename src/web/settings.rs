//! Dev Center settings (Site Admins): the longest a credential may live.

use actix_web::HttpResponse;
use askama::Template;
use serde::Deserialize;

use crate::rules::text::FieldErrors;
use crate::use_cases::settings as use_cases;

use super::context::{PageContext, Section};
use super::error::AppError;
use super::forms::{HtmlForm, refused_fields};
use super::respond::see_other;
use super::urls::DEV_CENTER_SETTINGS;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    csrf_token: String,
    max_lifetime_days: String,
    errors: FieldErrors,
}

const TITLE: &str = "Dev Center settings";

pub async fn page(ctx: PageContext) -> Result<HttpResponse, AppError> {
    let settings = ctx.read(use_cases::get).await?;
    let page = SettingsPage {
        csrf_token: ctx.csrf_token(),
        max_lifetime_days: settings
            .max_lifetime_days
            .map(|d| d.to_string())
            .unwrap_or_default(),
        errors: FieldErrors::default(),
    };
    ctx.render(TITLE, Section::DevCenter, &page)
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    max_lifetime_days: String,
}

pub async fn save(
    ctx: PageContext,
    HtmlForm(form): HtmlForm<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    let saved = match use_cases::parse_max_lifetime(&form.max_lifetime_days) {
        Ok(days) => refused_fields(
            ctx.write(move |conn, viewer| use_cases::set(conn, viewer, days))
                .await,
        )?,
        Err(refused) => Err(refused.into()),
    };
    match saved {
        Ok(settings) => {
            ctx.flash(match settings.max_lifetime_days {
                Some(days) => format!(
                    "New credentials, and changed expiry dates, may now last at most {days} days."
                ),
                None => "Credentials may now last as long as their managers choose.".to_owned(),
            });
            Ok(see_other(DEV_CENTER_SETTINGS))
        }
        Err(errors) => {
            let page = SettingsPage {
                csrf_token: ctx.csrf_token(),
                max_lifetime_days: form.max_lifetime_days,
                errors,
            };
            ctx.render_refused(TITLE, Section::DevCenter, &page)
        }
    }
}
