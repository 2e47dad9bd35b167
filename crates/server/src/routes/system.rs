//! Outside `/api/v1`: liveness (`/healthz`), readiness (`/readyz`: the database answers, takes
//! writes and is initialised) and Prometheus metrics (`/metrics`, for a token that may read the audit
//! log: this process's request counters and latencies, and the store's counts read at the
//! scrape; labels are route templates, methods and statuses, never personal data).

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use stockyard_core::{Action, Tallies};

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
        (status = 503, description = "Not ready: the database does not answer, cannot take a write (its disk full), or is not initialised; the problem says which"),
    ),
)]
async fn ready(State(state): State<AppState>) -> ApiResult<Response> {
    state.call(|store| store.ready()).await?;
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
    let tallies = state
        .act(caller, move |store, actor| {
            actor.authorize(Action::AuditRead)?;
            store.tallies(actor)
        })
        .await?;
    let mut text = state.metrics().map(|handle| handle.render()).unwrap_or_default();
    text.push_str(&render_tallies(&tallies));
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    Ok(([(header::CONTENT_TYPE, content_type)], text).into_response())
}

/// The store's counts in Prometheus text, read at each scrape: the same on every instance
/// of a shared database, where this process's own counters are its share only.
fn render_tallies(tallies: &Tallies) -> String {
    let mut text = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: &[(Option<&str>, i64)]| {
        text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for (status, value) in samples {
            match status {
                Some(status) => text.push_str(&format!("{name}{{status=\"{status}\"}} {value}\n")),
                None => text.push_str(&format!("{name} {value}\n")),
            }
        }
        text.push('\n');
    };
    family("stockyard_orders_placed_total", "counter", "Orders placed, ever.", &[(None, tallies.orders_placed)]);
    family(
        "stockyard_reservations_made_total",
        "counter",
        "Reservations made, ever (an order's own included).",
        &[(None, tallies.reservations_made)],
    );
    let notifications: Vec<(Option<&str>, i64)> =
        tallies.notifications.iter().map(|(status, count)| (Some(*status), *count)).collect();
    family("stockyard_notifications", "gauge", "Notifications by delivery status, now.", &notifications);
    text
}
