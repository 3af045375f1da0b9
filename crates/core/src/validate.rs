//! Validated inputs. Each `parse` returns a message that tells the user what to fix.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One rejected input field, shown beside the field in forms and in the API error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Collects field errors so a form reports every problem at once, not the first only.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the parsed value, or records the message against `field`.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.0.push(FieldError::new(field, message));
                None
            }
        }
    }

    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<(), crate::CoreError> {
        if self.0.is_empty() { Ok(()) } else { Err(crate::CoreError::Validation(self.0)) }
    }
}

fn bounded_text(text: &str, what: &str, max_chars: usize) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!("{what} is required."));
    }
    if trimmed.chars().count() > max_chars {
        return Err(format!("{what} must be at most {max_chars} characters."));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(format!("{what} must not contain control characters."));
    }
    Ok(trimmed.to_owned())
}

macro_rules! text_newtype {
    ($(#[$meta:meta])* $name:ident, $what:literal, $max:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(text: &str) -> Result<Self, String> {
                bounded_text(text, $what, $max).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

text_newtype!(
    /// A person's display name.
    PersonName, "Name", 100
);
text_newtype!(
    /// The name of a group or a team.
    UnitName, "Name", 100
);
text_newtype!(
    /// An integration's label.
    Label, "Label", 100
);

/// An email address, trimmed and lower-cased so matching is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// The form emails are stored and compared in: trimmed and lowercased.
    pub fn normalize(text: &str) -> String {
        text.trim().to_lowercase()
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let normalized = Self::normalize(text);
        let Some((local, domain)) = normalized.split_once('@') else {
            return Err("Enter an email address such as ada@example.com.".to_owned());
        };
        let valid = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && normalized.len() <= 254
            && !normalized.chars().any(|c| c.is_whitespace() || c.is_control());
        if valid {
            Ok(Self(normalized))
        } else {
            Err("Enter an email address such as ada@example.com.".to_owned())
        }
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

/// A free-text description (may be empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(format!("Description must be at most {} characters.", Self::MAX_CHARS));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password as typed. Never logged: `Debug` is redacted.
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 1024;

    pub fn parse(text: &str) -> Result<Self, String> {
        let count = text.chars().count();
        if count < Self::MIN_CHARS {
            return Err(format!("Password must be at least {} characters.", Self::MIN_CHARS));
        }
        if count > Self::MAX_CHARS {
            return Err(format!("Password must be at most {} characters.", Self::MAX_CHARS));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(Email::parse("  Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in ["", "ada", "@example.com", "ada@", "ada@example", "a b@example.com", "a@b@c.com"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        assert!(Label::parse(&"é".repeat(100)).is_ok());
        assert!(Label::parse(&"é".repeat(101)).is_err());
        assert_eq!(Label::parse("   ").unwrap_err(), "Label is required.");
    }

    #[test]
    fn passwords_are_redacted_in_debug() {
        let password = NewPassword::parse("correct horse battery").unwrap();
        assert_eq!(format!("{password:?}"), "NewPassword([REDACTED])");
        assert!(NewPassword::parse("short").is_err());
    }
}
