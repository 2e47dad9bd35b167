//! Tamper evidence on both backends: a busy store verifies, and each kind of direct edit of
//! the database — a stock movement, the replay snapshot, a reservation or its lines, an order,
//! an order's picks, a product's price, a user's role, any field of an event, a deleted
//! `OrderCreated`, a cut-off tail of either log with its head rewound, events swapped —
//! fails `verify`; a wiped log fails only against an anchor.

use crate::common;

use common::{admin, store_with};

use stockyard_core::{
    Anchor, ChainReport, NewUser, ProductPatch, ProjectionReport, Role, Store, StoreOptions,
    inventory::{Hold, ReserveRequest},
    orders::{Customer, NewOrder},
};
use stockyard_testkit::{TestDb, backend_tests};

/// A store with a bit of everything: stock, a paid order, a refunded one, one being picked,
/// an active checkout reservation, a viewer and a repriced product.
fn busy(db: &TestDb) -> Store {
    let store = store_with(db, &["A-1", "B-1"]);
    let inventory = store.inventory();
    inventory.receive(&admin(), "A-1", Some("MAIN"), 10, None).expect("A-1");
    inventory.receive(&admin(), "B-1", Some("MAIN"), 4, None).expect("B-1");
    let order = |sku: &str| NewOrder {
        customer: Customer { email: "jo@example.org".into(), ..Default::default() },
        lines: vec![(sku.to_owned(), 2)],
        ..Default::default()
    };
    let orders = store.orders();
    let paid = orders.create(&admin(), order("A-1")).expect("order").id.to_string();
    orders.pay(&admin(), &paid, None, None).expect("pay");
    let refunded = orders.create(&admin(), order("A-1")).expect("order").id.to_string();
    orders.pay(&admin(), &refunded, None, None).expect("pay");
    orders.cancel(&admin(), &refunded, None).expect("cancel");
    orders.refund(&admin(), &refunded, None).expect("refund");
    let picking = orders.create(&admin(), order("A-1")).expect("order").id.to_string();
    orders.pay(&admin(), &picking, None, None).expect("pay");
    orders.pick(&admin(), &picking, "A-1", 1, None).expect("pick");
    let hold = ReserveRequest { lines: vec![("B-1".into(), 1)], hold: Hold::Checkout, ..Default::default() };
    inventory.reserve(&admin(), hold).expect("reserve");
    let viewer = NewUser { email: "vi@example.org".into(), role: Role::Viewer, ..Default::default() };
    store.users().create(&admin(), viewer).expect("viewer");
    let patch = ProductPatch { price: Some("2.50".into()), ..Default::default() };
    store.catalog().update_product(&admin(), "B-1", patch).expect("reprice");
    inventory.receive(&admin(), "B-1", Some("MAIN"), 1, None).expect("last write");
    store
}

fn chain(store: &Store) -> ChainReport {
    store.audit().verify(&admin()).expect("chain")
}

fn projections(store: &Store) -> ProjectionReport {
    store.audit().projections(&admin()).expect("projections")
}

/// The (table, field) pairs that disagree with the log.
fn mismatched(store: &Store) -> Vec<(String, String)> {
    let report = projections(store);
    assert_eq!(report.ok, report.mismatches.is_empty());
    report.mismatches.into_iter().map(|m| (m.table, m.field)).collect()
}

fn has(mismatches: &[(String, String)], table: &str, field: &str) -> bool {
    mismatches.iter().any(|(t, f)| t == table && f == field)
}

/// The chain's first problem: (audit seq, event seq, reason).
fn broken(store: &Store) -> (Option<i64>, Option<i64>, String) {
    let report = chain(store);
    assert!(!report.ok, "{report:?}");
    let problem = report.problem.expect("a problem");
    (problem.seq, problem.event_seq, problem.reason)
}

fn seq_of(db: &TestDb, event_type: &str) -> i64 {
    db.number(&format!("SELECT MIN(seq) FROM events WHERE event_type = '{event_type}'"))
}

