//! The dashboard's state and how it changes: a key or a reply comes in as a [`Msg`], the
//! state changes, and the [`Command`]s it needs go out to the worker. Nothing here touches
//! the terminal or the database, so every screen is driven in tests by messages alone.

use jiff::Timestamp;
use ratatui::crossterm::event::KeyEvent;
use stockyard_core::{Action as Permission, Actor, Error, ErrorKind, EventBatch, EventType};

use crate::{
    form::{Form, Stage},
    keys::{self, Action},
    screens::{alerts::AlertsView, dashboard::DashboardView, pick::PickView, scan::ScanView, stock::StockView},
    theme::Theme,
    worker::{Command, Done, Op, Outcome, Reply},
};

/// How many levels one batch of events may name before the whole board is read again.
const LEVELS_AT_ONCE: usize = 200;

/// Everything that can happen to the dashboard.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal changed size: draw again.
    Resize,
    /// Time passed: the sparkline moves on a minute; an offline dashboard tries again.
    Tick(Timestamp),
    /// The change feed saw events up to this seq.
    Seq(i64),
    /// The worker ran a command.
    Reply(Box<(Command, Outcome)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Dashboard,
    Stock,
    Scan,
    Pick,
    Alerts,
}

impl Screen {
    pub const ALL: [Screen; 5] = [Screen::Dashboard, Screen::Stock, Screen::Scan, Screen::Pick, Screen::Alerts];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Dashboard => "Dashboard",
            Screen::Stock => "Stock",
            Screen::Scan => "Scan",
            Screen::Pick => "Pick",
            Screen::Alerts => "Alerts",
        }
    }

    fn index(self) -> usize {
        Screen::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// A one-line message under the screen: what just happened, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
}

/// Where the live follow of the event log stands.
#[derive(Debug, Default)]
struct Follow {
    /// Read through here.
    seq: i64,
    /// The newest seq the feed reported.
    latest: i64,
    /// A read is under way.
    reading: bool,
    /// The starting seq is known (from the first dashboard load).
    started: bool,
}

#[derive(Debug)]
pub struct App {
    pub actor: Actor,
    /// Who is acting, as shown in the title.
    pub user: String,
    /// The database, as shown in the title.
    pub location: String,
    pub theme: Theme,
    pub screen: Screen,
    pub help: bool,
    pub quit: bool,
    /// Why the database cannot be reached, while it cannot.
    pub offline: Option<String>,
    /// A ping is on its way: no second one until it answers (the worker may be waiting on
    /// a connection for a while).
    pinging: bool,
    pub flash: Option<Flash>,
    pub form: Option<Form>,
    pub dashboard: DashboardView,
    pub stock: StockView,
    pub scan: ScanView,
    pub pick: PickView,
    pub alerts: AlertsView,
    follow: Follow,
}

impl App {
    /// The dashboard for `actor`, and the first loads it needs.
    pub fn new(actor: Actor, location: String, theme: Theme) -> (Self, Vec<Command>) {
        let scope = actor.scope().join(", ");
        let user = match scope.is_empty() {
            true => format!("{actor} ({})", actor.role()),
            false => format!("{actor} ({} at {scope})", actor.role()),
        };
        let app = App {
            actor,
            user,
            location,
            theme,
            screen: Screen::Dashboard,
            help: false,
            quit: false,
            offline: None,
            pinging: false,
            flash: None,
            form: None,
            dashboard: DashboardView::default(),
            stock: StockView::default(),
            scan: ScanView::default(),
            pick: PickView::default(),
            alerts: AlertsView::default(),
            follow: Follow::default(),
        };
        (app, vec![Command::Dashboard, Command::Board, Command::Alerts])
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
        match msg {
            Msg::Key(key) => match keys::action(key, self.typing()) {
                Some(action) => self.act(action),
                None => Vec::new(),
            },
            Msg::Resize => Vec::new(),
            Msg::Tick(now) => self.tick(now),
            Msg::Seq(seq) => {
                self.follow.latest = self.follow.latest.max(seq);
                self.read_events()
            }
            Msg::Reply(reply) => {
                let (command, outcome) = *reply;
                self.reply(command, outcome)
            }
        }
    }

    /// Whether a text field has the focus: then printable keys are text.
    pub fn typing(&self) -> bool {
        match &self.form {
            Some(form) => form.stage == Stage::Edit,
            None => match self.screen {
                Screen::Stock => self.stock.filtering,
                Screen::Scan => self.scan.active,
                Screen::Pick => self.pick.open.is_some(),
                Screen::Dashboard | Screen::Alerts => false,
            },
        }
    }

    /// Shows a message under the screen.
    pub fn say(&mut self, text: impl Into<String>, error: bool) {
        self.flash = Some(Flash { text: text.into(), error });
    }

    /// Refuses, with the permission table's reason, what the user may not do here.
    pub fn permitted(&mut self, action: Permission, warehouse: &str) -> bool {
        let explained = self.actor.explain(action, Some(warehouse));
        if !explained.allowed {
            self.say(explained.reason, true);
        }
        explained.allowed
    }

