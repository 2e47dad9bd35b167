//! Who performs an operation: recorded in every event and audit record, and asked by every
//! operation whether it may (see [`crate::auth`]).

use std::fmt;

use crate::{
    Error, Result, UserId,
    auth::{self, Action, Explanation, Role},
};

/// The acting party of an operation — with its role and warehouse scope — plus the request
/// it came in on (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    kind: ActorKind,
    role: Role,
    /// Warehouse codes the actor is limited to; empty: all.
    scope: Vec<String>,
    request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ActorKind {
    /// The operator at the machine: the CLI or TUI run without `--as`.
    LocalAdmin,
    /// A background worker, e.g. the reservation sweeper.
    System(String),
    /// A user account (by `--as`, a login token, …).
    User { id: UserId, email: String },
    /// An API token, by its name.
    Token(String),
}

impl Actor {
    /// The built-in `local-admin` actor of the local CLI and TUI.
    pub fn local_admin() -> Self {
        Self { kind: ActorKind::LocalAdmin, role: Role::Admin, scope: Vec::new(), request_id: None }
    }

    /// A named background worker (`system:NAME` in the audit log), with admin rights.
    pub fn system(name: impl Into<String>) -> Self {
        Self { kind: ActorKind::System(name.into()), role: Role::Admin, scope: Vec::new(), request_id: None }
    }

    pub(crate) fn user(id: UserId, email: String, role: Role, scope: Vec<String>) -> Self {
        Self { kind: ActorKind::User { id, email }, role, scope, request_id: None }
    }

    pub(crate) fn token(name: String, role: Role) -> Self {
        Self { kind: ActorKind::Token(name), role, scope: Vec::new(), request_id: None }
    }

    /// The same actor, acting on behalf of the given request.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// The warehouse codes this actor is limited to; empty means every warehouse.
    pub fn scope(&self) -> &[String] {
        &self.scope
    }

    /// The user account behind this actor, if it is one.
    pub fn user_id(&self) -> Option<UserId> {
        match &self.kind {
            ActorKind::User { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// Whether this actor may do `action` (at `warehouse`, when it happens at one), and why.
    pub fn explain(&self, action: Action, warehouse: Option<&str>) -> Explanation {
        auth::explain(self.role, &self.scope, action, warehouse)
    }

    /// Refuses an action the actor's role does not allow, before any data is read. Every
    /// core operation asks this itself; a front end asks it when it does work on the
    /// actor's behalf as another actor (e.g. `sweep`, as the system sweeper).
    pub fn authorize(&self, action: Action) -> Result<()> {
        self.require(self.explain(action, None))
    }

    /// Refuses an action at a warehouse outside the actor's role or scope.
    pub(crate) fn authorize_at(&self, action: Action, warehouse: &str) -> Result<()> {
        self.require(self.explain(action, Some(warehouse)))
    }

    /// Whether the actor may act at this warehouse (its scope is empty or names it).
    pub(crate) fn in_scope(&self, warehouse: &str) -> bool {
        self.scope.is_empty() || self.scope.iter().any(|s| s.eq_ignore_ascii_case(warehouse))
    }

    /// Whether the actor may see a record owned by `owner`: a `client` sees only its own.
    pub(crate) fn may_see(&self, owner: &str) -> bool {
        self.role != Role::Client || owner == self.to_string()
    }

    fn require(&self, explanation: Explanation) -> Result<()> {
        if explanation.allowed {
            Ok(())
        } else {
            Err(Error::Forbidden { reason: format!("{self}: {}", explanation.reason) })
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ActorKind::LocalAdmin => f.write_str("local-admin"),
            ActorKind::System(name) => write!(f, "system:{name}"),
            ActorKind::User { email, .. } => f.write_str(email),
            ActorKind::Token(name) => write!(f, "token:{name}"),
        }
    }
}
