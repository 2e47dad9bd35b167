//! The SQLite backend: connection set-up, statement execution and error mapping.
//!
//! Set up for a server workload: WAL (readers never block the writer), `busy_timeout`
//! (a writer waits for the lock instead of failing), foreign keys on, and
//! `synchronous=NORMAL`: in WAL mode a commit is durable against a crash of the process,
//! and only a power loss or OS crash can lose the last transactions before a checkpoint —
//! never corrupt the database. Writers start with `BEGIN IMMEDIATE` so two of them never
//! deadlock upgrading a read lock. A thread of the pool's own checkpoints the WAL
//! (`checkpointer.rs`); should it fall behind, connections checkpoint themselves at 10,000
//! pages (~40 MB) rather than SQLite's 1,000: a write touches several tables, and
//! checkpointing ten times less often made writes ~20% faster (BENCHMARKS.md).

use std::{path::Path, sync::Arc, time::Duration};

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{
    ErrorCode, OpenFlags,
    types::{ToSqlOutput, ValueRef},
};

use super::{Row, Value, checkpointer::Checkpointer, constraint_violated, health::Health};
use crate::{Error, Result, feed};

pub(crate) type Conn = r2d2::PooledConnection<SqliteConnectionManager>;

/// The connections, and the checkpointer and change feed their commits wake.
#[derive(Clone)]
pub(crate) struct Pool {
    pub conns: r2d2::Pool<SqliteConnectionManager>,
    pub checkpointer: Arc<Checkpointer>,
    pub feed: Arc<feed::Shared>,
    /// This process's writers, one at a time in arrival order (see [`Pool::write_turn`]).
    writers: Arc<parking_lot::Mutex<()>>,
    /// Opened read-only (see [`open_pool`]): migrations are checked, not applied.
    pub read_only: bool,
    /// Whether the last write was refused as unavailable (the disk full, say).
    pub health: Arc<Health>,
}

/// A writer's turn at the database; dropping it hands the turn to the next in line.
pub(crate) struct WriteTurn<'a>(Option<parking_lot::MutexGuard<'a, ()>>);

impl Drop for WriteTurn<'_> {
    fn drop(&mut self) {
        if let Some(turn) = self.0.take() {
            parking_lot::MutexGuard::unlock_fair(turn);
        }
    }
}

impl Pool {
    /// Waits for this process's earlier writers (at most [`BUSY_TIMEOUT`]). SQLite has one
    /// writer at a time anyway; queueing here instead of in its busy handler, which sleeps
    /// and polls for up to 100 ms at a time, hands the lock over the moment it is free and
    /// in arrival order, so many concurrent callers neither lose throughput to sleeping nor
    /// wait unfairly long. Other processes still meet at `BEGIN IMMEDIATE`.
    pub fn write_turn(&self) -> Result<WriteTurn<'_>> {
        match self.writers.try_lock_for(BUSY_TIMEOUT) {
            Some(turn) => Ok(WriteTurn(Some(turn))),
            None => Err(Error::unavailable(format!(
                "it stayed busy for over {}s: this process's writers queued too long",
                BUSY_TIMEOUT.as_secs()
            ))),
        }
    }
}

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

pub(crate) fn migrations() -> refinery::Runner {
    embedded::migrations::runner()
}

const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                       PRAGMA wal_autocheckpoint = 10000;";

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens the pool. One connection is opened first, so that a path that is not a usable
/// database fails at once naming why (a directory, not SQLite, truncated, unreadable)
/// instead of the pool retrying until its timeout. A file or folder nobody may write is
/// opened read-only: reads work, and writes fail saying so.
pub(crate) fn open_pool(path: &Path, create: bool, max_size: u32, feed: Arc<feed::Shared>) -> Result<Pool> {
    let read_only = !create && read_only(path);
    let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    flags |= if read_only { OpenFlags::SQLITE_OPEN_READ_ONLY } else { OpenFlags::SQLITE_OPEN_READ_WRITE };
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let cannot = |why: String| Error::internal(format!("cannot open SQLite database {}: {why}", path.display()));
    if path.is_dir() {
        return Err(cannot("it is a directory".into()));
    }
    check_length(path).map_err(cannot)?;
    let first = rusqlite::Connection::open_with_flags(path, flags)
        .and_then(|c| set_up(&c, read_only).map(|()| c))
        // Reading the schema proves the file is a SQLite database.
        .and_then(|c| c.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())).map(|()| c))
        .map_err(|e| cannot(describe(&e)))?;
    let manager = SqliteConnectionManager::file(path).with_flags(flags).with_init(move |c| set_up(c, read_only));
    let conns = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(30))
        .build(manager)
        .map_err(|e| cannot(e.to_string()))?;
    // The first connection goes on as the checkpointer's.
    let checkpointer = Arc::new(Checkpointer::start(first));
    Ok(Pool { conns, checkpointer, feed, writers: Arc::default(), read_only, health: Arc::default() })
}

