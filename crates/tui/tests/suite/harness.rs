//! A dashboard without a terminal: keys and feed notices go in as messages, every command
//! it sends runs at once against the store (as the worker thread would), and the screen is
//! drawn on a `TestBackend`.

use std::collections::{BTreeMap, VecDeque};

use jiff::Timestamp;
use ratatui::{
    Terminal,
    backend::TestBackend,
    crossterm::event::{KeyCode, KeyEvent, KeyModifiers},
};
use stockyard_core::{
    Actor, ManualClock, NewProduct, NewUser, NewWarehouse, Role, Store,
    orders::{Customer, NewOrder},
};
use stockyard_testkit::TestDb;
use stockyard_tui::{
    app::{App, Msg},
    theme::Theme,
    ui,
    worker::{self, Command},
};

pub const START: &str = "2026-12-01T09:00:00Z";

pub struct Harness {
    pub store: Store,
    pub actor: Actor,
    pub app: App,
    pub clock: ManualClock,
    /// Every command the dashboard sent, in order.
    pub sent: Vec<Command>,
}

impl Harness {
    /// The dashboard of `actor` on `store`, its first loads done.
    pub fn open(store: Store, clock: ManualClock, actor: Actor) -> Self {
        let (app, first) = App::new(actor.clone(), "test".into(), Theme::coloured(false));
        let mut h = Harness { store, actor, app, clock, sent: Vec::new() };
        h.run(first);
        h.update(Msg::Tick(h.clock.now()));
        h
    }

    /// Runs commands, and the commands their replies lead to, until none are left.
    pub fn run(&mut self, commands: Vec<Command>) {
        let mut queue: VecDeque<Command> = commands.into();
        while let Some(command) = queue.pop_front() {
            self.sent.push(command.clone());
            let outcome = worker::execute(&self.store, &self.actor, command.clone());
            queue.extend(self.app.update(Msg::Reply(Box::new((command, outcome)))));
        }
    }

    pub fn update(&mut self, msg: Msg) {
        let commands = self.app.update(msg);
        self.run(commands);
    }

