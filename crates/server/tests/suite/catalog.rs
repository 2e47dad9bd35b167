//! Products (list filters, paging, versions), categories and warehouses over HTTP: each
//! route's success, its invalid input and its refusal.

use reqwest::Method;
use serde_json::{Value, json};
use stockyard_core::Role;
use stockyard_testkit::backend_tests;

use crate::common::{Api, TestServer};

/// The SKUs of a list answer, in order.
fn skus(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|p| p["sku"].as_str().expect("sku").to_owned()).collect()
}

/// Every SKU `query` lists, walking the pages `limit` at a time.
fn walk(api: &Api, query: &str, limit: u32) -> Vec<String> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/products?limit={limit}&{query}");
        if let Some(cursor) = &cursor {
            path += &format!("&cursor={cursor}");
        }
        let page = api.get(&path).expect(200);
        let page_skus = skus(&page);
        assert!(page_skus.len() <= limit as usize, "{page}");
        all.extend(page_skus);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

/// A small catalog: mugs and plates under "Kitchen", one under its child "Cups".
fn kitchen(admin: &Api) {
    let kitchen = admin.post("/categories", &json!({ "name": "Kitchen" })).expect(201);
    let cups = admin.post("/categories", &json!({ "name": "Cups", "parent": kitchen["id"] })).expect(201);
    assert_eq!(cups["parent_id"], kitchen["id"]);
    for (sku, name, price, category, colour) in [
        ("MUG-RED", "Red enamel mug", "9.50", Some("Cups"), "red"),
        ("MUG-BLUE", "Blue enamel mug", "11.00", Some("Cups"), "blue"),
        ("PLATE-RED", "Red plate", "4.25", Some("Kitchen"), "red"),
        ("LAMP-1", "Desk lamp", "35.00", None, "black"),
    ] {
        let body = json!({
            "sku": sku, "name": name, "price": price, "category": category,
            "attributes": { "colour": colour },
        });
        let made = admin.post("/products", &body).expect(201);
        assert_eq!((made["sku"].as_str(), made["version"].as_i64()), (Some(sku), Some(1)));
    }
}

fn sorted(mut list: Vec<String>) -> Vec<String> {
    list.sort();
    list
}

