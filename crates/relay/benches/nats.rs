//! The relay's throughput to NATS JetStream, against the bare floor of the same run: the
//! same events' JSON published to a stream with the same headers and acknowledged in the
//! same batches, with no database read and no cursor. `STOCKYARD_BENCH_EVENTS` events
//! (default 100,000: a product import's), on SQLite; NATS from `STOCKYARD_TEST_NATS`.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage, stream};
use stockyard_core::{Actor, Event, EventFilter, Stop};
use stockyard_relay::{DUPLICATE_WINDOW, NatsRelay, NatsTarget};
use stockyard_testkit::TestDb;

/// The relay's batch.
const BATCH: usize = 500;

fn main() {
    let url = std::env::var("STOCKYARD_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let events: usize = std::env::var("STOCKYARD_BENCH_EVENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let db = TestDb::sqlite();
    let store = db.store();
    let me = Actor::local_admin();
    let mut csv = String::from("sku,name,price\n");
    for n in 0..events {
        csv.push_str(&format!("B-{n:07},Benched {n},1.00\n"));
    }
    store.catalog().import_products(&me, csv.as_bytes(), false, &mut |_, _| {}).expect("import");
    let last = store.feed().latest().expect("head");
    let sample =
        store.events().list(&me, &EventFilter { since: Some(0), event_type: None, limit: Some(1000) }).expect("events");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let jetstream = runtime.block_on(async { jetstream::new(async_nats::connect(&url).await.expect("NATS")) });

    for round in 1..=2 {
        let tag = uuid::Uuid::now_v7().simple().to_string();
        // The relay, from seq 0 to the end.
        let target =
            NatsTarget { url: url.clone(), stream: format!("BENCH_{tag}"), subject_prefix: format!("bench_{tag}.r") };
        let stop = Stop::new();
        let relay = NatsRelay::start(&store, &me, target.clone(), &stop).expect("relay");
        let started = Instant::now();
        relay
            .run(&stop, |batch| {
                if batch.as_ref().is_ok_and(|report| report.through >= last) {
                    stop.stop();
                }
            })
            .expect("run");
        let relayed = started.elapsed();
        drop(relay);

        // The floor: as many messages like them, already in memory, to a fresh stream.
        let bare = format!("BARE_{tag}");
        let started = Instant::now();
        runtime.block_on(publish_bare(&jetstream, &bare, &format!("bare_{tag}"), &sample, last as usize));
        let floor = started.elapsed();
        runtime.block_on(async {
            for name in [target.stream.as_str(), bare.as_str()] {
                jetstream.delete_stream(name).await.expect("delete");
            }
        });
        let rate = |took: Duration| last as f64 / took.as_secs_f64();
        println!(
            "round {round}: relay {last} events in {relayed:.2?} ({:.0}/s); bare publish {floor:.2?} ({:.0}/s); \
             ratio {:.2}",
            rate(relayed),
            rate(floor),
            rate(relayed) / rate(floor)
        );
    }
}

/// `count` messages made from `sample`'s events, in batches as the relay sends them, each
/// batch's acknowledgements awaited before the next.
async fn publish_bare(jetstream: &jetstream::Context, name: &str, prefix: &str, sample: &[Event], count: usize) {
    let config = stream::Config {
        name: name.to_owned(),
        subjects: vec![format!("{prefix}.>")],
        duplicate_window: DUPLICATE_WINDOW,
        ..stream::Config::default()
    };
    jetstream.get_or_create_stream(config).await.expect("stream");
    let mut sent = 0;
    while sent < count {
        let batch = BATCH.min(count - sent);
        let mut acks: Vec<PublishAckFuture> = Vec::with_capacity(batch);
        for n in sent..sent + batch {
            let event = &sample[n % sample.len()];
            let seq = (n + 1).to_string();
            let message = PublishMessage::build()
                .payload(serde_json::to_vec(event).expect("JSON").into())
                .message_id(&seq)
                .header("Stockyard-Seq", seq.as_str())
                .header("Stockyard-Type", event.event_type.as_str());
            acks.push(
                jetstream
                    .send_publish(format!("{prefix}.{}", event.event_type.as_str()), message)
                    .await
                    .expect("publish"),
            );
        }
        for ack in acks {
            ack.await.expect("ack");
        }
        sent += batch;
    }
}
