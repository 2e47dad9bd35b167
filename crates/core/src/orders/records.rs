//! Orders as stored: rows in, rows out. Customer fields are sealed with the store's keyring,
//! each bound to its order and field, with blind indexes for email and phone.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::json;

use super::{
    Allocation, Customer, Order, OrderKey, OrderLine, OrderQuery, OrderStatus, Payment, Returned, StatusChange,
};
use crate::{
    Action, Actor, Currency, Error, Money, OrderId, Page, ProductId, ReservationId, Result, Role, WarehouseId,
    actor::shown_principal,
    crypto::{Keyring, rotation::context},
    db::{Backend, Filter, Row, Tx, Value, params},
    page,
};

/// Blind-index contexts: the same email gives the same index across orders.
pub(crate) const EMAIL_INDEX: &str = "orders.customer_email";
pub(crate) const PHONE_INDEX: &str = "orders.customer_phone";

/// The next order number, never shared by two orders. PostgreSQL draws it from a sequence,
/// which no other order waits on (an order that fails after drawing leaves a gap; a dry
/// run only looks); SQLite's single writer takes the last number plus one (orders are never
/// deleted, so no number comes back).
pub(crate) fn next_number(tx: &mut Tx<'_>) -> Result<i64> {
    let sql = match tx.backend() {
        Backend::Sqlite => "SELECT COALESCE(MAX(number), 0) + 1 FROM orders",
        Backend::Postgres if tx.is_rehearsal() => {
            "SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM order_numbers"
        }
        Backend::Postgres => "SELECT nextval('order_numbers')",
    };
    let row = tx.query_ahead(sql, &[])?.into_iter().next();
    row.ok_or_else(|| Error::internal("no order number was drawn"))?.get(0)
}

fn seal(keyring: &Keyring, order: OrderId, field: &str, value: Option<&str>) -> Result<Option<String>> {
    value.map(|v| keyring.seal(&context("orders", field, &order.to_string()), v.as_bytes())).transpose()
}

fn open(keyring: &Keyring, order: OrderId, field: &str, sealed: Option<String>) -> Result<Option<String>> {
    sealed
        .map(|s| {
            let bytes = keyring.open(&context("orders", field, &order.to_string()), &s)?;
            String::from_utf8(bytes).map_err(|_| Error::internal(format!("order {order}: {field} is not text")))
        })
        .transpose()
}

/// The customer columns as stored, in the order `customer_email`, `customer_email_index`,
/// `customer_name`, `customer_phone`, `customer_phone_index`, `customer_address`.
fn customer_values(keyring: &Keyring, order: &Order) -> Result<Vec<Value>> {
    let c = &order.customer;
    Ok(params![
        seal(keyring, order.id, "customer_email", Some(&c.email))?,
        keyring.blind_index(EMAIL_INDEX, &c.email),
        seal(keyring, order.id, "customer_name", c.name.as_deref())?,
        seal(keyring, order.id, "customer_phone", c.phone.as_deref())?,
        c.phone.as_deref().map(|p| keyring.blind_index(PHONE_INDEX, p)),
        seal(keyring, order.id, "customer_address", c.address.as_deref())?
    ]
    .to_vec())
}

/// Inserts a new order, owned by the principal `owner`, with its lines and first history
/// (deferred: nothing in the command reads them).
pub(crate) fn insert(tx: &mut Tx<'_>, keyring: &Keyring, order: &Order, owner: &str) -> Result<()> {
    let mut values = params![order.id, order.number, order.status.as_str(), owner].to_vec();
    values.extend(customer_values(keyring, order)?);
    values.extend_from_slice(params![
        order.currency.code(),
        order.total.minor(),
        order.reservation_id,
        order.notes.clone(),
        order.version,
        order.created_at
    ]);
    tx.defer(
        "INSERT INTO orders (id, number, status, owner, customer_email, customer_email_index, customer_name,
                             customer_phone, customer_phone_index, customer_address, currency, total_minor,
                             reservation_id, notes, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
        &values,
    )?;
    let lines: Vec<_> = order
        .lines
        .iter()
        .enumerate()
        .map(|(n, l)| params![order.id, n as i64 + 1, l.product_id, &l.sku, l.quantity, l.unit_price.minor()].to_vec())
        .collect();
    tx.defer_rows("INSERT INTO order_lines (order_id, line_no, product_id, sku, quantity, unit_price_minor)", &lines)?;
    let history: Vec<_> = order.history.iter().enumerate().map(|(n, c)| history_row(order.id, n, c)).collect();
    tx.defer_rows(HISTORY, &history)
}

