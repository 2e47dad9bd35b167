//! API tokens for client apps and scripts: a random secret shown once at creation, kept only
//! as its SHA-256 hash, with a name, a role, a warehouse scope and an optional expiry. A
//! token never exceeds its creator: checked when it is made, and again whenever it is used.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{Action, Auth, Role, sessions::API_TOKEN_PREFIX};
use crate::{
    Actor, ApiTokenId, Conflict, Error, Page, PageRequest, Result, UserId,
    actor::shown_principal,
    db::{Filter, Row, Tx, params},
    events::EventType,
    journal::{self, Change},
    users, validate,
};

/// An API token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    pub role: Role,
    /// Warehouse codes the token is limited to; empty: every warehouse.
    pub warehouses: Vec<String>,
    #[serde(serialize_with = "crate::clock::wire_opt")]
    pub expires_at: Option<Timestamp>,
    #[serde(serialize_with = "crate::clock::wire_opt")]
    pub revoked_at: Option<Timestamp>,
    /// Who made it, as people read it.
    pub created_by: String,
    #[serde(serialize_with = "crate::clock::wire")]
    pub created_at: Timestamp,
}

/// A token to create.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub name: String,
    pub role: Role,
    /// Warehouse codes to limit it to; none: its creator's scope.
    pub warehouses: Vec<String>,
    /// How long it is valid; forever when absent.
    pub expires_in: Option<SignedDuration>,
}

/// A created token with its secret: shown this once, never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: ApiToken,
    pub secret: String,
}

impl Auth<'_> {
    pub fn create_token(&self, actor: &Actor, input: NewApiToken) -> Result<CreatedToken> {
        actor.authorize(Action::TokenManage)?;
        let name = validate::code("name", &input.name, 64, "-_.")?;
        let role = input.role;
        let now = self.store.now();
        let expires_at = match input.expires_in {
            Some(d) if d.is_zero() || d.is_negative() => {
                return Err(Error::invalid("expires", format!("{d:#} is not in the future")));
            }
            Some(d) => Some(now.checked_add(d).map_err(|e| Error::invalid("expires", e))?),
            None => None,
        };
        let mut random = [0u8; 32];
        rand::fill(&mut random);
        let secret = format!("{API_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(random));
        let token = self.store.pool.write(|tx| {
            let warehouses = users::granted_scope(tx, actor, &input.warehouses)?;
            actor.authorize_grant(&format!("API token {name}"), role, &warehouses)?;
            if find_live(tx, &name)?.is_some() {
                return Err(Error::conflict(Conflict::Duplicate, format!("an API token named {name} already exists")));
            }
            let token = ApiToken {
                id: ApiTokenId::new(),
                name: name.clone(),
                role,
                warehouses,
                expires_at,
                revoked_at: None,
                created_by: actor.to_string(),
                created_at: now,
            };
            tx.execute(
                "INSERT INTO api_tokens (id, name, token_hash, role, expires_at, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                params![token.id, &token.name, digest(&secret), role.as_str(), expires_at, actor.principal(), now],
            )?;
            users::write_scope(tx, "api_token_warehouses", "token_id", &token.id.to_string(), &token.warehouses)?;
            record(tx, actor, &token, "token.create", EventType::ApiTokenCreated, None, now)?;
            Ok(token)
        })?;
        Ok(CreatedToken { token, secret })
    }

    /// Tokens, revoked ones included, newest first (ids are UUIDv7), one page at a time.
    pub fn tokens(&self, actor: &Actor, page: &PageRequest) -> Result<Page<ApiToken>> {
        actor.authorize(Action::TokenManage)?;
        let (limit, before) = page.bounds()?;
        let items = self.store.pool.read(|tx| {
            let mut filter = Filter::default();
            filter.and_some("id < {}", Some(before.as_str()).filter(|b| !b.is_empty()));
            let sql = format!(
                "SELECT {COLUMNS} FROM api_tokens{} ORDER BY id DESC LIMIT {}",
                filter.clause(),
                filter.bind(i64::from(limit) + 1)
            );
            let rows = tx.query(&sql, filter.params())?;
            rows.iter().map(|row| from_row(tx, row)).collect::<Result<Vec<_>>>()
        })?;
        Ok(crate::page::from_rows(items, limit, |t| t.id.to_string()))
    }

    /// Revokes the live token of that name: it is refused from now on. A scoped admin
    /// revokes only tokens within its scope.
    pub fn revoke_token(&self, actor: &Actor, name: &str) -> Result<ApiToken> {
        actor.authorize(Action::TokenManage)?;
        let name = name.trim();
        self.store.pool.write(|tx| {
            let before = find_live(tx, name)?.ok_or_else(|| Error::not_found("API token", name))?;
            actor.authorize_grant(&format!("API token {name}"), before.role, &before.warehouses)?;
            let now = self.store.now();
            tx.execute("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2", params![now, before.id])?;
            let token = ApiToken { revoked_at: Some(now), ..before.clone() };
            record(tx, actor, &token, "token.revoke", EventType::ApiTokenRevoked, Some(&before), now)?;
            Ok(token)
        })
    }

    /// The actor of a presented API token, if it is live and its creator still holds the
    /// role and warehouses it gave the token.
    pub(super) fn api_token_actor(&self, secret: &str) -> Result<Actor> {
        let hash = digest(secret);
        let (token, creator_covers) = self
            .store
            .pool
            .read(|tx| {
                let Some(row) =
                    tx.query_opt(&format!("SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1"), params![hash])?
                else {
                    return Ok(None);
                };
                let creator: String = row.get(5)?;
                let token = from_row(tx, &row)?;
                let covers = creator_covers(tx, &creator, &token)?;
                Ok(Some((token, covers)))
            })?
            .ok_or_else(|| Error::unauthenticated("unknown API token"))?;
        if token.revoked_at.is_some() {
            return Err(Error::unauthenticated(format!("API token {} was revoked", token.name)));
        }
        if token.expires_at.is_some_and(|at| at <= self.store.now()) {
            return Err(Error::unauthenticated(format!("API token {} has expired", token.name)));
        }
        if !creator_covers {
            return Err(Error::unauthenticated(format!(
                "API token {} has a role or warehouses its creator no longer holds",
                token.name
            )));
        }
        Ok(Actor::token(token.id, token.name, token.role, token.warehouses))
    }
}

