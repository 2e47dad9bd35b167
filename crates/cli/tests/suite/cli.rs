//! The real `stockyard` binary on both backends: JSON shapes, CSV, exit codes, messages.

use crate::common;

use assert_cmd::Command;
use common::{assert_mentions, init, json, keys, refused, stockyard};
use predicates::str::contains;
use serde_json::Value;
use stockyard_testkit::backend_tests;

backend_tests! {
    fn commands_before_init_say_how_to_fix_it(db) {
        stockyard(db).args(["product", "list"]).assert().code(1).stderr(contains("run `stockyard init` first"));
        let first = json(db, &["init"]);
        assert_eq!(first["initialised"], true);
        assert_eq!(first["warehouses_created"], serde_json::json!(["MAIN"]));
        let again = json(db, &["init"]);
        assert_eq!((&again["initialised"], &again["warehouses_created"]), (&Value::Bool(false), &serde_json::json!([])));
        let warehouses = json(db, &["warehouse", "list"]);
        assert_eq!(warehouses["items"][0]["code"], "MAIN");
        assert_eq!(warehouses["next_cursor"], Value::Null);
    }

    fn product_json_has_the_api_shape(db) {
        init(db);
        stockyard(db).args(["category", "add", "Kitchen"]).assert().success();
        let product = json(db, &[
            "product", "add", "--sku", "MUG-1", "--name", "Enamel mug", "--price", "9.5", "--currency", "eur",
            "--category", "kitchen", "--attr", "color=blue", "--attr", "size=350ml", "--barcode", "4006381333931",
            "--description", "Blue enamel",
        ]);
        assert_eq!(
            keys(&product),
            ["active", "attributes", "barcode", "category", "created_at", "currency", "description", "id", "name", "price", "sku", "updated_at", "version"]
        );
        assert_eq!((&product["price"], &product["currency"], &product["version"]), (&"9.50".into(), &"EUR".into(), &1.into()));
        assert_eq!(product["attributes"], serde_json::json!({"color": "blue", "size": "350ml"}));
        let categories = json(db, &["category", "list"]);
        assert_eq!(product["category"], categories["items"][0]["id"]);
        assert!(product["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "RFC 3339 UTC: {product}");

        assert_eq!(json(db, &["product", "show", "MUG-1"]), product);
        let id = product["id"].as_str().unwrap_or_default();
        assert_eq!(json(db, &["product", "show", id]), product);
        let list = json(db, &["product", "list"]);
        assert_eq!((list["items"].as_array().map(Vec::len), &list["next_cursor"]), (Some(1), &Value::Null));
        assert_eq!(list["items"][0], product);
    }

    fn quiet_prints_only_the_id_and_csv_has_a_header(db) {
        init(db);
        let out = stockyard(db).args(["product", "add", "--sku", "Q-1", "--name", "Q", "--price", "1", "--quiet"]).assert().success();
        let id = String::from_utf8_lossy(&out.get_output().stdout).trim().to_owned();
        assert_eq!(json(db, &["product", "show", "Q-1"])["id"], id.as_str());

        let out = stockyard(db).args(["product", "list", "--format", "csv"]).assert().success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().map(|h| h.iter().map(str::to_owned).collect::<Vec<_>>()).unwrap_or_default();
        assert_eq!(headers[..4], ["sku", "name", "price", "currency"]);
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("csv row")).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!((&rows[0][0], &rows[0][2]), ("Q-1", "1.00"));
        assert!(rows[0].iter().any(|field| field == id));
    }

    fn exit_codes_follow_the_contract(db) {
        init(db);
        stockyard(db).args(["product", "add", "--sku", "E-1", "--name", "E", "--price", "2"]).assert().success();
        let cases: &[(&[&str], i32, &str)] = &[
            (&["product", "add", "--sku", "E-2", "--name", "E", "--price", "abc"], 6, "price"),
            (&["product", "add", "--sku", "bad sku", "--name", "E", "--price", "1"], 6, "sku"),
            (&["product", "add", "--sku", "E-2", "--name", "E", "--price", "1", "--currency", "ABC"], 6, "currency"),
            (&["product", "add", "--sku", "E-2", "--name", "E", "--price", "1", "--attr", "novalue"], 6, "KEY=VALUE"),
            (&["product", "list", "--limit", "x"], 6, "--limit"),
            (&["product", "list", "--limit", "0"], 6, "limit"),
            (&["product", "list", "--format", "xml"], 6, "xml"),
            (&["product", "add", "--sku", "E-1", "--name", "E", "--price", "1"], 4, "E-1"),
            (&["product", "show", "NOPE"], 3, "NOPE"),
            (&["product", "delete", "NOPE"], 3, "NOPE"),
            (&["product", "add", "--sku", "E-2", "--name", "E", "--price", "1", "--category", "Nope"], 3, "Nope"),
            (&["warehouse", "add", "MAIN", "--name", "again"], 4, "MAIN"),
            (&["product", "frobnicate"], 2, "frobnicate"),
            (&["product", "list", "--no-such-flag"], 2, "--no-such-flag"),
            (&["product", "add", "--sku", "E-2"], 2, "--name"),
            (&["--as", "nobody@example.com", "product", "list"], 5, "nobody@example.com"),
        ];
        for (args, code, names) in cases {
            stockyard(db).args(*args).assert().code(*code).stderr(contains(*names));
        }
        // Nothing of the refused commands was written.
        assert_eq!(json(db, &["product", "list"])["items"].as_array().map(Vec::len), Some(1));
        stockyard(db).arg("--help").assert().success().stdout(contains("Usage"));
    }

    fn update_and_delete(db) {
        init(db);
        stockyard(db).args(["product", "add", "--sku", "U-1", "--name", "U", "--price", "2", "--attr", "color=red"]).assert().success();
        let updated = json(db, &["product", "update", "U-1", "--price", "3.25", "--attr", "color=", "--attr", "size=L", "--if-version", "1"]);
        assert_eq!((&updated["price"], &updated["version"]), (&"3.25".into(), &2.into()));
        assert_eq!(updated["attributes"], serde_json::json!({"size": "L"}));
        stockyard(db).args(["product", "update", "U-1", "--name", "V", "--if-version", "1"]).assert().code(4).stderr(contains("version 2"));
        stockyard(db).args(["product", "update", "U-1", "--price", "-1"]).assert().code(6).stderr(contains("price"));
        stockyard(db).args(["product", "delete", "U-1"]).assert().success().stdout(contains("Deleted product U-1"));
        stockyard(db).args(["product", "show", "U-1"]).assert().code(3);
    }

    fn demo_seeds_a_browsable_catalog(db) {
        init(db);
        let report = json(db, &["demo", "--products", "30"]);
        assert_eq!((&report["products_created"], &report["warehouses_created"]), (&30.into(), &2.into()));
        assert_eq!(report["orders_created"], 10);
        let statuses: std::collections::BTreeSet<String> = json(db, &["order", "list"])["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["status"].as_str().map(str::to_owned))
            .collect();
        let every = ["cancelled", "confirmed", "delivered", "packed", "paid", "picking", "refunded", "return_requested",
            "returned", "shipped"];
        assert_eq!(statuses.iter().map(String::as_str).collect::<Vec<_>>(), every);
        let again = json(db, &["demo", "--products", "30"]);
        assert_eq!((&again["products_created"], &again["orders_created"]), (&0.into(), &0.into()), "a second run adds nothing");
        stockyard(db).arg("verify").assert().success();
        let electronics = json(db, &["product", "list", "--category", "Electronics", "--limit", "1000"]);
        assert_eq!(electronics["items"].as_array().map(Vec::len), Some(10));
        let page = json(db, &["product", "list", "--limit", "20"]);
        let cursor = page["next_cursor"].as_str().unwrap_or_default().to_owned();
        let rest = json(db, &["product", "list", "--limit", "20", "--cursor", &cursor]);
        assert_eq!((rest["items"].as_array().map(Vec::len), &rest["next_cursor"]), (Some(10), &Value::Null));
        let table = stockyard(db).args(["product", "list", "--search", "hub"]).assert().success();
        assert!(String::from_utf8_lossy(&table.get_output().stdout).contains("USB-C Hub"));
        let warehouses = json(db, &["warehouse", "list"]);
        let codes: Vec<&str> = warehouses["items"].as_array().into_iter().flatten().filter_map(|w| w["code"].as_str()).collect();
        assert_eq!(codes, ["EAST", "MAIN", "WEST"]);
    }
}

backend_tests! {
    fn tables_fit_the_width_they_are_given_and_pipes_get_whole_rows(db) {
        init(db);
        let long = "Enamel mug with a name long enough to need cutting down to size";
        stockyard(db).args(["product", "add", "--sku", "MUG-10", "--name", long, "--price", "9"]).assert().success();
        stockyard(db).args(["product", "add", "--sku", "TEE-M", "--name", "Tee", "--price", "5"]).assert().success();
        let narrow = stockyard(db).env("COLUMNS", "70").args(["product", "list"]).assert().success();
        let narrow = String::from_utf8_lossy(&narrow.get_output().stdout).into_owned();
        let lines: Vec<&str> = narrow.lines().collect();
        assert_eq!(lines.len(), 4, "a header, its rule and one line per product:\n{narrow}");
        assert!(lines.iter().all(|l| l.trim_end().chars().count() <= 70), "{narrow}");
        assert!(lines[2].starts_with(" MUG-10") && lines[2].contains('…') && lines[2].contains("9.00"), "{narrow}");
        assert!(lines[3].contains("Tee ") && !lines[3].contains('…'), "short cells are whole: {narrow}");
        let piped = stockyard(db).args(["product", "list"]).assert().success();
        let piped = String::from_utf8_lossy(&piped.get_output().stdout).into_owned();
        assert!(piped.contains(long) && !piped.contains('…'), "{piped}");
    }

    fn mistyped_names_get_a_suggestion(db) {
        init(db);
        stockyard(db).args(["product", "add", "--sku", "MUG-10", "--name", "Mug", "--price", "9"]).assert().success();
        stockyard(db).args(["warehouse", "add", "EAST", "--name", "East"]).assert().success();
        let sku = refused(stockyard(db), &["stock", "receive", "MUG-1O", "3"], 3);
        assert_eq!(sku.trim(), r#"error: product "MUG-1O" not found; did you mean "MUG-10"?"#);
        let warehouse = refused(stockyard(db), &["stock", "receive", "MUG-10", "3", "--warehouse", "EATS"], 3);
        assert_mentions(&warehouse, &[r#"warehouse "EATS" not found; did you mean "EAST"?"#]);
        let reserve = refused(stockyard(db), &["reserve", "MUG-01:1"], 3);
        assert_mentions(&reserve, &[r#"did you mean "MUG-10"?"#]);
        let status = refused(stockyard(db), &["order", "list", "--status", "shiped"], 6);
        assert_mentions(&status, &["\"shiped\" is not one of", r#"did you mean "shipped"?"#]);
        let unrelated = refused(stockyard(db), &["stock", "receive", "BICYCLE", "3"], 3);
        assert!(!unrelated.contains("did you mean"), "{unrelated}");
    }
}

/// Flags beat the environment, which beats `stockyard.toml`.
#[test]
fn settings_layer_flag_over_environment_over_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(dir.path().join("stockyard.toml"), format!("database = \"sqlite://{}\"\n", path("file.db")))
        .expect("write");
    let run = |env: Option<&str>, flag: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stockyard"));
        cmd.current_dir(dir.path()).env_remove("STOCKYARD_DB").env_remove("STOCKYARD_CONFIG").arg("init");
        if let Some(env) = env {
            cmd.env("STOCKYARD_DB", format!("sqlite://{}", path(env)));
        }
        if let Some(flag) = flag {
            cmd.arg("--db").arg(format!("sqlite://{}", path(flag)));
        }
        cmd.assert().success();
    };
    run(None, None);
    assert!(dir.path().join("file.db").exists());
    run(Some("env.db"), None);
    assert!(dir.path().join("env.db").exists());
    run(Some("env2.db"), Some("flag.db"));
    assert!(dir.path().join("flag.db").exists() && !dir.path().join("env2.db").exists());
}

/// Each shell's completion script generates, and bash's really completes.
#[test]
fn completions_generate_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Command::new(env!("CARGO_BIN_EXE_stockyard")).args(["completions", shell]).assert().success();
        let script = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(script.contains("receive") && script.contains("idempotency-key"), "{shell}: {script:.200}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_stockyard")).args(["completions", "bash"]).assert().success();
    let script = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let probe = format!(
        "{script}\nCOMP_WORDS=(stockyard stock rec); COMP_CWORD=2; COMP_LINE='stockyard stock rec'; COMP_POINT=19\n\
         _stockyard stockyard rec stock\necho \"${{COMPREPLY[@]}}\""
    );
    let completed = Command::new("bash").args(["--norc", "-s"]).write_stdin(probe).assert().success();
    assert_eq!(String::from_utf8_lossy(&completed.get_output().stdout).trim(), "receive");
}

/// `man` writes a page per command, examples included; `openapi` prints the API document.
#[test]
fn man_pages_and_the_openapi_document_are_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    Command::new(env!("CARGO_BIN_EXE_stockyard")).arg("man").arg("--out").arg(dir.path()).assert().success();
    let page = std::fs::read_to_string(dir.path().join("stockyard-stock-receive.1")).expect("a page per command");
    assert!(page.contains("stockyard stock receive MUG\\-01 48"), "{page}");
    assert!(dir.path().join("stockyard.1").exists() && dir.path().join("stockyard-order-return.1").exists());
    Command::new(env!("CARGO_BIN_EXE_stockyard")).arg("man").assert().code(2);

    let out = Command::new(env!("CARGO_BIN_EXE_stockyard")).arg("openapi").assert().success();
    let document: Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/api/v1/inventory/reserve"]["post"].is_object());
}
