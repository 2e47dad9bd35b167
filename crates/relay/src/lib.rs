//! Relays stockyard's event log to NATS JetStream, for the systems that consume from the
//! broker they already run.
//!
//! Every event, in seq order, goes to the subject `<prefix>.<Type>` (`stockyard.events.
//! OrderCreated`) with the event as JSON, its seq as `Nats-Msg-Id` — so the stream drops a
//! message sent twice within its duplicate window — and `Stockyard-Seq` / `Stockyard-Type`
//! headers. The relay reads through a [`Consumer`]: its cursor, kept in the stockyard
//! database, moves only once JetStream has acknowledged a whole batch. A relay killed
//! mid-batch sends that batch again when it restarts (at least once); within the window
//! the stream keeps each seq once. One relay per stream name at a time: the others wait
//! for its lease.
//!
//! The relay is synchronous, like every worker of the core: it runs on a thread of its own
//! and drives the NATS client on a small runtime it owns.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage, stream};
use stockyard_core::{Actor, Error, ErrorKind, Result, Stop, Store, consumers::Consumer};

/// Events per batch: one read, one round of publishes, one cursor move.
const BATCH: u32 = 500;
/// How long the stream remembers a `Nats-Msg-Id`: a relay back within this after a crash
/// repeats nothing. One that comes back later may repeat its last batch; consumers drop
/// those by `Stockyard-Seq`.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);
/// How long a relay waits for new events before it looks again (it wakes at once on a
/// commit it hears of).
const IDLE: Duration = Duration::from_secs(1);
/// How often an idle relay renews its lease (which lasts a minute), so that another relay
/// does not take over from one that is merely waiting for events.
const RENEW: Duration = Duration::from_secs(20);

/// Where the events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsTarget {
    /// `nats://host:port`.
    pub url: String,
    /// The JetStream stream, created when missing.
    pub stream: String,
    /// Subjects are `<prefix>.<Type>`.
    pub subject_prefix: String,
}

impl NatsTarget {
    pub const DEFAULT_STREAM: &str = "STOCKYARD";
    pub const DEFAULT_PREFIX: &str = "stockyard.events";

    /// `nats://HOST:PORT[?stream=NAME&subject_prefix=PREFIX]`, the defaults where a part is
    /// missing.
    pub fn parse(url: &str) -> Result<Self> {
        let invalid = |reason: String| Error::invalid("relay", reason);
        let (server, query) = url.trim().split_once('?').unwrap_or((url.trim(), ""));
        if !server.starts_with("nats://") || server.len() == "nats://".len() {
            return Err(invalid(format!("{url:?} is not a NATS URL like nats://127.0.0.1:4222")));
        }
        let mut target = Self {
            url: server.to_owned(),
            stream: Self::DEFAULT_STREAM.into(),
            subject_prefix: Self::DEFAULT_PREFIX.into(),
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("stream", name)) if !name.is_empty() => target.stream = name.into(),
                Some(("subject_prefix", prefix)) if !prefix.is_empty() => target.subject_prefix = prefix.into(),
                _ => {
                    return Err(invalid(format!("{pair:?}: the URL takes only stream=NAME and subject_prefix=PREFIX")));
                }
            }
        }
        Ok(target)
    }
}

/// What a relay has done so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RelayReport {
    /// Events published and acknowledged.
    pub published: u64,
    /// Of those, the ones the stream already had (sent again after a restart).
    pub repeats: u64,
    /// The seq every event up to which is in the stream.
    pub through: i64,
}

/// A relay to one NATS stream, holding its lease.
pub struct NatsRelay {
    consumer: Consumer,
    store: Store,
    runtime: tokio::runtime::Runtime,
    jetstream: jetstream::Context,
    target: NatsTarget,
}

impl std::fmt::Debug for NatsRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsRelay").field("target", &self.target).finish()
    }
}

