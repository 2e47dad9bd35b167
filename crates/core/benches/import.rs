//! Importing a catalog and its stock from CSV, on both backends: `STOCKYARD_BENCH_PRODUCTS`
//! product rows (default 100,000; two attributes each, 20 categories) into an empty store,
//! the same file again (every row unchanged), every price changed (every row an update),
//! and a receipt per product as a stock file — each one transaction, timed whole with the
//! parse. Beside them, the bare figure: the same product rows inserted by multi-row
//! `INSERT`s in one transaction, with nothing checked or recorded.
//!
//! `cargo bench -p stockyard-core --bench import` — prints a Markdown table.

use std::{fmt::Write, time::Instant};

use stockyard_core::Actor;
use stockyard_testkit::TestDb;

fn main() {
    let products: usize =
        std::env::var("STOCKYARD_BENCH_PRODUCTS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    println!("| backend | {products} rows | seconds | rows/s |\n|---|---|---|---|");
    bench("SQLite", &TestDb::sqlite(), products);
    match TestDb::postgres() {
        Some(db) => bench("PostgreSQL", &db, products),
        None => println!("| PostgreSQL | (skipped: unreachable) | | |"),
    }
}

fn catalog(products: usize, cents: usize) -> String {
    let mut csv = String::from("sku,name,price,category,attr.color,attr.size\n");
    for i in 0..products {
        let _ = writeln!(
            csv,
            "SKU-{i:06},Product {i},{}.{:02},Category {},c{},s{}",
            1 + i % 100,
            cents,
            i % 20,
            i % 7,
            i % 5
        );
    }
    csv
}

fn bench(backend: &str, db: &TestDb, products: usize) {
    let store = db.store();
    let me = Actor::local_admin();
    let timed = |name: &str, f: &dyn Fn()| {
        let started = Instant::now();
        f();
        let seconds = started.elapsed().as_secs_f64();
        println!("| {backend} | {name} | {seconds:.2} | {:.0} |", products as f64 / seconds);
    };
    let first = catalog(products, 0);
    timed("import products: all new", &|| {
        store.catalog().import_products(&me, first.as_bytes(), false, &mut |_, _| {}).expect("import");
    });
    timed("import products: the same file, all unchanged", &|| {
        let report = store.catalog().import_products(&me, first.as_bytes(), false, &mut |_, _| {}).expect("again");
        assert_eq!(report.unchanged, products);
    });
    let repriced = catalog(products, 50);
    timed("import products: every price changed", &|| {
        let report = store.catalog().import_products(&me, repriced.as_bytes(), false, &mut |_, _| {}).expect("update");
        assert_eq!(report.updated, products);
    });
    let mut stock = String::from("sku,warehouse,quantity,mode\n");
    for i in 0..products {
        let _ = writeln!(stock, "SKU-{i:06},MAIN,{},receive", 1 + i % 50);
    }
    timed("import stock: a receipt per product", &|| {
        store.inventory().import_stock(&me, stock.as_bytes(), false, &mut |_, _| {}).expect("stock");
    });
    timed("bare floor: a product row, its event and its audit record per row, generated in SQL", &|| {
        bare(db, products)
    });
}

/// What no import can leave out, with nothing checked, indexed or chained: per row a
/// product-sized row (300 bytes), an event (450) and an audit record (650), inserted from
/// a generated series in one transaction.
fn bare(db: &TestDb, rows: usize) {
    let insert = |table: &str, size: usize| {
        format!(
            "CREATE TABLE {table} (id BIGINT NOT NULL, body TEXT NOT NULL);
             WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows})
             INSERT INTO {table} (id, body) SELECT n, '{}' || n FROM s;",
            "o".repeat(size)
        )
    };
    db.sql(&format!(
        "BEGIN; {} {} {} COMMIT;",
        insert("bare_products", 300),
        insert("bare_events", 450),
        insert("bare_audit", 650)
    ));
}
