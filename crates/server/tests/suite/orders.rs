//! Orders over HTTP, through their whole life: placing (201), listing and reading with an
//! ETag, details under `If-Match`, status steps, payments, picks, cancellation, returns and
//! accumulating refunds — and the refusals: bad input naming the field, roles the table
//! refuses, scoped staff outside their warehouses, another client's order as not found.

use std::sync::Barrier;

use reqwest::Method;
use serde_json::{Value, json};
use stockyard_core::{Actor, Role};
use stockyard_testkit::backend_tests;

use crate::common::{Api, Reply, TestServer};

/// MUG (10.00) at MAIN (10) and EAST (10).
fn stocked(server: &TestServer) {
    server.warehouses(&["EAST"]);
    server.product("MUG", "10.00", &[("MAIN", 10), ("EAST", 10)]);
}

/// Places an order of `quantity` MUG for `email` at `warehouse`; the order.
fn place(api: &Api, email: &str, quantity: i64, warehouse: &str) -> Value {
    let body = json!({
        "customer": { "email": email, "name": "Ada", "address": "1 Quay Street" },
        "lines": [{ "sku": "MUG", "quantity": quantity }],
        "warehouse": warehouse,
    });
    api.post("/orders", &body).expect(201)
}

fn id(order: &Value) -> String {
    order["id"].as_str().expect("an order id").to_owned()
}

/// Takes an order (as `api`) through `steps`: `pay`, or a status to set.
fn advance(api: &Api, order: &str, steps: &[&str]) -> Value {
    let mut last = Value::Null;
    for step in steps {
        last = match *step {
            "pay" => api.post(&format!("/orders/{order}/payments"), &json!({ "reference": "card" })).expect(200),
            status => api
                .put(&format!("/orders/{order}/status"), &json!({ "status": status, "tracking_number": "TRK-1" }))
                .expect(200),
        };
    }
    last
}

fn numbers(page: &Value) -> Vec<i64> {
    let mut numbers: Vec<i64> =
        page["items"].as_array().expect("items").iter().filter_map(|o| o["number"].as_i64()).collect();
    numbers.sort();
    numbers
}

