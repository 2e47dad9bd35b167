//! The permission table on both backends, exhaustively: every role × every action ×
//! (unscoped, scoped and acting outside the scope, scoped and acting inside it), checked
//! twice — the library's `explain` against the table written out below, and the real
//! operation, which must succeed or be refused with `Forbidden` having changed nothing.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{PASSWORD, acting, admin, store_with};

use jiff::Timestamp;
use stockyard_core::PageRequest;
use stockyard_core::{
    Action, Actor, Adjustment, Error, EventFilter, NewCategory, NewProduct, NewUser, NewWarehouse, OrderStatus,
    ProductPatch, Result, Role, StockQuery, Store,
    auth::NewApiToken,
    inventory::{Reservation, ReserveRequest},
    notifications::dispatch::Dispatcher,
    orders::{Customer, NewOrder, OrderPatch, OrderQuery, ReturnLine},
    users::preferences::Channel,
};
use stockyard_testkit::{Reach, backend_tests};

/// The table, written out independently of the code: the roles allowed each action, by
/// initial (Admin, Manager, Warehouse, Sales, Client, Viewer).
const TABLE: &[(&str, &str)] = &[
    ("product.read", "AMWSCV"),
    ("product.create", "AM"),
    ("product.update", "AM"),
    ("product.delete", "AM"),
    ("category.read", "AMWSCV"),
    ("category.create", "AM"),
    ("warehouse.read", "AMWSCV"),
    ("warehouse.create", "AM"),
    ("stock.read", "AMWSCV"),
    ("stock.history", "AMWSV"),
    ("stock.receive", "AMW"),
    ("stock.adjust", "AMW"),
    ("stock.transfer", "AMW"),
    ("stock.count", "AMW"),
    ("stock.threshold", "AM"),
    ("stock.verify", "AM"),
    ("stock.replay", "AM"),
    ("reservation.read", "AMWSCV"),
    ("reservation.create", "AMSC"),
    ("reservation.release", "AMSC"),
    ("reservation.commit", "AMW"),
    ("reservation.expire", "AM"),
    ("order.read", "AMWSCV"),
    ("order.create", "AMSC"),
    ("order.update", "AMSC"),
    ("order.pay", "AMS"),
    ("order.cancel", "AMS"),
    ("order.pick", "AMW"),
    ("order.pack", "AMW"),
    ("order.ship", "AMW"),
    ("order.deliver", "AMW"),
    ("order.return", "AMS"),
    ("order.refund", "AMS"),
    ("notify.templates", "AM"),
    ("notify.send", "AM"),
    ("notify.read", "AM"),
    ("notify.run", "A"),
    ("webhook.manage", "AM"),
    ("events.read", "AMWSCV"),
    ("audit.read", "AMV"),
    ("user.read", "A"),
    ("user.manage", "A"),
    ("user.prefs", "AMWSCV"),
    ("token.manage", "A"),
    ("key.rotate", "A"),
    ("store.setup", "A"),
];

/// Actions that happen at a warehouse: a scoped user may do them only there.
const AT_WAREHOUSE: &[&str] = &[
    "stock.read",
    "stock.history",
    "stock.receive",
    "stock.adjust",
    "stock.transfer",
    "stock.count",
    "stock.threshold",
    "reservation.read",
    "reservation.create",
    "reservation.release",
    "reservation.commit",
    "order.read",
    "order.create",
    "order.update",
    "order.pay",
    "order.cancel",
    "order.return",
    "order.refund",
    "order.pick",
    "order.pack",
    "order.ship",
    "order.deliver",
];

fn forbidden<T: std::fmt::Debug>(result: Result<T>) -> bool {
    matches!(result, Err(Error::Forbidden { .. }))
}

fn expected(role: Role, action: &str, reach: Reach) -> bool {
    let initial = role.as_str().chars().next().expect("a role name").to_ascii_uppercase();
    let (_, roles) = TABLE.iter().find(|(a, _)| *a == action).unwrap_or_else(|| panic!("{action} not in TABLE"));
    roles.contains(initial) && !(reach == Reach::Outside && AT_WAREHOUSE.contains(&action))
}

static UNIQUE: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", UNIQUE.fetch_add(1, Ordering::Relaxed))
}

