//! Long-running workers — the notification [`Dispatcher`](crate::notifications::dispatch::Dispatcher)
//! and the [`Sweeper`] — and what they share: the [`Stop`] handle that ends them, and the
//! rule for which failures they outlive.
//!
//! A worker is made from a store (cheap to clone) and runs on a thread of its starter's —
//! a CLI's main thread, a server's `spawn_blocking` or `std::thread` — until stopped:
//!
//! ```no_run
//! use stockyard_core::{Actor, Store, workers::{Stop, Sweeper}};
//!
//! let store = Store::open("sqlite://shop.db")?;
//! let sweeper = Sweeper::new(&store, &Actor::local_admin())?;
//! let stop = Stop::new();
//! let worker = std::thread::spawn({
//!     let stop = stop.clone();
//!     move || sweeper.run(&stop, |round| if let Err(e) = round { eprintln!("sweep: {e}") })
//! });
//! // … later, at shutdown: the worker ends at once, even mid-pause.
//! stop.stop();
//! worker.join().expect("the sweeper panicked")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod sweeper;

use std::{
    sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak},
    time::{Duration, Instant},
};

pub use sweeper::{SweepReport, Sweeper};

use crate::{Error, ErrorKind, Result};

/// Tells workers to stop. Clones share one flag: stopping any stops every worker given a
/// clone, and wakes them from their pause between rounds at once.
#[derive(Clone, Default)]
pub struct Stop {
    inner: Arc<Flag>,
}

#[derive(Default)]
struct Flag {
    stopped: Mutex<bool>,
    woken: Condvar,
    /// What else a stop must wake: waits on the change feed.
    also: Mutex<Vec<Weak<dyn Wake>>>,
}

/// Something a [`Stop`] wakes when it is stopped.
pub(crate) trait Wake: Send + Sync {
    fn wake(&self);
}

impl std::fmt::Debug for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stop").field("stopped", &self.is_stopped()).finish()
    }
}

impl Stop {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops every worker holding a clone; those pausing wake now.
    pub fn stop(&self) {
        *lock(&self.inner.stopped) = true;
        self.inner.woken.notify_all();
        let also: Vec<_> = lock(&self.inner.also).drain(..).collect();
        for wake in also.iter().filter_map(Weak::upgrade) {
            wake.wake();
        }
    }

    pub fn is_stopped(&self) -> bool {
        *lock(&self.inner.stopped)
    }