backend_tests! {
    fn a_busy_store_verifies(db) {
        let store = busy(db);
        let report = chain(&store);
        assert!(report.ok, "{report:?}");
        assert_eq!(report.events, db.number("SELECT COUNT(*) FROM events"));
        assert_eq!(report.event_head.seq, db.number("SELECT MAX(seq) FROM events"));
        let report = projections(&store);
        assert!(report.ok, "{report:?}");
        assert!(report.unchecked.is_empty(), "{report:?}");
        for table in ["stock_movements", "reservations", "orders", "order_picks", "products", "users"] {
            assert!(report.checked.get(table).is_some_and(|n| *n > 0), "{table}: {report:?}");
        }
        assert!(store.inventory().verify(&admin()).expect("stock").ok);
    }

    fn an_edited_movement_is_found(db) {
        let store = busy(db);
        let seq = db.number("SELECT MIN(event_seq) FROM stock_movements");
        db.sql(&format!("UPDATE stock_movements SET on_hand_delta = 9, reason = 'gift' WHERE event_seq = {seq}"));
        let found = mismatched(&store);
        assert!(has(&found, "stock_movements", "on_hand_delta") && has(&found, "stock_movements", "reason"), "{found:?}");
        db.sql(&format!("UPDATE stock_movements SET on_hand_delta = 10, reason = 'receive', actor = 'x' WHERE event_seq = {seq}"));
        assert_eq!(mismatched(&store), [("stock_movements".to_owned(), "actor".to_owned())]);
    }

    fn a_deleted_movement_is_found(db) {
        let store = busy(db);
        let seq = db.number("SELECT MAX(event_seq) FROM stock_movements");
        db.sql(&format!("DELETE FROM stock_movements WHERE event_seq = {seq}"));
        let report = projections(&store);
        let missing = report.mismatches.iter().find(|m| m.table == "stock_movements").expect("found");
        assert_eq!((missing.key.as_str(), missing.projection.as_str()), (seq.to_string().as_str(), "(none)"));
    }

    fn an_edited_replay_snapshot_is_found(db) {
        busy(db);
        let options = StoreOptions { snapshot_every: 2, ..db.options() };
        let store = Store::open_with(db.url(), &options).expect("open");
        assert!(store.inventory().verify(&admin()).expect("stock").ok);
        assert!(db.number("SELECT COUNT(*) FROM stock_snapshots") > 0, "verify saved a snapshot");
        assert!(projections(&store).ok);
        // Drift hidden in the snapshot and the levels alike fools a replay from the snapshot…
        db.sql("UPDATE stock_snapshots SET on_hand = on_hand + 5 WHERE on_hand > 0;
                UPDATE stock_levels SET on_hand = on_hand + 5 WHERE on_hand > 0;");
        assert!(store.inventory().verify(&admin()).expect("stock").ok);
        // …but not the snapshot's check against a replay from the first event.
        assert!(has(&mismatched(&store), "stock_snapshots", "on_hand"));
    }

    fn an_edited_reservation_is_found(db) {
        let store = busy(db);
        db.sql("UPDATE reservations SET status = 'released' WHERE status = 'active'");
        let found = mismatched(&store);
        assert!(has(&found, "reservations", "status"), "{found:?}");
        // Reserved stock no longer equals the active reservation lines.
        assert!(has(&found, "stock_levels.reserved", "reserved"), "{found:?}");
    }

    fn an_edited_reservation_line_is_found(db) {
        let store = busy(db);
        db.sql("UPDATE reservation_lines SET quantity = quantity + 1
                WHERE reservation_id IN (SELECT id FROM reservations WHERE status = 'active')");
        let found = mismatched(&store);
        assert!(has(&found, "reservations", "lines") && has(&found, "stock_levels.reserved", "reserved"), "{found:?}");
    }

    fn an_edited_order_is_found(db) {
        let store = busy(db);
        db.sql("UPDATE orders SET paid_minor = 0, status = 'confirmed' WHERE status = 'paid'");
        let found = mismatched(&store);
        assert!(has(&found, "orders", "paid") && has(&found, "orders", "status"), "{found:?}");
        db.sql("UPDATE orders SET refunded_minor = 1, total_minor = total_minor + 1 WHERE status = 'refunded'");
        let found = mismatched(&store);
        assert!(has(&found, "orders", "refunded") && has(&found, "orders", "total"), "{found:?}");
        db.sql("UPDATE order_lines SET quantity = 1");
        assert!(has(&mismatched(&store), "orders", "lines"));
    }

    fn an_edited_pick_is_found(db) {
        let store = busy(db);
        db.sql("UPDATE order_picks SET picked = picked + 1");
        assert_eq!(mismatched(&store), [("order_picks".to_owned(), "picked".to_owned())]);
        db.sql("UPDATE order_picks SET picked = picked - 1, quantity = quantity + 1");
        assert_eq!(mismatched(&store), [("order_picks".to_owned(), "quantity".to_owned())]);
        db.sql("DELETE FROM order_picks");
        let report = projections(&store);
        let missing = report.mismatches.iter().find(|m| m.table == "order_picks").expect("found");
        assert_eq!((missing.field.as_str(), missing.projection.as_str()), ("picked", "(none)"));
    }

    fn an_edited_price_or_role_is_found(db) {
        let store = busy(db);
        db.sql("UPDATE products SET price_minor = 1 WHERE sku = 'B-1'");
        db.sql("UPDATE users SET role = 'admin' WHERE role = 'viewer'");
        let found = mismatched(&store);
        assert!(has(&found, "products", "price") && has(&found, "users", "role"), "{found:?}");
    }

    fn an_edited_event_field_is_found(db) {
        let store = busy(db);
        // Edited from the last to the first, so each edit is the first break in turn.
        let edits = [
            ("ProductPriceChanged", "actor = 'someone-else'"),
            ("UserCreated", "aggregate_id = 'elsewhere'"),
            ("OrderPaymentReceived", "payload = replace(payload, '\"reference\":null', '\"reference\":\"x\"')"),
            ("OrderCreated", "event_type = 'OrderUpdated'"),
        ];
        for (event_type, set) in edits {
            let seq = seq_of(db, event_type);
            db.sql(&format!("UPDATE events SET {set} WHERE seq = {seq}"));
            let (_, at, reason) = broken(&store);
            assert_eq!(at, Some(seq), "{set}");
            assert!(reason.contains("edited"), "{reason}");
        }
    }

    fn a_deleted_order_created_event_is_found(db) {
        let store = busy(db);
        let seq = seq_of(db, "OrderCreated");
        db.sql(&format!("DELETE FROM events WHERE seq = {seq}"));
        let (_, at, reason) = broken(&store);
        assert_eq!(at, Some(seq));
        assert!(reason.contains("deleted"), "{reason}");
        assert!(has(&mismatched(&store), "orders", "status"));
    }

    fn swapped_events_are_found(db) {
        let store = busy(db);
        let (a, b) = (seq_of(db, "OrderCreated"), seq_of(db, "OrderPaymentReceived"));
        db.sql(&format!(
            "CREATE TABLE swap AS SELECT * FROM events WHERE seq IN ({a}, {b});
             UPDATE events SET payload = (SELECT payload FROM swap WHERE seq = {b}), event_type = (SELECT event_type FROM swap WHERE seq = {b}) WHERE seq = {a};
             UPDATE events SET payload = (SELECT payload FROM swap WHERE seq = {a}), event_type = (SELECT event_type FROM swap WHERE seq = {a}) WHERE seq = {b};
             DROP TABLE swap;"
        ));
        assert_eq!(broken(&store).1, Some(a));
    }

    fn a_deleted_last_event_is_found_even_with_its_head_rewound(db) {
        let store = busy(db);
        let last = db.number("SELECT MAX(seq) FROM events");
        db.sql(&format!("DELETE FROM stock_movements WHERE event_seq = {last}; DELETE FROM events WHERE seq = {last}"));
        for rewound in [false, true] {
            if rewound {
                db.sql(&format!(
                    "UPDATE audit_head SET event_seq = {prev}, event_hash = (SELECT hash FROM events WHERE seq = {prev})",
                    prev = last - 1
                ));
            }
            let (seq, _, reason) = broken(&store);
            assert_eq!(seq, Some(db.number("SELECT MAX(seq) FROM audit_log")));
            assert!(reason.contains(&format!("the event it covers ({last}) is missing")), "{reason}");
        }
    }

    fn a_deleted_last_audit_record_is_found_even_with_its_head_rewound(db) {
        let store = busy(db);
        let last = db.number("SELECT MAX(seq) FROM audit_log");
        db.sql(&format!(
            "DELETE FROM audit_log WHERE seq = {last};
             UPDATE audit_head SET seq = (SELECT MAX(seq) FROM audit_log),
                 hash = (SELECT hash FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log));"
        ));
        let (seq, at, reason) = broken(&store);
        assert_eq!((seq, at), (None, None));
        assert!(reason.contains("covered by no audit record"), "{reason}");
    }

    fn a_wiped_audit_log_is_found(db) {
        let store = busy(db);
        db.sql("DELETE FROM audit_log; DELETE FROM audit_head;");
        let store = { drop(store); Store::open_with(db.url(), &db.options()).expect("reopen") };
        assert!(broken(&store).2.contains("covered by no audit record"));
    }

    fn a_wiped_log_is_found_against_an_anchor(db) {
        let store = busy(db);
        let head = store.audit().head(&admin()).expect("head");
        assert_eq!((head.length, head.seq), (db.number("SELECT COUNT(*) FROM audit_log"), db.number("SELECT MAX(seq) FROM audit_log")));
        let anchor: Anchor = head.anchor.parse().expect("anchor");
        assert!(store.audit().verify_against(&admin(), Some(&anchor)).expect("verify").ok);
        let forged = Anchor { hash: "0".repeat(64), ..anchor.clone() };
        let report = store.audit().verify_against(&admin(), Some(&forged)).expect("verify");
        assert_eq!(report.problem.map(|p| p.seq), Some(Some(anchor.seq)));
        assert!("12:xyz".parse::<Anchor>().is_err());

        db.sql("DELETE FROM audit_log; DELETE FROM audit_head; DELETE FROM stock_movements; DELETE FROM events;");
        let store = { drop(store); Store::open_with(db.url(), &db.options()).expect("reopen") };
        assert!(chain(&store).ok, "nothing in the database can tell a wiped log");
        let report = store.audit().verify_against(&admin(), Some(&anchor)).expect("verify");
        assert!(report.problem.expect("problem").reason.contains("not in the chain"));
    }

    fn events_from_before_the_chain_are_chained_on_open(db) {
        busy(db);
        // As a store written before the event chain existed looks.
        db.sql("UPDATE events SET hash = NULL; UPDATE audit_log SET event_seq = NULL;
                UPDATE audit_head SET event_seq = NULL, event_hash = NULL;");
        db.sql("UPDATE audit_log SET prev_hash = NULL, hash = NULL; DELETE FROM audit_head;");
        let store = Store::open_with(db.url(), &db.options()).expect("reopen");
        let report = chain(&store);
        assert!(report.ok, "{report:?}");
        assert_eq!(report.events, db.number("SELECT COUNT(*) FROM events"));
        store.inventory().receive(&admin(), "A-1", None, 1, None).expect("and it goes on");
        assert!(chain(&store).ok);
        assert!(projections(&store).ok);
    }
}
