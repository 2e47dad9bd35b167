//! Notifications on both backends, against a real SMTP server started by the test: events
//! reach exactly the recipients their routing and preferences name, exactly once; crashes
//! between steps lose nothing and repeat only with the same delivery id; an unreachable
//! server backs off to `failed` without holding up the in-app inbox.

use crate::common;

use common::{admin, store_with};

use jiff::SignedDuration;
use stockyard_core::PageRequest;
use stockyard_core::{
    Actor, Channel, Error, NewUser, Store,
    notifications::{
        NotificationStatus,
        dispatch::{Dispatcher, RetryPolicy, StopPoint},
        transport::Smtp,
    },
    orders::{Customer, NewOrder},
};
use stockyard_testkit::{TestDb, backend_tests, smtp::SmtpSink};

const FROM: &str = "Stockyard <stock@example.com>";

/// Retries at once, three attempts, leases that lapse at once: a test runs every step now.
fn eager() -> RetryPolicy {
    RetryPolicy {
        first_delay: SignedDuration::ZERO,
        max_delay: SignedDuration::ZERO,
        max_attempts: 3,
        lease: SignedDuration::ZERO,
        cool_down: SignedDuration::from_hours(1),
    }
}

fn dispatcher(store: &Store, smtp: Option<&SmtpSink>) -> Dispatcher {
    let email = smtp.map(|s| Box::new(Smtp::new(&s.url(), FROM).expect("smtp")) as Box<_>);
    Dispatcher::new(store, &admin(), email)
        .expect("dispatcher")
        .with_policy(RetryPolicy { lease: SignedDuration::from_hours(1), ..eager() })
}

fn user(store: &Store, email: &str, role: &str, warehouses: &[&str]) -> Actor {
    let new = NewUser {
        email: email.into(),
        role: role.parse().expect("a role"),
        warehouses: warehouses.iter().map(|w| (*w).to_owned()).collect(),
        password: Some("correct horse battery".into()),
        ..Default::default()
    };
    store.users().create(&admin(), new).expect("user");
    store.users().acting(email).expect("actor")
}

/// A store with staff, and one level falling below its reorder point at MAIN.
fn low_stock(db: &TestDb) -> Store {
    let store = store_with(db, &["MUG-1"]);
    user(&store, "floor@example.com", "warehouse", &[]);
    user(&store, "east@example.com", "manager", &["EAST"]);
    user(&store, "quiet@example.com", "warehouse", &[]);
    user(&store, "view@example.com", "viewer", &[]);
    store
        .users()
        .set_preferences(&admin(), "quiet@example.com", "InventoryThresholdReached", &[(Channel::Email, false)])
        .expect("prefs");
    let inv = store.inventory();
    inv.receive(&admin(), "MUG-1", None, 10, None).expect("receive");
    inv.set_threshold(&admin(), "MUG-1", None, 5, Some(20)).expect("threshold");
    inv.adjust(&admin(), "MUG-1", None, stockyard_core::Adjustment::By(-6), "breakage").expect("low now");
    store
}

fn statuses(db: &TestDb) -> Vec<(String, String, i64)> {
    let count = |status: &str, channel: &str| {
        db.number(&format!("SELECT COUNT(*) FROM notifications WHERE status = '{status}' AND channel = '{channel}'"))
    };
    ["pending", "sent", "delivered", "failed"]
        .iter()
        .flat_map(|s| ["email", "in_app"].map(|c| (s.to_string(), c.to_string(), count(s, c))))
        .filter(|(_, _, n)| *n > 0)
        .collect()
}

/// [`low_stock`] crossing its reorder point twice more, dispatched: three low-stock notes.
fn three_low_stock_notes(db: &TestDb) -> Store {
    let store = low_stock(db);
    let inv = store.inventory();
    for _ in 0..2 {
        inv.receive(&admin(), "MUG-1", None, 20, None).expect("above the point");
        inv.adjust(&admin(), "MUG-1", None, stockyard_core::Adjustment::By(-20), "sold").expect("low again");
    }
    dispatcher(&store, None).run_once().expect("run");
    store
}

