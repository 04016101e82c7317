//! Passwords: held in `secrecy`'s types from the form to the hash so they cannot be
//! printed by accident, hashed with argon2id, and generated for people to change later.

use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::distr::{Alphanumeric, SampleString};
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;
use secrecy::{ExposeSecret, SecretString};

use super::text::FieldError;

pub const MIN_PASSWORD_CHARS: usize = 10;

/// A password as typed or generated. Its `Debug` prints `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct Password(SecretString);

impl Password {
    /// A password someone chose, refused beside the `password` field when too short.
    pub fn parse(typed: SecretString) -> Result<Password, FieldError> {
        if typed.expose_secret().chars().count() < MIN_PASSWORD_CHARS {
            return Err(FieldError::new(
                "password",
                format!("Choose a password of at least {MIN_PASSWORD_CHARS} characters."),
            ));
        }
        Ok(Password(typed))
    }

    /// A password for a person to change later: 20 characters from the OS CSPRNG
    /// (119 bits).
    pub fn generate() -> Password {
        Password(
            Alphanumeric
                .sample_string(&mut UnwrapErr(SysRng), 20)
                .into(),
        )
    }

    /// The password's text, for the one time it is shown.
    pub fn reveal(&self) -> &str {
        self.0.expose_secret()
    }

    /// The stored form: an argon2id hash in PHC format.
    pub fn hash(&self) -> anyhow::Result<String> {
        hash(self.0.expose_secret())
    }
}

/// argon2id with 7 MiB of memory and 5 passes: one of OWASP's equivalent settings to the
/// 19 MiB / 2-pass default, chosen so a sign-in does not add 19 MiB to a small server's
/// memory. Stored hashes carry their own parameters, so older ones still verify.
fn argon2() -> anyhow::Result<Argon2<'static>> {
    let params =
        Params::new(7 * 1024, 5, 1, None).map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash(password: &str) -> anyhow::Result<String> {
    argon2()?
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash a password: {e}"))
}

/// A hash of a password nobody has, verified when the e-mail is unknown so that an unknown
/// e-mail takes as long to refuse as a wrong password.
pub static DECOY_HASH: LazyLock<String> =
    LazyLock::new(|| Password::generate().hash().unwrap_or_default());

/// Whether `typed` matches `stored` (the hash carries its own parameters). Costly by
/// design: call it through the bounded password checks, never on a request's thread.
pub fn matches(stored: &str, typed: &SecretString) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(typed.expose_secret().as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_never_printed() {
        let password = Password::generate();
        assert!(!format!("{password:?}").contains(password.reveal()));
        assert_eq!(password.reveal().len(), 20);
    }

    #[test]
    fn short_passwords_are_refused_and_hashes_verify() {
        assert!(Password::parse("too short".to_owned().into()).is_err());
        let password = Password::parse("long enough now".to_owned().into()).expect("long enough");
        let stored = password.hash().expect("a hash");
        assert!(matches(&stored, &"long enough now".to_owned().into()));
        assert!(!matches(&stored, &"long enough not".to_owned().into()));
    }
}
