//! `stock show|receive|adjust|transfer|count|threshold|history|reorder`.

use stockyard_core::{
    Adjustment, Counted, Page, StockLevel, StockQuery,
    inventory::{Movement, ReorderSuggestion},
};

use super::Context;
use crate::{
    cli::{StockAdjust, StockCommand, StockShow},
    exit::Failure,
    output::Column,
};

pub fn run(ctx: &mut Context<'_>, command: StockCommand) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let inventory = store.inventory();
    match command {
        StockCommand::Show(show) => {
            let page = inventory.levels(&actor, &query(show))?;
            ctx.out.list(&page, &level_columns(|l: &StockLevel| l, Vec::new()))?;
        }
        StockCommand::Receive { sku, quantity, warehouse, reason, key } => {
            let level = inventory.receive(&key.on(actor)?, &sku, warehouse.as_deref(), quantity, reason.as_deref())?;
            ctx.out.one(&level, &level_columns(|l: &StockLevel| l, Vec::new()))?;
        }
        StockCommand::Adjust(StockAdjust { sku, by, set, warehouse, reason, key }) => {
            // Clap requires exactly one of the two.
            let adjustment = match (by, set) {
                (Some(delta), _) => Adjustment::By(delta),
                (None, Some(target)) => Adjustment::Set(target),
                (None, None) => return Err(Failure::Other("stock adjust needs --by or --set".into())),
            };
            let level = inventory.adjust(&key.on(actor)?, &sku, warehouse.as_deref(), adjustment, &reason)?;
            ctx.out.one(&level, &level_columns(|l: &StockLevel| l, Vec::new()))?;
        }
        StockCommand::Transfer { sku, quantity, from, to, key } => {
            let transfer = inventory.transfer(&key.on(actor)?, &sku, quantity, &from, &to)?;
            let message = format!(
                "Moved {} × {} from {} (now {} on hand) to {} (now {} on hand).",
                transfer.quantity,
                transfer.sku,
                transfer.from.warehouse,
                transfer.from.on_hand,
                transfer.to.warehouse,
                transfer.to.on_hand
            );
            ctx.out.done(&message, &transfer)?;
        }
        StockCommand::Count { sku, counted, warehouse } => {
            let counted = inventory.count(&actor, &sku, warehouse.as_deref(), counted)?;
            let extra = vec![
                Column::new("EXPECTED", |c: &Counted| c.expected.to_string()),
                Column::new("VARIANCE", |c: &Counted| signed(c.variance)),
            ];
            ctx.out.one(&counted, &level_columns(|c: &Counted| &c.level, extra))?;
        }
        StockCommand::Threshold { sku, warehouse, reorder_point, reorder_qty } => {
            let level = inventory.set_threshold(&actor, &sku, warehouse.as_deref(), reorder_point, reorder_qty)?;
            ctx.out.one(&level, &level_columns(|l: &StockLevel| l, Vec::new()))?;
        }
        StockCommand::History { sku, warehouse, page } => {
            let page = inventory.history(&actor, &sku, warehouse.as_deref(), page.limit, page.cursor.as_deref())?;
            ctx.out.list(&page, &movement_columns())?;
        }
        StockCommand::Reorder { warehouse } => {
            let items = inventory.reorder_suggestions(&actor, warehouse.as_deref())?;
            let extra = vec![Column::new("SUGGESTED_QTY", |s: &ReorderSuggestion| s.suggested_qty.to_string())];
            let columns = level_columns(|s: &ReorderSuggestion| &s.level, extra);
            ctx.out.list(&Page { items, next_cursor: None }, &columns)?;
        }
    }
    Ok(())
}

fn query(show: StockShow) -> StockQuery {
    StockQuery {
        sku: show.sku,
        warehouse: show.warehouse,
        low: show.low,
        at: show.at,
        limit: show.page.limit,
        cursor: show.page.cursor,
    }
}

/// The columns of a stock level inside `T`, then `extra`, then the wide product id.
fn level_columns<T: 'static>(level: fn(&T) -> &StockLevel, extra: Vec<Column<'static, T>>) -> Vec<Column<'static, T>> {
    let mut columns = vec![
        Column::new("SKU", move |t: &T| level(t).sku.clone()),
        Column::new("WAREHOUSE", move |t: &T| level(t).warehouse.clone()),
        Column::new("ON_HAND", move |t: &T| level(t).on_hand.to_string()),
        Column::new("RESERVED", move |t: &T| level(t).reserved.to_string()),
        Column::new("AVAILABLE", move |t: &T| level(t).available.to_string()),
        Column::new("REORDER_POINT", move |t: &T| level(t).reorder_point.to_string()),
        Column::new("REORDER_QTY", move |t: &T| level(t).reorder_qty.to_string()),
        Column::new("LOW", move |t: &T| if level(t).is_low() { "yes".into() } else { String::new() }),
    ];
    columns.extend(extra);
    columns.push(Column::wide("PRODUCT_ID", move |t: &T| level(t).product_id.to_string()));
    columns
}

fn movement_columns() -> Vec<Column<'static, Movement>> {
    vec![
        Column::new("SEQ", |m: &Movement| m.seq.to_string()),
        Column::new("TIME", |m: &Movement| m.occurred_at.to_string()),
        Column::new("WAREHOUSE", |m: &Movement| m.warehouse.clone()),
        Column::new("KIND", |m: &Movement| m.kind.as_str().to_owned()),
        Column::new("ON_HAND_DELTA", |m: &Movement| signed(m.on_hand_delta)),
        Column::new("RESERVED_DELTA", |m: &Movement| signed(m.reserved_delta)),
        Column::new("ON_HAND", |m: &Movement| m.on_hand.to_string()),
        Column::new("RESERVED", |m: &Movement| m.reserved.to_string()),
        Column::new("REASON", |m: &Movement| m.reason.clone().unwrap_or_default()),
        Column::new("ACTOR", |m: &Movement| m.actor.clone()),
        Column::wide("REFERENCE", |m: &Movement| m.reference.clone().unwrap_or_default()),
    ]
}

/// A change with its sign: `+5`, `-3`, `0`.
fn signed(n: i64) -> String {
    if n > 0 { format!("+{n}") } else { n.to_string() }
}
