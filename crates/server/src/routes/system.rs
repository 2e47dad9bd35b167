//! Outside `/api/v1`: liveness (`/healthz`), readiness (`/readyz`: the database answers and
//! is initialised) and Prometheus metrics (`/metrics`, for a token that may read the audit
//! log; its labels are route templates and statuses, never personal data).

use axum::{
    Router,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;
use stockyard_core::{Action, Error};

use super::ok;
use crate::{AppState, error::ApiResult, extract::Caller};

pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(health)).route("/readyz", get(ready)).route("/metrics", get(metrics))
}

async fn health() -> Response {
    ok(&json!({ "status": "ok" }))
}

async fn ready(State(state): State<AppState>) -> ApiResult<Response> {
    let initialised = state.call(|store| store.is_initialised()).await?;
    if !initialised {
        let location = state.store().location();
        return Err(Error::NotInitialised { location }.into());
    }
    Ok(ok(&json!({ "status": "ready" })))
}

async fn metrics(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.actor().authorize(Action::AuditRead)?;
    let text = state.metrics().map(|handle| handle.render()).unwrap_or_default();
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    Ok(([(header::CONTENT_TYPE, content_type)], text).into_response())
}
