//! Warehouses on both backends.

use stockyard_core::{Actor, Conflict, Error, EventFilter, EventType, NewWarehouse};
use stockyard_testkit::backend_tests;

fn admin() -> Actor {
    Actor::local_admin()
}

backend_tests! {
    fn warehouses_have_unique_upper_case_codes(db) {
        let store = db.store();
        let w = |code: &str, name: &str| store.warehouses().create(&admin(), NewWarehouse { code: code.into(), name: name.into() });
        let east = w(" east ", "East DC").expect("create");
        assert_eq!((east.code.as_str(), east.name.as_str(), east.active), ("EAST", "East DC", true));
        let err = w("East", "Again").expect_err("duplicate");
        assert!(matches!(&err, Error::Conflict { code: Conflict::Duplicate, message } if message.contains("EAST")), "{err:?}");
        for (code, name, field) in [("no space", "x", "warehouse code"), ("", "x", "warehouse code"), ("WEST", " ", "name")] {
            assert!(matches!(w(code, name), Err(Error::Invalid { field: f, .. }) if f == field), "{code:?}");
        }
        let codes: Vec<String> = store.warehouses().list(&admin()).expect("list").into_iter().map(|w| w.code).collect();
        assert_eq!(codes, ["EAST", "MAIN"]);
        assert_eq!(store.warehouses().get(&admin(), "east").expect("get").id, east.id);
        assert!(matches!(store.warehouses().get(&admin(), "NOPE"), Err(Error::NotFound { .. })));

        let filter = EventFilter { event_type: Some(EventType::WarehouseCreated), ..Default::default() };
        let events = store.events().list(&admin(), &filter).expect("events");
        assert_eq!(events.iter().map(|e| e.payload["code"].as_str().unwrap_or_default()).collect::<Vec<_>>(), ["MAIN", "EAST"]);
        assert!(events.iter().all(|e| e.aggregate_type == "warehouse" && e.actor == "local-admin"));
    }
}
