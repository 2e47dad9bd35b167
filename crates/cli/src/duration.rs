//! Durations (`90s`, `15m`, `2h`, `30d`) and points in time (RFC 3339, or a duration
//! meaning "that long ago") as the command line takes them.

use jiff::{SignedDuration, Timestamp};

/// Seconds in each unit a duration may use.
const UNITS: &[(&str, i64)] = &[("s", 1), ("m", 60), ("h", 3_600), ("d", 86_400)];

/// A duration: a whole number and one unit, `s`, `m`, `h` or `d`.
pub fn duration(text: &str) -> Result<SignedDuration, String> {
    let invalid = || format!("{text:?} is not a duration like 90s, 15m, 2h or 30d");
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?;
    let (number, unit) = text.split_at(split);
    let seconds = UNITS.iter().find(|(name, _)| *name == unit).map(|(_, seconds)| *seconds).ok_or_else(invalid)?;
    let count: i64 = number.parse().map_err(|_| invalid())?;
    count.checked_mul(seconds).map(SignedDuration::from_secs).ok_or_else(|| format!("{text:?} is too long"))
}

/// A point in time: RFC 3339 (`2026-11-25T10:00:00Z`), or a duration meaning that long ago.
pub fn time(text: &str) -> Result<Timestamp, String> {
    // The system clock: arguments are parsed before a store is open, and the binary's store
    // reads that same clock (only tests hand a store another).
    time_at(text, Timestamp::now())
}

fn time_at(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    if let Ok(time) = text.parse::<Timestamp>() {
        return Ok(time);
    }
    let ago = duration(text).map_err(|_| {
        format!("{text:?} is neither an RFC 3339 time (2026-11-25T10:00:00Z) nor a duration ago (90s, 15m, 2h, 30d)")
    })?;
    now.checked_sub(ago).map_err(|_| format!("{text:?} reaches back before the earliest time there is"))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

        /// Whatever the text, a duration that is its number times its unit, or a refusal
        /// quoting it; a time, or a refusal.
        #[test]
        fn any_text_parses_exactly_or_is_refused(text in prop_oneof![".{0,24}", "[0-9]{0,22}[smhdSM .-]{0,2}"]) {
            match duration(&text) {
                Ok(d) => {
                    let unit = UNITS.iter().find(|(name, _)| text.ends_with(name)).map(|(_, s)| *s);
                    let number: Option<i64> = text.get(..text.len() - 1).and_then(|n| n.parse().ok());
                    prop_assert_eq!(Some(d.as_secs()), number.zip(unit).and_then(|(n, u)| n.checked_mul(u)));
                }
                Err(message) => prop_assert!(message.contains(&format!("{text:?}")), "{}", message),
            }
            let _ = time_at(&text, Timestamp::now());
        }
    }

    #[test]
    fn durations_take_one_unit() {
        assert_eq!(duration("90s"), Ok(SignedDuration::from_secs(90)));
        assert_eq!(duration("15m"), Ok(SignedDuration::from_mins(15)));
        assert_eq!(duration("2h"), Ok(SignedDuration::from_hours(2)));
        assert_eq!(duration("30d"), Ok(SignedDuration::from_hours(30 * 24)));
        assert_eq!(duration("0s"), Ok(SignedDuration::ZERO));
    }

    #[test]
    fn bad_durations_name_the_value() {
        for bad in ["", "15", "m", "15x", "1h30m", "-5m", "+5m", " 5m", "5 m", "1.5h", "15M"] {
            let message = duration(bad).expect_err(bad);
            assert!(message.contains(&format!("{bad:?}")), "{bad:?}: {message}");
        }
        assert!(duration("9999999999999999999d").is_err());
        assert!(duration("999999999999999999d").expect_err("overflows").contains("too long"));
    }

    #[test]
    fn times_are_rfc3339_or_a_duration_ago() {
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().expect("a time");
        let at = |text| time_at(text, now);
        assert_eq!(at("2026-11-25T10:00:00Z"), "2026-11-25T10:00:00Z".parse::<Timestamp>().map_err(|e| e.to_string()));
        assert_eq!(at("2026-11-25T11:00:00+01:00"), at("2026-11-25T10:00:00Z"));
        assert_eq!(at("2h"), at("2026-11-25T10:00:00Z"));
        assert_eq!(at("90s"), at("2026-11-25T11:58:30Z"));
        assert_eq!(at("30d"), at("2026-10-26T12:00:00Z"));
        let message = at("yesterday").expect_err("not a time");
        assert!(message.contains("\"yesterday\"") && message.contains("RFC 3339"), "{message}");
        assert!(at("2026-13-01T00:00:00Z").is_err());
        assert!(at("99999999d").is_err());
    }
}
