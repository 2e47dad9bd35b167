//! Picking orders on both backends: picks move an order from paid to picking to packed,
//! refusals change nothing, a scanned barcode names its line, scoped pickers pick their own
//! warehouse's lines, pickers racing on one line never over-pick, the orders to pick at a
//! warehouse, packing by hand around picks, and the order counts by status.

use crate::common;

use std::{sync::Barrier, thread};

use common::{acting, admin, store_at, store_with};

use jiff::SignedDuration;
use stockyard_core::{
    Actor, Conflict, Error, EventFilter, EventType, ManualClock, OrderStatus, PageRequest, ProductPatch, Store,
    orders::{Customer, NewOrder},
};
use stockyard_testkit::{TestDb, backend_tests};

fn new_order(lines: &[(&str, i64)], warehouse: Option<&str>) -> NewOrder {
    NewOrder {
        customer: Customer { email: "jo@example.org".into(), ..Default::default() },
        lines: lines.iter().map(|(s, q)| ((*s).to_owned(), *q)).collect(),
        warehouse: warehouse.map(str::to_owned),
        ..Default::default()
    }
}

/// A-1 (10 at MAIN, 5 at EAST) and B-1 (4 at MAIN, barcode 4006381333931).
fn stocked(store: Store) -> Store {
    let inv = store.inventory();
    inv.receive(&admin(), "A-1", Some("MAIN"), 10, None).expect("A MAIN");
    inv.receive(&admin(), "A-1", Some("EAST"), 5, None).expect("A EAST");
    inv.receive(&admin(), "B-1", Some("MAIN"), 4, None).expect("B MAIN");
    let patch = ProductPatch { barcode: Some("4006381333931".into()), ..Default::default() };
    store.catalog().update_product(&admin(), "B-1", patch).expect("barcode");
    store
}

/// A paid order placed by the admin; its number.
fn paid(store: &Store, lines: &[(&str, i64)], warehouse: Option<&str>) -> String {
    let order = store.orders().create(&admin(), new_order(lines, warehouse)).expect("create");
    store.orders().pay(&admin(), &order.number.to_string(), None, None).expect("pay");
    order.number.to_string()
}

/// (events, audit records): what a refused step must leave as it was.
fn journal(db: &TestDb) -> (i64, i64) {
    (db.number("SELECT COUNT(*) FROM events"), db.number("SELECT COUNT(*) FROM audit_log"))
}

/// (picked, of) of the allocation of `sku` at `warehouse`.
fn progress(store: &Store, number: &str, sku: &str, warehouse: &str) -> (i64, i64) {
    let order = store.orders().order(&admin(), number).expect("order");
    let a = order.allocations.iter().find(|a| a.sku == sku && a.warehouse == warehouse).expect("allocation");
    (a.picked, a.quantity)
}

fn refused_saying(result: Result<stockyard_core::Order, Error>, says: &str) {
    match result {
        Err(e @ Error::Conflict { code: Conflict::Refused, .. }) => assert!(e.to_string().contains(says), "{e}"),
        other => panic!("expected a refusal saying {says:?}, got {other:?}"),
    }
}

