//! Every projection checked against what the event log says, read in one snapshot: stock
//! movements (one per stock event, every field), the replay snapshot, reservations (their lines and status, and
//! each level's `reserved` equal to its active reservation lines), orders (status, total,
//! paid, refunded, lines), order picks (units picked, of how many), products (every catalog field, deleted or not) and users (role, active,
//! warehouse scope). Stock levels are checked by [`crate::Inventory::verify`]; the log
//! itself by the chain ([`super::chain`]). Events written before a payload carried a field
//! leave that field unchecked, and the report says so.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::Audit;
use crate::{
    Action, Actor, Error, Result,
    db::{Tx, params},
    events::EventType,
    journal::{self, EventRow},
    money::{Currency, Money},
};

/// Events read per query.
const BATCH: i64 = 10_000;

/// What checking the projections found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectionReport {
    pub ok: bool,
    /// Events read.
    pub events: i64,
    /// Rows compared, by table.
    pub checked: BTreeMap<String, usize>,
    pub mismatches: Vec<Mismatch>,
    /// What the log could not vouch for (events from before a field was recorded).
    pub unchecked: Vec<String>,
}

/// One value on which a table and the event log disagree (`(none)`: no such row or event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub table: String,
    /// The row: its id, or `product/warehouse` for a level, or the event seq for a movement.
    pub key: String,
    pub field: String,
    pub projection: String,
    pub events: String,
}

const NONE: &str = "(none)";

/// A row's fields by name, as text, for comparing.
type Fields = BTreeMap<&'static str, String>;

/// Compares the rows of one table, keyed, with what the log says they should be.
fn compare(table: &str, have: &BTreeMap<String, Fields>, want: &BTreeMap<String, Fields>, out: &mut Vec<Mismatch>) {
    let keys: BTreeSet<&String> = have.keys().chain(want.keys()).collect();
    for key in keys {
        let (h, w) = (have.get(key), want.get(key));
        let names: BTreeSet<&&str> = h.into_iter().chain(w).flat_map(|f| f.keys()).collect();
        for name in names {
            let value = |f: Option<&Fields>| f.and_then(|f| f.get(*name)).cloned().unwrap_or_else(|| NONE.into());
            let (projection, events) = (value(h), value(w));
            // A field the log cannot vouch for is absent from `want` but for a missing row.
            if projection != events && (w.is_none_or(|w| w.contains_key(*name))) {
                out.push(Mismatch { table: table.into(), key: key.clone(), field: (*name).into(), projection, events });
            }
        }
    }
}

/// The payload of a stock event, as far as movements and reservations need it. Fields are
/// optional so events from before one was added still read.
#[derive(Deserialize)]
struct StockEvent {
    product_id: String,
    warehouse_id: String,
    kind: Option<String>,
    reason: Option<String>,
    reference: Option<String>,
    on_hand_delta: Option<i64>,
    reserved_delta: Option<i64>,
    on_hand: Option<i64>,
    reserved: Option<i64>,
}

/// The payload of `InventoryThresholdSet`.
#[derive(Deserialize)]
struct ThresholdEvent {
    product_id: String,
    warehouse_id: String,
    reorder_point: i64,
    reorder_qty: i64,
}

/// Stock levels replayed from the first event: (product, warehouse) → on hand, reserved,
/// reorder point, reorder quantity.
type Levels = BTreeMap<(String, String), [i64; 4]>;

/// A reservation as its stock events say: its lines (product, warehouse → quantity) and
/// status.
#[derive(Default)]
struct Held {
    lines: BTreeMap<(String, String), i64>,
    status: &'static str,
}

/// An order's numbers as its events say; `None`: not recorded by the events it has.
struct Booked {
    currency: Option<Currency>,
    fields: Fields,
}

/// What the log says every projection holds.
#[derive(Default)]
struct Said {
    events: i64,
    levels: Levels,
    reservations: BTreeMap<String, Held>,
    orders: BTreeMap<String, Booked>,
    /// Order picks by `order/SKU/warehouse`: units picked, of how many allocated.
    picks: BTreeMap<String, (i64, i64)>,
    products: BTreeMap<String, (serde_json::Map<String, Json>, bool)>,
    users: BTreeMap<String, Fields>,
    unchecked: BTreeSet<String>,
}

