//! A customer's personal data goes only to those who may read their order: never into the
//! server's log at any level (`RUST_LOG=trace`, every crate), a problem+json body, the
//! event stream or `/metrics`. The test seeds a customer through the API, works their
//! order, sends requests carrying their email and phone that fail for other reasons, then
//! searches everything the server said outside order answers — raw and URL-encoded.

use std::{io::Read, time::Duration};

use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{Value, json};
use stockyard_testkit::{backend_tests, smtp::SmtpSink, wait_until};

use crate::common::{
    served::{Served, client},
    stockyard,
};

const EMAIL: &str = "ada.private@example.org";
const PHONE: &str = "+44 20 7946 0018";
const ADDRESS: &str = "12 Analytical Lane, London";

/// The forms the customer's data could take in text: as sent, and URL-encoded (a space as
/// `%20` or `+`).
fn traces() -> Vec<String> {
    let encoded = |s: &str, space: &str| {
        s.replace('%', "%25").replace('@', "%40").replace('+', "%2B").replace(',', "%2C").replace(' ', space)
    };
    let mut traces = vec!["7946 0018".to_owned(), "79460018".to_owned()];
    for data in [EMAIL, PHONE, ADDRESS] {
        traces.extend([data.to_owned(), encoded(data, "%20"), encoded(data, "+")]);
    }
    traces
}

fn assert_clean(what: &str, text: &str) {
    for trace in traces() {
        assert!(!text.contains(&trace), "{what} holds the customer's {trace:?}: …{}…", around(text, &trace));
    }
}

fn around<'t>(text: &'t str, trace: &str) -> &'t str {
    let at = text.find(trace).unwrap_or(0);
    let start = text.floor_char_boundary(at.saturating_sub(200));
    &text[start..text.ceil_char_boundary((at + 200).min(text.len()))]
}

/// Sends `request`; the answer's status and body.
fn send(request: RequestBuilder) -> (u16, String) {
    let response = request.send().expect("an answer");
    (response.status().as_u16(), response.text().expect("a body"))
}

backend_tests! {
    fn personal_data_stays_out_of_logs_problems_streams_and_metrics(db) {
        crate::common::init(db);
        stockyard(db).args(["product", "add", "--sku", "P-1", "--name", "Loom", "--price", "9.50"]).assert().success();
        stockyard(db).args(["stock", "receive", "P-1", "10"]).assert().success();
        let token = stockyard(db).args(["token", "create", "--name", "privacy", "--role", "admin", "--quiet"]).assert();
        let token = String::from_utf8_lossy(&token.success().get_output().stdout).trim().to_owned();
        let dir = tempfile::tempdir().expect("a folder");
        // Mail on, so that the customer's order confirmation is sent under the trace log too.
        let smtp = SmtpSink::start();
        let env = [("RUST_LOG", "trace"), ("STOCKYARD_SMTP_URL", &smtp.url()), ("STOCKYARD_MAIL_FROM", "shop@example.com")];
        let served = Served::start(db, &["--bind", "127.0.0.1:0", "--rate-limit", "off"], &env, dir.path());
        let http = client();
        let api = |path: &str| served.url(&format!("/api/v1{path}"));
        let customer = json!({ "email": EMAIL, "phone": PHONE, "name": "Ada Lovelace", "address": ADDRESS });

        // The customer's order, worked through: their data is in these answers by right.
        let order = |lines: Value| json!({ "customer": customer, "lines": lines });
        let placed = http.post(api("/orders")).bearer_auth(&token).header("Idempotency-Key", "privacy-1");
        let (status, body) = send(placed.json(&order(json!([{ "sku": "P-1", "quantity": 1 }]))));
        assert_eq!(status, 201, "{body}");
        let id = serde_json::from_str::<Value>(&body).expect("JSON")["id"].as_str().expect("an id").to_owned();
        let (status, _) = send(http.post(api(&format!("/orders/{id}/payments"))).bearer_auth(&token).json(&json!({})));
        assert_eq!(status, 200);
        let (status, _) = send(http.put(api(&format!("/orders/{id}/status"))).bearer_auth(&token).json(&json!({ "status": "picking" })));
        assert_eq!(status, 200);
        let (status, body) = send(http.get(api(&format!("/orders?customer={EMAIL}"))).bearer_auth(&token));
        assert!(status == 200 && body.contains(EMAIL), "{body}");

        // Requests carrying the data that fail for other reasons: their problems name the
        // fault, never the customer.
        let failing: Vec<RequestBuilder> = vec![
            http.post(api("/orders")).bearer_auth(&token).json(&order(json!([{ "sku": "NOPE", "quantity": 1 }]))),
            http.post(api("/orders")).bearer_auth(&token).json(&order(json!([{ "sku": "P-1", "quantity": 1000 }]))),
            http.post(api("/orders")).bearer_auth(&token).json(&order(json!([{ "sku": "P-1", "quantity": 0 }]))),
            http.post(api("/orders")).bearer_auth(&token).json(&order(json!("not lines"))),
            http.post(api("/orders")).bearer_auth(&token).header("Idempotency-Key", "privacy-1")
                .json(&order(json!([{ "sku": "P-1", "quantity": 2 }]))),
            http.post(api("/orders")).bearer_auth(&token)
                .json(&json!({ "customer": { "email": EMAIL, "phone": PHONE, "address": 7 }, "lines": [] })),
            http.post(api("/orders")).bearer_auth("not-a-token").json(&order(json!([{ "sku": "P-1", "quantity": 1 }]))),
            http.get(api(&format!("/orders?customer={}&limit=0", EMAIL.replace('@', "%40")))).bearer_auth(&token),
        ];
        let mut problems = String::new();
        for request in failing {
            let (status, body) = send(request);
            assert!((400..500).contains(&status), "{status}: {body}");
            problems.push_str(&body);
        }
        assert_clean("a problem+json body", &problems);
        // An email given where an order id or a status belongs is, like any value that is not
        // what its place takes, shown to its sender as the fault; it must not reach the log.
        let misplaced: Vec<RequestBuilder> = vec![
            http.get(api(&format!("/orders/{EMAIL}"))).bearer_auth(&token),
            http.put(api(&format!("/orders/{id}/status"))).bearer_auth(&token).json(&json!({ "status": EMAIL })),
        ];
        for request in misplaced {
            let (status, body) = send(request);
            assert!((400..500).contains(&status), "{status}: {body}");
        }

        // The event stream, from the first event: everything this order's life appended.
        let streaming = Client::builder().no_proxy().timeout(Duration::from_secs(2)).build().expect("a client");
        let mut stream = streaming.get(api("/events/stream?since=0")).bearer_auth(&token).send().expect("a stream");
        assert_eq!(stream.status().as_u16(), 200);
        let mut events = Vec::new();
        let _ = stream.read_to_end(&mut events); // ends when the client's timeout cuts it
        let events = String::from_utf8_lossy(&events);
        assert!(events.contains("OrderCreated") && events.contains("OrderPaymentReceived"), "the stream was read: {events}");
        assert_clean("the event stream", &events);

        let (status, metrics) = send(http.get(served.url("/metrics")).bearer_auth(&token));
        assert_eq!(status, 200);
        assert_clean("/metrics", &metrics);

        wait_until("the customer's confirmation is mailed", || smtp.received().iter().any(|m| m.to.contains(&EMAIL.to_owned())));
        let log = served.stop();
        assert!(log.contains("TRACE"), "logged at every level: {}", &log[..log.len().min(2000)]);
        assert_clean("the server's log", &log);
    }
}
