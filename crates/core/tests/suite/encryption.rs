//! Encryption at rest on both backends: the token signing secret is stored sealed; key
//! rotation (whole, or interrupted and resumed, or several at once) leaves every value
//! readable under the new key alone; a store refuses, before writing anything, a keyring
//! that lacks a key its data is sealed with; a second handle follows a rotation made
//! through another; a corrupted value fails clearly; and a blind index finds a value
//! without it being stored in the clear.

use crate::common;

use std::path::{Path, PathBuf};

use base64::{Engine, engine::general_purpose::STANDARD};
use common::{admin, store_with};

use stockyard_core::PageRequest;
use stockyard_core::{
    Error, NewUser, Role, Store, StoreOptions,
    crypto::{KeySource, Keyring, random_key},
    orders::{Customer, NewOrder},
};
use stockyard_testkit::{TestDb, backend_tests};

const PASSWORD: &str = "correct horse battery";

/// The keyring file the store uses: the test's on PostgreSQL, `<database>.key` on SQLite.
fn keyring_path(db: &TestDb) -> PathBuf {
    db.key_file().unwrap_or_else(|| PathBuf::from(format!("{}.key", db.url().trim_start_matches("sqlite://"))))
}

fn keyring(path: &Path) -> Keyring {
    Keyring::load(&KeySource::File(path.to_owned())).expect("keyring")
}

/// A store with a user who can log in.
fn with_user(db: &TestDb) -> Store {
    let store = store_with(db, &[]);
    let user = NewUser {
        email: "ann@example.com".into(),
        role: Role::Viewer,
        password: Some(PASSWORD.into()),
        ..Default::default()
    };
    store.users().create(&admin(), user).expect("user");
    store
}

fn internal_error(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(e @ Error::Internal { .. }) => e.to_string(),
        other => panic!("expected a clear internal error, got {other:?}"),
    }
}

/// Opening the store again with these options fails with an internal error; its message.
fn refused(db: &TestDb, options: &StoreOptions) -> String {
    internal_error(Store::open_with(db.url(), options))
}

fn with_key_file(db: &TestDb, path: &Path) -> StoreOptions {
    StoreOptions { data_key: Some(KeySource::File(path.to_owned())), ..db.options() }
}

/// A store with a user who can log in, an order with customer data and a webhook: every
/// kind of sealed value.
fn with_sealed_values(db: &TestDb) -> (Store, String) {
    let store = with_user(db);
    store
        .catalog()
        .create_product(
            &admin(),
            stockyard_core::NewProduct {
                sku: "MUG-1".into(),
                name: "Mug".into(),
                price: "1.00".into(),
                ..Default::default()
            },
        )
        .expect("product");
    store.inventory().receive(&admin(), "MUG-1", Some("MAIN"), 10, None).expect("stock");
    let order = store.orders().create(&admin(), order_for("jane@example.com")).expect("order");
    store
        .notifications()
        .add_webhook(&admin(), "http://127.0.0.1:9/hook", &["OrderCreated".into()], None)
        .expect("hook");
    (store, order.id.to_string())
}

fn order_for(email: &str) -> NewOrder {
    NewOrder {
        customer: Customer {
            email: email.into(),
            name: Some("Jane".into()),
            phone: Some("+44 1".into()),
            address: None,
        },
        lines: vec![("MUG-1".into(), 1)],
        ..Default::default()
    }
}

/// Every sealed value opens: the signing secret (a login), the order's customer data, and
/// — re-sealed by one more rotation, which opens each value — everything else.
fn every_value_opens(store: &Store, order: &str) {
    assert!(store.auth().login("ann@example.com", PASSWORD).is_ok(), "the signing secret opens");
    assert_eq!(store.orders().order(&admin(), order).expect("order").customer.email, "jane@example.com");
    let check = store.keys().check(&admin()).expect("check");
    assert!(check.ok && check.missing.is_empty(), "{check:?}");
    store.keys().rotate(&admin(), None).expect("a rotation opens every value");
}

/// How many values are sealed under key `id`, in every sealed column there is a row in.
fn sealed_under(db: &TestDb, id: &str) -> i64 {
    let like = format!("'sy1:{id}:%'");
    db.number(&format!(
        "SELECT (SELECT COUNT(*) FROM settings WHERE value LIKE {like})
              + (SELECT COUNT(*) FROM orders WHERE customer_email LIKE {like})
              + (SELECT COUNT(*) FROM webhooks WHERE secret LIKE {like})"
    ))
}

