//! Picking an order: each scan records units of one line picked at one of its warehouses,
//! in the order's own step (the order row locked), with a guarded write that never passes
//! the allocation — so pickers scanning the same order at once can never over-pick. The
//! first pick moves a paid order to `picking`; the pick that completes every allocation
//! moves it to `packed`, in the same transaction.

use serde_json::json;

use super::{
    Order, OrderLine, OrderStatus, Orders,
    lifecycle::{At, move_to},
    records,
};
use crate::{
    Action, Actor, Conflict, Error, ProductId, Result,
    db::{Tx, params},
    events::EventType,
    warehouses,
};

/// The most orders [`Orders::to_pick`] gives when not told.
const TO_PICK_DEFAULT: u32 = 100;

impl Orders<'_> {
    /// Records a pick of `quantity` units of the line whose SKU (any case) or product
    /// barcode is `code`, at `warehouse` — by default the only warehouse serving that line
    /// where the actor may pick. Authorised at that warehouse alone: a user scoped to
    /// warehouses picks its own lines of an order served from several. Appends
    /// `OrderPicked`; a paid order becomes `picking`, and `packed` once every allocation is
    /// picked. A refused pick changes nothing.
    pub fn pick(&self, actor: &Actor, key: &str, code: &str, quantity: i64, warehouse: Option<&str>) -> Result<Order> {
        if quantity <= 0 {
            return Err(Error::invalid("quantity", format!("{quantity} is not a positive whole number")));
        }
        let code = code.trim();
        if code.is_empty() {
            return Err(Error::invalid("sku", "name the SKU or barcode picked"));
        }
        self.step(actor, key, At::OneWarehouse(Action::OrderPick), None, |tx, order, events, now| {
            authorize_somewhere(actor, order)?;
            if !matches!(order.status, OrderStatus::Paid | OrderStatus::Picking) {
                return Err(Error::conflict(
                    Conflict::Refused,
                    format!(
                        "order {} is {}: only a paid order, or one being picked, takes picks",
                        order.number, order.status
                    ),
                ));
            }
            let line = line_of(tx, order, code)?;
            let at = allocation_of(actor, order, &line, warehouse)?;
            let allocation = &order.allocations[at];
            let left = allocation.quantity - allocation.picked;
            if quantity > left {
                let (number, sku, place) = (order.number, &allocation.sku, &allocation.warehouse);
                let message = if left == 0 {
                    format!("order {number} has all {} of {sku} at {place} picked already", allocation.quantity)
                } else {
                    format!("order {number} needs {left} more of {sku} at {place}, not {quantity}")
                };
                return Err(Error::conflict(Conflict::Refused, message));
            }
            let by = actor.to_string();
            if !records::add_pick(tx, order.id, line.product_id, allocation, quantity, &by, now)? {
                // The order row's lock makes this unreachable; the guard holds regardless.
                let (number, sku, place) = (order.number, &allocation.sku, &allocation.warehouse);
                let message = format!("order {number}: {quantity} more of {sku} at {place} would pass its allocation");
                return Err(Error::conflict(Conflict::Refused, message));
            }
            let allocation = &mut order.allocations[at];
            allocation.picked += quantity;
            (allocation.picked_by, allocation.picked_at) = (Some(by), Some(now));
            events.push((
                EventType::OrderPicked,
                json!({
                    "order_id": order.id, "number": order.number, "sku": allocation.sku,
                    "warehouse": allocation.warehouse, "quantity": quantity, "picked": allocation.picked,
                    "of": allocation.quantity,
                }),
            ));
            if order.status == OrderStatus::Paid {
                move_to(tx, actor, order, OrderStatus::Picking, None, events, now)?;
            }
            if order.allocations.iter().all(|a| a.picked == a.quantity) {
                move_to(tx, actor, order, OrderStatus::Packed, None, events, now)?;
            }
            Ok(())
        })
    }

    /// The orders to pick at `warehouse`: paid or being picked, with units still to pick
    /// there; oldest first (by number), at most `limit` (1 to 1000, default 100). Only for
    /// who may pick there; a scoped picker sees an order served from other warehouses too,
    /// since its lines here are its to pick.
    pub fn to_pick(&self, actor: &Actor, warehouse: &str, limit: Option<u32>) -> Result<Vec<Order>> {
        actor.authorize_at(Action::OrderPick, warehouse)?;
        let limit = crate::page::limit(Some(limit.unwrap_or(TO_PICK_DEFAULT)))?;
        self.store.pool.read(|tx| {
            let warehouse = warehouses::require(tx, warehouse)?;
            let keyring = self.store.keyring(tx)?;
            records::to_pick(tx, &keyring, actor, warehouse.id, limit)
        })
    }
}

