//! Three `stockyard serve` instances (workers on) on one PostgreSQL database, as a company
//! runs them behind a load balancer: orders for scarce stock through all three at once sell
//! exactly what there is; an idempotency key used on one instance answers the same on
//! another; each webhook delivery goes out once, not once per instance; each lapsed
//! reservation and unpaid order is swept once; an event stream on any instance carries
//! every event once, in seq order.

use std::{
    io::{BufRead, BufReader},
    thread,
};

use reqwest::blocking::Client;
use serde_json::{Value, json};
use stockyard_testkit::{TestDb, http::Receiver, wait_until};

use crate::common::{
    init, json_of,
    served::{Served, client},
    stockyard,
};

const INSTANCES: usize = 3;
/// Units of the scarce SKU: fewer than the orders for it.
const SCARCE: i64 = 10;
const BUYERS: usize = 30;

/// Reads an instance's event stream, from `after`, through the first `ProductCreated` (the
/// test's last event); returns the ids seen, in order.
fn stream(http: &Client, base: &str, token: &str, after: i64) -> Vec<i64> {
    let response = http
        .get(format!("{base}/api/v1/events/stream"))
        .header("Last-Event-ID", after.to_string())
        .bearer_auth(token)
        .send()
        .expect("a stream");
    assert_eq!(response.status().as_u16(), 200);
    let mut ids = Vec::new();
    for line in BufReader::new(response).lines() {
        let line = line.expect("a line of the stream");
        if let Some(id) = line.strip_prefix("id:") {
            ids.push(id.trim().parse().expect("a numeric id"));
        } else if line == "event: ProductCreated" {
            break;
        }
    }
    ids
}

