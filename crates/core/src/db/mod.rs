//! Storage: one transaction interface over SQLite and PostgreSQL, chosen once from the URL.
//!
//! SQL is written once in the dialect both accept (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`); what differs — DDL, full-text search, row locks — is asked of
//! [`Backend`]. Every write runs in one transaction: the change, its event and its audit
//! record commit together or not at all.

mod checkpointer;
mod filter;
mod health;
mod postgres;
mod sealing;
pub(crate) mod sqlite;
mod value;

use std::{cell::Cell, path::PathBuf, sync::Arc};

pub(crate) use filter::Filter;
pub(crate) use postgres::Listener;
pub(crate) use value::{Row, Value, params};

use crate::{Conflict, Error, Result, feed};

/// The PostgreSQL channel every commit that appended events notifies, with its last seq.
pub(crate) const EVENTS_CHANNEL: &str = "stockyard_events";

/// The advisory lock its holder numbers and chains journal records under (PostgreSQL).
const JOURNAL_LOCK: i64 = 0x5374_6f63_6b4a_726e; // "StockJrn"

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where a store lives, parsed from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// `sqlite://PATH` (also `sqlite:PATH` or a bare path) or `postgres://…` / `postgresql://…`.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Location::Postgres(url.to_owned()));
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            return Err(Error::invalid("database", format!("{url:?} is neither sqlite://PATH nor postgres://…")));
        }
        if path == ":memory:" {
            return Err(Error::invalid("database", "in-memory SQLite is not supported: use a file path"));
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }

    /// A printable form without secrets.
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(url) => redact_password(url),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// A connection pool for one of the backends.
#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(sqlite::Pool),
    /// With what its writers share to seal after commit.
    Postgres(postgres::Pool, Arc<sealing::Sealing>),
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Pool").field(&self.backend()).finish()
    }
}

/// How many connections a pool may hold; PostgreSQL's default stays well under its
/// usual `max_connections` of 100 even with several instances.
pub(crate) const DEFAULT_POOL_SIZE: u32 = 8;

impl Pool {
    /// Opens the pool and applies pending migrations. A missing SQLite file is created only
    /// when `create` is set. SQLite commits tell `feed` here; PostgreSQL's tell every
    /// listener, this process's among them, through the server (see [`Listener`]).
    pub fn open(location: &Location, create: bool, max_size: u32, feed: Arc<feed::Shared>) -> Result<Self> {
        let pool = match location {
            Location::Sqlite(path) => {
                if !create && !path.exists() {
                    return Err(Error::NotInitialised { location: location.display() });
                }
                Pool::Sqlite(sqlite::open_pool(path, create, max_size, feed)?)
            }
            Location::Postgres(url) => {
                Pool::Postgres(postgres::open_pool(url, &location.display(), max_size)?, Arc::default())
            }
        };
        pool.migrate()?;
        Ok(pool)
    }

