//! The product's rules, free of the database and of HTTP: its words, who may do what, how
//! keys are made, how typed text is checked, how lists are paged. Everything here is pure
//! and tested in process.

pub mod access;
pub mod email;
pub mod endpoints;
pub mod expiry;
pub mod keys;
pub mod least_privilege;
pub mod overlap;
pub mod paging;
pub mod passwords;
pub mod redirect_uris;
pub mod text;
pub mod trusted_ips;
pub mod web_hooks;
pub mod words;
