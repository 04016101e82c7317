//! The integration suite again, every test on PostgreSQL: each server runs on a database
//! of its own, created on the machine's PostgreSQL server (`DEVCENTER_TEST_POSTGRES`, by
//! default `postgres://root@127.0.0.1:5432/postgres`) and dropped after the test. Without
//! a reachable server these runs are skipped with a message, unless `CI=true`.

/// The database every server of this crate runs on.
pub const BACKEND: helpers::Backend = helpers::Backend::Postgres;

#[path = "api/access.rs"]
mod access;
#[path = "api/audit_log.rs"]
mod audit_log;
#[path = "api/cli.rs"]
mod cli;
#[path = "api/consent.rs"]
mod consent;
#[path = "api/credentials.rs"]
mod credentials;
#[path = "api/expiry.rs"]
mod expiry;
#[path = "api/gate.rs"]
mod gate;
#[path = "api/gate_deployment.rs"]
mod gate_deployment;
#[path = "api/hardening.rs"]
mod hardening;
#[path = "api/hardening_second_pass.rs"]
mod hardening_second_pass;
#[path = "api/health.rs"]
mod health;
#[path = "api/helpers.rs"]
mod helpers;
#[path = "api/instances.rs"]
mod instances;
#[path = "api/least_privilege.rs"]
mod least_privilege;
#[path = "api/matrix.rs"]
mod matrix;
#[path = "api/oauth.rs"]
mod oauth;
#[path = "api/partner_oauth.rs"]
mod partner_oauth;
#[path = "api/partners.rs"]
mod partners;
#[path = "api/permissions.rs"]
mod permissions;
#[path = "api/quiet_rotation.rs"]
mod quiet_rotation;
#[path = "api/rotation.rs"]
mod rotation;
#[path = "api/scopes.rs"]
mod scopes;
#[path = "api/sessions.rs"]
mod sessions;
#[path = "api/upstream.rs"]
mod upstream;
#[path = "api/use_cases.rs"]
mod use_cases;
#[path = "api/users.rs"]
mod users;
#[path = "api/web_hooks.rs"]
mod web_hooks;
