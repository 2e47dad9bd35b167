//! How the server behaves under pressure and abuse: it sheds what it cannot take (503 with
//! `Retry-After`) — beyond the most requests in flight, past the wait for a database
//! connection, past the per-request deadline — limits each credential's rate (429), answers
//! every failed login alike and backs off repeated ones, and exports metrics with no
//! personal data. A request is made to hang by a database write lock the test holds.

use std::{
    net::{IpAddr, Ipv4Addr},
    sync::OnceLock,
    thread,
    time::{Duration, Instant},
};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use reqwest::Method;
use serde_json::json;
use stockyard_core::{Actor, Role, auth::NewApiToken};
use stockyard_server::Settings;
use stockyard_testkit::{WriteLock, backend_tests, wait_until};

use crate::common::{Api, PASSWORD, Reply, TestServer, settings, uuid_suffix};

/// A new API token of `role`, made in the core (no login: its argon2 cost would run into
/// the short deadlines some tests set).
fn token(server: &TestServer, role: Role) -> Api {
    let input = NewApiToken { name: format!("ops-{}", uuid_suffix()), role, warehouses: Vec::new(), expires_in: None };
    let created = server.store.auth().create_token(&Actor::local_admin(), input).expect("an API token");
    server.with_token(&created.secret)
}

fn new_product(sku: &str) -> serde_json::Value {
    json!({ "sku": sku, "name": sku, "price": "1.00" })
}

/// Sends `request` until it is not shed: the request the test means to hang may itself be
/// shed while a probe holds the one slot.
fn unless_shed(request: impl Fn() -> Reply) -> Reply {
    loop {
        let reply = request();
        if reply.status != 503 {
            return reply;
        }
    }
}

/// Probes with `request` until one is shed, and returns that answer.
fn first_shed(request: impl Fn() -> Reply) -> Reply {
    let mut shed = None;
    wait_until("a request is shed", || {
        let reply = request();
        let done = reply.status == 503;
        shed = done.then_some(reply);
        done
    });
    shed.expect("a shed answer")
}

/// A 503 problem saying when to come back.
#[track_caller]
fn assert_shed(reply: Reply) -> serde_json::Value {
    let retry_after = reply.header("retry-after").map(str::to_owned);
    let problem = reply.problem(503);
    assert_eq!(problem["code"], "overloaded", "{problem}");
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)), "{problem}");
    problem
}

/// The recorder every server of this test binary reports to (the `metrics` facade has one
/// global recorder), installed once.
fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).expect("the one recorder of this binary");
            handle
        })
        .clone()
}

/// A client that connects from `address` (any of 127.0.0.0/8 reaches the server), so the
/// server tells its logins apart from the other tests'.
fn login_from(server: &TestServer, address: Ipv4Addr, email: &str, password: &str) -> Reply {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::blocking::Client::builder()
        .local_address(IpAddr::V4(address))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a client");
    let request = client
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({ "email": email, "password": password }));
    server.anonymous().send(request)
}

