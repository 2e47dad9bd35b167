//! Opening, initialising and migrating a store, on both backends.

use stockyard_core::PageRequest;
use stockyard_core::{Actor, Error, EventFilter, Store, StoreOptions};
use stockyard_testkit::backend_tests;

fn admin() -> Actor {
    Actor::local_admin()
}

backend_tests! {
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
