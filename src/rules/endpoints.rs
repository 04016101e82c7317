//! Harvest endpoints as forms name them: `METHOD path`, e.g. `GET /v1/candidates`.

use std::fmt;

use super::text::FieldError;
use super::words::{EndpointMethod, ProductWord};

/// A submitted endpoint, well formed (a catalogue method and a path); whether the
/// catalogue has it is the catalogue's to say.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EndpointIdentifier {
    pub method: EndpointMethod,
    pub path: String,
}

impl EndpointIdentifier {
    /// Every submitted identifier, or the refusal of the first that is not one.
    pub fn parse_all(raw: &[String]) -> Result<Vec<EndpointIdentifier>, FieldError> {
        raw.iter().map(|r| Self::parse(r)).collect()
    }

    fn parse(raw: &str) -> Result<EndpointIdentifier, FieldError> {
        raw.trim()
            .split_once(' ')
            .and_then(|(method, path)| {
                let method = EndpointMethod::parse(method)?;
                path.starts_with('/').then(|| EndpointIdentifier {
                    method,
                    path: path.to_owned(),
                })
            })
            .ok_or_else(|| not_in_catalogue(raw))
    }
}

impl fmt::Display for EndpointIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method.as_str(), self.path)
    }
}

/// The refusal of an identifier the catalogue does not have, showing what was sent
/// (shortened, without control characters).
pub fn not_in_catalogue(raw: &str) -> FieldError {
    let shown: String = raw.chars().take(80).filter(|c| !c.is_control()).collect();
    FieldError::new(
        "endpoints",
        format!("“{shown}” is not a Harvest endpoint. Choose endpoints from the list."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_parse_as_forms_send_them() {
        let parsed =
            EndpointIdentifier::parse_all(&[" GET /v1/candidates ".into()]).expect("well formed");
        assert_eq!(parsed[0].to_string(), "GET /v1/candidates");
        for bad in ["", "GET", "FETCH /v1/x", "GET v1/x", "get /v1/x"] {
            assert!(
                EndpointIdentifier::parse_all(&[bad.into()]).is_err(),
                "{bad:?}"
            );
        }
    }
}
