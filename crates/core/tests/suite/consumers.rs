//! Named consumers of the whole event log (what an event relay reads through), on both
//! backends: one process at a time per name, a cursor that moves only forward and only under
//! the lease, reads in seq order from where it left off, and no scoped actor.

use crate::common;

use common::{acting, admin, store_with};
use stockyard_core::{Conflict, Error, ErrorKind, consumers::Consumer};
use stockyard_testkit::backend_tests;

backend_tests! {
    fn a_consumer_reads_on_from_its_cursor_one_at_a_time(db) {
        let store = store_with(db, &["P-1", "P-2"]);
        let first = Consumer::start(&store, &admin(), "relay").expect("start");
        let held = Consumer::start(&store, &admin(), "relay").expect_err("one at a time");
        assert!(matches!(held, Error::Conflict { code: Conflict::Taken, .. }), "{held}");
        Consumer::start(&store, &admin(), "another").expect("another name is another consumer");

        assert_eq!(first.position().expect("position"), 0, "nothing done yet");
        let batch = first.read(0, 1).expect("read");
        assert_eq!(batch.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1]);
        first.done_through(batch.through).expect("done");
        let rest = first.read(first.position().expect("position"), 1000).expect("read");
        assert!(rest.events.first().is_some_and(|e| e.seq == 2), "on from the cursor: {:?}", rest.events.first());
        first.done_through(rest.through).expect("done");
        first.done_through(1).expect("an older seq");
        assert_eq!(first.position().expect("position"), rest.through, "the cursor never moves back");

        drop(first);
        let next = Consumer::start(&store, &admin(), "relay").expect("free once the holder is gone");
        assert_eq!(next.position().expect("position"), rest.through, "and it goes on where the first stopped");
    }

    fn a_consumer_needs_every_event(db) {
        let store = store_with(db, &["P-1"]);
        let scoped = acting(&store, "east@example.com", "manager", &["EAST"]);
        let refused = Consumer::start(&store, &scoped, "relay").expect_err("scoped");
        assert_eq!(refused.kind(), ErrorKind::Forbidden, "{refused}");
        let client = acting(&store, "cleo@example.com", "client", &[]);
        assert_eq!(Consumer::start(&store, &client, "relay").expect_err("a client").kind(), ErrorKind::Forbidden);
    }
}
