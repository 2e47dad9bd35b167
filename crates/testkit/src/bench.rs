//! Benchmark support shared by the bench programs.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    thread,
    time::{Duration, Instant},
};

/// Operations per second over `timed`: `threads` threads, each running the operation
/// `worker(index)` makes for it, called with a counter.
pub fn timed_rate<W: FnMut(usize)>(threads: usize, timed: Duration, worker: impl Fn(usize) -> W + Sync) -> f64 {
    let done = AtomicUsize::new(0);
    let started = Instant::now();
    thread::scope(|s| {
        for index in 0..threads {
            let (worker, done) = (&worker, &done);
            s.spawn(move || {
                let mut op = worker(index);
                let mut n = 0;
                while started.elapsed() < timed {
                    op(n);
                    n += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
            });
        }
    });
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// The median latency of `op`, run for about a second and at least 20 times, and how many
/// times it ran.
pub fn median(mut op: impl FnMut()) -> (Duration, usize) {
    let mut samples = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) || samples.len() < 20 {
        let t = Instant::now();
        op();
        samples.push(t.elapsed());
    }
    samples.sort();
    (samples[samples.len() / 2], samples.len())
}

/// An initialised store with a pool for 8 writers and `products` products `BENCH-00000`…,
/// each with `stock` units at MAIN when `stock` is positive.
pub fn stocked_store(db: &crate::TestDb, products: usize, stock: i64) -> stockyard_core::Store {
    use stockyard_core::{Actor, NewProduct, Store, StoreOptions};
    let store = Store::create(db.url(), &StoreOptions { pool_size: 10, ..db.options() }).expect("open");
    let me = Actor::local_admin();
    store.init(&me).expect("init");
    for i in 0..products {
        let product =
            NewProduct { sku: sku(i), name: format!("Bench item {i}"), price: "1.00".into(), ..Default::default() };
        store.catalog().create_product(&me, product).expect("product");
        if stock > 0 {
            store.inventory().receive(&me, &sku(i), None, stock, None).expect("opening stock");
        }
    }
    store
}

/// SQL creating the bare-figure stock table: `rows` rows `(id, available)` with ids from 0
/// and a billion available each, so decrements never run out.
pub fn bare_stock(rows: usize) -> String {
    let values: Vec<String> = (0..rows).map(|i| format!("({i}, 1000000000)")).collect();
    format!(
        "CREATE TABLE bare_stock (id BIGINT PRIMARY KEY, available BIGINT NOT NULL);
         INSERT INTO bare_stock VALUES {};",
        values.join(", ")
    )
}

/// The SKU of bench product `i`.
pub fn sku(i: usize) -> String {
    format!("BENCH-{i:05}")
}

/// A raw connection to a test SQLite database with the store's settings
/// (crates/core/src/db/sqlite.rs), for bare-limit measurements.
pub fn raw_sqlite(db: &crate::TestDb) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(db.url().trim_start_matches("sqlite://")).expect("open");
    conn.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000;")
        .expect("pragmas");
    conn
}