/// Refuses packing an order whose picking was started and not finished: what was picked
/// says that the rest is still on the shelves. An order never picked packs as before.
pub(super) fn check_packable(order: &Order) -> Result<()> {
    let (picked, of) = order.allocations.iter().fold((0, 0), |(p, q), a| (p + a.picked, q + a.quantity));
    if picked > 0 && picked < of {
        return Err(Error::conflict(
            Conflict::Refused,
            format!("order {} has {picked} of {of} units picked: pick the rest first", order.number),
        ));
    }
    Ok(())
}

/// The order's line a scanned code names: its SKU (any case), or its product's barcode.
fn line_of(tx: &mut Tx<'_>, order: &Order, code: &str) -> Result<OrderLine> {
    if let Some(line) = order.lines.iter().find(|l| l.sku.eq_ignore_ascii_case(code)) {
        return Ok(line.clone());
    }
    let products = tx.query("SELECT id FROM products WHERE barcode = $1", params![code])?;
    for row in &products {
        let id: ProductId = row.get(0)?;
        if let Some(line) = order.lines.iter().find(|l| l.product_id == id) {
            return Ok(line.clone());
        }
    }
    Err(Error::invalid("sku", format!("{code} is not on order {}", order.number)))
}

/// Refuses an actor that may pick at none of the order's warehouses, before it learns
/// anything of the order's lines.
fn authorize_somewhere(actor: &Actor, order: &Order) -> Result<()> {
    if order.allocations.iter().any(|a| actor.in_scope(&a.warehouse)) {
        return Ok(());
    }
    let first = order.allocations.first().map(|a| a.warehouse.as_str()).unwrap_or_default();
    actor.authorize_at(Action::OrderPick, first)
}

/// Which of the line's allocations a pick is at (its index in the order's): the warehouse
/// named, or else the only one where the actor may pick. Refuses the actor a warehouse
/// outside its scope.
fn allocation_of(actor: &Actor, order: &Order, line: &OrderLine, warehouse: Option<&str>) -> Result<usize> {
    let serving: Vec<usize> = (0..order.allocations.len()).filter(|&i| order.allocations[i].sku == line.sku).collect();
    let at = |i: &usize| order.allocations[*i].warehouse.as_str();
    let places = |of: &[usize]| {
        let codes: Vec<&str> = of.iter().map(at).collect();
        match codes.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => codes.concat(),
        }
    };
    let (number, sku) = (order.number, &line.sku);
    let chosen = match warehouse.map(str::trim) {
        Some(code) => serving.iter().copied().find(|i| at(i).eq_ignore_ascii_case(code)).ok_or_else(|| {
            let reason = format!("order {number} has no {sku} to pick at {code}, only at {}", places(&serving));
            Error::invalid("warehouse", reason)
        })?,
        None => {
            let mine: Vec<usize> = serving.iter().copied().filter(|i| actor.in_scope(at(i))).collect();
            match mine.as_slice() {
                [one] => *one,
                // None of them is the actor's: refused below.
                [] => {
                    serving.first().copied().ok_or_else(|| Error::internal(format!("order {number} holds no {sku}")))?
                }
                _ => {
                    let reason = format!("order {number} has {sku} at {}: name the warehouse picked at", places(&mine));
                    return Err(Error::invalid("warehouse", reason));
                }
            }
        }
    };
    actor.authorize_at(Action::OrderPick, at(&chosen))?;
    Ok(chosen)
}
