//! Notifications: templates, one row per (event, recipient, channel) made exactly once from
//! the event log, and at-least-once delivery with backoff — by email over SMTP or into a
//! user's in-app inbox. Addresses and rendered text are sealed at rest; every attempt
//! carries the notification's id so a receiver can drop a repeat.

pub mod breakers;
pub mod dispatch;
mod egress;
mod routing;
pub mod templates;
pub mod transport;
pub mod webhooks;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;

use crate::{
    Action, Actor, Channel, Error, NotificationId, Page, PageRequest, Result, Store, UserId,
    crypto::{Keyring, rotation::context},
    db::{Filter, Row, Tx, params},
    events::EventType,
    journal::{self, Change},
    named::named,
    users,
};

named! {
    /// Where a notification stands (SPEC): `pending` (waiting, or waiting to retry) → `sent`
    /// (an attempt in flight) → `delivered` or `failed`.
    NotificationStatus, "status" {
        Pending = "pending",
        Sent = "sent",
        Delivered = "delivered",
        Failed = "failed",
    }
}

/// One notification.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// Also the delivery id every attempt carries.
    pub id: NotificationId,
    pub event_seq: Option<i64>,
    pub channel: Channel,
    pub template: String,
    /// The address (email) or, in-app, the user's email.
    pub to: String,
    pub user_id: Option<UserId>,
    /// Its circuit breaker's key: `smtp`, `inbox`, or a webhook's `scheme://host:port`.
    pub endpoint: String,
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
    pub status: NotificationStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::clock::wire")]
    pub next_attempt_at: Timestamp,
    #[serde(serialize_with = "crate::clock::wire_opt")]
    pub read_at: Option<Timestamp>,
    #[serde(serialize_with = "crate::clock::wire")]
    pub created_at: Timestamp,
    #[serde(serialize_with = "crate::clock::wire")]
    pub updated_at: Timestamp,
}

/// A notification to create: for one recipient on one channel.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub event_seq: Option<i64>,
    /// A user id, or the blind index of the address.
    pub recipient_id: String,
    pub user_id: Option<UserId>,
    pub channel: Channel,
    pub template: String,
    pub to: String,
    /// Its circuit breaker's key.
    pub endpoint: String,
    /// The rendered text, or why the template would not render: the notification is then
    /// made `failed` at once, where an operator sees it, and holds up nothing else.
    pub rendered: std::result::Result<templates::Rendered, String>,
}

/// Notification operations on a store.
#[derive(Debug, Clone, Copy)]
pub struct Notifications<'s> {
    pub(crate) store: &'s Store,
}

