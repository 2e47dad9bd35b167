//! The one error type of the core, and the coarse kinds front ends map to exit codes and HTTP statuses.

use std::fmt;

/// Everything a core operation can fail with. Messages name the thing at fault
/// (field, SKU, code) so a front end can show them as they are — except [`Error::Internal`],
/// which is for the operator's log and never for a client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The named entity does not exist (or is deleted); `suggestion` is the existing key
    /// most like the one given, when one is alike enough to be a likely typo.
    #[error("{entity} {key:?} not found{}", suggestion.as_ref().map(|s| format!("; did you mean {s:?}?")).unwrap_or_default())]
    NotFound { entity: &'static str, key: String, suggestion: Option<String> },
    /// The request clashes with the current state; `code` says how, for machines.
    #[error("{message}")]
    Conflict { code: Conflict, message: String },
    /// Stock cannot cover the request; nothing was changed. One line per short item.
    #[error("insufficient stock: {}", lines.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InsufficientStock { lines: Vec<Shortage> },
    /// The entity is in a state that does not allow this change.
    #[error("{entity} is {from} and cannot become {to}")]
    InvalidTransition { entity: String, from: String, to: String },
    /// An idempotency key came back with other arguments than it was first used with;
    /// nothing was changed. (CLI exit 4, HTTP 422.)
    #[error("idempotency key {key:?} was already used for a different request: use a new key for a new request")]
    KeyReused { key: String },
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
    /// Rows of an imported file that cannot apply — every one, each by line and column;
    /// nothing of the file was applied. A conflict when every problem is one (a stale
    /// version, a duplicate barcode), otherwise invalid input.
    #[error("{} bad {}, nothing was imported: {}", problems.len(), if problems.len() == 1 { "row" } else { "rows" },
        problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    BadRows { problems: Vec<RowProblem> },
    /// The database exists but `stockyard init` has never run on it.
    #[error("the database at {location} is not initialised: run `stockyard init` first")]
    NotInitialised { location: String },
    /// The database cannot serve the request now but may soon: no connection free in time,
    /// a lock held past the busy timeout, the server unreachable or restarting. Nothing was
    /// changed; the same request may be retried.
    #[error("the database is unavailable: {reason}")]
    Unavailable { reason: String },
    /// Something that should not happen: a setup mistake (a missing or wrong key), stored data
    /// that does not read back, a database failure. `context` says what was being done; the
    /// source is the underlying error. For the operator's log, never for a client: neither
    /// holds SQL text, but either may hold internals.
    #[error("{context}")]
    Internal {
        context: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// How a request clashes with the current state: the machine-readable side of
/// [`Error::Conflict`], e.g. for an HTTP problem's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum Conflict {
    /// Something with this key (SKU, barcode, name, code, email) already exists.
    Duplicate,
    /// The caller's copy is out of date: the entity is now at version `current`.
    StaleVersion { current: i64 },
    /// The entity is still needed: on open orders, holding stock, the last active admin.
    InUse,
    /// The reservation belongs to an order; only the order's own steps let it go.
    HeldByOrder,
    /// The entity's state or amounts refuse this: inactive, expired, someone else's,
    /// an overpayment, a refund beyond what was paid.
    Refused,
    /// A quantity would pass the most that can be stored.
    TooLarge,
    /// Another worker took over (a lapsed lease) or holds what only one may hold.
    Taken,
}

impl Conflict {
    /// The stable name of the code (`stale_version`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            Conflict::Duplicate => "duplicate",
            Conflict::StaleVersion { .. } => "stale_version",
            Conflict::InUse => "in_use",
            Conflict::HeldByOrder => "held_by_order",
            Conflict::Refused => "refused",
            Conflict::TooLarge => "too_large",
            Conflict::Taken => "taken",
        }
    }
}

