//! Every screen drawn at 80×24 and 160×48 on the same data, compared with its snapshot
//! (the store's clock is fixed, so times and seqs are the same on every run).

use stockyard_testkit::TestDb;

use crate::harness::{Harness, open_as};

/// Each screen, by the keys that reach it from the dashboard.
const SCREENS: &[(&str, &str)] = &[
    ("dashboard", ""),
    ("stock", "2"),
    ("stock_filtered", "2/m6\n"),
    ("stock_form", "2/nut\na-2\tdamaged\n"),
    ("scan", "3BOLT-M6\n"),
    ("pick_list", "4"),
    ("pick_order", "4\nNUT-M6\n"),
    ("alerts", "5"),
    ("help", "?"),
];

fn snapshot(h: &Harness, name: &str) {
    for (width, height) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("{name}_{width}x{height}"), h.screen(width, height));
    }
}

#[test]
fn every_screen_at_both_sizes() {
    for (name, keys) in SCREENS {
        // Each screen starts from the same data: a fresh database per screen.
        let db = TestDb::sqlite();
        let mut h = open_as(&db, "boss@example.com");
        h.typed(keys);
        snapshot(&h, name);
    }
}

#[test]
fn every_screen_draws_on_a_terminal_too_small_for_it() {
    for (_, keys) in SCREENS {
        let db = TestDb::sqlite();
        let mut h = open_as(&db, "boss@example.com");
        h.typed(keys);
        for (width, height) in [(1, 1), (20, 5), (40, 10), (79, 23)] {
            assert_eq!(h.screen(width, height).split('\n').count(), usize::from(height));
        }
    }
}