impl Notifications<'_> {
    /// Sends a template to an address now (ad hoc): rendered with `variables`, queued for
    /// the dispatcher.
    pub fn send(
        &self,
        actor: &Actor,
        to: &str,
        template: &str,
        variables: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Notification> {
        actor.authorize(Action::NotifySend)?;
        let to = users::parse_email(to)?;
        self.store.pool.write(|tx| {
            let keyring = self.store.sealing_keyring(tx)?;
            let found = templates::find(tx, &template.trim().to_ascii_lowercase(), Channel::Email)?;
            let template = found.ok_or_else(|| Error::not_found("template", format!("{} (email)", template.trim())))?;
            let rendered = Ok(template.render(&serde_json::Value::Object(variables.clone()))?);
            let draft = Draft {
                event_seq: None,
                recipient_id: keyring.blind_index(ADDRESS_INDEX, &to),
                user_id: None,
                channel: Channel::Email,
                template: template.name,
                to,
                endpoint: EMAIL_ENDPOINT.into(),
                rendered,
            };
            let now = self.store.now();
            let id = insert(tx, &keyring, &draft, now)?
                .ok_or_else(|| Error::internal("an ad-hoc notification was deduplicated"))?;
            record_created(tx, actor, &[(id, &draft)], ("notification", &id.to_string()), now)?;
            load(tx, &keyring, id)
        })
    }

    /// Notifications, newest first, optionally by status, one page at a time.
    pub fn list(
        &self,
        actor: &Actor,
        status: Option<&str>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Page<Notification>> {
        actor.authorize(Action::NotifyRead)?;
        let status = status.map(str::parse::<NotificationStatus>).transpose()?;
        let limit = crate::page::limit(limit)?;
        // Ids are UUIDv7, so their text order is creation order: the last one shown is the cursor.
        let before = cursor.map(crate::page::decode_cursor).transpose()?;
        let items = self.store.pool.read(|tx| {
            let keyring = self.store.keyring(tx)?;
            let mut filter = Filter::default();
            filter.and_some("status = {}", status.map(|s| s.as_str()));
            filter.and_some("id < {}", before);
            let sql = format!(
                "SELECT {COLUMNS} FROM notifications{} ORDER BY id DESC LIMIT {}",
                filter.clause(),
                filter.bind(i64::from(limit) + 1)
            );
            let rows = tx.query(&sql, filter.params())?;
            rows.iter().map(|row| from_row(&keyring, row).map(shown)).collect::<Result<Vec<_>>>()
        })?;
        Ok(crate::page::from_rows(items, limit, |n| n.id.to_string()))
    }

    /// One notification: the actor's own, or anyone's with `notify.read`.
    pub fn status(&self, actor: &Actor, id: &str) -> Result<Notification> {
        let id: NotificationId = id.trim().parse()?;
        let found = self.store.pool.read(|tx| {
            let keyring = self.store.keyring(tx)?;
            load(tx, &keyring, id)
        })?;
        if found.user_id.is_none() || found.user_id != actor.user_id() {
            actor.authorize(Action::NotifyRead)?;
        }
        Ok(shown(found))
    }

    /// The actor's in-app notifications, newest first (ids are UUIDv7), one page at a time.
    pub fn inbox(&self, actor: &Actor, unread_only: bool, page: &PageRequest) -> Result<Page<Notification>> {
        let user = actor
            .user_id()
            .ok_or_else(|| Error::invalid("user", "the inbox belongs to a user: act as one with --as"))?;
        let (limit, before) = page.bounds()?;
        let items = self.store.pool.read(|tx| {
            let keyring = self.store.keyring(tx)?;
            let mut filter = Filter::default();
            filter.and("user_id = {} AND channel = 'in_app' AND status = 'delivered'", user);
            if unread_only {
                filter.push("read_at IS NULL".into());
            }
            filter.and_some("id < {}", Some(before).filter(|b| !b.is_empty()));
            let sql = format!(
                "SELECT {COLUMNS} FROM notifications{} ORDER BY id DESC LIMIT {}",
                filter.clause(),
                filter.bind(i64::from(limit) + 1)
            );
            let rows = tx.query(&sql, filter.params())?;
            rows.iter().map(|row| from_row(&keyring, row)).collect::<Result<Vec<_>>>()
        })?;
        Ok(crate::page::from_rows(items, limit, |n| n.id.to_string()))
    }

    /// Marks one of the actor's in-app notifications read.
    pub fn mark_read(&self, actor: &Actor, id: &str) -> Result<Notification> {
        let user = actor
            .user_id()
            .ok_or_else(|| Error::invalid("user", "the inbox belongs to a user: act as one with --as"))?;
        let id: NotificationId = id.trim().parse()?;
        self.store.pool.write(|tx| {
            let keyring = self.store.keyring(tx)?;
            let now = self.store.now();
            let changed = tx.execute(
                "UPDATE notifications SET read_at = $1
                 WHERE id = $2 AND user_id = $3 AND channel = 'in_app' AND status = 'delivered' AND read_at IS NULL",
                params![now, id, user],
            )?;
            let notification = load(tx, &keyring, id)?;
            if notification.user_id != Some(user) || notification.channel != Channel::InApp {
                return Err(Error::not_found("notification", id.to_string()));
            }
            if changed == 1 {
                let key = id.to_string();
                let change = Change {
                    action: "inbox.read",
                    entity: ("notification", &key),
                    before: Some(json!({ "read_at": null })),
                    after: Some(json!({ "read_at": now })),
                    events: Vec::new(),
                };
                journal::record(tx, actor, change, now)?;
            }
            Ok(notification)
        })
    }
}

/// The endpoint (circuit breaker) of every email: the one SMTP server.
pub(crate) const EMAIL_ENDPOINT: &str = "smtp";
/// The endpoint of in-app notifications: the database itself, never resting.
pub(crate) const INBOX_ENDPOINT: &str = "inbox";

/// Blind-index context of notification addresses.
pub(crate) const ADDRESS_INDEX: &str = "notifications.address";

const COLUMNS: &str = "id, event_seq, channel, template, address, user_id, subject, body, html, status, attempts,
                       last_error, next_attempt_at, read_at, created_at, updated_at, endpoint";

fn sealed(keyring: &Keyring, id: NotificationId, field: &str, value: Option<&str>) -> Result<Option<String>> {
    value.map(|v| keyring.seal(&context("notifications", field, &id.to_string()), v.as_bytes())).transpose()
}

fn opened(keyring: &Keyring, id: NotificationId, field: &str, value: Option<String>) -> Result<Option<String>> {
    value
        .map(|v| {
            let bytes = keyring.open(&context("notifications", field, &id.to_string()), &v)?;
            String::from_utf8(bytes).map_err(|_| Error::internal(format!("notification {id}: {field} is not text")))
        })
        .transpose()
}

/// Inserts a draft unless its (event, recipient, channel) already has a row; the new id,
/// or `None` when it had.
pub(crate) fn insert(
    tx: &mut Tx<'_>,
    keyring: &Keyring,
    draft: &Draft,
    now: Timestamp,
) -> Result<Option<NotificationId>> {
    let id = NotificationId::new();
    let unrendered = templates::Rendered { subject: draft.template.clone(), body: String::new(), html: None };
    let (r, status, error) = match &draft.rendered {
        Ok(r) => (r, "pending", None),
        Err(why) => (&unrendered, "failed", Some(format!("the template does not render: {why}"))),
    };
    let inserted = tx.execute(
        "INSERT INTO notifications (id, event_seq, recipient_id, user_id, channel, template, address, subject, body, html,
                                    status, last_error, next_attempt_at, created_at, updated_at, endpoint)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $13, $14)
         ON CONFLICT (event_seq, recipient_id, channel) WHERE event_seq IS NOT NULL DO NOTHING",
        params![
            id,
            draft.event_seq,
            &draft.recipient_id,
            draft.user_id,
            draft.channel.as_str(),
            &draft.template,
            sealed(keyring, id, "address", Some(&draft.to))?,
            sealed(keyring, id, "subject", Some(&r.subject))?,
            sealed(keyring, id, "body", Some(&r.body))?,
            sealed(keyring, id, "html", r.html.as_deref())?,
            status,
            error,
            now,
            &draft.endpoint
        ],
    )?;
    Ok((inserted == 1).then_some(id))
}

