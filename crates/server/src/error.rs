//! The one mapping from the core's errors (and the server's own refusals) to HTTP: a status
//! and an `application/problem+json` body (RFC 9457). Internal failures are logged with
//! their source and answered with the request id only.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use stockyard_core::{Conflict, Error, ErrorKind};
use utoipa::ToSchema;

use crate::request_id;

/// An answer other than success (boxed: results stay small on the success path).
#[derive(Debug)]
pub struct ApiError(Box<Details>);

#[derive(Debug)]
struct Details {
    status: StatusCode,
    code: &'static str,
    detail: String,
    /// `errors: [{field, reason}]` for invalid input.
    errors: Vec<FieldError>,
    /// `lines` for insufficient stock.
    lines: Vec<ShortLine>,
    /// `current_version` for a stale `If-Match`.
    current_version: Option<i64>,
    /// Seconds, for 429 and 503.
    retry_after: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

/// One line of an order or reservation that stock cannot cover.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ShortLine {
    sku: String,
    warehouse: String,
    requested: i64,
    available: i64,
}

/// An `application/problem+json` body (RFC 9457), as every refusal answers.
#[derive(Serialize, ToSchema)]
pub(crate) struct Problem<'a> {
    /// `urn:stockyard:problem:CODE`.
    r#type: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    /// What went wrong, machine-readable: `not_found`, `insufficient_stock`, …
    code: &'a str,
    /// Invalid input: each field at fault and why.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    #[schema(value_type = Vec<FieldError>)]
    errors: &'a [FieldError],
    /// Insufficient stock: each short line.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    #[schema(value_type = Vec<ShortLine>)]
    lines: &'a [ShortLine],
    /// A stale `If-Match`: the version the resource is at.
    #[serde(skip_serializing_if = "Option::is_none")]
    current_version: Option<i64>,
    /// A server error: the id its log lines carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self(Box::new(Details {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            lines: Vec::new(),
            current_version: None,
            retry_after: None,
        }))
    }

    /// A request the server cannot read: malformed JSON, a wrong type, a missing field, a
    /// bad query parameter. `field` names what is at fault when it is known.
    pub fn bad_request(field: Option<String>, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        let mut error = Self::new(StatusCode::BAD_REQUEST, "bad_request", reason.clone());
        if let Some(field) = field {
            error.0.errors.push(FieldError { field, reason });
        }
        error
    }

    /// Too much at once: the server sheds the request instead of queueing it.
    pub fn overloaded(detail: impl Into<String>) -> Self {
        let mut error = Self::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", detail);
        error.0.retry_after = Some(1);
        error
    }

    /// Over the rate limit; try again after `seconds`.
    pub fn too_many(seconds: u64) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests: try again in {seconds} s"),
        );
        error.0.retry_after = Some(seconds.max(1));
        error
    }

    /// A body over the server's limit.
    pub fn too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the request body is larger than this server takes")
    }

    pub fn no_route(path: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("no route {path}"))
    }

    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
    }

    /// The core names some fields as people read them (`warehouse_code`), or as another
    /// request calls them (a reservation's `items`, an order's `lines`); on the wire the
    /// field is what this request called it. Renames `label` — alone or as the head of a
    /// path (`items[0].quantity`) — to `field` in `errors`.
    pub fn naming(mut self, label: &str, field: &str) -> Self {
        for error in &mut self.0.errors {
            if let Some(rest) = error.field.strip_prefix(label)
                && (rest.is_empty() || rest.starts_with(['[', '.']))
            {
                error.field = format!("{field}{rest}");
            }
        }
        self
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let detail = e.to_string();
        let status = match &e {
            Error::NotFound { .. } => StatusCode::NOT_FOUND,
            Error::Conflict { code: Conflict::StaleVersion { .. }, .. } => StatusCode::PRECONDITION_FAILED,
            Error::Conflict { .. } | Error::InsufficientStock { .. } | Error::InvalidTransition { .. } => {
                StatusCode::CONFLICT
            }
            Error::KeyReused { .. } | Error::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::BadRows { .. } if e.kind() == ErrorKind::Conflict => StatusCode::CONFLICT,
            Error::BadRows { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Error::Forbidden { .. } => StatusCode::FORBIDDEN,
            Error::NotInitialised { .. } | Error::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut error = Self::new(status, e.code(), detail);
        match e {
            // The core names a field as people read it (`reservation id`); the wire's
            // fields are snake_case.
            Error::Invalid { field, reason } => {
                error.0.errors.push(FieldError { field: field.replace(' ', "_"), reason })
            }
            Error::BadRows { problems } => {
                error.0.errors = problems
                    .into_iter()
                    .map(|p| FieldError { field: format!("line {}", p.line), reason: p.to_string() })
                    .collect();
            }
            Error::InsufficientStock { lines } => {
                error.0.lines = lines
                    .into_iter()
                    .map(|l| ShortLine {
                        sku: l.sku,
                        warehouse: l.warehouse,
                        requested: l.needed,
                        available: l.available,
                    })
                    .collect();
            }
            Error::Conflict { code: Conflict::StaleVersion { current }, .. } => error.0.current_version = Some(current),
            Error::NotInitialised { .. } | Error::Unavailable { .. } => error.0.retry_after = Some(1),
            Error::Internal { .. } => {
                tracing::error!(request_id = request_id::current().as_deref(), error = %e.chain(), "internal error");
                error.0.detail = "the server failed to answer this request; its log has the details".into();
            }
            _ => {}
        }
        error
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = *self.0;
        let title = error.status.canonical_reason().unwrap_or("Error");
        let request_id = request_id::current();
        let problem = Problem {
            r#type: format!("urn:stockyard:problem:{}", error.code),
            title,
            status: error.status.as_u16(),
            detail: &error.detail,
            code: error.code,
            errors: &error.errors,
            lines: &error.lines,
            current_version: error.current_version,
            request_id: request_id.filter(|_| error.status.is_server_error()),
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (error.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(seconds) = error.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if error.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// What handlers return.
pub type ApiResult<T> = Result<T, ApiError>;
