//! The order state machine (SPEC "Order states"): every allowed transition in one table;
//! anything else is refused.

use crate::{Error, Result, named::named};

named! {
    /// Where an order stands.
    OrderStatus, "status" {
        Pending = "pending",
        Confirmed = "confirmed",
        Paid = "paid",
        Picking = "picking",
        Packed = "packed",
        Shipped = "shipped",
        Delivered = "delivered",
        Cancelled = "cancelled",
        ReturnRequested = "return_requested",
        Returned = "returned",
        Refunded = "refunded",
    }
}

use OrderStatus::*;

impl OrderStatus {
    /// The table: every transition an order may make.
    pub const TRANSITIONS: &[(OrderStatus, OrderStatus)] = &[
        (Pending, Confirmed),
        (Confirmed, Paid),
        (Paid, Picking),
        (Picking, Packed),
        (Packed, Shipped),
        (Shipped, Delivered),
        // Cancelled from any state before shipment.
        (Pending, Cancelled),
        (Confirmed, Cancelled),
        (Paid, Cancelled),
        (Picking, Cancelled),
        (Packed, Cancelled),
        // Returns after shipment: asked for first, or the goods are simply back.
        (Shipped, ReturnRequested),
        (Delivered, ReturnRequested),
        (Shipped, Returned),
        (Delivered, Returned),
        (ReturnRequested, Returned),
        (Returned, Refunded),
        // A paid order cancelled is owed its money back.
        (Cancelled, Refunded),
    ];

    pub fn can_become(self, to: OrderStatus) -> bool {
        Self::TRANSITIONS.contains(&(self, to))
    }

    /// Refuses a transition the table does not hold, naming both states.
    pub(crate) fn check(self, to: OrderStatus, order: &str) -> Result<()> {
        if self.can_become(to) {
            return Ok(());
        }
        Err(Error::InvalidTransition { entity: format!("order {order}"), from: self.to_string(), to: to.to_string() })
    }

    /// Not yet shipped (nor cancelled): its customer details and notes may still change.
    pub fn before_shipment(self) -> bool {
        matches!(self, Pending | Confirmed | Paid | Picking | Packed)
    }

    /// Still in progress: its product cannot be deleted.
    pub fn is_open(self) -> bool {
        matches!(self, Pending | Confirmed | Paid | Picking | Packed | Shipped | ReturnRequested)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_and_nothing_backwards() {
        let path = [Pending, Confirmed, Paid, Picking, Packed, Shipped, Delivered];
        for pair in path.windows(2) {
            assert!(pair[0].can_become(pair[1]), "{} -> {}", pair[0], pair[1]);
            assert!(!pair[1].can_become(pair[0]), "{} -> {}", pair[1], pair[0]);
        }
        assert!(!Shipped.can_become(Cancelled));
        assert!(!Refunded.can_become(Returned));
        for &status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>().ok(), Some(status));
            assert!(!status.can_become(status));
        }
    }
}
