//! The OpenAPI document is valid and lists exactly the routes the router serves, and real
//! answers match the schemas it gives them (the drift guard between the document and the
//! wire types).

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Value, json};
use stockyard_testkit::backend_tests;

use crate::common::{Reply, TestServer};

/// Operations that need no token: SPEC §4, and the document itself.
const PUBLIC: &[(&str, &str)] =
    &[("post", "/api/v1/auth/login"), ("get", "/healthz"), ("get", "/readyz"), ("get", "/api/v1/openapi.json")];

/// The routes of SPEC §4: the document must list each.
const CONTRACT: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/login"),
    ("get", "/api/v1/products"),
    ("post", "/api/v1/products"),
    ("get", "/api/v1/products/{key}"),
    ("put", "/api/v1/products/{key}"),
    ("delete", "/api/v1/products/{key}"),
    ("get", "/api/v1/categories"),
    ("post", "/api/v1/categories"),
    ("get", "/api/v1/warehouses"),
    ("post", "/api/v1/warehouses"),
    ("get", "/api/v1/inventory"),
    ("get", "/api/v1/inventory/{product}"),
    ("post", "/api/v1/inventory/reserve"),
    ("post", "/api/v1/inventory/release"),
    ("post", "/api/v1/inventory/adjust"),
    ("post", "/api/v1/inventory/transfer"),
    ("get", "/api/v1/inventory/reservations/{id}"),
    ("get", "/api/v1/orders"),
    ("post", "/api/v1/orders"),
    ("get", "/api/v1/orders/{id}"),
    ("put", "/api/v1/orders/{id}"),
    ("put", "/api/v1/orders/{id}/status"),
    ("post", "/api/v1/orders/{id}/payments"),
    ("post", "/api/v1/orders/{id}/cancel"),
    ("post", "/api/v1/orders/{id}/returns"),
    ("post", "/api/v1/orders/{id}/refunds"),
    ("get", "/api/v1/webhooks"),
    ("post", "/api/v1/webhooks"),
    ("delete", "/api/v1/webhooks/{id}"),
    ("post", "/api/v1/notifications"),
    ("get", "/api/v1/notifications/status/{id}"),
    ("get", "/api/v1/notifications/templates"),
    ("get", "/api/v1/me/notifications"),
    ("post", "/api/v1/me/notifications/{id}/read"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("put", "/api/v1/users/{id}/preferences"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/events/stream"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch"];

backend_tests! {
    fn the_document_is_valid_openapi_3_1(db) {
        let server = TestServer::start(db);
        // No token: the document describes the API and reveals no data.
        let doc = server.anonymous().get("/openapi.json").expect(200);
        let errors = validate(&doc);
        assert!(errors.is_empty(), "the document is invalid:\n{}", errors.join("\n"));
        // The same document the library builds.
        assert_eq!(doc, serde_json::to_value(stockyard_server::openapi()).expect("the document as JSON"));
        let listed = operations(&doc);
        for route in CONTRACT {
            assert!(listed.contains_key(&(route.0.to_owned(), route.1.to_owned())), "SPEC route {route:?} is not documented");
        }
        let header_on = |name: &str| -> BTreeSet<(String, String)> {
            listed.iter().filter(|(_, op)| parameter(op, name, "header").is_some()).map(|(k, _)| k.clone()).collect()
        };
        let keyed: BTreeSet<_> = [
            ("post", "/api/v1/orders"),
            ("post", "/api/v1/orders/{id}/payments"),
            ("post", "/api/v1/inventory/reserve"),
            ("post", "/api/v1/inventory/adjust"),
            ("post", "/api/v1/inventory/transfer"),
        ]
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .into();
        assert_eq!(header_on("Idempotency-Key"), keyed);
        let matched: BTreeSet<_> =
            [("put", "/api/v1/products/{key}"), ("put", "/api/v1/orders/{id}")].map(|(m, p)| (m.to_owned(), p.to_owned())).into();
        assert_eq!(header_on("If-Match"), matched);
        assert_eq!(header_on("Last-Event-ID"), [("get".to_owned(), "/api/v1/events/stream".to_owned())].into());
        let products = &listed[&("get".to_owned(), "/api/v1/products".to_owned())];
        for name in ["search", "category", "min_price", "max_price", "attr.KEY", "limit", "cursor"] {
            assert!(parameter(products, name, "query").is_some(), "GET /products does not document `{name}`");
        }
        let problem = &doc["components"]["schemas"]["Problem"]["properties"];
        for field in ["type", "title", "status", "detail", "code", "errors", "lines", "current_version", "request_id"] {
            assert!(problem.get(field).is_some(), "Problem has no `{field}`: {problem}");
        }
    }

    fn the_document_lists_exactly_the_routes_the_router_serves(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        let doc = admin.get("/openapi.json").expect(200);
        for ((method, path), operation) in operations(&doc) {
            let concrete = path.replace("{key}", "NO-SUCH-SKU").replace('{', "").replace('}', "-unknown");
            let method_ = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
            let request = admin.raw(method_, &concrete);
            if path.ends_with("/stream") {
                // A live stream does not end: its status and type are the answer.
                let response = request.send().expect("the stream answers");
                assert_eq!(response.status().as_u16(), 200, "{method} {path}");
                let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
                assert!(kind.starts_with("text/event-stream"), "{method} {path}: {kind}");
                assert!(operation["responses"]["200"]["content"].get("text/event-stream").is_some());
                continue;
            }
            let request = if operation.get("requestBody").is_some() { request.json(&json!({})) } else { request };
            let reply = admin.send(request);
            assert_ne!(reply.status, 405, "{method} {path} is documented but not served: {}", reply.body);
            let unrouted = reply.status == 404 && reply.body["detail"].as_str().is_some_and(|d| d.starts_with("no route"));
            assert!(!unrouted, "{method} {path} is documented but not routed: {}", reply.body);
            assert_documented(&doc, &method, &path, &reply);
        }
        // Every method a documented path does not list is refused as such, so the document
        // lists every operation of each path.
        let paths = doc["paths"].as_object().expect("paths");
        for (path, item) in paths {
            let concrete = path.replace('{', "").replace('}', "-unknown");
            for method in METHODS.iter().filter(|m| item.get(**m).is_none()) {
                let method_ = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
                let reply = admin.send(admin.raw(method_, &concrete).json(&json!({})));
                assert_eq!(reply.status, 405, "{method} {path} is served but not documented: {}", reply.body);
            }
        }
    }

    fn real_answers_match_their_documented_schemas(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        let doc = admin.get("/openapi.json").expect(200);
        let call = |method: Method, template: &str, path: &str, body: Option<Value>, expected: u16| -> Value {
            let mut request = admin.request(method.clone(), path);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let reply = admin.send(request);
            assert_eq!(reply.status, expected, "{method} {path}: {}", reply.body);
            assert_documented(&doc, &method.as_str().to_lowercase(), &format!("/api/v1{template}"), &reply);
            reply.body
        };
        let category = call(Method::POST, "/categories", "/categories", Some(json!({ "name": "Mugs" })), 201);
        call(Method::POST, "/warehouses", "/warehouses", Some(json!({ "code": "EAST", "name": "East" })), 201);
        call(Method::GET, "/warehouses", "/warehouses", None, 200);
        call(Method::GET, "/categories", "/categories", None, 200);
        let product = json!({
            "sku": "MUG-01", "name": "Enamel mug", "price": "9.50", "category": category["id"],
            "attributes": { "color": "blue" }, "barcode": "4006381333931",
        });
        call(Method::POST, "/products", "/products", Some(product), 201);
        call(Method::PUT, "/products/{key}", "/products/MUG-01", Some(json!({ "description": "Blue" })), 200);
        call(Method::GET, "/products/{key}", "/products/MUG-01", None, 200);
        call(Method::GET, "/products", "/products?attr.color=blue&min_price=1", None, 200);
        let adjust = json!({ "sku": "MUG-01", "warehouse": "MAIN", "delta": 20, "reason": "received" });
        call(Method::POST, "/inventory/adjust", "/inventory/adjust", Some(adjust), 200);
        let transfer = json!({ "sku": "MUG-01", "from": "MAIN", "to": "EAST", "quantity": 5 });
        call(Method::POST, "/inventory/transfer", "/inventory/transfer", Some(transfer), 200);
        call(Method::GET, "/inventory", "/inventory", None, 200);
        call(Method::GET, "/inventory/{product}", "/inventory/MUG-01", None, 200);
        let reserve = json!({ "items": [{ "sku": "MUG-01", "quantity": 2, "warehouse": "MAIN" }], "reference": "cart-1" });
        let held = call(Method::POST, "/inventory/reserve", "/inventory/reserve", Some(reserve), 201);
        let id = held["reservation_id"].as_str().expect("a reservation id");
        call(Method::GET, "/inventory/reservations/{id}", &format!("/inventory/reservations/{id}"), None, 200);
        call(Method::POST, "/inventory/release", "/inventory/release", Some(json!({ "reservation_id": id })), 200);
        let too_many = json!({ "items": [{ "sku": "MUG-01", "quantity": 500 }] });
        let short = call(Method::POST, "/inventory/reserve", "/inventory/reserve", Some(too_many), 409);
        assert!(short["lines"].is_array(), "{short}");
        let place = json!({
            "customer": { "email": "ada@example.com", "name": "Ada" },
            "lines": [{ "sku": "MUG-01", "quantity": 2 }],
        });
        let order = call(Method::POST, "/orders", "/orders", Some(place), 201);
        let order_id = order["id"].as_str().expect("an order id");
        let at = |suffix: &str| format!("/orders/{order_id}{suffix}");
        call(Method::POST, "/orders/{id}/payments", &at("/payments"), Some(json!({ "amount": "19.00", "reference": "p-1" })), 200);
        call(Method::PUT, "/orders/{id}/status", &at("/status"), Some(json!({ "status": "picking" })), 200);
        call(Method::PUT, "/orders/{id}", &at(""), Some(json!({ "notes": "leave at the door" })), 200);
        let stale = admin.send(admin.request(Method::PUT, &at("")).header("if-match", "\"1\"").json(&json!({ "notes": "x" })));
        assert_eq!(stale.status, 412, "{}", stale.body);
        assert_documented(&doc, "put", "/api/v1/orders/{id}", &stale);
        call(Method::GET, "/orders/{id}", &at(""), None, 200);
        call(Method::GET, "/orders", "/orders?status=picking", None, 200);
        call(Method::POST, "/webhooks", "/webhooks", Some(json!({ "url": "http://127.0.0.1:9/hook", "events": ["OrderCreated"] })), 201);
        call(Method::GET, "/webhooks", "/webhooks", None, 200);
        call(Method::GET, "/notifications/templates", "/notifications/templates", None, 200);
        let send = json!({ "to": "ada@example.com", "template": "order_status_changed", "variables": { "number": 1, "to": "shipped", "tracking_number": "T-1" } });
        let sent = call(Method::POST, "/notifications", "/notifications", Some(send), 202);
        let sent_id = sent["id"].as_str().expect("a notification id");
        call(Method::GET, "/notifications/status/{id}", &format!("/notifications/status/{sent_id}"), None, 200);
        call(Method::GET, "/me/notifications", "/me/notifications", None, 200);
        call(Method::GET, "/users", "/users", None, 200);
        call(Method::POST, "/users", "/users", Some(json!({ "email": "bo@example.com", "role": "sales" })), 201);
        call(Method::GET, "/users/{id}/preferences", "/users/bo@example.com/preferences", None, 200);
        let prefs = json!({ "event": "OrderCreated", "channels": { "email": false } });
        call(Method::PUT, "/users/{id}/preferences", "/users/bo@example.com/preferences", Some(prefs), 200);
        call(Method::GET, "/events", "/events?limit=500", None, 200);
        call(Method::GET, "/audit", "/audit", None, 200);
        call(Method::DELETE, "/products/{key}", "/products/MUG-01", None, 409);
        let invalid = call(Method::POST, "/products", "/products", Some(json!({ "sku": "", "name": "x", "price": "1" })), 422);
        assert!(invalid["errors"].is_array(), "{invalid}");
        let anonymous = server.anonymous();
        let login = anonymous.post("/auth/login", &json!({ "email": "nobody@example.com", "password": "wrong" }));
        assert_documented(&doc, "post", "/api/v1/auth/login", &login);
        let refused = anonymous.get("/orders");
        assert_documented(&doc, "get", "/api/v1/orders", &refused);
        for path in ["/healthz", "/readyz"] {
            let reply = anonymous.send(anonymous.raw(Method::GET, path));
            assert_documented(&doc, "get", path, &reply);
        }
    }
}

/// The schema check is not vacuous: a field the schema lacks, a required one missing, a
/// wrong type and a value outside an enum are each caught.
#[test]
fn the_schema_check_catches_drift() {
    let doc = serde_json::to_value(stockyard_server::openapi()).expect("the document as JSON");
    let product = json!({
        "id": "0190a4c6-4f3e-7a43-9b8e-6d1c2f7a9e01", "sku": "MUG-01", "name": "Mug", "description": "",
        "price": "9.50", "currency": "USD", "category": null, "attributes": { "color": "blue" }, "barcode": null,
        "active": true, "version": 1, "created_at": "2026-12-01T10:00:00.000000Z", "updated_at": "2026-12-01T10:00:00.000000Z",
    });
    let schema = json!({ "$ref": "#/components/schemas/Product" });
    let check = |value: &Value| {
        let mut errors = Vec::new();
        conforms(&doc, &schema, value, "body", &mut errors);
        errors
    };
    assert_eq!(check(&product), Vec::<String>::new());
    let mut drifted = product.clone();
    drifted["surprise"] = json!(1);
    assert_eq!(check(&drifted), ["body.surprise is not in the schema"]);
    let mut drifted = product.clone();
    drifted.as_object_mut().expect("an object").remove("sku");
    assert_eq!(check(&drifted), ["body.sku is required by the schema but absent"]);
    let mut drifted = product.clone();
    drifted["price"] = json!(9.5);
    assert_eq!(check(&drifted), ["body.price: a number, documented as [\"string\"]"]);
    let order_status = json!({ "$ref": "#/components/schemas/OrderStatus" });
    let mut errors = Vec::new();
    conforms(&doc, &order_status, &json!("lost"), "status", &mut errors);
    assert_eq!(errors.len(), 1, "{errors:?}");
}

/// No route reaches the router but through `utoipa_axum::routes!` (which documents it):
/// the server's sources register none with plain axum calls.
#[test]
fn every_route_is_registered_with_its_documentation() {
    let sources = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut pending = vec![std::path::PathBuf::from(sources)];
    let mut files = 0;
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).expect("a source folder").map(|e| e.expect("an entry").path()));
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&path).expect("a source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for call in [".route(", ".route_service(", ".nest_service(", "routing::"] {
                assert!(
                    !code.contains(call),
                    "{}:{}: `{call}` serves a route the document does not list",
                    path.display(),
                    n + 1
                );
            }
        }
    }
    assert!(files > 10, "read {files} source files");
}

