//! `reserve`, `release` and `sweep` (which also cancels unpaid orders).

use std::io::Write;

use stockyard_core::{
    Sweeper,
    inventory::{Hold, Reservation, ReserveRequest},
};

use super::Context;
use crate::{cli::Reserve, exit::Failure};

/// Prints the reservation id (table), the reservation (json), or only the id (`--quiet`).
pub fn reserve(ctx: &mut Context<'_>, reserve: Reserve) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let keyed = reserve.key.on(actor)?;
    let request = ReserveRequest {
        lines: reserve.lines,
        warehouse: reserve.warehouse,
        hold: reserve.ttl.map_or(Hold::Checkout, Hold::CheckoutFor),
        reference: reserve.reference,
    };
    let reservation = store.inventory().reserve(&keyed, request)?;
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
    let report = Sweeper::new(&store, &actor)?.run_once()?;
    let mut message = format!(
        "Expired {} reservation(s); cancelled {} unpaid order(s).",
        report.reservations_expired, report.orders_cancelled
    );
    if report.records_sealed > 0 {
        message
            .push_str(&format!(" Sealed the journal records of {} command(s) left unsealed.", report.records_sealed));
    }
    Ok(ctx.out.done(&message, &report)?)
}

/// `2 × MUG-01 at MAIN, 1 × KETTLE at EAST`.
fn summary(reservation: &Reservation) -> String {
    let lines: Vec<String> =
        reservation.lines.iter().map(|l| format!("{} × {} at {}", l.quantity, l.sku, l.warehouse)).collect();
    lines.join(", ")
}
