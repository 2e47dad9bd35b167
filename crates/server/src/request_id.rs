//! A request id on every request and response (`x-request-id`, echoed when the client sent
//! a sensible one), visible to everything the request runs — logs, problem bodies, the
//! audit records the core writes.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// The longest client-chosen id kept; a longer or odd one is replaced.
const MAX_LENGTH: usize = 128;

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being served, when called while serving one.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

pub async fn layer(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= MAX_LENGTH && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    request.headers_mut().insert(HEADER, value.clone());
    let mut response = CURRENT.scope(id, next.run(request)).await;
    response.headers_mut().insert(HEADER, value);
    response
}
