//! stockyard's HTTP API (`/api/v1`, SPEC §4) over the core, and the background workers a
//! deployment runs beside it. A thin layer: handlers read the request, call the core on the
//! blocking pool and write the answer; no domain rule lives here.
//!
//! [`router`] builds the whole API for tests and embedding, [`openapi()`] its OpenAPI
//! document (served at `/api/v1/openapi.json`); [`run`] is `stockyard serve`:
//! the API on a socket, the workers on their own threads, and a graceful stop on SIGTERM or
//! Ctrl-C.

mod error;
mod extract;
mod feed;
mod layers;
mod limits;
mod openapi;
mod request_id;
mod routes;
mod run;
mod settings;
mod state;
mod tls;

pub use openapi::openapi;
pub use run::{Failures, Job, Workers, run, serve, serve_tls};
pub use settings::{DEFAULT_BIND, DEFAULT_RATE_LIMIT, Settings, TlsFiles};
pub use state::AppState;
pub use tls::server_config as tls_config;

use std::sync::Arc;

use axum::{Router, extract::DefaultBodyLimit, middleware};
use stockyard_core::Store;

/// The whole API over `store`. `shutdown` ends open event streams when it turns true, so a
/// graceful stop need not wait for clients that never hang up.
pub fn router(
    store: Store,
    settings: &Settings,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> Router {
    let state = AppState::new(store, settings, metrics, shutdown);
    let rate_limit = middleware::from_fn_with_state(state.clone(), limits::rate_limited);
    let (app, _) = routes::all(|api| api.route_layer(rate_limit)).split_for_parts();
    let in_flight = Arc::new(limits::InFlight::new(settings.max_in_flight));
    let app = app
        .fallback(layers::no_route)
        .method_not_allowed_fallback(layers::wrong_method)
        .layer(DefaultBodyLimit::max(settings.body_limit))
        .layer(middleware::from_fn(layers::track))
        .layer(middleware::from_fn(layers::no_store))
        .layer(middleware::from_fn_with_state(settings.request_timeout, layers::deadline))
        .layer(middleware::from_fn_with_state(in_flight, limits::shed));
    // CORS only when origins are named: otherwise not even its `vary` headers.
    let app = match layers::cors(&settings.cors_origins) {
        Some(cors) => app.layer(cors),
        None => app,
    };
    app.layer(middleware::from_fn(request_id::layer)).with_state(state)
}
