//! Leases on work that one process at a time may do — SQLite's notification dispatcher, an
//! event relay to one target: a row per job naming its holder (host, process and its start),
//! renewed while the holder works and given back when it is done. A holder killed outright
//! on this machine is seen to be gone at once; one elsewhere, once its lease lapses.
//!
//! Leases run on real time, not the store's clock: they tell processes apart that may each
//! have a clock of their own, and a lease dated by a test clock could look lapsed (or never
//! lapse) to a process with another.

use jiff::SignedDuration;

use crate::{
    Conflict, Error, Result, Store, clock,
    db::{Tx, params},
};

/// How long a lease lasts without renewal.
const TERM: SignedDuration = SignedDuration::from_secs(60);

/// A lease held; given back when dropped.
#[derive(Debug)]
pub(crate) struct Lease {
    store: Store,
    name: String,
    holder: String,
}

impl Lease {
    /// Takes the lease on `name`, or refuses (`Taken`, saying `held`) while a live holder
    /// has it.
    pub fn take(store: &Store, name: &str, held: &str) -> Result<Self> {
        let holder = crate::process::holder_name();
        store.pool.bookkeep(|tx| {
            let now = clock::wall();
            let current = tx.query_opt(
                "SELECT holder FROM dispatcher_leases WHERE name = $1 AND expires_at > $2",
                params![name, now],
            )?;
            if let Some(row) = current
                && crate::process::holder_alive(&row.get::<String>(0)?)
            {
                return Err(Error::conflict(Conflict::Taken, held));
            }
            tx.execute(
                "INSERT INTO dispatcher_leases (name, holder, expires_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
                params![name, &holder, until()?],
            )
        })?;
        Ok(Self { store: store.clone(), name: name.to_owned(), holder })
    }

    /// Extends the lease in `tx`, or refuses (`Taken`, saying `lost`) when it lapsed and
    /// another holder took it.
    pub fn renew(&self, tx: &mut Tx<'_>, lost: &str) -> Result<()> {
        let renewed = tx.execute(
            "UPDATE dispatcher_leases SET expires_at = $1 WHERE name = $2 AND holder = $3",
            params![until()?, &self.name, &self.holder],
        )?;
        if renewed == 0 {
            return Err(Error::conflict(Conflict::Taken, lost));
        }
        Ok(())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Best effort: a lease not given back lapses on its own.
        let _ = self.store.pool.bookkeep(|tx| {
            tx.execute(
                "DELETE FROM dispatcher_leases WHERE name = $1 AND holder = $2",
                params![&self.name, &self.holder],
            )
        });
    }
}

fn until() -> Result<jiff::Timestamp> {
    clock::wall().checked_add(TERM).map_err(|e| Error::internal_from("a time past the supported range", e))
}