/// A reservation of one P-2 at `warehouse` held by `actor` when it may reserve there, by
/// the admin otherwise.
fn held(store: &Store, actor: &Actor, warehouse: &str) -> Reservation {
    let request =
        || ReserveRequest { lines: vec![("P-2".into(), 1)], warehouse: Some(warehouse.into()), ..Default::default() };
    store
        .inventory()
        .reserve(actor, request())
        .or_else(|_| store.inventory().reserve(&admin(), request()))
        .expect("held")
}

fn new_order(warehouse: &str) -> NewOrder {
    NewOrder {
        customer: Customer { email: "buyer@example.com".into(), ..Default::default() },
        lines: vec![("P-2".into(), 1)],
        warehouse: Some(warehouse.into()),
        ..Default::default()
    }
}

/// An order of one P-2 at `warehouse`, placed by `actor` when it may, by the admin
/// otherwise, then taken by the admin through `steps` (`pay`, or a status).
fn order(store: &Store, actor: &Actor, warehouse: &str, steps: &[&str]) -> String {
    let orders = store.orders();
    let placed = orders
        .create(actor, new_order(warehouse))
        .or_else(|_| orders.create(&admin(), new_order(warehouse)))
        .expect("order");
    let id = placed.id.to_string();
    for step in steps {
        match *step {
            "pay" => orders.pay(&admin(), &id, None, None).map(drop),
            "cancel" => orders.cancel(&admin(), &id, None).map(drop),
            status => orders.set_status(&admin(), &id, status.parse().expect("status"), None).map(drop),
        }
        .expect("step");
    }
    id
}