/// The document passes `openapi-spec-validator` too, where it is installed (`pip install
/// openapi-spec-validator`); the checks above stand without it.
#[test]
fn an_independent_validator_accepts_the_document() {
    let python = std::process::Command::new("python3").args(["-c", "import openapi_spec_validator"]).output();
    if !python.is_ok_and(|out| out.status.success()) {
        eprintln!("openapi-spec-validator is not installed: skipped");
        return;
    }
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    serde_json::to_writer(&file, &stockyard_server::openapi()).expect("write the document");
    let script =
        "import json, sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1])))";
    let out =
        std::process::Command::new("python3").args(["-c", script]).arg(file.path()).output().expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Every (method, path) of the document with its operation.
fn operations(doc: &Value) -> BTreeMap<(String, String), Value> {
    let mut found = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(*method) {
                found.insert(((*method).to_owned(), path.clone()), operation.clone());
            }
        }
    }
    found
}

fn parameter<'a>(operation: &'a Value, name: &str, place: &str) -> Option<&'a Value> {
    operation["parameters"].as_array()?.iter().find(|p| p["name"] == name && p["in"] == place)
}

/// What is wrong with the document's structure: the OpenAPI version, references, and what
/// every operation must say.
fn validate(doc: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    if !doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")) {
        errors.push(format!("openapi is {}", doc["openapi"]));
    }
    for field in ["title", "version"] {
        if !doc["info"][field].is_string() {
            errors.push(format!("info.{field} is missing"));
        }
    }
    let mut refs = Vec::new();
    collect_refs(doc, &mut refs);
    for reference in refs {
        match reference.strip_prefix('#') {
            Some(pointer) if doc.pointer(pointer).is_some() => {}
            _ => errors.push(format!("$ref {reference} does not resolve")),
        }
    }
    if doc["components"]["securitySchemes"]["bearer"]["scheme"] != "bearer" {
        errors.push("no bearer security scheme".into());
    }
    let mut ids = BTreeSet::new();
    for ((method, path), operation) in operations(doc) {
        let at = format!("{method} {path}");
        let id = operation["operationId"].as_str().unwrap_or_default().to_owned();
        if id.is_empty() || !ids.insert(id.clone()) {
            errors.push(format!("{at}: operationId {id:?} is missing or not unique"));
        }
        let public = PUBLIC.contains(&(method.as_str(), path.as_str()));
        let expected_security = if public { json!([]) } else { json!([{ "bearer": [] }]) };
        if operation["security"] != expected_security {
            errors.push(format!("{at}: security is {}, expected {expected_security}", operation["security"]));
        }
        let responses = operation["responses"].as_object().cloned().unwrap_or_default();
        if !responses.keys().any(|s| s.starts_with('2')) {
            errors.push(format!("{at}: no success response"));
        }
        let mut required: Vec<&str> = vec!["503"];
        if !public {
            required.extend(["401", "403"]);
        }
        if path.starts_with("/api/v1/") {
            required.push("429");
        }
        if operation.get("requestBody").is_some() {
            required.extend(["400", "413", "422"]);
            if operation["requestBody"]["content"].get("application/json").is_none() {
                errors.push(format!("{at}: the request body is not JSON"));
            }
        }
        for status in required {
            if !responses.contains_key(status) {
                errors.push(format!("{at}: no {status} response"));
            }
        }
        for (status, response) in &responses {
            if response["description"].as_str().is_none_or(str::is_empty) {
                errors.push(format!("{at}: response {status} has no description"));
            }
            let problem = &response["content"]["application/problem+json"]["schema"]["$ref"];
            if status.starts_with(['4', '5']) && problem != "#/components/schemas/Problem" {
                errors.push(format!("{at}: response {status} is not a Problem"));
            }
        }
        for p in operation["parameters"].as_array().into_iter().flatten() {
            if p["schema"].to_string().contains("\"null\"") {
                errors.push(format!("{at}: parameter {} may be null", p["name"]));
            }
        }
        // Path parameters: exactly the template's, each required.
        let in_template: BTreeSet<String> =
            path.split('{').skip(1).filter_map(|p| p.split_once('}')).map(|(name, _)| name.to_owned()).collect();
        let declared: BTreeSet<String> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .inspect(|p| {
                if p["required"] != true {
                    errors.push(format!("{at}: path parameter {} is not required", p["name"]));
                }
            })
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect();
        if in_template != declared {
            errors.push(format!("{at}: path parameters {declared:?}, the template has {in_template:?}"));
        }
    }
    errors
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                out.push(reference.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Asserts that `reply`'s status is documented for the operation and that its JSON body
/// matches the schema documented for that status.
#[track_caller]
fn assert_documented(doc: &Value, method: &str, path: &str, reply: &Reply) {
    let operation = &doc["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is not documented");
    let status = reply.status.to_string();
    let response = &operation["responses"][&status];
    assert!(response.is_object(), "{method} {path} answered {status}, which is not documented: {}", reply.body);
    let kind = reply.header("content-type").unwrap_or_default().split(';').next().unwrap_or_default().to_owned();
    if reply.status == 204 {
        return;
    }
    let schema = &response["content"][&kind]["schema"];
    assert!(schema.is_object(), "{method} {path} {status}: {kind} is not documented");
    if !kind.ends_with("json") {
        return;
    }
    let mut errors = Vec::new();
    conforms(doc, schema, &reply.body, "body", &mut errors);
    assert!(
        errors.is_empty(),
        "{method} {path} {status} drifts from its schema:\n{}\n{}",
        errors.join("\n"),
        reply.body
    );
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => resolve(doc, doc.pointer(pointer).unwrap_or(&Value::Null)),
        None => schema,
    }
}