backend_tests! {
    fn products_list_by_every_filter_and_page_through_a_cursor(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        kitchen(&admin);
        let viewer = server.as_role(Role::Viewer, &[]);
        let listed = |query: &str| sorted(skus(&viewer.get(&format!("/products?{query}")).expect(200)));
        assert_eq!(listed(""), ["LAMP-1", "MUG-BLUE", "MUG-RED", "PLATE-RED"]);
        assert_eq!(listed("search=enamel"), ["MUG-BLUE", "MUG-RED"]);
        assert_eq!(listed("search=red%20mug"), ["MUG-RED"]);
        assert_eq!(listed("category=Kitchen"), ["MUG-BLUE", "MUG-RED", "PLATE-RED"], "subcategories included");
        assert_eq!(listed("category=Cups"), ["MUG-BLUE", "MUG-RED"]);
        assert_eq!(listed("min_price=9.50"), ["LAMP-1", "MUG-BLUE", "MUG-RED"], "bounds are inclusive");
        assert_eq!(listed("max_price=11"), ["MUG-BLUE", "MUG-RED", "PLATE-RED"]);
        assert_eq!(listed("min_price=5&max_price=10"), ["MUG-RED"]);
        assert_eq!(listed("attr.colour=red"), ["MUG-RED", "PLATE-RED"]);
        assert_eq!(listed("attr.colour=red&category=Cups"), ["MUG-RED"]);
        assert!(listed("attr.colour=green").is_empty());
        // Pages of one, two and three cover the list once each, in one order.
        let whole = walk(&viewer, "", 100);
        assert_eq!(whole.len(), 4);
        for limit in [1, 2, 3] {
            assert_eq!(walk(&viewer, "", limit), whole, "limit {limit}");
        }
        assert_eq!(sorted(walk(&viewer, "attr.colour=red", 1)), ["MUG-RED", "PLATE-RED"]);
    }

    fn products_list_refuses_bad_parameters_naming_them(db) {
        let server = TestServer::start(db);
        let viewer = server.as_role(Role::Viewer, &[]);
        for (query, field) in [
            ("limit=abc", "limit"),
            ("limit=-1", "limit"),
            ("limit=0", "limit"),
            ("min_price=cheap", "min_price"),
            ("max_price=1.2.3", "max_price"),
            ("cursor=not-a-cursor", "cursor"),
        ] {
            viewer.get(&format!("/products?{query}")).rejects(field);
        }
        viewer.get("/products?category=NoSuchCategory").problem(404);
    }

    fn a_product_reads_by_id_or_sku_with_its_etag_and_updates_under_if_match(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        let made = admin.post("/products", &json!({ "sku": "MUG-01", "name": "Mug", "price": "9.50" }));
        assert_eq!(made.header("etag"), Some("\"1\""));
        let id = made.expect(201)["id"].as_str().expect("id").to_owned();
        for key in [id.as_str(), "MUG-01"] {
            let read = admin.get(&format!("/products/{key}"));
            assert_eq!(read.header("etag"), Some("\"1\""), "{key}");
            assert_eq!(read.expect(200)["id"], id.as_str());
        }
        admin.get("/products/NO-SUCH").problem(404);
        // The version it read: accepted, and a new ETag.
        let renamed = admin.put_if_match("/products/MUG-01", "\"1\"", &json!({ "name": "Blue mug" }));
        assert_eq!(renamed.header("etag"), Some("\"2\""));
        assert_eq!(renamed.expect(200)["version"], 2);
        // A stale one: 412 naming the current version, nothing changed.
        let stale = admin.put_if_match("/products/MUG-01", "\"1\"", &json!({ "name": "Red mug" })).problem(412);
        assert_eq!(stale["current_version"], 2);
        assert_eq!(admin.get("/products/MUG-01").expect(200)["name"], "Blue mug");
        // Weak and bare forms name the version too.
        admin.put_if_match(&format!("/products/{id}"), "W/\"2\"", &json!({ "price": "10.00" })).expect(200);
        admin.put_if_match("/products/MUG-01", "3", &json!({ "description": "Holds tea" })).expect(200);
        // No If-Match: last writer wins.
        assert_eq!(admin.put("/products/MUG-01", &json!({ "name": "Mug" })).expect(200)["version"], 5);
        // An If-Match that names no version.
        for tag in ["abc", "\"\"", "*x"] {
            admin.put_if_match("/products/MUG-01", tag, &json!({ "name": "X" })).invalid(400, "If-Match");
        }
        assert_eq!(admin.get("/products/MUG-01").expect(200)["version"], 5);
    }

    fn product_input_is_checked_field_by_field(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        for (body, field) in [
            (json!({ "name": "No SKU", "price": "1.00" }), "sku"),
            (json!({ "sku": "P-1", "price": "1.00" }), "name"),
            (json!({ "sku": "P-1", "name": "No price" }), "price"),
            (json!({ "sku": "P-1", "name": "Bad price", "price": "cheap" }), "price"),
            (json!({ "sku": "P-1", "name": "Negative", "price": "-1.00" }), "price"),
            (json!({ "sku": "P-1", "name": "Typed", "price": true }), "price"),
            (json!({ "sku": "P-1", "name": "Money", "price": "1.00", "currency": "DOLLARS" }), "currency"),
            (json!({ "sku": "", "name": "Blank", "price": "1.00" }), "sku"),
            (json!({ "sku": "P-1", "name": "Attrs", "price": "1.00", "attributes": ["a"] }), "attributes"),
            (json!({ "sku": "P-1", "name": "Extra", "price": "1.00", "colour": "red" }), "colour"),
        ] {
            admin.post("/products", &body).invalid(422, field);
        }
        admin.send_text(Method::POST, "/products", "{\"sku\": ").problem(400);
        admin.send_text(Method::POST, "/products", "[1, 2]").problem(422);
        admin.post("/products", &json!({ "sku": "P-1", "name": "One", "price": "1.00" })).expect(201);
        admin.post("/products", &json!({ "sku": "P-1", "name": "Again", "price": "1.00" })).problem(409);
        admin.put("/products/P-1", &json!({ "price": "free" })).invalid(422, "price");
        admin.put("/products/P-1", &json!({ "name": 5 })).invalid(422, "name");
        admin.put("/products/P-1", &json!({ "bogus": 5 })).invalid(422, "bogus");
        admin.put("/products/NO-SUCH", &json!({ "name": "X" })).problem(404);
        assert_eq!(admin.get("/products/P-1").expect(200)["version"], 1, "nothing refused changed it");
    }

    fn deleting_a_product_with_stock_is_refused(db) {
        let server = TestServer::start(db);
        server.product("STOCKED", "1.00", &[("MAIN", 3)]);
        server.product("EMPTY", "1.00", &[]);
        let manager = server.as_role(Role::Manager, &[]);
        manager.delete("/products/STOCKED").problem(409);
        manager.delete("/products/EMPTY").expect(204);
        manager.get("/products/EMPTY").problem(404);
        manager.delete("/products/EMPTY").problem(404);
    }

    fn roles_outside_the_catalog_table_are_refused_and_change_nothing(db) {
        let server = TestServer::start(db);
        server.product("P-1", "1.00", &[]);
        for role in [Role::Warehouse, Role::Sales, Role::Client, Role::Viewer] {
            let api = server.as_role(role, &[]);
            api.get("/products/P-1").expect(200);
            api.get("/products").expect(200);
            api.get("/categories").expect(200);
            api.get("/warehouses").expect(200);
            api.post("/products", &json!({ "sku": "P-2", "name": "Two", "price": "1.00" })).problem(403);
            api.put("/products/P-1", &json!({ "name": "Renamed" })).problem(403);
            api.delete("/products/P-1").problem(403);
            api.post("/categories", &json!({ "name": "Mine" })).problem(403);
            api.post("/warehouses", &json!({ "code": "MINE", "name": "Mine" })).problem(403);
        }
        let admin = server.admin();
        assert_eq!(admin.get("/products/P-1").expect(200)["version"], 1);
        assert!(admin.get("/categories").expect(200)["items"].as_array().expect("items").is_empty());
        assert_eq!(admin.get("/warehouses").expect(200)["items"].as_array().expect("items").len(), 1);
    }

    fn categories_make_a_tree_and_refuse_bad_input(db) {
        let server = TestServer::start(db);
        let manager = server.as_role(Role::Manager, &[]);
        let home = manager.post("/categories", &json!({ "name": "Home" })).expect(201);
        assert_eq!(home["parent_id"], Value::Null);
        let lamps = manager.post("/categories", &json!({ "name": "Lamps", "parent": "Home" })).expect(201);
        assert_eq!(lamps["parent_id"], home["id"]);
        let listed = manager.get("/categories").expect(200);
        let names: Vec<&str> = listed["items"].as_array().expect("items").iter().filter_map(|c| c["name"].as_str()).collect();
        assert_eq!(sorted(names.iter().map(|n| (*n).to_owned()).collect()), ["Home", "Lamps"]);
        manager.post("/categories", &json!({})).invalid(422, "name");
        manager.post("/categories", &json!({ "name": "" })).invalid(422, "name");
        manager.post("/categories", &json!({ "name": 7 })).invalid(422, "name");
        let orphan = manager.post("/categories", &json!({ "name": "Orphan", "parent": "Nowhere" }));
        assert!(matches!(orphan.status, 404 | 422), "{}", orphan.body);
        manager.post("/categories", &json!({ "name": "Home" })).problem(409);
    }

    fn warehouses_are_listed_made_and_checked(db) {
        let server = TestServer::start(db);
        let manager = server.as_role(Role::Manager, &[]);
        let east = manager.post("/warehouses", &json!({ "code": "east", "name": "East" })).expect(201);
        assert_eq!((east["code"].as_str(), east["active"].as_bool()), (Some("EAST"), Some(true)));
        let listed = manager.get("/warehouses").expect(200);
        let codes: Vec<&str> = listed["items"].as_array().expect("items").iter().filter_map(|w| w["code"].as_str()).collect();
        assert_eq!(sorted(codes.iter().map(|c| (*c).to_owned()).collect()), ["EAST", "MAIN"]);
        assert_eq!(listed["next_cursor"], Value::Null);
        manager.post("/warehouses", &json!({ "code": "EAST", "name": "Again" })).problem(409);
        manager.post("/warehouses", &json!({ "code": "no spaces", "name": "Bad" })).invalid(422, "code");
        manager.post("/warehouses", &json!({ "name": "No code" })).invalid(422, "code");
        manager.post("/warehouses", &json!({ "code": "WEST" })).invalid(422, "name");
    }
}