impl Audit<'_> {
    /// Checks every projection but stock levels against the event log, in one snapshot.
    pub fn projections(&self, actor: &Actor) -> Result<ProjectionReport> {
        actor.authorize(Action::StockVerify)?;
        self.store.pool.read(|tx| {
            let mut mismatches = Vec::new();
            let mut checked = BTreeMap::new();
            let said = read_log(tx, &mut mismatches, &mut checked)?;
            let mut check = |table: &str, have: BTreeMap<String, Fields>, want: BTreeMap<String, Fields>| {
                checked.insert(table.to_owned(), have.len().max(want.len()));
                compare(table, &have, &want, &mut mismatches);
            };
            check("reservations", reservation_rows(tx)?, said.reservations.iter().map(held_fields).collect());
            check("stock_levels.reserved", reserved_rows(tx)?, active_lines(tx)?);
            check("orders", order_rows(tx)?, said.orders.into_iter().map(|(id, o)| (id, o.fields)).collect());
            check(
                "order_picks",
                pick_rows(tx)?,
                said.picks.into_iter().map(|(key, n)| (key, pick_fields(n))).collect(),
            );
            check("products", product_rows(tx)?, said.products.iter().map(product_fields).collect::<Result<_>>()?);
            check("users", user_rows(tx)?, said.users);
            Ok(ProjectionReport {
                ok: mismatches.is_empty(),
                events: said.events,
                checked,
                mismatches,
                unchecked: said.unchecked.into_iter().collect(),
            })
        })
    }
}

/// Reads the whole log once, folding each event into what it says, and compares the stock
/// movements batch by batch as it goes (one row per stock event, keyed by its seq).
fn read_log(tx: &mut Tx<'_>, mismatches: &mut Vec<Mismatch>, checked: &mut BTreeMap<String, usize>) -> Result<Said> {
    let mut said = Said::default();
    let mut last = 0;
    let mut movements = 0;
    // The replay snapshot (see `inventory::replay`), whose levels verify starts from: checked
    // here against a replay from the first event, so an edited snapshot cannot hide drift.
    let snapshot_seq: i64 = tx.query_one("SELECT COALESCE(MAX(seq), 0) FROM stock_snapshots", &[])?.get(0)?;
    let mut snapshot = None;
    loop {
        let rows = tx.query(
            "SELECT seq, event_type, aggregate_id, payload, actor, occurred_at FROM events
             WHERE seq > $1 ORDER BY seq LIMIT $2",
            params![last, BATCH],
        )?;
        let from = last;
        let mut want = BTreeMap::new();
        for row in &rows {
            let event = EventRow {
                seq: row.get(0)?,
                event_type: row.get(1)?,
                aggregate_id: row.get(2)?,
                payload: row.get(3)?,
                actor: row.get(4)?,
                occurred_at: row.get(5)?,
            };
            last = event.seq;
            if event.seq > snapshot_seq && snapshot.is_none() {
                snapshot = Some(level_fields(&said.levels));
            }
            fold(&mut said, event, Some(&mut want))?;
        }
        let done = (rows.len() as i64) < BATCH;
        // The last batch also takes any movement beyond the log's end.
        let to = if done { i64::MAX } else { last };
        let have = movement_rows(tx, from, to)?;
        movements += have.len().max(want.len());
        compare("stock_movements", &have, &want, mismatches);
        if done {
            // Records queued and committed but not sealed yet (PostgreSQL) are changes made:
            // fold them in too, but expect no movement rows, which sealing writes.
            for event in journal::pending_events(tx, last)? {
                if snapshot.is_none() {
                    snapshot = Some(level_fields(&said.levels));
                }
                fold(&mut said, event, None)?;
            }
            checked.insert("stock_movements".into(), movements);
            let want = snapshot.unwrap_or_else(|| level_fields(&said.levels));
            let have = snapshot_rows(tx, snapshot_seq)?;
            checked.insert("stock_snapshots".into(), have.len().max(want.len()));
            compare("stock_snapshots", &have, &want, mismatches);
            return Ok(said);
        }
    }
}

