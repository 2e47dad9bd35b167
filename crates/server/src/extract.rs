//! Reading requests: who is calling (a bearer session or API token), JSON bodies and query
//! parameters — every refusal a problem+json naming the field at fault.

use std::{fmt::Display, str::FromStr};

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Query, Request},
    http::{HeaderMap, header, request::Parts},
};
use serde::de::DeserializeOwned;
use stockyard_core::{Actor, Error, PageRequest, Store};

use crate::{
    AppState,
    error::{ApiError, ApiResult},
    request_id,
};

/// Who calls: the request's bearer credential, checked against the store in the same turn
/// on the blocking pool as the call it makes ([`AppState::act`]) — one turn, not two. A
/// request without a credential, or with a session token forged or expired, is refused
/// here, before its body is read; what needs the database (a revoked API token, a user
/// disabled or changed since) is checked in that turn, after the body.
#[derive(Debug)]
pub struct Caller {
    bearer: String,
    request_id: Option<String>,
    /// The request's `Idempotency-Key`, as sent.
    offered_key: Option<String>,
    /// The key the call runs under: only the routes that honour one take it ([`Caller::keyed`]).
    key: Option<String>,
}

impl Caller {
    /// The caller with the request's `Idempotency-Key`, for the routes that honour one.
    pub fn keyed(mut self) -> ApiResult<Self> {
        if let Some(key) = self.offered_key.take() {
            stockyard_core::check_idempotency_key(&key)
                .map_err(|e| ApiError::from(e).naming("idempotency_key", "Idempotency-Key"))?;
            self.key = Some(key);
        }
        Ok(self)
    }

    /// The actor behind the credential: refused when it is forged, expired or revoked.
    pub fn authenticate(&self, store: &Store) -> stockyard_core::Result<Actor> {
        let mut actor = store.auth().authenticate(&self.bearer)?;
        if let Some(id) = &self.request_id {
            actor = actor.with_request_id(id.clone());
        }
        match &self.key {
            Some(key) => actor.with_idempotency_key(key),
            None => Ok(actor),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let bearer = bearer(&parts.headers)?;
        // A forged or expired session token is refused before the body is read, too.
        state.store().auth().precheck(&bearer)?;
        let offered_key = match parts.headers.get("idempotency-key") {
            None => None,
            Some(value) => Some(
                value
                    .to_str()
                    .map_err(|_| ApiError::bad_request(Some("Idempotency-Key".into()), "is not text"))?
                    .to_owned(),
            ),
        };
        Ok(Self { bearer, request_id: request_id::current(), offered_key, key: None })
    }
}

/// The credential of `Authorization: Bearer …`.
fn bearer(headers: &HeaderMap) -> ApiResult<String> {
    let refused = |reason: &str| ApiError::from(Error::unauthenticated(reason));
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| refused("send a session or API token as `Authorization: Bearer TOKEN`"))?;
    let text = value.to_str().map_err(|_| refused("the Authorization header is not text"))?;
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(token.trim().to_owned())
        }
        _ => Err(refused("the Authorization header must be `Bearer TOKEN`")),
    }
}

/// A JSON body (an empty one reads as `{}`). Malformed JSON is 400; a body of the wrong shape (a missing field, a wrong
/// type, an unknown value) is 422 naming the field by its path (`lines[1].quantity`).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> ApiResult<Self> {
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large()
            } else {
                ApiError::bad_request(None, format!("cannot read the body: {e}"))
            }
        })?;
        let text: &[u8] = if bytes.trim_ascii().is_empty() { b"{}" } else { &bytes };
        let mut deserializer = serde_json::Deserializer::from_slice(text);
        match serde_path_to_error::deserialize(&mut deserializer) {
            Ok(value) => {
                deserializer.end().map_err(|e| {
                    ApiError::bad_request(
                        None,
                        format!("the body is not valid JSON: {}", strip_position(&e.to_string())),
                    )
                })?;
                Ok(Json(value))
            }
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                let reason = strip_position(&inner.to_string());
                if inner.is_data() {
                    Err(ApiError::from(Error::invalid(field_at_fault(&path, &reason), reason)))
                } else {
                    Err(ApiError::bad_request(None, format!("the body is not valid JSON: {reason}")))
                }
            }
        }
    }
}

/// The field a shape error is about. serde reports a missing or unknown field while at the
/// object holding it, so its name is in the message, not yet in the path.
fn field_at_fault(path: &str, reason: &str) -> String {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| reason.strip_prefix(prefix))
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    match (path, named) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "body".to_owned(),
        (path, Some(name)) if !path.ends_with(&format!(".{name}")) && path != name => format!("{path}.{name}"),
        (path, _) => path.to_owned(),
    }
}

/// serde_json's " at line 1 column 9" tells a client nothing a field path does not.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// The query parameters of a request, read by name.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(None, format!("cannot read the query string: {e}")))?;
        Ok(Self(pairs))
    }
}

impl Params {
    /// The value of `name`, when given and not empty.
    pub fn text(&self, name: &str) -> Option<String> {
        self.0.iter().rev().find(|(n, v)| n == name && !v.is_empty()).map(|(_, v)| v.clone())
    }

    /// The value of `name` parsed, a problem naming it when it does not parse.
    pub fn parse<T>(&self, name: &str) -> ApiResult<Option<T>>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.text(name)
            .map(|v| v.parse::<T>().map_err(|e| ApiError::bad_request(Some(name.into()), format!("{v:?}: {e}"))))
            .transpose()
    }

    /// A `true`/`false` flag; absent is false.
    pub fn flag(&self, name: &str) -> ApiResult<bool> {
        Ok(self.parse::<bool>(name)?.unwrap_or(false))
    }

    /// Every `PREFIX.KEY=value`, as (KEY, value).
    pub fn prefixed(&self, prefix: &str) -> Vec<(String, String)> {
        self.0.iter().filter_map(|(n, v)| n.strip_prefix(prefix).map(|key| (key.to_owned(), v.clone()))).collect()
    }

    /// `limit` and `cursor`.
    pub fn page(&self) -> ApiResult<PageRequest> {
        Ok(PageRequest { limit: self.parse("limit")?, cursor: self.text("cursor") })
    }
}

/// The version an `If-Match` header names (`"3"`, `W/"3"` or `3`); a problem when it
/// names none.
pub fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(value) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = value.to_str().unwrap_or_default().trim();
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.parse::<i64>().map(Some).map_err(|_| {
        ApiError::bad_request(Some("If-Match".into()), format!("{text:?} is not a version this server gave"))
    })
}
