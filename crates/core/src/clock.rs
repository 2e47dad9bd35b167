//! The current time, in UTC at microsecond precision: the finest both backends store exactly.

use jiff::{Timestamp, Unit};

pub fn now() -> Timestamp {
    // Rounding cannot fail for `Unit::Microsecond` on a valid timestamp.
    Timestamp::now().round(Unit::Microsecond).unwrap_or_else(|_| Timestamp::now())
}
