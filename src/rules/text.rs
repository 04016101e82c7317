//! Text people type into forms, and how a refusal of it is reported beside its field.

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

/// Free text a person typed (a description, a name) that `parse_label` accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label(String);

impl Label {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Free text a person typed (a description, a name): trimmed, 1 to 255 characters,
/// no control characters, nothing invisible.
pub fn parse_label(field: &'static str, what: &str, raw: &str) -> Result<Label, FieldError> {
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
    Ok(Label(text.to_owned()))
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
