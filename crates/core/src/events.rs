//! The event log: what happened, in commit order, for every consumer (notifications,
//! projections, webhooks, `events tail`, the server's event stream). Rows are only ever
//! appended. A reader sees an event only if it may read what the event is about (see
//! [`Events::read`]).

use jiff::Timestamp;
use serde::Serialize;

use crate::{
    Action, Actor, Error, Result, Role, Store,
    db::{Filter, Row, Tx},
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
        OrderPicked = "OrderPicked",
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

/// The events about stock at one warehouse: their payload names it (`warehouse`).
const STOCK: [EventType; 5] = [
    EventType::InventoryChanged,
    EventType::InventoryReserved,
    EventType::InventoryReleased,
    EventType::InventoryThresholdSet,
    EventType::InventoryThresholdReached,
];

impl EventType {
    /// The action that reads what an event of this type is about: who may do it may see
    /// the event (within its warehouses, and a client only its own orders and reservations).
    pub fn read_action(self) -> Action {
        use EventType::*;
        match self {
            ProductCreated | ProductUpdated | ProductDeleted | ProductPriceChanged => Action::ProductRead,
            CategoryCreated => Action::CategoryRead,
            WarehouseCreated => Action::WarehouseRead,
            // The ledger's movements name who moved stock and why: staff only.
            InventoryChanged
            | InventoryReserved
            | InventoryReleased
            | InventoryThresholdSet
            | InventoryThresholdReached => Action::StockHistory,
            OrderCreated | OrderStatusChanged | OrderPaymentReceived | OrderCancelled | OrderFulfilled
            | OrderReturned | OrderRefunded | OrderUpdated | OrderPicked => Action::OrderRead,
            EmailNotificationRequested
            | SmsNotificationRequested
            | PushNotificationRequested
            | NotificationDelivered
            | NotificationFailed => Action::NotifyRead,
            UserCreated | UserUpdated | ApiTokenCreated | ApiTokenRevoked => Action::UserRead,
        }
    }
}

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

/// The warehouse code a stock event's payload names: beside the event, it decides who may
/// read it (see [`Events::read`]).
pub(crate) fn warehouse_of(event_type: &str, payload: &str) -> Result<Option<String>> {
    if !STOCK.iter().any(|t| t.as_str() == event_type) {
        return Ok(None);
    }
    let payload: serde_json::Value =
        serde_json::from_str(payload).map_err(|e| Error::internal_from("event payload", e))?;
    Ok(payload.get("warehouse").and_then(serde_json::Value::as_str).map(str::to_owned))
}

/// Up to `limit` events after `since` (of one type, if given), in `seq` order: the
/// gap-safe read every internal consumer resumes from.
pub(crate) fn after(tx: &mut Tx<'_>, since: i64, event_type: Option<EventType>, limit: i64) -> Result<Vec<Event>> {
    let mut filter = Filter::default();
    filter.on_key("seq > {}", since);
    filter.and_some("event_type = {}", event_type.map(|t| t.as_str()));
    let sql = filter.page(COLUMNS, "events", "seq", "ASC", limit);
    tx.query(&sql, filter.params())?.iter().map(from_row).collect()
}

/// Limits `filter` to the events `actor` may see: every event of a type whose subject it
/// reads everywhere; a stock event at one of its warehouses; an order event of an order
/// served wholly from its warehouses (as `order list` shows a scoped user); and, for a
/// client, the events of its own orders and reservations. No condition for one who sees
/// everything.
fn visible_to(filter: &mut Filter, actor: &Actor) {
    let (role, scope) = (actor.role(), actor.scope());
    let client = role == Role::Client;
    let allowed = |t: &EventType| t.read_action().roles().contains(&role);
    let scoped = |t: &EventType| t.read_action().at_warehouse() && !scope.is_empty();
    let whole: Vec<EventType> = EventType::ALL
        .iter()
        .filter(|t| allowed(t) && !scoped(t) && !(client && t.read_action().own_only_for_clients()))
        .copied()
        .collect();
    if whole.len() == EventType::ALL.len() {
        return;
    }
    let types = |filter: &mut Filter, types: &[EventType]| -> String {
        let placeholders: Vec<String> = types.iter().map(|t| filter.bind(t.as_str())).collect();
        format!("event_type IN ({})", placeholders.join(", "))
    };
    let codes = |filter: &mut Filter| -> String {
        scope.iter().map(|code| filter.bind(code.to_ascii_uppercase())).collect::<Vec<_>>().join(", ")
    };
    let mut any = vec![types(filter, &whole)];
    let at_warehouses: Vec<EventType> = EventType::ALL.iter().filter(|t| allowed(t) && scoped(t)).copied().collect();
    let (stock, orders): (Vec<EventType>, Vec<EventType>) =
        at_warehouses.into_iter().partition(|t| t.read_action() == Action::StockHistory);
    if !stock.is_empty() {
        let types = types(filter, &stock);
        any.push(format!("({types} AND warehouse IN ({}))", codes(filter)));
    }
    if !orders.is_empty() && !client {
        let types = types(filter, &orders);
        any.push(format!(
            "({types} AND NOT EXISTS (SELECT 1 FROM orders o JOIN reservation_lines l ON l.reservation_id = o.reservation_id
                                  JOIN warehouses w ON w.id = l.warehouse_id
                                  WHERE o.id = events.aggregate_id AND w.code NOT IN ({})))",
            codes(filter)
        ));
    }
    if client {
        any.push(format!("owner = {}", filter.bind(actor.principal())));
    }
    filter.push(format!("({})", any.join(" OR ")));
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

