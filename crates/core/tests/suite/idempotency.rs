//! Idempotency keys: a command sent again under its key is done once, answered the same,
//! and a key reused for other arguments is refused — per principal, on both backends.

use crate::common;

use std::{sync::Barrier, thread};

use jiff::SignedDuration;

use common::{PASSWORD, acting, admin, level, store_with};
use stockyard_core::{
    Actor, Adjustment, Error, ErrorKind, EventFilter, ManualClock, NewProduct, Store, Sweeper,
    inventory::{Hold, ReserveRequest},
    orders::{Customer, NewOrder},
};
use stockyard_testkit::{TestDb, backend_tests};

fn keyed(actor: Actor, key: &str) -> Actor {
    actor.with_idempotency_key(key).expect("a valid key")
}

/// Everything a command may change, to show a repeat changed none of it.
fn state(db: &TestDb) -> [i64; 5] {
    [
        "SELECT COUNT(*) FROM events",
        "SELECT COUNT(*) FROM audit_log",
        "SELECT COUNT(*) FROM orders",
        "SELECT COUNT(*) FROM reservations",
        "SELECT CAST(COALESCE(SUM(on_hand * 3 + reserved), 0) AS BIGINT) FROM stock_levels",
    ]
    .map(|sql| db.number(sql))
}

fn order_of(lines: &[(&str, i64)]) -> NewOrder {
    NewOrder {
        customer: Customer { email: "kim@example.com".into(), ..Default::default() },
        lines: lines.iter().map(|(sku, q)| ((*sku).to_owned(), *q)).collect(),
        warehouse: Some("MAIN".into()),
        ..Default::default()
    }
}

fn reserve_of(sku: &str, quantity: i64) -> ReserveRequest {
    ReserveRequest { lines: vec![(sku.into(), quantity)], warehouse: None, hold: Hold::Checkout, reference: None }
}

