//! Rotate (the secrets table, the overlap choice, the new secret shown once), End overlap,
//! Trusted IPs and Enable: the pages that keep a credential in service.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::rules::expiry::Expiry;
use crate::rules::overlap::Overlap;
use crate::rules::text::{FieldError, FieldErrors};
use crate::rules::trusted_ips::TrustedIps;
use crate::rules::words::{ApiType, ProductWord};
use crate::use_cases::credential_lifecycle as use_cases;

use super::context::{PageContext, Section};
use super::display::{key_display, when};
use super::error::AppError;
use super::forms::{Choice, HtmlForm, refused_fields};
use super::respond::see_other;
use super::urls::{
    CREDENTIAL_EXPIRY, CREDENTIAL_ROTATE, CREDENTIAL_TRUSTED_IPS, CREDENTIALS, with_id,
};

/// One of a credential's secrets as the rotate page lists it.
struct SecretRow {
    key: String,
    created_at: String,
    /// "Current", "Works until …" or "Ended …".
    status: String,
    working: bool,
    last_used: Option<String>,
    /// "from 203.0.113.7 · curl/8.5": where its last request came from.
    last_seen_from: Option<String>,
}

#[derive(Template)]
#[template(path = "credentials/rotate.html")]
struct RotatePage {
    csrf_token: String,
    id: i32,
    description: String,
    type_label: &'static str,
    client_id: Option<String>,
    revoked: bool,
    secrets: Vec<SecretRow>,
    /// Whether a rotated-out secret still works (End overlap now is offered).
    overlap_running: bool,
    overlaps: Vec<Choice>,
    errors: FieldErrors,
}

const ROTATE_TITLE: &str = "Rotate API key";

async fn rotate_page_for(
    ctx: &PageContext,
    id: i32,
    chosen: Option<&str>,
    errors: FieldErrors,
) -> Result<RotatePage, AppError> {
    let found = ctx
        .read(move |conn, viewer| use_cases::secrets(conn, viewer, id))
        .await?;
    let now = db::now();
    let secrets: Vec<SecretRow> = found
        .secrets
        .into_iter()
        .map(|s| {
            let (status, working) = match (s.ends_at, s.quiet_hours) {
                (None, _) => ("Current".to_owned(), true),
                (Some(end), Some(hours)) if end > now => (
                    format!(
                        "Works until it has had no request for {hours} hour{}, at the latest {}",
                        if hours == 1 { "" } else { "s" },
                        when(end)
                    ),
                    true,
                ),
                (Some(end), _) if end > now => (format!("Works until {}", when(end)), true),
                (Some(end), _) => (format!("Ended {}", when(end)), false),
            };
            SecretRow {
                key: key_display(&s.secret_prefix, &s.secret_last4),
                created_at: when(s.created_at),
                status,
                working,
                last_used: s.last_used_at.map(when),
                // Who still uses it: where its last request came from, and with what.
                last_seen_from: s.last_used_from.map(|from| match s.last_user_agent {
                    Some(agent) => format!("from {from} · {agent}"),
                    None => format!("from {from}"),
                }),
            }
        })
        .collect();
    let overlap_running = secrets.iter().filter(|s| s.working).count() > 1;
    let chosen = chosen.map_or_else(|| Overlap::OneDay.as_str(), str::to_owned);
    Ok(RotatePage {
        csrf_token: ctx.csrf_token(),
        id,
        description: found.credential.description,
        type_label: found.api_type.label(),
        client_id: found.credential.client_id,
        revoked: found.credential.revoked_at.is_some(),
        secrets,
        overlap_running,
        overlaps: Overlap::ALL
            .iter()
            .map(|o| Choice {
                value: o.as_str(),
                label: o.label(),
                selected: o.as_str() == chosen,
            })
            .collect(),
        errors,
    })
}

pub async fn rotate_page(ctx: PageContext, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let page = rotate_page_for(&ctx, id.into_inner(), None, FieldErrors::default()).await?;
    ctx.render(ROTATE_TITLE, Section::DevCenter, &page)
}

#[derive(Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    overlap: String,
}

/// The new secret, shown once, with the hooks of the one-time view at creation.
#[derive(Template)]
#[template(path = "credentials/rotated.html")]
struct RotatedView<'a> {
    id: i32,
    key: &'a str,
    /// A v3 credential's client ID (unchanged by a rotation).
    client_id: Option<String>,
    type_label: &'static str,
    description: String,
    old_secret: String,
    continue_href: String,
}

