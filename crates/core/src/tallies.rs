//! Counts a monitor scrapes (the server's `/metrics`): orders placed and reservations made
//! so far, and notifications by status — read from the store, so every instance of a
//! shared database reports the same truth, and never anything personal.

use serde::Serialize;

use crate::{Action, Actor, Result, Store};

/// What the store holds, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tallies {
    /// Every order ever placed.
    pub orders_placed: i64,
    /// Every reservation ever made (an order's own included).
    pub reservations_made: i64,
    /// Notifications per status, every status named (`pending`, `sent`, `delivered`,
    /// `failed`), in that order.
    pub notifications: Vec<(&'static str, i64)>,
}

const NOTIFICATION_STATUSES: [&str; 4] = ["pending", "sent", "delivered", "failed"];

impl Store {
    /// The counts, for those who oversee the store (`audit.read`).
    pub fn tallies(&self, actor: &Actor) -> Result<Tallies> {
        actor.authorize(Action::AuditRead)?;
        self.pool.read(|tx| {
            let orders_placed = tx.query_one("SELECT COUNT(*) FROM orders", &[])?.get(0)?;
            let reservations_made = tx.query_one("SELECT COUNT(*) FROM reservations", &[])?.get(0)?;
            let rows = tx.query("SELECT status, COUNT(*) FROM notifications GROUP BY status", &[])?;
            let mut notifications: Vec<(&'static str, i64)> = NOTIFICATION_STATUSES.map(|s| (s, 0)).to_vec();
            for row in &rows {
                let (status, count): (String, i64) = (row.get(0)?, row.get(1)?);
                if let Some(slot) = notifications.iter_mut().find(|(s, _)| *s == status) {
                    slot.1 = count;
                }
            }
            Ok(Tallies { orders_placed, reservations_made, notifications })
        })
    }
}
