//! Catalog at a realistic size, on both backends: how fast products are created (each its
//! own transaction with event and audit record) and how long reads take once the catalog
//! holds `STOCKYARD_BENCH_PRODUCTS` products (default 100,000).
//!
//! `cargo bench -p stockyard-core --bench catalog` — prints a Markdown table.

use std::{collections::BTreeMap, time::Instant};

use stockyard_core::{Actor, ProductQuery, demo};
use stockyard_testkit::{TestDb, bench};

fn main() {
    let products: usize =
        std::env::var("STOCKYARD_BENCH_PRODUCTS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    println!("| backend | operation | figure |\n|---|---|---|");
    bench("SQLite", &TestDb::sqlite(), products);
    match TestDb::postgres() {
        Some(db) => bench("PostgreSQL", &db, products),
        None => println!("| PostgreSQL | (skipped: unreachable) | |"),
    }
}

fn bench(backend: &str, db: &TestDb, products: usize) {
    let store = db.store();
    let me = Actor::local_admin();

    // Create in tenths, timing the first and the last tenth: inserts must not slow down
    // as the tables grow.
    demo::seed(&store, &me, 0).expect("categories and warehouses");
    let tenth = (products / 10).max(1);
    let mut rates = Vec::new();
    for step in 0..10 {
        let started = Instant::now();
        for i in step * tenth..(step + 1) * tenth {
            store.catalog().create_product(&me, demo::product(i)).expect("create");
        }
        rates.push(tenth as f64 / started.elapsed().as_secs_f64());
    }
    // Reads are measured at steady state, with planner statistics as autovacuum (PostgreSQL)
    // or `PRAGMA optimize` (SQLite) would leave them.
    store.optimize().expect("optimize");
    println!("| {backend} | create product, first {tenth} | {:.0}/s |", rates[0]);
    println!("| {backend} | create product, last {tenth} (table at {products}) | {:.0}/s |", rates[9]);

    let query = |f: fn(&mut ProductQuery)| {
        let mut q = ProductQuery::default();
        f(&mut q);
        q
    };
    let reads: Vec<(&str, ProductQuery)> = vec![
        ("list first page (50)", ProductQuery::default()),
        ("search one word", query(|q| q.search = Some("hub".into()))),
        ("search two words", query(|q| q.search = Some("classic keyboard".into()))),
        ("category subtree", query(|q| q.category = Some("Electronics".into()))),
        ("attribute filter", query(|q| q.attributes = BTreeMap::from([("color".into(), "blue".into())]))),
        ("price range", query(|q| (q.min_price, q.max_price) = (Some("100".into()), Some("101".into())))),
        (
            "everything combined",
            query(|q| {
                q.search = Some("pro".into());
                q.category = Some("Home".into());
                q.min_price = Some("50".into());
                q.attributes = BTreeMap::from([("brand".into(), "Acme".into())]);
            }),
        ),
    ];
    let middle = demo::product(products / 2).sku;
    report(backend, "show product by SKU", || {
        store.catalog().product(&me, &middle).expect("show");
    });
    for (name, q) in reads {
        report(backend, name, || {
            store.catalog().list_products(&me, &q).expect("list");
        });
    }
    let deep = store.catalog().list_products(&me, &query(|q| q.limit = Some(1000))).expect("page");
    let cursor = deep.next_cursor;
    report(backend, "next page by cursor (50)", || {
        store
            .catalog()
            .list_products(&me, &ProductQuery { cursor: cursor.clone(), ..Default::default() })
            .expect("page");
    });
    drop(store);
}

/// Prints the median latency of `op` (see [`bench::median`]).
fn report(backend: &str, name: &str, op: impl FnMut()) {
    let (median, runs) = bench::median(op);
    println!("| {backend} | {name} | {:.2} ms median ({runs} runs) |", median.as_secs_f64() * 1000.0);
}
