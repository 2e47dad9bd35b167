//! One thread per server waits on the core's change feed and publishes the newest
//! committed seq to every open event stream, so a thousand streams cost one waiting
//! thread, not a thousand. It runs only while some stream listens.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use stockyard_core::{Stop, Store};
use tokio::sync::watch;

/// How long one wait on the core's feed lasts before the thread looks whether anyone still
/// listens.
const WAIT: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct Pump {
    sender: Mutex<Option<watch::Sender<i64>>>,
    stop: Stop,
}

impl Pump {
    /// The newest committed seq, updated as events commit.
    pub fn subscribe(self: &Arc<Self>, store: &Store, from: i64) -> watch::Receiver<i64> {
        let mut slot = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = slot.as_ref() {
            return sender.subscribe();
        }
        let (sender, receiver) = watch::channel(from);
        *slot = Some(sender.clone());
        let (pump, store) = (Arc::clone(self), store.clone());
        std::thread::spawn(move || pump.run(&store, &sender, from));
        receiver
    }

    fn run(&self, store: &Store, sender: &watch::Sender<i64>, mut seq: i64) {
        loop {
            seq = store.feed().wait_after_or_stop(seq, WAIT, &self.stop);
            sender.send_if_modified(|latest| std::mem::replace(latest, seq) != seq);
            let mut slot = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
            if sender.receiver_count() == 0 || self.stop.is_stopped() {
                *slot = None;
                return;
            }
        }
    }

    pub fn stop(&self) {
        self.stop.stop();
    }
}
