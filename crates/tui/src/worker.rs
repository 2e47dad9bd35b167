//! Every core call the dashboard makes, off the render path: the screen sends a
//! [`Command`] and draws on; the worker thread runs it against the store and sends back a
//! [`Reply`]. A slow or unreachable database therefore never freezes the screen. Tests call
//! [`execute`] directly, one command at a time.

use std::{
    collections::HashMap,
    sync::{Arc, mpsc},
    thread,
    time::Duration,
};

use jiff::Timestamp;
use stockyard_core::{
    Actor, Adjustment, Error, Event, EventBatch, EventFilter, EventType, Order, OrderStatus, PageRequest, ProductId,
    ProductQuery, StockLevel, StockQuery, Stop, Store, inventory::ReorderSuggestion, notifications::Notification,
};

/// How many events one read of the log takes.
const EVENT_BATCH: u32 = 500;
/// How far back the movement sparkline looks, in minutes.
pub const SPARK_MINUTES: usize = 60;
/// How long one wait on the change feed lasts before it is renewed.
const FOLLOW_WAIT: Duration = Duration::from_secs(30);

/// What the screen asks of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Every product and level: the stock screen's rows.
    Board,
    /// These levels again (SKU, warehouse), after events moved them.
    Levels(Vec<(String, String)>),
    /// The dashboard's counts, its sparkline and the newest events.
    Dashboard,
    /// Events after this seq.
    Events { since: i64 },
    /// Low stock with reorder suggestions, and the user's inbox.
    Alerts,
    /// The orders to pick at a warehouse.
    Picks { warehouse: String },
    /// A change, sent at most once per idempotency key.
    Do { op: Op, key: String },
    /// Is the database back?
    Ping,
}

/// A change the user asked for: each is one core call made as the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Receive { sku: String, warehouse: String, quantity: i64, reason: String },
    Adjust { sku: String, warehouse: String, adjustment: Adjustment, reason: String },
    Transfer { sku: String, from: String, to: String, quantity: i64 },
    Count { sku: String, warehouse: String, counted: i64 },
    Threshold { sku: String, warehouse: String, reorder_point: i64, reorder_qty: i64 },
    Pick { order: String, code: String, quantity: i64, warehouse: String },
    Ship { order: String, tracking: String },
    Cancel { order: String, reason: String },
    MarkRead { id: String },
}

/// What came back.
#[derive(Debug, Clone)]
pub enum Reply {
    Board(Board),
    Levels(Vec<StockLevel>),
    Dashboard(Box<Dashboard>),
    Events(EventBatch),
    Alerts { low: Vec<ReorderSuggestion>, inbox: Vec<Notification> },
    Picks { warehouse: String, orders: Vec<Order> },
    Done(Done),
    Pong,
}

/// A change made: the levels it left, or the order as it now stands.
#[derive(Debug, Clone)]
pub enum Done {
    Levels { op: Op, levels: Vec<StockLevel>, note: String },
    Order { op: Op, order: Box<Order> },
    Read { id: String },
}

/// The products and levels the stock screen lists.
#[derive(Debug, Clone, Default)]
pub struct Board {
    pub products: HashMap<ProductId, ProductInfo>,
    pub levels: Vec<StockLevel>,
    pub warehouses: Vec<String>,
}

/// What the stock screen shows of a product besides its levels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductInfo {
    pub sku: String,
    pub name: String,
    pub barcode: Option<String>,
    /// The `bin` attribute: where it sits on the shelves.
    pub bin: Option<String>,
}

/// The dashboard's figures.
#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    /// Orders placed today (UTC) by their status now.
    pub orders_today: Vec<(OrderStatus, i64)>,
    /// Notifications pending and failed; `None` when the user may not see them.
    pub notifications: Option<(i64, i64)>,
    /// The newest events, oldest first.
    pub recent: Vec<Event>,
    /// Stock movements per minute, the oldest minute first, the current one last.
    pub movements: Vec<u64>,
    /// The minute the last bucket of `movements` stands for.
    pub minute: i64,
    /// Where the live follow starts.
    pub seq: i64,
}

/// A reply to one command, or the core's refusal.
pub type Outcome = Result<Reply, Error>;

