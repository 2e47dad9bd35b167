//! Reading stock: levels now or as of a past time, the movement history of an item, and
//! reorder suggestions.

use jiff::Timestamp;
use serde::Serialize;

use super::{Inventory, MovementKind, StockLevel, rules::Counts};
use crate::{
    Action, Actor, Error, Page, Result, catalog,
    db::{Filter, Row, Tx},
    page, warehouses,
};

/// Which stock levels to list.
#[derive(Debug, Clone, Default)]
pub struct StockQuery {
    /// One product (SKU or id); all when absent.
    pub sku: Option<String>,
    /// One warehouse code; all when absent.
    pub warehouse: Option<String>,
    /// Only levels at or below their reorder point.
    pub low: bool,
    /// Stock as of this time, from the ledger, with the thresholds set by then.
    pub at: Option<Timestamp>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// One ledger entry, as `stock history` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Movement {
    /// The seq of its `InventoryChanged` event.
    pub seq: i64,
    pub sku: String,
    pub warehouse: String,
    pub kind: MovementKind,
    pub on_hand_delta: i64,
    pub reserved_delta: i64,
    /// On-hand after the movement.
    pub on_hand: i64,
    /// Reserved after the movement.
    pub reserved: i64,
    pub reason: Option<String>,
    pub reference: Option<String>,
    pub actor: String,
    #[serde(serialize_with = "crate::clock::wire")]
    pub occurred_at: Timestamp,
}

/// What to buy for a low level, and how much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReorderSuggestion {
    #[serde(flatten)]
    pub level: StockLevel,
    pub suggested_qty: i64,
}

/// Separates SKU and warehouse code in a cursor; neither may contain it.
const CURSOR_SEPARATOR: char = '\u{1f}';

impl Inventory<'_> {
    /// Stock levels by SKU, then warehouse code, one page at a time. Naming both a SKU and
    /// a warehouse always yields that level, at zero if it never held stock.
    /// A user scoped to warehouses sees only theirs.
    pub fn levels(&self, actor: &Actor, query: &StockQuery) -> Result<Page<StockLevel>> {
        match query.warehouse.as_deref() {
            Some(code) => actor.authorize_at(Action::StockRead, code)?,
            None => actor.authorize(Action::StockRead)?,
        }
        let limit = page::limit(query.limit)?;
        let after = match &query.cursor {
            Some(cursor) => {
                let key = page::decode_cursor(cursor)?;
                let (sku, code) = key
                    .split_once(CURSOR_SEPARATOR)
                    .ok_or_else(|| Error::invalid("cursor", format!("{cursor:?} is not a stock cursor")))?;
                Some((sku.to_owned(), code.to_owned()))
            }
            None => None,
        };
        self.store.pool.read(|tx| {
            let product = query.sku.as_deref().map(|sku| catalog::find_product(tx, sku, false)).transpose()?;
            let warehouse = query.warehouse.as_deref().map(|code| warehouses::require(tx, code)).transpose()?;
            let mut filter = Filter::default();
            // As of a past time, on-hand and reserved come from the last movement before it,
            // the thresholds from the last `InventoryThresholdSet` before it.
            let (on_hand, reserved, reorder_point, reorder_qty) = match query.at {
                None => ("l.on_hand".into(), "l.reserved".into(), "l.reorder_point".into(), "l.reorder_qty".into()),
                Some(at) => {
                    let at = filter.bind(at);
                    (
                        as_of("on_hand_after", &at),
                        as_of("reserved_after", &at),
                        threshold_as_of(tx, "reorder_point", &at),
                        threshold_as_of(tx, "reorder_qty", &at),
                    )
                }
            };
            filter.push("l.product_id = p.id AND w.id = l.warehouse_id AND p.deleted_at IS NULL".into());
            filter.and_some("p.id = {}", product.as_ref().map(|p| p.id));
            filter.and_some("l.warehouse_id = {}", warehouse.as_ref().map(|w| w.id));
            if let Some((sku, code)) = &after {
                // `sku >= s` first: a range the SKU index can seek to.
                let (sku, code) = (filter.bind(sku), filter.bind(code));
                filter.push(format!("p.sku >= {sku} AND (p.sku > {sku} OR w.code > {code})"));
            }
            if query.low {
                filter.push(format!("{reorder_point} > 0 AND {on_hand} - {reserved} <= {reorder_point}"));
            }
            filter.in_scope("w.code", actor.scope());
            // CROSS JOIN fixes SQLite's join order: products in SKU order, each one's levels.
            // Left to itself it starts from the few warehouses and sorts every level of the
            // store for one page. PostgreSQL plans it as the inner join it is.
            let sql = format!(
                "SELECT l.product_id, p.sku, w.code, {on_hand}, {reserved}, {reorder_point}, {reorder_qty}
                 FROM products p CROSS JOIN stock_levels l CROSS JOIN warehouses w{}
                 ORDER BY p.sku, w.code LIMIT {}",
                filter.clause(),
                filter.bind(i64::from(limit) + 1)
            );
            let mut items = tx.query(&sql, filter.params())?.iter().map(level_from_row).collect::<Result<Vec<_>>>()?;
            if let (Some(product), Some(warehouse), true, false) = (&product, &warehouse, items.is_empty(), query.low) {
                let item = super::Item {
                    product_id: product.id,
                    sku: product.sku.to_string(),
                    warehouse_id: warehouse.id,
                    warehouse: warehouse.code.clone(),
                };
                items.push(StockLevel::new(&item, &Counts::default()));
            }
            Ok(page::from_rows(items, limit, |l| format!("{}{CURSOR_SEPARATOR}{}", l.sku, l.warehouse)))
        })
    }

    /// The ledger of one product (optionally at one warehouse), oldest first. It names who
    /// moved stock and the reservations held, so a `client` may not read it.
    pub fn history(
        &self,
        actor: &Actor,
        sku: &str,
        warehouse: Option<&str>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Movement>> {
        match warehouse {
            Some(code) => actor.authorize_at(Action::StockHistory, code)?,
            None => actor.authorize(Action::StockHistory)?,
        }
        let limit = page::limit(limit)?;
        let after: i64 = match cursor {
            Some(c) => page::decode_cursor(c)?
                .parse()
                .map_err(|_| Error::invalid("cursor", format!("{c:?} is not a history cursor")))?,
            None => 0,
        };
        self.store.pool.read(|tx| {
            let product = catalog::find_product(tx, sku, false)?;
            let warehouse = warehouse.map(|code| warehouses::require(tx, code)).transpose()?;
            let mut filter = Filter::default();
            filter.and("m.product_id = {}", product.id);
            filter.and_some("m.warehouse_id = {}", warehouse.map(|w| w.id));
            filter.and("m.event_seq > {}", after);
            filter.in_scope("w.code", actor.scope());
            let sql = format!(
                "SELECT m.event_seq, w.code, m.kind, m.on_hand_delta, m.reserved_delta, m.on_hand_after,
                        m.reserved_after, m.reason, m.reference, m.actor, m.occurred_at
                 FROM stock_movements m JOIN warehouses w ON w.id = m.warehouse_id{}
                 ORDER BY m.event_seq LIMIT {}",
                filter.clause(),
                filter.bind(i64::from(limit) + 1)
            );
            let rows = tx.query(&sql, filter.params())?;
            let sku = product.sku.to_string();
            let items = rows.iter().map(|row| movement_from_row(row, &sku)).collect::<Result<Vec<_>>>()?;
            Ok(page::from_rows(items, limit, |m| m.seq.to_string()))
        })
    }

    /// Every low level (optionally in one warehouse) with what to order, most urgent first:
    /// the furthest below its reorder point.
    pub fn reorder_suggestions(&self, actor: &Actor, warehouse: Option<&str>) -> Result<Vec<ReorderSuggestion>> {
        let mut suggestions = Vec::new();
        let mut cursor = None;
        loop {
            let query = StockQuery {
                warehouse: warehouse.map(str::to_owned),
                low: true,
                limit: Some(page::MAX_LIMIT),
                cursor,
                ..Default::default()
            };
            let page = self.levels(actor, &query)?;
            suggestions.extend(
                page.items
                    .into_iter()
                    .map(|level| ReorderSuggestion { suggested_qty: level.counts().suggested_order(), level }),
            );
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        suggestions.sort_by_key(|s| (s.level.available - s.level.reorder_point, s.level.sku.clone()));
        Ok(suggestions)
    }
}

/// A column of the last movement of the level at or before the time `at` (a placeholder),
/// or 0 before the first.
fn as_of(column: &str, at: &str) -> String {
    format!(
        "COALESCE((SELECT m.{column} FROM stock_movements m
                   WHERE m.product_id = l.product_id AND m.warehouse_id = l.warehouse_id AND m.occurred_at <= {at}
                   ORDER BY m.event_seq DESC LIMIT 1), 0)"
    )
}

