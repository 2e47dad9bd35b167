//! `order …` and the unpaid-order `sweep` through the real binary on both backends: a whole
//! life from placement to refund with the stock after each step, dry runs and short stock
//! that change nothing, refused transitions and their exit codes, what a client may see,
//! the unpaid timeout, `show --explain`, and picking.

use crate::common;

use assert_cmd::Command;
use common::{
    assert_mentions, events, items, json, json_of, keys, numbers, placements, refused, stockyard, store_ago,
    with_products,
};
use jiff::SignedDuration;
use serde_json::{Value, json};
use stockyard_core::{
    Actor,
    orders::{Customer, NewOrder},
};
use stockyard_testkit::{TestDb, backend_tests};

const ORDER_KEYS: [&str; 21] = [
    "allocations",
    "created_at",
    "currency",
    "customer",
    "history",
    "id",
    "lines",
    "notes",
    "number",
    "owner",
    "paid",
    "payments",
    "refund_due",
    "refunded",
    "reservation_id",
    "returns",
    "status",
    "total",
    "tracking_number",
    "updated_at",
    "version",
];
const PASSWORD: &str = "correct horse battery";

/// A SKU's stock at MAIN as (on_hand, reserved, available).
fn main_level(db: &TestDb, sku: &str) -> (i64, i64, i64) {
    let levels = items(&json(db, &["stock", "show", sku, "--warehouse", "MAIN"]));
    match levels.as_slice() {
        [level] => numbers(level),
        other => panic!("{sku}: expected one level at MAIN, got {other:?}"),
    }
}

/// An order's allocations as (sku, warehouse, quantity), sorted.
fn allocations(order: &Value) -> Vec<(String, String, i64)> {
    placements(&order["allocations"])
}

fn at(sku: &str, warehouse: &str, quantity: i64) -> (String, String, i64) {
    (sku.to_owned(), warehouse.to_owned(), quantity)
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&cmd.assert().success().get_output().stdout).into_owned()
}

/// The binary acting as `email`.
fn acting(db: &TestDb, email: &str) -> Command {
    let mut cmd = stockyard(db);
    cmd.args(["--as", email]);
    cmd
}

/// The statuses an order went through, oldest first.
fn history(order: &Value) -> Vec<&str> {
    order["history"].as_array().into_iter().flatten().filter_map(|h| h["to"].as_str()).collect()
}

