//! The one place stock changes: a guarded update of each level, its stock event
//! (`InventoryChanged`, `InventoryReserved`, `InventoryReleased`) and movement row, threshold
//! alerts, and the audit record — all recorded with the caller's transaction (the movement
//! row is written with the event, by the journal). Receive, adjust, transfer, count and
//! reservations all come here.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    MovementKind, StockLevel,
    rules::{Counts, MAX_QUANTITY},
};
use crate::{
    Actor, Backend, Conflict, Error, ProductId, Result, Shortage, WarehouseId,
    db::{Tx, Value, params},
    events::EventType,
    journal::{self, Change},
};

/// A product × warehouse a change applies to.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub product_id: ProductId,
    pub sku: String,
    pub warehouse_id: WarehouseId,
    pub warehouse: String,
}

/// How a line changes on-hand stock.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OnHand {
    By(i64),
    /// To an absolute figure (adjust `--set`, cycle count).
    Set(i64),
}

/// One line of a stock change.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub item: Item,
    pub kind: MovementKind,
    pub on_hand: OnHand,
    pub reserved_delta: i64,
}

/// What the whole change is, for the movements, events and audit record.
#[derive(Debug)]
pub(crate) struct Command<'a> {
    /// Permission-style action, e.g. `stock.transfer`.
    pub action: &'static str,
    /// The audit record's entity.
    pub entity: (&'a str, &'a str),
    /// The operator's reason; the movement kind when none was given.
    pub reason: Option<&'a str>,
    pub reference: Option<&'a str>,
}

/// The payload of `InventoryChanged`, `InventoryReserved` and `InventoryReleased`; replay
/// reads it back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StockChanged {
    pub product_id: String,
    pub sku: String,
    pub warehouse: String,
    pub warehouse_id: String,
    pub kind: MovementKind,
    /// The operator's reason, or the movement kind (`transfer` on both sides of a transfer).
    pub reason: String,
    pub reference: Option<String>,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

/// One line as applied: the level before and after.
#[derive(Debug, Clone)]
pub(crate) struct Applied {
    pub item: Item,
    pub before: Counts,
    pub after: Counts,
}

impl Applied {
    pub fn level(&self) -> StockLevel {
        StockLevel::new(&self.item, &self.after)
    }
}

/// Applies every line or none. Rows are changed in one global order (product id, then
/// warehouse id) so concurrent multi-line changes cannot deadlock; each change is a guarded
/// `UPDATE` that the database re-checks against the latest committed row. Lines that stock
/// cannot cover are all reported in one [`Error::InsufficientStock`].
pub(crate) fn apply(
    tx: &mut Tx<'_>,
    actor: &Actor,
    command: Command<'_>,
    lines: Vec<Line>,
    at: Timestamp,
) -> Result<Vec<Applied>> {
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|&i| (lines[i].item.product_id, lines[i].item.warehouse_id));
    let mut applied = change_together(tx, &lines, &order, at)?;
    let mut shortages = Vec::new();
    // Each line the statement for all did not change, on its own: a first level to create,
    // an absolute count, or a shortage to report.
    for i in order {
        if applied[i].is_some() {
            continue;
        }
        match change(tx, &lines[i], at)? {
            Ok(done) => applied[i] = Some(done),
            Err(shortage) => shortages.push(shortage),
        }
    }
    if !shortages.is_empty() {
        return Err(Error::InsufficientStock { lines: shortages });
    }
    let applied: Vec<Applied> = applied.into_iter().flatten().collect();
    record(tx, actor, &command, &lines, &applied, at)?;
    Ok(applied)
}

