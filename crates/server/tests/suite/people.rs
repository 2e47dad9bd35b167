//! Users and their preferences, ad-hoc notifications and their status, templates,
//! webhooks, the in-app inbox and the audit log over HTTP: success, invalid input naming
//! the field, and the roles refused.

use serde_json::{Value, json};
use stockyard_core::{Actor, Role, notifications::dispatch::Dispatcher};
use stockyard_testkit::backend_tests;

use crate::common::{PASSWORD, TestServer};

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().unwrap_or_else(|| panic!("no items: {page}"))
}

fn status_changed() -> Value {
    json!({
        "channel": "email", "to": "someone@example.com", "template": "order_status_changed",
        "variables": { "number": 7, "from": "paid", "to": "shipped", "tracking_number": "TRK-1" },
    })
}

backend_tests! {
    fn an_admin_lists_and_makes_users_and_no_one_else_does(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        let made = admin.post("/users", &json!({ "email": "Sam@Example.com", "name": "Sam", "role": "sales", "warehouses": ["MAIN"], "password": PASSWORD })).expect(201);
        assert_eq!((made["email"].as_str(), made["role"].as_str()), (Some("sam@example.com"), Some("sales")));
        assert!(made.get("password").is_none() && made.get("password_hash").is_none(), "{made}");
        server.login("sam@example.com").get("/products").expect(200);
        let generated = admin.post("/users", &json!({ "email": "gen@example.com" })).expect(201);
        assert_eq!(generated["role"], "viewer", "the least role by default");
        assert!(generated["generated_password"].as_str().is_some_and(|p| p.len() >= 12), "{generated}");
        let listed = admin.get("/users").expect(200);
        let emails: Vec<&str> = items(&listed).iter().filter_map(|u| u["email"].as_str()).collect();
        assert!(emails.contains(&"sam@example.com") && emails.contains(&"gen@example.com"), "{emails:?}");
        let page = admin.get("/users?limit=1").expect(200);
        assert_eq!(items(&page).len(), 1);
        assert!(page["next_cursor"].is_string());
        for (body, field) in [
            (json!({}), "email"),
            (json!({ "email": "not-an-email" }), "email"),
            (json!({ "email": "x@example.com", "role": "boss" }), "role"),
            (json!({ "email": "x@example.com", "warehouses": "MAIN" }), "warehouses"),
            (json!({ "email": "x@example.com", "password": "short" }), "password"),
            (json!({ "email": "x@example.com", "admin": true }), "admin"),
        ] {
            admin.post("/users", &body).rejects(field);
        }
        admin.post("/users", &json!({ "email": "sam@example.com" })).problem(409);
        admin.get("/users?limit=abc").rejects("limit");
        for role in [Role::Manager, Role::Sales, Role::Client, Role::Viewer] {
            let api = server.as_role(role, &[]);
            api.get("/users").problem(403);
            api.post("/users", &json!({ "email": "y@example.com" })).problem(403);
        }
    }

    fn users_set_their_own_preferences_and_only_admins_set_others(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        let cleo = server.as_new_user("cleo@example.com", Role::Client, &[]);
        let set = cleo.put("/users/cleo@example.com/preferences", &json!({ "event": "OrderStatusChanged", "channels": { "email": false, "in_app": true } }));
        let set = set.expect(200);
        let shipped: Vec<(&str, bool)> = items(&set)
            .iter()
            .filter(|p| p["event_type"] == "OrderStatusChanged" && p["source"] == "set")
            .map(|p| (p["channel"].as_str().unwrap_or_default(), p["enabled"].as_bool().unwrap_or_default()))
            .collect();
        assert_eq!(shipped.len(), 2, "{set}");
        assert!(shipped.contains(&("email", false)) && shipped.contains(&("in_app", true)), "{shipped:?}");
        let id = server.store.users().get(&Actor::local_admin(), "cleo@example.com").expect("cleo").id.to_string();
        admin.put(&format!("/users/{id}/preferences"), &json!({ "event": "OrderCreated", "channels": { "in_app": true } })).expect(200);
        for (body, field) in [
            (json!({ "event": "NoSuchEvent", "channels": { "email": true } }), "event"),
            (json!({ "event": "OrderStatusChanged", "channels": { "pigeon": true } }), "channels.pigeon"),
            (json!({ "event": "OrderStatusChanged", "channels": { "email": "yes" } }), "channels.email"),
            (json!({ "channels": { "email": true } }), "event"),
        ] {
            cleo.put("/users/cleo@example.com/preferences", &body).rejects(field);
        }
        let carl = server.as_new_user("carl@example.com", Role::Client, &[]);
        carl.put("/users/cleo@example.com/preferences", &json!({ "event": "OrderCreated", "channels": { "email": true } })).problem(403);
        server.as_role(Role::Manager, &[]).put(&format!("/users/{id}/preferences"), &json!({ "event": "OrderCreated", "channels": { "email": true } })).problem(403);
        admin.put("/users/nobody@example.com/preferences", &json!({ "event": "OrderCreated", "channels": { "email": true } })).problem(404);
    }

    fn an_ad_hoc_email_is_accepted_and_its_status_read(db) {
        let server = TestServer::start(db);
        let manager = server.as_role(Role::Manager, &[]);
        let accepted = manager.post("/notifications", &status_changed()).expect(202);
        assert_eq!(accepted["status"], "pending");
        let id = accepted["id"].as_str().expect("id");
        let read = manager.get(&format!("/notifications/status/{id}")).expect(200);
        assert_eq!((read["id"].as_str(), read["channel"].as_str()), (Some(id), Some("email")));
        manager.get(&format!("/notifications/status/{}", uuid::Uuid::now_v7())).problem(404);
        manager.get("/notifications/status/nope").rejects("notification_id");
        let templates = manager.get("/notifications/templates").expect(200);
        assert!(items(&templates).iter().any(|t| t["name"] == "order_status_changed"), "{templates}");
        let mut in_app = status_changed();
        in_app["channel"] = json!("in_app");
        let mut pigeon = status_changed();
        pigeon["channel"] = json!("pigeon");
        let mut unknown = status_changed();
        unknown["template"] = json!("no_such_template");
        let mut missing = status_changed();
        missing["variables"] = json!({});
        for (body, field) in [
            (in_app, "channel"),
            (pigeon, "channel"),
            (json!({ "template": "order_status_changed" }), "to"),
            (json!({ "to": "someone@example.com" }), "template"),
            (json!({ "to": "not-an-address", "template": "order_status_changed", "variables": status_changed()["variables"] }), "to"),
            (json!({ "to": "someone@example.com", "template": "order_status_changed", "variables": [] }), "variables"),
        ] {
            manager.post("/notifications", &body).rejects(field);
        }
        let unknown = manager.post("/notifications", &unknown);
        assert!(matches!(unknown.status, 404 | 422), "{}", unknown.body);
        let missing = manager.post("/notifications", &missing);
        assert_eq!(missing.status, 422, "a template's variables are checked: {}", missing.body);
        for role in [Role::Warehouse, Role::Sales, Role::Client, Role::Viewer] {
            let api = server.as_role(role, &[]);
            api.post("/notifications", &status_changed()).problem(403);
            api.get(&format!("/notifications/status/{id}")).problem(403);
            api.get("/notifications/templates").problem(403);
        }
    }

    fn a_webhook_shows_its_secret_once_and_is_removed(db) {
        let server = TestServer::start(db);
        let manager = server.as_role(Role::Manager, &[]);
        let added = manager.post("/webhooks", &json!({ "url": "http://127.0.0.1:9/hook", "events": ["OrderCreated", "OrderCancelled"] })).expect(201);
        let secret = added["secret"].as_str().expect("the secret, this once");
        assert!(secret.len() >= 16, "{added}");
        let chosen = manager.post("/webhooks", &json!({ "url": "https://example.com/in", "events": ["InventoryChanged"], "secret": "a chosen secret of some length" })).expect(201);
        assert_eq!(chosen["secret"], "a chosen secret of some length");
        let listed = manager.get("/webhooks").expect(200);
        assert_eq!(items(&listed).len(), 2);
        assert!(!listed.to_string().contains(secret) && items(&listed).iter().all(|w| w.get("secret").is_none()), "{listed}");
        let id = added["id"].as_str().expect("id");
        let removed = manager.delete(&format!("/webhooks/{id}"));
        assert_eq!((removed.status, &removed.body), (204, &Value::Null));
        manager.delete(&format!("/webhooks/{id}")).problem(404);
        manager.delete("/webhooks/nope").rejects("webhook_id");
        // A removed subscription stays listed, inactive (as `stockyard webhook list` shows it).
        let listed = manager.get("/webhooks").expect(200);
        let active: Vec<(&str, bool)> = items(&listed).iter().map(|w| (w["id"].as_str().unwrap_or_default(), w["active"] == true)).collect();
        assert_eq!(active, [(id, false), (chosen["id"].as_str().expect("id"), true)]);
        for (body, field) in [
            (json!({ "url": "ftp://example.com", "events": ["OrderCreated"] }), "url"),
            (json!({ "url": "http://example.com/in", "events": ["NoSuchEvent"] }), "events"),
            (json!({ "url": "http://example.com/in", "events": [] }), "events"),
            (json!({ "url": "http://example.com/in" }), "events"),
            (json!({ "events": ["OrderCreated"] }), "url"),
            (json!({ "url": "http://example.com/in", "events": ["OrderCreated"], "secret": 5 }), "secret"),
        ] {
            manager.post("/webhooks", &body).rejects(field);
        }
        for role in [Role::Warehouse, Role::Sales, Role::Client, Role::Viewer] {
            let api = server.as_role(role, &[]);
            api.get("/webhooks").problem(403);
            api.post("/webhooks", &json!({ "url": "http://example.com/in", "events": ["OrderCreated"] })).problem(403);
            api.delete(&format!("/webhooks/{}", chosen["id"].as_str().expect("id"))).problem(403);
        }
    }

    fn the_inbox_holds_the_callers_in_app_notifications_and_marks_them_read(db) {
        let server = TestServer::start(db);
        server.product("MUG", "1.00", &[("MAIN", 5)]);
        let cleo = server.as_new_user("cleo@example.com", Role::Client, &[]);
        let carl = server.as_new_user("carl@example.com", Role::Client, &[]);
        cleo.put("/users/cleo@example.com/preferences", &json!({ "event": "OrderCreated", "channels": { "in_app": true } })).expect(200);
        cleo.post("/orders", &json!({ "customer": { "email": "cleo@example.com" }, "lines": [{ "sku": "MUG", "quantity": 1 }] })).expect(201);
        Dispatcher::new(&server.store, &Actor::local_admin(), None).expect("a dispatcher").run_once().expect("dispatch");
        let inbox = cleo.get("/me/notifications").expect(200);
        let mine = items(&inbox);
        assert_eq!(mine.len(), 1, "{inbox}");
        assert_eq!((mine[0]["channel"].as_str(), mine[0]["read_at"].is_null()), (Some("in_app"), true));
        let id = mine[0]["id"].as_str().expect("id").to_owned();
        assert!(items(&carl.get("/me/notifications").expect(200)).is_empty(), "no one else's");
        carl.post(&format!("/me/notifications/{id}/read"), &json!({})).problem(404);
        let read = cleo.post(&format!("/me/notifications/{id}/read"), &json!({})).expect(200);
        assert!(read["read_at"].is_string(), "{read}");
        assert!(items(&cleo.get("/me/notifications?unread=true").expect(200)).is_empty());
        assert_eq!(items(&cleo.get("/me/notifications").expect(200)).len(), 1);
        cleo.get("/me/notifications?unread=perhaps").rejects("unread");
        cleo.get("/me/notifications?limit=0").rejects("limit");
        cleo.post("/me/notifications/nope/read", &json!({})).rejects("notification_id");
        cleo.post(&format!("/me/notifications/{}/read", uuid::Uuid::now_v7()), &json!({})).problem(404);
    }

    fn the_audit_log_is_read_by_admins_managers_and_viewers(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        admin.post("/products", &json!({ "sku": "P-1", "name": "One", "price": "1.00" })).expect(201);
        let log = admin.get("/audit").expect(200);
        assert!(!items(&log).is_empty(), "{log}");
        let products = admin.get("/audit?entity=product").expect(200);
        assert!(items(&products).iter().all(|r| r["entity_type"] == "product"), "{products}");
        assert!(!items(&products).is_empty());
        assert_eq!(items(&admin.get("/audit?limit=1").expect(200)).len(), 1);
        admin.get("/audit?limit=abc").rejects("limit");
        for role in [Role::Manager, Role::Viewer] {
            server.as_role(role, &[]).get("/audit").expect(200);
        }
        for role in [Role::Warehouse, Role::Sales, Role::Client] {
            server.as_role(role, &[]).get("/audit").problem(403);
        }
    }
}
