//! Cursor pagination shared by every list: `{"items": [...], "next_cursor": ...}`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Serialize;

use crate::{Error, Result};

/// One page of a list, and the cursor of the next page (none on the last).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
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

/// An opaque cursor for the sort key of the last item shown.
pub(crate) fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| Error::invalid("cursor", format!("{cursor:?} is not a cursor this server issued")))
}

/// Builds a page from up to `limit + 1` fetched rows: the extra row only says there is more.
pub(crate) fn from_rows<T>(mut items: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Page<T> {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if more { items.last().map(|last| encode_cursor(&key(last))) } else { None };
    Page { items, next_cursor }
}
