//! Dev Center → Web Hooks, for people with "Can manage and configure web hooks": the list,
//! adding and editing a hook (its secret key is write-only once saved), disabling and
//! enabling it, "Send test ping", and its deliveries.

use actix_web::{HttpResponse, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::db::web_hooks::Delivery;
use crate::rules::access::Action;
use crate::rules::text::FieldErrors;
use crate::rules::web_hooks::suggested_secret_key;
use crate::rules::words::{DeliveryState, ProductWord, WebHookEvent};
use crate::use_cases::web_hooks::{self as use_cases, HookListing, HookRequest};
use crate::web_hooks::WebHooks;

use super::context::{PageContext, Section};
use super::display::{paged_title, when, when_exactly};
use super::error::AppError;
use super::forms::{Choice, HtmlForm, refused_fields};
use super::respond::see_other;
use super::urls::{WEB_HOOK_DELIVERIES, WEB_HOOKS, with_id};

struct Row {
    id: i32,
    name: String,
    url: String,
    events: Vec<&'static str>,
    enabled: bool,
    /// "Failing since …", when it is.
    failing_since: Option<String>,
    added_by: String,
    added_on: String,
}

impl From<HookListing> for Row {
    fn from(listing: HookListing) -> Row {
        let hook = listing.hook;
        Row {
            id: hook.id,
            name: hook.name,
            url: hook.url,
            events: listing.events.iter().map(|e| e.as_str()).collect(),
            enabled: hook.enabled,
            failing_since: hook.failing_since.map(when),
            added_by: listing.added_by,
            added_on: when(hook.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "web_hooks/list.html")]
struct WebHooksPage {
    csrf_token: String,
    rows: Vec<Row>,
    /// The breadcrumb links Dev Center only for those who may open it.
    dev_center_link: bool,
}

pub async fn list(ctx: PageContext) -> Result<HttpResponse, AppError> {
    let hooks = ctx.read(use_cases::list).await?;
    let page = WebHooksPage {
        csrf_token: ctx.csrf_token(),
        rows: hooks.into_iter().map(Row::from).collect(),
        dev_center_link: ctx.viewer.may(Action::OpenDevCenter),
    };
    ctx.render("Web Hooks", Section::DevCenter, &page)
}

#[derive(Template)]
#[template(path = "web_hooks/form.html")]
struct HookForm {
    csrf_token: String,
    /// `None` when adding.
    id: Option<i32>,
    name: String,
    url: String,
    /// The suggested key when adding; always empty when editing (write-only).
    secret_key: String,
    events: Vec<Choice>,
    errors: FieldErrors,
    dev_center_link: bool,
}

impl HookForm {
    /// Where the form is posted: the list to add, the hook's page to save.
    fn action(&self) -> String {
        self.id.map_or_else(
            || WEB_HOOKS.to_owned(),
            |id| with_id(super::urls::WEB_HOOK, id),
        )
    }
}

fn event_choices(selected: &[String]) -> Vec<Choice> {
    WebHookEvent::subscribable()
        .map(|e| Choice {
            value: e.as_str().to_owned(),
            label: e.label().to_owned(),
            selected: selected.iter().any(|s| s == e.as_str()),
        })
        .collect()
}

pub async fn new_form(ctx: PageContext) -> Result<HttpResponse, AppError> {
    // Access is the use case's: reading the list asks it.
    ctx.read(use_cases::list).await?;
    let form = HookForm {
        csrf_token: ctx.csrf_token(),
        id: None,
        name: String::new(),
        url: String::new(),
        secret_key: suggested_secret_key(),
        events: event_choices(
            &WebHookEvent::subscribable()
                .map(|e| e.as_str().to_owned())
                .collect::<Vec<_>>(),
        ),
        errors: FieldErrors::default(),
        dev_center_link: ctx.viewer.may(Action::OpenDevCenter),
    };
    ctx.render("Add web hook", Section::DevCenter, &form)
}

#[derive(Deserialize)]
pub struct HookFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    secret_key: Option<SecretString>,
    #[serde(default)]
    events: Vec<String>,
}

impl HookFields {
    fn request(&self) -> HookRequest {
        HookRequest {
            name: self.name.clone(),
            url: self.url.clone(),
            secret_key: self
                .secret_key
                .clone()
                .unwrap_or_else(|| SecretString::from(String::new())),
            events: self.events.clone(),
        }
    }

    /// The form again, with what was typed (never the secret key) and what was refused.
    fn refused(self, ctx: &PageContext, id: Option<i32>, errors: FieldErrors) -> HookForm {
        HookForm {
            csrf_token: ctx.csrf_token(),
            id,
            events: event_choices(&self.events),
            name: self.name,
            url: self.url,
            secret_key: String::new(),
            errors,
            dev_center_link: ctx.viewer.may(Action::OpenDevCenter),
        }
    }
}

pub async fn create(
    ctx: PageContext,
    hooks: web::Data<WebHooks>,
    HtmlForm(form): HtmlForm<HookFields>,
) -> Result<HttpResponse, AppError> {
    let request = form.request();
    let hooks = hooks.into_inner();
    let created = refused_fields(
        ctx.write(move |conn, viewer| {
            use_cases::create(
                conn,
                viewer,
                &hooks.sealing,
                hooks.outbound.allow_http,
                &request,
            )
        })
        .await,
    )?;
    match created {
        Ok(_) => {
            ctx.flash(format!(
                "Added the web hook “{}”. Send it a test ping to check that its receiver answers.",
                form.name.trim()
            ));
            Ok(see_other(WEB_HOOKS))
        }
        Err(errors) => {
            let page = form.refused(&ctx, None, errors);
            ctx.render_refused("Add web hook", Section::DevCenter, &page)
        }
    }
}

pub async fn edit(ctx: PageContext, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let listing = ctx
        .read(move |conn, viewer| use_cases::find(conn, viewer, id))
        .await?;
    let form = HookForm {
        csrf_token: ctx.csrf_token(),
        id: Some(id),
        events: event_choices(
            &listing
                .events
                .iter()
                .map(|e| e.as_str().to_owned())
                .collect::<Vec<_>>(),
        ),
        name: listing.hook.name,
        url: listing.hook.url,
        secret_key: String::new(),
        errors: FieldErrors::default(),
        dev_center_link: ctx.viewer.may(Action::OpenDevCenter),
    };
    ctx.render("Edit web hook", Section::DevCenter, &form)
}

pub async fn update(
    ctx: PageContext,
    id: web::Path<i32>,
    hooks: web::Data<WebHooks>,
    HtmlForm(form): HtmlForm<HookFields>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let request = form.request();
    let hooks = hooks.into_inner();
    let updated = refused_fields(
        ctx.write(move |conn, viewer| {
            use_cases::update(
                conn,
                viewer,
                &hooks.sealing,
                hooks.outbound.allow_http,
                id,
                &request,
            )
        })
        .await,
    )?;
    match updated {
        Ok(()) => {
            ctx.flash(format!("Saved the web hook “{}”.", form.name.trim()));
            Ok(see_other(WEB_HOOKS))
        }
        Err(errors) => {
            let page = form.refused(&ctx, Some(id), errors);
            ctx.render_refused("Edit web hook", Section::DevCenter, &page)
        }
    }
}

pub async fn disable(ctx: PageContext, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    set_enabled(ctx, id.into_inner(), false).await
}

pub async fn enable(ctx: PageContext, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    set_enabled(ctx, id.into_inner(), true).await
}

async fn set_enabled(ctx: PageContext, id: i32, enabled: bool) -> Result<HttpResponse, AppError> {
    let name = ctx
        .write(move |conn, viewer| use_cases::set_enabled(conn, viewer, id, enabled))
        .await?;
    ctx.flash(if enabled {
        format!("Enabled “{name}”: events are sent to it again, starting with any that waited.")
    } else {
        format!("Disabled “{name}”: no events are sent to it until it is enabled.")
    });
    Ok(see_other(WEB_HOOKS))
}

/// Sends a test ping now (never queued behind waiting events), records it, and shows it
/// among the hook's deliveries.
pub async fn ping(
    ctx: PageContext,
    id: web::Path<i32>,
    hooks: web::Data<WebHooks>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let sealing = hooks.sealing.clone();
    let ping = ctx
        .read(move |conn, viewer| use_cases::ping(conn, viewer, &sealing, id))
        .await?;
    let attempt = hooks
        .attempt(
            &ping.target,
            WebHookEvent::Ping,
            &ping.delivery_id,
            &ping.payload,
        )
        .await;
    ctx.flash(match (&attempt.error, attempt.status) {
        (None, Some(status)) => format!(
            "The ping was delivered: the receiver answered {status} in {} ms.",
            attempt.duration_ms
        ),
        (Some(why), _) => format!("The ping was not delivered. {why}"),
        (None, None) => "The ping was delivered.".to_owned(),
    });
    ctx.write(move |conn, viewer| use_cases::pinged(conn, viewer, id, &ping, &attempt))
        .await?;
    Ok(see_other(&with_id(WEB_HOOK_DELIVERIES, id)))
}

struct DeliveryRow {
    delivery_id: String,
    at: String,
    event: &'static str,
    state: DeliveryState,
    status: Option<i32>,
    duration_ms: Option<i32>,
    attempts: i32,
    next_attempt: Option<String>,
    error: Option<String>,
}

impl From<Delivery> for DeliveryRow {
    fn from(d: Delivery) -> DeliveryRow {
        DeliveryRow {
            delivery_id: d.delivery_id,
            at: when_exactly(d.last_attempt_at.unwrap_or(d.created_at)),
            event: d.event.as_str(),
            state: d.state,
            status: d.last_status,
            duration_ms: d.last_duration_ms,
            attempts: d.attempts,
            next_attempt: d.next_attempt_at.map(when_exactly),
            error: d.last_error,
        }
    }
}

#[derive(Template)]
#[template(path = "web_hooks/deliveries.html")]
struct DeliveriesPage {
    csrf_token: String,
    id: i32,
    name: String,
    url: String,
    enabled: bool,
    failing_since: Option<String>,
    rows: Vec<DeliveryRow>,
    page: i64,
    pages: i64,
    total: i64,
    dev_center_link: bool,
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

pub async fn deliveries(
    ctx: PageContext,
    id: web::Path<i32>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let requested = query.page.unwrap_or(1);
    let (hook, paged) = ctx
        .read(move |conn, viewer| use_cases::deliveries(conn, viewer, id, requested))
        .await?;
    let page = DeliveriesPage {
        csrf_token: ctx.csrf_token(),
        id,
        rows: paged.items.into_iter().map(DeliveryRow::from).collect(),
        page: paged.page,
        pages: paged.pages,
        total: paged.total,
        failing_since: hook.failing_since.map(when),
        enabled: hook.enabled,
        url: hook.url,
        dev_center_link: ctx.viewer.may(Action::OpenDevCenter),
        name: hook.name,
    };
    let title = paged_title(
        &format!("Deliveries of {}", page.name),
        page.page,
        page.pages,
    );
    ctx.render(&title, Section::DevCenter, &page)
}