/// Whether the token's creator (a stored principal) still may give it its role and scope: a
/// user that is active and holds them, or a live token that does. The local admin and
/// system workers hold everything.
fn creator_covers(tx: &mut Tx<'_>, creator: &str, token: &ApiToken) -> Result<bool> {
    let creator = match creator.split_once(':') {
        Some(("user", id)) => match users::load_by_id(tx, id.parse::<UserId>()?)? {
            Some(account) if account.user.active => account.actor(),
            _ => return Ok(false),
        },
        Some(("token", id)) => {
            let row = tx.query_opt(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1"), params![id])?;
            match row.map(|row| from_row(tx, &row)).transpose()? {
                Some(t) if t.revoked_at.is_none() => Actor::token(t.id, t.name, t.role, t.warehouses),
                _ => return Ok(false),
            }
        }
        _ => return Ok(true),
    };
    Ok(creator.authorize_grant("it", token.role, &token.warehouses).is_ok())
}

/// The stored form of a secret: it is random and long, so a fast hash is enough.
fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

const COLUMNS: &str = "id, name, role, expires_at, revoked_at, created_by, created_at";

fn from_row(tx: &mut Tx<'_>, row: &Row) -> Result<ApiToken> {
    let id: ApiTokenId = row.get(0)?;
    let role: String = row.get(2)?;
    let created_by: String = row.get(5)?;
    Ok(ApiToken {
        id,
        name: row.get(1)?,
        role: role.parse().map_err(|_| Error::internal(format!("unknown role {role:?} stored")))?,
        warehouses: users::scope_of(tx, "api_token_warehouses", "token_id", &id.to_string())?,
        expires_at: row.get(3)?,
        revoked_at: row.get(4)?,
        created_by: shown_principal(tx, &created_by)?,
        created_at: row.get(6)?,
    })
}

fn find_live(tx: &mut Tx<'_>, name: &str) -> Result<Option<ApiToken>> {
    tx.query_opt(&format!("SELECT {COLUMNS} FROM api_tokens WHERE name = $1 AND revoked_at IS NULL"), params![name])?
        .map(|row| from_row(tx, &row))
        .transpose()
}

fn record(
    tx: &mut Tx<'_>,
    actor: &Actor,
    token: &ApiToken,
    action: &'static str,
    event: EventType,
    before: Option<&ApiToken>,
    at: Timestamp,
) -> Result<()> {
    let id = token.id.to_string();
    let after = json!(token);
    let change = Change {
        action,
        entity: ("api_token", &id),
        before: before.map(|b| json!(b)),
        after: Some(after.clone()),
        events: vec![(event, after)],
    };
    journal::record(tx, actor, change, at)?;
    Ok(())
}
