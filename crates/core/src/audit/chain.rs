//! The audit log's hash chain. Each record stores the hash of the record before it and a
//! SHA-256 over a canonical encoding of itself plus that hash; the head (last seq and hash)
//! is kept in its own row. Walking the chain finds the first record that was edited,
//! deleted, inserted or moved, and comparing the end with the head finds a cut-off tail.

use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Audit;
use crate::{
    Action, Actor, Error, Result,
    db::{Pool, Row, Tx, params},
};

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Records read per query while walking the chain.
const BATCH: i64 = 10_000;

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
}

impl Fields {
    /// Hex SHA-256 of the canonical encoding: a JSON array of the fields in a fixed order,
    /// then `prev_hash`.
    pub fn hash(&self, prev_hash: &str) -> String {
        let canonical = serde_json::json!([
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
        Sha256::digest(canonical.to_string().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    fn from_row(row: &Row, first: usize) -> Result<Self> {
        Ok(Fields {
            occurred_at: row.get(first)?,
            actor: row.get(first + 1)?,
            action: row.get(first + 2)?,
            entity_type: row.get(first + 3)?,
            entity_id: row.get(first + 4)?,
            before: row.get(first + 5)?,
            after: row.get(first + 6)?,
            request_id: row.get(first + 7)?,
        })
    }
}

const CHAINED: &str =
    "seq, prev_hash, hash, occurred_at, actor, action, entity_type, entity_id, before, after, request_id";

/// Where the chain ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

pub(crate) fn head(tx: &mut Tx<'_>) -> Result<Head> {
    let row = tx
        .query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?
        .ok_or_else(|| Error::Storage("the audit chain has no head".into()))?;
    Ok(Head { seq: row.get(0)?, hash: row.get(1)? })
}

pub(crate) fn move_head(tx: &mut Tx<'_>, seq: i64, hash: &str) -> Result<()> {
    tx.execute("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", params![seq, hash])?;
    Ok(())
}

/// Chains the records a store holds from before the chain existed, once, when it first
/// opens at this version.
pub(crate) fn ensure(pool: &Pool) -> Result<()> {
    if pool.read(|tx| Ok(tx.query_opt("SELECT seq FROM audit_head WHERE id = 1", &[])?.is_some()))? {
        return Ok(());
    }
    pool.write(|tx| {
        // Take the journal's append lock, then check again: another process may have won.
        tx.claim_event_seqs(0)?;
        if tx.query_opt("SELECT seq FROM audit_head WHERE id = 1", &[])?.is_some() {
            return Ok(());
        }
        let mut last = Head { seq: 0, hash: GENESIS.to_owned() };
        loop {
            let rows = tx.query(
                &format!("SELECT {CHAINED} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"),
                params![last.seq, BATCH],
            )?;
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
                break;
            }
        }
        tx.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)", params![last.seq, last.hash])?;
        Ok(())
    })
}

/// What walking the chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub ok: bool,
    /// Records walked.
    pub records: i64,
    /// The head as stored.
    pub head: Head,
    /// The first thing wrong, if any.
    pub problem: Option<ChainProblem>,
}

/// The first break in the chain: at a record (`seq`), or at the end (`seq` none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainProblem {
    pub seq: Option<i64>,
    pub reason: String,
}

impl Audit<'_> {
    /// Walks the whole chain in one snapshot and reports the first record that does not
    /// hold: edited (its hash no longer matches), or not linked to the record before it
    /// (one was deleted, inserted or moved), or a tail cut off behind the head.
    pub fn verify(&self, actor: &Actor) -> Result<ChainReport> {
        actor.authorize(Action::AuditRead)?;
        self.store.pool.read(|tx| {
            let head = head(tx)?;
            let mut last = Head { seq: 0, hash: GENESIS.to_owned() };
            let mut records = 0;
            let report = |records, problem: Option<ChainProblem>, head| ChainReport {
                ok: problem.is_none(),
                records,
                head,
                problem,
            };
            loop {
                let rows = tx.query(
                    &format!("SELECT {CHAINED} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"),
                    params![last.seq, BATCH],
                )?;
                for row in &rows {
                    records += 1;
                    let seq: i64 = row.get(0)?;
                    let (prev_hash, hash): (Option<String>, Option<String>) = (row.get(1)?, row.get(2)?);
                    let (prev_hash, hash) = (prev_hash.unwrap_or_default(), hash.unwrap_or_default());
                    let problem = if prev_hash != last.hash {
                        Some("it does not follow the record before it: a record was deleted, inserted or moved here")
                    } else if Fields::from_row(row, 3)?.hash(&prev_hash) != hash {
                        Some("its content no longer matches its hash: it was edited")
                    } else {
                        None
                    };
                    if let Some(reason) = problem {
                        let problem = ChainProblem { seq: Some(seq), reason: format!("audit record {seq}: {reason}") };
                        return Ok(report(records, Some(problem), head));
                    }
                    last = Head { seq, hash };
                }
                if (rows.len() as i64) < BATCH {
                    break;
                }
            }
            let problem = (last != head).then(|| ChainProblem {
                seq: None,
                reason: if head.seq > last.seq {
                    format!(
                        "the chain ends at record {} but its head says {}: records at the end were deleted",
                        last.seq, head.seq
                    )
                } else {
                    format!(
                        "the last record {} is not the chain's head ({}): the end was rewritten",
                        last.seq, head.seq
                    )
                },
            });
            Ok(report(records, problem, head))
        })
    }
}
