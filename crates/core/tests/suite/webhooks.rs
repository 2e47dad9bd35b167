//! Webhooks against a real local HTTP receiver: signed deliveries a receiver can verify
//! (and a replay it can refuse), retries that end in exactly one success, a dead receiver
//! whose breaker opens while email keeps flowing, and — on PostgreSQL — two dispatchers
//! sharing 1,000 events with every delivery made once. And where webhooks may not go
//! (SSRF): this machine, its private network, metadata services — refused at subscription and
//! again on the resolved address at delivery, unless the store allows them.

use crate::common;

use std::{collections::BTreeSet, thread, time::Duration};

use common::{admin, store_with};

use jiff::{SignedDuration, Timestamp};
use stockyard_core::{
    Backend, Conflict, Error, Store, StoreOptions,
    notifications::{
        NotificationStatus,
        dispatch::{Dispatcher, RetryPolicy},
        transport::Smtp,
        webhooks::verify,
    },
};
use stockyard_testkit::{TestDb, backend_tests, http::Receiver, smtp::SmtpSink};

const SECRET: &str = "a webhook secret for tests";

fn policy(max_attempts: i64) -> RetryPolicy {
    RetryPolicy {
        first_delay: SignedDuration::ZERO,
        max_delay: SignedDuration::ZERO,
        max_attempts,
        lease: SignedDuration::from_hours(1),
        cool_down: SignedDuration::from_hours(1),
    }
}

/// A store whose webhook at `receiver` hears of stock changes.
/// A store whose webhook, with credentials and a token in its URL, hears `InventoryChanged`.
fn subscribed(db: &TestDb, receiver: &Receiver) -> Store {
    let store = store_with(db, &["MUG-1"]);
    store
        .notifications()
        .add_webhook(
            &admin(),
            &format!("{}?token=s3cret", receiver.url().replacen("://", "://hooks:pw@", 1)),
            &["InventoryChanged".into()],
            Some(SECRET),
        )
        .expect("webhook");
    store
}

/// The test database opened as a deployment would: webhooks may not call private addresses.
fn guarded(db: &TestDb) -> Store {
    Store::open_with(db.url(), &StoreOptions { webhook_allow_private: false, ..db.options() }).expect("open")
}

fn run(store: &Store, max_attempts: i64) -> stockyard_core::notifications::dispatch::DispatchReport {
    Dispatcher::new(store, &admin(), None)
        .expect("dispatcher")
        .with_policy(policy(max_attempts))
        .run_once()
        .expect("run")
}

