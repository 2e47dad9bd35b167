//! SQLite's one writer in a process, with group commit.
//!
//! SQLite lets one transaction write at a time, and a commit costs one WAL frame per page
//! it dirtied — most of a small write's price. So writers queue here, in process, rather
//! than on SQLite's lock (whose busy handler sleeps), and while others wait, a finished
//! write leaves the transaction open for the next: each runs in its own savepoint, and the
//! last of the group commits for all. Pages that several writes dirty (the tails of the
//! event log, the audit log, the orders) are written once per group.
//!
//! - A write is acknowledged only after the commit that holds it; if that commit fails,
//!   every write of the group gets the error.
//! - A write that fails rolls back its own savepoint only; the others go on.
//! - A lone writer commits at once, so nobody waits for a group to fill.
//!
//! Commits never wait for a checkpoint either: a thread with its own connection copies the
//! WAL into the database file (and syncs it) shortly after writes, while writing goes on.
//! The connections' own automatic checkpoint remains, far above, should it fall behind.

use std::{
    cell::Cell,
    panic::{self, AssertUnwindSafe},
    sync::{
        Arc, Condvar, Mutex, MutexGuard, OnceLock,
        atomic::{AtomicUsize, Ordering},
        mpsc::{self, SyncSender},
    },
    thread::{self, JoinHandle},
    time::Duration,
};

use rusqlite::Connection;

use super::{Tx, sqlite::map_err};
use crate::{Error, Result};

/// At most this many writes share a commit, bounding how long the first of them waits.
const MAX_GROUP: usize = 64;

/// The checkpointer's rest between checkpoints, so one checkpoint (and its fsync) covers
/// many commits.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(50);

pub(crate) struct Writer {
    state: Mutex<State>,
    committed: Condvar,
    /// Writers waiting for `state`: while there are any, a finished write leaves the
    /// transaction open for them.
    queued: AtomicUsize,
    /// Tells the checkpointer a commit happened; dropped to stop it.
    checkpoint_due: Option<SyncSender<()>>,
    checkpointer: Option<JoinHandle<()>>,
}

struct State {
    conn: Connection,
    group: Option<Group>,
}

/// The writes of the open transaction.
struct Group {
    kept: usize,
    /// How the group's commit went: set once, by whoever ends the transaction.
    outcome: Arc<OnceLock<std::result::Result<(), String>>>,
}

thread_local! {
    /// Set while this thread runs a write, to refuse a nested one (it would wait forever).
    static WRITING: Cell<bool> = const { Cell::new(false) };
}

impl Writer {
    /// The writer over `conn`, with a checkpointer over `checkpoints`.
    pub fn new(conn: Connection, checkpoints: Connection) -> Self {
        let (due, commits) = mpsc::sync_channel::<()>(1);
        let checkpointer = thread::spawn(move || {
            while commits.recv().is_ok() {
                // A failed checkpoint leaves the frames in the WAL for the next one (or the
                // automatic checkpoint); nothing is lost.
                let _ = checkpoints.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                thread::sleep(CHECKPOINT_PAUSE);
            }
        });
        Writer {
            state: Mutex::new(State { conn, group: None }),
            committed: Condvar::new(),
            queued: AtomicUsize::new(0),
            checkpoint_due: Some(due),
            checkpointer: Some(checkpointer),
        }
    }

