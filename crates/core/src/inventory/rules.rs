//! Stock arithmetic, free of storage (only reading its numbers from a row): which changes are allowed, when a level is low, and
//! how much to reorder. Every writer and the replay apply these same rules.

use serde::{Deserialize, Serialize};

use crate::{Error, Result, db::Row};

/// The largest quantity one operation may move or set, and the most a level may hold: far
/// beyond any real stock, and far from overflowing a 64-bit sum. Bounding levels too (not
/// only operations) keeps every level countable and settable.
pub(crate) const MAX_QUANTITY: i64 = 1_000_000_000_000;

/// The numbers of one stock level (product × warehouse).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Counts {
    pub on_hand: i64,
    pub reserved: i64,
    pub reorder_point: i64,
    pub reorder_qty: i64,
}

impl Counts {
    /// The four numbers from `on_hand, reserved, reorder_point, reorder_qty` columns
    /// starting at `first`.
    pub fn from_row(row: &Row, first: usize) -> Result<Self> {
        Ok(Counts {
            on_hand: row.get(first)?,
            reserved: row.get(first + 1)?,
            reorder_point: row.get(first + 2)?,
            reorder_qty: row.get(first + 3)?,
        })
    }

    pub fn available(&self) -> i64 {
        self.on_hand - self.reserved
    }

    /// A level with a reorder point is low once available stock is at or below it.
    pub fn is_low(&self) -> bool {
        self.reorder_point > 0 && self.available() <= self.reorder_point
    }

    /// The level after adding the deltas, or `None` when it would break
    /// `0 ≤ reserved ≤ on_hand ≤ MAX_QUANTITY` (never clamped).
    pub fn apply(&self, on_hand_delta: i64, reserved_delta: i64) -> Option<Counts> {
        let next = Counts {
            on_hand: self.on_hand.checked_add(on_hand_delta)?,
            reserved: self.reserved.checked_add(reserved_delta)?,
            ..*self
        };
        (next.reserved >= 0 && next.reserved <= next.on_hand && next.on_hand <= MAX_QUANTITY).then_some(next)
    }

    /// How much to order for a low level: at least the reorder quantity, and enough to
    /// lift available stock back above the reorder point. Zero when the level is not low.
    pub fn suggested_order(&self) -> i64 {
        if !self.is_low() {
            return 0;
        }
        self.reorder_qty.max(self.reorder_point - self.available() + 1)
    }
}

/// `InventoryThresholdReached` fires on the change that makes a level low, not again while
/// it stays low.
pub(crate) fn threshold_crossed(before: &Counts, after: &Counts) -> bool {
    !before.is_low() && after.is_low()
}

/// A quantity that must be at least 1.
pub(crate) fn positive(field: &str, quantity: i64) -> Result<i64> {
    match quantity {
        1..=MAX_QUANTITY => Ok(quantity),
        q if q < 1 => Err(Error::invalid(field, format!("must be a positive whole number, not {q}"))),
        q => Err(Error::invalid(field, format!("{q} is more than {MAX_QUANTITY}"))),
    }
}

/// A quantity that may be zero.
pub(crate) fn non_negative(field: &str, quantity: i64) -> Result<i64> {
    match quantity {
        0..=MAX_QUANTITY => Ok(quantity),
        q if q < 0 => Err(Error::invalid(field, format!("must not be negative, not {q}"))),
        q => Err(Error::invalid(field, format!("{q} is more than {MAX_QUANTITY}"))),
    }
}

/// A signed change that is not zero.
pub(crate) fn non_zero(field: &str, delta: i64) -> Result<i64> {
    match delta {
        0 => Err(Error::invalid(field, "must not be zero")),
        // `unsigned_abs`: `i64::MIN.abs()` would overflow (and wrap in release builds).
        d if d.unsigned_abs() > MAX_QUANTITY.unsigned_abs() => {
            Err(Error::invalid(field, format!("{d} is beyond ±{MAX_QUANTITY}")))
        }
        d => Ok(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(on_hand: i64, reserved: i64, reorder_point: i64, reorder_qty: i64) -> Counts {
        Counts { on_hand, reserved, reorder_point, reorder_qty }
    }

    #[test]
    fn changes_keep_reserved_within_on_hand() {
        let l = level(10, 4, 0, 0);
        assert_eq!(l.apply(-6, 0), Some(level(4, 4, 0, 0)));
        assert_eq!(l.apply(-7, 0), None, "would leave 3 on hand under 4 reserved");
        assert_eq!(l.apply(0, 6), Some(level(10, 10, 0, 0)));
        assert_eq!(l.apply(0, 7), None, "reserving more than available");
        assert_eq!(l.apply(0, -5), None, "releasing more than reserved");
        assert_eq!(l.apply(-4, -4), Some(level(6, 0, 0, 0)), "shipping reserved stock");
        assert_eq!(l.apply(i64::MAX, 0), None, "overflow is refused, not wrapped");
        assert_eq!(level(MAX_QUANTITY, 0, 0, 0).apply(1, 0), None, "a level never exceeds the bound");
        assert!(level(MAX_QUANTITY - 1, 0, 0, 0).apply(1, 0).is_some());
    }

    #[test]
    fn low_means_available_at_or_below_a_set_reorder_point() {
        assert!(!level(0, 0, 0, 0).is_low(), "no reorder point, never low");
        assert!(level(5, 0, 5, 0).is_low());
        assert!(level(9, 4, 5, 0).is_low(), "reserved stock is not available");
        assert!(!level(6, 0, 5, 0).is_low());
    }

    #[test]
    fn threshold_fires_once_per_crossing() {
        let (above, at, below) = (level(6, 0, 5, 10), level(5, 0, 5, 10), level(1, 0, 5, 10));
        assert!(threshold_crossed(&above, &at));
        assert!(!threshold_crossed(&at, &below), "already low");
        assert!(!threshold_crossed(&below, &above));
        assert!(threshold_crossed(&level(3, 0, 0, 0), &level(3, 0, 5, 0)), "raising the point over the stock");
    }

    #[test]
    fn suggests_enough_to_recover_and_at_least_the_reorder_quantity() {
        assert_eq!(level(4, 0, 5, 20).suggested_order(), 20);
        assert_eq!(level(0, 0, 50, 20).suggested_order(), 51);
        assert_eq!(level(3, 0, 5, 0).suggested_order(), 3);
        assert_eq!(level(30, 0, 5, 20).suggested_order(), 0);
    }

    #[test]
    fn quantities_are_validated_naming_the_field() {
        assert!(positive("quantity", 1).is_ok());
        assert!(matches!(positive("quantity", 0), Err(Error::Invalid { field, .. }) if field == "quantity"));
        assert!(non_negative("count", 0).is_ok());
        assert!(non_negative("count", -1).is_err());
        assert!(non_zero("by", -3).is_ok());
        assert!(non_zero("by", 0).is_err());
        assert!(non_zero("by", i64::MIN).is_err(), "i64::MIN does not wrap past the bound");
        assert!(non_zero("by", -MAX_QUANTITY).is_ok());
        assert!(positive("quantity", MAX_QUANTITY + 1).is_err());
    }
}
