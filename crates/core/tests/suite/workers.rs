//! The workers on both backends: two sweepers at once (two stores, as two processes would
//! be) close each due reservation and unpaid order exactly once; a running sweeper sweeps
//! on its interval and stops at once; the dispatcher runs a round as soon as events commit
//! and stops at once; on SQLite it stops for good when another dispatcher took its lease.

use crate::common;

use std::{
    sync::{Barrier, mpsc},
    thread,
    time::{Duration, Instant},
};

use common::{admin, level, store_with};
use jiff::SignedDuration;
use stockyard_core::{
    Conflict, Error, NewWarehouse, Stop, Store, StoreOptions, SweepReport, Sweeper,
    inventory::{Hold, ReserveRequest},
    notifications::dispatch::{DispatchReport, Dispatcher},
    orders::{Customer, NewOrder},
};
use stockyard_testkit::{TestDb, backend_tests};

/// Long enough that a worker observed within it was woken, not run on its interval.
const LONG: Duration = Duration::from_secs(3600);
/// How long a test waits for what a worker should do at once (generous: CI machines).
const SOON: Duration = Duration::from_secs(10);

/// Reserves one S-1 at MAIN, held for `ttl`.
fn reserve(store: &Store, ttl: SignedDuration) {
    let request = ReserveRequest {
        lines: vec![("S-1".into(), 1)],
        warehouse: Some("MAIN".into()),
        hold: Hold::CheckoutFor(ttl),
        reference: None,
    };
    store.inventory().reserve(&admin(), request).expect("reserve");
}

/// Places an order of one S-1 at MAIN; returns its id.
fn order(store: &Store, n: usize) -> String {
    let customer = Customer { email: format!("buyer{n}@example.org"), name: None, phone: None, address: None };
    let input = NewOrder {
        customer,
        lines: vec![("S-1".into(), 1)],
        warehouse: Some("MAIN".into()),
        reservation: None,
        notes: None,
    };
    store.orders().create(&admin(), input).expect("order").id.to_string()
}

fn add_warehouse(store: &Store, code: &str) {
    store.warehouses().create(&admin(), NewWarehouse { code: code.into(), name: code.into() }).expect("warehouse");
}

