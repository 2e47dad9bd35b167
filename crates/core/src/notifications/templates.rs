//! Notification templates: one per (name, channel), in minijinja, stored in the database.
//! Names are event types in snake case. A template that does not parse is refused with its
//! line and reason; rendering with a variable the data lacks is an error, never a blank.

use jiff::Timestamp;
use minijinja::{Environment, UndefinedBehavior, value::Serde};
use serde::Serialize;
use serde_json::{Value, json};

use super::Notifications;
use crate::{
    Action, Actor, Channel, Error, EventType, Result,
    db::{Row, Tx, params},
    journal::{self, Change},
};

/// A stored template.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Template {
    pub name: String,
    pub channel: Channel,
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
    #[serde(serialize_with = "crate::clock::wire")]
    pub updated_at: Timestamp,
}

/// A template's text rendered for one notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
    pub html: Option<String>,
}

/// The template name of an event type: `OrderStatusChanged` → `order_status_changed`.
pub fn name_of(event: EventType) -> String {
    let mut name = String::new();
    for (i, c) in event.as_str().chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_lowercase());
    }
    name
}

/// The defaults `init` installs: (event, channel, subject, body).
const DEFAULTS: &[(EventType, Channel, &str, &str)] = &[
    (
        EventType::OrderStatusChanged,
        Channel::Email,
        "Your order {{ number }} is {{ to }}",
        "Hello,\n\nyour order {{ number }} is now {{ to }}.{% if tracking_number %}\nTracking number: {{ tracking_number }}{% endif %}\n\nThank you for shopping with us.\n",
    ),
    (
        EventType::OrderStatusChanged,
        Channel::InApp,
        "Order {{ number }}: {{ from }} → {{ to }}",
        "Order {{ number }} went from {{ from }} to {{ to }}.",
    ),
    (
        EventType::OrderCreated,
        Channel::InApp,
        "New order {{ number }}",
        "Order {{ number }} was placed: {{ total }} {{ currency }}.",
    ),
    (
        EventType::OrderPaymentReceived,
        Channel::InApp,
        "Payment for order {{ number }}",
        "{{ amount }} {{ currency }} received; {{ paid }} of {{ total }} paid.",
    ),
    (
        EventType::OrderCancelled,
        Channel::InApp,
        "Order {{ number }} cancelled",
        "Order {{ number }} was cancelled{% if reason %}: {{ reason }}{% endif %}.",
    ),
    (EventType::OrderFulfilled, Channel::InApp, "Order {{ number }} delivered", "Order {{ number }} was delivered."),
    (
        EventType::InventoryThresholdReached,
        Channel::Email,
        "Low stock: {{ sku }} at {{ warehouse }}",
        "{{ sku }} at {{ warehouse }} is down to {{ available }} available (reorder point {{ reorder_point }}).\nSuggested order: {{ suggested_qty }}.\n",
    ),
    (
        EventType::InventoryThresholdReached,
        Channel::InApp,
        "Low stock: {{ sku }} at {{ warehouse }}",
        "{{ available }} available, reorder point {{ reorder_point }}; order {{ suggested_qty }}.",
    ),
    (
        EventType::NotificationFailed,
        Channel::Email,
        "A {{ channel }} notification could not be delivered",
        "Notification {{ notification_id }} ({{ template }}) failed after {{ attempts }} attempts: {{ last_error }}\n",
    ),
    (
        EventType::NotificationFailed,
        Channel::InApp,
        "Delivery failed: {{ template }}",
        "Notification {{ notification_id }} failed after {{ attempts }} attempts: {{ last_error }}",
    ),
];

