//! Who performs an operation: recorded in every event and audit record, and asked by every
//! operation whether it may (see [`crate::auth`]).

use std::fmt;

use crate::{
    ApiTokenId, Error, Result, UserId,
    auth::{self, Action, Explanation, Role},
    db::{Tx, params},
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
    /// The client's key for this request: a repeat with it is done once
    /// (see [`crate::idempotency`]).
    idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ActorKind {
    /// The operator at the machine: the CLI or TUI run without `--as`.
    LocalAdmin,
    /// A background worker, e.g. the reservation sweeper.
    System(String),
    /// A user account (by `--as`, a login token, …).
    User { id: UserId, email: String },
    /// An API token: its id decides, its name is shown.
    Token { id: ApiTokenId, name: String },
}

impl Actor {
    /// The built-in `local-admin` actor of the local CLI and TUI.
    pub fn local_admin() -> Self {
        Self {
            kind: ActorKind::LocalAdmin,
            role: Role::Admin,
            scope: Vec::new(),
            request_id: None,
            idempotency_key: None,
        }
    }

    /// A named background worker (`system:NAME` in the audit log), with admin rights.
    pub fn system(name: impl Into<String>) -> Self {
        Self {
            kind: ActorKind::System(name.into()),
            role: Role::Admin,
            scope: Vec::new(),
            request_id: None,
            idempotency_key: None,
        }
    }

    pub(crate) fn user(id: UserId, email: String, role: Role, scope: Vec<String>) -> Self {
        Self { kind: ActorKind::User { id, email }, role, scope, request_id: None, idempotency_key: None }
    }

    pub(crate) fn token(id: ApiTokenId, name: String, role: Role, scope: Vec<String>) -> Self {
        Self { kind: ActorKind::Token { id, name }, role, scope, request_id: None, idempotency_key: None }
    }

    /// The same actor, acting on behalf of the given request.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// The same actor, sending its request under an idempotency key: a repeat with the same
    /// key and arguments answers as the first did and changes nothing; with other arguments
    /// it is refused. Only order create, order pay, reserve and stock adjust, receive and
    /// transfer take a key; any other change refuses it.
    pub fn with_idempotency_key(mut self, key: &str) -> Result<Self> {
        self.idempotency_key = Some(crate::idempotency::check(key)?);
        Ok(self)
    }

    pub fn idempotency_key(&self) -> Option<&str> {
        self.idempotency_key.as_deref()
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

    /// Who this actor is where ownership or "self" is decided: `user:<id>`, `token:<id>`,
    /// `local-admin` or `system:NAME` — never a name that another account or a later token
    /// could take.
    pub fn principal(&self) -> String {
        match &self.kind {
            ActorKind::User { id, .. } => format!("user:{id}"),
            ActorKind::Token { id, .. } => format!("token:{id}"),
            _ => self.to_string(),
        }
    }

    /// Whether this actor is the user account `user`.
    pub(crate) fn is_user(&self, user: UserId) -> bool {
        self.user_id() == Some(user)
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

    /// Whether the actor may see a record owned by the principal `owner`: a `client` sees
    /// only its own.
    pub(crate) fn may_see(&self, owner: &str) -> bool {
        self.role != Role::Client || owner == self.principal()
    }

    /// Whether `scope` (empty: every warehouse) lies within this actor's own.
    pub(crate) fn covers_scope(&self, scope: &[String]) -> bool {
        self.scope.is_empty() || (!scope.is_empty() && scope.iter().all(|w| self.in_scope(w)))
    }

    /// Refuses making or managing `whom` (a user, an API token) with a role or warehouse
    /// scope beyond the actor's own: no one widens its own rights, or makes anything wider
    /// than itself.
    pub(crate) fn authorize_grant(&self, whom: &str, role: Role, scope: &[String]) -> Result<()> {
        if !self.role.covers(role) {
            return Err(Error::Forbidden {
                reason: format!("{self}: {whom} with role {role} is beyond role {}", self.role),
            });
        }
        if !self.covers_scope(scope) {
            let wanted = if scope.is_empty() { "every warehouse".to_owned() } else { scope.join(", ") };
            return Err(Error::Forbidden {
                reason: format!("{self}: {whom} at {wanted} is beyond its warehouses ({})", self.scope.join(", ")),
            });
        }
        Ok(())
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
            ActorKind::Token { name, .. } => write!(f, "token:{name}"),
        }
    }
}

/// A stored principal as people read it: a user's email, `token:NAME`, or the text itself.
pub(crate) fn shown_principal(tx: &mut Tx<'_>, principal: &str) -> Result<String> {
    let found = match principal.split_once(':') {
        Some(("user", id)) => tx.query_opt("SELECT email FROM users WHERE id = $1", params![id])?,
        Some(("token", id)) => tx.query_opt("SELECT 'token:' || name FROM api_tokens WHERE id = $1", params![id])?,
        _ => None,
    };
    found.map_or_else(|| Ok(principal.to_owned()), |row| row.get(0))
}
