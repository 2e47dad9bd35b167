//! Replay and verify: the stock-level projection recomputed from the event log alone.
//! Replay starts from the newest snapshot — itself computed by a replay, never copied from
//! the projection, so it cannot hide drift — and takes a new one every
//! `StoreOptions::snapshot_every` events, which keeps replay fast on a long log.

use std::{collections::BTreeMap, time::Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Inventory, rules::Counts};
use crate::{
    Action, Actor, Error, Result,
    db::{Tx, Value, params},
    events::EventType,
    journal::{self, Change},
};

/// The span of seqs read per query while replaying: a primary-key range, which both
/// planners scan in order whatever mix of event types it holds.
const BATCH: i64 = 10_000;

/// What `events replay` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    /// The snapshot replay started from (0: the beginning of the log).
    pub from_seq: i64,
    /// The last stock event applied.
    pub to_seq: i64,
    pub events_applied: u64,
    pub levels: usize,
    /// Projection rows that differed from the replay and were rewritten.
    pub corrected: usize,
    /// Set when this replay saved a new snapshot (at `to_seq`).
    pub snapshot_taken: bool,
    pub elapsed_ms: u64,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub from_seq: i64,
    pub to_seq: i64,
    pub events_applied: u64,
    pub levels: usize,
    pub differences: Vec<Difference>,
    pub elapsed_ms: u64,
}

/// One number on which the projection and the replay disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub product_id: String,
    pub sku: String,
    pub warehouse: String,
    pub field: String,
    pub projection: i64,
    pub replay: i64,
}

/// (product id, warehouse id).
type Key = (String, String);

/// The projection as the event log says it should be.
struct Replayed {
    levels: BTreeMap<Key, Counts>,
    /// Whether the levels hold queued records' events, not sealed yet (PostgreSQL).
    pending: bool,
    from_seq: i64,
    to_seq: i64,
    applied: u64,
}

/// The fields of stock events that replay needs: a movement's deltas (`InventoryChanged`,
/// `InventoryReserved`, `InventoryReleased`) or a level's thresholds (`InventoryThresholdSet`).
#[derive(Deserialize)]
struct StockEvent {
    product_id: String,
    warehouse_id: String,
    #[serde(default)]
    on_hand_delta: i64,
    #[serde(default)]
    reserved_delta: i64,
    reorder_point: Option<i64>,
    reorder_qty: Option<i64>,
}