backend_tests! {
    fn a_request_beyond_the_most_in_flight_is_shed_until_the_first_is_done(db) {
        let server = TestServer::start_with(db.store(), Settings { max_in_flight: 1, ..settings() });
        let (writer, probe) = (token(&server, Role::Admin), token(&server, Role::Viewer));
        let lock = WriteLock::hold(db);
        let stuck = thread::spawn(move || unless_shed(|| writer.post("/products", &new_product("SHED-1"))));
        let shed = first_shed(|| probe.get("/products"));
        let problem = assert_shed(shed);
        assert!(problem["detail"].as_str().is_some_and(|d| d.contains("1 requests")), "{problem}");
        lock.release();
        assert_eq!(stuck.join().expect("the writer").expect(201)["sku"], "SHED-1");
        probe.get("/products/SHED-1").expect(200);
    }

    fn a_request_that_waits_too_long_for_a_connection_is_shed(db) {
        let pressed = Settings { pool_size: 1, queue_timeout: Duration::from_millis(50), ..settings() };
        let server = TestServer::start_with(db.store(), pressed);
        let (writer, probe) = (token(&server, Role::Admin), token(&server, Role::Viewer));
        let lock = WriteLock::hold(db);
        let stuck = thread::spawn(move || unless_shed(|| writer.post("/products", &new_product("QUEUE-1"))));
        let problem = assert_shed(first_shed(|| probe.get("/products")));
        assert!(problem["detail"].as_str().is_some_and(|d| d.contains("database connection")), "{problem}");
        lock.release();
        stuck.join().expect("the writer").expect(201);
    }

    fn a_request_past_its_deadline_is_answered_503_and_its_change_still_lands(db) {
        let hurried = Settings { request_timeout: Duration::from_millis(200), ..settings() };
        let server = TestServer::start_with(db.store(), hurried);
        let admin = token(&server, Role::Admin);
        let lock = WriteLock::hold(db);
        let problem = assert_shed(admin.post("/products", &new_product("SLOW-1")));
        assert!(problem["detail"].as_str().is_some_and(|d| d.contains("took longer")), "{problem}");
        lock.release();
        // The core call was not cut off: the change it made is there once the lock goes.
        wait_until("the product lands", || admin.get("/products/SLOW-1").status == 200);
    }

    fn the_rate_limit_is_per_credential_and_can_be_off(db) {
        let store = db.store();
        let limited = TestServer::start_with(store.clone(), Settings { rate_limit: std::num::NonZeroU32::new(1), ..settings() });
        let (busy, other) = (token(&limited, Role::Viewer), token(&limited, Role::Viewer));
        // One a second with bursts of one: back-to-back requests soon meet the limit.
        let mut limited_reply = None;
        for _ in 0..50 {
            let reply = busy.get("/products");
            if reply.status == 429 {
                limited_reply = Some(reply);
                break;
            }
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
        let reply = limited_reply.expect("the limit was met");
        let retry_after = reply.header("retry-after").and_then(|s| s.parse::<u64>().ok());
        let problem = reply.problem(429);
        assert_eq!(problem["code"], "rate_limited");
        assert!(retry_after.is_some_and(|s| s >= 1), "{problem}");
        // Another credential has its own allowance.
        other.get("/products").expect(200);

        let unlimited = TestServer::start_with(store, settings());
        let free = token(&unlimited, Role::Viewer);
        for _ in 0..30 {
            free.get("/products").expect(200);
        }
    }

    fn a_failed_login_says_the_same_whether_or_not_the_email_exists(db) {
        let server = TestServer::start(db);
        let email = format!("known-{}@example.com", uuid_suffix());
        server.as_new_user(&email, Role::Viewer, &[]);
        let anonymous = server.anonymous();
        let attempt = |email: &str, password: &str| {
            let started = Instant::now();
            let reply = anonymous.post("/auth/login", &json!({ "email": email, "password": password }));
            (reply, started.elapsed())
        };
        assert_eq!(attempt(&email, PASSWORD).0.status, 200);
        // A wrong password runs the password hash: the quicker of two is what a hash costs
        // here, under whatever else the machine is doing (3 failures in all, under the
        // throttle's 5 free ones).
        let (wrong, first) = attempt(&email, "not the password");
        let (_, second) = attempt(&email, "still not the password");
        let (unknown, unknown_took) = attempt(&format!("nobody-{}@example.com", uuid_suffix()), PASSWORD);
        assert_eq!(unknown.status, 401);
        assert_eq!(wrong.status, 401);
        assert_eq!(unknown.body, wrong.body, "the two refusals differ");
        assert_eq!(unknown.header("content-type"), wrong.header("content-type"));
        // An unknown email runs a hash too, not a quick lookup: it costs a good part of one.
        let hash = first.min(second);
        assert!(unknown_took * 4 >= hash, "an unknown email took {unknown_took:?}, a wrong password {hash:?}");
    }

    fn repeated_failed_logins_wait_per_account_and_per_address(db) {
        // A wait far longer than the test: what it checks cannot lapse meanwhile.
        let patient = Settings { login_backoff: Duration::from_secs(600), ..settings() };
        let server = TestServer::start_with(db.store(), patient);
        let (target, bystander) = (format!("target-{}@example.com", uuid_suffix()), format!("other-{}@example.com", uuid_suffix()));
        server.as_new_user(&target, Role::Viewer, &[]);
        server.as_new_user(&bystander, Role::Viewer, &[]);
        let (attacker, elsewhere, third) = (Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 3), Ipv4Addr::new(127, 0, 0, 4));
        let mut throttled = None;
        for _ in 0..20 {
            let reply = login_from(&server, attacker, &target, "guess");
            if reply.status == 429 {
                throttled = Some(reply);
                break;
            }
            assert_eq!(reply.status, 401, "{}", reply.body);
        }
        let reply = throttled.expect("the guesses were throttled");
        assert!(reply.header("retry-after").and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| s >= 1));
        assert_eq!(reply.problem(429)["code"], "rate_limited");
        // The account waits from any address, even with its password…
        assert_eq!(login_from(&server, elsewhere, &target, PASSWORD).status, 429);
        // …the guessing address waits for any account…
        assert_eq!(login_from(&server, attacker, &bystander, PASSWORD).status, 429);
        // …and others log in as usual.
        assert_eq!(login_from(&server, third, &bystander, PASSWORD).status, 200);
    }

    fn metrics_count_requests_and_store_tallies_without_personal_data(db) {
        let server = TestServer::start_measured(db.store(), settings(), Some(recorder()));
        let admin = token(&server, Role::Admin);
        admin.post("/products", &new_product("MET-1")).expect(201);
        admin.post("/inventory/adjust", &json!({ "sku": "MET-1", "delta": 5, "reason": "delivery" })).expect(200);
        let email = format!("private-{}@example.org", uuid_suffix());
        let order = admin
            .post("/orders", &json!({ "customer": { "email": email, "name": "Private Person" }, "lines": [{ "sku": "MET-1", "quantity": 1 }] }))
            .expect(201);
        let order_id = order["id"].as_str().expect("an order id").to_owned();
        admin.get(&format!("/orders/{order_id}")).expect(200);
        admin.get(&format!("/orders?customer={email}")).expect(200);

        let scrape = admin.send(admin.raw(Method::GET, "/metrics"));
        assert_eq!(scrape.status, 200);
        assert!(scrape.header("content-type").is_some_and(|t| t.starts_with("text/plain")));
        let text = scrape.body.as_str().expect("text").to_owned();
        for wanted in [
            "stockyard_http_requests_total{",
            "route=\"/api/v1/orders/{id}\"",
            "stockyard_http_request_duration_seconds",
            "stockyard_core_wait_seconds",
            "stockyard_orders_placed_total 1",
            "stockyard_reservations_made_total 1",
            "stockyard_notifications{status=\"pending\"}",
            "stockyard_notifications{status=\"failed\"} 0",
        ] {
            assert!(text.contains(wanted), "no {wanted} in:\n{text}");
        }
        assert!(text.contains("status=\"201\"") && text.contains("method=\"POST\""), "{text}");
        for secret in [email.as_str(), "Private Person", order_id.as_str()] {
            assert!(!text.contains(secret), "{secret} in the metrics");
        }
        // Metrics are for those who oversee: a client is refused, an anonymous caller too.
        let client = token(&server, Role::Client);
        assert_eq!(client.send(client.raw(Method::GET, "/metrics")).status, 403);
        let anonymous = server.anonymous();
        assert_eq!(anonymous.send(anonymous.raw(Method::GET, "/metrics")).status, 401);
    }
}
