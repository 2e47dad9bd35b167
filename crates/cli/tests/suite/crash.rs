//! `kill -9` cycles, on both backends: `stockyard serve` (workers on) is driven over HTTP by
//! several clients — orders under idempotency keys, reservations, payments, status changes,
//! stock adjustments — and killed outright at a random moment, then restarted, again and
//! again. After every restart: everything a client saw acknowledged is there, whole; an
//! order whose answer was lost is either wholly there or wholly absent, and sending it
//! again under its key makes it exist exactly once; no level is negative or oversold;
//! `reserved` is the sum of the active reservations; `stockyard verify` passes (projections
//! equal a replay of the log, hash chains intact, nothing left unsealed).
//!
//! And every notification that was due is delivered: a webhook subscribed to every order
//! placed gets each one, keyed by its delivery id — a repeat only where a kill came
//! between the POST and its outcome, and then with the same delivery id and body.
//!
//! The same with the CLI: concurrent `stockyard` processes on one SQLite file, killed
//! mid-command.
//!
//! `STOCKYARD_CRASH_CYCLES` sets the cycles per backend (default 20; more for a soak).

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, SystemTime},
};

use reqwest::blocking::Client;
use serde_json::{Value, json};
use stockyard_testkit::{TestDb, backend_tests, http::Receiver, wait_until};

use crate::common::{
    command, init, json, json_of,
    served::{Served, client},
    stockyard,
};

pub(crate) const CLIENTS: usize = 4;
const SKUS: [&str; 4] = ["C-1", "C-2", "C-3", "C-4"];

/// What a client sent, and what it heard back (`None`: the connection died first).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub request: Request,
    pub answer: Option<(u16, Value)>,
}

#[derive(Debug, Clone)]
pub(crate) enum Request {
    Order { key: String, body: Value },
    Reserve { body: Value },
    Pay { order: String },
    Move { order: String },
    Adjust { body: Value },
}

/// A small, seedable random source: enough to vary the load and the moment of the kill.
struct Dice(u64);

