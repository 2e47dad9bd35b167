//! The event log: what happened, in commit order, for every consumer (notifications,
//! projections, webhooks, `events tail`). Rows are only ever appended.

use jiff::Timestamp;
use serde::Serialize;

use crate::{
    Action, Actor, Error, Result, Store,
    audit::chain::EventFields,
    db::{Filter, Row, Tx, params},
    named::named,
    page,
};

named! {
    /// The kinds of event; their names are part of the public contract.
    EventType, "event type" {
        ProductCreated = "ProductCreated",
        ProductUpdated = "ProductUpdated",
        ProductDeleted = "ProductDeleted",
        ProductPriceChanged = "ProductPriceChanged",
        CategoryCreated = "CategoryCreated",
        WarehouseCreated = "WarehouseCreated",
        InventoryChanged = "InventoryChanged",
        InventoryReserved = "InventoryReserved",
        InventoryReleased = "InventoryReleased",
        InventoryThresholdSet = "InventoryThresholdSet",
        InventoryThresholdReached = "InventoryThresholdReached",
        OrderCreated = "OrderCreated",
        OrderStatusChanged = "OrderStatusChanged",
        OrderPaymentReceived = "OrderPaymentReceived",
        OrderCancelled = "OrderCancelled",
        OrderFulfilled = "OrderFulfilled",
        OrderReturned = "OrderReturned",
        OrderRefunded = "OrderRefunded",
        OrderUpdated = "OrderUpdated",
        EmailNotificationRequested = "EmailNotificationRequested",
        SmsNotificationRequested = "SmsNotificationRequested",
        PushNotificationRequested = "PushNotificationRequested",
        NotificationDelivered = "NotificationDelivered",
        NotificationFailed = "NotificationFailed",
        UserCreated = "UserCreated",
        UserUpdated = "UserUpdated",
        ApiTokenCreated = "ApiTokenCreated",
        ApiTokenRevoked = "ApiTokenRevoked",
    }
}

/// One row of the event log.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub seq: i64,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub payload: serde_json::Value,
    pub actor: String,
    #[serde(serialize_with = "crate::clock::wire")]
    pub occurred_at: Timestamp,
}

const COLUMNS: &str = "seq, event_type, aggregate_type, aggregate_id, payload, actor, occurred_at";

fn from_row(row: &Row) -> Result<Event> {
    let event_type: String = row.get(1)?;
    let payload: String = row.get(4)?;
    Ok(Event {
        seq: row.get(0)?,
        event_type: event_type
            .parse()
            .map_err(|e: Error| Error::internal_from("a stored event has an unknown type", e))?,
        aggregate_type: row.get(2)?,
        aggregate_id: row.get(3)?,
        payload: serde_json::from_str(&payload).map_err(|e| Error::internal_from("event payload", e))?,
        actor: row.get(5)?,
        occurred_at: row.get(6)?,
    })
}

/// Appends one event with the `seq` the journal handed out, chained to the event before
/// it; returns its hash.
pub(crate) fn append(tx: &mut Tx<'_>, event: &EventFields<'_>, prev_hash: &str) -> Result<String> {
    let hash = event.hash(prev_hash);
    tx.execute(
        "INSERT INTO events (seq, event_type, aggregate_type, aggregate_id, payload, actor, occurred_at, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![
            event.seq,
            event.event_type,
            event.aggregate_type,
            event.aggregate_id,
            event.payload,
            event.actor,
            event.occurred_at,
            hash.as_str()
        ],
    )?;
    Ok(hash)
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only events with a `seq` greater than this.
    pub since: Option<i64>,
    pub event_type: Option<EventType>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// Up to `limit` events after `since` (of one type, if given), in `seq` order: the
/// gap-safe read every consumer resumes from.
pub(crate) fn after(tx: &mut Tx<'_>, since: i64, event_type: Option<EventType>, limit: i64) -> Result<Vec<Event>> {
    let mut filter = Filter::default();
    filter.on_key("seq > {}", since);
    filter.and_some("event_type = {}", event_type.map(|t| t.as_str()));
    let sql = filter.page(COLUMNS, "events", "seq", "ASC", limit);
    tx.query(&sql, filter.params())?.iter().map(from_row).collect()
}

/// Read access to the event log.
#[derive(Debug, Clone, Copy)]
pub struct Events<'s> {
    pub(crate) store: &'s Store,
}

impl Events<'_> {
    /// Events in `seq` order after `filter.since`. Appends commit in `seq` order (see
    /// `journal`), so a reader that resumes after the last `seq` it saw never skips one.
    pub fn list(&self, actor: &Actor, filter: &EventFilter) -> Result<Vec<Event>> {
        actor.authorize(Action::EventsRead)?;
        let limit = i64::from(page::limit(Some(filter.limit.unwrap_or(100)))?);
        self.store.pool.read(|tx| after(tx, filter.since.unwrap_or(0), filter.event_type, limit))
    }

    /// The newest `limit` events (of one type, if given), oldest first: where a tail starts.
    pub fn newest(&self, actor: &Actor, event_type: Option<EventType>, limit: u32) -> Result<Vec<Event>> {
        actor.authorize(Action::EventsRead)?;
        let limit = i64::from(page::limit(Some(limit))?);
        self.store.pool.read(|tx| {
            let mut filter = Filter::default();
            filter.and_some("event_type = {}", event_type.map(|t| t.as_str()));
            let sql = filter.page(COLUMNS, "events", "seq", "DESC", limit);
            let mut events = tx.query(&sql, filter.params())?.iter().map(from_row).collect::<Result<Vec<_>>>()?;
            events.reverse();
            Ok(events)
        })
    }
}
