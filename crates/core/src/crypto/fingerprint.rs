//! What the database records about its keyring (settings `keyring`), and the check every
//! process runs against it before it seals or opens: the keys values may be sealed under,
//! each by id and keyed check value, the one that seals, and the index key's check value.
//! Never a key: a check value is an HMAC of a fixed label under the key.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
};

use serde::{Deserialize, Serialize};

use super::{KeySource, Keyring};
use crate::{
    Error, Result,
    db::{Tx, params},
    settings,
};

/// The settings key the fingerprint is stored under.
const SETTING: &str = "keyring";

/// A keyring as the database knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Fingerprint {
    /// The key new values are sealed under.
    pub sealing: String,
    /// Every key values may be sealed under (the sealing one included): id → check value.
    pub keys: BTreeMap<String, String>,
    /// The blind-index key's check value.
    pub index: String,
}

impl Fingerprint {
    /// The fingerprint of `keyring` with `ids` in use, sealing under its sealing key.
    pub fn of<'a>(keyring: &Keyring, ids: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let keys = ids
            .into_iter()
            .map(|id| {
                let check = keyring
                    .check_value(id)
                    .ok_or_else(|| Error::internal(format!("the keyring does not hold key {id}")))?;
                Ok((id.to_owned(), check))
            })
            .collect::<Result<_>>()?;
        Ok(Self { sealing: keyring.sealing_id().to_owned(), keys, index: keyring.index_check_value() })
    }

    /// Checks that `keyring` (from `source`) holds every key in use, each the very key
    /// recorded, and the same index key.
    pub fn check(&self, keyring: &Keyring, source: &KeySource) -> Result<()> {
        for (id, check) in &self.keys {
            match keyring.check_value(id) {
                None => return Err(missing(&source.describe(), id)),
                Some(held) if held != *check => {
                    return Err(Error::internal(format!(
                        "{} holds another key under id {id} than the one this database's data is sealed with: \
                         restore the keyring it was initialised or last rotated with",
                        source.describe()
                    )));
                }
                Some(_) => {}
            }
        }
        if keyring.index_check_value() != self.index {
            return Err(Error::internal(format!(
                "{} has another blind-index key than this database: look-ups by email or phone would find \
                 nothing; restore the keyring it was initialised with",
                source.describe()
            )));
        }
        Ok(())
    }

    /// [`Fingerprint::check`], then the keyring set to seal under the recorded key.
    pub fn admit(&self, keyring: Keyring, source: &KeySource) -> Result<Keyring> {
        self.check(&keyring, source)?;
        keyring.seal_under(&self.sealing).ok_or_else(|| missing(&source.describe(), &self.sealing))
    }

    fn parse(text: &str) -> Result<Self> {
        serde_json::from_str(text)
            .map_err(|e| Error::internal_from("the keyring fingerprint in the database is unreadable", e))
    }

    fn text(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::internal_from("cannot encode JSON", e))
    }
}

fn missing(source: &str, id: &str) -> Error {
    Error::internal(format!(
        "{source} does not hold key {id}, which this database's data is sealed with: restore the keyring it was \
         initialised or last rotated with (nothing was changed)"
    ))
}

/// The recorded fingerprint as stored, or `None` before `init`; `lock` is a row-lock
/// clause (`FOR SHARE`, `FOR UPDATE`) or empty.
fn stored(tx: &mut Tx<'_>, lock: &str) -> Result<Option<String>> {
    let sql = format!("SELECT value FROM settings WHERE key = $1{lock}");
    tx.query_opt(&sql, params![SETTING])?.map(|row| row.get(0)).transpose()
}

/// The recorded fingerprint, locked until commit (PostgreSQL; SQLite's writer holds the
/// whole database): what a rotation reads before it changes it.
pub(crate) fn locked(tx: &mut Tx<'_>) -> Result<Fingerprint> {
    let lock = tx.for_update();
    Fingerprint::parse(&stored(tx, lock)?.ok_or_else(none_recorded)?)
}

/// The recorded fingerprint, read in any transaction.
pub(crate) fn read(tx: &mut Tx<'_>) -> Result<Fingerprint> {
    Fingerprint::parse(&stored(tx, "")?.ok_or_else(none_recorded)?)
}

/// Whether a fingerprint is recorded (not before `init`, nor on a store initialised before
/// fingerprints were).
pub(crate) fn recorded(tx: &mut Tx<'_>) -> Result<bool> {
    Ok(stored(tx, "")?.is_some())
}

fn none_recorded() -> Error {
    Error::internal("the database records no keyring: run `stockyard init` first")
}

/// Records `fingerprint`, after [`locked`] in the same transaction.
pub(crate) fn record(tx: &mut Tx<'_>, fingerprint: &Fingerprint) -> Result<()> {
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![SETTING, fingerprint.text()?],
    )?;
    Ok(())
}

/// Records the fingerprint of `keyring` unless one is recorded: at `init`, and for a
/// store initialised before fingerprints, once its signing secret opens under the keyring
/// (so a wrong keyring is not adopted). Every key of the keyring counts as in use.
/// Two at once: the first recorded stands, and the other's keyring is checked against it.
pub(crate) fn adopt(tx: &mut Tx<'_>, keyring: &Keyring, source: &KeySource) -> Result<()> {
    if recorded(tx)? {
        return Ok(());
    }
    if let Some(sealed) = settings::get(tx, settings::JWT_SECRET)? {
        let id = super::sealed_key_id(&sealed).unwrap_or_default();
        if keyring.check_value(id).is_none() {
            return Err(missing(&source.describe(), id));
        }
        keyring.open(&crate::auth::sessions::secret_context(), &sealed)?;
    }
    settings::put_if_absent(tx, SETTING, &Fingerprint::of(keyring, keyring.key_ids())?.text()?)?;
    Ok(())
}

/// A process's keyring, checked against the fingerprint it was loaded under.
#[derive(Debug, Default)]
pub(crate) struct Cache(Mutex<Option<(String, Arc<Keyring>)>>);

impl Cache {
    /// The keyring for this transaction: the cached one while the recorded fingerprint is
    /// the one it was checked against, else loaded from `source` afresh and checked.
    /// `share` (a write transaction) holds the fingerprint until commit on PostgreSQL, so a
    /// rotation switching keys waits for this transaction, which may seal under the old key.
    pub fn keyring(&self, tx: &mut Tx<'_>, source: &KeySource, share: bool) -> Result<Arc<Keyring>> {
        let lock = match (share, tx.backend()) {
            (true, crate::Backend::Postgres) => " FOR SHARE",
            _ => "",
        };
        let text = stored(tx, lock)?.ok_or_else(none_recorded)?;
        let mut cached = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((seen, keyring)) = cached.as_ref()
            && *seen == text
        {
            return Ok(Arc::clone(keyring));
        }
        let keyring = Arc::new(Fingerprint::parse(&text)?.admit(Keyring::load(source)?, source)?);
        *cached = Some((text, Arc::clone(&keyring)));
        Ok(keyring)
    }
}
