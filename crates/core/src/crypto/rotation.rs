//! Key rotation: add a data key to the keyring file, switch the database's fingerprint to
//! it, re-encrypt every sealed value under it (one transaction per batch), then retire the
//! old keys from the fingerprint. One rotation at a time: each holds a lease in the database
//! (every instance sharing it sees it) and an exclusive lock on the keyring file, and reads
//! the keyring afresh under both. Stopped half-way, `resume` finishes the job; old keys stay
//! in the keyring, so every value opens throughout.

use std::{path::PathBuf, thread, time::Duration};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::json;

use super::{
    KeySource, Keyring,
    fingerprint::{self, Fingerprint},
};
use crate::{
    Action, Actor, Conflict, Error, Result, Store, clock,
    db::{Tx, params},
    journal::{self, Change},
    settings,
};

/// Values re-encrypted per transaction.
const BATCH: i64 = 500;

/// Every column that holds sealed values: (table, key column, value column). Each later
/// item that seals a column adds it here.
const SEALED: &[(&str, &str, &str)] = &[
    ("settings", "key", "value"),
    ("orders", "id", "customer_email"),
    ("orders", "id", "customer_name"),
    ("orders", "id", "customer_phone"),
    ("orders", "id", "customer_address"),
    ("notifications", "id", "address"),
    ("notifications", "id", "subject"),
    ("notifications", "id", "body"),
    ("notifications", "id", "html"),
    ("webhooks", "id", "secret"),
];

/// The context a sealed value is bound to: where it is stored.
pub(crate) fn context(table: &str, column: &str, key: &str) -> String {
    format!("{table}.{column}/{key}")
}

/// What a rotation (or its resumption) did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotationReport {
    /// The key everything is now sealed under.
    pub key_id: String,
    /// Every key in the keyring, oldest first.
    pub keyring: Vec<String>,
    /// Values re-encrypted by this run.
    pub resealed: u64,
}

/// Which keys the data needs, against what the keyring holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyCheck {
    /// Whether the keyring holds every key in use, and the recorded index key.
    pub ok: bool,
    /// The key new values are sealed under.
    pub sealing: String,
    /// Every key the database records or a stored value names, sorted.
    pub in_use: Vec<String>,
    /// Those the keyring does not hold (or holds another key under): values under them
    /// cannot be read.
    pub missing: Vec<String>,
    /// Whether the keyring's blind-index key is the recorded one (else look-ups by email
    /// or phone find nothing).
    pub index_key_matches: bool,
}

/// Key management on a store.
#[derive(Debug, Clone, Copy)]
pub struct Keys<'s> {
    pub(crate) store: &'s Store,
}