impl NatsRelay {
    /// Connects to NATS, makes sure the stream exists, and takes the relay's lease —
    /// waiting, while `stop` allows, for another relay to the same stream to stop.
    /// `actor` must be able to read every event.
    pub fn start(store: &Store, actor: &Actor, target: NatsTarget, stop: &Stop) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| Error::internal_from("cannot start the relay's runtime", e))?;
        let jetstream = runtime.block_on(connect(&target))?;
        let mut waiting = false;
        let consumer = loop {
            match Consumer::start(store, actor, &format!("nats:{}", target.stream)) {
                Err(e) if e.kind() == ErrorKind::Conflict && !stop.is_stopped() => {
                    if !waiting {
                        tracing::info!(reason = %e, "waiting for the relay lease");
                        waiting = true;
                    }
                    stop.wait(Duration::from_secs(1));
                }
                other => break other?,
            }
        };
        Ok(Self { consumer, store: store.clone(), runtime, jetstream, target })
    }

    /// Relays until `stop`, calling `each` after every batch or failure. A failure that may
    /// pass (NATS or the database unavailable) is retried after a pause; any other ends the
    /// run.
    pub fn run(&self, stop: &Stop, mut each: impl FnMut(&Result<RelayReport>)) -> Result<RelayReport> {
        let mut report = RelayReport { through: self.consumer.position()?, ..RelayReport::default() };
        let mut renewed = Instant::now();
        while !stop.is_stopped() {
            let renewing = renewed.elapsed() >= RENEW;
            let outcome = match self.batch(report.through) {
                // Idle: moves nothing, renews the lease.
                Ok(None) if renewing => self.consumer.done_through(report.through).map(|()| None),
                other => other,
            };
            if matches!(outcome, Ok(Some(_))) || (renewing && outcome.is_ok()) {
                renewed = Instant::now();
            }
            match outcome {
                Ok(None) => {
                    self.store.feed().wait_after_or_stop(report.through, IDLE, stop);
                }
                Ok(Some(batch)) => {
                    report.published += batch.published;
                    report.repeats += batch.repeats;
                    report.through = batch.through;
                    each(&Ok(report));
                }
                Err(e) if stockyard_core::workers::passes(&e) => {
                    each(&Err(e));
                    stop.wait(IDLE);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    /// Relays the events after `after`: `None` when there are none yet.
    fn batch(&self, after: i64) -> Result<Option<RelayReport>> {
        let read = self.consumer.read(after, BATCH)?;
        if read.through == after {
            return Ok(None);
        }
        let (published, repeats) = self.runtime.block_on(self.publish(&read.events))?;
        self.consumer.done_through(read.through)?;
        Ok(Some(RelayReport { published, repeats, through: read.through }))
    }

    /// Publishes `events` and waits for every acknowledgement: (published, repeats).
    async fn publish(&self, events: &[stockyard_core::Event]) -> Result<(u64, u64)> {
        let mut acks: Vec<PublishAckFuture> = Vec::with_capacity(events.len());
        for event in events {
            let body = serde_json::to_vec(event).map_err(|e| Error::internal_from("cannot encode an event", e))?;
            let seq = event.seq.to_string();
            let message = PublishMessage::build()
                .payload(body.into())
                .message_id(&seq)
                .header("Stockyard-Seq", seq.as_str())
                .header("Stockyard-Type", event.event_type.as_str());
            let subject = format!("{}.{}", self.target.subject_prefix, event.event_type.as_str());
            acks.push(self.jetstream.send_publish(subject, message).await.map_err(unreachable)?);
        }
        let mut repeats = 0;
        for ack in acks {
            repeats += u64::from(ack.await.map_err(unreachable)?.duplicate);
        }
        Ok((events.len() as u64, repeats))
    }
}

/// Connects, and creates the stream when it is missing (subjects `<prefix>.>`, the
/// duplicate window above); an existing stream is used as it is.
async fn connect(target: &NatsTarget) -> Result<jetstream::Context> {
    let client = async_nats::connect(&target.url).await.map_err(unreachable)?;
    let jetstream = jetstream::new(client);
    let config = stream::Config {
        name: target.stream.clone(),
        subjects: vec![format!("{}.>", target.subject_prefix)],
        duplicate_window: DUPLICATE_WINDOW,
        ..stream::Config::default()
    };
    jetstream.get_or_create_stream(config).await.map_err(unreachable)?;
    Ok(jetstream)
}

/// A NATS failure: the broker cannot take the events now; the batch is sent again.
fn unreachable(e: impl std::fmt::Display) -> Error {
    Error::unavailable(format!("NATS: {e}"))
}

#[cfg(test)]
mod tests {
    use super::NatsTarget;

    #[test]
    fn parses_a_relay_url() {
        let target = NatsTarget::parse("nats://10.0.0.5:4222?stream=SHOP&subject_prefix=shop.events").expect("a URL");
        assert_eq!((target.url.as_str(), target.stream.as_str()), ("nats://10.0.0.5:4222", "SHOP"));
        assert_eq!(target.subject_prefix, "shop.events");
        assert_eq!(NatsTarget::parse("nats://h:1").expect("defaults").stream, NatsTarget::DEFAULT_STREAM);
        for bad in ["kafka://h:9092", "nats://", "nats://h:1?topic=x", "nats://h:1?stream="] {
            assert!(NatsTarget::parse(bad).is_err_and(|e| e.to_string().contains("relay")), "{bad}");
        }
    }
}
