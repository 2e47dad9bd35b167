//! The OpenAPI 3.1 document of the whole API (`GET /api/v1/openapi.json`), made from the
//! router itself: every route is registered with its `#[utoipa::path]` through
//! `utoipa_axum::routes!`, so none is served undocumented. This module adds what every
//! operation shares: the bearer scheme, the problem answers the layers give, the `Problem`
//! schema.

use std::sync::LazyLock;

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        Components, ContentBuilder, HeaderBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, ResponseBuilder,
        path::{Operation, ParameterIn},
        schema::{ObjectBuilder, Schema, SchemaType, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{AppState, error::Problem};

/// The name of the bearer scheme in the document.
const BEARER: &str = "bearer";
const PROBLEM_JSON: &str = "application/problem+json";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(document))
}

/// This document. It needs no token: it describes the API and reveals no data.
#[utoipa::path(
    get,
    operation_id = "openapi",
    path = "/openapi.json",
    tag = "system",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = serde_json::Value)),
)]
async fn document() -> Response {
    static DOCUMENT: LazyLock<Vec<u8>> = LazyLock::new(|| serde_json::to_vec(&openapi()).unwrap_or_default());
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], DOCUMENT.as_slice()).into_response()
}

/// The document of every route [`crate::router`] serves.
pub fn openapi() -> OpenApi {
    let base = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("stockyard")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Inventory and order management over HTTP: stock, reservations, orders, notifications.",
                ))
                .build(),
        )
        .build();
    let mut doc = OpenApiRouter::with_openapi(base).merge(crate::routes::all(|api| api)).into_openapi();
    complete(&mut doc);
    doc
}

/// Adds what the layers give every operation: the bearer requirement (unless the operation
/// says `security(())`, meaning none), and the problem answers a request can get before or
/// beside its handler, each with the `Problem` schema.
fn complete(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Components::new);
    let mut schemas = vec![(Problem::name().into_owned(), Problem::schema())];
    Problem::schemas(&mut schemas);
    components.schemas.extend(schemas);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT or API token")
                .description(Some("A session token from `POST /api/v1/auth/login`, or an API token (`sy_…`)."))
                .build(),
        ),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        let in_api = path.starts_with("/api/v1/");
        let operations =
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head];
        for operation in operations.into_iter().flatten() {
            complete_operation(operation, in_api);
        }
    }
}

fn complete_operation(operation: &mut Operation, in_api: bool) {
    let public = operation.security.as_ref().is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
    operation.security =
        Some(if public { Vec::new() } else { vec![SecurityRequirement::new::<_, _, &str>(BEARER, [])] });
    for parameter in operation.parameters.iter_mut().flatten() {
        if let RefOr::T(parameter) = parameter
            && let Some(schema) = parameter.schema.as_mut()
        {
            never_null(schema);
        }
    }
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let has_input = operation.request_body.is_some() || !parameters.is_empty();
    let has_path_parameter = parameters.iter().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
    let mut answers: Vec<(u16, &str)> = vec![(503, "Too busy: the request was shed; try again after `Retry-After`")];
    if has_input {
        answers
            .push((400, "The request cannot be read: malformed JSON, a query parameter or header of the wrong form"));
        answers.push((422, "Invalid input; `errors` names each field at fault"));
    }
    if operation.request_body.is_some() {
        answers.push((413, "The body is larger than this server takes"));
    }
    if has_path_parameter {
        answers.push((404, "No such resource, or one the caller may not see"));
    }
    if !public {
        answers.push((401, "No valid bearer token"));
        answers.push((403, "The caller's role may not do this"));
    }
    if in_api {
        answers.push((429, "Over the rate limit; try again after `Retry-After`"));
    }
    let responses = &mut operation.responses.responses;
    for (status, description) in answers {
        responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(description).build()));
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        if status.starts_with(['4', '5']) && response.content.is_empty() {
            let problem = ContentBuilder::new().schema(Some(Ref::from_schema_name(Problem::name()))).build();
            response.content.insert(PROBLEM_JSON.into(), RefOr::T(problem));
        }
        let header = match status.as_str() {
            "429" | "503" => Some(("Retry-After", "Seconds to wait before trying again", Type::Integer)),
            "401" => Some(("WWW-Authenticate", "`Bearer`", Type::String)),
            _ => None,
        };
        if let Some((name, description, kind)) = header {
            let schema = ObjectBuilder::new().schema_type(kind).build();
            let header =
                HeaderBuilder::new().schema(Some(Schema::Object(schema))).description(Some(description)).build();
            response.headers.insert(name.into(), RefOr::T(header));
        }
    }
}

/// A parameter declared `Option<T>` is one a request may leave out (`required: false`), never
/// one it sends as `null`: its schema is `T`'s.
fn never_null(schema: &mut RefOr<Schema>) {
    let RefOr::T(inner) = schema else { return };
    match inner {
        Schema::Object(object) => {
            if let SchemaType::Array(types) = &mut object.schema_type {
                types.retain(|t| *t != Type::Null);
                if let [only] = types.as_slice() {
                    object.schema_type = SchemaType::Type(only.clone());
                }
            }
        }
        Schema::OneOf(one_of) => {
            let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null));
            one_of.items.retain(|s| !is_null(s));
            if one_of.items.len() == 1 {
                *schema = one_of.items.remove(0);
            }
        }
        _ => {}
    }
}
