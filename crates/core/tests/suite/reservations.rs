//! Reservations on both backends: all or nothing, release, commit, expiry, allocation
//! across warehouses, the reserved stock that removals must respect, and the race.

use crate::common;

use common::{admin, events_of, level, store_with};

use std::thread;

use jiff::{SignedDuration, Timestamp};
use stockyard_core::PageRequest;
use stockyard_core::{
    Actor, Adjustment, Error, EventFilter, EventType, Store, StoreOptions,
    inventory::{Hold, ReservationStatus, ReserveRequest, allocation::Strategy},
    orders::{Customer, NewOrder},
};
use stockyard_testkit::backend_tests;

fn request(lines: &[(&str, i64)], warehouse: Option<&str>) -> ReserveRequest {
    ReserveRequest {
        lines: lines.iter().map(|(sku, q)| ((*sku).to_owned(), *q)).collect(),
        warehouse: warehouse.map(str::to_owned),
        ..Default::default()
    }
}

fn event_count(store: &Store) -> usize {
    store.events().list(&admin(), &EventFilter { limit: Some(1000), ..Default::default() }).expect("events").len()
}

backend_tests! {
    fn reserve_holds_every_line_or_none(db) {
        let store = store_with(db, &["A-1", "B-1"]);
        let inv = store.inventory();
        inv.receive(&admin(), "A-1", None, 10, None).expect("A");
        inv.receive(&admin(), "B-1", None, 2, None).expect("B");
        let before = event_count(&store);

        let err = inv.reserve(&admin(), request(&[("A-1", 3), ("B-1", 5)], Some("MAIN"))).expect_err("B is short");
        let Error::InsufficientStock { lines } = &err else { panic!("{err:?}") };
        assert_eq!(lines.iter().map(|l| (l.sku.as_str(), l.needed, l.available)).collect::<Vec<_>>(), [("B-1", 5, 2)]);
        assert_eq!(event_count(&store), before, "nothing recorded");
        assert_eq!(level(&store, "A-1", "MAIN").reserved, 0, "A-1 was not held either");

        let started = Timestamp::now();
        let held = inv.reserve(&admin(), ReserveRequest { reference: Some("cart-7".into()), ..request(&[("A-1", 3), ("B-1", 2), ("A-1", 1)], Some("main")) }).expect("reserve");
        assert_eq!((held.status, held.owner.as_str(), held.reference.as_deref()), (ReservationStatus::Active, "local-admin", Some("cart-7")));
        let lines: Vec<_> = held.lines.iter().map(|l| (l.sku.as_str(), l.warehouse.as_str(), l.quantity)).collect();
        assert_eq!(lines, [("A-1", "MAIN", 4), ("B-1", "MAIN", 2)], "a SKU named twice is held once, summed");
        let ttl = held.expires_at.expect("a checkout expires").duration_since(started);
        assert!(ttl >= SignedDuration::from_mins(15) && ttl < SignedDuration::from_mins(16), "{ttl:?}");
        let a = level(&store, "A-1", "MAIN");
        assert_eq!((a.on_hand, a.reserved, a.available), (10, 4, 6));
        assert_eq!(level(&store, "B-1", "MAIN").available, 0);
        assert_eq!(inv.reservation(&admin(), &held.id.to_string()).expect("load"), held);

        let reserved = events_of(&store, EventType::InventoryReserved);
        assert_eq!(reserved.len(), 2);
        assert!(reserved.iter().all(|e| e["reference"] == held.id.to_string() && e["kind"] == "reserve"));
        let json = serde_json::to_value(&held).expect("json");
        for key in ["reservation_id", "expires_at", "items", "status"] {
            assert!(json.get(key).is_some(), "{key} in {json}");
        }
        assert!(inv.verify(&admin()).expect("verify").ok);
    }

    fn reserved_stock_cannot_be_removed_counted_away_or_moved(db) {
        let store = store_with(db, &["A-1"]);
        let inv = store.inventory();
        inv.receive(&admin(), "A-1", None, 10, None).expect("receive");
        inv.reserve(&admin(), request(&[("A-1", 6)], None)).expect("reserve");
        let refusals = [
            inv.adjust(&admin(), "A-1", None, Adjustment::By(-5), "lost").map(drop),
            inv.adjust(&admin(), "A-1", None, Adjustment::Set(5), "recount").map(drop),
            inv.count(&admin(), "A-1", None, 3).map(drop),
            inv.transfer(&admin(), "A-1", 5, "MAIN", "EAST").map(drop),
        ];
        for refusal in refusals {
            let Err(Error::InsufficientStock { lines }) = refusal else { panic!("{refusal:?}") };
            assert_eq!((lines[0].reserved, lines[0].available), (6, 4), "names the quantity reserved");
        }
        inv.adjust(&admin(), "A-1", None, Adjustment::By(-4), "sold").expect("the unreserved part can go");
        assert_eq!(level(&store, "A-1", "MAIN").available, 0);
    }

    fn release_and_commit_close_a_reservation_once(db) {
        let store = store_with(db, &["A-1"]);
        let inv = store.inventory();
        inv.receive(&admin(), "A-1", None, 10, None).expect("receive");
        let first = inv.reserve(&admin(), request(&[("A-1", 3)], None)).expect("first");
        let second = inv.reserve(&admin(), request(&[("A-1", 4)], None)).expect("second");

        let released = inv.release(&admin(), &first.id.to_string()).expect("release");
        assert_eq!(released.status, ReservationStatus::Released);
        let again = inv.release(&admin(), &first.id.to_string()).expect_err("twice");
        assert!(matches!(&again, Error::InvalidTransition { from, .. } if from == "released"), "{again:?}");
        assert!(matches!(inv.commit(&admin(), &first.id.to_string()), Err(Error::InvalidTransition { .. })));

        let committed = inv.commit(&admin(), &second.id.to_string()).expect("commit");
        assert_eq!(committed.status, ReservationStatus::Committed);
        let a = level(&store, "A-1", "MAIN");
        assert_eq!((a.on_hand, a.reserved), (6, 0), "shipping consumed the 4 held");
        let kinds: Vec<String> = inv.history(&admin(), "A-1", None, None, None).expect("history").items.into_iter().map(|m| m.kind.as_str().to_owned()).collect();
        assert_eq!(kinds, ["receive", "reserve", "reserve", "release", "ship"]);
        assert_eq!(events_of(&store, EventType::InventoryReleased).len(), 1);

        assert!(matches!(inv.release(&admin(), "not-an-id"), Err(Error::Invalid { .. })));
        let unknown = stockyard_core::ReservationId::new().to_string();
        assert!(matches!(inv.release(&admin(), &unknown), Err(Error::NotFound { entity: "reservation", .. })));
        assert!(inv.verify(&admin()).expect("verify").ok);
    }

    fn expiry_releases_exactly_the_lapsed_checkouts(db) {
        let store = store_with(db, &["A-1"]);
        let inv = store.inventory();
        inv.receive(&admin(), "A-1", None, 10, None).expect("receive");
        let hold = |hold| inv.reserve(&admin(), ReserveRequest { hold, ..request(&[("A-1", 1)], None) }).expect("reserve");
        let short = hold(Hold::CheckoutFor(SignedDuration::from_secs(60)));
        let long = hold(Hold::Checkout);
        let order = store
            .orders()
            .create(&admin(), NewOrder {
                customer: Customer { email: "jane@example.org".into(), name: None, phone: None, address: None },
                lines: vec![("A-1".into(), 1)],
                warehouse: None,
                reservation: None,
                notes: None,
            })
            .expect("order");
        let order = inv.reservation(&admin(), &order.reservation_id.to_string()).expect("the order's reservation");
        assert_eq!(order.expires_at, None);

        let now = Timestamp::now();
        let sweeper = Actor::system("sweeper");
        assert_eq!(inv.expire_due(&sweeper, now).expect("sweep now"), 0, "nothing lapsed yet");
        assert_eq!(inv.expire_due(&sweeper, now + SignedDuration::from_mins(2)).expect("sweep"), 1);
        assert_eq!(inv.reservation(&admin(), &short.id.to_string()).expect("short").status, ReservationStatus::Expired);
        assert_eq!(inv.reservation(&admin(), &long.id.to_string()).expect("long").status, ReservationStatus::Active);
        assert_eq!(inv.expire_due(&sweeper, now + SignedDuration::from_hours(24 * 365)).expect("sweep later"), 1);
        assert_eq!(inv.reservation(&admin(), &order.id.to_string()).expect("order").status, ReservationStatus::Active, "an order's hold never lapses");
        assert_eq!(level(&store, "A-1", "MAIN").reserved, 1);

        let released = events_of(&store, EventType::InventoryReleased);
        assert_eq!(released.len(), 2);
        assert!(released.iter().all(|e| e["reason"] == "expired"), "{released:?}");
        let audit = store.audit().list(&admin(), Some("reservation"), &PageRequest { limit: Some(1000), cursor: None }).expect("audit").items;
        assert!(audit.iter().any(|r| r.action == "reservation.expire" && r.actor == "system:sweeper"));
        assert!(matches!(inv.release(&admin(), &short.id.to_string()), Err(Error::InvalidTransition { .. })));
    }

    fn allocation_prefers_one_warehouse_then_splits(db) {
        let store = store_with(db, &["A-1", "B-1"]);
        let inv = store.inventory();
        inv.receive(&admin(), "A-1", Some("MAIN"), 2, None).expect("A main");
        inv.receive(&admin(), "A-1", Some("EAST"), 5, None).expect("A east");
        inv.receive(&admin(), "B-1", Some("EAST"), 5, None).expect("B east");

        let whole = inv.reserve(&admin(), request(&[("A-1", 1), ("B-1", 1)], None)).expect("whole");
        assert!(whole.lines.iter().all(|l| l.warehouse == "EAST"), "EAST holds every line: {:?}", whole.lines);
        assert!(whole.allocation.contains("EAST holds every line"), "{}", whole.allocation);

        let split = inv.reserve(&admin(), request(&[("A-1", 5)], None)).expect("split");
        assert_eq!(inv.reservation(&admin(), &split.id.to_string()).expect("load"), split, "stored as answered");
        let mut picks: Vec<_> = split.lines.iter().map(|l| (l.warehouse.as_str(), l.quantity)).collect();
        picks.sort_unstable();
        assert_eq!(picks, [("EAST", 4), ("MAIN", 1)], "most stock first, the rest from MAIN");

        let err = inv.reserve(&admin(), request(&[("A-1", 2), ("B-1", 9)], None)).expect_err("short everywhere");
        let Error::InsufficientStock { lines } = &err else { panic!("{err:?}") };
        assert_eq!(lines.iter().map(|l| (l.sku.as_str(), l.available)).collect::<Vec<_>>(), [("A-1", 1), ("B-1", 4)]);

        // A priority order, from configuration: MAIN first.
        let options = StoreOptions { allocation: "priority:main,east".parse::<Strategy>().expect("strategy"), ..db.options() };
        let by_priority = Store::open_with(db.url(), &options).expect("open");
        let held = by_priority.inventory().reserve(&admin(), request(&[("A-1", 1)], None)).expect("priority");
        assert_eq!(held.lines[0].warehouse, "MAIN");
        assert!(inv.verify(&admin()).expect("verify").ok);
    }

    fn bad_requests_name_the_problem_and_hold_nothing(db) {
        let store = store_with(db, &["A-1"]);
        let inv = store.inventory();
        inv.receive(&admin(), "A-1", None, 10, None).expect("receive");
        let field = |request| match inv.reserve(&admin(), request) {
            Err(Error::Invalid { field, reason }) => format!("{field}: {reason}"),
            other => panic!("{other:?}"),
        };
        assert!(field(request(&[], None)).starts_with("items"));
        assert!(field(request(&[("A-1", 0)], None)).contains("A-1"));
        // Each refusal names its line.
        assert!(field(request(&[("A-1", 1), ("A-1", -1)], None)).starts_with("items[1].quantity: A-1"));
        assert!(field(request(&[("A-1", 1), ("bad sku", 1)], None)).starts_with("items[1].sku: "));
        assert!(field(ReserveRequest { hold: Hold::CheckoutFor(SignedDuration::ZERO), ..request(&[("A-1", 1)], None) }).starts_with("ttl"));
        assert!(field(ReserveRequest { reference: Some("x".repeat(201)), ..request(&[("A-1", 1)], None) }).starts_with("reference"));
        assert!(matches!(inv.reserve(&admin(), request(&[("NOPE", 1)], None)), Err(Error::NotFound { .. })));
        assert!(matches!(inv.reserve(&admin(), request(&[("A-1", 1)], Some("WEST"))), Err(Error::NotFound { .. })));
        assert_eq!(level(&store, "A-1", "MAIN").reserved, 0);
    }

    fn thirty_two_threads_racing_for_ten_units_reserve_exactly_ten(db) {
        let store = store_with(db, &["HOT-1"]);
        store.inventory().receive(&admin(), "HOT-1", None, 10, None).expect("receive");
        let won: usize = thread::scope(|s| {
            let racers: Vec<_> = (0..32)
                .map(|_| {
                    let store = store.clone();
                    s.spawn(move || match store.inventory().reserve(&admin(), request(&[("HOT-1", 1)], None)) {
                        Ok(_) => 1,
                        Err(Error::InsufficientStock { .. }) => 0,
                        Err(e) => panic!("unexpected {e:?}"),
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().expect("racer")).sum()
        });
        assert_eq!(won, 10);
        let hot = level(&store, "HOT-1", "MAIN");
        assert_eq!((hot.on_hand, hot.reserved, hot.available), (10, 10, 0));
        assert!(store.inventory().verify(&admin()).expect("verify").ok, "projection == replay");
    }

    fn many_line_reservations_naming_shared_skus_in_any_order_neither_deadlock_nor_oversell(db) {
        // Every line of a many-line reservation changes in one statement; single lines, and
        // receipts that create no level, go one by one. Both lock in one order.
        let skus = ["HOT-1", "HOT-2", "HOT-3"];
        let store = store_with(db, &skus);
        for sku in skus {
            store.inventory().receive(&admin(), sku, Some("MAIN"), 30, None).expect("receive");
        }
        let held: Vec<Vec<String>> = thread::scope(|s| {
            let workers: Vec<_> = (0..6)
                .map(|worker| {
                    let store = store.clone();
                    s.spawn(move || {
                        let mut mine = Vec::new();
                        for round in 0..10 {
                            let mut lines: Vec<(&str, i64)> = skus.iter().map(|sku| (*sku, 1)).collect();
                            if (worker + round) % 2 == 0 {
                                lines.reverse();
                            }
                            let lines = if worker == 5 { &lines[..1] } else { &lines[..] };
                            match store.inventory().reserve(&admin(), request(lines, Some("MAIN"))) {
                                Ok(r) if round % 3 == 0 => {
                                    store.inventory().release(&admin(), &r.id.to_string()).expect("release");
                                }
                                Ok(r) => mine.push(r.id.to_string()),
                                Err(Error::InsufficientStock { .. }) => {}
                                Err(e) => panic!("reserve failed: {e:?}"),
                            }
                            if worker == 4 {
                                store.inventory().receive(&admin(), "HOT-2", Some("MAIN"), 1, None).expect("receive");
                            }
                        }
                        mine
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().expect("worker")).collect()
        });
        let holding: i64 = held.iter().flatten().count() as i64;
        for sku in skus {
            let level = level(&store, sku, "MAIN");
            assert!(level.reserved <= level.on_hand, "{sku} oversold: {level:?}");
            assert!(level.reserved <= holding, "{sku}: more reserved than the reservations held");
        }
        assert_eq!(level(&store, "HOT-2", "MAIN").on_hand, 40, "HOT-2: 30 and ten receipts");
        for id in held.iter().flatten() {
            store.inventory().release(&admin(), id).expect("release");
        }
        for sku in skus {
            assert_eq!(level(&store, sku, "MAIN").reserved, 0, "{sku}: every reservation let go");
        }
        assert!(store.inventory().verify(&admin()).expect("verify").ok, "projection == replay");
    }
}
