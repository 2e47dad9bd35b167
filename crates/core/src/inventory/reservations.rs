//! Reservations: stock held for a checkout or an order, all lines or none. Each line is a
//! guarded increment of `reserved` through the ledger, so a reservation can never take more
//! than is available, whatever runs beside it. A checkout reservation expires; the sweep
//! releases it (`InventoryReleased`, reason `expired`). Release and commit close it. A
//! reservation held by an order is closed only by the order's own steps (cancel, ship, the
//! unpaid timeout): `release`, `commit` and the sweep refuse it, naming the order.

use std::cell::Cell;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::json;

use super::{
    Inventory, MovementKind,
    allocation::{self, WarehouseStock},
    ledger::{self, Command, Item, Line, OnHand},
    rules,
};
use crate::{
    Action, Actor, Conflict, Error, Product, ProductId, ReservationId, Result, Shortage, WarehouseId,
    actor::shown_principal,
    db::{Pool, Row, Tx, params},
    idempotency,
    named::named,
    validate, warehouses,
};

/// The longest a checkout reservation may be held.
const MAX_TTL: SignedDuration = SignedDuration::from_hours(24 * 30);
/// Expired reservations released per read of the sweep.
const SWEEP_BATCH: i64 = 100;
/// Tries of an automatically allocated reservation whose stock moved between the
/// allocation and the guarded updates.
const ALLOCATION_TRIES: usize = 3;

named! {
    /// Where a reservation stands.
    ReservationStatus, "reservation status" {
        Active = "active",
        Committed = "committed",
        Released = "released",
        Expired = "expired",
    }
}

/// How long a checkout reservation holds its stock. (One held for an order never expires
/// on its own; only placing the order makes one.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hold {
    /// The store's default TTL.
    #[default]
    Checkout,
    /// Its own time to live.
    CheckoutFor(SignedDuration),
}

/// What to reserve.
#[derive(Debug, Clone, Default)]
pub struct ReserveRequest {
    /// (SKU or product id, quantity); a SKU named twice is reserved once, summed.
    pub lines: Vec<(String, i64)>,
    /// Reserve every line here; when absent the store's allocation strategy chooses.
    pub warehouse: Option<String>,
    pub hold: Hold,
    /// The caller's own reference, e.g. a cart id.
    pub reference: Option<String>,
}

/// One line of a reservation: a quantity of a product held at one warehouse.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservationLine {
    pub sku: String,
    pub product_id: ProductId,
    pub warehouse: String,
    #[serde(skip)]
    pub warehouse_id: WarehouseId,
    pub quantity: i64,
}

/// A reservation, in the shape `POST /inventory/reserve` answers with.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reservation {
    #[serde(rename = "reservation_id")]
    pub id: ReservationId,
    pub status: ReservationStatus,
    /// The actor that made it, as people read it (ownership is decided by its id).
    pub owner: String,
    pub reference: Option<String>,
    /// When a checkout reservation lapses; `None` for one held by an order.
    #[serde(serialize_with = "crate::clock::wire_opt")]
    pub expires_at: Option<Timestamp>,
    #[serde(rename = "items")]
    pub lines: Vec<ReservationLine>,
    /// Why the lines sit at these warehouses.
    pub allocation: String,
    #[serde(serialize_with = "crate::clock::wire")]
    pub created_at: Timestamp,
    #[serde(serialize_with = "crate::clock::wire")]
    pub updated_at: Timestamp,
}

