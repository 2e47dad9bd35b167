//! Notification preferences: per user, per event type, per channel, on or off. What a user
//! never set follows the defaults of their role, kept in one table here.

use serde::Serialize;

use super::{Account, Users, own_or_managed};
use crate::{
    Actor, Error, EventType, Result,
    auth::{Action, Role},
    db::{Tx, params},
    journal::{self, Change},
    named::named,
};

named! {
    /// How a notification reaches someone.
    Channel, "channel" {
        Email = "email",
        InApp = "in_app",
        Webhook = "webhook",
        Sms = "sms",
    }
}

/// The event types that notify users.
pub const NOTIFYING: &[EventType] = &[
    EventType::InventoryThresholdReached,
    EventType::OrderCreated,
    EventType::OrderStatusChanged,
    EventType::OrderPaymentReceived,
    EventType::OrderCancelled,
    EventType::OrderFulfilled,
    EventType::NotificationFailed,
];

/// The defaults by role: who hears of what, and how.
pub fn default_enabled(role: Role, event: EventType, channel: Channel) -> bool {
    use Channel::{Email, InApp};
    use Role::{Admin, Manager, Sales, Warehouse};
    match event {
        // Low stock: the people who restock.
        EventType::InventoryThresholdReached => match role {
            Warehouse | Manager => matches!(channel, InApp | Email),
            Admin => channel == InApp,
            _ => false,
        },
        // Orders: the people who sell and run them, in the app.
        EventType::OrderCreated
        | EventType::OrderStatusChanged
        | EventType::OrderPaymentReceived
        | EventType::OrderCancelled
        | EventType::OrderFulfilled => matches!(role, Sales | Manager) && channel == InApp,
        // Deliveries that failed for good: whoever runs the system.
        EventType::NotificationFailed => role == Admin && matches!(channel, InApp | Email),
        _ => false,
    }
}

/// One preference as it applies, and whether the user set it or it is the role's default.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preference {
    pub event_type: EventType,
    pub channel: Channel,
    pub enabled: bool,
    /// `default` (from the role) or `set` (by the user or an admin).
    pub source: &'static str,
}

impl Users<'_> {
    /// Every preference of a user (by email or id) — each notifying event type × channel.
    pub fn preferences(&self, actor: &Actor, user: &str) -> Result<Vec<Preference>> {
        actor.authorize(Action::UserPrefs)?;
        self.store.pool.read(|tx| {
            let account = own_or_managed(tx, actor, user)?;
            effective(tx, &account)
        })
    }

    /// Turns channels on or off for one event type of a user (by email or id); returns
    /// every preference after.
    pub fn set_preferences(
        &self,
        actor: &Actor,
        user: &str,
        event: &str,
        channels: &[(Channel, bool)],
    ) -> Result<Vec<Preference>> {
        actor.authorize(Action::UserPrefs)?;
        let event: EventType = event.trim().parse()?;
        if !NOTIFYING.contains(&event) {
            let names: Vec<_> = NOTIFYING.iter().map(EventType::as_str).collect();
            return Err(Error::invalid("event", format!("{event} does not notify; these do: {}", names.join(", "))));
        }
        if channels.is_empty() {
            return Err(Error::invalid("channel", "name at least one CHANNEL=on|off"));
        }
        self.store.pool.write(|tx| {
            let account = own_or_managed(tx, actor, user)?;
            let before = effective(tx, &account)?;
            for (channel, enabled) in channels {
                tx.execute(
                    "INSERT INTO notification_preferences (user_id, event_type, channel, enabled) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (user_id, event_type, channel) DO UPDATE SET enabled = excluded.enabled",
                    params![account.user.id, event.as_str(), channel.as_str(), *enabled],
                )?;
            }
            let after = effective(tx, &account)?;
            let id = account.user.id.to_string();
            let pick = |prefs: &[Preference]| {
                let picked: Vec<_> = prefs.iter().filter(|p| p.event_type == event).collect();
                serde_json::json!(picked)
            };
            let change = Change {
                action: "user.prefs",
                entity: ("user", &id),
                before: Some(pick(&before)),
                after: Some(pick(&after)),
                events: Vec::new(),
            };
            journal::record(tx, actor, change, self.store.now())?;
            Ok(after)
        })
    }
}

fn effective(tx: &mut Tx<'_>, account: &Account) -> Result<Vec<Preference>> {
    let rows = tx.query(
        "SELECT event_type, channel, enabled FROM notification_preferences WHERE user_id = $1",
        params![account.user.id],
    )?;
    let set = rows
        .iter()
        .map(|row| Ok((row.get::<String>(0)?, row.get::<String>(1)?, row.get::<bool>(2)?)))
        .collect::<Result<Vec<_>>>()?;
    let mut prefs = Vec::new();
    for event in NOTIFYING {
        for &channel in Channel::ALL {
            let chosen = set.iter().find(|(e, c, _)| e == event.as_str() && c == channel.as_str());
            prefs.push(match chosen {
                Some((_, _, enabled)) => Preference { event_type: *event, channel, enabled: *enabled, source: "set" },
                None => Preference {
                    event_type: *event,
                    channel,
                    enabled: default_enabled(account.user.role, *event, channel),
                    source: "default",
                },
            });
        }
    }
    Ok(prefs)
}
