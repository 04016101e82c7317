//! Acceptance walks in real headless Chromium. Each walk follows the help article
//! "Generate API key for Greenhouse Recruiting" (or one of its edges) the way a person
//! would — typing, clicking, pressing keys — against the real server on a random port with
//! a fresh database, asserts what the person sees at every step, keeps a screenshot of it
//! under `target/screenshots/<walk>/`, and checks the page with axe-core.
//!
//! Without Chromium and chromedriver the walks are skipped with a message, unless
//! `CI=true`, where a missing browser fails the run.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

/// The walks run on the embedded default; the API suite covers PostgreSQL.
pub const BACKEND: helpers::Backend = helpers::Backend::Sqlite;

mod harness;
mod walks;
