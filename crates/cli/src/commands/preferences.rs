//! `user prefs`: a user's notification preferences, shown as event type × channel.

use stockyard_core::{
    Actor, EventType, Page, Users,
    users::preferences::{Channel, Preference},
};

use super::Context;
use crate::{cli::PrefsArgs, exit::Failure, output::Column};

/// One event type and its cell per channel, in [`Channel::ALL`] order.
struct Row {
    event: EventType,
    cells: Vec<String>,
}

/// With `--event`, sets its channels first; then prints every preference (JSON: the list
/// of them; table and CSV: one row per event type).
pub fn run(ctx: &mut Context<'_>, users: &Users<'_>, actor: &Actor, prefs: PrefsArgs) -> Result<(), Failure> {
    let items = match &prefs.event {
        Some(event) => users.set_preferences(actor, &prefs.email, event, &prefs.channels)?,
        None => users.preferences(actor, &prefs.email)?,
    };
    let rows = rows(&items);
    let mut columns = vec![Column::new("EVENT", |r: &Row| r.event.to_string())];
    for (i, &channel) in Channel::ALL.iter().enumerate() {
        columns.push(Column::new(header(channel), move |r: &Row| r.cells[i].clone()));
    }
    let any_set = items.iter().any(|p| p.source != "default");
    ctx.out.report(&Page { items, next_cursor: None }, &rows, &columns)?;
    if any_set {
        ctx.out.note("* set for this user; the others follow its role's defaults.")?;
    }
    Ok(())
}

/// The preferences grouped by event type, in the order they came.
fn rows(items: &[Preference]) -> Vec<Row> {
    let mut events: Vec<EventType> = Vec::new();
    for item in items {
        if !events.contains(&item.event_type) {
            events.push(item.event_type);
        }
    }
    let cell = |event: EventType, channel: Channel| {
        items.iter().find(|p| p.event_type == event && p.channel == channel).map_or_else(String::new, |p| {
            let state = if p.enabled { "on" } else { "off" };
            if p.source == "default" { state.to_owned() } else { format!("{state}*") }
        })
    };
    events
        .into_iter()
        .map(|event| Row { event, cells: Channel::ALL.iter().map(|&channel| cell(event, channel)).collect() })
        .collect()
}

fn header(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "EMAIL",
        Channel::InApp => "IN_APP",
        Channel::Webhook => "WEBHOOK",
        Channel::Sms => "SMS",
    }
}
