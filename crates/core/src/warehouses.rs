//! Warehouses: the places stock is kept, known by an upper-case code such as `MAIN`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    Action, Actor, Conflict, Error, Result, Store, WarehouseId,
    db::{Row, Tx, params},
    events::EventType,
    journal::{self, Change},
    validate,
};

/// The warehouse `init` creates.
pub const MAIN: &str = "MAIN";

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warehouse {
    pub id: WarehouseId,
    pub code: String,
    pub name: String,
    pub active: bool,
    #[serde(serialize_with = "crate::clock::wire")]
    pub created_at: Timestamp,
    #[serde(serialize_with = "crate::clock::wire")]
    pub updated_at: Timestamp,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWarehouse {
    /// Letters, digits, `-` and `_`; stored upper-case.
    pub code: String,
    pub name: String,
}

/// Warehouse operations on a store.
#[derive(Debug, Clone, Copy)]
pub struct Warehouses<'s> {
    pub(crate) store: &'s Store,
}

impl Warehouses<'_> {
    pub fn create(&self, actor: &Actor, input: NewWarehouse) -> Result<Warehouse> {
        actor.authorize(Action::WarehouseCreate)?;
        let code = parse_code(&input.code)?;
        let name = validate::required("name", &input.name, 100)?;
        self.store.pool.write(|tx| {
            if find(tx, &code)?.is_some() {
                return Err(Error::conflict(Conflict::Duplicate, format!("warehouse {code} already exists")));
            }
            insert(tx, actor, &code, &name, self.store.now())
        })
    }

    /// Every warehouse, by code.
    pub fn list(&self, actor: &Actor) -> Result<Vec<Warehouse>> {
        actor.authorize(Action::WarehouseRead)?;
        self.store.pool.read(all)
    }

    /// One warehouse by code (any case).
    pub fn get(&self, actor: &Actor, code: &str) -> Result<Warehouse> {
        actor.authorize(Action::WarehouseRead)?;
        self.store.pool.read(|tx| require(tx, code))
    }
}

/// A warehouse code as stored: trimmed and upper-cased.
pub(crate) fn parse_code(code: &str) -> Result<String> {
    validate::code("warehouse code", code, 32, "-_").map(|c| c.to_ascii_uppercase())
}

const COLUMNS: &str = "id, code, name, active, created_at, updated_at";

fn from_row(row: &Row) -> Result<Warehouse> {
    Ok(Warehouse {
        id: row.get(0)?,
        code: row.get(1)?,
        name: row.get(2)?,
        active: row.get(3)?,
        created_at: row.get(4)?,
        updated_at: row.get(5)?,
    })
}

/// Every warehouse, by code.
pub(crate) fn all(tx: &mut Tx<'_>) -> Result<Vec<Warehouse>> {
    let rows = tx.query(&format!("SELECT {COLUMNS} FROM warehouses ORDER BY code"), &[])?;
    rows.iter().map(from_row).collect()
}

pub(crate) fn find(tx: &mut Tx<'_>, code: &str) -> Result<Option<Warehouse>> {
    let code = code.trim().to_ascii_uppercase();
    tx.query_opt(&format!("SELECT {COLUMNS} FROM warehouses WHERE code = $1"), params![code])?
        .map(|row| from_row(&row))
        .transpose()
}

pub(crate) fn require(tx: &mut Tx<'_>, code: &str) -> Result<Warehouse> {
    if let Some(warehouse) = find(tx, code)? {
        return Ok(warehouse);
    }
    let known = all(tx)?;
    Err(Error::not_found_among("warehouse", &code.trim().to_ascii_uppercase(), known.iter().map(|w| w.code.as_str())))
}

/// Inserts a warehouse whose code is known to be free, with its event and audit record.
pub(crate) fn insert(tx: &mut Tx<'_>, actor: &Actor, code: &str, name: &str, now: Timestamp) -> Result<Warehouse> {
    let warehouse = Warehouse {
        id: WarehouseId::new(),
        code: code.to_owned(),
        name: name.to_owned(),
        active: true,
        created_at: now,
        updated_at: now,
    };
    tx.execute(
        "INSERT INTO warehouses (id, code, name, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
        params![warehouse.id, code, name, true, now],
    )?;
    let id = warehouse.id.to_string();
    let after = json!(warehouse);
    let change = Change {
        action: "warehouse.create",
        entity: ("warehouse", &id),
        before: None,
        after: Some(after.clone()),
        events: vec![(EventType::WarehouseCreated, after)],
    };
    journal::record(tx, actor, change, now)?;
    Ok(warehouse)
}
