//! Whether the database is known to be out of service: PostgreSQL unreachable, or a write
//! that failed for a reason that lasts (SQLite's disk full, its file unwritable). Set by the
//! failure, cleared by the next success, so a front end reports not ready (`/readyz`) for as
//! long as the trouble lasts and ready again as soon as it is over — with no restart.

use parking_lot::Mutex;

#[derive(Debug, Default)]
pub(crate) struct Health {
    trouble: Mutex<Option<String>>,
}

impl Health {
    /// What is wrong, while something is.
    pub fn trouble(&self) -> Option<String> {
        self.trouble.lock().clone()
    }

    /// The database failed for `why`. Logged once when the trouble starts, not at every
    /// request or reconnection attempt that meets it.
    pub fn failed(&self, why: &str) {
        let mut trouble = self.trouble.lock();
        if trouble.is_none() {
            log::warn!("the database is out of service ({why}): requests that need it fail with 503 until it is back");
        }
        *trouble = Some(why.to_owned());
    }

    /// The database served a request (a connection made, a write committed).
    pub fn served(&self) {
        if self.trouble.lock().take().is_some() {
            log::info!("the database is back in service");
        }
    }
}
