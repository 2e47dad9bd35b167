//! Embedding stockyard: open a SQLite store, set it up, add products and search them.
//!
//! Run with `cargo run --example embed [DATABASE_URL]`; without an argument it works in a
//! temporary folder and leaves nothing behind.

use std::collections::BTreeMap;

use stockyard::{Actor, NewCategory, NewProduct, ProductQuery, Store, StoreOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = tempfile::tempdir()?;
    let url =
        std::env::args().nth(1).unwrap_or_else(|| format!("sqlite://{}", scratch.path().join("shop.db").display()));

    let store = Store::create(&url, &StoreOptions::default())?;
    let me = Actor::local_admin();
    store.init(&me)?;

    let catalog = store.catalog();
    catalog.create_category(&me, NewCategory { name: "Kitchen".into(), parent: None })?;
    for (sku, name, price) in [("MUG-01", "Enamel mug", "9.50"), ("PAN-01", "Cast iron pan", "45.00")] {
        let product = catalog.create_product(
            &me,
            NewProduct {
                sku: sku.into(),
                name: name.into(),
                price: price.into(),
                category: Some("Kitchen".into()),
                attributes: BTreeMap::from([("material".into(), "iron".into())]),
                ..Default::default()
            },
        )?;
        println!("created {} {} at {}", product.sku, product.name, product.price);
    }

    let found = catalog.list_products(&me, &ProductQuery { search: Some("mug".into()), ..Default::default() })?;
    println!("search \"mug\": {:?}", found.items.iter().map(|p| p.sku.as_str()).collect::<Vec<_>>());

    // Errors are typed: a duplicate SKU is a conflict with a machine-readable code, not a panic.
    let again = catalog.create_product(
        &me,
        NewProduct { sku: "MUG-01".into(), name: "Another".into(), price: "1".into(), ..Default::default() },
    );
    match again {
        Err(stockyard::Error::Conflict { code: stockyard::Conflict::Duplicate, message }) => {
            println!("refused as expected: {message}")
        }
        other => return Err(format!("expected a conflict, got {other:?}").into()),
    }
    Ok(())
}
