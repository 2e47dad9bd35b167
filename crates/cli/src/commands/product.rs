//! `product add|list|show|update|delete`.

use std::collections::{BTreeMap, HashMap};

use stockyard_core::{CategoryId, NewProduct, Product, ProductPatch, ProductQuery};

use super::Context;
use crate::{
    cli::{ProductAdd, ProductCommand, ProductList, ProductUpdate},
    exit::Failure,
    output::Column,
};

pub fn run(ctx: &mut Context<'_>, command: ProductCommand) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let catalog = store.catalog();
    let category_names = || -> Result<HashMap<CategoryId, String>, Failure> {
        Ok(catalog.categories(&actor)?.into_iter().map(|c| (c.id, c.name)).collect())
    };
    match command {
        ProductCommand::Add(add) => {
            let product = catalog.create_product(&actor, new_product(add))?;
            ctx.out.one(&product, &columns(category_names()?))?;
        }
        ProductCommand::List(list) => {
            let page = catalog.list_products(&actor, &query(list))?;
            ctx.out.list(&page, &columns(category_names()?))?;
        }
        ProductCommand::Show { sku } => {
            let product = catalog.product(&actor, &sku)?;
            ctx.out.one(&product, &columns(category_names()?))?;
        }
        ProductCommand::Update(update) => {
            let sku = update.sku.clone();
            let product = catalog.update_product(&actor, &sku, patch(update))?;
            ctx.out.one(&product, &columns(category_names()?))?;
        }
        ProductCommand::Delete { sku } => {
            let product = catalog.product(&actor, &sku)?;
            catalog.delete_product(&actor, &product.id.to_string())?;
            ctx.out.done(&format!("Deleted product {}.", product.sku), &serde_json::json!({}))?;
        }
    }
    Ok(())
}

fn new_product(add: ProductAdd) -> NewProduct {
    NewProduct {
        sku: add.sku,
        name: add.name,
        description: add.description,
        price: add.price,
        currency: add.currency,
        category: add.category,
        attributes: add.attributes.into_iter().collect(),
        barcode: add.barcode,
    }
}

fn query(list: ProductList) -> ProductQuery {
    ProductQuery {
        search: list.search,
        category: list.category,
        min_price: list.min_price,
        max_price: list.max_price,
        attributes: list.attributes.into_iter().collect(),
        limit: list.page.limit,
        cursor: list.page.cursor,
    }
}

fn patch(update: ProductUpdate) -> ProductPatch {
    ProductPatch {
        name: update.name,
        description: update.description,
        price: update.price,
        currency: update.currency,
        category: update.category,
        attributes: None,
        merge_attributes: update.attributes.into_iter().collect::<BTreeMap<_, _>>(),
        barcode: update.barcode,
        active: update.active,
        expected_version: update.if_version,
    }
}

fn columns(categories: HashMap<CategoryId, String>) -> Vec<Column<'static, Product>> {
    let attributes = |p: &Product| p.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
    vec![
        Column::new("SKU", |p: &Product| p.sku.to_string()),
        Column::new("NAME", |p: &Product| p.name.clone()),
        Column::new("PRICE", |p: &Product| p.price.amount()),
        Column::new("CURRENCY", |p: &Product| p.price.currency().to_string()),
        Column::new("CATEGORY", move |p: &Product| {
            p.category.and_then(|c| categories.get(&c).cloned()).unwrap_or_default()
        }),
        Column::new("ATTRIBUTES", attributes),
        Column::new("BARCODE", |p: &Product| p.barcode.clone().unwrap_or_default()),
        Column::new("ACTIVE", |p: &Product| p.active.to_string()),
        Column::wide("ID", |p: &Product| p.id.to_string()),
        Column::wide("CATEGORY_ID", |p: &Product| p.category.map(|c| c.to_string()).unwrap_or_default()),
        Column::wide("VERSION", |p: &Product| p.version.to_string()),
        Column::wide("DESCRIPTION", |p: &Product| p.description.clone()),
        Column::wide("CREATED_AT", |p: &Product| p.created_at.to_string()),
        Column::wide("UPDATED_AT", |p: &Product| p.updated_at.to_string()),
    ]
}
