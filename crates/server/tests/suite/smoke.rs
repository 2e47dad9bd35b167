//! The server answers, authenticates, and maps errors to problems on both backends.

use reqwest::Method;
use serde_json::json;
use stockyard_testkit::backend_tests;

use crate::common::TestServer;

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

    fn a_request_without_a_token_is_401_problem(db) {
        let server = TestServer::start(db);
        let problem = server.anonymous().get("/products").problem(401);
        assert_eq!(problem["status"], 401);
    }
}
