//! User accounts: email (the login, unique whatever its case), name, role, warehouse scope,
//! active flag and an argon2id password hash. Every change bumps the user's token version
//! when it should end existing sessions, and is journalled like any other change — without
//! the email, which is personal data.

pub mod preferences;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;

use crate::{
    Actor, Conflict, Error, Page, PageRequest, Result, Store, UserId,
    auth::{Action, Explanation, Role, passwords},
    db::{Row, Tx, params},
    events::EventType,
    journal::{self, Change},
    validate, warehouses,
};

/// A user account as shown to other users (never its password hash).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Warehouse codes the user is limited to; empty: every warehouse.
    pub warehouses: Vec<String>,
    pub active: bool,
    #[serde(serialize_with = "crate::clock::wire")]
    pub created_at: Timestamp,
    #[serde(serialize_with = "crate::clock::wire")]
    pub updated_at: Timestamp,
}

/// A user to create.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub email: String,
    /// Defaults to the email's local part.
    pub name: Option<String>,
    /// `viewer` unless given: the least a user may do.
    pub role: Role,
    pub warehouses: Vec<String>,
    /// Generated (and returned once) when absent.
    pub password: Option<String>,
}

/// A created user, with the password generated for it when none was given: shown once,
/// never stored.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedUser {
    #[serde(flatten)]
    pub user: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
}

/// A user row with what only the core sees.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub user: User,
    pub password_hash: String,
    pub token_version: i64,
    pub locked_until: Option<Timestamp>,
}

impl Account {
    /// The actor this account acts as.
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.id, self.user.email.clone(), self.user.role, self.user.warehouses.clone())
    }
}

/// User operations on a store.
#[derive(Debug, Clone, Copy)]
pub struct Users<'s> {
    pub(crate) store: &'s Store,
}

