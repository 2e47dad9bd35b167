//! Numbering and chaining records, and writing them where readers find them: each event
//! gets the next seq and is chained to the one before, each audit record the next audit
//! seq and a hash covering the event head after its events, and each stock event its
//! movement row. Rows go in as one JSON array per table, so a statement's text — prepared
//! once per connection — does not depend on how many there are.

use jiff::Timestamp;
use serde_json::{Value as Json, json};

use super::Record;
use crate::{
    Result,
    audit::chain::{self, EventFields, Head, Heads},
    db::{Backend, Column, EVENTS_CHANNEL, Tx, params},
    events, inventory,
};

/// The rows a batch of records becomes, and the heads after it.
struct Sealed {
    heads: Heads,
    events: Vec<Json>,
    audit: Vec<Json>,
    movements: Vec<Json>,
}

/// Numbers and chains `records` after `heads`.
fn number(mut heads: Heads, records: &[Record]) -> Result<Sealed> {
    let mut sealed = Sealed { heads: heads.clone(), events: Vec::new(), audit: Vec::new(), movements: Vec::new() };
    for record in records {
        for (event_type, payload) in &record.events {
            let fields = EventFields {
                seq: heads.events.seq + 1,
                event_type,
                aggregate_type: &record.entity_type,
                aggregate_id: &record.entity_id,
                payload,
                actor: &record.actor,
                occurred_at: record.at,
            };
            heads.events = Head { seq: fields.seq, hash: fields.hash(&heads.events.hash) };
            sealed.events.push(json!({
                "seq": fields.seq, "event_type": event_type, "aggregate_type": record.entity_type,
                "aggregate_id": record.entity_id, "payload": payload, "actor": record.actor,
                "occurred_at": time(record.at), "hash": heads.events.hash,
                "warehouse": events::warehouse_of(event_type, payload)?,
            }));
            sealed.movements.extend(inventory::movement(
                fields.seq,
                event_type,
                payload,
                &record.actor,
                &time(record.at),
            )?);
        }
        let fields = chain::Fields {
            occurred_at: record.at,
            actor: record.actor.clone(),
            action: record.action.clone(),
            entity_type: record.entity_type.clone(),
            entity_id: record.entity_id.clone(),
            before: record.before.clone(),
            after: record.after.clone(),
            request_id: record.request_id.clone(),
            events: Some(heads.events.clone()),
        };
        let head = Head { seq: heads.audit.seq + 1, hash: fields.hash(&heads.audit.hash) };
        sealed.audit.push(json!({
            "seq": head.seq, "occurred_at": time(record.at), "actor": record.actor, "action": record.action,
            "entity_type": record.entity_type, "entity_id": record.entity_id, "before": record.before,
            "after": record.after, "request_id": record.request_id, "prev_hash": heads.audit.hash,
            "hash": head.hash, "event_seq": heads.events.seq,
        }));
        heads.audit = head;
    }
    sealed.heads = heads;
    Ok(sealed)
}

/// A time as both backends read it from JSON text.
fn time(at: Timestamp) -> String {
    format!("{at:.6}")
}

const EVENT_COLUMNS: &[(&str, Column)] = &[
    ("seq", Column::Int),
    ("event_type", Column::Text),
    ("aggregate_type", Column::Text),
    ("aggregate_id", Column::Text),
    ("payload", Column::Text),
    ("actor", Column::Text),
    ("occurred_at", Column::Time),
    ("hash", Column::Text),
    ("warehouse", Column::Text),
];

/// Beside each event, who may read it as its owner: the owner of the order or reservation
/// it is about, written in the same transaction or before.
const EVENT_OWNER: &str = "(SELECT owner FROM orders WHERE id = r.aggregate_id AND r.aggregate_type = 'order'
     UNION ALL SELECT owner FROM reservations WHERE id = r.aggregate_id AND r.aggregate_type = 'reservation')";

