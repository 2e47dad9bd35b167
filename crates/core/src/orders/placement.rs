//! Placing an order, in one transaction: validate the lines, price them, hold every line's
//! stock (allocated, or a checkout reservation adopted) and record the order `confirmed`.
//! Short stock rejects the whole order, naming each short line; nothing stays reserved.

use std::{cell::Cell, collections::BTreeMap};

use serde_json::json;

use super::{Customer, Order, OrderLine, OrderStatus, Orders, StatusChange, records};
use crate::{
    Action, Actor, Error, Money, OrderId, ReservationId, Result, Store,
    crypto::Keyring,
    db::Tx,
    events::EventType,
    idempotency,
    inventory::{
        Reservation,
        reservations::{self, Holding},
    },
    journal::{self, Change},
    users, validate,
};

/// An order to place.
#[derive(Debug, Clone, Default)]
pub struct NewOrder {
    pub customer: Customer,
    /// (SKU, quantity); a SKU named twice is one line, summed.
    pub lines: Vec<(String, i64)>,
    /// Serve every line from this warehouse; else the allocation strategy chooses.
    pub warehouse: Option<String>,
    /// Adopt this checkout reservation instead of reserving anew: its lines must be the
    /// order's, and it no longer expires.
    pub reservation: Option<String>,
    pub notes: Option<String>,
}

impl Orders<'_> {
    /// Places an order: `confirmed`, with every line's stock held — or refused, changing
    /// nothing.
    pub fn create(&self, actor: &Actor, input: NewOrder) -> Result<Order> {
        let (holding, customer, reservation) = self.prepare(actor, &input)?;
        let named = input.warehouse.is_some() || reservation.is_some();
        let args = json!({
            "customer": input.customer, "lines": input.lines, "warehouse": input.warehouse,
            "reservation": input.reservation, "notes": input.notes,
        });
        reservations::allocating(&self.store.pool, named, |tx, raced| {
            let keyring = self.store.sealing_keyring(tx)?;
            idempotency::once(
                tx,
                actor,
                idempotency::Request { action: Action::OrderCreate, args: &args, at: self.store.now() },
                |tx| {
                    place(
                        tx,
                        actor,
                        &keyring,
                        self.store,
                        &holding,
                        &customer,
                        reservation,
                        input.notes.as_deref(),
                        raced,
                    )
                },
                |order| order.id.to_string(),
                |tx, id| records::find(tx, &keyring, actor, id, false),
            )
        })
    }

    /// What [`Orders::create`] would do — the allocation, prices and total — without
    /// doing it (`--dry-run`).
    pub fn preview(&self, actor: &Actor, input: NewOrder) -> Result<Order> {
        let (holding, customer, reservation) = self.prepare(actor, &input)?;
        self.store.pool.rehearse(|tx| {
            let keyring = self.store.sealing_keyring(tx)?;
            let raced = Cell::new(false);
            place(tx, actor, &keyring, self.store, &holding, &customer, reservation, input.notes.as_deref(), &raced)
        })
    }

    fn prepare(&self, actor: &Actor, input: &NewOrder) -> Result<(Holding, Customer, Option<ReservationId>)> {
        match input.warehouse.as_deref() {
            Some(code) => actor.authorize_at(Action::OrderCreate, code)?,
            None => actor.authorize(Action::OrderCreate)?,
        }
        let customer = customer(&input.customer)?;
        let holding = Holding::new(&input.lines, input.warehouse.clone(), None, None)?;
        let reservation = input.reservation.as_deref().map(|id| id.trim().parse()).transpose()?;
        if reservation.is_some() && input.warehouse.is_some() {
            return Err(Error::invalid("warehouse", "an adopted reservation already says where its stock is"));
        }
        Ok((holding, customer, reservation))
    }
}

