//! Who hears of an event, and how: order status changes reach the customer by email; every
//! notifying event reaches the staff whose preferences ask for it (by role default or
//! their own setting), on each channel they chose — only those who may read what it is
//! about: within their warehouse scope, and for a `client` its own orders only.

use serde_json::{Value, json};

use super::{ADDRESS_INDEX, Draft, EMAIL_ENDPOINT, INBOX_ENDPOINT, templates, webhooks};
use crate::{
    Actor, Channel, Event, EventType, Result, Role, UserId,
    crypto::Keyring,
    db::{Tx, params},
    orders,
    users::preferences::{NOTIFYING, default_enabled},
};

/// The channels the dispatcher delivers today.
const CHANNELS: [Channel; 2] = [Channel::Email, Channel::InApp];

/// The notifications one event makes, rendered.
pub(crate) fn drafts(tx: &mut Tx<'_>, keyring: &Keyring, event: &Event) -> Result<Vec<Draft>> {
    let mut drafts = hooks(tx, event)?;
    if !NOTIFYING.contains(&event.event_type) || is_about_a_failed_failure(event) {
        return Ok(drafts);
    }
    let name = templates::name_of(event.event_type);
    let mut data = event.payload.clone();
    // What the event is about: where (its warehouse, or every one serving its order) and
    // whose (its order's owner). A user hears only of what it may read.
    let mut warehouses: Vec<String> =
        event.payload.get("warehouse").and_then(Value::as_str).map(str::to_owned).into_iter().collect();
    let mut owner = None;
    if let Some(order) = order_of(tx, keyring, event)? {
        warehouses.extend(order.allocations.iter().map(|a| a.warehouse.clone()));
        owner = Some(orders::records::owner_of(tx, order.id)?);
        data["tracking_number"] = json!(order.tracking_number);
        data["total"] = json!(order.total.amount());
        data["currency"] = json!(order.currency);
        data["customer"] = json!({ "name": order.customer.name });
        if event.event_type == EventType::OrderStatusChanged {
            let email = order.customer.email.clone();
            let recipient = keyring.blind_index(ADDRESS_INDEX, &email);
            drafts.extend(draft(tx, event, &name, Channel::Email, recipient, None, email, &data)?);
        }
    }
    for staff in staff(tx)? {
        let reader = Actor::user(staff.id, staff.email.clone(), staff.role, staff.scope.clone());
        let may_read =
            warehouses.iter().all(|w| reader.in_scope(w)) && owner.as_deref().is_none_or(|o| reader.may_see(o));
        if !may_read {
            continue;
        }
        for channel in CHANNELS {
            let wanted =
                staff.overrides.iter().find(|(e, c, _)| e == event.event_type.as_str() && *c == channel.as_str());
            let wanted =
                wanted.map_or_else(|| default_enabled(staff.role, event.event_type, channel), |(_, _, on)| *on);
            if wanted {
                let (id, email) = (staff.id.to_string(), staff.email.clone());
                drafts.extend(draft(tx, event, &name, channel, id, Some(staff.id), email, &data)?);
            }
        }
    }
    Ok(drafts)
}

/// The event, as JSON, for every webhook subscribed to its type.
fn hooks(tx: &mut Tx<'_>, event: &Event) -> Result<Vec<Draft>> {
    let body = serde_json::to_string(event).map_err(|e| crate::Error::internal_from("cannot encode JSON", e))?;
    Ok(webhooks::subscribed(tx, event)?
        .into_iter()
        .map(|hook| Draft {
            event_seq: Some(event.seq),
            recipient_id: hook.id.to_string(),
            user_id: None,
            channel: Channel::Webhook,
            template: templates::name_of(event.event_type),
            endpoint: webhooks::endpoint(&hook.url),
            to: hook.url,
            rendered: Ok(templates::Rendered { subject: event.event_type.to_string(), body: body.clone(), html: None }),
        })
        .collect())
}

/// A failure to deliver a failure notice notifies no one: no loop of notices.
fn is_about_a_failed_failure(event: &Event) -> bool {
    event.event_type == EventType::NotificationFailed
        && event.payload.get("template").and_then(Value::as_str) == Some("notification_failed")
}

/// The order an order event is about.
fn order_of(tx: &mut Tx<'_>, keyring: &Keyring, event: &Event) -> Result<Option<orders::Order>> {
    if event.aggregate_type != "order" {
        return Ok(None);
    }
    let system = Actor::system("notifications");
    match orders::records::find(tx, keyring, &system, &event.aggregate_id, false) {
        Ok(order) => Ok(Some(order)),
        Err(crate::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

#[allow(clippy::too_many_arguments, reason = "one draft's every part")]
fn draft(
    tx: &mut Tx<'_>,
    event: &Event,
    name: &str,
    channel: Channel,
    recipient_id: String,
    user_id: Option<UserId>,
    to: String,
    data: &Value,
) -> Result<Option<Draft>> {
    // No template for this channel: the channel is not used for this event.
    let Some(template) = templates::find(tx, name, channel)? else { return Ok(None) };
    Ok(Some(Draft {
        event_seq: Some(event.seq),
        recipient_id,
        user_id,
        channel,
        template: template.name.clone(),
        to,
        endpoint: if channel == Channel::InApp { INBOX_ENDPOINT } else { EMAIL_ENDPOINT }.into(),
        rendered: template.render(data).map_err(|e| e.to_string()),
    }))
}

/// An active user with what routing needs.
struct Staff {
    id: UserId,
    email: String,
    role: Role,
    scope: Vec<String>,
    /// (event type, channel, on) the user set.
    overrides: Vec<(String, String, bool)>,
}

fn staff(tx: &mut Tx<'_>) -> Result<Vec<Staff>> {
    let rows = tx.query("SELECT id, email, role FROM users WHERE active = $1 ORDER BY email", params![true])?;
    let mut staff = Vec::new();
    for row in rows {
        let id: UserId = row.get(0)?;
        let role: String = row.get(2)?;
        let scope = tx
            .query(
                "SELECT w.code FROM user_warehouses u JOIN warehouses w ON w.id = u.warehouse_id WHERE u.user_id = $1",
                params![id],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect::<Result<_>>()?;
        let overrides = tx
            .query("SELECT event_type, channel, enabled FROM notification_preferences WHERE user_id = $1", params![id])?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .collect::<Result<_>>()?;
        staff.push(Staff { id, email: row.get(1)?, role: role.parse()?, scope, overrides });
    }
    Ok(staff)
}
