//! The change feed on both backends: a waiter wakes soon after a commit through its own
//! store and through another store on the same database (another process: on PostgreSQL
//! over LISTEN/NOTIFY), a wait with nothing new lasts its timeout without spinning, and a
//! stop ends a wait at once.

use crate::common;

use std::{
    sync::Barrier,
    thread,
    time::{Duration, Instant},
};

use common::admin;
use stockyard_core::{NewWarehouse, Stop, Store};
use stockyard_testkit::backend_tests;

/// Long enough that a test passing within it was woken, not timed out.
const LONG: Duration = Duration::from_secs(30);

fn add_warehouse(store: &Store, code: &str) {
    store.warehouses().create(&admin(), NewWarehouse { code: code.into(), name: code.into() }).expect("warehouse");
}

/// Waits on `waiting` for an event after the newest one while `commit` runs on another
/// thread once the wait has begun; returns what the wait returned, the seq the commit
/// reached, and how long after the commit the waiter woke.
fn wake_after(waiting: &Store, commit: impl FnOnce() + Send) -> (i64, i64, Duration) {
    let head = waiting.feed().latest().expect("head");
    let started = Barrier::new(2);
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            started.wait();
            let seq = waiting.feed().wait_after(head, LONG);
            (seq, Instant::now())
        });
        started.wait();
        // Past the waiter's start, so the commit comes while it waits.
        thread::sleep(Duration::from_millis(300));
        commit();
        let committed = Instant::now();
        let (seq, woke) = waiter.join().expect("waiter");
        (seq, waiting.feed().latest().expect("head"), woke.saturating_duration_since(committed))
    })
}

/// The CPU time the calling thread has used (Linux), in clock ticks (10 ms).
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // After the command name in parentheses: state, then 10 fields to utime and stime.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

backend_tests! {
    fn a_waiter_wakes_promptly_after_a_commit_through_its_store(db) {
        let store = db.store();
        let (seq, head, woke_after) = wake_after(&store, || add_warehouse(&store, "NORTH"));
        assert_eq!(seq, head, "it returns the seq the commit reached");
        assert!(woke_after < Duration::from_secs(2), "woke {woke_after:?} after the commit");
    }

    fn a_waiter_wakes_after_a_commit_by_another_store_on_the_database(db) {
        let store = db.store();
        // Another process, as far as the feed can tell: its own pool, its own feed.
        let other = Store::open_with(db.url(), &db.options()).expect("another store");
        let (seq, head, woke_after) = wake_after(&store, || add_warehouse(&other, "SOUTH"));
        assert_eq!(seq, head);
        assert!(woke_after < Duration::from_secs(3), "woke {woke_after:?} after the commit");
    }

    fn a_wait_with_nothing_new_lasts_its_timeout_without_spinning(db) {
        let store = db.store();
        let head = store.feed().latest().expect("head");
        let before = cpu_ticks();
        let started = Instant::now();
        assert_eq!(store.feed().wait_after(head, Duration::from_millis(1500)), head, "nothing new");
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(1500) && waited < Duration::from_secs(10), "{waited:?}");
        // A thread spinning through the wait would use most of 150 ticks; a waiting one a few.
        if let (Some(before), Some(after)) = (before, cpu_ticks()) {
            assert!(after - before <= 20, "the waiting thread used {} ticks of CPU", after - before);
        }
        // A wait after a seq the store has not reached yet also waits (and returns that seq).
        assert_eq!(store.feed().wait_after(head + 10, Duration::from_millis(200)), head + 10);
    }

    fn a_wait_for_what_already_committed_returns_at_once(db) {
        let store = db.store();
        let head = store.feed().latest().expect("head");
        add_warehouse(&store, "WEST");
        let started = Instant::now();
        assert_eq!(store.feed().wait_after(head, LONG), head + 1);
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    fn a_stop_ends_a_wait_at_once(db) {
        let store = db.store();
        let head = store.feed().latest().expect("head");
        let stop = Stop::new();
        let (returned, waited) = thread::scope(|s| {
            let waiter = s.spawn(|| {
                let started = Instant::now();
                (store.feed().wait_after_or_stop(head, LONG, &stop), started.elapsed())
            });
            thread::sleep(Duration::from_millis(300));
            stop.stop();
            waiter.join().expect("waiter")
        });
        assert_eq!(returned, head, "nothing new");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        let started = Instant::now();
        store.feed().wait_after_or_stop(head, LONG, &stop);
        assert!(started.elapsed() < Duration::from_secs(5), "a stopped handle ends every later wait too");
    }

    fn every_waiter_wakes(db) {
        let store = db.store();
        let head = store.feed().latest().expect("head");
        let woken: Vec<i64> = thread::scope(|s| {
            let waiters: Vec<_> = (0..4).map(|_| s.spawn(|| store.feed().wait_after(head, LONG))).collect();
            thread::sleep(Duration::from_millis(300));
            add_warehouse(&store, "EAST");
            waiters.into_iter().map(|w| w.join().expect("waiter")).collect()
        });
        assert_eq!(woken, [head + 1; 4]);
    }
}
