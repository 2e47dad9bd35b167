//! The sweep: journal records a writer left unsealed are sealed (PostgreSQL: it died
//! between its commit and its sealing; see `journal`), checkout reservations whose time ran
//! out are released, confirmed orders unpaid past the store's timeout cancelled, and
//! idempotency keys older than [`KEYS_KEPT_FOR`] forgotten. Each is closed in its own transaction and
//! re-checked under its lock there, so sweepers running at once (threads, processes,
//! machines on one PostgreSQL) close each exactly once between them.

use std::time::Duration;

use serde::Serialize;

use super::{Stop, rounds};
use crate::{
    Action, Actor, Result, Store,
    idempotency::{self, KEYS_KEPT_FOR},
};

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Commands whose journal records a writer left for a sealer (PostgreSQL); shown only
    /// when there were some.
    #[serde(skip_serializing_if = "is_zero")]
    pub records_sealed: usize,
    pub orders_cancelled: usize,
    pub reservations_expired: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The sweeper of a store. Blocking, like every call of the core: run it on a thread of
/// its own (or a server's `spawn_blocking`), never on an async runtime's thread.
#[derive(Debug, Clone)]
pub struct Sweeper {
    store: Store,
    actor: Actor,
    every: Duration,
}

impl Sweeper {
    /// The pause between two rounds unless set: reservations hold for minutes and orders
    /// wait half an hour for payment, so seconds late is on time.
    pub const EVERY: Duration = Duration::from_secs(10);

    /// A sweeper started by `actor`, acting as the `sweeper` system actor — if `actor`
    /// may itself expire reservations and cancel orders.
    pub fn new(store: &Store, actor: &Actor) -> Result<Self> {
        actor.authorize(Action::ReservationExpire)?;
        actor.authorize(Action::OrderCancel)?;
        Ok(Self { store: store.clone(), actor: Actor::system("sweeper"), every: Self::EVERY })
    }

    /// Sweeps every `every` instead of [`Sweeper::EVERY`].
    pub fn every(mut self, every: Duration) -> Self {
        self.every = every;
        self
    }

    /// Seals what waits to be sealed, releases the reservations due now, then cancels the
    /// orders unpaid too long.
    pub fn run_once(&self) -> Result<SweepReport> {
        let records_sealed = self.store.pool.seal()?;
        let now = self.store.now();
        let reservations_expired = self.store.inventory().expire_due(&self.actor, now)?;
        let orders_cancelled = self.store.orders().expire_unpaid(&self.actor, now)?;
        let kept_since = now
            .checked_sub(KEYS_KEPT_FOR)
            .map_err(|e| crate::Error::internal_from("a time past the supported range", e))?;
        idempotency::forget(&self.store, kept_since)?;
        Ok(SweepReport { records_sealed, orders_cancelled, reservations_expired })
    }

    /// Sweeps every interval until `stop`, passing each round's report (or the storage
    /// failure it outlived) to `each`; returns at once when stopped, or with the first
    /// failure it does not outlive (see [`super::passes`]).
    pub fn run(&self, stop: &Stop, each: impl FnMut(&Result<SweepReport>)) -> Result<()> {
        rounds(
            stop,
            self.every,
            || self.run_once(),
            each,
            || {
                stop.wait(self.every);
            },
        )
    }
}
