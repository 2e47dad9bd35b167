//! Key/value settings kept in the database itself (initialisation mark, generated secrets).

use crate::{
    Result,
    db::{Tx, params},
};

/// Set by `init`; every other command requires it.
pub(crate) const INITIALISED_AT: &str = "initialised_at";

pub(crate) fn get(tx: &mut Tx<'_>, key: &str) -> Result<Option<String>> {
    tx.query_opt("SELECT value FROM settings WHERE key = $1", params![key])?.map(|row| row.get(0)).transpose()
}

/// Stores `value` unless the key already has one; returns whether it was stored.
pub(crate) fn put_if_absent(tx: &mut Tx<'_>, key: &str, value: &str) -> Result<bool> {
    let n = tx.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        params![key, value],
    )?;
    Ok(n == 1)
}