/// Sets a level's reorder point and quantity, creating the level if needed.
pub(crate) fn set_threshold(
    tx: &mut Tx<'_>,
    actor: &Actor,
    item: &Item,
    reorder_point: i64,
    reorder_qty: Option<i64>,
    at: Timestamp,
) -> Result<Applied> {
    let before = lock(tx, item, at)?;
    let after = Counts { reorder_point, reorder_qty: reorder_qty.unwrap_or(before.reorder_qty), ..before };
    tx.execute(
        "UPDATE stock_levels SET reorder_point = $1, reorder_qty = $2, updated_at = $3
         WHERE product_id = $4 AND warehouse_id = $5",
        params![after.reorder_point, after.reorder_qty, at, item.product_id, item.warehouse_id],
    )?;
    let mut events = vec![(
        EventType::InventoryThresholdSet,
        json!({
            "product_id": item.product_id, "sku": item.sku, "warehouse": item.warehouse,
            "warehouse_id": item.warehouse_id, "reorder_point": after.reorder_point, "reorder_qty": after.reorder_qty,
        }),
    )];
    let applied = Applied { item: item.clone(), before, after };
    events.extend(threshold_event(&applied));
    let product_id = item.product_id.to_string();
    let change = Change {
        action: "stock.threshold",
        entity: ("product", &product_id),
        before: Some(summary(std::slice::from_ref(&applied), |a| a.before)),
        after: Some(summary(std::slice::from_ref(&applied), |a| a.after)),
        events,
    };
    journal::record(tx, actor, change, at)?;
    Ok(applied)
}