pub async fn rotate(
    ctx: PageContext,
    id: web::Path<i32>,
    HtmlForm(form): HtmlForm<RotateForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let rotated = match Overlap::parse(&form.overlap) {
        Ok(overlap) => refused_fields(
            ctx.write(move |conn, viewer| use_cases::rotate(conn, viewer, id, overlap))
                .await,
        )?,
        Err(error) => Err(error.into()),
    };
    match rotated {
        Ok(rotated) => {
            tracing::info!(
                credential_id = id,
                overlap = form.overlap.trim(),
                "API key rotated"
            );
            // A partner's OAuth client keeps its client ID like a v3 credential.
            let v3 = matches!(rotated.api_type, ApiType::HarvestV3 | ApiType::OauthClient);
            let view = RotatedView {
                id,
                key: rotated.key.reveal(),
                client_id: rotated.credential.client_id.clone().filter(|_| v3),
                type_label: rotated.api_type.label(),
                old_secret: if rotated.old_ends_at > db::now() {
                    format!("works until {}", when(rotated.old_ends_at))
                } else {
                    "has stopped working".to_owned()
                },
                description: rotated.credential.description.clone(),
                continue_href: with_id(CREDENTIAL_ROTATE, id),
            };
            let page = ctx.render("Your new secret", Section::DevCenter, &view)?;
            // Set after rendering, so the one-time view never takes it.
            ctx.flash(format!(
                "Rotated “{}”. Its new secret is not shown again.",
                rotated.credential.description
            ));
            Ok(page)
        }
        Err(errors) => {
            let page = rotate_page_for(&ctx, id, Some(form.overlap.trim()), errors).await?;
            ctx.render_refused(ROTATE_TITLE, Section::DevCenter, &page)
        }
    }
}

pub async fn end_overlap(ctx: PageContext, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (credential, ended) = ctx
        .write(move |conn, viewer| use_cases::end_overlap(conn, viewer, id))
        .await?;
    tracing::info!(credential_id = id, ended, "rotation overlap ended");
    ctx.flash(match ended {
        0 => format!(
            "“{}” has no old secret still working.",
            credential.description
        ),
        1 => format!(
            "Overlap ended: the old secret of “{}” no longer works.",
            credential.description
        ),
        n => format!(
            "Overlap ended: {n} old secrets of “{}” no longer work.",
            credential.description
        ),
    });
    Ok(see_other(&with_id(CREDENTIAL_ROTATE, id)))
}

#[derive(Template)]
#[template(path = "credentials/trusted_ips.html")]
struct TrustedIpsPage {
    csrf_token: String,
    id: i32,
    description: String,
    key: String,
    type_label: &'static str,
    trusted_ips: String,
    errors: FieldErrors,
}

const TRUSTED_IPS_TITLE: &str = "Trusted IPs";

async fn trusted_ips_page_for(
    ctx: &PageContext,
    id: i32,
    submitted: Option<(String, FieldErrors)>,
) -> Result<TrustedIpsPage, AppError> {
    let (credential, api_type) = ctx
        .read(move |conn, viewer| crate::use_cases::credentials::find(conn, viewer, id))
        .await?;
    let (trusted_ips, errors) =
        submitted.unwrap_or_else(|| (credential.trusted_ips.clone(), FieldErrors::default()));
    Ok(TrustedIpsPage {
        csrf_token: ctx.csrf_token(),
        id,
        key: key_display(&credential.key_prefix, &credential.key_last4),
        description: credential.description,
        type_label: api_type.label(),
        trusted_ips,
        errors,
    })
}

pub async fn trusted_ips_page(
    ctx: PageContext,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let page = trusted_ips_page_for(&ctx, id.into_inner(), None).await?;
    ctx.render(TRUSTED_IPS_TITLE, Section::DevCenter, &page)
}

#[derive(Deserialize)]
pub struct TrustedIpsForm {
    #[serde(default)]
    trusted_ips: String,
}

