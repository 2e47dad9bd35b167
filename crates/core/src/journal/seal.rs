//! Numbering and chaining records, and writing them where readers find them: each event
//! gets the next seq and is chained to the one before, each audit record the next audit
//! seq and a hash covering the event head after its events, and each stock event its
//! movement row. Each table's rows go in with one statement (see [`Backend::rows`]).

use jiff::Timestamp;
use serde_json::{Value as Json, json};

use super::Record;
use crate::{
    Result,
    audit::chain::{self, EventFields, Head, Heads},
    db::{Backend, Column, EVENTS_CHANNEL, Tx, Value, params},
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

/// A table the sealer writes: its columns, and what else goes in each row.
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Column)],
    extra: Option<(&'static str, &'static str)>,
}

const TABLES: [Table; 3] = [
    Table { name: "events", columns: EVENT_COLUMNS, extra: Some(("owner", EVENT_OWNER)) },
    Table { name: "audit_log", columns: AUDIT_COLUMNS, extra: None },
    Table { name: "stock_movements", columns: MOVEMENT_COLUMNS, extra: None },
];

impl Table {
    /// `INSERT INTO` the table of `rows`, bound from parameter `$first` on.
    fn insert(&self, backend: Backend, first: usize, rows: &[Json]) -> (String, Vec<Value>) {
        let mut names: Vec<&str> = self.columns.iter().map(|(name, _)| *name).collect();
        let mut values: Vec<String> = names.iter().map(|name| format!("r.{name}")).collect();
        if let Some((name, value)) = self.extra {
            names.push(name);
            values.push(value.to_owned());
        }
        let (source, params) = backend.rows(first, self.columns, rows);
        let sql =
            format!("INSERT INTO {} ({}) SELECT {} FROM {source}", self.name, names.join(", "), values.join(", "));
        (sql, params)
    }
}

/// Numbers, chains and writes `records` after `heads`, in the writer's own transaction
/// (SQLite); returns the new heads for the caller to keep.
pub(crate) fn write(tx: &mut Tx<'_>, heads: Heads, records: &[Record]) -> Result<Heads> {
    let sealed = number(heads, records)?;
    for (table, rows) in TABLES.iter().zip([&sealed.events, &sealed.audit, &sealed.movements]) {
        if !rows.is_empty() {
            let (sql, params) = table.insert(tx.backend(), 1, rows);
            tx.execute(&sql, &params)?;
        }
    }
    Ok(sealed.heads)
}

/// Numbers, chains and writes queued `records` after `heads` (PostgreSQL's sealer), and in
/// the same statement takes their queue rows (`ids`, comma-separated), moves the heads and
/// notifies listeners of the new event head.
pub(crate) fn write_queued(tx: &mut Tx<'_>, heads: Heads, records: &[Record], ids: &str) -> Result<()> {
    let sealed = number(heads, records)?;
    let rows = [&sealed.events, &sealed.audit, &sealed.movements];
    let mut params = Vec::new();
    let [events, audit, movements]: [String; 3] = std::array::from_fn(|i| {
        let (sql, values) = TABLES[i].insert(Backend::Postgres, params.len() + 1, rows[i]);
        params.extend(values);
        sql
    });
    let heads = &sealed.heads;
    let n = params.len();
    params.extend_from_slice(params![
        ids,
        heads.audit.seq,
        heads.audit.hash.as_str(),
        heads.events.seq,
        heads.events.hash.as_str(),
        EVENTS_CHANNEL
    ]);
    let [ids, seq, hash, event_seq, event_hash, channel] = std::array::from_fn(|i| format!("${}", n + i + 1));
    tx.query(
        &format!(
            "WITH e AS ({events}), a AS ({audit}), m AS ({movements}),
                  q AS (DELETE FROM journal_queue WHERE id = ANY (string_to_array({ids}, ',')::bigint[]))
             UPDATE audit_head SET seq = {seq}, hash = {hash}, event_seq = {event_seq}::bigint, event_hash = {event_hash}
             WHERE id = 1
             RETURNING pg_notify({channel}, {event_seq}::bigint::text)::text"
        ),
        &params,
    )?;
    Ok(())
}
