//! Waiting for what a concurrency test stages — a writer parked on a lock — by watching for
//! it, not by sleeping for long enough and hoping: the test goes on the moment the state
//! is there, and fails, naming it, if it never comes.

use std::time::{Duration, Instant};

use crate::TestDb;

/// How long a staged state may take before the test gives up on it.
const PATIENCE: Duration = Duration::from_secs(30);

/// Returns once `reached` is true; panics naming `what` if it stays false too long.
pub fn wait_until(what: &str, mut reached: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !reached() {
        assert!(Instant::now() < deadline, "gave up waiting until {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

impl TestDb {
    /// How many sessions on this PostgreSQL database are waiting for a lock (a row, a
    /// transaction or an advisory lock) right now.
    pub fn sessions_waiting_for_locks(&self) -> i64 {
        self.number(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
    }
}
