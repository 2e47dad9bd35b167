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

/// Appends the change's events and its audit record; returns the last event's `seq`.
pub(crate) fn record(tx: &mut Tx<'_>, actor: &Actor, change: Change<'_>, at: Timestamp) -> Result<i64> {
    let mut seq = 0;
    for (event_type, payload) in &change.events {
        seq = events::append(tx, actor, *event_type, change.entity, payload, at)?;
    }
    let entry = AuditEntry { action: change.action, entity: change.entity, before: change.before, after: change.after };
    audit::append(tx, actor, &entry, at)?;
    Ok(seq)
}
