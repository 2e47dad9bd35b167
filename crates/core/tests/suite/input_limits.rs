//! Limits and input rules on both backends, each refusing and changing nothing: quantities
//! and levels bounded (no arithmetic wraps), inactive products and malformed SKUs refused
//! alike by reserve and order, an unknown warehouse in the allocation priority refused,
//! one-line fields that refuse line breaks, order totals that overflow named by line, and
//! stock as of a past time with the thresholds of that time.

use crate::common;

use common::{admin, invalid_field, level, store_at, store_with};

use jiff::SignedDuration;

use stockyard_core::{
    Adjustment, Conflict, Error, ManualClock, NewProduct, ProductPatch, ProductQuery, StockQuery, Store,
    inventory::{ReserveRequest, allocation::Strategy},
    orders::{Customer, NewOrder, OrderQuery},
};
use stockyard_testkit::backend_tests;

/// The most a level may hold (and one operation may move).
const MAX: i64 = 1_000_000_000_000;

fn events(store: &Store) -> usize {
    let filter = stockyard_core::EventFilter { limit: Some(1000), ..Default::default() };
    store.events().list(&admin(), &filter).expect("events").len()
}

fn reserve(store: &Store, lines: &[(&str, i64)]) -> Result<stockyard_core::inventory::Reservation, Error> {
    let lines = lines.iter().map(|(sku, q)| ((*sku).to_owned(), *q)).collect();
    store.inventory().reserve(&admin(), ReserveRequest { lines, ..Default::default() })
}

fn order(store: &Store, lines: &[(&str, i64)]) -> Result<stockyard_core::Order, Error> {
    let customer = Customer { email: "jane@example.org".into(), name: None, phone: None, address: None };
    let lines = lines.iter().map(|(sku, q)| ((*sku).to_owned(), *q)).collect();
    store.orders().create(&admin(), NewOrder { customer, lines, warehouse: None, reservation: None, notes: None })
}

