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
pub mod password_checks;
pub mod picker;
pub mod request_log;
pub mod session_store;
pub mod static_files;
pub mod users;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};

use self::error::AppError;

/// Who may use a page route, as the product promises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone, signed in or not.
    Anyone,
    /// Every signed-in person.
    SignedIn,
    /// Managers of credentials of any type ("ALL" or "Job Board related").
    CredentialManagers,
    /// Managers of the type of the key named in the path.
    KeyTypeManagers,
    /// Managers of ALL organization's API credentials.
    AllCredentialManagers,
    /// Site Admins.
    SiteAdmins,
    /// Site Admins and managers of all credentials.
    Auditors,
}

/// One page route: method, path pattern, audience.
#[derive(Debug, Clone, Copy)]
pub struct PageRoute {
    pub method: &'static str,
    pub path: &'static str,
    pub audience: Audience,
}

/// Declares the page routes once: the router is built from this list and the list is
/// published as `PAGE_ROUTES`, so the authorization matrix test covers every route served.
macro_rules! page_routes {
    ($($method:ident $path:literal => $handler:expr, $audience:ident;)*) => {
        pub const PAGE_ROUTES: &[PageRoute] = &[
            $(PageRoute { method: stringify!($method), path: $path, audience: Audience::$audience },)*
        ];

        /// Every page route. Registered inside the session and CSRF middleware.
        pub fn routes(cfg: &mut web::ServiceConfig) {
            $(cfg.route($path, web::method(Method::$method).to($handler));)*
        }
    };
}

page_routes! {
    GET "/" => || async { login::see_other("/configure") }, Anyone;
    GET "/login" => login::form, Anyone;
    POST "/login" => login::submit, Anyone;
    POST "/logout" => login::logout, Anyone;
    GET "/configure" => configure::configure, SignedIn;
    GET "/configure/dev_center" => configure::dev_center, CredentialManagers;
    GET "/configure/dev_center/credentials" => credentials::list, CredentialManagers;
    POST "/configure/dev_center/credentials" => credentials::create, CredentialManagers;
    GET "/configure/dev_center/credentials/new" => credentials::new_form, CredentialManagers;
    GET "/configure/dev_center/credentials/{id}/permissions" => credentials::permissions, AllCredentialManagers;
    POST "/configure/dev_center/credentials/{id}/permissions" => credentials::update_permissions, AllCredentialManagers;
    GET "/configure/dev_center/credentials/{id}/requests" => request_log::page, KeyTypeManagers;
    GET "/configure/dev_center/credentials/{id}/revoke" => credentials::revoke_confirm, KeyTypeManagers;
    POST "/configure/dev_center/credentials/{id}/revoke" => credentials::revoke, KeyTypeManagers;
    GET "/configure/dev_center/client_applications" => client_applications::list, AllCredentialManagers;
    POST "/configure/dev_center/client_applications" => client_applications::create, AllCredentialManagers;
    POST "/configure/dev_center/client_applications/{id}" => client_applications::set_active, AllCredentialManagers;
    GET "/configure/users" => users::list, SiteAdmins;
    POST "/configure/users" => users::create, SiteAdmins;
    // Before `{id}`, which would refuse "new" as a number.
    GET "/configure/users/new" => users::new_form, SiteAdmins;
    GET "/configure/users/{id}" => users::show, SiteAdmins;
    POST "/configure/users/{id}" => users::update, SiteAdmins;
    GET "/configure/audit_log" => audit_log::page, Auditors;
    GET "/configure/audit_log/export" => audit_log::export, Auditors;
}

/// Any path no route serves.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound("Page"))
}

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}
