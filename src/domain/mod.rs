//! What Dev Center knows, free of HTTP: the words of the product (API types, user levels,
//! developer permissions), how keys are made, who may do what, and the use cases that
//! change credentials, grants and client applications.

pub mod access;
pub mod audit;
pub mod catalogue;
pub mod client_applications;
pub mod credentials;
pub mod keys;
pub mod live_keys;
pub mod people;
pub mod throttle;
pub mod users;

use std::fmt;

/// A user-facing refusal of bad input: which form field, and what to tell the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Every field error of one submitted form, so the form can show each beside its field.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for `field`, if it was refused.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Ok when nothing was refused, so a use case can `?` it.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl From<FieldError> for FieldErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let messages: Vec<&str> = self.0.iter().map(|e| e.message.as_str()).collect();
        f.write_str(&messages.join(" "))
    }
}

/// Free text a person typed (a description, a name): trimmed, 1 to 255 characters,
/// no control characters.
pub fn parse_label(field: &'static str, what: &str, raw: &str) -> Result<String, FieldError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, format!("Enter a {what}.")));
    }
    if text.chars().count() > 255 {
        return Err(FieldError::new(
            field,
            format!("Keep the {what} to 255 characters or fewer."),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!("The {what} cannot contain control characters such as line breaks."),
        ));
    }
    if text.chars().any(is_invisible) {
        return Err(FieldError::new(
            field,
            format!(
                "The {what} cannot contain invisible or text-direction characters (such as a zero-width space or a right-to-left override)."
            ),
        ));
    }
    Ok(text.to_owned())
}

/// Characters that change how text reads without being seen: Unicode's format characters
/// (zero-width spaces and joiners, bidirectional controls, the byte-order mark, soft
/// hyphens) and the line and paragraph separators.
pub fn is_invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// Unicode's skeleton of `text` (UTS #39): two texts with the same skeleton can be
/// mistaken for each other (`Acme` and `Acme` with a Cyrillic `е`).
pub fn skeleton(text: &str) -> String {
    unicode_security::confusable_detection::skeleton(text).collect()
}

/// Why a use case did not happen. Nothing was written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The input was refused; each message belongs beside its field.
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Denied(#[from] access::Denied),
    /// The thing asked for does not exist (or is not of the kind the page is for).
    #[error("{0}")]
    NotFound(&'static str),
    #[error(transparent)]
    Storage(#[from] diesel::result::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<FieldError> for Failure {
    fn from(error: FieldError) -> Self {
        Self::Invalid(error.into())
    }
}

impl From<FieldErrors> for Failure {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}

/// One page of a longer list.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub page: i64,
    pub pages: i64,
    pub total: i64,
}

impl<T> Paged<T> {
    pub const PER_PAGE: i64 = 25;

    /// The page to show for a requested page number, clamped into range.
    pub fn clamp(requested: i64, total: i64) -> (i64, i64) {
        let pages = ((total + Self::PER_PAGE - 1) / Self::PER_PAGE).max(1);
        let page = requested.clamp(1, pages);
        (page, pages)
    }
}
