//! The hash chains of the audit log and the event log. Each event stores a SHA-256 over its
//! fields and the hash of the event before it; each audit record stores the hash of the
//! record before it and a SHA-256 over itself, that hash and the event head it saw (the
//! last event's seq and hash). So the audit chain covers the event chain: an event edited,
//! deleted or moved breaks its own chain, and re-hashing the events after it breaks the
//! audit records that cover them. The heads (last audit record, last event) are kept in one
//! row; comparing each chain's end with it finds a cut-off tail, and an audit record that
//! names an earlier event head than the log's end finds a tail of audit records cut off
//! with the head rewound. A wiped log is found only against an [`Anchor`] kept elsewhere.

use std::str::FromStr;

use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Audit;
use crate::{
    Action, Actor, Error, Result,
    db::{Pool, Row, Tx, params},
    journal::{self, Change},
};

/// The `prev_hash` of the first record, and of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Rows read per query while walking a chain.
const BATCH: i64 = 10_000;

fn sha256_hex(canonical: &serde_json::Value) -> String {
    Sha256::digest(canonical.to_string().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// What a record's hash covers, besides the previous hash: every stored field but its seq
/// (its place shows through the links).
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    pub occurred_at: Timestamp,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// The summaries as stored (JSON text).
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: Option<String>,
    /// The event head when the record was written (none on records from before the event
    /// chain existed).
    pub events: Option<Head>,
}

impl Fields {
    /// Hex SHA-256 of the canonical encoding: a JSON array of the fields in a fixed order,
    /// then `prev_hash`, then the event head's seq and hash when there is one.
    pub fn hash(&self, prev_hash: &str) -> String {
        let mut canonical = serde_json::json!([
            self.occurred_at.to_string(),
            self.actor,
            self.action,
            self.entity_type,
            self.entity_id,
            self.before,
            self.after,
            self.request_id,
            prev_hash,
        ]);
        if let (Some(events), Some(array)) = (&self.events, canonical.as_array_mut()) {
            array.extend([events.seq.into(), events.hash.clone().into()]);
        }
        sha256_hex(&canonical)
    }

    fn from_row(row: &Row, first: usize) -> Result<Self> {
        let event_seq: Option<i64> = row.get(first + 8)?;
        let event_hash: Option<String> = row.get(first + 9)?;
        Ok(Fields {
            occurred_at: row.get(first)?,
            actor: row.get(first + 1)?,
            action: row.get(first + 2)?,
            entity_type: row.get(first + 3)?,
            entity_id: row.get(first + 4)?,
            before: row.get(first + 5)?,
            after: row.get(first + 6)?,
            request_id: row.get(first + 7)?,
            events: event_seq.map(|seq| Head {
                seq,
                hash: if seq == 0 { GENESIS.to_owned() } else { event_hash.unwrap_or_default() },
            }),
        })
    }
}

/// Audit records with the hash of the event each one names (NULL if that event is gone).
const CHAINED: &str = "a.seq, a.prev_hash, a.hash, a.occurred_at, a.actor, a.action, a.entity_type, a.entity_id,
    a.before, a.after, a.request_id, a.event_seq, e.hash
    FROM audit_log a LEFT JOIN events e ON e.seq = a.event_seq";

/// What an event's hash covers: every stored field, its seq included (seqs are dense).
#[derive(Debug, Clone)]
pub(crate) struct EventFields<'a> {
    pub seq: i64,
    pub event_type: &'a str,
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    /// The payload as stored (JSON text).
    pub payload: &'a str,
    pub actor: &'a str,
    pub occurred_at: Timestamp,
}

impl EventFields<'_> {
    /// Hex SHA-256 of a JSON array of the fields in a fixed order, then the previous hash.
    pub fn hash(&self, prev_hash: &str) -> String {
        sha256_hex(&serde_json::json!([
            self.seq,
            self.event_type,
            self.aggregate_type,
            self.aggregate_id,
            self.payload,
            self.actor,
            self.occurred_at.to_string(),
            prev_hash,
        ]))
    }
}

