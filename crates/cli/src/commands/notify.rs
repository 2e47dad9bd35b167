//! `notify templates|template|send|list|status|endpoints` and `inbox [read]`: templates,
//! notifications, endpoint breakers and the acting user's in-app inbox. `notify run` is in
//! [`super::dispatch`].

use std::path::Path;

use jiff::Timestamp;
use stockyard_core::{
    Actor, Error, Page,
    notifications::{Notification, Notifications, breakers::Endpoint, templates::Template},
};

use super::{Context, dispatch};
use crate::{
    cli::{Inbox, InboxCommand, NotifyCommand, NotifySend, TemplateCommand, TemplateSet},
    exit::Failure,
    output::Column,
};

pub fn run(ctx: &mut Context<'_>, command: NotifyCommand) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let notifications = store.notifications();
    match command {
        NotifyCommand::Templates => {
            let items = notifications.templates(&actor)?;
            ctx.out.list(&Page { items, next_cursor: None }, &template_columns())?;
        }
        NotifyCommand::Template(TemplateCommand::Preview { name, channel }) => {
            let rendered = notifications.preview(&actor, &name, channel)?;
            let mut text = format!("Subject: {}\n\n{}", rendered.subject, rendered.body.trim_end());
            if let Some(html) = &rendered.html {
                text.push_str(&format!("\n\n--- HTML ---\n{}", html.trim_end()));
            }
            ctx.out.done(&text, &rendered)?;
        }
        NotifyCommand::Send(NotifySend { to, template, variables }) => {
            let variables = variables.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
            let sent = notifications.send(&actor, &to, &template, &variables)?;
            let columns = [
                Column::new("ID", |n: &Notification| n.id.to_string()),
                Column::new("STATUS", |n: &Notification| n.status.as_str().to_owned()),
            ];
            ctx.out.one(&sent, &columns)?;
        }
        NotifyCommand::List { status, page } => {
            let page = notifications.list(&actor, status.as_deref(), page.limit, page.cursor.as_deref())?;
            ctx.out.list(&page, &notification_columns())?;
        }
        NotifyCommand::Status { id } => ctx.out.one(&notifications.status(&actor, &id)?, &notification_columns())?,
        NotifyCommand::Endpoints => {
            let items = notifications.endpoints(&actor)?;
            ctx.out.list(&Page { items, next_cursor: None }, &endpoint_columns())?;
        }
        NotifyCommand::Template(TemplateCommand::Set(set)) => set_template(ctx, &notifications, &actor, set)?,
        NotifyCommand::Run { once } => dispatch::run(ctx, &store, &actor, once)?,
    }
    Ok(())
}

/// `inbox [--unread]` lists the acting user's in-app notifications; `inbox read ID` marks one.
pub fn inbox(ctx: &mut Context<'_>, inbox: Inbox) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let notifications = store.notifications();
    match inbox.command {
        None => {
            let items = notifications.inbox(&actor, inbox.unread, &inbox.page.into())?;
            let columns = [
                Column::new("ID", |n: &Notification| n.id.to_string()),
                Column::new("TIME", |n: &Notification| n.created_at.to_string()),
                Column::new("SUBJECT", |n: &Notification| n.subject.clone()),
                Column::new("READ", |n: &Notification| if n.read_at.is_some() { "yes" } else { "no" }.to_owned()),
                Column::wide("BODY", |n: &Notification| n.body.clone()),
            ];
            ctx.out.list(&items, &columns)?;
        }
        Some(InboxCommand::Read { id }) => {
            let read = notifications.mark_read(&actor, &id)?;
            ctx.out.done(&format!("Marked {} read: {}", read.id, read.subject), &read)?;
        }
    }
    Ok(())
}

