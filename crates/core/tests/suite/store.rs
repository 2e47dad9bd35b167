//! Opening, initialising and migrating a store, on both backends.

use jiff::{SignedDuration, Timestamp};
use stockyard_core::PageRequest;
use stockyard_core::{
    Actor, Backend, Error, ErrorKind, EventFilter, EventType, ManualClock, NewProduct, Store, StoreOptions,
    inventory::ReserveRequest,
    orders::{Customer, NewOrder},
};
use stockyard_testkit::backend_tests;

fn admin() -> Actor {
    Actor::local_admin()
}

backend_tests! {
    fn every_time_written_is_the_stores_clocks_and_it_may_go_back(db) {
        let then: Timestamp = "2030-01-02T03:04:05.678901Z".parse().expect("time");
        let clock = ManualClock::new(then);
        let store = db.store_at(&clock);
        let product = NewProduct { sku: "T-1".into(), name: "T".into(), price: "1.00".into(), ..Default::default() };
        let product = store.catalog().create_product(&admin(), product).expect("product");
        store.inventory().receive(&admin(), "T-1", None, 5, None).expect("receive");
        let held = ReserveRequest { lines: vec![("T-1".into(), 1)], ..Default::default() };
        let held = store.inventory().reserve(&admin(), held).expect("reserve");
        let order = NewOrder {
            customer: Customer { email: "ada@example.com".into(), ..Default::default() },
            lines: vec![("T-1".into(), 2)],
            ..Default::default()
        };
        let order = store.orders().create(&admin(), order).expect("order");
        let paid = store.orders().pay(&admin(), &order.id.to_string(), None, None).expect("pay");
        assert_eq!((product.created_at, held.created_at, order.created_at, paid.updated_at), (then, then, then, then));
        assert_eq!(held.expires_at, Some(then + SignedDuration::from_mins(15)));
        assert!(paid.history.iter().chain(&order.history).all(|change| change.at == then));

        // Set back a year: later writes look older, and nothing that checks the logs minds.
        let earlier = then - SignedDuration::from_hours(24 * 365);
        clock.set(earlier);
        store.inventory().release(&admin(), &held.id.to_string()).expect("release");
        let events = store.events().list(&admin(), &EventFilter { limit: Some(1000), ..Default::default() }).expect("events");
        let audit = store.audit().list(&admin(), None, &PageRequest { limit: Some(1000), cursor: None }).expect("audit").items;
        let times = |mut at: Vec<(i64, Timestamp)>| {
            at.sort_unstable();
            at.dedup_by_key(|(_, at)| *at);
            at.into_iter().map(|(_, at)| at).collect::<Vec<_>>()
        };
        assert_eq!(times(events.iter().map(|e| (e.seq, e.occurred_at)).collect()), [then, earlier], "in seq order");
        assert_eq!(times(audit.iter().map(|r| (r.seq, r.occurred_at)).collect()), [then, earlier]);
        assert!(store.audit().verify(&admin()).expect("chain").ok);
        assert!(store.inventory().verify(&admin()).expect("replay").ok);
    }

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
            let token = stockyard_core::auth::NewApiToken { name: code.to_lowercase(), role: stockyard_core::Role::Viewer, warehouses: Vec::new(), expires_in: None };
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

backend_tests! {
    fn a_broken_schema_is_an_internal_error_that_shows_no_sql(db) {
        let store = db.store();
        db.sql("ALTER TABLE products RENAME TO products_elsewhere");
        let err = store.catalog().product(&admin(), "ANY-1").expect_err("the table is gone");
        assert!(matches!(err, Error::Internal { source: Some(_), .. }), "{err:?}");
        assert_eq!((err.kind(), err.code()), (ErrorKind::Internal, "internal"));
        for text in [err.to_string(), err.chain()] {
            assert!(!["SELECT", "FROM products", "WHERE"].iter().any(|sql| text.contains(sql)), "{text}");
        }
        assert!(err.chain().contains("products"), "the source names the table: {}", err.chain());
    }

    fn a_database_the_server_refuses_is_internal_not_unavailable(db) {
        if db.backend() == Backend::Postgres {
            let url = format!("{}_missing", db.url());
            let err = Store::open_with(&url, &db.options()).expect_err("no such database");
            assert_eq!(err.kind(), ErrorKind::Internal, "{err:?}");
            assert!(err.to_string().contains("does not exist"), "{err}");
        }
    }
}

#[test]
fn an_unreachable_postgres_server_is_unavailable() {
    // Nothing listens on the discard port: the connection is refused, as when the server restarts.
    let err =
        Store::open_with("postgres://postgres@127.0.0.1:9/stockyard", &StoreOptions::default()).expect_err("refused");
    assert!(matches!(&err, Error::Unavailable { reason } if reason.contains("127.0.0.1:9")), "{err:?}");
    assert_eq!(err.code(), "unavailable");
}
