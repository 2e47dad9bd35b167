//! Whether the database is known to be out of service: PostgreSQL unreachable (a connection
//! attempt failed), or a SQLite write refused as unavailable (its disk full, its file
//! unwritable, busy past the timeout). Set by the failure, cleared by the next success (a
//! connection made, a write committed), so a front end reports not ready (`/readyz`) for as
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

#[cfg(test)]
mod tests {
    use super::Health;

    #[test]
    fn trouble_lasts_from_a_failure_to_the_next_success() {
        let health = Health::default();
        assert_eq!(health.trouble(), None);
        health.failed("cannot reach PostgreSQL (refused)");
        health.failed("cannot reach PostgreSQL (timed out)");
        assert_eq!(health.trouble().as_deref(), Some("cannot reach PostgreSQL (timed out)"), "the latest reason");
        health.served();
        assert_eq!(health.trouble(), None);
    }
}
