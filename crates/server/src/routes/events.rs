//! The event log: read by seq (`GET /events`) or followed live (`GET /events/stream`,
//! Server-Sent Events whose `id:` is the seq, resumable with `Last-Event-ID`). Either way a
//! caller sees only the events about what it may read (the core decides).

use std::{collections::VecDeque, convert::Infallible, time::Duration};

use axum::{
    extract::State,
    http::HeaderMap,
    response::{
        Response,
        sse::{Event as SseEvent, KeepAlive, Sse},
    },
};
use futures_util::Stream;
use stockyard_core::{Actor, Event, EventFilter, EventType, Page};
use tokio::sync::watch;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::ok;
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Caller, Params},
};

/// Events read per round trip while a stream catches up.
const BATCH: u32 = 200;
/// How long a stream waits before reading again after the store failed to answer.
const RETRY: Duration = Duration::from_secs(1);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(stream))
}

/// A page of events in seq order; `next_cursor` is the seq to pass as `since` next.
#[utoipa::path(
    get,
    operation_id = "list_events",
    path = "/events",
    tag = "events",
    params(
        ("since" = Option<i64>, Query, description = "Only events after this seq"),
        ("type" = Option<EventType>, Query, description = "Only events of this type"),
        ("limit" = Option<u32>, Query, description = "Events per page, 1 to 1000 (default 100)"),
    ),
    responses((status = 200, description = "A page of events", body = Page<Event>)),
)]
async fn list(State(state): State<AppState>, caller: Caller, params: Params) -> ApiResult<Response> {
    let filter = EventFilter {
        since: params.parse("since")?,
        event_type: params.parse::<EventType>("type")?,
        limit: params.parse("limit")?,
    };
    let limit = filter.limit.unwrap_or(100) as usize;
    let items = state.act(caller, move |store, actor| store.events().list(actor, &filter)).await?;
    let next_cursor = (items.len() == limit).then(|| items.last().map(|e| e.seq.to_string())).flatten();
    Ok(ok(&stockyard_core::Page { items, next_cursor }))
}

/// Where a stream is: what it has read but not sent, the last seq it read, and the feed.
struct Follow {
    state: AppState,
    actor: Actor,
    event_type: Option<EventType>,
    pending: VecDeque<Event>,
    last: i64,
    latest: watch::Receiver<i64>,
    shutdown: watch::Receiver<bool>,
}

/// One server-sent event of the stream, as a client's SSE parser hands it over (documents
/// the stream's schema; the stream itself is written by axum's `Sse`).
#[derive(utoipa::ToSchema)]
#[expect(dead_code, reason = "describes the stream in the OpenAPI document; never built")]
struct StreamedEvent {
    /// The event's seq: send the last one received back as `Last-Event-ID` to resume.
    id: String,
    /// The event's type, e.g. `OrderCreated`.
    event: String,
    /// The event as `Event` JSON.
    data: String,
}

/// The event log followed live, as Server-Sent Events: each `id:` is the event's seq,
/// `event:` its type and `data:` the event as JSON; comments carry heartbeats.
#[utoipa::path(
    get,
    operation_id = "stream_events",
    path = "/events/stream",
    tag = "events",
    params(
        ("type" = Option<EventType>, Query, description = "Only events of this type"),
        ("since" = Option<i64>, Query, description = "Start after this seq (default: from now on)"),
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this seq (the `id:` last received); wins over `since`"),
    ),
    responses((status = 200, description = "A stream of events, one `data:` line of `Event` JSON each", content_type = "text/event-stream", body = StreamedEvent)),
)]
async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let event_type = params.parse::<EventType>("type")?;
    let resume =
        match headers.get("last-event-id") {
            Some(value) => {
                Some(value.to_str().ok().and_then(|v| v.trim().parse::<i64>().ok()).ok_or_else(|| {
                    ApiError::bad_request(Some("Last-Event-ID".into()), "is not a seq this server sent")
                })?)
            }
            None => params.parse::<i64>("since")?,
        };
    // Refused now, as a problem, rather than as a stream that ends at once.
    let (actor, newest) = state
        .act(caller, move |store, actor| {
            store.events().list(actor, &EventFilter { since: Some(i64::MAX - 1), event_type: None, limit: Some(1) })?;
            Ok((actor.clone(), store.feed().latest()?))
        })
        .await?;
    let last = resume.unwrap_or(newest);
    let state_heartbeat = state.heartbeat();
    let follow = Follow {
        latest: state.feed_pump().subscribe(state.store(), last),
        shutdown: state.shutdown(),
        state,
        actor,
        event_type,
        pending: VecDeque::new(),
        last,
    };
    let events = futures_util::stream::unfold(follow, |mut follow| async move {
        follow.next().await.map(|event| (Ok(event), follow))
    });
    let heartbeat = KeepAlive::new().interval(state_heartbeat).text("heartbeat");
    Ok(Sse::new(events).keep_alive(heartbeat))
}

impl Follow {
    /// The next event to send, or `None` when the server is stopping.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(to_sse(&event));
            }
            if *self.shutdown.borrow() {
                return None;
            }
            // A read goes up to the newest committed event and says how far it went, past
            // the events this caller may not see: the next read starts there, and waits
            // only for events newer than that.
            let filter = EventFilter { since: Some(self.last), event_type: self.event_type, limit: Some(BATCH) };
            let actor = self.actor.clone();
            match self.state.call(move |store| store.events().read(&actor, &filter)).await {
                Ok(batch) => {
                    self.last = batch.through;
                    if !batch.events.is_empty() {
                        self.pending.extend(batch.events);
                        continue;
                    }
                }
                Err(e) => {
                    tracing::warn!(status = %e.status(), "event stream read failed; trying again");
                    tokio::select! {
                        _ = tokio::time::sleep(RETRY) => {}
                        _ = self.shutdown.wait_for(|stopping| *stopping) => return None,
                    }
                    continue;
                }
            }
            let seen = self.last;
            tokio::select! {
                // The feed gone (the server is going): the stream ends; its client resumes.
                moved = self.latest.wait_for(|latest| *latest > seen) => moved.ok().map(drop)?,
                _ = self.shutdown.wait_for(|stopping| *stopping) => return None,
            }
        }
    }
}

fn to_sse(event: &Event) -> SseEvent {
    let data = serde_json::to_string(event).unwrap_or_default();
    SseEvent::default().id(event.seq.to_string()).event(event.event_type.as_str()).data(data)
}
