//! Numbering and chaining records, and writing them where readers find them: each event
//! gets the next seq and is chained to the one before, each audit record the next audit
//! seq and a hash covering the event head after its events, and each stock event its
//! movement row. Each table's rows go in with one statement (see `Table::insert`).

use serde_json::Value as Json;

use super::Record;
use crate::{
    Result,
    audit::chain::{self, EventFields, Head, Heads},
    db::{Backend, EVENTS_CHANNEL, Tx, Value, params},
    events, inventory,
};

/// The rows a batch of records becomes, each its columns' values in table order, and the
/// heads after it.
struct Sealed {
    heads: Heads,
    events: Vec<Vec<Value>>,
    audit: Vec<Vec<Value>>,
    movements: Vec<Vec<Value>>,
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
            sealed.events.push(
                params![
                    fields.seq,
                    event_type,
                    &record.entity_type,
                    &record.entity_id,
                    payload,
                    &record.actor,
                    record.at,
                    heads.events.hash.as_str(),
                    events::warehouse_of(event_type, payload)?
                ]
                .to_vec(),
            );
            sealed.movements.extend(inventory::movement(fields.seq, event_type, payload, &record.actor, record.at)?);
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
        sealed.audit.push(
            params![
                head.seq,
                record.at,
                &record.actor,
                &record.action,
                &record.entity_type,
                &record.entity_id,
                record.before.clone(),
                record.after.clone(),
                record.request_id.clone(),
                heads.audit.hash.as_str(),
                head.hash.as_str(),
                heads.events.seq
            ]
            .to_vec(),
        );
        heads.audit = head;
    }
    sealed.heads = heads;
    Ok(sealed)
}

/// A column's type, as PostgreSQL reads it from JSON.
#[derive(Debug, Clone, Copy)]
enum Column {
    Int,
    Text,
    Time,
}

/// SQL computing a column from a row's other columns, given the SQL of each by name.
type Computed = fn(&dyn Fn(&str) -> String) -> String;

/// A table the sealer writes: its columns, in the order of a row's values.
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Column)],
    /// One more column, computed in SQL from the row's other columns (given as SQL).
    extra: Option<(&'static str, Computed)>,
}

const TABLES: [Table; 3] = [
    Table {
        name: "events",
        columns: &[
            ("seq", Column::Int),
            ("event_type", Column::Text),
            ("aggregate_type", Column::Text),
            ("aggregate_id", Column::Text),
            ("payload", Column::Text),
            ("actor", Column::Text),
            ("occurred_at", Column::Time),
            ("hash", Column::Text),
            ("warehouse", Column::Text),
        ],
        extra: Some(("owner", owner)),
    },
    Table {
        name: "audit_log",
        columns: &[
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
        ],
        extra: None,
    },
    Table {
        name: "stock_movements",
        columns: &[
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
        ],
        extra: None,
    },
];

/// Beside each event, who may read it as its owner: the owner of the order or reservation
/// it is about, written in the same transaction or before.
fn owner(column: &dyn Fn(&str) -> String) -> String {
    let (id, kind) = (column("aggregate_id"), column("aggregate_type"));
    format!(
        "(SELECT owner FROM orders WHERE id = {id} AND {kind} = 'order'
          UNION ALL SELECT owner FROM reservations WHERE id = {id} AND {kind} = 'reservation')"
    )
}

