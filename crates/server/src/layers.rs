//! The layers around every route: per-request deadline, metrics, no caching, CORS, and the
//! problem answers for unknown routes and methods.

use std::time::{Duration, Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, Method, Uri},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ApiError;

pub async fn no_route(uri: Uri) -> ApiError {
    ApiError::no_route(uri.path())
}

pub async fn wrong_method() -> ApiError {
    ApiError::method_not_allowed()
}

/// Answers 503 when a request runs past the deadline. (The core call it waits on finishes
/// on its own; the connection it holds is counted until then.)
pub async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::overloaded(format!("the request took longer than {} s", limit.as_secs())).into_response(),
    }
}

/// Counts and logs requests and their latency per route template, method and status —
/// never the path itself, which may carry an email or an id.
pub async fn track(request: Request, next: Next) -> Response {
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    // One log line per request, by route template like the metrics: no ids or emails.
    tracing::info!(
        request_id = crate::request_id::current().as_deref(),
        method,
        route,
        status,
        millis = elapsed.as_secs_f64() * 1000.0,
        "answered"
    );
    let labels = [("route", route), ("method", method), ("status", status.to_string())];
    metrics::counter!("stockyard_http_requests_total", &labels).increment(1);
    metrics::histogram!("stockyard_http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    response
}

/// `Cache-Control: no-store` on every answer: they hold tokens (login), personal data and
/// stock that changes by the second — nothing a browser or proxy should keep.
pub async fn no_store(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().entry(axum::http::header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// CORS for the origins named; none named: none.
pub fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    let layer = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
            axum::http::header::IF_MATCH,
            axum::http::HeaderName::from_static("idempotency-key"),
            crate::request_id::HEADER,
        ])
        .expose_headers([axum::http::header::ETAG, axum::http::header::RETRY_AFTER, crate::request_id::HEADER]);
    Some(layer)
}
