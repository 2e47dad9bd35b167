//! `audit list|verify|head`, `verify`, `init` and `key rotate` through the real binary: the
//! chain holds, a tampered record or table fails the checks by name, an anchor is printed and
//! checked, rotation adds a key and re-encrypts, rotations run at once by several processes
//! leave every value readable, and a keyring that lacks the keys in use is refused (by `init`
//! too, which never makes one then).

use crate::common;

use std::process::Stdio;

use common::{command, init, items, json, stockyard, with_products};
use predicates::{prelude::PredicateBooleanExt, str::contains};
use stockyard_testkit::{TestDb, backend_tests};

backend_tests! {
    fn audit_list_and_verify(db) {
        with_products(db, &["MUG-1"]);
        stockyard(db).args(["stock", "receive", "MUG-1", "5"]).assert().success();
        let products = items(&json(db, &["audit", "list", "--entity", "product"]));
        assert!(products.iter().any(|r| r["action"] == "product.create"));
        assert!(products.iter().all(|r| r["entity_type"] == "product" && r["hash"].as_str().is_some_and(|h| h.len() == 64)));
        let report = json(db, &["audit", "verify"]);
        assert_eq!(report["ok"], true);
        let verified = json(db, &["verify"]);
        assert_eq!((&verified["ok"], &verified["audit"]["ok"]), (&true.into(), &true.into()));

        let target = db.number("SELECT MIN(seq) FROM audit_log WHERE action = 'stock.receive'");
        db.sql(&format!("UPDATE audit_log SET actor = 'someone-else' WHERE seq = {target}"));
        stockyard(db)
            .args(["audit", "verify"])
            .assert()
            .code(1)
            .stderr(contains(format!("audit record {target}")).and(contains("edited")));
        stockyard(db).arg("verify").assert().code(1).stderr(contains("the audit chain is broken"));
        let report = json_failing(db, &["audit", "verify"]);
        assert_eq!((&report["ok"], &report["problem"]["seq"]), (&false.into(), &target.into()));
    }

    fn audit_head_anchors_and_verify_names_an_edited_table(db) {
        with_products(db, &["MUG-1"]);
        stockyard(db).args(["stock", "receive", "MUG-1", "5"]).assert().success();
        let head = json(db, &["audit", "head"]);
        let anchor = head["anchor"].as_str().expect("anchor").to_owned();
        assert_eq!(head["length"], db.number("SELECT COUNT(*) FROM audit_log"));
        assert_eq!(anchor, format!("{}:{}", head["seq"], head["hash"].as_str().expect("hash")));
        stockyard(db).args(["audit", "head"]).assert().success().stdout(contains("ANCHOR").and(contains(anchor.as_str())));
        let verified = json(db, &["verify", "--anchor", &anchor]);
        assert_eq!((&verified["ok"], &verified["projections"]["ok"]), (&true.into(), &true.into()));
        assert_eq!(verified["audit"]["anchor"]["seq"], head["seq"]);
        stockyard(db).args(["audit", "verify", "--anchor", "1:nothex"]).assert().code(6).stderr(contains("anchor"));
        let forged = format!("{}:{}", head["seq"], "0".repeat(64));
        stockyard(db).args(["audit", "verify", "--anchor", &forged]).assert().code(1).stderr(contains("anchor"));
        stockyard(db).args(["verify", "--anchor", &forged]).assert().code(1).stderr(contains("the audit chain is broken"));

        db.sql("UPDATE stock_movements SET on_hand_delta = 50");
        stockyard(db)
            .arg("verify")
            .assert()
            .code(1)
            .stdout(contains("stock_movements"))
            .stderr(contains("stock_movements").and(contains("on_hand_delta")));
        let report = json_failing(db, &["verify"]);
        assert_eq!((&report["ok"], &report["projections"]["mismatches"][0]["table"]), (&false.into(), &"stock_movements".into()));
    }

    fn key_rotate_adds_a_key_and_reseals(db) {
        init(db);
        let rotated = json(db, &["key", "rotate"]);
        assert_eq!((rotated["keyring"].as_array().map(Vec::len), &rotated["resealed"]), (Some(2), &1.into()));
        assert_eq!(json(db, &["key", "rotate", "--resume"])["resealed"], 0);

        let dir = tempfile::tempdir().expect("dir");
        let bad = dir.path().join("new.key");
        std::fs::write(&bad, "too short").expect("write");
        stockyard(db)
            .args(["key", "rotate", "--new-key-file"])
            .arg(&bad)
            .assert()
            .code(6)
            .stderr(contains("new key file"));
        let good = dir.path().join("good.key");
        std::fs::write(&good, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").expect("write");
        let rotated = json(db, &["key", "rotate", "--new-key-file", good.to_str().expect("path")]);
        assert_eq!(rotated["keyring"].as_array().map(Vec::len), Some(3));
    }
}

backend_tests! {
    fn concurrent_key_rotations_keep_every_value_readable(db) {
        let order = sealed_values(db);
        let rotations: Vec<_> = (0..5)
            .map(|_| command(db).args(["key", "rotate"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn"))
            .collect();
        for rotation in rotations {
            let out = rotation.wait_with_output().expect("wait");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        assert_eq!(json(db, &["order", "show", &order])["customer"]["email"], "jane@example.com");
        let verified = json(db, &["verify"]);
        assert_eq!((&verified["ok"], &verified["keys"]["missing"]), (&true.into(), &serde_json::json!([])));
        assert_eq!(verified["keys"]["in_use"].as_array().map(Vec::len), Some(1), "{verified}");
        // One more rotation opens every sealed value: the signing secret, the customer's
        // details and the webhook's secret.
        let last = json(db, &["key", "rotate"]);
        assert_eq!(last["keyring"].as_array().map(Vec::len), Some(7), "every rotation's key is kept");
        assert!(last["resealed"].as_i64().is_some_and(|n| n >= 5), "{last}");
    }

    fn a_keyring_without_the_keys_in_use_is_refused_and_init_never_makes_one(db) {
        let order = sealed_values(db);
        let path = db.key_file().unwrap_or_else(|| format!("{}.key", db.url().trim_start_matches("sqlite://")).into());
        let moved = path.with_extension("moved");
        std::fs::rename(&path, &moved).expect("move the keyring away");
        for args in [&["init"][..], &["order", "show", &order], &["verify"]] {
            stockyard(db).args(args).assert().code(1).stderr(contains("cannot read the keyring"));
        }
        assert!(!path.exists(), "init made no keyring for an initialised store");
        // Another key, as a random STOCKYARD_DATA_KEY would be: refused, naming the key in use.
        let mut other = command(db);
        other.env_remove("STOCKYARD_DATA_KEY_FILE").env("STOCKYARD_DATA_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
        assert_cmd::Command::from_std(other)
            .args(["order", "show", &order])
            .assert()
            .code(1)
            .stderr(contains("does not hold key"));
        std::fs::rename(&moved, &path).expect("restore");
        assert_eq!(json(db, &["verify"])["ok"], true);
        assert_eq!(json(db, &["order", "show", &order])["customer"]["email"], "jane@example.com");
        // A value under a key the keyring lacks (an edit past the store): verify names it.
        db.sql("UPDATE webhooks SET secret = 'sy1:k0123456789ab:AAAA'");
        stockyard(db).arg("verify").assert().code(1).stderr(contains("lacks key(s) k0123456789ab"));
    }
}

/// An initialised store with an order (sealed customer details) and a webhook (a sealed
/// secret) beside the sealed signing secret; returns the order's id.
fn sealed_values(db: &TestDb) -> String {
    with_products(db, &["MUG-1"]);
    stockyard(db).args(["stock", "receive", "MUG-1", "5"]).assert().success();
    let order = json(
        db,
        &[
            "order",
            "create",
            "--customer",
            "jane@example.com",
            "--name",
            "Jane",
            "--phone",
            "+44 1",
            "--line",
            "MUG-1:1",
        ],
    );
    stockyard(db).args(["webhook", "add", "http://127.0.0.1:9/hook", "--events", "OrderCreated"]).assert().success();
    order["id"].as_str().expect("order id").to_owned()
}

/// JSON from a command expected to fail with exit 1 (the report is still printed).
fn json_failing(db: &TestDb, args: &[&str]) -> serde_json::Value {
    let out = stockyard(db).args(args).args(["--format", "json"]).assert().code(1).get_output().stdout.clone();
    serde_json::from_slice(&out).expect("JSON")
}

#[test]
fn postgresql_needs_a_data_key() {
    let Some(db) = TestDb::migrated_postgres() else { return };
    let mut cmd = command(&db);
    cmd.env_remove("STOCKYARD_DATA_KEY_FILE").arg("init");
    let out = cmd.output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("STOCKYARD_DATA_KEY"));
    // A single key from the environment works, but rotation wants a keyring file.
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let mut cmd = command(&db);
    cmd.env_remove("STOCKYARD_DATA_KEY_FILE").env("STOCKYARD_DATA_KEY", key).arg("init");
    assert!(cmd.output().expect("run").status.success());
    let mut cmd = command(&db);
    cmd.env_remove("STOCKYARD_DATA_KEY_FILE").env("STOCKYARD_DATA_KEY", key).args(["key", "rotate"]);
    let out = cmd.output().expect("run");
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stderr).contains("STOCKYARD_DATA_KEY_FILE"));
}
