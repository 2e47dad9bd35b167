//! The one place a change is recorded: its event and its audit record, written in the
//! transaction of the change itself so none of the three can exist without the others.

use jiff::Timestamp;

use crate::{
    Actor, Result,
    audit::{self, AuditEntry},
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

/// Appends the change's events and its audit record. Their seqs are claimed so that appends
/// are serialised and commit in `seq` order (see [`Tx::claim_event_seqs`]). Returns the
/// `seq` of the first event; the others follow it one by one, in the order given.
pub(crate) fn record(tx: &mut Tx<'_>, actor: &Actor, change: Change<'_>, at: Timestamp) -> Result<i64> {
    let count = change.events.len() as i64;
    let first = tx.claim_event_seqs(count)?;
    for (seq, (event_type, payload)) in (first..).zip(&change.events) {
        events::append(tx, seq, actor, *event_type, change.entity, payload, at)?;
    }
    let entry = AuditEntry { action: change.action, entity: change.entity, before: change.before, after: change.after };
    audit::append(tx, actor, &entry, at)?;
    Ok(first)
}
