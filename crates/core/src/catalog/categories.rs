//! Categories: a tree of names (unique, case-insensitively) that products belong to.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Catalog;
use crate::{
    Action, Actor, CategoryId, Conflict, Error, Result,
    db::{Row, Tx, params},
    events::EventType,
    journal::{self, Change},
    validate,
};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    pub parent_id: Option<CategoryId>,
    #[serde(serialize_with = "crate::clock::wire")]
    pub created_at: Timestamp,
}

/// A category to create, under an optional parent (id or name).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    pub name: String,
    #[serde(default)]
    pub parent: Option<String>,
}

impl Catalog<'_> {
    pub fn create_category(&self, actor: &Actor, input: NewCategory) -> Result<Category> {
        actor.authorize(Action::CategoryCreate)?;
        let name = name(&input.name)?;
        self.store.pool.write(|tx| {
            let parent_id = input.parent.as_deref().map(|p| resolve(tx, p)).transpose()?;
            if find(tx, &name)?.is_some() {
                return Err(Error::conflict(Conflict::Duplicate, format!("a category named {name:?} already exists")));
            }
            insert(tx, actor, &name, parent_id, self.store.now())
        })
    }

    /// Every category, depth first: each parent before its children, siblings by name.
    pub fn categories(&self, actor: &Actor) -> Result<Vec<Category>> {
        actor.authorize(Action::CategoryRead)?;
        let all = self.store.pool.read(|tx| {
            let rows = tx.query("SELECT id, name, parent_id, created_at FROM categories", &[])?;
            rows.iter().map(from_row).collect::<Result<Vec<_>>>()
        })?;
        Ok(depth_first(all))
    }
}

fn depth_first(mut all: Vec<Category>) -> Vec<Category> {
    all.sort_by_key(|c| c.name.to_lowercase());
    let mut out = Vec::with_capacity(all.len());
    let mut stack: Vec<&Category> = all.iter().filter(|c| c.parent_id.is_none()).rev().collect();
    while let Some(next) = stack.pop() {
        out.push(next.clone());
        stack.extend(all.iter().filter(|c| c.parent_id == Some(next.id)).rev());
    }
    out
}

fn from_row(row: &Row) -> Result<Category> {
    Ok(Category { id: row.get(0)?, name: row.get(1)?, parent_id: row.get(2)?, created_at: row.get(3)? })
}

/// Creates a category whose name is valid and free, with its event and audit record.
pub(super) fn insert(
    tx: &mut Tx<'_>,
    actor: &Actor,
    name: &str,
    parent_id: Option<CategoryId>,
    at: Timestamp,
) -> Result<Category> {
    let category = Category { id: CategoryId::new(), name: name.to_owned(), parent_id, created_at: at };
    tx.execute(
        "INSERT INTO categories (id, name, parent_id, created_at) VALUES ($1, $2, $3, $4)",
        params![category.id, &category.name, category.parent_id, category.created_at],
    )?;
    let id = category.id.to_string();
    let after = json!(category);
    let change = Change {
        action: "category.create",
        entity: ("category", &id),
        before: None,
        after: Some(after.clone()),
        events: vec![(EventType::CategoryCreated, after)],
    };
    journal::record(tx, actor, change, at)?;
    Ok(category)
}

/// A category name as given: required, at most 100 characters.
pub(super) fn name(value: &str) -> Result<String> {
    validate::required("name", value, 100)
}

pub(super) fn find(tx: &mut Tx<'_>, key: &str) -> Result<Option<CategoryId>> {
    tx.query_opt("SELECT id FROM categories WHERE id = $1 OR lower(name) = lower($1)", params![key.trim()])?
        .map(|row| row.get(0))
        .transpose()
}

/// A category's id from its id or name.
pub(super) fn resolve(tx: &mut Tx<'_>, key: &str) -> Result<CategoryId> {
    find(tx, key)?.ok_or_else(|| Error::not_found("category", key.trim()))
}