    pub fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(..) => Backend::Postgres,
        }
    }

    fn migrate(&self) -> Result<()> {
        match self {
            Pool::Sqlite(pool) => sqlite::migrate(&mut get(&pool.conns)?, pool.read_only),
            Pool::Postgres(pool, _) => postgres::migrate(&mut pool.get()?.client),
        }
    }

    /// Refreshes planner statistics.
    pub fn maintain(&self) -> Result<()> {
        match self {
            Pool::Sqlite(pool) => get(&pool.conns)?
                .execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")
                .map_err(sqlite::map_err),
            Pool::Postgres(pool, _) => pool.get()?.client.batch_execute("ANALYZE").map_err(postgres::map_err),
        }
    }

    /// Runs a command — `f` — in a write transaction and commits it. A command that changes
    /// a row must record the change ([`crate::journal::record`]): one that does not is rolled
    /// back with an internal error, so no change can reach the database without its event
    /// and audit record. SQLite takes the write lock up front (`BEGIN IMMEDIATE`); on
    /// PostgreSQL (READ COMMITTED) writers lock the rows they change, always in one global
    /// order, so they cannot deadlock.
    pub fn write<R>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<R>) -> Result<R> {
        self.transact(Purpose::Command, f)
    }

    /// Runs `f` exactly as [`Pool::write`] would, then rolls it all back: what a change
    /// would do (a dry run), with none of it kept.
    pub fn rehearse<R>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<R>) -> Result<R> {
        self.transact(Purpose::Rehearsal, f)
    }

    /// [`Pool::rehearse`] for a dry run, else [`Pool::write`].
    pub fn write_unless<R>(&self, dry_run: bool, f: impl FnOnce(&mut Tx<'_>) -> Result<R>) -> Result<R> {
        if dry_run { self.rehearse(f) } else { self.write(f) }
    }

    /// A write transaction for bookkeeping that is not a change of the domain and so has no
    /// event: consumer cursors, leases, login attempts, delivery outcomes, snapshots.
    pub fn bookkeep<R>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<R>) -> Result<R> {
        self.transact(Purpose::Bookkeeping, f)
    }

    fn transact<R>(&self, purpose: Purpose, f: impl FnOnce(&mut Tx<'_>) -> Result<R>) -> Result<R> {
        // Writes the command's journal records, then commits (or, rehearsing, rolls back);
        // returns whether records wait in the queue for the sealer.
        let finish = |mut tx: Tx<'_>| -> Result<bool> {
            if purpose != Purpose::Bookkeeping && tx.changed && !tx.journaled {
                return Err(Error::internal("a command changed rows without recording the change: rolled back"));
            }
            let records = std::mem::take(&mut tx.records);
            let queued = crate::journal::flush(&mut tx, records)?;
            let keep = purpose != Purpose::Rehearsal;
            tx.end(keep)?;
            Ok(queued && keep)
        };
        match self {
            Pool::Sqlite(pool) => {
                let _turn = pool.write_turn()?;
                let mut conn = get(&pool.conns)?;
                let written = (|| {
                    let tx = conn
                        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                        .map_err(sqlite::map_err)?;
                    let mut tx = Tx::new(Engine::Sqlite(tx));
                    tx.rehearsal = purpose == Purpose::Rehearsal;
                    let out = f(&mut tx)?;
                    finish(tx)?;
                    Ok(out)
                })();
                match &written {
                    // The database could not take the write (its disk full, say): out of
                    // service until a write passes again (see `Pool::ready`).
                    Err(Error::Unavailable { reason }) => pool.health.failed(reason),
                    Err(_) => {}
                    Ok(_) if purpose == Purpose::Rehearsal => {}
                    Ok(_) => {
                        pool.health.served();
                        pool.checkpointer.committed();
                        pool.feed.committed();
                    }
                }
                written
            }
            Pool::Postgres(pool, sealing) => {
                let mut conn = pool.get()?;
                let mut tx = Tx::new(Engine::Postgres(conn.begin()?));
                tx.rehearsal = purpose == Purpose::Rehearsal;
                let out = f(&mut tx)?;
                if finish(tx)? {
                    // Committed: the command is done whatever happens to its sealing. A
                    // failure here leaves its records queued for the next sealer, as a
                    // crash would.
                    let _ = sealing.after_commit(|| seal(&mut conn));
                }
                Ok(out)
            }
        }
    }

    /// Seals every journal record queued and committed so far (PostgreSQL; SQLite writers
    /// seal their own) and returns how many commands' records it sealed: what a long-running
    /// process does now and then, so records a writer left queued — it crashed, or lost its
    /// connection — do not wait for the next command.
    pub fn seal(&self) -> Result<usize> {
        match self {
            Pool::Sqlite(_) => Ok(0),
            Pool::Postgres(pool, _) => seal(&mut *pool.get()?),
        }
    }

    /// Whether the database can serve now: `Err(Unavailable)` naming the trouble while it
    /// is out of service. PostgreSQL: a connection can be had. SQLite: after a write failed
    /// for want of room, a write passes again (a small one, tried here).
    pub fn ready(&self) -> Result<()> {
        match self {
            Pool::Sqlite(pool) => {
                if pool.health.trouble().is_some() {
                    // Rewriting the header's user version dirties a page whatever its value
                    // (an unchanged row would not be written): a real commit, of nothing.
                    self.bookkeep(|tx| {
                        let version: i64 = tx.query_one("SELECT user_version FROM pragma_user_version", &[])?.get(0)?;
                        tx.execute(&format!("PRAGMA user_version = {version}"), &[]).map(drop)
                    })?;
                }
                Ok(())
            }
            Pool::Postgres(pool, _) => pool.get().map(drop),
        }
    }

    /// Runs `f` in a read-only transaction: one consistent snapshot for all its queries.
    pub fn read<R>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<R>) -> Result<R> {
        match self {
            Pool::Sqlite(pool) => {
                let mut conn = get(&pool.conns)?;
                let mut tx = Tx::new(Engine::Sqlite(conn.transaction().map_err(sqlite::map_err)?));
                let out = f(&mut tx)?;
                tx.end(false)?;
                Ok(out)
            }
            Pool::Postgres(pool, _) => {
                let mut conn = pool.get()?;
                let mut tx = Tx::new(Engine::Postgres(conn.begin_snapshot()?));
                let out = f(&mut tx)?;
                tx.end(false)?;
                Ok(out)
            }
        }
    }
}

