//! Order placement on both backends: 3-line orders per second (reserve, order, lines,
//! history, events and audit record in one transaction) at 1 and 8 threads, at a named
//! warehouse and allocated (SQLite also at 64 and 256), beside two bare figures of the same database: three guarded
//! stock updates and one order-sized insert per transaction, and the floor of an order —
//! the rows no design can leave out of its transaction.
//!
//! `cargo bench -p stockyard-core --bench orders` — prints a Markdown table.

use std::time::Duration;

use stockyard_core::{
    Actor, Backend,
    orders::{Customer, NewOrder},
};
use stockyard_testkit::TestDb;

const PRODUCTS: usize = 1_000;
const LINES: usize = 3;
const TIMED: Duration = Duration::from_secs(5);

fn main() {
    println!("| backend | measure | figure |\n|---|---|---|");
    placement("SQLite", &TestDb::sqlite());
    match TestDb::postgres() {
        Some(db) => placement("PostgreSQL", &db),
        None => println!("| PostgreSQL | (skipped: unreachable) | |"),
    }
}

/// The first of `LINES` consecutive products for call `n` of worker `worker`: each order's
/// SKUs are distinct and ascending, so concurrent orders lock stock rows in one order.
fn first_line(worker: usize, n: usize) -> usize {
    (worker * 7919 + n * LINES) % (PRODUCTS - LINES + 1)
}

fn placement(backend: &str, db: &TestDb) {
    let store = stockyard_testkit::bench::stocked_store(db, PRODUCTS, 1_000_000_000);
    let me = Actor::local_admin();
    // SQLite has one writer at a time: more callers only queue, and the last two figures
    // show what queueing costs.
    let callers: &[usize] = if db.backend() == Backend::Sqlite { &[1, 8, 64, 256] } else { &[1, 8] };
    for (name, warehouse) in [("at a named warehouse", Some("MAIN")), ("allocated", None)] {
        for &threads in callers {
            let rate = timed_rate(threads, |worker| {
                let (store, me) = (&store, &me);
                move |n: usize| {
                    let first = first_line(worker, n);
                    let order = NewOrder {
                        customer: Customer {
                            email: format!("customer{}@example.com", n % 10_000),
                            name: Some("Ada Lovelace".into()),
                            phone: Some("+44 20 7946 0958".into()),
                            address: Some("12 St James's Square, London SW1Y 4JH, United Kingdom".into()),
                        },
                        lines: (first..first + LINES).map(|i| (sku(i), 1)).collect(),
                        warehouse: warehouse.map(str::to_owned),
                        ..Default::default()
                    };
                    store.orders().create(me, order).expect("place order");
                }
            });
            println!("| {backend} | place a {LINES}-line order {name}, {threads} thread(s) | {rate:.0}/s |");
        }
    }
    drop(store);

    bare::create(db);
    for (name, shape) in [
        (format!("bare: {LINES} guarded UPDATEs + 1 order-sized INSERT"), bare::Shape::Bare),
        (format!("bare floor of an order: {LINES} guarded UPDATEs + 4 INSERTs"), bare::Shape::Floor),
    ] {
        for threads in [1, 8] {
            let rate = timed_rate(threads, |worker| bare::worker(db, worker, shape));
            println!("| {backend} | {name}, {threads} thread(s) | {rate:.0}/s |");
        }
    }
}

fn sku(i: usize) -> String {
    stockyard_testkit::bench::sku(i)
}

/// Operations per second over [`TIMED`].
fn timed_rate<W: FnMut(usize)>(threads: usize, worker: impl Fn(usize) -> W + Sync) -> f64 {
    stockyard_testkit::bench::timed_rate(threads, TIMED, worker)
}

/// The bare figures: on the same database and settings as the store, one transaction of
/// [`LINES`] guarded decrements of a bare stock table plus inserts of rows of the sizes the
/// store writes — no keys, no indexes, nothing else.
mod bare {
    use super::*;

    const UPDATE: &str = "UPDATE bare_stock SET available = available - 1 WHERE id = $1 AND available >= 1";

    #[derive(Clone, Copy)]
    pub enum Shape {
        /// One order-sized row.
        Bare,
        /// What an order cannot do without: its row (lines and allocation in it), the
        /// `InventoryReserved` and `OrderCreated` events, and one audit record — the floor
        /// under any design that writes them in the transaction of the change.
        Floor,
    }

    impl Shape {
        /// Each insert and the size of the body it stores: what the store writes for a
        /// 3-line order of this bench (the order row's payload is 672 bytes on SQLite;
        /// `stockyard demo` averages 308 bytes per one-line `InventoryReserved`, 453 per
        /// `OrderCreated` and 658 per `order.create` audit record, mostly 1–2 lines).
        fn inserts(self) -> &'static [(&'static str, usize)] {
            const ORDER: (&str, usize) = ("INSERT INTO bare_orders (id, body) VALUES ($1, $2)", 660);
            match self {
                Shape::Bare => &[ORDER],
                Shape::Floor => &[
                    ORDER,
                    ("INSERT INTO bare_events (id, body) VALUES ($1, $2)", 450),
                    ("INSERT INTO bare_events (id, body) VALUES ($1, $2)", 600),
                    ("INSERT INTO bare_audit (id, body) VALUES ($1, $2)", 800),
                ],
            }
        }
    }

    pub fn create(db: &TestDb) {
        db.sql(&format!(
            "{}
             CREATE TABLE bare_orders (id BIGINT NOT NULL, body TEXT NOT NULL);
             CREATE TABLE bare_events (id BIGINT NOT NULL, body TEXT NOT NULL);
             CREATE TABLE bare_audit (id BIGINT NOT NULL, body TEXT NOT NULL);",
            stockyard_testkit::bench::bare_stock(PRODUCTS)
        ));
    }

    pub fn worker(db: &TestDb, index: usize, shape: Shape) -> impl FnMut(usize) {
        let inserts: Vec<(String, String)> =
            shape.inserts().iter().map(|(sql, size)| (sql.replace('$', "?"), "o".repeat(*size))).collect();
        let url = db.url().to_owned();
        let mut sqlite = (db.backend() == Backend::Sqlite).then(|| stockyard_testkit::bench::raw_sqlite(db));
        let mut postgres = (db.backend() == Backend::Postgres).then(|| {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            let update = client.prepare(UPDATE).expect("prepare");
            let inserts: Vec<_> =
                shape.inserts().iter().map(|(sql, _)| client.prepare(sql).expect("prepare")).collect();
            (client, update, inserts)
        });
        let update_sql = UPDATE.replace('$', "?");
        move |n| {
            let first = first_line(index, n) as i64;
            if let Some(conn) = &mut sqlite {
                let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).expect("begin");
                for id in first..first + LINES as i64 {
                    let changed = tx.prepare_cached(&update_sql).and_then(|mut s| s.execute([id])).expect("update");
                    assert_eq!(changed, 1);
                }
                for (sql, body) in &inserts {
                    tx.prepare_cached(sql).and_then(|mut s| s.execute(rusqlite::params![first, body])).expect("insert");
                }
                tx.commit().expect("commit");
            }
            if let Some((client, update, statements)) = &mut postgres {
                let mut tx = client.transaction().expect("begin");
                for id in first..first + LINES as i64 {
                    assert_eq!(tx.execute(&*update, &[&id]).expect("update"), 1);
                }
                for (statement, (_, body)) in statements.iter().zip(&inserts) {
                    tx.execute(statement, &[&first, body]).expect("insert");
                }
                tx.commit().expect("commit");
            }
        }
    }
}