/// Writes the order's customer details (sealed, re-indexed) and notes.
pub(crate) fn save_details(tx: &mut Tx<'_>, keyring: &Keyring, order: &Order) -> Result<()> {
    let mut values = customer_values(keyring, order)?;
    values.extend_from_slice(params![order.notes.clone(), order.id]);
    tx.execute(
        "UPDATE orders SET customer_email = $1, customer_email_index = $2, customer_name = $3, customer_phone = $4,
                           customer_phone_index = $5, customer_address = $6, notes = $7
         WHERE id = $8",
        &values,
    )?;
    Ok(())
}

/// Writes the order's changed fields and bumps its version.
pub(crate) fn save(tx: &mut Tx<'_>, order: &Order) -> Result<()> {
    tx.execute(
        "UPDATE orders SET status = $1, paid_minor = $2, refunded_minor = $3, refund_due = $4, tracking_number = $5,
                           version = $6, updated_at = $7 WHERE id = $8",
        params![
            order.status.as_str(),
            order.paid.minor(),
            order.refunded.minor(),
            order.refund_due,
            order.tracking_number.clone(),
            order.version,
            order.updated_at,
            order.id
        ],
    )?;
    Ok(())
}

const HISTORY: &str = "INSERT INTO order_status_history (order_id, position, from_status, to_status, actor, note, at)";

/// A status history row: its columns in [`HISTORY`]'s order.
fn history_row(order: OrderId, position: usize, change: &StatusChange) -> Vec<Value> {
    params![
        order,
        position as i64 + 1,
        change.from.map(|s| s.as_str()),
        change.to.as_str(),
        &change.actor,
        change.note.clone(),
        change.at
    ]
    .to_vec()
}

/// Adds a status change to the order's history (deferred: see [`Tx::defer`]).
pub(crate) fn add_history(tx: &mut Tx<'_>, order: OrderId, position: usize, change: &StatusChange) -> Result<()> {
    tx.defer_rows(HISTORY, &[history_row(order, position, change)])
}

/// Adds a payment to the order's (deferred: see [`Tx::defer`]).
pub(crate) fn add_payment(tx: &mut Tx<'_>, order: OrderId, position: usize, payment: &Payment) -> Result<()> {
    tx.defer(
        "INSERT INTO order_payments (order_id, position, amount_minor, reference, actor, at) VALUES ($1, $2, $3, $4, $5, $6)",
        params![order, position as i64 + 1, payment.amount.minor(), payment.reference.clone(), &payment.actor, payment.at],
    )
}

/// Records returned goods; `received` ones replace the request's rows.
pub(crate) fn set_returns(tx: &mut Tx<'_>, order: &Order) -> Result<()> {
    tx.execute("DELETE FROM order_returns WHERE order_id = $1", params![order.id])?;
    for (n, r) in order.returns.iter().enumerate() {
        tx.execute(
            "INSERT INTO order_returns (order_id, position, product_id, warehouse_id, quantity, disposition, received)
             SELECT $1, $2, p.id, w.id, $3, $4, $5 FROM products p, warehouses w WHERE p.sku = $6 AND w.code = $7
                AND p.deleted_at IS NULL",
            params![order.id, n as i64 + 1, r.quantity, r.disposition, r.received, &r.sku, &r.warehouse],
        )?;
    }
    Ok(())
}

const COLUMNS: &str = "id, number, status, owner, customer_email, customer_name, customer_phone, customer_address,
                       currency, total_minor, paid_minor, refunded_minor, refund_due, reservation_id, tracking_number,
                       notes, version, created_at, updated_at";

