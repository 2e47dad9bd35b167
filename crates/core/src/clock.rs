//! The current time, in UTC at microsecond precision: the finest both backends store exactly.
//!
//! A store reads "now" from the [`Clock`] in its options: the system clock, or a
//! [`ManualClock`] that a test sets and advances instead of sleeping. Nothing in the store
//! needs time to run forwards: the event and audit logs are ordered (and hash-chained) by
//! `seq`, not by time. A clock set back makes later writes look older, so the one thing to
//! keep in mind is that time-travel reads (stock levels `at` a time) go by the times written.

use std::sync::{Arc, Mutex, PoisonError};

use jiff::{SignedDuration, Timestamp, Unit};

/// Where a store reads the time. Cheap to clone; clones of a manual clock share its time.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<ManualClock>);

impl Clock {
    /// The system clock (the default).
    pub fn system() -> Self {
        Self(None)
    }

    /// Now, rounded to the microsecond.
    pub fn now(&self) -> Timestamp {
        match &self.0 {
            Some(manual) => manual.now(),
            None => wall(),
        }
    }
}

impl From<ManualClock> for Clock {
    fn from(manual: ManualClock) -> Self {
        Self(Some(manual))
    }
}

/// A clock that stands still until told: set or advanced by hand, for tests. Its clones (and
/// so the store given one through [`Clock::from`]) share one time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    /// A clock reading `start` (rounded to the microsecond).
    pub fn new(start: Timestamp) -> Self {
        Self(Arc::new(Mutex::new(micros(start))))
    }

    /// A clock reading the system time now, from where a test moves it.
    pub fn starting_now() -> Self {
        Self::new(wall())
    }

    pub fn now(&self) -> Timestamp {
        *self.time()
    }

    /// Moves the clock to `at` (rounded to the microsecond), forwards or back.
    pub fn set(&self, at: Timestamp) {
        *self.time() = micros(at);
    }

    /// Moves the clock on by `by` (back, if negative) and returns the new time.
    ///
    /// # Panics
    /// When that leaves the range of [`Timestamp`] (years -9999 to 9999).
    pub fn advance(&self, by: SignedDuration) -> Timestamp {
        let mut time = self.time();
        let moved =
            time.checked_add(by).unwrap_or_else(|e| panic!("cannot advance the clock from {time} by {by:?}: {e}"));
        *time = micros(moved);
        *time
    }

    fn time(&self) -> std::sync::MutexGuard<'_, Timestamp> {
        // A test that panicked while holding the lock left a valid time behind.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The system time. Only for what must follow real time whatever the store's clock says:
/// leases between processes and signatures checked against another machine's clock.
pub(crate) fn wall() -> Timestamp {
    micros(Timestamp::now())
}

fn micros(at: Timestamp) -> Timestamp {
    // Rounding cannot fail for `Unit::Microsecond` on a valid timestamp.
    at.round(Unit::Microsecond).unwrap_or(at)
}

/// A time on the wire (JSON): RFC 3339 in UTC with exactly six fractional digits, so that
/// times sort as text and every one has the same width.
pub(crate) fn wire<S: serde::Serializer>(at: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&wire_text(at))
}

/// The text of [`wire`].
pub(crate) fn wire_text(at: &Timestamp) -> String {
    format!("{at:.6}")
}

/// [`wire`] for a time that may be absent (`null`).
pub(crate) fn wire_opt<S: serde::Serializer>(at: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => wire(at, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_times_have_six_fractional_digits() {
        let at: Timestamp = "2026-12-01T10:00:00.5Z".parse().expect("time");
        let json = |t: Option<Timestamp>| {
            let mut out = Vec::new();
            wire_opt(&t, &mut serde_json::Serializer::new(&mut out)).expect("serialize");
            String::from_utf8(out).expect("utf8")
        };
        assert_eq!(json(Some(at)), "\"2026-12-01T10:00:00.500000Z\"");
        assert_eq!(json(Some("2026-12-01T10:00:00Z".parse().expect("time"))), "\"2026-12-01T10:00:00.000000Z\"");
        assert_eq!(json(None), "null");
    }

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clones_share_it() {
        let start: Timestamp = "2026-12-01T10:00:00.1234567Z".parse().expect("time");
        let manual = ManualClock::new(start);
        let clock = Clock::from(manual.clone());
        let rounded: Timestamp = "2026-12-01T10:00:00.123457Z".parse().expect("time");
        assert_eq!((manual.now(), clock.now(), clock.clone().now()), (rounded, rounded, rounded));
        let later = manual.advance(SignedDuration::from_mins(90));
        assert_eq!(later, rounded + SignedDuration::from_mins(90));
        assert_eq!(clock.now(), later, "a clone sees the move");
        manual.set(start - SignedDuration::from_hours(1));
        assert_eq!(clock.now(), rounded - SignedDuration::from_hours(1), "set back, to the microsecond");
    }

    #[test]
    fn the_system_clock_reads_microseconds() {
        let now = Clock::system().now();
        assert_eq!(now.subsec_nanosecond() % 1000, 0);
        assert!(now.duration_until(Timestamp::now()).abs() < SignedDuration::from_secs(60));
    }
}