backend_tests! {
    fn low_stock_reaches_exactly_those_who_asked(db) {
        let store = low_stock(db);
        let smtp = SmtpSink::start();
        let report = dispatcher(&store, Some(&smtp)).run_once().expect("run");
        let mut to: Vec<String> = smtp.received().iter().flat_map(|m| m.to.clone()).collect();
        to.sort();
        // floor: email + in-app; quiet: in-app only; east: scoped elsewhere; viewer: not by default.
        assert_eq!(to, ["floor@example.com"]);
        let mail = &smtp.received()[0];
        assert_eq!(mail.header("Subject").as_deref(), Some("Low stock: MUG-1 at MAIN"));
        assert!(mail.data.contains("down to 4 available (reorder point 5)"), "{}", mail.data);
        let floor = store.users().acting("floor@example.com").expect("floor");
        let notification = store.notifications().status(&admin(), mail.header("Message-ID").expect("id").trim_matches(['<', '>']).trim_end_matches("@stockyard")).expect("by delivery id");
        assert_eq!(notification.status, NotificationStatus::Delivered);
        assert_eq!((report.created, report.delivered), (3, 3));

        let inbox = store.notifications().inbox(&floor, true, &PageRequest::default()).expect("inbox").items;
        assert_eq!(inbox.iter().map(|n| n.subject.as_str()).collect::<Vec<_>>(), ["Low stock: MUG-1 at MAIN"]);
        store.notifications().mark_read(&floor, &inbox[0].id.to_string()).expect("read");
        assert!(store.notifications().inbox(&floor, true, &PageRequest::default()).expect("inbox").items.is_empty());
        let quiet = store.users().acting("quiet@example.com").expect("quiet");
        assert_eq!(store.notifications().inbox(&quiet, false, &PageRequest::default()).expect("inbox").items.len(), 1);
        for nobody in ["east@example.com", "view@example.com"] {
            let actor = store.users().acting(nobody).expect("user");
            assert!(store.notifications().inbox(&actor, false, &PageRequest::default()).expect("inbox").items.is_empty(), "{nobody}");
        }
        // Another read of the log makes nothing twice.
        let again = dispatcher(&store, Some(&smtp)).run_once().expect("again");
        assert_eq!((again.created, smtp.received().len()), (0, 1));
        assert_eq!(db.number("SELECT COUNT(*) FROM events WHERE event_type = 'NotificationDelivered'"), 3);
        assert_eq!(db.number("SELECT COUNT(*) FROM events WHERE event_type = 'EmailNotificationRequested'"), 1);
        assert_eq!(db.number("SELECT COUNT(*) FROM events WHERE event_type = 'PushNotificationRequested'"), 2);
        // Addresses and text are sealed, and a key rotation re-seals them.
        let clear = "SELECT COUNT(*) FROM notifications WHERE address NOT LIKE 'sy1:%' OR subject NOT LIKE 'sy1:%' OR body NOT LIKE 'sy1:%'";
        assert_eq!(db.number(clear), 0);
        assert_eq!(store.keys().rotate(&admin(), None).expect("rotate").resealed, 1 + 3 * 3);
        assert_eq!(store.notifications().inbox(&floor, false, &PageRequest::default()).expect("inbox").items[0].subject, "Low stock: MUG-1 at MAIN");
    }

    fn the_inbox_pages_newest_first(db) {
        let store = three_low_stock_notes(db);
        let quiet = store.users().acting("quiet@example.com").expect("quiet");
        let inbox = store.notifications();
        let all = inbox.inbox(&quiet, false, &PageRequest::default()).expect("inbox");
        assert_eq!((all.items.len(), &all.next_cursor), (3, &None));
        assert!(all.items.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        let first = inbox.inbox(&quiet, false, &PageRequest { limit: Some(2), cursor: None }).expect("page 1");
        let rest = inbox.inbox(&quiet, false, &PageRequest { limit: Some(2), cursor: first.next_cursor.clone() }).expect("page 2");
        assert_eq!((first.items.len(), rest.items.len(), &rest.next_cursor), (2, 1, &None));
        assert_eq!([first.items, rest.items].concat(), all.items);
    }

    fn every_combination_of_notification_filters_lists_the_right_ones(db) {
        // Each combination is its own statement (crates/core/src/db/filter.rs).
        let store = three_low_stock_notes(db);
        let notes = store.notifications();
        let all = notes.list(&admin(), None, Some(1000), None).expect("all").items;
        for status in [None, Some("delivered"), Some("pending"), Some("sent"), Some("failed")] {
            let expected: Vec<_> = all.iter().filter(|n| status.is_none_or(|s| n.status.as_str() == s)).cloned().collect();
            let (mut listed, mut cursor) = (Vec::new(), None::<String>);
            loop {
                let page = notes.list(&admin(), status, Some(2), cursor.as_deref()).expect("page");
                listed.extend(page.items);
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            assert_eq!(listed, expected, "{status:?}");
        }
        let quiet = store.users().acting("quiet@example.com").expect("quiet");
        let inbox = notes.inbox(&quiet, false, &PageRequest::default()).expect("inbox").items;
        notes.mark_read(&quiet, &inbox[1].id.to_string()).expect("read one");
        let read_now = notes.inbox(&quiet, false, &PageRequest::default()).expect("inbox").items;
        for unread_only in [false, true] {
            let expected: Vec<_> = read_now.iter().filter(|n| !unread_only || n.id != inbox[1].id).cloned().collect();
            let first = notes.inbox(&quiet, unread_only, &PageRequest { limit: Some(1), cursor: None }).expect("page 1");
            let rest = notes.inbox(&quiet, unread_only, &PageRequest { limit: Some(1000), cursor: first.next_cursor.clone() }).expect("rest");
            assert_eq!([first.items, rest.items].concat(), expected, "unread only {unread_only}");
        }
    }

    fn the_customer_hears_of_their_order(db) {
        let store = store_with(db, &["MUG-1"]);
        store.inventory().receive(&admin(), "MUG-1", None, 10, None).expect("receive");
        let order = NewOrder {
            customer: Customer { email: "jane@example.org".into(), ..Default::default() },
            lines: vec![("MUG-1".into(), 1)],
            ..Default::default()
        };
        let order = store.orders().create(&admin(), order).expect("order");
        store.orders().pay(&admin(), &order.id.to_string(), None, None).expect("pay");
        let smtp = SmtpSink::start();
        dispatcher(&store, Some(&smtp)).run_once().expect("run");
        let mails = smtp.received();
        assert_eq!(mails.len(), 2, "confirmed, then paid");
        assert!(mails.iter().all(|m| m.to == ["jane@example.org"]));
        let subjects: Vec<_> = mails.iter().filter_map(|m| m.header("Subject")).collect();
        assert_eq!(subjects, [format!("Your order {} is confirmed", order.number), format!("Your order {} is paid", order.number)]);
    }

    fn a_crash_loses_nothing_and_repeats_with_the_same_id(db) {
        let store = low_stock(db);
        let smtp = SmtpSink::start();
        // Killed after the rows were made: nothing sent yet, nothing lost.
        dispatcher(&store, Some(&smtp)).stop_at(StopPoint::AfterCreating).run_once().expect("crash");
        assert_eq!(statuses(db), [("pending".into(), "email".into(), 1), ("pending".into(), "in_app".into(), 2)]);
        assert!(smtp.received().is_empty());
        // Killed after sending, before recording: the row stays claimed.
        dispatcher(&store, Some(&smtp)).stop_at(StopPoint::AfterSending).run_once().expect("crash");
        let first = smtp.received();
        let sent = db.number("SELECT COUNT(*) FROM notifications WHERE status = 'sent'");
        assert!(sent >= 1, "{:?}", statuses(db));
        // Within its lease nobody takes it; once the lease is over it goes again, same id.
        dispatcher(&store, Some(&smtp)).run_once().expect("within the lease");
        assert_eq!(db.number("SELECT COUNT(*) FROM notifications WHERE status = 'sent'"), sent);
        let restarted = Dispatcher::new(&store, &admin(), Some(Box::new(Smtp::new(&smtp.url(), FROM).expect("smtp"))))
            .expect("dispatcher")
            .with_policy(eager());
        restarted.run_once().expect("after the lease");
        assert_eq!(statuses(db), [("delivered".into(), "email".into(), 1), ("delivered".into(), "in_app".into(), 2)]);
        assert_eq!(db.number("SELECT COUNT(*) FROM notifications"), 3, "no row made twice");
        let ids: Vec<_> = smtp.received().iter().filter_map(|m| m.header("Message-ID")).collect();
        assert!(ids.len() >= first.len() && ids.windows(2).all(|w| w[0] == w[1]), "repeats carry one delivery id: {ids:?}");
    }

    fn an_unreachable_server_ends_failed_without_stalling_the_rest(db) {
        let store = low_stock(db);
        let dead = Box::new(Smtp::new("smtp://127.0.0.1:1", FROM).expect("smtp"));
        let report = Dispatcher::new(&store, &admin(), Some(dead)).expect("dispatcher").with_policy(eager()).run_once().expect("run");
        assert_eq!((report.delivered, report.failed), (2, 1), "in-app delivered, the email failed");
        let failed = store.notifications().list(&admin(), Some("failed"), None, None).expect("list").items;
        assert_eq!((failed.len(), failed[0].attempts), (1, 3));
        assert!(failed[0].last_error.is_some());
        assert_eq!(db.number("SELECT COUNT(*) FROM events WHERE event_type = 'NotificationFailed'"), 1);
    }

    fn a_server_that_refuses_then_accepts_gets_one_message(db) {
        let store = low_stock(db);
        let smtp = SmtpSink::start();
        smtp.refuse_next(2);
        let report = dispatcher(&store, Some(&smtp)).run_once().expect("run");
        assert_eq!((report.retrying, report.delivered, report.failed), (2, 3, 0));
        assert_eq!(smtp.received().len(), 1);
    }

    fn a_template_that_does_not_render_fails_its_rows_and_stalls_nothing(db) {
        let store = low_stock(db);
        // Broken behind the store's back (set_template would refuse it).
        db.sql("UPDATE notification_templates SET subject = '{{ oops }}' WHERE name = 'inventory_threshold_reached' AND channel = 'email'");
        let smtp = SmtpSink::start();
        let report = dispatcher(&store, Some(&smtp)).run_once().expect("run");
        assert_eq!(report.delivered, 2, "the in-app ones still go");
        let failed = store.notifications().list(&admin(), Some("failed"), None, None).expect("failed").items;
        assert_eq!(failed.len(), 1);
        assert!(failed[0].last_error.as_deref().is_some_and(|e| e.contains("oops")), "{:?}", failed[0].last_error);
        assert!(smtp.received().is_empty());
    }

    fn without_smtp_emails_wait(db) {
        let store = low_stock(db);
        let report = dispatcher(&store, None).run_once().expect("run");
        assert!(report.waiting.iter().any(|w| w.contains("STOCKYARD_SMTP_URL")));
        assert_eq!(statuses(db), [("pending".into(), "email".into(), 1), ("delivered".into(), "in_app".into(), 2)]);
        let smtp = SmtpSink::start();
        dispatcher(&store, Some(&smtp)).run_once().expect("run");
        assert_eq!(smtp.received().len(), 1, "sent once SMTP is there");
    }

    fn templates_parse_render_and_send_ad_hoc(db) {
        let store = store_with(db, &[]);
        let notifications = store.notifications();
        let names: Vec<_> = notifications.templates(&admin()).expect("templates").iter().map(|t| format!("{}/{}", t.name, t.channel)).collect();
        assert!(names.contains(&"inventory_threshold_reached/email".to_owned()) && names.contains(&"order_status_changed/email".to_owned()));
        let broken = notifications.set_template(&admin(), "welcome", Channel::Email, "Hi", "Dear {{ name }\n", None);
        let Err(Error::Invalid { field, reason }) = broken else { panic!("{broken:?}") };
        assert_eq!(field, "body");
        assert!(reason.starts_with("line 1"), "{reason}");
        notifications.set_template(&admin(), "welcome", Channel::Email, "Welcome, {{ name }}", "Hello {{ name }}!", None).expect("save");
        // An event's template must render what the event carries.
        let unknown = notifications.set_template(&admin(), "inventory_threshold_reached", Channel::Email, "{{ oops }}", "-", None);
        assert!(matches!(unknown, Err(Error::Invalid { .. })), "{unknown:?}");
        let preview = notifications.preview(&admin(), "order_status_changed", Channel::Email).expect("preview");
        assert_eq!(preview.subject, "Your order 1042 is shipped");
        let empty = serde_json::Map::new();
        let missing = notifications.send(&admin(), "bob@example.com", "welcome", &empty);
        assert!(matches!(missing, Err(Error::Invalid { .. })), "a missing variable is an error: {missing:?}");
        let vars = serde_json::json!({ "name": "Bob" }).as_object().cloned().unwrap_or_default();
        let queued = notifications.send(&admin(), "bob@example.com", "welcome", &vars).expect("send");
        assert_eq!(queued.status, NotificationStatus::Pending);
        let smtp = SmtpSink::start();
        dispatcher(&store, Some(&smtp)).run_once().expect("run");
        let mails = smtp.received();
        assert_eq!((mails.len(), mails[0].header("Subject")), (1, Some("Welcome, Bob".into())));
        assert_eq!(notifications.status(&admin(), &queued.id.to_string()).expect("status").status, NotificationStatus::Delivered);
        assert_eq!(db.number("SELECT COUNT(*) FROM events WHERE event_type = 'EmailNotificationRequested'"), 1);

        // The list pages newest first, each notification once, whatever the page size.
        let mut sent = vec![queued.id];
        for n in 0..6 {
            sent.push(notifications.send(&admin(), &format!("c{n}@example.com"), "welcome", &vars).expect("send").id);
        }
        sent.reverse();
        let (mut seen, mut cursor) = (Vec::new(), None);
        loop {
            let page = notifications.list(&admin(), None, Some(3), cursor.as_deref()).expect("page");
            assert!(page.items.len() <= 3);
            seen.extend(page.items.iter().map(|n| n.id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, sent);
        let bad = notifications.list(&admin(), None, None, Some("not a cursor!"));
        assert!(matches!(bad, Err(Error::Invalid { .. })), "{bad:?}");
    }
}
