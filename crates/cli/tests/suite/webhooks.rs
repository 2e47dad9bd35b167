//! `webhook …`, `notify endpoints` and the one-dispatcher rule through the real binary,
//! against an HTTP receiver started by the test: a subscribed event arrives as a signed POST
//! carrying its notification's id, removed webhooks get nothing more, bad input and roles
//! are refused with their exit codes, and each endpoint's circuit breaker is shown.

use crate::common;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Stdio},
    time::Duration,
};

use assert_cmd::Command;
use common::{command, init, items, json, json_of, keys, stockyard, with_products};
use jiff::Timestamp;
use predicates::{prelude::PredicateBooleanExt, str::contains};
use serde_json::Value;
use stockyard_core::{Backend, notifications::webhooks::verify};
use stockyard_testkit::{TestDb, backend_tests, http::Receiver};

const SECRET: &str = "a-receiver-secret-of-some-length";
const VIEWER: &str = "view@example.com";
/// How old a signature `verify` accepts.
const TOLERANCE: Duration = Duration::from_secs(300);

/// `webhook add URL --events EVENTS --secret-stdin` with [`SECRET`], as JSON.
fn subscribe(db: &TestDb, url: &str, events: &str) -> Value {
    let mut cmd = stockyard(db);
    cmd.args(["webhook", "add", url, "--events", events, "--secret-stdin"]).write_stdin(format!("{SECRET}\n"));
    json_of(cmd, &[])
}

fn receive(db: &TestDb, sku: &str, quantity: &str) {
    stockyard(db).args(["stock", "receive", sku, quantity]).assert().success();
}

