//! `category add|list`.

use std::collections::HashMap;

use stockyard_core::{Category, CategoryId, NewCategory, Page};

use super::Context;
use crate::{cli::CategoryCommand, exit::Failure, output::Column};

pub fn run(ctx: &mut Context<'_>, command: CategoryCommand) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    match command {
        CategoryCommand::Add { name, parent } => {
            let category = store.catalog().create_category(&actor, NewCategory { name, parent })?;
            let all = store.catalog().categories(&actor)?;
            ctx.out.one(&category, &columns(&all))?;
        }
        CategoryCommand::List => {
            let items = store.catalog().categories(&actor)?;
            ctx.out.list(&Page { items: items.clone(), next_cursor: None }, &columns(&items))?;
        }
    }
    Ok(())
}

/// Table rows indent each category under its parent.
fn columns(all: &[Category]) -> Vec<Column<'static, Category>> {
    let parents: HashMap<CategoryId, Option<CategoryId>> = all.iter().map(|c| (c.id, c.parent_id)).collect();
    let names: HashMap<CategoryId, String> = all.iter().map(|c| (c.id, c.name.clone())).collect();
    let depth =
        move |c: &Category| std::iter::successors(c.parent_id, |p| parents.get(p).copied().flatten()).take(64).count();
    vec![
        Column::new("NAME", move |c: &Category| format!("{}{}", "  ".repeat(depth(c)), c.name)),
        Column::new("PARENT", move |c: &Category| c.parent_id.and_then(|p| names.get(&p).cloned()).unwrap_or_default()),
        Column::wide("ID", |c: &Category| c.id.to_string()),
        Column::wide("PARENT_ID", |c: &Category| c.parent_id.map(|p| p.to_string()).unwrap_or_default()),
    ]
}
