//! Property tests of the parsers of outside input, through the public API: whatever the
//! text — random bytes, random Unicode, near misses of the real syntax — the answer is a
//! value or a refusal that names the field (or the file's line and column), never a panic
//! or an internal error, and a refused input changes nothing. The store-backed ones run on
//! both backends, one store per run and many cases against it.

use std::time::Duration;

use jiff::Timestamp;
use proptest::{prelude::*, test_runner::TestRunner};
use stockyard_core::{
    Actor, Channel, Currency, Error, Money, NewUser, PageRequest, ProductQuery, Role, Sku, Store,
    notifications::webhooks,
};
use stockyard_testkit::backend_tests;

/// Text a user might send: anything at all, printable ASCII, or the characters of numbers,
/// codes and CSV.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,40}", "[ -~]{0,40}", "[0-9.,+eE -]{0,14}", "[A-Za-z0-9_./ @\"=,\n-]{0,30}"]
}

/// The refusal names one of `fields`.
fn names(e: &Error, fields: &[&str]) -> bool {
    matches!(e, Error::Invalid { field, .. } if fields.contains(&field.as_str()))
}

/// What the audit log and the event log hold: unchanged by a refused input.
fn journal(store: &Store) -> (i64, i64) {
    let head = store.audit().head(&Actor::local_admin()).expect("audit head");
    (head.length, head.event_seq)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn money_parses_exactly_or_names_the_field(amount in text()) {
        match Money::parse(&amount, Currency::parse("USD").expect("USD"), "price") {
            Ok(money) => {
                let again = Money::parse(&money.amount(), money.currency(), "price").expect("its own amount parses");
                prop_assert_eq!(again, money);
            }
            Err(e) => prop_assert!(names(&e, &["price"]), "{e:?}"),
        }
    }

    #[test]
    fn well_formed_amounts_always_parse(whole in 0u64..1_000_000_000, cents in proptest::option::of(0u64..100)) {
        let amount = cents.map_or(whole.to_string(), |c| format!("{whole}.{c:02}"));
        let money = Money::parse(&amount, Currency::parse("usd").expect("usd"), "price").expect("a plain amount");
        prop_assert_eq!(money.minor(), i64::try_from(whole * 100 + cents.unwrap_or(0)).expect("fits"));
    }

    #[test]
    fn currencies_and_skus_parse_or_name_the_field(value in text()) {
        if let Err(e) = Currency::parse(&value) {
            prop_assert!(names(&e, &["currency"]), "{e:?}");
        }
        match Sku::parse(&value) {
            Ok(sku) => prop_assert_eq!(Sku::parse(sku.as_str()).expect("its own text"), sku),
            Err(e) => prop_assert!(names(&e, &["sku"]), "{e:?}"),
        }
    }

    #[test]
    fn a_webhook_signature_header_is_checked_never_trusted(
        header in prop_oneof![text(), "t=-?[0-9]{1,20},v1=[0-9a-f]{0,70}"],
        body in proptest::collection::vec(any::<u8>(), 0..64),
        at in -10_000_000_000i64..10_000_000_000,
    ) {
        let now = Timestamp::from_second(1_700_000_000).expect("now");
        let tolerance = Duration::from_secs(300);
        prop_assert!(webhooks::verify("secret", &header, &body, now, tolerance).is_err(), "a random header verified");
        let signed = webhooks::signature("secret", at, &body);
        let fresh = (-300..=300).contains(&(now.as_second() - at));
        prop_assert_eq!(webhooks::verify("secret", &signed, &body, now, tolerance).is_ok(), fresh, "{}", signed);
        prop_assert!(webhooks::verify("other", &signed, &body, now, tolerance).is_err());
    }
}

#[test]
fn a_webhook_signature_from_the_edge_of_time_is_refused() {
    let now = Timestamp::from_second(1_700_000_000).expect("now");
    for at in [i64::MIN, i64::MAX] {
        let signed = webhooks::signature("secret", at, b"{}");
        assert!(webhooks::verify("secret", &signed, b"{}", now, Duration::from_secs(300)).is_err(), "{signed}");
    }
}

/// Runs `cases` generated inputs against one store.
fn against<S: Strategy>(cases: u32, strategy: S, check: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let mut runner = TestRunner::new(ProptestConfig { cases, ..ProptestConfig::default() });
    if let Err(failure) = runner.run(&strategy, check) {
        panic!("{failure}");
    }
}

/// A CSV file: a header of real and made-up columns, then rows of any cells.
fn csv(columns: &'static [&'static str]) -> impl Strategy<Value = String> {
    let header = proptest::sample::subsequence(columns, 0..=columns.len());
    let cell = prop_oneof!["[A-Z0-9-]{1,8}", "[0-9]{1,4}(\\.[0-9]{1,3})?", "-?[0-9]{1,12}", text()];
    (header, proptest::collection::vec(proptest::collection::vec(cell, 0..8), 0..6)).prop_map(|(header, rows)| {
        let quote = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
        let mut file = header.join(",");
        for row in rows {
            file.push('\n');
            file.push_str(&row.iter().map(|c| quote(c)).collect::<Vec<_>>().join(","));
        }
        file
    })
}