/// Sealing passes until one finds fewer than a batch waiting (see [`crate::journal`]).
/// Each is three round trips: `BEGIN`, the journal's lock and the read of the heads and the
/// queue in one; the statement writing what it seals; `COMMIT`.
fn seal(conn: &mut postgres::Conn) -> Result<usize> {
    let start =
        format!("DO $$ BEGIN PERFORM pg_advisory_xact_lock({JOURNAL_LOCK}); END $$; {}", crate::journal::queued_read());
    let mut sealed = 0;
    loop {
        sent(1);
        let (mut tx, rows) = conn.begin_with(&start)?;
        let count = match crate::journal::seal_statement(&rows)? {
            Some((sql, params, count)) => {
                sent(1);
                tx.query(&sql, &params)?;
                count
            }
            None => 0,
        };
        sent(1);
        tx.end(true)?;
        sealed += count;
        if count < crate::journal::SEAL_BATCH {
            return Ok(sealed);
        }
    }
}

fn get<M: r2d2::ManageConnection>(pool: &r2d2::Pool<M>) -> Result<r2d2::PooledConnection<M>> {
    pool.get().map_err(|e| Error::unavailable(format!("no database connection came free in time ({e})")))
}

thread_local! {
    /// Statements this thread has sent (see [`statements_sent`]).
    static SENT: Cell<u64> = const { Cell::new(0) };
}

fn sent(n: u64) {
    SENT.with(|s| s.set(s.get() + n));
}

/// How many statements this thread has sent to the database so far, `BEGIN` and the
/// transaction's end included. A command runs on its caller's thread, so the difference
/// across a call is what that command sent. On PostgreSQL each statement is one round trip
/// (its text is prepared once per connection; that first use costs one more): what the
/// write path's benchmark and its round-trip ceilings count.
pub fn statements_sent() -> u64 {
    SENT.with(Cell::get)
}

/// What a write transaction is for (see [`Pool::write`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Command,
    Rehearsal,
    Bookkeeping,
}

/// An open transaction on either backend, and what it has done so far.
pub(crate) struct Tx<'c> {
    engine: Engine<'c>,
    /// A statement changed a row (or returned rows it inserted, updated or deleted).
    changed: bool,
    /// The change was recorded (see [`crate::journal::record`]).
    journaled: bool,
    /// The command's journal records, written as it ends.
    records: Vec<crate::journal::Record>,
    /// Writes waiting to go out together (see [`Tx::defer`]).
    deferred: Vec<(String, Vec<Value>)>,
    /// A dry run: rolled back whatever it does.
    rehearsal: bool,
    /// The actor's idempotency key was claimed (see [`crate::idempotency::once`]).
    keyed: bool,
}

