//! The browser-facing app: routes extract, ask the domain, render.

pub mod audit_log;
pub mod client_applications;
pub mod configure;
pub mod context;
pub mod credentials;
pub mod csrf;
pub mod error;
pub mod forms;
pub mod login;
pub mod picker;
pub mod session_store;
pub mod static_files;
pub mod users;

use actix_web::{HttpResponse, web};

use self::error::AppError;

/// Every page route. Registered inside the session and CSRF middleware.
pub fn routes(cfg: &mut web::ServiceConfig) {
    const CREDENTIALS: &str = "/configure/dev_center/credentials";
    cfg.route(
        "/",
        web::get().to(|| async { login::see_other("/configure") }),
    )
    .route("/login", web::get().to(login::form))
    .route("/login", web::post().to(login::submit))
    .route("/logout", web::post().to(login::logout))
    .route("/configure", web::get().to(configure::configure))
    .route(
        "/configure/dev_center",
        web::get().to(configure::dev_center),
    )
    .route(CREDENTIALS, web::get().to(credentials::list))
    .route(CREDENTIALS, web::post().to(credentials::create))
    .route(
        &format!("{CREDENTIALS}/new"),
        web::get().to(credentials::new_form),
    )
    .route(
        &format!("{CREDENTIALS}/{{id}}/permissions"),
        web::get().to(credentials::permissions),
    )
    .route(
        &format!("{CREDENTIALS}/{{id}}/permissions"),
        web::post().to(credentials::update_permissions),
    )
    .route(
        &format!("{CREDENTIALS}/{{id}}/revoke"),
        web::get().to(credentials::revoke_confirm),
    )
    .route(
        &format!("{CREDENTIALS}/{{id}}/revoke"),
        web::post().to(credentials::revoke),
    )
    .route(
        "/configure/dev_center/client_applications",
        web::get().to(client_applications::list),
    )
    .route(
        "/configure/dev_center/client_applications",
        web::post().to(client_applications::create),
    )
    .route("/configure/users", web::get().to(users::list))
    .route("/configure/users", web::post().to(users::create))
    // Before `{id}`, which would refuse "new" as a number.
    .route("/configure/users/new", web::get().to(users::new_form))
    .route("/configure/users/{id}", web::get().to(users::show))
    .route("/configure/users/{id}", web::post().to(users::update))
    .route("/configure/audit_log", web::get().to(audit_log::page))
    .route(
        "/configure/audit_log/export",
        web::get().to(audit_log::export),
    );
}

/// Any path no route serves.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound("Page"))
}

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}