/// One read of the log: the events the reader may see, and the seq it has read through —
/// where the next read starts, past events it may not see, so a filtered reader never
/// reads the same stretch twice.
#[derive(Debug, Clone, PartialEq)]
pub struct EventBatch {
    pub events: Vec<Event>,
    /// Every event up to here has committed and was read (or passed over as unseen).
    pub through: i64,
}

/// Read access to the event log.
#[derive(Debug, Clone, Copy)]
pub struct Events<'s> {
    pub(crate) store: &'s Store,
}

impl Events<'_> {
    /// Events the actor may see, in `seq` order after `filter.since`.
    pub fn list(&self, actor: &Actor, filter: &EventFilter) -> Result<Vec<Event>> {
        Ok(self.read(actor, filter)?.events)
    }

    /// Events the actor may see after `filter.since`, and how far the read went. Appends
    /// commit in `seq` order (see `journal`), so every seq up to the newest committed when
    /// the read began has committed: the read goes no further than that head, and a reader
    /// that resumes from `through` never skips an event, however late it commits.
    pub fn read(&self, actor: &Actor, filter: &EventFilter) -> Result<EventBatch> {
        actor.authorize(Action::EventsRead)?;
        let limit = page::limit(Some(filter.limit.unwrap_or(100)))?;
        let since = filter.since.unwrap_or(0);
        self.store.pool.read(|tx| {
            let head = tx.last_event_seq()?;
            let mut query = Filter::default();
            query.on_key("seq > {}", since);
            query.on_key("seq <= {}", head);
            query.and_some("event_type = {}", filter.event_type.map(|t| t.as_str()));
            visible_to(&mut query, actor);
            let sql = query.page(COLUMNS, "events", "seq", "ASC", i64::from(limit));
            let events = tx.query(&sql, query.params())?.iter().map(from_row).collect::<Result<Vec<_>>>()?;
            let through = match events.last() {
                Some(last) if events.len() == limit as usize => last.seq,
                _ => head.max(since),
            };
            Ok(EventBatch { events, through })
        })
    }

    /// The newest `limit` events the actor may see (of one type, if given), oldest first:
    /// where a tail starts.
    pub fn newest(&self, actor: &Actor, event_type: Option<EventType>, limit: u32) -> Result<Vec<Event>> {
        actor.authorize(Action::EventsRead)?;
        let limit = i64::from(page::limit(Some(limit))?);
        self.store.pool.read(|tx| {
            let mut filter = Filter::default();
            filter.and_some("event_type = {}", event_type.map(|t| t.as_str()));
            visible_to(&mut filter, actor);
            let sql = filter.page(COLUMNS, "events", "seq", "DESC", limit);
            let mut events = tx.query(&sql, filter.params())?.iter().map(from_row).collect::<Result<Vec<_>>>()?;
            events.reverse();
            Ok(events)
        })
    }
}