impl Keys<'_> {
    /// Adds `new_key` (or a generated one) to the keyring file and re-encrypts everything
    /// under it. Needs a keyring file: the SQLite default, or `STOCKYARD_DATA_KEY_FILE`.
    /// Rotations elsewhere wait their turn.
    pub fn rotate(&self, actor: &Actor, new_key: Option<[u8; 32]>) -> Result<RotationReport> {
        actor.authorize(Action::KeyRotate)?;
        let turn = Turn::take(self.store)?;
        let mut keyring = turn.keyring()?;
        keyring.add(new_key.unwrap_or_else(super::random_key))?;
        // On disk before the database names it: no value is ever sealed under a key that a
        // crash could lose.
        keyring.save(&turn.path)?;
        self.finish(actor, &turn, &keyring)
    }

    /// Finishes an interrupted rotation: re-encrypts what is not yet under the keyring's
    /// newest key, then retires the others from the fingerprint.
    pub fn resume(&self, actor: &Actor) -> Result<RotationReport> {
        actor.authorize(Action::KeyRotate)?;
        let turn = Turn::take(self.store)?;
        let keyring = turn.keyring()?;
        self.finish(actor, &turn, &keyring)
    }

    /// The keys in use — recorded in the fingerprint, or named by a stored value — and
    /// which of them the keyring lacks (`verify`).
    pub fn check(&self, actor: &Actor) -> Result<KeyCheck> {
        actor.authorize(Action::AuditRead)?;
        let source = self.store.key_source()?;
        let keyring = Keyring::load(&source)?;
        let (recorded, mut in_use) = self.store.pool.read(|tx| {
            let recorded = fingerprint::read(tx)?;
            let mut in_use: Vec<String> = recorded.keys.keys().cloned().collect();
            for (table, _, column) in SEALED {
                in_use.extend(key_ids_in(tx, table, column)?);
            }
            Ok((recorded, in_use))
        })?;
        in_use.sort();
        in_use.dedup();
        // Missing too: a key held under its id that is not the one recorded.
        let held = |id: &String| match recorded.keys.get(id) {
            Some(check) => keyring.check_value(id).as_ref() == Some(check),
            None => keyring.check_value(id).is_some(),
        };
        let missing: Vec<String> = in_use.iter().filter(|id| !held(id)).cloned().collect();
        let index_key_matches = keyring.index_check_value() == recorded.index;
        let ok = missing.is_empty() && index_key_matches;
        Ok(KeyCheck { ok, sealing: recorded.sealing, in_use, missing, index_key_matches })
    }

    /// Switches the fingerprint to the keyring's newest key, re-seals everything under it,
    /// then retires the other keys.
    fn finish(&self, actor: &Actor, turn: &Turn<'_>, keyring: &Keyring) -> Result<RotationReport> {
        let newest = keyring.newest_id().to_owned();
        self.store.pool.write(|tx| {
            turn.renew(tx)?;
            let mut recorded = fingerprint::locked(tx)?;
            if recorded.sealing == newest {
                return Ok(());
            }
            let before = json!({ "sealing": recorded.sealing, "keys": recorded.keys.keys().collect::<Vec<_>>() });
            recorded.keys.extend(Fingerprint::of(keyring, [newest.as_str()])?.keys);
            recorded.sealing.clone_from(&newest);
            fingerprint::record(tx, &recorded)?;
            let after = json!({ "sealing": newest, "keys": recorded.keys.keys().collect::<Vec<_>>() });
            audit(tx, actor, &newest, Some(before), after, self.store.now())
        })?;
        let mut resealed = 0;
        for (table, key_column, column) in SEALED {
            loop {
                // Re-sealing changes how values are stored, not what they are: the rotation's
                // own records (before and after) cover it.
                let done = self.store.pool.bookkeep(|tx| {
                    turn.renew(tx)?;
                    reseal_batch(tx, actor, self.store, &newest, (table, key_column, column))
                })?;
                resealed += done;
                if done < BATCH as u64 {
                    break;
                }
            }
        }
        self.store.pool.write(|tx| {
            turn.renew(tx)?;
            let mut recorded = fingerprint::locked(tx)?;
            let retired: Vec<String> = recorded.keys.keys().filter(|id| **id != newest).cloned().collect();
            if retired.is_empty() {
                return Ok(());
            }
            recorded.keys.retain(|id, _| *id == newest);
            fingerprint::record(tx, &recorded)?;
            audit(tx, actor, &newest, None, json!({ "sealing": newest, "retired": retired }), self.store.now())
        })?;
        let ids = keyring.key_ids().into_iter().map(str::to_owned).collect();
        Ok(RotationReport { key_id: newest, keyring: ids, resealed })
    }
}

fn audit(
    tx: &mut Tx<'_>,
    actor: &Actor,
    key: &str,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
    at: Timestamp,
) -> Result<()> {
    let change = Change {
        action: Action::KeyRotate.as_str(),
        entity: ("keyring", key),
        before,
        after: Some(after),
        events: Vec::new(),
    };
    journal::record(tx, actor, change, at)?;
    Ok(())
}

/// The distinct key ids the sealed values of one column name.
fn key_ids_in(tx: &mut Tx<'_>, table: &str, column: &str) -> Result<Vec<String>> {
    // `sy1:` then the id, up to the next `:`; ids are `k` and 12 hex digits.
    let rows =
        tx.query(&format!("SELECT DISTINCT substr({column}, 5, 13) FROM {table} WHERE {column} LIKE 'sy1:%'"), &[])?;
    rows.iter().map(|row| row.get(0)).collect()
}

/// How long a rotation's lease lasts unless renewed (before every batch): a rotation that
/// died on another machine (or where `/proc` cannot tell) frees the next after this; one
/// killed on this machine is seen to be gone at once.
const LEASE: SignedDuration = SignedDuration::from_secs(30);
const LEASE_SETTING: &str = "key_rotation_lease";
/// How often a rotation waiting for its turn asks again.
const WAIT: Duration = Duration::from_millis(100);

/// One rotation's turn: the lease in the database and the lock on the keyring file, held
/// until dropped.
struct Turn<'s> {
    store: &'s Store,
    path: PathBuf,
    holder: String,
    _file_lock: std::fs::File,
}

