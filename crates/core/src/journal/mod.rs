//! The one place a change is recorded: its events and its audit record, written with the
//! change itself so none of the three can exist without the others, and hash-chained (see
//! [`audit::chain`]).
//!
//! A command's records are kept on its transaction ([`record`]) and written when it ends
//! ([`flush`]). How they get their seqs differs by backend, with one rule for readers:
//! events become readable only numbered, densely and in commit order, so a reader by `seq`
//! never skips one that commits late.
//! - SQLite: the writer holds the database's only write lock, so it numbers and chains its
//!   records itself ([`seal::write`]) before it commits.
//! - PostgreSQL: numbering at write time would serialise every writer on one row until its
//!   commit. Instead the transaction queues its records, unnumbered, in one `journal_queue`
//!   row, and after commit one sealer at a time ([`seal_queued`], under an advisory lock)
//!   numbers every committed record in queue order, chains it and moves it into `events`,
//!   `audit_log` and `stock_movements`. The writer waits for that before it returns, so
//!   what it wrote is readable when it says it is done; a writer that dies in between
//!   leaves its record queued for the next one (or the server's sealer) to seal, and
//!   `verify` names a record left queued too long.

pub(crate) mod seal;

use jiff::{Timestamp, Unit};
use serde::{Deserialize, Serialize};

use crate::{
    Actor, Error, Result,
    audit::chain::{self, Head, Heads},
    db::{Backend, Tx, Value, params},
    events::EventType,
};

/// A state change as the event log and the audit log see it.
#[derive(Debug)]
pub(crate) struct Change<'a> {
    pub action: &'static str,
    /// Entity type and id, e.g. `("product", id)`.
    pub entity: (&'a str, &'a str),
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// The events the change emits, in order.
    pub events: Vec<(EventType, serde_json::Value)>,
}

/// A change as recorded before it is numbered: its audit record and its events, with every
/// field but their seqs and hashes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Record {
    pub at: Timestamp,
    pub actor: String,
    pub request_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// The audit summaries as JSON text.
    pub before: Option<String>,
    pub after: Option<String>,
    /// Event type and payload (JSON text), in order.
    pub events: Vec<(String, String)>,
}

/// Records the change's events and audit record with the command's transaction, which
/// writes them when it ends (see [`flush`]).
pub(crate) fn record(tx: &mut Tx<'_>, actor: &Actor, change: Change<'_>, at: Timestamp) -> Result<()> {
    let record = prepare(tx, actor, change, at)?;
    tx.journal(record);
    Ok(())
}

/// Records the change of a command built from others (placing an order holds its stock) as
/// the command's one audit record: the events its parts recorded come first in it, their
/// audit records are left out. What the parts did stays in the events and in the command's
/// own record; each audit record costs a row and two index entries (SQLite: ~3 pages).
pub(crate) fn record_over(tx: &mut Tx<'_>, actor: &Actor, change: Change<'_>, at: Timestamp) -> Result<()> {
    let record = prepare(tx, actor, change, at)?;
    tx.journal_over(record);
    Ok(())
}

fn prepare(tx: &Tx<'_>, actor: &Actor, change: Change<'_>, at: Timestamp) -> Result<Record> {
    if actor.idempotency_key().is_some() && !tx.is_keyed() {
        return Err(Error::invalid(
            "idempotency key",
            format!(
                "{} takes none: only order create, order pay, reserve and stock adjust, receive and transfer do",
                change.action
            ),
        ));
    }
    let text = |v: Option<serde_json::Value>| v.as_ref().map(ToString::to_string);
    Ok(Record {
        // Stored at the precision both backends keep, so the hashes recompute from what is read.
        at: at.round(Unit::Microsecond).unwrap_or(at),
        actor: actor.to_string(),
        request_id: actor.request_id().map(str::to_owned),
        action: change.action.to_owned(),
        entity_type: change.entity.0.to_owned(),
        entity_id: change.entity.1.to_owned(),
        before: text(change.before),
        after: text(change.after),
        events: change.events.into_iter().map(|(t, payload)| (t.as_str().to_owned(), payload.to_string())).collect(),
    })
}

/// Writes a transaction's records as it ends: numbered and chained (SQLite), or queued in
/// one row for the sealer (PostgreSQL). Returns whether it queued any.
pub(crate) fn flush(tx: &mut Tx<'_>, records: Vec<Record>) -> Result<bool> {
    if records.is_empty() {
        return Ok(false);
    }
    match tx.backend() {
        Backend::Sqlite => {
            let heads = chain::heads(tx)?;
            let heads = seal::write(tx, heads, &records)?;
            chain::move_heads(tx, &heads)?;
            Ok(false)
        }
        Backend::Postgres => {
            let at = records.iter().map(|r| r.at).max();
            let body = serde_json::to_string(&records)
                .map_err(|e| Error::internal_from("cannot encode a journal record", e))?;
            tx.defer("INSERT INTO journal_queue (body, queued_at) VALUES ($1, $2)", params![body, at])?;
            Ok(true)
        }
    }
}

/// Records sealed per pass: a bound on one sealing transaction.
pub(crate) const SEAL_BATCH: usize = 1000;

