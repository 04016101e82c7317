//! The security headers every response carries, pages and gate answers alike.

use actix_web::middleware::DefaultHeaders;

/// Scripts and styles only from this server (htmx is configured to need no inline script
/// or style), no framing, no plugins, forms only to this server.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The gate's answers are data from an upstream, never a page of this origin: the same
/// policy, sandboxed (no script runs, and the document gets an origin of its own).
pub const GATE_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'; object-src 'none'; sandbox";

/// Headers on every response that has not set its own: the policy above, no framing, no
/// sniffing, no referrer leaks.
pub fn default_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), clipboard-write=(self)",
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gates_policy_is_the_apps_sandboxed() {
        assert_eq!(
            GATE_CONTENT_SECURITY_POLICY,
            format!("{CONTENT_SECURITY_POLICY}; sandbox")
        );
    }
}
