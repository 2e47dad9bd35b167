//! The audit log: who changed what, when, with a before/after summary. Appended in the same
//! transaction as the change; never holds plaintext personal data. Records form a hash
//! chain ([`chain`]) that also covers the event log's, so that an edit, a deletion or a
//! reordering of either shows; [`projections`] checks the tables against what the log says.

pub mod chain;
pub mod projections;

use jiff::Timestamp;
use serde::Serialize;

use crate::{
    Action, Actor, Page, PageRequest, Result, Store,
    db::{Filter, Row},
    page,
};

/// One audit record.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    #[serde(serialize_with = "crate::clock::wire")]
    pub occurred_at: Timestamp,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    /// The hash of the record before it (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 over this record's canonical encoding and `prev_hash`.
    pub hash: String,
}

const COLUMNS: &str =
    "seq, occurred_at, actor, action, entity_type, entity_id, before, after, request_id, prev_hash, hash";

fn from_row(row: &Row) -> Result<AuditRecord> {
    let json = |idx| -> Result<Option<serde_json::Value>> {
        let text: Option<String> = row.get(idx)?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| crate::Error::internal_from("audit summary", e))).transpose()
    };
    Ok(AuditRecord {
        seq: row.get(0)?,
        occurred_at: row.get(1)?,
        actor: row.get(2)?,
        action: row.get(3)?,
        entity_type: row.get(4)?,
        entity_id: row.get(5)?,
        before: json(6)?,
        after: json(7)?,
        request_id: row.get(8)?,
        prev_hash: row.get::<Option<String>>(9)?.unwrap_or_default(),
        hash: row.get::<Option<String>>(10)?.unwrap_or_default(),
    })
}

/// Read access to the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'s> {
    pub(crate) store: &'s Store,
}

impl Audit<'_> {
    /// Records in order, one page at a time, optionally only those about one entity type
    /// (`product`) or one entity (`product:ID`).
    pub fn list(&self, actor: &Actor, entity: Option<&str>, page: &PageRequest) -> Result<Page<AuditRecord>> {
        actor.authorize(Action::AuditRead)?;
        let (entity_type, entity_id) = match entity {
            Some(e) => e.split_once(':').map_or((Some(e), None), |(t, id)| (Some(t), Some(id))),
            None => (None, None),
        };
        let limit = page::limit(page.limit)?;
        let after = page::decode_seq(page.cursor.as_deref())?;
        let items = self.store.pool.read(|tx| {
            let mut filter = Filter::default();
            filter.on_key("seq > {}", after);
            // An empty part (`product:`, or nothing) filters nothing.
            filter.and_some("entity_type = {}", entity_type.filter(|t| !t.is_empty()));
            filter.and_some("entity_id = {}", entity_id.filter(|id| !id.is_empty()));
            let sql = filter.page(COLUMNS, "audit_log", "seq", "ASC", i64::from(limit) + 1);
            let rows = tx.query(&sql, filter.params())?;
            rows.iter().map(from_row).collect::<Result<Vec<_>>>()
        })?;
        Ok(page::from_rows(items, limit, |r| r.seq.to_string()))
    }
}