/// Sample data per template name, for `template preview` and for checking an event's
/// template when it is saved: each holds every field that event's notifications carry.
pub(crate) fn sample(name: &str) -> Value {
    match name {
        "inventory_threshold_reached" => json!({
            "product_id": "0192f0c4-0000-7000-8000-000000000001", "sku": "MUG-01", "warehouse": "MAIN",
            "warehouse_id": "0192f0c4-0000-7000-8000-000000000002", "on_hand": 4, "reserved": 1, "available": 3,
            "reorder_point": 5, "reorder_qty": 20, "suggested_qty": 22,
        }),
        "notification_failed" => json!({
            "notification_id": "0192f0c4-0000-7000-8000-000000000000", "channel": "email",
            "template": "order_status_changed", "attempts": 8, "last_error": "connection refused",
        }),
        _ => json!({
            "order_id": "0192f0c4-0000-7000-8000-000000000000", "number": 1042, "from": "paid", "to": "shipped",
            "tracking_number": "1Z999", "total": "42.50", "paid": "42.50", "amount": "42.50", "currency": "USD",
            "reason": "customer asked", "note": null, "refund_due": false, "reference": "card",
            "customer": { "name": "Jane" },
        }),
    }
}

/// The most characters a template's body (or its HTML) may hold: far more than any
/// notification needs, far less than would weigh on every send.
const TEMPLATE_LIMIT: usize = 64 * 1024;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env
}

/// Refuses text that does not parse, naming the part, the line and the reason.
fn check(part: &str, source: &str) -> Result<()> {
    environment().template_from_str(source).map(drop).map_err(|e| {
        Error::invalid(part, format!("line {}: {}", e.line().unwrap_or(1), e.detail().unwrap_or("does not parse")))
    })
}

fn render_part(part: &str, source: &str, data: &Value) -> Result<String> {
    let env = environment();
    let template = env.template_from_str(source).map_err(|e| Error::invalid(part, e.to_string()))?;
    template.render(Serde(data)).map_err(|e| {
        Error::invalid(part, format!("line {}: {}", e.line().unwrap_or(1), e.detail().unwrap_or("cannot render")))
    })
}

impl Template {
    /// The template filled with `data`; a missing variable is an error naming it.
    pub fn render(&self, data: &Value) -> Result<Rendered> {
        Ok(Rendered {
            subject: render_part("subject", &self.subject, data)?,
            body: render_part("body", &self.body, data)?,
            html: self.html.as_deref().map(|h| render_part("html", h, data)).transpose()?,
        })
    }
}

const COLUMNS: &str = "name, channel, subject, body, html, updated_at";

fn from_row(row: &Row) -> Result<Template> {
    let channel: String = row.get(1)?;
    Ok(Template {
        name: row.get(0)?,
        channel: channel.parse()?,
        subject: row.get(2)?,
        body: row.get(3)?,
        html: row.get(4)?,
        updated_at: row.get(5)?,
    })
}

pub(crate) fn find(tx: &mut Tx<'_>, name: &str, channel: Channel) -> Result<Option<Template>> {
    tx.query_opt(
        &format!("SELECT {COLUMNS} FROM notification_templates WHERE name = $1 AND channel = $2"),
        params![name, channel.as_str()],
    )?
    .map(|row| from_row(&row))
    .transpose()
}

/// Installs the default templates that are missing (`init`); returns how many.
pub(crate) fn install_defaults(tx: &mut Tx<'_>, now: Timestamp) -> Result<usize> {
    let mut installed = 0;
    for (event, channel, subject, body) in DEFAULTS {
        installed += tx.execute(
            "INSERT INTO notification_templates (name, channel, subject, body, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (name, channel) DO NOTHING",
            params![name_of(*event), channel.as_str(), *subject, *body, now],
        )? as usize;
    }
    Ok(installed)
}

