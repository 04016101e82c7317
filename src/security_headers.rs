//! The security headers every response carries, pages and gate answers alike.

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;

/// Scripts and styles only from this server (htmx is configured to need no inline script
/// or style), no framing, no plugins, forms only to this server.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The policy of a page whose form is answered by a redirect to `origin` (the consent
/// page, answered with a redirect to the partner): browsers check `form-action` against
/// every redirect of a submission.
pub fn policy_with_form_action_to(origin: &str) -> String {
    CONTENT_SECURITY_POLICY.replacen(
        "form-action 'self'",
        &format!("form-action 'self' {origin}"),
        1,
    )
}

/// The gate's answers are data from an upstream, never a page of this origin: the same
/// policy, sandboxed (no script runs, and the document gets an origin of its own).
pub const GATE_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'; object-src 'none'; sandbox";

/// The headers themselves, beside the policy.
const OTHERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), clipboard-write=(self)",
    ),
];

/// Middleware: the headers on every response that has not set its own.
pub fn default_headers() -> DefaultHeaders {
    OTHERS.iter().fold(
        DefaultHeaders::new().add(("content-security-policy", CONTENT_SECURITY_POLICY)),
        |headers, header| headers.add(*header),
    )
}

/// The same headers on a response built outside the middleware's reach: an error that a
/// middleware (CSRF, sessions) returns goes around the layers that would add them.
pub fn add_to(headers: &mut HeaderMap) {
    let all = std::iter::once(("content-security-policy", CONTENT_SECURITY_POLICY)).chain(OTHERS);
    for (name, value) in all {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consent_page_may_lead_its_form_to_the_partner_and_no_further() {
        let policy = policy_with_form_action_to("https://partner.example");
        assert!(policy.contains("form-action 'self' https://partner.example;"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert_eq!(
            policy.replace(" https://partner.example", ""),
            CONTENT_SECURITY_POLICY
        );
    }

    #[test]
    fn the_gates_policy_is_the_apps_sandboxed() {
        assert_eq!(
            GATE_CONTENT_SECURITY_POLICY,
            format!("{CONTENT_SECURITY_POLICY}; sandbox")
        );
    }
}
