//! Password login and the signed session tokens (JWT, HS256) it issues. A token names the
//! user, its role and the user's token version; bumping the version (a password, role, scope
//! or active change) ends every session issued before, however recent — issue times have
//! one-second resolution, versions do not.

use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use super::{Auth, passwords};
use crate::{
    Actor, Error, Result, UserId,
    crypto::{Keyring, rotation},
    db::{Tx, params},
    settings,
    users::{self, Account},
};

/// Consecutive failed logins allowed before each further attempt must wait.
const FREE_FAILURES: i64 = 3;
/// The longest wait between attempts after repeated failures.
const MAX_BACKOFF: SignedDuration = SignedDuration::from_mins(15);
/// The one answer to every failed login: it never tells whether the email exists.
const LOGIN_REFUSED: &str = "wrong email or password, or too many failed attempts (wait and try again)";
/// Prefix of API tokens, which are not JWTs.
pub(crate) const API_TOKEN_PREFIX: &str = "sy_";

/// What a successful login answers (`POST /api/v1/auth/login`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessToken {
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: String,
    /// The user's token version when issued.
    ver: i64,
    iat: i64,
    exp: i64,
}

impl Auth<'_> {
    /// Checks a password and issues a session token. Failures back off per account; the
    /// error is the same whether or not the email exists.
    pub fn login(&self, email: &str, password: &str) -> Result<AccessToken> {
        let refused = || Error::unauthenticated(LOGIN_REFUSED);
        let Ok(email) = users::parse_email(email) else {
            passwords::verify_nothing(password);
            return Err(refused());
        };
        let Some(account) = self.store.pool.read(|tx| users::load(tx, &email))? else {
            passwords::verify_nothing(password);
            return Err(refused());
        };
        let now = self.store.now();
        if account.locked_until.is_some_and(|until| until > now) {
            // As costly as any other refusal, so the time taken does not tell it is locked.
            passwords::verify_nothing(password);
            return Err(refused());
        }
        // The costly check runs outside any transaction.
        let matches = passwords::verify(password, &account.password_hash);
        let ok = matches && account.user.active;
        self.store.pool.bookkeep(|tx| record_attempt(tx, account.user.id, ok, now))?;
        if !ok {
            return Err(refused());
        }
        let secret = self.secret()?;
        let ttl = self.store.options.session_ttl;
        let claims = Claims {
            sub: account.user.id.to_string(),
            role: account.user.role.to_string(),
            ver: account.token_version,
            iat: now.as_second(),
            exp: now.as_second() + ttl.as_secs(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&secret))
            .map_err(|e| Error::internal_from("cannot sign a session token", e))?;
        Ok(AccessToken { access_token: token, token_type: "Bearer", expires_in: ttl.as_secs() })
    }

    /// The actor behind a bearer token: a session token from [`Auth::login`] or an API
    /// token. Refused when it is forged, expired, revoked, or its user was disabled or
    /// changed since it was issued.
    pub fn authenticate(&self, bearer: &str) -> Result<Actor> {
        let bearer = bearer.trim();
        if bearer.starts_with(API_TOKEN_PREFIX) {
            return self.api_token_actor(bearer);
        }
        let claims = self.session_claims(bearer, &self.secret()?)?;
        let id: UserId = claims.sub.parse().map_err(|_| Error::unauthenticated("the session token is malformed"))?;
        let account: Account = self
            .store
            .pool
            .read(|tx| users::load_by_id(tx, id))?
            .ok_or_else(|| Error::unauthenticated("the session token's user no longer exists"))?;
        if !account.user.active {
            return Err(Error::unauthenticated(format!("user {} is disabled", account.user.email)));
        }
        if account.token_version != claims.ver || account.user.role.as_str() != claims.role {
            return Err(Error::unauthenticated(
                "the session token was issued before the user's password, role or scope changed: log in again",
            ));
        }
        Ok(account.actor())
    }

    /// What can be told of a bearer token without the database: a session token forged,
    /// malformed or expired is refused (an API token, and whether a user was disabled or
    /// changed since, are [`Auth::authenticate`]'s to check). Until this store handle has
    /// read the stored signing secret, nothing can be told: `Ok`.
    pub fn precheck(&self, bearer: &str) -> Result<()> {
        let bearer = bearer.trim();
        let secret = self.store.options.jwt_secret.as_ref().map(|s| s.as_bytes()).or(self
            .store
            .signing_secret
            .get()
            .map(Vec::as_slice));
        match secret {
            Some(secret) if !bearer.starts_with(API_TOKEN_PREFIX) => self.session_claims(bearer, secret).map(drop),
            _ => Ok(()),
        }
    }

    /// A session token's claims, once its signature and expiry hold.
    fn session_claims(&self, bearer: &str, secret: &[u8]) -> Result<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked below by the store's clock, not the library's reading of the system's.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(bearer, &DecodingKey::from_secret(secret), &validation)
            .map_err(|e| {
                Error::unauthenticated(match e.kind() {
                    ErrorKind::InvalidSignature => "the session token's signature is not valid",
                    _ => "the session token is malformed",
                })
            })?
            .claims;
        // As the library would with no leeway: valid through its `exp` second.
        if claims.exp < self.store.now().as_second() {
            return Err(Error::unauthenticated("the session token has expired"));
        }
        Ok(claims)
    }

    /// The signing secret: `STOCKYARD_JWT_SECRET` when set, else the one `init` stored
    /// (read once per store handle).
    fn secret(&self) -> Result<Vec<u8>> {
        if let Some(secret) = &self.store.options.jwt_secret {
            return Ok(secret.as_bytes().to_vec());
        }
        if let Some(secret) = self.store.signing_secret.get() {
            return Ok(secret.clone());
        }
        let secret = self.stored_secret()?;
        Ok(self.store.signing_secret.get_or_init(|| secret).clone())
    }

    fn stored_secret(&self) -> Result<Vec<u8>> {
        let stored = self.store.pool.read(|tx| {
            let keyring = self.store.keyring(tx)?;
            settings::get(tx, settings::JWT_SECRET)?.map(|sealed| keyring.open(&secret_context(), &sealed)).transpose()
        })?;
        match stored {
            Some(secret) => Ok(secret),
            None => self.store.pool.bookkeep(|tx| {
                let keyring = self.store.sealing_keyring(tx)?;
                keyring.open(&secret_context(), &ensure_secret(tx, &keyring)?)
            }),
        }
    }
}

