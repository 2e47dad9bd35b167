//! Generated request bodies — any JSON, objects with the real field names and values of
//! every type, text that is not JSON at all — against the routes that take a body, on both
//! backends: every answer is a success or a 4xx `application/problem+json`, never a 5xx.
//! And the limits that protect the server, each a clear 4xx naming what was too much.

use proptest::{prelude::*, test_runner::TestRunner};
use reqwest::Method;
use serde_json::{Map, Value, json};
use stockyard_testkit::backend_tests;

use crate::common::{Api, TestServer};

/// The routes that read a body (every POST and PUT of the API's own document), their path
/// parameters filled from `ids`, and every field name its schemas know — so that generated
/// objects get past "unknown field" to the values.
fn routes_and_fields(ids: &[(&str, String)]) -> (Vec<(Method, String)>, Vec<String>) {
    let document = serde_json::to_value(stockyard_server::openapi()).expect("the document");
    let mut routes = Vec::new();
    for (path, operations) in document["paths"].as_object().into_iter().flatten() {
        for method in ["post", "put"].into_iter().filter(|m| operations.get(*m).is_some()) {
            let mut path = path.trim_start_matches("/api/v1").to_owned();
            for (name, value) in ids {
                path = path.replace(&format!("{{{name}}}"), value);
            }
            routes.push((Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method"), path));
        }
    }
    let mut fields = Vec::new();
    for schema in document["components"]["schemas"].as_object().into_iter().flatten().map(|(_, s)| s) {
        fields.extend(schema["properties"].as_object().into_iter().flatten().map(|(name, _)| name.clone()));
    }
    fields.sort();
    fields.dedup();
    (routes, fields)
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        prop_oneof![".{0,20}", "[A-Z0-9-]{1,10}", "-?[0-9]{1,6}(\\.[0-9]{1,4})?", "MUG-01", "MAIN"]
            .prop_map(Value::from),
    ]
}

fn body(fields: Vec<String>) -> impl Strategy<Value = Value> {
    let object = move |value: BoxedStrategy<Value>, most: usize| {
        proptest::collection::btree_map(proptest::sample::select(fields.clone()), value, 0..most)
            .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>()))
    };
    let nested = object.clone();
    let value = leaf().prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array), nested(inner.boxed(), 5),]
    });
    prop_oneof![3 => object(value.clone().boxed(), 7), 1 => value]
}

fn check(api: &Api, method: &Method, path: &str, text: &str) -> Result<(), TestCaseError> {
    let reply = api.send_text(method.clone(), path, text);
    prop_assert!(reply.status < 500, "{method} {path} {text} → {}: {}", reply.status, reply.body);
    if reply.status >= 400 {
        prop_assert_eq!(reply.header("content-type"), Some("application/problem+json"), "{} {}", path, reply.body);
    }
    Ok(())
}

backend_tests! {
    fn no_generated_body_gets_a_5xx(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        admin.post("/products", &json!({ "sku": "MUG-01", "name": "Mug", "price": "5" })).expect(201);
        admin.post("/inventory/adjust", &json!({ "sku": "MUG-01", "delta": 50, "reason": "stock" })).expect(200);
        let order = admin.post("/orders", &json!({ "customer": { "email": "ana@example.com" }, "lines": [{ "sku": "MUG-01", "quantity": 1 }] })).expect(201);
        let users = admin.get("/users").expect(200);
        let ids = [
            ("key", "MUG-01".to_owned()),
            ("id", order["id"].as_str().unwrap_or_default().to_owned()),
        ];
        let (mut routes, fields) = routes_and_fields(&ids);
        // The user routes' {id} is a user's.
        for (_, path) in routes.iter_mut().filter(|(_, p)| p.starts_with("/users/")) {
            *path = path.replace(order["id"].as_str().unwrap_or_default(), users["items"][0]["id"].as_str().unwrap_or_default());
        }
        assert!(routes.len() >= 20, "{routes:?}");
        let mut runner = TestRunner::new(ProptestConfig { cases: 400, ..ProptestConfig::default() });
        let json_bodies = (proptest::sample::select(routes.clone()), body(fields));
        let outcome = runner.run(&json_bodies, |((method, path), body)| check(&admin, &method, &path, &body.to_string()));
        if let Err(failure) = outcome {
            panic!("{failure}");
        }
        let texts = (proptest::sample::select(routes), prop_oneof![".{0,40}", "\\{[\"a-z:0-9,\\[\\] ]{0,30}"]);
        let outcome = runner.run(&texts, |((method, path), text)| check(&admin, &method, &path, &text));
        if let Err(failure) = outcome {
            panic!("{failure}");
        }
    }
}

backend_tests! {
    fn each_limit_is_a_clear_4xx_naming_the_field(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        admin.post("/products", &json!({ "sku": "MUG-01", "name": "Mug", "price": "5" })).expect(201);
        let many: Vec<Value> = (0..501).map(|_| json!({ "sku": "MUG-01", "quantity": 1 })).collect();
        let order = json!({ "customer": { "email": "ana@example.com" }, "lines": many });
        let problem = admin.post("/orders", &order).invalid(422, "lines");
        assert!(problem["detail"].as_str().is_some_and(|d| d.contains("at most 500")), "{problem}");
        admin.post("/inventory/reserve", &json!({ "items": many })).invalid(422, "items");
        admin.get("/products?limit=1001").invalid(422, "limit");
        admin.post("/products", &json!({ "sku": "X".repeat(65), "name": "Long", "price": "1" })).invalid(422, "sku");
        admin.post("/products", &json!({ "sku": "LONG-1", "name": "n".repeat(10_000), "price": "1" })).invalid(422, "name");
        assert_eq!(admin.get("/orders").expect(200)["items"], json!([]), "nothing was placed");
    }
}
