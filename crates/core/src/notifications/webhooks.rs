//! Webhook subscriptions and their deliveries: events of the subscribed types are POSTed as
//! JSON to the URL, signed (`X-Stockyard-Signature: t=UNIX_SECONDS,v1=HEX(HMAC-SHA256(secret,
//! "UNIX_SECONDS." + body))`) and carrying their delivery id (`X-Stockyard-Delivery`), so a
//! receiver can check the sender, refuse stale replays and drop repeats.

use std::{sync::OnceLock, time::Duration};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;
use sha2::Sha256;

use super::{Notifications, egress};
use crate::{
    Action, Actor, Error, EventType, Result, WebhookId, clock,
    crypto::{Keyring, rotation::context},
    db::{Row, Tx, params},
    journal::{self, Change},
};

/// How long one webhook POST may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A webhook subscription (never its secret).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<EventType>,
    pub active: bool,
    #[serde(serialize_with = "crate::clock::wire")]
    pub created_at: Timestamp,
}

/// A new subscription with its secret: shown this once.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    pub secret: String,
}

/// The `X-Stockyard-Signature` value of `body` sent at `timestamp` (Unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = keyed(secret);
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("t={timestamp},v1={}", hex(&mac.finalize().into_bytes()))
}

/// A receiver's check of a delivery: the signature is the secret's, and it was made no more
/// than `tolerance` before (or, a clock running ahead, after) `now`: an older one is a replay.
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: Timestamp,
    tolerance: Duration,
) -> std::result::Result<(), String> {
    let mut timestamp = None;
    let mut given = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => given = Some(v.to_owned()),
            _ => {}
        }
    }
    let (Some(timestamp), Some(given)) = (timestamp, given) else { return Err("malformed signature header".into()) };
    let bytes = (0..given.len() / 2)
        .map(|i| given.get(2 * i..2 * i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or("malformed signature")?;
    // Compared in constant time, by the MAC's own check.
    let mut check = keyed(secret);
    check.update(format!("{timestamp}.").as_bytes());
    check.update(body);
    check.verify_slice(&bytes).map_err(|_| "the signature does not match".to_owned())?;
    // As far either way: a clock may run a little ahead, but a signature far from now is a
    // replay, or forged in advance.
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    match now.as_second().checked_sub(timestamp) {
        Some(age) if age > tolerance => return Err(format!("signed {age} s ago: a replay")),
        Some(age) if age >= -tolerance => {}
        _ => return Err("signed at a time far from now".into()),
    }
    Ok(())
}

fn keyed(secret: &str) -> Hmac<Sha256> {
    <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Events about notifications themselves are never sent to webhooks: a delivery's own
/// events would feed it forever.
fn deliverable(event: EventType) -> bool {
    !matches!(
        event,
        EventType::EmailNotificationRequested
            | EventType::SmsNotificationRequested
            | EventType::PushNotificationRequested
            | EventType::NotificationDelivered
            | EventType::NotificationFailed
    )
}

/// The endpoint a URL's circuit breaker is keyed by: `scheme://host:port`.
pub(crate) fn endpoint(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if authority.contains(':') && !authority.ends_with(']') {
        format!("{scheme}://{authority}")
    } else {
        format!("{scheme}://{authority}:{}", if scheme == "https" { 443 } else { 80 })
    }
}

impl Notifications<'_> {
    /// Subscribes a URL to event types; the secret (given, or generated) signs every
    /// delivery and is shown this once.
    pub fn add_webhook(
        &self,
        actor: &Actor,
        url: &str,
        events: &[String],
        secret: Option<&str>,
    ) -> Result<CreatedWebhook> {
        actor.authorize(Action::WebhookManage)?;
        let url = url.trim();
        if url.chars().any(char::is_whitespace) {
            return Err(Error::invalid("url", format!("{url:?} is not an http:// or https:// URL")));
        }
        egress::check(url, self.store.options.webhook_allow_private).map_err(|reason| Error::invalid("url", reason))?;
        let mut types = Vec::new();
        for name in events.iter().flat_map(|e| e.split(',')).map(str::trim).filter(|e| !e.is_empty()) {
            let event: EventType = name.parse()?;
            if !deliverable(event) {
                return Err(Error::invalid(
                    "events",
                    format!("{event} is about notifications and is not sent to webhooks"),
                ));
            }
            if !types.contains(&event) {
                types.push(event);
            }
        }
        if types.is_empty() {
            return Err(Error::invalid("events", "name at least one event type"));
        }
        let secret = match secret.map(str::trim) {
            Some(s) if s.len() < 16 => return Err(Error::invalid("secret", "is shorter than 16 characters")),
            Some(s) => s.to_owned(),
            None => {
                let mut random = [0u8; 24];
                rand::fill(&mut random);
                format!("whsec_{}", URL_SAFE_NO_PAD.encode(random))
            }
        };
        let webhook = Webhook {
            id: WebhookId::new(),
            url: url.to_owned(),
            events: types,
            active: true,
            created_at: self.store.now(),
        };
        self.store.pool.write(|tx| {
            let keyring = self.store.sealing_keyring(tx)?;
            let names: Vec<&str> = webhook.events.iter().map(EventType::as_str).collect();
            let sealed = keyring.seal(&context("webhooks", "secret", &webhook.id.to_string()), secret.as_bytes())?;
            let from_seq = tx.last_event_seq()?;
            tx.execute(
                "INSERT INTO webhooks (id, url, event_types, secret, from_seq, active, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                params![webhook.id, &webhook.url, names.join(","), sealed, from_seq, true, webhook.created_at],
            )?;
            record(tx, actor, "webhook.add", &webhook, None, webhook.created_at)
        })?;
        Ok(CreatedWebhook { webhook, secret })
    }

    pub fn webhooks(&self, actor: &Actor) -> Result<Vec<Webhook>> {
        actor.authorize(Action::WebhookManage)?;
        self.store.pool.read(|tx| {
            let rows = tx.query(&format!("SELECT {COLUMNS} FROM webhooks ORDER BY created_at, id"), &[])?;
            rows.iter().map(from_row).collect()
        })
    }

    /// Ends a subscription: nothing more is sent to it (what is queued is dropped).
    pub fn remove_webhook(&self, actor: &Actor, id: &str) -> Result<Webhook> {
        actor.authorize(Action::WebhookManage)?;
        let id: WebhookId = id.trim().parse()?;
        self.store.pool.write(|tx| {
            let now = self.store.now();
            let row = tx
                .query_opt(&format!("SELECT {COLUMNS} FROM webhooks WHERE id = $1 AND active = $2"), params![id, true])?
                .ok_or_else(|| Error::not_found("webhook", id.to_string()))?;
            let before = from_row(&row)?;
            tx.execute("UPDATE webhooks SET active = $1 WHERE id = $2", params![false, id])?;
            tx.execute(
                "UPDATE notifications SET status = 'failed', last_error = 'the webhook was removed', updated_at = $1
                 WHERE recipient_id = $2 AND channel = 'webhook' AND status = 'pending'",
                params![now, id.to_string()],
            )?;
            let after = Webhook { active: false, ..before.clone() };
            record(tx, actor, "webhook.remove", &after, Some(&before), now)?;
            Ok(after)
        })
    }
}

const COLUMNS: &str = "id, url, event_types, active, created_at";

fn from_row(row: &Row) -> Result<Webhook> {
    let names: String = row.get(2)?;
    Ok(Webhook {
        id: row.get(0)?,
        url: row.get(1)?,
        events: names.split(',').filter(|n| !n.is_empty()).map(str::parse).collect::<Result<_>>()?,
        active: row.get(3)?,
        created_at: row.get(4)?,
    })
}

/// Active subscriptions to an event's type that were made before it happened.
pub(crate) fn subscribed(tx: &mut Tx<'_>, event: &crate::Event) -> Result<Vec<Webhook>> {
    if !deliverable(event.event_type) {
        return Ok(Vec::new());
    }
    let rows = tx.query(
        &format!("SELECT {COLUMNS} FROM webhooks WHERE active = $1 AND from_seq < $2"),
        params![true, event.seq],
    )?;
    let hooks = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok(hooks.into_iter().filter(|h| h.events.contains(&event.event_type)).collect())
}

/// The secret of the webhook a notification goes to, unsealed for signing.
pub(crate) fn secret_of(tx: &mut Tx<'_>, keyring: &Keyring, notification: crate::NotificationId) -> Result<String> {
    let row = tx
        .query_opt(
            "SELECT w.id, w.secret FROM notifications n JOIN webhooks w ON w.id = n.recipient_id WHERE n.id = $1",
            params![notification],
        )?
        .ok_or_else(|| Error::not_found("webhook of notification", notification.to_string()))?;
    let (id, sealed): (String, String) = (row.get(0)?, row.get(1)?);
    let bytes = keyring.open(&context("webhooks", "secret", &id), &sealed)?;
    String::from_utf8(bytes).map_err(|_| Error::internal(format!("webhook {id}: its secret is not text")))
}

fn record(
    tx: &mut Tx<'_>,
    actor: &Actor,
    action: &'static str,
    webhook: &Webhook,
    before: Option<&Webhook>,
    at: Timestamp,
) -> Result<()> {
    let id = webhook.id.to_string();
    let change = Change {
        action,
        entity: ("webhook", &id),
        before: before.map(|b| json!(b)),
        after: Some(json!(webhook)),
        events: Vec::new(),
    };
    journal::record(tx, actor, change, at)?;
    Ok(())
}

/// One signed POST.
#[derive(Debug, Clone)]
pub struct Post {
    pub url: String,
    pub delivery_id: String,
    pub event_type: String,
    pub body: String,
    pub secret: String,
}

/// Sends webhook POSTs over HTTP(S), to the addresses [`egress`] allows.
pub struct Http {
    client: reqwest::blocking::Client,
    /// The addresses each delivery checked; `None`: any address may be called.
    guard: Option<egress::Pinned>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("guarded", &self.guard.is_some()).finish()
    }
}