impl Users<'_> {
    pub fn create(&self, actor: &Actor, input: NewUser) -> Result<CreatedUser> {
        actor.authorize(Action::UserManage)?;
        let email = parse_email(&input.email)?;
        let role = input.role;
        let name = match input.name.as_deref().map(str::trim) {
            None | Some("") => email.split('@').next().unwrap_or_default().to_owned(),
            Some(name) => validate::required("name", name, 100)?,
        };
        let (password, generated) = match input.password {
            Some(p) => (p, false),
            None => (passwords::generate(), true),
        };
        passwords::check_strength(&password)?;
        let hash = passwords::hash(&password)?;
        let user = self.store.pool.write(|tx| {
            let warehouses = granted_scope(tx, actor, &input.warehouses)?;
            actor.authorize_grant(&email, role, &warehouses)?;
            if load(tx, &email)?.is_some() {
                return Err(Error::conflict(Conflict::Duplicate, format!("a user with email {email} already exists")));
            }
            let now = self.store.now();
            let user = User {
                id: UserId::new(),
                email,
                name,
                role,
                warehouses,
                active: true,
                created_at: now,
                updated_at: now,
            };
            insert(tx, actor, user, &hash)
        })?;
        Ok(CreatedUser { user, generated_password: generated.then_some(password) })
    }

    /// Creates the first admin of `init --admin` unless a user with that email exists;
    /// `None` when it did.
    pub fn ensure_admin(&self, actor: &Actor, email: &str, password: Option<String>) -> Result<Option<CreatedUser>> {
        actor.authorize(Action::StoreSetup)?;
        let email = parse_email(email)?;
        if self.store.pool.read(|tx| load(tx, &email))?.is_some() {
            return Ok(None);
        }
        let new = NewUser { email, role: Role::Admin, password, ..Default::default() };
        match self.create(actor, new) {
            // Created meanwhile by a concurrent init: nothing left to do.
            Err(Error::Conflict { .. }) => Ok(None),
            other => other.map(Some),
        }
    }

    /// Users by email, one page at a time.
    pub fn list(&self, actor: &Actor, page: &PageRequest) -> Result<Page<User>> {
        actor.authorize(Action::UserRead)?;
        let (limit, after) = page.bounds()?;
        let items = self.store.pool.read(|tx| {
            let rows = tx.query(
                &format!("SELECT {COLUMNS} FROM users WHERE email > $1 ORDER BY email LIMIT $2"),
                params![after, i64::from(limit) + 1],
            )?;
            rows.iter().map(|row| account_from_row(tx, row).map(|a| a.user)).collect::<Result<Vec<_>>>()
        })?;
        Ok(crate::page::from_rows(items, limit, |u| u.email.clone()))
    }

    pub fn get(&self, actor: &Actor, email: &str) -> Result<User> {
        actor.authorize(Action::UserRead)?;
        let email = parse_email(email)?;
        self.store.pool.read(|tx| require(tx, &email)).map(|a| a.user)
    }

    /// Gives a user another role; its existing sessions end.
    pub fn set_role(&self, actor: &Actor, email: &str, role: Role) -> Result<User> {
        actor.authorize(Action::UserManage)?;
        self.update(actor, email, "role", |_, user| {
            user.role = role;
            Ok(())
        })
    }

    /// Disables (or enables again) a user: a disabled user cannot log in, act or use a
    /// token issued before.
    pub fn set_active(&self, actor: &Actor, email: &str, active: bool) -> Result<User> {
        actor.authorize(Action::UserManage)?;
        self.update(actor, email, "active", |_, user| {
            user.active = active;
            Ok(())
        })
    }

    /// Limits a user to these warehouses (none: every warehouse).
    pub fn set_scope(&self, actor: &Actor, email: &str, warehouses: &[String]) -> Result<User> {
        actor.authorize(Action::UserManage)?;
        self.update(actor, email, "warehouses", |tx, user| {
            user.warehouses = scope_codes(tx, warehouses)?;
            Ok(())
        })
    }

    /// Sets a new password: the user's own, or anyone's for an admin. Existing sessions end.
    pub fn set_password(&self, actor: &Actor, email: &str, password: &str) -> Result<User> {
        let email = parse_email(email)?;
        let id = self.store.pool.read(|tx| own_or_managed(tx, actor, &email))?.user.id;
        passwords::check_strength(password)?;
        let hash = passwords::hash(password)?;
        self.store.pool.write(|tx| {
            let now = self.store.now();
            let account = load_by_id(tx, id)?.ok_or_else(|| Error::not_found("user", &email))?;
            tx.execute(
                "UPDATE users SET password_hash = $1, token_version = token_version + 1, failed_logins = 0,
                        locked_until = NULL, updated_at = $2 WHERE id = $3",
                params![hash, now, account.user.id],
            )?;
            let summary = summary(&account.user);
            let mut after = summary.clone();
            after["password"] = json!("changed");
            record(tx, actor, &account.user, "password", Some(summary), after, now)?;
            Ok(account.user)
        })
    }

    /// Whether the user may do `action` (at `warehouse`), and why.
    pub fn explain(&self, actor: &Actor, email: &str, action: &str, warehouse: Option<&str>) -> Result<Explanation> {
        actor.authorize(Action::UserRead)?;
        let action: Action = action.parse()?;
        let email = parse_email(email)?;
        let account = self.store.pool.read(|tx| require(tx, &email))?;
        if !account.user.active {
            return Ok(Explanation { allowed: false, reason: format!("{email} is disabled") });
        }
        let warehouse = warehouse.map(warehouses::parse_code).transpose()?;
        Ok(account.actor().explain(action, warehouse.as_deref()))
    }

    /// The actor for a named user at the local machine (`--as EMAIL`): refused when the
    /// user is unknown or disabled.
    pub fn acting(&self, email: &str) -> Result<Actor> {
        let email = parse_email(email).map_err(|_| Error::unauthenticated(format!("unknown user {email:?}")))?;
        match self.store.pool.read(|tx| load(tx, &email))? {
            Some(account) if account.user.active => Ok(account.actor()),
            Some(_) => Err(Error::unauthenticated(format!("user {email} is disabled"))),
            None => Err(Error::unauthenticated(format!("unknown user {email:?}"))),
        }
    }

    /// Applies `edit` to the user under its row lock and journals the change; `what` names
    /// the field for the event. Ends existing sessions.
    fn update(
        &self,
        actor: &Actor,
        email: &str,
        what: &'static str,
        edit: impl FnOnce(&mut Tx<'_>, &mut User) -> Result<()>,
    ) -> Result<User> {
        let email = parse_email(email)?;
        self.store.pool.write(|tx| {
            // Every active admin first, then the user: one lock order for all changes, and
            // the count of admins below stays true until commit.
            let admins = active_admins(tx)?;
            let before = lock(tx, &email)?.user;
            // No one manages an account wider than itself, or makes one wider: a scoped
            // admin neither clears its own scope nor widens anyone's past its own.
            actor.authorize_grant(&email, before.role, &before.warehouses)?;
            let mut user = before.clone();
            edit(tx, &mut user)?;
            actor.authorize_grant(&email, user.role, &user.warehouses)?;
            if user == before {
                return Ok(user);
            }
            let was_admin = before.active && before.role == Role::Admin;
            if was_admin && !(user.active && user.role == Role::Admin) && admins == 1 {
                return Err(Error::conflict(Conflict::InUse, format!("{email} is the last active admin")));
            }
            user.updated_at = self.store.now();
            tx.execute(
                "UPDATE users SET role = $1, active = $2, token_version = token_version + 1, updated_at = $3
                 WHERE id = $4",
                params![user.role.as_str(), user.active, user.updated_at, user.id],
            )?;
            if user.warehouses != before.warehouses {
                write_scope(tx, USER_SCOPE, "user_id", &user.id.to_string(), &user.warehouses)?;
            }
            record(tx, actor, &user, what, Some(summary(&before)), summary(&user), user.updated_at)?;
            Ok(user)
        })
    }
}

