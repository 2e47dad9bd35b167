//! The stock ledger on both backends: stock changes and reservations per second (each one
//! transaction with its level update, movement, event and audit record) at 1 and 8 threads,
//! and of one hot SKU at 8, beside the bare limit of the same database, and replay/verify speed over a long event
//! log, from the beginning and from a snapshot.
//!
//! `cargo bench -p stockyard-core --bench ledger` — prints a Markdown table.
//! `STOCKYARD_BENCH_EVENTS` (default 1,000,000) sets the log length.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    thread,
    time::{Duration, Instant},
};

use stockyard_core::{Actor, Adjustment, Store, inventory::ReserveRequest};
use stockyard_testkit::TestDb;

const PRODUCTS: usize = 1_000;
const TIMED: Duration = Duration::from_secs(5);

fn main() {
    let events: usize = std::env::var("STOCKYARD_BENCH_EVENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    println!("| backend | measure | figure |\n|---|---|---|");
    throughput("SQLite", &TestDb::sqlite());
    replay("SQLite", &TestDb::sqlite(), events);
    match (TestDb::postgres(), TestDb::postgres()) {
        (Some(a), Some(b)) => {
            throughput("PostgreSQL", &a);
            replay("PostgreSQL", &b, events);
        }
        _ => println!("| PostgreSQL | (skipped: unreachable) | |"),
    }
}

/// A store with [`PRODUCTS`] products and a pool for 8 writers.
fn store(db: &TestDb) -> Store {
    stockyard_testkit::bench::stocked_store(db, PRODUCTS, 0)
}

fn throughput(backend: &str, db: &TestDb) {
    let (store, me) = (store(db), Actor::local_admin());
    for i in 0..PRODUCTS {
        store.inventory().receive(&me, &sku(i), None, 1_000_000_000, None).expect("opening stock");
    }
    for (name, warehouse) in [("at a named warehouse", Some("MAIN")), ("allocated", None)] {
        for threads in [1, 8] {
            let rate = timed_rate(threads, |worker| {
                let (store, me) = (&store, &me);
                move |n: usize| {
                    let request = ReserveRequest {
                        lines: vec![(sku((worker * 7919 + n) % PRODUCTS), 1)],
                        warehouse: warehouse.map(str::to_owned),
                        ..Default::default()
                    };
                    store.inventory().reserve(me, request).expect("reserve");
                }
            });
            println!("| {backend} | reserve one line {name}, {threads} thread(s) | {rate:.0}/s |");
        }
    }

    // A hot SKU: every writer reserves the same product, so each waits for the row lock.
    let rate = timed_rate(8, |_| {
        let (store, me) = (&store, &me);
        move |_| {
            let request =
                ReserveRequest { lines: vec![(sku(0), 1)], warehouse: Some("MAIN".into()), ..Default::default() };
            store.inventory().reserve(me, request).expect("reserve");
        }
    });
    println!("| {backend} | reserve one line of one hot SKU at a named warehouse, 8 thread(s) | {rate:.0}/s |");

    for threads in [1, 8] {
        let rate = timed_rate(threads, |worker| {
            let (store, me) = (&store, &me);
            move |n: usize| {
                let item = sku((worker * 7919 + n) % PRODUCTS);
                store.inventory().receive(me, &item, None, 1, None).expect("receive");
            }
        });
        println!("| {backend} | stock receive, {threads} thread(s) | {rate:.0}/s |");
    }
    bare::create(db);
    for (name, shape) in [
        ("bare limit: guarded UPDATE + INSERT", bare::Shape::Ledger),
        ("bare floor of a reservation: guarded UPDATE + 3 INSERTs", bare::Shape::Reservation),
    ] {
        for threads in [1, 8] {
            let rate = timed_rate(threads, |worker| bare::worker(db, worker, shape, false));
            println!("| {backend} | {name}, {threads} thread(s) | {rate:.0}/s |");
        }
    }
    let rate = timed_rate(8, |worker| bare::worker(db, worker, bare::Shape::Reservation, true));
    println!("| {backend} | bare floor of a reservation of one hot row, 8 thread(s) | {rate:.0}/s |");
}

fn replay(backend: &str, db: &TestDb, events: usize) {
    let (store, me) = (store(db), Actor::local_admin());
    // Fill the log with `events` stock events, 8 writers at a time, from opening stock that
    // the removals among them cannot exhaust.
    for i in 0..PRODUCTS {
        store.inventory().receive(&me, &sku(i), None, 1_000_000, None).expect("opening stock");
    }
    let next = AtomicUsize::new(PRODUCTS);
    let started = Instant::now();
    thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= events {
                        break;
                    }
                    let item = sku(n % PRODUCTS);
                    match n % 3 {
                        2 => store.inventory().adjust(&me, &item, None, Adjustment::By(-1), "bench").map(drop),
                        _ => store.inventory().receive(&me, &item, None, 1, None).map(drop),
                    }
                    .expect("stock change");
                }
            });
        }
    });
    println!(
        "| {backend} | fill a log of {events} stock events, 8 threads | {:.0}/s |",
        events as f64 / started.elapsed().as_secs_f64()
    );

    let full = store.inventory().verify(&me).expect("verify");
    assert!(full.ok && full.from_seq == 0, "{full:?}");
    println!(
        "| {backend} | verify: replay {} events from the start | {:.2} s ({:.0} events/s) |",
        full.events_applied,
        full.elapsed_ms as f64 / 1000.0,
        full.events_applied as f64 / (full.elapsed_ms.max(1) as f64 / 1000.0)
    );
    // That verify saved a snapshot; the next replay starts there.
    for n in 0..10_000 {
        store.inventory().receive(&me, &sku(n % PRODUCTS), None, 1, None).expect("receive");
    }
    let tail = store.inventory().verify(&me).expect("verify");
    assert!(tail.ok, "{tail:?}");
    println!(
        "| {backend} | verify again: {} events after the snapshot at seq {} | {:.2} s |",
        tail.events_applied,
        tail.from_seq,
        tail.elapsed_ms as f64 / 1000.0
    );
    let replay = store.inventory().replay(&me).expect("replay");
    println!(
        "| {backend} | events replay (rebuild the projection) from the snapshot | {:.2} s |",
        replay.elapsed_ms as f64 / 1000.0
    );
}