/// The operation that needs `action`, as `actor`, at `reach`'s warehouses — ready to run,
/// with whatever it acts on already in place.
fn operation<'a>(
    store: &'a Store,
    actor: &'a Actor,
    action: Action,
    reach: Reach,
    email: &'a str,
) -> Box<dyn FnOnce() -> Result<()> + 'a> {
    let (here, there) = (reach.here(), reach.there());
    let inv = store.inventory();
    match action {
        Action::ProductRead => Box::new(move || store.catalog().product(actor, "P-1").map(drop)),
        Action::ProductCreate => Box::new(move || {
            let product =
                NewProduct { sku: unique("NEW-"), name: "New".into(), price: "1.00".into(), ..Default::default() };
            store.catalog().create_product(actor, product).map(drop)
        }),
        Action::ProductUpdate => Box::new(move || {
            let patch = ProductPatch { name: Some(unique("Renamed ")), ..Default::default() };
            store.catalog().update_product(actor, "P-1", patch).map(drop)
        }),
        Action::ProductDelete => {
            let sku = unique("GONE-");
            let product =
                NewProduct { sku: sku.clone(), name: "Gone".into(), price: "1.00".into(), ..Default::default() };
            store.catalog().create_product(&admin(), product).expect("product to delete");
            Box::new(move || store.catalog().delete_product(actor, &sku))
        }
        Action::CategoryRead => Box::new(move || store.catalog().categories(actor).map(drop)),
        Action::CategoryCreate => Box::new(move || {
            store.catalog().create_category(actor, NewCategory { name: unique("Cat "), parent: None }).map(drop)
        }),
        Action::WarehouseRead => Box::new(move || store.warehouses().list(actor).map(drop)),
        Action::WarehouseCreate => Box::new(move || {
            store.warehouses().create(actor, NewWarehouse { code: unique("W"), name: "New".into() }).map(drop)
        }),
        Action::StockRead => Box::new(move || {
            inv.levels(actor, &StockQuery { warehouse: Some(here.into()), ..Default::default() }).map(drop)
        }),
        Action::StockHistory => Box::new(move || inv.history(actor, "P-1", Some(here), None, None).map(drop)),
        Action::StockReceive => Box::new(move || inv.receive(actor, "P-1", Some(here), 1, None).map(drop)),
        Action::StockAdjust => {
            Box::new(move || inv.adjust(actor, "P-1", Some(here), Adjustment::By(1), "found one").map(drop))
        }
        Action::StockTransfer => Box::new(move || inv.transfer(actor, "P-1", 1, here, there).map(drop)),
        Action::StockCount => Box::new(move || inv.count(actor, "P-1", Some(here), 500).map(drop)),
        Action::StockThreshold => Box::new(move || inv.set_threshold(actor, "P-1", Some(here), 1, None).map(drop)),
        Action::StockVerify => Box::new(move || inv.verify(actor).map(drop)),
        Action::StockReplay => Box::new(move || inv.replay(actor).map(drop)),
        Action::ReservationRead => {
            let id = held(store, actor, here).id.to_string();
            Box::new(move || inv.reservation(actor, &id).map(drop))
        }
        Action::ReservationCreate => Box::new(move || {
            let request =
                ReserveRequest { lines: vec![("P-2".into(), 1)], warehouse: Some(here.into()), ..Default::default() };
            inv.reserve(actor, request).map(drop)
        }),
        Action::ReservationRelease => {
            let id = held(store, actor, here).id.to_string();
            Box::new(move || inv.release(actor, &id).map(drop))
        }
        Action::ReservationCommit => {
            let id = held(store, actor, here).id.to_string();
            Box::new(move || inv.commit(actor, &id).map(drop))
        }
        Action::ReservationExpire => Box::new(move || inv.expire_due(actor, Timestamp::now()).map(drop)),
        // Every step on an order happens at its warehouse: placed where the actor may
        // when it may (so that a client reads its own), by the admin otherwise.
        Action::OrderRead => {
            let id = order(store, actor, here, &[]);
            Box::new(move || store.orders().order(actor, &id).map(drop))
        }
        Action::OrderCreate => Box::new(move || store.orders().create(actor, new_order(here)).map(drop)),
        Action::OrderUpdate => {
            let id = order(store, actor, here, &[]);
            let patch = OrderPatch { notes: Some("ring twice".into()), ..Default::default() };
            Box::new(move || store.orders().update(actor, &id, patch).map(drop))
        }
        Action::OrderPay => {
            let id = order(store, &admin(), here, &[]);
            Box::new(move || store.orders().pay(actor, &id, None, Some("card")).map(drop))
        }
        Action::OrderCancel => {
            let id = order(store, &admin(), here, &[]);
            Box::new(move || store.orders().cancel(actor, &id, Some("changed mind")).map(drop))
        }
        Action::OrderPick => {
            let id = order(store, &admin(), here, &["pay"]);
            Box::new(move || store.orders().set_status(actor, &id, OrderStatus::Picking, None).map(drop))
        }
        Action::OrderPack => {
            let id = order(store, &admin(), here, &["pay", "picking"]);
            Box::new(move || store.orders().set_status(actor, &id, OrderStatus::Packed, None).map(drop))
        }
        Action::OrderShip => {
            let id = order(store, &admin(), here, &["pay", "picking", "packed"]);
            Box::new(move || store.orders().set_status(actor, &id, OrderStatus::Shipped, Some("TRACK-1")).map(drop))
        }
        Action::OrderDeliver => {
            let id = order(store, &admin(), here, &["pay", "picking", "packed", "shipped"]);
            Box::new(move || store.orders().set_status(actor, &id, OrderStatus::Delivered, None).map(drop))
        }
        Action::OrderReturn => {
            let id = order(store, &admin(), here, &["pay", "picking", "packed", "shipped", "delivered"]);
            let line = ReturnLine { sku: "P-2".into(), quantity: 1, scrap: false };
            Box::new(move || store.orders().return_goods(actor, &id, &[line], false).map(drop))
        }
        Action::OrderRefund => {
            let id = order(store, &admin(), here, &["pay", "cancel"]);
            Box::new(move || store.orders().refund(actor, &id, None).map(drop))
        }
        Action::NotifyTemplates => Box::new(move || store.notifications().templates(actor).map(drop)),
        Action::NotifySend => Box::new(move || {
            let vars = serde_json::json!({ "number": 7, "from": "paid", "to": "shipped", "tracking_number": null });
            let vars = vars.as_object().cloned().unwrap_or_default();
            store.notifications().send(actor, "someone@example.com", "order_status_changed", &vars).map(drop)
        }),
        Action::NotifyRead => Box::new(move || store.notifications().list(actor, None, None, None).map(drop)),
        Action::NotifyRun => Box::new(move || Dispatcher::new(store, actor, None)?.run_once().map(drop)),
        Action::WebhookManage => Box::new(move || store.notifications().webhooks(actor).map(drop)),
        Action::EventsRead => Box::new(move || store.events().list(actor, &EventFilter::default()).map(drop)),
        Action::AuditRead => Box::new(move || store.audit().list(actor, None, &PageRequest::default()).map(drop)),
        Action::UserRead => Box::new(move || store.users().list(actor, &PageRequest::default()).map(drop)),
        Action::UserManage => Box::new(move || {
            let user = NewUser {
                email: format!("{}@example.com", unique("new")),
                role: Role::Viewer,
                password: Some(PASSWORD.into()),
                ..Default::default()
            };
            store.users().create(actor, user).map(drop)
        }),
        Action::UserPrefs => Box::new(move || store.users().preferences(actor, email).map(drop)),
        Action::TokenManage => Box::new(move || {
            let token =
                NewApiToken { name: unique("token-"), role: Role::Viewer, warehouses: vec![], expires_in: None };
            store.auth().create_token(actor, token).map(drop)
        }),
        Action::KeyRotate => Box::new(move || store.keys().rotate(actor, None).map(drop)),
        Action::StoreSetup => Box::new(move || store.init(actor).map(drop)),
    }
}

