//! `--idempotency-key` on the commands that create or move something (the real binary, both
//! backends): a repeat prints the first result and changes nothing; other arguments exit 4.

use crate::common;

use common::{json, stockyard, with_products};
use stockyard_testkit::backend_tests;

/// How many events the log holds: a repeat adds none.
fn event_count(db: &stockyard_testkit::TestDb) -> i64 {
    db.number("SELECT COUNT(*) FROM events")
}

backend_tests! {
    fn each_keyed_command_prints_its_first_result_when_repeated(db) {
        with_products(db, &["MUG-01"]);
        stockyard(db).args(["warehouse", "add", "EAST", "--name", "East"]).assert().success();
        let order_args: &[&str] = &["order", "create", "--customer", "kim@example.com", "--line", "MUG-01:2", "--idempotency-key", "o-1"];
        let runs: [&[&str]; 5] = [
            &["stock", "receive", "MUG-01", "10", "--idempotency-key", "r-1"],
            &["stock", "adjust", "MUG-01", "--by", "-1", "--reason", "dented", "--idempotency-key", "a-1"],
            &["stock", "transfer", "MUG-01", "2", "--from", "MAIN", "--to", "EAST", "--idempotency-key", "t-1"],
            &["reserve", "MUG-01:1", "--warehouse", "MAIN", "--idempotency-key", "v-1"],
            order_args,
        ];
        for args in runs {
            let first = json(db, args);
            let events = event_count(db);
            assert_eq!(json(db, args), first, "{args:?}");
            assert_eq!(event_count(db), events, "{args:?} changed nothing the second time");
        }
        let order = json(db, order_args);
        let id = order["id"].as_str().expect("order id");
        let pay = ["order", "pay", id, "--amount", "1.00", "--idempotency-key", "p-1"];
        let paid = json(db, &pay);
        assert_eq!(json(db, &pay), paid);
        assert_eq!(paid["payments"].as_array().map(Vec::len), Some(1));
    }

    fn a_key_reused_with_other_arguments_exits_4_naming_the_key(db) {
        with_products(db, &["MUG-01"]);
        json(db, &["stock", "receive", "MUG-01", "10", "--idempotency-key", "r-1"]);
        let events = event_count(db);
        let assert = stockyard(db).args(["stock", "receive", "MUG-01", "11", "--idempotency-key", "r-1"]).assert().code(4);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(stderr.contains("\"r-1\"") && stderr.contains("different request"), "{stderr}");
        assert_eq!(event_count(db), events);
        // A command that takes no key has no such flag: a usage error.
        stockyard(db).args(["stock", "count", "MUG-01", "3", "--idempotency-key", "c-1"]).assert().code(2);
    }
}