const EVENTS: &str = "seq, event_type, aggregate_type, aggregate_id, payload, actor, occurred_at, hash FROM events";

/// An event row as the chain reads it, and its stored hash.
struct StoredEvent {
    seq: i64,
    fields: [String; 5],
    occurred_at: Timestamp,
    hash: Option<String>,
}

impl StoredEvent {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(StoredEvent {
            seq: row.get(0)?,
            fields: [row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?],
            occurred_at: row.get(6)?,
            hash: row.get(7)?,
        })
    }

    fn hash(&self, prev_hash: &str) -> String {
        let [event_type, aggregate_type, aggregate_id, payload, actor] = &self.fields;
        EventFields {
            seq: self.seq,
            event_type,
            aggregate_type,
            aggregate_id,
            payload,
            actor,
            occurred_at: self.occurred_at,
        }
        .hash(prev_hash)
    }
}

/// Where a chain ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

impl Head {
    fn genesis() -> Self {
        Head { seq: 0, hash: GENESIS.to_owned() }
    }
}

impl Default for Head {
    fn default() -> Self {
        Head::genesis()
    }
}

/// Where both chains end, as the head row says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Heads {
    pub audit: Head,
    pub events: Head,
}

/// The heads. Writers read them only under the journal's lock (see [`Tx::lock_journal`]),
/// so they are the last records committed.
pub(crate) fn heads(tx: &mut Tx<'_>) -> Result<Heads> {
    let row = tx
        .query_opt("SELECT seq, hash, event_seq, event_hash FROM audit_head WHERE id = 1", &[])?
        .ok_or_else(|| Error::internal("the audit chain has no head"))?;
    heads_from_row(&row)
}

/// The heads from a row whose first columns are `audit_head`'s seq, hash, event_seq and
/// event_hash.
pub(crate) fn heads_from_row(row: &Row) -> Result<Heads> {
    let (event_seq, event_hash): (Option<i64>, Option<String>) = (row.get(2)?, row.get(3)?);
    let (Some(seq), Some(hash)) = (event_seq, event_hash) else {
        return Err(Error::internal("the event chain has no head"));
    };
    Ok(Heads { audit: Head { seq: row.get(0)?, hash: row.get(1)? }, events: Head { seq, hash } })
}

pub(crate) fn move_heads(tx: &mut Tx<'_>, heads: &Heads) -> Result<()> {
    tx.execute(
        "UPDATE audit_head SET seq = $1, hash = $2, event_seq = $3, event_hash = $4 WHERE id = 1",
        params![heads.audit.seq, heads.audit.hash.as_str(), heads.events.seq, heads.events.hash.as_str()],
    )?;
    Ok(())
}

/// Chains what a store holds from before the chains existed, once, when it first opens at
/// this version: audit records when there is no head (they keep no event head), then the
/// events that have no hash yet, from the last one that has — and records that, so an
/// audit record covers them. (A head deleted later re-chains the audit records but covers
/// no event: the events show as uncovered.)
pub(crate) fn ensure(pool: &Pool, now: Timestamp) -> Result<()> {
    let ready = |tx: &mut Tx<'_>| -> Result<bool> {
        Ok(tx.query_opt("SELECT 1 FROM audit_head WHERE id = 1 AND event_seq IS NOT NULL", &[])?.is_some())
    };
    if pool.read(ready)? {
        return Ok(());
    }
    pool.bookkeep(|tx| {
        // Take the journal's lock, then check again: another process may have won.
        tx.lock_journal()?;
        if ready(tx)? {
            return Ok(());
        }
        let (events, chained) = chain_events(tx)?;
        let audit = match tx.query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])? {
            Some(row) => Head { seq: row.get(0)?, hash: row.get(1)? },
            None => chain_audit(tx)?,
        };
        tx.execute("DELETE FROM audit_head", &[])?;
        tx.execute(
            "INSERT INTO audit_head (id, seq, hash, event_seq, event_hash) VALUES (1, $1, $2, $3, $4)",
            params![audit.seq, audit.hash, events.seq, events.hash.as_str()],
        )?;
        if chained > 0 {
            let change = Change {
                action: "audit.chain",
                entity: ("events", "chain"),
                before: None,
                after: Some(serde_json::json!({ "events_chained": chained, "to_seq": events.seq })),
                events: Vec::new(),
            };
            journal::record(tx, &Actor::system("upgrade"), change, now)?;
        }
        Ok(())
    })
}

