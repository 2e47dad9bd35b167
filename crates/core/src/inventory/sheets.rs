//! Stock to and from CSV. An import is a movement per row — a receipt, a count or an
//! adjustment with its reason, each with its event and audit record as `stock receive`,
//! `stock count` and `stock adjust` make them — and, where the row gives one, the level's
//! reorder threshold as `stock threshold` sets it; in one transaction, every row or none.
//! An export is every level's on-hand as a count with its threshold, which an import sets
//! back.

use std::{collections::HashMap, io::Read};

use jiff::Timestamp;
use serde::Serialize;

use super::{
    Inventory, MovementKind,
    ledger::{self, Command, Item, Line, OnHand},
    rules,
};
use crate::{
    Action, Actor, Error, Result, Sku,
    catalog::live_products_by,
    db::Tx,
    sheet::{Incoming, Problems, RowCheck, Sheet},
    validate, warehouses,
};

const REQUIRED: &[&str] = &["sku", "warehouse", "quantity"];
const OPTIONAL: &[&str] = &["mode", "reason", "reorder_point", "reorder_qty"];

/// What a stock import did, or would do (`dry_run`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockImport {
    pub dry_run: bool,
    pub rows: usize,
    /// Rows that changed on-hand stock.
    pub moved: usize,
    /// Counts that found what was recorded.
    pub unchanged: usize,
    /// Levels whose reorder threshold the file changed.
    pub thresholds_set: usize,
}

/// How a row changes on-hand stock.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Adds the quantity (positive).
    Receive,
    /// Sets on-hand to the quantity (zero or more), recording the variance.
    Count,
    /// Adds the quantity (non-zero, either sign); a reason is required.
    Adjust,
}

impl Mode {
    fn parse(value: &str) -> Result<Self> {
        match value.to_ascii_lowercase().as_str() {
            "receive" => Ok(Mode::Receive),
            "count" => Ok(Mode::Count),
            "adjust" => Ok(Mode::Adjust),
            _ => Err(Error::invalid("mode", format!("{value:?} is not receive, count or adjust"))),
        }
    }

    fn action(self) -> Action {
        match self {
            Mode::Receive => Action::StockReceive,
            Mode::Count => Action::StockCount,
            Mode::Adjust => Action::StockAdjust,
        }
    }

    fn kind(self) -> MovementKind {
        match self {
            Mode::Receive => MovementKind::Receive,
            Mode::Count => MovementKind::Count,
            Mode::Adjust => MovementKind::Adjust,
        }
    }

    fn on_hand(self, quantity: i64) -> Result<OnHand> {
        Ok(match self {
            Mode::Receive => OnHand::By(rules::positive("quantity", quantity)?),
            Mode::Count => OnHand::Set(rules::non_negative("quantity", quantity)?),
            Mode::Adjust => OnHand::By(rules::non_zero("quantity", quantity)?),
        })
    }
}

struct Row {
    line: u64,
    sku: Sku,
    warehouse: String,
    mode: Mode,
    on_hand: OnHand,
    reason: Option<String>,
    /// The reorder point and, if given, quantity to set.
    threshold: Option<(i64, Option<i64>)>,
}

impl Inventory<'_> {
    /// A movement per row of a CSV file (columns `sku,warehouse,quantity`, then any of
    /// `mode` — `count` (the default), `receive` or `adjust` — `reason`, and the level's
    /// `reorder_point` and `reorder_qty`), in one transaction. With `dry_run` nothing is kept. `progress` hears (rows done, rows in
    /// all) as the rows apply.
    pub fn import_stock(
        &self,
        actor: &Actor,
        input: impl Read,
        dry_run: bool,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<StockImport> {
        let file = Incoming::read(input, REQUIRED, OPTIONAL, false)?;
        let (rows, mut problems) = parse(&file)?;
        for row in &rows {
            actor.authorize_at(row.mode.action(), &row.warehouse)?;
        }
        let now = self.store.now();
        let run = |tx: &mut Tx<'_>| apply(tx, actor, &rows, &mut problems, now, progress);
        let report = self.store.pool.write_unless(dry_run, run)?;
        Ok(StockImport { dry_run, ..report })
    }

    /// Every stock level of a live product at a warehouse the actor may see, by SKU then
    /// warehouse, as counts of its on-hand stock with its threshold: what
    /// [`Inventory::import_stock`] reads.
    pub fn export_stock(&self, actor: &Actor) -> Result<Sheet> {
        actor.authorize(Action::StockRead)?;
        let rows = self.store.pool.read(|tx| {
            let levels = tx.query(
                "SELECT p.sku, w.code, l.on_hand, l.reorder_point, l.reorder_qty FROM stock_levels l
                 JOIN products p ON p.id = l.product_id JOIN warehouses w ON w.id = l.warehouse_id
                 WHERE p.deleted_at IS NULL ORDER BY p.sku, w.code",
                &[],
            )?;
            let mut rows = Vec::new();
            for level in &levels {
                let (sku, code): (String, String) = (level.get(0)?, level.get(1)?);
                if actor.in_scope(&code) {
                    let [on_hand, point, quantity]: [i64; 3] = [level.get(2)?, level.get(3)?, level.get(4)?];
                    let (mode, reason) = ("count".to_owned(), String::new());
                    rows.push(vec![
                        sku,
                        code,
                        on_hand.to_string(),
                        mode,
                        reason,
                        point.to_string(),
                        quantity.to_string(),
                    ]);
                }
            }
            Ok(rows)
        })?;
        let headers = REQUIRED.iter().chain(OPTIONAL).map(|h| (*h).to_owned()).collect();
        Ok(Sheet { headers, rows })
    }
}

