//! Orders to CSV: one row per order the actor may list, newest first, its lines as
//! `SKU:QTY` separated by `;`. The customer's personal data is left out unless asked for
//! by someone who handles customers.

use super::{OrderQuery, Orders};
use crate::{Action, Actor, Error, Result, sheet::Sheet};

const COLUMNS: &[&str] =
    &["number", "status", "created_at", "currency", "total", "paid", "refunded", "lines", "tracking_number"];
const PERSONAL: &[&str] = &["customer_email", "customer_name", "customer_phone", "customer_address"];

impl Orders<'_> {
    /// Every order the actor may list. With `personal_data` (refused to roles that do not
    /// place or edit orders) the customer's email, name, phone and address too.
    pub fn export(&self, actor: &Actor, personal_data: bool) -> Result<Sheet> {
        actor.authorize(Action::OrderRead)?;
        if personal_data && actor.authorize(Action::OrderUpdate).is_err() {
            return Err(Error::Forbidden {
                reason: format!("a {} may not export customers' personal data", actor.role()),
            });
        }
        let mut headers: Vec<String> = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
        if personal_data {
            headers.extend(PERSONAL.iter().map(|c| (*c).to_owned()));
        }
        let mut rows = Vec::new();
        let mut query = OrderQuery { limit: Some(crate::page::MAX_LIMIT), ..Default::default() };
        loop {
            let page = self.list(actor, &query)?;
            for order in &page.items {
                let lines: Vec<String> = order.lines.iter().map(|l| format!("{}:{}", l.sku, l.quantity)).collect();
                let mut row = vec![
                    order.number.to_string(),
                    order.status.as_str().to_owned(),
                    crate::clock::wire_text(&order.created_at),
                    order.currency.code().to_owned(),
                    order.total.amount(),
                    order.paid.amount(),
                    order.refunded.amount(),
                    lines.join(";"),
                    order.tracking_number.clone().unwrap_or_default(),
                ];
                if personal_data {
                    let c = &order.customer;
                    row.push(c.email.clone());
                    row.extend([&c.name, &c.phone, &c.address].map(|v| v.clone().unwrap_or_default()));
                }
                rows.push(row);
            }
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => return Ok(Sheet { headers, rows }),
            }
        }
    }
}
