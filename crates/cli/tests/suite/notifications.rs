//! `notify …` and `inbox …` through the real binary, against an SMTP server started by the
//! test: a low-stock email reaches the warehouse user with its rendered subject, the in-app
//! copy lands in their inbox; without SMTP settings emails wait; ad-hoc sends; templates
//! that do not parse are refused by line; and who may do what.

use crate::common;

use std::path::PathBuf;

use assert_cmd::Command;
use common::{init, items, json, json_of, stockyard, with_products};
use predicates::str::contains;
use serde_json::Value;
use stockyard_testkit::{TestDb, backend_tests, smtp::SmtpSink};

const FROM: &str = "Stockyard <stock@example.com>";
const FLOOR: &str = "floor@example.com";
const LOW_STOCK_SUBJECT: &str = "Low stock: MUG-1 at MAIN";

/// The binary with email settings pointing at `smtp`.
fn mailing(db: &TestDb, smtp: &SmtpSink) -> Command {
    let mut cmd = stockyard(db);
    cmd.env("STOCKYARD_SMTP_URL", smtp.url()).env("STOCKYARD_MAIL_FROM", FROM);
    cmd
}

/// The binary acting as `email`.
fn acting(db: &TestDb, email: &str) -> Command {
    let mut cmd = stockyard(db);
    cmd.args(["--as", email]);
    cmd
}

fn add_user(db: &TestDb, email: &str, role: &str) {
    let mut cmd = stockyard(db);
    cmd.args(["user", "add", email, "--role", role, "--password-stdin"]).write_stdin("correct horse battery");
    cmd.assert().success();
}

/// A warehouse user, and MUG-1 falling below its reorder point at MAIN.
fn low_stock(db: &TestDb) {
    with_products(db, &["MUG-1"]);
    add_user(db, FLOOR, "warehouse");
    stockyard(db).args(["stock", "receive", "MUG-1", "10"]).assert().success();
    stockyard(db)
        .args(["stock", "threshold", "MUG-1", "--reorder-point", "5", "--reorder-qty", "20"])
        .assert()
        .success();
    stockyard(db).args(["stock", "adjust", "MUG-1", "--by", "-6", "--reason", "breakage"]).assert().success();
}

/// A file holding `text`, kept as long as the returned directory.
fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("body.txt");
    std::fs::write(&path, text).expect("write the file");
    (dir, path)
}

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

