//! Pages a command dirties on SQLite: each commit appends one WAL frame per B-tree page it
//! changed, and that append (and the checkpoint copying it later) is most of a write's time.
//!
//! For each command: a checkpoint empties the WAL, a reader pins it (so the store's
//! checkpointer cannot reset it), the command runs [`RUNS`] times, and the frames in the
//! WAL are counted and named by the table or index their page belongs to (`dbstat`).
//!
//! `cargo bench -p stockyard-core --bench pages` — prints a Markdown table.

use std::collections::BTreeMap;

use stockyard_core::{
    Actor,
    inventory::ReserveRequest,
    orders::{Customer, NewOrder},
};
use stockyard_testkit::{TestDb, bench::sku};

const PRODUCTS: usize = 1_000;
const RUNS: usize = 200;

fn main() {
    let db = TestDb::sqlite();
    let store = stockyard_testkit::bench::stocked_store(&db, PRODUCTS, 1_000_000_000);
    let me = Actor::local_admin();
    // Spread like the throughput benches: each run touches other products.
    let item = |n: usize| sku(n * 7919 % PRODUCTS);
    let order = |n: usize, warehouse: Option<&str>| NewOrder {
        customer: Customer {
            email: format!("customer{}@example.com", n % 10_000),
            name: Some("Ada Lovelace".into()),
            phone: Some("+44 20 7946 0958".into()),
            address: Some("12 St James's Square, London SW1Y 4JH, United Kingdom".into()),
        },
        lines: (0..3).map(|i| (item(n * 3 + i), 1)).collect(),
        warehouse: warehouse.map(str::to_owned),
        ..Default::default()
    };
    println!("| command | pages per command | largest parts (pages per command) |\n|---|---|---|");
    probe(&db, "reserve one line at a named warehouse", |n| {
        let request =
            ReserveRequest { lines: vec![(item(n), 1)], warehouse: Some("MAIN".into()), ..Default::default() };
        store.inventory().reserve(&me, request).expect("reserve");
    });
    probe(&db, "receive one line", |n| {
        store.inventory().receive(&me, &item(n), None, 1, None).expect("receive");
    });
    probe(&db, "place a 3-line order at a named warehouse", |n| {
        store.orders().create(&me, order(n, Some("MAIN"))).expect("order");
    });
    probe(&db, "place a 3-line order, allocated", |n| {
        store.orders().create(&me, order(n, None)).expect("order");
    });
    let numbers: Vec<String> =
        (0..RUNS).map(|n| store.orders().create(&me, order(n, None)).expect("order").number.to_string()).collect();
    probe(&db, "pay an order", |n| {
        store.orders().pay(&me, &numbers[n], None, None).expect("pay");
    });
}

/// Runs `command` [`RUNS`] times and prints the WAL frames it appended per run.
fn probe(db: &TestDb, name: &str, mut command: impl FnMut(usize)) {
    let path = db.url().trim_start_matches("sqlite://").to_owned();
    let pin = stockyard_testkit::bench::raw_sqlite(db);
    // Busy while the store's checkpointer runs: try again.
    while pin.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0)).expect("checkpoint") != 0 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    pin.execute_batch("BEGIN; SELECT count(*) FROM settings;").expect("pin the WAL");
    for n in 0..RUNS {
        command(n);
    }
    let pages = wal_pages(&format!("{path}-wal"));
    pin.execute_batch("COMMIT").expect("unpin");
    let owners: BTreeMap<i64, String> = pin
        .prepare("SELECT pageno, name FROM dbstat")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .expect("dbstat");
    let mut parts: BTreeMap<&str, usize> = BTreeMap::new();
    for page in &pages {
        let owner = match owners.get(page) {
            _ if *page == 1 => "page 1",
            Some(name) => name,
            None => "free or new",
        };
        *parts.entry(owner).or_default() += 1;
    }
    let mut parts: Vec<_> = parts.into_iter().collect();
    parts.sort_by_key(|part| std::cmp::Reverse(part.1));
    let per_run = |frames: usize| frames as f64 / RUNS as f64;
    let largest: Vec<String> =
        parts.iter().take(12).map(|(owner, frames)| format!("{owner} {:.1}", per_run(*frames))).collect();
    println!("| {name} | {:.1} | {} |", per_run(pages.len()), largest.join(", "));
}

/// The page number of every frame in a WAL file (a 32-byte header, then frames of a 24-byte
/// header — the page number first, big-endian — and the page).
fn wal_pages(path: &str) -> Vec<i64> {
    let wal = std::fs::read(path).expect("read the WAL");
    let page_size = u32::from_be_bytes(wal[8..12].try_into().expect("header")) as usize;
    wal[32..]
        .chunks_exact(24 + page_size)
        .map(|frame| i64::from(u32::from_be_bytes(frame[..4].try_into().expect("frame"))))
        .collect()
}