impl Table {
    /// `INSERT INTO` the table of `rows`, bound from parameter `$first` on. SQLite takes a
    /// plain `VALUES` list (it has no round trips to save, and reads plain values fastest);
    /// PostgreSQL one JSON array, so the text — prepared once per connection — is the same
    /// whatever the number of rows.
    fn insert(&self, backend: Backend, first: usize, rows: &[Vec<Value>]) -> (String, Vec<Value>) {
        let mut names: Vec<&str> = self.columns.iter().map(|(name, _)| *name).collect();
        names.extend(self.extra.map(|(name, _)| name));
        let into = format!("INSERT INTO {} ({})", self.name, names.join(", "));
        match backend {
            Backend::Sqlite => {
                let width = self.columns.len();
                let tuples: Vec<String> = (0..rows.len())
                    .map(|row| {
                        let at = |column: usize| format!("${}", first + row * width + column);
                        let mut values: Vec<String> = (0..width).map(at).collect();
                        if let Some((_, extra)) = self.extra {
                            let position = |name: &str| self.columns.iter().position(|(n, _)| *n == name).unwrap_or(0);
                            values.push(extra(&|name| at(position(name))));
                        }
                        format!("({})", values.join(", "))
                    })
                    .collect();
                (format!("{into} VALUES {}", tuples.join(", ")), rows.concat())
            }
            Backend::Postgres => {
                let mut values: Vec<String> = self.columns.iter().map(|(name, _)| format!("r.{name}")).collect();
                values.extend(self.extra.map(|(_, extra)| extra(&|name| format!("r.{name}"))));
                let types: Vec<String> = self
                    .columns
                    .iter()
                    .map(|(name, column)| {
                        let ty = match column {
                            Column::Int => "bigint",
                            Column::Text => "text",
                            Column::Time => "timestamptz",
                        };
                        format!("{name} {ty}")
                    })
                    .collect();
                let json: Vec<Json> = rows
                    .iter()
                    .map(|row| {
                        Json::Object(
                            self.columns
                                .iter()
                                .zip(row)
                                .map(|((name, _), v)| ((*name).to_owned(), json_of(v)))
                                .collect(),
                        )
                    })
                    .collect();
                let sql = format!(
                    "{into} SELECT {} FROM jsonb_to_recordset((${first}::text)::jsonb) AS r({})",
                    values.join(", "),
                    types.join(", ")
                );
                (sql, vec![Value::Text(Json::Array(json).to_string())])
            }
        }
    }
}

/// A value as JSON for PostgreSQL to read back as its column's type.
fn json_of(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Int(i) => (*i).into(),
        Value::Text(s) => s.as_str().into(),
        Value::Bool(b) => (*b).into(),
        Value::Time(t) => format!("{t:.6}").into(),
    }
}

/// Numbers, chains and writes `records` after `heads`, in the writer's own transaction
/// (SQLite); returns the new heads for the caller to keep.
pub(crate) fn write(tx: &mut Tx<'_>, heads: Heads, records: &[Record]) -> Result<Heads> {
    let sealed = number(heads, records)?;
    for (table, rows) in TABLES.iter().zip([&sealed.events, &sealed.audit, &sealed.movements]) {
        // A bulk load's records may pass the most parameters a statement binds.
        for chunk in rows.chunks(tx.backend().rows_per_insert(table.columns.len())) {
            let (sql, params) = table.insert(tx.backend(), 1, chunk);
            tx.execute(&sql, &params)?;
        }
    }
    Ok(sealed.heads)
}

/// The statement that numbers, chains and writes queued `records` after `heads`
/// (PostgreSQL's sealer), and in the same statement takes their queue rows (`ids`,
/// comma-separated), moves the heads and notifies listeners of the new event head; with its
/// parameters.
pub(crate) fn queued_statement(heads: Heads, records: &[Record], ids: &str) -> Result<(String, Vec<Value>)> {
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
    let sql = format!(
        "WITH e AS ({events}), a AS ({audit}), m AS ({movements}),
              q AS (DELETE FROM journal_queue WHERE id = ANY (string_to_array({ids}, ',')::bigint[]))
         UPDATE audit_head SET seq = {seq}, hash = {hash}, event_seq = {event_seq}::bigint, event_hash = {event_hash}
         WHERE id = 1
         RETURNING pg_notify({channel}, {event_seq}::bigint::text)::text"
    );
    Ok((sql, params))
}