enum Engine<'c> {
    Sqlite(rusqlite::Transaction<'c>),
    Postgres(postgres::Transaction<'c>),
}

impl<'c> Tx<'c> {
    /// An open transaction: its `BEGIN` counts as a statement sent.
    fn new(engine: Engine<'c>) -> Self {
        sent(1);
        Self {
            engine,
            changed: false,
            journaled: false,
            records: Vec::new(),
            deferred: Vec::new(),
            rehearsal: false,
            keyed: false,
        }
    }
}

impl Tx<'_> {
    pub fn backend(&self) -> Backend {
        match self.engine {
            Engine::Sqlite(_) => Backend::Sqlite,
            Engine::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs a statement, returning the number of rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.send_deferred()?;
        self.execute_now(sql, params)
    }

    fn execute_now(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        sent(1);
        let n = match &mut self.engine {
            Engine::Sqlite(tx) => sqlite::execute(tx, sql, params),
            Engine::Postgres(tx) => postgres::execute(tx, sql, params),
        }?;
        self.changed |= n > 0;
        Ok(n)
    }

    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.send_deferred()?;
        self.query_ahead(sql, params)
    }

    /// [`Tx::query`] for a statement that touches no row a deferred write does (drawing
    /// from a sequence): it may run before them, so they can still go out together.
    pub fn query_ahead(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        sent(1);
        let rows = match &mut self.engine {
            Engine::Sqlite(tx) => sqlite::query(tx, sql, params),
            Engine::Postgres(tx) => postgres::query(tx, sql, params),
        }?;
        // `INSERT|UPDATE|DELETE … RETURNING` returns a row per row it changed.
        self.changed |= !rows.is_empty() && changes_rows(sql);
        Ok(rows)
    }

    /// Runs an `INSERT` of new rows whose outcome the command does not read, as late as it
    /// may: on PostgreSQL it waits for the transaction's next statement or its end, and the
    /// writes waiting then go out as one statement — one round trip for all of them. SQLite,
    /// with no round trips to save, runs it now. A constraint it breaks fails the command
    /// either way, only later.
    pub fn defer(&mut self, sql: &str, params: &[Value]) -> Result<()> {
        match self.engine {
            Engine::Sqlite(_) => self.execute(sql, params).map(drop),
            Engine::Postgres(_) => {
                self.deferred.push((sql.to_owned(), params.to_vec()));
                self.changed = true;
                Ok(())
            }
        }
    }

    /// Inserts `rows` with one statement however many there are — `insert` is the statement
    /// up to its `VALUES`, each row its columns' values — deferred as [`Tx::defer`] is.
    pub fn defer_rows(&mut self, insert: &str, rows: &[Vec<Value>]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let (sql, params) = rows_insert(insert, rows);
        self.defer(&sql, &params)
    }

    /// Inserts `rows` now — `insert` is the statement up to its `VALUES` — in as few
    /// statements as the backends' limits on parameters allow: for a bulk load (an import),
    /// where deferring every row to one statement would pass them.
    pub fn insert_rows(&mut self, insert: &str, rows: &[Vec<Value>]) -> Result<()> {
        let width = rows.first().map_or(1, Vec::len);
        for chunk in rows.chunks(self.backend().rows_per_insert(width)) {
            let (sql, params) = rows_insert(insert, chunk);
            self.execute(&sql, &params)?;
        }
        Ok(())
    }

    /// Sends the deferred writes, as one statement: all but the last as data-modifying
    /// `WITH` parts, whose rows' foreign keys PostgreSQL checks at the statement's end.
    fn send_deferred(&mut self) -> Result<()> {
        let deferred = std::mem::take(&mut self.deferred);
        let Some(((last, _), rest)) = deferred.split_last() else { return Ok(()) };
        let mut params = Vec::new();
        let mut parts = Vec::new();
        for (i, (sql, values)) in rest.iter().enumerate() {
            parts.push(format!("w{i} AS ({})", shift_placeholders(sql, params.len())));
            params.extend_from_slice(values);
        }
        let last_sql = shift_placeholders(last, params.len());
        params.extend_from_slice(&deferred[deferred.len() - 1].1);
        let sql = if parts.is_empty() { last_sql } else { format!("WITH {} {last_sql}", parts.join(", ")) };
        self.execute_now(&sql, &params).map(drop)
    }

    /// Keeps a journal record to write as the transaction ends: only
    /// [`crate::journal::record`] may call this.
    pub fn journal(&mut self, record: crate::journal::Record) {
        self.records.push(record);
        self.journaled = true;
    }

    /// Records `record` as the command's own, over the records its parts made so far: their
    /// events go first in it and their audit records are left out (see
    /// [`crate::journal::record_over`]).
    pub fn journal_over(&mut self, mut record: crate::journal::Record) {
        let parts = std::mem::take(&mut self.records);
        let mut events: Vec<_> = parts.into_iter().flat_map(|part| part.events).collect();
        events.append(&mut record.events);
        record.events = events;
        self.journal(record);
    }

    /// Marks the actor's idempotency key as claimed for this command.
    pub fn keyed(&mut self) {
        self.keyed = true;
    }

    /// Whether this transaction is a dry run, rolled back whatever it does.
    pub fn is_rehearsal(&self) -> bool {
        self.rehearsal
    }

    /// Whether this command claimed the actor's idempotency key.
    pub fn is_keyed(&self) -> bool {
        self.keyed
    }

    /// Runs `f` as bookkeeping inside this transaction: what it writes (an idempotency
    /// key, say) is not a change that needs recording.
    pub fn bookkeeping<R>(&mut self, f: impl FnOnce(&mut Self) -> Result<R>) -> Result<R> {
        let changed = self.changed;
        let out = f(self);
        self.changed = changed;
        out
    }

    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// A query that must return a row (an aggregate, or a `RETURNING`).
    pub fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        self.query_opt(sql, params)?.ok_or_else(|| Error::internal("a query that must return a row returned none"))
    }

    /// Commits, or with `keep` unset rolls back: either is a statement sent.
    fn end(mut self, keep: bool) -> Result<()> {
        // A dry run sends them too: what they would break, it reports.
        self.send_deferred()?;
        sent(1);
        if !keep {
            return Ok(());
        }
        match self.engine {
            Engine::Sqlite(tx) => tx.commit().map_err(sqlite::map_err),
            Engine::Postgres(tx) => tx.tx.commit().map_err(postgres::map_err),
        }
    }

    /// Takes the journal's lock until commit: one holder at a time numbers and chains
    /// records (PostgreSQL's sealer; see [`crate::journal`]). SQLite's `BEGIN IMMEDIATE`
    /// already excludes every other writer.
    pub fn lock_journal(&mut self) -> Result<()> {
        if self.backend() == Backend::Postgres {
            self.query("SELECT pg_advisory_xact_lock($1)::text", params![JOURNAL_LOCK])?;
        }
        Ok(())
    }

    /// The seq of the last event committed: every event up to it is readable.
    pub fn last_event_seq(&mut self) -> Result<i64> {
        self.query_one("SELECT COALESCE(MAX(seq), 0) FROM events", &[])?.get(0)
    }

    /// Keeps other writers of `table` waiting until commit (PostgreSQL); SQLite's
    /// `BEGIN IMMEDIATE` already excludes every other writer.
    pub fn lock_exclusive(&mut self, table: &str) -> Result<()> {
        if let Engine::Postgres(tx) = &mut self.engine {
            tx.tx.batch_execute(&format!("LOCK TABLE {table} IN EXCLUSIVE MODE")).map_err(postgres::map_err)?;
        }
        Ok(())
    }

    /// An SQL expression for the text of field `key` of a JSON text column (event payloads).
    pub fn json_field(&self, column: &str, key: &str) -> String {
        match self.backend() {
            Backend::Sqlite => format!("json_extract({column}, '$.{key}')"),
            Backend::Postgres => format!("({column}::jsonb ->> '{key}')"),
        }
    }

    /// ` FOR UPDATE` where the backend locks rows; SQLite's `BEGIN IMMEDIATE` already holds
    /// the whole database for the writer.
    pub fn for_update(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

/// `insert` (up to its `VALUES`) of `rows`, and their values as parameters.
/// The most parameters one statement binds: under SQLite's limit (32,766), and so under
/// PostgreSQL's (65,535).
const MAX_PARAMETERS: usize = 30_000;

impl Backend {
    /// How many rows of `width` columns a bulk `INSERT` should carry. PostgreSQL: as many as
    /// one statement binds, for the fewest round trips. SQLite: a few dozen — parsing a
    /// long `VALUES` list costs more than running a short one again, and every full chunk
    /// has the same text, so it is parsed once and then taken from the statement cache.
    pub(crate) fn rows_per_insert(self, width: usize) -> usize {
        match self {
            Backend::Sqlite => 32,
            Backend::Postgres => (MAX_PARAMETERS / width.max(1)).max(1),
        }
    }
}

fn rows_insert(insert: &str, rows: &[Vec<Value>]) -> (String, Vec<Value>) {
    let width = rows.first().map_or(0, Vec::len);
    let tuples: Vec<String> = (0..rows.len())
        .map(|row| {
            let columns: Vec<String> = (1..=width).map(|column| format!("${}", row * width + column)).collect();
            format!("({})", columns.join(", "))
        })
        .collect();
    (format!("{insert} VALUES {}", tuples.join(", ")), rows.concat())
}

/// `sql` with each placeholder `$n` outside quotes made `$(n + by)`.
fn shift_placeholders(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut quote = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = 0usize;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + d as usize;
                    chars.next();
                }
                out.push_str(&(n + by).to_string());
            }
            None => {}
        }
    }
    out
}