backend_tests! {
    fn every_role_action_and_scope(db) {
        let store = store_with(db, &["P-1", "P-2"]);
        store.warehouses().create(&admin(), NewWarehouse { code: "WEST".into(), name: "West".into() }).expect("WEST");
        for warehouse in ["MAIN", "EAST", "WEST"] {
            for sku in ["P-1", "P-2"] {
                store.inventory().receive(&admin(), sku, Some(warehouse), 1_000, None).expect("stock");
            }
        }
        assert_eq!(TABLE.len(), Action::ALL.len(), "the table names every action");
        let users = store.users();
        for role in Role::ALL {
            for reach in Reach::ALL {
                let email = format!("{}@example.com", unique(role.as_str()));
                let warehouses = reach.scope();
                let user = NewUser {
                    email: email.clone(),
                    role: *role,
                    warehouses,
                    password: Some(PASSWORD.into()),
                    ..Default::default()
                };
                users.create(&admin(), user).expect("user");
                let actor = users.acting(&email).expect("actor");
                for action in Action::ALL {
                    let allowed = expected(*role, action.as_str(), reach);
                    let explained = users.explain(&admin(), &email, action.as_str(), Some(reach.here())).expect("explain");
                    assert_eq!(explained.allowed, allowed, "explain: {role} {action} {reach:?}: {}", explained.reason);
                    let operation = operation(&store, &actor, *action, reach, &email);
                    let events = db.number("SELECT COUNT(*) FROM events");
                    match operation() {
                        Ok(()) => assert!(allowed, "{role} {action} {reach:?} succeeded but should be refused"),
                        // A client is refused someone else's reservation as if it did
                        // not exist (here: one the admin held where the client may not).
                        Err(Error::NotFound { entity: "reservation" | "order", .. }) if *role == Role::Client && !allowed => {}
                        Err(Error::Forbidden { reason }) => {
                            assert!(!allowed, "{role} {action} {reach:?} refused: {reason}");
                            assert_eq!(db.number("SELECT COUNT(*) FROM events"), events, "{role} {action}: refused yet recorded");
                        }
                        Err(other) => panic!("{role} {action} {reach:?}: {other}"),
                    }
                }
            }
        }
    }

    fn a_refusal_learns_nothing_about_the_data(db) {
        let store = store_with(db, &["P-1"]);
        let viewer = NewUser { email: "v@example.com".into(), role: Role::Viewer, password: Some(PASSWORD.into()), ..Default::default() };
        store.users().create(&admin(), viewer).expect("viewer");
        let viewer = store.users().acting("v@example.com").expect("actor");
        // Whether the product exists or not, the answer is the same refusal.
        for sku in ["P-1", "NO-SUCH"] {
            let err = store.catalog().delete_product(&viewer, sku).expect_err("refused");
            assert!(matches!(err, Error::Forbidden { .. }), "{sku}: {err:?}");
        }
        let err = store.inventory().receive(&viewer, "NO-SUCH", Some("NOWHERE"), 1, None).expect_err("refused");
        assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
    }

    fn a_client_reads_no_one_elses_identity(db) {
        let store = store_with(db, &["P-2"]);
        let (inv, orders) = (store.inventory(), store.orders());
        inv.receive(&admin(), "P-2", Some("MAIN"), 10, None).expect("stock");
        let sam = acting(&store, "sam@example.com", "sales", &[]);
        let cleo = acting(&store, "cleo@example.com", "client", &[]);
        let carl = acting(&store, "carl@example.com", "client", &[]);
        let carls_hold = held(&store, &carl, "MAIN").id.to_string();
        let carls_order = orders.create(&carl, new_order("MAIN")).expect("carl's").id.to_string();
        let mine = orders.create(&cleo, new_order("MAIN")).expect("cleo's");
        let mine_id = mine.id.to_string();
        orders.pay(&sam, &mine_id, None, Some("card")).expect("paid by staff");
        // Stock: availability, now or then; never the ledger (who moved it, for which
        // reservation).
        assert!(inv.levels(&cleo, &StockQuery::default()).is_ok());
        assert!(inv.levels(&cleo, &StockQuery { at: Some(Timestamp::now()), ..Default::default() }).is_ok());
        assert!(forbidden(inv.history(&cleo, "P-2", None, None, None)));
        assert!(forbidden(inv.history(&cleo, "P-2", Some("MAIN"), None, None)));
        assert!(inv.history(&sam, "P-2", None, None, None).is_ok(), "staff read the ledger");
        // The event log only where it is about what it may read: its own order, not
        // Carl's order or hold, and no stock movement.
        let events = store.events().list(&cleo, &EventFilter { limit: Some(1000), ..Default::default() }).expect("events");
        assert!(events.iter().any(|e| e.aggregate_id == mine_id));
        for event in &events {
            assert!(event.aggregate_id != carls_order && event.aggregate_id != carls_hold, "{event:?}");
            assert_ne!(event.event_type, stockyard_core::EventType::InventoryChanged);
        }
        // Nor the audit log, other users, their preferences or the notifications sent.
        assert!(forbidden(store.audit().list(&cleo, None, &PageRequest::default())));
        assert!(forbidden(store.users().list(&cleo, &PageRequest::default())));
        assert!(forbidden(store.users().preferences(&cleo, "carl@example.com")));
        assert!(forbidden(store.notifications().list(&cleo, None, None, None)));
        // Others' reservations and orders are not there for it.
        assert!(matches!(inv.reservation(&cleo, &carls_hold), Err(Error::NotFound { .. })));
        assert!(matches!(orders.order(&cleo, &carls_order), Err(Error::NotFound { .. })));
        let listed = orders.list(&cleo, &OrderQuery::default()).expect("list").items;
        assert_eq!(listed.iter().map(|o| o.number).collect::<Vec<_>>(), [mine.number]);
        // Its own order names the client, and the staff who handled it only as staff.
        for shown in [orders.order(&cleo, &mine_id).expect("own"), listed[0].clone()] {
            let json = serde_json::to_string(&shown).expect("json");
            assert!(!json.contains("sam@example.com"), "{json}");
            assert_eq!((shown.owner.as_str(), shown.payments[0].actor.as_str()), ("cleo@example.com", "staff"));
            assert_eq!(shown.history.last().map(|c| c.actor.as_str()), Some("staff"));
            assert_eq!(shown.history[0].actor, "cleo@example.com");
        }
        assert_eq!(orders.order(&sam, &mine_id).expect("staff").payments[0].actor, "sam@example.com");
    }

    fn a_scoped_admin_never_widens_itself_or_anyone(db) {
        let store = store_with(db, &[]);
        let users = store.users();
        let east = acting(&store, "east@example.com", "admin", &["EAST"]);
        acting(&store, "all@example.com", "manager", &[]);
        let new = |email: &str, warehouses: &[&str]| NewUser {
            email: email.into(),
            role: Role::Viewer,
            warehouses: warehouses.iter().map(|w| (*w).to_owned()).collect(),
            password: Some(PASSWORD.into()),
            ..Default::default()
        };
        // Its own scope: neither cleared nor moved.
        assert!(forbidden(users.set_scope(&east, "east@example.com", &[])));
        assert!(forbidden(users.set_scope(&east, "east@example.com", &["MAIN".into()])));
        assert!(forbidden(users.set_scope(&east, "east@example.com", &["EAST".into(), "MAIN".into()])));
        // No one wider than itself: not made, not managed.
        assert!(forbidden(users.create(&east, new("wide@example.com", &["MAIN"]))));
        assert!(forbidden(users.set_scope(&east, "all@example.com", &["EAST".into()])));
        assert!(forbidden(users.set_role(&east, "all@example.com", Role::Viewer)));
        assert!(forbidden(users.set_active(&east, "all@example.com", false)));
        assert!(forbidden(users.set_password(&east, "all@example.com", "another long password")));
        // What it makes is scoped like it, and stays within its scope.
        let made = users.create(&east, new("made@example.com", &[])).expect("made");
        assert_eq!(made.user.warehouses, ["EAST"]);
        users.set_role(&east, "made@example.com", Role::Sales).expect("within its scope");
        assert!(forbidden(users.set_scope(&east, "made@example.com", &[])));
        let scope_of = |email: &str| users.get(&admin(), email).expect("user").warehouses;
        assert_eq!((scope_of("east@example.com"), scope_of("all@example.com")), (vec!["EAST".to_owned()], vec![]));
        assert_eq!(scope_of("made@example.com"), ["EAST"]);
    }

    fn a_scoped_seller_acts_only_on_orders_served_from_its_warehouses(db) {
        let store = store_with(db, &["P-2"]);
        for warehouse in ["MAIN", "EAST"] {
            store.inventory().receive(&admin(), "P-2", Some(warehouse), 100, None).expect("stock");
        }
        let orders = store.orders();
        let sam = acting(&store, "sam@example.com", "sales", &["EAST"]);
        let at_main = order(&store, &admin(), "MAIN", &[]);
        let patch = || OrderPatch { address: Some("1 Elsewhere Road".into()), ..Default::default() };
        let returned = || [ReturnLine { sku: "P-2".into(), quantity: 1, scrap: false }];
        assert!(forbidden(orders.order(&sam, &at_main)));
        assert!(forbidden(orders.explain(&sam, &at_main)));
        assert!(forbidden(orders.pay(&sam, &at_main, None, Some("card"))));
        assert!(forbidden(orders.update(&sam, &at_main, patch())));
        assert!(forbidden(orders.cancel(&sam, &at_main, None)));
        assert!(forbidden(orders.set_status(&sam, &at_main, OrderStatus::Cancelled, None)));
        let cancelled = order(&store, &admin(), "MAIN", &["pay", "cancel"]);
        assert!(forbidden(orders.refund(&sam, &cancelled, None)));
        let delivered = order(&store, &admin(), "MAIN", &["pay", "picking", "packed", "shipped", "delivered"]);
        assert!(forbidden(orders.return_goods(&sam, &delivered, &returned(), true)));
        assert_eq!(orders.order(&admin(), &at_main).expect("order").version, 1, "refused, unchanged");
        let held_at_main = held(&store, &admin(), "MAIN").id.to_string();
        assert!(forbidden(store.inventory().reservation(&sam, &held_at_main)));
        // Its own warehouse's orders: all of it. Listing shows only those.
        let at_east = order(&store, &sam, "EAST", &[]);
        orders.update(&sam, &at_east, patch()).expect("update");
        orders.pay(&sam, &at_east, None, Some("card")).expect("pay");
        orders.cancel(&sam, &at_east, None).expect("cancel");
        orders.refund(&sam, &at_east, None).expect("refund");
        let listed = orders.list(&sam, &OrderQuery::default()).expect("list").items;
        assert_eq!(listed.iter().map(|o| o.id.to_string()).collect::<Vec<_>>(), [at_east]);
    }

    fn scoped_staff_and_clients_hear_only_of_what_they_may_read(db) {
        let store = store_with(db, &["P-2"]);
        for warehouse in ["MAIN", "EAST"] {
            store.inventory().receive(&admin(), "P-2", Some(warehouse), 100, None).expect("stock");
        }
        let everyone = acting(&store, "all@example.com", "sales", &[]);
        let east = acting(&store, "east@example.com", "sales", &["EAST"]);
        let cleo = acting(&store, "cleo@example.com", "client", &[]);
        let carl = acting(&store, "carl@example.com", "client", &[]);
        for client in ["cleo@example.com", "carl@example.com"] {
            let on = [(Channel::InApp, true)];
            store.users().set_preferences(&admin(), client, "OrderCreated", &on).expect("prefs");
        }
        let at_main = store.orders().create(&admin(), new_order("MAIN")).expect("MAIN").number;
        let at_east = store.orders().create(&cleo, new_order("EAST")).expect("EAST").number;
        Dispatcher::new(&store, &admin(), None).expect("dispatcher").run_once().expect("run");
        let heard = |actor: &Actor| {
            let mut numbers: Vec<i64> = store
                .notifications()
                .inbox(actor, false, &PageRequest::default())
                .expect("inbox")
                .items
                .iter()
                .filter_map(|n| n.subject.split([' ', ':']).find_map(|word| word.parse().ok()))
                .collect();
            numbers.sort();
            numbers.dedup();
            numbers
        };
        assert_eq!(heard(&everyone), [at_main, at_east]);
        assert_eq!(heard(&east), [at_east], "only its warehouse");
        assert_eq!(heard(&cleo), [at_east], "only its own order");
        assert!(heard(&carl).is_empty(), "no one else's order");
    }
}
