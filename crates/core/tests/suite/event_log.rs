//! The event log read by `seq` never skips an event that commits late, and its seqs are
//! dense and in commit order.
//!
//! Only PostgreSQL commits concurrent writers out of order (SQLite has one writer at a
//! time), so the hazard is staged there: a trigger parks one writer after its journal
//! record is queued and before it commits, while a second writer commits and is sealed.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    thread,
};

use crate::common;

use common::{admin, store_with};
use stockyard_core::{Actor, EventFilter, NewWarehouse, Store};
use stockyard_testkit::{TestDb, backend_tests, wait_until};

const PARK_LOCK: i64 = 4242;

fn seqs_after(store: &Store, since: i64) -> Vec<(i64, String)> {
    let filter = EventFilter { since: Some(since), ..Default::default() };
    let events = store.events().list(&Actor::local_admin(), &filter).expect("events");
    events.into_iter().map(|e| (e.seq, e.payload["code"].as_str().unwrap_or_default().to_owned())).collect()
}

#[test]
fn a_reader_never_skips_an_event_that_commits_late() {
    let Some(db) = TestDb::migrated_postgres() else { return };
    let store = db.store();
    // Park the transaction creating warehouse SLOW once its journal record is queued — the
    // change made, not committed — until the test releases PARK_LOCK.
    db.sql(&format!(
        "CREATE FUNCTION park() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
             IF NEW.body LIKE '%\\\\\"code\\\\\":\\\\\"SLOW\\\\\"%' THEN
                 PERFORM pg_advisory_lock_shared({PARK_LOCK}); PERFORM pg_advisory_unlock_shared({PARK_LOCK});
             END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER park AFTER INSERT ON journal_queue FOR EACH ROW EXECUTE FUNCTION park();"
    ));
    let mut gate = postgres::Client::connect(db.url(), postgres::NoTls).expect("connect");
    gate.execute("SELECT pg_advisory_lock($1)", &[&PARK_LOCK]).expect("hold the gate");

    let head = seqs_after(&store, 0).last().map_or(0, |(seq, _)| *seq);
    let create = |code: &'static str| {
        let store = store.clone();
        move || {
            let input = NewWarehouse { code: code.into(), name: code.into() };
            store.warehouses().create(&Actor::local_admin(), input).expect("create");
        }
    };
    thread::scope(|s| {
        let slow = s.spawn(create("SLOW"));
        wait_until("SLOW is parked", || db.sessions_waiting_for_locks() == 1);
        // FAST commits while SLOW's change is still open: it is numbered first, and its
        // writer returns only once it is readable.
        s.spawn(create("FAST")).join().expect("fast writer");
        assert_eq!(seqs_after(&store, head), [(head + 1, "FAST".to_owned())]);
        assert!(!slow.is_finished());
        gate.execute("SELECT pg_advisory_unlock($1)", &[&PARK_LOCK]).expect("open the gate");
        slow.join().expect("slow writer");
    });
    // The reader that read through FAST now finds SLOW after it, not before.
    assert_eq!(seqs_after(&store, head + 1), [(head + 2, "SLOW".to_owned())]);
    assert_eq!(db.number("SELECT COUNT(*) FROM journal_queue"), 0, "nothing left queued");
}

const WRITERS: usize = 16;
const RECEIPTS: usize = 15;

backend_tests! {
    fn sixteen_writers_of_two_processes_and_a_reader_that_never_skips(db) {
        let skus: Vec<String> = (0..WRITERS).map(|i| format!("W-{i}")).collect();
        let store = store_with(db, &skus.iter().map(String::as_str).collect::<Vec<_>>());
        // Half the writers on a second handle: its own pool and sealing, as another process's.
        let other = db.store();
        let head = store.events().read(&admin(), &EventFilter::default()).expect("head").through;
        let done = AtomicBool::new(false);
        let seen = thread::scope(|s| {
            let reader = s.spawn(|| {
                let (mut seen, mut through) = (Vec::new(), head);
                loop {
                    // Whether the writers were done before this read began: then it is the last.
                    let last = done.load(Ordering::SeqCst);
                    let filter = EventFilter { since: Some(through), limit: Some(1000), ..Default::default() };
                    let batch = store.events().read(&admin(), &filter).expect("read");
                    seen.extend(batch.events.iter().map(|e| e.seq));
                    through = batch.through;
                    if last && batch.events.is_empty() {
                        return seen;
                    }
                }
            });
            let writers: Vec<_> = skus
                .iter()
                .enumerate()
                .map(|(i, sku)| {
                    let store = if i % 2 == 0 { store.clone() } else { other.clone() };
                    s.spawn(move || {
                        for _ in 0..RECEIPTS {
                            store.inventory().receive(&admin(), sku, Some("MAIN"), 1, None).expect("receive");
                        }
                    })
                })
                .collect();
            for writer in writers {
                writer.join().expect("writer");
            }
            done.store(true, Ordering::SeqCst);
            reader.join().expect("reader")
        });
        // Every event, once, in seq order, with no seq missing: one per receipt.
        let want: Vec<i64> = (head + 1..=head + (WRITERS * RECEIPTS) as i64).collect();
        assert_eq!(seen, want);
        // Each item's movements follow its commits: on hand rose by one at each.
        for sku in &skus {
            let history = store.inventory().history(&admin(), sku, Some("MAIN"), Some(100), None).expect("history");
            let on_hand: Vec<i64> = history.items.iter().map(|m| m.on_hand).collect();
            assert_eq!(on_hand, (1..=RECEIPTS as i64).collect::<Vec<_>>(), "{sku}");
        }
    }
}