/// Whether the file, or the folder it sits in, grants nobody write permission.
fn read_only(path: &Path) -> bool {
    let unwritable = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.permissions().readonly());
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    unwritable(path) || unwritable(folder)
}

/// Refuses a file shorter than its header says: a truncated copy. Only when no WAL holds
/// frames for it (a checkpoint may be extending the file).
fn check_length(path: &Path) -> std::result::Result<(), String> {
    let Ok(mut file) = std::fs::File::open(path) else { return Ok(()) };
    let mut header = [0u8; 100];
    if std::io::Read::read_exact(&mut file, &mut header).is_err() || !header.starts_with(b"SQLite format 3\0") {
        return Ok(()); // Empty (a new database) or not SQLite: opening it says which.
    }
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    let pages = u64::from(u32::from_be_bytes([header[28], header[29], header[30], header[31]]));
    // The header's page count is valid only while its change counter matches (offset 92).
    let valid = header[24..28] == header[92..96];
    let length = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
    if valid && pages.saturating_mul(page_size) > length {
        return Err(format!(
            "it is truncated: its header says {pages} pages of {page_size} bytes, but the file holds {length} bytes"
        ));
    }
    Ok(())
}

/// SQLite's reason, in words for the common cases.
fn describe(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => "it is not a SQLite database".into(),
        Some(ErrorCode::DatabaseCorrupt) => format!("it is corrupt ({e})"),
        Some(ErrorCode::CannotOpen) => format!("{e} (check that the file and its folder exist and may be read)"),
        Some(ErrorCode::PermissionDenied) => format!("permission denied ({e})"),
        _ => e.to_string(),
    }
}

fn set_up(c: &rusqlite::Connection, read_only: bool) -> rusqlite::Result<()> {
    c.busy_timeout(BUSY_TIMEOUT)?;
    c.set_prepared_statement_cache_capacity(128);
    // Choosing the journal mode writes to the file: a read-only store keeps what it has.
    c.execute_batch(if read_only { "PRAGMA foreign_keys = ON; PRAGMA query_only = ON;" } else { PRAGMAS })
}

pub(crate) fn migrate(conn: &mut Conn, read_only: bool) -> Result<()> {
    if read_only {
        // Nothing may be written: the schema must already be this version's.
        let latest = migrations().get_migrations().iter().map(|m| i64::from(m.version())).max().unwrap_or(0);
        let applied: i64 = conn
            .query_row("SELECT COALESCE(MAX(version), 0) FROM refinery_schema_history", [], |r| r.get(0))
            .unwrap_or(0);
        if applied < latest {
            return Err(Error::internal(format!(
                "the database is read-only and its schema (version {applied}) needs upgrading to version {latest}: \
                 open it once where it may be written"
            )));
        }
        return Ok(());
    }
    migrations().run(&mut **conn).map_err(|e| Error::internal_from("migration failed", e))?;
    Ok(())
}

/// Rewrites PostgreSQL-style `$1` placeholders into SQLite's `?1`, leaving quoted text alone.
/// Byte by byte: every character it looks at is ASCII, so the text stays UTF-8.
fn placeholders(sql: &str) -> String {
    let mut out = sql.as_bytes().to_vec();
    let mut quote = None;
    for b in &mut out {
        match quote {
            Some(q) if *b == q => quote = None,
            Some(_) => {}
            None if *b == b'\'' || *b == b'"' => quote = Some(*b),
            None if *b == b'$' => *b = b'?',
            None => {}
        }
    }
    String::from_utf8(out).expect("only ASCII bytes were replaced, by ASCII")
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Owned(rusqlite::types::Value::Null),
            Value::Int(i) => ToSqlOutput::from(*i),
            Value::Text(s) => ToSqlOutput::from(s.as_str()),
            Value::Bool(b) => ToSqlOutput::from(*b),
            // Fixed-width RFC 3339 in UTC, so text order is time order.
            Value::Time(t) => ToSqlOutput::from(format!("{t:.6}")),
        })
    }
}

