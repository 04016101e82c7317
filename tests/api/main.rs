//! Integration tests: the real server on a random port, a fresh SQLite file per test; and
//! use cases called in process where no server is needed (`use_cases`).

/// The database every server of this crate runs on.
pub const BACKEND: helpers::Backend = helpers::Backend::Sqlite;

mod access;
mod audit_log;
mod cli;
mod consent;
mod credentials;
mod expiry;
mod gate;
mod gate_deployment;
mod hardening;
mod hardening_second_pass;
mod health;
mod helpers;
mod least_privilege;
mod matrix;
mod oauth;
mod partner_oauth;
mod partners;
mod permissions;
mod quiet_rotation;
mod rotation;
mod scopes;
mod sessions;
mod upstream;
mod use_cases;
mod users;
mod web_hooks;