/// Folds one event into what the log says; a sealed one also into the movement rows it
/// should have (`movements`).
fn fold(said: &mut Said, event: EventRow, movements: Option<&mut BTreeMap<String, Fields>>) -> Result<()> {
    let seq = event.seq;
    let malformed = |e: serde_json::Error| Error::internal_from(format!("event {seq} has a malformed payload"), e);
    let payload: Json = serde_json::from_str(&event.payload).map_err(malformed)?;
    let Ok(event_type) = event.event_type.parse::<EventType>() else {
        return Err(Error::internal(format!("event {seq} has an unknown type {:?}", event.event_type)));
    };
    said.events += 1;
    let aggregate_id = &event.aggregate_id;
    match event_type {
        EventType::InventoryChanged | EventType::InventoryReserved | EventType::InventoryReleased => {
            let stock: StockEvent = serde_json::from_value(payload).map_err(malformed)?;
            if let Some(movements) = movements {
                movements.insert(seq.to_string(), movement_fields(&stock, event.actor, event.occurred_at));
            }
            let level = said.levels.entry((stock.product_id.clone(), stock.warehouse_id.clone())).or_default();
            // Saturating: a tampered payload shows as a mismatch, never a panic.
            level[0] = level[0].saturating_add(stock.on_hand_delta.unwrap_or_default());
            level[1] = level[1].saturating_add(stock.reserved_delta.unwrap_or_default());
            hold(said, stock);
        }
        EventType::InventoryThresholdSet => {
            let threshold: ThresholdEvent = serde_json::from_value(payload).map_err(malformed)?;
            let level = said.levels.entry((threshold.product_id, threshold.warehouse_id)).or_default();
            (level[2], level[3]) = (threshold.reorder_point, threshold.reorder_qty);
        }
        EventType::OrderCreated
        | EventType::OrderStatusChanged
        | EventType::OrderPaymentReceived
        | EventType::OrderRefunded => book(said, seq, event_type, aggregate_id, &payload)?,
        EventType::OrderPicked => {
            let pick: PickEvent = serde_json::from_value(payload).map_err(malformed)?;
            let key = pick_key(aggregate_id, &pick.sku, &pick.warehouse);
            let (picked, of) = said.picks.entry(key).or_default();
            // Saturating: a tampered payload shows as a mismatch, never a panic.
            (*picked, *of) = (picked.saturating_add(pick.quantity), pick.of);
        }
        EventType::ProductCreated | EventType::ProductUpdated | EventType::ProductDeleted => {
            catalogue(said, event_type, aggregate_id, payload);
        }
        EventType::UserCreated | EventType::UserUpdated => enrol(said, aggregate_id, &payload),
        _ => {}
    }
    Ok(())
}

fn movement_fields(event: &StockEvent, actor: String, at: Timestamp) -> Fields {
    let mut fields = Fields::from([
        ("product_id", event.product_id.clone()),
        ("warehouse_id", event.warehouse_id.clone()),
        ("reference", event.reference.clone().unwrap_or_else(|| NONE.into())),
        ("actor", actor),
        ("occurred_at", micros(at)),
    ]);
    let numbers = [
        ("on_hand_delta", event.on_hand_delta),
        ("reserved_delta", event.reserved_delta),
        ("on_hand_after", event.on_hand),
        ("reserved_after", event.reserved),
    ];
    fields.extend(numbers.into_iter().filter_map(|(name, n)| Some((name, n?.to_string()))));
    fields.extend(event.kind.clone().map(|k| ("kind", k)));
    fields.extend(event.reason.clone().map(|r| ("reason", r)));
    fields
}

fn level_fields(levels: &Levels) -> BTreeMap<String, Fields> {
    levels
        .iter()
        .map(|((product, warehouse), counts)| (format!("{product}/{warehouse}"), counts_fields(*counts)))
        .collect()
}

fn counts_fields([on_hand, reserved, reorder_point, reorder_qty]: [i64; 4]) -> Fields {
    Fields::from([
        ("on_hand", on_hand.to_string()),
        ("reserved", reserved.to_string()),
        ("reorder_point", reorder_point.to_string()),
        ("reorder_qty", reorder_qty.to_string()),
    ])
}

fn snapshot_rows(tx: &mut Tx<'_>, seq: i64) -> Result<BTreeMap<String, Fields>> {
    let rows = tx.query(
        "SELECT product_id, warehouse_id, on_hand, reserved, reorder_point, reorder_qty FROM stock_snapshots
         WHERE seq = $1",
        params![seq],
    )?;
    rows.iter()
        .map(|r| {
            let (product, warehouse): (String, String) = (r.get(0)?, r.get(1)?);
            Ok((format!("{product}/{warehouse}"), counts_fields([r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?])))
        })
        .collect()
}

/// A time to the microsecond both backends keep.
fn micros(at: Timestamp) -> String {
    at.round(jiff::Unit::Microsecond).unwrap_or(at).to_string()
}

