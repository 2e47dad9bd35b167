//! Ad-hoc notifications and their status, templates, webhooks, and the caller's in-app
//! inbox.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use stockyard_core::{
    Channel, Error, Page,
    notifications::{
        Notification,
        templates::Template,
        webhooks::{CreatedWebhook, Webhook},
    },
};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{created, json, ok, unpaged};
use crate::{
    AppState,
    error::ApiResult,
    extract::{Caller, Json, Params},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send))
        .routes(routes!(status))
        .routes(routes!(templates))
        .routes(routes!(webhooks, add_webhook))
        .routes(routes!(remove_webhook))
        .routes(routes!(inbox))
        .routes(routes!(mark_read))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = SendNotification)]
#[serde(deny_unknown_fields)]
struct Send {
    #[serde(default = "email")]
    channel: Channel,
    to: String,
    template: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    variables: serde_json::Map<String, serde_json::Value>,
}

fn email() -> Channel {
    Channel::Email
}

/// Sends a template to an address now (email only: events notify the other channels).
#[utoipa::path(
    post,
    operation_id = "send_notification",
    path = "/notifications",
    tag = "notifications",
    request_body = Send,
    responses(
        (status = 202, description = "Queued for delivery", body = Notification),
        (status = 404, description = "No such template"),
    ),
)]
async fn send(State(state): State<AppState>, caller: Caller, Json(body): Json<Send>) -> ApiResult<Response> {
    if body.channel != Channel::Email {
        let reason =
            format!("{} cannot be sent ad hoc: only email can (events notify the other channels)", body.channel);
        return Err(Error::invalid("channel", reason).into());
    }
    let sent = state
        .act(caller, move |store, actor| store.notifications().send(actor, &body.to, &body.template, &body.variables))
        .await
        .map_err(|e| e.naming("email", "to"))?;
    Ok(json(StatusCode::ACCEPTED, &sent))
}

#[utoipa::path(
    get,
    operation_id = "notification_status",
    path = "/notifications/status/{id}",
    tag = "notifications",
    params(
        ("id" = String, Path, description = "The notification's id"),
    ),
    responses(
        (status = 200, description = "The notification and its delivery status", body = Notification),
    ),
)]
async fn status(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(ok(&state.act(caller, move |store, actor| store.notifications().status(actor, &id)).await?))
}

#[utoipa::path(
    get,
    operation_id = "list_templates",
    path = "/notifications/templates",
    tag = "notifications",
    responses(
        (status = 200, description = "Every template", body = Page<Template>),
    ),
)]
async fn templates(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    Ok(ok(&unpaged(state.act(caller, move |store, actor| store.notifications().templates(actor)).await?)))
}

#[utoipa::path(
    get,
    operation_id = "list_webhooks",
    path = "/webhooks",
    tag = "notifications",
    responses(
        (status = 200, description = "Every webhook subscription (never its secret)", body = Page<Webhook>),
    ),
)]
async fn webhooks(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    Ok(ok(&unpaged(state.act(caller, move |store, actor| store.notifications().webhooks(actor)).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewWebhook {
    url: String,
    events: Vec<String>,
    secret: Option<String>,
}

#[utoipa::path(
    post,
    path = "/webhooks",
    tag = "notifications",
    request_body = NewWebhook,
    responses(
        (status = 201, description = "Subscribed; the secret is shown this once", body = CreatedWebhook),
    ),
)]
async fn add_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<NewWebhook>,
) -> ApiResult<Response> {
    let added = state
        .act(caller, move |store, actor| {
            store.notifications().add_webhook(actor, &body.url, &body.events, body.secret.as_deref())
        })
        .await
        .map_err(|e| e.naming("event_type", "events"))?;
    Ok(created(&added))
}

#[utoipa::path(
    delete,
    path = "/webhooks/{id}",
    tag = "notifications",
    params(
        ("id" = String, Path, description = "The webhook's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
    ),
)]
async fn remove_webhook(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    state.act(caller, move |store, actor| store.notifications().remove_webhook(actor, &id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The caller's in-app inbox, newest first.
#[utoipa::path(
    get,
    operation_id = "list_inbox",
    path = "/me/notifications",
    tag = "notifications",
    params(
        ("unread" = Option<bool>, Query, description = "Only notifications not yet read"),
        ("limit" = Option<u32>, Query, description = "Items per page, 1 to 1000 (default 50)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of in-app notifications", body = Page<Notification>),
    ),
)]
async fn inbox(State(state): State<AppState>, caller: Caller, params: Params) -> ApiResult<Response> {
    let (unread, page) = (params.flag("unread")?, params.page()?);
    Ok(ok(&state.act(caller, move |store, actor| store.notifications().inbox(actor, unread, &page)).await?))
}

#[utoipa::path(
    post,
    operation_id = "mark_notification_read",
    path = "/me/notifications/{id}/read",
    tag = "notifications",
    params(
        ("id" = String, Path, description = "The notification's id"),
    ),
    responses(
        (status = 200, description = "The notification, read", body = Notification),
    ),
)]
async fn mark_read(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(ok(&state.act(caller, move |store, actor| store.notifications().mark_read(actor, &id)).await?))
}
