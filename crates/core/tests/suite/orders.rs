//! Orders on both backends: the lifecycle with stock after every step, every (from, to)
//! pair of the state table, the race for scarce stock, the unpaid sweep, payments and
//! refusals, adopted reservations, an order's reservation that nothing else may close,
//! refunds that add up to what was paid (and their races), faults injected between a step's
//! writes, and customer data that never reaches the database in the clear.

use crate::common;

use std::{
    collections::BTreeSet,
    sync::{
        Barrier,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
};

use common::{admin, level, store_at, store_with};

use jiff::{SignedDuration, Timestamp};
use stockyard_core::{
    Actor, Backend, Conflict, Error, EventType, ManualClock, NewUser, OrderId, OrderStatus, Role, Store,
    inventory::{Hold, ReserveRequest},
    orders::{Customer, NewOrder, OrderPatch, OrderQuery, ReturnLine},
};
use stockyard_testkit::{TestDb, backend_tests};

const EMAIL: &str = "jane.customer@example.org";
const PHONE: &str = "+44 20 7946 0958";

fn customer() -> Customer {
    Customer {
        email: EMAIL.into(),
        name: Some("Jane Customer".into()),
        phone: Some(PHONE.into()),
        address: Some("1 Secret Lane, Hiddenville".into()),
    }
}

fn new_order(lines: &[(&str, i64)], warehouse: Option<&str>) -> NewOrder {
    NewOrder {
        customer: customer(),
        lines: lines.iter().map(|(s, q)| ((*s).to_owned(), *q)).collect(),
        warehouse: warehouse.map(str::to_owned),
        ..Default::default()
    }
}

/// Products A-1 and B-1 at 1.00 with stock: A-1 10 at MAIN and 5 at EAST, B-1 4 at MAIN.
fn stocked(db: &TestDb) -> Store {
    with_stock(store_with(db, &["A-1", "B-1"]))
}

/// [`stocked`], its time read from `clock`.
fn stocked_at(db: &TestDb, clock: &ManualClock) -> Store {
    with_stock(store_at(db, clock, &["A-1", "B-1"]))
}

fn with_stock(store: Store) -> Store {
    let inv = store.inventory();
    inv.receive(&admin(), "A-1", Some("MAIN"), 10, None).expect("A MAIN");
    inv.receive(&admin(), "A-1", Some("EAST"), 5, None).expect("A EAST");
    inv.receive(&admin(), "B-1", Some("MAIN"), 4, None).expect("B MAIN");
    store
}

fn events(db: &TestDb) -> i64 {
    db.number("SELECT COUNT(*) FROM events")
}

/// How many order numbers have been handed out: the last order's (SQLite), the sequence's.
fn numbered(db: &TestDb) -> i64 {
    match db.backend() {
        Backend::Sqlite => db.number("SELECT COALESCE(MAX(number), 0) FROM orders"),
        Backend::Postgres => db.number("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM order_numbers"),
    }
}

/// (on hand, reserved) of a level.
fn stock(store: &Store, sku: &str, warehouse: &str) -> (i64, i64) {
    let l = level(store, sku, warehouse);
    (l.on_hand, l.reserved)
}

/// Takes an order through steps: `pay`, `cancel`, `request` (a return request of every
/// line), `returned` (every line back), `refund`, or a status.
fn walk(store: &Store, id: &str, steps: &[&str]) {
    let orders = store.orders();
    for step in steps {
        let all: Vec<ReturnLine> = orders
            .order(&admin(), id)
            .expect("order")
            .lines
            .iter()
            .map(|l| ReturnLine { sku: l.sku.clone(), quantity: l.quantity, scrap: false })
            .collect();
        match *step {
            "pay" => orders.pay(&admin(), id, None, Some("card")),
            "cancel" => orders.cancel(&admin(), id, None),
            "request" => orders.return_goods(&admin(), id, &all, true),
            "returned" => orders.return_goods(&admin(), id, &all, false),
            "refund" => orders.refund(&admin(), id, None),
            status => orders.set_status(&admin(), id, status.parse().expect("status"), None),
        }
        .unwrap_or_else(|e| panic!("{step}: {e}"));
    }
}

/// Every `OrderRefunded` as (amount, running total refunded), oldest first.
fn refunds(store: &Store) -> Vec<(String, String)> {
    common::events_of(store, EventType::OrderRefunded)
        .iter()
        .map(|e| {
            (e["amount"].as_str().unwrap_or_default().to_owned(), e["refunded"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// The steps from a fresh (confirmed) order to each state.
fn path_to(status: OrderStatus) -> &'static [&'static str] {
    match status {
        OrderStatus::Pending | OrderStatus::Confirmed => &[],
        OrderStatus::Paid => &["pay"],
        OrderStatus::Picking => &["pay", "picking"],
        OrderStatus::Packed => &["pay", "picking", "packed"],
        OrderStatus::Shipped => &["pay", "picking", "packed", "shipped"],
        OrderStatus::Delivered => &["pay", "picking", "packed", "shipped", "delivered"],
        OrderStatus::Cancelled => &["pay", "cancel"],
        OrderStatus::ReturnRequested => &["pay", "picking", "packed", "shipped", "request"],
        OrderStatus::Returned => &["pay", "picking", "packed", "shipped", "returned"],
        OrderStatus::Refunded => &["pay", "picking", "packed", "shipped", "returned", "refund"],
    }
}

backend_tests! {
    fn placing_an_order_writes_one_audit_record_over_its_reservation(db) {
        let store = stocked(db);
        let count = |table: &str| db.number(&format!("SELECT COUNT(*) FROM {table}"));
        let reserved = || db.number("SELECT COUNT(*) FROM events WHERE event_type = 'InventoryReserved'");
        let (records, before) = (count("audit_log"), reserved());
        let order = store.orders().create(&admin(), new_order(&[("A-1", 3), ("B-1", 2)], None)).expect("create");
        assert_eq!(count("audit_log"), records + 1, "the order's record stands for its reservation's");
        assert_eq!(reserved(), before + 2, "the reservation's events (one per line) are among the order's");
        let audit = store.audit().list(&admin(), Some(&format!("order:{}", order.id)), &Default::default()).expect("audit").items;
        let [record] = &audit[..] else { panic!("{audit:?}") };
        assert_eq!(record.action, "order.create");
        let after = record.after.as_ref().expect("after");
        assert_eq!(after["reservation_id"], order.reservation_id.to_string());
        assert_eq!(after["allocations"].as_array().map(Vec::len), Some(2));

        // A reservation made on its own keeps its own record; the chain holds.
        let request = ReserveRequest { lines: vec![("A-1".into(), 1)], ..Default::default() };
        let held = store.inventory().reserve(&admin(), request).expect("reserve");
        let audit = store.audit().list(&admin(), Some(&format!("reservation:{}", held.id)), &Default::default()).expect("audit").items;
        assert_eq!(audit.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(), ["reservation.create"]);
        assert!(store.audit().verify(&admin()).expect("verify").ok);
        assert!(store.audit().projections(&admin()).expect("projections").ok);
    }

    fn the_whole_life_of_an_order(db) {
        let store = stocked(db);
        let orders = store.orders();
        let order = orders.create(&admin(), new_order(&[("A-1", 3), ("B-1", 2)], None)).expect("create");
        assert_eq!(order.status, OrderStatus::Confirmed);
        assert_eq!((order.total.amount(), order.paid.amount()), ("5.00".into(), "0.00".into()));
        assert_eq!(order.history.iter().map(|h| h.to).collect::<Vec<_>>(), [OrderStatus::Pending, OrderStatus::Confirmed]);
        assert_eq!((stock(&store, "A-1", "MAIN"), stock(&store, "B-1", "MAIN")), ((10, 3), (4, 2)));
        let id = order.id.to_string();

        let paid = orders.pay(&admin(), &id, Some("2.00"), Some("deposit")).expect("part");
        assert_eq!((paid.status, paid.paid.amount()), (OrderStatus::Confirmed, "2.00".into()));
        assert!(matches!(orders.pay(&admin(), &id, Some("3.01"), None), Err(Error::Conflict { .. })), "overpaying");
        let paid = orders.pay(&admin(), &id, None, Some("rest")).expect("rest");
        assert_eq!((paid.status, paid.paid.amount(), paid.payments.len()), (OrderStatus::Paid, "5.00".into(), 2));
        assert!(matches!(orders.pay(&admin(), &id, Some("1.00"), None), Err(Error::InvalidTransition { .. })), "paid twice");

        walk(&store, &id, &["picking", "packed"]);
        assert_eq!(stock(&store, "A-1", "MAIN"), (10, 3), "nothing leaves before shipment");
        let shipped = orders.set_status(&admin(), &id, OrderStatus::Shipped, Some("TRACK-42")).expect("ship");
        assert_eq!(shipped.tracking_number.as_deref(), Some("TRACK-42"));
        assert_eq!((stock(&store, "A-1", "MAIN"), stock(&store, "B-1", "MAIN")), ((7, 0), (2, 0)));
        assert!(matches!(orders.cancel(&admin(), &id, None), Err(Error::InvalidTransition { .. })), "too late to cancel");
        let fulfilled = events(db);
        walk(&store, &id, &["delivered"]);
        assert_eq!(events(db), fulfilled + 2, "OrderStatusChanged and OrderFulfilled");

        let back = [ReturnLine { sku: "A-1".into(), quantity: 2, scrap: false }, ReturnLine { sku: "B-1".into(), quantity: 1, scrap: true }];
        // A bad line is named by its place in the request.
        for (sku, quantity, field) in [("B-1", 0, "lines[1].quantity"), ("B-1", 5, "lines[1].quantity"), ("C-9", 1, "lines[1].sku")] {
            let bad = [back[0].clone(), ReturnLine { sku: sku.into(), quantity, scrap: false }];
            match orders.return_goods(&admin(), &id, &bad, false) {
                Err(Error::Invalid { field: named, .. }) => assert_eq!(named, field),
                other => panic!("{sku} {quantity}: {other:?}"),
            }
        }
        let returned = orders.return_goods(&admin(), &id, &back, false).expect("return");
        assert_eq!(returned.status, OrderStatus::Returned);
        assert_eq!((stock(&store, "A-1", "MAIN"), stock(&store, "B-1", "MAIN")), ((9, 0), (2, 0)), "restocked, and written off");
        let part = orders.refund(&admin(), &id, Some("3.00")).expect("part");
        assert_eq!((part.status, part.refunded.amount()), (OrderStatus::Returned, "3.00".into()), "2.00 still to come back");
        let refunded = orders.refund(&admin(), &id, None).expect("refund");
        assert_eq!((refunded.status, refunded.refunded.amount()), (OrderStatus::Refunded, "5.00".into()));
        assert_eq!(refunded.version, 10, "one version per step that happened");
        assert!(store.inventory().verify(&admin()).expect("verify").ok, "projection == replay");
        assert!(store.audit().verify(&admin()).expect("audit").ok);
    }

    fn every_pair_of_states(db) {
        let store = store_with(db, &["A-1"]);
        store.inventory().receive(&admin(), "A-1", None, 10_000, None).expect("stock");
        let orders = store.orders();
        for &from in OrderStatus::ALL.iter().filter(|s| **s != OrderStatus::Pending) {
            for &to in OrderStatus::ALL {
                let id = orders.create(&admin(), new_order(&[("A-1", 1)], None)).expect("create").id.to_string();
                walk(&store, &id, path_to(from));
                let before = (events(db), orders.order(&admin(), &id).expect("order"));
                let line = [ReturnLine { sku: "A-1".into(), quantity: 1, scrap: false }];
                let outcome = match to {
                    OrderStatus::Paid => orders.pay(&admin(), &id, None, None),
                    OrderStatus::Cancelled => orders.cancel(&admin(), &id, None),
                    OrderStatus::ReturnRequested => orders.return_goods(&admin(), &id, &line, true),
                    OrderStatus::Returned => orders.return_goods(&admin(), &id, &line, false),
                    OrderStatus::Refunded => orders.refund(&admin(), &id, None),
                    other => orders.set_status(&admin(), &id, other, None),
                };
                match outcome {
                    Ok(order) => {
                        assert!(from.can_become(to), "{from} -> {to} succeeded");
                        assert_eq!(order.status, to);
                    }
                    Err(Error::InvalidTransition { .. } | Error::Invalid { .. }) => {
                        assert!(!from.can_become(to), "{from} -> {to} refused");
                        assert_eq!((events(db), orders.order(&admin(), &id).expect("order")), before, "{from} -> {to}");
                    }
                    Err(e) => panic!("{from} -> {to}: {e}"),
                }
            }
        }
        assert!(store.inventory().verify(&admin()).expect("verify").ok);
    }

    fn orders_race_for_scarce_stock(db) {
        let store = store_with(db, &["R-1"]);
        store.warehouses().create(&admin(), stockyard_core::NewWarehouse { code: "WEST".into(), name: "West".into() }).expect("WEST");
        for (warehouse, n) in [("MAIN", 20), ("EAST", 20), ("WEST", 10)] {
            store.inventory().receive(&admin(), "R-1", Some(warehouse), n, None).expect("stock");
        }
        let attempts = AtomicUsize::new(0);
        let outcomes: Vec<_> = thread::scope(|s| {
            let workers: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        let mut mine = Vec::new();
                        while attempts.fetch_add(1, Ordering::Relaxed) < 200 {
                            mine.push(store.orders().create(&admin(), new_order(&[("R-1", 1)], None)));
                        }
                        mine
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().expect("worker")).collect()
        });
        assert_eq!(outcomes.len(), 200);
        let placed: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
        assert_eq!(placed.len(), 50, "exactly the orders that fit");
        for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
            assert!(matches!(refused, Error::InsufficientStock { .. }), "{refused:?}");
        }
        let numbers: BTreeSet<i64> = placed.iter().map(|o| o.number).collect();
        assert_eq!(numbers.len(), 50, "no two orders share a number");
        for warehouse in ["MAIN", "EAST", "WEST"] {
            let (on_hand, reserved) = stock(&store, "R-1", warehouse);
            assert_eq!(on_hand, reserved, "{warehouse}: everything held, nothing more");
        }
        assert_eq!(db.number("SELECT COUNT(*) FROM reservations WHERE status = 'active'"), 50, "no reservation leaked");
        assert!(store.inventory().verify(&admin()).expect("verify").ok);
    }

    fn unpaid_orders_are_cancelled_by_the_sweep(db) {
        let store = stocked(db);
        let orders = store.orders();
        let unpaid = orders.create(&admin(), new_order(&[("A-1", 2)], Some("MAIN"))).expect("unpaid");
        let paid = orders.create(&admin(), new_order(&[("A-1", 1)], Some("MAIN"))).expect("paid");
        orders.pay(&admin(), &paid.id.to_string(), None, None).expect("pay");
        let sweeper = Actor::system("sweeper");
        assert_eq!(orders.expire_unpaid(&sweeper, Timestamp::now()).expect("sweep"), 0, "not due yet");
        let later = Timestamp::now() + SignedDuration::from_mins(31);
        assert_eq!(orders.expire_unpaid(&sweeper, later).expect("sweep"), 1);
        let cancelled = orders.order(&admin(), &unpaid.id.to_string()).expect("order");
        assert_eq!((cancelled.status, cancelled.refund_due), (OrderStatus::Cancelled, false));
        assert!(cancelled.history.last().and_then(|h| h.note.as_deref()).is_some_and(|n| n.contains("unpaid")));
        assert_eq!(stock(&store, "A-1", "MAIN"), (10, 1), "its stock released; the paid order's kept");
        assert_eq!(orders.expire_unpaid(&sweeper, later).expect("again"), 0);
    }

    fn the_unpaid_sweep_walks_past_a_batch_and_stops_at_orders_not_due(db) {
        let clock = ManualClock::starting_now();
        let store = stocked_at(db, &clock);
        store.inventory().receive(&admin(), "A-1", Some("MAIN"), 200, None).expect("stock");
        let orders = store.orders();
        // More than one batch of the sweep (100), then one placed later: not due yet.
        for _ in 0..101 {
            orders.create(&admin(), new_order(&[("A-1", 1)], Some("MAIN"))).expect("due");
        }
        clock.advance(SignedDuration::from_mins(20));
        let late = orders.create(&admin(), new_order(&[("A-1", 1)], Some("MAIN"))).expect("late");
        clock.advance(SignedDuration::from_mins(11));
        assert_eq!(orders.expire_unpaid(&Actor::system("sweeper"), clock.now()).expect("sweep"), 101);
        assert_eq!(orders.order(&admin(), &late.id.to_string()).expect("late").status, OrderStatus::Confirmed);
        assert_eq!(stock(&store, "A-1", "MAIN"), (210, 1), "only the late order's unit still held");
    }

    fn a_listed_order_is_the_order_shown(db) {
        // Children loaded for a whole page at once must land on the right orders.
        let store = store_with(db, &["A-1", "B-1", "C-1"]);
        for sku in ["A-1", "B-1", "C-1"] {
            store.inventory().receive(&admin(), sku, Some("MAIN"), 500, None).expect("MAIN");
            store.inventory().receive(&admin(), sku, Some("EAST"), 500, None).expect("EAST");
        }
        let orders = store.orders();
        let shapes: [&[(&str, i64)]; 4] = [&[("A-1", 1)], &[("A-1", 2), ("B-1", 1)], &[("C-1", 3), ("B-1", 2), ("A-1", 1)], &[("B-1", 4)]];
        let steps: [&[&str]; 5] = [&[], &["pay"], &["cancel"], &["pay", "picking", "packed", "shipped", "returned", "refund"], &["pay", "cancel"]];
        for n in 0..37 {
            let warehouse = if n % 3 == 0 { None } else { Some("EAST") };
            let id = orders.create(&admin(), new_order(shapes[n % 4], warehouse)).expect("create").id.to_string();
            walk(&store, &id, steps[n % 5]);
        }
        let (mut listed, mut cursor) = (Vec::new(), None);
        loop {
            let page = orders.list(&admin(), &OrderQuery { limit: Some(8), cursor, ..Default::default() }).expect("page");
            listed.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(listed.len(), 37);
        for order in &listed {
            assert_eq!(order, &orders.order(&admin(), &order.id.to_string()).expect("shown"), "order {}", order.number);
        }
        let whole = orders.list(&admin(), &OrderQuery { limit: Some(1000), ..Default::default() }).expect("one page");
        assert_eq!(whole.items, listed);
    }

    fn the_unpaid_sweep_passes_over_an_order_it_cannot_cancel(db) {
        let store = stocked(db);
        let orders = store.orders();
        let stuck = orders.create(&admin(), new_order(&[("A-1", 1)], Some("MAIN"))).expect("stuck");
        let due = orders.create(&admin(), new_order(&[("A-1", 2)], Some("MAIN"))).expect("due");
        // A confirmed order whose stock already left (what an old release path allowed).
        db.sql(&format!("UPDATE reservations SET status = 'committed' WHERE id = '{}'", stuck.reservation_id));
        let later = Timestamp::now() + SignedDuration::from_mins(31);
        assert_eq!(orders.expire_unpaid(&Actor::system("sweeper"), later).expect("the sweep goes on"), 1);
        let status = |id: &OrderId| orders.order(&admin(), &id.to_string()).expect("order").status;
        assert_eq!((status(&stuck.id), status(&due.id)), (OrderStatus::Confirmed, OrderStatus::Cancelled));
    }

    fn a_paid_order_cancelled_is_owed_a_refund(db) {
        let store = stocked(db);
        let orders = store.orders();
        let id = orders.create(&admin(), new_order(&[("B-1", 4)], None)).expect("create").id.to_string();
        walk(&store, &id, &["pay", "picking"]);
        let cancelled = orders.cancel(&admin(), &id, Some("customer asked")).expect("cancel");
        assert!(cancelled.refund_due);
        assert_eq!(stock(&store, "B-1", "MAIN"), (4, 0));
        let refunded = orders.refund(&admin(), &id, None).expect("refund");
        assert_eq!((refunded.refund_due, refunded.refunded.amount()), (false, "4.00".into()));
    }

    fn short_stock_rejects_the_whole_order(db) {
        let store = stocked(db);
        let before = (events(db), db.number("SELECT COUNT(*) FROM reservations"), numbered(db));
        let err = store.orders().create(&admin(), new_order(&[("A-1", 2), ("B-1", 9)], Some("MAIN"))).expect_err("short");
        let Error::InsufficientStock { lines } = err else { panic!("{err:?}") };
        assert_eq!(lines.iter().map(|l| l.sku.as_str()).collect::<Vec<_>>(), ["B-1"]);
        let after = (events(db), db.number("SELECT COUNT(*) FROM reservations"), numbered(db));
        assert_eq!(after, before, "nothing reserved, recorded or numbered");
        assert_eq!(stock(&store, "A-1", "MAIN"), (10, 0));
    }

    fn a_dry_run_shows_and_keeps_nothing(db) {
        let store = stocked(db);
        let before = (events(db), db.number("SELECT COUNT(*) FROM orders"), numbered(db));
        let preview = store.orders().preview(&admin(), new_order(&[("A-1", 12)], None)).expect("preview");
        assert_eq!(preview.allocations.iter().map(|a| (a.warehouse.as_str(), a.quantity)).collect::<Vec<_>>(), [("EAST", 2), ("MAIN", 10)]);
        assert_eq!(preview.total.amount(), "12.00");
        let after = (events(db), db.number("SELECT COUNT(*) FROM orders"), numbered(db));
        assert_eq!(after, before);
        assert_eq!(stock(&store, "A-1", "EAST"), (5, 0));
        let order = store.orders().create(&admin(), new_order(&[("A-1", 12)], None)).expect("create");
        let explained = store.orders().explain(&admin(), &order.number.to_string()).expect("explain");
        assert_eq!(explained.len(), 1);
        assert!(explained[0].reason.contains("10 from MAIN") && explained[0].reason.contains("2 from EAST"), "{}", explained[0].reason);
    }

    fn a_checkout_reservation_is_adopted_and_no_longer_expires(db) {
        let store = stocked(db);
        let request = ReserveRequest { lines: vec![("A-1".into(), 2)], hold: Hold::CheckoutFor(SignedDuration::from_mins(5)), ..Default::default() };
        let held = store.inventory().reserve(&admin(), request).expect("reserve");
        let mismatch = NewOrder { reservation: Some(held.id.to_string()), ..new_order(&[("A-1", 3)], None) };
        assert!(matches!(store.orders().create(&admin(), mismatch), Err(Error::Invalid { .. })));
        let adopt = NewOrder { reservation: Some(held.id.to_string()), ..new_order(&[("A-1", 2)], None) };
        let order = store.orders().create(&admin(), adopt).expect("adopt");
        assert_eq!(order.reservation_id, held.id);
        assert_eq!(stock(&store, "A-1", "MAIN"), (10, 2), "held once, not twice");
        let next_week = Timestamp::now() + SignedDuration::from_hours(24 * 7);
        assert_eq!(store.inventory().expire_due(&Actor::system("sweeper"), next_week).expect("sweep"), 0);
        assert!(store.inventory().reservation(&admin(), &held.id.to_string()).expect("held").expires_at.is_none());
        let twice = NewOrder { reservation: Some(held.id.to_string()), ..new_order(&[("A-1", 2)], None) };
        assert!(matches!(store.orders().create(&admin(), twice), Err(Error::Conflict { .. })), "adopted once only");
    }

    fn products_on_open_orders_stay(db) {
        let store = stocked(db);
        let order = store.orders().create(&admin(), new_order(&[("B-1", 1)], None)).expect("create");
        store.inventory().adjust(&admin(), "B-1", None, stockyard_core::Adjustment::Set(1), "clear out").expect("adjust");
        let err = store.catalog().delete_product(&admin(), "B-1").expect_err("open order");
        assert!(err.to_string().contains("open orders"), "{err}");
        store.orders().cancel(&admin(), &order.id.to_string(), None).expect("cancel");
        store.inventory().adjust(&admin(), "B-1", None, stockyard_core::Adjustment::Set(0), "clear out").expect("adjust");
        store.catalog().delete_product(&admin(), "B-1").expect("deletable now");
    }

    fn goods_of_a_product_deleted_since_come_back_only_as_a_write_off(db) {
        let store = stocked(db);
        let orders = store.orders();
        let order = orders.create(&admin(), new_order(&[("B-1", 2)], None)).expect("create");
        let id = order.id.to_string();
        walk(&store, &id, &["pay", "picking", "packed", "shipped", "delivered"]);
        store.inventory().adjust(&admin(), "B-1", None, stockyard_core::Adjustment::Set(0), "clear out").expect("adjust");
        store.catalog().delete_product(&admin(), "B-1").expect("no open order holds it");
        // The SKU now names another product, which the return must not touch.
        let reused = stockyard_core::NewProduct { sku: "B-1".into(), name: "B again".into(), price: "2.00".into(), ..Default::default() };
        store.catalog().create_product(&admin(), reused).expect("SKU reused");
        let before = events(db);

        let restock = [ReturnLine { sku: "B-1".into(), quantity: 2, scrap: false }];
        let err = orders.return_goods(&admin(), &id, &restock, false).expect_err("deleted product");
        assert!(matches!(err, Error::Conflict { .. }) && err.to_string().contains("B-1:2:scrap"), "{err}");
        assert_eq!(events(db), before, "a refused return changes nothing");
        assert_eq!(orders.order(&admin(), &id).expect("order").status, OrderStatus::Delivered);
        assert_eq!(stock(&store, "B-1", "MAIN"), (0, 0), "the new B-1 got nothing");

        let scrap = [ReturnLine { sku: "B-1".into(), quantity: 2, scrap: true }];
        assert_eq!(orders.return_goods(&admin(), &id, &scrap, false).expect("write-off").status, OrderStatus::Returned);
        assert_eq!(stock(&store, "B-1", "MAIN"), (0, 0));
    }

    fn a_fault_between_writes_leaves_nothing_half_done(db) {
        let store = stocked(db);
        // The order row fails after its stock was already held in the same transaction.
        let fail_on = |table: &str| match db.backend() {
            Backend::Sqlite => format!(
                "CREATE TRIGGER fault BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'injected fault'); END;"
            ),
            stockyard_core::Backend::Postgres => format!(
                "CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$;
                 CREATE TRIGGER fault BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fault();"
            ),
        };
        let clear = |table: &str| match db.backend() {
            stockyard_core::Backend::Sqlite => db.sql("DROP TRIGGER fault;"),
            stockyard_core::Backend::Postgres => db.sql(&format!("DROP TRIGGER fault ON {table}; DROP FUNCTION fault();")),
        };
        // The step failed at the injected fault, not at anything before it.
        // (SQLite reports a trigger's RAISE as a constraint, PostgreSQL as an error.)
        let at_the_fault = |result: Result<(), Error>| match result {
            Err(e) => assert!(e.chain().contains("injected fault"), "{e:?}"),
            Ok(()) => panic!("the injected fault did not fire"),
        };
        let before = (events(db), db.number("SELECT COUNT(*) FROM reservations"), stock(&store, "A-1", "MAIN"));
        db.sql(&fail_on("orders"));
        at_the_fault(store.orders().create(&admin(), new_order(&[("A-1", 4)], Some("MAIN"))).map(drop));
        assert_eq!((events(db), db.number("SELECT COUNT(*) FROM reservations"), stock(&store, "A-1", "MAIN")), before);
        clear("orders");

        // Shipment fails at its history row, after the reservation was consumed: all of it undone.
        let id = store.orders().create(&admin(), new_order(&[("A-1", 4)], Some("MAIN"))).expect("create").id.to_string();
        walk(&store, &id, &["pay", "picking", "packed"]);
        let before = (events(db), stock(&store, "A-1", "MAIN"));
        db.sql(&fail_on("order_status_history"));
        at_the_fault(store.orders().set_status(&admin(), &id, OrderStatus::Shipped, None).map(drop));
        assert_eq!((events(db), stock(&store, "A-1", "MAIN")), before);
        assert_eq!(store.orders().order(&admin(), &id).expect("order").status, OrderStatus::Packed);
        clear("order_status_history");
        walk(&store, &id, &["shipped"]);
        assert_eq!(stock(&store, "A-1", "MAIN"), (6, 0));
    }

    fn customer_details_change_until_shipment_at_the_version_asked(db) {
        let store = stocked(db);
        let orders = store.orders();
        let order = orders.create(&admin(), new_order(&[("A-1", 1)], None)).expect("create");
        let id = order.id.to_string();
        let by = |email: &str| {
            let query = OrderQuery { customer: Some(email.into()), ..Default::default() };
            orders.list(&admin(), &query).expect("list").items.len()
        };

        let patch = |email: Option<&str>, phone: Option<&str>, version: Option<i64>| OrderPatch {
            email: email.map(str::to_owned),
            phone: phone.map(str::to_owned),
            notes: Some("leave at the door".into()),
            expected_version: version,
            ..Default::default()
        };
        let before = events(db);
        let stale = orders.update(&admin(), &id, patch(Some("new@example.org"), None, Some(order.version + 1)));
        let stale = stale.expect_err("a stale version");
        let current = order.version;
        assert!(matches!(stale, Error::Conflict { code: Conflict::StaleVersion { current: c }, .. } if c == current), "{stale}");
        let bad = orders.update(&admin(), &id, patch(Some("not an email"), None, None));
        assert!(matches!(bad, Err(Error::Invalid { .. })), "{bad:?}");
        let empty = orders.update(&admin(), &id, OrderPatch::default());
        assert!(matches!(empty, Err(Error::Invalid { .. })), "{empty:?}");
        assert_eq!(events(db), before, "refused updates change nothing");

        let updated = orders.update(&admin(), &id, patch(Some(" New@Example.org "), Some(""), Some(order.version))).expect("update");
        assert_eq!((updated.customer.email.as_str(), updated.customer.phone.as_deref()), ("new@example.org", None));
        assert_eq!((updated.notes.as_deref(), updated.customer.name.as_deref()), (Some("leave at the door"), Some("Jane Customer")));
        assert_eq!(updated.version, order.version + 1);
        assert_eq!((by("new@example.org"), by(EMAIL)), (1, 0), "the blind index follows the new email");
        let event = db.number("SELECT COUNT(*) FROM events WHERE event_type = 'OrderUpdated' AND payload LIKE '%\"email\",\"phone\",\"notes\"%'");
        assert_eq!(event, 1, "OrderUpdated names the fields changed");
        assert_eq!(db.number("SELECT COUNT(*) FROM events WHERE payload LIKE '%new@example.org%'"), 0, "never their values");
        let audited = "SELECT COUNT(*) FROM audit_log WHERE COALESCE(before, '') LIKE '%new@example.org%' OR COALESCE(after, '') LIKE '%new@example.org%'";
        assert_eq!(db.number(audited), 0, "nor does the audit log");

        let user = NewUser { email: "shop@example.com".into(), role: Role::Client, password: Some("correct horse battery".into()), ..Default::default() };
        store.users().create(&admin(), user).expect("client");
        let client = store.users().acting("shop@example.com").expect("acting");
        let theirs = orders.update(&client, &id, patch(None, None, None));
        assert!(matches!(theirs, Err(Error::NotFound { .. })), "a client changes only its own orders: {theirs:?}");

        walk(&store, &id, &["pay", "picking", "packed", "shipped"]);
        let late = orders.update(&admin(), &id, patch(None, None, None)).expect_err("after shipment");
        assert!(matches!(late, Error::Conflict { .. }) && late.to_string().contains("shipped"), "{late}");
    }

    fn clients_see_their_own_orders_and_customers_are_found_by_index(db) {
        let store = stocked(db);
        for email in ["ann@example.com", "bob@example.com"] {
            let user = NewUser { email: email.into(), role: Role::Client, password: Some("correct horse battery".into()), ..Default::default() };
            store.users().create(&admin(), user).expect("client");
        }
        let (ann, bob) = (store.users().acting("ann@example.com").expect("ann"), store.users().acting("bob@example.com").expect("bob"));
        let mine = store.orders().create(&ann, new_order(&[("A-1", 1)], None)).expect("ann orders");
        assert!(matches!(store.orders().order(&bob, &mine.id.to_string()), Err(Error::NotFound { .. })));
        assert_eq!(store.orders().list(&bob, &OrderQuery::default()).expect("list").items.len(), 0);
        assert_eq!(store.orders().list(&ann, &OrderQuery::default()).expect("list").items.len(), 1);
        let other = NewOrder { customer: Customer { email: "someone@else.org".into(), ..Default::default() }, ..new_order(&[("A-1", 1)], None) };
        store.orders().create(&admin(), other).expect("another customer");
        let query = OrderQuery { customer: Some(EMAIL.to_uppercase()), ..Default::default() };
        let found = store.orders().list(&admin(), &query).expect("by customer");
        assert_eq!(found.items.iter().map(|o| o.id).collect::<Vec<_>>(), [mine.id]);
        assert_eq!(found.items[0].customer, customer());
    }

    fn every_combination_of_list_filters_lists_the_right_orders(db) {
        // Each combination is its own statement (crates/core/src/db/filter.rs): each must
        // list exactly the orders the filters describe, page after page.
        let store = stocked(db);
        let ann = common::acting(&store, "ann@example.com", "client", &[]);
        let orders = store.orders();
        let other = |order: NewOrder| NewOrder { customer: Customer { email: "other@example.org".into(), ..Default::default() }, ..order };
        let mut anns = Vec::new();
        for n in 0..12 {
            let placer = if n % 3 == 0 { &ann } else { &admin() };
            let input = new_order(&[("A-1", 1)], Some("MAIN"));
            let input = if n % 2 == 0 { input } else { other(input) };
            let id = orders.create(placer, input).expect("create").id;
            if n % 3 == 0 {
                anns.push(id);
            }
            walk(&store, &id.to_string(), [&[][..], &["pay"], &["cancel"]][n % 4 % 3]);
        }
        let all = orders.list(&admin(), &OrderQuery { limit: Some(1000), ..Default::default() }).expect("all").items;
        let paged = |actor: &Actor, query: OrderQuery| {
            let (mut ids, mut cursor) = (Vec::new(), None);
            loop {
                let page = orders.list(actor, &OrderQuery { limit: Some(2), cursor, ..query.clone() }).expect("page");
                ids.extend(page.items.iter().map(|o| o.id));
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => return ids,
                }
            }
        };
        for status in [None, Some(OrderStatus::Confirmed), Some(OrderStatus::Paid), Some(OrderStatus::Refunded)] {
            for customer in [None, Some(EMAIL), Some("other@example.org")] {
                for (actor, own) in [(&admin(), false), (&ann, true)] {
                    let expected: Vec<OrderId> = all
                        .iter()
                        .filter(|o| status.is_none_or(|s| o.status == s))
                        .filter(|o| customer.is_none_or(|c| o.customer.email == c))
                        .filter(|o| !own || anns.contains(&o.id))
                        .map(|o| o.id)
                        .collect();
                    let query = OrderQuery { status, customer: customer.map(Into::into), ..Default::default() };
                    assert_eq!(paged(actor, query), expected, "status {status:?}, customer {customer:?}, own {own}");
                }
            }
        }
    }

    fn an_orders_reservation_is_let_go_only_by_the_orders_own_steps(db) {
        let store = stocked(db);
        let (orders, inv) = (store.orders(), store.inventory());
        let order = orders.create(&admin(), new_order(&[("A-1", 3)], Some("MAIN"))).expect("create");
        let held = order.reservation_id.to_string();
        let before = events(db);
        for refusal in [inv.release(&admin(), &held), inv.commit(&admin(), &held)] {
            let err = refusal.expect_err("held by the order");
            assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
            assert!(err.to_string().contains(&format!("held by order {}", order.number)), "{err}");
        }
        // Not even an expiry written into it by hand lets the sweep take it.
        db.sql(&format!("UPDATE reservations SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE id = '{held}'"));
        let next_year = Timestamp::now() + SignedDuration::from_hours(24 * 365);
        assert_eq!(inv.expire_due(&Actor::system("sweeper"), next_year).expect("sweep"), 0);
        db.sql(&format!("UPDATE reservations SET expires_at = NULL WHERE id = '{held}'"));
        assert_eq!(events(db), before, "refusals record nothing");
        assert_eq!(stock(&store, "A-1", "MAIN"), (10, 3), "still held");
        assert_eq!(orders.order(&admin(), &order.number.to_string()).expect("order"), order, "the order is untouched");

        // The order's own steps still close it: shipment consumes it, cancellation releases it.
        walk(&store, &order.id.to_string(), &["pay", "picking", "packed", "shipped"]);
        assert_eq!(stock(&store, "A-1", "MAIN"), (7, 0));
        let other = orders.create(&admin(), new_order(&[("A-1", 2)], Some("MAIN"))).expect("another");
        orders.cancel(&admin(), &other.id.to_string(), None).expect("cancel");
        assert_eq!(stock(&store, "A-1", "MAIN"), (7, 0));
        assert!(inv.verify(&admin()).expect("verify").ok);
    }

    fn only_the_actors_own_live_checkout_reservation_is_adopted(db) {
        let clock = ManualClock::starting_now();
        let store = stocked_at(db, &clock);
        let (orders, inv) = (store.orders(), store.inventory());
        let checkout = |actor: &Actor, ttl: i64| {
            let request = ReserveRequest { lines: vec![("A-1".into(), 1)], warehouse: Some("MAIN".into()), hold: Hold::CheckoutFor(SignedDuration::from_secs(ttl)), ..Default::default() };
            inv.reserve(actor, request).expect("reserve").id.to_string()
        };
        let adopting = |actor: &Actor, id: &str| orders.create(actor, NewOrder { reservation: Some(id.to_owned()), ..new_order(&[("A-1", 1)], None) });

        let released = checkout(&admin(), 600);
        inv.release(&admin(), &released).expect("release");
        let expired = checkout(&admin(), 600);
        inv.expire_due(&Actor::system("sweeper"), clock.now() + SignedDuration::from_mins(11)).expect("sweep");
        let lapsed = checkout(&admin(), 1);
        let user = NewUser { email: "mia@example.com".into(), role: Role::Manager, password: Some("correct horse battery".into()), ..Default::default() };
        store.users().create(&admin(), user).expect("manager");
        let mia = store.users().acting("mia@example.com").expect("mia");
        let hers = checkout(&mia, 600);
        let taken = checkout(&admin(), 600);
        let first = adopting(&admin(), &taken).expect("adopted");
        clock.advance(SignedDuration::from_millis(1100));

        let before = (events(db), db.number("SELECT COUNT(*) FROM orders"), stock(&store, "A-1", "MAIN"));
        let cases: [(&str, &Actor, &str); 5] = [
            (&released, &admin(), "released"),
            (&expired, &admin(), "expired"),
            (&lapsed, &admin(), "expired at"),
            (&hers, &admin(), "mia@example.com"),
            (&taken, &admin(), &format!("held by order {}", first.number)),
        ];
        for (id, actor, says) in cases {
            let err = adopting(actor, id).expect_err(says);
            assert!(matches!(err, Error::Conflict { .. } | Error::InvalidTransition { .. }), "{says}: {err:?}");
            assert!(err.to_string().contains(says) && err.to_string().contains(id), "{says}: {err}");
        }
        assert_eq!((events(db), db.number("SELECT COUNT(*) FROM orders"), stock(&store, "A-1", "MAIN")), before, "nothing changed");
        assert_eq!(adopting(&mia, &hers).expect("her own").reservation_id.to_string(), hers);
    }

    fn an_order_whose_reservation_was_let_go_behind_its_back_cannot_ship_but_can_cancel(db) {
        let store = stocked(db);
        let (orders, inv) = (store.orders(), store.inventory());
        let order = orders.create(&admin(), new_order(&[("A-1", 3)], Some("MAIN"))).expect("create");
        let id = order.id.to_string();
        walk(&store, &id, &["pay", "picking", "packed"]);
        // What `release` allowed before it refused an order's reservation: the order pointed
        // elsewhere for a moment, its own reservation released, then pointed back.
        let stand_in = inv.reserve(&admin(), ReserveRequest { lines: vec![("B-1".into(), 1)], ..Default::default() }).expect("stand-in");
        let point = |to: &str| db.sql(&format!("UPDATE orders SET reservation_id = '{to}' WHERE id = '{id}'"));
        point(&stand_in.id.to_string());
        inv.release(&admin(), &order.reservation_id.to_string()).expect("released behind the order's back");
        point(&order.reservation_id.to_string());
        assert_eq!(stock(&store, "A-1", "MAIN"), (10, 0));

        let before = events(db);
        let err = orders.set_status(&admin(), &id, OrderStatus::Shipped, None).expect_err("nothing held to ship");
        assert!(matches!(err, Error::Conflict { .. }) && err.to_string().contains("cannot ship"), "{err:?}");
        assert!(err.to_string().contains(&order.reservation_id.to_string()) && err.to_string().contains("released"), "{err}");
        assert_eq!((events(db), stock(&store, "A-1", "MAIN")), (before, (10, 0)));

        let cancelled = orders.cancel(&admin(), &id, None).expect("cancel frees the order");
        assert_eq!((cancelled.status, cancelled.refund_due), (OrderStatus::Cancelled, true));
        assert_eq!(stock(&store, "A-1", "MAIN"), (10, 0), "nothing released twice");
        assert!(inv.verify(&admin()).expect("verify").ok);
    }

    fn release_or_expiry_racing_adoption_exactly_one_wins(db) {
        let store = stocked(db);
        // Lets the reservation go directly: `release` in even rounds, a sweep that finds it
        // lapsed in odd ones. True when it did; false when an order held it first.
        let let_go = |round: usize, id: &str| -> bool {
            if round.is_multiple_of(2) {
                match store.inventory().release(&admin(), id) {
                    Ok(_) => true,
                    Err(e @ Error::Conflict { .. }) if e.to_string().contains("held by order") => false,
                    Err(e) => panic!("round {round}: release: {e:?}"),
                }
            } else {
                let later = Timestamp::now() + SignedDuration::from_hours(1);
                store.inventory().expire_due(&Actor::system("sweeper"), later).expect("sweep") == 1
            }
        };
        let mut adopted = 0;
        for round in 0..10 {
            let request = ReserveRequest { lines: vec![("A-1".into(), 1)], warehouse: Some("MAIN".into()), ..Default::default() };
            let id = store.inventory().reserve(&admin(), request).expect("reserve").id.to_string();
            let start = Barrier::new(2);
            let (gone, placed) = thread::scope(|s| {
                let letting_go = s.spawn(|| {
                    start.wait();
                    let_go(round, &id)
                });
                let place = s.spawn(|| {
                    start.wait();
                    store.orders().create(&admin(), NewOrder { reservation: Some(id.clone()), ..new_order(&[("A-1", 1)], None) })
                });
                (letting_go.join().expect("let go"), place.join().expect("place"))
            });
            match (gone, &placed) {
                (true, Err(Error::InvalidTransition { from, .. })) if from == "released" || from == "expired" => {}
                (false, Ok(_)) => adopted += 1,
                other => panic!("round {round}: not exactly one winner: {other:?}"),
            }
            assert_eq!(stock(&store, "A-1", "MAIN"), (10, adopted), "round {round}: held only by orders");
        }
        assert_eq!(db.number("SELECT COUNT(*) FROM orders"), adopted);
        assert_eq!(db.number("SELECT COUNT(*) FROM reservations WHERE status = 'active'"), adopted);
        assert!(store.inventory().verify(&admin()).expect("verify").ok);
    }

    fn refunds_of_a_cancelled_order_add_up_to_what_was_paid(db) {
        let store = stocked(db);
        let orders = store.orders();
        let order = orders.create(&admin(), new_order(&[("A-1", 5)], None)).expect("create");
        let id = order.id.to_string();
        orders.pay(&admin(), &id, Some("2.00"), None).expect("part");
        orders.pay(&admin(), &id, Some("3.00"), None).expect("rest");
        let cancelled = orders.cancel(&admin(), &id, None).expect("cancel");
        assert_eq!((cancelled.paid.amount(), cancelled.refunded.amount(), cancelled.refund_due), ("5.00".into(), "0.00".into(), true));

        let part = orders.refund(&admin(), &id, Some("1.50")).expect("part");
        assert_eq!((part.status, part.refunded.amount(), part.refund_due), (OrderStatus::Cancelled, "1.50".into(), true), "still owed the rest");
        let checked = store.audit().projections(&admin()).expect("projections");
        assert!(checked.ok, "a partial refund is in the log: {:?}", checked.mismatches);
        let before = (events(db), orders.order(&admin(), &id).expect("order"));
        let over = orders.refund(&admin(), &id, Some("3.51")).expect_err("over-refund");
        assert!(matches!(over, Error::Conflict { .. }) && over.to_string().contains("3.50 USD left to refund"), "{over}");
        for bad in ["0", "-1", "lots"] {
            assert_eq!(common::invalid_field(orders.refund(&admin(), &id, Some(bad)).expect_err(bad)), "amount");
        }
        assert_eq!((events(db), orders.order(&admin(), &id).expect("order")), before, "refusals change nothing");

        let rest = orders.refund(&admin(), &id, None).expect("the rest");
        assert_eq!((rest.status, rest.refunded.amount(), rest.refund_due), (OrderStatus::Refunded, "5.00".into(), false));
        assert_eq!(rest.history.last().and_then(|h| h.note.as_deref()), Some("refunded 5.00 USD"));
        assert!(matches!(orders.refund(&admin(), &id, Some("0.01")), Err(Error::InvalidTransition { .. })), "nothing left");
        assert_eq!(refunds(&store), [("1.50".into(), "1.50".into()), ("3.50".into(), "5.00".into())], "each refund in the log");
        let tampered = std::panic::catch_unwind(|| db.sql(&format!("UPDATE orders SET refunded_minor = 501 WHERE id = '{id}'")));
        assert!(tampered.is_err(), "the schema refuses refunds above what was paid");
    }

    fn refunds_of_a_returned_order_and_of_unpaid_ones(db) {
        let store = stocked(db);
        let orders = store.orders();
        let id = orders.create(&admin(), new_order(&[("A-1", 2), ("B-1", 1)], None)).expect("create").id.to_string();
        walk(&store, &id, &["pay", "picking", "packed", "shipped", "delivered", "returned"]);
        let part = orders.refund(&admin(), &id, Some("1.00")).expect("part");
        assert_eq!((part.status, part.refunded.amount(), part.paid.amount()), (OrderStatus::Returned, "1.00".into(), "3.00".into()));
        let over = orders.refund(&admin(), &id, Some("2.01")).expect_err("over");
        assert!(over.to_string().contains("2.00 USD left"), "{over}");
        let rest = orders.refund(&admin(), &id, Some("2.00")).expect("rest");
        assert_eq!((rest.status, rest.refunded.amount()), (OrderStatus::Refunded, "3.00".into()));

        // Unpaid: a confirmed order is refused by the state table, a cancelled one has nothing to give back.
        let unpaid = orders.create(&admin(), new_order(&[("A-1", 1)], None)).expect("unpaid").id.to_string();
        assert!(matches!(orders.refund(&admin(), &unpaid, None), Err(Error::InvalidTransition { .. })));
        orders.cancel(&admin(), &unpaid, None).expect("cancel");
        let nothing = orders.refund(&admin(), &unpaid, None).expect_err("nothing paid");
        assert!(matches!(nothing, Error::Conflict { .. }) && nothing.to_string().contains("nothing paid"), "{nothing}");

        // Part paid, then cancelled: only what was paid comes back.
        let part_paid = orders.create(&admin(), new_order(&[("A-1", 4)], None)).expect("part paid").id.to_string();
        orders.pay(&admin(), &part_paid, Some("1.25"), None).expect("pay");
        orders.cancel(&admin(), &part_paid, None).expect("cancel");
        assert!(orders.refund(&admin(), &part_paid, Some("1.26")).is_err(), "more than was paid");
        let back = orders.refund(&admin(), &part_paid, None).expect("refund");
        assert_eq!((back.status, back.refunded.amount(), back.total.amount()), (OrderStatus::Refunded, "1.25".into(), "4.00".into()));

        let total: i64 = refunds(&store).iter().map(|(amount, _)| amount.replace('.', "").parse::<i64>().expect("amount")).sum();
        assert_eq!(total, 300 + 125, "the log adds up to what was refunded");
    }

    fn refunds_racing_for_the_last_amount_exactly_one_wins(db) {
        let store = stocked(db);
        let orders = store.orders();
        let id = orders.create(&admin(), new_order(&[("A-1", 5)], None)).expect("create").id.to_string();
        walk(&store, &id, &["pay", "cancel"]);
        orders.refund(&admin(), &id, Some("2.00")).expect("first part");
        let race = |amount: Option<&'static str>| -> Vec<Result<stockyard_core::Order, Error>> {
            let start = Barrier::new(6);
            thread::scope(|s| {
                let racers: Vec<_> = (0..6)
                    .map(|_| s.spawn(|| {
                        start.wait();
                        store.orders().refund(&admin(), &id, amount)
                    }))
                    .collect();
                racers.into_iter().map(|r| r.join().expect("racer")).collect()
            })
        };
        // 3.00 left: only one refund of 2.00 fits.
        let outcomes = race(Some("2.00"));
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
        assert!(outcomes.iter().filter_map(|o| o.as_ref().err()).all(|e| matches!(e, Error::Conflict { .. })), "{outcomes:?}");
        let order = orders.order(&admin(), &id).expect("order");
        assert_eq!((order.status, order.refunded.amount()), (OrderStatus::Cancelled, "4.00".into()));
        // The last 1.00, asked for by everyone at once: paid back once.
        let outcomes = race(None);
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
        let order = orders.order(&admin(), &id).expect("order");
        assert_eq!((order.status, order.refunded.amount()), (OrderStatus::Refunded, "5.00".into()));
        assert_eq!(refunds(&store).len(), 3);
    }
}

/// After orders exist, no plaintext email or phone anywhere in the database — events and
/// the audit log included: SQLite's files byte for byte, PostgreSQL's rows as text.
#[test]
fn no_plaintext_personal_data_at_rest() {
    let dbs: Vec<TestDb> = [Some(TestDb::sqlite()), TestDb::migrated_postgres()].into_iter().flatten().collect();
    for db in &dbs {
        let store = stocked(db);
        let id = store.orders().create(&admin(), new_order(&[("A-1", 2)], None)).expect("create").id.to_string();
        walk(&store, &id, &["pay", "picking", "packed", "shipped", "delivered"]);
        let needles = [EMAIL, PHONE, "Secret Lane", "Jane Customer"];
        match db.backend() {
            stockyard_core::Backend::Sqlite => {
                let path = db.url().trim_start_matches("sqlite://").to_owned();
                for file in [path.clone(), format!("{path}-wal")] {
                    let bytes = std::fs::read(&file).unwrap_or_default();
                    for needle in needles {
                        let found = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
                        assert!(!found, "{needle:?} in plain text in {file}");
                    }
                }
            }
            stockyard_core::Backend::Postgres => {
                for table in [
                    "orders",
                    "order_lines",
                    "order_status_history",
                    "order_payments",
                    "order_returns",
                    "events",
                    "audit_log",
                    "reservations",
                    "reservation_lines",
                    "stock_movements",
                    "settings",
                ] {
                    for needle in needles {
                        let hits =
                            db.number(&format!("SELECT COUNT(*) FROM {table} t WHERE t::text LIKE '%{needle}%'"));
                        assert_eq!(hits, 0, "{needle:?} in plain text in {table}");
                    }
                }
            }
        }
        // The store itself still reads it back, also after a key rotation re-sealed it all.
        assert_eq!(store.orders().order(&admin(), &id).expect("order").customer.email, EMAIL);
        let rotated = store.keys().rotate(&admin(), None).expect("rotate");
        assert_eq!(rotated.resealed, 5, "the signing secret and the customer's four fields");
        assert_eq!(store.orders().order(&admin(), &id).expect("order").customer, customer());
    }
}