/// Whether a statement is one that changes rows.
fn changes_rows(sql: &str) -> bool {
    let verb = sql.split_whitespace().next().unwrap_or_default();
    ["INSERT", "UPDATE", "DELETE"].iter().any(|v| verb.eq_ignore_ascii_case(v))
}

/// The conflict a violated constraint stands for, named by the constraint (PostgreSQL,
/// SQLite indexes) or its `table.column` (SQLite `UNIQUE` columns). Services check the
/// common cases first for a message naming the value; this catches the races.
pub(crate) fn constraint_violated(constraint: &str) -> Error {
    const KNOWN: &[(&[&str], Conflict, &str)] = &[
        (&["products_sku_key", "products.sku"], Conflict::Duplicate, "a product with this SKU already exists"),
        (
            &["products_barcode_key", "products.barcode"],
            Conflict::Duplicate,
            "a product with this barcode already exists",
        ),
        (&["categories_name_key"], Conflict::Duplicate, "a category with this name already exists"),
        (&["warehouses_code_key", "warehouses.code"], Conflict::Duplicate, "a warehouse with this code already exists"),
        (&["users_email_key", "users.email"], Conflict::Duplicate, "a user with this email already exists"),
        (&["api_tokens_name_key"], Conflict::Duplicate, "an API token with this name already exists"),
        (
            &["orders_reservation_key", "orders.reservation_id"],
            Conflict::HeldByOrder,
            "this reservation already belongs to an order",
        ),
    ];
    match KNOWN.iter().find(|(names, ..)| names.contains(&constraint)) {
        Some((_, code, message)) => Error::conflict(*code, *message),
        None => Error::conflict(Conflict::Refused, format!("constraint {constraint} violated")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_shift_outside_quotes_only() {
        assert_eq!(
            shift_placeholders("INSERT INTO t VALUES ($1, '$2', \"$3\", $12) -- $x", 4),
            "INSERT INTO t VALUES ($5, '$2', \"$3\", $16) -- $x"
        );
        assert_eq!(shift_placeholders("SELECT $1", 0), "SELECT $1");
    }

    stockyard_testkit::backend_tests! {
        fn deferred_writes_go_out_together_before_what_reads_them(db) {
            let pool = Pool::open(&Location::parse(db.url()).expect("url"), true, 1, std::sync::Arc::default()).expect("open");
            let values = pool
                .bookkeep(|tx| {
                    tx.defer("INSERT INTO settings (key, value) VALUES ($1, $2)", params!["a", "1"])?;
                    tx.defer_rows("INSERT INTO settings (key, value)", &[params!["b", "2"].to_vec(), params!["c", "3"].to_vec()])?;
                    let before = statements_sent();
                    let rows = tx.query("SELECT value FROM settings WHERE key IN ('a', 'b', 'c') ORDER BY key", &[])?;
                    // PostgreSQL sent the three writes as one statement, then the read.
                    let statements = statements_sent() - before;
                    assert_eq!(statements, if tx.backend() == Backend::Postgres { 2 } else { 1 });
                    rows.iter().map(|r| r.get::<String>(0)).collect::<Result<Vec<_>>>()
                })
                .expect("bookkeep");
            assert_eq!(values, ["1", "2", "3"]);
            // A write that breaks a constraint fails its transaction, if only at its end.
            let duplicate = pool.bookkeep(|tx| tx.defer("INSERT INTO settings (key, value) VALUES ('a', 'again')", &[]));
            assert!(matches!(duplicate, Err(Error::Conflict { .. })), "{duplicate:?}");
        }
    }

    stockyard_testkit::backend_tests! {
        fn a_command_that_changes_rows_without_recording_them_is_rolled_back(db) {
            let pool = Pool::open(&Location::parse(db.url()).expect("url"), true, 1, std::sync::Arc::default()).expect("open");
            let insert = |tx: &mut Tx<'_>| tx.execute("INSERT INTO settings (key, value) VALUES ('probe', 'x')", &[]);
            let err = pool.write(insert).expect_err("no journal record");
            assert!(matches!(&err, Error::Internal { context, .. } if context.contains("without recording")), "{err:?}");
            let kept = |tx: &mut Tx<'_>| tx.query_opt("SELECT 1 FROM settings WHERE key = 'probe'", &[]);
            assert!(pool.read(kept).expect("read").is_none(), "rolled back");
            // A change through `RETURNING` counts as one too.
            let returning = |tx: &mut Tx<'_>| {
                tx.query("INSERT INTO settings (key, value) VALUES ('probe', 'x') RETURNING key", &[])
            };
            assert!(pool.write(returning).is_err());
            // Bookkeeping is not a change of the domain, and a command that reads only is fine.
            pool.bookkeep(insert).expect("bookkeeping");
            assert!(pool.write(kept).expect("a read-only command").is_some());
        }
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let versions = |runner: refinery::Runner| {
            runner.get_migrations().iter().map(|m| (m.version(), m.name().to_owned())).collect::<Vec<_>>()
        };
        let sqlite = versions(sqlite::migrations());
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, versions(postgres::migrations()));
    }

    /// Both backends' schemas after every migration, as comparable names: `table.column`,
    /// `index NAME` for indexes created on their own, `unique NAME` for named unique
    /// constraints. Column types, CHECKs and triggers differ by dialect and are left out, and
    /// so are the parts that are each backend's own: full-text search (SQLite's `products_fts`
    /// table, PostgreSQL's `products.search` column and its index), PostgreSQL's
    /// `journal_queue` (PostgreSQL seals queued records after commit; SQLite's single writer
    /// numbers them itself) and the migration history.
    #[test]
    fn both_backends_migrate_to_the_same_schema() {
        use std::collections::BTreeSet;
        let folder = tempfile::tempdir().expect("tempdir");
        let mut sqlite = rusqlite::Connection::open(folder.path().join("schema.db")).expect("open");
        sqlite::migrations().run(&mut sqlite).expect("migrate");
        let texts = |sql: &str| -> Vec<String> {
            let mut statement = sqlite.prepare(sql).expect("prepare");
            statement.query_map([], |r| r.get(0)).expect("query").collect::<rusqlite::Result<_>>().expect("rows")
        };
        let mut lite: BTreeSet<String> = texts(
            "SELECT m.name || '.' || c.name FROM sqlite_master m, pragma_table_info(m.name) c
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'products_fts%'
               AND m.name <> 'refinery_schema_history'",
        )
        .into_iter()
        .collect();
        lite.extend(texts("SELECT 'index ' || name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"));
        // Named unique constraints sit in the CREATE TABLE text: `CONSTRAINT name UNIQUE (…)`.
        for table in texts("SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL") {
            let words: Vec<&str> = table.split_whitespace().collect();
            for pair in words.windows(3).filter(|w| w[0] == "CONSTRAINT" && w[2].starts_with("UNIQUE")) {
                lite.insert(format!("unique {}", pair[1]));
            }
        }

        assert!(lite.iter().filter(|n| n.starts_with("index ")).count() > 10 && lite.len() > 200, "{lite:?}");

        let Some(db) = stockyard_testkit::TestDb::postgres() else { return };
        let mut pg = ::postgres::Client::connect(db.url(), ::postgres::NoTls).expect("connect");
        postgres::migrations().run(&mut pg).expect("migrate");
        let mut texts =
            |sql: &str| -> Vec<String> { pg.query(sql, &[]).expect("query").iter().map(|r| r.get(0)).collect() };
        let mut postgres: BTreeSet<String> = texts(
            "SELECT table_name || '.' || column_name FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name <> 'refinery_schema_history'",
        )
        .into_iter()
        .collect();
        postgres.extend(texts(
            "SELECT 'index ' || i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
             JOIN pg_namespace n ON n.oid = i.relnamespace
             WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
        ));
        postgres.extend(texts(
            "SELECT 'unique ' || c.conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
             WHERE n.nspname = 'public' AND c.contype = 'u'",
        ));
        const POSTGRES_ONLY: [&str; 5] = [
            "products.search",
            "index products_search_idx",
            "journal_queue.id",
            "journal_queue.body",
            "journal_queue.queued_at",
        ];
        postgres.retain(|name| !POSTGRES_ONLY.contains(&name.as_str()));
        let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.difference(b).cloned().collect::<Vec<_>>();
        assert_eq!(
            (only(&lite, &postgres), only(&postgres, &lite)),
            (vec![], vec![]),
            "(SQLite only, PostgreSQL only)"
        );
    }

    /// Migration V11 types the owners of rows written before it: an email becomes its
    /// user's id, `token:NAME` the newest token of that name; unknown text stays and matches
    /// no one. Run from V10 on a fresh database of each backend.
    #[test]
    fn v11_types_the_owners_of_older_rows() {
        const OLD_ROWS: &str = "
            INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
                VALUES ('u1', 'ann@example.com', 'Ann', 'client', 'x', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
            INSERT INTO api_tokens (id, name, token_hash, role, revoked_at, created_by, created_at)
                VALUES ('t-old', 'shop', 'h1', 'client', '2026-01-02T00:00:00Z', 'ann@example.com', '2026-01-01T00:00:00Z'),
                       ('t-new', 'shop', 'h2', 'client', NULL, 'local-admin', '2026-01-03T00:00:00Z');
            INSERT INTO reservations (id, owner, allocation, status, created_at, updated_at)
                VALUES ('r1', 'ann@example.com', 'MAIN', 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
                       ('r2', 'token:shop', 'MAIN', 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
                       ('r3', 'gone@example.com', 'MAIN', 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');";
        const OWNERS: &str = "SELECT owner FROM reservations ORDER BY id";
        let expected = ["user:u1", "token:t-new", "gone@example.com"];

        let folder = tempfile::tempdir().expect("tempdir");
        let mut sqlite = rusqlite::Connection::open(folder.path().join("old.db")).expect("open");
        sqlite::migrations().set_target(refinery::Target::Version(10)).run(&mut sqlite).expect("to V10");
        sqlite.execute_batch(OLD_ROWS).expect("old rows");
        sqlite::migrations().run(&mut sqlite).expect("to the latest");
        let mut statement = sqlite.prepare(OWNERS).expect("prepare");
        let owners: Vec<String> =
            statement.query_map([], |r| r.get(0)).expect("owners").collect::<rusqlite::Result<_>>().expect("rows");
        assert_eq!(owners, expected);
        let created_by: String =
            sqlite.query_row("SELECT created_by FROM api_tokens WHERE id = 't-old'", [], |r| r.get(0)).expect("row");
        assert_eq!(created_by, "user:u1");

        let Some(db) = stockyard_testkit::TestDb::postgres() else { return };
        let mut pg = ::postgres::Client::connect(db.url(), ::postgres::NoTls).expect("connect");
        postgres::migrations().set_target(refinery::Target::Version(10)).run(&mut pg).expect("to V10");
        pg.batch_execute(OLD_ROWS).expect("old rows");
        postgres::migrations().run(&mut pg).expect("to the latest");
        let owners: Vec<String> = pg.query(OWNERS, &[]).expect("owners").iter().map(|r| r.get(0)).collect();
        assert_eq!(owners, expected);
    }

    #[test]
    fn parses_database_urls() {
        assert_eq!(Location::parse("sqlite://stockyard.db").ok(), Some(Location::Sqlite("stockyard.db".into())));
        assert_eq!(Location::parse("sqlite:///var/a.db").ok(), Some(Location::Sqlite("/var/a.db".into())));
        assert_eq!(Location::parse("./a.db").ok(), Some(Location::Sqlite("./a.db".into())));
        assert!(matches!(Location::parse("postgres://u@h/db"), Ok(Location::Postgres(_))));
        assert!(Location::parse("mysql://x").is_err());
        assert!(Location::parse("sqlite://:memory:").is_err());
        assert_eq!(
            Location::parse("postgres://u:secret@h/db").map(|l| l.display()).ok(),
            Some("postgres://u:***@h/db".into())
        );
    }
}
