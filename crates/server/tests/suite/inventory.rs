//! Stock over HTTP: levels (by warehouse, low stock, one product), reservations (reserve,
//! read, release), adjustments and transfers — success, invalid input, and refusals by role,
//! by warehouse scope, and by ownership (another client's reservation is not there).

use serde_json::{Value, json};
use stockyard_core::{Actor, Role};
use stockyard_testkit::backend_tests;

use crate::common::{Api, TestServer};

/// MUG stocked at MAIN (10), EAST (6) and WEST (0); LAMP at MAIN (2).
fn stocked(server: &TestServer) {
    server.warehouses(&["EAST", "WEST"]);
    server.product("MUG", "9.50", &[("MAIN", 10), ("EAST", 6)]);
    server.product("LAMP", "35.00", &[("MAIN", 2)]);
    server.store.inventory().set_threshold(&Actor::local_admin(), "LAMP", Some("MAIN"), 3, None).expect("threshold");
}

/// (sku, warehouse, on_hand, reserved, available) of each item of a list.
fn rows(page: &Value) -> Vec<(String, String, i64, i64, i64)> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|l| {
            let n = |f: &str| l[f].as_i64().unwrap_or_else(|| panic!("{f} in {l}"));
            let s = |f: &str| l[f].as_str().unwrap_or_else(|| panic!("{f} in {l}")).to_owned();
            (s("sku"), s("warehouse"), n("on_hand"), n("reserved"), n("available"))
        })
        .collect()
}

fn row(sku: &str, warehouse: &str, on_hand: i64, reserved: i64) -> (String, String, i64, i64, i64) {
    (sku.into(), warehouse.into(), on_hand, reserved, on_hand - reserved)
}

/// Reserves `quantity` MUG at `warehouse`; the reservation's id.
fn reserve(api: &Api, warehouse: &str, quantity: i64) -> String {
    let body = json!({ "items": [{ "sku": "MUG", "quantity": quantity, "warehouse": warehouse }] });
    let held = api.post("/inventory/reserve", &body).expect(201);
    held["reservation_id"].as_str().expect("reservation_id").to_owned()
}