    fn act(&mut self, action: Action) -> Vec<Command> {
        if self.help {
            if matches!(action, Action::Help | Action::Back | Action::Enter | Action::Quit | Action::Char(_)) {
                self.help = false;
            }
            return Vec::new();
        }
        // `q` while typing is text, so a quit then is Ctrl-C: it always quits.
        if action == Action::Quit {
            self.quit = true;
            return Vec::new();
        }
        if self.form.is_some() {
            return self.form_act(action);
        }
        let typing = self.typing();
        match action {
            Action::Help => {
                self.help = true;
                Vec::new()
            }
            Action::NextScreen if !typing => self.show((self.screen.index() + 1) % Screen::ALL.len()),
            Action::PrevScreen if !typing => {
                self.show((self.screen.index() + Screen::ALL.len() - 1) % Screen::ALL.len())
            }
            Action::Screen(n) if !typing => self.show(n),
            _ => match self.screen {
                Screen::Dashboard => self.dashboard_act(action),
                Screen::Stock => self.stock_act(action),
                Screen::Scan => self.scan_act(action),
                Screen::Pick => self.pick_act(action),
                Screen::Alerts => self.alerts_act(action),
            },
        }
    }

    /// Switches to screen `n`, loading what it shows the first time.
    pub fn show(&mut self, n: usize) -> Vec<Command> {
        let Some(&screen) = Screen::ALL.get(n) else { return Vec::new() };
        self.screen = screen;
        match screen {
            Screen::Scan => {
                self.scan.active = true;
                if self.scan.warehouse.is_empty() {
                    self.scan.warehouse = self.home_warehouse();
                }
                Vec::new()
            }
            Screen::Pick if self.pick.warehouse.is_none() => {
                let warehouse = self.home_warehouse();
                self.pick.warehouse = Some(warehouse.clone());
                vec![Command::Picks { warehouse }]
            }
            _ => Vec::new(),
        }
    }

    /// The warehouse a user works at unless they choose another: the first of their scope,
    /// else MAIN (or the first there is).
    pub fn home_warehouse(&self) -> String {
        if let Some(first) = self.actor.scope().first() {
            return first.to_ascii_uppercase();
        }
        let warehouses = &self.stock.warehouses;
        if warehouses.iter().any(|w| w == "MAIN") || warehouses.is_empty() {
            "MAIN".into()
        } else {
            warehouses[0].clone()
        }
    }

    fn form_act(&mut self, action: Action) -> Vec<Command> {
        let Some(form) = self.form.as_mut() else { return Vec::new() };
        match (form.stage, action) {
            (Stage::Sending, _) => Vec::new(),
            (Stage::Edit, Action::Back) => {
                self.form = None;
                Vec::new()
            }
            (Stage::Confirm, Action::Back | Action::Char('n')) => {
                form.stage = Stage::Edit;
                Vec::new()
            }
            (Stage::Confirm, Action::Enter | Action::Char('y')) => {
                match form.check(&|sku, wh| self.stock.on_hand(sku, wh)) {
                    Ok((op, _)) => {
                        form.stage = Stage::Sending;
                        form.refusal = None;
                        vec![Command::Do { op, key: form.key.clone() }]
                    }
                    Err(_) => {
                        form.stage = Stage::Edit;
                        Vec::new()
                    }
                }
            }
            (Stage::Confirm, _) => Vec::new(),
            (Stage::Edit, Action::Enter) => {
                match form.check(&|sku, wh| self.stock.on_hand(sku, wh)) {
                    Ok(_) => form.stage = Stage::Confirm,
                    Err((field, _)) => form.focus = field,
                }
                Vec::new()
            }
            (Stage::Edit, action) => {
                let last = form.fields.len().saturating_sub(1);
                match action {
                    Action::NextField | Action::Down => form.focus = (form.focus + 1).min(last),
                    Action::PrevField | Action::Up => form.focus = form.focus.saturating_sub(1),
                    Action::Char(c) => {
                        if let Some(field) = form.fields.get_mut(form.focus) {
                            field.value.push(c);
                        }
                    }
                    Action::Backspace => {
                        if let Some(field) = form.fields.get_mut(form.focus) {
                            field.value.pop();
                        }
                    }
                    _ => {}
                }
                Vec::new()
            }
        }
    }

    fn tick(&mut self, now: Timestamp) -> Vec<Command> {
        let behind = crate::worker::minute_of(now) - self.dashboard.data.minute;
        if self.dashboard.loaded && behind > 0 {
            self.dashboard.advance(behind);
        }
        if self.offline.is_none() || self.pinging {
            return Vec::new();
        }
        self.pinging = true;
        vec![Command::Ping]
    }

    fn read_events(&mut self) -> Vec<Command> {
        let f = &mut self.follow;
        if !f.started || f.reading || f.latest <= f.seq {
            return Vec::new();
        }
        f.reading = true;
        vec![Command::Events { since: f.seq }]
    }

    /// Every load again, after the database came back.
    fn reload(&mut self) -> Vec<Command> {
        let mut commands = vec![Command::Dashboard, Command::Board, Command::Alerts];
        if let Some(warehouse) = self.pick.warehouse.clone() {
            commands.push(Command::Picks { warehouse });
        }
        commands
    }