fn chain_audit(tx: &mut Tx<'_>) -> Result<Head> {
    let mut last = Head::genesis();
    loop {
        let rows =
            tx.query(&format!("SELECT {CHAINED} WHERE a.seq > $1 ORDER BY a.seq LIMIT $2"), params![last.seq, BATCH])?;
        for row in &rows {
            let seq: i64 = row.get(0)?;
            let hash = Fields::from_row(row, 3)?.hash(&last.hash);
            tx.execute(
                "UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3",
                params![last.hash.as_str(), hash.as_str(), seq],
            )?;
            last = Head { seq, hash };
        }
        if (rows.len() as i64) < BATCH {
            return Ok(last);
        }
    }
}

/// Hashes the events that have none, in order from the last one that has; returns the
/// event head and how many it hashed.
fn chain_events(tx: &mut Tx<'_>) -> Result<(Head, i64)> {
    let unhashed: Option<i64> = tx.query_one("SELECT MIN(seq) FROM events WHERE hash IS NULL", &[])?.get(0)?;
    let from = unhashed.unwrap_or(i64::MAX);
    let mut last =
        match tx.query_opt("SELECT seq, hash FROM events WHERE seq < $1 ORDER BY seq DESC LIMIT 1", params![from])? {
            Some(row) => Head { seq: row.get(0)?, hash: row.get::<Option<String>>(1)?.unwrap_or_default() },
            None => Head::genesis(),
        };
    let mut chained = 0;
    while unhashed.is_some() {
        let rows =
            tx.query(&format!("SELECT {EVENTS} WHERE seq > $1 ORDER BY seq LIMIT $2"), params![last.seq, BATCH])?;
        for row in &rows {
            let event = StoredEvent::from_row(row)?;
            let hash = event.hash(&last.hash);
            tx.execute("UPDATE events SET hash = $1 WHERE seq = $2", params![hash.as_str(), event.seq])?;
            last = Head { seq: event.seq, hash };
            chained += 1;
        }
        if (rows.len() as i64) < BATCH {
            break;
        }
    }
    Ok((last, chained))
}

/// An audit record's seq and hash, kept outside the database (`audit head` prints it) to
/// check the chain against: `SEQ:HASH`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

impl FromStr for Anchor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::invalid("anchor", format!("{s:?} is not SEQ:HASH as `stockyard audit head` prints it"));
        let (seq, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        let hash = hash.to_ascii_lowercase();
        if seq < 1 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Anchor { seq, hash })
    }
}

/// The chain's end, to keep elsewhere as an anchor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainHead {
    /// Records in the chain.
    pub length: i64,
    /// The last record's seq and hash.
    pub seq: i64,
    pub hash: String,
    /// The last event it covers.
    pub event_seq: i64,
    /// `SEQ:HASH`, as `--anchor` takes it.
    pub anchor: String,
}

/// What walking the chains found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub ok: bool,
    /// Audit records walked.
    pub records: i64,
    /// Events walked.
    pub events: i64,
    /// The heads as stored.
    pub head: Head,
    pub event_head: Head,
    /// The anchor checked, if one was given.
    pub anchor: Option<Anchor>,
    /// Commands whose records are committed but not yet sealed into the logs
    /// (PostgreSQL, for the moment after each commit; see [`UNSEALED_AFTER`]).
    pub unsealed: i64,
    /// The first thing wrong, if any.
    pub problem: Option<ChainProblem>,
}

/// How long a committed record may wait to be sealed before `verify` reports it. Its writer
/// seals it right after commit, and the sweeper (`stockyard serve`) every round, so an older
/// one means no sealer could: until one does, its events are unreadable and its chain links
/// unmade.
pub const UNSEALED_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// The first break: at an audit record (`seq`), at an event (`event_seq`), or at the end
/// (neither).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainProblem {
    pub seq: Option<i64>,
    pub event_seq: Option<i64>,
    pub reason: String,
}

