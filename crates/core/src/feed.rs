//! The change feed: a long-running reader (a server's event stream, `events tail --follow`,
//! the dispatcher) waits here for events newer than the last it read, instead of polling
//! blindly, then reads them by `seq` as always ([`crate::Events::list`]). The feed only
//! wakes readers; it tells them a seq, never an event.
//!
//! While someone waits, a watcher thread of the store keeps the newest committed seq:
//! - SQLite: it reads `MAX(seq)` at once after each commit through this store, and every
//!   [`POLL`] for other processes' commits; it ends when the last waiter leaves.
//! - PostgreSQL: it listens (`LISTEN`) on a connection of its own; every commit that
//!   appended events notifies the seq it reached, this process's and every other's alike.
//!   It ends once nobody has waited for [`LINGER`], so back-to-back waits keep one
//!   connection.

use std::{
    sync::{Arc, Condvar, Mutex, Weak},
    thread,
    time::{Duration, Instant},
};

use crate::{
    Result, Store,
    db::{Listener, Location, Pool},
    workers::{Stop, Wake, lock},
};

/// How often SQLite's watcher looks for commits made by other processes.
pub(crate) const POLL: Duration = Duration::from_millis(200);
/// How long PostgreSQL's listener outlives the last wait.
pub(crate) const LINGER: Duration = Duration::from_secs(5);
/// How long PostgreSQL's listener blocks before it looks whether anyone still waits.
const HEAR_FOR: Duration = Duration::from_millis(500);

/// Waits for new events of a store (see the module docs). From [`Store::feed`].
#[derive(Debug, Clone, Copy)]
pub struct Feed<'s> {
    pub(crate) store: &'s Store,
}

impl Feed<'_> {
    /// The seq of the newest event committed, read now.
    pub fn latest(&self) -> Result<i64> {
        self.store.pool.read(|tx| tx.last_event_seq())
    }

    /// Waits until an event after `seq` has committed, or `timeout` passes. Returns the
    /// newest committed seq it knows of, never less than `seq` (so `seq` itself at a
    /// timeout with nothing new): the `seq` to wait after next.
    pub fn wait_after(&self, seq: i64, timeout: Duration) -> i64 {
        self.wait(seq, timeout, None)
    }

    /// [`Feed::wait_after`], returning at once when `stop` is stopped.
    pub fn wait_after_or_stop(&self, seq: i64, timeout: Duration, stop: &Stop) -> i64 {
        self.wait(seq, timeout, Some(stop))
    }

    fn wait(&self, seq: i64, timeout: Duration, stop: Option<&Stop>) -> i64 {
        let shared = &self.store.feed;
        if let Some(stop) = stop {
            let wake: Weak<dyn Wake> = Arc::downgrade(shared) as Weak<dyn Wake>;
            stop.also_wake(wake);
        }
        let until = Instant::now() + timeout;
        let mut state = lock(&shared.state);
        state.waiters += 1;
        if !state.watching {
            // What it knew is stale: it is read again before anyone trusts it.
            state.latest = None;
            state.watching = self.watch().is_ok();
        }
        while state.latest.is_none_or(|latest| latest <= seq) && !stop.is_some_and(Stop::is_stopped) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = shared.moved.wait_timeout(state, left).unwrap_or_else(std::sync::PoisonError::into_inner).0;
        }
        state.waiters -= 1;
        if state.waiters == 0 {
            state.idle_since = Instant::now();
            shared.poked.notify_all();
        }
        state.latest.map_or(seq, |latest| latest.max(seq))
    }

    /// Starts the watcher thread of this store's backend.
    fn watch(&self) -> std::io::Result<()> {
        let shared = Arc::clone(&self.store.feed);
        let thread = thread::Builder::new().name("stockyard-feed".into());
        match &*self.store.location {
            Location::Sqlite(_) => {
                let pool = self.store.pool.clone();
                thread.spawn(move || poll(&shared, &pool))?;
            }
            Location::Postgres(url) => {
                let url = url.clone();
                thread.spawn(move || listen(&shared, &url))?;
            }
        }
        Ok(())
    }
}

/// What a store's clones share of the feed.
#[derive(Default)]
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Waiters wait on it: the newest seq moved, or a stop came.
    moved: Condvar,
    /// SQLite's watcher waits on it: a commit through this store, or the last waiter left.
    poked: Condvar,
}

struct State {
    /// The newest committed seq as the watcher last saw it; `None` until it has looked.
    latest: Option<i64>,
    waiters: usize,
    watching: bool,
    /// When the last waiter left.
    idle_since: Instant,
    /// Commits through this store while watched (SQLite).
    commits: u64,
}

impl Default for State {
    fn default() -> Self {
        Self { latest: None, waiters: 0, watching: false, idle_since: Instant::now(), commits: 0 }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Feed").field("latest", &state.latest).field("waiters", &state.waiters).finish()
    }
}

impl Shared {
    /// A write committed through this store: the SQLite watcher looks at once.
    pub(crate) fn committed(&self) {
        let mut state = lock(&self.state);
        if state.watching {
            state.commits += 1;
            self.poked.notify_all();
        }
    }

    fn publish(&self, state: &mut State, head: i64) {
        if state.latest.is_none_or(|latest| head > latest) {
            state.latest = Some(head);
            self.moved.notify_all();
        }
    }
}

impl Wake for Shared {
    fn wake(&self) {
        // Under the lock: a waiter between its check of the stop and its wait still hears it.
        let _state = lock(&self.state);
        self.moved.notify_all();
    }
}

/// SQLite's watcher: reads the head now, after each commit through this store, and every
/// [`POLL`]; ends as soon as nobody waits. A failed read is tried again at the next.
fn poll(shared: &Shared, pool: &Pool) {
    let mut state = lock(&shared.state);
    loop {
        let commits = state.commits;
        drop(state);
        let head = pool.read(|tx| tx.last_event_seq());
        state = lock(&shared.state);
        if let Ok(head) = head {
            shared.publish(&mut state, head);
        }
        let next = Instant::now() + POLL;
        while state.commits == commits && state.waiters > 0 {
            let left = next.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = shared.poked.wait_timeout(state, left).unwrap_or_else(std::sync::PoisonError::into_inner).0;
        }
        if state.waiters == 0 {
            state.watching = false;
            return;
        }
    }
}

/// PostgreSQL's watcher: listens until nobody has waited for [`LINGER`]. When it cannot
/// listen (the server is down), it ends: waits then last their timeout, and the next one
/// starts another.
fn listen(shared: &Shared, url: &str) {
    let started = Listener::start(url);
    let mut state = lock(&shared.state);
    let mut listener = match started {
        Ok((listener, head)) => {
            shared.publish(&mut state, head);
            listener
        }
        Err(_) => {
            state.watching = false;
            return;
        }
    };
    while state.waiters > 0 || state.idle_since.elapsed() < LINGER {
        drop(state);
        let heard = listener.hear(HEAR_FOR);
        state = lock(&shared.state);
        match heard {
            Ok(Some(head)) => shared.publish(&mut state, head),
            Ok(None) => {}
            Err(_) => break,
        }
    }
    state.watching = false;
}
