//! How many statements the hot commands send — on PostgreSQL, how many round trips: each
//! has a ceiling at today's count, so the write path's redesign can only bring them down
//! (BENCHMARKS.md, "Round trips per command"). Counted after one warm-up call of each, as
//! a long-running process sends them: every statement already prepared on the connection.

use crate::common;

use common::{admin, store_with};
use stockyard_core::{
    Backend, Store,
    inventory::{Hold, ReserveRequest},
    orders::{Customer, NewOrder},
    statements_sent,
};
use stockyard_testkit::backend_tests;

/// What `f` sent.
fn counted(f: impl FnOnce()) -> u64 {
    let before = statements_sent();
    f();
    statements_sent() - before
}

fn order(store: &Store, lines: &[(&str, i64)]) -> String {
    let input = NewOrder {
        customer: Customer { email: "jo@example.org".into(), ..Default::default() },
        lines: lines.iter().map(|(s, q)| ((*s).to_owned(), *q)).collect(),
        warehouse: Some("MAIN".into()),
        ..Default::default()
    };
    store.orders().create(&admin(), input).expect("an order").number.to_string()
}

fn reserve(store: &Store) {
    let request = ReserveRequest {
        lines: vec![("A-1".into(), 1)],
        warehouse: Some("MAIN".into()),
        hold: Hold::Checkout,
        reference: None,
    };
    store.inventory().reserve(&admin(), request).expect("a reservation");
}

/// Each command's ceilings on SQLite and on PostgreSQL: today's figures. PostgreSQL's
/// include the three of the sealing pass after commit (`BEGIN` with the journal lock and
/// the read of the queue, writing what it seals, `COMMIT`; see `journal`), which SQLite's
/// writer does inside its own transaction.
const CEILINGS: &[(&str, u64, u64)] =
    &[("order", 19, 11), ("reserve", 12, 9), ("receive", 10, 9), ("pay", 16, 15), ("pick", 16, 16)];

backend_tests! {
    fn the_hot_commands_send_no_more_statements_than_their_ceilings(db) {
        let store = store_with(db, &["A-1", "B-1", "C-1"]);
        for sku in ["A-1", "B-1", "C-1"] {
            store.inventory().receive(&admin(), sku, Some("MAIN"), 1000, None).expect("stock");
        }
        let three = [("A-1", 1), ("B-1", 2), ("C-1", 1)];
        // Warm-up: every statement prepared once.
        let warm = order(&store, &three);
        store.orders().pay(&admin(), &warm, None, None).expect("pay");
        store.orders().pick(&admin(), &warm, "A-1", 1, Some("MAIN")).expect("pick");
        reserve(&store);

        let placed = order(&store, &three);
        let counts = [
            ("order", counted(|| drop(order(&store, &three)))),
            ("reserve", counted(|| reserve(&store))),
            ("receive", counted(|| drop(store.inventory().receive(&admin(), "A-1", Some("MAIN"), 1, None).expect("receive")))),
            ("pay", counted(|| drop(store.orders().pay(&admin(), &placed, None, None).expect("pay")))),
            ("pick", counted(|| drop(store.orders().pick(&admin(), &placed, "B-1", 1, Some("MAIN")).expect("pick")))),
        ];
        eprintln!("statements per command on {:?}: {counts:?}", db.backend());
        for ((name, count), (_, sqlite, postgres)) in counts.iter().zip(CEILINGS) {
            let ceiling = match db.backend() {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            };
            assert!(count <= ceiling, "{name} sent {count} statements, over its ceiling of {ceiling}");
        }
    }
}
