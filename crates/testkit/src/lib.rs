//! Test support: one test body, run against a fresh SQLite file and a fresh PostgreSQL
//! database (created for the test, dropped after it; copied from a migrated template).
//!
//! PostgreSQL comes from `STOCKYARD_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When it is unreachable the PostgreSQL
//! half is skipped with a message on stderr — unless `STOCKYARD_REQUIRE_POSTGRES=1`, which
//! makes it a failure.

pub mod bench;
mod clock;
pub mod faults;
pub mod http;
mod locks;
mod reach;
pub mod redact;
mod server;
pub mod smtp;
mod template;
mod waits;

use std::{io::Write, sync::Once, time::Duration};

pub use locks::WriteLock;
pub use reach::Reach;
pub use waits::wait_until;

use stockyard_core::{
    Actor, Backend, Store, StoreOptions,
    crypto::{KeySource, Keyring},
};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Connections per test store: tests run in parallel and PostgreSQL allows ~100 in all.
const POOL_SIZE: u32 = 4;

/// A database that lives as long as the test.
#[derive(Debug)]
pub struct TestDb {
    url: String,
    backend: Backend,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(#[allow(dead_code, reason = "held to delete the folder on drop")] tempfile::TempDir),
    /// A SQLite file in a folder the caller owns.
    Nothing,
    Postgres {
        admin_url: String,
        database: String,
        /// Holds the keyring file a PostgreSQL store needs (SQLite's sits by its database).
        #[allow(dead_code, reason = "held to delete the folder on drop")]
        keys: tempfile::TempDir,
    },
}

/// The keyring file of a PostgreSQL test store, in its own folder.
const KEYRING: &str = "keyring.json";

impl TestDb {
    /// A fresh SQLite file in its own temporary folder.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("stockyard.db").display());
        Self { url, backend: Backend::Sqlite, cleanup: Cleanup::Sqlite(dir) }
    }

    /// A fresh SQLite file in `dir`, which the caller owns (a [`faults::Tmpfs`], say).
    pub fn sqlite_in(dir: &std::path::Path) -> Self {
        let url = format!("sqlite://{}", dir.join("stockyard.db").display());
        Self { url, backend: Backend::Sqlite, cleanup: Cleanup::Nothing }
    }

    /// A fresh, empty database on the PostgreSQL server at `admin_url` (a
    /// [`faults::PgCluster`], say), dropped after the test.
    pub fn postgres_on(admin_url: &str) -> Self {
        let mut admin = connect(admin_url).unwrap_or_else(|e| panic!("PostgreSQL at {admin_url}: {e}"));
        Self::create_postgres(&mut admin, admin_url, false)
    }

    /// A fresh, empty PostgreSQL database — for tests of the migrations themselves — or
    /// `None` (with a message) when the server is unreachable and not required.
    pub fn postgres() -> Option<Self> {
        Self::new_postgres(false)
    }

    /// A fresh PostgreSQL database holding the migrated schema and nothing else, copied from
    /// the template (see `template`), or `None` as for [`TestDb::postgres`].
    pub fn migrated_postgres() -> Option<Self> {
        Self::new_postgres(true)
    }

