//! Stores whose time a test moves: a [`ManualClock`] instead of sleeping for time to pass.
//!
//! ```ignore
//! let clock = ManualClock::starting_now();
//! let store = db.store_at(&clock);
//! // … reserve with a 1-second TTL …
//! clock.advance(SignedDuration::from_secs(2));
//! // … the sweep now finds it lapsed.
//! ```
//!
//! The binary cannot be handed a clock. A test of it that needs something to have lapsed
//! makes that thing in the past instead, through a store on the same database whose clock
//! is behind ([`TestDb::store_at`] with `ManualClock::new(now - 1h)`), and lets the binary
//! find it lapsed at real time.

use stockyard_core::{Actor, ManualClock, Store, StoreOptions};

use crate::TestDb;

impl TestDb {
    /// [`TestDb::options`] with the time read from `clock`.
    pub fn options_at(&self, clock: &ManualClock) -> StoreOptions {
        StoreOptions { clock: clock.clone().into(), ..self.options() }
    }

    /// [`TestDb::store`] reading the time from `clock` (and sharing it: advancing `clock`
    /// moves the store's time). Initialises the database if nothing did yet.
    pub fn store_at(&self, clock: &ManualClock) -> Store {
        let store = Store::create(self.url(), &self.options_at(clock)).expect("open the test store");
        store.init(&Actor::local_admin()).expect("initialise the test store");
        store
    }
}