/// A threshold of the level as the last `InventoryThresholdSet` at or before the time `at`
/// (a placeholder) set it, or 0 before the first. Threshold events are few, and found by
/// the event type index.
fn threshold_as_of(tx: &Tx<'_>, field: &str, at: &str) -> String {
    let json = |key| tx.json_field("e.payload", key);
    format!(
        "COALESCE((SELECT CAST({value} AS BIGINT) FROM events e
                   WHERE e.event_type = '{event}' AND {product} = l.product_id AND {warehouse} = l.warehouse_id
                     AND e.occurred_at <= {at}
                   ORDER BY e.seq DESC LIMIT 1), 0)",
        value = json(field),
        event = crate::events::EventType::InventoryThresholdSet.as_str(),
        product = json("product_id"),
        warehouse = json("warehouse_id"),
    )
}

fn level_from_row(row: &Row) -> Result<StockLevel> {
    let (on_hand, reserved): (i64, i64) = (row.get(3)?, row.get(4)?);
    Ok(StockLevel {
        product_id: row.get(0)?,
        sku: row.get(1)?,
        warehouse: row.get(2)?,
        on_hand,
        reserved,
        available: on_hand - reserved,
        reorder_point: row.get(5)?,
        reorder_qty: row.get(6)?,
    })
}

fn movement_from_row(row: &Row, sku: &str) -> Result<Movement> {
    let kind: String = row.get(2)?;
    Ok(Movement {
        seq: row.get(0)?,
        sku: sku.to_owned(),
        warehouse: row.get(1)?,
        kind: kind.parse()?,
        on_hand_delta: row.get(3)?,
        reserved_delta: row.get(4)?,
        on_hand: row.get(5)?,
        reserved: row.get(6)?,
        reason: row.get(7)?,
        reference: row.get(8)?,
        actor: row.get(9)?,
        occurred_at: row.get(10)?,
    })
}
