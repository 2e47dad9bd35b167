//! Users and authentication on both backends: accounts and their bad input, session tokens
//! (forged, expired, stale), API tokens, login back-off, warehouse scope, clients' own
//! reservations, and notification preferences.

use crate::common;

use std::thread;

use common::{PASSWORD, acting, admin, invalid_field, level, store_at, store_with};

use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::{EncodingKey, Header};
use stockyard_core::PageRequest;
use stockyard_core::{
    Actor, Conflict, Error, EventType, ManualClock, NewUser, Role, StockQuery, Store, StoreOptions,
    auth::NewApiToken,
    inventory::{ReservationStatus, ReserveRequest},
    orders::{Customer, NewOrder, OrderPatch, OrderQuery},
    users::preferences::Channel,
};
use stockyard_testkit::{TestDb, backend_tests};

const SECRET: &str = "a test signing secret, not the stored one";

/// The same database, signing session tokens with [`SECRET`].
fn with_secret(db: &TestDb) -> Store {
    let options = StoreOptions { jwt_secret: Some(SECRET.into()), ..db.options() };
    Store::open_with(db.url(), &options).expect("open")
}

fn token(name: &str, role: &str, warehouses: &[&str]) -> NewApiToken {
    NewApiToken {
        name: name.into(),
        role: role.parse().expect("a role"),
        warehouses: warehouses.iter().map(|w| (*w).to_owned()).collect(),
        expires_in: None,
    }
}

