//! `webhook add|list|remove`: webhook subscriptions, whose signing secret is shown only at
//! creation.

use stockyard_core::{
    EventType, Page,
    notifications::webhooks::{CreatedWebhook, Webhook},
};

use super::Context;
use crate::{
    cli::{WebhookAdd, WebhookCommand},
    exit::Failure,
    input,
    output::Column,
};

pub fn run(ctx: &mut Context<'_>, command: WebhookCommand) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let notifications = store.notifications();
    match command {
        WebhookCommand::Add(WebhookAdd { url, events, secret_stdin }) => {
            let secret = if secret_stdin { Some(input::secret_from_stdin("webhook secret")?) } else { None };
            let created = notifications.add_webhook(&actor, &url, &events, secret.as_deref())?;
            let mut columns = columns(|c: &CreatedWebhook| &c.webhook);
            columns.push(Column::new("SECRET", |c: &CreatedWebhook| c.secret.clone()));
            ctx.out.one(&created, &columns)?;
            ctx.out.note("The secret is shown only this once: store it now to verify X-Stockyard-Signature.")?;
        }
        WebhookCommand::List => {
            let items = notifications.webhooks(&actor)?;
            ctx.out.list(&Page { items, next_cursor: None }, &columns(|w: &Webhook| w))?;
        }
        WebhookCommand::Remove { id } => {
            let removed = notifications.remove_webhook(&actor, &id)?;
            let message = format!("Removed webhook {} ({}): nothing more is sent to it.", removed.id, removed.url);
            ctx.out.done(&message, &removed)?;
        }
    }
    Ok(())
}

/// The columns of the webhook inside `T`: the id first (what `--quiet` lists).
fn columns<T: 'static>(webhook: fn(&T) -> &Webhook) -> Vec<Column<'static, T>> {
    let events = |w: &Webhook| w.events.iter().map(EventType::as_str).collect::<Vec<_>>().join(",");
    vec![
        Column::new("ID", move |t: &T| webhook(t).id.to_string()),
        Column::new("URL", move |t: &T| webhook(t).url.clone()),
        Column::new("EVENTS", move |t: &T| events(webhook(t))),
        Column::new("ACTIVE", move |t: &T| if webhook(t).active { "yes" } else { "no" }.to_owned()),
        Column::wide("CREATED_AT", move |t: &T| webhook(t).created_at.to_string()),
    ]
}
