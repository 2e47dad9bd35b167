//! Who performs an operation: recorded in every event and audit record.

use std::fmt;

/// The acting party of an operation, plus the request it came in on (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    kind: ActorKind,
    request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ActorKind {
    /// The operator at the machine: the CLI or TUI run without `--as`.
    LocalAdmin,
    /// A background worker, e.g. the reservation sweeper.
    System(String),
}

impl Actor {
    /// The built-in `local-admin` actor of the local CLI and TUI.
    pub fn local_admin() -> Self {
        Self { kind: ActorKind::LocalAdmin, request_id: None }
    }

    /// A named background worker (`system:NAME` in the audit log).
    pub fn system(name: impl Into<String>) -> Self {
        Self { kind: ActorKind::System(name.into()), request_id: None }
    }

    /// The same actor, acting on behalf of the given request.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ActorKind::LocalAdmin => f.write_str("local-admin"),
            ActorKind::System(name) => write!(f, "system:{name}"),
        }
    }
}