/// Properties, required fields and whether others are allowed, merged over `allOf`.
fn object_parts(doc: &Value, schema: &Value) -> (serde_json::Map<String, Value>, BTreeSet<String>, bool) {
    let schema = resolve(doc, schema);
    let mut properties = schema["properties"].as_object().cloned().unwrap_or_default();
    let mut required: BTreeSet<String> =
        schema["required"].as_array().into_iter().flatten().filter_map(|r| r.as_str().map(str::to_owned)).collect();
    let mut open = schema.get("additionalProperties").is_some_and(|a| a != false);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        let (p, r, o) = object_parts(doc, part);
        properties.extend(p);
        required.extend(r);
        open |= o;
    }
    (properties, required, open)
}

/// Collects in `errors` where `value` does not match `schema`: a field the schema does not
/// list, a required one missing, a wrong type or a value outside an enum.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(choices) = schema[key].as_array() {
            let fits = choices.iter().any(|choice| {
                let mut inner = Vec::new();
                conforms(doc, choice, value, at, &mut inner);
                inner.is_empty()
            });
            if !fits {
                errors.push(format!("{at}: {value} matches none of {key}"));
            }
            return;
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    if !types.is_empty() && !types.iter().any(|t| *t == actual || (*t == "number" && actual == "integer")) {
        errors.push(format!("{at}: a {actual}, documented as {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                conforms(doc, &schema["items"], item, &format!("{at}[{i}]"), errors);
            }
        }
        Value::Object(fields) if schema.get("properties").is_some() || schema.get("allOf").is_some() => {
            let (properties, required, open) = object_parts(doc, schema);
            for (name, field) in fields {
                match properties.get(name) {
                    Some(property) => conforms(doc, property, field, &format!("{at}.{name}"), errors),
                    None if open => {}
                    None => errors.push(format!("{at}.{name} is not in the schema")),
                }
            }
            for name in required.iter().filter(|r| !fields.contains_key(*r)) {
                errors.push(format!("{at}.{name} is required by the schema but absent"));
            }
        }
        Value::Object(fields) => {
            if let Some(values) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                for (name, field) in fields {
                    conforms(doc, values, field, &format!("{at}.{name}"), errors);
                }
            }
        }
        _ => {}
    }
}
