//! `Idempotency-Key` over HTTP on every route that honours it: a repeat answers the first
//! answer and changes nothing, also when sent at once from many threads or after a restart;
//! the same key with another body is refused; keys belong to the principal.

use std::sync::Barrier;

use serde_json::{Value, json};
use stockyard_core::{Actor, Role};
use stockyard_testkit::{TestDb, backend_tests};

use crate::common::{Api, Reply, TestServer};

/// MUG (5.00) at MAIN (20) and EAST (5).
fn stocked(server: &TestServer) {
    server.warehouses(&["EAST"]);
    server.product("MUG", "5.00", &[("MAIN", 20), ("EAST", 5)]);
}

fn order_body(email: &str, quantity: i64) -> Value {
    json!({ "customer": { "email": email }, "lines": [{ "sku": "MUG", "quantity": quantity }], "warehouse": "MAIN" })
}

fn events(db: &TestDb) -> i64 {
    db.number("SELECT COUNT(*) FROM events")
}

fn orders(db: &TestDb) -> i64 {
    db.number("SELECT COUNT(*) FROM orders")
}

/// (on_hand, reserved) of MUG at `warehouse`.
fn mug(server: &TestServer, warehouse: &str) -> (i64, i64) {
    let level = server.level("MUG", warehouse);
    (level.on_hand, level.reserved)
}

/// Sends `path` with `key` twice; asserts the repeat answered the same and changed nothing
/// (stock, events); returns the answer.
fn twice(server: &TestServer, db: &TestDb, api: &Api, path: &str, key: &str, body: &Value) -> Value {
    let first = api.post_keyed(path, key, body);
    assert!(matches!(first.status, 200 | 201), "{path}: {} {}", first.status, first.body);
    let (stock, logged) = ((mug(server, "MAIN"), mug(server, "EAST")), events(db));
    let again = api.post_keyed(path, key, body);
    assert_eq!((again.status, &again.body), (first.status, &first.body), "{path}: the repeat answers the first");
    assert_eq!((mug(server, "MAIN"), mug(server, "EAST")), stock, "{path}: the repeat moved stock");
    assert_eq!(events(db), logged, "{path}: the repeat recorded events");
    first.body
}

