//! Redactions for snapshot tests: ids (UUIDv7, random in part) and times (the wall clock,
//! in what the binary prints) differ from run to run, so a snapshot compares them as
//! placeholders. Equal values get the same placeholder, numbered in order of first
//! appearance (`[uuid-1]`, `[time-1]`, …), so a snapshot still shows which things are the
//! same: an order's `reservation_id` and the reservation's `id`, a `created_at` that equals
//! an `updated_at`.
//!
//! A store with a [`stockyard_core::ManualClock`] writes times a test already knows; its
//! ids are still fresh UUIDv7s, so a snapshot redacts those in any case.

use std::collections::HashMap;

use serde_json::Value;

/// `text` with every UUID and every RFC 3339 time (as the store writes them: UTC, any
/// number of fractional digits, or an offset) replaced by a numbered placeholder.
pub fn redact(text: &str) -> String {
    let mut seen = Seen::default();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let boundary = !out.chars().next_back().is_some_and(|p| p.is_ascii_alphanumeric());
        let matched = boundary
            .then(|| uuid_len(rest).map(|n| ("uuid", n)).or_else(|| time_len(rest).map(|n| ("time", n))))
            .flatten()
            .filter(|(_, n)| !rest[*n..].starts_with(|c: char| c.is_ascii_alphanumeric()));
        match matched {
            Some((kind, n)) => {
                out.push_str(&seen.placeholder(kind, &rest[..n]));
                rest = &rest[n..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// [`redact`] over a JSON value: every string in it (and every key), numbered in the order
/// the value serialises (keys sorted).
pub fn redact_json(value: &Value) -> Value {
    // Placeholders are plain text, so they fit wherever the redacted text stood.
    serde_json::from_str(&redact(&value.to_string())).expect("a redacted JSON value is still JSON")
}

#[derive(Default)]
struct Seen(HashMap<String, String>, HashMap<&'static str, usize>);

impl Seen {
    fn placeholder(&mut self, kind: &'static str, text: &str) -> String {
        if let Some(known) = self.0.get(text) {
            return known.clone();
        }
        let count = self.1.entry(kind).or_default();
        *count += 1;
        let placeholder = format!("[{kind}-{count}]");
        self.0.insert(text.to_owned(), placeholder.clone());
        placeholder
    }
}

/// The length of the hyphenated UUID `text` starts with.
fn uuid_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes().get(..36)?;
    let shaped = bytes
        .iter()
        .enumerate()
        .all(|(i, b)| if [8, 13, 18, 23].contains(&i) { *b == b'-' } else { b.is_ascii_hexdigit() });
    shaped.then_some(36)
}

/// The length of the RFC 3339 time `text` starts with: `YYYY-MM-DDTHH:MM:SS`, optional
/// fractional digits, then `Z` or `±HH:MM`.
fn time_len(text: &str) -> Option<usize> {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    let bytes = text.as_bytes();
    let fits = |at: usize, shape: &[u8]| {
        bytes
            .get(at..at + shape.len())
            .is_some_and(|got| got.iter().zip(shape).all(|(b, s)| if *s == b'd' { b.is_ascii_digit() } else { b == s }))
    };
    if !fits(0, SHAPE) {
        return None;
    }
    let mut end = SHAPE.len();
    if bytes.get(end) == Some(&b'.') {
        let digits = bytes[end + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        end += 1 + digits;
    }
    match bytes.get(end) {
        Some(b'Z') => Some(end + 1),
        Some(b'+' | b'-') if fits(end + 1, b"dd:dd") => Some(end + 6),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_and_times_become_numbered_placeholders() {
        let text = "order 019ad1c2-7e4f-7a3b-9c1d-2e3f4a5b6c7d reserved 019ad1c2-7e4f-7a3b-9c1d-2e3f4a5b6c7e \
                    at 2026-12-01T10:00:00.123456Z, again 019ad1c2-7e4f-7a3b-9c1d-2e3f4a5b6c7d \
                    at 2026-12-01T10:00:00Z and 2026-12-01T11:00:00+01:00";
        assert_eq!(
            redact(text),
            "order [uuid-1] reserved [uuid-2] at [time-1], again [uuid-1] at [time-2] and [time-3]"
        );
    }

    #[test]
    fn near_misses_stay() {
        for text in [
            "x019ad1c2-7e4f-7a3b-9c1d-2e3f4a5b6c7d",
            "019ad1c2-7e4f-7a3b-9c1d-2e3f4a5b6c7d0",
            "019ad1c2_7e4f-7a3b-9c1d-2e3f4a5b6c7d",
            "2026-12-01",
            "2026-12-01T10:00:00",
            "2026-12-01T10:00:00.Z",
            "2026-12-01 10:00:00Z",
            "SKU-2026-12-01T10:00:00Zx",
        ] {
            assert_eq!(redact(text), text);
        }
        assert_eq!(redact("é 2026-12-01T10:00:00Z ü"), "é [time-1] ü", "multibyte text around a match");
    }

    #[test]
    fn json_keeps_its_shape_and_which_values_are_equal() {
        let id = "019ad1c2-7e4f-7a3b-9c1d-2e3f4a5b6c7d";
        let at = "2026-12-01T10:00:00.000000Z";
        let order = json!({
            "id": id, "created_at": at, "updated_at": at, "total": "9.50",
            "lines": [{ "reservation_id": id, "quantity": 2 }],
        });
        assert_eq!(
            redact_json(&order),
            json!({
                "id": "[uuid-1]", "created_at": "[time-1]", "updated_at": "[time-1]", "total": "9.50",
                "lines": [{ "reservation_id": "[uuid-1]", "quantity": 2 }],
            })
        );
    }
}
