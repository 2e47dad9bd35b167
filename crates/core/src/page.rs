//! Cursor pagination shared by every list: `{"items": [...], "next_cursor": ...}`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// One page of a list, and the cursor of the next page (none on the last).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Which page of a list to read: at most `limit` items (default 50, at most 1000), after
/// the page whose `next_cursor` is `cursor`.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

pub(crate) const DEFAULT_LIMIT: u32 = 50;
pub(crate) const MAX_LIMIT: u32 = 1000;

/// The page size asked for, 1 to [`MAX_LIMIT`].
pub(crate) fn limit(requested: Option<u32>) -> Result<u32> {
    match requested.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        n => Err(Error::invalid("limit", format!("{n} is not between 1 and {MAX_LIMIT}"))),
    }
}

/// An opaque cursor for the sort key of the last item shown, with a check value so that a
/// cursor this code did not make — typed by hand, cut short, edited — is refused rather
/// than read as a place in the list. (The check is not a secret: a cursor only says where
/// a page starts, and every list still applies the caller's permissions.)
pub(crate) fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{key}{SEPARATOR}{}", check(key)))
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            let (key, tag) = text.rsplit_once(SEPARATOR)?;
            (tag == check(key)).then(|| key.to_owned())
        })
        .ok_or_else(|| Error::invalid("cursor", format!("{cursor:?} is not a cursor this server issued")))
}

impl PageRequest {
    /// The page size asked for (checked) and the sort key the cursor stands at (empty: the
    /// start of the list).
    pub(crate) fn bounds(&self) -> Result<(u32, String)> {
        let key = self.cursor.as_deref().map(decode_cursor).transpose()?.unwrap_or_default();
        Ok((limit(self.limit)?, key))
    }
}

/// The seq a cursor of a list in seq order stands at; 0 (the start) without one.
pub(crate) fn decode_seq(cursor: Option<&str>) -> Result<i64> {
    cursor.map_or(Ok(0), |c| {
        decode_cursor(c)?.parse().map_err(|_| Error::invalid("cursor", format!("{c:?} is not a cursor of this list")))
    })
}

/// Ends the key inside a cursor; no sort key holds it.
const SEPARATOR: char = '\u{1e}';

fn check(key: &str) -> String {
    let digest = Sha256::digest(format!("stockyard cursor v1\0{key}"));
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds a page from up to `limit + 1` fetched rows: the extra row only says there is more.
pub(crate) fn from_rows<T>(mut items: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Page<T> {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if more { items.last().map(|last| encode_cursor(&key(last))) } else { None };
    Page { items, next_cursor }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_forged_ones_are_refused() {
        let cursor = encode_cursor("MUG-01\u{1f}MAIN");
        assert_eq!(decode_cursor(&cursor).ok().as_deref(), Some("MUG-01\u{1f}MAIN"));
        for forged in [URL_SAFE_NO_PAD.encode("0"), URL_SAFE_NO_PAD.encode("MUG-02"), "!!".into(), String::new()] {
            assert!(
                matches!(decode_cursor(&forged), Err(Error::Invalid { field, .. }) if field == "cursor"),
                "{forged}"
            );
        }
        let mut edited = URL_SAFE_NO_PAD.decode(&cursor).expect("base64");
        edited[0] = b'X';
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode(edited)).is_err());
    }
}
