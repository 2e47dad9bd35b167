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

use super::{Row, Value, checkpointer::Checkpointer, constraint_message};
use crate::{Error, Result};

pub(crate) type Conn = r2d2::PooledConnection<SqliteConnectionManager>;

/// The connections, and the checkpointer their commits wake.
#[derive(Clone)]
pub(crate) struct Pool {
    pub conns: r2d2::Pool<SqliteConnectionManager>,
    pub checkpointer: Arc<Checkpointer>,
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

pub(crate) fn open_pool(path: &Path, create: bool, max_size: u32) -> Result<Pool> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let cannot =
        |e: &dyn std::fmt::Display| Error::Storage(format!("cannot open SQLite database {}: {e}", path.display()));
    let manager = SqliteConnectionManager::file(path).with_flags(flags).with_init(|c| set_up(c));
    let conns = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(30))
        .build(manager)
        .map_err(|e| cannot(&e))?;
    let checkpoints = rusqlite::Connection::open_with_flags(path, flags).and_then(|c| set_up(&c).map(|()| c));
    Ok(Pool { conns, checkpointer: Arc::new(Checkpointer::start(checkpoints.map_err(|e| cannot(&e))?)) })
}

fn set_up(c: &rusqlite::Connection) -> rusqlite::Result<()> {
    c.busy_timeout(BUSY_TIMEOUT)?;
    c.set_prepared_statement_cache_capacity(128);
    c.execute_batch(PRAGMAS)
}

pub(crate) fn migrate(conn: &mut Conn) -> Result<()> {
    migrations().run(&mut **conn).map_err(|e| Error::Storage(format!("migration failed: {e}")))?;
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
            return Err(Error::Storage("unexpected REAL or BLOB column".into()));
        }
    })
}

pub(crate) fn execute(tx: &rusqlite::Transaction<'_>, sql: &str, params: &[Value]) -> Result<u64> {
    let mut stmt = tx.prepare_cached(&placeholders(sql)).map_err(map_err)?;
    let n = stmt.execute(rusqlite::params_from_iter(params)).map_err(map_err)?;
    Ok(n as u64)
}

pub(crate) fn query(tx: &rusqlite::Transaction<'_>, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
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

pub(crate) fn map_err(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(code, Some(msg)) = &e {
        if code.code == ErrorCode::ConstraintViolation {
            // "UNIQUE constraint failed: products.sku", "CHECK constraint failed: name",
            // "UNIQUE constraint failed: index 'categories_name_key'".
            let detail = msg.split_once(": ").map_or(msg.as_str(), |(_, d)| d);
            let detail = detail.trim_start_matches("index ").trim_matches('\'');
            return Error::conflict(constraint_message(detail));
        }
        if matches!(code.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) {
            return Error::Storage(format!("the database stayed busy for over {}s: {msg}", BUSY_TIMEOUT.as_secs()));
        }
    }
    Error::Storage(format!("SQLite: {e}"))
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn rewrites_placeholders_outside_quotes() {
        assert_eq!(placeholders("SELECT $1, '$2', \"$x\" WHERE a = $12"), "SELECT ?1, '$2', \"$x\" WHERE a = ?12");
    }
}