/// One order the actor may see, by id or number, as it may see it; locked until commit
/// when `lock` is set. A `client` finds only its own.
pub(crate) fn find(tx: &mut Tx<'_>, keyring: &Keyring, actor: &Actor, key: &str, lock: bool) -> Result<Order> {
    let not_found = || Error::not_found("order", key.trim());
    let lock = if lock { tx.for_update() } else { "" };
    let row = match OrderKey::parse(key)? {
        OrderKey::Id(id) => tx.query_opt(&format!("SELECT {COLUMNS} FROM orders WHERE id = $1{lock}"), params![id])?,
        OrderKey::Number(n) => {
            tx.query_opt(&format!("SELECT {COLUMNS} FROM orders WHERE number = $1{lock}"), params![n])?
        }
    }
    .ok_or_else(not_found)?;
    let owner: String = row.get(3)?;
    if !actor.may_see(&owner) {
        return Err(not_found());
    }
    let order = load(tx, keyring, std::slice::from_ref(&row))?.pop();
    Ok(shown_to(actor, order.ok_or_else(not_found)?))
}

/// Refuses a scoped actor an order served from any warehouse outside its scope.
pub(crate) fn authorize_at_order(actor: &Actor, action: Action, order: &Order) -> Result<()> {
    order.allocations.iter().try_for_each(|a| actor.authorize_at(action, &a.warehouse))
}

/// The order as the actor may read it: a `client` reads its own order without the staff
/// who handled it (they show as `staff`).
fn shown_to(actor: &Actor, mut order: Order) -> Order {
    if actor.role() == Role::Client {
        let me = actor.to_string();
        let hide = |who: &mut String| {
            if *who != me {
                *who = "staff".into();
            }
        };
        order.history.iter_mut().for_each(|c| hide(&mut c.actor));
        order.payments.iter_mut().for_each(|p| hide(&mut p.actor));
        order.allocations.iter_mut().filter_map(|a| a.picked_by.as_mut()).for_each(hide);
    }
    order
}

/// Orders newest first (by number), filtered, one page at a time.
pub(crate) fn list(
    tx: &mut Tx<'_>,
    keyring: &Keyring,
    actor: &Actor,
    status: Option<OrderStatus>,
    query: &OrderQuery,
) -> Result<Page<Order>> {
    let limit = page::limit(query.limit)?;
    let before: Option<i64> = match &query.cursor {
        Some(c) => Some(
            page::decode_cursor(c)?
                .parse()
                .map_err(|_| Error::invalid("cursor", format!("{c:?} is not an order cursor")))?,
        ),
        None => None,
    };
    let customer = query
        .customer
        .as_deref()
        .map(|email| crate::users::parse_email(email).map(|e| keyring.blind_index(EMAIL_INDEX, &e)))
        .transpose()?;
    let mut filter = Filter::default();
    filter.and_some("number < {}", before);
    filter.and_some("status = {}", status.map(|s| s.as_str()));
    filter.and_some("customer_email_index = {}", customer);
    listable(&mut filter, actor);
    let sql = format!(
        "SELECT {COLUMNS} FROM orders{} ORDER BY number DESC LIMIT {}",
        filter.clause(),
        filter.bind(i64::from(limit) + 1)
    );
    let rows = tx.query(&sql, filter.params())?;
    let orders = load(tx, keyring, &rows)?.into_iter().map(|o| shown_to(actor, o)).collect();
    Ok(page::from_rows(orders, limit, |o| o.number.to_string()))
}

/// Limits `filter` (on `orders`) to the orders `actor` may list: a client only its own; a
/// scoped actor only those served wholly from its warehouses.
fn listable(filter: &mut Filter, actor: &Actor) {
    filter.and_some("owner = {}", (actor.role() == Role::Client).then(|| actor.principal()));
    if !actor.scope().is_empty() {
        let placeholders: Vec<String> = actor.scope().iter().map(|code| filter.bind(code)).collect();
        filter.push(format!(
            "NOT EXISTS (SELECT 1 FROM reservation_lines l JOIN warehouses w ON w.id = l.warehouse_id
                         WHERE l.reservation_id = orders.reservation_id AND w.code NOT IN ({}))",
            placeholders.join(", ")
        ));
    }
}