    pub fn key(&mut self, code: KeyCode) {
        self.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    pub fn ctrl(&mut self, c: char) {
        self.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)));
    }

    /// Types `text` key by key; `\n` is Enter, `\t` Tab.
    pub fn typed(&mut self, text: &str) {
        for c in text.chars() {
            match c {
                '\n' => self.key(KeyCode::Enter),
                '\t' => self.key(KeyCode::Tab),
                c => self.key(KeyCode::Char(c)),
            }
        }
    }

    /// What the change feed would report now.
    pub fn feed(&mut self) {
        let latest = self.store.feed().latest().expect("read the newest seq");
        self.update(Msg::Seq(latest));
    }

    /// The screen at `width`×`height`, one line per row, trailing blanks cut.
    pub fn screen(&self, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
        terminal.draw(|frame| ui::draw(frame, &self.app)).expect("draw");
        let buffer = terminal.backend().buffer();
        (0..height)
            .map(|y| {
                let line: String = (0..width).map(|x| buffer[(x, y)].symbol()).collect();
                line.trim_end().to_owned()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn on_hand(&self, sku: &str, warehouse: &str) -> i64 {
        let query = stockyard_core::StockQuery {
            sku: Some(sku.into()),
            warehouse: Some(warehouse.into()),
            ..Default::default()
        };
        let levels = self.store.inventory().levels(&Actor::local_admin(), &query).expect("read a level");
        levels.items.first().map_or(0, |l| l.on_hand)
    }
}

/// A small warehouse, the same on every run: MAIN and EAST, six products (bins, one
/// barcode), stock with one low level, a paid order at MAIN, a confirmed one at EAST, and
/// users: a manager, a picker scoped to EAST, a picker scoped to MAIN, a viewer.
pub fn warehouse(db: &TestDb) -> (Store, ManualClock) {
    let clock = ManualClock::new(START.parse::<Timestamp>().expect("a time"));
    let store = db.store_at(&clock);
    let admin = Actor::local_admin();
    store.warehouses().create(&admin, NewWarehouse { code: "EAST".into(), name: "East depot".into() }).expect("EAST");
    let products = [
        ("BOLT-M6", "Hex bolt M6", Some("A-01"), Some("4006381333931")),
        ("NUT-M6", "Hex nut M6", Some("A-02"), None),
        ("WASHER-M6", "Washer M6", Some("B-07"), None),
        ("DRILL-18V", "Cordless drill 18V", None, None),
        ("GLOVE-L", "Work gloves, large", Some("C-11"), None),
        ("TAPE-50", "Duct tape 50 mm", None, Some("5901234123457")),
    ];
    for (sku, name, bin, barcode) in products {
        let attributes: BTreeMap<String, String> = bin.map(|b| ("bin".to_owned(), b.to_owned())).into_iter().collect();
        let product = NewProduct {
            sku: sku.into(),
            name: name.into(),
            price: "4.50".into(),
            attributes,
            barcode: barcode.map(Into::into),
            ..NewProduct::default()
        };
        store.catalog().create_product(&admin, product).expect("a product");
    }
    let inventory = store.inventory();
    for (sku, warehouse, quantity) in [
        ("BOLT-M6", "MAIN", 15),
        ("NUT-M6", "MAIN", 120),
        ("WASHER-M6", "MAIN", 300),
        ("DRILL-18V", "MAIN", 8),
        ("GLOVE-L", "EAST", 40),
        ("TAPE-50", "EAST", 25),
        ("BOLT-M6", "EAST", 60),
    ] {
        inventory.receive(&admin, sku, Some(warehouse), quantity, Some("opening stock")).expect("stock");
    }
    inventory.set_threshold(&admin, "BOLT-M6", Some("MAIN"), 20, Some(100)).expect("a threshold");
    let first = place(&store, &[("NUT-M6", 2), ("BOLT-M6", 3), ("WASHER-M6", 1)], "MAIN");
    store.orders().pay(&admin, &first.id.to_string(), None, None).expect("paid");
    place(&store, &[("GLOVE-L", 1)], "EAST");
    for (email, role, scope) in [
        ("boss@example.com", Role::Manager, vec![]),
        ("east@example.com", Role::Warehouse, vec!["EAST".to_owned()]),
        ("main@example.com", Role::Warehouse, vec!["MAIN".to_owned()]),
        ("look@example.com", Role::Viewer, vec![]),
    ] {
        let user = NewUser {
            email: email.into(),
            name: None,
            role,
            warehouses: scope,
            password: Some("long enough password".into()),
        };
        store.users().create(&admin, user).expect("a user");
    }
    (store, clock)
}

/// Places an order (as the local admin) served from `warehouse`.
pub fn place(store: &Store, lines: &[(&str, i64)], warehouse: &str) -> stockyard_core::Order {
    let customer = Customer { email: "ada@example.com".into(), name: Some("Ada".into()), ..Customer::default() };
    let order = NewOrder {
        customer,
        lines: lines.iter().map(|(s, q)| ((*s).to_owned(), *q)).collect(),
        warehouse: Some(warehouse.into()),
        reservation: None,
        notes: None,
    };
    store.orders().create(&Actor::local_admin(), order).expect("an order")
}

/// The dashboard of `email` on a store already set up.
pub fn open_on(store: &Store, clock: &ManualClock, email: &str) -> Harness {
    let actor = store.users().acting(email).expect("an acting user");
    Harness::open(store.clone(), clock.clone(), actor)
}

/// The dashboard of the user `email` on the demo warehouse.
pub fn open_as(db: &TestDb, email: &str) -> Harness {
    let (store, clock) = warehouse(db);
    open_on(&store, &clock, email)
}