fn movement_rows(tx: &mut Tx<'_>, from: i64, to: i64) -> Result<BTreeMap<String, Fields>> {
    let rows = tx.query(
        "SELECT event_seq, product_id, warehouse_id, kind, on_hand_delta, reserved_delta, on_hand_after, reserved_after,
                reason, reference, actor, occurred_at
         FROM stock_movements WHERE event_seq > $1 AND event_seq <= $2",
        params![from, to],
    )?;
    rows.iter()
        .map(|r| {
            let seq: i64 = r.get(0)?;
            let text = |i| -> Result<String> { Ok(r.get::<Option<String>>(i)?.unwrap_or_else(|| NONE.into())) };
            let number = |i| -> Result<String> { Ok(r.get::<i64>(i)?.to_string()) };
            let fields = Fields::from([
                ("product_id", text(1)?),
                ("warehouse_id", text(2)?),
                ("kind", text(3)?),
                ("on_hand_delta", number(4)?),
                ("reserved_delta", number(5)?),
                ("on_hand_after", number(6)?),
                ("reserved_after", number(7)?),
                ("reason", text(8)?),
                ("reference", text(9)?),
                ("actor", text(10)?),
                ("occurred_at", micros(r.get(11)?)),
            ]);
            Ok((seq.to_string(), fields))
        })
        .collect()
}

/// A reservation's stock events: a reserve adds its lines; a shipment commits it; a
/// release releases it, or expires it when its reason says so.
fn hold(said: &mut Said, event: StockEvent) {
    let (Some(kind), Some(id)) = (event.kind.as_deref(), event.reference.clone()) else { return };
    let held = said.reservations.entry(id);
    match kind {
        "reserve" => {
            let held = held.or_default();
            let line = (event.product_id, event.warehouse_id);
            let quantity = held.lines.entry(line).or_default();
            *quantity = quantity.saturating_add(event.reserved_delta.unwrap_or_default());
            held.status = "active";
        }
        "ship" => held.or_default().status = "committed",
        "release" => {
            held.or_default().status = if event.reason.as_deref() == Some("expired") { "expired" } else { "released" };
        }
        _ => {}
    }
}

fn held_fields((id, held): (&String, &Held)) -> (String, Fields) {
    (id.clone(), Fields::from([("status", held.status.to_owned()), ("lines", lines_text(&held.lines))]))
}

fn lines_text(lines: &BTreeMap<(String, String), i64>) -> String {
    lines.iter().map(|((p, w), q)| format!("{p}@{w}×{q}")).collect::<Vec<_>>().join(", ")
}

fn reservation_rows(tx: &mut Tx<'_>) -> Result<BTreeMap<String, Fields>> {
    let mut lines: BTreeMap<String, BTreeMap<(String, String), i64>> = BTreeMap::new();
    for row in tx.query("SELECT reservation_id, product_id, warehouse_id, quantity FROM reservation_lines", &[])? {
        lines.entry(row.get(0)?).or_default().insert((row.get(1)?, row.get(2)?), row.get(3)?);
    }
    let rows = tx.query("SELECT id, status FROM reservations", &[])?;
    rows.iter()
        .map(|r| {
            let id: String = r.get(0)?;
            let lines = lines.get(&id).map(lines_text).unwrap_or_default();
            Ok((id, Fields::from([("status", r.get(1)?), ("lines", lines)])))
        })
        .collect()
}

/// Each level's `reserved`…
fn reserved_rows(tx: &mut Tx<'_>) -> Result<BTreeMap<String, Fields>> {
    let rows = tx.query("SELECT product_id, warehouse_id, reserved FROM stock_levels WHERE reserved <> 0", &[])?;
    rows.iter().map(|r| Ok(level_entry(r.get(0)?, r.get(1)?, r.get(2)?))).collect()
}

/// …and the sum of the active reservation lines it must equal.
fn active_lines(tx: &mut Tx<'_>) -> Result<BTreeMap<String, Fields>> {
    let rows = tx.query(
        "SELECT l.product_id, l.warehouse_id, CAST(SUM(l.quantity) AS BIGINT) FROM reservation_lines l
         JOIN reservations r ON r.id = l.reservation_id WHERE r.status = 'active'
         GROUP BY l.product_id, l.warehouse_id",
        &[],
    )?;
    rows.iter().map(|r| Ok(level_entry(r.get(0)?, r.get(1)?, r.get(2)?))).collect()
}

fn level_entry(product: String, warehouse: String, reserved: i64) -> (String, Fields) {
    (format!("{product}/{warehouse}"), Fields::from([("reserved", reserved.to_string())]))
}

