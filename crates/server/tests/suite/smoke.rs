//! The server answers, authenticates, and maps errors to problems on both backends.

use reqwest::Method;
use serde_json::json;
use stockyard_testkit::backend_tests;

use stockyard_server::Settings;

use crate::common::{TestServer, settings};

backend_tests! {
    fn a_product_made_over_http_reads_back_with_its_version(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        let made = admin
            .post("/products", &json!({ "sku": "MUG-01", "name": "Enamel mug", "price": "9.50" }))
            .expect(201);
        assert_eq!(made["sku"], "MUG-01");
        let read = admin.get("/products/MUG-01");
        assert_eq!(read.header("etag"), Some("\"1\""));
        assert_eq!(read.expect(200)["price"], "9.50");
        let health = admin.send(admin.raw(Method::GET, "/healthz"));
        assert_eq!(health.status, 200);
        let renamed = admin.put("/products/MUG-01", &json!({ "name": "Blue mug" })).expect(200);
        assert_eq!(renamed["version"], 2);
        admin.delete("/products/MUG-01").expect(204);
    }

    fn answers_are_not_cached_name_no_server_and_allow_no_other_origin(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        let cross = |api: &crate::common::Api, path: &str| {
            api.send(api.request(Method::GET, path).header("origin", "https://evil.example"))
        };
        for reply in [cross(&admin, "/products"), cross(&server.anonymous(), "/products"), cross(&admin, "/nope")] {
            assert_eq!(reply.header("cache-control"), Some("no-store"));
            assert_eq!(reply.header("server"), None, "no version banner");
            assert_eq!(reply.header("access-control-allow-origin"), None, "CORS is off unless configured");
        }
        let login = server.anonymous().post("/auth/login", &json!({ "email": "nobody@example.com", "password": "x" }));
        assert_eq!(login.header("cache-control"), Some("no-store"));
    }

    fn a_request_without_a_token_is_401_problem(db) {
        let server = TestServer::start(db);
        let problem = server.anonymous().get("/products").problem(401);
        assert_eq!(problem["status"], 401);
    }
}

backend_tests! {
    fn a_body_over_the_limit_is_413_and_changes_nothing(db) {
        let server = TestServer::start_with(db.store(), Settings { body_limit: 1024, ..settings() });
        let admin = server.admin();
        let description = "x".repeat(2048);
        let body = json!({ "sku": "BIG-01", "name": "Big", "price": "1.00", "description": description });
        let problem = admin.post("/products", &body).problem(413);
        assert_eq!(problem["code"], "too_large");
        admin.get("/products/BIG-01").problem(404);
    }

    fn every_answer_carries_a_request_id_echoed_when_the_client_sent_one(db) {
        let server = TestServer::start(db);
        let anonymous = server.anonymous();
        let made = anonymous.send(anonymous.request(Method::GET, "/products"));
        let generated = made.header("x-request-id").expect("a request id").to_owned();
        assert!(!generated.is_empty());
        let sent = anonymous.send(anonymous.request(Method::GET, "/products").header("x-request-id", "trace-42"));
        assert_eq!(sent.header("x-request-id"), Some("trace-42"));
        // One that is too long or not printable is replaced, not echoed.
        let odd = anonymous.send(anonymous.request(Method::GET, "/products").header("x-request-id", "a".repeat(500)));
        assert_ne!(odd.header("x-request-id"), Some("a".repeat(500).as_str()));
    }
}
