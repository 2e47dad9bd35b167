//! Inventory: an event-sourced stock ledger. Every change appends a movement and its
//! `InventoryChanged` event and updates the stock-level projection in one transaction;
//! replay rebuilds the projection from the event log and verify compares the two.

pub mod allocation;
mod ledger;
mod levels;
mod replay;
pub(crate) mod reservations;
mod rules;
mod sheets;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;

pub(crate) use ledger::movement;
pub use levels::{Movement, ReorderSuggestion, StockQuery};
pub use replay::{Difference, ReplayReport, VerifyReport};
pub use reservations::{Hold, MAX_LINES, Reservation, ReservationLine, ReservationStatus, ReserveRequest};
pub use sheets::StockImport;

use self::{
    ledger::{Command, Item, Line, OnHand},
    rules::Counts,
};
use crate::{
    Action, Actor, Conflict, Error, ProductId, Result, Store, catalog, db::Tx, events::EventType, idempotency,
    named::named, validate, warehouses,
};

/// Stock of one product in one warehouse, as `stock show` and the HTTP API give it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockLevel {
    pub product_id: ProductId,
    pub sku: String,
    /// The warehouse's code.
    pub warehouse: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    pub reorder_point: i64,
    pub reorder_qty: i64,
}

impl StockLevel {
    fn new(item: &Item, counts: &Counts) -> Self {
        Self {
            product_id: item.product_id,
            sku: item.sku.clone(),
            warehouse: item.warehouse.clone(),
            on_hand: counts.on_hand,
            reserved: counts.reserved,
            available: counts.available(),
            reorder_point: counts.reorder_point,
            reorder_qty: counts.reorder_qty,
        }
    }

    /// Whether available stock is at or below a set reorder point.
    pub fn is_low(&self) -> bool {
        self.counts().is_low()
    }

    fn counts(&self) -> Counts {
        Counts {
            on_hand: self.on_hand,
            reserved: self.reserved,
            reorder_point: self.reorder_point,
            reorder_qty: self.reorder_qty,
        }
    }
}

named! {
    /// Why a movement happened.
    MovementKind, "movement kind" {
        Receive = "receive",
        Adjust = "adjust",
        Count = "count",
        TransferOut = "transfer_out",
        TransferIn = "transfer_in",
        /// Stock held for a reservation: reserved goes up, on-hand stays.
        Reserve = "reserve",
        /// A reservation let go (released, or expired): reserved goes down.
        Release = "release",
        /// A reservation consumed at shipment: on-hand and reserved both go down.
        Ship = "ship",
        /// Shipped goods that came back and were restocked: on-hand goes up.
        Return = "return",
    }
}

impl MovementKind {
    /// The event a movement of this kind appends; replay folds all three the same way.
    fn event_type(&self) -> EventType {
        match self {
            MovementKind::Reserve => EventType::InventoryReserved,
            MovementKind::Release => EventType::InventoryReleased,
            _ => EventType::InventoryChanged,
        }
    }

    /// The event's `reason` when the operator gave none: both sides of a transfer say
    /// `transfer`.
    fn reason(&self) -> &'static str {
        match self {
            MovementKind::TransferOut | MovementKind::TransferIn => "transfer",
            other => other.as_str(),
        }
    }
}

/// How `adjust` changes on-hand stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjustment {
    /// Add (or, negative, remove) this many.
    By(i64),
    /// Set on-hand to this figure.
    Set(i64),
}

/// Both sides of a transfer, after it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transfer {
    pub sku: String,
    pub quantity: i64,
    pub from: StockLevel,
    pub to: StockLevel,
}

/// A cycle count's outcome: the level after it and how far the books were off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counted {
    #[serde(flatten)]
    pub level: StockLevel,
    /// On-hand before the count.
    pub expected: i64,
    /// Counted minus expected.
    pub variance: i64,
}

/// Stock operations on a store.
#[derive(Debug, Clone, Copy)]
pub struct Inventory<'s> {
    pub(crate) store: &'s Store,
}

