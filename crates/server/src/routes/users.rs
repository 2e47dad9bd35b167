//! Users (staff and API clients' accounts), their notification preferences, and the audit
//! log.

use axum::{
    Router,
    extract::{Path, State},
    response::Response,
    routing::{get, put},
};
use serde::Deserialize;
use stockyard_core::{Channel, NewUser, Role};

use super::{created, ok, unpaged};
use crate::{
    AppState,
    error::ApiResult,
    extract::{Caller, Json, Params},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{id}/preferences", put(set_preferences).get(preferences))
        .route("/audit", get(audit))
}

async fn list(State(state): State<AppState>, caller: Caller, params: Params) -> ApiResult<Response> {
    let page = params.page()?;
    let actor = caller.actor();
    Ok(ok(&state.call(move |store| store.users().list(&actor, &page)).await?))
}

#[derive(Deserialize)]
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

async fn create(State(state): State<AppState>, caller: Caller, Json(body): Json<CreateUser>) -> ApiResult<Response> {
    let input = NewUser {
        email: body.email,
        name: body.name,
        role: body.role,
        warehouses: body.warehouses,
        password: body.password,
    };
    let actor = caller.actor();
    Ok(created(&state.call(move |store| store.users().create(&actor, input)).await?))
}

async fn preferences(State(state): State<AppState>, caller: Caller, Path(user): Path<String>) -> ApiResult<Response> {
    let actor = caller.actor();
    Ok(ok(&unpaged(state.call(move |store| store.users().preferences(&actor, &user)).await?)))
}

/// Channels turned on or off for one event type: `{"event": "OrderShipped",
/// "channels": {"email": false, "in_app": true}}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Preferences {
    event: String,
    channels: std::collections::BTreeMap<Channel, bool>,
}

async fn set_preferences(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
    Json(body): Json<Preferences>,
) -> ApiResult<Response> {
    let channels: Vec<(Channel, bool)> = body.channels.into_iter().collect();
    let actor = caller.actor();
    let after = state
        .call(move |store| store.users().set_preferences(&actor, &user, &body.event, &channels))
        .await
        .map_err(|e| e.naming("event_type", "event"))?;
    Ok(ok(&unpaged(after)))
}

async fn audit(State(state): State<AppState>, caller: Caller, params: Params) -> ApiResult<Response> {
    let (entity, page) = (params.text("entity"), params.page()?);
    let actor = caller.actor();
    Ok(ok(&state.call(move |store| store.audit().list(&actor, entity.as_deref(), &page)).await?))
}
