//! `reserve`, `release` and `sweep` (which also cancels unpaid orders).

use std::io::Write;

use stockyard_core::{
    Action, Actor,
    inventory::{Hold, Reservation, ReserveRequest},
};

use super::Context;
use crate::{cli::Reserve, exit::Failure};

/// Prints the reservation id (table), the reservation (json), or only the id (`--quiet`).
pub fn reserve(ctx: &mut Context<'_>, reserve: Reserve) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let request = ReserveRequest {
        lines: reserve.lines,
        warehouse: reserve.warehouse,
        hold: reserve.ttl.map_or(Hold::Checkout, Hold::CheckoutFor),
        reference: reserve.reference,
    };
    let reservation = store.inventory().reserve(&actor, request)?;
    let id = reservation.id.to_string();
    if ctx.config.quiet {
        writeln!(ctx.out.raw(), "{id}")?;
        return Ok(());
    }
    Ok(ctx.out.done(&id, &reservation)?)
}

pub fn release(ctx: &mut Context<'_>, id: &str) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let reservation = store.inventory().release(&actor, id)?;
    let message = format!("Released reservation {}: {}.", reservation.id, summary(&reservation));
    Ok(ctx.out.done(&message, &reservation)?)
}

/// Runs the due background work once, as the `sweeper` system actor — if the acting user
/// may itself expire reservations and cancel orders: lapsed checkout reservations are
/// released, and confirmed orders unpaid past the timeout cancelled.
pub fn sweep(ctx: &mut Context<'_>) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    actor.authorize(Action::ReservationExpire)?;
    actor.authorize(Action::OrderCancel)?;
    let (sweeper, now) = (Actor::system("sweeper"), store.now());
    let expired = store.inventory().expire_due(&sweeper, now)?;
    let cancelled = store.orders().expire_unpaid(&sweeper, now)?;
    let report = serde_json::json!({ "reservations_expired": expired, "orders_cancelled": cancelled });
    let message = format!("Expired {expired} reservation(s); cancelled {cancelled} unpaid order(s).");
    Ok(ctx.out.done(&message, &report)?)
}

/// `2 × MUG-01 at MAIN, 1 × KETTLE at EAST`.
fn summary(reservation: &Reservation) -> String {
    let lines: Vec<String> =
        reservation.lines.iter().map(|l| format!("{} × {} at {}", l.quantity, l.sku, l.warehouse)).collect();
    lines.join(", ")
}