backend_tests! {
    fn deliveries_are_signed_and_a_replay_is_refused(db) {
        let receiver = Receiver::start();
        let store = subscribed(db, &receiver);
        store.inventory().receive(&admin(), "MUG-1", None, 5, None).expect("receive");
        run(&store, 3);
        let requests = receiver.requests();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!((request.method.as_str(), request.header("x-stockyard-event")), ("POST", Some("InventoryChanged")));
        let signature = request.header("x-stockyard-signature").expect("signed");
        assert!(verify(SECRET, signature, request.body.as_bytes(), Timestamp::now(), Duration::from_secs(300)).is_ok());
        assert!(verify("not the secret at all", signature, request.body.as_bytes(), Timestamp::now(), Duration::from_secs(300)).is_err());
        let later = Timestamp::now() + SignedDuration::from_mins(10);
        let replay = verify(SECRET, signature, request.body.as_bytes(), later, Duration::from_secs(300)).expect_err("stale");
        assert!(replay.contains("replay"), "{replay}");
        let event: serde_json::Value = serde_json::from_str(&request.body).expect("the event as JSON");
        assert_eq!((&event["type"], &event["payload"]["sku"]), (&"InventoryChanged".into(), &"MUG-1".into()));
        let delivery = request.header("x-stockyard-delivery").expect("delivery id");
        let shown = store.notifications().status(&admin(), delivery).expect("by id");
        assert_eq!(shown.status, NotificationStatus::Delivered);
        // Readers of notifications see where it went, not the token in its URL.
        assert_eq!(request.path, "/hook?token=s3cret", "the receiver gets the whole URL");
        assert_eq!(shown.to, receiver.url());
        let listed = store.notifications().list(&admin(), None, None, None).expect("list");
        assert_eq!(listed.items.iter().map(|n| n.to.as_str()).collect::<Vec<_>>(), [receiver.url()]);
        // The secret is sealed at rest.
        assert_eq!(db.number(&format!("SELECT COUNT(*) FROM webhooks WHERE secret LIKE '%{SECRET}%'")), 0);
    }

    fn a_receiver_that_fails_three_times_gets_one_success(db) {
        let receiver = Receiver::start();
        receiver.answer(&[500, 502, 503]);
        let store = subscribed(db, &receiver);
        store.inventory().receive(&admin(), "MUG-1", None, 5, None).expect("receive");
        let report = run(&store, 5);
        assert_eq!((report.retrying, report.delivered, report.failed), (3, 1, 0));
        let statuses: Vec<u16> = receiver.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, [500, 502, 503, 200], "exactly one successful delivery");
        let ids: BTreeSet<_> = receiver.requests().iter().filter_map(|r| r.header("x-stockyard-delivery").map(str::to_owned)).collect();
        assert_eq!(ids.len(), 1, "every attempt carries the same delivery id");
        let endpoints = store.notifications().endpoints(&admin()).expect("endpoints");
        assert_eq!((endpoints.len(), endpoints[0].state, endpoints[0].failures), (1, "closed", 0));
    }

    fn a_dead_receiver_fails_and_rests_while_email_flows(db) {
        let receiver = Receiver::start();
        receiver.die();
        let store = subscribed(db, &receiver);
        let order = stockyard_core::orders::NewOrder {
            customer: stockyard_core::orders::Customer { email: "jane@example.org".into(), ..Default::default() },
            lines: vec![("MUG-1".into(), 1)],
            ..Default::default()
        };
        store.inventory().receive(&admin(), "MUG-1", None, 5, None).expect("receive");
        store.orders().create(&admin(), order).expect("order");
        let smtp = SmtpSink::start();
        let email = Box::new(Smtp::new(&smtp.url(), "stock@example.com").expect("smtp"));
        let report = Dispatcher::new(&store, &admin(), Some(email)).expect("dispatcher").with_policy(policy(5)).run_once().expect("run");
        assert_eq!(smtp.received().len(), 1, "the customer's email went out");
        assert!(report.failed >= 1, "{report:?}");
        let endpoints = store.notifications().endpoints(&admin()).expect("endpoints");
        let hook = endpoints.iter().find(|e| e.endpoint.starts_with("http://127.0.0.1")).expect("the receiver's breaker");
        assert_eq!(hook.state, "open");
        assert!(endpoints.iter().any(|e| e.endpoint == "smtp" && e.state == "closed"));
        // While it rests, a new event for it waits instead of being sent.
        let before = receiver.requests().len();
        store.inventory().receive(&admin(), "MUG-1", None, 1, None).expect("receive");
        run(&store, 5);
        assert_eq!(receiver.requests().len(), before, "nothing sent to a resting endpoint");
        assert!(db.number("SELECT COUNT(*) FROM notifications WHERE channel = 'webhook' AND status = 'pending'") >= 1);
        assert_eq!(db.number("SELECT COUNT(*) FROM events WHERE event_type = 'NotificationFailed'"), report.failed as i64);
    }

    fn a_breaker_stops_a_batch_then_one_probe_reopens_the_flow(db) {
        let receiver = Receiver::start();
        receiver.answer(&[503; 5]);
        let store = subscribed(db, &receiver);
        for _ in 0..8 {
            store.inventory().receive(&admin(), "MUG-1", None, 1, None).expect("receive");
        }
        let first = run(&store, 10);
        // The fifth failure opens the breaker: the rest of the batch goes back unsent.
        assert_eq!(receiver.requests().len(), 5, "{first:?}");
        assert_eq!(db.number("SELECT COUNT(*) FROM notifications WHERE attempts = 0 AND status = 'pending'"), 3);
        // The cool-down passes: one probe goes, succeeds, and everything else follows.
        db.sql("UPDATE endpoint_breakers SET open_until = updated_at");
        let probe_and_rest = run(&store, 10);
        let requests = receiver.requests();
        assert_eq!((requests.len(), probe_and_rest.delivered), (5 + 8, 8));
        assert_eq!(requests[5].status, 200, "the probe");
        let delivered: BTreeSet<_> = requests.iter().filter(|r| r.status == 200).filter_map(|r| r.header("x-stockyard-delivery")).collect();
        assert_eq!(delivered.len(), 8, "each delivered once");
        assert_eq!(store.notifications().endpoints(&admin()).expect("endpoints")[0].state, "closed");
    }

    fn a_new_subscription_hears_only_what_happens_after_it(db) {
        let store = store_with(db, &["MUG-1"]);
        store.inventory().receive(&admin(), "MUG-1", None, 5, None).expect("before");
        let receiver = Receiver::start();
        store.notifications().add_webhook(&admin(), &receiver.url(), &["InventoryChanged".into()], Some(SECRET)).expect("webhook");
        store.inventory().receive(&admin(), "MUG-1", None, 1, None).expect("after");
        run(&store, 3);
        let bodies: Vec<serde_json::Value> = receiver.requests().iter().map(|r| serde_json::from_str(&r.body).expect("json")).collect();
        assert_eq!(bodies.iter().map(|b| b["payload"]["on_hand_delta"].as_i64()).collect::<Vec<_>>(), [Some(1)]);
    }

    fn private_and_metadata_hosts_are_refused_unless_allowed(db) {
        let allowed = store_with(db, &[]);
        let guarded = guarded(db);
        for (url, class) in [
            ("http://127.0.0.1:9000/hook", "loopback"),
            ("http://[::1]/hook", "loopback"),
            ("http://localhost/hook", "loopback"),
            ("http://10.0.0.8/hook", "private"),
            ("https://172.20.1.1/hook", "private"),
            ("https://192.168.0.10/hook", "private"),
            ("https://[fd12:3456::1]/hook", "private"),
            ("http://169.254.10.1/hook", "link-local"),
            ("http://[fe80::1]/hook", "link-local"),
            ("http://0.0.0.0:8080/hook", "unspecified"),
            ("http://169.254.169.254/latest/meta-data/", "metadata"),
            ("http://[fd00:ec2::254]/", "metadata"),
            ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
        ] {
            match guarded.notifications().add_webhook(&admin(), url, &["InventoryChanged".into()], Some(SECRET)) {
                Err(Error::Invalid { field, reason }) => {
                    assert_eq!(field, "url", "{url}");
                    assert!(reason.contains(class) && reason.contains("STOCKYARD_WEBHOOK_ALLOW_PRIVATE"), "{url}: {reason}");
                }
                other => panic!("{url} should be refused: {other:?}"),
            }
            allowed.notifications().add_webhook(&admin(), url, &["InventoryChanged".into()], Some(SECRET)).expect(url);
        }
        let Err(Error::Invalid { field, .. }) = guarded.notifications().add_webhook(&admin(), "ftp://hooks.example.com/", &["InventoryChanged".into()], None) else {
            panic!("ftp is not a webhook");
        };
        assert_eq!(field, "url");
        guarded.notifications().add_webhook(&admin(), "https://hooks.example.com/stock", &["InventoryChanged".into()], None).expect("a public host");
    }

    fn a_delivery_to_a_name_resolving_to_loopback_is_refused(db) {
        let receiver = Receiver::start();
        // Subscribed while allowed (as a rebinding name would pass at subscription)...
        let store = store_with(db, &["MUG-1"]);
        let url = receiver.url().replace("127.0.0.1", "localhost");
        store.notifications().add_webhook(&admin(), &url, &["InventoryChanged".into()], Some(SECRET)).expect("webhook");
        store.inventory().receive(&admin(), "MUG-1", None, 5, None).expect("receive");
        // ...and delivered by a dispatcher of a store that does not allow it.
        let report = run(&guarded(db), 1);
        assert_eq!((report.delivered, report.failed), (0, 1), "{report:?}");
        assert!(receiver.requests().is_empty(), "nothing reached the receiver");
        let failed = store.notifications().list(&admin(), Some("failed"), None, None).expect("failed");
        let error = failed.items[0].last_error.clone().unwrap_or_default();
        assert!(error.contains("localhost resolves to") && error.contains("loopback"), "{error}");
        // The same delivery goes through where private addresses are allowed.
        store.inventory().receive(&admin(), "MUG-1", None, 1, None).expect("receive");
        assert_eq!(run(&store, 1).delivered, 1);
        assert_eq!(receiver.requests().len(), 1);
    }

    fn one_dispatcher_at_a_time_on_sqlite_several_on_postgresql(db) {
        let store = store_with(db, &[]);
        let first = Dispatcher::new(&store, &admin(), None).expect("first");
        let second = Dispatcher::new(&store, &admin(), None);
        match db.backend() {
            Backend::Sqlite => {
                let Err(Error::Conflict { code: Conflict::Taken, message }) = second else { panic!("a second dispatcher on SQLite: {second:?}") };
                assert!(message.contains("one at a time"), "{message}");
                drop(first);
                assert!(Dispatcher::new(&store, &admin(), None).is_ok(), "free again once the first stops");
            }
            Backend::Postgres => assert!(second.is_ok()),
        }
    }
}

