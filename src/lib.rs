//! devcenter: Greenhouse Recruiting's Dev Center — API credential management for site
//! admins and developers.

pub mod cli;
pub mod client_address;
pub mod db;
pub mod gate;
pub mod instances;
pub mod limiter;
pub mod oauth;
pub mod rules;
pub mod security_headers;
pub mod startup;
pub mod use_cases;
pub mod web;
pub mod web_hooks;

/// An error and its causes, as one log line (`tls handshake: invalid peer certificate…`).
pub fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