backend_tests! {
    fn picks_move_a_paid_order_to_picking_and_the_last_one_to_packed(db) {
        let store = stocked(store_with(db, &["A-1", "B-1"]));
        let orders = store.orders();
        let number = paid(&store, &[("A-1", 3), ("B-1", 2)], Some("MAIN"));
        let before = journal(db).0;

        let first = orders.pick(&admin(), &number, "a-1", 1, None).expect("first pick");
        assert_eq!(first.status, OrderStatus::Picking);
        let a = first.allocations.iter().find(|a| a.sku == "A-1").expect("A-1");
        assert_eq!((a.picked, a.quantity, a.picked_by.as_deref()), (1, 3, Some("local-admin")));
        assert!(a.picked_at.is_some());
        assert_eq!(journal(db).0, before + 2, "OrderPicked and OrderStatusChanged");
        let picked = common::events_of(&store, EventType::OrderPicked);
        assert_eq!(
            picked.last().map(|e| (e["sku"].clone(), e["warehouse"].clone(), e["quantity"].clone(), e["picked"].clone(), e["of"].clone())),
            Some(("A-1".into(), "MAIN".into(), 1.into(), 1.into(), 3.into()))
        );
        assert_eq!(picked.last().map(|e| e["number"].to_string()), Some(number.clone()));

        let more = orders.pick(&admin(), &number, "A-1", 2, Some("main")).expect("the rest of A-1");
        assert_eq!((more.status, more.version), (OrderStatus::Picking, first.version + 1));
        // B-1 by its barcode, as a scanner reads it.
        let done = orders.pick(&admin(), &number, "4006381333931", 2, None).expect("B-1 by barcode");
        assert_eq!(done.status, OrderStatus::Packed, "every allocation picked");
        assert!(done.allocations.iter().all(|a| a.picked == a.quantity));
        let steps: Vec<_> = done.history.iter().map(|h| h.to).collect();
        assert_eq!(steps[2..], [OrderStatus::Paid, OrderStatus::Picking, OrderStatus::Packed]);
        assert_eq!(common::events_of(&store, EventType::OrderPicked).len(), 3);

        let shipped = orders.set_status(&admin(), &number, OrderStatus::Shipped, None).expect("ship");
        assert_eq!(shipped.allocations, done.allocations, "picks stay on the order");
        let checked = store.audit().projections(&admin()).expect("projections");
        assert!(checked.ok && checked.checked.get("order_picks") == Some(&2), "{checked:?}");
        assert!(store.audit().verify(&admin()).expect("chain").ok);
    }

    fn refused_picks_change_nothing(db) {
        let store = stocked(store_with(db, &["A-1", "B-1", "C-1"]));
        let orders = store.orders();
        let number = paid(&store, &[("A-1", 3)], Some("MAIN"));
        orders.pick(&admin(), &number, "A-1", 2, None).expect("two of three");
        let unpaid = orders.create(&admin(), new_order(&[("A-1", 1)], Some("MAIN"))).expect("unpaid").number.to_string();
        let before = (journal(db), orders.order(&admin(), &number).expect("order"), orders.order(&admin(), &unpaid).expect("order"));

        refused_saying(orders.pick(&admin(), &number, "A-1", 3, None), &format!("order {number} needs 1 more of A-1 at MAIN, not 3"));
        let wrong = orders.pick(&admin(), &number, "C-1", 1, None).expect_err("not on the order");
        assert!(wrong.to_string().contains(&format!("C-1 is not on order {number}")), "{wrong}");
        assert_eq!(common::invalid_field(wrong), "sku");
        let nowhere = orders.pick(&admin(), &number, "A-1", 1, Some("EAST")).expect_err("not allocated at EAST");
        assert!(nowhere.to_string().contains("only at MAIN"), "{nowhere}");
        for bad in [0, -1] {
            assert_eq!(common::invalid_field(orders.pick(&admin(), &number, "A-1", bad, None).expect_err("quantity")), "quantity");
        }
        refused_saying(orders.pick(&admin(), &unpaid, "A-1", 1, None), "is confirmed");
        assert!(matches!(orders.pick(&admin(), "999", "A-1", 1, None), Err(Error::NotFound { .. })));
        let after = (journal(db), orders.order(&admin(), &number).expect("order"), orders.order(&admin(), &unpaid).expect("order"));
        assert_eq!(after, before, "no event, audit record or version");

        // The last one; then the order is packed and takes no more.
        assert_eq!(orders.pick(&admin(), &number, "A-1", 1, None).expect("last").status, OrderStatus::Packed);
        refused_saying(orders.pick(&admin(), &number, "A-1", 1, None), "is packed");
        // The table itself refuses a pick beyond the allocation.
        let tampered = std::panic::catch_unwind(|| db.sql("UPDATE order_picks SET picked = quantity + 1"));
        assert!(tampered.is_err(), "CHECK picked <= quantity");
    }

    fn a_scoped_picker_picks_its_own_warehouses_lines(db) {
        let store = stocked(store_with(db, &["A-1", "B-1"]));
        let orders = store.orders();
        // 12 of A-1: 10 from MAIN, 2 from EAST; B-1 from MAIN only.
        let split = paid(&store, &[("A-1", 12), ("B-1", 1)], None);
        let main_only = paid(&store, &[("B-1", 1)], Some("MAIN"));
        let east = acting(&store, "east@example.com", "warehouse", &["EAST"]);
        let listed = |actor: &Actor, warehouse: &str| -> Vec<i64> {
            orders.to_pick(actor, warehouse, None).expect("to pick").iter().map(|o| o.number).collect()
        };
        let (split_n, main_n): (i64, i64) = (split.parse().expect("n"), main_only.parse().expect("n"));
        assert_eq!((listed(&admin(), "MAIN"), listed(&admin(), "east")), (vec![split_n, main_n], vec![split_n]));
        assert_eq!(listed(&east, "EAST"), [split_n], "an order served from EAST and MAIN, for its EAST lines");
        assert!(matches!(orders.to_pick(&east, "MAIN", None), Err(Error::Forbidden { .. })));
        assert!(matches!(orders.to_pick(&admin(), "NOWHERE", None), Err(Error::NotFound { .. })));
        assert_eq!(common::invalid_field(orders.to_pick(&admin(), "MAIN", Some(0)).expect_err("limit")), "limit");
        assert_eq!(listed(&admin(), "MAIN").len(), 2);
        let first: Vec<i64> = orders.to_pick(&admin(), "MAIN", Some(1)).expect("one").iter().map(|o| o.number).collect();
        assert_eq!(first, [split_n], "oldest first");

        let before = journal(db);
        for (number, sku, warehouse) in [(&split, "A-1", Some("MAIN")), (&split, "B-1", None), (&main_only, "B-1", None)] {
            let refused = orders.pick(&east, number, sku, 1, warehouse).expect_err("outside EAST");
            assert!(matches!(refused, Error::Forbidden { .. }), "{sku} on {number}: {refused:?}");
        }
        assert_eq!(journal(db), before);
        // Without a warehouse, A-1 is picked where the picker may: EAST.
        let picked = orders.pick(&east, &split, "A-1", 2, None).expect("EAST's two");
        assert_eq!((picked.status, progress(&store, &split, "A-1", "EAST")), (OrderStatus::Picking, (2, 2)));
        assert_eq!(progress(&store, &split, "A-1", "MAIN"), (0, 10));
        assert!(listed(&east, "EAST").is_empty(), "nothing left to pick at EAST");
        assert_eq!(listed(&admin(), "MAIN"), [split_n, main_n]);
        // Who may pick at both must say where.
        let ambiguous = orders.pick(&admin(), &split, "A-1", 1, None).expect_err("two warehouses");
        assert!(ambiguous.to_string().contains("EAST and MAIN"), "{ambiguous}");
        assert_eq!(common::invalid_field(ambiguous), "warehouse");

        // The audit record names the picker.
        let records = store.audit().list(&admin(), Some(&format!("order:{}", picked.id)), &PageRequest::default()).expect("audit");
        let last = records.items.last().expect("a record");
        assert_eq!((last.action.as_str(), last.actor.as_str()), ("order.pick", "east@example.com"));
    }

    fn clients_see_their_orders_picks_without_the_picker(db) {
        let store = stocked(store_with(db, &["A-1", "B-1"]));
        let ann = acting(&store, "ann@example.com", "client", &[]);
        let picker = acting(&store, "pia@example.com", "warehouse", &["MAIN"]);
        let number = store.orders().create(&ann, new_order(&[("A-1", 2)], Some("MAIN"))).expect("ann's").number.to_string();
        store.orders().pay(&admin(), &number, None, None).expect("pay");
        store.orders().pick(&picker, &number, "A-1", 1, None).expect("pick");
        let hers = store.orders().order(&ann, &number).expect("her order");
        assert_eq!(hers.allocations[0].picked_by.as_deref(), Some("staff"));
        let staff = store.orders().order(&admin(), &number).expect("order");
        assert_eq!(staff.allocations[0].picked_by.as_deref(), Some("pia@example.com"));
        let filter = EventFilter { event_type: Some(EventType::OrderPicked), ..Default::default() };
        assert_eq!(store.events().list(&ann, &filter).expect("events").len(), 1, "the event of her own order");
        let bob = acting(&store, "bob@example.com", "client", &[]);
        assert!(store.events().list(&bob, &filter).expect("events").is_empty());
        assert!(matches!(store.orders().pick(&ann, &number, "A-1", 1, None), Err(Error::Forbidden { .. })));
    }

    fn pickers_racing_on_one_line_never_over_pick(db) {
        let store = stocked(store_with(db, &["A-1", "B-1"]));
        let number = paid(&store, &[("A-1", 5)], Some("MAIN"));
        let start = Barrier::new(8);
        let outcomes: Vec<_> = thread::scope(|s| {
            let pickers: Vec<_> = (0..8)
                .map(|_| s.spawn(|| {
                    start.wait();
                    store.orders().pick(&admin(), &number, "A-1", 1, None)
                }))
                .collect();
            pickers.into_iter().map(|p| p.join().expect("picker")).collect()
        });
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 5, "{outcomes:?}");
        for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
            assert!(matches!(refused, Error::Conflict { code: Conflict::Refused, .. }), "{refused:?}");
        }
        let order = store.orders().order(&admin(), &number).expect("order");
        assert_eq!((order.status, order.allocations[0].picked), (OrderStatus::Packed, 5));
        assert_eq!(common::events_of(&store, EventType::OrderPicked).len(), 5);
        assert_eq!(db.number("SELECT picked FROM order_picks"), 5);
        assert!(store.audit().projections(&admin()).expect("projections").ok);
    }

    fn packing_by_hand_needs_no_picks_or_all_of_them(db) {
        let store = stocked(store_with(db, &["A-1", "B-1"]));
        let orders = store.orders();
        // Never picked: packed by hand as before.
        let by_hand = paid(&store, &[("A-1", 1)], Some("MAIN"));
        orders.set_status(&admin(), &by_hand, OrderStatus::Picking, None).expect("picking");
        assert_eq!(orders.set_status(&admin(), &by_hand, OrderStatus::Packed, None).expect("packed").status, OrderStatus::Packed);
        // Picked in part: refused, until the rest is picked (which packs it).
        let part = paid(&store, &[("A-1", 3), ("B-1", 2)], Some("MAIN"));
        orders.pick(&admin(), &part, "B-1", 2, None).expect("B-1");
        let before = journal(db);
        refused_saying(orders.set_status(&admin(), &part, OrderStatus::Packed, None), &format!("order {part} has 2 of 5 units picked: pick the rest first"));
        assert_eq!(journal(db), before);
        // Picking by status, then by picks, is fine too; a picked order is still cancelled.
        let cancelled = paid(&store, &[("A-1", 2)], Some("MAIN"));
        orders.set_status(&admin(), &cancelled, OrderStatus::Picking, None).expect("picking");
        orders.pick(&admin(), &cancelled, "A-1", 1, None).expect("one");
        let gone = orders.cancel(&admin(), &cancelled, Some("customer asked")).expect("cancel");
        assert_eq!((gone.status, gone.refund_due), (OrderStatus::Cancelled, true));
        orders.pick(&admin(), &part, "A-1", 3, None).expect("the rest");
        assert_eq!(orders.order(&admin(), &part).expect("order").status, OrderStatus::Packed);
        assert!(store.inventory().verify(&admin()).expect("stock").ok);
        assert!(store.audit().projections(&admin()).expect("projections").ok);
    }

    fn status_counts_count_what_the_actor_may_list(db) {
        let clock = ManualClock::starting_now();
        let store = stocked(store_at(db, &clock, &["A-1", "B-1"]));
        let orders = store.orders();
        let ann = acting(&store, "ann@example.com", "client", &[]);
        let east = acting(&store, "east@example.com", "sales", &["EAST"]);
        let old = orders.create(&admin(), new_order(&[("A-1", 1)], Some("EAST"))).expect("old");
        orders.pay(&admin(), &old.id.to_string(), None, None).expect("pay");
        let since = clock.advance(SignedDuration::from_mins(5));
        orders.create(&ann, new_order(&[("A-1", 1)], Some("MAIN"))).expect("ann's");
        let hers = orders.create(&ann, new_order(&[("A-1", 1)], Some("EAST"))).expect("ann's at EAST");
        orders.cancel(&admin(), &hers.id.to_string(), None).expect("cancel");
        paid(&store, &[("B-1", 1)], Some("MAIN"));

        let counts = |actor: &Actor, since| {
            let counts = orders.status_counts(actor, since).expect("counts");
            assert_eq!(counts.iter().map(|(s, _)| *s).collect::<Vec<_>>(), OrderStatus::ALL, "every status, in order");
            counts.into_iter().filter(|(_, n)| *n > 0).map(|(s, n)| (s.as_str(), n)).collect::<Vec<_>>()
        };
        assert_eq!(counts(&admin(), since), [("confirmed", 1), ("paid", 1), ("cancelled", 1)]);
        assert_eq!(counts(&admin(), since - SignedDuration::from_mins(10)), [("confirmed", 1), ("paid", 2), ("cancelled", 1)]);
        assert_eq!(counts(&ann, since), [("confirmed", 1), ("cancelled", 1)], "a client counts its own");
        assert_eq!(counts(&east, since), [("cancelled", 1)], "a scoped user counts those wholly at its warehouses");
        assert!(counts(&admin(), clock.advance(SignedDuration::from_mins(1))).is_empty());
        let nobody = acting(&store, "nobody@example.com", "viewer", &[]);
        assert_eq!(counts(&nobody, since).len(), 3, "a viewer reads orders");
    }
}
