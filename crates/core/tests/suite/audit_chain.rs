//! The audit hash chain on both backends: intact under concurrent writers, and every kind
//! of tampering with plain SQL — an edited byte, a deleted record, a deleted tail, two
//! records swapped — is found at the first record it breaks.

use crate::common;

use std::thread;

use common::{admin, store_with};

use jiff::SignedDuration;
use stockyard_core::{ChainReport, EventType, ManualClock, Store, UNSEALED_AFTER, workers::Sweeper};
use stockyard_testkit::{TestDb, backend_tests};

/// A store whose audit log holds the set-up records plus `n` stock receipts.
fn with_records(db: &TestDb, n: usize) -> Store {
    let store = store_with(db, &["A-1"]);
    for _ in 0..n {
        store.inventory().receive(&admin(), "A-1", None, 1, None).expect("receive");
    }
    store
}

fn verify(store: &Store) -> ChainReport {
    store.audit().verify(&admin()).expect("verify")
}

/// The seq of the `n`th record (from 1), oldest first.
fn nth(db: &TestDb, n: i64) -> i64 {
    db.number(&format!("SELECT seq FROM audit_log ORDER BY seq LIMIT 1 OFFSET {}", n - 1))
}

fn broken_at(report: &ChainReport) -> Option<i64> {
    assert!(!report.ok, "{report:?}");
    report.problem.as_ref().expect("a problem").seq
}

backend_tests! {
    fn concurrent_writers_leave_an_intact_chain(db) {
        let store = with_records(db, 0);
        thread::scope(|s| {
            for _ in 0..16 {
                s.spawn(|| {
                    for _ in 0..10 {
                        store.inventory().receive(&admin(), "A-1", None, 1, None).expect("receive");
                    }
                });
            }
        });
        let report = verify(&store);
        assert!(report.ok, "{report:?}");
        let total = db.number("SELECT COUNT(*) FROM audit_log");
        assert_eq!(report.records, total);
        assert!(total >= 160);
        assert_eq!(report.head.seq, db.number("SELECT MAX(seq) FROM audit_log"));
        // The events, too, form one chain without a gap, covered to the last.
        assert_eq!((report.events, report.event_head.seq), (db.number("SELECT COUNT(*) FROM events"), db.number("SELECT MAX(seq) FROM events")));
    }

    fn an_edited_byte_is_found(db) {
        let store = with_records(db, 6);
        let target = nth(db, 4);
        db.sql(&format!("UPDATE audit_log SET actor = 'local-admiN' WHERE seq = {target}"));
        let report = verify(&store);
        assert_eq!(broken_at(&report), Some(target));
        assert!(report.problem.expect("problem").reason.contains("edited"));
    }

    fn an_edited_summary_is_found(db) {
        let store = with_records(db, 6);
        let target = nth(db, 5);
        db.sql(&format!("UPDATE audit_log SET after = replace(after, '\"on_hand\":', '\"on_hand\": ') WHERE seq = {target}"));
        assert_eq!(broken_at(&verify(&store)), Some(target));
    }

    fn a_deleted_record_is_found_at_the_next(db) {
        let store = with_records(db, 6);
        let (gone, next) = (nth(db, 3), nth(db, 4));
        db.sql(&format!("DELETE FROM audit_log WHERE seq = {gone}"));
        let report = verify(&store);
        assert_eq!(broken_at(&report), Some(next));
        assert!(report.problem.expect("problem").reason.contains("deleted"));
    }

    fn a_deleted_tail_is_found(db) {
        let store = with_records(db, 6);
        let last = db.number("SELECT MAX(seq) FROM audit_log");
        db.sql(&format!("DELETE FROM audit_log WHERE seq = {last}"));
        let report = verify(&store);
        assert_eq!(broken_at(&report), None);
        assert!(report.problem.expect("problem").reason.contains("at the end were deleted"));
    }

    fn swapped_records_are_found(db) {
        let store = with_records(db, 6);
        let (a, b) = (nth(db, 3), nth(db, 5));
        // Swap everything but the seqs, so the two rows trade places.
        let columns = ["occurred_at", "actor", "action", "entity_type", "entity_id", "before", "after", "request_id", "prev_hash", "hash"];
        let set: Vec<String> = columns.iter().map(|c| format!("{c} = (SELECT {c} FROM audit_log WHERE seq = {{other}})")).collect();
        db.sql(&format!(
            "CREATE TABLE swap AS SELECT * FROM audit_log WHERE seq IN ({a}, {b});
             UPDATE audit_log SET {} WHERE seq = {a};
             UPDATE audit_log SET {} WHERE seq = {b};
             DROP TABLE swap;",
            set.join(", ").replace("audit_log WHERE seq = {other}", &format!("swap WHERE seq = {b}")),
            set.join(", ").replace("audit_log WHERE seq = {other}", &format!("swap WHERE seq = {a}")),
        ));
        assert_eq!(broken_at(&verify(&store)), Some(a));
    }

    fn records_from_before_the_chain_are_chained_on_open(db) {
        with_records(db, 4);
        // As a store written before the chain existed looks.
        db.sql("UPDATE audit_log SET prev_hash = NULL, hash = NULL; DELETE FROM audit_head;");
        let store = Store::open_with(db.url(), &db.options()).expect("reopen");
        let report = verify(&store);
        assert!(report.ok, "{report:?}");
        assert_eq!(report.records, db.number("SELECT COUNT(*) FROM audit_log"));
        store.inventory().receive(&admin(), "A-1", None, 1, None).expect("and it goes on");
        assert!(verify(&store).ok);
    }
}

