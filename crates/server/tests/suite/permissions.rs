//! The permission table walked through HTTP, as `crates/core/tests/suite/permissions.rs`
//! walks it through the library: every role, unscoped and scoped to EAST and WEST (acting
//! at MAIN, outside its scope, and at EAST, inside it), against a representative route of
//! every action that has one. What the core's own `explain` allows answers 2xx; what it
//! refuses answers 403 — or 404 to a client, for orders and reservations that are not its
//! own. The expectations come from the core's table, so the test follows it.

use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::Method;
use serde_json::{Value, json};
use stockyard_core::{
    Action, Actor, NewProduct, Role,
    auth::explain,
    inventory::ReserveRequest,
    orders::{Customer, NewOrder},
};
use stockyard_testkit::{Reach, backend_tests};

use crate::common::{Api, TestServer};

static UNIQUE: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", UNIQUE.fetch_add(1, Ordering::Relaxed))
}

/// One request: method, path under `/api/v1`, body.
struct Call(Method, String, Option<Value>);

fn get(path: String) -> Option<Call> {
    Some(Call(Method::GET, path, None))
}

fn post(path: String, body: Value) -> Option<Call> {
    Some(Call(Method::POST, path, Some(body)))
}

fn put(path: String, body: Value) -> Option<Call> {
    Some(Call(Method::PUT, path, Some(body)))
}

fn admin() -> Actor {
    Actor::local_admin()
}

/// A reservation of one P-2 at `warehouse`, held by `api`'s user when it may, by the admin
/// otherwise.
fn held(server: &TestServer, api: &Api, warehouse: &str) -> String {
    let body = json!({ "items": [{ "sku": "P-2", "quantity": 1, "warehouse": warehouse }] });
    let reply = api.post("/inventory/reserve", &body);
    if reply.status == 201 {
        return reply.body["reservation_id"].as_str().expect("reservation_id").to_owned();
    }
    let request =
        ReserveRequest { lines: vec![("P-2".into(), 1)], warehouse: Some(warehouse.into()), ..Default::default() };
    server.store.inventory().reserve(&admin(), request).expect("held by the admin").id.to_string()
}

fn order_body(warehouse: &str) -> Value {
    json!({ "customer": { "email": "buyer@example.com" }, "lines": [{ "sku": "P-2", "quantity": 1 }], "warehouse": warehouse })
}

/// An order of one P-2 at `warehouse`, placed by `api`'s user when `own` and it may, by the
/// admin otherwise, then taken by the admin through `steps` (`pay`, `cancel`, or a status).
fn order(server: &TestServer, api: Option<&Api>, warehouse: &str, steps: &[&str]) -> String {
    let mine = api.map(|api| api.post("/orders", &order_body(warehouse))).filter(|r| r.status == 201);
    let id = match mine {
        Some(reply) => reply.body["id"].as_str().expect("id").to_owned(),
        None => {
            let input = NewOrder {
                customer: Customer { email: "buyer@example.com".into(), ..Default::default() },
                lines: vec![("P-2".into(), 1)],
                warehouse: Some(warehouse.into()),
                ..Default::default()
            };
            server.store.orders().create(&admin(), input).expect("placed by the admin").id.to_string()
        }
    };
    let orders = server.store.orders();
    for step in steps {
        match *step {
            "pay" => orders.pay(&admin(), &id, None, None).map(drop),
            "cancel" => orders.cancel(&admin(), &id, None).map(drop),
            status => orders.set_status(&admin(), &id, status.parse().expect("a status"), None).map(drop),
        }
        .expect("a step by the admin");
    }
    id
}