/// How many of the orders placed at or after `since` that `actor` may list stand in each
/// status, every status in [`OrderStatus::ALL`] order.
pub(crate) fn status_counts(tx: &mut Tx<'_>, actor: &Actor, since: Timestamp) -> Result<Vec<(OrderStatus, i64)>> {
    let mut filter = Filter::default();
    filter.and("created_at >= {}", since);
    listable(&mut filter, actor);
    let sql = format!("SELECT status, COUNT(*) FROM orders{} GROUP BY status", filter.clause());
    let mut counts: HashMap<String, i64> = HashMap::new();
    for row in tx.query(&sql, filter.params())? {
        counts.insert(row.get(0)?, row.get(1)?);
    }
    Ok(OrderStatus::ALL.iter().map(|s| (*s, counts.remove(s.as_str()).unwrap_or(0))).collect())
}

/// Paid orders and those being picked with units still to pick at `warehouse`, oldest first.
pub(crate) fn to_pick(
    tx: &mut Tx<'_>,
    keyring: &Keyring,
    actor: &Actor,
    warehouse: WarehouseId,
    limit: u32,
) -> Result<Vec<Order>> {
    let rows = tx.query(
        &format!(
            "SELECT {COLUMNS} FROM orders WHERE status IN ($1, $2) AND EXISTS (
                 SELECT 1 FROM reservation_lines l
                 LEFT JOIN order_picks k
                        ON k.order_id = orders.id AND k.product_id = l.product_id AND k.warehouse_id = l.warehouse_id
                 WHERE l.reservation_id = orders.reservation_id AND l.warehouse_id = $3
                   AND COALESCE(k.picked, 0) < l.quantity)
             ORDER BY number LIMIT $4"
        ),
        params![OrderStatus::Paid.as_str(), OrderStatus::Picking.as_str(), warehouse, i64::from(limit)],
    )?;
    Ok(load(tx, keyring, &rows)?.into_iter().map(|o| shown_to(actor, o)).collect())
}

/// Adds `quantity` units picked to an order's line at one of its warehouses: a guarded
/// write, as the ledger's, that never passes the allocation (its first insert is held by
/// the table's CHECK). False when it would have, and nothing was written.
pub(crate) fn add_pick(
    tx: &mut Tx<'_>,
    order: OrderId,
    product: ProductId,
    allocation: &Allocation,
    quantity: i64,
    by: &str,
    at: Timestamp,
) -> Result<bool> {
    let written = tx.execute(
        "INSERT INTO order_picks (order_id, product_id, warehouse_id, quantity, picked, picked_by, picked_at)
         VALUES ($1, $2, (SELECT id FROM warehouses WHERE code = $3), $4, $5, $6, $7)
         ON CONFLICT (order_id, product_id, warehouse_id) DO UPDATE
            SET picked = order_picks.picked + excluded.picked, picked_by = excluded.picked_by,
                picked_at = excluded.picked_at
          WHERE order_picks.picked + excluded.picked <= order_picks.quantity",
        params![order, product, &allocation.warehouse, allocation.quantity, quantity, by, at],
    )?;
    Ok(written == 1)
}

/// The principal that owns an order.
pub(crate) fn owner_of(tx: &mut Tx<'_>, order: OrderId) -> Result<String> {
    tx.query_one("SELECT owner FROM orders WHERE id = $1", params![order])?.get(0)
}

/// The allocation strategy's reason for the order's reservation.
pub(crate) fn allocation_reason(tx: &mut Tx<'_>, reservation: ReservationId) -> Result<String> {
    tx.query_one("SELECT allocation FROM reservations WHERE id = $1", params![reservation])?.get(0)
}

/// Products with open orders: deleting them is refused.
pub(crate) fn open_orders_of(tx: &mut Tx<'_>, product: crate::ProductId) -> Result<Vec<i64>> {
    let open: Vec<&str> = OrderStatus::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str()).collect();
    let placeholders: Vec<String> = (0..open.len()).map(|i| format!("${}", i + 2)).collect();
    let mut values = params![product].to_vec();
    values.extend(open.iter().map(|s| (*s).into()));
    let rows = tx.query(
        &format!(
            "SELECT DISTINCT o.number FROM order_lines l JOIN orders o ON o.id = l.order_id
             WHERE l.product_id = $1 AND o.status IN ({}) ORDER BY o.number LIMIT 10",
            placeholders.join(", ")
        ),
        &values,
    )?;
    rows.iter().map(|r| r.get(0)).collect()
}

