//! `warehouse add|list`.

use stockyard_core::{NewWarehouse, Page, Warehouse};

use super::Context;
use crate::{cli::WarehouseCommand, exit::Failure, output::Column};

pub fn run(ctx: &mut Context<'_>, command: WarehouseCommand) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    match command {
        WarehouseCommand::Add { code, name } => {
            let warehouse = store.warehouses().create(&actor, NewWarehouse { code, name })?;
            ctx.out.one(&warehouse, &columns())?;
        }
        WarehouseCommand::List => {
            let items = store.warehouses().list(&actor)?;
            ctx.out.list(&Page { items, next_cursor: None }, &columns())?;
        }
    }
    Ok(())
}

fn columns() -> Vec<Column<'static, Warehouse>> {
    vec![
        Column::new("CODE", |w: &Warehouse| w.code.clone()),
        Column::new("NAME", |w: &Warehouse| w.name.clone()),
        Column::new("ACTIVE", |w: &Warehouse| w.active.to_string()),
        Column::wide("ID", |w: &Warehouse| w.id.to_string()),
        Column::wide("CREATED_AT", |w: &Warehouse| w.created_at.to_string()),
    ]
}
