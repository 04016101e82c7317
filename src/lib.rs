//! devcenter: Greenhouse Recruiting's Dev Center — API credential management for site
//! admins and developers.

pub mod cli;
pub mod client_address;
pub mod db;
pub mod domain;
pub mod gate;
pub mod security_headers;
pub mod startup;
pub mod web;
