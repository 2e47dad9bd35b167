//! The PostgreSQL backend: connection pool, statement execution and error mapping.
//!
//! Each pooled connection keeps the statements it has prepared, so a query's text is parsed
//! once per connection and every later run costs one round trip instead of two.

use std::{collections::HashMap, error::Error as StdError, str::FromStr, sync::Arc, time::Duration};

use postgres::{
    Client, NoTls, Statement,
    error::SqlState,
    fallible_iterator::FallibleIterator,
    types::{IsNull, ToSql, Type, to_sql_checked},
};

use super::{EVENTS_CHANNEL, Row, Value, constraint_violated, health::Health};
use crate::{Error, Result};

/// The connections, and whether the server answered the last time one was made.
#[derive(Clone)]
pub(crate) struct Pool {
    conns: r2d2::Pool<Manager>,
    pub health: Arc<Health>,
}

impl Pool {
    /// A connection. While the server is known to be unreachable, an idle connection or
    /// none at once — not a wait through the pool's timeout for one that cannot come: the
    /// caller gets its 503 now, and the pool's own attempts, in the background, bring the
    /// connections back when the server is.
    pub fn get(&self) -> Result<r2d2::PooledConnection<Manager>> {
        match self.health.trouble() {
            Some(why) => self.conns.try_get().ok_or_else(|| Error::unavailable(why)),
            None => super::get(&self.conns),
        }
    }
}

/// Opens connections for the pool, and tells its health how each attempt went.
#[derive(Debug)]
pub(crate) struct Manager {
    config: postgres::Config,
    health: Arc<Health>,
}

/// A connection and the statements prepared on it, by SQL text.
pub(crate) struct Conn {
    pub client: Client,
    statements: HashMap<String, Statement>,
}

/// More distinct statements than the code has means generated SQL: start over.
const STATEMENT_CACHE: usize = 512;

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        match self.config.connect(NoTls) {
            Ok(client) => {
                self.health.served();
                Ok(Conn { client, statements: HashMap::new() })
            }
            Err(e) => {
                self.health.failed(&format!("cannot reach PostgreSQL ({})", refusal(&e)));
                Err(e)
            }
        }
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(drop)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}

/// A transaction, with the connection's prepared statements at hand.
pub(crate) struct Transaction<'c> {
    pub tx: postgres::Transaction<'c>,
    statements: &'c mut HashMap<String, Statement>,
}

impl Conn {
    /// A read-write transaction at READ COMMITTED.
    pub fn begin(&mut self) -> Result<Transaction<'_>> {
        Ok(Transaction { tx: self.client.transaction().map_err(map_err)?, statements: &mut self.statements })
    }

    /// A read-only transaction on one snapshot (REPEATABLE READ).
    pub fn begin_snapshot(&mut self) -> Result<Transaction<'_>> {
        let tx = self
            .client
            .build_transaction()
            .read_only(true)
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .start()
            .map_err(map_err)?;
        Ok(Transaction { tx, statements: &mut self.statements })
    }
}

impl Transaction<'_> {
    fn prepared(&mut self, sql: &str) -> Result<Statement> {
        prepared(self.statements, sql, |sql| self.tx.prepare(sql))
    }
}

/// The statement for `sql`, prepared with `prepare` the first time.
fn prepared(
    statements: &mut HashMap<String, Statement>,
    sql: &str,
    prepare: impl FnOnce(&str) -> Result<Statement, postgres::Error>,
) -> Result<Statement> {
    if let Some(statement) = statements.get(sql) {
        return Ok(statement.clone());
    }
    let statement = prepare(sql).map_err(map_err)?;
    if statements.len() >= STATEMENT_CACHE {
        statements.clear();
    }
    statements.insert(sql.to_owned(), statement.clone());
    Ok(statement)
}

/// A transaction driven by hand, for the sealer: its `BEGIN`, lock and first read go in one
/// round trip (the simple protocol, so they take no parameters), where a
/// [`Transaction`] would send three. Ended by [`Manual::end`]; dropped unended, it rolls back.
pub(crate) struct Manual<'c> {
    conn: &'c mut Conn,
    open: bool,
}

impl Conn {
    /// Begins a transaction with `first` (statements without parameters) in one round trip,
    /// and returns the rows of their last, each column as text.
    pub fn begin_with(&mut self, first: &str) -> Result<(Manual<'_>, Vec<Vec<Option<String>>>)> {
        let manual = Manual { conn: self, open: true };
        let messages = manual.conn.client.simple_query(&format!("BEGIN; {first}")).map_err(map_err)?;
        let rows = messages
            .iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::Row(row) => {
                    Some((0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect())
                }
                _ => None,
            })
            .collect();
        Ok((manual, rows))
    }
}