    fn new_postgres(migrated: bool) -> Option<Self> {
        let admin_url = std::env::var("STOCKYARD_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_ADMIN_URL.into());
        let mut admin = match connect(&admin_url) {
            Ok(client) => client,
            Err(e) if required() => panic!("PostgreSQL at {admin_url} is required but unreachable: {e}"),
            Err(e) => {
                announce_skip(&admin_url, &e);
                return None;
            }
        };
        Some(Self::create_postgres(&mut admin, &admin_url, migrated))
    }

    fn create_postgres(admin: &mut postgres::Client, admin_url: &str, migrated: bool) -> Self {
        let database = format!("stockyard_test_{}", uuid::Uuid::now_v7().simple());
        // The copy uses PostgreSQL 15's default strategy, WAL_LOG: FILE_COPY forces two
        // checkpoints per copy, and took 2–4 times as long with other tests writing.
        let create = if migrated {
            format!("CREATE DATABASE {database} TEMPLATE {}", template::name(admin, admin_url))
        } else {
            format!("CREATE DATABASE {database}")
        };
        admin.batch_execute(&create).unwrap_or_else(|e| panic!("{create}: {e}"));
        let url = with_database(admin_url, &database);
        let keys = tempfile::tempdir().expect("create a temporary folder");
        Keyring::generate().save(&keys.path().join(KEYRING)).expect("write a test keyring");
        let admin_url = admin_url.to_owned();
        Self { url, backend: Backend::Postgres, cleanup: Cleanup::Postgres { admin_url, database, keys } }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Store options for tests: a small pool, the keyring file on PostgreSQL, and webhooks
    /// that may call the receivers tests run on 127.0.0.1.
    pub fn options(&self) -> StoreOptions {
        let data_key = self.key_file().map(|path| KeySource::File(path.to_owned()));
        StoreOptions { pool_size: POOL_SIZE, data_key, webhook_allow_private: true, ..StoreOptions::default() }
    }

    /// The keyring file a PostgreSQL test store uses (`STOCKYARD_DATA_KEY_FILE` for the
    /// binary); SQLite stores keep theirs next to the database.
    pub fn key_file(&self) -> Option<std::path::PathBuf> {
        match &self.cleanup {
            Cleanup::Postgres { keys, .. } => Some(keys.path().join(KEYRING)),
            Cleanup::Sqlite(_) | Cleanup::Nothing => None,
        }
    }

    /// Runs SQL straight on the database, past the store — for tests that tamper with what
    /// the store wrote, or install a trigger.
    pub fn sql(&self, statements: &str) {
        match self.backend {
            Backend::Sqlite => {
                let path = self.url.trim_start_matches("sqlite://");
                let conn = rusqlite::Connection::open(path).expect("open the SQLite test database");
                conn.execute_batch(statements).unwrap_or_else(|e| panic!("{statements}: {e}"));
            }
            Backend::Postgres => {
                let mut client = connect(&self.url).expect("connect to the PostgreSQL test database");
                client.batch_execute(statements).unwrap_or_else(|e| panic!("{statements}: {e}"));
            }
        }
    }

    /// The one integer a query answers (e.g. a `COUNT(*)`), read past the store.
    pub fn number(&self, query: &str) -> i64 {
        match self.backend {
            Backend::Sqlite => {
                let path = self.url.trim_start_matches("sqlite://");
                let conn = rusqlite::Connection::open(path).expect("open the SQLite test database");
                conn.query_row(query, [], |row| row.get(0)).unwrap_or_else(|e| panic!("{query}: {e}"))
            }
            Backend::Postgres => {
                let mut client = connect(&self.url).expect("connect to the PostgreSQL test database");
                client.query_one(query, &[]).unwrap_or_else(|e| panic!("{query}: {e}")).get(0)
            }
        }
    }

    /// An initialised store on this database.
    pub fn store(&self) -> Store {
        let store = Store::create(&self.url, &self.options()).expect("open the test store");
        store.init(&Actor::local_admin()).expect("initialise the test store");
        store
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, database, .. } = &self.cleanup {
            // FORCE ends the pool's connections that a leaked store may still hold.
            if let Ok(mut admin) = connect(admin_url) {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"));
            }
        }
    }
}

fn connect(url: &str) -> Result<postgres::Client, postgres::Error> {
    let mut config: postgres::Config = url.parse()?;
    config.connect_timeout(Duration::from_secs(3));
    config.connect(postgres::NoTls)
}

fn required() -> bool {
    std::env::var("STOCKYARD_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// Writes straight to the process's stderr, past the test harness's capture, once.
fn announce_skip(url: &str, error: &postgres::Error) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n*** PostgreSQL at {url} is unreachable ({error}): the PostgreSQL half of the backend \
             suite is SKIPPED. Set STOCKYARD_REQUIRE_POSTGRES=1 to make this a failure. ***\n"
        );
    });
}

fn with_database(admin_url: &str, database: &str) -> String {
    let (base, query) = admin_url.split_once('?').map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let base = match base.rfind('/') {
        Some(slash) if slash > base.find("://").map_or(0, |i| i + 2) => &base[..slash],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// Expands each test body into a `sqlite` and a `postgres` test of the same name:
///
/// ```ignore
/// stockyard_testkit::backend_tests! {
///     fn creates_a_product(db) {
///         let store = db.store();
///         // …
///     }
/// }
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($($(#[$meta:meta])* fn $name:ident($db:ident) $body:block)*) => {$(
        $(#[$meta])*
        fn $name($db: &$crate::TestDb) $body

        mod $name {
            #[test]
            fn sqlite() {
                super::$name(&$crate::TestDb::sqlite());
            }

            #[test]
            fn postgres() {
                if let Some(db) = $crate::TestDb::migrated_postgres() {
                    super::$name(&db);
                }
            }
        }
    )*};
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn swaps_the_database_name() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h/postgres?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