/// The route that needs `action`, with what it acts on in place; `None` for the actions
/// no route of `/api/v1` does (the CLI's and the workers').
fn call(server: &TestServer, api: &Api, action: Action, reach: Reach, email: &str) -> Option<Call> {
    let (here, there) = (reach.here(), reach.there());
    match action {
        Action::ProductRead => get("/products/P-1".into()),
        Action::ProductCreate => {
            post("/products".into(), json!({ "sku": unique("NEW-"), "name": "New", "price": "1.00" }))
        }
        Action::ProductUpdate => put("/products/P-1".into(), json!({ "name": unique("Renamed ") })),
        Action::ProductDelete => {
            let sku = unique("GONE-");
            let product =
                NewProduct { sku: sku.clone(), name: "Gone".into(), price: "1.00".into(), ..Default::default() };
            server.store.catalog().create_product(&admin(), product).expect("a product to delete");
            Some(Call(Method::DELETE, format!("/products/{sku}"), None))
        }
        Action::CategoryRead => get("/categories".into()),
        Action::CategoryCreate => post("/categories".into(), json!({ "name": unique("Cat ") })),
        Action::WarehouseRead => get("/warehouses".into()),
        Action::WarehouseCreate => post("/warehouses".into(), json!({ "code": unique("W"), "name": "New" })),
        Action::StockRead => get(format!("/inventory?warehouse={here}")),
        Action::StockAdjust => post(
            "/inventory/adjust".into(),
            json!({ "sku": "P-1", "warehouse": here, "delta": 1, "reason": "found one" }),
        ),
        Action::StockTransfer => {
            post("/inventory/transfer".into(), json!({ "sku": "P-1", "from": here, "to": there, "quantity": 1 }))
        }
        Action::ReservationRead => get(format!("/inventory/reservations/{}", held(server, api, here))),
        Action::ReservationCreate => {
            post("/inventory/reserve".into(), json!({ "items": [{ "sku": "P-2", "quantity": 1, "warehouse": here }] }))
        }
        Action::ReservationRelease => {
            post("/inventory/release".into(), json!({ "reservation_id": held(server, api, here) }))
        }
        Action::OrderRead => get(format!("/orders/{}", order(server, Some(api), here, &[]))),
        Action::OrderCreate => post("/orders".into(), order_body(here)),
        Action::OrderUpdate => {
            put(format!("/orders/{}", order(server, Some(api), here, &[])), json!({ "notes": "ring twice" }))
        }
        Action::OrderPay => {
            post(format!("/orders/{}/payments", order(server, None, here, &[])), json!({ "reference": "card" }))
        }
        Action::OrderCancel => {
            post(format!("/orders/{}/cancel", order(server, None, here, &[])), json!({ "reason": "changed mind" }))
        }
        Action::OrderPick | Action::OrderPack | Action::OrderShip | Action::OrderDeliver => {
            let (before, to): (&[&str], &str) = match action {
                Action::OrderPick => (&["pay"], "picking"),
                Action::OrderPack => (&["pay", "picking"], "packed"),
                Action::OrderShip => (&["pay", "picking", "packed"], "shipped"),
                _ => (&["pay", "picking", "packed", "shipped"], "delivered"),
            };
            let id = order(server, None, here, before);
            put(format!("/orders/{id}/status"), json!({ "status": to, "tracking_number": "TRACK-1" }))
        }
        Action::OrderReturn => {
            let id = order(server, None, here, &["pay", "picking", "packed", "shipped", "delivered"]);
            post(format!("/orders/{id}/returns"), json!({ "lines": [{ "sku": "P-2", "quantity": 1 }] }))
        }
        Action::OrderRefund => {
            post(format!("/orders/{}/refunds", order(server, None, here, &["pay", "cancel"])), json!({}))
        }
        Action::NotifyTemplates => get("/notifications/templates".into()),
        Action::NotifySend => post(
            "/notifications".into(),
            json!({
                "channel": "email", "to": "someone@example.com", "template": "order_status_changed",
                "variables": { "number": 7, "from": "paid", "to": "shipped", "tracking_number": null },
            }),
        ),
        Action::NotifyRead => {
            let vars = json!({ "number": 7, "from": "paid", "to": "shipped", "tracking_number": null });
            let vars = vars.as_object().cloned().unwrap_or_default();
            let sent = server.store.notifications().send(&admin(), "x@example.com", "order_status_changed", &vars);
            get(format!("/notifications/status/{}", sent.expect("a notification").id))
        }
        Action::WebhookManage => get("/webhooks".into()),
        Action::EventsRead => get("/events".into()),
        Action::AuditRead => get("/audit".into()),
        Action::UserRead => get("/users".into()),
        Action::UserManage => post(
            "/users".into(),
            json!({ "email": format!("{}@example.com", unique("new")), "role": "viewer", "password": crate::common::PASSWORD }),
        ),
        Action::UserPrefs => put(
            format!("/users/{email}/preferences"),
            json!({ "event": "OrderCreated", "channels": { "in_app": true } }),
        ),
        Action::StockHistory
        | Action::StockReceive
        | Action::StockCount
        | Action::StockThreshold
        | Action::StockVerify
        | Action::StockReplay
        | Action::ReservationCommit
        | Action::ReservationExpire
        | Action::NotifyRun
        | Action::TokenManage
        | Action::KeyRotate
        | Action::StoreSetup => None,
    }
}

