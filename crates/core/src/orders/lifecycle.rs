//! An order after placement: payment, fulfilment (picking → packed → shipped, which consumes
//! exactly the reserved warehouse lines → delivered), cancellation (releasing the stock),
//! returns (restocked or written off) and refunds, and the sweep of unpaid orders. Each
//! step is one transaction: the order row locked, the state table asked, the stock moved,
//! the events and audit record appended.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{Customer, Order, OrderStatus, Orders, Payment, Returned, StatusChange, picking, placement, records};
use crate::{
    Action, Actor, Conflict, Error, Money, Result,
    crypto::Keyring,
    db::{Tx, params},
    events::EventType,
    idempotency,
    inventory::{
        self, ReservationStatus,
        reservations::{self, Closer},
    },
    journal::{self, Change},
    validate,
};

/// Orders cancelled per read of the unpaid sweep.
const SWEEP_BATCH: i64 = 100;

/// Changes to an order's customer details and notes: `None` leaves a field as it is; an
/// empty value clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct OrderPatch {
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub notes: Option<String>,
    /// Refuse unless the order is still at this version (HTTP `If-Match`).
    pub expected_version: Option<i64>,
}

/// One line of goods coming back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnLine {
    pub sku: String,
    pub quantity: i64,
    /// Written off instead of restocked.
    pub scrap: bool,
}

/// A step's events, gathered while it runs.
type Events = Vec<(EventType, Value)>;

/// What a step does, and where a user scoped to warehouses must be allowed to do it.
#[derive(Debug, Clone, Copy)]
pub(super) enum At {
    /// At every warehouse serving the order: taken only when all of them are the actor's.
    Order(Action),
    /// At the one warehouse the step acts at, which the step authorises itself once it
    /// knows it (a pick: its line's).
    OneWarehouse(Action),
}

impl At {
    fn action(self) -> Action {
        match self {
            At::Order(action) | At::OneWarehouse(action) => action,
        }
    }
}

