//! The event log read by `seq` never skips an event that commits late.
//!
//! Only PostgreSQL can commit concurrent writers out of order (SQLite has one writer at a
//! time), so the hazard is staged there: a trigger parks one writer after its event is
//! written and before it commits, while a second writer tries to append and commit.

use std::thread;

use stockyard_core::{Actor, EventFilter, EventType, NewWarehouse, Store};
use stockyard_testkit::{TestDb, wait_until};

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
    // Park the transaction creating warehouse SLOW at its audit record — its event already
    // written with its seq — until the test releases PARK_LOCK.
    db.sql(&format!(
        "CREATE FUNCTION park() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
             IF NEW.action = 'warehouse.create' AND NEW.after LIKE '%\"code\":\"SLOW\"%' THEN
                 PERFORM pg_advisory_lock_shared({PARK_LOCK}); PERFORM pg_advisory_unlock_shared({PARK_LOCK});
             END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER park BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION park();"
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
        let fast = s.spawn(create("FAST"));
        // FAST either waits behind SLOW or (wrongly) commits; either way the reader looks then.
        wait_until("FAST waits or is done", || db.sessions_waiting_for_locks() == 2 || fast.is_finished());
        // A reader polling by seq meanwhile must see neither: FAST may not overtake SLOW.
        for _ in 0..10 {
            assert_eq!(seqs_after(&store, head), [], "an event became visible while an earlier seq was uncommitted");
        }
        gate.execute("SELECT pg_advisory_unlock($1)", &[&PARK_LOCK]).expect("open the gate");
        slow.join().expect("slow writer");
        fast.join().expect("fast writer");
    });
    assert_eq!(seqs_after(&store, head), [(head + 1, "SLOW".to_owned()), (head + 2, "FAST".to_owned())]);
    let filter = EventFilter { event_type: Some(EventType::WarehouseCreated), ..Default::default() };
    assert_eq!(store.events().list(&Actor::local_admin(), &filter).expect("events").len(), 3);
}