impl ChainProblem {
    fn at_record(seq: i64, reason: &str) -> Self {
        ChainProblem { seq: Some(seq), event_seq: None, reason: format!("audit record {seq}: {reason}") }
    }

    fn at_event(seq: i64, reason: &str) -> Self {
        ChainProblem { seq: None, event_seq: Some(seq), reason: format!("event {seq}: {reason}") }
    }

    fn at_end(reason: String) -> Self {
        ChainProblem { seq: None, event_seq: None, reason }
    }
}

/// How far a walk got, and what stopped it.
#[derive(Default)]
struct Walk {
    count: i64,
    last: Head,
    problem: Option<ChainProblem>,
    /// The audit walk's: the last event head a record named (0: none did), and whether it
    /// passed the anchor's record.
    covered: i64,
    anchored: bool,
}

/// Walks the event chain: seqs dense from 1, each hash over the event and the one before.
fn walk_events(tx: &mut Tx<'_>) -> Result<Walk> {
    let mut walk = Walk::default();
    loop {
        let rows =
            tx.query(&format!("SELECT {EVENTS} WHERE seq > $1 ORDER BY seq LIMIT $2"), params![walk.last.seq, BATCH])?;
        for row in &rows {
            let event = StoredEvent::from_row(row)?;
            let expected = walk.last.seq + 1;
            let hash = event.hash(&walk.last.hash);
            if event.seq != expected {
                walk.problem = Some(ChainProblem::at_event(expected, "it is missing: events were deleted"));
                return Ok(walk);
            }
            if event.hash.as_deref() != Some(hash.as_str()) {
                let reason = "its content no longer matches its hash: it was edited, or events were moved here";
                walk.problem = Some(ChainProblem::at_event(event.seq, reason));
                return Ok(walk);
            }
            walk.count += 1;
            walk.last = Head { seq: event.seq, hash };
        }
        if (rows.len() as i64) < BATCH {
            return Ok(walk);
        }
    }
}

/// Walks the audit chain: each record linked to the one before, its hash over itself and
/// the event head it names, the event heads never going back; and the anchor's record, if
/// any, with the anchor's hash.
fn walk_audit(tx: &mut Tx<'_>, anchor: Option<&Anchor>) -> Result<Walk> {
    let mut walk = Walk::default();
    loop {
        let rows = tx.query(
            &format!("SELECT {CHAINED} WHERE a.seq > $1 ORDER BY a.seq LIMIT $2"),
            params![walk.last.seq, BATCH],
        )?;
        for row in &rows {
            walk.count += 1;
            let seq: i64 = row.get(0)?;
            let (prev_hash, hash): (Option<String>, Option<String>) = (row.get(1)?, row.get(2)?);
            let (prev_hash, hash) = (prev_hash.unwrap_or_default(), hash.unwrap_or_default());
            let fields = Fields::from_row(row, 3)?;
            let events = fields.events.clone();
            let problem = if prev_hash != walk.last.hash {
                Some("it does not follow the record before it: a record was deleted, inserted or moved here".to_owned())
            } else if events.as_ref().is_some_and(|e| e.seq < walk.covered) {
                Some("it names an older event head than the record before it: records were moved".to_owned())
            } else if let Some(gone) = events.as_ref().filter(|e| e.seq > 0 && e.hash.is_empty()) {
                Some(format!("the event it covers ({}) is missing: events were deleted", gone.seq))
            } else if fields.hash(&prev_hash) != hash {
                Some("its content no longer matches its hash: it, or an event it covers, was edited".to_owned())
            } else if anchor.is_some_and(|a| a.seq == seq && a.hash != hash) {
                Some("its hash is not the anchor's: the chain was rewritten".to_owned())
            } else {
                None
            };
            if let Some(reason) = problem {
                walk.problem = Some(ChainProblem::at_record(seq, &reason));
                return Ok(walk);
            }
            walk.anchored |= anchor.is_some_and(|a| a.seq == seq);
            walk.covered = events.map_or(walk.covered, |e| e.seq);
            walk.last = Head { seq, hash };
        }
        if (rows.len() as i64) < BATCH {
            return Ok(walk);
        }
    }
}