/// One dispatcher round, as JSON.
fn dispatch(db: &TestDb) -> Value {
    json(db, &["notify", "run", "--once"])
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

/// `scheme://host:port` of the receiver: its circuit breaker's key.
fn endpoint_of(receiver: &Receiver) -> String {
    let url = receiver.url();
    url.trim_end_matches("/hook").to_owned()
}

/// The breaker of `endpoint` in `notify endpoints --format json`.
fn breaker(db: &TestDb, endpoint: &str) -> Option<Value> {
    items(&json(db, &["notify", "endpoints"])).into_iter().find(|e| e["endpoint"] == endpoint)
}

/// A `notify run` worker running in the background; killed and reaped when dropped.
struct Worker(Child);

impl Worker {
    /// Starts `notify run` and waits for its first round (its "email is off" notice).
    fn start(db: &TestDb) -> Self {
        let mut child = command(db)
            .args(["notify", "run"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start notify run");
        let mut line = String::new();
        if let Some(stderr) = child.stderr.take() {
            BufReader::new(stderr).read_line(&mut line).expect("read the worker's stderr");
        }
        let worker = Self(child);
        assert!(line.contains("email is off"), "the worker's first round: {line:?}");
        worker
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

backend_tests! {
    fn private_hosts_are_refused_unless_allowed(db) {
        init(db);
        for (url, class) in [("http://169.254.169.254/latest/meta-data/", "metadata"), ("http://10.0.0.1/hook", "private")] {
            let mut guarded = stockyard(db);
            guarded.env_remove("STOCKYARD_WEBHOOK_ALLOW_PRIVATE").args(["webhook", "add", url, "--events", "OrderCreated"]);
            guarded.assert().code(6).stderr(contains("url").and(contains(class)).and(contains("STOCKYARD_WEBHOOK_ALLOW_PRIVATE")));
        }
        let mut bad = stockyard(db);
        bad.env("STOCKYARD_WEBHOOK_ALLOW_PRIVATE", "maybe").args(["webhook", "list"]);
        bad.assert().code(6).stderr(contains("STOCKYARD_WEBHOOK_ALLOW_PRIVATE"));
    }

    fn a_subscribed_event_arrives_signed_with_its_delivery_id(db) {
        with_products(db, &["MUG-1"]);
        let receiver = Receiver::start();
        let created = subscribe(db, &receiver.url(), "InventoryChanged");
        assert_eq!(keys(&created), ["active", "created_at", "events", "id", "secret", "url"], "{created}");
        assert_eq!((text(&created["secret"]), text(&created["url"])), (SECRET, receiver.url().as_str()));
        assert_eq!((&created["events"], &created["active"]), (&serde_json::json!(["InventoryChanged"]), &true.into()));

        receive(db, "MUG-1", "5");
        let report = dispatch(db);
        assert_eq!((&report["delivered"], &report["failed"]), (&1.into(), &0.into()), "{report}");
        let requests = receiver.requests();
        assert_eq!(requests.len(), 1, "{requests:?}");
        let post = &requests[0];
        assert_eq!((post.method.as_str(), post.path.as_str()), ("POST", "/hook"));
        assert_eq!(post.header("X-Stockyard-Event"), Some("InventoryChanged"));
        let signature = post.header("X-Stockyard-Signature").expect("a signature header");
        verify(SECRET, signature, post.body.as_bytes(), Timestamp::now(), TOLERANCE)
            .unwrap_or_else(|e| panic!("{signature}: {e}"));
        assert!(verify("some-other-secret-entirely", signature, post.body.as_bytes(), Timestamp::now(), TOLERANCE).is_err());
        let event: Value = serde_json::from_str(&post.body).expect("a JSON body");
        assert_eq!((text(&event["type"]), text(&event["payload"]["sku"])), ("InventoryChanged", "MUG-1"), "{event}");

        // The delivery id is the notification's id.
        let delivery = post.header("X-Stockyard-Delivery").expect("a delivery id");
        let status = json(db, &["notify", "status", delivery]);
        assert_eq!((text(&status["id"]), text(&status["channel"])), (delivery, "webhook"));
        assert_eq!((text(&status["status"]), text(&status["to"])), ("delivered", receiver.url().as_str()));

        // Another round sends nothing twice; another event is another delivery.
        dispatch(db);
        assert_eq!(receiver.requests().len(), 1);
        receive(db, "MUG-1", "1");
        dispatch(db);
        let requests = receiver.requests();
        assert_eq!(requests.len(), 2, "{requests:?}");
        assert_ne!(requests[1].header("X-Stockyard-Delivery"), Some(delivery));
    }

    fn webhooks_are_listed_and_removed(db) {
        with_products(db, &["MUG-1"]);
        let receiver = Receiver::start();
        let kept = Receiver::start();
        let hook = subscribe(db, &receiver.url(), "InventoryChanged,OrderCreated");
        let id = text(&hook["id"]);

        // Generated secrets: shown once in a table, never with --quiet (only the id).
        let add = stockyard(db)
            .args(["webhook", "add", &kept.url(), "--events", "InventoryChanged", "--events", "OrderCreated"])
            .assert()
            .success();
        let table = stdout(&add);
        assert!(table.contains("SECRET") && table.contains("whsec_") && table.contains("shown only this once"), "{table}");
        let quiet = stockyard(db)
            .args(["webhook", "add", "https://hooks.example.com/x", "--events", "OrderCreated", "--quiet"])
            .assert()
            .success();
        let quiet = stdout(&quiet);
        assert_eq!(quiet.lines().count(), 1, "{quiet}");
        assert!(!quiet.contains("whsec_"), "{quiet}");

        let listed = json(db, &["webhook", "list"]);
        assert_eq!(listed["next_cursor"], Value::Null);
        let listed = items(&listed);
        assert_eq!(listed.len(), 3, "{listed:?}");
        assert!(listed.iter().all(|w| w.get("secret").is_none()), "never the secret: {listed:?}");
        let first = listed.iter().find(|w| w["id"] == id).expect("the webhook is listed");
        assert_eq!((&first["events"], &first["active"]), (&serde_json::json!(["InventoryChanged", "OrderCreated"]), &true.into()));
        assert!(listed.iter().any(|w| w["id"] == quiet.trim()), "--quiet printed the id");
        let table = stockyard(db).args(["webhook", "list"]).assert().success();
        let table = stdout(&table);
        for expected in ["ID", "URL", "EVENTS", "ACTIVE", id, receiver.url().as_str(), "InventoryChanged,OrderCreated", "yes"] {
            assert!(table.contains(expected), "{expected} in {table}");
        }

        let removed = json(db, &["webhook", "remove", id]);
        assert_eq!((text(&removed["id"]), &removed["active"]), (id, &false.into()));
        stockyard(db).args(["webhook", "remove", id]).assert().code(3).stderr(contains(id));
        let listed = items(&json(db, &["webhook", "list"]));
        assert_eq!(listed.iter().find(|w| w["id"] == id).map(|w| &w["active"]), Some(&false.into()));

        // New events go to the webhooks still there, not to the removed one.
        receive(db, "MUG-1", "2");
        dispatch(db);
        assert!(receiver.requests().is_empty(), "{:?}", receiver.requests());
        assert_eq!(kept.requests().len(), 1, "{:?}", kept.requests());
    }

    fn bad_webhooks_are_refused(db) {
        init(db);
        let url = "http://127.0.0.1:9/hook";
        let refused = |args: &[&str], code: i32, says: &str| {
            stockyard(db).arg("webhook").args(args).assert().code(code).stderr(contains(says));
        };
        refused(&["add", "ftp://x", "--events", "InventoryChanged"], 6, "ftp://x");
        refused(&["add", "not a url", "--events", "InventoryChanged"], 6, "http://");
        refused(&["add", url, "--events", "InventoryChanged,Nonsense"], 6, "Nonsense");
        refused(&["add", url, "--events", "NotificationDelivered"], 6, "NotificationDelivered");
        refused(&["add", url, "--events", ","], 6, "event type");
        refused(&["add", url], 2, "--events");
        refused(&["remove", "not-an-id"], 6, "not-an-id");
        let mut short = stockyard(db);
        short.args(["webhook", "add", url, "--events", "InventoryChanged", "--secret-stdin"]).write_stdin("short\n");
        short.assert().code(6).stderr(contains("secret"));
        assert!(items(&json(db, &["webhook", "list"])).is_empty(), "nothing was added");
    }

    fn only_managers_and_admins_manage_webhooks(db) {
        init(db);
        for (email, role) in [(VIEWER, "viewer"), ("boss@example.com", "manager")] {
            let mut cmd = stockyard(db);
            cmd.args(["user", "add", email, "--role", role, "--password-stdin"]).write_stdin("correct horse battery");
            cmd.assert().success();
        }
        let acting = |email: &str| -> Command {
            let mut cmd = stockyard(db);
            cmd.args(["--as", email]);
            cmd
        };
        acting(VIEWER).args(["webhook", "list"]).assert().code(5);
        acting(VIEWER).args(["webhook", "add", "http://127.0.0.1:9/", "--events", "OrderCreated"]).assert().code(5);
        let hook = json_of(acting("boss@example.com"), &["webhook", "add", "http://127.0.0.1:9/", "--events", "OrderCreated"]);
        acting(VIEWER).args(["webhook", "remove", text(&hook["id"])]).assert().code(5);
        assert_eq!(items(&json_of(acting("boss@example.com"), &["webhook", "list"])).len(), 1);
        acting(VIEWER).args(["notify", "endpoints"]).assert().code(5);
    }

    fn endpoints_show_each_breaker(db) {
        with_products(db, &["MUG-1"]);
        let receiver = Receiver::start();
        let endpoint = endpoint_of(&receiver);
        subscribe(db, &receiver.url(), "InventoryChanged");
        let none = json(db, &["notify", "endpoints"]);
        assert_eq!((items(&none).len(), &none["next_cursor"]), (0, &Value::Null), "{none}");

        receive(db, "MUG-1", "5");
        dispatch(db);
        let closed = breaker(db, &endpoint).unwrap_or_else(|| panic!("{endpoint} after a delivery"));
        assert_eq!(keys(&closed), ["endpoint", "failures", "open_until", "state", "updated_at"]);
        assert_eq!((text(&closed["state"]), &closed["failures"], &closed["open_until"]), ("closed", &0.into(), &Value::Null));
        let table = stockyard(db).args(["notify", "endpoints"]).assert().success();
        let table = stdout(&table);
        for expected in ["ENDPOINT", "STATE", "FAILURES", "OPEN_UNTIL", endpoint.as_str(), "closed"] {
            assert!(table.contains(expected), "{expected} in {table}");
        }
        let quiet = stockyard(db).args(["notify", "endpoints", "--quiet"]).assert().success();
        assert_eq!(stdout(&quiet).trim(), endpoint);

        // Five failures in a row open it: the endpoint rests, and the next event waits.
        receiver.die();
        for _ in 0..5 {
            receive(db, "MUG-1", "1");
        }
        let report = dispatch(db);
        assert_eq!(report["retrying"], 5, "{report}");
        let open = breaker(db, &endpoint).unwrap_or_else(|| panic!("{endpoint} after failures"));
        assert_eq!((text(&open["state"]), &open["failures"]), ("open", &5.into()), "{open}");
        let until: Timestamp = text(&open["open_until"]).parse().expect("open_until is a time");
        assert!(until > Timestamp::now(), "{open}");
        let sent = receiver.requests().len();
        receive(db, "MUG-1", "1");
        let report = dispatch(db);
        assert_eq!((&report["created"], receiver.requests().len()), (&1.into(), sent), "{report}");
    }

    fn a_second_dispatcher_is_refused_on_sqlite_until_the_first_is_killed(db) {
        init(db);
        let worker = Worker::start(db);
        let once = stockyard(db).args(["notify", "run", "--once"]).timeout(Duration::from_secs(30)).assert();
        match db.backend() {
            Backend::Sqlite => {
                once.code(4).stderr(contains("another notification dispatcher is running"));
                // Not swallowed by the worker loop either: refused at once, not retried.
                stockyard(db)
                    .args(["notify", "run"])
                    .timeout(Duration::from_secs(30))
                    .assert()
                    .code(4)
                    .stderr(contains("another notification dispatcher is running"));
                // Killed outright (SIGKILL), its lease is seen to be free at once, not a
                // minute later when it would lapse.
                drop(worker);
                stockyard(db).args(["notify", "run", "--once"]).timeout(Duration::from_secs(30)).assert().success();
            }
            // PostgreSQL shares the work between dispatchers.
            Backend::Postgres => {
                once.success();
            }
        }
    }
}