impl Inventory<'_> {
    /// Reserves every line or none. Without a warehouse the store's allocation strategy
    /// picks one or splits a line across several; stock that moves between that choice
    /// and the guarded updates makes it choose again.
    pub fn reserve(&self, actor: &Actor, request: ReserveRequest) -> Result<Reservation> {
        match request.warehouse.as_deref() {
            Some(code) => actor.authorize_at(Action::ReservationCreate, code)?,
            None => actor.authorize(Action::ReservationCreate)?,
        }
        let ttl = match request.hold {
            Hold::Checkout => Some(self.store.options.reservation_ttl),
            Hold::CheckoutFor(ttl) => Some(ttl),
        };
        let args = json!({
            "lines": request.lines, "warehouse": request.warehouse, "reference": request.reference,
            "ttl_seconds": ttl.map(|t| t.as_secs()),
        });
        let holding = Holding::new(&request.lines, request.warehouse, ttl, request.reference.as_deref())?;
        let strategy = &self.store.options.allocation;
        allocating(&self.store.pool, holding.warehouse.is_some(), |tx, raced| {
            idempotency::once(
                tx,
                actor,
                idempotency::Request { action: Action::ReservationCreate, args: &args, at: self.store.now() },
                |tx| {
                    let products = holding.products(tx)?;
                    hold(tx, actor, strategy, &holding, &products, raced, self.store.now())
                },
                |reservation| reservation.id.to_string(),
                |tx, id| load(tx, actor, id.parse()?, false),
            )
        })
    }

    /// One reservation by id. A `client` sees only its own: any other is not found. A
    /// scoped actor is refused one holding stock outside its warehouses.
    pub fn reservation(&self, actor: &Actor, id: &str) -> Result<Reservation> {
        actor.authorize(Action::ReservationRead)?;
        let id: ReservationId = id.trim().parse()?;
        let reservation = self.store.pool.read(|tx| load(tx, actor, id, false))?;
        for line in &reservation.lines {
            actor.authorize_at(Action::ReservationRead, &line.warehouse)?;
        }
        Ok(reservation)
    }

    /// Lets the stock go: the reservation becomes `released`.
    pub fn release(&self, actor: &Actor, id: &str) -> Result<Reservation> {
        self.close(actor, id, ReservationStatus::Released, None)
    }

    /// Consumes the stock at shipment: on-hand and reserved both fall; `committed`.
    pub fn commit(&self, actor: &Actor, id: &str) -> Result<Reservation> {
        self.close(actor, id, ReservationStatus::Committed, None)
    }

    /// Releases every checkout reservation whose time ran out by `now`, each in its own
    /// transaction; returns how many. Safe beside concurrent releases and other sweepers:
    /// each is re-checked under its row lock.
    pub fn expire_due(&self, actor: &Actor, now: Timestamp) -> Result<usize> {
        actor.authorize(Action::ReservationExpire)?;
        let mut expired = 0;
        loop {
            let due: Vec<ReservationId> = self.store.pool.read(|tx| {
                let rows = tx.query(
                    "SELECT id FROM reservations r WHERE status = 'active' AND expires_at IS NOT NULL AND expires_at <= $1
                       AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.reservation_id = r.id)
                     ORDER BY expires_at LIMIT $2",
                    params![now, SWEEP_BATCH],
                )?;
                rows.iter().map(|row| row.get(0)).collect()
            })?;
            for id in &due {
                match self.close(actor, &id.to_string(), ReservationStatus::Expired, Some(now)) {
                    Ok(_) => expired += 1,
                    // Released or expired meanwhile (a transition refused), or taken by an
                    // order (a conflict): no longer due. Sweepers outlive neither.
                    Err(Error::InvalidTransition { .. } | Error::Conflict { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            if (due.len() as i64) < SWEEP_BATCH {
                return Ok(expired);
            }
        }
    }

    /// Moves an active reservation to `to`, releasing or consuming its stock. `due` (for
    /// expiry) also requires it to have expired by then.
    fn close(&self, actor: &Actor, id: &str, to: ReservationStatus, due: Option<Timestamp>) -> Result<Reservation> {
        actor.authorize(closing_action(to))?;
        let id: ReservationId = id.trim().parse()?;
        self.store.pool.write(|tx| close_in(tx, actor, id, to, due, Closer::Holder, self.store.now()))
    }
}

/// Who closes a reservation: its holder directly (`release`, `commit`, the expiry sweep), or
/// the order it is held for, through one of the order's own steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closer {
    Holder,
    Order,
}

/// What a reservation is to hold, validated: the lines (repeated SKUs summed), where, for
/// how long, and the caller's reference.
#[derive(Debug, Clone)]
pub(crate) struct Holding {
    pub wanted: Vec<(String, i64)>,
    pub warehouse: Option<String>,
    pub ttl: Option<SignedDuration>,
    pub reference: Option<String>,
}

impl Holding {
    pub fn new(
        lines: &[(String, i64)],
        warehouse: Option<String>,
        ttl: Option<SignedDuration>,
        reference: Option<&str>,
    ) -> Result<Self> {
        let reference = match reference.map(str::trim) {
            None | Some("") => None,
            Some(r) => Some(validate::line("reference", r, 200)?),
        };
        if let Some(ttl) = ttl.filter(|t| t.is_zero() || t.is_negative() || *t > MAX_TTL) {
            return Err(Error::invalid("ttl", format!("{ttl:#} is not between 1 second and 30 days")));
        }
        Ok(Self { wanted: wanted(lines)?, warehouse, ttl, reference })
    }

    /// The products wanted, each looked up once, in the order of the lines; an unknown or
    /// inactive SKU is refused.
    pub fn products(&self, tx: &mut Tx<'_>) -> Result<Vec<Product>> {
        let skus: Vec<&str> = self.wanted.iter().map(|(sku, _)| sku.as_str()).collect();
        crate::catalog::find_all_for_sale(tx, &skus)
    }
}

/// Runs `f` in a write transaction; when it holds stock the allocation chose (no warehouse
/// `named`) and that stock moved before the guarded updates, `f` sets `raced` and it runs
/// again with a fresh allocation — unlike a request that no stock anywhere can cover.
pub(crate) fn allocating<R>(
    pool: &Pool,
    named: bool,
    mut f: impl FnMut(&mut Tx<'_>, &Cell<bool>) -> Result<R>,
) -> Result<R> {
    let tries = if named { 1 } else { ALLOCATION_TRIES };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let raced = Cell::new(false);
        match pool.write(|tx| f(tx, &raced)) {
            Err(Error::InsufficientStock { .. }) if raced.get() && attempt < tries => continue,
            outcome => return outcome,
        }
    }
}

/// Allocates and holds every line of `holding` in the caller's transaction.
pub(crate) fn hold(
    tx: &mut Tx<'_>,
    actor: &Actor,
    strategy: &allocation::Strategy,
    holding: &Holding,
    products: &[Product],
    raced: &Cell<bool>,
    now: Timestamp,
) -> Result<Reservation> {
    let expires_at = holding.ttl.map(|t| now.checked_add(t)).transpose().map_err(|e| Error::invalid("ttl", e))?;
    let (lines, allocation) = place(tx, actor, strategy, products, &holding.wanted, holding.warehouse.as_deref())?;
    let reservation = Reservation {
        id: ReservationId::new(),
        status: ReservationStatus::Active,
        owner: actor.to_string(),
        reference: holding.reference.clone(),
        expires_at,
        lines,
        allocation,
        created_at: now,
        updated_at: now,
    };
    let id = reservation.id.to_string();
    let command = Command {
        action: Action::ReservationCreate.as_str(),
        entity: ("reservation", &id),
        reason: None,
        reference: Some(&id),
    };
    ledger::apply(tx, actor, command, ledger_lines(&reservation, MovementKind::Reserve), now)
        .inspect_err(|e| raced.set(matches!(e, Error::InsufficientStock { .. })))?;
    // After the stock it holds: the rows then go out with the command's other writes.
    insert(tx, &reservation, &actor.principal())?;
    Ok(reservation)
}

/// Takes over the actor's own active checkout reservation for an order: it no longer
/// expires. One that lapsed (even before the sweep saw it), was closed, is another's or is
/// already an order's is refused. The row lock orders this against `release` and the sweep.
pub(crate) fn adopt(tx: &mut Tx<'_>, actor: &Actor, id: ReservationId, now: Timestamp) -> Result<Reservation> {
    let mut reservation = load(tx, actor, id, true)?;
    // The order is placed where the reservation holds its stock.
    for line in &reservation.lines {
        actor.authorize_at(Action::OrderCreate, &line.warehouse)?;
    }
    if reservation.status != ReservationStatus::Active {
        return Err(Error::InvalidTransition {
            entity: format!("reservation {id}"),
            from: reservation.status.as_str().to_owned(),
            to: "held by an order".into(),
        });
    }
    if let Some(number) = holding_order(tx, id)? {
        return Err(Error::conflict(
            Conflict::HeldByOrder,
            format!("reservation {id} is already held by order {number}"),
        ));
    }
    if let Some(expires_at) = reservation.expires_at.filter(|t| *t <= now) {
        return Err(Error::conflict(
            Conflict::Refused,
            format!("reservation {id} expired at {expires_at}: reserve the stock again"),
        ));
    }
    let owner: String = tx.query_one("SELECT owner FROM reservations WHERE id = $1", params![id])?.get(0)?;
    if owner != actor.principal() {
        return Err(Error::conflict(
            Conflict::Refused,
            format!("reservation {id} was made by {}: only its owner can place an order with it", reservation.owner),
        ));
    }
    tx.execute("UPDATE reservations SET expires_at = NULL, updated_at = $1 WHERE id = $2", params![now, id])?;
    (reservation.expires_at, reservation.updated_at) = (None, now);
    Ok(reservation)
}

fn closing_action(to: ReservationStatus) -> Action {
    match to {
        ReservationStatus::Committed => Action::ReservationCommit,
        ReservationStatus::Expired => Action::ReservationExpire,
        _ => Action::ReservationRelease,
    }
}

/// Where a reservation stands, whoever holds it.
pub(crate) fn status_of(tx: &mut Tx<'_>, id: ReservationId) -> Result<ReservationStatus> {
    let status: String = tx.query_one("SELECT status FROM reservations WHERE id = $1", params![id])?.get(0)?;
    status.parse::<ReservationStatus>()
}

/// The number of the order a reservation is held for, if any.
fn holding_order(tx: &mut Tx<'_>, id: ReservationId) -> Result<Option<i64>> {
    tx.query_opt("SELECT number FROM orders WHERE reservation_id = $1", params![id])?.map(|row| row.get(0)).transpose()
}

/// Moves an active reservation to `to` in the caller's transaction, releasing or consuming
/// its stock; `due` (for expiry) also requires it to have expired by then. Only the order
/// a reservation is held for closes it: asked under the row lock, so an order adopting it
/// at the same time is either seen here or finds it closed.
pub(crate) fn close_in(
    tx: &mut Tx<'_>,
    actor: &Actor,
    id: ReservationId,
    to: ReservationStatus,
    due: Option<Timestamp>,
    by: Closer,
    now: Timestamp,
) -> Result<Reservation> {
    let action = closing_action(to);
    let mut reservation = load(tx, actor, id, true)?;
    for line in &reservation.lines {
        actor.authorize_at(action, &line.warehouse)?;
    }
    let lapsed = match (due, reservation.expires_at) {
        (Some(now), Some(expires_at)) => expires_at <= now,
        (Some(_), None) => false,
        (None, _) => true,
    };
    if reservation.status != ReservationStatus::Active || !lapsed {
        return Err(Error::InvalidTransition {
            entity: format!("reservation {id}"),
            from: reservation.status.as_str().to_owned(),
            to: to.as_str().to_owned(),
        });
    }
    if by == Closer::Holder
        && let Some(number) = holding_order(tx, id)?
    {
        return Err(Error::conflict(
            Conflict::HeldByOrder,
            format!("reservation {id} is held by order {number}: only the order's own steps (cancel, ship) let it go"),
        ));
    }
    tx.execute("UPDATE reservations SET status = $1, updated_at = $2 WHERE id = $3", params![to.as_str(), now, id])?;
    let (kind, reason) = match to {
        ReservationStatus::Committed => (MovementKind::Ship, None),
        ReservationStatus::Expired => (MovementKind::Release, Some("expired")),
        _ => (MovementKind::Release, None),
    };
    let key = id.to_string();
    let command = Command { action: action.as_str(), entity: ("reservation", &key), reason, reference: Some(&key) };
    ledger::apply(tx, actor, command, ledger_lines(&reservation, kind), now)?;
    (reservation.status, reservation.updated_at) = (to, now);
    Ok(reservation)
}

/// The most lines one reservation or order may name: far more than a real basket, few
/// enough that checking and locking them stays quick whatever a client sends.
pub const MAX_LINES: usize = 500;

/// The requested lines, validated and with repeated SKUs summed, in request order.
fn wanted(lines: &[(String, i64)]) -> Result<Vec<(String, i64)>> {
    if lines.is_empty() {
        return Err(Error::invalid("items", "name at least one SKU and quantity"));
    }
    if lines.len() > MAX_LINES {
        return Err(Error::invalid("items", format!("names {} lines: at most {MAX_LINES} at once", lines.len())));
    }
    let mut wanted: Vec<(String, i64)> = Vec::new();
    for (i, (sku, quantity)) in lines.iter().enumerate() {
        let sku = sku.trim();
        // A product id passes too: its UUID text is a well-formed SKU. Each refusal names
        // its line, as a request's `items` are numbered.
        crate::Sku::parse(sku).map_err(|e| e.at_field(format!("items[{i}].sku")))?;
        let quantity = rules::positive("quantity", *quantity).map_err(|_| {
            Error::invalid(format!("items[{i}].quantity"), format!("{sku}: {quantity} is not a positive whole number"))
        })?;
        match wanted.iter_mut().find(|(s, _)| s == sku) {
            Some((_, q)) => *q = rules::positive("quantity", *q + quantity)?,
            None => wanted.push((sku.to_owned(), quantity)),
        }
    }
    Ok(wanted)
}

/// Where each wanted line is held — at the named warehouse, or as the strategy allocates —
/// by SKU then warehouse, and why.
fn place(
    tx: &mut Tx<'_>,
    actor: &Actor,
    strategy: &allocation::Strategy,
    products: &[Product],
    wanted: &[(String, i64)],
    warehouse: Option<&str>,
) -> Result<(Vec<ReservationLine>, String)> {
    if let Some(code) = warehouse {
        let warehouse = active_warehouse(tx, code)?;
        let mut lines: Vec<ReservationLine> = products
            .iter()
            .zip(wanted)
            .map(|(p, (_, quantity))| ReservationLine {
                sku: p.sku.to_string(),
                product_id: p.id,
                warehouse: warehouse.code.clone(),
                warehouse_id: warehouse.id,
                quantity: *quantity,
            })
            .collect();
        lines.sort_by(|a, b| a.sku.cmp(&b.sku));
        return Ok((lines, format!("{} was asked for", warehouse.code)));
    }
    let all = warehouses::all(tx)?;
    if let allocation::Strategy::Priority(codes) = strategy
        && let Some(unknown) = codes.iter().find(|code| !all.iter().any(|w| w.code == **code))
    {
        return Err(Error::invalid(
            "allocation",
            format!("the priority order names warehouse {unknown}, which does not exist (STOCKYARD_ALLOCATION)"),
        ));
    }
    // Only where the actor may act: a user scoped to warehouses reserves only there.
    let warehouses: Vec<_> = all.into_iter().filter(|w| w.active && actor.in_scope(&w.code)).collect();
    let mut stock: Vec<WarehouseStock> =
        warehouses.iter().map(|w| WarehouseStock { code: w.code.clone(), available: vec![0; wanted.len()] }).collect();
    // (on hand, reserved) of each line over all active warehouses, for a refusal.
    let mut totals = vec![(0, 0); wanted.len()];
    for (line, product) in products.iter().enumerate() {
        let rows = tx.query(
            "SELECT warehouse_id, on_hand, reserved FROM stock_levels WHERE product_id = $1",
            params![product.id],
        )?;
        for row in rows {
            let warehouse_id: WarehouseId = row.get(0)?;
            if let Some(i) = warehouses.iter().position(|w| w.id == warehouse_id) {
                let (on_hand, reserved): (i64, i64) = (row.get(1)?, row.get(2)?);
                stock[i].available[line] = on_hand - reserved;
                totals[line] = (totals[line].0 + on_hand, totals[line].1 + reserved);
            }
        }
    }
    let needs: Vec<i64> = wanted.iter().map(|(_, q)| *q).collect();
    let plan = allocation::allocate(strategy, &needs, &stock).map_err(|short| Error::InsufficientStock {
        lines: short
            .into_iter()
            .map(|s| Shortage {
                sku: products[s.line].sku.to_string(),
                warehouse: "all warehouses".into(),
                needed: s.needed,
                available: s.available,
                on_hand: totals[s.line].0,
                reserved: totals[s.line].1,
            })
            .collect(),
    })?;
    let mut lines = plan
        .picks
        .into_iter()
        .map(|pick| {
            let warehouse = warehouses
                .iter()
                .find(|w| w.code == pick.warehouse)
                .ok_or_else(|| Error::internal(format!("allocation chose unknown warehouse {}", pick.warehouse)))?;
            let product = &products[pick.line];
            Ok(ReservationLine {
                sku: product.sku.to_string(),
                product_id: product.id,
                warehouse: warehouse.code.clone(),
                warehouse_id: warehouse.id,
                quantity: pick.quantity,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    lines.sort_by(|a, b| (&a.sku, &a.warehouse).cmp(&(&b.sku, &b.warehouse)));
    Ok((lines, plan.reason))
}

fn active_warehouse(tx: &mut Tx<'_>, code: &str) -> Result<warehouses::Warehouse> {
    let warehouse = warehouses::require(tx, code)?;
    if !warehouse.active {
        return Err(Error::conflict(Conflict::Refused, format!("warehouse {} is inactive", warehouse.code)));
    }
    Ok(warehouse)
}

/// Stores a new reservation, owned by the principal `owner`.
/// Inserts a new reservation and its lines (deferred: nothing in the command reads them).
fn insert(tx: &mut Tx<'_>, r: &Reservation, owner: &str) -> Result<()> {
    tx.defer(
        "INSERT INTO reservations (id, owner, reference, status, expires_at, allocation, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        params![r.id, owner, r.reference.clone(), r.status.as_str(), r.expires_at, &r.allocation, r.created_at],
    )?;
    let lines: Vec<_> =
        r.lines.iter().map(|l| params![r.id, l.product_id, l.warehouse_id, l.quantity].to_vec()).collect();
    tx.defer_rows("INSERT INTO reservation_lines (reservation_id, product_id, warehouse_id, quantity)", &lines)
}

/// A reservation with its lines, if the actor may see it; locked until commit when `lock`
/// is set.
fn load(tx: &mut Tx<'_>, actor: &Actor, id: ReservationId, lock: bool) -> Result<Reservation> {
    let sql = format!(
        "SELECT id, status, owner, reference, expires_at, created_at, updated_at, allocation FROM reservations
         WHERE id = $1{}",
        if lock { tx.for_update() } else { "" }
    );
    let not_found = || Error::not_found("reservation", id.to_string());
    let row = tx.query_opt(&sql, params![id])?.ok_or_else(not_found)?;
    let owner: String = row.get(2)?;
    if !actor.may_see(&owner) {
        return Err(not_found());
    }
    let owner = shown_principal(tx, &owner)?;
    let lines = tx.query(
        "SELECT p.sku, l.product_id, w.code, l.warehouse_id, l.quantity FROM reservation_lines l
         JOIN products p ON p.id = l.product_id JOIN warehouses w ON w.id = l.warehouse_id
         WHERE l.reservation_id = $1 ORDER BY p.sku, w.code",
        params![id],
    )?;
    from_row(&row, owner, lines.iter().map(line_from_row).collect::<Result<_>>()?)
}

fn from_row(row: &Row, owner: String, lines: Vec<ReservationLine>) -> Result<Reservation> {
    let status: String = row.get(1)?;
    Ok(Reservation {
        id: row.get(0)?,
        status: status.parse::<ReservationStatus>()?,
        owner,
        reference: row.get(3)?,
        expires_at: row.get(4)?,
        lines,
        allocation: row.get(7)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
    })
}

fn line_from_row(row: &Row) -> Result<ReservationLine> {
    Ok(ReservationLine {
        sku: row.get(0)?,
        product_id: row.get(1)?,
        warehouse: row.get(2)?,
        warehouse_id: row.get(3)?,
        quantity: row.get(4)?,
    })
}

/// The ledger lines that reserve, release or consume a reservation's stock.
fn ledger_lines(reservation: &Reservation, kind: MovementKind) -> Vec<Line> {
    reservation
        .lines
        .iter()
        .map(|l| {
            let (on_hand, reserved_delta) = match kind {
                MovementKind::Reserve => (0, l.quantity),
                MovementKind::Ship => (-l.quantity, -l.quantity),
                _ => (0, -l.quantity),
            };
            Line { item: item_of(l), kind, on_hand: OnHand::By(on_hand), reserved_delta }
        })
        .collect()
}

fn item_of(line: &ReservationLine) -> Item {
    Item {
        product_id: line.product_id,
        sku: line.sku.clone(),
        warehouse_id: line.warehouse_id,
        warehouse: line.warehouse.clone(),
    }
}