/// Stores a fresh random signing secret, sealed, unless one exists; returns the stored one.
pub(crate) fn ensure_secret(tx: &mut Tx<'_>, keyring: &Keyring) -> Result<String> {
    let mut fresh = [0u8; 32];
    rand::fill(&mut fresh);
    settings::put_if_absent(tx, settings::JWT_SECRET, &keyring.seal(&secret_context(), &fresh)?)?;
    settings::get(tx, settings::JWT_SECRET)?.ok_or_else(|| Error::internal("the token signing secret vanished"))
}

pub(crate) fn secret_context() -> String {
    rotation::context("settings", "value", settings::JWT_SECRET)
}

/// Resets the failure count on success; on failure counts it and, past the free
/// failures, makes the next attempt wait 1 s, 2 s, 4 s, … up to [`MAX_BACKOFF`].
fn record_attempt(tx: &mut Tx<'_>, user: UserId, ok: bool, now: Timestamp) -> Result<()> {
    if ok {
        tx.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1", params![user])?;
        return Ok(());
    }
    let failures: i64 = tx
        .query_one(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
            params![user],
        )?
        .get(0)?;
    if failures >= FREE_FAILURES {
        let wait = SignedDuration::from_secs(1i64 << (failures - FREE_FAILURES).min(20)).min(MAX_BACKOFF);
        let until = now.checked_add(wait).map_err(|e| Error::internal_from("a time past the supported range", e))?;
        tx.execute("UPDATE users SET locked_until = $1 WHERE id = $2", params![until, user])?;
    }
    Ok(())
}