/// An email as stored: trimmed, lower-cased, one `@` between a local part and a dotted
/// domain.
pub(crate) fn parse_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let bad = |why: &str| Error::invalid("email", format!("{email:?} {why}"));
    if email.len() > 254 {
        return Err(bad("is longer than 254 characters"));
    }
    let Some((local, domain)) = email.split_once('@') else { return Err(bad("has no @")) };
    let label_ok = |l: &str| {
        !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if local.is_empty() || local.len() > 64 || local.chars().any(|c| c.is_whitespace() || c.is_control() || c == '@') {
        return Err(bad("has no valid part before the @"));
    }
    if !domain.contains('.') || !domain.split('.').all(label_ok) {
        return Err(bad("has no valid domain after the @"));
    }
    Ok(email)
}

const COLUMNS: &str =
    "id, email, name, role, active, created_at, updated_at, password_hash, token_version, locked_until";

fn account_from_row(tx: &mut Tx<'_>, row: &Row) -> Result<Account> {
    let id: UserId = row.get(0)?;
    let role: String = row.get(3)?;
    let warehouses = scope_of(tx, USER_SCOPE, "user_id", &id.to_string())?;
    Ok(Account {
        user: User {
            id,
            email: row.get(1)?,
            name: row.get(2)?,
            role: role.parse().map_err(|_| Error::internal(format!("unknown role {role:?} stored")))?,
            warehouses,
            active: row.get(4)?,
            created_at: row.get(5)?,
            updated_at: row.get(6)?,
        },
        password_hash: row.get(7)?,
        token_version: row.get(8)?,
        locked_until: row.get(9)?,
    })
}

pub(crate) fn load(tx: &mut Tx<'_>, email: &str) -> Result<Option<Account>> {
    let row = tx.query_opt(&format!("SELECT {COLUMNS} FROM users WHERE email = $1"), params![email])?;
    row.map(|row| account_from_row(tx, &row)).transpose()
}

