//! The routes of `/api/v1`, one module per area, merged here; `system` holds the probes
//! and metrics outside it.

mod auth;
mod catalog;
mod events;
mod inventory;
mod notifications;
mod orders;
mod system;
mod users;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

/// Every route, documented: `/api/v1` (through `api_layer`, e.g. the rate limit) and the
/// system routes beside it. [`crate::router`] serves it; [`crate::openapi`] documents it.
pub fn all(api_layer: impl FnOnce(OpenApiRouter<AppState>) -> OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    OpenApiRouter::new().nest("/api/v1", api_layer(api())).merge(system::routes())
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::routes())
        .merge(catalog::routes())
        .merge(inventory::routes())
        .merge(orders::routes())
        .merge(notifications::routes())
        .merge(users::routes())
        .merge(events::routes())
        .merge(crate::openapi::routes())
}

/// A JSON answer.
pub fn json(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], bytes).into_response()
        }
        Err(e) => {
            crate::error::ApiError::from(stockyard_core::Error::internal_from("cannot write JSON", e)).into_response()
        }
    }
}

pub fn ok(body: &impl Serialize) -> Response {
    json(StatusCode::OK, body)
}

pub fn created(body: &impl Serialize) -> Response {
    json(StatusCode::CREATED, body)
}

/// A JSON answer carrying the resource's version as its `ETag`, for `If-Match`.
pub fn versioned(body: &impl Serialize, version: i64) -> Response {
    with_etag(ok(body), version)
}

/// `response` with the resource's version as its `ETag`.
pub fn with_etag(mut response: Response, version: i64) -> Response {
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

/// A whole list in the shape of a page: every list answers `{"items", "next_cursor"}`.
pub fn unpaged<T>(items: Vec<T>) -> stockyard_core::Page<T> {
    stockyard_core::Page { items, next_cursor: None }
}
