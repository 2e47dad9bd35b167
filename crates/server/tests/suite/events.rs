//! The event stream over HTTP: resuming with `Last-Event-ID` misses and doubles nothing,
//! `?type=` filters, heartbeats keep an idle stream alive, a caller sees only the events
//! about what it may read, and a stream ends when the server stops.

use std::{
    io::{BufRead, BufReader},
    time::Duration,
};

use reqwest::{Method, blocking::Response};
use serde_json::{Value, json};
use stockyard_core::Role;
use stockyard_testkit::backend_tests;

use crate::common::{Api, TestServer, settings};

/// One message of a stream: an event, or a comment (a heartbeat).
#[derive(Debug)]
enum Message {
    Event { id: i64, event_type: String, data: Value },
    Comment(String),
}

/// An open `GET /events/stream`, read line by line.
struct Stream(BufReader<Response>);

impl Stream {
    /// Opens the stream, after `last_event_id` when given, with `query` (`?type=…`).
    fn open(api: &Api, query: &str, last_event_id: Option<i64>) -> Self {
        let mut request = api.request(Method::GET, &format!("/events/stream{query}"));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().expect("the stream opens");
        assert_eq!(response.status(), 200);
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        Self(BufReader::new(response))
    }

    /// The next message, or `None` when the server ended the stream.
    fn next(&mut self) -> Option<Message> {
        let (mut id, mut event_type, mut data, mut comment) = (None, None, None, None);
        loop {
            let mut line = String::new();
            if self.0.read_line(&mut line).expect("read the stream") == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if let Some(text) = comment.take() {
                    return Some(Message::Comment(text));
                }
                if let (Some(id), Some(event_type), Some(data)) = (id, event_type.take(), data.take()) {
                    return Some(Message::Event { id, event_type, data });
                }
                continue;
            }
            match line.split_once(':') {
                Some(("", text)) => comment = Some(text.trim().to_owned()),
                Some(("id", value)) => id = Some(value.trim().parse::<i64>().expect("a numeric id")),
                Some(("event", value)) => event_type = Some(value.trim().to_owned()),
                Some(("data", value)) => data = Some(serde_json::from_str(value.trim()).expect("JSON data")),
                _ => panic!("an unexpected line in the stream: {line:?}"),
            }
        }
    }

    /// The next event (passing heartbeats): its id, type and data.
    fn next_event(&mut self) -> (i64, String, Value) {
        loop {
            match self.next().expect("the stream goes on") {
                Message::Event { id, event_type, data } => return (id, event_type, data),
                Message::Comment(_) => {}
            }
        }
    }
}

fn product(admin: &Api, sku: &str) {
    admin.post("/products", &json!({ "sku": sku, "name": sku, "price": "1.00" })).expect(201);
}

/// The SKUs of the `ProductCreated` events read until `last` shows.
fn created_until(stream: &mut Stream, last: &str) -> Vec<(i64, String)> {
    let mut seen = Vec::new();
    loop {
        let (id, event_type, data) = stream.next_event();
        assert_eq!(data["seq"], id, "the id of an event is its seq");
        if event_type == "ProductCreated" {
            let sku = data["payload"]["sku"].as_str().expect("a sku").to_owned();
            let done = sku == last;
            seen.push((id, sku));
            if done {
                return seen;
            }
        }
    }
}

fn skus(seen: &[(i64, String)]) -> Vec<&str> {
    seen.iter().map(|(_, sku)| sku.as_str()).collect()
}

