//! Harvest v3 (OAuth): the authorization server. Access tokens (what they say), the token,
//! introspection and metadata endpoints, and the keys that sign tokens, kept sealed in the
//! database and published as a JSON Web Key Set so that an upstream verifies tokens on
//! its own.

pub mod access_token;
pub mod jwks;
pub mod sealing;
pub mod signing;
pub mod token_endpoint;
