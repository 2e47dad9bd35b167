//! `stock …`, `events …` and `verify` through the real binary on both backends: JSON shapes
//! and numbers, refusals and their exit codes, time travel, the event log and replay.

use crate::common;

use std::{
    io::{BufRead, BufReader},
    process::Stdio,
    sync::mpsc,
    time::Duration,
};

use common::{command, items, json, keys, numbers, stockyard, store_ago, with_products};
use jiff::SignedDuration;
use predicates::{prelude::PredicateBooleanExt, str::contains};
use serde_json::Value;
use stockyard_core::{Actor, Backend};
use stockyard_testkit::{TestDb, backend_tests};

const LEVEL_KEYS: [&str; 8] =
    ["available", "on_hand", "product_id", "reorder_point", "reorder_qty", "reserved", "sku", "warehouse"];

backend_tests! {
    fn receive_adjust_count_and_threshold_print_the_level(db) {
        with_products(db, &["MUG-1"]);
        let received = json(db, &["stock", "receive", "MUG-1", "10", "--reason", "PO-7"]);
        assert_eq!(keys(&received), LEVEL_KEYS);
        assert_eq!((&received["sku"], &received["warehouse"]), (&"MUG-1".into(), &"MAIN".into()));
        assert_eq!(numbers(&received), (10, 0, 10));
        assert_eq!(received["product_id"], json(db, &["product", "show", "MUG-1"])["id"]);

        assert_eq!(numbers(&json(db, &["stock", "adjust", "MUG-1", "--by", "-3", "--reason", "broken"])), (7, 0, 7));
        assert_eq!(numbers(&json(db, &["stock", "adjust", "MUG-1", "--by", "+2", "--reason", "found"])), (9, 0, 9));
        assert_eq!(numbers(&json(db, &["stock", "adjust", "MUG-1", "--set", "12", "--reason", "recount"])), (12, 0, 12));

        let counted = json(db, &["stock", "count", "MUG-1", "11"]);
        let mut expected_keys = [&LEVEL_KEYS[..], &["expected", "variance"]].concat();
        expected_keys.sort_unstable();
        assert_eq!(keys(&counted), expected_keys);
        assert_eq!((numbers(&counted), &counted["expected"], &counted["variance"]), ((11, 0, 11), &12.into(), &(-1).into()));

        let level = json(db, &["stock", "threshold", "MUG-1", "--reorder-point", "15", "--reorder-qty", "40"]);
        assert_eq!(keys(&level), LEVEL_KEYS);
        assert_eq!((&level["reorder_point"], &level["reorder_qty"], numbers(&level)), (&15.into(), &40.into(), (11, 0, 11)));
        let level = json(db, &["stock", "threshold", "MUG-1", "--reorder-point", "5"]);
        assert_eq!((&level["reorder_point"], &level["reorder_qty"]), (&5.into(), &40.into()), "reorder_qty kept");

        let shown = json(db, &["stock", "show"]);
        assert_eq!(keys(&shown), ["items", "next_cursor"]);
        assert_eq!(shown["next_cursor"], Value::Null);
        assert_eq!(items(&shown), std::slice::from_ref(&level));
        assert_eq!(items(&json(db, &["stock", "show", "MUG-1", "--warehouse", "MAIN"])), [level]);

        let table = stockyard(db).args(["stock", "show"]).assert().success();
        let text = String::from_utf8_lossy(&table.get_output().stdout).into_owned();
        for header in ["SKU", "WAREHOUSE", "ON_HAND", "RESERVED", "AVAILABLE", "REORDER_POINT", "REORDER_QTY", "LOW"] {
            assert!(text.contains(header), "{header} in {text}");
        }
        assert!(!text.contains("PRODUCT_ID"), "product id is a wide column: {text}");
        stockyard(db).args(["stock", "show", "--quiet"]).assert().success().stdout("MUG-1\n");
        let csv = stockyard(db).args(["stock", "show", "--format", "csv"]).assert().success();
        assert!(String::from_utf8_lossy(&csv.get_output().stdout)
            .starts_with("sku,warehouse,on_hand,reserved,available,reorder_point,reorder_qty,low,product_id\nMUG-1,MAIN,11,0,11,5,40,,"));
    }

    fn transfer_moves_stock_and_logs_both_sides(db) {
        with_products(db, &["T-1"]);
        stockyard(db).args(["warehouse", "add", "EAST", "--name", "East"]).assert().success();
        stockyard(db).args(["stock", "receive", "T-1", "10"]).assert().success();
        let transfer = json(db, &["stock", "transfer", "T-1", "4", "--from", "MAIN", "--to", "EAST"]);
        assert_eq!(keys(&transfer), ["from", "quantity", "sku", "to"]);
        assert_eq!((&transfer["sku"], &transfer["quantity"]), (&"T-1".into(), &4.into()));
        assert_eq!((&transfer["from"]["warehouse"], numbers(&transfer["from"])), (&"MAIN".into(), (6, 0, 6)));
        assert_eq!((&transfer["to"]["warehouse"], numbers(&transfer["to"])), (&"EAST".into(), (4, 0, 4)));
        assert_eq!(keys(&transfer["from"]), LEVEL_KEYS);

        stockyard(db)
            .args(["stock", "transfer", "T-1", "1", "--from", "EAST", "--to", "MAIN"])
            .assert()
            .success()
            .stdout("Moved 1 × T-1 from EAST (now 3 on hand) to MAIN (now 7 on hand).\n");
        let levels = json(db, &["stock", "show", "T-1"]);
        let by_warehouse: Vec<(&str, i64)> =
            levels["items"].as_array().into_iter().flatten().map(|l| (l["warehouse"].as_str().unwrap_or(""), numbers(l).0)).collect();
        assert_eq!(by_warehouse, [("EAST", 3), ("MAIN", 7)]);

        let changed = items(&json(db, &["events", "tail", "--type", "InventoryChanged", "--limit", "2"]));
        assert_eq!(changed.len(), 2);
        let sides: Vec<(&str, &str, i64)> = changed
            .iter()
            .map(|e| {
                assert_eq!(e["type"], "InventoryChanged");
                let p = &e["payload"];
                (p["warehouse"].as_str().unwrap_or(""), p["reason"].as_str().unwrap_or(""), p["on_hand_delta"].as_i64().unwrap_or(0))
            })
            .collect();
        assert!(sides.contains(&("EAST", "transfer", -1)) && sides.contains(&("MAIN", "transfer", 1)), "{sides:?}");
    }

    fn refusals_exit_with_the_contract_codes_and_change_nothing(db) {
        with_products(db, &["R-1"]);
        stockyard(db).args(["warehouse", "add", "EAST", "--name", "East"]).assert().success();
        stockyard(db).args(["stock", "receive", "R-1", "10"]).assert().success();
        let before = json(db, &["stock", "show"]);
        let cases: &[(&[&str], i32, &[&str])] = &[
            (&["stock", "adjust", "R-1", "--by", "-11", "--reason", "x"], 4, &["R-1", "MAIN", "11", "10", "reserved 0"]),
            (&["stock", "transfer", "R-1", "11", "--from", "MAIN", "--to", "EAST"], 4, &["R-1", "11", "10"]),
            (&["stock", "transfer", "R-1", "1", "--from", "EAST", "--to", "MAIN"], 4, &["R-1", "EAST"]),
            (&["product", "delete", "R-1"], 4, &["R-1", "10 at MAIN"]),
            (&["stock", "receive", "NOPE", "1"], 3, &["NOPE"]),
            (&["stock", "adjust", "NOPE", "--by", "1", "--reason", "x"], 3, &["NOPE"]),
            (&["stock", "show", "NOPE"], 3, &["NOPE"]),
            (&["stock", "history", "NOPE"], 3, &["NOPE"]),
            (&["stock", "receive", "R-1", "1", "--warehouse", "NOWHERE"], 3, &["NOWHERE"]),
            (&["stock", "adjust", "R-1", "--by", "0", "--reason", "x"], 6, &["by"]),
            (&["stock", "adjust", "R-1", "--set", "-1", "--reason", "x"], 6, &["set"]),
            (&["stock", "adjust", "R-1", "--by", "1", "--reason", " "], 6, &["reason"]),
            (&["stock", "receive", "R-1", "-5"], 6, &["quantity", "-5"]),
            (&["stock", "receive", "R-1", "0"], 6, &["quantity"]),
            (&["stock", "receive", "R-1", "many"], 6, &["many"]),
            (&["stock", "count", "R-1", "-1"], 6, &["quantity"]),
            (&["stock", "transfer", "R-1", "-2", "--from", "MAIN", "--to", "EAST"], 6, &["quantity"]),
            (&["stock", "transfer", "R-1", "1", "--from", "MAIN", "--to", "MAIN"], 6, &["MAIN"]),
            (&["stock", "threshold", "R-1", "--reorder-point", "-1"], 6, &["reorder point"]),
            (&["stock", "show", "--at", "yesterday"], 6, &["yesterday"]),
            (&["stock", "show", "--at", "15x"], 6, &["15x"]),
            (&["stock", "show", "--limit", "0"], 6, &["limit"]),
            (&["events", "tail", "--type", "Nope"], 6, &["Nope"]),
            (&["events", "tail", "--limit", "0"], 6, &["limit"]),
            (&["stock", "adjust", "R-1", "--by", "1", "--set", "3", "--reason", "x"], 2, &["--by", "--set"]),
            (&["stock", "adjust", "R-1", "--reason", "x"], 2, &["--by"]),
            (&["stock", "adjust", "R-1", "--by", "1"], 2, &["--reason"]),
            (&["stock", "transfer", "R-1", "1", "--from", "MAIN"], 2, &["--to"]),
        ];
        for (args, code, names) in cases {
            let assert = stockyard(db).args(*args).assert().code(*code);
            let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
            for name in *names {
                assert!(stderr.contains(name), "{args:?}: {name:?} not in {stderr}");
            }
        }
        assert_eq!(json(db, &["stock", "show"]), before, "refused commands changed nothing");
        assert_eq!(items(&json(db, &["stock", "history", "R-1"])).len(), 1);
        assert_eq!(json(db, &["product", "show", "R-1"])["sku"], "R-1");
    }

    fn low_stock_and_reorder_suggestions(db) {
        with_products(db, &["A-1", "B-1", "C-1"]);
        for (sku, qty) in [("A-1", "3"), ("B-1", "50"), ("C-1", "9")] {
            stockyard(db).args(["stock", "receive", sku, qty]).assert().success();
        }
        stockyard(db).args(["stock", "threshold", "A-1", "--reorder-point", "5", "--reorder-qty", "20"]).assert().success();
        stockyard(db).args(["stock", "threshold", "B-1", "--reorder-point", "5", "--reorder-qty", "20"]).assert().success();
        stockyard(db).args(["stock", "threshold", "C-1", "--reorder-point", "10"]).assert().success();
        let low = json(db, &["stock", "show", "--low"]);
        let skus: Vec<&str> = low["items"].as_array().into_iter().flatten().filter_map(|l| l["sku"].as_str()).collect();
        assert_eq!(skus, ["A-1", "C-1"]);
        let table = stockyard(db).args(["stock", "show", "--low"]).assert().success();
        assert!(String::from_utf8_lossy(&table.get_output().stdout).contains("yes"));

        let reorder = json(db, &["stock", "reorder"]);
        let suggested: Vec<(&str, i64)> = reorder["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| (s["sku"].as_str().unwrap_or(""), s["suggested_qty"].as_i64().unwrap_or(0)))
            .collect();
        assert_eq!(suggested, [("A-1", 20), ("C-1", 2)], "most urgent first; at least the reorder quantity");
        assert!(items(&json(db, &["stock", "reorder", "--warehouse", "MAIN"])).len() == 2);
    }

    fn show_at_a_past_time_reads_the_ledger(db) {
        with_products(db, &["H-1"]);
        // The first receipt an hour ago (the binary cannot be handed a clock), the second now.
        let an_hour_ago = store_ago(db, SignedDuration::from_hours(1));
        an_hour_ago.inventory().receive(&Actor::local_admin(), "H-1", None, 10, None).expect("receive an hour ago");
        stockyard(db).args(["stock", "receive", "H-1", "5"]).assert().success();
        let history = items(&json(db, &["stock", "history", "H-1"]));
        let first = history[0]["occurred_at"].as_str().unwrap_or_default().to_owned();
        let on_hand = |args: &[&str]| numbers(&items(&json(db, args))[0]).0;
        assert_eq!(on_hand(&["stock", "show", "H-1", "--at", &first]), 10);
        assert_eq!(on_hand(&["stock", "show", "H-1", "--at", "30m"]), 10, "a duration ago, between the two");
        assert_eq!(on_hand(&["stock", "show", "H-1", "--at", "30d"]), 0);
        assert_eq!(on_hand(&["stock", "show", "H-1", "--at", "2000-01-01T00:00:00Z"]), 0);
        assert_eq!(on_hand(&["stock", "show", "H-1"]), 15);
    }

    fn history_lists_movements_in_order(db) {
        with_products(db, &["M-1"]);
        stockyard(db).args(["warehouse", "add", "EAST", "--name", "East"]).assert().success();
        stockyard(db).args(["stock", "receive", "M-1", "10", "--reason", "PO-1"]).assert().success();
        stockyard(db).args(["stock", "adjust", "M-1", "--by", "-2", "--reason", "damaged"]).assert().success();
        stockyard(db).args(["stock", "transfer", "M-1", "3", "--from", "MAIN", "--to", "EAST"]).assert().success();
        stockyard(db).args(["stock", "count", "M-1", "4"]).assert().success();

        let history = json(db, &["stock", "history", "M-1"]);
        assert_eq!(history["next_cursor"], Value::Null);
        let rows: Vec<(&str, &str, i64, i64, &str)> = history["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                (
                    m["kind"].as_str().unwrap_or(""),
                    m["warehouse"].as_str().unwrap_or(""),
                    m["on_hand_delta"].as_i64().unwrap_or(0),
                    m["on_hand"].as_i64().unwrap_or(0),
                    m["reason"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("receive", "MAIN", 10, 10, "PO-1"),
                ("adjust", "MAIN", -2, 8, "damaged"),
                ("transfer_out", "MAIN", -3, 5, "transfer"),
                ("transfer_in", "EAST", 3, 3, "transfer"),
                ("count", "MAIN", -1, 4, "count"),
            ]
        );
        let seqs: Vec<i64> = history["items"].as_array().into_iter().flatten().filter_map(|m| m["seq"].as_i64()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

        let east = items(&json(db, &["stock", "history", "M-1", "--warehouse", "EAST"]));
        assert_eq!(east.len(), 1);
        assert_eq!(east[0]["kind"], "transfer_in");

        let page = json(db, &["stock", "history", "M-1", "--limit", "3"]);
        let cursor = page["next_cursor"].as_str().unwrap_or_default().to_owned();
        let rest = json(db, &["stock", "history", "M-1", "--limit", "3", "--cursor", &cursor]);
        assert_eq!([items(&page), items(&rest)].concat(), items(&history));

        let table = stockyard(db).args(["stock", "history", "M-1"]).assert().success();
        let text = String::from_utf8_lossy(&table.get_output().stdout).into_owned();
        assert!(text.contains("ON_HAND_DELTA") && text.contains("+10") && text.contains("-2"), "{text}");
    }

    fn events_tail_shows_the_newest_and_pages_by_seq(db) {
        with_products(db, &["E-1"]);
        for _ in 0..5 {
            stockyard(db).args(["stock", "receive", "E-1", "1"]).assert().success();
        }
        let all = items(&json(db, &["events", "tail", "--limit", "1000"]));
        let seqs: Vec<i64> = all.iter().filter_map(|e| e["seq"].as_i64()).collect();
        assert!(seqs.len() >= 7 && seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        assert_eq!(keys(&all[0]), ["actor", "aggregate_id", "aggregate_type", "occurred_at", "payload", "seq", "type"]);

        let newest = json(db, &["events", "tail", "--limit", "3"]);
        let newest_seqs: Vec<i64> = items(&newest).iter().filter_map(|e| e["seq"].as_i64()).collect();
        assert_eq!(newest_seqs, seqs[seqs.len() - 3..]);
        let last = seqs[seqs.len() - 1];
        assert_eq!(newest["next_cursor"], last.to_string());

        let changed = items(&json(db, &["events", "tail", "--type", "InventoryChanged", "--limit", "2"]));
        assert_eq!(changed.len(), 2);
        assert!(changed.iter().all(|e| e["type"] == "InventoryChanged"));
        assert_eq!(changed[1]["seq"], last);

        let since = seqs[1].to_string();
        let after = items(&json(db, &["events", "tail", "--since", &since, "--limit", "2"]));
        let after_seqs: Vec<i64> = after.iter().filter_map(|e| e["seq"].as_i64()).collect();
        assert_eq!(after_seqs, seqs[2..4]);
        let nothing = json(db, &["events", "tail", "--since", &last.to_string()]);
        assert_eq!((items(&nothing).len(), &nothing["next_cursor"]), (0, &Value::Null));
    }

    fn events_tail_follow_prints_new_events_as_they_arrive(db) {
        with_products(db, &["F-1"]);
        let mut child = command(db)
            .args(["events", "tail", "--follow", "--type", "InventoryChanged", "--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start events tail --follow");
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        stockyard(db).args(["stock", "receive", "F-1", "7"]).assert().success();
        let line = received.recv_timeout(Duration::from_secs(20));
        let _ = child.kill();
        let _ = child.wait();
        let line = line.expect("an event line within 20 s");
        let event: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"));
        assert_eq!((&event["type"], &event["payload"]["sku"], &event["payload"]["on_hand_delta"]), (&"InventoryChanged".into(), &"F-1".into(), &7.into()));
    }

    fn replay_and_verify_agree_with_the_projection(db) {
        with_products(db, &["V-1", "V-2"]);
        stockyard(db).args(["warehouse", "add", "EAST", "--name", "East"]).assert().success();
        stockyard(db).args(["stock", "receive", "V-1", "10"]).assert().success();
        stockyard(db).args(["stock", "transfer", "V-1", "4", "--from", "MAIN", "--to", "EAST"]).assert().success();
        stockyard(db).args(["stock", "threshold", "V-2", "--reorder-point", "3"]).assert().success();

        let replay = json(db, &["events", "replay"]);
        assert_eq!(
            keys(&replay),
            ["corrected", "elapsed_ms", "events_applied", "from_seq", "levels", "snapshot_taken", "to_seq"]
        );
        assert_eq!((&replay["corrected"], &replay["levels"], &replay["events_applied"]), (&0.into(), &3.into(), &4.into()));
        stockyard(db).args(["events", "replay"]).assert().success().stdout(contains("Replayed 4 stock events"));

        let verify = json(db, &["verify"]);
        assert_eq!((&verify["ok"], &verify["differences"]), (&true.into(), &serde_json::json!([])));
        stockyard(db).arg("verify").assert().success().stdout(contains("OK"));
    }

    fn verify_reports_a_drifted_projection_and_fails(db) {
        with_products(db, &["D-1"]);
        stockyard(db).args(["stock", "receive", "D-1", "10"]).assert().success();
        corrupt(db, "UPDATE stock_levels SET on_hand = on_hand + 2");

        let assert = stockyard(db).args(["verify", "--format", "json"]).assert().code(1);
        assert!(String::from_utf8_lossy(&assert.get_output().stderr).contains("verify found 1 difference "));
        let report: Value = serde_json::from_slice(&assert.get_output().stdout).expect("the report as JSON");
        assert_eq!(report["ok"], false);
        assert_eq!(report["differences"], serde_json::json!([{
            "product_id": json(db, &["product", "show", "D-1"])["id"],
            "sku": "D-1", "warehouse": "MAIN", "field": "on_hand", "projection": 12, "replay": 10,
        }]));
        stockyard(db)
            .arg("verify")
            .assert()
            .code(1)
            .stdout(contains("D-1").and(contains("on_hand")).and(contains("12")))
            .stderr(contains("events replay"));

        assert_eq!(json(db, &["events", "replay"])["corrected"], 1);
        assert_eq!(json(db, &["verify"])["ok"], true);
        assert_eq!(numbers(&items(&json(db, &["stock", "show", "D-1"]))[0]), (10, 0, 10));
    }
}

/// Changes the database behind the core's back, as a bug or a hand edit would.
fn corrupt(db: &TestDb, sql: &str) {
    match db.backend() {
        Backend::Sqlite => {
            let path = db.url().trim_start_matches("sqlite://");
            rusqlite::Connection::open(path).and_then(|c| c.execute_batch(sql)).expect("edit the SQLite file");
        }
        Backend::Postgres => {
            let mut client = postgres::Client::connect(db.url(), postgres::NoTls).expect("connect to PostgreSQL");
            client.batch_execute(sql).expect("edit the PostgreSQL database");
        }
    }
}