/// What the journal keeps of an order: no customer data.
pub(crate) fn summary(order: &Order) -> serde_json::Value {
    json!({
        "order_id": order.id,
        "number": order.number,
        "status": order.status,
        "currency": order.currency,
        "total": order.total.amount(),
        "paid": order.paid.amount(),
        "refunded": order.refunded.amount(),
        "refund_due": order.refund_due,
        "reservation_id": order.reservation_id,
        "tracking_number": order.tracking_number,
        "lines": order.lines.iter().map(|l| json!({
            "sku": l.sku, "quantity": l.quantity, "unit_price": l.unit_price.amount()
        })).collect::<Vec<_>>(),
        "allocations": order.allocations.iter().map(|a| json!({
            "sku": a.sku, "warehouse": a.warehouse, "quantity": a.quantity, "picked": a.picked
        })).collect::<Vec<_>>(),
        "version": order.version,
    })
}

/// The orders of `rows` (each a row of [`COLUMNS`]) with their lines, allocations, history,
/// payments and returns: one query per child table for all of them, not one per order.
fn load(tx: &mut Tx<'_>, keyring: &Keyring, rows: &[Row]) -> Result<Vec<Order>> {
    let ids = rows.iter().map(|row| row.get::<String>(0)).collect::<Result<Vec<_>>>()?;
    let reservations = rows.iter().map(|row| row.get::<String>(13)).collect::<Result<Vec<_>>>()?;
    let mut lines = children(
        tx,
        "SELECT order_id, sku, product_id, quantity, unit_price_minor FROM order_lines
         WHERE order_id IN ({ids}) ORDER BY order_id, line_no",
        &ids,
    )?;
    // Each allocation with its picks, if any (an order previewed has no row to join yet).
    let mut allocations = children(
        tx,
        "SELECT l.reservation_id, p.sku, w.code, l.quantity, COALESCE(k.picked, 0), k.picked_by, k.picked_at
         FROM reservation_lines l
         JOIN products p ON p.id = l.product_id JOIN warehouses w ON w.id = l.warehouse_id
         LEFT JOIN orders o ON o.reservation_id = l.reservation_id
         LEFT JOIN order_picks k
                ON k.order_id = o.id AND k.product_id = l.product_id AND k.warehouse_id = l.warehouse_id
         WHERE l.reservation_id IN ({ids}) ORDER BY l.reservation_id, p.sku, w.code",
        &reservations,
    )?;
    let mut history = children(
        tx,
        "SELECT order_id, from_status, to_status, actor, note, at FROM order_status_history
         WHERE order_id IN ({ids}) ORDER BY order_id, position",
        &ids,
    )?;
    let mut payments = children(
        tx,
        "SELECT order_id, amount_minor, reference, actor, at FROM order_payments
         WHERE order_id IN ({ids}) ORDER BY order_id, position",
        &ids,
    )?;
    let mut returns = children(
        tx,
        "SELECT r.order_id, p.sku, w.code, r.quantity, r.disposition, r.received FROM order_returns r
         JOIN products p ON p.id = r.product_id JOIN warehouses w ON w.id = r.warehouse_id
         WHERE r.order_id IN ({ids}) ORDER BY r.order_id, r.position",
        &ids,
    )?;
    // Owners shown as people read them, each looked up once.
    let mut owners: HashMap<String, String> = HashMap::new();
    let mut orders = Vec::with_capacity(rows.len());
    for (row, (id, reservation)) in rows.iter().zip(ids.iter().zip(&reservations)) {
        let owner: String = row.get(3)?;
        let shown = match owners.get(&owner) {
            Some(shown) => shown.clone(),
            None => {
                let shown = shown_principal(tx, &owner)?;
                owners.insert(owner, shown.clone());
                shown
            }
        };
        let kids = Children {
            lines: lines.remove(id).unwrap_or_default(),
            // One order per reservation (a unique constraint).
            allocations: allocations.remove(reservation).unwrap_or_default(),
            history: history.remove(id).unwrap_or_default(),
            payments: payments.remove(id).unwrap_or_default(),
            returns: returns.remove(id).unwrap_or_default(),
        };
        orders.push(assemble(keyring, row, shown, kids)?);
    }
    Ok(orders)
}