/// Changes the levels of several lines in one statement on PostgreSQL — one round trip
/// however many lines — where none needs a level created first (an empty level allows
/// none of them) and none sets an absolute count: reservations, releases, shipments. The
/// levels are locked in the global order first, so this and the one-line path never
/// deadlock each other; a line its guard refuses is left unchanged (`None`) for [`change`]
/// to explain. One line, or SQLite, goes to [`change`] line by line.
fn change_together(tx: &mut Tx<'_>, lines: &[Line], order: &[usize], at: Timestamp) -> Result<Vec<Option<Applied>>> {
    let mut applied = vec![None; lines.len()];
    let deltas = |line: &Line| match line.on_hand {
        OnHand::By(delta) => Counts::default().apply(delta, line.reserved_delta).is_none().then_some(delta),
        OnHand::Set(_) => None,
    };
    let together: Vec<(usize, i64)> = order.iter().filter_map(|&i| deltas(&lines[i]).map(|d| (i, d))).collect();
    // SQLite has no round trips to save, and its planner scans every level for the join.
    if together.len() < 2 || tx.backend() == Backend::Sqlite {
        return Ok(applied);
    }
    let mut values = Vec::new();
    let mut rows = Vec::new();
    for &(i, on_hand_delta) in &together {
        let line = &lines[i];
        let n = values.len();
        rows.push(if n == 0 {
            "($1::text, $2::text, $3::bigint, $4::bigint)".to_owned()
        } else {
            format!("(${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4)
        });
        values.extend_from_slice(params![
            line.item.product_id,
            line.item.warehouse_id,
            on_hand_delta,
            line.reserved_delta
        ]);
    }
    let (at_param, max_param) = (values.len() + 1, values.len() + 2);
    values.extend_from_slice(params![at, MAX_QUANTITY]);
    let sql = format!(
        "WITH want (product_id, warehouse_id, on_hand_delta, reserved_delta) AS (VALUES {rows}),
         locked AS (
           SELECT s.product_id, s.warehouse_id FROM stock_levels s
           JOIN want w ON w.product_id = s.product_id AND w.warehouse_id = s.warehouse_id
           ORDER BY s.product_id COLLATE \"C\", s.warehouse_id COLLATE \"C\" FOR UPDATE OF s)
         UPDATE stock_levels SET on_hand = stock_levels.on_hand + w.on_hand_delta,
           reserved = stock_levels.reserved + w.reserved_delta, updated_at = ${at_param}
         FROM locked l JOIN want w ON w.product_id = l.product_id AND w.warehouse_id = l.warehouse_id
         WHERE stock_levels.product_id = l.product_id AND stock_levels.warehouse_id = l.warehouse_id
           AND stock_levels.reserved + w.reserved_delta >= 0
           AND stock_levels.on_hand + w.on_hand_delta >= stock_levels.reserved + w.reserved_delta
           AND stock_levels.on_hand + w.on_hand_delta <= ${max_param}
         RETURNING stock_levels.product_id, stock_levels.warehouse_id, stock_levels.on_hand, stock_levels.reserved,
           stock_levels.reorder_point, stock_levels.reorder_qty",
        rows = rows.join(", "),
    );
    for row in tx.query(&sql, &values)? {
        let (product_id, warehouse_id): (String, String) = (row.get(0)?, row.get(1)?);
        let Some(&(i, on_hand_delta)) = together.iter().find(|&&(i, _)| {
            let item = &lines[i].item;
            item.product_id.to_string() == product_id && item.warehouse_id.to_string() == warehouse_id
        }) else {
            return Err(Error::internal(format!(
                "the stock change returned a level it was not asked for ({product_id})"
            )));
        };
        let after = Counts::from_row(&row, 2)?;
        let before = Counts {
            on_hand: after.on_hand - on_hand_delta,
            reserved: after.reserved - lines[i].reserved_delta,
            ..after
        };
        applied[i] = Some(Applied { item: lines[i].item.clone(), before, after });
    }
    Ok(applied)
}

/// Changes one level, or says why stock cannot cover it.
fn change(tx: &mut Tx<'_>, line: &Line, at: Timestamp) -> Result<Result<Applied, Shortage>> {
    let item = &line.item;
    let on_hand_delta = match line.on_hand {
        OnHand::By(delta) => delta,
        OnHand::Set(target) => target - lock(tx, item, at)?.on_hand,
    };
    let update = |tx: &mut Tx<'_>| {
        tx.query_opt(
            "UPDATE stock_levels SET on_hand = on_hand + $1, reserved = reserved + $2, updated_at = $3
             WHERE product_id = $4 AND warehouse_id = $5 AND reserved + $2 >= 0 AND on_hand + $1 >= reserved + $2
               AND on_hand + $1 <= $6
             RETURNING on_hand, reserved, reorder_point, reorder_qty",
            params![on_hand_delta, line.reserved_delta, at, item.product_id, item.warehouse_id, MAX_QUANTITY],
        )
    };
    let mut row = update(tx)?;
    if row.is_none() && Counts::default().apply(on_hand_delta, line.reserved_delta).is_some() {
        // A change that even an empty level allows found no level: the first stock of this
        // item here — or a level another transaction created and committed after this
        // update looked (PostgreSQL). Create it if missing, then apply the change to it.
        create(tx, item, at)?;
        row = update(tx)?;
    }
    let Some(row) = row else {
        let current = read(tx, item, false)?.unwrap_or_default();
        let target = current.on_hand.checked_add(on_hand_delta);
        if target.is_none_or(|n| n > MAX_QUANTITY) {
            return Err(Error::conflict(
                Conflict::TooLarge,
                format!(
                    "{} at {} holds {} on hand: adding {on_hand_delta} would pass the most a level may hold ({MAX_QUANTITY})",
                    item.sku, item.warehouse, current.on_hand
                ),
            ));
        }
        return Ok(Err(Shortage {
            sku: item.sku.clone(),
            warehouse: item.warehouse.clone(),
            needed: line.reserved_delta.max(0) - on_hand_delta.min(0),
            available: current.available(),
            on_hand: current.on_hand,
            reserved: current.reserved,
        }));
    };
    let after = Counts::from_row(&row, 0)?;
    let before =
        Counts { on_hand: after.on_hand - on_hand_delta, reserved: after.reserved - line.reserved_delta, ..after };
    Ok(Ok(Applied { item: item.clone(), before, after }))
}

/// The level as it stands (all zero where it was never stocked).
pub(crate) fn level(tx: &mut Tx<'_>, item: &Item) -> Result<StockLevel> {
    Ok(StockLevel::new(item, &read(tx, item, false)?.unwrap_or_default()))
}

/// The level's current numbers, if it exists; locked until commit when `locked` is set.
fn read(tx: &mut Tx<'_>, item: &Item, locked: bool) -> Result<Option<Counts>> {
    let sql = format!(
        "SELECT on_hand, reserved, reorder_point, reorder_qty FROM stock_levels
         WHERE product_id = $1 AND warehouse_id = $2{}",
        if locked { tx.for_update() } else { "" }
    );
    tx.query_opt(&sql, params![item.product_id, item.warehouse_id])?.map(|row| Counts::from_row(&row, 0)).transpose()
}

/// The level's numbers, locked until commit; created at zero when missing.
fn lock(tx: &mut Tx<'_>, item: &Item, at: Timestamp) -> Result<Counts> {
    create(tx, item, at)?;
    read(tx, item, true)?
        .ok_or_else(|| Error::internal(format!("stock level of {} at {} vanished", item.sku, item.warehouse)))
}

fn create(tx: &mut Tx<'_>, item: &Item, at: Timestamp) -> Result<()> {
    tx.execute(
        "INSERT INTO stock_levels (product_id, warehouse_id, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (product_id, warehouse_id) DO NOTHING",
        params![item.product_id, item.warehouse_id, at],
    )?;
    Ok(())
}

/// Records an applied change: a stock event per line (each becomes a movement row, keyed by
/// its seq, when the journal seals it; see [`movement`]) and the audit record.
fn record(
    tx: &mut Tx<'_>,
    actor: &Actor,
    command: &Command<'_>,
    lines: &[Line],
    applied: &[Applied],
    at: Timestamp,
) -> Result<()> {
    let mut events = Vec::new();
    for (line, done) in lines.iter().zip(applied) {
        let payload = StockChanged {
            product_id: done.item.product_id.to_string(),
            sku: done.item.sku.clone(),
            warehouse: done.item.warehouse.clone(),
            warehouse_id: done.item.warehouse_id.to_string(),
            kind: line.kind,
            reason: command.reason.unwrap_or(line.kind.reason()).to_owned(),
            reference: command.reference.map(str::to_owned),
            on_hand_delta: done.after.on_hand - done.before.on_hand,
            reserved_delta: done.after.reserved - done.before.reserved,
            on_hand: done.after.on_hand,
            reserved: done.after.reserved,
            available: done.after.available(),
        };
        events.push((
            line.kind.event_type(),
            serde_json::to_value(&payload).map_err(|e| Error::internal_from("cannot encode JSON", e))?,
        ));
        events.extend(threshold_event(done));
    }
    let change = Change {
        action: command.action,
        entity: command.entity,
        before: Some(summary(applied, |a| a.before)),
        after: Some(summary(applied, |a| a.after)),
        events,
    };
    journal::record(tx, actor, change, at)
}

/// The movement row of a stock event as the journal seals it (see `journal::seal`): one per
/// `InventoryChanged`, `InventoryReserved` and `InventoryReleased`, keyed by the event's
/// seq and holding what its payload says, so the ledger can be read per item. Its values
/// are in the order `event_seq, product_id, warehouse_id, kind, on_hand_delta,
/// reserved_delta, on_hand_after, reserved_after, reason, reference, actor, occurred_at`.
pub(crate) fn movement(
    seq: i64,
    event_type: &str,
    payload: &str,
    actor: &str,
    at: Timestamp,
) -> Result<Option<Vec<Value>>> {
    let moves = [EventType::InventoryChanged, EventType::InventoryReserved, EventType::InventoryReleased];
    if !moves.iter().any(|t| t.as_str() == event_type) {
        return Ok(None);
    }
    let m: StockChanged =
        serde_json::from_str(payload).map_err(|e| Error::internal_from("a stock event's payload", e))?;
    Ok(Some(
        params![
            seq,
            m.product_id,
            m.warehouse_id,
            m.kind.as_str(),
            m.on_hand_delta,
            m.reserved_delta,
            m.on_hand,
            m.reserved,
            m.reason,
            m.reference,
            actor,
            at
        ]
        .to_vec(),
    ))
}

/// `InventoryThresholdReached` when this change made the level low.
fn threshold_event(applied: &Applied) -> Option<(EventType, serde_json::Value)> {
    let (item, after) = (&applied.item, &applied.after);
    super::rules::threshold_crossed(&applied.before, after).then(|| {
        (
            EventType::InventoryThresholdReached,
            json!({
                "product_id": item.product_id, "sku": item.sku, "warehouse": item.warehouse,
                "warehouse_id": item.warehouse_id, "on_hand": after.on_hand, "reserved": after.reserved,
                "available": after.available(), "reorder_point": after.reorder_point,
                "reorder_qty": after.reorder_qty, "suggested_qty": after.suggested_order(),
            }),
        )
    })
}

/// The audit summary of the levels a change touched: `[{sku, warehouse, on_hand, reserved, …}]`.
fn summary(applied: &[Applied], counts: impl Fn(&Applied) -> Counts) -> serde_json::Value {
    applied
        .iter()
        .map(|a| {
            let c = counts(a);
            json!({
                "sku": a.item.sku, "warehouse": a.item.warehouse, "on_hand": c.on_hand, "reserved": c.reserved,
                "reorder_point": c.reorder_point, "reorder_qty": c.reorder_qty,
            })
        })
        .collect()
}
