//! A circuit breaker per endpoint (the SMTP server, each webhook host): after repeated
//! failures in a row it opens and the endpoint rests — its notifications wait, everyone
//! else's keep flowing — until a cool-down has passed; then a single attempt is the probe
//! that closes it again or re-opens it.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::Notifications;
use crate::{
    Action, Actor, Result,
    db::{Row, Tx, params},
};

/// Failures in a row that open a breaker.
pub const THRESHOLD: i64 = 5;

/// An endpoint's breaker as shown (`notify endpoints`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    pub endpoint: String,
    /// `closed` (sending), `open` (resting) or `half_open` (rested: the next attempt probes).
    pub state: &'static str,
    pub failures: i64,
    #[serde(serialize_with = "crate::clock::wire_opt")]
    pub open_until: Option<Timestamp>,
    #[serde(serialize_with = "crate::clock::wire")]
    pub updated_at: Timestamp,
}

impl Notifications<'_> {
    /// Every endpoint's breaker.
    pub fn endpoints(&self, actor: &Actor) -> Result<Vec<Endpoint>> {
        actor.authorize(Action::NotifyRead)?;
        let now = self.store.now();
        self.store.pool.read(|tx| {
            let rows = tx.query(
                "SELECT endpoint, state, failures, open_until, updated_at FROM endpoint_breakers ORDER BY endpoint",
                &[],
            )?;
            rows.iter().map(|row| from_row(row, now)).collect()
        })
    }
}

fn from_row(row: &Row, now: Timestamp) -> Result<Endpoint> {
    let state: String = row.get(1)?;
    let open_until: Option<Timestamp> = row.get(3)?;
    let state = match (state.as_str(), open_until) {
        ("open", Some(until)) if until <= now => "half_open",
        ("open", _) => "open",
        _ => "closed",
    };
    Ok(Endpoint { endpoint: row.get(0)?, state, failures: row.get(2)?, open_until, updated_at: row.get(4)? })
}

/// The SQL condition that leaves out notifications whose endpoint is resting, with `$n`
/// standing for now.
pub(crate) fn not_resting(now_param: usize) -> String {
    format!(
        "endpoint NOT IN (SELECT endpoint FROM endpoint_breakers WHERE state = 'open' AND open_until > ${now_param})"
    )
}

/// Endpoints that have rested long enough to be probed: each may take one attempt, and no
/// more while it is in flight.
pub(crate) fn half_open(tx: &mut Tx<'_>, now: Timestamp) -> Result<Vec<String>> {
    let rows =
        tx.query("SELECT endpoint FROM endpoint_breakers WHERE state = 'open' AND open_until <= $1", params![now])?;
    rows.iter().map(|r| r.get(0)).collect()
}

/// Counts an attempt's outcome against its endpoint: a success closes the breaker, the
/// [`THRESHOLD`]th failure in a row (or a failed probe) opens it for `cool_down`. Returns
/// whether the endpoint now rests.
pub(crate) fn record(
    tx: &mut Tx<'_>,
    endpoint: &str,
    ok: bool,
    cool_down: SignedDuration,
    now: Timestamp,
) -> Result<bool> {
    if ok {
        tx.execute(
            "INSERT INTO endpoint_breakers (endpoint, state, failures, updated_at) VALUES ($1, 'closed', 0, $2)
             ON CONFLICT (endpoint) DO UPDATE SET state = 'closed', failures = 0, open_until = NULL, updated_at = $2",
            params![endpoint, now],
        )?;
        return Ok(false);
    }
    let failures: i64 = tx
        .query_one(
            "INSERT INTO endpoint_breakers (endpoint, state, failures, updated_at) VALUES ($1, 'closed', 1, $2)
             ON CONFLICT (endpoint) DO UPDATE SET failures = endpoint_breakers.failures + 1, updated_at = $2
             RETURNING failures",
            params![endpoint, now],
        )?
        .get(0)?;
    if failures >= THRESHOLD {
        let until = now.checked_add(cool_down).unwrap_or(now);
        tx.execute(
            "UPDATE endpoint_breakers SET state = 'open', open_until = $1 WHERE endpoint = $2",
            params![until, endpoint],
        )?;
    }
    Ok(failures >= THRESHOLD)
}