backend_tests! {
    fn two_sweepers_at_once_close_each_due_item_exactly_once(db) {
        const RESERVATIONS: i64 = 40;
        const ORDERS: i64 = 20;
        let options = StoreOptions { unpaid_timeout: SignedDuration::from_secs(1), ..db.options() };
        let store = store_with(db, &["S-1"]);
        store.inventory().receive(&admin(), "S-1", Some("MAIN"), 100, None).expect("receive");
        let short = SignedDuration::from_secs(1);
        for _ in 0..RESERVATIONS {
            reserve(&store, short);
        }
        for n in 0..ORDERS as usize {
            order(&store, n);
        }
        // Neither due: a reservation held for long, and an order paid.
        reserve(&store, SignedDuration::from_hours(1));
        let paid = order(&store, 99);
        store.orders().pay(&admin(), &paid, None, None).expect("pay");
        assert_eq!(level(&store, "S-1", "MAIN").reserved, RESERVATIONS + ORDERS + 2);
        thread::sleep(Duration::from_millis(1200));

        // Two stores on the database, each with its pool: as two processes would sweep.
        let sweepers: Vec<Sweeper> = (0..2)
            .map(|_| Store::open_with(db.url(), &options).expect("open"))
            .map(|other| Sweeper::new(&other, &admin()).expect("sweeper"))
            .collect();
        let start = Barrier::new(2);
        let reports: Vec<SweepReport> = thread::scope(|s| {
            let running: Vec<_> = sweepers
                .iter()
                .map(|sweeper| {
                    s.spawn(|| {
                        start.wait();
                        sweeper.run_once().expect("sweep")
                    })
                })
                .collect();
            running.into_iter().map(|r| r.join().expect("sweeper")).collect()
        });
        let expired: usize = reports.iter().map(|r| r.reservations_expired).sum();
        let cancelled: usize = reports.iter().map(|r| r.orders_cancelled).sum();
        assert_eq!((expired as i64, cancelled as i64), (RESERVATIONS, ORDERS), "{reports:?}");

        assert_eq!(db.number("SELECT COUNT(*) FROM reservations WHERE status = 'expired'"), RESERVATIONS);
        assert_eq!(db.number("SELECT COUNT(*) FROM orders WHERE status = 'cancelled'"), ORDERS);
        // Each reservation's stock released once: one release movement per reservation.
        assert_eq!(db.number("SELECT COUNT(*) FROM stock_movements WHERE kind = 'release'"), RESERVATIONS + ORDERS);
        let released = db.number("SELECT COUNT(DISTINCT reference) FROM stock_movements WHERE kind = 'release'");
        assert_eq!(released, RESERVATIONS + ORDERS);
        let left = level(&store, "S-1", "MAIN");
        assert_eq!((left.on_hand, left.reserved), (100, 2), "only what is not due still held");
        assert!(store.inventory().verify(&admin()).expect("verify").ok);
        assert!(store.audit().verify(&admin()).expect("audit").ok);
        assert_eq!(Sweeper::new(&store, &admin()).expect("sweeper").run_once().expect("again"), SweepReport::default());
    }

    fn a_running_sweeper_sweeps_on_its_interval_and_stops_at_once(db) {
        let store = store_with(db, &["S-1"]);
        store.inventory().receive(&admin(), "S-1", Some("MAIN"), 10, None).expect("receive");
        let sweeper = Sweeper::new(&store, &admin()).expect("sweeper").every(Duration::from_millis(100));
        let (stop, (sent, reports)) = (Stop::new(), mpsc::channel());
        let worker = thread::spawn({
            let stop = stop.clone();
            move || sweeper.run(&stop, |round| sent.send(round.as_ref().map_err(ToString::to_string).copied()).expect("send"))
        });
        assert_eq!(reports.recv_timeout(SOON).expect("a first round"), Ok(SweepReport::default()));
        // Due a second from now: a later round, not this test, expires it.
        reserve(&store, SignedDuration::from_secs(1));
        let deadline = Instant::now() + SOON;
        loop {
            let report = reports.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("a round");
            if report.expect("no failure").reservations_expired == 1 {
                break;
            }
        }
        assert_eq!(level(&store, "S-1", "MAIN").reserved, 0);

        let stopping = Instant::now();
        stop.stop();
        worker.join().expect("the sweeper").expect("stopped, not failed");
        assert!(stopping.elapsed() < SOON, "{:?}", stopping.elapsed());
    }

    fn a_stopped_sweeper_ends_its_pause_at_once(db) {
        let store = db.store();
        let sweeper = Sweeper::new(&store, &admin()).expect("sweeper").every(LONG);
        let (stop, (sent, rounds)) = (Stop::new(), mpsc::channel());
        let worker = thread::spawn({
            let stop = stop.clone();
            move || sweeper.run(&stop, |_| sent.send(()).expect("send"))
        });
        rounds.recv_timeout(SOON).expect("a first round");
        let stopping = Instant::now();
        stop.stop();
        worker.join().expect("the sweeper").expect("stopped, not failed");
        assert!(stopping.elapsed() < SOON, "an hour's pause ended at once: {:?}", stopping.elapsed());
    }

    fn the_dispatcher_runs_a_round_as_soon_as_events_commit(db) {
        let store = db.store();
        // An hour between rounds: only the change feed (or the stop) can start another.
        let dispatcher = Dispatcher::new(&store, &admin(), None).expect("dispatcher").every(LONG);
        let (stop, (sent, reports)) = (Stop::new(), mpsc::channel::<Result<DispatchReport, String>>());
        let worker = thread::spawn({
            let stop = stop.clone();
            move || dispatcher.run(&stop, |round| sent.send(round.as_ref().map_err(ToString::to_string).cloned()).expect("send"))
        });
        let first = reports.recv_timeout(SOON).expect("a first round").expect("no failure");
        assert!(first.events_read > 0, "the events of init: {first:?}");
        add_warehouse(&store, "NORTH");
        let woken = reports.recv_timeout(SOON).expect("a round woken by the new event").expect("no failure");
        assert_eq!(woken.events_read, 1, "{woken:?}");

        let stopping = Instant::now();
        stop.stop();
        worker.join().expect("the dispatcher").expect("stopped, not failed");
        assert!(stopping.elapsed() < SOON, "{:?}", stopping.elapsed());
        assert!(reports.try_recv().is_err(), "no round after the stop");
    }
}

/// The rule in [`stockyard_core::workers::passes`], met for real: a SQLite dispatcher whose
/// lease another took stops for good, returning why (PostgreSQL runs several, unleased).
#[test]
fn a_dispatcher_that_lost_its_sqlite_lease_stops_saying_why() {
    let db = TestDb::sqlite();
    let store = db.store();
    let dispatcher = Dispatcher::new(&store, &admin(), None).expect("dispatcher").every(LONG);
    let (sent, rounds) = mpsc::channel();
    let (done, outcome) = mpsc::channel();
    thread::spawn(move || {
        let stop = Stop::new();
        let _ = done.send(dispatcher.run(&stop, |_| sent.send(()).expect("send")));
    });
    rounds.recv_timeout(SOON).expect("a first round");
    // Idle now, waiting on the feed: another dispatcher takes the lease, then an event wakes it.
    db.sql("UPDATE dispatcher_leases SET holder = 'elsewhere:1'");
    add_warehouse(&store, "NORTH");
    match outcome.recv_timeout(SOON).expect("the dispatcher stopped") {
        Err(Error::Conflict { code: Conflict::Taken, message }) => assert!(message.contains("lease"), "{message}"),
        other => panic!("expected the lease conflict, got {other:?}"),
    }
}
