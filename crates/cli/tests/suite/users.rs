//! `init --admin`, `user …`, `token …` and `--as` through the real binary: JSON shapes,
//! secrets shown once, refusals and their exit codes, and the permission table checked
//! command by command against `user explain`.

use crate::common;

use std::collections::HashMap;

use common::{command, init, items, json, json_of, keys, stockyard, with_products};
use predicates::str::contains;
use serde_json::Value;
use stockyard_core::Store;
use stockyard_testkit::{TestDb, backend_tests};

const PASSWORD: &str = "correct horse battery";
const USER_KEYS: [&str; 8] = ["active", "created_at", "email", "id", "name", "role", "updated_at", "warehouses"];
const ROLES: [&str; 6] = ["admin", "manager", "warehouse", "sales", "client", "viewer"];

/// Runs a command expected to fail with `code`; returns its stderr.
fn refused(db: &TestDb, args: &[&str], code: i32) -> String {
    let out = stockyard(db).args(args).assert().code(code);
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

/// Adds a user with [`PASSWORD`]; extra arguments (e.g. `--warehouse`) follow.
fn add_user(db: &TestDb, email: &str, role: &str, extra: &[&str]) -> Value {
    let mut cmd = stockyard(db);
    cmd.args(["user", "add", email, "--role", role, "--password-stdin"]).args(extra).write_stdin(PASSWORD);
    json_of(cmd, &[])
}

/// The binary acting as `email`.
fn acting(db: &TestDb, email: &str) -> assert_cmd::Command {
    let mut cmd = stockyard(db);
    cmd.args(["--as", email]);
    cmd
}

fn on_hand(db: &TestDb, sku: &str, warehouse: &str) -> i64 {
    let level = json(db, &["stock", "show", sku, "--warehouse", warehouse]);
    items(&level).first().and_then(|l| l["on_hand"].as_i64()).unwrap_or(0)
}

/// Whether the password logs the user in (checked by the library, past the CLI).
fn logs_in(db: &TestDb, email: &str, password: &str) -> bool {
    Store::open_with(db.url(), &db.options()).expect("open the store").auth().login(email, password).is_ok()
}

backend_tests! {
    fn init_creates_the_first_admin_once(db) {
        stockyard(db).args(["init", "--password-stdin"]).assert().code(2).stderr(contains("--admin"));
        let mut cmd = stockyard(db);
        cmd.args(["init", "--admin", " Root@Example.COM ", "--password-stdin"]).write_stdin(format!("{PASSWORD}\n"));
        let first = json_of(cmd, &[]);
        assert_eq!((&first["initialised"], &first["admin_created"]), (&true.into(), &true.into()));
        assert_eq!(keys(&first["admin"]), USER_KEYS, "no password, never its hash: {first}");
        assert_eq!((&first["admin"]["email"], &first["admin"]["role"]), (&"root@example.com".into(), &"admin".into()));
        assert!(logs_in(db, "root@example.com", PASSWORD), "the line from stdin, without its newline");

        let again = stockyard(db).args(["init", "--admin", "root@example.com"]).assert().success();
        let text = String::from_utf8_lossy(&again.get_output().stdout).into_owned();
        assert!(text.contains("exists already") && text.contains("Nothing changed"), "{text}");
        let again = json(db, &["init", "--admin", "ROOT@example.com"]);
        assert_eq!((&again["initialised"], &again["admin_created"]), (&false.into(), &false.into()));
        assert_eq!(again["admin"]["id"], first["admin"]["id"]);
        assert!(again["admin"].get("generated_password").is_none());
        assert!(logs_in(db, "root@example.com", PASSWORD), "the password is unchanged");

        let generated = json(db, &["init", "--admin", "second@example.com"]);
        let password = generated["admin"]["generated_password"].as_str().unwrap_or_default().to_owned();
        assert_eq!((password.len(), &generated["admin_created"]), (24, &true.into()));
        assert!(logs_in(db, "second@example.com", &password));
        let table = stockyard(db).args(["init", "--admin", "third@example.com"]).assert().success();
        let text = String::from_utf8_lossy(&table.get_output().stdout).into_owned();
        assert!(text.contains("Created admin user third@example.com") && text.contains("shown only this once"), "{text}");
        let quiet = stockyard(db).args(["init", "--admin", "fourth@example.com", "--quiet"]).assert().success();
        let password = String::from_utf8_lossy(&quiet.get_output().stdout).trim().to_owned();
        assert!(logs_in(db, "fourth@example.com", &password), "--quiet prints only the password: {password:?}");
        assert_eq!(items(&json(db, &["user", "list"])).len(), 4);
    }

    fn users_round_trip(db) {
        init(db);
        stockyard(db).args(["warehouse", "add", "EAST", "--name", "East"]).assert().success();
        let ann = add_user(db, "Ann@Example.com", "warehouse", &["--name", "Ann A", "--warehouse", "east", "--warehouse", "MAIN"]);
        assert_eq!(keys(&ann), USER_KEYS, "{ann}");
        assert_eq!((&ann["email"], &ann["name"], &ann["role"]), (&"ann@example.com".into(), &"Ann A".into(), &"warehouse".into()));
        assert_eq!((&ann["warehouses"], &ann["active"]), (&serde_json::json!(["EAST", "MAIN"]), &true.into()));
        let bob = json(db, &["user", "add", "bob@example.com", "--role", "sales"]);
        let password = bob["generated_password"].as_str().unwrap_or_default().to_owned();
        assert!(password.len() == 24 && logs_in(db, "bob@example.com", &password), "{bob}");
        assert_eq!(bob["name"], "bob", "the name defaults to the email's local part");
        let quiet = stockyard(db).args(["user", "add", "cy@example.com", "--role", "viewer", "-q"]).assert().success();
        assert!(logs_in(db, "cy@example.com", String::from_utf8_lossy(&quiet.get_output().stdout).trim()));

        let list = json(db, &["user", "list"]);
        assert_eq!((keys(&list), &list["next_cursor"]), (vec!["items", "next_cursor"], &Value::Null));
        let emails: Vec<&str> = list["items"].as_array().into_iter().flatten().filter_map(|u| u["email"].as_str()).collect();
        assert_eq!(emails, ["ann@example.com", "bob@example.com", "cy@example.com"]);
        assert_eq!(list["items"][0], ann);
        let table = stockyard(db).args(["user", "list"]).assert().success();
        let text = String::from_utf8_lossy(&table.get_output().stdout).into_owned();
        for expected in ["EMAIL", "NAME", "ROLE", "WAREHOUSES", "ACTIVE", "EAST,MAIN", "(all)"] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
        assert!(!text.contains("argon2"), "{text}");
        assert_eq!(json(db, &["user", "show", "ANN@example.com"]), ann);

        let managed = json(db, &["user", "role", "bob@example.com", "manager"]);
        assert_eq!(managed["role"], "manager");
        let scoped = json(db, &["user", "scope", "bob@example.com", "--warehouse", "EAST", "MAIN"]);
        assert_eq!(scoped["warehouses"], serde_json::json!(["EAST", "MAIN"]));
        assert_eq!(json(db, &["user", "scope", "bob@example.com", "--clear"])["warehouses"], serde_json::json!([]));
        assert_eq!(json(db, &["user", "disable", "bob@example.com"])["active"], false);
        assert!(!logs_in(db, "bob@example.com", &password), "a disabled user cannot log in");
        assert_eq!(json(db, &["user", "enable", "bob@example.com"])["active"], true);
        stockyard(db)
            .args(["user", "password", "bob@example.com", "--password-stdin"])
            .write_stdin("a new long passphrase\n")
            .assert()
            .success();
        assert!(logs_in(db, "bob@example.com", "a new long passphrase") && !logs_in(db, "bob@example.com", &password));

        let answer = json(db, &["user", "explain", "ann@example.com", "stock.receive", "--warehouse", "east"]);
        assert_eq!(keys(&answer), ["action", "allowed", "email", "reason", "warehouse"]);
        assert_eq!((&answer["action"], &answer["allowed"]), (&"stock.receive".into(), &true.into()));
        let answer = json(db, &["user", "explain", "ann@example.com", "PRODUCT.DELETE"]);
        assert_eq!((&answer["action"], &answer["allowed"]), (&"product.delete".into(), &false.into()));
        stockyard(db).args(["user", "explain", "ann@example.com", "product.delete"]).assert().success()
            .stdout(contains("refused: role warehouse may not product.delete"));
        stockyard(db).args(["user", "explain", "cy@example.com", "stock.read", "-q"]).assert().success().stdout("allowed\n");
        stockyard(db).args(["user", "explain", "ann@example.com", "stock.steal"]).assert().code(6).stderr(contains("stock.steal"));
        stockyard(db).args(["user", "explain", "nobody@example.com", "stock.read"]).assert().code(3).stderr(contains("nobody@example.com"));
    }

    fn preferences_list_and_set(db) {
        init(db);
        add_user(db, "ann@example.com", "warehouse", &[]);
        let prefs = json(db, &["user", "prefs", "ann@example.com"]);
        let all = items(&prefs);
        assert_eq!((all.len(), &prefs["next_cursor"]), (7 * 4, &Value::Null));
        assert_eq!(keys(&all[0]), ["channel", "enabled", "event_type", "source"]);
        let find = |prefs: &Value, event: &str, channel: &str| {
            items(prefs).into_iter().find(|p| p["event_type"] == event && p["channel"] == channel).unwrap_or_default()
        };
        let low = find(&prefs, "InventoryThresholdReached", "email");
        assert_eq!((&low["enabled"], &low["source"]), (&true.into(), &"default".into()));

        let set = json(db, &[
            "user", "prefs", "ann@example.com", "--event", "InventoryThresholdReached", "--channel", "email=off",
            "--channel", "sms=on",
        ]);
        let email = find(&set, "InventoryThresholdReached", "email");
        assert_eq!((&email["enabled"], &email["source"]), (&false.into(), &"set".into()));
        assert_eq!(find(&set, "InventoryThresholdReached", "sms")["enabled"], true);
        assert_eq!(json(db, &["user", "prefs", "ann@example.com"]), set, "kept");
        // Several channels after one --channel, as SPEC writes it.
        let both = json(db, &[
            "user", "prefs", "ann@example.com", "--event", "OrderCreated", "--channel", "email=on", "in_app=off",
        ]);
        assert_eq!((find(&both, "OrderCreated", "email")["enabled"].clone(), find(&both, "OrderCreated", "in_app")["enabled"].clone()), (true.into(), false.into()));
        let table = stockyard(db).args(["user", "prefs", "ann@example.com"]).assert().success();
        let text = String::from_utf8_lossy(&table.get_output().stdout).into_owned();
        for expected in ["EVENT", "EMAIL", "IN_APP", "WEBHOOK", "SMS", "InventoryThresholdReached", "off*", "on*"] {
            assert!(text.contains(expected), "{expected} in {text}");
        }

        // Their own preferences, as themselves; not someone else's.
        acting(db, "ann@example.com")
            .args(["user", "prefs", "ann@example.com", "--event", "OrderCreated", "--channel", "in_app=on"])
            .assert()
            .success();
        add_user(db, "bob@example.com", "sales", &[]);
        acting(db, "ann@example.com").args(["user", "prefs", "bob@example.com"]).assert().code(5);
        refused(db, &["user", "prefs", "ann@example.com", "--event", "OrderCreated", "--channel", "fax=on"], 6);
        refused(db, &["user", "prefs", "ann@example.com", "--event", "OrderCreated", "--channel", "email=maybe"], 6);
        let stderr = refused(db, &["user", "prefs", "ann@example.com", "--event", "ProductCreated", "--channel", "email=on"], 6);
        assert!(stderr.contains("ProductCreated does not notify"), "{stderr}");
        refused(db, &["user", "prefs", "ann@example.com", "--event", "OrderCreated"], 2);
    }

    fn tokens_round_trip(db) {
        init(db);
        let created = json(db, &["token", "create", "--name", "shop-frontend", "--role", "client", "--expires", "30d"]);
        assert_eq!(
            keys(&created),
            ["created_at", "created_by", "expires_at", "id", "name", "revoked_at", "role", "secret", "warehouses"]
        );
        assert_eq!((&created["role"], &created["created_by"]), (&"client".into(), &"local-admin".into()));
        let secret = created["secret"].as_str().unwrap_or_default().to_owned();
        let store = Store::open_with(db.url(), &db.options()).expect("open the store");
        assert!(store.auth().authenticate(&secret).is_ok(), "the secret printed is the token");
        let lifetime = |t: &Value| -> Option<i64> {
            let at = |key: &str| t[key].as_str()?.parse::<jiff::Timestamp>().ok();
            Some(at("expires_at")?.duration_since(at("created_at")?).as_hours() / 24)
        };
        assert_eq!(lifetime(&created), Some(30));

        let table = stockyard(db).args(["token", "create", "--name", "script", "--role", "viewer"]).assert().success();
        let text = String::from_utf8_lossy(&table.get_output().stdout).into_owned();
        assert!(text.contains("SECRET") && text.contains("sy_") && text.contains("shown only this once"), "{text}");
        let quiet = stockyard(db).args(["token", "create", "--name", "quiet", "--role", "viewer", "-q"]).assert().success();
        assert!(store.auth().authenticate(String::from_utf8_lossy(&quiet.get_output().stdout).trim()).is_ok());

        let list = json(db, &["token", "list"]);
        let names: Vec<&str> = list["items"].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str()).collect();
        assert_eq!(names, ["quiet", "script", "shop-frontend"], "newest first");
        assert!(items(&list).iter().all(|t| t.get("secret").is_none()), "{list}");
        refused(db, &["token", "create", "--name", "script", "--role", "viewer"], 4);
        refused(db, &["token", "create", "--name", "x", "--role", "viewer", "--expires", "soon"], 6);
        refused(db, &["token", "create", "--name", "x", "--role", "boss"], 6);

        let revoked = json(db, &["token", "revoke", "shop-frontend"]);
        assert!(revoked["revoked_at"].is_string() && revoked.get("secret").is_none(), "{revoked}");
        assert!(store.auth().authenticate(&secret).is_err(), "revoked");
        refused(db, &["token", "revoke", "shop-frontend"], 3);
        let table = stockyard(db).args(["token", "list"]).assert().success();
        assert!(String::from_utf8_lossy(&table.get_output().stdout).contains("revoked"));
    }

    fn acting_users_are_checked(db) {
        with_products(db, &["S-1"]);
        stockyard(db).args(["warehouse", "add", "EAST", "--name", "East"]).assert().success();
        stockyard(db).args(["stock", "receive", "S-1", "10"]).assert().success();
        for (email, role) in [("vic@example.com", "viewer"), ("sam@example.com", "sales"), ("dis@example.com", "viewer")] {
            add_user(db, email, role, &[]);
        }
        add_user(db, "wes@example.com", "warehouse", &["--warehouse", "EAST"]);
        stockyard(db).args(["user", "disable", "dis@example.com"]).assert().success();

        acting(db, "nobody@example.com").args(["stock", "show"]).assert().code(5).stderr(contains("nobody@example.com"));
        acting(db, "dis@example.com").args(["stock", "show"]).assert().code(5).stderr(contains("disabled"));
        acting(db, "vic@example.com").args(["stock", "show"]).assert().success();
        acting(db, "vic@example.com").args(["stock", "receive", "S-1", "5"]).assert().code(5).stderr(contains("viewer"));
        assert_eq!(on_hand(db, "S-1", "MAIN"), 10, "nothing received");

        acting(db, "wes@example.com").args(["stock", "receive", "S-1", "5"]).assert().code(5).stderr(contains("only at EAST"));
        assert_eq!(on_hand(db, "S-1", "MAIN"), 10);
        acting(db, "wes@example.com").args(["stock", "receive", "S-1", "5", "--warehouse", "EAST"]).assert().success();
        assert_eq!(on_hand(db, "S-1", "EAST"), 5);

        acting(db, "sam@example.com").args(["reserve", "S-1:2"]).assert().success();
        acting(db, "sam@example.com").args(["product", "add", "--sku", "S-2", "--name", "S", "--price", "1"]).assert().code(5);
        stockyard(db).args(["product", "show", "S-2"]).assert().code(3);

        // STOCKYARD_USER does what --as does, and the movement records who did it.
        let mut env = stockyard(db);
        env.env("STOCKYARD_USER", "wes@example.com");
        json_of(env, &["stock", "adjust", "S-1", "--by", "-1", "--warehouse", "EAST", "--reason", "dropped"]);
        let history = json(db, &["stock", "history", "S-1", "--warehouse", "EAST"]);
        let actors: Vec<&str> = history["items"].as_array().into_iter().flatten().filter_map(|m| m["actor"].as_str()).collect();
        assert_eq!(actors, ["wes@example.com", "wes@example.com"]);
        // Only the local admin runs init, whatever --as says.
        acting(db, "vic@example.com").arg("init").assert().success();
    }

    fn no_one_widens_its_own_rights_or_reads_others_identities(db) {
        with_products(db, &["S-1"]);
        stockyard(db).args(["warehouse", "add", "EAST", "--name", "East"]).assert().success();
        stockyard(db).args(["stock", "receive", "S-1", "10"]).assert().success();
        add_user(db, "east@example.com", "admin", &["--warehouse", "EAST"]);
        add_user(db, "sam@example.com", "sales", &["--warehouse", "EAST"]);
        add_user(db, "cleo@example.com", "client", &[]);

        // A scoped admin: its own scope stays; what it makes is scoped like it, never wider.
        let east = |args: &[&str]| acting(db, "east@example.com").args(args).assert();
        east(&["user", "scope", "east@example.com", "--clear"]).code(5).stderr(contains("every warehouse"));
        east(&["user", "scope", "east@example.com", "--warehouse", "MAIN"]).code(5).stderr(contains("MAIN"));
        east(&["token", "create", "--name", "wide", "--role", "viewer", "--warehouse", "MAIN"]).code(5);
        east(&["user", "add", "wide@example.com", "--role", "viewer", "--warehouse", "MAIN"]).code(5);
        let token = json_of(acting(db, "east@example.com"), &["token", "create", "--name", "east-app", "--role", "viewer"]);
        assert_eq!(token["warehouses"], serde_json::json!(["EAST"]));
        let user = json_of(acting(db, "east@example.com"), &["user", "add", "new@example.com", "--role", "viewer"]);
        assert_eq!(user["warehouses"], serde_json::json!(["EAST"]));
        assert_eq!(json(db, &["user", "show", "east@example.com"])["warehouses"], serde_json::json!(["EAST"]));

        // A client reads availability, not the ledger of who moved stock for whom.
        acting(db, "cleo@example.com").args(["stock", "show", "S-1"]).assert().success();
        acting(db, "cleo@example.com").args(["stock", "history", "S-1"]).assert().code(5).stderr(contains("stock.history"));

        // A seller scoped to EAST neither reads nor handles an order served from MAIN.
        stockyard(db).args(["order", "create", "--customer", "ada@example.com", "--line", "S-1:1"]).assert().success();
        for args in [&["order", "show", "1"][..], &["order", "pay", "1"], &["order", "cancel", "1"], &["order", "update", "1", "--notes", "x"]] {
            acting(db, "sam@example.com").args(args).assert().code(5).stderr(contains("only at EAST"));
        }
        assert!(items(&json_of(acting(db, "sam@example.com"), &["order", "list"])).is_empty());
        assert_eq!(json(db, &["order", "show", "1"])["status"], "confirmed", "refused, unchanged");
    }

    fn bad_user_input_changes_nothing(db) {
        init(db);
        add_user(db, "ann@example.com", "viewer", &[]);
        let before = json(db, &["user", "list"]);
        let stdin = |args: &[&str], input: &str, code: i32, names: &str| {
            stockyard(db).args(args).write_stdin(input.to_owned()).assert().code(code).stderr(contains(names));
        };
        stdin(&["user", "add", "not-an-email", "--role", "viewer"], "", 6, "email");
        stdin(&["user", "add", "new@example.com", "--role", "boss"], "", 6, "role");
        stdin(&["user", "add", "new@example.com", "--role", "viewer", "--password-stdin"], "short\n", 6, "password");
        stdin(&["user", "add", "new@example.com", "--role", "viewer", "--password-stdin"], "", 6, "password");
        stdin(&["user", "add", "ANN@example.com", "--role", "viewer"], "", 4, "ann@example.com");
        stdin(&["user", "add", "new@example.com", "--role", "viewer", "--warehouse", "NOPE"], "", 3, "NOPE");
        stdin(&["user", "role", "ann@example.com", "boss"], "", 6, "role");
        stdin(&["user", "role", "nobody@example.com", "viewer"], "", 3, "nobody@example.com");
        stdin(&["user", "scope", "ann@example.com"], "", 2, "--warehouse");
        stdin(&["user", "scope", "ann@example.com", "--warehouse", "MAIN", "--clear"], "", 2, "--clear");
        stdin(&["user", "password", "ann@example.com", "--password-stdin"], "aaaaaaaaaaaaaaaa\n", 6, "password");
        stdin(&["user", "password", "ann@example.com"], "", 2, "--password-stdin");
        assert_eq!(json(db, &["user", "list"]), before);
    }
}

