//! Who sees which events: a reader of the log sees an event only if it may read what the
//! event is about — a client its own orders' and reservations' events and the catalog's, a
//! user scoped to warehouses the stock events there — and a filtered read still never
//! skips an event nor reads a stretch twice.

use crate::common;

use std::collections::BTreeSet;

use common::{acting, admin, store_with};
use stockyard_core::{
    Action, Actor, Event, EventFilter, EventType, Store,
    inventory::ReserveRequest,
    orders::{Customer, NewOrder},
};
use stockyard_testkit::backend_tests;

fn all(store: &Store, actor: &Actor) -> Vec<Event> {
    let filter = EventFilter { limit: Some(1000), ..Default::default() };
    store.events().list(actor, &filter).expect("events")
}

fn types(events: &[Event]) -> BTreeSet<EventType> {
    events.iter().map(|e| e.event_type).collect()
}

fn order(store: &Store, actor: &Actor, warehouse: &str) -> String {
    let input = NewOrder {
        customer: Customer { email: "buyer@example.org".into(), ..Default::default() },
        lines: vec![("A-1".into(), 1)],
        warehouse: Some(warehouse.into()),
        ..Default::default()
    };
    store.orders().create(actor, input).expect("order").id.to_string()
}

/// A-1 stocked at MAIN and EAST; two clients each with an order (one at MAIN, one at
/// EAST), the first also with a checkout reservation.
struct World {
    store: Store,
    mine: Actor,
    my_order: String,
    my_reservation: String,
    their_order: String,
}

fn world(db: &stockyard_testkit::TestDb) -> World {
    let store = store_with(db, &["A-1"]);
    for warehouse in ["MAIN", "EAST"] {
        store.inventory().receive(&admin(), "A-1", Some(warehouse), 10, None).expect("receive");
    }
    let mine = acting(&store, "mine@example.com", "client", &[]);
    let theirs = acting(&store, "theirs@example.com", "client", &[]);
    let request =
        ReserveRequest { lines: vec![("A-1".into(), 1)], warehouse: Some("MAIN".into()), ..Default::default() };
    let my_reservation = store.inventory().reserve(&mine, request).expect("reserve").id.to_string();
    let my_order = order(&store, &mine, "MAIN");
    let their_order = order(&store, &theirs, "EAST");
    World { store, mine, my_order, my_reservation, their_order }
}

backend_tests! {
    fn a_client_sees_the_catalog_and_its_own_orders_and_reservations(db) {
        let w = world(db);
        let seen = all(&w.store, &w.mine);
        let everything = all(&w.store, &admin());
        let my_order_reservation = w.store.orders().order(&w.mine, &w.my_order).expect("order").reservation_id.to_string();
        let mine: BTreeSet<&str> = [&w.my_order, &w.my_reservation, &my_order_reservation].into_iter().map(String::as_str).collect();
        for event in &seen {
            let catalog = matches!(event.event_type.read_action(), Action::ProductRead | Action::CategoryRead | Action::WarehouseRead);
            assert!(catalog || mine.contains(event.aggregate_id.as_str()), "a client saw {event:?}");
        }
        // Everything it may see, it sees: the catalog's events and its own, in seq order.
        let expected: Vec<i64> = everything
            .iter()
            .filter(|e| e.event_type == EventType::ProductCreated || e.event_type == EventType::WarehouseCreated || mine.contains(e.aggregate_id.as_str()))
            .map(|e| e.seq)
            .collect();
        assert_eq!(seen.iter().map(|e| e.seq).collect::<Vec<_>>(), expected);
        let seen_types = types(&seen);
        for wanted in [EventType::ProductCreated, EventType::InventoryReserved, EventType::OrderCreated, EventType::OrderStatusChanged] {
            assert!(seen_types.contains(&wanted), "{wanted} missing from {seen_types:?}");
        }
        assert!(!seen.iter().any(|e| e.aggregate_id == w.their_order), "another client's order showed");
        assert!(!seen_types.contains(&EventType::InventoryChanged) && !seen_types.contains(&EventType::UserCreated));
        // The same rule for the newest events, where a tail starts.
        let newest = w.store.events().newest(&w.mine, None, 1000).expect("newest");
        assert_eq!(newest, seen);
    }

    fn a_scoped_user_sees_the_stock_and_orders_of_its_warehouses_only(db) {
        let w = world(db);
        let east = acting(&w.store, "east@example.com", "warehouse", &["EAST"]);
        let seen = all(&w.store, &east);
        let stock: Vec<&Event> = seen.iter().filter(|e| e.event_type.read_action() == Action::StockHistory).collect();
        assert!(!stock.is_empty());
        assert!(stock.iter().all(|e| e.payload["warehouse"] == "EAST"), "{stock:?}");
        let orders: BTreeSet<&str> = seen.iter().filter(|e| e.aggregate_type == "order").map(|e| e.aggregate_id.as_str()).collect();
        assert_eq!(orders, BTreeSet::from([w.their_order.as_str()]));
        let everywhere = acting(&w.store, "all@example.com", "warehouse", &[]);
        let unscoped = all(&w.store, &everywhere);
        assert!(unscoped.iter().any(|e| e.payload["warehouse"] == "MAIN") && unscoped.iter().any(|e| e.aggregate_id == w.my_order));
        // Users and notifications are no warehouse's business; a viewer reads stock and
        // orders everywhere but not them either.
        let viewer = acting(&w.store, "viewer@example.com", "viewer", &[]);
        for events in [seen, unscoped, all(&w.store, &viewer)] {
            assert!(!types(&events).contains(&EventType::UserCreated), "{:?}", types(&events));
        }
        let admin_types = types(&all(&w.store, &admin()));
        assert!(admin_types.contains(&EventType::UserCreated));
    }

    fn a_filtered_read_moves_past_what_it_may_not_see(db) {
        let w = world(db);
        let head = w.store.feed().latest().expect("head");
        let first = w.store.events().read(&w.mine, &EventFilter { since: Some(0), limit: Some(1), ..Default::default() }).expect("read");
        assert_eq!(first.events.len(), 1);
        assert_eq!(first.through, first.events[0].seq, "a full page goes as far as its last event");
        let rest = w.store.events().read(&w.mine, &EventFilter { since: Some(first.through), limit: Some(1000), ..Default::default() }).expect("read");
        assert_eq!(rest.through, head, "a short page has read up to the head");
        // Stock moved at MAIN by staff: nothing the client may see, but the read passes it.
        w.store.inventory().receive(&admin(), "A-1", Some("MAIN"), 5, None).expect("receive");
        let hidden = w.store.events().read(&w.mine, &EventFilter { since: Some(rest.through), ..Default::default() }).expect("read");
        assert_eq!(hidden.events, []);
        assert!(hidden.through > rest.through);
        // Then its own order: the next read from there finds exactly that.
        let again = order(&w.store, &w.mine, "MAIN");
        let next = w.store.events().read(&w.mine, &EventFilter { since: Some(hidden.through), ..Default::default() }).expect("read");
        assert!(!next.events.is_empty() && next.events.iter().all(|e| e.aggregate_id == again || e.aggregate_type == "reservation"));
        assert_eq!(next.through, w.store.feed().latest().expect("head"));
    }

    fn every_role_may_read_the_log(db) {
        let w = world(db);
        for role in ["manager", "warehouse", "sales", "client", "viewer"] {
            let actor = acting(&w.store, &format!("{role}-reader@example.com"), role, &[]);
            assert!(!all(&w.store, &actor).is_empty(), "{role}");
        }
    }
}