const AUDIT_COLUMNS: &[(&str, Column)] = &[
    ("seq", Column::Int),
    ("occurred_at", Column::Time),
    ("actor", Column::Text),
    ("action", Column::Text),
    ("entity_type", Column::Text),
    ("entity_id", Column::Text),
    ("before", Column::Text),
    ("after", Column::Text),
    ("request_id", Column::Text),
    ("prev_hash", Column::Text),
    ("hash", Column::Text),
    ("event_seq", Column::Int),
];

const MOVEMENT_COLUMNS: &[(&str, Column)] = &[
    ("event_seq", Column::Int),
    ("product_id", Column::Text),
    ("warehouse_id", Column::Text),
    ("kind", Column::Text),
    ("on_hand_delta", Column::Int),
    ("reserved_delta", Column::Int),
    ("on_hand_after", Column::Int),
    ("reserved_after", Column::Int),
    ("reason", Column::Text),
    ("reference", Column::Text),
    ("actor", Column::Text),
    ("occurred_at", Column::Time),
];

/// `INSERT INTO table` of the rows in JSON parameter `$param`.
fn insert(
    backend: Backend,
    table: &str,
    columns: &[(&str, Column)],
    extra: Option<(&str, &str)>,
    param: usize,
) -> String {
    let mut names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let mut values: Vec<String> = names.iter().map(|name| format!("r.{name}")).collect();
    if let Some((name, value)) = extra {
        names.push(name);
        values.push(value.to_owned());
    }
    format!(
        "INSERT INTO {table} ({}) SELECT {} FROM {}",
        names.join(", "),
        values.join(", "),
        backend.json_rows(param, columns)
    )
}

/// The three inserts, their rows in the parameters numbered `params`.
fn inserts(backend: Backend, [events, audit, movements]: [usize; 3]) -> [String; 3] {
    [
        insert(backend, "events", EVENT_COLUMNS, Some(("owner", EVENT_OWNER)), events),
        insert(backend, "audit_log", AUDIT_COLUMNS, None, audit),
        insert(backend, "stock_movements", MOVEMENT_COLUMNS, None, movements),
    ]
}

fn rows(rows: &[Json]) -> String {
    Json::Array(rows.to_vec()).to_string()
}

/// Numbers, chains and writes `records` after `heads`, in the writer's own transaction
/// (SQLite); returns the new heads for the caller to keep.
pub(crate) fn write(tx: &mut Tx<'_>, heads: Heads, records: &[Record]) -> Result<Heads> {
    let sealed = number(heads, records)?;
    let [events, audit, movements] = inserts(tx.backend(), [1, 1, 1]);
    for (sql, table) in [(events, &sealed.events), (audit, &sealed.audit), (movements, &sealed.movements)] {
        if !table.is_empty() {
            tx.execute(&sql, params![rows(table)])?;
        }
    }
    Ok(sealed.heads)
}

/// Numbers, chains and writes queued `records` after `heads` (PostgreSQL's sealer), and in
/// the same statement takes their queue rows (`ids`, comma-separated), moves the heads and
/// notifies listeners of the new event head.
pub(crate) fn write_queued(tx: &mut Tx<'_>, heads: Heads, records: &[Record], ids: &str) -> Result<()> {
    let sealed = number(heads, records)?;
    let [events, audit, movements] = inserts(Backend::Postgres, [1, 2, 3]);
    let heads = &sealed.heads;
    tx.query(
        &format!(
            "WITH e AS ({events}), a AS ({audit}), m AS ({movements}),
                  q AS (DELETE FROM journal_queue WHERE id = ANY (string_to_array($4, ',')::bigint[]))
             UPDATE audit_head SET seq = $5, hash = $6, event_seq = $7::bigint, event_hash = $8 WHERE id = 1
             RETURNING pg_notify($9, $7::bigint::text)::text"
        ),
        params![
            rows(&sealed.events),
            rows(&sealed.audit),
            rows(&sealed.movements),
            ids,
            heads.audit.seq,
            heads.audit.hash.as_str(),
            heads.events.seq,
            heads.events.hash.as_str(),
            EVENTS_CHANNEL
        ],
    )?;
    Ok(())
}
