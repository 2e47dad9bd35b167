//! `events tail|replay`: the event log, and the stock projection rebuilt from it.

use std::time::Duration;

use stockyard_core::{Event, EventFilter, Page};

use super::Context;
use crate::{
    cli::{EventsCommand, EventsTail},
    exit::Failure,
    output::Column,
};

/// How long `events tail --follow` waits on the change feed before it waits again: any
/// time would do, as the feed wakes it when events commit.
const WAIT_FOR: Duration = Duration::from_secs(10);
/// The most events `--follow` reads at a time.
const BATCH: u32 = 1000;

pub fn run(ctx: &mut Context<'_>, command: EventsCommand) -> Result<(), Failure> {
    match command {
        EventsCommand::Tail(tail) => self::tail(ctx, &tail),
        EventsCommand::Replay => replay(ctx),
    }
}

fn replay(ctx: &mut Context<'_>) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let report = store.inventory().replay(&actor)?;
    let message = format!(
        "Replayed {} stock events (seq {} to {}) into {} levels; {} corrected{} in {} ms.",
        report.events_applied,
        report.from_seq,
        report.to_seq,
        report.levels,
        report.corrected,
        if report.snapshot_taken { ", snapshot taken," } else { "," },
        report.elapsed_ms
    );
    Ok(ctx.out.done(&message, &report)?)
}

/// The newest events (or those after `--since`); with `--follow`, every later one as it
/// arrives, one line each, until the process is stopped or its reader goes away.
fn tail(ctx: &mut Context<'_>, tail: &EventsTail) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let events = store.events();
    let items = match tail.since {
        Some(since) => events
            .list(&actor, &EventFilter { since: Some(since), event_type: tail.event_type, limit: Some(tail.limit) })?,
        None => events.newest(&actor, tail.event_type, tail.limit)?,
    };
    let columns = columns();
    if !tail.follow {
        let next_cursor = items.last().map(|e| e.seq.to_string());
        return Ok(ctx.out.list(&Page { items, next_cursor }, &columns)?);
    }
    let feed = store.feed();
    // `last`: the seq read up to; `seen`: the newest the feed told of (events of other types
    // than `--type` move it, and must not wake the next wait).
    let mut last = items.last().map_or(tail.since.unwrap_or(0), |e| e.seq);
    let mut seen = last;
    let mut batch = items;
    loop {
        for event in &batch {
            ctx.out.stream(event, &columns)?;
            last = event.seq;
        }
        // A full batch may have more behind it: read on before waiting.
        if batch.len() < BATCH as usize {
            seen = feed.wait_after(seen.max(last), WAIT_FOR);
        }
        let filter = EventFilter { since: Some(last), event_type: tail.event_type, limit: Some(BATCH) };
        batch = events.list(&actor, &filter)?;
    }
}

fn columns() -> Vec<Column<'static, Event>> {
    vec![
        Column::new("SEQ", |e: &Event| e.seq.to_string()),
        Column::new("TIME", |e: &Event| e.occurred_at.to_string()),
        Column::new("TYPE", |e: &Event| e.event_type.to_string()),
        Column::new("AGGREGATE", |e: &Event| format!("{}:{}", e.aggregate_type, e.aggregate_id)),
        Column::new("ACTOR", |e: &Event| e.actor.clone()),
        Column::wide("PAYLOAD", |e: &Event| e.payload.to_string()),
    ]
}
