//! SQLite's WAL checkpoints, taken off the write path.
//!
//! A connection that commits past `wal_autocheckpoint` pages copies the WAL into the
//! database file and syncs it before its commit returns. Here a thread with its own
//! connection does that shortly after writes instead, while writing goes on. The
//! connections' automatic checkpoint remains, far above, should this one fall behind.

use std::{
    sync::mpsc::{self, RecvTimeoutError, SyncSender},
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

use rusqlite::Connection;

/// The rest between checkpoints, so that one checkpoint (and its fsync) covers many commits.
const PAUSE: Duration = Duration::from_millis(50);

pub(crate) struct Checkpointer {
    /// Tells the thread a commit happened; dropped to stop it.
    due: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub fn start(conn: Connection) -> Self {
        let (due, commits) = mpsc::sync_channel::<()>(1);
        let thread = thread::spawn(move || {
            let mut due = commits.recv().is_ok();
            while due {
                // A failed checkpoint leaves its frames in the WAL for the next one (or for
                // the automatic checkpoint): nothing is lost.
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                // Rest, noting commits meanwhile; a dropped pool ends the thread at once, so
                // a short-lived process never waits out the rest.
                due = false;
                let rested = Instant::now() + PAUSE;
                loop {
                    match commits.recv_timeout(rested.saturating_duration_since(Instant::now())) {
                        Ok(()) => due = true,
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                due = due || commits.recv().is_ok();
            }
        });
        Checkpointer { due: Some(due), thread: Some(thread) }
    }

    /// Notes a commit: a checkpoint follows soon.
    pub fn committed(&self) {
        if let Some(due) = &self.due {
            let _ = due.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.due.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn commits_reach_the_database_file_without_the_writer_checkpointing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("c.db");
        let writer = Connection::open(&path).expect("open");
        // This writer never checkpoints: only the checkpointer can move its pages.
        writer.execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;").expect("pragmas");
        writer.execute_batch("CREATE TABLE t (body TEXT NOT NULL)").expect("table");
        let checkpointer = Checkpointer::start(Connection::open(&path).expect("open"));
        let before = fs::metadata(&path).expect("file").len();
        writer
            .execute_batch(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
                 INSERT INTO t SELECT printf('%.1000c', 'x') FROM n",
            )
            .expect("rows");
        checkpointer.committed();
        let deadline = Instant::now() + Duration::from_secs(10);
        while fs::metadata(&path).expect("file").len() < before + 500 * 1000 {
            assert!(Instant::now() < deadline, "the WAL was not checkpointed into the database file");
            thread::sleep(Duration::from_millis(10));
        }
        drop(checkpointer); // stops and joins its thread
    }
}