pub async fn save_trusted_ips(
    ctx: PageContext,
    id: web::Path<i32>,
    HtmlForm(form): HtmlForm<TrustedIpsForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let saved = match TrustedIps::parse(&form.trusted_ips) {
        Ok(trusted_ips) => refused_fields(
            ctx.write(move |conn, viewer| {
                use_cases::set_trusted_ips(conn, viewer, id, &trusted_ips)
            })
            .await,
        )?,
        Err(message) => Err(FieldError::new("trusted_ips", message).into()),
    };
    match saved {
        Ok((credential, stored)) => {
            tracing::info!(credential_id = id, "trusted IPs saved");
            ctx.flash(if stored.is_empty() {
                format!("“{}” may be used from any address.", credential.description)
            } else {
                format!(
                    "“{}” may now be used only from {}.",
                    credential.description,
                    stored.lines().collect::<Vec<_>>().join(", ")
                )
            });
            Ok(see_other(&with_id(CREDENTIAL_TRUSTED_IPS, id)))
        }
        Err(errors) => {
            let page = trusted_ips_page_for(&ctx, id, Some((form.trusted_ips, errors))).await?;
            ctx.render_refused(TRUSTED_IPS_TITLE, Section::DevCenter, &page)
        }
    }
}

pub async fn enable(ctx: PageContext, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let credential = ctx
        .write(move |conn, viewer| use_cases::enable(conn, viewer, id))
        .await?;
    tracing::info!(credential_id = id, "API key enabled");
    ctx.flash(if credential.revoked_at.is_some() {
        format!(
            "Enabled “{}” ({}). It works again.",
            credential.description,
            key_display(&credential.key_prefix, &credential.key_last4)
        )
    } else {
        format!("“{}” is not revoked.", credential.description)
    });
    Ok(see_other(CREDENTIALS))
}

#[derive(Template)]
#[template(path = "credentials/expiry.html")]
struct ExpiryPage {
    csrf_token: String,
    id: i32,
    description: String,
    key: String,
    type_label: &'static str,
    /// As the date field shows it: `YYYY-MM-DD` or empty for never.
    expires_on: String,
    /// What it is now, in words.
    now: String,
    max_lifetime_days: Option<i32>,
    errors: FieldErrors,
}

const EXPIRY_TITLE: &str = "Expiry";

async fn expiry_page_for(
    ctx: &PageContext,
    id: i32,
    submitted: Option<(String, FieldErrors)>,
) -> Result<ExpiryPage, AppError> {
    let (credential, api_type, settings) = ctx
        .read(move |conn, viewer| {
            let (credential, api_type) = crate::use_cases::credentials::find(conn, viewer, id)?;
            let settings = crate::db::settings::DevCenterSettings::get(conn)?;
            Ok::<_, crate::use_cases::Failure>((credential, api_type, settings))
        })
        .await?;
    let stored = credential
        .expires_at
        .map(|end| Expiry::last_day(end).format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let (expires_on, errors) =
        submitted.unwrap_or_else(|| (stored.clone(), FieldErrors::default()));
    Ok(ExpiryPage {
        csrf_token: ctx.csrf_token(),
        id,
        key: key_display(&credential.key_prefix, &credential.key_last4),
        now: super::display::expiry(credential.expires_at).text,
        description: credential.description,
        type_label: api_type.label(),
        expires_on,
        max_lifetime_days: settings.max_lifetime_days,
        errors,
    })
}

pub async fn expiry_page(ctx: PageContext, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let page = expiry_page_for(&ctx, id.into_inner(), None).await?;
    ctx.render(EXPIRY_TITLE, Section::DevCenter, &page)
}

#[derive(Deserialize)]
pub struct ExpiryForm {
    #[serde(default)]
    expires_on: String,
}

pub async fn save_expiry(
    ctx: PageContext,
    id: web::Path<i32>,
    HtmlForm(form): HtmlForm<ExpiryForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let saved = match Expiry::parse(&form.expires_on, chrono::Utc::now().date_naive()) {
        Ok(expiry) => refused_fields(
            ctx.write(move |conn, viewer| {
                crate::use_cases::credentials::change_expiry(conn, viewer, id, expiry)
            })
            .await,
        )?,
        Err(message) => Err(FieldError::new("expires_on", message).into()),
    };
    match saved {
        Ok(credential) => {
            tracing::info!(credential_id = id, "expiry changed");
            ctx.flash(match form.expires_on.trim() {
                "" => format!("“{}” never expires.", credential.description),
                day => format!(
                    "“{}” works through {day} (UTC), then stops.",
                    credential.description
                ),
            });
            Ok(see_other(&with_id(CREDENTIAL_EXPIRY, id)))
        }
        Err(errors) => {
            let page = expiry_page_for(&ctx, id, Some((form.expires_on, errors))).await?;
            ctx.render_refused(EXPIRY_TITLE, Section::DevCenter, &page)
        }
    }
}