fn sku(i: usize) -> String {
    stockyard_testkit::bench::sku(i)
}

/// Operations per second over [`TIMED`].
fn timed_rate<W: FnMut(usize)>(threads: usize, worker: impl Fn(usize) -> W + Sync) -> f64 {
    stockyard_testkit::bench::timed_rate(threads, TIMED, worker)
}

/// The bare limit: on the same database and settings as the store, one transaction of a
/// guarded decrement of one stock row plus plain inserts — no keys, no indexes, nothing else.
mod bare {
    use stockyard_core::Backend;
    use stockyard_testkit::TestDb;

    const ROWS: usize = 1_000;

    /// What each bare transaction writes besides the stock row.
    #[derive(Clone, Copy)]
    pub enum Shape {
        /// One ledger row: the issue's reference figure.
        Ledger,
        /// The rows a one-line reservation cannot do without — the reservation, its event
        /// and its audit record — at their real sizes: the floor under any reservation
        /// design that writes them in the transaction of the change.
        Reservation,
    }

    impl Shape {
        /// Each insert, with the body it stores (an index into the bodies), if any.
        fn inserts(self) -> &'static [(&'static str, Option<usize>)] {
            match self {
                Shape::Ledger => &[("INSERT INTO bare_ledger (id, quantity) VALUES ($1, 1)", None)],
                Shape::Reservation => &[
                    ("INSERT INTO bare_reservations (id, body) VALUES ($1, $2)", Some(0)),
                    ("INSERT INTO bare_events (id, body) VALUES ($1, $2)", Some(1)),
                    ("INSERT INTO bare_audit (id, body) VALUES ($1, $2)", Some(2)),
                ],
            }
        }
    }

    pub fn create(db: &TestDb) {
        db.sql(&format!(
            "{}
             CREATE TABLE bare_ledger (id BIGINT NOT NULL, quantity BIGINT NOT NULL);
             CREATE TABLE bare_reservations (id BIGINT NOT NULL, body TEXT NOT NULL);
             CREATE TABLE bare_events (id BIGINT NOT NULL, body TEXT NOT NULL);
             CREATE TABLE bare_audit (id BIGINT NOT NULL, body TEXT NOT NULL);",
            stockyard_testkit::bench::bare_stock(ROWS)
        ));
    }

    /// A writer of `shape` transactions; `hot`: every one decrements the same row.
    pub fn worker(db: &TestDb, index: usize, shape: Shape, hot: bool) -> impl FnMut(usize) {
        const UPDATE: &str = "UPDATE bare_stock SET available = available - 1 WHERE id = $1 AND available >= 1";
        // Sizes as stored by a one-line reserve at a named warehouse (its line counted in the
        // reservation).
        let bodies = ["r".repeat(290), "e".repeat(410), "a".repeat(500)];
        let url = db.url().to_owned();
        let backend = db.backend();
        let mut sqlite = (backend == Backend::Sqlite).then(|| stockyard_testkit::bench::raw_sqlite(db));
        let mut postgres = (backend == Backend::Postgres).then(|| {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            let update = client.prepare(UPDATE).expect("prepare");
            let inserts: Vec<_> =
                shape.inserts().iter().map(|(sql, _)| client.prepare(sql).expect("prepare")).collect();
            (client, update, inserts)
        });
        move |n| {
            let id = if hot { 0 } else { ((index * 7919 + n) % ROWS) as i64 };
            if let Some(conn) = &mut sqlite {
                let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).expect("begin");
                let changed =
                    tx.prepare_cached(&UPDATE.replace('$', "?")).and_then(|mut s| s.execute([id])).expect("update");
                assert_eq!(changed, 1);
                for (sql, body) in shape.inserts() {
                    let mut statement = tx.prepare_cached(&sql.replace('$', "?")).expect("prepare");
                    match body {
                        Some(b) => statement.execute(rusqlite::params![id, bodies[*b]]),
                        None => statement.execute([id]),
                    }
                    .expect("insert");
                }
                tx.commit().expect("commit");
            }
            if let Some((client, update, inserts)) = &mut postgres {
                let mut tx = client.transaction().expect("begin");
                assert_eq!(tx.execute(&*update, &[&id]).expect("update"), 1);
                for (insert, (_, body)) in inserts.iter().zip(shape.inserts()) {
                    match body {
                        Some(b) => tx.execute(insert, &[&id, &bodies[*b]]),
                        None => tx.execute(insert, &[&id]),
                    }
                    .expect("insert");
                }
                tx.commit().expect("commit");
            }
        }
    }
}
