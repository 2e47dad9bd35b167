//! Helpers shared by the binary tests: the real `stockyard` binary pointed at a test database.

pub mod served;

use assert_cmd::Command;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use stockyard_core::{ManualClock, Store};
use stockyard_testkit::TestDb;

/// Settings the binary reads from the environment; cleared so the developer's own can't leak in.
const SETTINGS: [&str; 22] = [
    "STOCKYARD_DB",
    "STOCKYARD_USER",
    "STOCKYARD_CONFIG",
    "STOCKYARD_ALLOCATION",
    "STOCKYARD_RESERVATION_TTL",
    "STOCKYARD_UNPAID_TIMEOUT",
    "STOCKYARD_JWT_SECRET",
    "STOCKYARD_DATA_KEY",
    "STOCKYARD_DATA_KEY_FILE",
    "STOCKYARD_SMTP_URL",
    "STOCKYARD_MAIL_FROM",
    "STOCKYARD_BIND",
    "STOCKYARD_RATE_LIMIT",
    "STOCKYARD_CORS_ORIGINS",
    "STOCKYARD_POOL_SIZE",
    "STOCKYARD_MAX_IN_FLIGHT",
    "STOCKYARD_SWEEP_EVERY",
    "STOCKYARD_DISPATCH_EVERY",
    "STOCKYARD_LOG_FORMAT",
    "STOCKYARD_TLS_CERT",
    "STOCKYARD_TLS_KEY",
    "STOCKYARD_WEBHOOK_ALLOW_PRIVATE",
];

/// The binary, pointed at the test database, with no settings leaking in from outside.
pub fn command(db: &TestDb) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_stockyard"));
    for var in SETTINGS {
        cmd.env_remove(var);
    }
    // A width from the developer's shell would cut table rows.
    cmd.env_remove("COLUMNS");
    if let Some(keyring) = db.key_file() {
        cmd.env("STOCKYARD_DATA_KEY_FILE", keyring);
    }
    // Tests' webhook receivers listen on 127.0.0.1, which deployments may not call.
    cmd.env("STOCKYARD_WEBHOOK_ALLOW_PRIVATE", "1");
    cmd.current_dir(std::env::temp_dir()).arg("--db").arg(db.url());
    cmd
}

/// [`command`] with `assert_cmd`'s assertions.
pub fn stockyard(db: &TestDb) -> Command {
    Command::from_std(command(db))
}

/// Runs a command expected to succeed with JSON output and parses it.
pub fn json(db: &TestDb, args: &[&str]) -> Value {
    json_of(stockyard(db), args)
}

/// [`json`] on a prepared command, e.g. one with an environment variable set.
pub fn json_of(mut cmd: Command, args: &[&str]) -> Value {
    let out = cmd.args(args).args(["--format", "json"]).assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", String::from_utf8_lossy(&out)))
}

/// A store on the test database whose clock stands `ago` before now: what is done through
/// it happened back then. The binary cannot be handed a clock, so a test that needs a hold
/// or an order to have lapsed makes it in the past this way, and the binary, at real time,
/// finds it lapsed — no sleeping until it is.
pub fn store_ago(db: &TestDb, ago: SignedDuration) -> Store {
    db.store_at(&ManualClock::new(Timestamp::now() - ago))
}

pub fn init(db: &TestDb) {
    stockyard(db).arg("init").assert().success();
}

/// Runs a command expected to fail with `code` and returns its stderr.
pub fn refused(mut cmd: Command, args: &[&str], code: i32) -> String {
    let assert = cmd.args(args).assert().code(code);
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

/// Every fragment appears in the message.
pub fn assert_mentions(message: &str, fragments: &[&str]) {
    for fragment in fragments {
        assert!(message.contains(fragment), "{fragment:?} not in {message}");
    }
}

/// The keys of a JSON object, sorted.
pub fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    keys.sort_unstable();
    keys
}

/// An initialised database with one product per SKU.
pub fn with_products(db: &TestDb, skus: &[&str]) {
    init(db);
    for sku in skus {
        stockyard(db).args(["product", "add", "--sku", sku, "--name", sku, "--price", "5"]).assert().success();
    }
}

/// A stock level's `(on_hand, reserved, available)`.
pub fn numbers(level: &Value) -> (i64, i64, i64) {
    let n = |key: &str| level[key].as_i64().unwrap_or(i64::MIN);
    (n("on_hand"), n("reserved"), n("available"))
}

/// The `items` of a JSON list.
pub fn items(list: &Value) -> Vec<Value> {
    list["items"].as_array().cloned().unwrap_or_default()
}

/// A list of `{sku, warehouse, quantity}` objects (a reservation's `items`, an order's
/// `allocations`) as sorted tuples.
pub fn placements(list: &Value) -> Vec<(String, String, i64)> {
    let mut placed: Vec<(String, String, i64)> = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|p| {
            let text = |key: &str| p[key].as_str().unwrap_or_default().to_owned();
            (text("sku"), text("warehouse"), p["quantity"].as_i64().unwrap_or(0))
        })
        .collect();
    placed.sort();
    placed
}

/// The newest events of one type (up to 100).
pub fn events(db: &TestDb, kind: &str) -> Vec<Value> {
    items(&json(db, &["events", "tail", "--type", kind, "--limit", "100"]))
}