fn value(v: ValueRef<'_>) -> Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Real(_) | ValueRef::Blob(_) => {
            return Err(Error::internal("unexpected REAL or BLOB column"));
        }
    })
}

pub(crate) fn execute(tx: &rusqlite::Transaction<'_>, sql: &str, params: &[Value]) -> Result<u64> {
    let mut stmt = tx.prepare_cached(&placeholders(sql)).map_err(map_err)?;
    let n = stmt.execute(rusqlite::params_from_iter(params)).map_err(map_err)?;
    Ok(n as u64)
}

pub(crate) fn query(tx: &rusqlite::Transaction<'_>, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
    #[cfg(test)]
    plans::record(tx, sql, params)?;
    let mut stmt = tx.prepare_cached(&placeholders(sql)).map_err(map_err)?;
    let columns = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(map_err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(map_err)? {
        let values =
            (0..columns).map(|i| row.get_ref(i).map_err(map_err).and_then(value)).collect::<Result<Vec<_>>>()?;
        out.push(Row(values));
    }
    Ok(out)
}

/// The query plans of what a thread reads while recording, for tests that hold the reads
/// users run to index-backed plans.
#[cfg(test)]
pub(crate) mod plans {
    use std::cell::RefCell;

    use super::{Value, map_err, placeholders};
    use crate::Result;

    /// Each query's SQL and its `EXPLAIN QUERY PLAN` lines.
    pub(crate) type Plans = Vec<(String, Vec<String>)>;

    thread_local! {
        static PLANS: RefCell<Option<Plans>> = const { RefCell::new(None) };
    }

    /// Runs `f`, returning the plans of every query it ran.
    pub(crate) fn of<R>(f: impl FnOnce() -> R) -> (R, Plans) {
        PLANS.with(|p| *p.borrow_mut() = Some(Vec::new()));
        let out = f();
        (out, PLANS.with(|p| p.borrow_mut().take().unwrap_or_default()))
    }

    pub(super) fn record(tx: &rusqlite::Transaction<'_>, sql: &str, params: &[Value]) -> Result<()> {
        if PLANS.with(|p| p.borrow().is_none()) {
            return Ok(());
        }
        let mut stmt = tx.prepare(&format!("EXPLAIN QUERY PLAN {}", placeholders(sql))).map_err(map_err)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(map_err)?;
        let mut lines = Vec::new();
        while let Some(row) = rows.next().map_err(map_err)? {
            lines.push(row.get::<_, String>(3).map_err(map_err)?);
        }
        PLANS.with(|p| p.borrow_mut().as_mut().map(|plans| plans.push((sql.to_owned(), lines))));
        Ok(())
    }
}

pub(crate) fn map_err(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(code, Some(msg)) = &e {
        if code.code == ErrorCode::ConstraintViolation {
            // "UNIQUE constraint failed: products.sku", "CHECK constraint failed: name",
            // "UNIQUE constraint failed: index 'categories_name_key'".
            let detail = msg.split_once(": ").map_or(msg.as_str(), |(_, d)| d);
            let detail = detail.trim_start_matches("index ").trim_matches('\'');
            return constraint_violated(detail);
        }
        if code.code == ErrorCode::ReadOnly {
            return Error::unavailable(
                "it is read-only (its file or folder may not be written): only reading commands work",
            );
        }
        if code.code == ErrorCode::DiskFull {
            return Error::unavailable("its disk is full: free some space and writes work again, with no restart");
        }
        if matches!(code.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) {
            return Error::unavailable(format!("it stayed busy for over {}s: {msg}", BUSY_TIMEOUT.as_secs()));
        }
    }
    Error::internal_from("SQLite failed", e)
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn rewrites_placeholders_outside_quotes() {
        assert_eq!(placeholders("SELECT $1, '$2', \"$x\" WHERE a = $12"), "SELECT ?1, '$2', \"$x\" WHERE a = ?12");
    }
}
