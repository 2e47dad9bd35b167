//! Every list and search the core serves, at 100,000 products and 100,000 orders, on both
//! backends: the median time of each, through the public API (so PostgreSQL's switch to a
//! generic plan after five executions of a prepared statement is part of the figure).
//!
//! `cargo bench -p stockyard-core --bench plans` — prints a Markdown table.
//! - The SQLite store is seeded through the core's own API (`demo::seed`: products with
//!   attributes and stock at three warehouses; then orders in a mix of statuses by several
//!   customers and owners, and queued notifications), so its rows, events and audit records
//!   are exactly what the core writes.
//! - The PostgreSQL database gets a copy of those rows (`COPY`), under the same keyring.
//! - `STOCKYARD_BENCH_PRODUCTS` / `STOCKYARD_BENCH_ORDERS` set the sizes (default 100,000).
//! - `STOCKYARD_PLANS_KEEP=DIR` keeps the seeded stores for reuse and for `EXPLAIN`: the
//!   SQLite file `DIR/stockyard.db` and the PostgreSQL database `stockyard_plans` are seeded
//!   only when missing (drop them yourself). Without it both are temporary.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Instant,
};

use postgres::{Client, NoTls};
use stockyard_core::{
    Actor, Channel, EventFilter, EventType, NewUser, OrderStatus, PageRequest, ProductQuery, StockQuery, Store,
    StoreOptions,
    crypto::KeySource,
    demo,
    orders::{Customer, NewOrder, OrderQuery},
};
use stockyard_testkit::bench;

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const KEPT_DATABASE: &str = "stockyard_plans";
/// Customers of the seeded orders; the first three are also client users who place their own.
const CUSTOMERS: usize = 12;
const CLIENTS: usize = 3;
const NOTIFICATIONS: usize = 10_000;

fn size(var: &str) -> usize {
    std::env::var(var).ok().and_then(|n| n.parse().ok()).unwrap_or(100_000)
}

fn main() {
    let (products, orders) = (size("STOCKYARD_BENCH_PRODUCTS"), size("STOCKYARD_BENCH_ORDERS"));
    let kept = std::env::var_os("STOCKYARD_PLANS_KEEP").map(PathBuf::from);
    let temp = tempfile::tempdir().expect("temporary folder");
    let dir = kept.clone().unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir).expect("keep folder");
    let sqlite_path = dir.join("stockyard.db");
    let sqlite_url = format!("sqlite://{}", sqlite_path.display());
    if !sqlite_path.exists() {
        let started = Instant::now();
        seed(&Store::create(&sqlite_url, &StoreOptions::default()).expect("create the SQLite store"), products, orders);
        eprintln!("seeded SQLite in {:.0} s", started.elapsed().as_secs_f64());
    }
    println!("| backend | query | median | runs |\n|---|---|---|---|");
    measure("SQLite", &Store::open(&sqlite_url).expect("open the SQLite store"), products);

    let database =
        if kept.is_some() { KEPT_DATABASE.to_owned() } else { format!("stockyard_plans_{}", std::process::id()) };
    let Ok(mut admin) = Client::connect(ADMIN_URL, NoTls) else {
        println!("| PostgreSQL | (skipped: unreachable) | | |");
        return;
    };
    let pg_url = format!("postgres://postgres@127.0.0.1:5432/{database}");
    // A PostgreSQL store is opened with the keyring file the SQLite one keeps by its database.
    let options = StoreOptions {
        data_key: Some(KeySource::File(PathBuf::from(format!("{}.key", sqlite_path.display())))),
        ..StoreOptions::default()
    };
    let exists = admin.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&database]).expect("look up");
    if exists.is_none() {
        admin.batch_execute(&format!("CREATE DATABASE {database}")).expect("create the database");
        drop(Store::create(&pg_url, &options).expect("migrate the PostgreSQL database"));
        let started = Instant::now();
        copy_to_postgres(&sqlite_path, &pg_url);
        eprintln!("copied to PostgreSQL in {:.0} s", started.elapsed().as_secs_f64());
    }
    measure("PostgreSQL", &Store::open_with(&pg_url, &options).expect("open the PostgreSQL store"), products);
    if kept.is_none() {
        admin.batch_execute(&format!("DROP DATABASE {database} WITH (FORCE)")).expect("drop the database");
    }
}

