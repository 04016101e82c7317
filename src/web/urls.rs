//! Every page's address, written once. The route table registers the patterns, handlers
//! build links and redirects with `with_id`, and the tests use the same names.

pub const HOME: &str = "/";
pub const SIGN_IN: &str = "/login";
pub const SIGN_OUT: &str = "/logout";
pub const CONFIGURE: &str = "/configure";
pub const DEV_CENTER: &str = "/configure/dev_center";
pub const CREDENTIALS: &str = "/configure/dev_center/credentials";
pub const NEW_CREDENTIAL: &str = "/configure/dev_center/credentials/new";
pub const CREDENTIAL_PERMISSIONS: &str = "/configure/dev_center/credentials/{id}/permissions";
pub const CREDENTIAL_SCOPES: &str = "/configure/dev_center/credentials/{id}/scopes";
pub const CREDENTIAL_REQUESTS: &str = "/configure/dev_center/credentials/{id}/requests";
pub const CREDENTIAL_REVOKE: &str = "/configure/dev_center/credentials/{id}/revoke";
pub const CREDENTIAL_ROTATE: &str = "/configure/dev_center/credentials/{id}/rotate";
pub const CREDENTIAL_END_OVERLAP: &str = "/configure/dev_center/credentials/{id}/end_overlap";
pub const CREDENTIAL_TRUSTED_IPS: &str = "/configure/dev_center/credentials/{id}/trusted_ips";
pub const CREDENTIAL_ENABLE: &str = "/configure/dev_center/credentials/{id}/enable";
pub const CREDENTIAL_EXPIRY: &str = "/configure/dev_center/credentials/{id}/expiry";
pub const DEV_CENTER_SETTINGS: &str = "/configure/dev_center/settings";
pub const CLIENT_APPLICATIONS: &str = "/configure/dev_center/client_applications";
pub const CLIENT_APPLICATION: &str = "/configure/dev_center/client_applications/{id}";
pub const CLIENT_APPLICATION_OAUTH_CLIENT: &str =
    "/configure/dev_center/client_applications/{id}/oauth_client";
pub const INTEGRATIONS: &str = "/configure/dev_center/integrations";
pub const INTEGRATION_DISCONNECT: &str = "/configure/dev_center/integrations/{id}/disconnect";
pub const WEB_HOOKS: &str = "/configure/dev_center/web_hooks";
pub const NEW_WEB_HOOK: &str = "/configure/dev_center/web_hooks/new";
pub const WEB_HOOK: &str = "/configure/dev_center/web_hooks/{id}";
pub const WEB_HOOK_PING: &str = "/configure/dev_center/web_hooks/{id}/ping";
pub const WEB_HOOK_DISABLE: &str = "/configure/dev_center/web_hooks/{id}/disable";
pub const WEB_HOOK_ENABLE: &str = "/configure/dev_center/web_hooks/{id}/enable";
pub const WEB_HOOK_DELIVERIES: &str = "/configure/dev_center/web_hooks/{id}/deliveries";
pub const USERS: &str = "/configure/users";
pub const NEW_USER: &str = "/configure/users/new";
pub const USER: &str = "/configure/users/{id}";
pub const AUDIT_LOG: &str = "/configure/audit_log";
pub const AUDIT_LOG_EXPORT: &str = "/configure/audit_log/export";
/// Partner OAuth's consent page (the authorization endpoint of RFC 6749).
pub const AUTHORIZE: &str = crate::oauth::token_endpoint::AUTHORIZE;

/// A pattern's address for one object: `with_id(USER, 7)` is `/configure/users/7`.
pub fn with_id(pattern: &str, id: impl std::fmt::Display) -> String {
    pattern.replace("{id}", &id.to_string())
}
