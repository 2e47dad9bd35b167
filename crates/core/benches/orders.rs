//! Order placement on both backends: 3-line orders per second (reserve, order, lines,
//! history, events and audit record in one transaction) at 1 and 8 threads, at a named
//! warehouse and allocated, beside the bare figure of the same database: three guarded
//! stock updates and one order-sized insert per transaction.
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
    for (name, warehouse) in [("at a named warehouse", Some("MAIN")), ("allocated", None)] {
        for threads in [1, 8] {
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
    for threads in [1, 8] {
        let rate = timed_rate(threads, |worker| bare::worker(db, worker));
        println!(
            "| {backend} | bare: {LINES} guarded UPDATEs + 1 order-sized INSERT, {threads} thread(s) | {rate:.0}/s |"
        );
    }
}

fn sku(i: usize) -> String {
    stockyard_testkit::bench::sku(i)
}

/// Operations per second over [`TIMED`].
fn timed_rate<W: FnMut(usize)>(threads: usize, worker: impl Fn(usize) -> W + Sync) -> f64 {
    stockyard_testkit::bench::timed_rate(threads, TIMED, worker)
}

/// The bare figure: on the same database and settings as the store, one transaction of
/// [`LINES`] guarded decrements of a bare stock table plus one insert of an order-sized row
/// — no keys, no indexes, nothing else.
mod bare {
    use super::*;

    const UPDATE: &str = "UPDATE bare_stock SET available = available - 1 WHERE id = $1 AND available >= 1";
    const INSERT: &str = "INSERT INTO bare_orders (id, body) VALUES ($1, $2)";
    /// About what the store keeps in an `orders` row of this bench (sealed customer fields,
    /// blind indexes, ids, timestamps): 672 bytes of payload on SQLite.
    const ORDER_BYTES: usize = 660;

    pub fn create(db: &TestDb) {
        let values: Vec<String> = (0..PRODUCTS).map(|i| format!("({i}, 1000000000)")).collect();
        db.sql(&format!(
            "CREATE TABLE bare_stock (id BIGINT PRIMARY KEY, available BIGINT NOT NULL);
             CREATE TABLE bare_orders (id BIGINT NOT NULL, body TEXT NOT NULL);
             INSERT INTO bare_stock VALUES {};",
            values.join(", ")
        ));
    }

    pub fn worker(db: &TestDb, index: usize) -> impl FnMut(usize) {
        let body = "o".repeat(ORDER_BYTES);
        let (update_sql, insert_sql) = (UPDATE.replace('$', "?"), INSERT.replace('$', "?"));
        let url = db.url().to_owned();
        let mut sqlite = (db.backend() == Backend::Sqlite).then(|| stockyard_testkit::bench::raw_sqlite(db));
        let mut postgres = (db.backend() == Backend::Postgres).then(|| {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            let update = client.prepare(UPDATE).expect("prepare");
            let insert = client.prepare(INSERT).expect("prepare");
            (client, update, insert)
        });
        move |n| {
            let first = first_line(index, n) as i64;
            if let Some(conn) = &mut sqlite {
                let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).expect("begin");
                for id in first..first + LINES as i64 {
                    let changed = tx.prepare_cached(&update_sql).and_then(|mut s| s.execute([id])).expect("update");
                    assert_eq!(changed, 1);
                }
                tx.prepare_cached(&insert_sql)
                    .and_then(|mut s| s.execute(rusqlite::params![first, body]))
                    .expect("insert");
                tx.commit().expect("commit");
            }
            if let Some((client, update, insert)) = &mut postgres {
                let mut tx = client.transaction().expect("begin");
                for id in first..first + LINES as i64 {
                    assert_eq!(tx.execute(&*update, &[&id]).expect("update"), 1);
                }
                tx.execute(&*insert, &[&first, &body]).expect("insert");
                tx.commit().expect("commit");
            }
        }
    }
}