backend_tests! {
    fn low_stock_reaches_the_warehouse_by_email_and_inbox(db) {
        low_stock(db);
        let smtp = SmtpSink::start();
        let report = json_of(mailing(db, &smtp), &["notify", "run", "--once"]);
        assert_eq!((&report["created"], &report["delivered"], &report["failed"]), (&2.into(), &2.into(), &0.into()), "{report}");
        assert_eq!(report["waiting"], serde_json::json!([]));
        let mails = smtp.received();
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert_eq!(mails[0].to, [FLOOR]);
        assert_eq!(mails[0].header("Subject").as_deref(), Some(LOW_STOCK_SUBJECT));

        let inbox = items(&json_of(acting(db, FLOOR), &["inbox"]));
        assert_eq!(inbox.len(), 1, "{inbox:?}");
        assert_eq!((text(&inbox[0]["subject"]), text(&inbox[0]["channel"])), (LOW_STOCK_SUBJECT, "in_app"));
        let id = text(&inbox[0]["id"]).to_owned();
        let table = acting(db, FLOOR).args(["inbox", "--unread"]).assert().success();
        let table = stdout(&table);
        assert!(table.contains(&id) && table.contains(LOW_STOCK_SUBJECT) && table.contains("no"), "{table}");
        // Their own notification, even without notify.read.
        assert_eq!(json_of(acting(db, FLOOR), &["notify", "status", &id])["status"], "delivered");

        let read = json_of(acting(db, FLOOR), &["inbox", "read", &id]);
        assert!(read["read_at"].is_string(), "{read}");
        assert!(items(&json_of(acting(db, FLOOR), &["inbox", "--unread"])).is_empty());
        assert_eq!(items(&json_of(acting(db, FLOOR), &["inbox"])).len(), 1, "read, not gone");
        acting(db, FLOOR).args(["inbox", "read", "01a2135d-f296-7674-85a2-66fb60ab0752"]).assert().code(3);
        stockyard(db).arg("inbox").assert().code(6).stderr(contains("--as"));

        // Another round makes nothing twice.
        let again = json_of(mailing(db, &smtp), &["notify", "run", "--once"]);
        assert_eq!((&again["created"], smtp.received().len()), (&0.into(), 1));
    }

    fn without_smtp_settings_emails_wait(db) {
        low_stock(db);
        let run = stockyard(db).args(["notify", "run", "--once"]).assert().success();
        let notice = stderr(&run);
        assert!(notice.contains("email is off") && notice.contains("STOCKYARD_SMTP_URL"), "{notice}");
        assert!(stdout(&run).contains("1 delivered"), "the in-app one still goes: {}", stdout(&run));
        let pending = items(&json(db, &["notify", "list", "--status", "pending"]));
        assert_eq!(pending.len(), 1, "{pending:?}");
        assert_eq!((text(&pending[0]["channel"]), text(&pending[0]["to"])), ("email", FLOOR));
        assert_eq!(text(&pending[0]["subject"]), LOW_STOCK_SUBJECT);
        stockyard(db).args(["notify", "list", "--status", "lost"]).assert().code(6).stderr(contains("lost"));
        // One at a time, by cursor: the email and the in-app one, then the end.
        let first = json(db, &["notify", "list", "--limit", "1"]);
        let cursor = text(&first["next_cursor"]).to_owned();
        let second = json(db, &["notify", "list", "--limit", "1", "--cursor", &cursor]);
        assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
        assert!(second["next_cursor"].is_null(), "{second}");

        // Half the settings is a mistake, not a quiet "email off".
        let mut half = stockyard(db);
        half.env("STOCKYARD_SMTP_URL", "smtp://127.0.0.1:2525");
        half.args(["notify", "run", "--once"]).assert().code(6).stderr(contains("STOCKYARD_MAIL_FROM"));

        let smtp = SmtpSink::start();
        mailing(db, &smtp).args(["notify", "run", "--once"]).assert().success();
        assert_eq!(smtp.received().len(), 1, "sent once SMTP is there");
        assert!(items(&json(db, &["notify", "list", "--status", "pending"])).is_empty());
    }

    fn an_ad_hoc_send_is_delivered_by_the_next_run(db) {
        init(db);
        let (_dir, body) = file("Hello {{ name }},\nwelcome aboard.\n");
        let body = body.to_string_lossy().into_owned();
        stockyard(db)
            .args(["notify", "template", "set", "welcome", "--channel", "email", "--body-file", &body])
            .assert()
            .code(6)
            .stderr(contains("--subject"));
        let saved = json(db, &["notify", "template", "set", "welcome", "--channel", "email", "--subject", "Welcome, {{ name }}", "--body-file", &body]);
        assert_eq!((text(&saved["name"]), text(&saved["subject"])), ("welcome", "Welcome, {{ name }}"));
        stockyard(db)
            .args(["notify", "send", "--to", "bob@example.com", "--template", "welcome"])
            .assert()
            .code(6)
            .stderr(contains("name"));

        let sent = json(db, &["notify", "send", "--to", "bob@example.com", "--template", "welcome", "--var", "name=Bob"]);
        assert_eq!((text(&sent["status"]), text(&sent["subject"]), text(&sent["to"])), ("pending", "Welcome, Bob", "bob@example.com"));
        let table = stockyard(db).args(["notify", "send", "--to", "ann@example.com", "--template", "welcome", "--var", "name=Ann"]).assert().success();
        let table = stdout(&table);
        assert!(table.contains("ID") && table.contains("pending"), "{table}");
        let quiet = stockyard(db).args(["notify", "send", "--to", "cy@example.com", "--template", "welcome", "--var", "name=Cy", "--quiet"]).assert().success();
        let quiet = stdout(&quiet).trim().to_owned();
        assert_eq!(json(db, &["notify", "status", &quiet])["to"], "cy@example.com", "--quiet prints the id");

        let smtp = SmtpSink::start();
        let run = mailing(db, &smtp).args(["notify", "run", "--once"]).assert().success();
        assert!(stderr(&run).is_empty(), "{}", stderr(&run));
        assert!(stdout(&run).contains("3 delivered"), "{}", stdout(&run));
        let mut subjects: Vec<_> = smtp.received().iter().filter_map(|m| m.header("Subject")).collect();
        subjects.sort();
        assert_eq!(subjects, ["Welcome, Ann", "Welcome, Bob", "Welcome, Cy"]);
        let status = json(db, &["notify", "status", text(&sent["id"])]);
        assert_eq!((text(&status["status"]), &status["attempts"]), ("delivered", &1.into()));
    }

    fn templates_are_listed_previewed_and_refused_by_line(db) {
        init(db);
        let templates = items(&json(db, &["notify", "templates"]));
        let low = templates.iter().find(|t| t["name"] == "inventory_threshold_reached" && t["channel"] == "email");
        assert_eq!(low.map(|t| text(&t["subject"])), Some("Low stock: {{ sku }} at {{ warehouse }}"));

        let preview = stockyard(db).args(["notify", "template", "preview", "order_status_changed", "--channel", "email"]).assert().success();
        assert!(stdout(&preview).contains("Subject: Your order 1042 is shipped"), "{}", stdout(&preview));
        let preview = json(db, &["notify", "template", "preview", "inventory_threshold_reached", "--channel", "in_app"]);
        assert_eq!(text(&preview["subject"]), "Low stock: MUG-01 at MAIN");
        stockyard(db).args(["notify", "template", "preview", "nothing", "--channel", "email"]).assert().code(3);
        stockyard(db).args(["notify", "template", "preview", "order_created", "--channel", "pigeon"]).assert().code(6);

        let (_dir, broken) = file("Hello,\n{{ sku }} is low\n{% if available %}order more\n");
        let broken = broken.to_string_lossy().into_owned();
        let refused = stockyard(db)
            .args(["notify", "template", "set", "inventory_threshold_reached", "--channel", "email", "--body-file", &broken])
            .assert()
            .code(6);
        let message = stderr(&refused);
        assert!(message.contains("line 3") && message.contains("body.txt"), "{message}");

        // Without --subject an existing template keeps its own.
        let (_dir, body) = file("{{ sku }}: {{ available }} left\n");
        let body = body.to_string_lossy().into_owned();
        let saved = json(db, &["notify", "template", "set", "inventory_threshold_reached", "--channel", "email", "--body-file", &body]);
        assert_eq!(text(&saved["subject"]), "Low stock: {{ sku }} at {{ warehouse }}");
        let preview = json(db, &["notify", "template", "preview", "inventory_threshold_reached", "--channel", "email"]);
        assert_eq!(text(&preview["body"]), "MUG-01: 3 left");
    }

    fn only_those_allowed_may_read_send_or_run(db) {
        init(db);
        add_user(db, "view@example.com", "viewer");
        add_user(db, FLOOR, "warehouse");
        add_user(db, "boss@example.com", "manager");
        acting(db, "view@example.com").args(["notify", "list"]).assert().code(5);
        acting(db, FLOOR).args(["notify", "send", "--to", "x@example.com", "--template", "welcome"]).assert().code(5);
        acting(db, FLOOR).args(["notify", "templates"]).assert().code(5);
        acting(db, "boss@example.com").args(["notify", "run", "--once"]).assert().code(5);
        acting(db, "boss@example.com").args(["notify", "list"]).assert().success();
        assert!(items(&json_of(acting(db, "view@example.com"), &["inbox"])).is_empty(), "everyone has an inbox");
    }
}