backend_tests! {
    fn every_keyed_route_answers_a_repeat_with_the_first_answer(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let admin = server.admin();
        let order = twice(&server, db, &admin, "/orders", "order-1", &order_body("ada@example.com", 2));
        assert_eq!((orders(db), mug(&server, "MAIN")), (1, (20, 2)));
        let id = order["id"].as_str().expect("id");
        let held = twice(&server, db, &admin, "/inventory/reserve", "hold-1", &json!({ "items": [{ "sku": "MUG", "quantity": 3, "warehouse": "EAST" }] }));
        assert!(held["reservation_id"].is_string());
        assert_eq!(mug(&server, "EAST"), (5, 3));
        twice(&server, db, &admin, "/inventory/adjust", "adjust-1", &json!({ "sku": "MUG", "warehouse": "MAIN", "delta": 4, "reason": "found" }));
        assert_eq!(mug(&server, "MAIN"), (24, 2), "added once");
        twice(&server, db, &admin, "/inventory/transfer", "move-1", &json!({ "sku": "MUG", "from": "MAIN", "to": "EAST", "quantity": 1 }));
        assert_eq!((mug(&server, "MAIN"), mug(&server, "EAST")), ((23, 2), (6, 3)), "moved once");
        let paid = twice(&server, db, &admin, &format!("/orders/{id}/payments"), "pay-1", &json!({ "amount": "4.00", "reference": "card" }));
        assert_eq!(paid["paid"], "4.00");
        let read = admin.get(&format!("/orders/{id}")).expect(200);
        assert_eq!((read["paid"].as_str(), read["payments"].as_array().map(Vec::len)), (Some("4.00"), Some(1)), "paid once");
        // A key is one request: another body under it is refused, naming nothing changed.
        let logged = events(db);
        for (path, body) in [
            ("/orders", order_body("ada@example.com", 3)),
            ("/inventory/adjust", json!({ "sku": "MUG", "warehouse": "MAIN", "delta": 5, "reason": "found" })),
            ("/inventory/reserve", json!({ "items": [{ "sku": "MUG", "quantity": 1 }] })),
        ] {
            let key = match path { "/orders" => "order-1", "/inventory/adjust" => "adjust-1", _ => "hold-1" };
            let problem = admin.post_keyed(path, key, &body).problem(422);
            assert_eq!(problem["code"], "idempotency_key_reused", "{problem}");
        }
        // The key of one route on another is another request too.
        admin.post_keyed("/inventory/adjust", "order-1", &json!({ "sku": "MUG", "delta": 1, "reason": "x" })).problem(422);
        assert_eq!((events(db), orders(db)), (logged, 1));
    }

    fn a_failed_request_claims_no_key_and_a_bad_key_is_named(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let sales = server.as_role(Role::Sales, &[]);
        sales.post_keyed("/orders", "big-1", &order_body("ada@example.com", 21)).problem(409);
        server.store.inventory().receive(&Actor::local_admin(), "MUG", Some("MAIN"), 1, None).expect("receive");
        let placed = sales.post_keyed("/orders", "big-1", &order_body("ada@example.com", 21)).expect(201);
        assert_eq!(placed["status"], "confirmed");
        sales.post_keyed("/orders", &"k".repeat(201), &order_body("ada@example.com", 1)).rejects("Idempotency-Key");
        sales.post_keyed("/orders", "   ", &order_body("ada@example.com", 1)).rejects("Idempotency-Key");
        assert_eq!(orders(db), 1);
    }

    fn eight_threads_sending_one_key_make_one_order(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let sales = server.as_role(Role::Sales, &[]);
        let body = order_body("ada@example.com", 1);
        let barrier = Barrier::new(8);
        let replies: Vec<Reply> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..8)
                .map(|_| {
                    let (sales, body, barrier) = (sales.clone(), &body, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        sales.post_keyed("/orders", "once", body)
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().expect("a client thread")).collect()
        });
        let first = &replies[0];
        assert_eq!(first.status, 201, "{}", first.body);
        for reply in &replies {
            assert_eq!((reply.status, &reply.body), (first.status, &first.body));
        }
        assert_eq!((orders(db), mug(&server, "MAIN")), (1, (20, 1)));
    }

    fn a_repeat_after_a_restart_answers_the_first_answer(db) {
        let mut server = TestServer::start(db);
        stocked(&server);
        let sales = server.as_role(Role::Sales, &[]);
        let first = sales.post_keyed("/orders", "across-restart", &order_body("ada@example.com", 2)).expect(201);
        let held = sales.post_keyed("/inventory/reserve", "hold", &json!({ "items": [{ "sku": "MUG", "quantity": 1, "warehouse": "MAIN" }] })).expect(201);
        server.stop();
        drop(server);
        let server = TestServer::start(db);
        let sales = sales.on(&server);
        assert_eq!(sales.post_keyed("/orders", "across-restart", &order_body("ada@example.com", 2)).expect(201), first);
        assert_eq!(sales.post_keyed("/inventory/reserve", "hold", &json!({ "items": [{ "sku": "MUG", "quantity": 1, "warehouse": "MAIN" }] })).expect(201), held);
        assert_eq!((orders(db), mug(&server, "MAIN")), (1, (20, 3)));
    }

    fn keys_belong_to_the_principal(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let (ann, bob) = (server.as_role(Role::Sales, &[]), server.as_role(Role::Sales, &[]));
        let anns = ann.post_keyed("/orders", "same", &order_body("ada@example.com", 1)).expect(201);
        let bobs = bob.post_keyed("/orders", "same", &order_body("ada@example.com", 1)).expect(201);
        assert_ne!(anns["id"], bobs["id"], "another user's key of the same text is another key");
        // Bob's other body under the text Ann used is his own first request, not a reuse.
        bob.post_keyed("/orders", "anns-other", &order_body("bob@example.com", 2)).expect(201);
        assert_eq!(ann.post_keyed("/orders", "same", &order_body("ada@example.com", 1)).expect(201), anns);
        assert_eq!((orders(db), mug(&server, "MAIN")), (3, (20, 4)));
    }
}