/// Whether a refusal of `action` to a client reads as "not there": another's order or
/// reservation is not revealed.
fn hidden_from_clients(action: Action) -> bool {
    action.as_str().starts_with("order.") || action.as_str().starts_with("reservation.")
}

backend_tests! {
    fn every_role_and_scope_meets_the_table_through_http(db) {
        let server = TestServer::start(db);
        server.warehouses(&["EAST", "WEST"]);
        server.product("P-1", "1.00", &[("MAIN", 1_000), ("EAST", 1_000), ("WEST", 1_000)]);
        server.product("P-2", "1.00", &[("MAIN", 1_000), ("EAST", 1_000), ("WEST", 1_000)]);
        let mut walked = 0;
        for role in Role::ALL {
            for reach in Reach::ALL {
                let email = format!("{}@example.com", unique(role.as_str()));
                let scope = reach.scope();
                let warehouses: Vec<&str> = scope.iter().map(String::as_str).collect();
                let api = server.as_new_user(&email, *role, &warehouses);
                for action in Action::ALL {
                    let Some(Call(method, path, body)) = call(&server, &api, *action, reach, &email) else { continue };
                    walked += 1;
                    let expected = explain(*role, &scope, *action, Some(reach.here()));
                    let mut request = api.request(method.clone(), &path);
                    if let Some(body) = &body {
                        request = request.json(body);
                    }
                    let reply = api.send(request);
                    let what = format!("{role} {action} {reach:?}: {method} {path} answered {} {}", reply.status, reply.body);
                    if expected.allowed {
                        assert!((200..300).contains(&reply.status), "allowed ({}), yet {what}", expected.reason);
                    } else if *role == Role::Client && hidden_from_clients(*action) {
                        assert!(matches!(reply.status, 403 | 404), "refused ({}), yet {what}", expected.reason);
                    } else {
                        assert_eq!(reply.status, 403, "refused ({}), yet {what}", expected.reason);
                    }
                }
            }
        }
        assert!(walked >= Role::ALL.len() * 3 * 30, "walked {walked} routes");
    }

    fn a_refusal_is_the_same_whether_or_not_the_thing_exists(db) {
        let server = TestServer::start(db);
        server.product("P-1", "1.00", &[]);
        let viewer = server.as_role(Role::Viewer, &[]);
        for sku in ["P-1", "NO-SUCH"] {
            let refused = viewer.delete(&format!("/products/{sku}")).problem(403);
            assert_eq!(refused["code"], "forbidden");
        }
        let body = json!({ "sku": "NO-SUCH", "warehouse": "NOWHERE", "delta": 1, "reason": "x" });
        viewer.post("/inventory/adjust", &body).problem(403);
    }
}
