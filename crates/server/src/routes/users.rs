//! Users (staff and API clients' accounts), their notification preferences, and the audit
//! log.

use axum::{
    extract::{Path, State},
    response::Response,
};
use serde::Deserialize;
use stockyard_core::{AuditRecord, Channel, CreatedUser, NewUser, Page, Role, User, users::preferences::Preference};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{created, ok, unpaged};
use crate::{
    AppState,
    error::ApiResult,
    extract::{Caller, Json, Params},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(set_preferences, preferences))
        .routes(routes!(audit))
}

#[utoipa::path(
    get,
    operation_id = "list_users",
    path = "/users",
    tag = "users",
    params(
        ("limit" = Option<u32>, Query, description = "Items per page, 1 to 1000 (default 50)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of users", body = Page<User>),
    ),
)]
async fn list(State(state): State<AppState>, caller: Caller, params: Params) -> ApiResult<Response> {
    let page = params.page()?;
    Ok(ok(&state.act(caller, move |store, actor| store.users().list(actor, &page)).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateUser {
    email: String,
    name: Option<String>,
    #[serde(default)]
    role: Role,
    #[serde(default)]
    warehouses: Vec<String>,
    password: Option<String>,
}

#[utoipa::path(
    post,
    operation_id = "create_user",
    path = "/users",
    tag = "users",
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created; a generated password is shown this once", body = CreatedUser),
        (status = 409, description = "The email is taken"),
    ),
)]
async fn create(State(state): State<AppState>, caller: Caller, Json(body): Json<CreateUser>) -> ApiResult<Response> {
    let input = NewUser {
        email: body.email,
        name: body.name,
        role: body.role,
        warehouses: body.warehouses,
        password: body.password,
    };
    Ok(created(&state.act(caller, move |store, actor| store.users().create(actor, input)).await?))
}

#[utoipa::path(
    get,
    operation_id = "get_preferences",
    path = "/users/{id}/preferences",
    tag = "users",
    params(
        ("id" = String, Path, description = "The user's id or email"),
    ),
    responses(
        (status = 200, description = "Every preference as it applies", body = Page<Preference>),
    ),
)]
async fn preferences(State(state): State<AppState>, caller: Caller, Path(user): Path<String>) -> ApiResult<Response> {
    Ok(ok(&unpaged(state.act(caller, move |store, actor| store.users().preferences(actor, &user)).await?)))
}

/// Channels turned on or off for one event type: `{"event": "OrderShipped",
/// "channels": {"email": false, "in_app": true}}`.
#[derive(Deserialize, ToSchema)]
#[schema(as = PreferencesChange)]
#[serde(deny_unknown_fields)]
struct Preferences {
    event: String,
    channels: std::collections::BTreeMap<Channel, bool>,
}

#[utoipa::path(
    put,
    path = "/users/{id}/preferences",
    tag = "users",
    params(
        ("id" = String, Path, description = "The user's id or email"),
    ),
    request_body = Preferences,
    responses(
        (status = 200, description = "Every preference after the change", body = Page<Preference>),
    ),
)]
async fn set_preferences(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
    Json(body): Json<Preferences>,
) -> ApiResult<Response> {
    let channels: Vec<(Channel, bool)> = body.channels.into_iter().collect();
    let after = state
        .act(caller, move |store, actor| store.users().set_preferences(actor, &user, &body.event, &channels))
        .await
        .map_err(|e| e.naming("event_type", "event"))?;
    Ok(ok(&unpaged(after)))
}

/// The audit log, hash-chained, oldest first.
#[utoipa::path(
    get,
    operation_id = "list_audit",
    path = "/audit",
    tag = "users",
    params(
        ("entity" = Option<String>, Query, description = "Only records of this entity: `TYPE` or `TYPE:ID` (e.g. `product:MUG-01`)"),
        ("limit" = Option<u32>, Query, description = "Items per page, 1 to 1000 (default 50)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of audit records", body = Page<AuditRecord>),
    ),
)]
async fn audit(State(state): State<AppState>, caller: Caller, params: Params) -> ApiResult<Response> {
    let (entity, page) = (params.text("entity"), params.page()?);
    Ok(ok(&state.act(caller, move |store, actor| store.audit().list(actor, entity.as_deref(), &page)).await?))
}
