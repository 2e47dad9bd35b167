//! The reads users run keep index-backed plans on SQLite: each query behind stock history,
//! stock as of a time, events of a type, an order's product lookup, the product-delete
//! guard and the unpaid-order sweep searches an index rather than scanning a table, and order lists walk an index in
//! order rather than sorting a table. (PostgreSQL chooses by its statistics; its plans at
//! 100,000 products are in BENCHMARKS.md, "Query plans at 100k".)

use jiff::Timestamp;

use crate::{
    Actor, EventFilter, EventType, NewProduct, NewWarehouse, Store, StoreOptions,
    db::sqlite::plans,
    inventory::StockQuery,
    orders::{Customer, NewOrder, OrderQuery, OrderStatus},
};

/// Every plan line of `reads` that scans a table when it should search it: with `ordered`,
/// a scan that walks an index in order (a page of a list) is fine, a sort of a table is not
/// (sorting the few rows a search found is).
fn scans(reads: &plans::Plans, ordered: bool) -> Vec<String> {
    reads
        .iter()
        .flat_map(|(sql, lines)| lines.iter().map(move |line| (sql, line)))
        .filter(|(_, line)| {
            let scan = line.starts_with("SCAN ") && !line.starts_with("SCAN CONSTANT ROW");
            let walk = line.contains(" USING INDEX ") || line.contains(" USING COVERING INDEX ");
            // Small tables: a store has a handful of warehouses.
            let small = line.starts_with("SCAN w") || line.starts_with("SCAN warehouses");
            (scan && !small && !(ordered && walk)) || (ordered && line.contains("TEMP B-TREE FOR ORDER BY"))
        })
        .map(|(sql, line)| format!("{line}\n    in: {}", sql.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect()
}

#[test]
fn the_reads_users_run_search_indexes() {
    let folder = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", folder.path().join("plans.db").display());
    let store = Store::create(&url, &StoreOptions::default()).expect("store");
    let admin = Actor::local_admin();
    store.init(&admin).expect("init");
    store.warehouses().create(&admin, NewWarehouse { code: "EAST".into(), name: "East".into() }).expect("EAST");
    for i in 0..30 {
        let product = NewProduct {
            sku: format!("P-{i:02}"),
            name: format!("Item {i}"),
            price: "1.00".into(),
            ..Default::default()
        };
        store.catalog().create_product(&admin, product).expect("product");
        store.inventory().receive(&admin, &format!("P-{i:02}"), Some("MAIN"), 100, None).expect("receive");
    }
    let order = || NewOrder {
        customer: Customer { email: "jo@example.org".into(), ..Default::default() },
        lines: vec![("P-01".into(), 1), ("P-02".into(), 2)],
        warehouse: Some("MAIN".into()),
        ..Default::default()
    };
    for _ in 0..5 {
        store.orders().create(&admin, order()).expect("order");
    }

    let mut failures = Vec::new();
    let mut check = |name: &str, ordered: bool, reads: plans::Plans| {
        assert!(!reads.is_empty(), "{name} read nothing");
        failures.extend(scans(&reads, ordered).into_iter().map(|s| format!("{name}: {s}")));
    };
    let (_, reads) = plans::of(|| store.orders().create(&admin, order()).expect("order"));
    check("order create", false, reads);
    let (_, reads) =
        plans::of(|| store.inventory().history(&admin, "P-01", Some("MAIN"), Some(10), None).expect("history"));
    check("stock history", false, reads);
    let at = StockQuery {
        sku: Some("P-01".into()),
        warehouse: Some("MAIN".into()),
        at: Some(Timestamp::now()),
        ..Default::default()
    };
    let (_, reads) = plans::of(|| store.inventory().levels(&admin, &at).expect("stock at"));
    check("stock show --at", false, reads);
    let by_type = EventFilter { event_type: Some(EventType::OrderCreated), ..Default::default() };
    let (_, reads) = plans::of(|| store.events().list(&admin, &by_type).expect("events --type"));
    check("events --type", false, reads);
    // Refused (it holds stock), after both guards have looked.
    let (_, reads) = plans::of(|| store.catalog().delete_product(&admin, "P-29").expect_err("in stock"));
    check("product delete", false, reads);
    let (_, reads) = plans::of(|| store.orders().list(&admin, &OrderQuery::default()).expect("orders"));
    check("order list", true, reads);
    let paid = OrderQuery { status: Some(OrderStatus::Confirmed), ..Default::default() };
    let (_, reads) = plans::of(|| store.orders().list(&admin, &paid).expect("orders by status"));
    check("order list --status", true, reads);
    let (_, reads) = plans::of(|| store.orders().expire_unpaid(&admin, Timestamp::now()).expect("sweep"));
    check("unpaid-order sweep", false, reads);
    assert!(failures.is_empty(), "reads that scan:\n{}", failures.join("\n"));
}