impl Manual<'_> {
    pub fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        let client = &mut self.conn.client;
        let stmt = prepared(&mut self.conn.statements, sql, |sql| client.prepare(sql))?;
        let rows = client.query(&stmt, &params(values)).map_err(map_err)?;
        rows.iter().map(|row| (0..row.len()).map(|i| value(row, i)).collect::<Result<Vec<_>>>().map(Row)).collect()
    }

    /// Commits, or rolls back.
    pub fn end(mut self, commit: bool) -> Result<()> {
        self.open = false;
        self.conn.client.batch_execute(if commit { "COMMIT" } else { "ROLLBACK" }).map_err(map_err)
    }
}

impl Drop for Manual<'_> {
    fn drop(&mut self) {
        if self.open {
            // The connection may be gone; then the server has rolled back already.
            let _ = self.conn.client.batch_execute("ROLLBACK");
        }
    }
}

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

pub(crate) fn migrations() -> refinery::Runner {
    embedded::migrations::runner()
}

/// Serialises concurrent migrations from several server instances starting at once.
const MIGRATION_LOCK: i64 = 0x5374_6f63_6b79_6172; // "Stockyar"

/// Opens the pool. One connection is made first, so that a server that refuses, a
/// database that does not exist or a wrong password fails at once naming why, instead of
/// the pool retrying until its timeout.
pub(crate) fn open_pool(url: &str, shown: &str, max_size: u32) -> Result<Pool> {
    let config = config(url)?;
    let first = config.connect(NoTls).map_err(|e| {
        let reason = format!("cannot connect to PostgreSQL at {shown}: {}", refusal(&e));
        // The server answered and refused (a wrong password, no such database): a setup
        // mistake. No answer at all (refused, timed out): it may be restarting.
        if e.as_db_error().is_some() { Error::internal(reason) } else { Error::unavailable(reason) }
    })?;
    drop(first);
    let health = Arc::new(Health::default());
    let manager = Manager { config, health: Arc::clone(&health) };
    let conns = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        // No test query on every check-out: it would add a round trip to each transaction.
        // A connection the server dropped is found broken when returned, and the one
        // request that met it fails as unavailable.
        .test_on_check_out(false)
        // Also the cap on the pause between reconnection attempts (half of it): a server
        // back from a restart is found within 2 s.
        .connection_timeout(Duration::from_secs(4))
        // The manager tells the health, which logs an outage once; not every attempt.
        .error_handler(Box::new(r2d2::NopErrorHandler))
        .build(manager)
        .map_err(|e| Error::unavailable(format!("cannot connect to PostgreSQL at {shown}: {e}")))?;
    Ok(Pool { conns, health })
}

/// Why a connection could not be made, with the cause the driver's own message leaves out
/// ("error connecting to server: Connection refused").
fn refusal(e: &postgres::Error) -> String {
    match (e.as_db_error(), e.source()) {
        (Some(db), _) => db.message().to_owned(),
        (None, Some(cause)) => format!("{e}: {cause}"),
        (None, None) => e.to_string(),
    }
}

/// The URL's settings, with a connect timeout unless it names one.
fn config(url: &str) -> Result<postgres::Config> {
    let mut config = postgres::Config::from_str(url)
        .map_err(|e| Error::invalid("database", format!("not a PostgreSQL URL: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    Ok(config)
}

/// A connection of its own, outside the pool, that hears every commit which appended events:
/// each notifies [`EVENTS_CHANNEL`] with its last seq (see `journal`: the sealing pass does).
pub(crate) struct Listener {
    client: Client,
}

impl Listener {
    /// Starts listening; also returns the last seq committed by then. Listening first, the
    /// head read after it: a commit before the head is in it, one after it is heard.
    pub fn start(url: &str) -> Result<(Self, i64)> {
        let mut client = config(url)?.connect(NoTls).map_err(map_err)?;
        client.batch_execute(&format!("LISTEN {EVENTS_CHANNEL}")).map_err(map_err)?;
        let head = client.query_one("SELECT COALESCE(MAX(seq), 0) FROM events", &[]).map_err(map_err)?.get(0);
        Ok((Self { client }, head))
    }

    /// The highest seq heard within `timeout` (and of those that came with it), or `None`.
    pub fn hear(&mut self, timeout: Duration) -> Result<Option<i64>> {
        let first = self.client.notifications().timeout_iter(timeout).next().map_err(map_err)?;
        let Some(first) = first else {
            // Nothing heard may also mean the server went away.
            if self.client.is_closed() {
                return Err(Error::unavailable("PostgreSQL closed the listening connection"));
            }
            return Ok(None);
        };
        let mut heard = first.payload().parse::<i64>().ok();
        let mut notifications = self.client.notifications();
        let mut pending = notifications.iter();
        while let Some(next) = pending.next().map_err(map_err)? {
            heard = heard.max(next.payload().parse().ok());
        }
        Ok(heard)
    }
}

pub(crate) fn migrate(conn: &mut Client) -> Result<()> {
    conn.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).map_err(map_err)?;
    let outcome = migrations().run(conn);
    conn.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).map_err(map_err)?;
    outcome.map_err(|e| Error::internal_from("migration failed", e))?;
    Ok(())
}

type BoxError = Box<dyn StdError + Sync + Send>;

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql_checked(ty, out),
            Value::Int(i) => i.to_sql_checked(ty, out),
            Value::Text(s) => s.to_sql_checked(ty, out),
            Value::Bool(b) => b.to_sql_checked(ty, out),
            Value::Time(t) => t.to_sql_checked(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

fn value(row: &postgres::Row, idx: usize) -> Result<Value> {
    let column = &row.columns()[idx];
    let ty = column.type_();
    let get = |e: postgres::Error| Error::internal_from(format!("column {}", column.name()), e);
    let value = if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(idx).map_err(get)?.map(Value::Int)
    } else if *ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(idx).map_err(get)?.map(|i| Value::Int(i.into()))
    } else if *ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(idx).map_err(get)?.map(|i| Value::Int(i.into()))
    } else if *ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(idx).map_err(get)?.map(Value::Bool)
    } else if *ty == Type::TIMESTAMPTZ {
        row.try_get::<_, Option<jiff::Timestamp>>(idx).map_err(get)?.map(Value::Time)
    } else if [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(ty) {
        row.try_get::<_, Option<String>>(idx).map_err(get)?.map(Value::Text)
    } else {
        return Err(Error::internal(format!("column {} has unsupported type {ty}", column.name())));
    };
    Ok(value.unwrap_or(Value::Null))
}

