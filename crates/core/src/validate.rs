//! Small input rules shared by every aggregate: each failure names its field.

use crate::{Error, Result};

/// A required single-line text: trimmed, non-empty, at most `max` characters, no control
/// characters (a line break included).
pub(crate) fn required(field: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    line(field, value, max)
}

/// Single-line text that may be empty (a reason, a reference, a name), at most `max`
/// characters, with no control characters: a line break would forge lines in tables and logs.
pub(crate) fn line(field: &str, value: &str, max: usize) -> Result<String> {
    checked(field, value, max, |c| c.is_control())
}

/// Free text that may be empty or span lines (a description, notes, an address), at most
/// `max` characters.
pub(crate) fn bounded(field: &str, value: &str, max: usize) -> Result<String> {
    checked(field, value, max, |c| c.is_control() && c != '\n' && c != '\t')
}

/// Text of many lines, such as a template: line breaks (`\r\n` too) and tabs, but no other
/// control characters (PostgreSQL cannot even store a NUL).
pub(crate) fn text(field: &str, value: &str, max: usize) -> Result<String> {
    checked(field, value, max, |c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

fn checked(field: &str, value: &str, max: usize, refused: impl Fn(char) -> bool) -> Result<String> {
    if value.chars().count() > max {
        return Err(Error::invalid(field, format!("is longer than {max} characters")));
    }
    if value.chars().any(refused) {
        return Err(Error::invalid(field, "contains control characters (a line break included)"));
    }
    Ok(value.to_owned())
}

/// A code made of ASCII letters, digits and the given punctuation, starting with a letter
/// or digit, 1 to `max` characters.
pub(crate) fn code(field: &str, value: &str, max: usize, punctuation: &str) -> Result<String> {
    let value = value.trim();
    let allowed = |c: char| c.is_ascii_alphanumeric() || punctuation.contains(c);
    let starts_well = value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if value.is_empty() || value.len() > max || !starts_well || !value.chars().all(allowed) {
        let shown: String = punctuation.chars().map(|c| format!(" {c}")).collect();
        return Err(Error::invalid(
            field,
            format!("{value:?} must be 1 to {max} ASCII letters, digits or{shown}, starting with a letter or digit"),
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field() {
        assert_eq!(
            required("name", "  ", 10).map_err(|e| e.to_string()),
            Err("invalid name: must not be empty".into())
        );
        assert!(required("name", "abcdefghijk", 10).is_err());
        assert!(bounded("description", "a\u{7}", 10).is_err());
        assert!(bounded("description", "two\nlines", 10).is_ok());
        assert!(required("name", "two\nlines", 10).is_err());
        assert!(line("reason", "a\tb", 10).is_err());
        assert_eq!(code("sku", " AB-1 ", 8, "-").ok(), Some("AB-1".into()));
        let err = code("sku", "-AB", 8, "-").map_err(|e| e.to_string());
        assert!(err.is_err_and(|e| e.starts_with("invalid sku: \"-AB\"")));
    }
}