impl Http {
    /// A client that calls only public addresses, unless `allow_private`.
    pub fn new(allow_private: bool) -> Result<Self> {
        // One TLS provider for the process (ring), chosen before the first client.
        static PROVIDER: OnceLock<()> = OnceLock::new();
        PROVIDER.get_or_init(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        // A redirect would lead to an unchecked address: a 3xx answer is a failure.
        let mut builder =
            reqwest::blocking::Client::builder().timeout(TIMEOUT).redirect(reqwest::redirect::Policy::none());
        let guard = (!allow_private).then(egress::Pinned::default);
        if let Some(guard) = &guard {
            // Through a proxy the proxy would choose the address: guarded clients connect
            // themselves, and only to the addresses checked.
            builder = builder.no_proxy().dns_resolver(std::sync::Arc::new(guard.clone()));
        }
        let client = builder.build().map_err(|e| Error::internal_from("cannot set up the HTTP client", e))?;
        Ok(Self { client, guard })
    }

    /// POSTs the body, signed now; a non-2xx answer, or a host the client may not call, is
    /// a failure saying why.
    pub fn post(&self, post: &Post) -> std::result::Result<(), String> {
        let url = egress::check(&post.url, true)?;
        if let Some(guard) = &self.guard {
            guard.check(&url).map_err(|reason| format!("refused: {reason}"))?;
        }
        // Signed at real time whatever the store's clock: the receiver checks the signature's
        // age against its own clock.
        let signed = signature(&post.secret, clock::wall().as_second(), post.body.as_bytes());
        let response = self
            .client
            .post(url)
            .header("Content-Type", "application/json")
            .header("X-Stockyard-Signature", signed)
            .header("X-Stockyard-Delivery", &post.delivery_id)
            .header("X-Stockyard-Event", &post.event_type)
            .body(post.body.clone())
            .send()
            .map_err(|e| e.to_string())?;
        let status = response.status();
        if status.is_success() { Ok(()) } else { Err(format!("HTTP {status}")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_age() {
        let now = Timestamp::now();
        let header = signature("a secret of some length", now.as_second(), b"{\"seq\":1}");
        assert!(verify("a secret of some length", &header, b"{\"seq\":1}", now, Duration::from_secs(300)).is_ok());
        assert!(verify("another secret entirely", &header, b"{\"seq\":1}", now, Duration::from_secs(300)).is_err());
        assert!(verify("a secret of some length", &header, b"{\"seq\":2}", now, Duration::from_secs(300)).is_err());
        let old = signature("a secret of some length", now.as_second() - 600, b"x");
        let err = verify("a secret of some length", &old, b"x", now, Duration::from_secs(300)).expect_err("replay");
        assert!(err.contains("replay"), "{err}");
    }

    #[test]
    fn endpoints_are_scheme_host_and_port() {
        assert_eq!(endpoint("https://hooks.example.com/a/b?c"), "https://hooks.example.com:443");
        assert_eq!(endpoint("http://127.0.0.1:8080/hook"), "http://127.0.0.1:8080");
        assert_eq!(endpoint("http://user:pw@host/x"), "http://host:80");
    }
}