backend_tests! {
    fn an_order_lives_from_placement_to_refund(db) {
        with_products(db, &["A-1", "B-1"]);
        stockyard(db).args(["stock", "receive", "A-1", "10"]).assert().success();
        stockyard(db).args(["stock", "receive", "B-1", "5"]).assert().success();

        let order = json(db, &[
            "order", "create", "--customer", " Ada@Example.COM ", "--name", "Ada Lovelace", "--phone", "+44 20 7946 0018",
            "--address", "12 St James's Square", "--line", "A-1:3", "B-1:2",
        ]);
        assert_eq!(keys(&order), ORDER_KEYS);
        let id = order["id"].as_str().unwrap_or_default().to_owned();
        assert_eq!((&order["number"], &order["status"], &order["version"]), (&1.into(), &"confirmed".into(), &1.into()));
        assert_eq!((&order["total"], &order["paid"], &order["currency"]), (&"25.00".into(), &"0.00".into(), &"USD".into()));
        assert_eq!(
            order["customer"],
            json!({"email": "ada@example.com", "name": "Ada Lovelace", "phone": "+44 20 7946 0018", "address": "12 St James's Square"})
        );
        let lines: Vec<(&str, i64, &str)> = order["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| (l["sku"].as_str().unwrap_or(""), l["quantity"].as_i64().unwrap_or(0), l["unit_price"].as_str().unwrap_or("")))
            .collect();
        assert_eq!(lines, [("A-1", 3, "5.00"), ("B-1", 2, "5.00")]);
        assert_eq!(allocations(&order), [at("A-1", "MAIN", 3), at("B-1", "MAIN", 2)]);
        assert_eq!(history(&order), ["pending", "confirmed"]);
        assert_eq!((main_level(db, "A-1"), main_level(db, "B-1")), ((10, 3, 7), (5, 2, 3)), "reserved");
        assert_eq!(json(db, &["order", "show", "1"]), order, "by number");
        assert_eq!(json(db, &["order", "show", &id]), order, "by id");

        let paid = json(db, &["order", "pay", "1", "--amount", "10", "--ref", "tx-1"]);
        assert_eq!((&paid["status"], &paid["paid"], &paid["version"]), (&"confirmed".into(), &"10.00".into(), &2.into()));
        assert_eq!(paid["payments"][0]["reference"], "tx-1");
        let text = stdout(stockyard(db).args(["order", "pay", &id]));
        assert_eq!(text, "Order 1 is paid: received 15.00 USD, 25.00 USD in all.\n");
        assert_eq!((main_level(db, "A-1"), main_level(db, "B-1")), ((10, 3, 7), (5, 2, 3)), "paying moves no stock");

        for status in ["picking", "packed"] {
            assert_eq!(json(db, &["order", "status", "1", status])["status"], status);
            assert_eq!((main_level(db, "A-1"), main_level(db, "B-1")), ((10, 3, 7), (5, 2, 3)), "{status}");
        }
        let shipped = json(db, &["order", "status", "1", "shipped", "--tracking", "1Z999AA1"]);
        assert_eq!((&shipped["status"], &shipped["tracking_number"]), (&"shipped".into(), &"1Z999AA1".into()));
        assert_eq!((main_level(db, "A-1"), main_level(db, "B-1")), ((7, 0, 7), (3, 0, 3)), "shipping consumes the reserved units");
        let text = stdout(stockyard(db).args(["order", "status", "1", "delivered"]));
        assert_eq!(text, "Order 1 is now delivered (tracking 1Z999AA1).\n");
        assert_eq!((main_level(db, "A-1"), main_level(db, "B-1")), ((7, 0, 7), (3, 0, 3)));

        let returned = json(db, &["order", "return", "1", "--line", "A-1:2", "--line", "B-1:1:scrap"]);
        assert_eq!(returned["status"], "returned");
        assert_eq!(
            returned["returns"],
            json!([
                {"sku": "A-1", "warehouse": "MAIN", "quantity": 2, "disposition": "restock", "received": true},
                {"sku": "B-1", "warehouse": "MAIN", "quantity": 1, "disposition": "scrap", "received": true},
            ])
        );
        assert_eq!((main_level(db, "A-1"), main_level(db, "B-1")), ((9, 0, 9), (3, 0, 3)), "restocked, scrap written off");

        let text = stdout(stockyard(db).args(["order", "refund", "1"]));
        assert_eq!(text, "Order 1 is refunded: 25.00 USD of the 25.00 paid.\n");
        let refunded = json(db, &["order", "show", "1"]);
        assert_eq!((&refunded["status"], &refunded["refunded"]), (&"refunded".into(), &"25.00".into()));
        assert_eq!(
            history(&refunded),
            ["pending", "confirmed", "paid", "picking", "packed", "shipped", "delivered", "returned", "refunded"]
        );
        assert_eq!((main_level(db, "A-1"), main_level(db, "B-1")), ((9, 0, 9), (3, 0, 3)));
        for kind in ["OrderCreated", "OrderFulfilled", "OrderReturned"] {
            assert_eq!(events(db, kind).len(), 1, "{kind}");
        }
        assert_eq!(events(db, "OrderPaymentReceived").len(), 2);
        stockyard(db).arg("verify").assert().success();
    }

    fn dry_runs_and_short_stock_place_nothing(db) {
        with_products(db, &["A-1", "B-1"]);
        stockyard(db).args(["stock", "receive", "A-1", "10"]).assert().success();
        stockyard(db).args(["stock", "receive", "B-1", "2"]).assert().success();
        let before = json(db, &["stock", "show"]);
        let nothing_placed = |db: &TestDb| {
            assert_eq!(json(db, &["stock", "show"]), before, "stock unchanged");
            assert!(items(&json(db, &["order", "list"])).is_empty(), "no order");
            assert!(events(db, "InventoryReserved").is_empty() && events(db, "OrderCreated").is_empty());
        };

        let create = ["order", "create", "--customer", "ada@example.com", "--line", "A-1:2", "B-1:1"];
        let rehearsed = json(db, &[&create[..], &["--dry-run"]].concat());
        assert_eq!(rehearsed["dry_run"], true);
        assert_eq!((&rehearsed["status"], &rehearsed["total"]), (&"confirmed".into(), &"15.00".into()));
        assert_eq!(allocations(&rehearsed), [at("A-1", "MAIN", 2), at("B-1", "MAIN", 1)]);
        let text = stdout(stockyard(db).args(create).arg("--dry-run"));
        assert_eq!(
            text,
            "Dry run: the order would be confirmed, total 15.00 USD.\n  2 × A-1 from MAIN\n  1 × B-1 from MAIN\nNothing was placed.\n"
        );
        assert_eq!(stdout(stockyard(db).args(create).args(["--dry-run", "--quiet"])), "");
        nothing_placed(db);

        let short = ["order", "create", "--customer", "ada@example.com", "--line", "A-1:3", "B-1:5"];
        for extra in [&[][..], &["--dry-run"], &["--warehouse", "MAIN"]] {
            let stderr = refused(stockyard(db), &[&short[..], extra].concat(), 4);
            assert_mentions(&stderr, &["B-1", "needs 5 but only 2 available"]);
            assert!(!stderr.contains("A-1"), "A-1 is not short: {stderr}");
        }
        let cases: &[(&[&str], i32, &[&str])] = &[
            (&["order", "create", "--customer", "ada@example.com", "--line", "NOPE:1"], 3, &["NOPE"]),
            (&["order", "create", "--customer", "ada@example.com", "--line", "A-1:1", "--warehouse", "NOWHERE"], 3, &["NOWHERE"]),
            (&["order", "create", "--customer", "not-an-email", "--line", "A-1:1"], 6, &["not-an-email"]),
            (&["order", "create", "--customer", "ada@example.com", "--line", "A-1"], 6, &["\"A-1\"", "SKU:QTY"]),
            (&["order", "create", "--customer", "ada@example.com", "--line", "A-1:0"], 6, &["quantity"]),
            (&["order", "create", "--customer", "ada@example.com"], 2, &["--line"]),
            (&["order", "show", "7"], 3, &["order", "7"]),
            (&["order", "show", "soon"], 6, &["soon"]),
        ];
        for (args, code, fragments) in cases {
            assert_mentions(&refused(stockyard(db), args, *code), fragments);
        }
        nothing_placed(db);

        let quiet = stdout(stockyard(db).args(create).arg("--quiet"));
        let id = quiet.trim_end();
        assert_eq!(quiet, format!("{id}\n"), "only the id");
        assert_eq!(json(db, &["order", "show", id])["number"], 1);
        assert_eq!((main_level(db, "A-1"), main_level(db, "B-1")), ((10, 2, 8), (2, 1, 1)));
    }

    fn refused_steps_exit_4_and_change_nothing(db) {
        with_products(db, &["A-1"]);
        stockyard(db).args(["stock", "receive", "A-1", "10"]).assert().success();
        let order = json(db, &["order", "create", "--customer", "ada@example.com", "--line", "A-1:2"]);
        let cases: &[(&[&str], i32, &[&str])] = &[
            (&["order", "status", "1", "shipped"], 4, &["order 1", "confirmed", "shipped"]),
            (&["order", "status", "1", "delivered"], 4, &["order 1", "confirmed", "delivered"]),
            (&["order", "pay", "1", "--amount", "10.01"], 4, &["order 1", "10.00", "overpay"]),
            (&["order", "refund", "1"], 4, &["order 1", "confirmed", "refunded"]),
            (&["order", "return", "1", "--line", "A-1:1"], 4, &["order 1", "confirmed", "returned"]),
            (&["order", "pay", "1", "--amount", "-1"], 6, &["amount"]),
            (&["order", "pay", "1", "--amount", "lots"], 6, &["amount"]),
            (&["order", "status", "1", "bogus"], 6, &["bogus"]),
            (&["order", "status", "1", "paid"], 6, &["order pay"]),
            (&["order", "return", "1", "--line", "A-1:1:junk"], 6, &["A-1:1:junk"]),
            (&["order", "pay", "2"], 3, &["order", "2"]),
        ];
        for (args, code, fragments) in cases {
            assert_mentions(&refused(stockyard(db), args, *code), fragments);
        }
        assert_eq!(json(db, &["order", "show", "1"]), order, "unchanged");
        assert_eq!(main_level(db, "A-1"), (10, 2, 8));

        let cancelled = json(db, &["order", "cancel", "1", "--reason", "changed their mind"]);
        assert_eq!((&cancelled["status"], &cancelled["refund_due"]), (&"cancelled".into(), &false.into()));
        assert_eq!(cancelled["history"][2]["note"], "changed their mind");
        assert_eq!(main_level(db, "A-1"), (10, 0, 10), "released");
        assert_mentions(&refused(stockyard(db), &["order", "cancel", "1"], 4), &["order 1", "cancelled"]);

        // A paid order cancelled is owed its money back.
        stockyard(db).args(["order", "create", "--customer", "bob@example.com", "--line", "A-1:1"]).assert().success();
        stockyard(db).args(["order", "pay", "2"]).assert().success();
        let text = stdout(stockyard(db).args(["order", "cancel", "2"]));
        assert_eq!(text, "Cancelled order 2: its stock is released. It was paid 5.00 USD: refund it with `stockyard order refund 2`.\n");
        assert_eq!(json(db, &["order", "show", "2"])["refund_due"], true);
        let refunded = json(db, &["order", "refund", "2"]);
        assert_eq!((&refunded["status"], &refunded["refunded"], &refunded["refund_due"]), (&"refunded".into(), &"5.00".into(), &false.into()));
        assert_eq!(main_level(db, "A-1"), (10, 0, 10));
        stockyard(db).arg("verify").assert().success();
    }

    fn customer_details_change_until_shipment(db) {
        with_products(db, &["A-1"]);
        stockyard(db).args(["stock", "receive", "A-1", "10"]).assert().success();
        let order = json(db, &["order", "create", "--customer", "ada@example.com", "--phone", "+1 555 0100", "--line", "A-1:1"]);
        let version = order["version"].as_i64().expect("version");
        let stale = (version + 1).to_string();
        assert_mentions(&refused(stockyard(db), &["order", "update", "1", "--notes", "x", "--if-version", &stale], 4), &["order 1", "version"]);
        assert_mentions(&refused(stockyard(db), &["order", "update", "1"], 6), &["email", "notes"]);
        assert_mentions(&refused(stockyard(db), &["order", "update", "1", "--email", "nope"], 6), &["nope"]);

        let text = stdout(stockyard(db).args(["order", "update", "1", "--email", "ada@new.example", "--phone", "", "--if-version", &version.to_string()]));
        assert_eq!(text, format!("Updated order 1 (version {}).\n", version + 1));
        let shown = json(db, &["order", "show", "1"]);
        assert_eq!((&shown["customer"]["email"], &shown["customer"]["phone"]), (&json!("ada@new.example"), &Value::Null));
        assert_eq!(items(&json(db, &["order", "list", "--customer", "ada@new.example"])).len(), 1);

        stockyard(db).args(["order", "pay", "1"]).assert().success();
        for step in ["picking", "packed", "shipped"] {
            stockyard(db).args(["order", "status", "1", step]).assert().success();
        }
        assert_mentions(&refused(stockyard(db), &["order", "update", "1", "--notes", "late"], 4), &["order 1", "shipped"]);
    }

    fn a_client_sees_only_its_own_orders(db) {
        with_products(db, &["A-1"]);
        stockyard(db).args(["stock", "receive", "A-1", "10"]).assert().success();
        for email in ["shop@example.com", "other@example.com"] {
            stockyard(db).args(["user", "add", email, "--role", "client", "--password-stdin"]).write_stdin(PASSWORD).assert().success();
        }
        let line = ["--line", "A-1:1"];
        let mine = json_of(acting(db, "shop@example.com"), &[&["order", "create", "--customer", "ada@example.com"][..], &line].concat());
        let theirs = json_of(acting(db, "other@example.com"), &[&["order", "create", "--customer", "bob@example.com"][..], &line].concat());
        stockyard(db).args(["order", "create", "--customer", "ada@example.com"]).args(line).assert().success();
        assert_eq!((&mine["owner"], &mine["number"], &theirs["number"]), (&"shop@example.com".into(), &1.into(), &2.into()));

        let listed = json_of(acting(db, "shop@example.com"), &["order", "list"]);
        assert_eq!(items(&listed), std::slice::from_ref(&mine));
        assert_eq!(json_of(acting(db, "shop@example.com"), &["order", "show", "1"]), mine);
        let theirs_id = theirs["id"].as_str().unwrap_or_default();
        for key in ["2", theirs_id, "3"] {
            assert_mentions(&refused(acting(db, "shop@example.com"), &["order", "show", key], 3), &[key]);
            refused(acting(db, "shop@example.com"), &["order", "show", key, "--explain"], 3);
        }
        refused(acting(db, "shop@example.com"), &["order", "pay", "1"], 5);
        refused(acting(db, "shop@example.com"), &["order", "cancel", "1"], 5);

        // Everyone else's view: every order, filtered and paged.
        let numbers = |list: &Value| items(list).iter().map(|o| o["number"].as_i64().unwrap_or(0)).collect::<Vec<_>>();
        assert_eq!(numbers(&json(db, &["order", "list"])), [3, 2, 1]);
        assert_eq!(numbers(&json(db, &["order", "list", "--customer", "ADA@example.com"])), [3, 1]);
        stockyard(db).args(["order", "pay", "2"]).assert().success();
        assert_eq!(numbers(&json(db, &["order", "list", "--status", "paid"])), [2]);
        let first = json(db, &["order", "list", "--limit", "2"]);
        assert_eq!(keys(&first), ["items", "next_cursor"]);
        let cursor = first["next_cursor"].as_str().unwrap_or_default();
        let rest = json(db, &["order", "list", "--limit", "2", "--cursor", cursor]);
        assert_eq!((numbers(&first), numbers(&rest), &rest["next_cursor"]), (vec![3, 2], vec![1], &Value::Null));
        let ids = stdout(stockyard(db).args(["order", "list", "--quiet"]));
        assert_eq!(ids.lines().nth(2), mine["id"].as_str(), "--quiet lists ids");
        refused(stockyard(db), &["order", "list", "--status", "lost"], 6);
    }

    fn sweep_cancels_orders_left_unpaid(db) {
        with_products(db, &["A-1"]);
        stockyard(db).args(["stock", "receive", "A-1", "10"]).assert().success();
        // Order 1, placed ten minutes ago (the binary cannot be handed a clock) and never paid.
        let customer = Customer { email: "ada@example.com".into(), ..Default::default() };
        let ten_minutes_ago = store_ago(db, SignedDuration::from_mins(10));
        let order = NewOrder { customer, lines: vec![("A-1".into(), 2)], ..Default::default() };
        ten_minutes_ago.orders().create(&Actor::local_admin(), order).expect("order 1, ten minutes ago");
        stockyard(db).args(["order", "create", "--customer", "bob@example.com", "--line", "A-1:1"]).assert().success();
        stockyard(db).args(["order", "pay", "2"]).assert().success();
        let with_timeout = |timeout: &str| {
            let mut cmd = stockyard(db);
            cmd.env("STOCKYARD_UNPAID_TIMEOUT", timeout);
            cmd
        };
        assert_eq!(json(db, &["sweep"]), json!({"reservations_expired": 0, "orders_cancelled": 0}), "30m by default");
        for bad in ["soon", "0s"] {
            assert_mentions(&refused(with_timeout(bad), &["sweep"], 6), &["STOCKYARD_UNPAID_TIMEOUT", bad]);
        }
        let dir = tempfile::tempdir().expect("a temporary folder");
        let file = dir.path().join("stockyard.toml");
        std::fs::write(&file, "unpaid_timeout = \"2x\"\n").expect("write the config file");
        let config = file.to_str().unwrap_or_default();
        assert_mentions(&refused(stockyard(db), &["--config", config, "sweep"], 6), &["\"2x\""]);
        assert_eq!(main_level(db, "A-1"), (10, 3, 7));

        assert_eq!(json_of(with_timeout("5m"), &["sweep"]), json!({"reservations_expired": 0, "orders_cancelled": 1}));
        let cancelled = json(db, &["order", "show", "1"]);
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(cancelled["history"][2]["actor"], "system:sweeper");
        assert_eq!(json(db, &["order", "show", "2"])["status"], "paid", "a paid order stays");
        assert_eq!(main_level(db, "A-1"), (10, 1, 9), "the unpaid order's units are free again");
        let text = stdout(with_timeout("5m").arg("sweep"));
        assert_eq!(text, "Expired 0 reservation(s); cancelled 0 unpaid order(s).\n", "nothing is cancelled twice");
        assert_eq!(events(db, "OrderCancelled").len(), 1);
        stockyard(db).arg("verify").assert().success();
    }

    fn show_explains_where_each_line_is_served(db) {
        with_products(db, &["A-1", "B-1"]);
        stockyard(db).args(["warehouse", "add", "EAST", "--name", "East"]).assert().success();
        stockyard(db).args(["stock", "receive", "A-1", "3"]).assert().success();
        stockyard(db).args(["stock", "receive", "A-1", "4", "--warehouse", "EAST"]).assert().success();
        stockyard(db).args(["stock", "receive", "B-1", "2", "--warehouse", "EAST"]).assert().success();
        let order = json(db, &["order", "create", "--customer", "ada@example.com", "--line", "A-1:5", "B-1:1"]);
        let split = allocations(&order);
        assert_eq!(split.iter().filter(|(sku, _, _)| sku == "A-1").map(|(_, _, q)| q).sum::<i64>(), 5);
        assert_eq!(split.iter().find(|(sku, _, _)| sku == "B-1"), Some(&at("B-1", "EAST", 1)));

        let shown = json(db, &["order", "show", "1", "--explain"]);
        let mut plain = shown.clone();
        plain.as_object_mut().map(|o| o.remove("explanation"));
        assert_eq!(plain, order, "the order, plus its explanation");
        let explanation = shown["explanation"].as_array().cloned().unwrap_or_default();
        assert_eq!(explanation.len(), 2, "{shown}");
        for (line, sku, quantity) in [(&explanation[0], "A-1", 5), (&explanation[1], "B-1", 1)] {
            assert_eq!(keys(line), ["quantity", "reason", "served_from", "sku"]);
            assert_eq!((&line["sku"], &line["quantity"]), (&sku.into(), &quantity.into()));
            let served: Vec<(String, String, i64)> = split.iter().filter(|(s, _, _)| s == sku).cloned().collect();
            assert_eq!(allocations(&json!({"allocations": line["served_from"]})), served);
            let reason = line["reason"].as_str().unwrap_or_default();
            assert!(reason.contains(sku) && served.iter().all(|(_, w, _)| reason.contains(w.as_str())), "{reason}");
        }
        assert!(json(db, &["order", "show", "1"]).get("explanation").is_none(), "only with --explain");
        let table = stdout(stockyard(db).args(["order", "show", "1", "--explain"]));
        assert_mentions(&table, &["EXPLANATION", "1 × B-1: 1 from EAST"]);
        let placed = stdout(stockyard(db).args(["order", "create", "--customer", "ada@example.com", "--line", "A-1:1", "--warehouse", "MAIN"]));
        assert_mentions(&placed, &["Placed order 2 (", "): confirmed, total 5.00 USD.\n  1 × A-1 from MAIN\n"]);

        // A return requested first, then received without naming the lines again.
        stockyard(db).args(["order", "pay", "2"]).assert().success();
        for status in ["picking", "packed", "shipped"] {
            stockyard(db).args(["order", "status", "2", status]).assert().success();
        }
        assert_eq!(main_level(db, "A-1"), (2, 1, 1));
        let text = stdout(stockyard(db).args(["order", "return", "2", "--request", "--line", "A-1:1"]));
        assert_eq!(text, "Return of order 2 requested: 1 × A-1 (restock). Receive it with `stockyard order return 2`.\n");
        assert_eq!(json(db, &["order", "show", "2"])["returns"][0]["received"], false);
        assert_eq!(main_level(db, "A-1"), (2, 1, 1), "nothing back yet");
        let text = stdout(stockyard(db).args(["order", "return", "2"]));
        assert_eq!(text, "Order 2 returned: 1 × A-1 restocked at MAIN.\n");
        assert_eq!(main_level(db, "A-1"), (3, 1, 2));
        stockyard(db).arg("verify").assert().success();
    }

    fn orders_are_picked_by_sku_or_barcode_until_packed(db) {
        with_products(db, &["A-1", "B-1", "C-1"]);
        stockyard(db).args(["warehouse", "add", "EAST", "--name", "East"]).assert().success();
        stockyard(db).args(["stock", "receive", "A-1", "4"]).assert().success();
        stockyard(db).args(["stock", "receive", "A-1", "2", "--warehouse", "EAST"]).assert().success();
        stockyard(db).args(["stock", "receive", "B-1", "2"]).assert().success();
        stockyard(db).args(["product", "update", "B-1", "--barcode", "4006381333931"]).assert().success();
        stockyard(db).args(["user", "add", "east@example.com", "--role", "warehouse", "--warehouse", "EAST", "--password-stdin"]).write_stdin(PASSWORD).assert().success();
        stockyard(db).args(["order", "create", "--customer", "ada@example.com", "--line", "A-1:3", "B-1:2", "--warehouse", "MAIN"]).assert().success();
        refused(stockyard(db), &["order", "pick", "1", "A-1"], 4);
        stockyard(db).args(["order", "pay", "1"]).assert().success();

        let first = json(db, &["order", "pick", "1", "A-1"]);
        assert_eq!(keys(&first), ORDER_KEYS);
        assert_eq!((&first["status"], &first["version"]), (&"picking".into(), &3.into()));
        let a = first["allocations"].as_array().and_then(|a| a.iter().find(|a| a["sku"] == "A-1")).cloned().unwrap_or_default();
        assert_eq!((&a["picked"], &a["quantity"], &a["picked_by"]), (&1.into(), &3.into(), &"local-admin".into()));
        assert!(a["picked_at"].is_string(), "{a}");
        assert_eq!(history(&first), ["pending", "confirmed", "paid", "picking"]);
        assert_eq!(stdout(stockyard(db).args(["order", "pick", "1", "a-1:2"])), "Order 1: 3 of 5 units picked; it is now picking.\n");

        let before = json(db, &["order", "show", "1"]);
        let cases: &[(&[&str], i32, &[&str])] = &[
            (&["order", "pick", "1", "A-1"], 4, &["order 1 has all 3 of A-1 at MAIN picked already"]),
            (&["order", "pick", "1", "B-1:3"], 4, &["order 1 needs 2 more of B-1 at MAIN, not 3"]),
            (&["order", "status", "1", "packed"], 4, &["order 1 has 3 of 5 units picked: pick the rest first"]),
            (&["order", "pick", "1", "C-1"], 6, &["C-1 is not on order 1"]),
            (&["order", "pick", "1", "B-1:0"], 6, &["quantity"]),
            (&["order", "pick", "1", "B-1:two"], 6, &["\"B-1:two\"", "whole number"]),
            (&["order", "pick", "1", "B-1", "--warehouse", "EAST"], 6, &["only at MAIN"]),
            (&["order", "pick", "9", "B-1"], 3, &["order", "9"]),
        ];
        for (args, code, fragments) in cases {
            assert_mentions(&refused(stockyard(db), args, *code), fragments);
        }
        assert_mentions(&refused(acting(db, "east@example.com"), &["order", "pick", "1", "B-1"], 5), &["order.pick", "MAIN"]);
        assert_eq!(json(db, &["order", "show", "1"]), before, "refusals change nothing");

        // B-1 by its barcode, as a scanner reads it: the last pick packs the order.
        let text = stdout(stockyard(db).args(["order", "pick", "1", "4006381333931:2"]));
        assert_eq!(text, "Order 1: all 5 units picked; it is now packed.\n");
        assert_eq!(events(db, "OrderPicked").len(), 3);
        stockyard(db).args(["order", "status", "1", "shipped"]).assert().success();

        // A line served from two warehouses: where is said, or is the picker's only one.
        let split = json(db, &["order", "create", "--customer", "bob@example.com", "--line", "A-1:3"]);
        assert_eq!(allocations(&split), [at("A-1", "EAST", 2), at("A-1", "MAIN", 1)]);
        stockyard(db).args(["order", "pay", "2"]).assert().success();
        assert_mentions(&refused(stockyard(db), &["order", "pick", "2", "A-1"], 6), &["warehouse", "EAST and MAIN"]);
        let east = json_of(acting(db, "east@example.com"), &["order", "pick", "2", "A-1:2"]);
        let picked: Vec<(Value, Value)> =
            east["allocations"].as_array().into_iter().flatten().map(|a| (a["warehouse"].clone(), a["picked"].clone())).collect();
        assert_eq!(picked, [(json!("EAST"), json!(2)), (json!("MAIN"), json!(0))]);
        let packed = json(db, &["order", "pick", "2", "A-1", "--warehouse", "main"]);
        assert_eq!(packed["status"], "packed");
        stockyard(db).arg("verify").assert().success();
    }

    fn refunds_add_up_until_all_that_was_paid_is_back(db) {
        with_products(db, &["A-1"]);
        stockyard(db).args(["stock", "receive", "A-1", "10"]).assert().success();
        stockyard(db).args(["order", "create", "--customer", "ada@example.com", "--line", "A-1:3"]).assert().success();
        stockyard(db).args(["order", "pay", "1", "--amount", "10"]).assert().success();
        stockyard(db).args(["order", "pay", "1"]).assert().success();
        stockyard(db).args(["order", "cancel", "1"]).assert().success();

        let text = stdout(stockyard(db).args(["order", "refund", "1", "--amount", "10"]));
        assert_eq!(text, "Order 1 stays cancelled: 10.00 of the 15.00 USD paid is refunded, 5.00 USD left to refund.\n");
        let part = json(db, &["order", "show", "1"]);
        assert_eq!((&part["status"], &part["refunded"], &part["refund_due"]), (&"cancelled".into(), &"10.00".into(), &true.into()));
        assert_mentions(&refused(stockyard(db), &["order", "refund", "1", "--amount", "5.01"], 4), &["order 1", "5.00 USD left to refund"]);
        assert_mentions(&refused(stockyard(db), &["order", "refund", "1", "--amount", "0"], 6), &["amount"]);
        assert_eq!(json(db, &["order", "show", "1"]), part, "refusals change nothing");

        let text = stdout(stockyard(db).args(["order", "refund", "1"]));
        assert_eq!(text, "Order 1 is refunded: 15.00 USD of the 15.00 paid.\n");
        let refunded = json(db, &["order", "show", "1"]);
        assert_eq!((&refunded["status"], &refunded["refunded"], &refunded["refund_due"]), (&"refunded".into(), &"15.00".into(), &false.into()));
        assert_mentions(&refused(stockyard(db), &["order", "refund", "1"], 4), &["order 1", "refunded"]);
        let logged: Vec<(Value, Value)> =
            events(db, "OrderRefunded").iter().map(|e| (e["payload"]["amount"].clone(), e["payload"]["refunded"].clone())).collect();
        assert_eq!(logged, [(json!("10.00"), json!("10.00")), (json!("5.00"), json!("15.00"))]);
        stockyard(db).arg("verify").assert().success();
    }
}