/// Two dispatchers on PostgreSQL over 1,000 events: every notification delivered, none twice.
#[test]
fn two_dispatchers_share_a_thousand_events() {
    let Some(db) = TestDb::migrated_postgres() else { return };
    let receiver = Receiver::start();
    let store = subscribed(&db, &receiver);
    for _ in 0..1_000 {
        store.inventory().receive(&admin(), "MUG-1", None, 1, None).expect("receive");
    }
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let dispatcher = Dispatcher::new(&store, &admin(), None).expect("dispatcher").with_policy(policy(5));
                // Each keeps going until nothing is left for it.
                while dispatcher.run_once().expect("run").delivered > 0 {}
            });
        }
    });
    let deliveries: Vec<String> =
        receiver.requests().iter().filter_map(|r| r.header("x-stockyard-delivery").map(str::to_owned)).collect();
    let unique: BTreeSet<&String> = deliveries.iter().collect();
    assert_eq!(db.number("SELECT COUNT(*) FROM notifications WHERE channel = 'webhook'"), 1_000);
    assert_eq!(db.number("SELECT COUNT(*) FROM notifications WHERE status = 'delivered'"), 1_000);
    assert_eq!((deliveries.len(), unique.len()), (1_000, 1_000), "every one delivered, none twice");
}
