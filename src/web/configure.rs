//! Configure and its Dev Center page.

use actix_web::HttpResponse;
use askama::Template;

use crate::rules::access::Action;
use crate::use_cases::health::{self, Concern};

use super::urls::CREDENTIALS;

use super::context::{PageContext, Section};
use super::error::AppError;

#[derive(Template)]
#[template(path = "configure.html")]
struct ConfigurePage {
    show_users: bool,
    show_audit_log: bool,
    show_web_hooks: bool,
}

pub async fn configure(ctx: PageContext) -> Result<HttpResponse, AppError> {
    let page = ConfigurePage {
        show_users: ctx.viewer.offers().users,
        show_audit_log: ctx.viewer.offers().audit_log,
        show_web_hooks: ctx.viewer.offers().web_hooks,
    };
    ctx.render("Configure", Section::Configure, &page)
}

#[derive(Template)]
#[template(path = "dev_center.html")]
struct DevCenterPage {
    show_client_applications: bool,
    /// Dev Center settings are the Site Admins'.
    show_settings: bool,
    show_integrations: bool,
    show_web_hooks: bool,
    /// Credential health, for managers of all credentials: each concern, its count, and
    /// the list it links to.
    health: Option<Vec<HealthLine>>,
}

struct HealthLine {
    testid: &'static str,
    label: &'static str,
    count: usize,
    href: String,
}

pub async fn dev_center(ctx: PageContext) -> Result<HttpResponse, AppError> {
    let health = match ctx.viewer.may(Action::ManageEndpointGrants) {
        true => {
            let report = ctx.read(health::report).await?;
            Some(
                Concern::ALL
                    .into_iter()
                    .map(|concern| HealthLine {
                        testid: concern.as_str(),
                        label: concern.label(),
                        count: report.of(concern).len(),
                        href: format!("{CREDENTIALS}?health={}", concern.as_str()),
                    })
                    .collect(),
            )
        }
        false => None,
    };
    let page = DevCenterPage {
        show_client_applications: ctx.viewer.offers().client_applications,
        show_settings: ctx.viewer.offers().users,
        show_integrations: ctx.viewer.may(Action::ManageIntegrations),
        show_web_hooks: ctx.viewer.offers().web_hooks,
        health,
    };
    ctx.render("Dev Center", Section::DevCenter, &page)
}
