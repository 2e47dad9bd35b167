//! Sealing after commit, shared by a process's writers (PostgreSQL; see `journal`). A
//! writer may return only once a sealing pass that began after its commit has ended. One
//! writer at a time leads: it runs a pass on its own connection, for every writer that
//! committed by then, while those that commit meanwhile wait and the first of them leads
//! the next. So under load one pass — and one round of its statements — serves many
//! commands instead of each sending its own.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::Result;

#[derive(Debug, Default)]
pub(crate) struct Sealing {
    state: Mutex<State>,
    /// Signalled when a pass ends.
    ended: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Writers that have committed records, numbered in the order they said so.
    committed: u64,
    /// Every writer up to this number has had a pass begin after its commit, and end.
    sealed: u64,
    /// A pass is running.
    leading: bool,
}

impl Sealing {
    /// Called by a writer whose records have just committed: returns once they are sealed,
    /// by a pass it runs with `seal` or by another writer's. A failed pass fails only its
    /// leader (its records wait for the next pass, or the sweeper); those waiting on it try
    /// again themselves.
    pub fn after_commit(&self, seal: impl FnOnce() -> Result<usize>) -> Result<()> {
        let mut state = self.lock();
        state.committed += 1;
        let ticket = state.committed;
        loop {
            if state.sealed >= ticket {
                return Ok(());
            }
            if !state.leading {
                break;
            }
            state = self.ended.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        state.leading = true;
        let through = state.committed;
        drop(state);
        let outcome = seal();
        let mut state = self.lock();
        state.leading = false;
        if outcome.is_ok() {
            state.sealed = state.sealed.max(through);
        }
        self.ended.notify_all();
        outcome.map(drop)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{
            Arc, Barrier,
            atomic::{AtomicUsize, Ordering},
        },
        thread,
        time::Duration,
    };

    use super::*;

    #[test]
    fn one_pass_serves_the_writers_that_committed_before_it() {
        let sealing = Arc::new(Sealing::default());
        let passes = Arc::new(AtomicUsize::new(0));
        let together = Arc::new(Barrier::new(8));
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let (sealing, passes, together) = (Arc::clone(&sealing), Arc::clone(&passes), Arc::clone(&together));
                thread::spawn(move || {
                    together.wait();
                    sealing.after_commit(|| {
                        passes.fetch_add(1, Ordering::SeqCst);
                        thread::sleep(Duration::from_millis(200));
                        Ok(1)
                    })
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("writer").expect("sealed");
        }
        // The first leads alone; the seven that came during its pass share the next.
        let passes = passes.load(Ordering::SeqCst);
        assert!((1..=3).contains(&passes), "{passes} passes for 8 writers");
        let state = sealing.lock();
        assert_eq!((state.committed, state.sealed, state.leading), (8, 8, false));
    }

    #[test]
    fn a_failed_pass_fails_its_leader_and_the_next_writer_leads() {
        let sealing = Sealing::default();
        assert!(sealing.after_commit(|| Err(crate::Error::unavailable("down"))).is_err());
        sealing.after_commit(|| Ok(2)).expect("the next pass seals both");
        assert_eq!(sealing.lock().sealed, 2);
    }
}