/// An order event: created with its numbers, then status, paid and refunded as later
/// events carry them.
fn book(said: &mut Said, seq: i64, event_type: EventType, id: &str, payload: &Json) -> Result<()> {
    let text = |name: &str| payload.get(name).and_then(Json::as_str).map(str::to_owned);
    if event_type == EventType::OrderCreated {
        let currency = text("currency").map(|c| Currency::parse(&c)).transpose()?;
        let order = said.orders.entry(id.to_owned()).or_insert(Booked { currency, fields: Fields::new() });
        order.fields.extend(text("currency").map(|c| ("currency", c)));
        order.fields.extend(text("status").map(|s| ("status", s)));
        if let (Some(Json::Array(lines)), Some(currency)) = (payload.get("lines"), order.currency) {
            let line = |l: &Json| -> Result<String> {
                let price = l.get("unit_price").and_then(Json::as_str).unwrap_or_default();
                let price = Money::parse(price, currency, "unit_price")
                    .map_err(|e| Error::internal_from(format!("event {seq}"), e))?;
                Ok(order_line(&json_text(&l["sku"]), &json_text(&l["quantity"]), price.minor()))
            };
            order.fields.insert("lines", lines.iter().map(line).collect::<Result<Vec<_>>>()?.join(", "));
        }
    }
    let Some(order) = said.orders.get_mut(id) else { return Ok(()) };
    if let Some(to) = text("to") {
        order.fields.insert("status", to);
    }
    for field in ["total", "paid", "refunded"] {
        let minor = match (text(field), order.currency) {
            (Some(amount), Some(currency)) => Money::parse(&amount, currency, field)
                .map_err(|e| Error::internal_from(format!("event {seq}"), e))?
                .minor()
                .to_string(),
            _ => continue,
        };
        order.fields.insert(field, minor);
    }
    // A refund recorded before status changes carried the amount refunded.
    if text("to").as_deref() == Some("refunded") && payload.get("refunded").is_none() {
        order.fields.remove("refunded");
        said.unchecked.insert(format!("order {id}: refunded (its refund predates the amount in the log)"));
    }
    Ok(())
}

/// The payload of `OrderPicked`, as far as the picks need it.
#[derive(Deserialize)]
struct PickEvent {
    sku: String,
    warehouse: String,
    quantity: i64,
    of: i64,
}

fn pick_key(order: &str, sku: &str, warehouse: &str) -> String {
    format!("{order}/{sku}/{warehouse}")
}

fn pick_fields((picked, of): (i64, i64)) -> Fields {
    Fields::from([("picked", picked.to_string()), ("quantity", of.to_string())])
}

fn pick_rows(tx: &mut Tx<'_>) -> Result<BTreeMap<String, Fields>> {
    let rows = tx.query(
        "SELECT k.order_id, p.sku, w.code, k.picked, k.quantity FROM order_picks k
         JOIN products p ON p.id = k.product_id JOIN warehouses w ON w.id = k.warehouse_id",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            let key = pick_key(&r.get::<String>(0)?, &r.get::<String>(1)?, &r.get::<String>(2)?);
            Ok((key, pick_fields((r.get(3)?, r.get(4)?))))
        })
        .collect()
}

/// An order line as text: `SKU×QUANTITY@UNIT_PRICE_MINOR`.
fn order_line(sku: &str, quantity: &str, unit_price_minor: i64) -> String {
    format!("{sku}×{quantity}@{unit_price_minor}")
}

fn order_rows(tx: &mut Tx<'_>) -> Result<BTreeMap<String, Fields>> {
    let mut lines: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in
        tx.query("SELECT order_id, sku, quantity, unit_price_minor FROM order_lines ORDER BY order_id, line_no", &[])?
    {
        lines.entry(r.get(0)?).or_default().push(order_line(
            &r.get::<String>(1)?,
            &r.get::<i64>(2)?.to_string(),
            r.get(3)?,
        ));
    }
    let rows = tx.query("SELECT id, status, currency, total_minor, paid_minor, refunded_minor FROM orders", &[])?;
    rows.iter()
        .map(|r| {
            let id: String = r.get(0)?;
            let fields = Fields::from([
                ("status", r.get(1)?),
                ("currency", r.get(2)?),
                ("total", r.get::<i64>(3)?.to_string()),
                ("paid", r.get::<i64>(4)?.to_string()),
                ("refunded", r.get::<i64>(5)?.to_string()),
                ("lines", lines.remove(&id).unwrap_or_default().join(", ")),
            ]);
            Ok((id, fields))
        })
        .collect()
}