backend_tests! {
    fn an_order_is_placed_confirmed_and_read_back_with_its_etag(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let sales = server.as_role(Role::Sales, &[]);
        let placed = sales.post("/orders", &json!({
            "customer": { "email": "ada@example.com", "name": "Ada", "phone": "+44 1234", "address": "1 Quay Street" },
            "lines": [{ "sku": "MUG", "quantity": 3 }], "notes": "gift wrap",
        }));
        assert_eq!(placed.header("etag"), Some("\"1\""));
        let placed = placed.expect(201);
        assert_eq!((placed["status"].as_str(), placed["total"].as_str(), placed["currency"].as_str()), (Some("confirmed"), Some("30.00"), Some("USD")));
        assert_eq!(placed["customer"]["email"], "ada@example.com");
        assert_eq!((placed["lines"][0]["sku"].as_str(), placed["lines"][0]["quantity"].as_i64()), (Some("MUG"), Some(3)));
        let allocated = &placed["allocations"][0];
        let warehouse = allocated["warehouse"].as_str().expect("allocated at a warehouse");
        assert_eq!(allocated["quantity"], 3, "{placed}");
        assert_eq!(server.level("MUG", warehouse).reserved, 3, "reserved where it was allocated");
        let read = sales.get(&format!("/orders/{}", id(&placed)));
        assert_eq!(read.header("etag"), Some("\"1\""));
        assert_eq!(read.expect(200)["number"], placed["number"]);
        sales.get(&format!("/orders/{}", uuid::Uuid::now_v7())).problem(404);
    }

    fn orders_list_by_status_and_customer_a_page_at_a_time(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let sales = server.as_role(Role::Sales, &[]);
        let a = place(&sales, "ada@example.com", 1, "MAIN");
        let b = place(&sales, "bob@example.com", 1, "MAIN");
        let c = place(&sales, "Ada@Example.com", 1, "EAST");
        advance(&sales, &id(&b), &["pay"]);
        let n = |o: &Value| o["number"].as_i64().expect("number");
        assert_eq!(numbers(&sales.get("/orders").expect(200)), [n(&a), n(&b), n(&c)]);
        assert_eq!(numbers(&sales.get("/orders?status=confirmed").expect(200)), [n(&a), n(&c)]);
        assert_eq!(numbers(&sales.get("/orders?status=paid").expect(200)), [n(&b)]);
        assert_eq!(numbers(&sales.get("/orders?customer=ada@example.com").expect(200)), [n(&a), n(&c)]);
        assert_eq!(numbers(&sales.get("/orders?customer=bob@example.com&status=confirmed").expect(200)), Vec::<i64>::new());
        let first = sales.get("/orders?limit=2").expect(200);
        let cursor = first["next_cursor"].as_str().expect("a second page");
        let second = sales.get(&format!("/orders?limit=2&cursor={cursor}")).expect(200);
        let mut both = numbers(&first);
        both.extend(numbers(&second));
        both.sort();
        assert_eq!(both, [n(&a), n(&b), n(&c)]);
        assert_eq!(second["next_cursor"], Value::Null);
        for (query, field) in [("status=bogus", "status"), ("limit=abc", "limit"), ("limit=0", "limit"), ("cursor=@@", "cursor")] {
            sales.get(&format!("/orders?{query}")).rejects(field);
        }
    }

    fn order_details_change_under_if_match_until_shipped(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let sales = server.as_role(Role::Sales, &[]);
        let order = id(&place(&sales, "ada@example.com", 1, "MAIN"));
        let path = format!("/orders/{order}");
        let moved = sales.put_if_match(&path, "\"1\"", &json!({ "customer": { "address": "2 Dock Road" } }));
        assert_eq!(moved.header("etag"), Some("\"2\""));
        assert_eq!(moved.expect(200)["customer"]["address"], "2 Dock Road");
        let stale = sales.put_if_match(&path, "\"1\"", &json!({ "notes": "late" })).problem(412);
        assert_eq!(stale["current_version"], 2);
        sales.put_if_match(&path, "v2", &json!({ "notes": "x" })).invalid(400, "If-Match");
        let flat = sales.put(&path, &json!({ "phone": "+44 999", "notes": "ring twice" })).expect(200);
        assert_eq!((flat["customer"]["phone"].as_str(), flat["notes"].as_str(), flat["version"].as_i64()), (Some("+44 999"), Some("ring twice"), Some(3)));
        sales.put(&path, &json!({})).rejects("order");
        sales.put(&path, &json!({ "customer": { "email": "not an email" } })).rejects("email");
        sales.put(&path, &json!({ "notes": 5 })).rejects("notes");
        sales.put(&path, &json!({ "status": "paid" })).rejects("status");
        let admin = server.admin();
        advance(&admin, &order, &["pay", "picking", "packed", "shipped"]);
        sales.put(&path, &json!({ "notes": "too late" })).problem(409);
        sales.put(&format!("/orders/{}", uuid::Uuid::now_v7()), &json!({ "notes": "x" })).problem(404);
    }

    fn an_order_walks_its_states_and_refuses_the_others(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let (admin, worker) = (server.admin(), server.as_role(Role::Warehouse, &[]));
        let order = id(&place(&admin, "ada@example.com", 2, "MAIN"));
        let status = format!("/orders/{order}/status");
        worker.put(&status, &json!({ "status": "picking" })).problem(409);
        worker.put(&status, &json!({ "status": "bogus" })).rejects("status");
        worker.put(&status, &json!({ "status": 3 })).rejects("status");
        worker.put(&status, &json!({})).rejects("status");
        worker.put(&status, &json!({ "status": "paid" })).rejects("status");
        let paid = admin.post(&format!("/orders/{order}/payments"), &json!({ "amount": "20.00", "reference": "card-1" })).expect(200);
        assert_eq!((paid["status"].as_str(), paid["paid"].as_str()), (Some("paid"), Some("20.00")));
        for step in ["picking", "packed"] {
            assert_eq!(worker.put(&status, &json!({ "status": step })).expect(200)["status"], step);
        }
        let shipped = worker.put(&status, &json!({ "status": "shipped", "tracking_number": "TRK-9" })).expect(200);
        assert_eq!((shipped["status"].as_str(), shipped["tracking_number"].as_str()), (Some("shipped"), Some("TRK-9")));
        assert_eq!((server.level("MUG", "MAIN").on_hand, server.level("MUG", "MAIN").reserved), (8, 0));
        worker.put(&status, &json!({ "status": "packed" })).problem(409);
        assert_eq!(worker.put(&status, &json!({ "status": "delivered" })).expect(200)["status"], "delivered");
        let read = admin.get(&format!("/orders/{order}")).expect(200);
        let history: Vec<&str> = read["history"].as_array().expect("history").iter().filter_map(|c| c["to"].as_str()).collect();
        assert!(history.ends_with(&["paid", "picking", "packed", "shipped", "delivered"]), "{history:?}");
        // Roles the table refuses the steps.
        for role in [Role::Sales, Role::Client, Role::Viewer] {
            // A role refusal says nothing of the order: it is the same for any id.
            server.as_role(role, &[]).put(&status, &json!({ "status": "delivered" })).problem(403);
        }
    }

    fn orders_are_picked_line_by_line_until_packed(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let (admin, worker) = (server.admin(), server.as_role(Role::Warehouse, &[]));
        let order = id(&place(&admin, "ada@example.com", 3, "MAIN"));
        let picks = format!("/orders/{order}/picks");
        let unpaid = worker.post(&picks, &json!({ "sku": "MUG" })).problem(409);
        assert!(unpaid["detail"].as_str().is_some_and(|d| d.contains("is confirmed")), "{unpaid}");
        advance(&admin, &order, &["pay"]);

        let first = worker.post(&picks, &json!({ "sku": "mug" }));
        assert_eq!(first.header("etag"), Some("\"3\""));
        let first = first.expect(200);
        let allocation = &first["allocations"][0];
        assert_eq!((first["status"].as_str(), allocation["picked"].as_i64(), allocation["quantity"].as_i64()), (Some("picking"), Some(1), Some(3)));
        assert!(allocation["picked_by"].is_string() && allocation["picked_at"].is_string(), "{allocation}");

        let over = worker.post(&picks, &json!({ "sku": "MUG", "quantity": 3 })).problem(409);
        assert_eq!(over["code"], "refused");
        assert!(over["detail"].as_str().is_some_and(|d| d.contains("needs 2 more of MUG at MAIN, not 3")), "{over}");
        for (body, field) in [
            (json!({}), "sku"),
            (json!({ "sku": 7 }), "sku"),
            (json!({ "sku": "LAMP" }), "sku"),
            (json!({ "sku": "MUG", "quantity": 0 }), "quantity"),
            (json!({ "sku": "MUG", "quantity": "2" }), "quantity"),
            (json!({ "sku": "MUG", "warehouse": "EAST" }), "warehouse"),
            (json!({ "sku": "MUG", "rush": true }), "rush"),
        ] {
            worker.post(&picks, &body).rejects(field);
        }
        for role in [Role::Viewer, Role::Sales, Role::Client] {
            server.as_role(role, &[]).post(&picks, &json!({ "sku": "MUG" })).problem(403);
        }
        server.as_role(Role::Warehouse, &["EAST"]).post(&picks, &json!({ "sku": "MUG" })).problem(403);
        worker.post(&format!("/orders/{}/picks", uuid::Uuid::now_v7()), &json!({ "sku": "MUG" })).problem(404);
        assert_eq!(admin.get(&format!("/orders/{order}")).expect(200), first, "refusals change nothing");

        let packed = worker.post(&picks, &json!({ "sku": "MUG", "quantity": 2, "warehouse": "main" })).expect(200);
        assert_eq!((packed["status"].as_str(), packed["allocations"][0]["picked"].as_i64()), (Some("packed"), Some(3)));
        worker.post(&picks, &json!({ "sku": "MUG" })).problem(409);
    }

    fn payments_accept_strings_and_numbers_and_refuse_overpaying(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let sales = server.as_role(Role::Sales, &[]);
        let order = id(&place(&sales, "ada@example.com", 3, "MAIN"));
        let pay = format!("/orders/{order}/payments");
        let part = sales.post(&pay, &json!({ "amount": "10.50", "reference": "card-1" })).expect(200);
        assert_eq!((part["status"].as_str(), part["paid"].as_str()), (Some("confirmed"), Some("10.50")));
        let more = sales.post(&pay, &json!({ "amount": 9.5, "reference": "card-2" })).expect(200);
        assert_eq!(more["paid"], "20.00");
        sales.post(&pay, &json!({ "amount": "10.01" })).problem(409);
        for (body, field) in [
            (json!({ "amount": "ten" }), "amount"),
            (json!({ "amount": "0" }), "amount"),
            (json!({ "amount": "-1.00" }), "amount"),
            (json!({ "amount": "1.001" }), "amount"),
            (json!({ "amount": true }), "amount"),
            (json!({ "amount": "1.00", "reference": 7 }), "reference"),
            (json!({ "amount": "1.00", "tip": "1.00" }), "tip"),
        ] {
            sales.post(&pay, &body).rejects(field);
        }
        let settled = sales.post(&pay, &json!({ "reference": "rest" })).expect(200);
        assert_eq!((settled["status"].as_str(), settled["paid"].as_str()), (Some("paid"), Some("30.00")));
        assert_eq!(settled["payments"].as_array().expect("payments").len(), 3);
        sales.post(&pay, &json!({ "amount": "1.00" })).problem(409);
        for role in [Role::Warehouse, Role::Viewer] {
            server.as_role(role, &[]).post(&pay, &json!({ "amount": "1.00" })).problem(403);
        }
    }

    fn cancelling_releases_the_stock_once(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let sales = server.as_role(Role::Sales, &[]);
        let order = id(&place(&sales, "ada@example.com", 4, "EAST"));
        assert_eq!(server.level("MUG", "EAST").reserved, 4);
        for role in [Role::Warehouse, Role::Viewer] {
            server.as_role(role, &[]).post(&format!("/orders/{order}/cancel"), &json!({})).problem(403);
        }
        sales.post(&format!("/orders/{order}/cancel"), &json!({ "reason": 5 })).rejects("reason");
        let cancelled = sales.post(&format!("/orders/{order}/cancel"), &json!({ "reason": "changed mind" })).expect(200);
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(server.level("MUG", "EAST").reserved, 0);
        sales.post(&format!("/orders/{order}/cancel"), &json!({})).problem(409);
        // An empty body is an empty object.
        let other = id(&place(&sales, "bob@example.com", 1, "EAST"));
        let empty = sales.send(sales.request(Method::POST, &format!("/orders/{other}/cancel")));
        assert_eq!(empty.expect(200)["status"], "cancelled");
        assert_eq!(server.level("MUG", "EAST").reserved, 0);
    }

    fn returns_restock_and_refunds_accumulate_up_to_what_was_paid(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let (admin, sales) = (server.admin(), server.as_role(Role::Sales, &[]));
        let order = id(&place(&sales, "ada@example.com", 3, "MAIN"));
        let (returns, refunds) = (format!("/orders/{order}/returns"), format!("/orders/{order}/refunds"));
        sales.post(&returns, &json!({ "lines": [{ "sku": "MUG", "quantity": 1 }] })).problem(409);
        advance(&admin, &order, &["pay", "picking", "packed", "shipped", "delivered"]);
        assert_eq!(server.level("MUG", "MAIN").on_hand, 7);
        for (body, field) in [
            (json!({}), "lines"),
            (json!({ "lines": [] }), "lines"),
            (json!({ "lines": [{ "sku": "MUG", "quantity": 0 }] }), "lines[0].quantity"),
            (json!({ "lines": [{ "sku": "MUG", "quantity": 4 }] }), "lines[0].quantity"),
            (json!({ "lines": [{ "sku": "LAMP", "quantity": 1 }] }), "lines[0].sku"),
            (json!({ "lines": [{ "sku": "MUG", "quantity": 1, "restock": "yes" }] }), "lines[0].restock"),
            (json!({ "lines": [{ "sku": "MUG" }] }), "lines[0].quantity"),
        ] {
            sales.post(&returns, &body).rejects(field);
        }
        let requested = sales.post(&returns, &json!({ "lines": [{ "sku": "MUG", "quantity": 2 }, { "sku": "MUG", "quantity": 1, "restock": false }], "request_only": true })).expect(200);
        assert_eq!(requested["status"], "return_requested");
        assert_eq!(server.level("MUG", "MAIN").on_hand, 7, "a request moves no stock");
        let returned = sales.post(&returns, &json!({ "lines": [{ "sku": "MUG", "quantity": 2 }, { "sku": "MUG", "quantity": 1, "restock": false }] })).expect(200);
        assert_eq!(returned["status"], "returned");
        assert_eq!(server.level("MUG", "MAIN").on_hand, 9, "two restocked, one written off");
        // Refunds: partial ones leave it returned; more than is left is refused.
        let first = sales.post(&refunds, &json!({ "amount": "5.00" })).expect(200);
        assert_eq!((first["refunded"].as_str(), first["status"].as_str()), (Some("5.00"), Some("returned")));
        let second = sales.post(&refunds, &json!({ "amount": 10 })).expect(200);
        assert_eq!((second["refunded"].as_str(), second["status"].as_str()), (Some("15.00"), Some("returned")));
        sales.post(&refunds, &json!({ "amount": "15.01" })).problem(409);
        sales.post(&refunds, &json!({ "amount": "nothing" })).rejects("amount");
        sales.post(&refunds, &json!({ "amount": "-3" })).rejects("amount");
        for role in [Role::Warehouse, Role::Viewer] {
            server.as_role(role, &[]).post(&refunds, &json!({})).problem(403);
        }
        let rest = sales.post(&refunds, &json!({})).expect(200);
        assert_eq!((rest["refunded"].as_str(), rest["status"].as_str()), (Some("30.00"), Some("refunded")));
        sales.post(&refunds, &json!({ "amount": "0.01" })).problem(409);
    }

    fn order_input_is_checked_field_by_field(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let sales = server.as_role(Role::Sales, &[]);
        let line = json!([{ "sku": "MUG", "quantity": 1 }]);
        for (body, field) in [
            (json!({ "lines": line }), "customer"),
            (json!({ "customer": {}, "lines": line }), "customer.email"),
            (json!({ "customer": { "email": "nope" }, "lines": line }), "email"),
            (json!({ "customer": { "email": "a@example.com" } }), "lines"),
            (json!({ "customer": { "email": "a@example.com" }, "lines": [] }), "lines"),
            (json!({ "customer": { "email": "a@example.com" }, "lines": "MUG" }), "lines"),
            (json!({ "customer": { "email": "a@example.com" }, "lines": [{ "sku": "MUG", "quantity": 0 }] }), "lines[0].quantity"),
            (json!({ "customer": { "email": "a@example.com" }, "lines": [{ "sku": "MUG", "quantity": "1" }] }), "lines[0].quantity"),
            (json!({ "customer": { "email": "a@example.com" }, "lines": [{ "quantity": 1 }] }), "lines[0].sku"),
            (json!({ "customer": { "email": "a@example.com" }, "lines": line, "rush": true }), "rush"),
            (json!({ "customer": { "email": "a@example.com" }, "lines": line, "reservation_id": "nope" }), "reservation_id"),
        ] {
            sales.post("/orders", &body).rejects(field);
        }
        sales.send_text(Method::POST, "/orders", "{\"customer\":").problem(400);
        sales.send_text(Method::POST, "/orders", "not json").problem(400);
        let unknown = sales.post("/orders", &json!({ "customer": { "email": "a@example.com" }, "lines": [{ "sku": "NO-SUCH", "quantity": 1 }] }));
        assert!(matches!(unknown.status, 404 | 422), "{}", unknown.body);
        let short = sales.post("/orders", &json!({ "customer": { "email": "a@example.com" }, "lines": [{ "sku": "MUG", "quantity": 11 }], "warehouse": "MAIN" })).problem(409);
        assert_eq!(short["lines"][0]["sku"], "MUG");
        assert_eq!(server.level("MUG", "MAIN").reserved, 0);
        assert!(sales.get("/orders").expect(200)["items"].as_array().expect("items").is_empty());
    }

    fn a_client_sees_only_its_own_orders_and_others_answer_404(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let (cleo, carl) = (server.as_role(Role::Client, &[]), server.as_role(Role::Client, &[]));
        let cleos = place(&cleo, "cleo@example.com", 1, "MAIN");
        let carls = id(&place(&carl, "carl@example.com", 1, "MAIN"));
        let missing = uuid::Uuid::now_v7().to_string();
        for order in [&carls, &missing] {
            let not_there = cleo.get(&format!("/orders/{order}")).problem(404);
            assert_eq!(not_there["code"], "not_found");
            cleo.put(&format!("/orders/{order}"), &json!({ "notes": "mine now" })).problem(404);
        }
        // Its own: read and update yes; pay, cancel (staff steps) no.
        cleo.get(&format!("/orders/{}", id(&cleos))).expect(200);
        cleo.put(&format!("/orders/{}", id(&cleos)), &json!({ "notes": "leave at door" })).expect(200);
        cleo.post(&format!("/orders/{}/payments", id(&cleos)), &json!({})).problem(403);
        cleo.post(&format!("/orders/{}/cancel", id(&cleos)), &json!({})).problem(403);
        assert_eq!(numbers(&cleo.get("/orders").expect(200)), [cleos["number"].as_i64().expect("number")]);
        assert_eq!(server.store.orders().order(&Actor::local_admin(), &carls).expect("carl's").version, 1);
    }

    fn scoped_staff_act_only_on_orders_at_their_warehouses(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let admin = server.admin();
        let east = server.as_role(Role::Sales, &["EAST"]);
        let at_main = id(&place(&admin, "ada@example.com", 1, "MAIN"));
        east.get(&format!("/orders/{at_main}")).problem(403);
        east.put(&format!("/orders/{at_main}"), &json!({ "notes": "x" })).problem(403);
        east.post(&format!("/orders/{at_main}/payments"), &json!({})).problem(403);
        east.post(&format!("/orders/{at_main}/cancel"), &json!({})).problem(403);
        east.post("/orders", &json!({ "customer": { "email": "a@example.com" }, "lines": [{ "sku": "MUG", "quantity": 1 }], "warehouse": "MAIN" })).problem(403);
        let at_east = id(&place(&east, "bob@example.com", 1, "EAST"));
        east.post(&format!("/orders/{at_east}/payments"), &json!({})).expect(200);
        assert_eq!(numbers(&east.get("/orders").expect(200)).len(), 1);
        let worker = server.as_role(Role::Warehouse, &["EAST"]);
        advance(&admin, &at_main, &["pay"]);
        worker.put(&format!("/orders/{at_main}/status"), &json!({ "status": "picking" })).problem(403);
        worker.put(&format!("/orders/{at_east}/status"), &json!({ "status": "picking" })).expect(200);
        assert_eq!(server.store.orders().order(&Actor::local_admin(), &at_main).expect("order").status.as_str(), "paid");
    }

    fn two_hundred_buyers_at_once_get_exactly_the_forty_nine_units_there_are(db) {
        let server = TestServer::start(db);
        server.warehouses(&["EAST", "WEST"]);
        server.product("HOT", "2.00", &[("MAIN", 20), ("EAST", 15), ("WEST", 14)]);
        let sales = server.as_role(Role::Sales, &[]);
        let barrier = Barrier::new(200);
        let replies: Vec<Reply> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..200)
                .map(|i| {
                    let (sales, barrier) = (sales.clone(), &barrier);
                    s.spawn(move || {
                        let body = json!({ "customer": { "email": format!("buyer{i}@example.com") }, "lines": [{ "sku": "HOT", "quantity": 1 }] });
                        barrier.wait();
                        sales.post("/orders", &body)
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().expect("a buyer thread")).collect()
        });
        let placed = replies.iter().filter(|r| r.status == 201).count();
        let refused: Vec<&Reply> = replies.iter().filter(|r| r.status == 409).collect();
        let others: Vec<String> = replies.iter().filter(|r| !matches!(r.status, 201 | 409)).map(|r| format!("{} {}", r.status, r.body)).collect();
        assert!(others.is_empty(), "neither placed nor short: {others:?}");
        assert_eq!((placed, refused.len()), (49, 151));
        for reply in refused {
            assert_eq!(reply.body["lines"][0]["sku"], "HOT", "{}", reply.body);
        }
        for warehouse in ["MAIN", "EAST", "WEST"] {
            let level = server.level("HOT", warehouse);
            assert_eq!((level.reserved, level.available), (level.on_hand, 0), "{warehouse}: all of it held, none over");
        }
        let report = server.store.inventory().verify(&Actor::local_admin()).expect("verify");
        assert!(report.ok, "{:?}", report.differences);
    }
}
