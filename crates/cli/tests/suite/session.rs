//! A working day scripted as a shop would script it, on both backends: every step through
//! the real binary, its exit code checked and its JSON read by the next step — set up,
//! import the catalog and a stock count, receive, reserve a cart and turn it into an order,
//! pay, pick and ship, take a return, refund, export, verify. Mistakes on the way (a bad
//! file, an oversell, a typo, a role that may not) fail with their exit codes and change
//! nothing.

use crate::common;

use common::{assert_mentions, json, refused, stockyard};
use serde_json::Value;
use stockyard_testkit::{TestDb, backend_tests};

const CATALOG: &str = "sku,name,price,category,barcode,attr.colour\n\
MUG-01,Enamel mug,12.50,Kitchen,4006381333931,blue\n\
TEE-M,T-shirt (M),18.00,Clothing,,black\n\
KETTLE-2L,Kettle 2 l,39.90,Kitchen,,\n";

const COUNT: &str = "sku,warehouse,quantity,mode,reason,reorder_point,reorder_qty\n\
MUG-01,MAIN,20,count,,5,24\n\
TEE-M,MAIN,8,count,,2,10\n\
KETTLE-2L,MAIN,3,count,,,\n";

/// A stock level's available figure at MAIN.
fn available(db: &TestDb, sku: &str) -> i64 {
    json(db, &["stock", "show", sku, "--warehouse", "MAIN"])["items"][0]["available"].as_i64().unwrap_or(i64::MIN)
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).trim().to_owned()
}

backend_tests! {
    fn a_scripted_day_from_init_to_verify(db) {
        let init = json(db, &["init"]);
        assert_eq!(init["initialised"], true);

        // The catalog and the morning's count arrive as CSV on standard input.
        let imported = stockyard(db).args(["import", "products", "-", "--format", "json"]).write_stdin(CATALOG).assert().success();
        let imported: Value = serde_json::from_slice(&imported.get_output().stdout).expect("JSON report");
        assert_eq!((&imported["created"], &imported["updated"]), (&3.into(), &0.into()));
        stockyard(db).args(["import", "stock", "-"]).write_stdin(COUNT).assert().success();
        assert_eq!(available(db, "MUG-01"), 20);

        // A file with a bad row is refused whole, naming the line; nothing of it applies.
        let bad = "sku,warehouse,quantity,mode\nMUG-01,MAIN,5,receive\nTEE-M,MAIN,many,receive\n";
        let refusal = stockyard(db).args(["import", "stock", "-"]).write_stdin(bad).assert().code(6);
        assert_mentions(&text(&refusal.get_output().stderr), &["line 3, column quantity"]);
        assert_eq!(available(db, "MUG-01"), 20);

        // Goods in, once, even when the script retries the step.
        for _ in 0..2 {
            stockyard(db).args(["stock", "receive", "KETTLE-2L", "12", "--reason", "PO-1042", "--idempotency-key", "po-1042"]).assert().success();
        }
        assert_eq!(available(db, "KETTLE-2L"), 15);

        // A cart holds stock; its id, printed alone with --quiet, becomes the order's.
        let held = stockyard(db).args(["reserve", "MUG-01:2", "KETTLE-2L:1", "--ref", "cart-88", "--quiet"]).assert().success();
        let reservation = text(&held.get_output().stdout);
        assert_eq!(available(db, "MUG-01"), 18);
        let order = json(db, &[
            "order", "create", "--customer", "ana@example.com", "--name", "Ana Ruiz", "--address", "4 Quay St",
            "--line", "MUG-01:2", "--line", "KETTLE-2L:1", "--reservation", &reservation,
        ]);
        let number = order["number"].to_string();
        assert_eq!((&order["status"], &order["total"], &order["reservation_id"]), (&"confirmed".into(), &"64.90".into(), &reservation.as_str().into()));
        assert_eq!(available(db, "MUG-01"), 18, "the order took the cart's hold, not more stock");

        // An oversell, a typo and a bad status are refused with their codes.
        assert_mentions(&refused(stockyard(db), &["reserve", "TEE-M:9"], 4), &["TEE-M at all warehouses needs 9 but only 8 available"]);
        assert_mentions(&refused(stockyard(db), &["reserve", "TEE-N:1"], 3), &[r#"did you mean "TEE-M"?"#]);
        assert_mentions(&refused(stockyard(db), &["order", "status", &number, "shiped"], 6), &[r#"did you mean "shipped"?"#]);
        refused(stockyard(db), &["order", "status", &number, "shipped"], 4);
        refused(stockyard(db), &["order", "frobnicate"], 2);

        // A viewer may look but not move stock.
        stockyard(db).args(["user", "add", "vi@example.com", "--role", "viewer", "--password-stdin"]).write_stdin("a long viewer passphrase\n").assert().success();
        let mut viewer = stockyard(db);
        viewer.args(["--as", "vi@example.com"]);
        refused(viewer, &["stock", "receive", "MUG-01", "1"], 5);

        // Paid, picked by barcode and SKU, shipped: the stock leaves.
        assert_eq!(json(db, &["order", "pay", &number, "--ref", "txn_81f3"])["status"], "paid");
        stockyard(db).args(["order", "pick", &number, "4006381333931:2"]).assert().success();
        let packed = json(db, &["order", "pick", &number, "KETTLE-2L"]);
        assert_eq!(packed["status"], "packed");
        let shipped = json(db, &["order", "status", &number, "shipped", "--tracking", "1Z999AA1"]);
        assert_eq!((&shipped["status"], &shipped["tracking_number"]), (&"shipped".into(), &"1Z999AA1".into()));
        let mug = json(db, &["stock", "show", "MUG-01", "--warehouse", "MAIN"]);
        assert_eq!((&mug["items"][0]["on_hand"], &mug["items"][0]["reserved"]), (&18.into(), &0.into()));

        // One mug comes back whole, the kettle broken; the money goes back.
        let returned = json(db, &["order", "return", &number, "--line", "MUG-01:1", "--line", "KETTLE-2L:1:scrap"]);
        assert_eq!(returned["status"], "returned");
        assert_eq!(available(db, "MUG-01"), 19);
        let refunded = json(db, &["order", "refund", &number]);
        assert_eq!((&refunded["status"], &refunded["refunded"]), (&"refunded".into(), &"64.90".into()));

        // The day's figures go out, and what goes out comes back in unchanged.
        let products = stockyard(db).args(["export", "products"]).assert().success();
        let products = text(&products.get_output().stdout);
        assert!(products.starts_with("sku,name,price,currency,description,category,barcode,active,version,attr.colour"), "{products}");
        let again = stockyard(db).args(["import", "products", "-", "--format", "json"]).write_stdin(products).assert().success();
        let again: Value = serde_json::from_slice(&again.get_output().stdout).expect("JSON report");
        assert_eq!((&again["unchanged"], &again["updated"]), (&3.into(), &0.into()));
        let orders = stockyard(db).args(["export", "orders"]).assert().success();
        let orders = text(&orders.get_output().stdout);
        assert!(orders.contains("refunded") && !orders.contains("ana@example.com"), "{orders}");

        let verified = json(db, &["verify"]);
        assert_eq!(verified["ok"], true, "{verified}");
    }
}
