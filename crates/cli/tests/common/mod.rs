//! Helpers shared by the binary tests: the real `stockyard` binary pointed at a test database.

use assert_cmd::Command;
use serde_json::Value;
use stockyard_testkit::TestDb;

/// The binary, pointed at the test database, with no settings leaking in from outside.
pub fn command(db: &TestDb) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_stockyard"));
    for var in ["STOCKYARD_DB", "STOCKYARD_USER", "STOCKYARD_CONFIG"] {
        cmd.env_remove(var);
    }
    cmd.current_dir(std::env::temp_dir()).arg("--db").arg(db.url());
    cmd
}

/// [`command`] with `assert_cmd`'s assertions.
pub fn stockyard(db: &TestDb) -> Command {
    Command::from_std(command(db))
}

/// Runs a command expected to succeed with JSON output and parses it.
pub fn json(db: &TestDb, args: &[&str]) -> Value {
    let out = stockyard(db).args(args).args(["--format", "json"]).assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", String::from_utf8_lossy(&out)))
}

pub fn init(db: &TestDb) {
    stockyard(db).arg("init").assert().success();
}

/// The keys of a JSON object, sorted.
pub fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    keys.sort_unstable();
    keys
}