/// The last active admin can be neither disabled nor demoted.
#[test]
fn the_last_admin_stays() {
    let db = TestDb::sqlite();
    stockyard(&db).args(["init", "--admin", "root@example.com"]).assert().success();
    refused(&db, &["user", "disable", "root@example.com"], 4);
    refused(&db, &["user", "role", "root@example.com", "viewer"], 4);
    assert_eq!(json(&db, &["user", "show", "root@example.com"])["role"], "admin");
}

/// For every role and one command per action, the CLI allows exactly what
/// `user explain` says: exit 0 when allowed, 5 when refused. SQLite only: the table is the
/// core's, checked on both backends by its own suite; this checks the CLI honours it.
#[test]
fn every_command_obeys_explain_for_every_role() {
    let db = &TestDb::sqlite();
    init(db);
    stockyard(db).args(["warehouse", "add", "EAST", "--name", "East"]).assert().success();
    for role in ROLES {
        let sku = format!("R-{role}");
        for product in [sku.as_str(), &format!("DEL-{role}")] {
            stockyard(db)
                .args(["product", "add", "--sku", product, "--name", product, "--price", "5"])
                .assert()
                .success();
        }
        stockyard(db).args(["stock", "receive", &sku, "100"]).assert().success();
        stockyard(db).args(["user", "add", &format!("{role}@example.com"), "--role", role]).assert().success();
    }

    let mut verdicts: HashMap<(&str, &str), bool> = HashMap::new();
    let mut mismatches = Vec::new();
    for role in ROLES {
        let (email, sku) = (format!("{role}@example.com"), format!("R-{role}"));
        let (email, sku) = (email.as_str(), sku.as_str());
        let mut allowed = |action: &'static str| {
            *verdicts.entry((role, action)).or_insert_with(|| {
                let out = stockyard(db).args(["user", "explain", email, action, "--quiet"]).assert().success();
                String::from_utf8_lossy(&out.get_output().stdout).trim() == "allowed"
            })
        };
        // A reservation the user may see: its own when it may reserve, else the admin's.
        let holder = if allowed("reservation.create") { vec!["--as", email] } else { vec![] };
        let out = stockyard(db).args(&holder).args(["reserve", &format!("{sku}:1"), "--quiet"]).assert().success();
        let reservation = String::from_utf8_lossy(&out.get_output().stdout).trim().to_owned();

        let owned = [
            format!("NEW-{role}"),
            format!("DEL-{role}"),
            format!("Cat-{role}"),
            format!("W{}", role.to_uppercase()),
            format!("{sku}:1"),
            format!("new-{role}@example.com"),
            format!("t-{role}"),
        ];
        let [new_sku, del_sku, category, code, line, new_user, token] = owned.each_ref().map(String::as_str);
        let reservation = reservation.as_str();
        let cases: Vec<(&'static str, Vec<&str>)> = vec![
            ("product.create", vec!["product", "add", "--sku", new_sku, "--name", "N", "--price", "1"]),
            ("product.update", vec!["product", "update", sku, "--name", "Renamed"]),
            ("product.delete", vec!["product", "delete", del_sku]),
            ("product.read", vec!["product", "show", sku]),
            ("product.read", vec!["product", "list"]),
            ("category.create", vec!["category", "add", category]),
            ("category.read", vec!["category", "list"]),
            ("warehouse.create", vec!["warehouse", "add", code, "--name", "W"]),
            ("warehouse.read", vec!["warehouse", "list"]),
            ("stock.read", vec!["stock", "show", sku]),
            ("stock.history", vec!["stock", "history", sku]),
            ("stock.receive", vec!["stock", "receive", sku, "5"]),
            ("stock.adjust", vec!["stock", "adjust", sku, "--by", "-1", "--reason", "broken"]),
            ("stock.transfer", vec!["stock", "transfer", sku, "1", "--from", "MAIN", "--to", "EAST"]),
            ("stock.count", vec!["stock", "count", sku, "50"]),
            ("stock.threshold", vec!["stock", "threshold", sku, "--reorder-point", "3"]),
            ("reservation.create", vec!["reserve", line]),
            ("reservation.release", vec!["release", reservation]),
            ("reservation.expire", vec!["sweep"]),
            ("events.read", vec!["events", "tail"]),
            ("stock.verify", vec!["verify"]),
            ("stock.replay", vec!["events", "replay"]),
            ("user.read", vec!["user", "list"]),
            ("user.read", vec!["user", "show", email]),
            ("user.manage", vec!["user", "add", new_user, "--role", "viewer"]),
            ("user.prefs", vec!["user", "prefs", email]),
            ("token.manage", vec!["token", "create", "--name", token, "--role", "viewer"]),
        ];
        for (action, args) in cases {
            let expected = if allowed(action) { 0 } else { 5 };
            let out = command(db).args(["--as", email]).args(&args).output().expect("run stockyard");
            let code = out.status.code().unwrap_or(-1);
            if code != expected {
                let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
                mismatches.push(format!("{role} {action} {args:?}: exit {code}, expected {expected} ({stderr})"));
            }
        }
    }
    assert!(mismatches.is_empty(), "the CLI disagrees with `user explain`:\n{}", mismatches.join("\n"));
    // Every role was both allowed and refused something: the loop checked both sides.
    for role in ROLES.into_iter().filter(|r| *r != "admin") {
        let answers: Vec<bool> = verdicts.iter().filter(|((r, _), _)| *r == role).map(|(_, v)| *v).collect();
        assert!(answers.contains(&true) && answers.contains(&false), "{role}: {answers:?}");
    }
}