    /// Runs `f` in a savepoint of the shared write transaction. With `keep`, its changes
    /// are committed (with the group) before this returns; without, they are rolled back.
    pub fn run<R>(&self, keep: bool, f: impl FnOnce(&mut Tx<'_>) -> Result<R>) -> Result<R> {
        if WRITING.get() {
            return Err(Error::Storage("a write transaction was started inside another".into()));
        }
        struct Writing;
        impl Drop for Writing {
            fn drop(&mut self) {
                WRITING.set(false);
            }
        }
        WRITING.set(true);
        let _writing = Writing;
        self.run_member(keep, f)
    }

    fn run_member<R>(&self, keep: bool, f: impl FnOnce(&mut Tx<'_>) -> Result<R>) -> Result<R> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.queued.fetch_sub(1, Ordering::SeqCst);
        // The first write of a group needs no savepoint: failing, it rolls back the lot.
        let first = state.group.is_none();
        if first {
            state.conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err)?;
            state.group = Some(Group { kept: 0, outcome: Arc::default() });
        } else if let Err(e) = state.conn.execute_batch("SAVEPOINT member") {
            return Err(self.abandon(&mut state, map_err(e)));
        }
        let out = match panic::catch_unwind(AssertUnwindSafe(|| f(&mut Tx::Sqlite(&state.conn)))) {
            Ok(out) => out,
            Err(panic) => {
                self.abandon(&mut state, Error::Storage("a write panicked".into()));
                drop(state);
                panic::resume_unwind(panic)
            }
        };
        let kept = keep && out.is_ok();
        // A disk-full or I/O error makes SQLite roll the whole transaction back.
        if state.conn.is_autocommit() {
            let lost = Error::Storage("SQLite rolled back the write transaction".into());
            return Err(self.abandon(&mut state, out.err().unwrap_or(lost)));
        }
        if first && !kept {
            self.roll_back(&mut state, "its only write was undone".into());
            return out;
        }
        if !first {
            let end = if kept { "RELEASE member" } else { "ROLLBACK TO member; RELEASE member" };
            if let Err(e) = state.conn.execute_batch(end) {
                return Err(self.abandon(&mut state, map_err(e)));
            }
        }
        let group = state.group.as_mut().expect("a group is open while its member runs");
        group.kept += usize::from(kept);
        let outcome = Arc::clone(&group.outcome);
        if self.queued.load(Ordering::SeqCst) == 0 || group.kept >= MAX_GROUP {
            match state.conn.execute_batch("COMMIT") {
                Ok(()) => {
                    self.end(&mut state, Ok(()));
                    if let Some(due) = &self.checkpoint_due {
                        let _ = due.try_send(());
                    }
                }
                Err(e) => self.roll_back(&mut state, map_err(e).to_string()),
            }
        } else if kept {
            while outcome.get().is_none() {
                state = self.committed.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        }
        match (kept, outcome.get()) {
            (true, Some(Err(message))) => Err(Error::Storage(format!("the commit failed: {message}"))),
            _ => out,
        }
    }

    /// Rolls the open transaction back, failing every write of its group with `error`.
    fn abandon(&self, state: &mut MutexGuard<'_, State>, error: Error) -> Error {
        self.roll_back(state, error.to_string());
        error
    }

    fn roll_back(&self, state: &mut MutexGuard<'_, State>, why: String) {
        if !state.conn.is_autocommit() {
            let _ = state.conn.execute_batch("ROLLBACK");
        }
        self.end(state, Err(why));
    }

    fn end(&self, state: &mut MutexGuard<'_, State>, outcome: std::result::Result<(), String>) {
        if let Some(group) = state.group.take() {
            let _ = group.outcome.set(outcome);
        }
        self.committed.notify_all();
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.checkpoint_due.take();
        if let Some(checkpointer) = self.checkpointer.take() {
            let _ = checkpointer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::Barrier, thread};

    use super::*;
    use crate::db::params;

    /// A writer over a fresh database with one table, `t (n INTEGER PRIMARY KEY)`.
    fn writer() -> (tempfile::TempDir, Arc<Writer>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("w.db");
        let connect = || {
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA temp_store = MEMORY;").expect("pragmas");
            conn
        };
        let conn = connect();
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)").expect("table");
        (dir, Arc::new(Writer::new(conn, connect())))
    }

    fn insert(tx: &mut Tx<'_>, n: i64) -> Result<()> {
        tx.execute("INSERT INTO t (n) VALUES ($1)", params![n]).map(drop)
    }

    fn rows(writer: &Writer) -> Vec<i64> {
        let state = writer.state.lock().expect("state");
        let mut stmt = state.conn.prepare("SELECT n FROM t ORDER BY n").expect("prepare");
        stmt.query_map([], |r| r.get(0)).expect("query").collect::<rusqlite::Result<_>>().expect("rows")
    }

    /// Runs `first` as the first write of a group and, once it has finished its work and
    /// another writer is queued behind it, `second` in the same group; `keep` says which
    /// of them to keep (the others are rehearsals).
    fn grouped<A: Send, B: Send>(
        writer: &Writer,
        keep: (bool, bool),
        first: impl FnOnce(&mut Tx<'_>) -> Result<A> + Send,
        second: impl FnOnce(&mut Tx<'_>) -> Result<B> + Send,
    ) -> (thread::Result<Result<A>>, thread::Result<Result<B>>) {
        let inside = Barrier::new(2);
        thread::scope(|s| {
            let a = s.spawn(|| {
                writer.run(keep.0, |tx| {
                    let out = first(tx);
                    inside.wait();
                    while writer.queued.load(Ordering::SeqCst) == 0 {
                        thread::yield_now();
                    }
                    out
                })
            });
            inside.wait();
            let b = s.spawn(|| writer.run(keep.1, second));
            (a.join(), b.join())
        })
    }

    #[test]
    fn a_failed_write_in_a_group_undoes_only_itself() {
        let (_dir, writer) = writer();
        let (a, b) = grouped(
            &writer,
            (true, true),
            |tx| insert(tx, 1),
            |tx| {
                insert(tx, 2)?;
                insert(tx, 1) // a duplicate key: this write fails after changing something
            },
        );
        assert!(a.expect("no panic").is_ok());
        assert!(b.expect("no panic").is_err());
        assert_eq!(rows(&writer), [1]);
    }

    #[test]
    fn a_panic_in_a_group_fails_the_whole_group_and_the_writer_goes_on() {
        let (_dir, writer) = writer();
        let (a, b) = grouped(
            &writer,
            (true, true),
            |tx| insert(tx, 1),
            |tx| -> Result<()> {
                insert(tx, 2)?;
                panic!("a bug in a write")
            },
        );
        let a = a.expect("the first write does not panic");
        assert!(matches!(a, Err(Error::Storage(ref m)) if m.contains("panicked")), "{a:?}");
        assert!(b.is_err(), "the panic reaches its own caller");
        assert_eq!(rows(&writer), Vec::<i64>::new(), "an unacknowledged write was kept");
        writer.run(true, |tx| insert(tx, 3)).expect("the writer still works");
        assert_eq!(rows(&writer), [3]);
    }

    #[test]
    fn every_acknowledged_write_is_kept_and_no_refused_one() {
        let (_dir, writer) = writer();
        const THREADS: i64 = 8;
        const WRITES: i64 = 200;
        let outcomes: Vec<(i64, bool)> = thread::scope(|s| {
            let workers: Vec<_> = (0..THREADS)
                .map(|t| {
                    let writer = &writer;
                    s.spawn(move || {
                        (0..WRITES)
                            .map(|i| {
                                let n = t * WRITES + i;
                                let out = writer.run(true, |tx| {
                                    insert(tx, n)?;
                                    if n % 7 == 0 {
                                        return Err(Error::invalid("n", "a multiple of 7"));
                                    }
                                    Ok(())
                                });
                                (n, out.is_ok())
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().expect("no panic")).collect()
        });
        let kept: Vec<i64> = outcomes.iter().filter(|(_, ok)| *ok).map(|(n, _)| *n).collect();
        let refused = (0..THREADS * WRITES).filter(|n| n % 7 == 0).count();
        assert_eq!(kept.len(), outcomes.len() - refused);
        let mut stored = rows(&writer);
        stored.sort_unstable();
        let mut kept = kept;
        kept.sort_unstable();
        assert_eq!(stored, kept);
    }

    #[test]
    fn a_rehearsal_keeps_nothing_alone_or_in_a_group() {
        let (_dir, writer) = writer();
        assert!(writer.run(false, |tx| insert(tx, 1)).is_ok());
        let (a, b) = grouped(&writer, (true, false), |tx| insert(tx, 2), |tx| insert(tx, 3));
        assert!(a.expect("no panic").is_ok() && b.expect("no panic").is_ok());
        let (a, b) = grouped(&writer, (false, true), |tx| insert(tx, 4), |tx| insert(tx, 5));
        assert!(a.expect("no panic").is_ok() && b.expect("no panic").is_ok());
        writer.run(true, |tx| insert(tx, 6)).expect("write");
        assert!(writer.run(false, |tx| insert(tx, 7)).is_ok());
        assert_eq!(rows(&writer), [2, 5, 6]);
    }

    #[test]
    fn a_write_inside_a_write_is_refused() {
        let (_dir, writer) = writer();
        let nested = writer.run(true, |tx| {
            insert(tx, 1)?;
            writer.run(true, |tx| insert(tx, 2))
        });
        assert!(matches!(nested, Err(Error::Storage(ref m)) if m.contains("inside another")), "{nested:?}");
        assert_eq!(rows(&writer), Vec::<i64>::new());
    }
}