impl Orders<'_> {
    /// Changes the customer details and notes of an order not yet shipped, appending
    /// `OrderUpdated` (which names the fields changed, never their values).
    pub fn update(&self, actor: &Actor, key: &str, patch: OrderPatch) -> Result<Order> {
        let fields = [
            ("email", &patch.email),
            ("name", &patch.name),
            ("phone", &patch.phone),
            ("address", &patch.address),
            ("notes", &patch.notes),
        ];
        if fields.iter().all(|(_, value)| value.is_none()) {
            return Err(Error::invalid("order", "name something to change: email, name, phone, address or notes"));
        }
        self.step(actor, key, At::Order(Action::OrderUpdate), None, |tx, order, events, _| {
            if let Some(expected) = patch.expected_version.filter(|v| *v != order.version) {
                return Err(Error::conflict(
                    Conflict::StaleVersion { current: order.version },
                    format!(
                        "order {} is at version {}, not {expected}: reload it and retry",
                        order.number, order.version
                    ),
                ));
            }
            if !order.status.before_shipment() {
                return Err(Error::conflict(
                    Conflict::Refused,
                    format!(
                        "order {} is {}: its customer details and notes can no longer change",
                        order.number, order.status
                    ),
                ));
            }
            let or = |new: &Option<String>, old: &Option<String>| new.clone().or_else(|| old.clone());
            let was = (order.customer.clone(), order.notes.clone());
            order.customer = placement::customer(&Customer {
                email: patch.email.clone().unwrap_or_else(|| was.0.email.clone()),
                name: or(&patch.name, &was.0.name),
                phone: or(&patch.phone, &was.0.phone),
                address: or(&patch.address, &was.0.address),
            })?;
            order.notes = placement::notes(or(&patch.notes, &was.1).as_deref())?;
            let c = &order.customer;
            let changed: Vec<&str> = [
                ("email", c.email != was.0.email),
                ("name", c.name != was.0.name),
                ("phone", c.phone != was.0.phone),
                ("address", c.address != was.0.address),
                ("notes", order.notes != was.1),
            ]
            .into_iter()
            .filter_map(|(field, differs)| differs.then_some(field))
            .collect();
            let keyring = self.store.sealing_keyring(tx)?;
            records::save_details(tx, &keyring, order)?;
            events.push((
                EventType::OrderUpdated,
                json!({ "order_id": order.id, "number": order.number, "changed": changed }),
            ));
            Ok(())
        })
    }

    /// Records a payment (the whole balance when no amount is given); the order becomes
    /// `paid` once the payments reach its total. Overpaying is refused.
    pub fn pay(&self, actor: &Actor, key: &str, amount: Option<&str>, reference: Option<&str>) -> Result<Order> {
        let reference = reference.map(|r| validate::line("reference", r.trim(), 200)).transpose()?;
        let args = json!({ "order": key, "amount": amount, "reference": reference });
        self.step(actor, key, At::Order(Action::OrderPay), Some(&args), |tx, order, events, now| {
            if order.status != OrderStatus::Confirmed {
                return Err(refused(order, "paid"));
            }
            let owed = order.total.minor() - order.paid.minor();
            let amount = match amount {
                Some(a) => Money::parse(a, order.currency, "amount")?,
                None => Money::from_minor(owed, order.currency),
            };
            if amount.minor() <= 0 {
                return Err(Error::invalid("amount", "must be more than zero"));
            }
            if amount.minor() > owed {
                return Err(Error::conflict(
                    Conflict::Refused,
                    format!(
                        "order {} is owed {} {}: a payment of {} would overpay it",
                        order.number,
                        Money::from_minor(owed, order.currency).amount(),
                        order.currency,
                        amount.amount()
                    ),
                ));
            }
            let payment = Payment { amount, reference: reference.clone(), actor: actor.to_string(), at: now };
            records::add_payment(tx, order.id, order.payments.len(), &payment)?;
            order.paid = Money::from_minor(order.paid.minor() + amount.minor(), order.currency);
            order.payments.push(payment);
            events.push((
                EventType::OrderPaymentReceived,
                json!({
                    "order_id": order.id, "number": order.number, "amount": amount.amount(),
                    "paid": order.paid.amount(), "total": order.total.amount(), "currency": order.currency,
                    "reference": reference,
                }),
            ));
            if order.paid == order.total {
                move_to(tx, actor, order, OrderStatus::Paid, None, events, now)?;
            }
            Ok(())
        })
    }

    /// Moves an order along: `picking`, `packed`, `shipped` (consuming its reserved stock,
    /// with an optional tracking number), `delivered`; also `cancelled` and `refunded`,
    /// which [`Orders::cancel`] and [`Orders::refund`] do in full.
    pub fn set_status(&self, actor: &Actor, key: &str, to: OrderStatus, tracking: Option<&str>) -> Result<Order> {
        let action = match to {
            OrderStatus::Picking => Action::OrderPick,
            OrderStatus::Packed => Action::OrderPack,
            OrderStatus::Shipped => Action::OrderShip,
            OrderStatus::Delivered => Action::OrderDeliver,
            OrderStatus::Cancelled => return self.cancel(actor, key, None),
            OrderStatus::Refunded => return self.refund(actor, key, None),
            other => {
                let how = match other {
                    OrderStatus::Paid => "record a payment (`order pay`)",
                    OrderStatus::ReturnRequested | OrderStatus::Returned => "record the return (`order return`)",
                    _ => "it is set when the order is placed",
                };
                return Err(Error::invalid("status", format!("an order does not become {other} this way: {how}")));
            }
        };
        let tracking = tracking.map(|t| validate::required("tracking number", t, 100)).transpose()?;
        self.step(actor, key, At::Order(action), None, |tx, order, events, now| {
            order.status.check(to, &order.number.to_string())?;
            if to == OrderStatus::Packed {
                picking::check_packable(order)?;
            }
            if to == OrderStatus::Shipped {
                // Consumes exactly the reserved warehouse lines: on-hand goes down there.
                if let Some(closed) = close_reservation(tx, actor, order, ReservationStatus::Committed, now)? {
                    return Err(Error::conflict(
                        Conflict::Refused,
                        format!(
                            "order {} cannot ship: its reservation {} is {}, so no stock is held for it; cancel \
                         the order",
                            order.number,
                            order.reservation_id,
                            closed.as_str()
                        ),
                    ));
                }
                order.tracking_number = tracking.clone().or(order.tracking_number.take());
            }
            move_to(tx, actor, order, to, None, events, now)?;
            if to == OrderStatus::Delivered {
                events.push((EventType::OrderFulfilled, json!({ "order_id": order.id, "number": order.number })));
            }
            Ok(())
        })
    }

    /// Cancels an order before shipment: its reserved stock is released, and a paid order
    /// is marked for refund.
    pub fn cancel(&self, actor: &Actor, key: &str, reason: Option<&str>) -> Result<Order> {
        let reason = reason.map(|r| validate::line("reason", r.trim(), 200)).transpose()?.filter(|r| !r.is_empty());
        self.step(actor, key, At::Order(Action::OrderCancel), None, |tx, order, events, now| {
            cancel_in(tx, actor, order, reason, events, now)
        })
    }

    /// Goods coming back after shipment. `request_only` records the request
    /// (`return_requested`); otherwise the goods are received (`returned`): each line is
    /// restocked where it shipped from, or written off. Receiving a requested return
    /// without lines takes the requested ones.
    pub fn return_goods(&self, actor: &Actor, key: &str, lines: &[ReturnLine], request_only: bool) -> Result<Order> {
        self.step(actor, key, At::Order(Action::OrderReturn), None, |tx, order, events, now| {
            let to = if request_only { OrderStatus::ReturnRequested } else { OrderStatus::Returned };
            order.status.check(to, &order.number.to_string())?;
            let returns = match (lines.is_empty(), order.status) {
                (true, OrderStatus::ReturnRequested) if !request_only => order.returns.clone(),
                (true, _) => return Err(Error::invalid("lines", "name the returned lines as SKU:QTY[:scrap]")),
                (false, _) => where_from(order, lines)?,
            };
            let returns: Vec<Returned> =
                returns.into_iter().map(|r| Returned { received: !request_only, ..r }).collect();
            if !request_only {
                let mut restocked = Vec::new();
                for line in returns.iter().filter(|r| r.disposition == "restock") {
                    restocked.push((product_to_restock(tx, order, line)?, line.warehouse.clone(), line.quantity));
                }
                if !restocked.is_empty() {
                    inventory::restock(tx, actor, &order.id.to_string(), &restocked, now)?;
                }
                events.push((
                    EventType::OrderReturned,
                    json!({ "order_id": order.id, "number": order.number, "lines": returns }),
                ));
            }
            order.returns = returns;
            records::set_returns(tx, order)?;
            move_to(tx, actor, order, to, None, events, now)
        })
    }

    /// Pays money back — all that is still refundable when no amount is given — for a
    /// returned order, or a paid one that was cancelled. Refunds add up to what was paid;
    /// more is refused. The order becomes `refunded` only when all of it is back: a partial
    /// refund leaves it where it is. Each refund appends `OrderRefunded` with its amount and
    /// the running total.
    pub fn refund(&self, actor: &Actor, key: &str, amount: Option<&str>) -> Result<Order> {
        self.step(actor, key, At::Order(Action::OrderRefund), None, |tx, order, events, now| {
            order.status.check(OrderStatus::Refunded, &order.number.to_string())?;
            let left = Money::from_minor(order.paid.minor() - order.refunded.minor(), order.currency);
            if left.minor() <= 0 {
                return Err(Error::conflict(
                    Conflict::Refused,
                    format!("order {} has nothing paid left to refund", order.number),
                ));
            }
            let amount = match amount {
                Some(a) => Money::parse(a, order.currency, "amount")?,
                None => left,
            };
            if amount.minor() <= 0 {
                return Err(Error::invalid("amount", "must be more than zero"));
            }
            if amount.minor() > left.minor() {
                return Err(Error::conflict(
                    Conflict::Refused,
                    format!(
                        "order {} has {left} left to refund ({} paid, {} refunded): a refund of {} would exceed it",
                        order.number,
                        order.paid.amount(),
                        order.refunded.amount(),
                        amount.amount()
                    ),
                ));
            }
            order.refunded = Money::from_minor(order.refunded.minor() + amount.minor(), order.currency);
            let settled = order.refunded == order.paid;
            order.refund_due = order.refund_due && !settled;
            events.push((
                EventType::OrderRefunded,
                json!({
                    "order_id": order.id, "number": order.number, "amount": amount.amount(),
                    "refunded": order.refunded.amount(), "paid": order.paid.amount(), "currency": order.currency,
                }),
            ));
            if settled {
                let note = Some(format!("refunded {}", order.refunded));
                move_to(tx, actor, order, OrderStatus::Refunded, note, events, now)?;
            }
            Ok(())
        })
    }

    /// Cancels every confirmed order still unpaid after the store's unpaid timeout, each in
    /// its own transaction; returns how many.
    pub fn expire_unpaid(&self, actor: &Actor, now: Timestamp) -> Result<usize> {
        actor.authorize(Action::OrderCancel)?;
        let timeout = self.store.options.unpaid_timeout;
        let cutoff =
            now.checked_sub(timeout).map_err(|e| Error::internal_from("a time past the supported range", e))?;
        let reason = format!("unpaid after {timeout:#}");
        let mut cancelled = 0;
        // Past the last order looked at (by number): one that cannot be cancelled is passed
        // over, never met again in the same sweep. The walk covers every confirmed order
        // through `(status, number)` rather than a creation-time index of its own, which
        // every order would write and every status change move: unpaid orders are few.
        let mut after = 0i64;
        loop {
            let due: Vec<(i64, String)> = self.store.pool.read(|tx| {
                let rows = tx.query(
                    "SELECT number, id FROM orders WHERE status = 'confirmed' AND number > $1 AND created_at <= $2
                     ORDER BY number LIMIT $3",
                    params![after, cutoff, SWEEP_BATCH],
                )?;
                rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
            })?;
            for (_, id) in &due {
                let outcome = self.step(actor, id, At::Order(Action::OrderCancel), None, |tx, order, events, now| {
                    // Paid, or cancelled, meanwhile: no longer due.
                    if order.status != OrderStatus::Confirmed || order.created_at > cutoff {
                        return Err(refused(order, "cancelled"));
                    }
                    cancel_in(tx, actor, order, Some(reason.clone()), events, now)
                });
                match outcome {
                    Ok(_) => cancelled += 1,
                    // No longer due, or not cancellable (its stock already left): the next.
                    Err(Error::InvalidTransition { .. } | Error::Conflict { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            match due.last() {
                Some(last) if due.len() as i64 == SWEEP_BATCH => after = last.0,
                _ => return Ok(cancelled),
            }
        }
    }

    /// One step on one order: authorised, the order locked, `f` applied, then the order
    /// saved with its version bumped and the step's events and audit record appended.
    /// A step that takes an idempotency key gives its arguments (see [`crate::idempotency`]).
    pub(super) fn step(
        &self,
        actor: &Actor,
        key: &str,
        at: At,
        idempotent: Option<&Value>,
        f: impl FnOnce(&mut Tx<'_>, &mut Order, &mut Events, Timestamp) -> Result<()>,
    ) -> Result<Order> {
        let action = at.action();
        actor.authorize(action)?;
        self.store.pool.write(|tx| {
            // First, as every writer that seals does: see crate::crypto.
            let keyring = self.store.sealing_keyring(tx)?;
            let now = self.store.now();
            let Some(args) = idempotent else { return step_in(tx, actor, &keyring, key, at, now, f) };
            let replay = |tx: &mut Tx<'_>, id: &str| records::find(tx, &keyring, actor, id, false);
            idempotency::once(
                tx,
                actor,
                idempotency::Request { action, args, at: now },
                |tx| step_in(tx, actor, &keyring, key, at, now, f),
                |order| order.id.to_string(),
                replay,
            )
        })
    }
}

/// [`Orders::step`] inside its transaction.
fn step_in(
    tx: &mut Tx<'_>,
    actor: &Actor,
    keyring: &Keyring,
    key: &str,
    at: At,
    now: Timestamp,
    f: impl FnOnce(&mut Tx<'_>, &mut Order, &mut Events, Timestamp) -> Result<()>,
) -> Result<Order> {
    let mut order = records::find(tx, keyring, actor, key, true)?;
    if let At::Order(action) = at {
        records::authorize_at_order(actor, action, &order)?;
    }
    let before = records::summary(&order);
    let mut events = Vec::new();
    f(tx, &mut order, &mut events, now)?;
    (order.version, order.updated_at) = (order.version + 1, now);
    records::save(tx, &order)?;
    let id = order.id.to_string();
    let change = Change {
        action: at.action().as_str(),
        entity: ("order", &id),
        before: Some(before),
        after: Some(records::summary(&order)),
        events,
    };
    journal::record(tx, actor, change, now)?;
    Ok(order)
}

/// Refuses a step the order's status does not allow.
fn refused(order: &Order, to: &str) -> Error {
    Error::InvalidTransition {
        entity: format!("order {}", order.number),
        from: order.status.to_string(),
        to: to.into(),
    }
}

/// Moves the order to `to` if the state table allows it, with its history row and
/// `OrderStatusChanged`.
pub(super) fn move_to(
    tx: &mut Tx<'_>,
    actor: &Actor,
    order: &mut Order,
    to: OrderStatus,
    note: Option<String>,
    events: &mut Events,
    at: Timestamp,
) -> Result<()> {
    order.status.check(to, &order.number.to_string())?;
    let change = StatusChange { from: Some(order.status), to, actor: actor.to_string(), note, at };
    records::add_history(tx, order.id, order.history.len(), &change)?;
    events.push((
        EventType::OrderStatusChanged,
        // The money as it stands, so verify can recompute paid and refunded from the log.
        json!({
            "order_id": order.id, "number": order.number, "from": order.status, "to": to, "note": change.note,
            "paid": order.paid.amount(), "refunded": order.refunded.amount(),
        }),
    ));
    order.status = to;
    order.history.push(change);
    Ok(())
}

fn cancel_in(
    tx: &mut Tx<'_>,
    actor: &Actor,
    order: &mut Order,
    reason: Option<String>,
    events: &mut Events,
    now: Timestamp,
) -> Result<()> {
    order.status.check(OrderStatus::Cancelled, &order.number.to_string())?;
    // A reservation already released or expired has nothing left to release.
    if let Some(ReservationStatus::Committed) = close_reservation(tx, actor, order, ReservationStatus::Released, now)? {
        return Err(Error::conflict(
            Conflict::Refused,
            format!(
                "order {} cannot be cancelled: its reservation {} was committed, so its stock has left",
                order.number, order.reservation_id
            ),
        ));
    }
    order.refund_due = order.paid.minor() > 0;
    events.push((
        EventType::OrderCancelled,
        json!({ "order_id": order.id, "number": order.number, "reason": reason, "refund_due": order.refund_due }),
    ));
    move_to(tx, actor, order, OrderStatus::Cancelled, reason, events, now)
}

/// Closes the order's reservation as one of the order's own steps, unless it was closed
/// behind the order's back (possible before `release` refused that): then it holds
/// nothing, and its status is returned instead.
fn close_reservation(
    tx: &mut Tx<'_>,
    actor: &Actor,
    order: &Order,
    to: ReservationStatus,
    now: Timestamp,
) -> Result<Option<ReservationStatus>> {
    match reservations::status_of(tx, order.reservation_id)? {
        ReservationStatus::Active => {
            reservations::close_in(tx, actor, order.reservation_id, to, None, Closer::Order, now)?;
            Ok(None)
        }
        closed => Ok(Some(closed)),
    }
}

/// Where each returned line shipped from: its quantity spread over the line's allocations,
/// never more than shipped and not yet returned.
/// The id of the product a returned line goes back to: the one ordered, since its SKU may
/// now name another. A product deleted since cannot take stock back (nothing could sell
/// it): such a line is refused, pointing to a write-off.
fn product_to_restock(tx: &mut Tx<'_>, order: &Order, line: &Returned) -> Result<String> {
    let ordered = order.lines.iter().find(|l| l.sku == line.sku).map(|l| l.product_id.to_string());
    let id = ordered.ok_or_else(|| Error::internal(format!("order {} has no line {}", order.number, line.sku)))?;
    if tx.query_opt("SELECT 1 FROM products WHERE id = $1 AND deleted_at IS NULL", params![&id])?.is_none() {
        return Err(Error::conflict(
            Conflict::Refused,
            format!(
                "product {sku} was deleted after order {number} shipped, so it cannot be restocked: take it back \
             as a write-off ({sku}:{quantity}:scrap)",
                sku = line.sku,
                number = order.number,
                quantity = line.quantity
            ),
        ));
    }
    Ok(id)
}

fn where_from(order: &Order, lines: &[ReturnLine]) -> Result<Vec<Returned>> {
    let mut returns: Vec<Returned> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let sku = line.sku.trim();
        let quantity = line.quantity;
        if quantity <= 0 {
            let reason = format!("{sku}: {quantity} is not a positive whole number");
            return Err(Error::invalid(format!("lines[{i}].quantity"), reason));
        }
        let allocations: Vec<_> = order.allocations.iter().filter(|a| a.sku.eq_ignore_ascii_case(sku)).collect();
        if allocations.is_empty() {
            return Err(Error::invalid(format!("lines[{i}].sku"), format!("{sku} is not on order {}", order.number)));
        }
        let mut left = quantity;
        for allocation in allocations {
            let taken: i64 = order
                .returns
                .iter()
                .chain(&returns)
                .filter(|r| r.received && r.sku == allocation.sku && r.warehouse == allocation.warehouse)
                .map(|r| r.quantity)
                .sum();
            let here = left.min(allocation.quantity - taken);
            if here > 0 {
                returns.push(Returned {
                    sku: allocation.sku.clone(),
                    warehouse: allocation.warehouse.clone(),
                    quantity: here,
                    disposition: if line.scrap { "scrap" } else { "restock" },
                    received: true,
                });
                left -= here;
            }
        }
        if left > 0 {
            return Err(Error::invalid(
                format!("lines[{i}].quantity"),
                format!("{sku}: {quantity} is more than order {} shipped and has not had back", order.number),
            ));
        }
    }
    Ok(returns)
}
