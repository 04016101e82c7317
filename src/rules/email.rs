//! E-mail addresses, as people sign in with them: parsed once at the edge, normalised
//! (trimmed, lower case) in this one place.

use std::fmt;

use super::text::FieldError;

/// A plausible e-mail address, trimmed and in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// The address as typed, refused beside the `email` field unless it is plausible.
    pub fn parse(raw: &str) -> Result<Email, FieldError> {
        let email = Self::normalise(raw);
        if is_plausible(&email) {
            Ok(Email(email))
        } else {
            Err(FieldError::new(
                "email",
                "Enter an e-mail address such as name@example.com.",
            ))
        }
    }

    /// What was typed as an account name, normalised the same way whether or not it is a
    /// plausible address (sign-in throttles count accounts by it).
    pub fn normalise(raw: &str) -> String {
        raw.trim().to_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_plausible(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    (3..=254).contains(&email.len())
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || super::text::is_invisible(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_and_nonsense_refused() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").map(|e| e.to_string()),
            Ok("ada@example.com".to_owned())
        );
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@example",
            "ada@.com",
            "a da@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }
}
