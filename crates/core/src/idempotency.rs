//! Idempotency keys: a command sent again with the key it was first sent with is done once.
//! The key is claimed in the command's own transaction, before the command runs, and the
//! claim records what the command made or changed — so "changed" and "remembered" commit
//! together, and a crash can lose neither alone.
//!
//! Keys belong to the principal (the user, for `--as` and session tokens; the API token for
//! its callers): another principal's key of the same text is another key. A repeat with the
//! same arguments answers what the first made or changed, read afresh; with other arguments
//! it is refused ([`Error::KeyReused`]). A repeat that arrives while the first is still running
//! waits for it: on PostgreSQL its claim waits on the first's uncommitted row, on SQLite the
//! single writer orders them. A command that fails claims nothing, so it may be sent again.

use sha2::{Digest, Sha256};

use crate::{Action, Actor, Error, Result, Store, db::Tx, db::params};

/// A command that takes a key, as sent: what it does, with what (which a repeat must match),
/// and when.
pub(crate) struct Request<'a> {
    pub action: Action,
    pub args: &'a serde_json::Value,
    pub at: jiff::Timestamp,
}

/// Runs `run` once per idempotency key of `actor` (just runs it when there is none). `made`
/// names what the command made or changed, and `replay` reads it back for a repeat.
pub(crate) fn once<R>(
    tx: &mut Tx<'_>,
    actor: &Actor,
    Request { action, args, at }: Request<'_>,
    run: impl FnOnce(&mut Tx<'_>) -> Result<R>,
    made: impl FnOnce(&R) -> String,
    replay: impl FnOnce(&mut Tx<'_>, &str) -> Result<R>,
) -> Result<R> {
    let Some(key) = actor.idempotency_key() else { return run(tx) };
    let (principal, fingerprint) = (actor.principal(), fingerprint(action, args));
    let claimed = tx.bookkeeping(|tx| {
        tx.execute(
            "INSERT INTO idempotency_keys (principal, key, action, fingerprint, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (principal, key) DO NOTHING",
            params![&principal, key, action.as_str(), &fingerprint, at],
        )
    })? == 1;
    if !claimed {
        let row = tx.query_one(
            "SELECT fingerprint, result FROM idempotency_keys WHERE principal = $1 AND key = $2",
            params![&principal, key],
        )?;
        if row.get::<String>(0)? != fingerprint {
            return Err(Error::KeyReused { key: key.to_owned() });
        }
        let result: Option<String> = row.get(1)?;
        let result = result.ok_or_else(|| Error::internal(format!("idempotency key {key:?} recorded no result")))?;
        return replay(tx, &result);
    }
    tx.keyed();
    let out = run(tx)?;
    tx.bookkeeping(|tx| {
        tx.execute(
            "UPDATE idempotency_keys SET result = $1 WHERE principal = $2 AND key = $3",
            params![made(&out), &principal, key],
        )
    })?;
    Ok(out)
}

/// How long a key is remembered: long past any client's retries, short enough that the
/// table stays small. The sweep forgets older keys.
pub(crate) const KEYS_KEPT_FOR: jiff::SignedDuration = jiff::SignedDuration::from_hours(7 * 24);

/// Forgets the keys claimed before `before`; returns how many. Bookkeeping: a key is how a
/// change was asked for, not a change.
pub(crate) fn forget(store: &Store, before: jiff::Timestamp) -> Result<u64> {
    store.pool.bookkeep(|tx| tx.execute("DELETE FROM idempotency_keys WHERE created_at < $1", params![before]))
}

/// What a repeat must match: the action and its arguments, as canonical JSON (object keys
/// sorted), hashed.
fn fingerprint(action: Action, args: &serde_json::Value) -> String {
    let digest =
        Sha256::new().chain_update(action.as_str()).chain_update([0]).chain_update(args.to_string()).finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a key as given: one line of at most 200 characters.
pub fn check(key: &str) -> Result<String> {
    crate::validate::required("idempotency key", key, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_ignores_key_order_but_not_values_or_the_action() {
        let a = serde_json::json!({ "sku": "M-1", "quantity": 2 });
        let b: serde_json::Value = serde_json::from_str(r#"{"quantity":2,"sku":"M-1"}"#).expect("json");
        assert_eq!(fingerprint(Action::StockReceive, &a), fingerprint(Action::StockReceive, &b));
        assert_ne!(fingerprint(Action::StockReceive, &a), fingerprint(Action::StockAdjust, &a));
        let c = serde_json::json!({ "sku": "M-1", "quantity": 3 });
        assert_ne!(fingerprint(Action::StockReceive, &a), fingerprint(Action::StockReceive, &c));
    }
}