fn customer(n: usize) -> String {
    format!("customer{}@example.com", n % CUSTOMERS)
}

/// Products, stock and reservations as `stockyard demo` makes them; then `orders` orders, a
/// third of them placed by client users, settled in a mix of statuses; then notifications.
fn seed(store: &Store, products: usize, orders: usize) {
    let me = Actor::local_admin();
    store.init(&me).expect("init");
    demo::seed(store, &me, products).expect("demo data");
    let clients: Vec<Actor> = (0..CLIENTS)
        .map(|n| {
            let user = NewUser { email: customer(n), role: stockyard_core::Role::Client, ..Default::default() };
            let email = store.users().create(&me, user).expect("client user").user.email;
            store.users().acting(&email).expect("client actor")
        })
        .collect();
    let book = store.orders();
    for n in 0..orders {
        let placer = if n % 3 == 0 { &clients[n / 3 % CLIENTS] } else { &me };
        let email = if n % 3 == 0 { customer(n / 3 % CLIENTS) } else { customer(n) };
        // Spread over the catalogue so no product runs out of stock.
        let first = n * 7919 % products;
        let mut lines = vec![(demo::product(first).sku, 1)];
        if n % 2 == 0 {
            lines.push((demo::product((first + 1) % products).sku, 1));
        }
        let input = NewOrder {
            customer: Customer { email, name: Some(format!("Customer {}", n % CUSTOMERS)), ..Default::default() },
            lines,
            ..Default::default()
        };
        let id = book.create(placer, input).expect("place an order").id.to_string();
        // Most orders settle: paid, shipped, delivered or cancelled; a tenth stay confirmed.
        let mut to = |status| book.set_status(&me, &id, status, None).map(drop).expect("status");
        match n % 10 {
            0 => {}
            1 => book.cancel(&me, &id, None).map(drop).expect("cancel"),
            step => {
                book.pay(&me, &id, None, None).map(drop).expect("pay");
                if step >= 4 {
                    [OrderStatus::Picking, OrderStatus::Packed, OrderStatus::Shipped].into_iter().for_each(&mut to);
                }
                if step >= 6 {
                    to(OrderStatus::Delivered);
                }
            }
        }
    }
    let notifications = store.notifications();
    notifications.set_template(&me, "hello", Channel::Email, "Hello", "Hello {{name}}", None).expect("template");
    let variables = serde_json::Map::from_iter([("name".to_owned(), serde_json::Value::from("there"))]);
    for n in 0..NOTIFICATIONS {
        notifications.send(&me, &customer(n), "hello", &variables).expect("send");
    }
    store.optimize().expect("optimize");
}