/// Runs one command as `actor`.
pub fn execute(store: &Store, actor: &Actor, command: Command) -> Outcome {
    match command {
        Command::Board => board(store, actor).map(Reply::Board),
        Command::Levels(items) => items
            .iter()
            .map(|(sku, warehouse)| level(store, actor, sku, warehouse))
            .collect::<Result<Vec<_>, _>>()
            .map(Reply::Levels),
        Command::Dashboard => dashboard(store, actor).map(|d| Reply::Dashboard(Box::new(d))),
        Command::Events { since } => store
            .events()
            .read(actor, &EventFilter { since: Some(since), event_type: None, limit: Some(EVENT_BATCH) })
            .map(Reply::Events),
        Command::Alerts => {
            let low = store.inventory().reorder_suggestions(actor, None)?;
            let inbox =
                store.notifications().inbox(actor, false, &PageRequest { limit: Some(200), cursor: None })?.items;
            Ok(Reply::Alerts { low, inbox })
        }
        Command::Picks { warehouse } => {
            let orders = store.orders().to_pick(actor, &warehouse, Some(200))?;
            Ok(Reply::Picks { warehouse, orders })
        }
        Command::Do { op, key } => apply(store, actor, op, &key).map(Reply::Done),
        Command::Ping => store.feed().latest().map(|_| Reply::Pong),
    }
}

fn apply(store: &Store, actor: &Actor, op: Op, key: &str) -> Result<Done, Error> {
    let keyed = actor.clone().with_idempotency_key(key)?;
    let inventory = store.inventory();
    let levels = |levels: Vec<StockLevel>, note: String, op: Op| Done::Levels { op, levels, note };
    Ok(match &op {
        Op::Receive { sku, warehouse, quantity, reason } => {
            let level = inventory.receive(&keyed, sku, Some(warehouse), *quantity, Some(reason))?;
            levels(vec![level], format!("received {quantity} × {sku} at {warehouse}"), op)
        }
        Op::Adjust { sku, warehouse, adjustment, reason } => {
            let level = inventory.adjust(&keyed, sku, Some(warehouse), *adjustment, reason)?;
            let how = match adjustment {
                Adjustment::By(by) => format!("by {by:+}"),
                Adjustment::Set(to) => format!("to {to}"),
            };
            levels(vec![level], format!("adjusted {sku} at {warehouse} {how}"), op)
        }
        Op::Transfer { sku, from, to, quantity } => {
            let moved = inventory.transfer(&keyed, sku, *quantity, from, to)?;
            levels(vec![moved.from, moved.to], format!("moved {quantity} × {sku} from {from} to {to}"), op)
        }
        Op::Count { sku, warehouse, counted } => {
            let count = inventory.count(actor, sku, Some(warehouse), *counted)?;
            let note = format!("counted {counted} × {sku} at {warehouse} (variance {:+})", count.variance);
            levels(vec![count.level], note, op)
        }
        Op::Threshold { sku, warehouse, reorder_point, reorder_qty } => {
            let level = inventory.set_threshold(actor, sku, Some(warehouse), *reorder_point, Some(*reorder_qty))?;
            levels(vec![level], format!("{sku} at {warehouse} reorders at {reorder_point}"), op)
        }
        Op::Pick { order, code, quantity, warehouse } => {
            let order = store.orders().pick(actor, order, code, *quantity, Some(warehouse))?;
            Done::Order { op, order: Box::new(order) }
        }
        Op::Ship { order, tracking } => {
            let order = store.orders().set_status(actor, order, OrderStatus::Shipped, Some(tracking))?;
            Done::Order { op, order: Box::new(order) }
        }
        Op::Cancel { order, reason } => {
            let order = store.orders().cancel(actor, order, Some(reason))?;
            Done::Order { op, order: Box::new(order) }
        }
        Op::MarkRead { id } => {
            store.notifications().mark_read(actor, id)?;
            Done::Read { id: id.clone() }
        }
    })
}

