//! Ad-hoc notifications and their status, templates, webhooks, and the caller's in-app
//! inbox.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};
use serde::Deserialize;
use stockyard_core::{Channel, Error};

use super::{created, json, ok, unpaged};
use crate::{
    AppState,
    error::ApiResult,
    extract::{Caller, Json, Params},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/notifications", post(send))
        .route("/notifications/status/{id}", get(status))
        .route("/notifications/templates", get(templates))
        .route("/webhooks", get(webhooks).post(add_webhook))
        .route("/webhooks/{id}", delete(remove_webhook))
        .route("/me/notifications", get(inbox))
        .route("/me/notifications/{id}/read", post(mark_read))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Send {
    #[serde(default = "email")]
    channel: Channel,
    to: String,
    template: String,
    #[serde(default)]
    variables: serde_json::Map<String, serde_json::Value>,
}

fn email() -> Channel {
    Channel::Email
}

async fn send(State(state): State<AppState>, caller: Caller, Json(body): Json<Send>) -> ApiResult<Response> {
    if body.channel != Channel::Email {
        let reason =
            format!("{} cannot be sent ad hoc: only email can (events notify the other channels)", body.channel);
        return Err(Error::invalid("channel", reason).into());
    }
    let actor = caller.actor();
    let sent = state
        .call(move |store| store.notifications().send(&actor, &body.to, &body.template, &body.variables))
        .await
        .map_err(|e| e.naming("email", "to"))?;
    Ok(json(StatusCode::ACCEPTED, &sent))
}

async fn status(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let actor = caller.actor();
    Ok(ok(&state.call(move |store| store.notifications().status(&actor, &id)).await?))
}

async fn templates(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let actor = caller.actor();
    Ok(ok(&unpaged(state.call(move |store| store.notifications().templates(&actor)).await?)))
}

async fn webhooks(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let actor = caller.actor();
    Ok(ok(&unpaged(state.call(move |store| store.notifications().webhooks(&actor)).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWebhook {
    url: String,
    events: Vec<String>,
    secret: Option<String>,
}

async fn add_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewWebhook>,
) -> ApiResult<Response> {
    let actor = caller.actor();
    let added = state
        .call(move |store| store.notifications().add_webhook(&actor, &body.url, &body.events, body.secret.as_deref()))
        .await
        .map_err(|e| e.naming("event_type", "events"))?;
    Ok(created(&added))
}

async fn remove_webhook(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let actor = caller.actor();
    state.call(move |store| store.notifications().remove_webhook(&actor, &id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn inbox(State(state): State<AppState>, caller: Caller, params: Params) -> ApiResult<Response> {
    let (unread, page) = (params.flag("unread")?, params.page()?);
    let actor = caller.actor();
    Ok(ok(&state.call(move |store| store.notifications().inbox(&actor, unread, &page)).await?))
}

async fn mark_read(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let actor = caller.actor();
    Ok(ok(&state.call(move |store| store.notifications().mark_read(&actor, &id)).await?))
}