/// The first mismatch between where the walks ended and the heads, or a tail of events no
/// audit record covers, or an anchor not reached.
fn end_problem(heads: &Heads, audit: &Walk, events: &Walk, anchor: Option<&Anchor>) -> Option<String> {
    // Where a walk ended against its head: (the log, what it holds, what its head is called).
    let cut = |head: &Head, last: &Head, (log, item, head_name): (&str, &str, &str)| {
        (last != head).then(|| {
            if head.seq > last.seq {
                format!(
                    "{log} ends at {item} {} but its head says {}: {item}s at the end were deleted",
                    last.seq, head.seq
                )
            } else {
                format!("the last {item} {} is not {head_name} ({}): the end was rewritten", last.seq, head.seq)
            }
        })
    };
    let cut_off = cut(&heads.audit, &audit.last, ("the chain", "record", "the chain's head"))
        .or_else(|| cut(&heads.events, &events.last, ("the event log", "event", "the event head")));
    if cut_off.is_some() {
        return cut_off;
    }
    let last = &events.last;
    if audit.covered < last.seq {
        return Some(format!(
            "events after {} are covered by no audit record: audit records at the end were deleted and the \
             head rewound",
            audit.covered
        ));
    }
    anchor
        .filter(|_| !audit.anchored)
        .map(|a| format!("the anchor's record {} is not in the chain: the log was cut back or wiped", a.seq))
}

impl Audit<'_> {
    /// Walks both chains in one snapshot and reports the first thing that does not hold: an
    /// event or audit record edited (its hash no longer matches), deleted, inserted or
    /// moved, a tail cut off behind a head, or events no audit record covers.
    pub fn verify(&self, actor: &Actor) -> Result<ChainReport> {
        self.verify_against(actor, None)
    }

    /// [`Audit::verify`], and — given an anchor — the anchor's record there with its hash,
    /// which also finds a log wiped or rewritten whole.
    pub fn verify_against(&self, actor: &Actor, anchor: Option<&Anchor>) -> Result<ChainReport> {
        actor.authorize(Action::AuditRead)?;
        self.store.pool.read(|tx| {
            let heads = heads(tx)?;
            let events = walk_events(tx)?;
            let audit = walk_audit(tx, anchor)?;
            let (unsealed, oldest) = journal::unsealed(tx)?;
            let stale = oldest.filter(|(_, at)| self.store.now().duration_since(*at) > UNSEALED_AFTER).map(|(id, at)| {
                format!(
                    "journal record {id}, committed at {at}, is still not sealed: its events and audit record are \
                     not in the logs yet (a sealer runs after every command and in the sweeper of `stockyard serve`; if \
                     they run, the record cannot be sealed)"
                )
            });
            let problem = match (events.problem.clone(), audit.problem.clone()) {
                (Some(problem), _) | (None, Some(problem)) => Some(problem),
                (None, None) => {
                    end_problem(&heads, &audit, &events, anchor).or(stale).map(ChainProblem::at_end)
                }
            };
            Ok(ChainReport {
                ok: problem.is_none(),
                records: audit.count,
                events: events.count,
                head: heads.audit,
                event_head: heads.events,
                anchor: anchor.cloned(),
                unsealed,
                problem,
            })
        })
    }

    /// The chain's length and end, to keep elsewhere as an anchor.
    pub fn head(&self, actor: &Actor) -> Result<ChainHead> {
        actor.authorize(Action::AuditRead)?;
        self.store.pool.read(|tx| {
            let heads = heads(tx)?;
            let length: i64 = tx.query_one("SELECT COUNT(*) FROM audit_log", &[])?.get(0)?;
            Ok(ChainHead {
                length,
                anchor: format!("{}:{}", heads.audit.seq, heads.audit.hash),
                seq: heads.audit.seq,
                hash: heads.audit.hash,
                event_seq: heads.events.seq,
            })
        })
    }
}