backend_tests! {
    fn levels_list_by_warehouse_and_low_stock(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let viewer = server.as_role(Role::Viewer, &[]);
        let all = rows(&viewer.get("/inventory").expect(200));
        assert_eq!(all, [row("LAMP", "MAIN", 2, 0), row("MUG", "EAST", 6, 0), row("MUG", "MAIN", 10, 0)]);
        assert_eq!(rows(&viewer.get("/inventory?warehouse=EAST").expect(200)), [row("MUG", "EAST", 6, 0)]);
        assert_eq!(rows(&viewer.get("/inventory?warehouse=east").expect(200)), [row("MUG", "EAST", 6, 0)]);
        assert_eq!(rows(&viewer.get("/inventory?low_stock=true").expect(200)), [row("LAMP", "MAIN", 2, 0)]);
        assert!(rows(&viewer.get("/inventory?low_stock=true&warehouse=EAST").expect(200)).is_empty());
        assert_eq!(rows(&viewer.get("/inventory?low_stock=false").expect(200)).len(), 3);
        let first = viewer.get("/inventory?limit=2").expect(200);
        assert_eq!(rows(&first).len(), 2);
        let cursor = first["next_cursor"].as_str().expect("a next page");
        assert_eq!(rows(&viewer.get(&format!("/inventory?limit=2&cursor={cursor}")).expect(200)), [row("MUG", "MAIN", 10, 0)]);
        // A user scoped to EAST sees EAST only, and is refused MAIN by name.
        let east = server.as_role(Role::Viewer, &["EAST"]);
        assert_eq!(rows(&east.get("/inventory").expect(200)), [row("MUG", "EAST", 6, 0)]);
        east.get("/inventory?warehouse=MAIN").problem(403);
        // Bad parameters name themselves.
        for (query, field) in [
            ("low_stock=maybe", "low_stock"),
            ("limit=abc", "limit"),
            ("limit=0", "limit"),
            ("cursor=%%%", "cursor"),
            ("at=yesterday", "at"),
        ] {
            viewer.get(&format!("/inventory?{query}")).rejects(field);
        }
        viewer.get("/inventory?warehouse=NOWHERE").problem(404);
    }

    fn one_products_stock_reads_by_sku_or_id_within_the_callers_warehouses(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let client = server.as_role(Role::Client, &[]);
        let by_sku = client.get("/inventory/MUG").expect(200);
        assert_eq!((by_sku["on_hand"].as_i64(), by_sku["available"].as_i64()), (Some(16), Some(16)));
        assert_eq!(rows(&by_sku), [row("MUG", "EAST", 6, 0), row("MUG", "MAIN", 10, 0)]);
        let id = by_sku["product_id"].as_str().expect("product_id");
        assert_eq!(client.get(&format!("/inventory/{id}")).expect(200), by_sku);
        let east = server.as_role(Role::Sales, &["EAST"]);
        let scoped = east.get("/inventory/MUG").expect(200);
        assert_eq!((scoped["sku"].as_str(), scoped["on_hand"].as_i64()), (Some("MUG"), Some(6)));
        client.get("/inventory/NO-SUCH").problem(404);
        server.anonymous().get("/inventory/MUG").problem(401);
    }

    fn a_reservation_holds_stock_until_released(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let client = server.as_role(Role::Client, &[]);
        let body = json!({
            "items": [{ "sku": "MUG", "quantity": 4, "warehouse": "MAIN" }, { "sku": "LAMP", "quantity": 1 }],
            "ttl_seconds": 600, "reference": "cart-7",
        });
        let held = client.post("/inventory/reserve", &body).expect(201);
        let id = held["reservation_id"].as_str().expect("id").to_owned();
        assert_eq!((held["status"].as_str(), held["reference"].as_str()), (Some("active"), Some("cart-7")));
        assert!(held["expires_at"].is_string(), "{held}");
        assert_eq!(held["items"].as_array().expect("items").len(), 2);
        assert_eq!((server.level("MUG", "MAIN").reserved, server.level("LAMP", "MAIN").reserved), (4, 1));
        assert_eq!(client.get(&format!("/inventory/reservations/{id}")).expect(200), held);
        // Without a warehouse the strategy chooses.
        let chosen = client.post("/inventory/reserve", &json!({ "items": [{ "sku": "MUG", "quantity": 6 }] })).expect(201);
        let released = client.post("/inventory/release", &json!({ "reservation_id": id })).expect(200);
        assert_eq!(released["status"], "released");
        assert_eq!((server.level("MUG", "MAIN").reserved, server.level("LAMP", "MAIN").reserved), (0, 0));
        client.post("/inventory/release", &json!({ "reservation_id": id })).problem(409);
        let chosen_id = chosen["reservation_id"].as_str().expect("id");
        client.post("/inventory/release", &json!({ "reservation_id": chosen_id })).expect(200);
        client.post("/inventory/release", &json!({ "reservation_id": uuid::Uuid::now_v7().to_string() })).problem(404);
        client.get(&format!("/inventory/reservations/{}", uuid::Uuid::now_v7())).problem(404);
    }

    fn reserving_more_than_is_there_is_409_naming_the_line_and_holds_nothing(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let sales = server.as_role(Role::Sales, &[]);
        let body = json!({ "items": [{ "sku": "LAMP", "quantity": 1 }, { "sku": "MUG", "quantity": 11, "warehouse": "MAIN" }] });
        let problem = sales.post("/inventory/reserve", &body).problem(409);
        assert_eq!(problem["lines"][0]["sku"], "MUG", "{problem}");
        assert_eq!((problem["lines"][0]["requested"].as_i64(), problem["lines"][0]["available"].as_i64()), (Some(11), Some(10)));
        assert_eq!((server.level("MUG", "MAIN").reserved, server.level("LAMP", "MAIN").reserved), (0, 0));
    }

    fn reserve_input_is_checked_field_by_field(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let client = server.as_role(Role::Client, &[]);
        for (body, field) in [
            (json!({}), "items"),
            (json!({ "items": [] }), "items"),
            (json!({ "items": [{ "sku": "MUG" }] }), "items[0].quantity"),
            (json!({ "items": [{ "sku": "MUG", "quantity": 0 }] }), "items[0].quantity"),
            (json!({ "items": [{ "sku": "MUG", "quantity": -2 }] }), "items[0].quantity"),
            (json!({ "items": [{ "sku": "MUG", "quantity": "two" }] }), "items[0].quantity"),
            (json!({ "items": [{ "sku": "MUG", "quantity": 1.5 }] }), "items[0].quantity"),
            (json!({ "items": [{ "sku": "MUG", "quantity": 1 }], "ttl_seconds": 0 }), "ttl_seconds"),
            (json!({ "items": [{ "sku": "MUG", "quantity": 1 }], "ttl_seconds": -5 }), "ttl_seconds"),
            (json!({ "items": [{ "sku": "MUG", "quantity": 1, "warehouse": "MAIN" }, { "sku": "LAMP", "quantity": 1, "warehouse": "EAST" }] }), "items[1].warehouse"),
            (json!({ "items": [{ "sku": "MUG", "quantity": 1, "colour": "red" }] }), "items[0].colour"),
        ] {
            client.post("/inventory/reserve", &body).rejects(field);
        }
        let unknown = client.post("/inventory/reserve", &json!({ "items": [{ "sku": "NO-SUCH", "quantity": 1 }] }));
        assert!(matches!(unknown.status, 404 | 422), "{}", unknown.body);
        client.post("/inventory/release", &json!({})).rejects("reservation_id");
        client.post("/inventory/release", &json!({ "reservation_id": "not-an-id" })).rejects("reservation_id");
        client.get("/inventory/reservations/not-an-id").rejects("reservation_id");
        assert_eq!(server.level("MUG", "MAIN").reserved, 0);
    }

    fn reservations_are_refused_by_role_scope_and_ownership(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let (cleo, carl) = (server.as_role(Role::Client, &[]), server.as_role(Role::Client, &[]));
        let cleos = reserve(&cleo, "MAIN", 1);
        // Another client: as if it did not exist, for reading and for releasing.
        let hidden = carl.get(&format!("/inventory/reservations/{cleos}")).problem(404);
        let missing = carl.get(&format!("/inventory/reservations/{}", uuid::Uuid::now_v7())).problem(404);
        assert_eq!(hidden["code"], missing["code"]);
        carl.post("/inventory/release", &json!({ "reservation_id": cleos })).problem(404);
        assert_eq!(server.level("MUG", "MAIN").reserved, 1, "not released by another client");
        // Roles without reservation.create / release.
        for role in [Role::Warehouse, Role::Viewer] {
            let api = server.as_role(role, &[]);
            api.post("/inventory/reserve", &json!({ "items": [{ "sku": "MUG", "quantity": 1 }] })).problem(403);
            api.post("/inventory/release", &json!({ "reservation_id": cleos })).problem(403);
            api.get(&format!("/inventory/reservations/{cleos}")).expect(200);
        }
        // Staff scoped to EAST: not at MAIN, yes at EAST.
        let east = server.as_role(Role::Sales, &["EAST"]);
        east.post("/inventory/reserve", &json!({ "items": [{ "sku": "MUG", "quantity": 1, "warehouse": "MAIN" }] })).problem(403);
        east.get(&format!("/inventory/reservations/{cleos}")).problem(403);
        east.post("/inventory/release", &json!({ "reservation_id": cleos })).problem(403);
        let at_east = reserve(&east, "EAST", 2);
        east.get(&format!("/inventory/reservations/{at_east}")).expect(200);
        assert_eq!((server.level("MUG", "MAIN").reserved, server.level("MUG", "EAST").reserved), (1, 2));
        cleo.post("/inventory/release", &json!({ "reservation_id": cleos })).expect(200);
    }

    fn adjustments_add_or_set_and_never_go_below_what_is_reserved(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let worker = server.as_role(Role::Warehouse, &[]);
        let by = worker.post("/inventory/adjust", &json!({ "sku": "MUG", "warehouse": "MAIN", "delta": 3, "reason": "found" })).expect(200);
        assert_eq!((by["on_hand"].as_i64(), by["warehouse"].as_str()), (Some(13), Some("MAIN")));
        let set = worker.post("/inventory/adjust", &json!({ "sku": "MUG", "warehouse": "EAST", "set": 2, "reason": "recount" })).expect(200);
        assert_eq!(set["on_hand"], 2);
        let main = worker.post("/inventory/adjust", &json!({ "sku": "MUG", "delta": -1, "reason": "broken" })).expect(200);
        assert_eq!((main["warehouse"].as_str(), main["on_hand"].as_i64()), (Some("MAIN"), Some(12)), "MAIN by default");
        // Below what is reserved: 409, never clamped.
        let sales = server.as_role(Role::Sales, &[]);
        reserve(&sales, "EAST", 2);
        let problem = worker.post("/inventory/adjust", &json!({ "sku": "MUG", "warehouse": "EAST", "set": 1, "reason": "x" })).problem(409);
        assert!(problem["detail"].as_str().is_some_and(|d| d.contains('2')), "names what is reserved: {problem}");
        worker.post("/inventory/adjust", &json!({ "sku": "MUG", "warehouse": "EAST", "delta": -1, "reason": "x" })).problem(409);
        assert_eq!((server.level("MUG", "EAST").on_hand, server.level("MUG", "EAST").reserved), (2, 2));
        for (body, field) in [
            (json!({ "sku": "MUG", "delta": 1, "set": 1, "reason": "x" }), "delta"),
            (json!({ "sku": "MUG", "reason": "x" }), "delta"),
            (json!({ "sku": "MUG", "delta": 1 }), "reason"),
            (json!({ "sku": "MUG", "delta": 1, "reason": "" }), "reason"),
            (json!({ "sku": "MUG", "delta": "one", "reason": "x" }), "delta"),
            (json!({ "sku": "MUG", "set": -4, "reason": "x" }), "set"),
            (json!({ "delta": 1, "reason": "x" }), "sku"),
            (json!({ "sku": "MUG", "delta": 0, "reason": "x" }), "delta"),
        ] {
            worker.post("/inventory/adjust", &body).rejects(field);
        }
        worker.post("/inventory/adjust", &json!({ "sku": "MUG", "warehouse": "NOWHERE", "delta": 1, "reason": "x" })).problem(404);
        // Refused roles, and a scoped worker outside its warehouses.
        for role in [Role::Sales, Role::Client, Role::Viewer] {
            server.as_role(role, &[]).post("/inventory/adjust", &json!({ "sku": "MUG", "delta": 1, "reason": "x" })).problem(403);
        }
        let east = server.as_role(Role::Warehouse, &["EAST"]);
        east.post("/inventory/adjust", &json!({ "sku": "MUG", "warehouse": "MAIN", "delta": 1, "reason": "x" })).problem(403);
        east.post("/inventory/adjust", &json!({ "sku": "MUG", "delta": 1, "reason": "x" })).problem(403);
        east.post("/inventory/adjust", &json!({ "sku": "MUG", "warehouse": "EAST", "delta": 1, "reason": "x" })).expect(200);
        assert_eq!((server.level("MUG", "MAIN").on_hand, server.level("MUG", "EAST").on_hand), (12, 3));
    }

    fn transfers_move_available_stock_between_warehouses(db) {
        let server = TestServer::start(db);
        stocked(&server);
        let worker = server.as_role(Role::Warehouse, &[]);
        let moved = worker.post("/inventory/transfer", &json!({ "sku": "MUG", "from": "MAIN", "to": "WEST", "quantity": 4 })).expect(200);
        assert_eq!((moved["from"]["on_hand"].as_i64(), moved["to"]["on_hand"].as_i64()), (Some(6), Some(4)));
        assert_eq!(moved["to"]["warehouse"], "WEST");
        let sales = server.as_role(Role::Sales, &[]);
        reserve(&sales, "WEST", 3);
        let short = worker.post("/inventory/transfer", &json!({ "sku": "MUG", "from": "WEST", "to": "EAST", "quantity": 2 })).problem(409);
        assert!(short.to_string().contains("MUG"), "{short}");
        for (body, field) in [
            (json!({ "sku": "MUG", "from": "MAIN", "to": "EAST", "quantity": 0 }), "quantity"),
            (json!({ "sku": "MUG", "from": "MAIN", "to": "EAST", "quantity": -1 }), "quantity"),
            (json!({ "sku": "MUG", "from": "MAIN", "to": "MAIN", "quantity": 1 }), "to"),
            (json!({ "sku": "MUG", "from": "MAIN", "quantity": 1 }), "to"),
            (json!({ "sku": "MUG", "from": "MAIN", "to": "EAST" }), "quantity"),
            (json!({ "sku": "MUG", "from": "MAIN", "to": "EAST", "quantity": "1" }), "quantity"),
        ] {
            worker.post("/inventory/transfer", &body).rejects(field);
        }
        for role in [Role::Sales, Role::Client, Role::Viewer] {
            let body = json!({ "sku": "MUG", "from": "MAIN", "to": "EAST", "quantity": 1 });
            server.as_role(role, &[]).post("/inventory/transfer", &body).problem(403);
        }
        let east = server.as_role(Role::Warehouse, &["EAST", "WEST"]);
        east.post("/inventory/transfer", &json!({ "sku": "MUG", "from": "MAIN", "to": "EAST", "quantity": 1 })).problem(403);
        east.post("/inventory/transfer", &json!({ "sku": "MUG", "from": "EAST", "to": "MAIN", "quantity": 1 })).problem(403);
        east.post("/inventory/transfer", &json!({ "sku": "MUG", "from": "EAST", "to": "WEST", "quantity": 1 })).expect(200);
        let levels = [("MAIN", 6), ("EAST", 5), ("WEST", 5)];
        for (warehouse, on_hand) in levels {
            assert_eq!(server.level("MUG", warehouse).on_hand, on_hand, "{warehouse}");
        }
        assert!(server.store.inventory().verify(&Actor::local_admin()).expect("verify").ok);
    }
}
