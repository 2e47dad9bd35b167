//! Databases that cannot be opened fail at once with the cause named, and a read-only
//! SQLite file still serves reads.

use crate::common;

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use common::json_of;
use predicates::str::contains;

/// Far below the connection pool's 30 s wait, which a failed open used to sit out.
const AT_ONCE: Duration = Duration::from_secs(10);

fn stockyard(db: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockyard"));
    for (var, _) in std::env::vars().filter(|(k, _)| k.starts_with("STOCKYARD_")) {
        cmd.env_remove(var);
    }
    cmd.current_dir(dir).args(["--db", db]);
    cmd
}

/// Runs a command that must succeed.
fn ok(db: &str, dir: &Path, args: &[&str]) {
    assert_cmd::Command::from_std(stockyard(db, dir)).args(args).assert().success();
}

/// Runs `stock show` on `db` and returns its exit code and stderr, checking it took no wait.
fn fails(db: &str, dir: &Path) -> (Option<i32>, String) {
    let started = Instant::now();
    let out = stockyard(db, dir).args(["stock", "show"]).output().expect("run stockyard");
    assert!(started.elapsed() < AT_ONCE, "{db}: took {:?}", started.elapsed());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    (out.status.code(), stderr)
}

#[test]
fn sqlite_paths_that_are_not_databases_name_the_cause_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("folder.db")).expect("mkdir");
    std::fs::write(dir.path().join("text.db"), "not a database at all, just some text\n".repeat(200)).expect("write");
    let (code, stderr) = fails("sqlite://folder.db", dir.path());
    assert_eq!((code, stderr.contains("is a directory")), (Some(1), true), "{stderr}");
    let (code, stderr) = fails("sqlite://text.db", dir.path());
    assert_eq!((code, stderr.contains("not a SQLite database")), (Some(1), true), "{stderr}");

    // A real store cut short.
    ok("sqlite://whole.db", dir.path(), &["init"]);
    ok("sqlite://whole.db", dir.path(), &["demo", "--products", "50"]);
    let whole = std::fs::read(dir.path().join("whole.db")).expect("read");
    std::fs::write(dir.path().join("cut.db"), &whole[..whole.len() / 2]).expect("write");
    let (code, stderr) = fails("sqlite://cut.db", dir.path());
    assert_eq!((code, stderr.contains("truncated")), (Some(1), true), "{stderr}");
}

#[test]
fn a_read_only_sqlite_file_serves_reads_and_refuses_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = "sqlite://shop.db";
    ok(db, dir.path(), &["init"]);
    ok(db, dir.path(), &["product", "add", "--sku", "RO-1", "--name", "Mug", "--price", "2"]);
    ok(db, dir.path(), &["stock", "receive", "RO-1", "7"]);
    let file = dir.path().join("shop.db");
    let mut permissions = std::fs::metadata(&file).expect("metadata").permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&file, permissions).expect("chmod");

    let levels = json_of(assert_cmd::Command::from_std(stockyard(db, dir.path())), &["stock", "show", "RO-1"]);
    assert_eq!(levels["items"][0]["on_hand"], 7);
    let before = std::fs::read(&file).expect("read");
    let started = Instant::now();
    assert_cmd::Command::from_std(stockyard(db, dir.path()))
        .args(["stock", "receive", "RO-1", "1"])
        .assert()
        .code(1)
        .stderr(contains("read-only"));
    assert!(started.elapsed() < AT_ONCE);
    assert_eq!(std::fs::read(&file).expect("read"), before, "nothing written");
}

#[test]
fn postgres_that_refuses_or_lacks_the_database_names_the_cause_at_once() {
    let (code, stderr) = fails("postgres://postgres@127.0.0.1:1/stockyard", Path::new("."));
    assert_eq!((code, stderr.contains("Connection refused")), (Some(1), true), "{stderr}");
    // Only where the test server runs: the database is the one thing missing.
    let Some(server) = stockyard_testkit::TestDb::postgres() else { return };
    let missing = server.url().rsplit_once('/').map(|(base, _)| format!("{base}/no_such_database_here"));
    let (code, stderr) = fails(&missing.unwrap_or_default(), Path::new("."));
    assert_eq!((code, stderr.contains("does not exist")), (Some(1), true), "{stderr}");
}