impl Notifications<'_> {
    /// Every template, by name and channel.
    pub fn templates(&self, actor: &Actor) -> Result<Vec<Template>> {
        actor.authorize(Action::NotifyTemplates)?;
        self.store.pool.read(|tx| {
            let rows =
                tx.query(&format!("SELECT {COLUMNS} FROM notification_templates ORDER BY name, channel"), &[])?;
            rows.iter().map(from_row).collect()
        })
    }

    /// Saves a template (creating or replacing it) once every part parses.
    pub fn set_template(
        &self,
        actor: &Actor,
        name: &str,
        channel: Channel,
        subject: &str,
        body: &str,
        html: Option<&str>,
    ) -> Result<Template> {
        actor.authorize(Action::NotifyTemplates)?;
        let name = crate::validate::code("name", name, 64, "_")?.to_ascii_lowercase();
        // A subject is one line (an email header).
        crate::validate::line("subject", subject, 500)?;
        check("subject", subject)?;
        for (part, text) in [("body", Some(body)), ("html", html)] {
            if let Some(text) = text {
                crate::validate::text(part, text, TEMPLATE_LIMIT)?;
                check(part, text)?;
            }
        }
        let template = Template {
            name,
            channel,
            subject: subject.to_owned(),
            body: body.to_owned(),
            html: html.map(str::to_owned),
            updated_at: self.store.now(),
        };
        // An event's template must render what that event carries: try it on sample data.
        if EventType::ALL.iter().any(|e| name_of(*e) == template.name) {
            template.render(&sample(&template.name))?;
        }
        self.store.pool.write(|tx| {
            let before = find(tx, &template.name, channel)?;
            tx.execute(
                "INSERT INTO notification_templates (name, channel, subject, body, html, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (name, channel) DO UPDATE
                 SET subject = excluded.subject, body = excluded.body, html = excluded.html, updated_at = excluded.updated_at",
                params![&template.name, channel.as_str(), subject, body, template.html.clone(), template.updated_at],
            )?;
            let key = format!("{}/{}", template.name, channel);
            let change = Change {
                action: Action::NotifyTemplates.as_str(),
                entity: ("notification_template", &key),
                before: before.map(|t| json!(t)),
                after: Some(json!(template)),
                events: Vec::new(),
            };
            journal::record(tx, actor, change, template.updated_at)?;
            Ok(template.clone())
        })
    }

    /// A template rendered against sample data (`template preview`).
    pub fn preview(&self, actor: &Actor, name: &str, channel: Channel) -> Result<Rendered> {
        actor.authorize(Action::NotifyTemplates)?;
        let template = self
            .store
            .pool
            .read(|tx| find(tx, &name.trim().to_ascii_lowercase(), channel))?
            .ok_or_else(|| Error::not_found("template", format!("{name} ({channel})")))?;
        template.render(&sample(&template.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_event_types() {
        assert_eq!(name_of(EventType::OrderStatusChanged), "order_status_changed");
        assert_eq!(name_of(EventType::InventoryThresholdReached), "inventory_threshold_reached");
    }

    #[test]
    fn every_default_renders_its_sample() {
        for (event, channel, subject, body) in DEFAULTS {
            let template = Template {
                name: name_of(*event),
                channel: *channel,
                subject: (*subject).into(),
                body: (*body).into(),
                html: None,
                updated_at: Timestamp::UNIX_EPOCH,
            };
            template.render(&sample(&template.name)).unwrap_or_else(|e| panic!("{}: {e}", template.name));
        }
    }

    #[test]
    fn syntax_errors_name_the_line_and_missing_variables_fail() {
        let err = check("body", "Hello\n{{ name ").map_err(|e| e.to_string()).expect_err("unclosed");
        assert!(err.starts_with("invalid body: line 2"), "{err}");
        let template = Template {
            name: "x".into(),
            channel: Channel::Email,
            subject: "Hi {{ name }}".into(),
            body: "-".into(),
            html: None,
            updated_at: Timestamp::UNIX_EPOCH,
        };
        let err = template.render(&json!({})).map_err(|e| e.to_string()).expect_err("missing");
        assert!(err.contains("subject") && err.contains("undefined"), "{err}");
    }
}
