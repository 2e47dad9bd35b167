//! Outside `/api/v1`: liveness (`/healthz`), readiness (`/readyz`: the database answers and
//! is initialised) and Prometheus metrics (`/metrics`, for a token that may read the audit
//! log; its labels are route templates and statuses, never personal data).

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use stockyard_core::{Action, Error};

use super::ok;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{AppState, error::ApiResult, extract::Caller};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health)).routes(routes!(ready)).routes(routes!(metrics))
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    operation_id = "healthz",
    path = "/healthz",
    tag = "system",
    security(()),
    responses((status = 200, description = "Alive", body = serde_json::Value, example = json!({ "status": "ok" }))),
)]
async fn health() -> Response {
    ok(&json!({ "status": "ok" }))
}

/// Readiness: the database answers and is initialised.
#[utoipa::path(
    get,
    operation_id = "readyz",
    path = "/readyz",
    tag = "system",
    security(()),
    responses(
        (status = 200, description = "Ready", body = serde_json::Value, example = json!({ "status": "ready" })),
        (status = 503, description = "The database does not answer or is not initialised"),
    ),
)]
async fn ready(State(state): State<AppState>) -> ApiResult<Response> {
    let initialised = state.call(|store| store.is_initialised()).await?;
    if !initialised {
        let location = state.store().location();
        return Err(Error::NotInitialised { location }.into());
    }
    Ok(ok(&json!({ "status": "ready" })))
}

/// Prometheus metrics, for a token that may read the audit log.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "system",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String)),
)]
async fn metrics(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.actor().authorize(Action::AuditRead)?;
    let text = state.metrics().map(|handle| handle.render()).unwrap_or_default();
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    Ok(([(header::CONTENT_TYPE, content_type)], text).into_response())
}
