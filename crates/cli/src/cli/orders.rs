//! The grammar of `order …`: placing orders and moving them through their states.

use clap::{Args, Subcommand};
use stockyard_core::orders::ReturnLine;

use super::{KeyArg, PageArgs, sku_quantity};

#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// Place an order: every line's stock is reserved, or nothing is
    Create(OrderCreate),
    /// List orders, newest first
    List(OrderList),
    /// Show one order (by id or number)
    Show {
        /// Order id or number
        id: String,
        /// Also say why each line is served from where it is
        #[arg(long)]
        explain: bool,
    },
    /// Change the customer details or notes of an order not yet shipped ("" clears a field)
    Update(OrderUpdate),
    /// Record a payment (default: the whole balance); fully paid, the order becomes paid
    Pay {
        /// Order id or number
        id: String,
        /// How much, as a decimal in the order's currency
        #[arg(long, allow_negative_numbers = true)]
        amount: Option<String>,
        /// The payment's reference, e.g. a transaction id
        #[arg(long = "ref", value_name = "R")]
        reference: Option<String>,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Move an order along: picking, packed, shipped (consumes its stock), delivered
    Status {
        /// Order id or number
        id: String,
        /// The new status
        status: String,
        /// The carrier's tracking number (when shipping)
        #[arg(long, value_name = "T")]
        tracking: Option<String>,
    },
    /// Record units of an order's line picked (by SKU or barcode): the first pick of a paid
    /// order starts picking, the last one packs it
    ///
    /// QTY defaults to 1. A line served from several warehouses needs --warehouse, unless the
    /// acting user may pick at only one of them. Picking more than is left to pick is refused
    /// (exit 4), and so is packing by hand (`order status ID packed`) an order picked in part.
    Pick {
        /// Order id or number
        id: String,
        /// What was picked: its SKU or barcode, and how many (default 1)
        #[arg(value_name = "SKU[:QTY]", value_parser = picked)]
        item: (String, i64),
        /// The warehouse picked at
        #[arg(long, value_name = "W")]
        warehouse: Option<String>,
    },
    /// Cancel an order before shipment: its stock is released
    Cancel {
        /// Order id or number
        id: String,
        /// Why, for the audit log and the customer's notification
        #[arg(long, value_name = "R")]
        reason: Option<String>,
    },
    /// Goods back after shipment, restocked or scrapped per line (--request: only record it)
    ///
    /// With --request the order becomes return_requested; a later `order return ID` receives
    /// the goods (its --line may be left out to take the requested lines) and the order
    /// becomes returned.
    Return(OrderReturn),
    /// Pay money back (default: all paid and not yet refunded)
    ///
    /// Refunds add up to what was paid; more is refused. A returned or cancelled order
    /// becomes refunded only when all of it is back.
    Refund {
        /// Order id or number
        id: String,
        /// How much, as a decimal in the order's currency
        #[arg(long, allow_negative_numbers = true)]
        amount: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct OrderCreate {
    /// The customer's email
    #[arg(long, value_name = "EMAIL")]
    pub customer: String,
    /// The customer's name
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    /// The customer's phone number
    #[arg(long, value_name = "P")]
    pub phone: Option<String>,
    /// The shipping address
    #[arg(long, value_name = "A")]
    pub address: Option<String>,
    /// What to order, SKU:QTY (one or more)
    #[arg(long = "line", value_name = "SKU:QTY", required = true, num_args = 1.., value_parser = sku_quantity)]
    pub lines: Vec<(String, i64)>,
    /// Serve every line from this warehouse (default: the allocation strategy chooses)
    #[arg(long, value_name = "W")]
    pub warehouse: Option<String>,
    /// Take over this checkout reservation instead of reserving anew
    #[arg(long, value_name = "ID", conflicts_with = "warehouse")]
    pub reservation: Option<String>,
    /// Show what the order would get, placing nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub key: KeyArg,
}

#[derive(Debug, Args)]
pub struct OrderList {
    /// Only orders in this status
    #[arg(long, value_name = "S")]
    pub status: Option<String>,
    /// Only this customer's orders
    #[arg(long, value_name = "EMAIL")]
    pub customer: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Args)]
pub struct OrderReturn {
    /// Order id or number
    pub id: String,
    /// A returned line, SKU:QTY, or SKU:QTY:scrap to write it off (one or more; receiving a
    /// requested return may leave them out)
    #[arg(long = "line", value_name = "SKU:QTY[:scrap]", num_args = 1.., value_parser = return_line)]
    pub lines: Vec<ReturnLine>,
    /// Only record the request (return_requested); the goods are not back yet
    #[arg(long, requires = "lines")]
    pub request: bool,
}

/// `SKU:QTY` (restocked) or `SKU:QTY:scrap` (written off).
fn return_line(arg: &str) -> Result<ReturnLine, String> {
    let (line, scrap) = match arg.rsplit_once(':') {
        Some((line, tag)) if tag.trim().eq_ignore_ascii_case("scrap") => (line, true),
        _ => (arg, false),
    };
    let (sku, quantity) = sku_quantity(line).map_err(|_| format!("{arg:?} is not SKU:QTY or SKU:QTY:scrap"))?;
    Ok(ReturnLine { sku, quantity, scrap })
}

/// `SKU:QTY`, or a bare SKU or barcode for one unit.
fn picked(arg: &str) -> Result<(String, i64), String> {
    match arg.rsplit_once(':') {
        Some((code, quantity)) => {
            let quantity =
                quantity.trim().parse().map_err(|_| format!("{arg:?}: {quantity:?} is not a whole number"))?;
            Ok((code.trim().to_owned(), quantity))
        }
        None => Ok((arg.trim().to_owned(), 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pick_is_one_unit_unless_counted() {
        assert_eq!(picked("MUG-1"), Ok(("MUG-1".into(), 1)));
        assert_eq!(picked("4006381333931:3"), Ok(("4006381333931".into(), 3)));
        assert_eq!(picked(" MUG-1 : 2 "), Ok(("MUG-1".into(), 2)));
        let message = picked("MUG-1:two").expect_err("not a number");
        assert!(message.contains("\"MUG-1:two\"") && message.contains("whole number"), "{message}");
    }

    #[test]
    fn return_lines_restock_unless_scrapped() {
        let line = |sku: &str, quantity, scrap| Ok(ReturnLine { sku: sku.into(), quantity, scrap });
        assert_eq!(return_line("MUG-1:2"), line("MUG-1", 2, false));
        assert_eq!(return_line("MUG-1:1:scrap"), line("MUG-1", 1, true));
        assert_eq!(return_line("MUG-1:1:SCRAP"), line("MUG-1", 1, true));
        for bad in ["MUG-1", "MUG-1:x", "MUG-1:1:junk", "MUG-1:scrap"] {
            let message = return_line(bad).expect_err(bad);
            assert!(message.contains(&format!("{bad:?}")) && message.contains("SKU:QTY:scrap"), "{message}");
        }
    }
}

#[derive(Debug, Args)]
pub struct OrderUpdate {
    /// Order id or number
    pub id: String,
    /// The customer's email
    #[arg(long)]
    pub email: Option<String>,
    /// The customer's name
    #[arg(long)]
    pub name: Option<String>,
    /// The customer's phone number
    #[arg(long)]
    pub phone: Option<String>,
    /// The delivery address
    #[arg(long)]
    pub address: Option<String>,
    /// Notes kept with the order
    #[arg(long)]
    pub notes: Option<String>,
    /// Refuse the change unless the order is still at this version
    #[arg(long, value_name = "VERSION")]
    pub if_version: Option<i64>,
}