/// The rows whose values are valid, and the problems of the others: the rest are found
/// against the database, so that all are reported together.
fn parse(file: &Incoming) -> Result<(Vec<Row>, Problems)> {
    let mut problems = Problems::default();
    let mut rows = Vec::new();
    for (line, record) in &file.records {
        let line = *line;
        let cell = |column: &str| file.cell(record, column);
        let required = |column: &str| file.required(record, column);
        let mut check = RowCheck::new(&mut problems, line);
        let sku = check.value("sku", required("sku").and_then(Sku::parse))?;
        let warehouse = check.value("warehouse", required("warehouse").and_then(warehouses::parse_code))?;
        let mode = check.value("mode", cell("mode").map_or(Ok(Mode::Count), Mode::parse))?;
        let quantity = check.value("quantity", required("quantity").and_then(|q| whole("quantity", q)))?;
        let on_hand = match (mode, quantity) {
            (Some(mode), Some(quantity)) => check.value("quantity", mode.on_hand(quantity))?,
            _ => None,
        };
        let reason =
            check.value("reason", cell("reason").map(|r| validate::line("reason", r, 200)).transpose())?.flatten();
        if let (Some(Mode::Adjust), None) = (mode, &reason) {
            check.value("reason", Err::<(), _>(Error::invalid("reason", "an adjustment needs a reason")))?;
        }
        let threshold = |column: &str| {
            cell(column).map(|n| whole(column, n).and_then(|n| rules::non_negative(column, n))).transpose()
        };
        let point = check.value("reorder_point", threshold("reorder_point"))?.flatten();
        let reorder_qty = check.value("reorder_qty", threshold("reorder_qty"))?.flatten();
        if let (None, Some(_)) = (point, reorder_qty) {
            check.value("reorder_point", Err::<(), _>(Error::invalid("reorder_point", "needed with a reorder_qty")))?;
        }
        let threshold = point.map(|point| (point, reorder_qty));
        if let (Some(sku), Some(warehouse), Some(mode), Some(on_hand), true) = (sku, warehouse, mode, on_hand, check.ok)
        {
            rows.push(Row { line, sku, warehouse, mode, on_hand, reason, threshold });
        }
    }
    Ok((rows, problems))
}

fn whole(column: &str, value: &str) -> Result<i64> {
    value.parse().map_err(|_| Error::invalid(column, format!("{value:?} is not a whole number")))
}

/// Applies the rows in the caller's transaction, in file order, or refuses them all.
fn apply(
    tx: &mut Tx<'_>,
    actor: &Actor,
    rows: &[Row],
    problems: &mut Problems,
    now: Timestamp,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<StockImport> {
    let skus: Vec<&str> = rows.iter().map(|r| r.sku.as_str()).collect();
    let products: HashMap<String, crate::ProductId> =
        live_products_by(tx, "sku", &skus, false)?.into_iter().map(|p| (p.sku.to_string(), p.id)).collect();
    let warehouses: HashMap<String, warehouses::Warehouse> =
        warehouses::all(tx)?.into_iter().map(|w| (w.code.clone(), w)).collect();
    let mut report = StockImport { dry_run: false, rows: rows.len(), moved: 0, unchanged: 0, thresholds_set: 0 };
    for (done, row) in rows.iter().enumerate() {
        let Some(&product_id) = products.get(row.sku.as_str()) else {
            problems.conflict(row.line, Some("sku"), format!("no product has SKU {}", row.sku));
            continue;
        };
        let warehouse = match warehouses.get(&row.warehouse) {
            Some(w) if w.active => w,
            Some(w) => {
                problems.conflict(row.line, Some("warehouse"), format!("warehouse {} is inactive", w.code));
                continue;
            }
            None => {
                problems.conflict(row.line, Some("warehouse"), format!("no warehouse has code {}", row.warehouse));
                continue;
            }
        };
        let item = Item {
            product_id,
            sku: row.sku.to_string(),
            warehouse_id: warehouse.id,
            warehouse: warehouse.code.clone(),
        };
        let id = product_id.to_string();
        let command = Command {
            action: row.mode.action().as_str(),
            entity: ("product", &id),
            reason: row.reason.as_deref(),
            reference: None,
        };
        let line = Line { item: item.clone(), kind: row.mode.kind(), on_hand: row.on_hand, reserved_delta: 0 };
        let applied = match ledger::apply(tx, actor, command, vec![line], now) {
            Ok(applied) => applied,
            Err(e) => {
                problems.refused(row.line, Some("quantity"), e)?;
                continue;
            }
        };
        let Some(&ledger::Applied { before, after, .. }) = applied.first() else {
            return Err(Error::internal("a stock change applied no line"));
        };
        if before.on_hand == after.on_hand {
            report.unchanged += 1;
        } else {
            report.moved += 1;
        }
        if let Some((point, quantity)) = row.threshold
            && (point, quantity.unwrap_or(after.reorder_qty)) != (after.reorder_point, after.reorder_qty)
        {
            actor.authorize_at(Action::StockThreshold, &item.warehouse)?;
            ledger::set_threshold(tx, actor, &item, point, quantity, now)?;
            report.thresholds_set += 1;
        }
        progress(done as u64 + 1, rows.len() as u64);
    }
    problems.finish()?;
    Ok(report)
}
