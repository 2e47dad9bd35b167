//! Hostile input at the command line, on both backends: values that would wrap, malformed
//! `SKU:QTY`, files and standard input without end, errors in one line, spreadsheet
//! formulas in CSV output.

use crate::common;

use std::{process::Stdio, time::Duration};

use common::{command, json, stockyard, with_products};
use predicates::str::contains;
use stockyard_testkit::backend_tests;

/// Long enough for any of these commands, far shorter than reading `/dev/zero` to the end.
const PROMPTLY: Duration = Duration::from_secs(30);

backend_tests! {
    fn values_that_would_wrap_are_invalid_input(db) {
        with_products(db, &["M1"]);
        stockyard(db).args(["stock", "adjust", "M1", "--by", "-9223372036854775808", "--reason", "x"])
            .assert().code(6).stderr(contains("by"));
        stockyard(db).args(["stock", "receive", "M1", "1000000000000"]).assert().success();
        stockyard(db).args(["stock", "receive", "M1", "1"]).assert().code(4).stderr(contains("most a level may hold"));
        stockyard(db).args(["stock", "count", "M1", "3"]).assert().success();
        for bad in ["M1:1:2", ":1", "M1:", "M1:x"] {
            stockyard(db).args(["reserve", bad]).assert().code(6).stderr(contains(bad));
        }
        assert_eq!(json(db, &["stock", "show", "M1"])["items"][0]["reserved"], 0);
    }

    fn files_and_standard_input_without_end_are_refused(db) {
        with_products(db, &["M1"]);
        stockyard(db).args(["--config", "/dev/zero", "stock", "show"]).timeout(PROMPTLY)
            .assert().code(1).stderr(contains("larger than"));
        stockyard(db).args(["notify", "template", "set", "welcome", "--channel", "email", "--subject", "Hi", "--body-file", "/dev/zero"])
            .timeout(PROMPTLY).assert().code(1).stderr(contains("larger than"));
        stockyard(db).args(["key", "rotate", "--new-key-file", "/dev/zero"]).timeout(PROMPTLY)
            .assert().code(1).stderr(contains("larger than"));
        stockyard(db).env("STOCKYARD_DATA_KEY_FILE", "/dev/zero").args(["order", "list"]).timeout(PROMPTLY)
            .assert().code(1).stderr(contains("larger than"));
        let zeros = std::fs::File::open("/dev/zero").expect("open /dev/zero");
        let mut add = command(db);
        add.args(["user", "add", "ann@example.com", "--role", "viewer", "--password-stdin"]).stdin(Stdio::from(zeros));
        // (assert_cmd would replace this standard input with its own.)
        let out = add.output().expect("run user add");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!((out.status.code(), stderr.contains("longer than")), (Some(1), true), "{stderr}");
        assert_eq!(json(db, &["user", "list"])["items"].as_array().map(Vec::len), Some(0), "nothing created");
    }

    fn errors_are_one_line(db) {
        with_products(db, &["M1"]);
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("stockyard.toml");
        std::fs::write(&config, "allocation = \"single-then-most\"\nreservation_ttl = [\n").expect("write");
        let config = config.display().to_string();
        for args in [
            vec!["stock", "show", "--bogus"],
            vec!["stock", "receive", "M1", "many"],
            vec!["--config", config.as_str(), "stock", "show"],
            vec!["nonsense"],
        ] {
            let out = stockyard(db).args(&args).assert().failure();
            let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
            assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
            assert!(stderr.starts_with("error: "), "{stderr}");
        }
        stockyard(db).args(["--config", &config, "stock", "show"]).assert().stderr(contains("line 2"));
    }

    fn csv_output_defuses_spreadsheet_formulas(db) {
        with_products(db, &["M1"]);
        stockyard(db).args(["product", "add", "--sku", "F1", "--name", "=HYPERLINK(\"http://evil\",\"x\")", "--price", "1"])
            .assert().success();
        stockyard(db).args(["stock", "adjust", "M1", "--by", "5", "--reason", "@SUM(A1)"]).assert().success();
        stockyard(db).args(["stock", "adjust", "M1", "--by", "-3", "--reason=-2+3"]).assert().success();
        let out = stockyard(db).args(["product", "show", "F1", "--format", "csv"]).assert().success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(text.contains("'=HYPERLINK") && !text.contains(",=HYPERLINK"), "{text}");
        let out = stockyard(db).args(["stock", "history", "M1", "--format", "csv"]).assert().success();
        let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(text.contains("'@SUM(A1)") && text.contains("'-2+3"), "{text}");
        assert!(text.contains(",-3,"), "numbers stay numbers: {text}");
    }

    fn json_times_have_six_fractional_digits(db) {
        with_products(db, &["M1"]);
        stockyard(db).args(["stock", "receive", "M1", "2"]).assert().success();
        let product = json(db, &["product", "show", "M1"]);
        let history = json(db, &["stock", "history", "M1"]);
        for time in [&product["created_at"], &product["updated_at"], &history["items"][0]["occurred_at"]] {
            let text = time.as_str().unwrap_or_default();
            let fraction = text.rsplit_once('.').map(|(_, f)| f).unwrap_or_default();
            assert_eq!((fraction.len(), fraction.ends_with('Z')), (7, true), "{text}");
        }
    }
}