/// The `…NotificationRequested` events of newly made notifications, journalled against
/// `entity`.
pub(crate) fn record_created(
    tx: &mut Tx<'_>,
    actor: &Actor,
    created: &[(NotificationId, &Draft)],
    entity: (&str, &str),
    at: Timestamp,
) -> Result<()> {
    // Webhook deliveries have no `…Requested` event of their own (SPEC names none).
    let events = created
        .iter()
        .filter_map(|(id, draft)| {
            let event = match draft.channel {
                Channel::Email => EventType::EmailNotificationRequested,
                Channel::InApp => EventType::PushNotificationRequested,
                Channel::Sms => EventType::SmsNotificationRequested,
                Channel::Webhook => return None,
            };
            let payload = json!({
                "notification_id": id, "event_seq": draft.event_seq, "channel": draft.channel,
                "template": draft.template, "recipient_id": draft.recipient_id,
            });
            Some((event, payload))
        })
        .collect::<Vec<_>>();
    let after = json!({ "notifications": created.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>() });
    let change = Change { action: "notify.create", entity, before: None, after: Some(after), events };
    journal::record(tx, actor, change, at)?;
    Ok(())
}

/// A notification as its readers see it: a webhook's URL without its credentials, query or
/// fragment, where receivers often keep a token (only `webhook.manage` sees it whole).
fn shown(mut notification: Notification) -> Notification {
    if notification.channel == Channel::Webhook
        && let Some((scheme, rest)) = notification.to.split_once("://")
    {
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        notification.to = format!("{scheme}://{host}{path}");
    }
    notification
}

pub(crate) fn load(tx: &mut Tx<'_>, keyring: &Keyring, id: NotificationId) -> Result<Notification> {
    let row = tx
        .query_opt(&format!("SELECT {COLUMNS} FROM notifications WHERE id = $1"), params![id])?
        .ok_or_else(|| Error::not_found("notification", id.to_string()))?;
    from_row(keyring, &row)
}

fn from_row(keyring: &Keyring, row: &Row) -> Result<Notification> {
    let id: NotificationId = row.get(0)?;
    let (channel, status): (String, String) = (row.get(2)?, row.get(9)?);
    Ok(Notification {
        id,
        event_seq: row.get(1)?,
        channel: channel.parse()?,
        template: row.get(3)?,
        to: opened(keyring, id, "address", row.get(4)?)?.unwrap_or_default(),
        user_id: row.get(5)?,
        subject: opened(keyring, id, "subject", row.get(6)?)?.unwrap_or_default(),
        body: opened(keyring, id, "body", row.get(7)?)?.unwrap_or_default(),
        html: opened(keyring, id, "html", row.get(8)?)?,
        status: status.parse()?,
        attempts: row.get(10)?,
        last_error: row.get(11)?,
        next_attempt_at: row.get(12)?,
        read_at: row.get(13)?,
        created_at: row.get(14)?,
        updated_at: row.get(15)?,
        endpoint: row.get(16)?,
    })
}
