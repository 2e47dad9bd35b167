//! Products and categories on both backends: CRUD, validation, events and audit, search.

use crate::common;

use common::{admin, events_of, invalid_field};

use std::collections::BTreeMap;

use stockyard_core::PageRequest;
use stockyard_core::{
    Conflict, Error, EventFilter, EventType, NewCategory, NewProduct, ProductPatch, ProductQuery, Store,
};
use stockyard_testkit::backend_tests;

fn widget(sku: &str) -> NewProduct {
    NewProduct { sku: sku.into(), name: format!("Widget {sku}"), price: "12.50".into(), ..Default::default() }
}

/// Everything the store recorded: a failed command must leave all of it unchanged.
fn journal(store: &Store) -> (usize, usize, usize) {
    let events = store.events().list(&admin(), &EventFilter { limit: Some(1000), ..Default::default() });
    let audit = store.audit().list(&admin(), None, &PageRequest { limit: Some(1000), cursor: None });
    let products = store.catalog().list_products(&admin(), &ProductQuery { limit: Some(1000), ..Default::default() });
    (events.expect("events").len(), audit.expect("audit").items.len(), products.expect("products").items.len())
}

backend_tests! {
    fn creates_reads_and_records_a_product(db) {
        let store = db.store();
        let input = NewProduct {
            sku: "MUG-01".into(),
            name: " Enamel mug ".into(),
            description: Some("Blue enamel, 350 ml".into()),
            price: "9.5".into(),
            currency: Some("eur".into()),
            attributes: BTreeMap::from([("color".into(), "blue".into())]),
            barcode: Some("4006381333931".into()),
            ..Default::default()
        };
        let created = store.catalog().create_product(&admin(), input).expect("create");
        assert_eq!(created.name, "Enamel mug");
        assert_eq!(created.price.amount(), "9.50");
        assert_eq!(created.price.currency().code(), "EUR");
        assert_eq!(created.version, 1);
        assert!(created.active);

        assert_eq!(store.catalog().product(&admin(), "MUG-01").expect("by sku"), created);
        assert_eq!(store.catalog().product(&admin(), &created.id.to_string()).expect("by id"), created);

        let json = serde_json::to_value(&created).expect("json");
        assert_eq!(json["price"], "9.50");
        assert_eq!(json["currency"], "EUR");
        assert_eq!(json["attributes"]["color"], "blue");
        assert_eq!(json["category"], serde_json::Value::Null);

        let events = events_of(&store, EventType::ProductCreated);
        assert_eq!(events, vec![json.clone()]);
        let audit = store.audit().list(&admin(), Some(&format!("product:{}", created.id)), &PageRequest::default()).expect("audit").items;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].action, "product.create");
        assert_eq!(audit[0].actor, "local-admin");
        assert_eq!(audit[0].after.as_ref(), Some(&json));
    }

    fn money_keeps_each_currencys_digits(db) {
        let store = db.store();
        for (sku, price, currency, shown) in [("A", "0.01", "USD", "0.01"), ("B", "500", "JPY", "500"), ("C", "1.005", "KWD", "1.005")] {
            let input = NewProduct { price: price.into(), currency: Some(currency.into()), ..widget(sku) };
            store.catalog().create_product(&admin(), input).expect("create");
            let read = store.catalog().product(&admin(), sku).expect("read");
            assert_eq!((read.price.amount().as_str(), read.price.currency().code()), (shown, currency));
        }
    }

    fn bad_input_names_the_field_and_changes_nothing(db) {
        let store = db.store();
        store.catalog().create_product(&admin(), widget("OK-1")).expect("create");
        let before = journal(&store);
        let cases: Vec<(NewProduct, &str)> = vec![
            (widget("has space"), "sku"),
            (widget("SKU:1"), "sku"),
            (widget(""), "sku"),
            (NewProduct { name: "  ".into(), ..widget("X1") }, "name"),
            (NewProduct { price: "abc".into(), ..widget("X1") }, "price"),
            (NewProduct { price: "-1".into(), ..widget("X1") }, "price"),
            (NewProduct { price: "1.234".into(), ..widget("X1") }, "price"),
            (NewProduct { price: "1.5".into(), currency: Some("JPY".into()), ..widget("X1") }, "price"),
            (NewProduct { currency: Some("ZZZ".into()), ..widget("X1") }, "currency"),
            (NewProduct { barcode: Some("12 34".into()), ..widget("X1") }, "barcode"),
            (NewProduct { attributes: BTreeMap::from([("bad key".into(), "v".into())]), ..widget("X1") }, "attribute key"),
        ];
        for (input, field) in cases {
            let err = store.catalog().create_product(&admin(), input.clone()).expect_err(&format!("{input:?}"));
            assert_eq!(invalid_field(err), field, "{input:?}");
        }
        let err = store.catalog().create_product(&admin(), NewProduct { category: Some("Nope".into()), ..widget("X1") });
        assert!(matches!(err, Err(Error::NotFound { entity: "category", .. })), "{err:?}");
        let patch = ProductPatch { price: Some("x".into()), ..Default::default() };
        assert_eq!(invalid_field(store.catalog().update_product(&admin(), "OK-1", patch).expect_err("bad price")), "price");
        assert_eq!(journal(&store), before);
    }

    fn duplicate_sku_and_barcode_are_conflicts(db) {
        let store = db.store();
        let first = NewProduct { barcode: Some("111".into()), ..widget("DUP-1") };
        store.catalog().create_product(&admin(), first).expect("create");
        let before = journal(&store);
        let err = store.catalog().create_product(&admin(), widget("DUP-1")).expect_err("duplicate sku");
        assert!(matches!(&err, Error::Conflict { code: Conflict::Duplicate, message } if message.contains("DUP-1")), "{err:?}");
        let err = store.catalog().create_product(&admin(), NewProduct { barcode: Some("111".into()), ..widget("DUP-2") });
        assert!(matches!(&err, Err(Error::Conflict { code: Conflict::Duplicate, message }) if message.contains("111")), "{err:?}");
        assert_eq!(journal(&store), before);

        // A deleted product's SKU may be used again.
        store.catalog().delete_product(&admin(), "DUP-1").expect("delete");
        store.catalog().create_product(&admin(), widget("DUP-1")).expect("reuse the sku");
    }

    fn concurrent_creates_of_one_sku_let_exactly_one_win(db) {
        let store = db.store();
        let outcomes: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| store.catalog().create_product(&admin(), widget("RACE-1"))))
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
        for outcome in outcomes.into_iter().filter_map(Result::err) {
            assert!(matches!(outcome, Error::Conflict { .. }), "{outcome:?}");
        }
        assert_eq!(events_of(&store, EventType::ProductCreated).len(), 1);
    }

    fn updates_bump_the_version_and_say_what_changed(db) {
        let store = db.store();
        let created = store.catalog().create_product(&admin(), widget("UPD-1")).expect("create");
        let patch = ProductPatch {
            name: Some("Better widget".into()),
            merge_attributes: BTreeMap::from([("color".into(), "red".into())]),
            ..Default::default()
        };
        let updated = store.catalog().update_product(&admin(), "UPD-1", patch).expect("update");
        assert_eq!((updated.version, updated.name.as_str()), (2, "Better widget"));
        assert_eq!(updated.attributes.get("color").map(String::as_str), Some("red"));
        let event = &events_of(&store, EventType::ProductUpdated)[0];
        assert_eq!(event["changes"]["name"]["from"], "Widget UPD-1");
        assert_eq!(event["changes"]["name"]["to"], "Better widget");
        assert!(event["changes"].get("price").is_none());
        assert!(events_of(&store, EventType::ProductPriceChanged).is_empty());

        let repriced = store.catalog()
            .update_product(&admin(), &created.id.to_string(), ProductPatch { price: Some("15".into()), ..Default::default() })
            .expect("reprice");
        assert_eq!((repriced.version, repriced.price.amount().as_str()), (3, "15.00"));
        let price_events = events_of(&store, EventType::ProductPriceChanged);
        assert_eq!(price_events.len(), 1);
        assert_eq!((&price_events[0]["old_price"], &price_events[0]["new_price"]), (&"12.50".into(), &"15.00".into()));

        // Removing an attribute with an empty value; a patch that changes nothing writes nothing.
        let patch = ProductPatch { merge_attributes: BTreeMap::from([("color".into(), String::new())]), ..Default::default() };
        let cleared = store.catalog().update_product(&admin(), "UPD-1", patch).expect("clear");
        assert!(cleared.attributes.is_empty());
        let before = journal(&store);
        let same = store.catalog().update_product(&admin(), "UPD-1", ProductPatch { name: Some("Better widget".into()), ..Default::default() });
        assert_eq!(same.expect("no-op").version, cleared.version);
        assert_eq!(journal(&store), before);
    }

    fn a_stale_version_is_refused(db) {
        let store = db.store();
        store.catalog().create_product(&admin(), widget("VER-1")).expect("create");
        let patch = ProductPatch { name: Some("New".into()), expected_version: Some(7), ..Default::default() };
        let err = store.catalog().update_product(&admin(), "VER-1", patch).expect_err("stale");
        assert!(matches!(&err, Error::Conflict { code: Conflict::StaleVersion { current: 1 }, message } if message.contains("version 1")), "{err:?}");
        assert_eq!(store.catalog().product(&admin(), "VER-1").expect("read").name, "Widget VER-1");
        let patch = ProductPatch { name: Some("New".into()), expected_version: Some(1), ..Default::default() };
        assert_eq!(store.catalog().update_product(&admin(), "VER-1", patch).expect("current").version, 2);
    }

    fn delete_is_soft_and_recorded(db) {
        let store = db.store();
        let product = store.catalog().create_product(&admin(), widget("DEL-1")).expect("create");
        store.catalog().delete_product(&admin(), "DEL-1").expect("delete");
        assert!(matches!(store.catalog().product(&admin(), "DEL-1"), Err(Error::NotFound { .. })));
        assert!(matches!(store.catalog().delete_product(&admin(), "DEL-1"), Err(Error::NotFound { .. })));
        assert!(journal(&store).2 == 0);
        let deleted = events_of(&store, EventType::ProductDeleted);
        assert_eq!(deleted[0]["sku"], "DEL-1");
        let audit = store.audit().list(&admin(), Some(&format!("product:{}", product.id)), &PageRequest::default()).expect("audit").items;
        assert_eq!(audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["product.create", "product.delete"]);
        assert_eq!(audit[1].before.as_ref().map(|b| &b["sku"]), Some(&"DEL-1".into()));
    }

    fn categories_form_a_tree(db) {
        let store = db.store();
        let catalog = store.catalog();
        let cat = |name: &str, parent: Option<&str>| {
            catalog.create_category(&admin(), NewCategory { name: name.into(), parent: parent.map(Into::into) })
        };
        let home = cat("Home", None).expect("home");
        cat("Kitchen", Some("home")).expect("kitchen, parent by any case");
        cat("Audio", Some("Electronics")).expect_err("unknown parent");
        cat("Electronics", None).expect("electronics");
        cat("Audio", Some(&cat("Gadgets", None).expect("gadgets").id.to_string())).expect("parent by id");
        let err = cat("KITCHEN", None).expect_err("duplicate");
        assert!(matches!(&err, Error::Conflict { code: Conflict::Duplicate, message } if message.contains("KITCHEN")), "{err:?}");
        assert_eq!(invalid_field(cat(" ", None).expect_err("empty")), "name");

        let names: Vec<String> = catalog.categories(&admin()).expect("list").into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["Electronics", "Gadgets", "Audio", "Home", "Kitchen"]);
        assert_eq!(events_of(&store, EventType::CategoryCreated).len(), 5);
        let kitchen = catalog.categories(&admin()).expect("list").into_iter().find(|c| c.name == "Kitchen");
        assert_eq!(kitchen.and_then(|k| k.parent_id), Some(home.id));
    }
}
