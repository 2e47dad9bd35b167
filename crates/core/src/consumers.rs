//! Named, durable readers of the whole event log, for programs that forward it elsewhere
//! (an event relay to a broker). A consumer reads in seq order from where it left off — the
//! gap-safe read of [`crate::Events::read`], so it never skips an event that commits late —
//! and moves its cursor only once told the events are safely elsewhere: at least once, and
//! resumable after a crash. One process at a time reads under a name (a lease); another
//! is refused with `Conflict::Taken` until the first stops or dies.

use crate::{Action, Actor, Error, EventBatch, EventFilter, Result, Store, clock, db::params, leases::Lease};

/// A consumer reading as its name, holding the name's lease while it lives.
#[derive(Debug)]
pub struct Consumer {
    store: Store,
    name: String,
    lease: Lease,
    reader: Actor,
}

impl Consumer {
    /// Starts reading as `name`, for `actor`, who must be able to read every event: one
    /// allowed to read the whole audit log (a client reads only its own events) and scoped
    /// to no warehouses.
    pub fn start(store: &Store, actor: &Actor, name: &str) -> Result<Self> {
        actor.authorize(Action::AuditRead)?;
        if !actor.scope().is_empty() {
            return Err(Error::Forbidden {
                reason: "forwarding the event log needs every event: an actor scoped to warehouses sees only theirs"
                    .into(),
            });
        }
        let held = format!("another process is reading the event log as {name:?}; one at a time (it waits)");
        let lease = Lease::take(store, &cursor_name(name), &held)?;
        Ok(Self { store: store.clone(), name: name.to_owned(), lease, reader: Actor::system("consumer") })
    }

    /// Where it left off: every event up to this seq is done (0: none yet).
    pub fn position(&self) -> Result<i64> {
        self.store.pool.read(|tx| {
            let row =
                tx.query_opt("SELECT seq FROM consumer_cursors WHERE name = $1", params![cursor_name(&self.name)])?;
            row.map_or(Ok(0), |row| row.get(0))
        })
    }

    /// The next events after `after` (at most `limit`), and how far the read went.
    pub fn read(&self, after: i64, limit: u32) -> Result<EventBatch> {
        let filter = EventFilter { since: Some(after), event_type: None, limit: Some(limit) };
        self.store.events().read(&self.reader, &filter)
    }

    /// Records that every event through `seq` is safely elsewhere, and renews the lease —
    /// in one transaction, so a consumer whose lease lapsed to another (`Taken`) moves no
    /// cursor. The cursor never moves back.
    pub fn done_through(&self, seq: i64) -> Result<()> {
        let lost = format!("this consumer's lease on {:?} lapsed and another process took over: stopping", self.name);
        self.store.pool.bookkeep(|tx| {
            self.lease.renew(tx, &lost)?;
            tx.execute(
                "INSERT INTO consumer_cursors (name, seq, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at
                 WHERE consumer_cursors.seq < excluded.seq",
                params![cursor_name(&self.name), seq, clock::wall()],
            )
            .map(drop)
        })
    }
}

/// Its row in `consumer_cursors` and `dispatcher_leases`: apart from the dispatcher's own.
fn cursor_name(name: &str) -> String {
    format!("consumer:{name}")
}