impl<'s> Turn<'s> {
    /// Waits for the lease, then for the keyring file's lock.
    fn take(store: &'s Store) -> Result<Self> {
        let path = match store.key_source()? {
            KeySource::File(path) => path,
            KeySource::Key(_) => {
                return Err(Error::invalid(
                    "keyring",
                    "rotation adds a key to a keyring file: set STOCKYARD_DATA_KEY_FILE instead of STOCKYARD_DATA_KEY",
                ));
            }
        };
        let holder = crate::process::holder_name();
        while !store.pool.bookkeep(|tx| claim(tx, &holder, false))? {
            thread::sleep(WAIT);
        }
        let file_lock = super::lock_keyring_file(&path);
        let turn = file_lock.map(|lock| Self { store, path, holder: holder.clone(), _file_lock: lock });
        if turn.is_err() {
            release(store, &holder);
        }
        turn
    }

    /// The keyring file as it is now, checked against the fingerprint.
    fn keyring(&self) -> Result<Keyring> {
        let source = KeySource::File(self.path.clone());
        let keyring = Keyring::load(&source)?;
        self.store.pool.read(fingerprint::read)?.check(&keyring, &source)?;
        Ok(keyring)
    }

    /// Extends the lease in the transaction of the next step; a lease that lapsed and went
    /// to another rotation stops this one.
    /// Renews the lease in the caller's transaction: bookkeeping, not a change to record.
    fn renew(&self, tx: &mut Tx<'_>) -> Result<()> {
        if tx.bookkeeping(|tx| claim(tx, &self.holder, true))? {
            return Ok(());
        }
        Err(Error::conflict(
            Conflict::Taken,
            "this key rotation's lease lapsed and another rotation took over: stopping",
        ))
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        release(self.store, &self.holder);
    }
}

/// Takes (or with `renew`, extends) the lease for `holder`: free, lapsed or already its own.
fn claim(tx: &mut Tx<'_>, holder: &str, renew: bool) -> Result<bool> {
    settings::put_if_absent(tx, LEASE_SETTING, "")?;
    let sql = format!("SELECT value FROM settings WHERE key = $1{}", tx.for_update());
    let current: String = tx.query_one(&sql, params![LEASE_SETTING])?.get(0)?;
    // `<expiry> <holder>`, or empty when free.
    let (until, owner) = current.split_once(' ').unwrap_or_default();
    // Real time, not the store's clock: the lease tells rotations in other processes apart.
    let now = clock::wall();
    let lapsed = until.parse::<Timestamp>().map_or(true, |until| until <= now) || !crate::process::holder_alive(owner);
    let ours = owner == holder;
    if !(ours || (!renew && lapsed)) {
        return Ok(false);
    }
    let until = now.checked_add(LEASE).map_err(|e| Error::internal_from("a time past the supported range", e))?;
    tx.execute("UPDATE settings SET value = $1 WHERE key = $2", params![format!("{until} {holder}"), LEASE_SETTING])?;
    Ok(true)
}

/// Gives the lease back, best effort: one not given back lapses on its own.
fn release(store: &Store, holder: &str) {
    let _ = store.pool.bookkeep(|tx| {
        tx.execute(
            "UPDATE settings SET value = '' WHERE key = $1 AND value LIKE $2",
            params![LEASE_SETTING, format!("% {holder}")],
        )
    });
}

/// Re-encrypts up to [`BATCH`] values of one column under `newest`, with an audit record;
/// returns how many.
fn reseal_batch(
    tx: &mut Tx<'_>,
    actor: &Actor,
    store: &Store,
    newest: &str,
    (table, key_column, column): (&str, &str, &str),
) -> Result<u64> {
    // The keyring the fingerprint names, as every writer takes it: first in the transaction.
    let keyring = store.sealing_keyring(tx)?;
    if keyring.sealing_id() != newest {
        return Err(Error::conflict(
            Conflict::Taken,
            format!("another key rotation moved the data to key {} meanwhile: stopping", keyring.sealing_id()),
        ));
    }
    let rows = tx.query(
        &format!(
            "SELECT {key_column}, {column} FROM {table}
             WHERE {column} LIKE 'sy1:%' AND {column} NOT LIKE $1 ORDER BY {key_column} LIMIT $2{}",
            tx.for_update()
        ),
        params![format!("sy1:{newest}:%"), BATCH],
    )?;
    for row in &rows {
        let (key, sealed): (String, String) = (row.get(0)?, row.get(1)?);
        let context = context(table, column, &key);
        let plaintext = keyring.open(&context, &sealed)?;
        tx.execute(
            &format!("UPDATE {table} SET {column} = $1 WHERE {key_column} = $2"),
            params![keyring.seal(&context, &plaintext)?, key],
        )?;
    }
    if !rows.is_empty() {
        let resealed = json!({ "table": table, "column": column, "resealed": rows.len() });
        audit(tx, actor, newest, None, resealed, store.now())?;
    }
    Ok(rows.len() as u64)
}