/// A product event: created whole, then each change's new value, then deleted.
fn catalogue(said: &mut Said, event_type: EventType, id: &str, payload: Json) {
    match (event_type, payload) {
        (EventType::ProductCreated, Json::Object(fields)) => {
            said.products.insert(id.to_owned(), (fields, false));
        }
        (EventType::ProductUpdated, payload) => {
            let (Some((product, _)), Some(Json::Object(changes))) = (said.products.get_mut(id), payload.get("changes"))
            else {
                return;
            };
            for (field, change) in changes {
                product.insert(field.clone(), change.get("to").cloned().unwrap_or(Json::Null));
            }
        }
        (EventType::ProductDeleted, _) => {
            if let Some((_, deleted)) = said.products.get_mut(id) {
                *deleted = true;
            }
        }
        _ => {}
    }
}

/// The catalog fields a product's events fix, as the table holds them.
const PRODUCT_FIELDS: [&str; 8] =
    ["sku", "name", "description", "currency", "category", "attributes", "barcode", "active"];

fn product_fields(
    (id, (product, deleted)): (&String, &(serde_json::Map<String, Json>, bool)),
) -> Result<(String, Fields)> {
    let mut fields: Fields =
        PRODUCT_FIELDS.into_iter().map(|name| (name, json_text(product.get(name).unwrap_or(&Json::Null)))).collect();
    let price = match (product.get("price").and_then(Json::as_str), product.get("currency").and_then(Json::as_str)) {
        (Some(price), Some(currency)) => Money::parse(price, Currency::parse(currency)?, "price")?.minor().to_string(),
        _ => NONE.into(),
    };
    fields.insert("price", price);
    fields.insert("deleted", deleted.to_string());
    if *deleted {
        fields.insert("active", "false".into());
    }
    Ok((id.clone(), fields))
}

/// A JSON value as text, strings without their quotes; null is none.
fn json_text(value: &Json) -> String {
    match value {
        Json::Null => NONE.into(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn product_rows(tx: &mut Tx<'_>) -> Result<BTreeMap<String, Fields>> {
    let rows = tx.query(
        "SELECT id, sku, name, description, price_minor, currency, category_id, attributes, barcode, active, deleted_at
         FROM products",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            let text = |i| -> Result<String> { Ok(r.get::<Option<String>>(i)?.unwrap_or_else(|| NONE.into())) };
            let attributes: String = r.get(7)?;
            let attributes = serde_json::from_str::<Json>(&attributes).map_or(attributes, |a| a.to_string());
            let fields = Fields::from([
                ("sku", text(1)?),
                ("name", text(2)?),
                ("description", text(3)?),
                ("price", r.get::<i64>(4)?.to_string()),
                ("currency", text(5)?),
                ("category", text(6)?),
                ("attributes", attributes),
                ("barcode", text(8)?),
                ("active", r.get::<bool>(9)?.to_string()),
                ("deleted", r.get::<Option<Timestamp>>(10)?.is_some().to_string()),
            ]);
            Ok((r.get(0)?, fields))
        })
        .collect()
}

/// A user event: each carries the user's role, active flag and warehouse scope whole.
fn enrol(said: &mut Said, id: &str, payload: &Json) {
    let user = said.users.entry(id.to_owned()).or_default();
    for name in ["role", "active", "warehouses"] {
        if let Some(value) = payload.get(name) {
            user.insert(name, scope_text(value));
        }
    }
}

/// A value as text; a list sorted and comma-joined.
fn scope_text(value: &Json) -> String {
    match value {
        Json::Array(items) => {
            let mut items: Vec<String> = items.iter().map(json_text).collect();
            items.sort();
            items.join(",")
        }
        other => json_text(other),
    }
}

fn user_rows(tx: &mut Tx<'_>) -> Result<BTreeMap<String, Fields>> {
    let mut scopes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in
        tx.query("SELECT u.user_id, w.code FROM user_warehouses u JOIN warehouses w ON w.id = u.warehouse_id", &[])?
    {
        scopes.entry(row.get(0)?).or_default().push(row.get(1)?);
    }
    let rows = tx.query("SELECT id, role, active FROM users", &[])?;
    rows.iter()
        .map(|r| {
            let id: String = r.get(0)?;
            let mut scope = scopes.remove(&id).unwrap_or_default();
            scope.sort();
            let fields = Fields::from([
                ("role", r.get(1)?),
                ("active", r.get::<bool>(2)?.to_string()),
                ("warehouses", scope.join(",")),
            ]);
            Ok((id, fields))
        })
        .collect()
}
