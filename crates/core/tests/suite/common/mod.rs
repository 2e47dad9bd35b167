//! Helpers shared by the backend test modules.

use stockyard_core::{
    Actor, Error, EventFilter, EventType, ManualClock, NewProduct, NewUser, NewWarehouse, StockLevel, StockQuery, Store,
};
use stockyard_testkit::TestDb;

pub fn admin() -> Actor {
    Actor::local_admin()
}

/// The password of every user the tests create.
pub const PASSWORD: &str = "correct horse battery";

/// A new user of `role` limited to `warehouses` (none: all), acting.
pub fn acting(store: &Store, email: &str, role: &str, warehouses: &[&str]) -> Actor {
    let user = NewUser {
        email: email.into(),
        role: role.parse().expect("a role"),
        warehouses: warehouses.iter().map(|w| (*w).to_owned()).collect(),
        password: Some(PASSWORD.into()),
        ..Default::default()
    };
    store.users().create(&admin(), user).expect("user");
    store.users().acting(email).expect("actor")
}

/// An initialised store with warehouses MAIN and EAST and the given products.
pub fn store_with(db: &TestDb, skus: &[&str]) -> Store {
    stocked(db.store(), skus)
}

/// [`store_with`], its time read from `clock`.
pub fn store_at(db: &TestDb, clock: &ManualClock, skus: &[&str]) -> Store {
    stocked(db.store_at(clock), skus)
}

fn stocked(store: Store, skus: &[&str]) -> Store {
    store.warehouses().create(&admin(), NewWarehouse { code: "EAST".into(), name: "East".into() }).expect("EAST");
    for sku in skus {
        let product =
            NewProduct { sku: (*sku).into(), name: format!("Item {sku}"), price: "1.00".into(), ..Default::default() };
        store.catalog().create_product(&admin(), product).expect("product");
    }
    store
}

/// The stock level of one product at one warehouse (zeros if it never held stock).
pub fn level(store: &Store, sku: &str, warehouse: &str) -> StockLevel {
    let query = StockQuery { sku: Some(sku.into()), warehouse: Some(warehouse.into()), ..Default::default() };
    let mut page = store.inventory().levels(&admin(), &query).expect("levels");
    assert_eq!(page.items.len(), 1, "{sku} at {warehouse}");
    page.items.remove(0)
}

/// The payloads of every event of one type, oldest first.
pub fn events_of(store: &Store, event_type: EventType) -> Vec<serde_json::Value> {
    let filter = EventFilter { event_type: Some(event_type), limit: Some(1000), ..Default::default() };
    store.events().list(&admin(), &filter).expect("events").into_iter().map(|e| e.payload).collect()
}

/// The field an invalid-input error names.
pub fn invalid_field(err: Error) -> String {
    match err {
        Error::Invalid { field, .. } => field,
        other => panic!("expected an invalid-input error, got {other:?}"),
    }
}