backend_tests! {
    fn a_reservation_or_order_of_too_many_lines_is_refused_whole(db) {
        let store = store_with(db, &["LOT-1"]);
        store.inventory().receive(&admin(), "LOT-1", None, 10_000, None).expect("stock");
        let before = events(&store);
        let many: Vec<(&str, i64)> = vec![("LOT-1", 1); stockyard_core::inventory::MAX_LINES + 1];
        for refused in [reserve(&store, &many).map(drop), order(&store, &many).map(drop)] {
            let err = refused.expect_err("too many lines");
            assert!(err.to_string().contains("at most 500"), "{err}");
            assert_eq!(invalid_field(err), "items");
        }
        assert_eq!(events(&store), before, "nothing changed");
        let most = vec![("LOT-1", 1); stockyard_core::inventory::MAX_LINES];
        assert_eq!(order(&store, &most).expect("the most lines").lines[0].quantity, 500, "named lines of one SKU are one line");
    }

    fn quantities_never_wrap_and_levels_stay_countable(db) {
        let store = store_with(db, &["BIG-1"]);
        let inv = store.inventory();
        for by in [i64::MIN, i64::MIN + 1, MAX + 1, -(MAX + 1), i64::MAX] {
            let err = inv.adjust(&admin(), "BIG-1", None, Adjustment::By(by), "typo").expect_err("out of range");
            assert_eq!(invalid_field(err), "by", "{by}");
        }
        // Receipts each within the bound cannot carry a level past it.
        inv.receive(&admin(), "BIG-1", Some("EAST"), 1, None).expect("receive");
        inv.receive(&admin(), "BIG-1", None, MAX, None).expect("the most one receipt may bring");
        let before = events(&store);
        let err = inv.receive(&admin(), "BIG-1", None, 1, None).expect_err("past the level bound");
        assert!(matches!(&err, Error::Conflict { code: Conflict::TooLarge, message } if message.contains("BIG-1") && message.contains("most a level")), "{err}");
        assert!(inv.adjust(&admin(), "BIG-1", None, Adjustment::By(1), "more").is_err());
        assert!(inv.transfer(&admin(), "BIG-1", 1, "EAST", "MAIN").is_err());
        assert_eq!(level(&store, "BIG-1", "EAST").on_hand, 1, "all or nothing");
        assert_eq!(events(&store), before, "refusals append nothing");
        // The level can still be counted and set.
        assert_eq!(inv.count(&admin(), "BIG-1", None, 5).expect("count").level.on_hand, 5);
        assert_eq!(inv.adjust(&admin(), "BIG-1", None, Adjustment::Set(MAX), "recount").expect("set").on_hand, MAX);
        assert!(inv.verify(&admin()).expect("verify").ok);
    }

    fn reserve_and_order_refuse_what_is_not_for_sale_alike(db) {
        let store = store_with(db, &["OFF-1", "ON-1"]);
        store.inventory().receive(&admin(), "OFF-1", None, 10, None).expect("receive");
        store.inventory().receive(&admin(), "ON-1", None, 10, None).expect("receive");
        let patch = ProductPatch { active: Some(false), ..Default::default() };
        store.catalog().update_product(&admin(), "OFF-1", patch).expect("deactivate");
        let before = events(&store);
        for err in [reserve(&store, &[("ON-1", 1), ("OFF-1", 1)]), order(&store, &[("ON-1", 1), ("OFF-1", 1)]).map(|_| unreachable!())] {
            let err = err.expect_err("inactive");
            assert!(matches!(&err, Error::Conflict { code: Conflict::Refused, message } if message.contains("OFF-1") && message.contains("not for sale")), "{err}");
        }
        assert_eq!(level(&store, "ON-1", "MAIN").reserved, 0);
        // A malformed SKU is invalid input, not an unknown product; its line is named.
        for sku in ["", "M1:1", " :", "A B"] {
            assert_eq!(invalid_field(reserve(&store, &[(sku, 1)]).expect_err("malformed")), "items[0].sku", "{sku:?}");
        }
        assert_eq!(events(&store), before);
    }

    fn an_unknown_warehouse_in_the_priority_order_is_refused(db) {
        let seeded = store_with(db, &["PRI-1"]);
        seeded.inventory().receive(&admin(), "PRI-1", None, 10, None).expect("receive");
        let mut options = db.options();
        options.allocation = "priority:EAST,NOWHERE".parse::<Strategy>().expect("parses: checked against the store");
        let store = Store::open_with(db.url(), &options).expect("open");
        let err = reserve(&store, &[("PRI-1", 1)]).expect_err("unknown warehouse");
        assert!(matches!(&err, Error::Invalid { field, reason } if field == "allocation" && reason.contains("NOWHERE")), "{err}");
        assert!(order(&store, &[("PRI-1", 1)]).is_err());
        assert_eq!(level(&store, "PRI-1", "MAIN").reserved, 0);
    }

    fn one_line_fields_refuse_line_breaks(db) {
        let store = store_with(db, &["TXT-1"]);
        let product = |name: &str| NewProduct { sku: "TXT-2".into(), name: name.into(), price: "1".into(), ..Default::default() };
        assert_eq!(invalid_field(store.catalog().create_product(&admin(), product("Mug\nFAKE LINE")).expect_err("newline")), "name");
        assert_eq!(invalid_field(store.catalog().create_product(&admin(), product("Mug\tx")).expect_err("tab")), "name");
        let with_description = NewProduct { description: Some("two\nlines".into()), ..product("Mug") };
        store.catalog().create_product(&admin(), with_description).expect("a description may span lines");
        let err = store.inventory().adjust(&admin(), "TXT-1", None, Adjustment::By(1), "found\nmore");
        assert_eq!(invalid_field(err.expect_err("reason")), "reason");
        let customer = Customer { email: "a@example.org".into(), name: Some("Jane\nDoe".into()), phone: None, address: None };
        let order = NewOrder { customer, lines: vec![("TXT-1".into(), 1)], warehouse: None, reservation: None, notes: None };
        assert_eq!(invalid_field(store.orders().create(&admin(), order).expect_err("name")), "name");
    }

    fn an_order_total_that_overflows_names_its_line(db) {
        let store = store_with(db, &[]);
        for (sku, price) in [("GOLD-1", "90000000000"), ("GOLD-2", "90000000000")] {
            let product = NewProduct { sku: sku.into(), name: sku.into(), price: price.into(), ..Default::default() };
            store.catalog().create_product(&admin(), product).expect("product");
            store.inventory().receive(&admin(), sku, None, MAX, None).expect("receive");
        }
        let err = order(&store, &[("GOLD-1", 1), ("GOLD-2", MAX)]).expect_err("overflow");
        assert!(matches!(&err, Error::Invalid { reason, .. } if reason.contains("GOLD-2")), "{err}");
        let err = order(&store, &[("GOLD-1", 1_000_000), ("GOLD-2", 1_000_000)]).expect_err("sum overflows");
        assert!(matches!(&err, Error::Invalid { reason, .. } if reason.contains("GOLD-2")), "{err}");
    }

    fn stock_as_of_a_past_time_has_the_thresholds_of_then(db) {
        let clock = ManualClock::starting_now();
        let store = store_at(db, &clock, &["THR-1"]);
        let inv = store.inventory();
        inv.receive(&admin(), "THR-1", None, 10, None).expect("receive");
        inv.set_threshold(&admin(), "THR-1", None, 3, Some(20)).expect("threshold");
        let then = clock.advance(SignedDuration::from_millis(20));
        clock.advance(SignedDuration::from_millis(20));
        inv.set_threshold(&admin(), "THR-1", None, 12, Some(50)).expect("threshold raised");
        let at = |at, low| {
            let query = StockQuery { sku: Some("THR-1".into()), at: Some(at), low, ..Default::default() };
            inv.levels(&admin(), &query).expect("levels").items
        };
        let past = at(then, false);
        assert_eq!((past[0].on_hand, past[0].reorder_point, past[0].reorder_qty), (10, 3, 20));
        assert!(at(then, true).is_empty(), "10 on hand was above the reorder point of then");
        let now = at(clock.now(), true);
        assert_eq!((now.len(), now[0].reorder_point), (1, 12), "low against today's point");
    }

    fn forged_cursors_are_refused_by_every_list(db) {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let store = store_with(db, &["CUR-1", "CUR-2", "CUR-3"]);
        store.inventory().receive(&admin(), "CUR-1", None, 3, None).expect("receive");
        store.inventory().receive(&admin(), "CUR-1", None, 3, None).expect("receive");
        let issued = store
            .catalog()
            .list_products(&admin(), &ProductQuery { limit: Some(1), ..Default::default() })
            .expect("first page")
            .next_cursor
            .expect("a next page");
        let next = ProductQuery { limit: Some(1), cursor: Some(issued), ..Default::default() };
        assert_eq!(store.catalog().list_products(&admin(), &next).expect("issued cursor").items[0].sku.as_str(), "CUR-2");
        // Well-formed base64 of a plausible key, but not issued here.
        for forged in [URL_SAFE_NO_PAD.encode("CUR-1"), URL_SAFE_NO_PAD.encode("1"), URL_SAFE_NO_PAD.encode("CUR-1\u{1f}MAIN")] {
            let products = ProductQuery { cursor: Some(forged.clone()), ..Default::default() };
            assert_eq!(invalid_field(store.catalog().list_products(&admin(), &products).expect_err("products")), "cursor");
            let levels = StockQuery { cursor: Some(forged.clone()), ..Default::default() };
            assert_eq!(invalid_field(store.inventory().levels(&admin(), &levels).expect_err("levels")), "cursor");
            let history = store.inventory().history(&admin(), "CUR-1", None, Some(1), Some(&forged));
            assert_eq!(invalid_field(history.expect_err("history")), "cursor");
            let orders = OrderQuery { cursor: Some(forged.clone()), ..Default::default() };
            assert_eq!(invalid_field(store.orders().list(&admin(), &orders).expect_err("orders")), "cursor");
            let notifications = store.notifications().list(&admin(), None, Some(5), Some(&forged));
            assert_eq!(invalid_field(notifications.expect_err("notifications")), "cursor");
        }
    }
}
