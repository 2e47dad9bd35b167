//! The dispatcher. It reads the event log after its persisted cursor and, in the same
//! transaction that moves the cursor, makes each event's notifications (exactly once: a
//! row per event, recipient and channel). Then it delivers what is due: it claims rows
//! (`sent`, attempts + 1) and commits, sends with no transaction open, and records the
//! outcome — `delivered`, or back to `pending` with exponential backoff and jitter, or
//! `failed` after the last attempt. A crash after the claim leaves the row `sent`; once its
//! lease runs out it is sent again, with the same delivery id.
//!
//! [`Dispatcher::run`] repeats that until stopped: a round as soon as new events commit
//! (the change feed wakes it), and at least every interval for the retries come due.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::json;

use super::{
    INBOX_ENDPOINT, Notification, NotificationStatus, breakers, routing,
    transport::{Email, Transport},
    webhooks::{self, Http, Post},
};
use crate::{
    Action, Actor, Channel, Error, NotificationId, Result, Store,
    db::{Tx, params},
    events::{self, EventType},
    journal::{self, Change},
    leases::Lease,
    workers::{Stop, rounds},
};

/// The cursor's name in `consumer_cursors`.
const CURSOR: &str = "notifications";
/// Events read per transaction.
const EVENT_BATCH: i64 = 200;
/// Notifications claimed per round.
const CLAIM_BATCH: i64 = 50;

/// How deliveries are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The wait after the first failure; it doubles after each further one.
    pub first_delay: SignedDuration,
    pub max_delay: SignedDuration,
    /// Attempts before a notification is `failed`.
    pub max_attempts: i64,
    /// How long a claimed (`sent`) notification may go without an outcome before it is
    /// taken for lost in a crash and sent again.
    pub lease: SignedDuration,
    /// How long an endpoint rests once its circuit breaker opens.
    pub cool_down: SignedDuration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_delay: SignedDuration::from_secs(10),
            max_delay: SignedDuration::from_hours(1),
            max_attempts: 8,
            lease: SignedDuration::from_mins(5),
            cool_down: SignedDuration::from_mins(1),
        }
    }
}

impl RetryPolicy {
    /// The wait after `attempts` failed attempts: doubling, capped, then jittered to
    /// between half and all of it so that retries of many rows spread out.
    pub fn delay(&self, attempts: i64) -> SignedDuration {
        let doublings = u32::try_from((attempts - 1).clamp(0, 30)).unwrap_or(30);
        let full =
            self.first_delay.checked_mul(1i32 << doublings.min(30)).unwrap_or(self.max_delay).min(self.max_delay);
        let jitter: f64 = 0.5 + rand::random::<f64>() / 2.0;
        SignedDuration::from_secs_f64(full.as_secs_f64() * jitter)
    }
}

/// Where a run stops as a crash would, for crash tests: the state left is what a killed
/// process leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopPoint {
    /// After the rows were made, before anything was sent.
    AfterCreating,
    /// After sending, before the outcome was recorded.
    AfterSending,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DispatchReport {
    pub events_read: u64,
    pub created: u64,
    pub delivered: u64,
    pub retrying: u64,
    pub failed: u64,
    /// Why a channel is off (e.g. no SMTP configured): its notifications wait.
    pub waiting: Vec<String>,
}

/// The notification dispatcher of a store.
///
/// Blocking, like every call of the core, and more: its webhook client runs a runtime of
/// its own, which may be neither made nor dropped on an async runtime's thread. So it holds
/// none: each run makes one at its first webhook, on the thread running it, and drops it
/// there. Make, run and drop a dispatcher on a thread of its own (or a server's
/// `spawn_blocking`), never on an async runtime's thread.
pub struct Dispatcher {
    store: Store,
    actor: Actor,
    email: Option<Box<dyn Transport>>,
    policy: RetryPolicy,
    every: Duration,
    stop: Option<StopPoint>,
    /// The lease this dispatcher holds (SQLite runs one at a time).
    lease: Option<Lease>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("email", &self.email.is_some())
            .field("policy", &self.policy)
            .field("every", &self.every)
            .finish()
    }
}

impl Dispatcher {
    /// The most time between two rounds of [`Dispatcher::run`] unless set: how late a retry
    /// that came due may go out.
    pub const EVERY: Duration = Duration::from_secs(1);