pub(crate) fn execute(tx: &mut Transaction<'_>, sql: &str, values: &[Value]) -> Result<u64> {
    let stmt = tx.prepared(sql)?;
    tx.tx.execute(&stmt, &params(values)).map_err(map_err)
}

pub(crate) fn query(tx: &mut Transaction<'_>, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
    let stmt = tx.prepared(sql)?;
    let rows = tx.tx.query(&stmt, &params(values)).map_err(map_err)?;
    rows.iter().map(|row| (0..row.len()).map(|i| value(row, i)).collect::<Result<Vec<_>>>().map(Row)).collect()
}

pub(crate) fn map_err(e: postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let constraint = db.constraint().unwrap_or(db.message());
        if [SqlState::UNIQUE_VIOLATION, SqlState::CHECK_VIOLATION, SqlState::FOREIGN_KEY_VIOLATION].contains(db.code())
        {
            return constraint_violated(constraint);
        }
        // Text PostgreSQL cannot store (a NUL byte) that no field's own check caught: the
        // request's fault, not the server's.
        if db.code() == &SqlState::CHARACTER_NOT_IN_REPERTOIRE {
            return Error::invalid("text", "contains a character that cannot be stored (a NUL byte)");
        }
        if let Some(why) = passing(db.code()) {
            return Error::unavailable(format!("PostgreSQL {why} ({}); try again", db.code().code()));
        }
        return Error::internal_from(format!("PostgreSQL refused a statement ({})", db.code().code()), e);
    }
    // No answer from the server: the connection dropped or timed out.
    Error::unavailable(format!("lost the connection to PostgreSQL ({e})"))
}

/// Failures that say nothing about the request, only that the server cannot take it now,
/// in words: connection trouble, a shutdown or restart, no room or connections left, or a
/// transaction the server chose to abort (serialisation failure, deadlock victim) that a
/// retry may pass.
fn passing(code: &SqlState) -> Option<&'static str> {
    let class = &code.code()[..2];
    Some(match code {
        _ if class == "08" => "lost the connection",
        c if *c == SqlState::ADMIN_SHUTDOWN => "is shutting down",
        c if *c == SqlState::CRASH_SHUTDOWN => "is recovering from a crash",
        c if *c == SqlState::CANNOT_CONNECT_NOW => "is starting up",
        c if *c == SqlState::TOO_MANY_CONNECTIONS => "has no connection left",
        c if *c == SqlState::DISK_FULL => "has no disk space left",
        _ if class == "53" => "is out of resources",
        c if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED => {
            "aborted a transaction that clashed with another"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use postgres::error::SqlState;

    use super::passing;

    #[test]
    fn passing_refusals_are_named_in_words() {
        let cases = [
            (SqlState::ADMIN_SHUTDOWN, Some("is shutting down")),
            (SqlState::CONNECTION_FAILURE, Some("lost the connection")),
            (SqlState::DISK_FULL, Some("has no disk space left")),
            (SqlState::OUT_OF_MEMORY, Some("is out of resources")),
            (SqlState::T_R_DEADLOCK_DETECTED, Some("aborted a transaction that clashed with another")),
            (SqlState::UNDEFINED_TABLE, None),
        ];
        for (code, words) in cases {
            assert_eq!(passing(&code), words, "{}", code.code());
        }
    }
}