/// Copies every table PostgreSQL has from the SQLite store, as text through `COPY` (the two
/// schemas are equal, `db::tests::both_backends_migrate_to_the_same_schema`), then moves
/// PostgreSQL's own counters (identities, `order_numbers`) past the copied rows. Its
/// `journal_queue` stays empty: SQLite seals every record as it writes it.
fn copy_to_postgres(sqlite: &Path, pg_url: &str) {
    let lite = rusqlite::Connection::open(sqlite).expect("open SQLite");
    let mut pg = Client::connect(pg_url, NoTls).expect("connect");
    let tables: Vec<String> = pg
        .query(
            "SELECT table_name FROM information_schema.tables
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
               AND table_name NOT IN ('journal_queue', 'refinery_schema_history')",
            &[],
        )
        .expect("tables")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut tx = pg.transaction().expect("begin");
    tx.batch_execute(&format!("SET session_replication_role = replica; TRUNCATE {};", tables.join(", ")))
        .expect("truncate");
    for table in &tables {
        let columns: Vec<String> = tx
            .query(
                "SELECT column_name FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position",
                &[table],
            )
            .expect("columns")
            .iter()
            .map(|r| r.get(0))
            .collect();
        let list = columns.join(", ");
        let mut writer = tx.copy_in(&format!("COPY {table} ({list}) FROM STDIN")).expect("copy in");
        let mut stmt = lite.prepare(&format!("SELECT {list} FROM {table}")).expect("select");
        let mut rows = stmt.query([]).expect("rows");
        let mut buffer = String::new();
        while let Some(row) = rows.next().expect("row") {
            for i in 0..columns.len() {
                if i > 0 {
                    buffer.push('\t');
                }
                copy_text(&mut buffer, row.get_ref(i).expect("value"));
            }
            buffer.push('\n');
            if buffer.len() > 1 << 20 {
                std::io::Write::write_all(&mut writer, buffer.as_bytes()).expect("copy");
                buffer.clear();
            }
        }
        std::io::Write::write_all(&mut writer, buffer.as_bytes()).expect("copy");
        writer.finish().expect("finish copy");
    }
    tx.batch_execute(
        "SELECT setval('order_numbers', (SELECT COALESCE(MAX(number), 0) + 1 FROM orders), false);
         SELECT setval(pg_get_serial_sequence(table_name, column_name),
                       (xpath('/row/m/text()', query_to_xml(format('SELECT COALESCE(MAX(%I), 0) + 1 AS m FROM %I', column_name, table_name), false, true, '')))[1]::text::bigint, false)
         FROM information_schema.columns WHERE table_schema = 'public' AND is_identity = 'YES';",
    )
    .expect("counters");
    tx.commit().expect("commit");
    pg.batch_execute("VACUUM ANALYZE").expect("analyze");
}

/// One value in `COPY`'s text format.
fn copy_text(out: &mut String, value: rusqlite::types::ValueRef<'_>) {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => out.push_str("\\N"),
        ValueRef::Integer(i) => out.push_str(&i.to_string()),
        ValueRef::Real(f) => out.push_str(&f.to_string()),
        ValueRef::Text(t) => {
            for c in String::from_utf8_lossy(t).chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
        ValueRef::Blob(b) => {
            out.push_str("\\\\x");
            b.iter().for_each(|byte| out.push_str(&format!("{byte:02x}")));
        }
    }
}

