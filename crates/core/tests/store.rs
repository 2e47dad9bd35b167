//! Opening, initialising and migrating a store, on both backends.

use stockyard_core::PageRequest;
use stockyard_core::{Actor, Error, EventFilter, EventType, Store, StoreOptions};
use stockyard_testkit::backend_tests;

fn admin() -> Actor {
    Actor::local_admin()
}

backend_tests! {
    fn every_combination_of_log_filters_lists_the_right_records(db) {
        // Each combination is its own statement (crates/core/src/db/filter.rs): each must
        // list exactly the events, audit records and tokens the filters describe.
        let store = Store::create(db.url(), &db.options()).expect("create");
        store.init(&admin()).expect("init");
        for code in ["EAST", "WEST", "NORTH"] {
            let input = stockyard_core::NewWarehouse { code: code.into(), name: code.into() };
            store.warehouses().create(&admin(), input).expect("warehouse");
            let product = stockyard_core::NewProduct { sku: format!("P-{code}"), name: code.into(), price: "1.00".into(), ..Default::default() };
            store.catalog().create_product(&admin(), product).expect("product");
            let token = stockyard_core::auth::NewApiToken { name: code.to_lowercase(), role: "viewer".into(), warehouses: Vec::new(), expires_in: None };
            store.auth().create_token(&admin(), token).expect("token");
        }
        let events = store.events().list(&admin(), &EventFilter { limit: Some(1000), ..Default::default() }).expect("events");
        for since in [None, Some(events[2].seq)] {
            for event_type in [None, Some(EventType::WarehouseCreated), Some(EventType::ProductCreated)] {
                let expected: Vec<_> = events
                    .iter()
                    .filter(|e| since.is_none_or(|s| e.seq > s) && event_type.is_none_or(|t| e.event_type == t))
                    .cloned()
                    .collect();
                let filter = EventFilter { since, event_type, limit: Some(1000) };
                assert_eq!(store.events().list(&admin(), &filter).expect("events"), expected, "{since:?} {event_type:?}");
                if since.is_none() {
                    let newest = store.events().newest(&admin(), event_type, 2).expect("newest");
                    assert_eq!(newest, expected[expected.len() - 2..], "newest {event_type:?}");
                }
            }
        }
        let audit = store.audit().list(&admin(), None, &PageRequest { limit: Some(1000), cursor: None }).expect("audit").items;
        let product = &audit.iter().find(|r| r.entity_type == "product").expect("a product record").entity_id;
        for entity in [None, Some("product".to_owned()), Some(format!("product:{product}")), Some("product:".into()), Some("user".into())] {
            let (kind, id) = match entity.as_deref() {
                Some(e) => e.split_once(':').map_or((Some(e), None), |(t, id)| (Some(t), Some(id).filter(|id| !id.is_empty()))),
                None => (None, None),
            };
            let expected: Vec<_> = audit
                .iter()
                .filter(|r| kind.is_none_or(|k| r.entity_type == k) && id.is_none_or(|i| r.entity_id == i))
                .cloned()
                .collect();
            let (mut listed, mut cursor) = (Vec::new(), None);
            loop {
                let page = store.audit().list(&admin(), entity.as_deref(), &PageRequest { limit: Some(2), cursor }).expect("page");
                listed.extend(page.items);
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            assert_eq!(listed, expected, "{entity:?}");
        }
        let tokens = store.auth().tokens(&admin(), &PageRequest { limit: Some(1000), cursor: None }).expect("tokens").items;
        assert_eq!(tokens.len(), 3);
        let first = store.auth().tokens(&admin(), &PageRequest { limit: Some(2), cursor: None }).expect("page 1");
        let rest = store.auth().tokens(&admin(), &PageRequest { limit: Some(2), cursor: first.next_cursor.clone() }).expect("page 2");
        assert_eq!([first.items, rest.items].concat(), tokens);
        assert_eq!(rest.next_cursor, None);
    }

    fn init_is_idempotent(db) {
        let store = Store::create(db.url(), &db.options()).expect("create");
        assert!(!store.is_initialised().expect("read"));
        let first = store.init(&admin()).expect("first init");
        assert!(first.initialised);
        assert_eq!(first.warehouses_created, vec!["MAIN".to_owned()]);
        let events = store.events().list(&admin(), &EventFilter::default()).expect("events");
        let audit = store.audit().list(&admin(), None, &PageRequest { limit: Some(1000), cursor: None }).expect("audit").items;

        let again = store.init(&admin()).expect("second init");
        assert!(!again.initialised);
        assert!(again.warehouses_created.is_empty());
        assert_eq!(store.events().list(&admin(), &EventFilter::default()).expect("events"), events);
        assert_eq!(store.audit().list(&admin(), None, &PageRequest { limit: Some(1000), cursor: None }).expect("audit").items, audit);
        let warehouses = store.warehouses().list(&admin()).expect("list");
        assert_eq!(warehouses.iter().map(|w| w.code.as_str()).collect::<Vec<_>>(), ["MAIN"]);
    }

    fn open_refuses_an_uninitialised_store(db) {
        drop(Store::create(db.url(), &db.options()).expect("create"));
        let err = Store::open_with(db.url(), &db.options()).expect_err("not initialised");
        assert!(matches!(err, Error::NotInitialised { .. }), "{err:?}");
        assert!(err.to_string().contains("run `stockyard init` first"), "{err}");
        db.store();
        Store::open_with(db.url(), &db.options()).expect("opens once initialised");
    }

    fn reopening_applies_no_migration_twice(db) {
        let store = db.store();
        drop(store);
        // A second open (as a second process would) finds the schema current.
        let again = Store::open_with(db.url(), &db.options()).expect("reopen");
        assert!(again.is_initialised().expect("read"));
    }
}

#[test]
fn a_missing_sqlite_file_is_not_created_by_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nothing-here.db");
    let err = Store::open(&format!("sqlite://{}", path.display())).expect_err("missing");
    assert!(matches!(err, Error::NotInitialised { .. }), "{err:?}");
    assert!(!path.exists(), "open must not create the file");
}

#[test]
fn a_bad_url_names_the_database_setting() {
    let err = Store::open_with("mysql://localhost/x", &StoreOptions::default()).expect_err("bad url");
    assert!(matches!(&err, Error::Invalid { field, .. } if field == "database"), "{err:?}");
}