/// Every live product and every level the user may see, a page of 1,000 at a time.
fn board(store: &Store, actor: &Actor) -> Result<Board, Error> {
    let mut board = Board {
        warehouses: store.warehouses().list(actor)?.into_iter().filter(|w| w.active).map(|w| w.code).collect(),
        ..Board::default()
    };
    let mut query = ProductQuery { limit: Some(1000), ..ProductQuery::default() };
    loop {
        let page = store.catalog().list_products(actor, &query)?;
        for p in page.items {
            let info = ProductInfo {
                sku: p.sku.to_string(),
                name: p.name,
                barcode: p.barcode,
                bin: p.attributes.get("bin").cloned(),
            };
            board.products.insert(p.id, info);
        }
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    let mut query = StockQuery { limit: Some(1000), ..StockQuery::default() };
    loop {
        let page = store.inventory().levels(actor, &query)?;
        board.levels.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    Ok(board)
}

fn level(store: &Store, actor: &Actor, sku: &str, warehouse: &str) -> Result<StockLevel, Error> {
    let query = StockQuery { sku: Some(sku.into()), warehouse: Some(warehouse.into()), ..StockQuery::default() };
    store
        .inventory()
        .levels(actor, &query)?
        .items
        .pop()
        .ok_or_else(|| Error::not_found("stock level", format!("{sku} at {warehouse}")))
}

fn dashboard(store: &Store, actor: &Actor) -> Result<Dashboard, Error> {
    let now = store.now();
    let midnight = now
        .to_zoned(jiff::tz::TimeZone::UTC)
        .start_of_day()
        .map_err(|e| Error::internal_from("the start of today", e))?
        .timestamp();
    let seq = store.feed().latest()?;
    let orders_today = store.orders().status_counts(actor, midnight)?;
    let notifications = match store.tallies(actor) {
        Ok(t) => {
            let of = |status| t.notifications.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n);
            Some((of("pending"), of("failed")))
        }
        Err(Error::Forbidden { .. }) => None,
        Err(e) => return Err(e),
    };
    let recent = store.events().newest(actor, None, 20)?;
    let minute = minute_of(now);
    let mut movements = vec![0; SPARK_MINUTES];
    for event in store.events().newest(actor, Some(EventType::InventoryChanged), 1000)? {
        count_movement(&mut movements, minute, minute_of(event.occurred_at));
    }
    Ok(Dashboard { orders_today, notifications, recent, movements, minute, seq })
}

/// Whole minutes since the epoch.
pub fn minute_of(at: Timestamp) -> i64 {
    at.as_second().div_euclid(60)
}

/// Adds a movement at `at` (a minute) to buckets whose last one is `minute`.
pub fn count_movement(buckets: &mut [u64], minute: i64, at: i64) {
    let back = minute - at;
    if (0..buckets.len() as i64).contains(&back) {
        let last = buckets.len() - 1;
        buckets[last - back as usize] += 1;
    }
}

/// The worker thread: runs commands in order, sends each reply to `replies`. Ends when
/// the command channel closes.
pub fn spawn<M: Send + 'static>(
    store: Arc<Store>,
    actor: Actor,
    replies: mpsc::Sender<M>,
    wrap: fn(Command, Outcome) -> M,
) -> mpsc::Sender<Command> {
    let (send, commands) = mpsc::channel::<Command>();
    thread::spawn(move || {
        for command in commands {
            let outcome = execute(&store, &actor, command.clone());
            if replies.send(wrap(command, outcome)).is_err() {
                break;
            }
        }
    });
    send
}

/// The follower thread: waits on the store's change feed and reports each newer seq, so
/// the screen reads new events only when there are some. Ends when `stop` is stopped.
pub fn follow<M: Send + 'static>(
    store: Arc<Store>,
    mut seen: i64,
    stop: Stop,
    replies: mpsc::Sender<M>,
    wrap: fn(i64) -> M,
) {
    thread::spawn(move || {
        while !stop.is_stopped() {
            let latest = store.feed().wait_after_or_stop(seen, FOLLOW_WAIT, &stop);
            if latest > seen {
                seen = latest;
                if replies.send(wrap(latest)).is_err() {
                    break;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movements_fall_in_their_minute_and_old_ones_drop_out() {
        let mut buckets = vec![0; 5];
        count_movement(&mut buckets, 100, 100);
        count_movement(&mut buckets, 100, 98);
        count_movement(&mut buckets, 100, 98);
        count_movement(&mut buckets, 100, 95);
        count_movement(&mut buckets, 100, 101);
        assert_eq!(buckets, [0, 0, 2, 0, 1]);
        let t: Timestamp = "2026-12-01T10:00:59Z".parse().unwrap_or(Timestamp::UNIX_EPOCH);
        assert_eq!(minute_of(t) * 60, t.as_second() - 59);
    }
}
