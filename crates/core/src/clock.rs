//! The current time, in UTC at microsecond precision: the finest both backends store exactly.

use jiff::{Timestamp, Unit};

pub fn now() -> Timestamp {
    // Rounding cannot fail for `Unit::Microsecond` on a valid timestamp.
    Timestamp::now().round(Unit::Microsecond).unwrap_or_else(|_| Timestamp::now())
}

/// A time on the wire (JSON): RFC 3339 in UTC with exactly six fractional digits, so that
/// times sort as text and every one has the same width.
pub(crate) fn wire<S: serde::Serializer>(at: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&wire_text(at))
}

/// The text of [`wire`].
pub(crate) fn wire_text(at: &Timestamp) -> String {
    format!("{at:.6}")
}

/// [`wire`] for a time that may be absent (`null`).
pub(crate) fn wire_opt<S: serde::Serializer>(at: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => wire(at, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_times_have_six_fractional_digits() {
        let at: Timestamp = "2026-12-01T10:00:00.5Z".parse().expect("time");
        let json = |t: Option<Timestamp>| {
            let mut out = Vec::new();
            wire_opt(&t, &mut serde_json::Serializer::new(&mut out)).expect("serialize");
            String::from_utf8(out).expect("utf8")
        };
        assert_eq!(json(Some(at)), "\"2026-12-01T10:00:00.500000Z\"");
        assert_eq!(json(Some("2026-12-01T10:00:00Z".parse().expect("time"))), "\"2026-12-01T10:00:00.000000Z\"");
        assert_eq!(json(None), "null");
    }
}