fn stored_secret(db: &TestDb) -> i64 {
    db.number("SELECT COUNT(*) FROM settings WHERE key = 'jwt_secret' AND value LIKE 'sy1:k%'")
}

backend_tests! {
    fn the_signing_secret_is_stored_sealed(db) {
        let store = with_user(db);
        assert_eq!(stored_secret(db), 1);
        let token = store.auth().login("ann@example.com", PASSWORD).expect("login");
        assert!(store.auth().authenticate(&token.access_token).is_ok());
        #[cfg(unix)]
        if db.key_file().is_none() {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(keyring_path(db)).expect("key file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "the SQLite key file is private");
        }
    }

    fn rotation_leaves_everything_readable_under_the_new_key_alone(db) {
        let store = with_user(db);
        let token = store.auth().login("ann@example.com", PASSWORD).expect("login");
        let path = keyring_path(db);
        let old = keyring(&path).key_ids().join(",");
        let report = store.keys().rotate(&admin(), None).expect("rotate");
        assert_eq!(report.resealed, 1);
        assert_eq!(report.keyring.len(), 2);
        assert_ne!(report.key_id, old);
        assert_eq!(db.number(&format!("SELECT COUNT(*) FROM settings WHERE value LIKE 'sy1:{}:%'", report.key_id)), 1);

        // Drop the old key: everything still opens, and sessions signed before still hold.
        let mut only_new = Keyring::generate();
        let text = std::fs::read_to_string(&path).expect("read");
        let mut file: serde_json::Value = serde_json::from_str(&text).expect("json");
        file["keys"] = serde_json::json!([file["keys"][1].clone()]);
        std::fs::write(&path, file.to_string()).expect("write");
        assert!(store.auth().authenticate(&token.access_token).is_ok(), "the secret opens under the new key alone");
        let reopened = Store::open_with(db.url(), &db.options()).expect("the old key is no longer needed");
        assert!(reopened.auth().login("ann@example.com", PASSWORD).is_ok());
        // And a keyring without it is refused clearly, naming the key it lacks.
        only_new.add(random_key()).expect("add");
        only_new.save(&path).expect("save");
        let err = refused(db, &db.options());
        assert!(err.contains(&report.key_id) && err.contains("does not hold"), "{err}");
    }

    fn session_tokens_outlive_a_rotation_made_elsewhere(db) {
        let store = with_user(db);
        let token = store.auth().login("ann@example.com", PASSWORD).expect("login").access_token;
        assert!(store.auth().authenticate(&token).is_ok(), "the signing secret, now known to this handle");
        let elsewhere = Store::open_with(db.url(), &db.options()).expect("another handle");
        elsewhere.keys().rotate(&admin(), None).expect("rotate");
        // The secret was re-sealed, not replaced: the first handle and a fresh one agree.
        assert!(store.auth().authenticate(&token).is_ok());
        let fresh = Store::open_with(db.url(), &db.options()).expect("a fresh handle");
        assert!(fresh.auth().authenticate(&token).is_ok());
        assert!(fresh.auth().authenticate(&format!("{token}x")).is_err());
    }

    fn an_interrupted_rotation_resumes(db) {
        let store = with_user(db);
        let path = keyring_path(db);
        // Stopped right after the new key was added: nothing is re-encrypted yet.
        let mut ring = keyring(&path);
        let new = ring.add(random_key()).expect("add");
        ring.save(&path).expect("save");
        assert!(store.auth().login("ann@example.com", PASSWORD).is_ok(), "old keys still open");
        // The rotation that stopped died holding its lease, long lapsed: resume takes it over.
        db.sql(
            "INSERT INTO settings (key, value) VALUES ('key_rotation_lease', '2000-01-01T00:00:00Z 1@dead')
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        );
        let report = store.keys().resume(&admin()).expect("resume");
        assert_eq!((report.key_id.as_str(), report.resealed), (new.as_str(), 1));
        assert_eq!(store.keys().resume(&admin()).expect("again").resealed, 0, "nothing left to do");
        assert!(store.audit().list(&admin(), Some("keyring"), &PageRequest { limit: Some(1000), cursor: None }).expect("audit").items.iter().any(|r| r.action == "key.rotate"));

        // A rotation killed on this machine a moment ago: its lease has not lapsed, but its
        // process is gone, so the next rotation goes ahead at once instead of waiting it out.
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        child.wait().expect("wait");
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let until = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(10);
        db.sql(&format!(
            "UPDATE settings SET value = '{until} {}/{pid}/1@dead' WHERE key = 'key_rotation_lease'",
            host.trim()
        ));
        let started = std::time::Instant::now();
        store.keys().rotate(&admin(), None).expect("rotate past a dead holder");
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "did not wait for the lease");
    }

    fn missing_and_corrupted_keys_fail_clearly(db) {
        let store = with_user(db);
        let path = keyring_path(db);
        let saved = std::fs::read(&path).expect("read");
        std::fs::remove_file(&path).expect("remove");
        assert!(refused(db, &db.options()).contains("cannot read the keyring"));
        std::fs::write(&path, "not a keyring").expect("write");
        assert!(refused(db, &db.options()).contains("is not a keyring file"));
        std::fs::write(&path, &saved).expect("restore");
        assert!(Store::open_with(db.url(), &db.options()).expect("reopen").auth().login("ann@example.com", PASSWORD).is_ok());

        db.sql("UPDATE settings SET value = substr(value, 1, length(value) - 6) || 'AAAAAA' WHERE key = 'jwt_secret'");
        let err = internal_error(store.auth().login("ann@example.com", PASSWORD));
        assert!(err.contains("altered") || err.contains("corrupted"), "{err}");
    }

    fn a_blind_index_finds_without_the_plaintext(db) {
        store_with(db, &[]);
        let ring = keyring(&keyring_path(db));
        db.sql("CREATE TABLE contacts (id BIGINT PRIMARY KEY, email TEXT NOT NULL, email_index TEXT NOT NULL)");
        for (id, email) in [(1, "ann@example.com"), (2, "bob@example.com")] {
            let context = format!("contacts.email/{id}");
            let sealed = ring.seal(&context, email.as_bytes()).expect("seal");
            let index = ring.blind_index("contacts.email", email);
            db.sql(&format!("INSERT INTO contacts VALUES ({id}, '{sealed}', '{index}')"));
        }
        assert_eq!(db.number("SELECT COUNT(*) FROM contacts WHERE email LIKE '%example%' OR email_index LIKE '%example%'"), 0);
        let wanted = ring.blind_index("contacts.email", &"Bob@Example.com".to_lowercase());
        assert_eq!(db.number(&format!("SELECT id FROM contacts WHERE email_index = '{wanted}'")), 2);
    }
}

