//! The one error type of the core, and the coarse kinds front ends map to exit codes and HTTP statuses.

use std::fmt;

/// Everything a core operation can fail with. Messages name the thing at fault
/// (field, SKU, code) so a front end can show them as they are.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The named entity does not exist (or is deleted).
    #[error("{entity} {key:?} not found")]
    NotFound { entity: &'static str, key: String },
    /// The request clashes with the current state: a duplicate key, a stale version,
    /// something still in use.
    #[error("{message}")]
    Conflict { message: String },
    /// Stock cannot cover the request; nothing was changed. One line per short item.
    #[error("insufficient stock: {}", lines.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InsufficientStock { lines: Vec<Shortage> },
    /// The entity is in a state that does not allow this change.
    #[error("{entity} is {from} and cannot become {to}")]
    InvalidTransition { entity: String, from: String, to: String },
    /// Who is asking could not be established: a wrong password, a bad or expired token,
    /// an unknown or disabled user.
    #[error("not authenticated: {reason}")]
    Unauthenticated { reason: String },
    /// The actor may not do this.
    #[error("not allowed: {reason}")]
    Forbidden { reason: String },
    /// An input value does not parse or validate; nothing was changed.
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The database exists but `stockyard init` has never run on it.
    #[error("the database at {location} is not initialised: run `stockyard init` first")]
    NotInitialised { location: String },
    /// The database could not be reached or failed unexpectedly.
    #[error("storage error: {0}")]
    Storage(String),
}

/// The coarse classes of [`Error`], one per exit code / HTTP status family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Conflict,
    Unauthenticated,
    Forbidden,
    Invalid,
    NotInitialised,
    Storage,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Conflict { .. } | Error::InsufficientStock { .. } | Error::InvalidTransition { .. } => {
                ErrorKind::Conflict
            }
            Error::Unauthenticated { .. } => ErrorKind::Unauthenticated,
            Error::Forbidden { .. } => ErrorKind::Forbidden,
            Error::Invalid { .. } => ErrorKind::Invalid,
            Error::NotInitialised { .. } => ErrorKind::NotInitialised,
            Error::Storage(_) => ErrorKind::Storage,
        }
    }

    pub fn invalid(field: impl Into<String>, reason: impl fmt::Display) -> Self {
        Error::Invalid { field: field.into(), reason: reason.to_string() }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict { message: message.into() }
    }

    pub fn unauthenticated(reason: impl Into<String>) -> Self {
        Error::Unauthenticated { reason: reason.into() }
    }

    pub fn not_found(entity: &'static str, key: impl Into<String>) -> Self {
        Error::NotFound { entity, key: key.into() }
    }
}

/// One item that stock cannot cover: `needed` units were asked of `available`
/// (`on_hand` − `reserved`) at one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Shortage {
    pub sku: String,
    pub warehouse: String,
    pub needed: i64,
    pub available: i64,
    pub on_hand: i64,
    pub reserved: i64,
}

impl fmt::Display for Shortage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {} needs {} but only {} available (on hand {}, reserved {})",
            self.sku, self.warehouse, self.needed, self.available, self.on_hand, self.reserved
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
