//! The root `stockyard` crate as an embedding program sees it, on both backends: one
//! session of typed calls through the re-exported API, and what it leaves in the logs.

use stockyard::{
    Actor, Error, ErrorKind, EventFilter, EventType, NewProduct, NewWarehouse, PageRequest, ProductPatch, Store,
};
use stockyard_testkit::backend_tests;

backend_tests! {
    fn an_embedding_program_manages_its_catalog(db) {
        let store: Store = db.store();
        let me = Actor::local_admin().with_request_id("req-42");
        store.warehouses().create(&me, NewWarehouse { code: "dock".into(), name: "Loading dock".into() }).expect("warehouse");
        let product = store.catalog()
            .create_product(&me, NewProduct { sku: "BOLT-M8".into(), name: "M8 bolt".into(), price: "0.12".into(), ..Default::default() })
            .expect("product");
        let patch = ProductPatch { price: Some("0.15".into()), expected_version: Some(product.version), ..Default::default() };
        store.catalog().update_product(&me, "BOLT-M8", patch).expect("reprice");

        let err = store.catalog().product(&me, "BOLT-M9").expect_err("missing");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let err = store.catalog()
            .create_product(&me, NewProduct { sku: "BOLT-M8".into(), name: "dup".into(), price: "1".into(), ..Default::default() })
            .expect_err("duplicate");
        assert!(matches!(err, Error::Conflict { .. }));

        let types: Vec<EventType> = store.events()
            .list(&me, &EventFilter { since: Some(0), ..Default::default() })
            .expect("events")
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        assert_eq!(
            types,
            [EventType::WarehouseCreated, EventType::WarehouseCreated, EventType::ProductCreated, EventType::ProductUpdated, EventType::ProductPriceChanged]
        );
        let audit = store.audit().list(&me, Some("product"), &PageRequest { limit: Some(1000), cursor: None }).expect("audit").items;
        assert_eq!(audit.len(), 2);
        assert!(audit.iter().all(|a| a.request_id.as_deref() == Some("req-42")));
    }
}