backend_tests! {
    fn a_keyring_that_lacks_a_key_in_use_is_refused_before_anything_is_written(db) {
        let (store, _) = with_sealed_values(db);
        let path = keyring_path(db);
        let saved = std::fs::read(&path).expect("read");
        let key_id = keyring(&path).key_ids()[0].to_owned();
        let audit = db.number("SELECT COUNT(*) FROM audit_log");
        drop(store);

        // Another keyring under the same path (what `init` used to write when the key was
        // moved away), and a random STOCKYARD_DATA_KEY: both refused, naming the key.
        Keyring::generate().save(&path).expect("another keyring");
        for options in [db.options(), StoreOptions { data_key: Some(KeySource::Key(STANDARD.encode(random_key()))), ..db.options() }] {
            let err = refused(db, &options);
            assert!(err.contains(&key_id) && err.contains("does not hold"), "{err}");
            let err = internal_error(Store::create(db.url(), &options).and_then(|s| s.init(&admin())));
            assert!(err.contains(&key_id), "init refuses too: {err}");
        }
        // The right key under its id, but another blind-index key: look-ups would miss.
        let mut file: serde_json::Value = serde_json::from_slice(&saved).expect("json");
        file["index_key"] = STANDARD.encode(random_key()).into();
        std::fs::write(&path, file.to_string()).expect("write");
        assert!(refused(db, &db.options()).contains("blind-index key"));
        // The right key id with other key bytes: another key, not the one recorded.
        let mut file: serde_json::Value = serde_json::from_slice(&saved).expect("json");
        file["keys"][0]["key"] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into();
        std::fs::write(&path, file.to_string()).expect("write");
        assert!(refused(db, &db.options()).contains("another key under id"));
        assert_eq!(db.number("SELECT COUNT(*) FROM audit_log"), audit, "nothing was written");
        assert_eq!(sealed_under(db, &key_id), 3, "nothing was sealed under another key");

        // `init` on an initialised store never creates a keyring.
        std::fs::remove_file(&path).expect("move the key away");
        let err = internal_error(Store::create(db.url(), &db.options()).and_then(|s| s.init(&admin())));
        assert!(err.contains("cannot read the keyring"), "{err}");
        assert!(!path.exists(), "init wrote no keyring");
        std::fs::write(&path, &saved).expect("restore");
        let store = Store::open_with(db.url(), &db.options()).expect("the real keyring opens it");
        assert!(store.auth().login("ann@example.com", PASSWORD).is_ok());
        assert_eq!(store.keys().check(&admin()).expect("check").in_use, std::slice::from_ref(&key_id));
        // A value under a key nobody recorded (an edit past the store): verify names it.
        db.sql("UPDATE webhooks SET secret = 'sy1:k0123456789ab:AAAA'");
        let check = store.keys().check(&admin()).expect("check");
        assert_eq!((check.ok, check.missing), (false, vec!["k0123456789ab".to_owned()]));
    }

    fn a_second_handle_follows_a_rotation_made_through_the_first(db) {
        let (first, order) = with_sealed_values(db);
        let second = Store::open_with(db.url(), &db.options()).expect("second handle");
        // A third handle whose keyring is a copy made before the rotation.
        let stale_path = keyring_path(db).with_extension("stale");
        std::fs::copy(keyring_path(db), &stale_path).expect("copy");
        let stale = Store::open_with(db.url(), &with_key_file(db, &stale_path)).expect("stale handle");
        assert_eq!(second.orders().order(&admin(), &order).expect("read before").customer.email, "jane@example.com");

        let rotated = first.keys().rotate(&admin(), None).expect("rotate");
        let old = keyring(&stale_path).key_ids()[0].to_owned();
        // The second handle reads what was sealed under the new key, and seals under it.
        let sealed_later = first.orders().create(&admin(), order_for("later@example.com")).expect("order");
        let read = second.orders().order(&admin(), &sealed_later.id.to_string()).expect("opens under the new key");
        assert_eq!(read.customer.email, "later@example.com");
        second.orders().create(&admin(), order_for("second@example.com")).expect("order through the second");
        assert_eq!(sealed_under(db, &old), 0, "nothing under the retired key");
        assert_eq!(sealed_under(db, &rotated.key_id), 5);
        // The stale handle cannot load the new key: it refuses instead of sealing under the old one.
        let err = internal_error(stale.orders().create(&admin(), order_for("stale@example.com")));
        assert!(err.contains(&rotated.key_id) && err.contains("does not hold"), "{err}");
        assert_eq!(sealed_under(db, &old), 0);
        every_value_opens(&second, &order);
    }

    fn concurrent_rotations_keep_every_value_readable(db) {
        let (store, order) = with_sealed_values(db);
        let reports: Vec<_> = std::thread::scope(|scope| {
            let rotations: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        let handle = Store::open_with(db.url(), &db.options()).expect("handle");
                        handle.keys().rotate(&admin(), None)
                    })
                })
                .collect();
            rotations.into_iter().map(|r| r.join().expect("thread").expect("rotate")).collect()
        });
        let ring = keyring(&keyring_path(db));
        assert_eq!(ring.key_ids().len(), 5, "every rotation's key is in the file");
        let last = reports.iter().max_by_key(|r| r.keyring.len()).expect("reports");
        assert_eq!(ring.key_ids().last().copied(), Some(last.key_id.as_str()));
        for report in &reports {
            assert!(ring.key_ids().contains(&report.key_id.as_str()), "{report:?}");
        }
        assert_eq!(sealed_under(db, &last.key_id), 3, "everything under the last key");
        every_value_opens(&store, &order);
        let leftovers = std::fs::read_dir(keyring_path(db).parent().expect("folder")).expect("list");
        assert!(leftovers.filter_map(|e| e.ok()).all(|e| !e.file_name().to_string_lossy().ends_with(".tmp")));
    }
}

#[test]
fn a_postgresql_store_without_a_data_key_is_refused_clearly() {
    let Some(db) = TestDb::migrated_postgres() else { return };
    let options = stockyard_core::StoreOptions { data_key: None, ..db.options() };
    let store = Store::create(db.url(), &options).expect("open");
    let err = internal_error(store.init(&admin()));
    assert!(err.contains("STOCKYARD_DATA_KEY"), "{err}");
}