pub(crate) fn load_by_id(tx: &mut Tx<'_>, id: UserId) -> Result<Option<Account>> {
    let row = tx.query_opt(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"), params![id])?;
    row.map(|row| account_from_row(tx, &row)).transpose()
}

pub(crate) fn require(tx: &mut Tx<'_>, email: &str) -> Result<Account> {
    load(tx, email)?.ok_or_else(|| Error::not_found("user", email))
}

/// The account `user` names (an email or a user id) for something a user does to itself
/// (its password, its preferences): the actor's own, decided by id, or one it manages
/// (`user.manage`, and no wider than the actor). The refusal comes before any not-found,
/// so it tells nothing of which accounts exist.
pub(crate) fn own_or_managed(tx: &mut Tx<'_>, actor: &Actor, user: &str) -> Result<Account> {
    let account = match user.trim().parse::<UserId>() {
        Ok(id) => load_by_id(tx, id)?,
        Err(_) => load(tx, &parse_email(user)?)?,
    };
    if account.as_ref().is_some_and(|a| actor.is_user(a.user.id)) {
        return account.ok_or_else(|| Error::not_found("user", user));
    }
    actor.authorize(Action::UserManage)?;
    let account = account.ok_or_else(|| Error::not_found("user", user))?;
    actor.authorize_grant(&account.user.email, account.user.role, &account.user.warehouses)?;
    Ok(account)
}

/// The account, locked until commit.
fn lock(tx: &mut Tx<'_>, email: &str) -> Result<Account> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1{}", tx.for_update());
    let row = tx.query_opt(&sql, params![email])?.ok_or_else(|| Error::not_found("user", email))?;
    account_from_row(tx, &row)
}

/// How many active admins there are, their rows locked (in id order) until commit: two
/// concurrent demotions must not each count the other's admin and leave none.
fn active_admins(tx: &mut Tx<'_>) -> Result<usize> {
    let sql = format!("SELECT id FROM users WHERE role = 'admin' AND active = $1 ORDER BY id{}", tx.for_update());
    Ok(tx.query(&sql, params![true])?.len())
}

/// Warehouse codes as stored, each one existing; sorted, without repeats.
fn scope_codes(tx: &mut Tx<'_>, codes: &[String]) -> Result<Vec<String>> {
    let mut scope = codes
        .iter()
        .map(|c| Ok(warehouses::require(tx, &warehouses::parse_code(c)?)?.code))
        .collect::<Result<Vec<_>>>()?;
    scope.sort();
    scope.dedup();
    Ok(scope)
}

/// The scope a new user or API token gets: the warehouses named, or when none are, its
/// creator's own (so a scoped creator never makes an unscoped one by leaving them out).
pub(crate) fn granted_scope(tx: &mut Tx<'_>, creator: &Actor, codes: &[String]) -> Result<Vec<String>> {
    match scope_codes(tx, codes)? {
        named if named.is_empty() => Ok(creator.scope().to_vec()),
        named => Ok(named),
    }
}

/// The table of users' warehouse scopes (`api_token_warehouses` holds tokens').
const USER_SCOPE: &str = "user_warehouses";

/// The warehouse codes in a scope table for one holder (a user, or an API token), sorted.
pub(crate) fn scope_of(tx: &mut Tx<'_>, table: &str, holder: &str, id: &str) -> Result<Vec<String>> {
    let rows = tx.query(
        &format!("SELECT w.code FROM {table} s JOIN warehouses w ON w.id = s.warehouse_id WHERE s.{holder} = $1 ORDER BY w.code"),
        params![id],
    )?;
    rows.iter().map(|r| r.get(0)).collect()
}

/// Replaces one holder's rows in a scope table with these warehouse codes.
pub(crate) fn write_scope(tx: &mut Tx<'_>, table: &str, holder: &str, id: &str, codes: &[String]) -> Result<()> {
    tx.execute(&format!("DELETE FROM {table} WHERE {holder} = $1"), params![id])?;
    for code in codes {
        let warehouse = warehouses::require(tx, code)?;
        tx.execute(
            &format!("INSERT INTO {table} ({holder}, warehouse_id) VALUES ($1, $2)"),
            params![id, warehouse.id],
        )?;
    }
    Ok(())
}

fn insert(tx: &mut Tx<'_>, actor: &Actor, user: User, password_hash: &str) -> Result<User> {
    tx.execute(
        "INSERT INTO users (id, email, name, role, active, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        params![user.id, &user.email, &user.name, user.role.as_str(), user.active, password_hash, user.created_at],
    )?;
    write_scope(tx, USER_SCOPE, "user_id", &user.id.to_string(), &user.warehouses)?;
    let after = summary(&user);
    let id = user.id.to_string();
    let change = Change {
        action: "user.create",
        entity: ("user", &id),
        before: None,
        after: Some(after.clone()),
        events: vec![(EventType::UserCreated, after)],
    };
    journal::record(tx, actor, change, user.created_at)?;
    Ok(user)
}

/// What the journal keeps of a user: no email or name (personal data).
fn summary(user: &User) -> serde_json::Value {
    json!({ "user_id": user.id, "role": user.role, "warehouses": user.warehouses, "active": user.active })
}

fn record(
    tx: &mut Tx<'_>,
    actor: &Actor,
    user: &User,
    what: &str,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
    at: Timestamp,
) -> Result<()> {
    let id = user.id.to_string();
    let mut payload = after.clone();
    payload["changed"] = json!(what);
    let change = Change {
        action: "user.update",
        entity: ("user", &id),
        before,
        after: Some(after),
        events: vec![(EventType::UserUpdated, payload)],
    };
    journal::record(tx, actor, change, at)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(parse_email(" Ann@Example.COM ").ok(), Some("ann@example.com".into()));
        for bad in ["", "ann", "@example.com", "ann@", "ann@example", "a b@example.com", "ann@ex..com", "a@b@c.com"] {
            let err = parse_email(bad).map_err(|e| e.to_string());
            assert!(err.is_err_and(|e| e.starts_with("invalid email")), "{bad:?}");
        }
    }
}