/// The coarse classes of [`Error`], one per exit code / HTTP status family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Conflict,
    KeyReused,
    Unauthenticated,
    Forbidden,
    Invalid,
    NotInitialised,
    Unavailable,
    Internal,
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Conflict { .. } | Error::InsufficientStock { .. } | Error::InvalidTransition { .. } => {
                ErrorKind::Conflict
            }
            Error::KeyReused { .. } => ErrorKind::KeyReused,
            Error::Unauthenticated { .. } => ErrorKind::Unauthenticated,
            Error::Forbidden { .. } => ErrorKind::Forbidden,
            Error::Invalid { .. } => ErrorKind::Invalid,
            Error::BadRows { problems } if problems.iter().all(|p| p.conflict) => ErrorKind::Conflict,
            Error::BadRows { .. } => ErrorKind::Invalid,
            Error::NotInitialised { .. } => ErrorKind::NotInitialised,
            Error::Unavailable { .. } => ErrorKind::Unavailable,
            Error::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// A stable, machine-readable name for what went wrong (`not_found`, `stale_version`,
    /// `insufficient_stock`, …): finer than [`Error::kind`], e.g. for an HTTP problem's `type`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "not_found",
            Error::Conflict { code, .. } => code.as_str(),
            Error::InsufficientStock { .. } => "insufficient_stock",
            Error::InvalidTransition { .. } => "invalid_transition",
            Error::KeyReused { .. } => "idempotency_key_reused",
            Error::Unauthenticated { .. } => "unauthenticated",
            Error::Forbidden { .. } => "forbidden",
            Error::Invalid { .. } => "invalid",
            Error::BadRows { .. } => "bad_rows",
            Error::NotInitialised { .. } => "not_initialised",
            Error::Unavailable { .. } => "unavailable",
            Error::Internal { .. } => "internal",
        }
    }

    pub fn invalid(field: impl Into<String>, reason: impl fmt::Display) -> Self {
        Error::Invalid { field: field.into(), reason: reason.to_string() }
    }

    /// This refusal of input, about `field` instead (a line's index added, say); other
    /// errors as they are.
    pub(crate) fn at_field(self, field: impl Into<String>) -> Self {
        match self {
            Error::Invalid { reason, .. } => Error::Invalid { field: field.into(), reason },
            other => other,
        }
    }

    pub fn conflict(code: Conflict, message: impl Into<String>) -> Self {
        Error::Conflict { code, message: message.into() }
    }

    pub fn unauthenticated(reason: impl Into<String>) -> Self {
        Error::Unauthenticated { reason: reason.into() }
    }

    pub fn not_found(entity: &'static str, key: impl Into<String>) -> Self {
        Error::NotFound { entity, key: key.into(), suggestion: None }
    }

    /// Not found, offering the name among `known` most like `key` (see [`Error::NotFound`]).
    pub(crate) fn not_found_among<'a>(
        entity: &'static str,
        key: &str,
        known: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let suggestion = crate::suggest::closest(key, known).map(str::to_owned);
        Error::NotFound { entity, key: key.to_owned(), suggestion }
    }

    pub fn unavailable(reason: impl Into<String>) -> Self {
        Error::Unavailable { reason: reason.into() }
    }

    /// An internal failure that has no underlying error to carry.
    pub fn internal(context: impl Into<String>) -> Self {
        Error::Internal { context: context.into(), source: None }
    }

    /// An internal failure caused by `source`, while doing `context`.
    pub fn internal_from(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Internal { context: context.into(), source: Some(source.into()) }
    }

    /// The whole chain, `context: source: …`, for a log or the CLI's own operator.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut next = std::error::Error::source(self);
        while let Some(cause) = next {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            next = cause.source();
        }
        text
    }
}

/// What is wrong with one row of an imported file: its line (1 is the header), the
/// column at fault if one is, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowProblem {
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
    /// The row clashes with what is stored (a stale version, a barcode another product
    /// holds) rather than being malformed.
    pub conflict: bool,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(column) = &self.column {
            write!(f, ", column {column}")?;
        }
        write!(f, ": {}", self.reason)
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