fn unauthenticated(result: Result<Actor, Error>) -> String {
    match result {
        Err(Error::Unauthenticated { reason }) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A session token signed with `secret` for the user, its claims as given.
fn forge(secret: &str, sub: &str, role: &str, ver: i64, exp: i64) -> String {
    let claims = serde_json::json!({ "sub": sub, "role": role, "ver": ver, "iat": exp - 60, "exp": exp });
    jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(secret.as_bytes())).expect("encode")
}

backend_tests! {
    fn creates_users_and_refuses_bad_input(db) {
        let store = store_with(db, &[]);
        let users = store.users();
        let created = users
            .create(&admin(), NewUser { email: " Ann@Example.com ".into(), role: Role::Manager, ..Default::default() })
            .expect("ann");
        assert_eq!((created.user.email.as_str(), created.user.name.as_str()), ("ann@example.com", "ann"));
        let generated = created.generated_password.expect("a generated password, shown once");
        assert!(store.auth().login("ANN@example.com", &generated).is_ok());
        assert_eq!(db.number("SELECT COUNT(*) FROM users WHERE password_hash LIKE '$argon2id$%'"), 1);

        let events = db.number("SELECT COUNT(*) FROM events");
        let user = |email: &str, role: Role, password: &str| NewUser {
            email: email.into(),
            role,
            password: Some(password.into()),
            ..Default::default()
        };
        for (input, field) in [
            (user("bob@example.com", Role::Manager, "short"), "password"),
            (user("bob@example.com", Role::Manager, "aaaaaaaaaaaaaaaa"), "password"),
            (user("bob@example", Role::Manager, PASSWORD), "email"),
            (user("bob example.com", Role::Manager, PASSWORD), "email"),
        ] {
            assert_eq!(invalid_field(users.create(&admin(), input).expect_err("refused")), field);
        }
        let duplicate = users.create(&admin(), user("ANN@example.COM", Role::Viewer, PASSWORD)).expect_err("taken");
        assert!(matches!(duplicate, Error::Conflict { code: Conflict::Duplicate, .. }), "{duplicate:?}");
        let unknown = users.create(&admin(), NewUser { warehouses: vec!["NOWHERE".into()], ..user("c@example.com", Role::Viewer, PASSWORD) });
        assert!(matches!(unknown, Err(Error::NotFound { .. })), "{unknown:?}");
        assert_eq!(users.list(&admin(), &PageRequest::default()).expect("list").items.len(), 1, "nothing was created");
        assert_eq!(db.number("SELECT COUNT(*) FROM events"), events, "nothing was recorded");
        // Neither events nor the audit log hold the email.
        assert_eq!(db.number("SELECT COUNT(*) FROM events WHERE payload LIKE '%ann@%'"), 0);
        assert_eq!(db.number("SELECT COUNT(*) FROM audit_log WHERE after LIKE '%ann@%'"), 0);
    }

    fn the_last_admin_stays(db) {
        let store = store_with(db, &[]);
        acting(&store, "root@example.com", "admin", &[]);
        let users = store.users();
        assert!(matches!(users.set_role(&admin(), "root@example.com", Role::Viewer), Err(Error::Conflict { code: Conflict::InUse, .. })));
        assert!(matches!(users.set_active(&admin(), "root@example.com", false), Err(Error::Conflict { .. })));
        acting(&store, "second@example.com", "admin", &[]);
        assert!(!users.set_active(&admin(), "root@example.com", false).expect("disable").active);
    }

    fn concurrent_writes_keep_emails_unique_and_an_admin(db) {
        let store = store_with(db, &[]);
        let user = |email: String| NewUser { email, role: Role::Viewer, password: Some(PASSWORD.into()), ..Default::default() };
        let outcomes: Vec<_> = thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let (store, email) = (&store, if i % 2 == 0 { "Same@example.com" } else { "same@EXAMPLE.com" });
                    s.spawn(move || store.users().create(&admin(), user(email.into())))
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
        assert!(outcomes.iter().filter_map(|o| o.as_ref().err()).all(|e| matches!(e, Error::Conflict { .. })));

        // Two admins demoted at once, each by the other's hand: one must stay.
        for round in 0..5 {
            let (a, b) = (format!("a{round}@example.com"), format!("b{round}@example.com"));
            acting(&store, &a, "admin", &[]);
            acting(&store, &b, "admin", &[]);
            for other in store.users().list(&admin(), &PageRequest::default()).expect("list").items {
                if other.role == Role::Admin && other.email != a && other.email != b {
                    store.users().set_role(&admin(), &other.email, Role::Viewer).expect("leave two admins");
                }
            }
            let (actor_a, actor_b) = (store.users().acting(&a).expect("a"), store.users().acting(&b).expect("b"));
            let outcomes: Vec<_> = thread::scope(|s| {
                let demote_b = s.spawn(|| store.users().set_role(&actor_a, &b, Role::Viewer));
                let demote_a = s.spawn(|| store.users().set_role(&actor_b, &a, Role::Viewer));
                vec![demote_b.join().expect("thread"), demote_a.join().expect("thread")]
            });
            assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "round {round}: {outcomes:?}");
            assert!(outcomes.iter().any(|o| matches!(o, Err(Error::Conflict { .. }))), "round {round}: {outcomes:?}");
            assert_eq!(db.number("SELECT COUNT(*) FROM users WHERE role = 'admin'"), 1, "round {round}");
        }
    }

    fn init_admin_is_idempotent(db) {
        let store = store_with(db, &[]);
        let first = store.users().ensure_admin(&admin(), "boss@example.com", None).expect("init --admin");
        let first = first.expect("created");
        assert_eq!(first.user.role, Role::Admin);
        assert!(first.generated_password.is_some());
        let events = db.number("SELECT COUNT(*) FROM events");
        let again = store.users().ensure_admin(&admin(), "Boss@example.com", Some(PASSWORD.into())).expect("again");
        assert!(again.is_none());
        assert_eq!(db.number("SELECT COUNT(*) FROM events"), events);
    }

    fn acting_as_unknown_or_disabled_users_is_refused(db) {
        let store = store_with(db, &[]);
        acting(&store, "root@example.com", "admin", &[]);
        acting(&store, "gone@example.com", "sales", &[]);
        store.users().set_active(&admin(), "gone@example.com", false).expect("disable");
        assert!(unauthenticated(store.users().acting("nobody@example.com")).contains("unknown user"));
        assert!(unauthenticated(store.users().acting("gone@example.com")).contains("disabled"));
        assert!(unauthenticated(store.users().acting("not an email")).contains("unknown user"));
    }

    fn session_tokens_are_refused_when_forged_expired_or_stale(db) {
        store_with(db, &[]);
        let store = with_secret(db);
        let ann = acting(&store, "ann@example.com", "manager", &[]);
        let auth = store.auth();
        let token = auth.login("ann@example.com", PASSWORD).expect("login");
        assert_eq!((token.token_type, token.expires_in), ("Bearer", 3600));
        assert_eq!(auth.authenticate(&token.access_token).expect("valid"), ann);

        let id = ann.user_id().expect("a user").to_string();
        let later = Timestamp::now().as_second() + 600;
        assert!(auth.authenticate(&forge(SECRET, &id, "manager", 1, later)).is_ok(), "the forger's key works");
        let wrong_secret = forge("another secret", &id, "manager", 1, later);
        assert!(unauthenticated(auth.authenticate(&wrong_secret)).contains("signature"));
        let expired = forge(SECRET, &id, "manager", 1, Timestamp::now().as_second() - 1);
        assert!(unauthenticated(auth.authenticate(&expired)).contains("expired"));
        let promoted = forge(SECRET, &id, "admin", 1, later);
        assert!(unauthenticated(auth.authenticate(&promoted)).contains("log in again"));
        // One character of the payload changed: the signature no longer matches.
        let mut parts: Vec<String> = token.access_token.split('.').map(str::to_owned).collect();
        let flipped = if parts[1].as_bytes()[8] == b'A' { "B" } else { "A" };
        parts[1].replace_range(8..9, flipped);
        assert!(unauthenticated(auth.authenticate(&parts.join("."))).contains("session token"));
        assert!(auth.authenticate("not.a.token").is_err());

        // A role change, a password change and disabling each end the sessions before them.
        store.users().set_role(&admin(), "ann@example.com", Role::Sales).expect("role");
        assert!(unauthenticated(auth.authenticate(&token.access_token)).contains("log in again"));
        let token = auth.login("ann@example.com", PASSWORD).expect("login again");
        assert_eq!(auth.authenticate(&token.access_token).expect("valid").role(), Role::Sales);
        store.users().set_password(&admin(), "ann@example.com", "a new long passphrase").expect("password");
        assert!(auth.authenticate(&token.access_token).is_err());
        assert!(auth.login("ann@example.com", PASSWORD).is_err(), "the old password is gone");
        let token = auth.login("ann@example.com", "a new long passphrase").expect("login with the new one");
        store.users().set_active(&admin(), "ann@example.com", false).expect("disable");
        assert!(unauthenticated(auth.authenticate(&token.access_token)).contains("disabled"));
        assert!(auth.login("ann@example.com", "a new long passphrase").is_err());
    }

    fn session_tokens_expire_by_the_stores_clock(db) {
        let clock = ManualClock::starting_now();
        let store = store_at(db, &clock, &[]);
        acting(&store, "ann@example.com", "viewer", &[]);
        let auth = store.auth();
        let token = auth.login("ann@example.com", PASSWORD).expect("login");
        // Valid through the second it expires in (an hour), refused after.
        let expires = clock.now().as_second() + token.expires_in;
        clock.set(Timestamp::from_second(expires).expect("a time"));
        assert!(auth.authenticate(&token.access_token).is_ok(), "still valid in its last second");
        clock.advance(SignedDuration::from_secs(1));
        assert!(unauthenticated(auth.authenticate(&token.access_token)).contains("expired"));
    }

    fn the_stored_secret_signs_without_configuration(db) {
        let store = store_with(db, &[]);
        acting(&store, "ann@example.com", "viewer", &[]);
        let token = store.auth().login("ann@example.com", PASSWORD).expect("login");
        assert!(store.auth().authenticate(&token.access_token).is_ok());
        // A token from a store with another secret is refused.
        assert!(with_secret(db).auth().authenticate(&token.access_token).is_err());
    }

    fn failed_logins_back_off_without_saying_whether_the_email_exists(db) {
        let clock = ManualClock::starting_now();
        let store = store_at(db, &clock, &[]);
        acting(&store, "ann@example.com", "viewer", &[]);
        let auth = store.auth();
        let refusal = |result: Result<stockyard_core::auth::AccessToken, Error>| match result {
            Err(Error::Unauthenticated { reason }) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        };
        let unknown = refusal(auth.login("nobody@example.com", PASSWORD));
        for _ in 0..3 {
            assert_eq!(refusal(auth.login("ann@example.com", "wrong password!!")), unknown);
        }
        // Three failures: even the right password must now wait a second.
        assert_eq!(refusal(auth.login("ann@example.com", PASSWORD)), unknown);
        clock.advance(SignedDuration::from_millis(1100));
        assert!(auth.login("ann@example.com", PASSWORD).is_ok());
        assert_eq!(db.number("SELECT failed_logins FROM users"), 0, "success resets the count");
    }

    fn api_tokens_are_shown_once_and_kept_as_hashes(db) {
        let clock = ManualClock::starting_now();
        let store = store_at(db, &clock, &[]);
        let auth = store.auth();
        let created = auth
            .create_token(&admin(), NewApiToken { name: "shop-app".into(), role: Role::Client, warehouses: vec![], expires_in: None })
            .expect("token");
        let secret = created.secret.clone();
        assert!(secret.starts_with("sy_") && secret.len() > 40);
        assert_eq!(db.number(&format!("SELECT COUNT(*) FROM api_tokens WHERE token_hash = '{secret}'")), 0);
        assert_eq!(db.number("SELECT COUNT(*) FROM api_tokens WHERE length(token_hash) = 64"), 1);
        let actor = auth.authenticate(&secret).expect("valid");
        assert_eq!((actor.to_string().as_str(), actor.role()), ("token:shop-app", Role::Client));
        let listed = auth.tokens(&admin(), &PageRequest::default()).expect("list");
        assert!(!serde_json::to_value(&listed).expect("json").to_string().contains(&secret));

        let duplicate = auth.create_token(&admin(), NewApiToken { name: "shop-app".into(), role: Role::Viewer, warehouses: vec![], expires_in: None });
        assert!(matches!(duplicate, Err(Error::Conflict { .. })));
        auth.revoke_token(&admin(), "shop-app").expect("revoke");
        assert!(unauthenticated(auth.authenticate(&secret)).contains("revoked"));
        assert!(unauthenticated(auth.authenticate("sy_not-a-token")).contains("unknown"));

        let brief = auth
            .create_token(&admin(), NewApiToken { name: "brief".into(), role: Role::Viewer, warehouses: vec![], expires_in: Some(SignedDuration::from_secs(1)) })
            .expect("token");
        assert!(auth.authenticate(&brief.secret).is_ok());
        clock.advance(SignedDuration::from_millis(1100));
        assert!(unauthenticated(auth.authenticate(&brief.secret)).contains("expired"));
    }

    fn a_scoped_user_sees_and_reserves_only_in_scope(db) {
        let store = store_with(db, &["A-1"]);
        let inv = store.inventory();
        inv.receive(&admin(), "A-1", Some("MAIN"), 10, None).expect("MAIN");
        inv.receive(&admin(), "A-1", Some("EAST"), 2, None).expect("EAST");
        let east = acting(&store, "east@example.com", "sales", &["east"]);
        assert_eq!(east.scope(), ["EAST"]);

        let seen = inv.levels(&east, &StockQuery::default()).expect("levels");
        assert_eq!(seen.items.iter().map(|l| l.warehouse.as_str()).collect::<Vec<_>>(), ["EAST"]);
        let history = inv.history(&east, "A-1", None, None, None).expect("history");
        assert!(history.items.iter().all(|m| m.warehouse == "EAST"));

        // Allocation looks only where the user may act: MAIN's 10 are out of reach.
        let request = |q| ReserveRequest { lines: vec![("A-1".into(), q)], ..Default::default() };
        let held = inv.reserve(&east, request(2)).expect("reserve at EAST");
        assert_eq!(held.lines[0].warehouse, "EAST");
        assert!(matches!(inv.reserve(&east, request(1)), Err(Error::InsufficientStock { .. })));
        assert_eq!(level(&store, "A-1", "MAIN").reserved, 0);
    }

    fn a_client_sees_only_its_own_reservations(db) {
        let store = store_with(db, &["A-1"]);
        let inv = store.inventory();
        inv.receive(&admin(), "A-1", None, 10, None).expect("stock");
        let ann = acting(&store, "ann@example.com", "client", &[]);
        let bob = acting(&store, "bob@example.com", "client", &[]);
        let request = ReserveRequest { lines: vec![("A-1".into(), 2)], ..Default::default() };
        let held = inv.reserve(&ann, request).expect("ann reserves");
        assert_eq!(held.owner, "ann@example.com");
        let id = held.id.to_string();
        assert!(matches!(inv.reservation(&bob, &id), Err(Error::NotFound { .. })));
        assert!(matches!(inv.release(&bob, &id), Err(Error::NotFound { .. })));
        assert_eq!(level(&store, "A-1", "MAIN").reserved, 2, "bob changed nothing");
        assert_eq!(inv.reservation(&ann, &id).expect("her own").id, held.id);
        assert!(inv.reservation(&admin(), &id).is_ok());
        inv.release(&ann, &id).expect("ann releases her own");
    }

    fn notification_preferences_follow_the_role_until_set(db) {
        let store = store_with(db, &[]);
        acting(&store, "floor@example.com", "warehouse", &[]);
        let viewer = acting(&store, "view@example.com", "viewer", &[]);
        let floor = store.users().acting("floor@example.com").expect("actor");
        let users = store.users();
        let low = |prefs: &[stockyard_core::users::preferences::Preference], channel| {
            let p = prefs
                .iter()
                .find(|p| p.event_type == EventType::InventoryThresholdReached && p.channel == channel)
                .expect("a preference");
            (p.enabled, p.source)
        };
        let prefs = users.preferences(&floor, "floor@example.com").expect("own");
        assert_eq!(low(&prefs, Channel::Email), (true, "default"));
        assert_eq!(low(&prefs, Channel::InApp), (true, "default"));
        assert_eq!(low(&prefs, Channel::Sms), (false, "default"));
        let viewer_prefs = users.preferences(&viewer, "view@example.com").expect("own");
        assert_eq!(low(&viewer_prefs, Channel::Email), (false, "default"));

        let prefs = users
            .set_preferences(&floor, "floor@example.com", "InventoryThresholdReached", &[(Channel::Email, false), (Channel::Sms, true)])
            .expect("set");
        assert_eq!(low(&prefs, Channel::Email), (false, "set"));
        assert_eq!(low(&prefs, Channel::Sms), (true, "set"));
        // Someone else's preferences need user.manage.
        let err = users.set_preferences(&viewer, "floor@example.com", "InventoryThresholdReached", &[(Channel::Email, true)]);
        assert!(matches!(err, Err(Error::Forbidden { .. })), "{err:?}");
        assert!(users.set_preferences(&admin(), "floor@example.com", "InventoryThresholdReached", &[(Channel::Email, true)]).is_ok());
        let refused = users.set_preferences(&floor, "floor@example.com", "ProductCreated", &[(Channel::Email, true)]);
        assert_eq!(invalid_field(refused.expect_err("does not notify")), "event");
    }

    fn a_new_token_with_a_revoked_tokens_name_owns_nothing_of_it(db) {
        let store = store_with(db, &["A-1"]);
        store.inventory().receive(&admin(), "A-1", Some("MAIN"), 10, None).expect("stock");
        let auth = store.auth();
        let old = auth.authenticate(&auth.create_token(&admin(), token("shop", "client", &[])).expect("token").secret).expect("old");
        let request = ReserveRequest { lines: vec![("A-1".into(), 1)], ..Default::default() };
        let held = store.inventory().reserve(&old, request).expect("reserve").id.to_string();
        let order = NewOrder {
            customer: Customer { email: "buyer@example.com".into(), ..Default::default() },
            lines: vec![("A-1".into(), 1)],
            ..Default::default()
        };
        let placed = store.orders().create(&old, order).expect("order").id.to_string();
        auth.revoke_token(&admin(), "shop").expect("revoke");
        let new = auth.authenticate(&auth.create_token(&admin(), token("shop", "client", &[])).expect("again").secret).expect("new");
        assert_eq!(new.to_string(), old.to_string(), "the same name reads the same");
        let not_found = |result: Result<(), Error>| matches!(result, Err(Error::NotFound { .. }));
        assert!(not_found(store.inventory().reservation(&new, &held).map(drop)));
        assert!(not_found(store.inventory().release(&new, &held).map(drop)));
        assert!(not_found(store.orders().order(&new, &placed).map(drop)));
        let patch = OrderPatch { notes: Some("mine now".into()), ..Default::default() };
        assert!(not_found(store.orders().update(&new, &placed, patch).map(drop)));
        assert!(store.orders().list(&new, &OrderQuery::default()).expect("list").items.is_empty());
        // Still held, and staff read its owner by name.
        let shown = store.inventory().reservation(&admin(), &held).expect("held");
        assert_eq!((shown.owner.as_str(), shown.status), ("token:shop", ReservationStatus::Active));
        assert_eq!(store.orders().order(&admin(), &placed).expect("order").owner, "token:shop");
    }

    fn a_token_never_exceeds_its_creator(db) {
        let store = store_with(db, &["A-1"]);
        let (auth, users) = (store.auth(), store.users());
        let east = acting(&store, "east@example.com", "admin", &["EAST"]);
        // Made by a scoped admin: scoped like it unless narrower, never wider.
        let made = auth.create_token(&east, token("east-app", "warehouse", &[])).expect("token");
        assert_eq!((made.token.warehouses.as_slice(), made.token.created_by.as_str()), (&["EAST".to_owned()][..], "east@example.com"));
        for wider in [&["MAIN"][..], &["EAST", "MAIN"]] {
            let refused = auth.create_token(&east, token("wide", "warehouse", wider));
            assert!(matches!(refused, Err(Error::Forbidden { .. })), "{wider:?}: {refused:?}");
        }
        let unscoped = auth.create_token(&admin(), token("main-app", "viewer", &[])).expect("token");
        assert!(matches!(auth.revoke_token(&east, "main-app"), Err(Error::Forbidden { .. })), "wider than it");
        assert!(auth.authenticate(&unscoped.secret).is_ok());
        let app = auth.authenticate(&made.secret).expect("live");
        assert_eq!(app.scope(), ["EAST"]);
        let refused = store.inventory().receive(&app, "A-1", Some("MAIN"), 1, None);
        assert!(matches!(refused, Err(Error::Forbidden { .. })), "{refused:?}");
        store.inventory().receive(&app, "A-1", Some("EAST"), 1, None).expect("in scope");

        // Checked again at every use: a creator that no longer holds the token's role or
        // warehouses, or is disabled, takes the token's rights with it.
        acting(&store, "boss@example.com", "admin", &[]);
        let boss = users.acting("boss@example.com").expect("boss");
        let secret = auth.create_token(&boss, token("boss-app", "manager", &[])).expect("token").secret;
        assert_eq!(auth.authenticate(&secret).expect("live").scope(), [] as [String; 0]);
        users.set_scope(&admin(), "boss@example.com", &["EAST".into()]).expect("narrowed");
        assert!(unauthenticated(auth.authenticate(&secret)).contains("no longer holds"));
        users.set_scope(&admin(), "boss@example.com", &[]).expect("widened again");
        assert!(auth.authenticate(&secret).is_ok());
        users.set_role(&admin(), "boss@example.com", Role::Sales).expect("demoted");
        assert!(unauthenticated(auth.authenticate(&secret)).contains("no longer holds"));
        users.set_role(&admin(), "boss@example.com", Role::Admin).expect("promoted");
        users.set_active(&admin(), "boss@example.com", false).expect("disabled");
        assert!(unauthenticated(auth.authenticate(&secret)).contains("no longer holds"));
    }

    fn users_tokens_and_the_audit_log_page_by_cursor(db) {
        let store = store_with(db, &[]);
        for n in 0..5 {
            acting(&store, &format!("user{n}@example.com"), "viewer", &[]);
            let token = NewApiToken { name: format!("app-{n}"), role: Role::Viewer, warehouses: vec![], expires_in: None };
            store.auth().create_token(&admin(), token).expect("token");
        }
        // Every page of a list, in order.
        fn walk<T>(mut read: impl FnMut(&PageRequest) -> stockyard_core::Page<T>) -> (Vec<T>, usize) {
            let (mut items, mut pages, mut request) = (Vec::new(), 0, PageRequest { limit: Some(2), cursor: None });
            loop {
                let page = read(&request);
                pages += 1;
                items.extend(page.items);
                match page.next_cursor {
                    Some(next) => request.cursor = Some(next),
                    None => return (items, pages),
                }
            }
        }
        let (users, pages) = walk(|p| store.users().list(&admin(), p).expect("users"));
        let emails: Vec<String> = users.iter().map(|u| u.email.clone()).collect();
        assert_eq!((emails.len(), pages), (5, 3));
        assert!(emails.windows(2).all(|w| w[0] < w[1]), "by email: {emails:?}");
        let (tokens, _) = walk(|p| store.auth().tokens(&admin(), p).expect("tokens"));
        let names: Vec<&str> = tokens.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["app-4", "app-3", "app-2", "app-1", "app-0"], "newest first");
        let (records, _) = walk(|p| store.audit().list(&admin(), None, p).expect("audit"));
        let whole = store.audit().list(&admin(), None, &PageRequest { limit: Some(1000), cursor: None }).expect("audit");
        assert_eq!(records, whole.items);
        assert!(records.windows(2).all(|w| w[0].seq < w[1].seq));
        let forged = PageRequest { limit: None, cursor: Some("bm90LWlzc3VlZA".into()) };
        assert!(matches!(store.audit().list(&admin(), None, &forged), Err(Error::Invalid { .. })));
        assert!(matches!(store.users().list(&admin(), &forged), Err(Error::Invalid { .. })));
    }
}
