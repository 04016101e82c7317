//! Configure and its Dev Center page.

use actix_web::HttpResponse;
use askama::Template;

use crate::rules::access::Action;

use super::context::{PageContext, Section};
use super::error::AppError;

#[derive(Template)]
#[template(path = "configure.html")]
struct ConfigurePage {
    show_users: bool,
    show_audit_log: bool,
}

pub async fn configure(ctx: PageContext) -> Result<HttpResponse, AppError> {
    let page = ConfigurePage {
        show_users: ctx.viewer.offers().users,
        show_audit_log: ctx.viewer.offers().audit_log,
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
}

pub async fn dev_center(ctx: PageContext) -> Result<HttpResponse, AppError> {
    let page = DevCenterPage {
        show_client_applications: ctx.viewer.offers().client_applications,
        show_settings: ctx.viewer.offers().users,
        show_integrations: ctx.viewer.may(Action::ManageIntegrations),
    };
    ctx.render("Dev Center", Section::DevCenter, &page)
}