/// Saves a template from its files. The subject, and the HTML part unless `--html-file` or
/// `--no-html` says otherwise, stay the existing template's; a new one needs `--subject`.
fn set_template(
    ctx: &mut Context<'_>,
    notifications: &Notifications<'_>,
    actor: &Actor,
    set: TemplateSet,
) -> Result<(), Failure> {
    let name = set.name.trim().to_ascii_lowercase();
    let existing = notifications.templates(actor)?.into_iter().find(|t| t.name == name && t.channel == set.channel);
    let subject = match (set.subject, &existing) {
        (Some(subject), _) => subject,
        (None, Some(existing)) => existing.subject.clone(),
        (None, None) => {
            let reason = format!("{name} ({}) is a new template: give it a --subject", set.channel);
            return Err(Error::invalid("subject", reason).into());
        }
    };
    let body = read(&set.body_file, "body")?;
    let html = match (&set.html_file, set.no_html) {
        (Some(path), _) => Some(read(path, "HTML")?),
        (None, true) => None,
        (None, false) => existing.and_then(|t| t.html),
    };
    let saved = notifications.set_template(actor, &set.name, set.channel, &subject, &body, html.as_deref()).map_err(
        |e| match e {
            // Name the file a part that does not parse came from.
            Error::Invalid { field, reason } => {
                let file = match field.as_str() {
                    "body" => Some(&set.body_file),
                    "html" => set.html_file.as_ref(),
                    _ => None,
                };
                let field = file.map_or_else(|| field.clone(), |f| format!("{field} in {}", f.display()));
                Error::Invalid { field, reason }
            }
            other => other,
        },
    )?;
    let message = format!("Saved template {} ({}): {:?}.", saved.name, saved.channel, saved.subject);
    Ok(ctx.out.done(&message, &saved)?)
}

/// The most a template file may hold.
const TEMPLATE_LIMIT: u64 = 1 << 20;

fn read(path: &Path, part: &str) -> Result<String, Failure> {
    crate::input::file(path, &format!("{part} file"), TEMPLATE_LIMIT)
}

fn template_columns() -> Vec<Column<'static, Template>> {
    vec![
        Column::new("NAME", |t: &Template| t.name.clone()),
        Column::new("CHANNEL", |t: &Template| t.channel.to_string()),
        Column::new("SUBJECT", |t: &Template| t.subject.clone()),
        Column::wide("UPDATED_AT", |t: &Template| t.updated_at.to_string()),
        Column::wide("BODY", |t: &Template| t.body.clone()),
        Column::wide("HTML", |t: &Template| t.html.clone().unwrap_or_default()),
    ]
}

/// The columns of an endpoint's breaker: the endpoint first (what `--quiet` lists).
fn endpoint_columns() -> Vec<Column<'static, Endpoint>> {
    vec![
        Column::new("ENDPOINT", |e: &Endpoint| e.endpoint.clone()),
        Column::new("STATE", |e: &Endpoint| e.state.to_owned()),
        Column::new("FAILURES", |e: &Endpoint| e.failures.to_string()),
        Column::new("OPEN_UNTIL", |e: &Endpoint| e.open_until.map(|t| t.to_string()).unwrap_or_default()),
        Column::wide("UPDATED_AT", |e: &Endpoint| e.updated_at.to_string()),
    ]
}

/// The columns of a notification: the id first (what `--quiet` lists).
fn notification_columns() -> Vec<Column<'static, Notification>> {
    let time = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
    vec![
        Column::new("ID", |n: &Notification| n.id.to_string()),
        Column::new("CREATED", |n: &Notification| n.created_at.to_string()),
        Column::new("CHANNEL", |n: &Notification| n.channel.to_string()),
        Column::new("TO", |n: &Notification| n.to.clone()),
        Column::new("STATUS", |n: &Notification| n.status.as_str().to_owned()),
        Column::new("ATTEMPTS", |n: &Notification| n.attempts.to_string()),
        Column::new("SUBJECT", |n: &Notification| n.subject.clone()),
        Column::wide("TEMPLATE", |n: &Notification| n.template.clone()),
        Column::wide("LAST_ERROR", |n: &Notification| n.last_error.clone().unwrap_or_default()),
        Column::wide("NEXT_ATTEMPT_AT", |n: &Notification| n.next_attempt_at.to_string()),
        Column::wide("READ_AT", move |n: &Notification| time(n.read_at)),
        Column::wide("EVENT_SEQ", |n: &Notification| n.event_seq.map(|s| s.to_string()).unwrap_or_default()),
        Column::wide("BODY", |n: &Notification| n.body.clone()),
        Column::wide("UPDATED_AT", |n: &Notification| n.updated_at.to_string()),
    ]
}
