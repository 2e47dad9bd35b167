//! `init` and `demo`.

use stockyard_core::{Store, StoreOptions, demo};

use super::Context;
use crate::exit::Failure;

pub fn init(ctx: &mut Context<'_>) -> Result<(), Failure> {
    let actor = ctx.actor()?;
    let store = Store::create(&ctx.config.database, &StoreOptions::default())?;
    let report = store.init(&actor)?;
    let message = if report.initialised {
        format!("Initialised {} (warehouse {} created).", store.location(), report.warehouses_created.join(", "))
    } else {
        format!("{} is already initialised; nothing changed.", store.location())
    };
    Ok(ctx.out.done(&message, &report)?)
}

pub fn demo(ctx: &mut Context<'_>, products: usize) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let report = demo::seed(&store, &actor, products)?;
    let message = format!(
        "Demo data: {} categories, {} warehouses, {} products created (existing ones kept); {} stock movements, \
         {} levels at or below their reorder point (`stockyard stock show --low`), {} active reservations.",
        report.categories_created,
        report.warehouses_created,
        report.products_created,
        report.stock_movements,
        report.low_stock,
        report.reservations_created
    );
    Ok(ctx.out.done(&message, &report)?)
}
