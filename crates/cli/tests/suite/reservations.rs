//! `reserve`, `release` and `sweep` through the real binary on both backends: what each
//! prints, all-or-nothing holds, refusals and their exit codes, expiry, allocation and its
//! settings, and (SQLite) many processes racing for the last units.

use crate::common;

use std::process::{Output, Stdio};

use assert_cmd::Command;
use common::{
    assert_mentions, command, events, items, json, json_of, keys, numbers, placements, refused, stockyard, store_ago,
    with_products,
};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use stockyard_core::{
    Actor,
    inventory::{Reservation, ReserveRequest},
};
use stockyard_testkit::{TestDb, backend_tests};

const RESERVATION_KEYS: [&str; 9] =
    ["allocation", "created_at", "expires_at", "items", "owner", "reference", "reservation_id", "status", "updated_at"];
const LINE_KEYS: [&str; 4] = ["product_id", "quantity", "sku", "warehouse"];

/// Every stock level of a SKU as (warehouse, (on_hand, reserved, available)), by warehouse.
fn levels(db: &TestDb, sku: &str) -> Vec<(String, (i64, i64, i64))> {
    let mut levels: Vec<(String, (i64, i64, i64))> = items(&json(db, &["stock", "show", sku]))
        .iter()
        .map(|l| (l["warehouse"].as_str().unwrap_or_default().to_owned(), numbers(l)))
        .collect();
    levels.sort();
    levels
}

/// The one stock level of a SKU stocked only at MAIN.
fn main_level(db: &TestDb, sku: &str) -> (i64, i64, i64) {
    match levels(db, sku).as_slice() {
        [(warehouse, numbers)] if warehouse == "MAIN" => *numbers,
        other => panic!("{sku}: expected one level at MAIN, got {other:?}"),
    }
}

/// A reservation's items as (sku, warehouse, quantity), sorted.
fn lines(reservation: &Value) -> Vec<(String, String, i64)> {
    for item in reservation["items"].as_array().unwrap_or_else(|| panic!("no items: {reservation}")) {
        assert_eq!(keys(item), LINE_KEYS, "{item}");
    }
    placements(&reservation["items"])
}

fn line(sku: &str, warehouse: &str, quantity: i64) -> (String, String, i64) {
    (sku.to_owned(), warehouse.to_owned(), quantity)
}

/// A UUID in its hyphenated form.
fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

/// An RFC 3339 UTC time.
fn time(value: &Value) -> Timestamp {
    value
        .as_str()
        .filter(|t| t.ends_with('Z'))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("not an RFC 3339 UTC time: {value}"))
}

/// `reserve ARGS --format json` on a prepared command, with the time just before and after.
fn reserve_timed(cmd: Command, args: &[&str]) -> (Value, Timestamp, Timestamp) {
    let before = Timestamp::now();
    let reservation = json_of(cmd, &[&["reserve"], args].concat());
    (reservation, before, Timestamp::now())
}

/// A checkout reservation of `quantity` × `sku` at MAIN by the local admin (whom the
/// binary acts as), made an hour ago with the default 15-minute TTL: long lapsed.
fn checkout_an_hour_ago(db: &TestDb, sku: &str, quantity: i64) -> Reservation {
    let request =
        ReserveRequest { lines: vec![(sku.into(), quantity)], warehouse: Some("MAIN".into()), ..Default::default() };
    let store = store_ago(db, SignedDuration::from_hours(1));
    store.inventory().reserve(&Actor::local_admin(), request).expect("reserve an hour ago")
}

