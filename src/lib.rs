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