/// Times every list: first page and the filters each takes, with realistic parameters.
fn measure(backend: &str, store: &Store, products: usize) {
    let me = &Actor::local_admin();
    let run = |name: &str, op: &dyn Fn()| report(backend, name, op);
    let catalog = store.catalog();
    let products_where = |f: fn(&mut ProductQuery)| {
        let mut q = ProductQuery::default();
        f(&mut q);
        move || drop(catalog.list_products(me, &q).expect("list products"))
    };
    run("products: first page", &products_where(|_| {}));
    run("products: search one word", &products_where(|q| q.search = Some("hub".into())));
    run("products: search two words", &products_where(|q| q.search = Some("classic keyboard".into())));
    run("products: category subtree", &products_where(|q| q.category = Some("Electronics".into())));
    run("products: small category", &products_where(|q| q.category = Some("Garden".into())));
    run("products: attribute", &products_where(|q| q.attributes = BTreeMap::from([("color".into(), "blue".into())])));
    run(
        "products: price range",
        &products_where(|q| (q.min_price, q.max_price) = (Some("100".into()), Some("101".into()))),
    );
    run(
        "products: combined",
        &products_where(|q| {
            q.search = Some("pro".into());
            q.category = Some("Home".into());
            q.min_price = Some("50".into());
            q.attributes = BTreeMap::from([("brand".into(), "Acme".into())]);
        }),
    );
    let middle = catalog
        .list_products(me, &ProductQuery { cursor: None, limit: Some(1000), ..Default::default() })
        .expect("page")
        .next_cursor;
    run("products: next page by cursor", &|| {
        drop(catalog.list_products(me, &ProductQuery { cursor: middle.clone(), ..Default::default() }).expect("page"))
    });
    let sku = demo::product(products / 2).sku;
    run("products: show by SKU", &|| drop(catalog.product(me, &sku).expect("show")));

    let inventory = store.inventory();
    let stock = |q: StockQuery| move || drop(inventory.levels(me, &q).expect("levels"));
    let at = |warehouse: &str| StockQuery { warehouse: Some(warehouse.into()), ..Default::default() };
    run("stock: first page", &stock(StockQuery::default()));
    run("stock: one warehouse", &stock(at("WEST")));
    run("stock: low", &stock(StockQuery { low: true, ..Default::default() }));
    run("stock: low at one warehouse", &stock(StockQuery { low: true, ..at("MAIN") }));
    run("stock: one SKU", &stock(StockQuery { sku: Some(sku.clone()), ..Default::default() }));
    let deep = inventory.levels(me, &StockQuery { limit: Some(1000), ..Default::default() }).expect("levels");
    run("stock: next page by cursor", &stock(StockQuery { cursor: deep.next_cursor, ..Default::default() }));
    run("stock: history of one SKU", &|| drop(inventory.history(me, &sku, None, None, None).expect("history")));
    run("stock: history at one warehouse", &|| {
        drop(inventory.history(me, &sku, Some("MAIN"), None, None).expect("history"))
    });

    let book = store.orders();
    let orders = |q: OrderQuery| move || drop(book.list(me, &q).expect("orders"));
    let status = |s| OrderQuery { status: Some(s), ..Default::default() };
    run("orders: first page", &orders(OrderQuery::default()));
    run("orders: by status (common)", &orders(status(OrderStatus::Delivered)));
    run("orders: by status (rare)", &orders(status(OrderStatus::Refunded)));
    run("orders: by customer", &orders(OrderQuery { customer: Some(customer(5)), ..Default::default() }));
    run(
        "orders: by customer and status",
        &orders(OrderQuery { customer: Some(customer(5)), ..status(OrderStatus::Confirmed) }),
    );
    let client = store.users().acting(&customer(1)).expect("client");
    run("orders: a client's own", &|| drop(book.list(&client, &OrderQuery::default()).expect("own orders")));
    let deep = book.list(me, &OrderQuery { limit: Some(1000), ..Default::default() }).expect("orders");
    run("orders: next page by cursor", &orders(OrderQuery { cursor: deep.next_cursor, ..Default::default() }));

    let audit = store.audit();
    let first = PageRequest::default();
    run("audit: first page", &|| drop(audit.list(me, None, &first).expect("audit")));
    run("audit: one entity type", &|| drop(audit.list(me, Some("order"), &first).expect("audit")));
    let product_id = catalog.product(me, &sku).expect("product").id;
    let entity = format!("product:{product_id}");
    run("audit: one entity", &|| drop(audit.list(me, Some(&entity), &first).expect("audit")));

    let events = store.events();
    let since = |event_type| EventFilter { since: Some(1000), event_type, limit: None };
    run("events: after a seq", &|| drop(events.list(me, &since(None)).expect("events")));
    run("events: after a seq, one type", &|| {
        drop(events.list(me, &since(Some(EventType::OrderCreated))).expect("events"))
    });
    run("events: after a seq, a rare type", &|| {
        drop(events.list(me, &since(Some(EventType::UserCreated))).expect("events"))
    });
    run("events: newest", &|| drop(events.newest(me, None, 20).expect("events")));
    run("events: newest of a rare type", &|| {
        drop(events.newest(me, Some(EventType::UserCreated), 20).expect("events"))
    });

    let notifications = store.notifications();
    run("notifications: first page", &|| drop(notifications.list(me, None, None, None).expect("notifications")));
    run("notifications: by status", &|| {
        drop(notifications.list(me, Some("failed"), None, None).expect("notifications"))
    });
    run("users: first page", &|| drop(store.users().list(me, &first).expect("users")));
    run("tokens: first page", &|| drop(store.auth().tokens(me, &first).expect("tokens")));
}

/// Prints the median latency of `op` (see [`bench::median`]).
fn report(backend: &str, name: &str, op: &dyn Fn()) {
    let (median, runs) = bench::median(op);
    println!("| {backend} | {name} | {:.2} ms | {runs} |", median.as_secs_f64() * 1000.0);
}