/// What a sealing pass (PostgreSQL) reads once it holds the journal's lock, in a statement
/// of its own so that its snapshot holds the last pass's commit: the heads, then the records
/// queued and committed by then, oldest first, up to [`SEAL_BATCH`]. Without parameters:
/// the sealer sends it with `BEGIN` and the lock in one round trip.
pub(crate) fn queued_read() -> String {
    format!(
        "SELECT h.seq, h.hash, h.event_seq, h.event_hash, q.id, q.body
         FROM audit_head h LEFT JOIN LATERAL (SELECT id, body FROM journal_queue ORDER BY id LIMIT {SEAL_BATCH}) q
              ON TRUE
         WHERE h.id = 1 ORDER BY q.id"
    )
}

/// What a sealing pass writes for the rows [`queued_read`] returned (as text): one statement
/// and its parameters that number, chain and write the records, take their queue rows, move
/// the heads and notify listeners — and how many commands' records that is (as many as
/// [`SEAL_BATCH`] means more may wait). `None` when nothing waits.
pub(crate) fn seal_statement(rows: &[Vec<Option<String>>]) -> Result<Option<(String, Vec<Value>, usize)>> {
    let column = |row: &[Option<String>], i: usize| row.get(i).cloned().flatten();
    let number = |row: &[Option<String>], i: usize| -> Result<i64> {
        column(row, i).and_then(|n| n.parse().ok()).ok_or_else(|| Error::internal("the journal's heads are unreadable"))
    };
    let Some(first) = rows.first() else { return Err(Error::internal("the audit chain has no head")) };
    let (Some(hash), Some(event_hash)) = (column(first, 1), column(first, 3)) else {
        return Err(Error::internal("the event chain has no head"));
    };
    let heads = Heads {
        audit: Head { seq: number(first, 0)?, hash },
        events: Head { seq: number(first, 2)?, hash: event_hash },
    };
    let mut ids = Vec::new();
    let mut records = Vec::new();
    for row in rows {
        let (Some(id), Some(body)) = (column(row, 4), column(row, 5)) else { continue };
        let queued: Vec<Record> = serde_json::from_str(&body)
            .map_err(|e| Error::internal_from(format!("journal record {id} is malformed"), e))?;
        ids.push(id);
        records.extend(queued);
    }
    if ids.is_empty() {
        return Ok(None);
    }
    let (sql, params) = seal::queued_statement(heads, &records, &ids.join(","))?;
    Ok(Some((sql, params, ids.len())))
}

/// The records queued and committed as the transaction sees them, oldest first (none on
/// SQLite, whose writers seal their own).
fn queued(tx: &mut Tx<'_>) -> Result<Vec<Record>> {
    if tx.backend() == Backend::Sqlite {
        return Ok(Vec::new());
    }
    let mut records = Vec::new();
    for row in tx.query("SELECT id, body FROM journal_queue ORDER BY id", &[])? {
        let (id, body): (i64, String) = (row.get(0)?, row.get(1)?);
        let queued: Vec<Record> = serde_json::from_str(&body)
            .map_err(|e| Error::internal_from(format!("journal record {id} is malformed"), e))?;
        records.extend(queued);
    }
    Ok(records)
}

/// How many commands' records wait to be sealed, and the oldest one's queue id and time.
pub(crate) fn unsealed(tx: &mut Tx<'_>) -> Result<(i64, Option<(i64, Timestamp)>)> {
    if tx.backend() == Backend::Sqlite {
        return Ok((0, None));
    }
    let row = tx.query_one(
        "SELECT COUNT(*), MIN(id), (SELECT queued_at FROM journal_queue ORDER BY id LIMIT 1) FROM journal_queue",
        &[],
    )?;
    let oldest = match (row.get::<Option<i64>>(1)?, row.get::<Option<Timestamp>>(2)?) {
        (Some(id), Some(at)) => Some((id, at)),
        _ => None,
    };
    Ok((row.get(0)?, oldest))
}

/// An event's stored fields, as a check of the log reads them: sealed, or queued with the
/// seq the next sealer would give it.
pub(crate) struct EventRow {
    pub seq: i64,
    pub event_type: String,
    pub aggregate_id: String,
    pub payload: String,
    pub actor: String,
    pub occurred_at: Timestamp,
}

/// The events of the queued records, numbered on from `head` as sealing them now would:
/// with them, a check of the projections sees the log as the changes made so far say.
pub(crate) fn pending_events(tx: &mut Tx<'_>, head: i64) -> Result<Vec<EventRow>> {
    let records = queued(tx)?.into_iter();
    let events = records.flat_map(|r| {
        r.events
            .into_iter()
            .map(move |(event_type, payload)| (event_type, payload, r.entity_id.clone(), r.actor.clone(), r.at))
    });
    Ok((head + 1..)
        .zip(events)
        .map(|(seq, (event_type, payload, aggregate_id, actor, occurred_at))| EventRow {
            seq,
            event_type,
            aggregate_id,
            payload,
            actor,
            occurred_at,
        })
        .collect())
}
