//! The database going away under load, and coming back: `stockyard serve` (workers on),
//! driven by several HTTP clients as in the kill -9 cycles, while the test stops its own
//! PostgreSQL cluster (`pg_ctl stop -m immediate`, as a crash would) or fills the tmpfs
//! its SQLite file sits on to the last byte (a real full disk, not SQLite's
//! `max_page_count`). While the trouble lasts: requests that need the database fail at
//! once with 503 problem+json naming it, `/readyz` says not ready. When it is over, the
//! server recovers by itself — no restart — and nothing acknowledged is lost, nothing is
//! half there, nothing oversold, `verify` passes.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use stockyard_testkit::{
    TestDb,
    faults::{PgCluster, Tmpfs},
    wait_until,
};

use crate::{
    common::{
        served::{Served, client},
        stockyard,
    },
    crash::{CLIENTS, Call, check, stocked, work},
};

/// How long the database stays away.
const OUTAGE: Duration = Duration::from_secs(3);
/// Longer than the server may take to answer while the database is away: far under the
/// pool's and the request queue's timeouts (10 s and more), which a wait would run into.
const FAST: Duration = Duration::from_secs(2);

#[test]
fn postgres_stopped_under_load() {
    let Some(cluster) = PgCluster::start() else { return };
    let db = TestDb::postgres_on(&cluster.admin_url());
    through_an_outage(&db, || cluster.halt(), || cluster.resume().expect("start PostgreSQL again"), "PostgreSQL");
}

#[test]
fn sqlite_disk_full_under_load() {
    // Room for the WAL's working size under this load (its automatic checkpoint comes at
    // ~40 MB), so that the disk is full only while the test fills it.
    let Some(disk) = Tmpfs::mount(128) else { return };
    let db = TestDb::sqlite_in(disk.path());
    through_an_outage(&db, || disk.fill(), || disk.free(), "disk is full");
}

/// Drives the server, takes the database away (`begin`) for [`OUTAGE`] and gives it back
/// (`end`), checking what the server says meanwhile (a 503 whose detail holds `named`) and
/// after.
fn through_an_outage(db: &TestDb, begin: impl Fn(), end: impl Fn(), named: &str) {
    stocked(db);
    let token = stockyard(db).args(["token", "create", "--name", "outage", "--role", "admin", "--quiet"]).assert();
    let token = String::from_utf8_lossy(&token.success().get_output().stdout).trim().to_owned();
    let dir = tempfile::tempdir().expect("a folder");
    let serve = ["--bind", "127.0.0.1:0", "--rate-limit", "off", "--sweep-every", "1s", "--dispatch-every", "1s"];
    let served = Served::start(db, &serve, &[], dir.path());
    let http = client();
    let ready = || {
        let response = http.get(served.url("/readyz")).send().expect("readyz answers");
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
        (response.status().as_u16(), content_type, response.json::<Value>().unwrap_or(Value::Null))
    };
    let order = |email: &str| {
        let body = json!({ "customer": { "email": email }, "lines": [{ "sku": "C-1", "quantity": 1 }] });
        let sent = Instant::now();
        let response =
            http.post(served.url("/api/v1/orders")).bearer_auth(&token).json(&body).send().expect("an answer");
        (response.status().as_u16(), sent.elapsed(), response.json::<Value>().unwrap_or(Value::Null))
    };

    let (stop, calls) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::<Call>::new())));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|who| {
            let (base, token, stop, calls) = (served.base.clone(), token.clone(), stop.clone(), calls.clone());
            thread::spawn(move || work(&base, &token, who, 0, &stop, &calls))
        })
        .collect();
    thread::sleep(Duration::from_secs(1));

    begin();
    let began = Instant::now();
    wait_until("/readyz says not ready", || ready().0 == 503);
    let (_, content_type, problem) = ready();
    assert_eq!(content_type.as_deref(), Some("application/problem+json"), "{problem}");
    assert_eq!(problem["code"], "unavailable", "{problem}");
    assert!(problem["detail"].as_str().unwrap_or_default().contains(named), "names the trouble: {problem}");
    let (status, took, refused) = order("during@example.com");
    assert_eq!((status, refused["code"].as_str()), (503, Some("unavailable")), "{refused}");
    assert!(took < FAST, "a write fails fast while the database is away, not after {took:?}");
    assert!(refused["detail"].as_str().unwrap_or_default().contains(named), "{refused}");
    thread::sleep(OUTAGE.saturating_sub(began.elapsed()));

    end();
    let ended = Instant::now();
    wait_until("/readyz says ready again", || ready().0 == 200);
    let back = ended.elapsed();
    let (status, _, placed) = order("after@example.com");
    assert_eq!(status, 201, "writes work again without a restart: {placed}");
    thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().expect("a client");
    }

    let calls = std::mem::take(&mut *calls.lock().expect("calls"));
    let count = |status: u16| calls.iter().filter(|c| c.answer.as_ref().is_some_and(|(s, _)| *s == status)).count();
    assert!(calls.iter().all(|c| c.answer.is_some()), "the server answered every call");
    assert!(count(503) > 0 && count(201) > 0, "the clients met the outage and got work done");
    eprintln!(
        "{named}: {} calls, {} refused with 503 while it lasted, ready again {back:?} after it ended",
        calls.len(),
        count(503)
    );
    // Everything acknowledged is there and whole, each order sent again under its key
    // exists once, levels hold, verify passes.
    check(db, &served, &token, &calls);
    served.stop();
}