    fn reply(&mut self, command: Command, outcome: Outcome) -> Vec<Command> {
        if command == Command::Ping {
            self.pinging = false;
        }
        let reply = match outcome {
            Ok(reply) => reply,
            Err(error) => return self.failed(command, error),
        };
        let mut next = Vec::new();
        if self.offline.take().is_some() {
            self.say("The database is back.", false);
            next.extend(self.reload());
        }
        match reply {
            Reply::Pong => {}
            Reply::Board(board) => {
                self.stock.load(board);
                if self.scan.warehouse.is_empty() {
                    self.scan.warehouse = self.home_warehouse();
                }
            }
            Reply::Levels(levels) => {
                if self.stock.apply(&levels) {
                    next.push(Command::Board);
                }
            }
            Reply::Dashboard(data) => {
                if !self.follow.started {
                    (self.follow.seq, self.follow.started) = (data.seq, true);
                    self.follow.latest = self.follow.latest.max(data.seq);
                }
                self.dashboard.load(*data);
                next.extend(self.read_events());
            }
            Reply::Events(batch) => next.extend(self.events(batch)),
            Reply::Alerts { low, inbox } => self.alerts.load(low, inbox),
            Reply::Picks { warehouse, orders } => self.pick.load(warehouse, orders),
            Reply::Done(done) => next.extend(self.done(done)),
        }
        next
    }

    fn done(&mut self, done: Done) -> Vec<Command> {
        let from_form = self.form.take().is_some();
        match done {
            Done::Levels { op, levels, note } => {
                if self.stock.apply(&levels) {
                    return vec![Command::Board];
                }
                if !from_form && matches!(op, Op::Receive { .. } | Op::Adjust { .. }) {
                    self.scan.log(note.clone(), false);
                }
                self.say(capitalised(&note), false);
            }
            Done::Order { op, order } => {
                let note = self.pick.apply(&op, *order);
                self.say(note, false);
            }
            Done::Read { id } => self.alerts.mark_read(&id),
        }
        Vec::new()
    }

    /// A command the core refused, or could not run.
    fn failed(&mut self, command: Command, error: Error) -> Vec<Command> {
        let unreachable = error.kind() == ErrorKind::Unavailable;
        let text = error.to_string();
        if unreachable {
            self.offline = Some(text.clone());
        }
        match command {
            Command::Do { op, .. } => {
                let text = match unreachable {
                    true => "Not saved: the database is unreachable. Enter tries again (never twice).".into(),
                    false => text,
                };
                match self.form.as_mut() {
                    Some(form) => {
                        form.stage = if unreachable { Stage::Confirm } else { Stage::Edit };
                        form.refusal = Some(text);
                    }
                    None => match op {
                        Op::Pick { .. } => self.pick.log(text, true),
                        Op::Receive { .. } | Op::Adjust { .. } => self.scan.log(text, true),
                        _ => self.say(text, true),
                    },
                }
            }
            Command::Events { .. } => self.follow.reading = false,
            Command::Ping => {}
            Command::Board | Command::Levels(_) if !unreachable => self.stock.error = Some(text),
            Command::Dashboard if !unreachable => self.dashboard.error = Some(text),
            Command::Alerts if !unreachable => self.alerts.error = Some(text),
            Command::Picks { .. } if !unreachable => self.pick.error = Some(text),
            _ => {}
        }
        Vec::new()
    }

    /// New events: the levels they moved are read again, the counts they change reloaded,
    /// and the dashboard's feed and sparkline move on.
    fn events(&mut self, batch: EventBatch) -> Vec<Command> {
        let f = &mut self.follow;
        (f.seq, f.reading) = (batch.through, false);
        let mut items: Vec<(String, String)> = Vec::new();
        // What else the events touch, by what reading them takes.
        let touches = |action: Permission| batch.events.iter().any(|e| e.event_type.read_action() == action);
        let products = touches(Permission::ProductRead) || touches(Permission::WarehouseRead);
        let (orders, notes) = (touches(Permission::OrderRead), touches(Permission::NotifyRead));
        let low = batch.events.iter().any(|e| e.event_type == EventType::InventoryThresholdReached);
        for event in batch.events.iter().filter(|e| e.event_type.read_action() == Permission::StockHistory) {
            let field = |name: &str| event.payload.get(name).and_then(|v| v.as_str()).map(str::to_owned);
            if let (Some(sku), Some(warehouse)) = (field("sku"), field("warehouse"))
                && !items.contains(&(sku.clone(), warehouse.clone()))
            {
                items.push((sku, warehouse));
            }
        }
        self.dashboard.record(&batch.events);
        let mut next = Vec::new();
        if products || items.len() > LEVELS_AT_ONCE {
            next.push(Command::Board);
        } else if !items.is_empty() {
            next.push(Command::Levels(items));
        }
        if orders || notes {
            next.push(Command::Dashboard);
        }
        if notes || low {
            next.push(Command::Alerts);
        }
        if orders && let Some(warehouse) = self.pick.warehouse.clone() {
            next.push(Command::Picks { warehouse });
        }
        next.extend(self.read_events());
        next
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
