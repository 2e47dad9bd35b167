//! `import` and `export` through the real binary on both backends: a file or standard
//! input, the report, every bad row on stderr with exit 6 (4 for conflicts only) and
//! nothing applied, `--dry-run`, and exports written to a file that import back.

use crate::common;

use common::{assert_mentions, init, json, refused, stockyard};
use predicates::str::contains;
use stockyard_testkit::backend_tests;

const PRODUCTS: &str = "sku,name,price,category,attr.color\nMUG-1,Mug,5.50,Kitchen,red\nCUP-1,Cup,3,,\n";

backend_tests! {
    fn import_reports_applies_and_refuses_a_bad_file_whole(db) {
        init(db);
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("products.csv");
        std::fs::write(&file, PRODUCTS).expect("write");
        let file = file.to_str().expect("path");

        let rehearsal = json(db, &["import", "products", file, "--dry-run"]);
        assert_eq!((&rehearsal["dry_run"], &rehearsal["created"]), (&true.into(), &2.into()));
        stockyard(db).args(["product", "show", "MUG-1"]).assert().code(3);

        stockyard(db)
            .args(["import", "products", file])
            .assert()
            .success()
            .stdout(contains("2 rows: 2 created, 0 updated, 0 unchanged; new categories: Kitchen"));
        assert_eq!(json(db, &["product", "show", "MUG-1"])["attributes"]["color"], "red");

        // Standard input, with every bad row named and nothing kept.
        let bad = "sku,name,price\nNEW-1,New,1\nMUG-1,,2\nCUP-1,Cup,abc\n";
        let assert = stockyard(db).args(["import", "products", "-"]).write_stdin(bad).assert().code(6);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert_mentions(&stderr, &["2 bad rows, nothing was imported", "line 3, column name", "line 4, column price"]);
        stockyard(db).args(["product", "show", "NEW-1"]).assert().code(3);

        let empty = refused(stockyard(db), &["import", "products", "-"], 6);
        assert_mentions(&empty, &["line 1, column sku: the required column is missing"]);
        let conflict = stockyard(db)
            .args(["import", "products", "-"])
            .write_stdin("sku,name,price,version\nMUG-1,Mug,6,7\n")
            .assert()
            .code(4);
        assert_mentions(&String::from_utf8_lossy(&conflict.get_output().stderr), &["line 2, column version", "not 7"]);

        let missing = refused(stockyard(db), &["import", "stock", "/nonexistent/stock.csv"], 1);
        assert_mentions(&missing, &["cannot read /nonexistent/stock.csv"]);
        refused(stockyard(db), &["import", "customers", file], 6);
    }

    fn exports_import_back_and_orders_keep_personal_data_unless_asked(db) {
        init(db);
        stockyard(db).args(["import", "products", "-"]).write_stdin(PRODUCTS).assert().success();
        stockyard(db)
            .args(["import", "stock", "-"])
            .write_stdin("sku,warehouse,quantity,mode,reason\nMUG-1,MAIN,12,receive,PO-1\n")
            .assert()
            .success()
            .stdout(contains("stock moved 1 times"));
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("products.csv");
        let out = out.to_str().expect("path");
        stockyard(db)
            .args(["export", "products", "--out", out])
            .assert()
            .success()
            .stdout(format!("exported 2 rows of products to {out}\n"));
        let written = std::fs::read_to_string(out).expect("export");
        assert!(written.starts_with("sku,name,price,currency,description,category,barcode,active,version,attr.color\n"), "{written}");
        let again = json(db, &["import", "products", out]);
        assert_eq!((&again["unchanged"], &again["created"], &again["updated"]), (&2.into(), &0.into(), &0.into()));

        let stock = stockyard(db).args(["export", "stock"]).assert().success();
        assert_eq!(String::from_utf8_lossy(&stock.get_output().stdout), "sku,warehouse,quantity,mode,reason,reorder_point,reorder_qty\nMUG-1,MAIN,12,count,,0,0\n");
        let listed = json(db, &["export", "products"]);
        assert_eq!((&listed[0]["sku"], &listed[1]["attr.color"]), (&"CUP-1".into(), &"red".into()));
        let done = json(db, &["export", "stock", "--out", out]);
        assert_eq!((&done["exported"], &done["rows"]), (&"stock".into(), &1.into()));
        assert!(std::fs::read_to_string(out).expect("json").trim_start().starts_with('['), "JSON to the file");

        stockyard(db)
            .args(["order", "create", "--customer", "jo@example.org", "--name", "=Jo", "--line", "MUG-1:2"])
            .assert()
            .success();
        let plain = stockyard(db).args(["export", "orders"]).assert().success();
        let plain = String::from_utf8_lossy(&plain.get_output().stdout).into_owned();
        assert!(plain.contains(",MUG-1:2,") && !plain.contains("jo@example.org"), "{plain}");
        stockyard(db)
            .args(["export", "orders", "--include-personal-data"])
            .assert()
            .success()
            .stdout(contains("jo@example.org,'=Jo"));
        refused(stockyard(db), &["export", "stock", "--include-personal-data"], 6);
    }
}