/// Rows of a child table for many parents at once, by the parent key in their first column.
/// `{ids}` in `sql` becomes the placeholders, their count rounded up to a power of two (the
/// last key repeated) so that a connection prepares only a few distinct statements.
fn children(tx: &mut Tx<'_>, sql: &str, keys: &[String]) -> Result<HashMap<String, Vec<Row>>> {
    let Some(last) = keys.last() else { return Ok(HashMap::new()) };
    let count = keys.len().next_power_of_two();
    let placeholders: Vec<String> = (1..=count).map(|n| format!("${n}")).collect();
    let values: Vec<Value> =
        keys.iter().chain(std::iter::repeat_n(last, count - keys.len())).map(|k| k.as_str().into()).collect();
    let mut grouped: HashMap<String, Vec<Row>> = HashMap::new();
    for row in tx.query(&sql.replace("{ids}", &placeholders.join(", ")), &values)? {
        grouped.entry(row.get(0)?).or_default().push(row);
    }
    Ok(grouped)
}

/// An order's child rows, each with the parent key first.
struct Children {
    lines: Vec<Row>,
    allocations: Vec<Row>,
    history: Vec<Row>,
    payments: Vec<Row>,
    returns: Vec<Row>,
}

fn assemble(keyring: &Keyring, row: &Row, owner: String, kids: Children) -> Result<Order> {
    let id: OrderId = row.get(0)?;
    let status: String = row.get(2)?;
    let currency: String = row.get(8)?;
    let currency = Currency::parse(&currency)?;
    let money = |minor: i64| Money::from_minor(minor, currency);
    let email = open(keyring, id, "customer_email", row.get(4)?)?.unwrap_or_default();
    let customer = Customer {
        email,
        name: open(keyring, id, "customer_name", row.get(5)?)?,
        phone: open(keyring, id, "customer_phone", row.get(6)?)?,
        address: open(keyring, id, "customer_address", row.get(7)?)?,
    };
    let lines = kids
        .lines
        .iter()
        .map(|r| {
            let (sku, quantity, price): (String, i64, i64) = (r.get(1)?, r.get(3)?, r.get(4)?);
            // Checked when the order was placed; a row edited since must not wrap.
            let total = price
                .checked_mul(quantity)
                .ok_or_else(|| Error::internal(format!("order line {sku} totals more than can be stored")))?;
            Ok(OrderLine { sku, product_id: r.get(2)?, quantity, unit_price: money(price), line_total: money(total) })
        })
        .collect::<Result<Vec<_>>>()?;
    let allocations = kids
        .allocations
        .iter()
        .map(|r| {
            Ok(Allocation {
                sku: r.get(1)?,
                warehouse: r.get(2)?,
                quantity: r.get(3)?,
                picked: r.get(4)?,
                picked_by: r.get(5)?,
                picked_at: r.get(6)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let history = kids
        .history
        .iter()
        .map(|r| {
            let from: Option<String> = r.get(1)?;
            let to: String = r.get(2)?;
            Ok(StatusChange {
                from: from.map(|f| f.parse()).transpose()?,
                to: to.parse()?,
                actor: r.get(3)?,
                note: r.get(4)?,
                at: r.get(5)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let payments = kids
        .payments
        .iter()
        .map(|r| Ok(Payment { amount: money(r.get(1)?), reference: r.get(2)?, actor: r.get(3)?, at: r.get(4)? }))
        .collect::<Result<Vec<_>>>()?;
    let returns = kids
        .returns
        .iter()
        .map(|r| {
            let disposition: String = r.get(4)?;
            Ok(Returned {
                sku: r.get(1)?,
                warehouse: r.get(2)?,
                quantity: r.get(3)?,
                disposition: if disposition == "scrap" { "scrap" } else { "restock" },
                received: r.get(5)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Order {
        id,
        number: row.get(1)?,
        status: status.parse()?,
        customer,
        lines,
        allocations,
        currency,
        total: money(row.get(9)?),
        paid: money(row.get(10)?),
        refunded: money(row.get(11)?),
        refund_due: row.get(12)?,
        reservation_id: row.get(13)?,
        tracking_number: row.get(14)?,
        notes: row.get(15)?,
        version: row.get(16)?,
        owner,
        history,
        payments,
        returns,
        created_at: row.get(17)?,
        updated_at: row.get(18)?,
    })
}