backend_tests! {
    fn a_stream_resumed_with_last_event_id_misses_and_doubles_nothing(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        let mut stream = Stream::open(&admin, "", None);
        product(&admin, "SSE-A");
        let first = created_until(&mut stream, "SSE-A");
        assert_eq!(skus(&first), ["SSE-A"]);
        let last_id = first[0].0;
        drop(stream);
        // Committed while nobody listens.
        product(&admin, "SSE-B");
        product(&admin, "SSE-C");
        let mut resumed = Stream::open(&admin, "", Some(last_id));
        product(&admin, "SSE-D");
        let rest = created_until(&mut resumed, "SSE-D");
        assert_eq!(skus(&rest), ["SSE-B", "SSE-C", "SSE-D"]);
        assert!(rest.windows(2).all(|w| w[0].0 < w[1].0) && rest[0].0 > last_id, "{rest:?}");
    }

    fn a_stream_and_the_list_filter_by_type(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        let mut stream = Stream::open(&admin, "?type=ProductPriceChanged", None);
        product(&admin, "SSE-T");
        admin.put("/products/SSE-T", &json!({ "name": "Renamed" })).expect(200);
        admin.put("/products/SSE-T", &json!({ "price": "2.00" })).expect(200);
        let (_, event_type, data) = stream.next_event();
        assert_eq!(event_type, "ProductPriceChanged");
        assert_eq!(data["type"], "ProductPriceChanged");
        let listed = admin.get("/events?type=ProductPriceChanged").expect(200);
        let types: Vec<&Value> = listed["items"].as_array().expect("items").iter().map(|e| &e["type"]).collect();
        assert_eq!(types, [&json!("ProductPriceChanged")]);
        let problem = admin.get("/events/stream?type=Nope").problem(400);
        assert_eq!(problem["errors"][0]["field"], "type");
    }

    fn an_idle_stream_sends_heartbeats(db) {
        let quick = stockyard_server::Settings { heartbeat: Duration::from_millis(50), ..settings() };
        let server = TestServer::start_with(db.store(), quick);
        let mut stream = Stream::open(&server.admin(), "", None);
        for _ in 0..2 {
            match stream.next().expect("the stream goes on") {
                Message::Comment(text) => assert_eq!(text, "heartbeat"),
                Message::Event { .. } => panic!("no event was committed"),
            }
        }
    }

    fn a_client_streams_only_events_about_what_it_may_read(db) {
        let server = TestServer::start(db);
        let admin = server.admin();
        product(&admin, "SSE-V");
        admin.post("/inventory/adjust", &json!({ "sku": "SSE-V", "delta": 10, "reason": "delivery" })).expect(200);
        let (mine, theirs) = (server.as_role(Role::Client, &[]), server.as_role(Role::Client, &[]));
        let mut stream = Stream::open(&mine, "", Some(0));
        let order = |api: &Api| {
            let body = json!({ "customer": { "email": "buyer@example.org" }, "lines": [{ "sku": "SSE-V", "quantity": 1 }] });
            api.post("/orders", &body).expect(201)["id"].as_str().expect("an order id").to_owned()
        };
        let their_order = order(&theirs);
        let my_order = order(&mine);
        let mut seen = Vec::new();
        loop {
            let (_, event_type, data) = stream.next_event();
            let about = data["aggregate_id"].as_str().unwrap_or_default().to_owned();
            seen.push((event_type.clone(), about.clone()));
            if event_type == "OrderStatusChanged" && about == my_order {
                break;
            }
        }
        assert!(seen.iter().any(|(t, _)| t == "ProductCreated"), "{seen:?}");
        assert!(seen.iter().any(|(t, a)| t == "OrderCreated" && *a == my_order), "{seen:?}");
        assert!(!seen.iter().any(|(t, a)| t == "InventoryChanged" || *a == their_order), "{seen:?}");
        // The list answers the same rule.
        let listed = mine.get("/events?limit=1000").expect(200);
        assert!(listed["items"].as_array().expect("items").iter().all(|e| e["aggregate_id"] != their_order.as_str()));
    }

    fn open_streams_end_when_the_server_stops(db) {
        let quick = stockyard_server::Settings { heartbeat: Duration::from_millis(50), ..settings() };
        let mut server = TestServer::start_with(db.store(), quick);
        let mut stream = Stream::open(&server.admin(), "", None);
        assert!(matches!(stream.next(), Some(Message::Comment(_))), "the stream is open");
        // The graceful stop returns: it does not wait on the stream's client.
        server.stop();
        while let Some(message) = stream.next() {
            assert!(matches!(message, Message::Comment(_)), "{message:?}");
        }
    }
}