#[allow(clippy::too_many_arguments, reason = "the one private funnel of create and preview")]
fn place(
    tx: &mut Tx<'_>,
    actor: &Actor,
    keyring: &Keyring,
    store: &Store,
    holding: &Holding,
    customer: &Customer,
    adopt: Option<ReservationId>,
    notes: Option<&str>,
    raced: &Cell<bool>,
) -> Result<Order> {
    // The store gives the allocation strategy and the time.
    let now = store.now();
    // Price every line first: an unknown SKU or mixed currencies refuse before any stock moves.
    let mut lines = Vec::new();
    let products = holding.products(tx)?;
    for (product, (_, quantity)) in products.iter().zip(&holding.wanted) {
        let total = product.price.minor().checked_mul(*quantity).ok_or_else(|| {
            Error::invalid(
                "lines",
                format!("{}: {quantity} × {} is more than an order can total", product.sku, product.price),
            )
        })?;
        lines.push(OrderLine {
            sku: product.sku.to_string(),
            product_id: product.id,
            quantity: *quantity,
            unit_price: product.price,
            line_total: Money::from_minor(total, product.price.currency()),
        });
    }
    let currency = lines[0].unit_price.currency();
    if let Some(other) = lines.iter().find(|l| l.unit_price.currency() != currency) {
        return Err(Error::invalid(
            "lines",
            format!(
                "{} is priced in {} but {} in {currency}: one order, one currency",
                other.sku,
                other.unit_price.currency(),
                lines[0].sku
            ),
        ));
    }
    let mut total = 0i64;
    for line in &lines {
        total = total.checked_add(line.line_total.minor()).ok_or_else(|| {
            Error::invalid(
                "lines",
                format!("{}: adding {} passes the most an order can total", line.sku, line.line_total),
            )
        })?;
    }

    let reservation = match adopt {
        Some(id) => {
            let held = reservations::adopt(tx, actor, id, now)?;
            same_lines(&held, &lines)?;
            held
        }
        None => reservations::hold(tx, actor, &store.options.allocation, holding, &products, raced, now)?,
    };
    let id = OrderId::new();
    let created = |from, to| StatusChange { from, to, actor: actor.to_string(), note: None, at: now };
    let order = Order {
        id,
        number: records::next_number(tx)?,
        status: OrderStatus::Confirmed,
        customer: customer.clone(),
        allocations: reservation
            .lines
            .iter()
            .map(|l| super::Allocation::unpicked(l.sku.clone(), l.warehouse.clone(), l.quantity))
            .collect(),
        lines,
        currency,
        total: Money::from_minor(total, currency),
        paid: Money::from_minor(0, currency),
        refunded: Money::from_minor(0, currency),
        refund_due: false,
        reservation_id: reservation.id,
        tracking_number: None,
        notes: self::notes(notes)?,
        version: 1,
        owner: actor.to_string(),
        history: vec![created(None, OrderStatus::Pending), created(Some(OrderStatus::Pending), OrderStatus::Confirmed)],
        payments: Vec::new(),
        returns: Vec::new(),
        created_at: now,
        updated_at: now,
    };
    records::insert(tx, keyring, &order, &actor.principal())?;
    let summary = records::summary(&order);
    let key = id.to_string();
    let change = Change {
        action: Action::OrderCreate.as_str(),
        entity: ("order", &key),
        before: None,
        after: Some(summary.clone()),
        events: vec![
            (EventType::OrderCreated, summary),
            (
                EventType::OrderStatusChanged,
                json!({ "order_id": id, "number": order.number, "from": "pending", "to": "confirmed" }),
            ),
        ],
    };
    // One audit record for the order, over the reservation's (its allocations are in it).
    journal::record_over(tx, actor, change, now)?;
    Ok(order)
}

/// Notes as stored: trimmed and bounded; empty is none.
pub(super) fn notes(notes: Option<&str>) -> Result<Option<String>> {
    Ok(notes.map(|n| validate::bounded("notes", n.trim(), 2000)).transpose()?.filter(|n| !n.is_empty()))
}

/// The customer as stored: a valid email (lower-cased), the rest trimmed and bounded; an
/// empty optional field is none.
pub(super) fn customer(input: &Customer) -> Result<Customer> {
    type Rule = fn(&str, &str, usize) -> Result<String>;
    let optional = |field: &str, value: &Option<String>, max, rule: Rule| -> Result<Option<String>> {
        match value.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => rule(field, v, max).map(Some),
        }
    };
    let phone = optional("phone", &input.phone, 40, validate::line)?;
    if let Some(p) = &phone
        && !p.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
    {
        return Err(Error::invalid("phone", format!("{p:?} may hold only digits, spaces and + - ( ) .")));
    }
    Ok(Customer {
        email: users::parse_email(&input.email)?,
        name: optional("name", &input.name, 200, validate::line)?,
        phone,
        address: optional("address", &input.address, 1000, validate::bounded)?,
    })
}

/// An adopted reservation must hold exactly the order's lines.
fn same_lines(reservation: &Reservation, lines: &[OrderLine]) -> Result<()> {
    let mut held: BTreeMap<&str, i64> = BTreeMap::new();
    for line in &reservation.lines {
        *held.entry(line.sku.as_str()).or_default() += line.quantity;
    }
    let wanted: BTreeMap<&str, i64> = lines.iter().map(|l| (l.sku.as_str(), l.quantity)).collect();
    if held != wanted {
        let show = |m: &BTreeMap<&str, i64>| m.iter().map(|(s, q)| format!("{s}:{q}")).collect::<Vec<_>>().join(" ");
        return Err(Error::invalid(
            "reservation",
            format!("reservation {} holds {} but the order asks for {}", reservation.id, show(&held), show(&wanted)),
        ));
    }
    Ok(())
}
