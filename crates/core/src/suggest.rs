//! "Did you mean …?": the known name closest to a mistyped one, for not-found and
//! not-one-of errors.

/// How alike two names must be (Jaro-Winkler, 0 to 1) for one to be offered for the other:
/// high enough that an unrelated name is never offered.
const ALIKE: f64 = 0.8;

/// The candidate most like `wanted`, ignoring case, if any is alike enough: the fewest edits
/// away, then the most alike; the first of equals wins.
pub(crate) fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted = wanted.trim().to_lowercase();
    let mut best: Option<(usize, f64, &str)> = None;
    for candidate in candidates {
        let lower = candidate.to_lowercase();
        let alike = strsim::jaro_winkler(&wanted, &lower);
        if alike < ALIKE {
            continue;
        }
        let edits = strsim::damerau_levenshtein(&wanted, &lower);
        if best.is_none_or(|(e, a, _)| edits < e || (edits == e && alike > a)) {
            best = Some((edits, alike, candidate));
        }
    }
    best.map(|(_, _, name)| name)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn offers_the_nearest_name_and_nothing_unrelated() {
        let skus = ["MUG-01", "MUG-10", "TEE-M", "KETTLE-2L"];
        assert_eq!(closest("MUG-1O", skus), Some("MUG-10"));
        assert_eq!(closest("mug-01", skus), Some("MUG-01"));
        assert_eq!(closest("KETLE-2L", skus), Some("KETTLE-2L"));
        assert_eq!(closest("BICYCLE", skus), None);
        assert_eq!(closest("shiped", ["pending", "shipped", "delivered"]), Some("shipped"));
        assert_eq!(closest("x", std::iter::empty()), None);
    }
}