/// The reservation was made while the command ran and expires `ttl` after that.
fn assert_expires_in(reservation: &Value, ttl: SignedDuration, before: Timestamp, after: Timestamp) {
    let (created, expires) = (time(&reservation["created_at"]), time(&reservation["expires_at"]));
    assert!(before <= created && created <= after, "created {created} outside {before}..{after}");
    assert_eq!(expires.duration_since(created), ttl, "{reservation}");
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

backend_tests! {
    fn reserve_prints_the_id_or_the_reservation_and_holds_the_stock(db) {
        with_products(db, &["MUG-1", "CUP-1"]);
        stockyard(db).args(["stock", "receive", "MUG-1", "10"]).assert().success();
        stockyard(db).args(["stock", "receive", "CUP-1", "4"]).assert().success();

        let table = stdout(stockyard(db).args(["reserve", "MUG-1:2"]).assert().success().get_output());
        let table_id = table.strip_suffix('\n').unwrap_or_else(|| panic!("one line: {table:?}"));
        assert!(is_uuid(table_id), "only the id on one line: {table:?}");

        let quiet = stdout(stockyard(db).args(["reserve", "MUG-1:1", "--quiet"]).assert().success().get_output());
        let quiet_id = quiet.strip_suffix('\n').unwrap_or_else(|| panic!("one line: {quiet:?}"));
        assert!(is_uuid(quiet_id), "only the id on one line: {quiet:?}");
        assert_ne!(table_id, quiet_id);

        let (reservation, before, after) = reserve_timed(stockyard(db), &["MUG-1:3", "CUP-1:1", "--ref", "cart-1"]);
        assert_eq!(keys(&reservation), RESERVATION_KEYS);
        let id = reservation["reservation_id"].as_str().unwrap_or_default();
        assert!(is_uuid(id) && id != table_id && id != quiet_id, "{reservation}");
        assert_eq!(
            (&reservation["status"], &reservation["reference"], &reservation["owner"]),
            (&"active".into(), &"cart-1".into(), &"local-admin".into())
        );
        assert_eq!(lines(&reservation), [line("CUP-1", "MAIN", 1), line("MUG-1", "MAIN", 3)]);
        let mug = reservation["items"].as_array().into_iter().flatten().find(|l| l["sku"] == "MUG-1");
        assert_eq!(mug.map(|l| &l["product_id"]), Some(&json(db, &["product", "show", "MUG-1"])["id"]));
        assert_expires_in(&reservation, SignedDuration::from_mins(15), before, after);
        assert_eq!(reservation["updated_at"], reservation["created_at"]);

        let (short, before, after) = reserve_timed(stockyard(db), &["MUG-1:1", "--ttl", "90s"]);
        assert_expires_in(&short, SignedDuration::from_secs(90), before, after);
        assert_eq!((&short["reference"], &short["status"]), (&Value::Null, &"active".into()));
        assert_eq!(lines(&short), [line("MUG-1", "MAIN", 1)]);

        assert_eq!(main_level(db, "MUG-1"), (10, 2 + 1 + 3 + 1, 3));
        assert_eq!(main_level(db, "CUP-1"), (4, 1, 3));
        let reserved = events(db, "InventoryReserved");
        assert_eq!(reserved.len(), 5, "one event per line: {reserved:?}");
        assert!(reserved.iter().any(|e| e["aggregate_id"] == table_id && e["payload"]["reserved_delta"] == 2));

        // The printed ids are the reservations: releasing them gives their units back.
        stockyard(db).args(["release", table_id]).assert().success();
        stockyard(db).args(["release", quiet_id]).assert().success();
        assert_eq!(main_level(db, "MUG-1"), (10, 4, 6));
        stockyard(db).arg("verify").assert().success();
    }

    fn a_reservation_takes_every_line_or_none(db) {
        with_products(db, &["A-1", "B-1"]);
        stockyard(db).args(["stock", "receive", "A-1", "10"]).assert().success();
        stockyard(db).args(["stock", "receive", "B-1", "5"]).assert().success();

        let stderr = refused(stockyard(db), &["reserve", "A-1:3", "B-1:99"], 4);
        assert_mentions(&stderr, &["B-1 at all warehouses needs 99 but only 5 available (on hand 5, reserved 0)"]);
        assert!(!stderr.contains("A-1"), "A-1 is not short: {stderr}");
        // At a named warehouse the guarded updates refuse it instead of the allocation: nothing held either.
        let stderr = refused(stockyard(db), &["reserve", "A-1:3", "B-1:99", "--warehouse", "MAIN"], 4);
        assert_mentions(&stderr, &["B-1 at MAIN needs 99 but only 5 available"]);
        let stderr = refused(stockyard(db), &["reserve", "A-1:11", "B-1:6"], 4);
        assert_mentions(&stderr, &["A-1 at all warehouses needs 11", "B-1 at all warehouses needs 6"]);

        assert_eq!((main_level(db, "A-1"), main_level(db, "B-1")), ((10, 0, 10), (5, 0, 5)), "nothing reserved");
        assert!(events(db, "InventoryReserved").is_empty());

        let both = json(db, &["reserve", "A-1:3", "B-1:5"]);
        assert_eq!(lines(&both), [line("A-1", "MAIN", 3), line("B-1", "MAIN", 5)]);
        let summed = json(db, &["reserve", "A-1:1", "A-1:2"]);
        assert_eq!(lines(&summed), [line("A-1", "MAIN", 3)], "a SKU named twice is one line");
        assert_eq!((main_level(db, "A-1"), main_level(db, "B-1")), ((10, 6, 4), (5, 5, 0)));
        let stderr = refused(stockyard(db), &["reserve", "A-1:1", "B-1:1"], 4);
        assert_mentions(&stderr, &["B-1 at all warehouses needs 1 but only 0 available (on hand 5, reserved 5)"]);
        assert_eq!(main_level(db, "A-1"), (10, 6, 4));
        stockyard(db).arg("verify").assert().success();
    }

    fn refusals_exit_with_the_contract_codes_and_change_nothing(db) {
        with_products(db, &["A-1"]);
        stockyard(db).args(["stock", "receive", "A-1", "10"]).assert().success();
        let unknown = "01900000-0000-7000-8000-000000000000";
        let cases: &[(&[&str], i32, &[&str])] = &[
            (&["reserve", "NOPE:1"], 3, &["product", "NOPE", "not found"]),
            (&["reserve", "A-1:1", "NOPE:1"], 3, &["NOPE"]),
            (&["reserve", "A-1:1", "--warehouse", "NOWHERE"], 3, &["warehouse", "NOWHERE"]),
            (&["reserve", "A-1:0"], 6, &["quantity", "A-1", "0"]),
            (&["reserve", "A-1:-1"], 6, &["quantity", "A-1", "-1"]),
            (&["reserve", "A-1:x"], 6, &["A-1:x", "whole number"]),
            (&["reserve", "A-1"], 6, &["\"A-1\"", "SKU:QTY"]),
            (&["reserve", "A-1:1", "--ttl", "5x"], 6, &["5x", "duration"]),
            (&["reserve", "A-1:1", "--ttl", "0s"], 6, &["ttl", "0s"]),
            (&["reserve", "A-1:1", "--ttl", "31d"], 6, &["ttl", "30 days"]),
            (&["reserve"], 2, &["SKU:QTY"]),
            (&["reserve", "A-1:1", "--bogus"], 2, &["--bogus"]),
            (&["release", "not-a-uuid"], 6, &["reservation id", "not-a-uuid"]),
            (&["release", unknown], 3, &["reservation", unknown, "not found"]),
            (&["release"], 2, &["RESERVATION_ID"]),
        ];
        for (args, code, names) in cases {
            assert_mentions(&refused(stockyard(db), args, *code), names);
        }
        assert_eq!(main_level(db, "A-1"), (10, 0, 10), "refused commands changed nothing");
        assert!(events(db, "InventoryReserved").is_empty());
    }

    fn release_frees_the_stock_once(db) {
        with_products(db, &["A-1", "B-1"]);
        stockyard(db).args(["stock", "receive", "A-1", "10"]).assert().success();
        stockyard(db).args(["stock", "receive", "B-1", "3"]).assert().success();

        let first = json(db, &["reserve", "B-1:1", "A-1:4"]);
        let first_id = first["reservation_id"].as_str().unwrap_or_default();
        let second = json(db, &["reserve", "A-1:2", "--ref", "cart-9"]);
        let second_id = second["reservation_id"].as_str().unwrap_or_default();
        assert_eq!((main_level(db, "A-1"), main_level(db, "B-1")), ((10, 6, 4), (3, 1, 2)));

        stockyard(db)
            .args(["release", first_id])
            .assert()
            .success()
            .stdout(format!("Released reservation {first_id}: 4 × A-1 at MAIN, 1 × B-1 at MAIN.\n"));
        assert_eq!((main_level(db, "A-1"), main_level(db, "B-1")), ((10, 2, 8), (3, 0, 3)));

        let released = json(db, &["release", second_id]);
        assert_eq!(keys(&released), RESERVATION_KEYS);
        assert_eq!(
            (&released["reservation_id"], &released["status"], &released["reference"]),
            (&second["reservation_id"], &"released".into(), &"cart-9".into())
        );
        assert_eq!(lines(&released), lines(&second));
        assert_eq!((&released["created_at"], &released["expires_at"]), (&second["created_at"], &second["expires_at"]));
        assert!(time(&released["updated_at"]) > time(&second["updated_at"]), "{released}");
        assert_eq!(main_level(db, "A-1"), (10, 0, 10));

        for id in [first_id, second_id] {
            let stderr = refused(stockyard(db), &["release", id], 4);
            assert_mentions(&stderr, &[id, "is released and cannot become released"]);
        }
        assert_eq!(main_level(db, "A-1"), (10, 0, 10), "a second release frees nothing more");

        let released = events(db, "InventoryReleased");
        let mut freed: Vec<Value> = released
            .iter()
            .map(|e| json!({"id": e["aggregate_id"], "sku": e["payload"]["sku"], "by": e["payload"]["reserved_delta"]}))
            .collect();
        freed.sort_by_key(|f| (f["id"].as_str() == Some(second_id), f["sku"].to_string()));
        assert_eq!(
            freed,
            [
                json!({"id": first_id, "sku": "A-1", "by": -4}),
                json!({"id": first_id, "sku": "B-1", "by": -1}),
                json!({"id": second_id, "sku": "A-1", "by": -2}),
            ]
        );
        stockyard(db).arg("verify").assert().success();
    }

    fn sweep_expires_lapsed_checkouts_only(db) {
        with_products(db, &["S-1"]);
        stockyard(db).args(["stock", "receive", "S-1", "5"]).assert().success();
        stockyard(db)
            .arg("sweep")
            .assert()
            .success()
            .stdout("Expired 0 reservation(s); cancelled 0 unpaid order(s).\n");

        let lapsing = checkout_an_hour_ago(db, "S-1", 2).id.to_string();
        let lapsing_id = lapsing.as_str();
        let kept = json(db, &["reserve", "S-1:1"]);
        assert_eq!(main_level(db, "S-1"), (5, 3, 2));

        assert_eq!(json(db, &["sweep"]), json!({"reservations_expired": 1, "orders_cancelled": 0}));
        assert_eq!(main_level(db, "S-1"), (5, 1, 4), "the lapsed hold is free again, the other still held");
        assert_eq!(
            json(db, &["sweep"]),
            json!({"reservations_expired": 0, "orders_cancelled": 0}),
            "nothing is expired twice"
        );

        let released = events(db, "InventoryReleased");
        assert_eq!(released.len(), 1, "{released:?}");
        let event = &released[0];
        assert_eq!(event["aggregate_type"], "reservation");
        assert_eq!(event["aggregate_id"].as_str(), Some(lapsing_id));
        assert_eq!(event["actor"], "system:sweeper");
        let payload = &event["payload"];
        let fields = ["reason", "sku", "warehouse", "reserved_delta", "reserved"].map(|f| (f, &payload[f]));
        assert_eq!(
            fields,
            [("reason", &json!("expired")), ("sku", &json!("S-1")), ("warehouse", &json!("MAIN")),
             ("reserved_delta", &json!(-2)), ("reserved", &json!(1))],
            "{payload}"
        );

        let stderr = refused(stockyard(db), &["release", lapsing_id], 4);
        assert_mentions(&stderr, &[lapsing_id, "is expired and cannot become released"]);
        let kept_id = kept["reservation_id"].as_str().unwrap_or_default();
        assert_eq!(json(db, &["release", kept_id])["status"], "released");
        assert_eq!(main_level(db, "S-1"), (5, 0, 5));
        stockyard(db).arg("verify").assert().success();
    }

    fn allocation_chooses_the_warehouse_unless_one_is_named(db) {
        with_products(db, &["W-1"]);
        stockyard(db).args(["warehouse", "add", "EAST", "--name", "East"]).assert().success();
        stockyard(db).args(["stock", "receive", "W-1", "10", "--warehouse", "EAST"]).assert().success();

        let east = json(db, &["reserve", "W-1:2"]);
        assert_eq!(lines(&east), [line("W-1", "EAST", 2)], "the only warehouse with stock");
        assert_eq!(levels(db, "W-1"), [("EAST".to_owned(), (10, 2, 8))]);

        stockyard(db).args(["stock", "receive", "W-1", "5"]).assert().success();
        let with_allocation = |strategy: &str| {
            let mut cmd = stockyard(db);
            cmd.env("STOCKYARD_ALLOCATION", strategy);
            cmd
        };
        let priority = json_of(with_allocation("priority:MAIN,EAST"), &["reserve", "W-1:2"]);
        assert_eq!(lines(&priority), [line("W-1", "MAIN", 2)], "MAIN first although EAST has more");
        let default = json(db, &["reserve", "W-1:1"]);
        assert_eq!(lines(&default), [line("W-1", "EAST", 1)], "by default the warehouse with the most");
        let named = json(db, &["reserve", "W-1:1", "--warehouse", "MAIN"]);
        assert_eq!(lines(&named), [line("W-1", "MAIN", 1)]);
        assert_eq!(levels(db, "W-1"), [("EAST".to_owned(), (10, 3, 7)), ("MAIN".to_owned(), (5, 3, 2))]);

        let split = json(db, &["reserve", "W-1:9"]);
        assert_eq!(lines(&split), [line("W-1", "EAST", 7), line("W-1", "MAIN", 2)], "no one warehouse holds 9");
        assert_eq!(levels(db, "W-1"), [("EAST".to_owned(), (10, 10, 0)), ("MAIN".to_owned(), (5, 5, 0))]);

        let stderr = refused(with_allocation("bogus"), &["reserve", "W-1:1"], 6);
        assert_mentions(&stderr, &["invalid allocation", "\"bogus\""]);
        let stderr = refused(with_allocation("priority:MAIN,MAIN"), &["reserve", "W-1:1"], 6);
        assert_mentions(&stderr, &["invalid allocation", "MAIN twice"]);
        let stderr = refused(stockyard(db), &["reserve", "W-1:1"], 4);
        assert_mentions(&stderr, &["W-1 at all warehouses needs 1 but only 0 available (on hand 15, reserved 15)"]);
        stockyard(db).arg("verify").assert().success();
    }

    fn the_ttl_comes_from_the_flag_then_the_environment_then_15_minutes(db) {
        with_products(db, &["T-1"]);
        stockyard(db).args(["stock", "receive", "T-1", "10"]).assert().success();
        let with_ttl = |ttl: &str| {
            let mut cmd = stockyard(db);
            cmd.env("STOCKYARD_RESERVATION_TTL", ttl);
            cmd
        };
        let (two_hours, before, after) = reserve_timed(with_ttl("2h"), &["T-1:1"]);
        assert_expires_in(&two_hours, SignedDuration::from_hours(2), before, after);
        let (flag, before, after) = reserve_timed(with_ttl("2h"), &["T-1:1", "--ttl", "90s"]);
        assert_expires_in(&flag, SignedDuration::from_secs(90), before, after);
        let (default, before, after) = reserve_timed(stockyard(db), &["T-1:1"]);
        assert_expires_in(&default, SignedDuration::from_mins(15), before, after);

        let stderr = refused(with_ttl("soon"), &["reserve", "T-1:1"], 6);
        assert_mentions(&stderr, &["STOCKYARD_RESERVATION_TTL", "\"soon\""]);
        assert_eq!(main_level(db, "T-1"), (10, 3, 7));
    }

    fn an_orders_reservation_is_released_only_by_the_order(db) {
        with_products(db, &["A-1"]);
        stockyard(db).args(["stock", "receive", "A-1", "10"]).assert().success();
        let order = json(db, &["order", "create", "--customer", "ada@example.com", "--line", "A-1:2"]);
        let held = order["reservation_id"].as_str().unwrap_or_default();
        let stderr = refused(stockyard(db), &["release", held], 4);
        assert_mentions(&stderr, &[held, "held by order 1"]);
        assert_eq!(json(db, &["sweep"]), json!({"reservations_expired": 0, "orders_cancelled": 0}));
        assert_eq!(main_level(db, "A-1"), (10, 2, 8), "still held for the order");
        assert_eq!(json(db, &["order", "show", "1"]), order, "the order is untouched");

        // A checkout that lapsed before the sweep saw it is not adopted either.
        let lapsed = checkout_an_hour_ago(db, "A-1", 1).id.to_string();
        let lapsed_id = lapsed.as_str();
        let adopt = ["order", "create", "--customer", "bob@example.com", "--line", "A-1:1", "--reservation", lapsed_id];
        assert_mentions(&refused(stockyard(db), &adopt, 4), &[lapsed_id, "expired at"]);

        stockyard(db).args(["order", "cancel", "1"]).assert().success();
        assert_eq!(main_level(db, "A-1"), (10, 1, 9), "the order's own cancellation let its stock go");
        stockyard(db).arg("verify").assert().success();
    }
}

/// Many processes at once reach for the last units: exactly as many succeed as there are
/// units, the rest are refused as conflicts, and nothing is oversold.
#[test]
fn racing_processes_never_reserve_more_than_is_there() {
    const RACERS: usize = 24;
    const UNITS: usize = 10;
    let db = TestDb::sqlite();
    with_products(&db, &["RACE-1"]);
    stockyard(&db).args(["stock", "receive", "RACE-1", &UNITS.to_string()]).assert().success();

    let children: Vec<_> = (0..RACERS)
        .map(|_| {
            command(&db)
                .args(["reserve", "RACE-1:1", "--quiet"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start stockyard reserve")
        })
        .collect();
    let outputs: Vec<Output> =
        children.into_iter().map(|c| c.wait_with_output().expect("wait for stockyard")).collect();

    let (won, lost): (Vec<&Output>, Vec<&Output>) = outputs.iter().partition(|o| o.status.code() == Some(0));
    let codes: Vec<Option<i32>> = outputs.iter().map(|o| o.status.code()).collect();
    assert_eq!((won.len(), lost.len()), (UNITS, RACERS - UNITS), "exit codes: {codes:?}");
    let mut ids: Vec<String> = won.iter().map(|o| stdout(o)).collect();
    assert!(ids.iter().all(|out| out.strip_suffix('\n').is_some_and(is_uuid)), "{ids:?}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), UNITS, "every winner got its own reservation");
    for out in &lost {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{stderr}");
        assert_mentions(&stderr, &["insufficient stock: RACE-1"]);
        assert!(out.stdout.is_empty(), "a refused reserve prints no id");
    }

    assert_eq!(main_level(&db, "RACE-1"), (10, 10, 0));
    assert_eq!(events(&db, "InventoryReserved").len(), UNITS);
    stockyard(&db).arg("verify").assert().success();
}
