//! The browser-facing app: routes extract, ask the domain, render.

pub mod audit_log;
pub mod client_applications;
pub mod configure;
pub mod consent;
pub mod context;
pub mod credential_lifecycle;
pub mod credentials;
pub mod csrf;
pub mod database;
pub mod display;
pub mod error;
pub mod forms;
pub mod guard;
pub mod integrations;
pub mod login;
pub mod password_checks;
pub mod picker;
pub mod readiness;
pub mod request_log;
pub mod respond;
pub mod review;
pub mod session;
pub mod session_store;
pub mod settings;
pub mod sign_in_throttle;
pub mod static_files;
pub mod urls;
pub mod users;
pub mod web_hooks;

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, web};

pub use crate::rules::access::Audience;

use self::error::AppError;
use self::urls::*;

/// One page route: method, path pattern, audience.
#[derive(Debug, Clone, Copy)]
pub struct PageRoute {
    pub method: &'static str,
    pub path: &'static str,
    pub audience: Audience,
}

/// Declares the page routes once: each is registered with the guard of its audience, and
/// the list is published as `PAGE_ROUTES`, so the authorization matrix test covers every
/// route served.
macro_rules! page_routes {
    ($($method:ident $path:expr => $handler:expr, $audience:ident;)*) => {
        pub const PAGE_ROUTES: &[PageRoute] = &[
            $(PageRoute { method: stringify!($method), path: $path, audience: Audience::$audience },)*
        ];

        /// Every page route, each behind its audience's guard. Registered inside the
        /// session and CSRF middleware.
        pub fn routes(cfg: &mut web::ServiceConfig) {
            $(cfg.service(
                web::resource($path)
                    .guard(actix_web::guard::Method(Method::$method))
                    .wrap(from_fn(|req, next| guard::admit(Audience::$audience, req, next)))
                    .route(web::method(Method::$method).to($handler)),
            );)*
        }
    };
}

page_routes! {
    GET HOME => || async { respond::see_other(CONFIGURE) }, Anyone;
    GET SIGN_IN => login::form, Anyone;
    POST SIGN_IN => login::submit, Anyone;
    POST SIGN_OUT => login::logout, Anyone;
    GET CONFIGURE => configure::configure, SignedIn;
    GET DEV_CENTER => configure::dev_center, CredentialManagers;
    GET CREDENTIALS => credentials::list, CredentialManagers;
    POST CREDENTIALS => credentials::create, CredentialManagers;
    GET NEW_CREDENTIAL => credentials::new_form, CredentialManagers;
    GET CREDENTIAL_PERMISSIONS => credentials::permissions, AllCredentialManagers;
    POST CREDENTIAL_PERMISSIONS => credentials::update_permissions, AllCredentialManagers;
    GET CREDENTIAL_SCOPES => credentials::scopes, AllCredentialManagers;
    POST CREDENTIAL_SCOPES => credentials::update_scopes, AllCredentialManagers;
    GET CREDENTIAL_REQUESTS => request_log::page, KeyTypeManagers;
    GET CREDENTIAL_REVOKE => credentials::revoke_confirm, KeyTypeManagers;
    POST CREDENTIAL_REVOKE => credentials::revoke, KeyTypeManagers;
    GET CREDENTIAL_ROTATE => credential_lifecycle::rotate_page, KeyTypeManagers;
    POST CREDENTIAL_ROTATE => credential_lifecycle::rotate, KeyTypeManagers;
    POST CREDENTIAL_END_OVERLAP => credential_lifecycle::end_overlap, KeyTypeManagers;
    GET CREDENTIAL_TRUSTED_IPS => credential_lifecycle::trusted_ips_page, KeyTypeManagers;
    POST CREDENTIAL_TRUSTED_IPS => credential_lifecycle::save_trusted_ips, KeyTypeManagers;
    POST CREDENTIAL_ENABLE => credential_lifecycle::enable, KeyTypeManagers;
    GET CREDENTIAL_EXPIRY => credential_lifecycle::expiry_page, KeyTypeManagers;
    POST CREDENTIAL_EXPIRY => credential_lifecycle::save_expiry, KeyTypeManagers;
    GET DEV_CENTER_SETTINGS => settings::page, SiteAdmins;
    POST DEV_CENTER_SETTINGS => settings::save, SiteAdmins;
    GET CLIENT_APPLICATIONS => client_applications::list, AllCredentialManagers;
    POST CLIENT_APPLICATIONS => client_applications::create, AllCredentialManagers;
    GET CLIENT_APPLICATION => client_applications::edit, AllCredentialManagers;
    POST CLIENT_APPLICATION => client_applications::update, AllCredentialManagers;
    POST CLIENT_APPLICATION_OAUTH_CLIENT => client_applications::create_oauth_client, AllCredentialManagers;
    GET INTEGRATIONS => integrations::list, AllCredentialManagers;
    GET INTEGRATION_DISCONNECT => integrations::disconnect_confirm, AllCredentialManagers;
    POST INTEGRATION_DISCONNECT => integrations::disconnect, AllCredentialManagers;
    GET WEB_HOOKS => web_hooks::list, WebHookManagers;
    POST WEB_HOOKS => web_hooks::create, WebHookManagers;
    // Before `{id}`, which would refuse "new" as a number.
    GET NEW_WEB_HOOK => web_hooks::new_form, WebHookManagers;
    GET WEB_HOOK => web_hooks::edit, WebHookManagers;
    POST WEB_HOOK => web_hooks::update, WebHookManagers;
    POST WEB_HOOK_PING => web_hooks::ping, WebHookManagers;
    POST WEB_HOOK_DISABLE => web_hooks::disable, WebHookManagers;
    POST WEB_HOOK_ENABLE => web_hooks::enable, WebHookManagers;
    GET WEB_HOOK_DELIVERIES => web_hooks::deliveries, WebHookManagers;
    GET USERS => users::list, SiteAdmins;
    POST USERS => users::create, SiteAdmins;
    // Before `{id}`, which would refuse "new" as a number.
    GET NEW_USER => users::new_form, SiteAdmins;
    GET USER => users::show, SiteAdmins;
    POST USER => users::update, SiteAdmins;
    GET AUDIT_LOG => audit_log::page, Auditors;
    GET AUDIT_LOG_EXPORT => audit_log::export, Auditors;
    GET AUTHORIZE => consent::page, SignedIn;
    POST AUTHORIZE => consent::decide, SignedIn;
}

/// Any path no route serves.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound("Page"))
}

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}