impl Inventory<'_> {
    /// Goods in: adds `quantity` to on-hand at `warehouse` (default `MAIN`).
    pub fn receive(
        &self,
        actor: &Actor,
        sku: &str,
        warehouse: Option<&str>,
        quantity: i64,
        reason: Option<&str>,
    ) -> Result<StockLevel> {
        let quantity = rules::positive("quantity", quantity)?;
        let reason = optional_reason(reason)?;
        self.single(
            actor,
            sku,
            warehouse,
            Action::StockReceive,
            MovementKind::Receive,
            OnHand::By(quantity),
            reason.as_deref(),
        )
    }

    /// Corrects on-hand by a signed amount or to a figure; `reason` is required.
    pub fn adjust(
        &self,
        actor: &Actor,
        sku: &str,
        warehouse: Option<&str>,
        adjustment: Adjustment,
        reason: &str,
    ) -> Result<StockLevel> {
        let on_hand = match adjustment {
            Adjustment::By(delta) => OnHand::By(rules::non_zero("by", delta)?),
            Adjustment::Set(target) => OnHand::Set(rules::non_negative("set", target)?),
        };
        let reason = validate::required("reason", reason, 200)?;
        self.single(actor, sku, warehouse, Action::StockAdjust, MovementKind::Adjust, on_hand, Some(&reason))
    }

    /// A cycle count: sets on-hand to what was counted and records the variance.
    pub fn count(&self, actor: &Actor, sku: &str, warehouse: Option<&str>, counted: i64) -> Result<Counted> {
        let counted = rules::non_negative("quantity", counted)?;
        actor.authorize_at(Action::StockCount, warehouse.unwrap_or(warehouses::MAIN))?;
        self.store.pool.write(|tx| {
            let item = item(tx, sku, warehouse)?;
            let id = item.product_id.to_string();
            let command = command(Action::StockCount, &id, None);
            let line = Line {
                item: item.clone(),
                kind: MovementKind::Count,
                on_hand: OnHand::Set(counted),
                reserved_delta: 0,
            };
            let applied = one(ledger::apply(tx, actor, command, vec![line], self.store.now())?)?;
            Ok(Counted {
                level: applied.level(),
                expected: applied.before.on_hand,
                variance: counted - applied.before.on_hand,
            })
        })
    }

    /// Moves stock between two warehouses atomically.
    pub fn transfer(&self, actor: &Actor, sku: &str, quantity: i64, from: &str, to: &str) -> Result<Transfer> {
        let quantity = rules::positive("quantity", quantity)?;
        actor.authorize_at(Action::StockTransfer, from)?;
        actor.authorize_at(Action::StockTransfer, to)?;
        self.store.pool.write(|tx| {
            let source = item(tx, sku, Some(from))?;
            let target = item(tx, sku, Some(to))?;
            if source.warehouse_id == target.warehouse_id {
                return Err(Error::invalid("to", format!("cannot transfer from {} to itself", source.warehouse)));
            }
            let id = source.product_id.to_string();
            let command = command(Action::StockTransfer, &id, None);
            let lines = vec![
                Line {
                    item: source,
                    kind: MovementKind::TransferOut,
                    on_hand: OnHand::By(-quantity),
                    reserved_delta: 0,
                },
                Line { item: target, kind: MovementKind::TransferIn, on_hand: OnHand::By(quantity), reserved_delta: 0 },
            ];
            let (from, to) = (lines[0].item.clone(), lines[1].item.clone());
            let args = json!({ "product": from.product_id, "from": from.warehouse_id, "to": to.warehouse_id, "quantity": quantity });
            idempotency::once(
                tx,
                actor,
                idempotency::Request { action: Action::StockTransfer, args: &args, at: self.store.now() },
                |tx| {
                    let [out, into] = <[_; 2]>::try_from(ledger::apply(tx, actor, command, lines, self.store.now())?)
                        .map_err(|_| Error::internal("a transfer applies two lines"))?;
                    Ok(Transfer { sku: out.item.sku.clone(), quantity, from: out.level(), to: into.level() })
                },
                |_| String::new(),
                |tx, _| Ok(Transfer { sku: from.sku.clone(), quantity, from: ledger::level(tx, &from)?, to: ledger::level(tx, &to)? }),
            )
        })
    }

    /// Sets the reorder point (and optionally the reorder quantity) of a level.
    pub fn set_threshold(
        &self,
        actor: &Actor,
        sku: &str,
        warehouse: Option<&str>,
        reorder_point: i64,
        reorder_qty: Option<i64>,
    ) -> Result<StockLevel> {
        let reorder_point = rules::non_negative("reorder point", reorder_point)?;
        let reorder_qty = reorder_qty.map(|q| rules::non_negative("reorder quantity", q)).transpose()?;
        actor.authorize_at(Action::StockThreshold, warehouse.unwrap_or(warehouses::MAIN))?;
        self.store.pool.write(|tx| {
            let item = item(tx, sku, warehouse)?;
            Ok(ledger::set_threshold(tx, actor, &item, reorder_point, reorder_qty, self.store.now())?.level())
        })
    }

    /// One on-hand change of one level.
    #[allow(clippy::too_many_arguments, reason = "the private funnel of the four public single-line operations")]
    fn single(
        &self,
        actor: &Actor,
        sku: &str,
        warehouse: Option<&str>,
        action: Action,
        kind: MovementKind,
        on_hand: OnHand,
        reason: Option<&str>,
    ) -> Result<StockLevel> {
        actor.authorize_at(action, warehouse.unwrap_or(warehouses::MAIN))?;
        self.store.pool.write(|tx| {
            let item = item(tx, sku, warehouse)?;
            let id = item.product_id.to_string();
            let command = command(action, &id, reason);
            let change = match on_hand {
                OnHand::By(by) => json!({ "by": by }),
                OnHand::Set(to) => json!({ "set": to }),
            };
            let args = json!({ "product": item.product_id, "warehouse": item.warehouse_id, "on_hand": change, "reason": reason });
            let line = Line { item: item.clone(), kind, on_hand, reserved_delta: 0 };
            idempotency::once(
                tx,
                actor,
                idempotency::Request { action, args: &args, at: self.store.now() },
                |tx| Ok(one(ledger::apply(tx, actor, command, vec![line], self.store.now())?)?.level()),
                |_| String::new(),
                |tx, _| ledger::level(tx, &item),
            )
        })
    }
}