impl Dice {
    fn new(salt: u64) -> Self {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        Self((now ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn lines(dice: &mut Dice) -> Vec<Value> {
    let first = dice.below(SKUS.len() as u64) as usize;
    let count = 1 + dice.below(2) as usize;
    (0..count).map(|i| json!({ "sku": SKUS[(first + i) % SKUS.len()], "quantity": 1 + dice.below(3) })).collect()
}

/// Sends `request` to the server at `base`; `None` when no answer came back.
fn send(http: &Client, base: &str, token: &str, request: &Request) -> Option<(u16, Value)> {
    let url = |path: &str| format!("{base}/api/v1{path}");
    let call = match request {
        Request::Order { key, body } => http.post(url("/orders")).header("Idempotency-Key", key).json(body),
        Request::Reserve { body } => http.post(url("/inventory/reserve")).json(body),
        Request::Pay { order } => http.post(url(&format!("/orders/{order}/payments"))).json(&json!({})),
        Request::Move { order } => {
            http.put(url(&format!("/orders/{order}/status"))).json(&json!({ "status": "picking" }))
        }
        Request::Adjust { body } => http.post(url("/inventory/adjust")).json(body),
    };
    let response = call.bearer_auth(token).send().ok()?;
    let status = response.status().as_u16();
    let body = response.json().unwrap_or(Value::Null);
    Some((status, body))
}

/// One client's work until the server stops answering (or `stop` is set).
pub(crate) fn work(base: &str, token: &str, who: usize, cycle: usize, stop: &AtomicBool, calls: &Mutex<Vec<Call>>) {
    let http = client();
    let mut dice = Dice::new((cycle * CLIENTS + who) as u64);
    let mut placed: Vec<String> = Vec::new();
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let request = match (dice.below(100), placed.get(dice.below(placed.len().max(1) as u64) as usize)) {
            (0..40, _) | (40..70, None) => Request::Order {
                key: format!("crash-{cycle}-{who}-{n}"),
                body: json!({ "customer": { "email": format!("c{cycle}.{who}.{n}@example.com") }, "lines": lines(&mut dice) }),
            },
            (40..55, Some(order)) => Request::Pay { order: order.clone() },
            (55..70, Some(order)) => Request::Move { order: order.clone() },
            (70..85, _) => Request::Reserve { body: json!({ "items": lines(&mut dice), "ttl_seconds": 600 }) },
            _ => Request::Adjust {
                body: json!({ "sku": SKUS[dice.below(SKUS.len() as u64) as usize], "delta": 5, "reason": "crash test" }),
            },
        };
        let answer = send(&http, base, token, &request);
        if let (Request::Order { .. }, Some((201, order))) = (&request, &answer) {
            placed.push(order["id"].as_str().unwrap_or_default().to_owned());
        }
        let (lost, unavailable) = (answer.is_none(), answer.as_ref().is_some_and(|(status, _)| *status == 503));
        calls.lock().expect("calls").push(Call { request, answer });
        if lost {
            return;
        }
        if unavailable {
            // As a client should: a pause before trying again.
            thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The order's lines as (sku, quantity), sorted.
fn order_lines(lines: &Value) -> Vec<(String, i64)> {
    let mut lines: Vec<(String, i64)> = lines
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| (l["sku"].as_str().unwrap_or_default().to_owned(), l["quantity"].as_i64().unwrap_or_default()))
        .collect();
    lines.sort();
    lines
}

/// Everything that must hold after a restart, for the calls of the cycle before it.
pub(crate) fn check(db: &TestDb, served: &Served, token: &str, calls: &[Call]) {
    let http = client();
    let get = |path: &str| {
        let response = http.get(served.url(&format!("/api/v1{path}"))).bearer_auth(token).send().expect("a GET");
        (response.status().as_u16(), response.json::<Value>().unwrap_or(Value::Null))
    };
    for call in calls {
        if let Some((status, body)) = &call.answer {
            // The one 5xx allowed: the database out of service, which changed nothing.
            assert!(*status < 500 || (*status, body["code"].as_str()) == (503, Some("unavailable")), "{call:?}");
            if *status >= 300 {
                continue;
            }
            match &call.request {
                Request::Order { body: sent, .. } => {
                    let (status, order) = get(&format!("/orders/{}", body["id"].as_str().unwrap_or_default()));
                    assert_eq!(status, 200, "an acknowledged order is there: {call:?}");
                    assert_eq!(order_lines(&order["lines"]), order_lines(&sent["lines"]), "whole: {order}");
                }
                Request::Reserve { .. } => {
                    let (status, _) = get(&format!(
                        "/inventory/reservations/{}",
                        body["reservation_id"].as_str().unwrap_or_default()
                    ));
                    assert_eq!(status, 200, "an acknowledged reservation is there: {call:?}");
                }
                Request::Pay { order } => {
                    let (_, order) = get(&format!("/orders/{order}"));
                    assert_ne!(order["paid"], "0.00", "an acknowledged payment is there: {order}");
                }
                Request::Move { order } => {
                    let (_, order) = get(&format!("/orders/{order}"));
                    let history: Vec<&str> =
                        order["history"].as_array().into_iter().flatten().filter_map(|h| h["to"].as_str()).collect();
                    assert!(history.contains(&"picking"), "an acknowledged status change is there: {order}");
                }
                Request::Adjust { .. } => {}
            }
        }
        // Sent again under its key, an order exists exactly once, however its first try ended.
        if let Request::Order { key, body: sent } = &call.request {
            let again = http
                .post(served.url("/api/v1/orders"))
                .header("Idempotency-Key", key)
                .bearer_auth(token)
                .json(sent)
                .send()
                .expect("the order again");
            let status = again.status().as_u16();
            let again: Value = again.json().unwrap_or(Value::Null);
            match &call.answer {
                Some((201, first)) => assert_eq!((status, &again["id"]), (201, &first["id"]), "the first answer again"),
                Some((409, _)) if status == 409 => {}
                _ => assert!(matches!(status, 201 | 409), "{status}: {again}"),
            }
            let email = sent["customer"]["email"].as_str().unwrap_or_default();
            let (_, found) = get(&format!("/orders?customer={email}"));
            let placed = found["items"].as_array().map_or(0, Vec::len);
            assert!(placed == usize::from(status == 201), "{email}: {placed} orders after a {status}: {found}");
        }
    }
    ledger_holds(db);
}

/// No level is negative or oversold, `reserved` is what the active reservations hold, and
/// `verify` passes.
fn ledger_holds(db: &TestDb) {
    let bad = db.number("SELECT COUNT(*) FROM stock_levels WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand");
    assert_eq!(bad, 0, "no level is negative or oversold");
    let unheld = db.number(
        "SELECT COUNT(*) FROM stock_levels s WHERE s.reserved <> (
           SELECT COALESCE(SUM(l.quantity), 0) FROM reservation_lines l JOIN reservations r ON r.id = l.reservation_id
           WHERE r.status = 'active' AND l.product_id = s.product_id AND l.warehouse_id = s.warehouse_id)",
    );
    assert_eq!(unheld, 0, "reserved is the sum of the active reservations");
    let verified = stockyard(db).args(["verify", "--format", "json"]).assert();
    let out = verified.get_output();
    assert!(
        out.status.success(),
        "verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every order placed was delivered to the webhook: each notification at least once under
/// its own delivery id, a repeat (a kill between the POST and its outcome) with the same body,
/// no event delivered under two ids, and none lost. Claims a killed dispatcher left in
/// flight are first aged past their lease, as if its five minutes had passed.
fn deliveries_hold(db: &TestDb, receiver: &Receiver) {
    db.sql("UPDATE notifications SET updated_at = '2000-01-01T00:00:00Z' WHERE status = 'sent'");
    let placed = db.number("SELECT COUNT(*) FROM events WHERE event_type = 'OrderCreated'");
    wait_until("every webhook notification is delivered", || {
        db.number("SELECT COUNT(*) FROM notifications WHERE channel = 'webhook' AND status = 'delivered'") == placed
    });
    let mut bodies: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for request in receiver.requests() {
        let id = request.header("X-Stockyard-Delivery").expect("a delivery id").to_owned();
        bodies.entry(id).or_default().insert(request.body);
    }
    assert!(bodies.values().all(|b| b.len() == 1), "a repeated delivery id carries the same event");
    let seqs: BTreeSet<i64> = bodies
        .values()
        .flatten()
        .map(|body| serde_json::from_str::<Value>(body).expect("JSON")["seq"].as_i64().expect("a seq"))
        .collect();
    assert_eq!(seqs.len(), bodies.len(), "no event went out under two delivery ids");
    assert_eq!(bodies.len() as i64, placed, "every order placed was delivered, none lost");
    let ids = bodies.keys().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(", ");
    let known = db.number(&format!("SELECT COUNT(*) FROM notifications WHERE channel = 'webhook' AND id IN ({ids})"));
    assert_eq!(known, placed, "each delivery id is a notification's");
    let repeats = receiver.requests().len() as i64 - placed;
    eprintln!("webhook deliveries on {:?}: {placed} orders placed, each delivered; {repeats} repeats", db.backend());
}

/// How many kill cycles to run.
fn cycles() -> usize {
    std::env::var("STOCKYARD_CRASH_CYCLES").ok().and_then(|n| n.parse().ok()).unwrap_or(20)
}

/// A store with the SKUs deep in stock at MAIN.
pub(crate) fn stocked(db: &TestDb) {
    init(db);
    for sku in SKUS {
        stockyard(db).args(["product", "add", "--sku", sku, "--name", sku, "--price", "2.50"]).assert().success();
        stockyard(db).args(["stock", "receive", sku, "100000"]).assert().success();
    }
}

/// A command's arguments and, when it finished, its exit code and output.
type Ran = (Vec<String>, Option<(i32, String)>);

/// One CLI worker: commands one after another, each killed outright once `stop` is set.
fn cli_work(db: &TestDb, who: usize, cycle: usize, stop: &AtomicBool) -> Vec<Ran> {
    let mut dice = Dice::new((cycle * CLIENTS + who) as u64);
    let mut done = Vec::new();
    for n in 0.. {
        let sku = SKUS[dice.below(SKUS.len() as u64) as usize];
        let line = format!("{sku}:{}", 1 + dice.below(3));
        let key = format!("cli-{cycle}-{who}-{n}");
        let args: Vec<String> = match dice.below(3) {
            0 => vec![
                "order".into(),
                "create".into(),
                "--customer".into(),
                format!("{key}@example.com"),
                "--line".into(),
                line,
                "--idempotency-key".into(),
                key,
            ],
            1 => vec!["reserve".into(), line, "--idempotency-key".into(), key],
            _ => vec![
                "stock".into(),
                "adjust".into(),
                sku.into(),
                "--by".into(),
                "5".into(),
                "--reason".into(),
                "crash test".into(),
                "--idempotency-key".into(),
                key,
            ],
        };
        let mut child = command(db)
            .args(&args)
            .arg("--quiet")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start stockyard");
        let finished = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break Some(status);
            }
            if stop.load(Ordering::Relaxed) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            thread::sleep(Duration::from_millis(2));
        };
        let answer = finished.and_then(|status| {
            let mut out = String::new();
            std::io::Read::read_to_string(&mut child.stdout.take()?, &mut out).ok()?;
            Some((status.code().unwrap_or(-1), out.trim().to_owned()))
        });
        let killed = answer.is_none();
        done.push((args, answer));
        if killed {
            return done;
        }
    }
    done
}

backend_tests! {
    fn kill_9_at_random_moments_loses_nothing_acknowledged(db) {
        stocked(db);
        let token = stockyard(db).args(["token", "create", "--name", "crash", "--role", "admin", "--quiet"]).assert().success();
        let token = String::from_utf8_lossy(&token.get_output().stdout).trim().to_owned();
        let cycles = cycles();
        let receiver = Receiver::start();
        // Slow enough that kills land while a POST waits for its answer.
        receiver.slow(Duration::from_millis(5));
        let mut subscribe = stockyard(db);
        subscribe.args(["webhook", "add", &receiver.url(), "--events", "OrderCreated", "--secret-stdin"]);
        subscribe.write_stdin("a-receiver-secret-of-some-length\n");
        json_of(subscribe, &[]);
        let dir = tempfile::tempdir().expect("a folder");
        let serve =
            ["--bind", "127.0.0.1:0", "--rate-limit", "off", "--sweep-every", "1s", "--dispatch-every", "1s"];
        let mut dice = Dice::new(7);
        let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
        let mut previous: Vec<Call> = Vec::new();
        for cycle in 0..=cycles {
            let served = Served::start(db, &serve, &[], dir.path());
            check(db, &served, &token, &previous);
            if cycle == cycles {
                deliveries_hold(db, &receiver);
                served.stop();
                break;
            }
            let (stop, calls) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::new())));
            let clients: Vec<_> = (0..CLIENTS)
                .map(|who| {
                    let (base, token, stop, calls) = (served.base.clone(), token.clone(), stop.clone(), calls.clone());
                    thread::spawn(move || work(&base, &token, who, cycle, &stop, &calls))
                })
                .collect();
            thread::sleep(Duration::from_millis(150 + dice.below(500)));
            served.kill();
            stop.store(true, Ordering::Relaxed);
            for client in clients {
                client.join().expect("a client");
            }
            previous = std::mem::take(&mut *calls.lock().expect("calls"));
            *tally.entry("calls").or_default() += previous.len();
            *tally.entry("lost").or_default() += previous.iter().filter(|c| c.answer.is_none()).count();
        }
        eprintln!("kill -9 cycles on {:?}: {cycles} cycles, {tally:?}", db.backend());
        assert!(tally.get("calls").copied().unwrap_or(0) > cycles * CLIENTS, "the clients got work done: {tally:?}");
    }
}

/// Concurrent CLI processes on one SQLite file, killed mid-command.
#[test]
fn cli_processes_killed_mid_command_leave_the_sqlite_file_whole() {
    let db = TestDb::sqlite();
    stocked(&db);
    let mut dice = Dice::new(11);
    let (mut commands, mut killed) = (0, 0);
    for cycle in 0..cycles() {
        let stop = AtomicBool::new(false);
        let done: Vec<_> = thread::scope(|scope| {
            let workers: Vec<_> = (0..CLIENTS)
                .map(|who| {
                    let (db, stop) = (&db, &stop);
                    scope.spawn(move || cli_work(db, who, cycle, stop))
                })
                .collect();
            thread::sleep(Duration::from_millis(100 + dice.below(400)));
            stop.store(true, Ordering::Relaxed);
            workers.into_iter().flat_map(|w| w.join().expect("a worker")).collect()
        });
        {
            for (args, answer) in done {
                commands += 1;
                let Some((code, out)) = answer else {
                    killed += 1;
                    // Run again under its key, a killed command is done exactly once.
                    let again = stockyard(&db).args(&args).arg("--quiet").assert().success();
                    if args[0] == "order" {
                        let orders = json(&db, &["order", "list", "--customer", &args[3]]);
                        assert_eq!(orders["items"].as_array().map(Vec::len), Some(1), "{args:?}: {orders}");
                        let id = String::from_utf8_lossy(&again.get_output().stdout).trim().to_owned();
                        assert_eq!(orders["items"][0]["id"], id.as_str());
                    }
                    continue;
                };
                assert_eq!(code, 0, "{args:?} failed: {out}");
                match args[0].as_str() {
                    "order" => assert_eq!(json(&db, &["order", "show", &out])["customer"]["email"], args[3].as_str()),
                    "reserve" => {
                        let held = db.number(&format!(
                            "SELECT COUNT(*) FROM reservations WHERE id = '{out}' AND status = 'active'"
                        ));
                        assert_eq!(held, 1, "an acknowledged reservation is held: {out}");
                    }
                    _ => {}
                }
            }
        }
        ledger_holds(&db);
    }
    eprintln!("kill -9 of CLI processes: {} cycles, {commands} commands, {killed} killed mid-command", cycles());
    assert!(killed > 0 && commands > killed, "{commands} commands, {killed} killed");
}
