//! The stock ledger on both backends: every operation and refusal, transfers, thresholds,
//! point-in-time answers, the delete rule, and verify/replay against tampering.

use crate::common;

use common::{admin, events_of, invalid_field, level, store_at, store_with};

use std::thread;

use jiff::SignedDuration;

use stockyard_core::PageRequest;
use stockyard_core::{
    Adjustment, Conflict, Error, EventFilter, EventType, ManualClock, StockQuery, Store, StoreOptions, demo,
};
use stockyard_testkit::{backend_tests, wait_until};

fn on_hand(store: &Store, sku: &str, warehouse: &str) -> i64 {
    level(store, sku, warehouse).on_hand
}

/// Everything a refused command must leave unchanged: events, audit records, movements.
fn journal(store: &Store, sku: &str) -> (usize, usize, usize) {
    let events =
        store.events().list(&admin(), &EventFilter { limit: Some(1000), ..Default::default() }).expect("events");
    let audit =
        store.audit().list(&admin(), None, &PageRequest { limit: Some(1000), cursor: None }).expect("audit").items;
    let history = store.inventory().history(&admin(), sku, None, Some(1000), None).expect("history");
    (events.len(), audit.len(), history.items.len())
}

backend_tests! {
    fn every_combination_of_stock_filters_lists_the_right_levels_and_movements(db) {
        // Each combination is its own statement (crates/core/src/db/filter.rs): each must
        // list exactly the levels (and movements) the filters describe, page after page.
        let clock = ManualClock::starting_now();
        let store = db.store_at(&clock);
        store.warehouses().create(&admin(), stockyard_core::NewWarehouse { code: "EAST".into(), name: "East".into() }).expect("EAST");
        for sku in ["A-1", "B-1", "C-1"] {
            let product = stockyard_core::NewProduct { sku: sku.into(), name: sku.into(), price: "1.00".into(), ..Default::default() };
            store.catalog().create_product(&admin(), product).expect("product");
        }
        let inv = store.inventory();
        for (n, sku) in ["A-1", "B-1", "C-1"].into_iter().enumerate() {
            for (m, warehouse) in ["MAIN", "EAST"].into_iter().enumerate() {
                inv.receive(&admin(), sku, Some(warehouse), 10, None).expect("receive");
                inv.set_threshold(&admin(), sku, Some(warehouse), 5 + 5 * ((n + m) as i64 % 2), None).expect("threshold");
                inv.adjust(&admin(), sku, Some(warehouse), Adjustment::By(-2), "sold").expect("sell");
            }
        }
        let middle = store.now();
        clock.advance(jiff::SignedDuration::from_millis(5));
        inv.adjust(&admin(), "A-1", Some("MAIN"), Adjustment::By(-3), "sold").expect("later sale");
        let east = common::acting(&store, "east@example.com", "warehouse", &["EAST"]);
        for at in [None, Some(middle)] {
            let all = inv.levels(&admin(), &StockQuery { at, limit: Some(1000), ..Default::default() }).expect("all").items;
            assert_eq!(all.len(), 6);
            for sku in [None, Some("A-1")] {
                for warehouse in [None, Some("MAIN"), Some("EAST")] {
                    for low in [false, true] {
                        for (actor, scoped) in [(&admin(), false), (&east, true)] {
                            if scoped && warehouse == Some("MAIN") {
                                continue;
                            }
                            let expected: Vec<_> = all
                                .iter()
                                .filter(|l| sku.is_none_or(|s| l.sku == s) && warehouse.is_none_or(|w| l.warehouse == w))
                                .filter(|l| (!low || l.is_low()) && (!scoped || l.warehouse == "EAST"))
                                .cloned()
                                .collect();
                            let query = StockQuery { sku: sku.map(Into::into), warehouse: warehouse.map(Into::into), low, at, ..Default::default() };
                            let (mut listed, mut cursor) = (Vec::new(), None);
                            loop {
                                let page = inv.levels(actor, &StockQuery { limit: Some(2), cursor, ..query.clone() }).expect("page");
                                listed.extend(page.items);
                                match page.next_cursor {
                                    Some(next) => cursor = Some(next),
                                    None => break,
                                }
                            }
                            assert_eq!(listed, expected, "{sku:?} at {warehouse:?}, low {low}, scoped {scoped}, at {at:?}");
                        }
                    }
                }
            }
        }
        let whole = inv.history(&admin(), "A-1", None, Some(1000), None).expect("history").items;
        for warehouse in [None, Some("MAIN"), Some("EAST")] {
            for (actor, scoped) in [(&admin(), false), (&east, true)] {
                if scoped && warehouse == Some("MAIN") {
                    continue;
                }
                let expected: Vec<_> = whole
                    .iter()
                    .filter(|m| warehouse.is_none_or(|w| m.warehouse == w) && (!scoped || m.warehouse == "EAST"))
                    .cloned()
                    .collect();
                let (mut listed, mut cursor) = (Vec::new(), None);
                loop {
                    let page = inv.history(actor, "A-1", warehouse, Some(2), cursor.as_deref()).expect("history page");
                    listed.extend(page.items);
                    match page.next_cursor {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
                assert_eq!(listed, expected, "history at {warehouse:?}, scoped {scoped}");
            }
        }
    }

    fn concurrent_first_receipts_of_an_item_all_count(db) {
        // Each receipt finds no level yet; all but one find it created by another meanwhile.
        let skus = ["NEW-0", "NEW-1", "NEW-2", "NEW-3", "NEW-4", "NEW-5", "NEW-6", "NEW-7"];
        let store = store_with(db, &skus);
        for sku in skus {
            thread::scope(|s| {
                for _ in 0..16 {
                    s.spawn(|| store.inventory().receive(&admin(), sku, Some("EAST"), 1, None).expect("receive"));
                }
            });
            assert_eq!(level(&store, sku, "EAST").on_hand, 16);
        }
        assert!(store.inventory().verify(&admin()).expect("verify").ok);
    }

    fn receive_adjust_and_count_move_the_ledger_and_projection_together(db) {
        let store = store_with(db, &["BOLT-1"]);
        let inv = store.inventory();
        let received = inv.receive(&admin(), "BOLT-1", None, 10, Some("PO-17")).expect("receive");
        assert_eq!((received.warehouse.as_str(), received.on_hand, received.reserved, received.available), ("MAIN", 10, 0, 10));
        assert_eq!(inv.adjust(&admin(), "BOLT-1", Some("main"), Adjustment::By(-3), "damaged").expect("by").on_hand, 7);
        assert_eq!(inv.adjust(&admin(), "BOLT-1", None, Adjustment::Set(5), "recount").expect("set").on_hand, 5);
        let counted = inv.count(&admin(), "BOLT-1", None, 8).expect("count");
        assert_eq!((counted.level.on_hand, counted.expected, counted.variance), (8, 5, 3));

        let history = inv.history(&admin(), "BOLT-1", None, None, None).expect("history").items;
        let steps: Vec<_> = history.iter().map(|m| (m.kind.as_str(), m.on_hand_delta, m.on_hand, m.reason.as_deref())).collect();
        assert_eq!(steps, [
            ("receive", 10, 10, Some("PO-17")),
            ("adjust", -3, 7, Some("damaged")),
            ("adjust", -2, 5, Some("recount")),
            ("count", 3, 8, Some("count")),
        ]);
        assert!(history.windows(2).all(|w| w[0].seq < w[1].seq));
        assert!(history.iter().all(|m| m.actor == "local-admin" && m.warehouse == "MAIN"));

        let changed = events_of(&store, EventType::InventoryChanged);
        assert_eq!(changed.len(), 4);
        assert_eq!((&changed[1]["kind"], &changed[1]["reason"], &changed[1]["on_hand_delta"]), (&"adjust".into(), &"damaged".into(), &(-3).into()));
        assert_eq!((&changed[3]["on_hand"], &changed[3]["available"], &changed[3]["sku"]), (&8.into(), &8.into(), &"BOLT-1".into()));
        let actions: Vec<String> = store.audit().list(&admin(), Some("product"), &PageRequest { limit: Some(1000), cursor: None }).expect("audit").items.into_iter().map(|r| r.action).collect();
        assert_eq!(actions, ["product.create", "stock.receive", "stock.adjust", "stock.adjust", "stock.count"]);
        assert!(inv.verify(&admin()).expect("verify").ok);
    }

    fn refusals_name_the_numbers_and_change_nothing(db) {
        let store = store_with(db, &["BOLT-1"]);
        let inv = store.inventory();
        inv.receive(&admin(), "BOLT-1", None, 5, None).expect("receive");
        let before = journal(&store, "BOLT-1");

        let err = inv.adjust(&admin(), "BOLT-1", None, Adjustment::By(-6), "lost").expect_err("over-removal");
        let Error::InsufficientStock { lines } = &err else { panic!("{err:?}") };
        assert_eq!((lines[0].sku.as_str(), lines[0].warehouse.as_str(), lines[0].needed, lines[0].available), ("BOLT-1", "MAIN", 6, 5));
        assert!(err.to_string().contains("BOLT-1 at MAIN needs 6 but only 5 available"), "{err}");
        assert!(matches!(inv.adjust(&admin(), "BOLT-1", Some("EAST"), Adjustment::By(-1), "x"), Err(Error::InsufficientStock { .. })));
        assert!(matches!(inv.transfer(&admin(), "BOLT-1", 6, "MAIN", "EAST"), Err(Error::InsufficientStock { .. })));

        assert_eq!(invalid_field(inv.receive(&admin(), "BOLT-1", None, 0, None).expect_err("zero")), "quantity");
        assert_eq!(invalid_field(inv.receive(&admin(), "BOLT-1", None, -2, None).expect_err("negative")), "quantity");
        assert_eq!(invalid_field(inv.adjust(&admin(), "BOLT-1", None, Adjustment::By(0), "x").expect_err("by 0")), "by");
        assert_eq!(invalid_field(inv.adjust(&admin(), "BOLT-1", None, Adjustment::Set(-1), "x").expect_err("set -1")), "set");
        assert_eq!(invalid_field(inv.adjust(&admin(), "BOLT-1", None, Adjustment::By(1), "  ").expect_err("reason")), "reason");
        assert_eq!(invalid_field(inv.count(&admin(), "BOLT-1", None, -1).expect_err("count")), "quantity");
        assert_eq!(invalid_field(inv.transfer(&admin(), "BOLT-1", 1, "MAIN", "main").expect_err("self")), "to");
        assert_eq!(invalid_field(inv.set_threshold(&admin(), "BOLT-1", None, -1, None).expect_err("point")), "reorder point");
        assert!(matches!(inv.receive(&admin(), "NOPE", None, 1, None), Err(Error::NotFound { entity: "product", suggestion: None, .. })));
        assert!(matches!(inv.receive(&admin(), "BOLT-1", Some("WEST"), 1, None), Err(Error::NotFound { entity: "warehouse", .. })));
        // A likely typo is answered with the closest existing SKU or code.
        let typo = inv.receive(&admin(), "BOLT-l", None, 1, None).expect_err("typo");
        assert!(matches!(&typo, Error::NotFound { entity: "product", suggestion: Some(s), .. } if s == "BOLT-1"), "{typo:?}");
        assert_eq!(typo.to_string(), r#"product "BOLT-l" not found; did you mean "BOLT-1"?"#);
        let request = stockyard_core::inventory::ReserveRequest { lines: vec![("BOTL-1".into(), 1)], ..Default::default() };
        let typo = inv.reserve(&admin(), request).expect_err("typo");
        assert!(matches!(&typo, Error::NotFound { suggestion: Some(s), .. } if s == "BOLT-1"), "{typo:?}");
        let typo = inv.receive(&admin(), "BOLT-1", Some("EAT"), 1, None).expect_err("typo");
        assert!(matches!(&typo, Error::NotFound { entity: "warehouse", suggestion: Some(s), .. } if s == "EAST"), "{typo:?}");

        assert_eq!(journal(&store, "BOLT-1"), before, "a refused change leaves no event, audit record or movement");
        assert_eq!(on_hand(&store, "BOLT-1", "MAIN"), 5);
        assert_eq!(on_hand(&store, "BOLT-1", "EAST"), 0, "naming a level that never held stock gives zeros");
    }

    fn transfer_moves_both_sides_in_one_transaction(db) {
        let store = store_with(db, &["BOLT-1"]);
        let inv = store.inventory();
        inv.receive(&admin(), "BOLT-1", None, 5, None).expect("receive");
        let moved = inv.transfer(&admin(), "BOLT-1", 3, "MAIN", "east").expect("transfer");
        assert_eq!((moved.from.warehouse.as_str(), moved.from.on_hand, moved.to.warehouse.as_str(), moved.to.on_hand), ("MAIN", 2, "EAST", 3));
        assert!(inv.transfer(&admin(), "BOLT-1", 3, "MAIN", "EAST").is_err());
        assert_eq!((on_hand(&store, "BOLT-1", "MAIN"), on_hand(&store, "BOLT-1", "EAST")), (2, 3), "the refused transfer moved nothing");

        let changed = events_of(&store, EventType::InventoryChanged);
        let sides: Vec<_> = changed[1..].iter().map(|e| (e["warehouse"].as_str(), e["reason"].as_str(), e["on_hand_delta"].as_i64())).collect();
        assert_eq!(sides, [(Some("MAIN"), Some("transfer"), Some(-3)), (Some("EAST"), Some("transfer"), Some(3))]);
        let audit = store.audit().list(&admin(), Some("product"), &PageRequest { limit: Some(1000), cursor: None }).expect("audit").items;
        let last = audit.last().expect("a record");
        assert_eq!(last.action, "stock.transfer");
        assert_eq!(last.after.as_ref().map(|a| a.as_array().map(Vec::len)), Some(Some(2)), "one record covering both sides");
    }

    fn threshold_fires_once_per_crossing_and_suggests_a_reorder(db) {
        let store = store_with(db, &["BOLT-1", "NUT-1"]);
        let inv = store.inventory();
        inv.receive(&admin(), "BOLT-1", None, 10, None).expect("receive");
        let set = inv.set_threshold(&admin(), "BOLT-1", None, 5, Some(20)).expect("threshold");
        assert_eq!((set.reorder_point, set.reorder_qty, set.on_hand), (5, 20, 10));
        for by in [-4, -1, -1] {
            inv.adjust(&admin(), "BOLT-1", None, Adjustment::By(by), "sold").expect("down");
        }
        assert_eq!(events_of(&store, EventType::InventoryThresholdReached).len(), 1, "6 → 5 crosses, 5 → 4 does not");
        inv.receive(&admin(), "BOLT-1", None, 10, None).expect("recover");
        inv.adjust(&admin(), "BOLT-1", None, Adjustment::By(-10), "sold").expect("down again");
        let reached = events_of(&store, EventType::InventoryThresholdReached);
        assert_eq!(reached.len(), 2, "a second crossing after recovering fires again");
        assert_eq!((&reached[1]["available"], &reached[1]["reorder_point"], &reached[1]["suggested_qty"]), (&4.into(), &5.into(), &20.into()));

        // Raising a reorder point over the stock is a crossing too; a level without one never is.
        inv.receive(&admin(), "NUT-1", None, 3, None).expect("nuts");
        inv.set_threshold(&admin(), "NUT-1", None, 5, None).expect("threshold");
        assert_eq!(events_of(&store, EventType::InventoryThresholdReached).len(), 3);

        let low = inv.levels(&admin(), &StockQuery { low: true, ..Default::default() }).expect("low").items;
        assert_eq!(low.iter().map(|l| l.sku.as_str()).collect::<Vec<_>>(), ["BOLT-1", "NUT-1"]);
        let suggestions = inv.reorder_suggestions(&admin(), None).expect("suggestions");
        let wanted: Vec<_> = suggestions.iter().map(|s| (s.level.sku.as_str(), s.suggested_qty)).collect();
        assert_eq!(wanted, [("NUT-1", 3), ("BOLT-1", 20)], "most urgent first");
        assert_eq!(events_of(&store, EventType::InventoryThresholdSet).len(), 2);
        assert!(inv.verify(&admin()).expect("verify").ok, "thresholds replay too");
    }

    fn stock_as_of_a_past_time_comes_from_the_ledger(db) {
        let clock = ManualClock::starting_now();
        let store = store_at(db, &clock, &["BOLT-1"]);
        let inv = store.inventory();
        let before_any = clock.now();
        let tick = || clock.advance(SignedDuration::from_millis(5));
        tick();
        inv.receive(&admin(), "BOLT-1", None, 10, None).expect("receive");
        let after_receive = tick();
        tick();
        inv.adjust(&admin(), "BOLT-1", None, Adjustment::By(-4), "sold").expect("adjust");
        let at = |t| {
            let query = StockQuery { sku: Some("BOLT-1".into()), warehouse: Some("MAIN".into()), at: Some(t), ..Default::default() };
            inv.levels(&admin(), &query).expect("as of").items[0].on_hand
        };
        assert_eq!((at(before_any), at(after_receive), at(clock.now())), (0, 10, 6));
    }

    fn products_with_stock_cannot_be_deleted(db) {
        let store = store_with(db, &["BOLT-1"]);
        let inv = store.inventory();
        inv.receive(&admin(), "BOLT-1", Some("EAST"), 2, None).expect("receive");
        let err = store.catalog().delete_product(&admin(), "BOLT-1").expect_err("has stock");
        assert!(matches!(&err, Error::Conflict { code: Conflict::InUse, message } if message.contains("2 at EAST")), "{err:?}");
        inv.adjust(&admin(), "BOLT-1", Some("EAST"), Adjustment::Set(0), "written off").expect("zero");
        store.catalog().delete_product(&admin(), "BOLT-1").expect("delete once empty");
        assert!(matches!(inv.receive(&admin(), "BOLT-1", None, 1, None), Err(Error::NotFound { .. })));
    }

    fn verify_finds_a_projection_changed_behind_its_back_and_replay_repairs_it(db) {
        let store = store_with(db, &["BOLT-1", "NUT-1"]);
        let inv = store.inventory();
        inv.receive(&admin(), "BOLT-1", None, 10, None).expect("receive");
        inv.transfer(&admin(), "BOLT-1", 4, "MAIN", "EAST").expect("transfer");
        inv.receive(&admin(), "NUT-1", None, 7, None).expect("receive");
        let clean = inv.verify(&admin()).expect("verify");
        assert!(clean.ok && clean.differences.is_empty());
        assert_eq!((clean.events_applied, clean.levels), (4, 3));

        db.sql("DELETE FROM stock_levels WHERE on_hand = 7");
        db.sql("UPDATE stock_levels SET on_hand = on_hand + 1, reorder_point = 3 WHERE on_hand = 6");
        let report = inv.verify(&admin()).expect("verify");
        assert!(!report.ok);
        let found: Vec<_> = report.differences.iter().map(|d| (d.sku.as_str(), d.warehouse.as_str(), d.field.as_str(), d.projection, d.replay)).collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found.contains(&("BOLT-1", "MAIN", "on_hand", 7, 6)));
        assert!(found.contains(&("BOLT-1", "MAIN", "reorder_point", 3, 0)));
        assert!(found.contains(&("NUT-1", "MAIN", "on_hand", 0, 7)));

        let replayed = inv.replay(&admin()).expect("replay");
        assert_eq!((replayed.corrected, replayed.events_applied), (2, 4));
        assert!(inv.verify(&admin()).expect("verify").ok);
        assert_eq!((on_hand(&store, "BOLT-1", "MAIN"), on_hand(&store, "NUT-1", "MAIN")), (6, 7));
        assert_eq!(inv.replay(&admin()).expect("replay again").corrected, 0);
    }

    fn concurrent_removals_never_oversell(db) {
        let store = store_with(db, &["HOT-1"]);
        store.inventory().receive(&admin(), "HOT-1", None, 10, None).expect("receive");
        let accepted: usize = thread::scope(|s| {
            let workers: Vec<_> = (0..8)
                .map(|_| {
                    let store = store.clone();
                    s.spawn(move || {
                        (0..5)
                            .filter(|_| match store.inventory().adjust(&admin(), "HOT-1", None, Adjustment::By(-1), "picked") {
                                Ok(_) => true,
                                Err(Error::InsufficientStock { .. }) => false,
                                Err(e) => panic!("unexpected {e:?}"),
                            })
                            .count()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().expect("worker")).sum()
        });
        assert_eq!(accepted, 10, "40 one-unit removals against 10 units: exactly 10 accepted");
        assert_eq!(on_hand(&store, "HOT-1", "MAIN"), 0);
        assert!(store.inventory().verify(&admin()).expect("verify").ok);
    }

    fn opposing_concurrent_transfers_neither_deadlock_nor_lose_stock(db) {
        let store = store_with(db, &["HOT-1", "HOT-2"]);
        for sku in ["HOT-1", "HOT-2"] {
            for warehouse in ["MAIN", "EAST"] {
                store.inventory().receive(&admin(), sku, Some(warehouse), 20, None).expect("receive");
            }
        }
        thread::scope(|s| {
            for worker in 0..6 {
                let store = store.clone();
                s.spawn(move || {
                    let (from, to) = if worker % 2 == 0 { ("MAIN", "EAST") } else { ("EAST", "MAIN") };
                    for i in 0..10 {
                        let sku = if (i + worker) % 2 == 0 { "HOT-1" } else { "HOT-2" };
                        match store.inventory().transfer(&admin(), sku, 3, from, to) {
                            Ok(_) | Err(Error::InsufficientStock { .. }) => {}
                            Err(e) => panic!("transfer failed: {e:?}"),
                        }
                    }
                });
            }
        });
        for sku in ["HOT-1", "HOT-2"] {
            assert_eq!(on_hand(&store, sku, "MAIN") + on_hand(&store, sku, "EAST"), 40, "{sku}: transfers conserve stock");
        }
        assert!(store.inventory().verify(&admin()).expect("verify").ok);
    }

    fn demo_data_has_stock_with_some_levels_below_their_reorder_point(db) {
        let store = db.store();
        let report = demo::seed(&store, &admin(), 30).expect("demo");
        assert!(report.low_stock >= 3 && report.stock_movements >= 60 && report.reservations_created >= 2, "{report:?}");
        let reserved: i64 = store.inventory().levels(&admin(), &StockQuery { limit: Some(1000), ..Default::default() }).expect("levels").items.iter().map(|l| l.reserved).sum();
        let held = db.number(
            "SELECT CAST(COALESCE(SUM(l.quantity), 0) AS BIGINT) FROM reservation_lines l JOIN reservations r ON r.id = l.reservation_id
             WHERE r.status = 'active'",
        );
        assert_eq!(reserved, held, "reserved stock is exactly what active reservations (carts and open orders) hold");
        assert!(reserved >= 3 * report.reservations_created as i64, "each demo cart holds three units");
        let low = store.inventory().levels(&admin(), &StockQuery { low: true, limit: Some(100), ..Default::default() }).expect("low");
        assert_eq!(low.items.len(), report.low_stock);
        assert!(!store.inventory().reorder_suggestions(&admin(), Some("MAIN")).expect("suggestions").is_empty());
        let again = demo::seed(&store, &admin(), 30).expect("demo again");
        assert_eq!((again.products_created, again.stock_movements), (0, 0), "a second run adds no stock");
        assert!(store.inventory().verify(&admin()).expect("verify").ok);
    }

    fn replay_from_a_snapshot_equals_a_full_replay_and_still_finds_drift(db) {
        db.store();
        let options = StoreOptions { snapshot_every: 4, ..db.options() };
        let store = Store::open_with(db.url(), &options).expect("open with small snapshots");
        store.warehouses().create(&admin(), stockyard_core::NewWarehouse { code: "EAST".into(), name: "East".into() }).expect("EAST");
        let product = stockyard_core::NewProduct { sku: "BOLT-1".into(), name: "Bolt".into(), price: "1".into(), ..Default::default() };
        store.catalog().create_product(&admin(), product).expect("product");
        let inv = store.inventory();
        for n in 1..=6 {
            inv.receive(&admin(), "BOLT-1", None, n, None).expect("receive");
        }
        let first = inv.verify(&admin()).expect("verify");
        assert!(first.ok && first.from_seq == 0, "{first:?}");
        inv.transfer(&admin(), "BOLT-1", 5, "MAIN", "EAST").expect("transfer");
        inv.adjust(&admin(), "BOLT-1", Some("EAST"), Adjustment::By(-2), "damaged").expect("adjust");
        let second = inv.verify(&admin()).expect("verify");
        assert!(second.ok, "{second:?}");
        assert_eq!((second.from_seq, second.events_applied), (first.to_seq, 3), "started from the snapshot the first verify saved");

        db.sql("UPDATE stock_levels SET on_hand = on_hand + 5 WHERE on_hand = 3");
        let drifted = inv.verify(&admin()).expect("verify");
        let found: Vec<_> = drifted.differences.iter().map(|d| (d.warehouse.as_str(), d.projection, d.replay)).collect();
        assert_eq!(found, [("EAST", 8, 3)], "drift after the snapshot is found");
        assert_eq!(inv.replay(&admin()).expect("replay").corrected, 1);
        assert_eq!((level(&store, "BOLT-1", "MAIN").on_hand, level(&store, "BOLT-1", "EAST").on_hand), (16, 3));
    }
}

/// A receipt whose level is created and committed by someone else between its update
/// (which saw no level) and what follows must still count — staged on PostgreSQL, where a
/// statement sees only what had committed when it began: a trigger parks the receipt's
/// update after its snapshot is taken while the level is inserted and committed.
#[test]
fn a_level_created_meanwhile_takes_the_receipt() {
    const GATE: i64 = 4343;
    let Some(db) = stockyard_testkit::TestDb::migrated_postgres() else { return };
    let store = store_with(&db, &["NEW-1"]);
    let product = store.catalog().product(&admin(), "NEW-1").expect("product").id;
    let east = store.warehouses().get(&admin(), "EAST").expect("EAST").id;
    db.sql(&format!(
        "CREATE FUNCTION park() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
             PERFORM pg_advisory_lock_shared({GATE}); PERFORM pg_advisory_unlock_shared({GATE});
             RETURN NULL;
         END $$;
         CREATE TRIGGER park BEFORE UPDATE ON stock_levels FOR EACH STATEMENT EXECUTE FUNCTION park();"
    ));
    let mut gate = postgres::Client::connect(db.url(), postgres::NoTls).expect("connect");
    gate.execute("SELECT pg_advisory_lock($1)", &[&GATE]).expect("hold the gate");
    thread::scope(|s| {
        let receipt = s.spawn(|| store.inventory().receive(&admin(), "NEW-1", Some("EAST"), 1, None));
        wait_until("the receipt is parked", || db.sessions_waiting_for_locks() == 1);
        db.sql(&format!(
            "INSERT INTO stock_levels (product_id, warehouse_id, updated_at) VALUES ('{product}', '{east}', now())"
        ));
        gate.execute("SELECT pg_advisory_unlock($1)", &[&GATE]).expect("open the gate");
        let level = receipt.join().expect("thread").expect("the receipt counts");
        assert_eq!(level.on_hand, 1);
    });
}