impl Inventory<'_> {
    /// Rebuilds the stock-level projection from the event log, rewriting every row that
    /// differs. Stock writers wait while it runs.
    pub fn replay(&self, actor: &Actor) -> Result<ReplayReport> {
        actor.authorize(Action::StockReplay)?;
        let started = Instant::now();
        self.store.pool.write(|tx| {
            tx.lock_exclusive("stock_levels")?;
            let replayed = replay(tx)?;
            let projection = projection(tx)?;
            let now = self.store.now();
            let mut corrected = Vec::new();
            for key in replayed.levels.keys().chain(projection.keys()) {
                let (want, have) =
                    (replayed.levels.get(key).copied().unwrap_or_default(), projection.get(key).copied());
                if have != Some(want) && !corrected.contains(key) {
                    upsert(tx, key, &want, now)?;
                    corrected.push(key.clone());
                }
            }
            if !corrected.is_empty() {
                let change = Change {
                    action: "stock.replay",
                    entity: ("stock", "levels"),
                    before: None,
                    after: Some(json!({ "corrected": corrected.len(), "to_seq": replayed.to_seq })),
                    events: Vec::new(),
                };
                journal::record(tx, actor, change, now)?;
            }
            let every = self.store.options.snapshot_every;
            let snapshot_taken = tx.bookkeeping(|tx| snapshot_if_due(tx, &replayed, every))?;
            Ok(ReplayReport {
                from_seq: replayed.from_seq,
                to_seq: replayed.to_seq,
                events_applied: replayed.applied,
                levels: replayed.levels.len(),
                corrected: corrected.len(),
                snapshot_taken,
                elapsed_ms: elapsed_ms(started),
            })
        })
    }

    /// Compares the projection with a replay of the event log, in one consistent snapshot
    /// of the database, and reports every number that differs.
    pub fn verify(&self, actor: &Actor) -> Result<VerifyReport> {
        actor.authorize(Action::StockVerify)?;
        let started = Instant::now();
        let (replayed, differences) = self.store.pool.read(|tx| {
            let replayed = replay(tx)?;
            let projection = projection(tx)?;
            let mut differences = Vec::new();
            let keys: std::collections::BTreeSet<&Key> = replayed.levels.keys().chain(projection.keys()).collect();
            for key in keys {
                let want = replayed.levels.get(key).copied().unwrap_or_default();
                let have = projection.get(key).copied().unwrap_or_default();
                let fields = [
                    ("on_hand", have.on_hand, want.on_hand),
                    ("reserved", have.reserved, want.reserved),
                    ("reorder_point", have.reorder_point, want.reorder_point),
                    ("reorder_qty", have.reorder_qty, want.reorder_qty),
                ];
                for (field, projection, replay) in fields.into_iter().filter(|(_, p, r)| p != r) {
                    let (sku, warehouse) = names(tx, key)?;
                    differences.push(Difference {
                        product_id: key.0.clone(),
                        sku,
                        warehouse,
                        field: field.to_owned(),
                        projection,
                        replay,
                    });
                }
            }
            Ok((replayed, differences))
        })?;
        // The replay is sound whatever the projection says: keep it as a snapshot when due.
        let every = self.store.options.snapshot_every;
        if !replayed.pending && replayed.to_seq - replayed.from_seq >= every {
            self.store.pool.bookkeep(|tx| snapshot_if_due(tx, &replayed, every))?;
        }
        Ok(VerifyReport {
            ok: differences.is_empty(),
            from_seq: replayed.from_seq,
            to_seq: replayed.to_seq,
            events_applied: replayed.applied,
            levels: replayed.levels.len(),
            differences,
            elapsed_ms: elapsed_ms(started),
        })
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Folds the stock events after the newest snapshot into it.
fn replay(tx: &mut Tx<'_>) -> Result<Replayed> {
    let from_seq: i64 = tx.query_one("SELECT COALESCE(MAX(seq), 0) FROM stock_snapshots", &[])?.get(0)?;
    let mut levels = BTreeMap::new();
    let rows = tx.query(
        "SELECT product_id, warehouse_id, on_hand, reserved, reorder_point, reorder_qty FROM stock_snapshots WHERE seq = $1",
        params![from_seq],
    )?;
    for row in rows {
        levels.insert((row.get(0)?, row.get(1)?), Counts::from_row(&row, 2)?);
    }
    let head = tx.last_event_seq()?;
    let (mut to_seq, mut applied) = (from_seq, 0);
    let mut start = from_seq;
    let mut fold = |seq: i64, event_type: &str, payload: &str| -> Result<()> {
        let moves = [
            EventType::InventoryChanged,
            EventType::InventoryReserved,
            EventType::InventoryReleased,
            EventType::InventoryThresholdSet,
        ];
        if !moves.iter().any(|t| t.as_str() == event_type) {
            return Ok(());
        }
        to_seq = seq;
        let event: StockEvent = serde_json::from_str(payload)
            .map_err(|e| Error::internal_from(format!("event {seq} has a malformed stock payload"), e))?;
        let level: &mut Counts = levels.entry((event.product_id, event.warehouse_id)).or_default();
        match (event.reorder_point, event.reorder_qty) {
            (Some(point), Some(qty)) => (level.reorder_point, level.reorder_qty) = (point, qty),
            _ => {
                let overflow = || Error::internal(format!("event {seq} overflows a stock level"));
                level.on_hand = level.on_hand.checked_add(event.on_hand_delta).ok_or_else(overflow)?;
                level.reserved = level.reserved.checked_add(event.reserved_delta).ok_or_else(overflow)?;
            }
        }
        applied += 1;
        Ok(())
    };
    while start < head {
        let rows = tx.query(
            "SELECT seq, event_type, payload FROM events
             WHERE seq > $1 AND seq <= $2 AND event_type IN ($3, $4, $5, $6) ORDER BY seq",
            params![
                start,
                start + BATCH,
                EventType::InventoryChanged.as_str(),
                EventType::InventoryReserved.as_str(),
                EventType::InventoryReleased.as_str(),
                EventType::InventoryThresholdSet.as_str()
            ],
        )?;
        start += BATCH;
        for row in &rows {
            let (event_type, payload): (String, String) = (row.get(1)?, row.get(2)?);
            fold(row.get(0)?, &event_type, &payload)?;
        }
    }
    // Records queued and committed but not sealed yet (PostgreSQL) are changes the levels
    // already hold.
    let pending = journal::pending_events(tx, head)?;
    for event in &pending {
        fold(event.seq, &event.event_type, &event.payload)?;
    }
    Ok(Replayed { levels, pending: !pending.is_empty(), from_seq, to_seq, applied })
}

fn projection(tx: &mut Tx<'_>) -> Result<BTreeMap<Key, Counts>> {
    let rows = tx.query(
        "SELECT product_id, warehouse_id, on_hand, reserved, reorder_point, reorder_qty FROM stock_levels",
        &[],
    )?;
    rows.iter().map(|row| Ok(((row.get(0)?, row.get(1)?), Counts::from_row(row, 2)?))).collect()
}

/// SKU and warehouse code of a level, for a report.
fn names(tx: &mut Tx<'_>, (product_id, warehouse_id): &Key) -> Result<(String, String)> {
    let sku =
        tx.query_opt("SELECT sku FROM products WHERE id = $1", params![product_id])?.map(|r| r.get(0)).transpose()?;
    let code = tx
        .query_opt("SELECT code FROM warehouses WHERE id = $1", params![warehouse_id])?
        .map(|r| r.get(0))
        .transpose()?;
    Ok((sku.unwrap_or_else(|| product_id.clone()), code.unwrap_or_else(|| warehouse_id.clone())))
}

fn upsert(tx: &mut Tx<'_>, (product_id, warehouse_id): &Key, c: &Counts, now: jiff::Timestamp) -> Result<()> {
    tx.execute(
        "INSERT INTO stock_levels (product_id, warehouse_id, on_hand, reserved, reorder_point, reorder_qty, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (product_id, warehouse_id) DO UPDATE SET on_hand = excluded.on_hand, reserved = excluded.reserved,
             reorder_point = excluded.reorder_point, reorder_qty = excluded.reorder_qty, updated_at = excluded.updated_at",
        params![product_id, warehouse_id, c.on_hand, c.reserved, c.reorder_point, c.reorder_qty, now],
    )?;
    Ok(())
}

/// Replaces the snapshot with this replay when enough stock events have passed since the
/// last one; returns whether it did.
fn snapshot_if_due(tx: &mut Tx<'_>, replayed: &Replayed, every: i64) -> Result<bool> {
    let newest: i64 = tx.query_one("SELECT COALESCE(MAX(seq), 0) FROM stock_snapshots", &[])?.get(0)?;
    // A snapshot holds sealed events only: their seqs are final.
    if replayed.pending || replayed.to_seq - newest < every {
        return Ok(false);
    }
    tx.execute("DELETE FROM stock_snapshots", &[])?;
    let levels: Vec<_> = replayed.levels.iter().collect();
    for chunk in levels.chunks(500) {
        let tuples: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = i * 7;
                format!("(${}, ${}, ${}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7)
            })
            .collect();
        let sql = format!(
            "INSERT INTO stock_snapshots (seq, product_id, warehouse_id, on_hand, reserved, reorder_point, reorder_qty) VALUES {}",
            tuples.join(", ")
        );
        let values: Vec<Value> = chunk
            .iter()
            .flat_map(|((product, warehouse), c)| {
                params![replayed.to_seq, product, warehouse, c.on_hand, c.reserved, c.reorder_point, c.reorder_qty]
                    .to_vec()
            })
            .collect();
        tx.execute(&sql, &values)?;
    }
    Ok(true)
}