/// Returned goods back on the shelf where they shipped from: one `return` movement per
/// (product id or SKU, warehouse, quantity), audited against the order.
pub(crate) fn restock(
    tx: &mut Tx<'_>,
    actor: &Actor,
    order: &str,
    lines: &[(String, String, i64)],
    at: Timestamp,
) -> Result<()> {
    let lines = lines
        .iter()
        .map(|(sku, warehouse, quantity)| {
            Ok(Line {
                item: item(tx, sku, Some(warehouse))?,
                kind: MovementKind::Return,
                on_hand: OnHand::By(*quantity),
                reserved_delta: 0,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let command = Command {
        action: Action::OrderReturn.as_str(),
        entity: ("order", order),
        reason: None,
        reference: Some(order),
    };
    ledger::apply(tx, actor, command, lines, at).map(drop)
}

/// The product (live, by SKU or id) and the active warehouse (default `MAIN`) a change names.
fn item(tx: &mut Tx<'_>, sku: &str, warehouse: Option<&str>) -> Result<Item> {
    let product = catalog::find_product(tx, sku, false)?;
    let warehouse = warehouses::require(tx, warehouse.unwrap_or(warehouses::MAIN))?;
    if !warehouse.active {
        return Err(Error::conflict(Conflict::Refused, format!("warehouse {} is inactive", warehouse.code)));
    }
    Ok(Item {
        product_id: product.id,
        sku: product.sku.to_string(),
        warehouse_id: warehouse.id,
        warehouse: warehouse.code,
    })
}

/// A change audited against the product, by id.
fn command<'a>(action: Action, product_id: &'a str, reason: Option<&'a str>) -> Command<'a> {
    Command { action: action.as_str(), entity: ("product", product_id), reason, reference: None }
}

fn one(applied: Vec<ledger::Applied>) -> Result<ledger::Applied> {
    applied.into_iter().next().ok_or_else(|| Error::internal("a stock change applied no line"))
}

fn optional_reason(reason: Option<&str>) -> Result<Option<String>> {
    match reason.map(str::trim) {
        None | Some("") => Ok(None),
        Some(r) => validate::line("reason", r, 200).map(Some),
    }
}

/// Stock still on hand for a product, per warehouse code: deleting it is refused while any.
pub(crate) fn on_hand_by_warehouse(tx: &mut Tx<'_>, product: ProductId) -> Result<Vec<(String, i64)>> {
    let rows = tx.query(
        "SELECT w.code, l.on_hand FROM stock_levels l JOIN warehouses w ON w.id = l.warehouse_id
         WHERE l.product_id = $1 AND l.on_hand > 0 ORDER BY w.code",
        crate::db::params![product],
    )?;
    rows.iter().map(|row| Ok((row.get(0)?, row.get(1)?))).collect()
}
