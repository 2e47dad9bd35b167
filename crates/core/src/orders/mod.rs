//! Orders: customer details (sealed at rest, found by blind index), lines priced when the
//! order is placed, the reservation that holds their stock, payments, fulfilment, cancel,
//! returns and refunds — each step one transaction with its events and audit record, so
//! no step is ever half done: a crash at any point leaves the order as it was before it.

mod lifecycle;
mod picking;
mod placement;
pub(crate) mod records;
mod sheets;
mod states;

pub use lifecycle::{OrderPatch, ReturnLine};
pub use placement::NewOrder;
pub(crate) use records::open_orders_of;
pub use states::OrderStatus;

use jiff::Timestamp;
use serde::{Serialize, Serializer};

use crate::{Action, Actor, Error, Money, OrderId, ProductId, Result, Store};

/// The customer of an order: personal data, encrypted at rest.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Customer {
    pub email: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// One line: a product, how many, and its unit price when the order was placed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderLine {
    pub sku: String,
    pub product_id: ProductId,
    pub quantity: i64,
    #[serde(serialize_with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12.50"))]
    pub unit_price: Money,
    #[serde(serialize_with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12.50"))]
    pub line_total: Money,
}

/// Which warehouse serves how much of a line, and how much of it is picked there.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allocation {
    pub sku: String,
    pub warehouse: String,
    pub quantity: i64,
    /// Units picked so far (0 until the first pick).
    pub picked: i64,
    /// Who picked last, as people read it (`staff` to a client).
    pub picked_by: Option<String>,
    /// When the last pick was.
    #[serde(serialize_with = "crate::clock::wire_opt")]
    pub picked_at: Option<Timestamp>,
}

impl Allocation {
    /// A warehouse line as placed: nothing picked yet.
    pub(crate) fn unpicked(sku: String, warehouse: String, quantity: i64) -> Self {
        Self { sku, warehouse, quantity, picked: 0, picked_by: None, picked_at: None }
    }
}

/// One step of the status history.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub actor: String,
    pub note: Option<String>,
    #[serde(serialize_with = "crate::clock::wire")]
    pub at: Timestamp,
}

/// A payment received.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payment {
    #[serde(serialize_with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12.50"))]
    pub amount: Money,
    pub reference: Option<String>,
    pub actor: String,
    #[serde(serialize_with = "crate::clock::wire")]
    pub at: Timestamp,
}

/// Goods coming back: requested, or received and restocked or written off.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Returned {
    pub sku: String,
    pub warehouse: String,
    pub quantity: i64,
    /// `restock` or `scrap`.
    pub disposition: &'static str,
    pub received: bool,
}

/// An order as `order show` and `GET /api/v1/orders/{id}` give it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    pub id: OrderId,
    /// Human-readable and never reused.
    pub number: i64,
    pub status: OrderStatus,
    pub customer: Customer,
    pub lines: Vec<OrderLine>,
    pub allocations: Vec<Allocation>,
    pub currency: crate::Currency,
    #[serde(serialize_with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12.50"))]
    pub total: Money,
    #[serde(serialize_with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12.50"))]
    pub paid: Money,
    #[serde(serialize_with = "amount")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12.50"))]
    pub refunded: Money,
    /// A paid order was cancelled: its money is owed back.
    pub refund_due: bool,
    pub reservation_id: crate::ReservationId,
    pub tracking_number: Option<String>,
    pub notes: Option<String>,
    pub version: i64,
    /// Who placed it.
    pub owner: String,
    pub history: Vec<StatusChange>,
    pub payments: Vec<Payment>,
    pub returns: Vec<Returned>,
    #[serde(serialize_with = "crate::clock::wire")]
    pub created_at: Timestamp,
    #[serde(serialize_with = "crate::clock::wire")]
    pub updated_at: Timestamp,
}

/// Why each line is served from where it is (`order show --explain`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineExplanation {
    pub sku: String,
    pub quantity: i64,
    /// (warehouse, quantity) serving the line.
    pub served_from: Vec<Allocation>,
    pub reason: String,
}

/// Which orders to list.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    pub status: Option<OrderStatus>,
    /// Only this customer's orders (found by blind index, never by plaintext).
    pub customer: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn amount<S: Serializer>(money: &Money, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&money.amount())
}

/// Order operations on a store.
#[derive(Debug, Clone, Copy)]
pub struct Orders<'s> {
    pub(crate) store: &'s Store,
}

impl Orders<'_> {
    /// One order by id or number. A `client` sees only its own: any other is not found. A
    /// scoped actor is refused one served from outside its warehouses.
    pub fn order(&self, actor: &Actor, key: &str) -> Result<Order> {
        actor.authorize(Action::OrderRead)?;
        let order = self.store.pool.read(|tx| {
            let keyring = self.store.keyring(tx)?;
            records::find(tx, &keyring, actor, key, false)
        })?;
        records::authorize_at_order(actor, Action::OrderRead, &order)?;
        Ok(order)
    }

    /// Orders, newest first, one page at a time: a `client`'s own, a scoped actor's those
    /// served wholly from its warehouses.
    pub fn list(&self, actor: &Actor, query: &OrderQuery) -> Result<crate::Page<Order>> {
        actor.authorize(Action::OrderRead)?;
        let status = query.status;
        self.store.pool.read(|tx| {
            let keyring = self.store.keyring(tx)?;
            records::list(tx, &keyring, actor, status, query)
        })
    }

    /// How many orders placed at or after `since` stand in each status now — every status,
    /// zeros included, in [`OrderStatus::ALL`] order — counting only the orders the actor
    /// may list (as [`Orders::list`] would). For a dashboard.
    pub fn status_counts(&self, actor: &Actor, since: Timestamp) -> Result<Vec<(OrderStatus, i64)>> {
        actor.authorize(Action::OrderRead)?;
        self.store.pool.read(|tx| records::status_counts(tx, actor, since))
    }

    /// Why each line is served from the warehouses it is.
    pub fn explain(&self, actor: &Actor, key: &str) -> Result<Vec<LineExplanation>> {
        let order = self.order(actor, key)?;
        let reason = self.store.pool.read(|tx| records::allocation_reason(tx, order.reservation_id))?;
        Ok(order
            .lines
            .iter()
            .map(|line| {
                let served_from: Vec<Allocation> =
                    order.allocations.iter().filter(|a| a.sku == line.sku).cloned().collect();
                let places: Vec<String> =
                    served_from.iter().map(|a| format!("{} from {}", a.quantity, a.warehouse)).collect();
                LineExplanation {
                    sku: line.sku.clone(),
                    quantity: line.quantity,
                    reason: format!("{} × {}: {} — {reason}", line.quantity, line.sku, places.join(", ")),
                    served_from,
                }
            })
            .collect())
    }
}

/// An order id, or its number.
pub(crate) enum OrderKey {
    Id(OrderId),
    Number(i64),
}

impl OrderKey {
    pub fn parse(key: &str) -> Result<Self> {
        let key = key.trim();
        match key.parse::<i64>() {
            Ok(n) if n > 0 => Ok(OrderKey::Number(n)),
            _ => key
                .parse::<OrderId>()
                .map(OrderKey::Id)
                .map_err(|_| Error::invalid("order", format!("{key:?} is neither an order id nor an order number"))),
        }
    }
}
