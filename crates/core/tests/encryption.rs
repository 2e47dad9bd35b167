//! Encryption at rest on both backends: the token signing secret is stored sealed; key
//! rotation (whole, or interrupted and resumed) leaves every value readable under the new
//! key alone; a missing keyring, a wrong one and a corrupted value each fail clearly; and
//! a blind index finds a value without it being stored in the clear.

mod common;

use std::path::{Path, PathBuf};

use common::{admin, store_with};

use stockyard_core::{
    Error, NewUser, Store,
    crypto::{KeySource, Keyring, random_key},
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
        role: "viewer".into(),
        password: Some(PASSWORD.into()),
        ..Default::default()
    };
    store.users().create(&admin(), user).expect("user");
    store
}

fn storage_error(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Storage(message)) => message,
        other => panic!("expected a clear storage error, got {other:?}"),
    }
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
        // And a keyring without it fails clearly, naming the key it lacks.
        only_new.add(random_key()).expect("add");
        only_new.save(&path).expect("save");
        let err = storage_error(store.auth().login("ann@example.com", PASSWORD));
        assert!(err.contains(&report.key_id) && err.contains("does not hold"), "{err}");
    }

    fn an_interrupted_rotation_resumes(db) {
        let store = with_user(db);
        let path = keyring_path(db);
        // Stopped right after the new key was added: nothing is re-encrypted yet.
        let mut ring = keyring(&path);
        let new = ring.add(random_key()).expect("add");
        ring.save(&path).expect("save");
        assert!(store.auth().login("ann@example.com", PASSWORD).is_ok(), "old keys still open");
        let report = store.keys().resume(&admin()).expect("resume");
        assert_eq!((report.key_id.as_str(), report.resealed), (new.as_str(), 1));
        assert_eq!(store.keys().resume(&admin()).expect("again").resealed, 0, "nothing left to do");
        assert!(store.audit().list(&admin(), Some("keyring")).expect("audit").iter().any(|r| r.action == "key.rotate"));
    }

    fn missing_and_corrupted_keys_fail_clearly(db) {
        let store = with_user(db);
        let path = keyring_path(db);
        let saved = std::fs::read(&path).expect("read");
        std::fs::remove_file(&path).expect("remove");
        assert!(storage_error(store.auth().login("ann@example.com", PASSWORD)).contains("cannot read the keyring"));
        std::fs::write(&path, "not a keyring").expect("write");
        assert!(storage_error(store.auth().login("ann@example.com", PASSWORD)).contains("is not a keyring file"));
        // The right key id with other key bytes: a wrong key, not a missing one.
        let mut file: serde_json::Value = serde_json::from_slice(&saved).expect("json");
        file["keys"][0]["key"] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into();
        std::fs::write(&path, file.to_string()).expect("write");
        assert!(storage_error(store.auth().login("ann@example.com", PASSWORD)).contains("not the one it was sealed with"));
        std::fs::write(&path, &saved).expect("restore");
        assert!(store.auth().login("ann@example.com", PASSWORD).is_ok());

        db.sql("UPDATE settings SET value = substr(value, 1, length(value) - 6) || 'AAAAAA' WHERE key = 'jwt_secret'");
        let err = storage_error(store.auth().login("ann@example.com", PASSWORD));
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

#[test]
fn a_postgresql_store_without_a_data_key_is_refused_clearly() {
    let Some(db) = TestDb::postgres() else { return };
    let options = stockyard_core::StoreOptions { data_key: None, ..db.options() };
    let store = Store::create(db.url(), &options).expect("open");
    let err = storage_error(store.init(&admin()));
    assert!(err.contains("STOCKYARD_DATA_KEY"), "{err}");
}
