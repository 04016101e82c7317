//! Harvest v3 (OAuth): the keys that sign access tokens, kept sealed in the database and
//! published as a JSON Web Key Set so that an upstream verifies tokens on its own.

pub mod jwks;
pub mod sealing;
pub mod signing;
