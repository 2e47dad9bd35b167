//! `stockyard relay nats` against the machine's NATS server with JetStream, on both
//! backends: 10,000 events and more relayed to a stream of the test's own; the relay is
//! killed (`kill -9`) mid-stream and started again, goes on from its cursor, and a third
//! relay to the same stream waits for the live one's lease and takes over when it is
//! killed. The stream holds every seq exactly once, in order (a relay sends its
//! unacknowledged batch again; the stream's duplicate window drops the repeats).
//!
//! NATS comes from `STOCKYARD_TEST_NATS` (default `nats://127.0.0.1:4222`). When it is
//! unreachable the test is skipped with a message, unless `STOCKYARD_REQUIRE_NATS=1` (CI).

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, Stdio},
    time::Instant,
};

use serde_json::Value;
use stockyard_testkit::{TestDb, backend_tests, faults::NatsServer};

use crate::common::{command, init, served::Served, stockyard};

/// Products imported: an event each.
const EVENTS: usize = 10_000;

fn nats_url() -> String {
    std::env::var("STOCKYARD_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// A relay process, its progress lines (JSON) on a pipe.
struct Relay {
    child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Relay {
    fn start(db: &TestDb, stream: &str, prefix: &str) -> Self {
        Self::start_at(db, &nats_url(), stream, prefix)
    }

    fn start_at(db: &TestDb, url: &str, stream: &str, prefix: &str) -> Self {
        let mut child = command(db)
            .args(["relay", "nats", "--url", url, "--stream", stream, "--subject-prefix", prefix])
            .args(["--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the relay");
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Self { child, lines }
    }

    /// The next batch it reports: how far it has relayed.
    fn next_through(&mut self) -> i64 {
        let line = self.lines.next().expect("a progress line").expect("read the relay's output");
        serde_json::from_str::<Value>(&line).expect("JSON")["through"].as_i64().expect("through")
    }
}

impl Relay {
    /// `kill -9`, and reaped as its service manager would.
    fn kill(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every message of `stream`, as the seq each carries in `Nats-Msg-Id` (and checks
/// `Stockyard-Seq` and the subject agree), in the stream's order; then the stream is gone.
fn drain(url: &str, stream: &str) -> Vec<i64> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let client = async_nats::connect(url).await.expect("NATS");
        let jetstream = async_nats::jetstream::new(client);
        let mut handle = jetstream.get_stream(stream).await.expect("the stream");
        let count = handle.info().await.expect("its info").state.messages;
        let mut seqs = Vec::new();
        for n in 1..=count {
            let message = handle.get_raw_message(n).await.expect("a message");
            let id = message.headers.get("Nats-Msg-Id").expect("a message id").as_str().to_owned();
            let seq = message.headers.get("Stockyard-Seq").expect("the seq header").as_str().to_owned();
            let event: Value = serde_json::from_slice(&message.payload).expect("an event as JSON");
            assert_eq!((id.as_str(), event["seq"].as_i64()), (seq.as_str(), seq.parse().ok()), "{event}");
            assert!(message.subject.ends_with(event["type"].as_str().expect("a type")), "{}", message.subject);
            seqs.push(seq.parse().expect("a numeric seq"));
        }
        jetstream.delete_stream(stream).await.expect("delete the stream");
        seqs
    })
}

/// A store with [`EVENTS`] events and more (a product import); the last seq.
fn many_events(db: &TestDb) -> i64 {
    init(db);
    let mut file = tempfile::NamedTempFile::new().expect("a file");
    writeln!(file, "sku,name,price").expect("write");
    for n in 0..EVENTS {
        writeln!(file, "R-{n:05},Relayed {n},1.00").expect("write");
    }
    stockyard(db).args(["import", "products"]).arg(file.path()).assert().success();
    let last = db.number("SELECT MAX(seq) FROM events");
    assert!(last >= EVENTS as i64);
    last
}

/// How many messages `stream` holds (0 while it does not exist).
fn count(stream: &str) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let jetstream = async_nats::jetstream::new(async_nats::connect(nats_url()).await.expect("NATS"));
        match jetstream.get_stream(stream).await {
            Ok(mut handle) => handle.info().await.expect("its info").state.messages,
            Err(_) => 0,
        }
    })
}

/// Whether the NATS server answers; `false` (with a message) when it may be skipped.
fn reachable() -> bool {
    let address = nats_url().trim_start_matches("nats://").to_owned();
    if std::net::TcpStream::connect(&address).is_ok() {
        return true;
    }
    if std::env::var("STOCKYARD_REQUIRE_NATS").as_deref() == Ok("1") {
        panic!("NATS at {address} is required (STOCKYARD_REQUIRE_NATS=1) but unreachable");
    }
    let _ = writeln!(std::io::stderr(), "\n*** NATS at {address} is unreachable: the relay test is SKIPPED ***\n");
    false
}

backend_tests! {
    fn a_relay_killed_mid_stream_leaves_every_event_once_in_the_stream(db) {
        if !reachable() {
            return;
        }
        let last = many_events(db);

        let tag = uuid::Uuid::now_v7().simple().to_string();
        let (stream, prefix) = (format!("TEST_{tag}"), format!("test_{tag}.events"));
        let cursor = format!("SELECT seq FROM consumer_cursors WHERE name = 'consumer:nats:{stream}'");
        let started = Instant::now();
        // Killed outright after its first batch, well before its twentieth.
        let mut first = Relay::start(db, &stream, &prefix);
        first.next_through();
        first.kill();
        let killed_at = db.number(&cursor);
        assert!(killed_at < last, "killed mid-stream, at {killed_at} of {last}");
        // Started again, it goes on from its cursor to the end.
        let mut second = Relay::start(db, &stream, &prefix);
        while second.next_through() < last {}
        let took = started.elapsed();
        // A third relay to the same stream waits while the second holds the lease…
        let mut third = Relay::start(db, &stream, &prefix);
        let more = |sku: &str| stockyard(db).args(["product", "add", "--sku", sku, "--name", sku, "--price", "1"]).assert().success();
        more("MORE-1");
        assert_eq!(second.next_through(), last + 1, "the live relay relays what comes");
        assert!(third.child.try_wait().expect("wait").is_none(), "the other waits, it does not give up");
        // …and takes over once that one is killed.
        second.kill();
        more("MORE-2");
        assert_eq!(third.next_through(), last + 2, "the waiting relay took over");
        drop(third);
        let last = last + 2;

        let seqs = drain(&nats_url(), &stream);
        let expected: Vec<i64> = (1..=last).collect();
        assert_eq!(seqs.len(), expected.len(), "every event once: {} messages for {last} events", seqs.len());
        assert_eq!(seqs, expected, "every seq exactly once, in order");
        eprintln!("relay on {:?}: {last} events to NATS in {took:?}, the first relay killed at seq {killed_at}", db.backend());
    }
}

backend_tests! {
    fn serve_relays_beside_the_api(db) {
        if !reachable() {
            return;
        }
        init(db);
        let tag = uuid::Uuid::now_v7().simple().to_string();
        let stream = format!("TEST_{tag}");
        let relay = format!("{}?stream={stream}&subject_prefix=test_{tag}.events", nats_url());
        let dir = tempfile::tempdir().expect("a folder");
        let served = Served::start(db, &["--bind", "127.0.0.1:0", "--relay", &relay], &[], dir.path());
        for sku in ["S-1", "S-2", "S-3"] {
            stockyard(db).args(["product", "add", "--sku", sku, "--name", sku, "--price", "1"]).assert().success();
        }
        let last = db.number("SELECT MAX(seq) FROM events");
        stockyard_testkit::wait_until("the server relays every event", || count(&stream) == last as u64);
        served.stop();
        assert_eq!(drain(&nats_url(), &stream), (1..=last).collect::<Vec<_>>());
    }
}

backend_tests! {
    /// The relay's NATS server is killed while events wait to go out, and started again:
    /// the relay retries, reconnects and sends them, each once.
    fn a_relay_rides_out_the_broker_going_away(db) {
        let Some(mut nats) = NatsServer::start() else { return };
        let last = many_events(db);
        let mut relay = Relay::start_at(db, &nats.url(), "OUTAGE", "outage.events");
        // Should it never recover, it is killed and the test fails instead of hanging.
        let pid = relay.child.id().to_string();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(90));
            let _ = std::process::Command::new("kill").args(["-9", &pid]).status();
        });
        while relay.next_through() < last {}
        // The broker goes away; events keep coming; it comes back on the same storage.
        nats.kill();
        let mut file = tempfile::NamedTempFile::new().expect("a file");
        writeln!(file, "sku,name,price").expect("write");
        for n in 0..2_000 {
            writeln!(file, "LATE-{n:04},Late {n},1.00").expect("write");
        }
        stockyard(db).args(["import", "products"]).arg(file.path()).assert().success();
        let last = db.number("SELECT MAX(seq) FROM events");
        std::thread::sleep(std::time::Duration::from_secs(1));
        nats.resume().expect("NATS back");
        while relay.next_through() < last {}
        drop(relay);
        assert_eq!(drain(&nats.url(), "OUTAGE"), (1..=last).collect::<Vec<_>>(), "every seq once, in order");
    }
}