    /// Waits `timeout`, or less when stopped meanwhile; returns whether it is stopped.
    pub fn wait(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        let mut stopped = lock(&self.inner.stopped);
        while !*stopped {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            stopped = self.inner.woken.wait_timeout(stopped, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        *stopped
    }

    /// Has `wake` woken too when this stops (at once, if it already has). Held weakly, and
    /// once however often it is asked (a worker asks every round): what is dropped
    /// meanwhile is not woken, and its place is freed.
    pub(crate) fn also_wake(&self, wake: Weak<dyn Wake>) {
        let mut also = lock(&self.inner.also);
        also.retain(|w| w.strong_count() > 0);
        if !also.iter().any(|w| Weak::ptr_eq(w, &wake)) {
            also.push(wake.clone());
        }
        drop(also);
        if self.is_stopped()
            && let Some(wake) = wake.upgrade()
        {
            wake.wake();
        }
    }
}

/// A lock that a panic elsewhere does not poison: what it guards stays consistent at every
/// unlock (single assignments), so the value is used as it stands.
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether a worker outlives `error` and tries again next round: the database unavailable
/// (restarting, a connection lost) or failing inside passes — it is reported and may clear;
/// anything else — a refusal, a conflict such as another dispatcher holding SQLite — will
/// not, and stops it.
pub fn passes(error: &Error) -> bool {
    matches!(error.kind(), ErrorKind::Unavailable | ErrorKind::Internal)
}

/// Runs `round` until `stop`, passing each outcome to `each`; after a round `rest` waits for
/// the next (it returns early when stopped), after a passing failure the interval `every`
/// does. Returns the first failure that does not pass (see [`passes`]).
pub(crate) fn rounds<R>(
    stop: &Stop,
    every: Duration,
    mut round: impl FnMut() -> Result<R>,
    mut each: impl FnMut(&Result<R>),
    mut rest: impl FnMut(),
) -> Result<()> {
    while !stop.is_stopped() {
        let outcome = round();
        match outcome {
            Err(e) if !passes(&e) => return Err(e),
            // Never sooner than the interval: a failing database is not retried in a spin.
            Err(_) => {
                each(&outcome);
                stop.wait(every);
            }
            Ok(_) => {
                each(&outcome);
                rest();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::{sync::atomic::AtomicUsize, thread};

    use super::*;
    use crate::Conflict;

    #[test]
    fn a_stop_wakes_a_waiting_worker_at_once() {
        let stop = Stop::new();
        let waiter = thread::spawn({
            let stop = stop.clone();
            move || {
                let started = Instant::now();
                (stop.wait(Duration::from_secs(30)), started.elapsed())
            }
        });
        thread::sleep(Duration::from_millis(50));
        stop.stop();
        let (stopped, waited) = waiter.join().expect("waiter");
        assert!(stopped && waited < Duration::from_secs(5), "{waited:?}");
        assert!(stop.wait(Duration::from_secs(30)), "a stopped handle waits no more");
    }

    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(&self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn what_a_stop_also_wakes_is_held_once_and_woken_once() {
        let stop = Stop::new();
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        for _ in 0..1000 {
            stop.also_wake(Arc::downgrade(&counter) as Weak<dyn Wake>);
        }
        let dropped: Arc<dyn Wake> = Arc::new(Counter(AtomicUsize::new(0)));
        stop.also_wake(Arc::downgrade(&dropped));
        drop(dropped);
        stop.also_wake(Arc::downgrade(&counter) as Weak<dyn Wake>);
        assert_eq!(lock(&stop.inner.also).len(), 1, "one place, however often asked; none for the dropped");
        stop.stop();
        assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        stop.also_wake(Arc::downgrade(&counter) as Weak<dyn Wake>);
        assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 2, "asked after the stop: woken at once");
    }

    #[test]
    fn a_wait_without_a_stop_lasts_its_timeout() {
        let started = Instant::now();
        assert!(!Stop::new().wait(Duration::from_millis(100)));
        assert!(started.elapsed() >= Duration::from_millis(100));
    }

    /// Storage failures are reported and retried on the interval; the first other failure
    /// ends the run and is returned.
    #[test]
    fn workers_outlive_storage_failures_and_stop_on_others() {
        let stop = Stop::new();
        let (rounds_run, rested) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let mut seen = Vec::new();
        let outcome = rounds(
            &stop,
            Duration::from_millis(1),
            || match rounds_run.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 => Ok(1),
                1 => Err(Error::unavailable("the database restarted")),
                2 => Err(Error::internal("a statement failed")),
                3 => Ok(2),
                _ => Err(Error::conflict(Conflict::Taken, "another dispatcher holds the lease")),
            },
            |round: &Result<i32>| seen.push(round.as_ref().map(|n| *n).map_err(ToString::to_string)),
            || {
                rested.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            },
        );
        assert!(matches!(outcome, Err(Error::Conflict { .. })), "{outcome:?}");
        let failed = |message: &str| Err(message.to_owned());
        assert_eq!(
            seen,
            [Ok(1), failed("the database is unavailable: the database restarted"), failed("a statement failed"), Ok(2)]
        );
        assert_eq!(rested.into_inner(), 2, "a rest after each round that went through");
    }

    #[test]
    fn a_stopped_worker_runs_no_round() {
        let stop = Stop::new();
        stop.stop();
        let outcome = rounds(&stop, Duration::ZERO, || -> Result<()> { panic!("a round ran") }, |_| {}, || {});
        assert!(outcome.is_ok());
    }
}
