//! Key rotation: add a data key to the keyring file, then re-encrypt every sealed value
//! under it, one transaction per batch. Stopped half-way, `resume` finishes the job; old
//! keys stay in the keyring, so every value opens throughout.

use serde::Serialize;
use serde_json::json;

use super::{KeySource, Keyring};
use crate::{
    Action, Actor, Error, Result, Store, clock,
    db::{Tx, params},
    journal::{self, Change},
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

/// Key management on a store.
#[derive(Debug, Clone, Copy)]
pub struct Keys<'s> {
    pub(crate) store: &'s Store,
}

impl Keys<'_> {
    /// Adds `new_key` (or a generated one) to the keyring file and re-encrypts everything
    /// under it. Needs a keyring file: the SQLite default, or `STOCKYARD_DATA_KEY_FILE`.
    pub fn rotate(&self, actor: &Actor, new_key: Option<[u8; 32]>) -> Result<RotationReport> {
        actor.authorize(Action::KeyRotate)?;
        let path = match self.store.key_source()? {
            KeySource::File(path) => path,
            KeySource::Key(_) => {
                return Err(Error::invalid(
                    "keyring",
                    "rotation adds a key to a keyring file: set STOCKYARD_DATA_KEY_FILE instead of STOCKYARD_DATA_KEY",
                ));
            }
        };
        let mut keyring = Keyring::read(&path)?;
        keyring.add(new_key.unwrap_or_else(super::random_key))?;
        keyring.save(&path)?;
        self.reseal(actor, &keyring)
    }

    /// Finishes an interrupted rotation: re-encrypts what is not yet under the newest key.
    pub fn resume(&self, actor: &Actor) -> Result<RotationReport> {
        actor.authorize(Action::KeyRotate)?;
        self.reseal(actor, &self.store.keyring()?)
    }

    fn reseal(&self, actor: &Actor, keyring: &Keyring) -> Result<RotationReport> {
        let newest = keyring.newest().id.clone();
        let mut resealed = 0;
        for (table, key_column, column) in SEALED {
            loop {
                let done = self.store.pool.write(|tx| reseal_batch(tx, actor, keyring, (table, key_column, column)))?;
                resealed += done;
                if done < BATCH as u64 {
                    break;
                }
            }
        }
        let ids = keyring.key_ids().into_iter().map(str::to_owned).collect();
        Ok(RotationReport { key_id: newest, keyring: ids, resealed })
    }
}

/// Re-encrypts up to [`BATCH`] values of one column under the newest key, with an audit
/// record; returns how many.
fn reseal_batch(
    tx: &mut Tx<'_>,
    actor: &Actor,
    keyring: &Keyring,
    (table, key_column, column): (&str, &str, &str),
) -> Result<u64> {
    let newest = keyring.newest().id.clone();
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
        let change = Change {
            action: Action::KeyRotate.as_str(),
            entity: ("keyring", &newest),
            before: None,
            after: Some(json!({ "table": table, "column": column, "resealed": rows.len() })),
            events: Vec::new(),
        };
        journal::record(tx, actor, change, clock::now())?;
    }
    Ok(rows.len() as u64)
}