const PRODUCT_COLUMNS: &[&str] = &[
    "sku",
    "name",
    "price",
    "currency",
    "description",
    "category",
    "barcode",
    "active",
    "version",
    "attr.colour",
    "colour",
];
const STOCK_COLUMNS: &[&str] =
    &["sku", "warehouse", "quantity", "mode", "reason", "reorder_point", "reorder_qty", "bin"];

backend_tests! {
    fn imports_of_any_file_apply_whole_or_name_every_bad_row(db) {
        let store = db.store();
        let me = Actor::local_admin();
        store.init(&me).expect("init");
        store.inventory().receive(&me, &store.catalog().create_product(&me, stockyard_core::NewProduct {
            sku: "MUG-01".into(), name: "Mug".into(), price: "5".into(), ..Default::default()
        }).expect("product").sku.to_string(), None, 3, None).expect("stock");
        let bytes = proptest::collection::vec(any::<u8>(), 0..200).prop_map(|b| String::from_utf8_lossy(&b).into_owned());
        let files = prop_oneof![csv(PRODUCT_COLUMNS), csv(STOCK_COLUMNS), bytes];
        against(96, (files, any::<bool>(), any::<bool>()), |(file, products, dry_run)| {
            let before = journal(&store);
            let outcome = if products {
                store.catalog().import_products(&me, file.as_bytes(), dry_run, &mut |_, _| {}).map(drop)
            } else {
                store.inventory().import_stock(&me, file.as_bytes(), dry_run, &mut |_, _| {}).map(drop)
            };
            match outcome {
                Ok(()) if !dry_run => {}
                Ok(()) => prop_assert_eq!(journal(&store), before, "a dry run changes nothing"),
                Err(Error::BadRows { problems }) => {
                    prop_assert!(!problems.is_empty());
                    let lines = file.lines().count().max(1) as u64;
                    prop_assert!(problems.iter().all(|p| p.line >= 1 && p.line <= lines + 1), "{:?}", problems);
                    prop_assert_eq!(journal(&store), before, "a refused file changes nothing");
                }
                Err(e) => prop_assert!(false, "not a row-by-row refusal: {e:?}"),
            }
            Ok(())
        });
        let report = store.inventory().verify(&me).expect("verify");
        assert!(report.ok, "{:?}", report.differences);
    }

    fn a_template_with_a_nul_or_past_its_size_is_refused_naming_the_part(db) {
        // Found by the properties below: PostgreSQL answered a NUL with an internal error.
        let store = db.store();
        let me = Actor::local_admin();
        store.init(&me).expect("init");
        let notifications = store.notifications();
        for (body, html) in [("a\0b", None), ("ok", Some("<p>\0</p>")), (&*"x".repeat(64 * 1024 + 1), None)] {
            let refused = notifications.set_template(&me, "custom_note", Channel::Email, "Hi", body, html).expect_err("refused");
            assert!(names(&refused, &["body", "html"]), "{refused:?}");
        }
        notifications.set_template(&me, "custom_note", Channel::Email, "Hi", "line one\r\nline\ttwo", None).expect("CRLF and tabs");
    }

    fn cursors_emails_and_templates_from_outside_are_checked(db) {
        let store = db.store();
        let me = Actor::local_admin();
        store.init(&me).expect("init");
        against(64, text(), |cursor| {
            let query = ProductQuery { cursor: Some(cursor), ..Default::default() };
            if let Err(e) = store.catalog().list_products(&me, &query) {
                prop_assert!(names(&e, &["cursor"]), "{e:?}");
            }
            let page = PageRequest { limit: None, cursor: query.cursor };
            if let Err(e) = store.users().list(&me, &page) {
                prop_assert!(names(&e, &["cursor"]), "{e:?}");
            }
            Ok(())
        });
        against(64, text(), |email| {
            let before = journal(&store);
            let user = NewUser { email, role: Role::Viewer, password: Some("a long enough passphrase".into()), ..Default::default() };
            match store.users().create(&me, user) {
                Ok(_) | Err(Error::Conflict { .. }) => {}
                Err(e) => {
                    prop_assert!(names(&e, &["email", "name"]), "{e:?}");
                    prop_assert_eq!(journal(&store), before);
                }
            }
            Ok(())
        });
        against(64, (text(), text()), |(subject, body)| {
            let before = journal(&store);
            let set = store.notifications().set_template(&me, "hostile_check", Channel::Email, &subject, &body, None);
            match set {
                Ok(_) => {
                    if let Err(e) = store.notifications().preview(&me, "hostile_check", Channel::Email) {
                        prop_assert!(names(&e, &["subject", "body"]), "{e:?}");
                    }
                }
                Err(e) => {
                    prop_assert!(names(&e, &["subject", "body"]), "{e:?}");
                    prop_assert_eq!(journal(&store), before);
                }
            }
            Ok(())
        });
    }
}