    /// A dispatcher started by `actor` (who needs `notify.run`), acting as
    /// `system:notifications`; without an email transport the email channel is off and its
    /// notifications wait.
    pub fn new(store: &Store, actor: &Actor, email: Option<Box<dyn Transport>>) -> Result<Self> {
        actor.authorize(Action::NotifyRun)?;
        let lease = match store.backend() {
            crate::Backend::Sqlite => Some(Lease::take(
                store,
                LEASE,
                "another notification dispatcher is running on this SQLite database; it allows one at a time \
                 (PostgreSQL allows several)",
            )?),
            // Several dispatchers share the work: claims skip rows another holds.
            crate::Backend::Postgres => None,
        };
        Ok(Self {
            store: store.clone(),
            actor: Actor::system("notifications"),
            email,
            policy: RetryPolicy::default(),
            every: Self::EVERY,
            stop: None,
            lease,
        })
    }

    /// Runs a round at least every `every` instead of [`Dispatcher::EVERY`].
    pub fn every(mut self, every: Duration) -> Self {
        self.every = every;
        self
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Stops the next run at `point` as a crash would (crash tests).
    pub fn stop_at(mut self, point: StopPoint) -> Self {
        self.stop = Some(point);
        self
    }

    /// Makes the notifications of every event not yet read, then delivers everything due.
    pub fn run_once(&self) -> Result<DispatchReport> {
        self.round(&mut None)
    }

    /// Runs rounds until `stop`: one as soon as events commit after the last round ended,
    /// and one every interval regardless (for retries that came due, and events committed
    /// while a round ran). Passes each round's report (or the storage
    /// failure it outlived) to `each`; returns at once when stopped, or with the first
    /// failure it does not outlive (see [`crate::workers::passes`]), such as another
    /// dispatcher having taken over a SQLite store.
    pub fn run(&self, stop: &Stop, each: impl FnMut(&Result<DispatchReport>)) -> Result<()> {
        let feed = self.store.feed();
        let mut http = None;
        let seen = std::cell::Cell::new(0);
        let round = || {
            let report = self.round(&mut http)?;
            // Taken after the round: the events it appended itself (deliveries) wake no
            // other — a webhook subscribed to them would otherwise keep it spinning.
            seen.set(feed.latest()?);
            Ok(report)
        };
        rounds(stop, self.every, round, each, || {
            feed.wait_after_or_stop(seen.get(), self.every, stop);
        })
    }

    /// One round; `http` is the webhook client, made here at the first webhook.
    fn round(&self, http: &mut Option<Http>) -> Result<DispatchReport> {
        self.renew_lease()?;
        let mut report = DispatchReport::default();
        if self.email.is_none() {
            report
                .waiting
                .push("email is off: set STOCKYARD_SMTP_URL and STOCKYARD_MAIL_FROM; emails wait until then".into());
        }
        self.fan_out(&mut report)?;
        if self.stop == Some(StopPoint::AfterCreating) {
            return Ok(report);
        }
        // Endpoints whose breaker opened during this run: what is left of a batch for them
        // goes back unsent.
        let mut resting = std::collections::BTreeSet::new();
        loop {
            let claimed = self.claim()?;
            if claimed.is_empty() {
                return Ok(report);
            }
            for (notification, secret) in claimed {
                if resting.contains(&notification.endpoint) {
                    self.release(&notification)?;
                    continue;
                }
                // Renewed before every send, which may take long: the lease stays ours.
                self.renew_lease()?;
                let outcome = match notification.channel {
                    // Delivered means stored in the inbox: the row is the inbox.
                    Channel::InApp => Ok(()),
                    Channel::Webhook => client(http, &self.store).map_err(|e| e.to_string()).and_then(|client| {
                        client.post(&Post {
                            url: notification.to.clone(),
                            delivery_id: notification.id.to_string(),
                            event_type: notification.subject.clone(),
                            body: notification.body.clone(),
                            secret: secret.unwrap_or_default(),
                        })
                    }),
                    Channel::Email | Channel::Sms => match &self.email {
                        Some(transport) => transport.send_email(&Email {
                            delivery_id: notification.id.to_string(),
                            to: notification.to.clone(),
                            subject: notification.subject.clone(),
                            body: notification.body.clone(),
                            html: notification.html.clone(),
                        }),
                        None => Err("email is off".into()),
                    },
                };
                if self.stop == Some(StopPoint::AfterSending) {
                    return Ok(report);
                }
                let (status, rests) = self.record(&notification, outcome)?;
                if rests {
                    resting.insert(notification.endpoint.clone());
                }
                match status {
                    NotificationStatus::Delivered => report.delivered += 1,
                    NotificationStatus::Failed => report.failed += 1,
                    _ => report.retrying += 1,
                }
            }
        }
    }

    /// Reads events after the cursor and makes their notifications, one transaction per
    /// batch that also moves the cursor: each event is fanned out exactly once.
    fn fan_out(&self, report: &mut DispatchReport) -> Result<()> {
        loop {
            let read = self.store.pool.bookkeep(|tx| {
                let keyring = self.store.sealing_keyring(tx)?;
                let now = self.store.now();
                let after = lock_cursor(tx, now)?;
                let batch = events::after(tx, after, None, EVENT_BATCH)?;
                // Every template is rendered and every row inserted first; the events and
                // audit records come last, because appending takes the journal's lock
                // (PostgreSQL), which every other writer waits for until this commits.
                let mut rendered = Vec::new();
                for event in &batch {
                    let drafts = routing::drafts(tx, &keyring, event)?;
                    let mut ids = Vec::new();
                    for (index, draft) in drafts.iter().enumerate() {
                        if let Some(id) = super::insert(tx, &keyring, draft, now)? {
                            ids.push((id, index));
                        }
                    }
                    if !ids.is_empty() {
                        rendered.push((event.seq, drafts, ids));
                    }
                }
                let mut created = 0;
                for (seq, drafts, ids) in &rendered {
                    let made: Vec<_> = ids.iter().map(|(id, index)| (*id, &drafts[*index])).collect();
                    super::record_created(tx, &self.actor, &made, ("event", &seq.to_string()), now)?;
                    created += made.len() as u64;
                }
                if let Some(last) = batch.last() {
                    tx.execute(
                        "INSERT INTO consumer_cursors (name, seq, updated_at) VALUES ($1, $2, $3)
                         ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at",
                        params![CURSOR, last.seq, now],
                    )?;
                }
                Ok((batch.len() as i64, created))
            })?;
            report.events_read += read.0 as u64;
            report.created += read.1;
            if read.0 < EVENT_BATCH {
                return Ok(());
            }
        }
    }

    /// Claims due notifications on the channels that are on: `sent`, one more attempt,
    /// committed before anything is sent. Rows another dispatcher holds are skipped.
    fn claim(&self) -> Result<Vec<(Notification, Option<String>)>> {
        let channels = if self.email.is_some() { "'email', 'in_app', 'webhook'" } else { "'in_app', 'webhook'" };
        self.store.pool.bookkeep(|tx| {
            let keyring = self.store.keyring(tx)?;
            let now = self.store.now();
            let lapsed = now
                .checked_sub(self.policy.lease)
                .map_err(|e| Error::internal_from("a time past the supported range", e))?;
            let probes = breakers::half_open(tx, now)?;
            // A probe already in flight: its endpoint takes no other until it is back.
            let mut probing: Vec<String> = if probes.is_empty() {
                Vec::new()
            } else {
                let rows = tx.query(
                    "SELECT DISTINCT endpoint FROM notifications WHERE status = 'sent' AND updated_at > $1",
                    params![lapsed],
                )?;
                rows.iter().map(|r| r.get(0)).collect::<Result<_>>()?
            };
            let rows = tx.query(
                &format!(
                    "SELECT id, endpoint FROM notifications
                     WHERE channel IN ({channels}) AND {}
                       AND ((status = 'pending' AND next_attempt_at <= $1) OR (status = 'sent' AND updated_at <= $2))
                     ORDER BY next_attempt_at LIMIT $3{}",
                    breakers::not_resting(1),
                    skip_locked(tx)
                ),
                params![now, lapsed, CLAIM_BATCH],
            )?;
            let mut claimed = Vec::new();
            for row in rows {
                let (id, endpoint): (NotificationId, String) = (row.get(0)?, row.get(1)?);
                if probes.contains(&endpoint) {
                    if probing.contains(&endpoint) {
                        continue;
                    }
                    probing.push(endpoint);
                }
                tx.execute(
                    "UPDATE notifications SET status = 'sent', attempts = attempts + 1, updated_at = $1 WHERE id = $2",
                    params![now, id],
                )?;
                let notification = super::load(tx, &keyring, id)?;
                let secret = match notification.channel {
                    Channel::Webhook => Some(webhooks::secret_of(tx, &keyring, id)?),
                    _ => None,
                };
                claimed.push((notification, secret));
            }
            Ok(claimed)
        })
    }

    /// Gives back a claimed notification unsent (its endpoint began to rest): the claim's
    /// attempt is not counted.
    fn release(&self, n: &Notification) -> Result<()> {
        self.store.pool.bookkeep(|tx| {
            tx.execute(
                "UPDATE notifications SET status = 'pending', attempts = attempts - 1, updated_at = $1
                 WHERE id = $2 AND status = 'sent' AND attempts = $3",
                params![self.store.now(), n.id, n.attempts],
            )?;
            Ok(())
        })
    }

    /// Records an attempt's outcome, with `NotificationDelivered` or, after the last
    /// attempt, `NotificationFailed`; also says whether its endpoint now rests.
    fn record(&self, n: &Notification, outcome: std::result::Result<(), String>) -> Result<(NotificationStatus, bool)> {
        self.store.pool.bookkeep(|tx| {
            let now = self.store.now();
            let (status, event, next) = match &outcome {
                Ok(()) => (NotificationStatus::Delivered, Some(EventType::NotificationDelivered), now),
                Err(_) if n.attempts >= self.policy.max_attempts => {
                    (NotificationStatus::Failed, Some(EventType::NotificationFailed), now)
                }
                Err(_) => {
                    let next = now
                        .checked_add(self.policy.delay(n.attempts))
                        .map_err(|e| Error::internal_from("a time past the supported range", e))?;
                    (NotificationStatus::Pending, None, next)
                }
            };
            let error = outcome.as_ref().err().map(|e| e.chars().take(500).collect::<String>());
            let rests = n.endpoint != INBOX_ENDPOINT
                && breakers::record(tx, &n.endpoint, outcome.is_ok(), self.policy.cool_down, now)?;
            // Only the claim this run holds: a row re-claimed after a lapsed lease is not ours.
            let changed = tx.execute(
                "UPDATE notifications SET status = $1, last_error = COALESCE($2, last_error), next_attempt_at = $3,
                        updated_at = $4
                 WHERE id = $5 AND status = 'sent' AND attempts = $6",
                params![status.as_str(), error.clone(), next, now, n.id, n.attempts],
            )?;
            if changed == 1
                && let Some(event) = event
            {
                let payload = json!({
                    "notification_id": n.id, "channel": n.channel, "template": n.template,
                    "attempts": n.attempts, "last_error": error.or(n.last_error.clone()),
                });
                let id = n.id.to_string();
                let change = Change {
                    action: "notify.deliver",
                    entity: ("notification", &id),
                    before: None,
                    after: Some(json!({ "status": status, "attempts": n.attempts })),
                    events: vec![(event, payload)],
                };
                journal::record(tx, &self.actor, change, now)?;
            }
            Ok((status, rests))
        })
    }
}

/// The cursor, locked until commit: dispatchers running side by side fan out each batch once.
fn lock_cursor(tx: &mut Tx<'_>, now: Timestamp) -> Result<i64> {
    tx.execute(
        "INSERT INTO consumer_cursors (name, seq, updated_at) VALUES ($1, 0, $2) ON CONFLICT (name) DO NOTHING",
        params![CURSOR, now],
    )?;
    let sql = format!("SELECT seq FROM consumer_cursors WHERE name = $1{}", tx.for_update());
    tx.query_one(&sql, params![CURSOR])?.get(0)
}

/// The name of the lease SQLite's one dispatcher holds.
const LEASE: &str = "dispatcher";

impl Dispatcher {
    fn renew_lease(&self) -> Result<()> {
        let Some(lease) = &self.lease else { return Ok(()) };
        self.store.pool.bookkeep(|tx| {
            lease.renew(
                tx,
                "this dispatcher's lease lapsed and another dispatcher took over: stopping (SQLite runs one at a time)",
            )
        })
    }
}

/// The webhook client, made on first use.
fn client<'h>(http: &'h mut Option<Http>, store: &Store) -> Result<&'h Http> {
    Ok(match http {
        Some(http) => http,
        None => http.insert(Http::new(store.options.webhook_allow_private)?),
    })
}

/// ` FOR UPDATE SKIP LOCKED` where several dispatchers may claim at once (PostgreSQL);
/// SQLite's single writer needs none.
fn skip_locked(tx: &Tx<'_>) -> &'static str {
    match tx.backend() {
        crate::Backend::Sqlite => "",
        crate::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
    }
}
