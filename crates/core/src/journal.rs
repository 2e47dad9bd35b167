//! The one place a change is recorded: its event and its audit record, written in the
//! transaction of the change itself so none of the three can exist without the others.
//! Both are hash-chained here (see [`audit::chain`]).

use jiff::{Timestamp, Unit};

use crate::{
    Actor, Error, Result,
    audit::{
        self, AuditEntry,
        chain::{self, EventFields, Head},
    },
    db::Tx,
    events::{self, EventType},
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

/// Appends the change's events and its audit record, each chained to the one before and the
/// audit record covering the last event. Their seqs are claimed so that appends are
/// serialised and commit in `seq` order (see [`Tx::claim_event_seqs`]); the chain heads are
/// read only after that claim, under its lock. Returns the `seq` of the first event; the
/// others follow it one by one, in the order given.
pub(crate) fn record(tx: &mut Tx<'_>, actor: &Actor, change: Change<'_>, at: Timestamp) -> Result<i64> {
    if actor.idempotency_key().is_some() && !tx.is_keyed() {
        return Err(Error::invalid(
            "idempotency key",
            format!(
                "{} takes none: only order create, order pay, reserve and stock adjust, receive and transfer do",
                change.action
            ),
        ));
    }
    let count = change.events.len() as i64;
    let first = tx.claim_event_seqs(count)?;
    // Stored at the precision both backends keep, so the hashes recompute from what is read.
    let at = at.round(Unit::Microsecond).unwrap_or(at);
    let mut heads = chain::heads(tx)?;
    let actor_name = actor.to_string();
    let payloads: Vec<String> = change.events.iter().map(|(_, payload)| payload.to_string()).collect();
    let fields: Vec<EventFields<'_>> = (first..)
        .zip(change.events.iter().zip(&payloads))
        .map(|(seq, ((event_type, _), payload))| EventFields {
            seq,
            event_type: event_type.as_str(),
            aggregate_type: change.entity.0,
            aggregate_id: change.entity.1,
            payload,
            actor: &actor_name,
            occurred_at: at,
        })
        .collect();
    if let Some(last) = fields.last() {
        heads.events = Head { seq: last.seq, hash: events::append(tx, &fields, &heads.events.hash)? };
    }
    let entry = AuditEntry { action: change.action, entity: change.entity, before: change.before, after: change.after };
    heads.audit = audit::append(tx, actor, &entry, at, &heads)?;
    chain::move_heads(tx, &heads)?;
    tx.journaled();
    Ok(first)
}