backend_tests! {
    fn every_keyed_command_is_done_once_and_answered_the_same(db) {
        let store = store_with(db, &["K-1"]);
        let (inv, orders) = (store.inventory(), store.orders());
        let me = || keyed(admin(), "k-receive");
        let first = inv.receive(&me(), "K-1", None, 10, Some("PO-1")).expect("receive");
        let after = state(db);
        assert_eq!(inv.receive(&me(), "K-1", None, 10, Some("PO-1")).expect("repeat"), first);
        assert_eq!(state(db), after, "a repeated receive changes nothing");
        assert_eq!(first.on_hand, 10);

        let me = || keyed(admin(), "k-adjust");
        let first = inv.adjust(&me(), "K-1", None, Adjustment::By(-2), "damaged").expect("adjust");
        let after = state(db);
        assert_eq!(inv.adjust(&me(), "K-1", None, Adjustment::By(-2), "damaged").expect("repeat"), first);
        assert_eq!((state(db), first.on_hand), (after, 8));

        let me = || keyed(admin(), "k-transfer");
        let first = inv.transfer(&me(), "K-1", 3, "MAIN", "EAST").expect("transfer");
        let after = state(db);
        assert_eq!(inv.transfer(&me(), "K-1", 3, "MAIN", "EAST").expect("repeat"), first);
        assert_eq!((state(db), level(&store, "K-1", "EAST").on_hand), (after, 3));

        let me = || keyed(admin(), "k-reserve");
        let first = inv.reserve(&me(), reserve_of("K-1", 1)).expect("reserve");
        let after = state(db);
        assert_eq!(inv.reserve(&me(), reserve_of("K-1", 1)).expect("repeat"), first);
        assert_eq!(state(db), after);

        let me = || keyed(admin(), "k-order");
        let first = orders.create(&me(), order_of(&[("K-1", 2)])).expect("order");
        let after = state(db);
        assert_eq!(orders.create(&me(), order_of(&[("K-1", 2)])).expect("repeat"), first);
        assert_eq!(state(db), after);

        let me = || keyed(admin(), "k-pay");
        let id = first.id.to_string();
        let paid = orders.pay(&me(), &id, Some("1.00"), Some("tx-1")).expect("pay");
        let after = state(db);
        assert_eq!(orders.pay(&me(), &id, Some("1.00"), Some("tx-1")).expect("repeat"), paid);
        assert_eq!(state(db), after);
        assert_eq!(paid.payments.len(), 1);
    }

    fn a_key_reused_with_other_arguments_is_refused_and_changes_nothing(db) {
        let store = store_with(db, &["K-1", "K-2"]);
        let inv = store.inventory();
        inv.receive(&keyed(admin(), "k"), "K-1", None, 5, None).expect("receive");
        let before = state(db);
        for other in [
            inv.receive(&keyed(admin(), "k"), "K-1", None, 6, None).map(drop),
            inv.receive(&keyed(admin(), "k"), "K-2", None, 5, None).map(drop),
            inv.receive(&keyed(admin(), "k"), "K-1", Some("EAST"), 5, None).map(drop),
            inv.adjust(&keyed(admin(), "k"), "K-1", None, Adjustment::By(5), "r").map(drop),
            store.orders().create(&keyed(admin(), "k"), order_of(&[("K-1", 1)])).map(drop),
        ] {
            let err = other.expect_err("other arguments");
            assert!(matches!(&err, Error::KeyReused { key } if key == "k"), "{err:?}");
            assert_eq!((err.kind(), err.code()), (ErrorKind::KeyReused, "idempotency_key_reused"));
        }
        assert_eq!(state(db), before);
    }

    fn keys_belong_to_their_principal(db) {
        let store = store_with(db, &["K-1"]);
        let ann = acting(&store, "ann@example.com", "warehouse", &[]);
        let bob = acting(&store, "bob@example.com", "warehouse", &[]);
        let inv = store.inventory();
        inv.receive(&keyed(ann.clone(), "same"), "K-1", None, 1, None).expect("ann");
        inv.receive(&keyed(bob, "same"), "K-1", None, 2, None).expect("bob's key is his own");
        inv.receive(&keyed(admin(), "same"), "K-1", None, 4, None).expect("so is the local admin's");
        assert_eq!(level(&store, "K-1", "MAIN").on_hand, 7);
        // The same user through another door (a login session) is the same principal.
        let session = store.auth().login("ann@example.com", PASSWORD).expect("login");
        let ann_again = store.auth().authenticate(&session.access_token).expect("token");
        assert_eq!(ann_again.principal(), ann.principal());
        let repeat = inv.receive(&keyed(ann_again, "same"), "K-1", None, 1, None).expect("repeat");
        assert_eq!(repeat.on_hand, 7, "answered, not received again");
    }

    fn a_failed_command_leaves_its_key_unused(db) {
        let store = store_with(db, &["K-1"]);
        let inv = store.inventory();
        let err = inv.adjust(&keyed(admin(), "k"), "K-1", None, Adjustment::By(-1), "oops").expect_err("no stock");
        assert!(matches!(err, Error::InsufficientStock { .. }), "{err:?}");
        assert_eq!(db.number("SELECT COUNT(*) FROM idempotency_keys"), 0);
        inv.receive(&keyed(admin(), "k"), "K-1", None, 3, None).expect("the key is still free");
    }

    fn a_command_that_takes_no_key_refuses_one(db) {
        let store = store_with(db, &[]);
        let before = state(db);
        let product = NewProduct { sku: "N-1".into(), name: "N".into(), price: "1".into(), ..Default::default() };
        let err = store.catalog().create_product(&keyed(admin(), "k"), product).expect_err("no key here");
        assert!(matches!(&err, Error::Invalid { field, .. } if field == "idempotency key"), "{err:?}");
        assert_eq!(state(db), before);
        for bad in ["", "   ", "two\nlines", &"x".repeat(201)] {
            let err = admin().with_idempotency_key(bad).expect_err("a bad key");
            assert!(matches!(&err, Error::Invalid { field, .. } if field == "idempotency key"), "{bad:?}: {err:?}");
        }
    }

    fn the_key_is_remembered_in_the_commands_own_transaction(db) {
        let store = store_with(db, &["K-1"]);
        // Remembering the result fails after the stock moved: the move is undone with it.
        match db.backend() {
            stockyard_core::Backend::Sqlite => db.sql(
                "CREATE TRIGGER fault BEFORE UPDATE ON idempotency_keys BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
            ),
            stockyard_core::Backend::Postgres => db.sql(
                "CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$;
                 CREATE TRIGGER fault BEFORE UPDATE ON idempotency_keys FOR EACH ROW EXECUTE FUNCTION fault();",
            ),
        }
        let before = state(db);
        let err = store.inventory().receive(&keyed(admin(), "k"), "K-1", None, 5, None).expect_err("fault");
        assert!(err.chain().contains("injected fault"), "{err:?}");
        assert_eq!(state(db), before);
        assert_eq!(db.number("SELECT COUNT(*) FROM idempotency_keys"), 0);
    }

    fn the_sweep_forgets_keys_after_a_week(db) {
        let clock = ManualClock::starting_now();
        let store = db.store_at(&clock);
        store.catalog().create_product(&admin(), NewProduct { sku: "K-1".into(), name: "K".into(), price: "1".into(), ..Default::default() }).expect("product");
        let inv = store.inventory();
        inv.receive(&keyed(admin(), "old"), "K-1", None, 1, None).expect("receive");
        clock.advance(SignedDuration::from_hours(6 * 24));
        inv.receive(&keyed(admin(), "new"), "K-1", None, 1, None).expect("receive");
        clock.advance(SignedDuration::from_hours(2 * 24));
        let sweeper = Sweeper::new(&store, &admin()).expect("sweeper");
        sweeper.run_once().expect("sweep");
        // Eight days on, "old" is forgotten and may be used anew; "new" (two days) still answers.
        inv.receive(&keyed(admin(), "old"), "K-1", None, 5, None).expect("a forgotten key is free");
        let err = inv.receive(&keyed(admin(), "new"), "K-1", None, 5, None).expect_err("still remembered");
        assert!(matches!(err, Error::KeyReused { .. }), "{err:?}");
        assert_eq!(level(&store, "K-1", "MAIN").on_hand, 7);
    }

    fn concurrent_repeats_wait_for_the_first_and_share_its_result(db) {
        let store = store_with(db, &["K-1"]);
        store.inventory().receive(&admin(), "K-1", None, 100, None).expect("stock");
        let events = || store.events().list(&admin(), &EventFilter { limit: Some(1000), ..Default::default() }).expect("events").len();
        let before = events();
        const N: usize = 6;
        let barrier = Barrier::new(N);
        let results: Vec<_> = thread::scope(|s| {
            let handles: Vec<_> = (0..N)
                .map(|_| {
                    let (store, barrier): (&Store, &Barrier) = (&store, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        store.orders().create(&keyed(admin(), "checkout-42"), order_of(&[("K-1", 3)]))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        let orders: Vec<_> = results.into_iter().map(|r| r.expect("every repeat gets the first's order")).collect();
        assert!(orders.iter().all(|o| *o == orders[0]), "one answer for all");
        assert_eq!(db.number("SELECT COUNT(*) FROM orders"), 1);
        assert_eq!(level(&store, "K-1", "MAIN").reserved, 3);
        assert!(events() > before);
        assert!(store.audit().verify(&admin()).expect("chains").ok);
        assert!(store.inventory().verify(&admin()).expect("levels").ok);
    }
}
