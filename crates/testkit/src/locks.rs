//! A database write lock the test holds, to make a request hang where the test wants it
//! (shedding, deadlines, a graceful stop with work in flight) — no sleeping and hoping.

use crate::TestDb;
use stockyard_core::Backend;

/// Held until [`WriteLock::release`] (or drop): every write through a store on the
/// database waits behind it; reads go on. On SQLite a writer waits for the store's busy
/// timeout (10 s), then fails: release well before that.
pub enum WriteLock {
    Sqlite(rusqlite::Connection),
    Postgres(postgres::Client),
}

impl std::fmt::Debug for WriteLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite(_) => "WriteLock(SQLite)",
            Self::Postgres(_) => "WriteLock(PostgreSQL)",
        })
    }
}

impl WriteLock {
    pub fn hold(db: &TestDb) -> Self {
        match db.backend() {
            Backend::Sqlite => {
                let conn = rusqlite::Connection::open(db.url().trim_start_matches("sqlite://")).expect("open");
                conn.execute_batch("BEGIN IMMEDIATE").expect("take the write lock");
                Self::Sqlite(conn)
            }
            Backend::Postgres => {
                let mut client = crate::connect(db.url()).expect("connect");
                // Every change appends an event: none can while this is held.
                client.batch_execute("BEGIN; LOCK TABLE events IN EXCLUSIVE MODE").expect("lock the event log");
                Self::Postgres(client)
            }
        }
    }

    pub fn release(self) {
        match self {
            Self::Sqlite(conn) => conn.execute_batch("ROLLBACK").expect("release"),
            Self::Postgres(mut client) => client.batch_execute("ROLLBACK").expect("release"),
        }
    }
}