/// A writer that could not seal after its commit (PostgreSQL: its sealing failed here; a
/// crash would leave the same) has still done its command; the record waits in the queue,
/// `verify` names it once it has waited too long, and the sweeper seals it.
#[test]
fn a_record_left_unsealed_is_reported_then_sealed_by_the_sweeper() {
    let Some(db) = TestDb::migrated_postgres() else { return };
    let clock = ManualClock::starting_now();
    let store = common::store_at(&db, &clock, &["A-1"]);
    db.sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
             RAISE EXCEPTION 'sealing refused';
         END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse();",
    );
    let level = store.inventory().receive(&admin(), "A-1", Some("MAIN"), 7, None).expect("acknowledged");
    assert_eq!(level.on_hand, 7);
    db.sql("DROP TRIGGER refuse ON audit_log");
    assert_eq!(db.number("SELECT COUNT(*) FROM journal_queue"), 1);
    let report = verify(&store);
    assert!(report.ok && report.unsealed == 1, "a fresh record is in its window: {report:?}");
    // The stock check sees the change the levels hold, sealed or not.
    assert!(store.inventory().verify(&admin()).expect("stock verify").ok);
    assert!(store.audit().projections(&admin()).expect("projections").ok);

    clock.advance(UNSEALED_AFTER + SignedDuration::from_secs(1));
    let report = verify(&store);
    assert!(!report.ok, "{report:?}");
    assert!(report.problem.expect("a problem").reason.contains("still not sealed"));

    let swept = Sweeper::new(&store, &admin()).expect("sweeper").run_once().expect("sweep");
    assert_eq!(swept.records_sealed, 1);
    let report = verify(&store);
    assert!(report.ok && report.unsealed == 0, "{report:?}");
    let received = common::events_of(&store, EventType::InventoryChanged);
    assert_eq!(received.last().expect("the receipt")["on_hand"], 7);
}

/// A queued record that cannot be read (edited in the queue) is never sealed over: the
/// sweeper fails naming it, writers' commands still succeed, and `verify` names it once it
/// has waited too long — the log does not move on past it.
#[test]
fn a_malformed_queued_record_is_named_not_skipped() {
    let Some(db) = TestDb::migrated_postgres() else { return };
    let clock = ManualClock::starting_now();
    let store = common::store_at(&db, &clock, &["A-1"]);
    let head = verify(&store).event_head.seq;
    db.sql(&format!("INSERT INTO journal_queue (body, queued_at) VALUES ('not a record', '{}')", clock.now()));
    let id = db.number("SELECT MAX(id) FROM journal_queue");
    let swept = Sweeper::new(&store, &admin()).expect("sweeper").run_once().expect_err("unreadable");
    assert!(swept.to_string().contains(&format!("journal record {id} is malformed")), "{swept}");
    // A command still commits; its events wait behind the unreadable record, unskipped.
    store.inventory().receive(&admin(), "A-1", Some("MAIN"), 1, None).expect("acknowledged");
    assert_eq!(verify(&store).event_head.seq, head);
    clock.advance(UNSEALED_AFTER + SignedDuration::from_secs(1));
    let report = verify(&store);
    assert_eq!(report.unsealed, 2);
    assert!(report.problem.expect("a problem").reason.contains(&format!("journal record {id}")));
}