#[test]
fn three_instances_on_one_postgres_act_as_one() {
    let Some(db) = TestDb::migrated_postgres() else { return };
    init(&db);
    for (sku, stock) in [("SCARCE", SCARCE), ("PLENTY", 1000)] {
        stockyard(&db).args(["product", "add", "--sku", sku, "--name", sku, "--price", "5.00"]).assert().success();
        stockyard(&db).args(["stock", "receive", sku, &stock.to_string()]).assert().success();
    }
    let token = stockyard(&db).args(["token", "create", "--name", "fleet", "--role", "admin", "--quiet"]).assert();
    let token = String::from_utf8_lossy(&token.success().get_output().stdout).trim().to_owned();
    let receiver = Receiver::start();
    let mut subscribe = stockyard(&db);
    subscribe.args(["webhook", "add", &receiver.url(), "--events", "OrderCreated", "--secret-stdin"]);
    subscribe.write_stdin("a-receiver-secret-of-some-length\n");
    json_of(subscribe, &[]);

    let dir = tempfile::tempdir().expect("a folder");
    let args = ["--bind", "127.0.0.1:0", "--rate-limit", "off", "--sweep-every", "1s", "--dispatch-every", "1s"];
    let fleet: Vec<Served> =
        (0..INSTANCES).map(|_| Served::start(&db, &args, &[("STOCKYARD_UNPAID_TIMEOUT", "3s")], dir.path())).collect();
    let bases: Vec<String> = fleet.iter().map(|s| s.base.clone()).collect();

    // A stream on every instance, open before anything happens (with no timeout: `client`
    // has installed the TLS provider every client needs).
    let http = client();
    let start = db.number("SELECT COALESCE(MAX(seq), 0) FROM events");
    let streams: Vec<_> = bases
        .iter()
        .map(|base| {
            let (base, token) = (base.clone(), token.clone());
            let http = Client::builder().no_proxy().build().expect("a client");
            thread::spawn(move || stream(&http, &base, &token, start))
        })
        .collect();

    // Scarce stock, bought through all three at once: exactly what there is is sold.
    let buyers: Vec<_> = (0..BUYERS)
        .map(|n| {
            let (base, token) = (bases[n % INSTANCES].clone(), token.clone());
            thread::spawn(move || {
                let body = json!({ "customer": { "email": format!("b{n}@example.com") },
                                   "lines": [{ "sku": "SCARCE", "quantity": 1 }] });
                let answer = client().post(format!("{base}/api/v1/orders")).bearer_auth(&token).json(&body).send();
                let answer = answer.expect("an answer");
                (answer.status().as_u16(), answer.json::<Value>().unwrap_or(Value::Null))
            })
        })
        .collect();
    let answers: Vec<(u16, Value)> = buyers.into_iter().map(|b| b.join().expect("a buyer")).collect();
    let sold = answers.iter().filter(|(status, _)| *status == 201).count() as i64;
    assert_eq!(sold, SCARCE, "exactly the stock there was is sold: {answers:?}");
    assert!(answers.iter().all(|(s, b)| *s == 201 || (*s == 409 && b["code"] == "insufficient_stock")), "{answers:?}");
    let level = "SELECT CAST(on_hand * 1000 + reserved AS BIGINT) FROM stock_levels l JOIN products p ON p.id = l.product_id \
                 WHERE p.sku = 'SCARCE'";
    assert_eq!(db.number(level), SCARCE * 1000 + SCARCE, "all of it held, none oversold");

    // An idempotency key used on A answers the same on B and C; with other arguments, refused.
    let keyed = |base: &str, quantity: i64| {
        let body = json!({ "customer": { "email": "keyed@example.com" }, "lines": [{ "sku": "PLENTY", "quantity": quantity }] });
        let answer = http
            .post(format!("{base}/api/v1/orders"))
            .header("Idempotency-Key", "fleet-1")
            .bearer_auth(&token)
            .json(&body)
            .send()
            .expect("an answer");
        (answer.status().as_u16(), answer.json::<Value>().expect("JSON"))
    };
    let (status, first) = keyed(&bases[0], 2);
    assert_eq!(status, 201, "{first}");
    for base in &bases[1..] {
        let (status, again) = keyed(base, 2);
        assert_eq!((status, &again["id"]), (201, &first["id"]), "A's answer, from another instance: {again}");
    }
    let (status, reused) = keyed(&bases[2], 3);
    assert_eq!((status, reused["code"].as_str()), (422, Some("idempotency_key_reused")), "{reused}");

    // Reservations that lapse, made through each instance: each is released once.
    for base in &bases {
        let body = json!({ "items": [{ "sku": "PLENTY", "quantity": 1 }], "ttl_seconds": 1 });
        let answer = http.post(format!("{base}/api/v1/inventory/reserve")).bearer_auth(&token).json(&body).send();
        assert_eq!(answer.expect("an answer").status().as_u16(), 201);
    }
    // The orders placed above stay unpaid past the timeout: each is cancelled once.
    let placed = sold + 1;
    wait_until("the three sweeps release the lapsed reservations and cancel the unpaid orders", || {
        db.number("SELECT COUNT(*) FROM reservations WHERE status = 'active'") == 0
            && db.number("SELECT COUNT(*) FROM orders WHERE status = 'cancelled'") == placed
    });
    let expired =
        db.number("SELECT COUNT(*) FROM events WHERE event_type = 'InventoryReleased' AND payload LIKE '%expired%'");
    assert_eq!(expired, INSTANCES as i64, "each lapsed reservation released once, not once per instance");
    let cancelled = db.number("SELECT COUNT(*) FROM events WHERE event_type = 'OrderCancelled'");
    assert_eq!(cancelled, placed, "each unpaid order cancelled once");

    // Each order's webhook went out once, from whichever instance claimed it.
    wait_until("every order is delivered to the webhook", || receiver.requests().len() as i64 >= placed);
    let mut deliveries: Vec<String> =
        receiver.requests().iter().map(|r| r.header("X-Stockyard-Delivery").expect("an id").to_owned()).collect();
    deliveries.sort();
    deliveries.dedup();
    assert_eq!((receiver.requests().len() as i64, deliveries.len() as i64), (placed, placed), "once each");

    // A last event, and every stream has had every event up to it since it opened, once, in
    // order (the dispatchers' own events go on after it).
    stockyard(&db).args(["product", "add", "--sku", "LAST", "--name", "Last", "--price", "1.00"]).assert().success();
    let last = db.number("SELECT MAX(seq) FROM events WHERE event_type = 'ProductCreated'");
    let expected = db.number(&format!("SELECT COUNT(*) FROM events WHERE seq > {start} AND seq <= {last}"));
    let total = db.number(&format!(
        "SELECT CAST(COALESCE(SUM(seq), 0) AS BIGINT) FROM events WHERE seq > {start} AND seq <= {last}"
    ));
    for (n, stream) in streams.into_iter().enumerate() {
        let ids = stream.join().expect("a stream");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "instance {n}: in seq order, none twice: {ids:?}");
        assert_eq!(
            (ids.len() as i64, ids.iter().sum::<i64>()),
            (expected, total),
            "instance {n}: every event: {ids:?}"
        );
    }
    for served in fleet {
        served.stop();
    }
}
