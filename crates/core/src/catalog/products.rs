//! Creating, reading, updating and deleting products: one transaction each, with its
//! event and audit record.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use super::{
    Catalog, categories,
    product::{self, NewProduct, Product, ProductPatch, ProductQuery},
    search,
};
use crate::{
    Action, Actor, Conflict, Error, Page, ProductId, Result, Sku,
    db::{Tx, Value, params},
    events::EventType,
    inventory,
    journal::{self, Change},
};

impl Catalog<'_> {
    /// Creates a product; a live product with the same SKU or barcode is a conflict.
    pub fn create_product(&self, actor: &Actor, input: NewProduct) -> Result<Product> {
        actor.authorize(Action::ProductCreate)?;
        let sku = Sku::parse(&input.sku)?;
        let name = product::name(&input.name)?;
        let description = product::description(input.description.as_deref().unwrap_or(""))?;
        let price = product::price(&input.price, input.currency.as_deref())?;
        let attributes = product::attributes(&input.attributes)?;
        let barcode = input.barcode.as_deref().map(product::barcode).transpose()?.flatten();
        self.store.pool.write(|tx| {
            let category = input.category.as_deref().map(|c| categories::resolve(tx, c)).transpose()?;
            ensure_unique(tx, &sku, barcode.as_deref(), None)?;
            let now = self.store.now();
            let product = Product {
                id: ProductId::new(),
                sku: sku.clone(),
                name: name.clone(),
                description: description.clone(),
                price,
                category,
                attributes: attributes.clone(),
                barcode: barcode.clone(),
                active: true,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            insert_all(tx, std::slice::from_ref(&product))?;
            record_created(tx, actor, &product)?;
            Ok(product)
        })
    }

    /// A live product by id or SKU.
    pub fn product(&self, actor: &Actor, key: &str) -> Result<Product> {
        actor.authorize(Action::ProductRead)?;
        self.store.pool.read(|tx| find(tx, key, false))
    }

    /// Applies `patch`; a price or currency change also emits `ProductPriceChanged`.
    /// Nothing is written (and the version stays) when the patch changes nothing.
    pub fn update_product(&self, actor: &Actor, key: &str, patch: ProductPatch) -> Result<Product> {
        actor.authorize(Action::ProductUpdate)?;
        self.store.pool.write(|tx| {
            let current = find(tx, key, true)?;
            if let Some(expected) = patch.expected_version.filter(|v| *v != current.version) {
                return Err(Error::conflict(
                    Conflict::StaleVersion { current: current.version },
                    format!(
                        "product {} is at version {}, not {expected}: reload it and retry",
                        current.sku, current.version
                    ),
                ));
            }
            let mut next = patched(tx, &current, &patch)?;
            if next == current {
                return Ok(current);
            }
            ensure_unique(tx, &next.sku, next.barcode.as_deref(), Some(current.id))?;
            let now = self.store.now();
            next.version += 1;
            next.updated_at = now;
            store_update(tx, &current, &next)?;
            record_updated(tx, actor, &current, &next)?;
            Ok(next)
        })
    }

    /// Soft-deletes a product: it leaves the catalog, its history stays, and its SKU may be
    /// reused. A product with stock on hand is refused.
    pub fn delete_product(&self, actor: &Actor, key: &str) -> Result<()> {
        actor.authorize(Action::ProductDelete)?;
        self.store.pool.write(|tx| {
            let product = find(tx, key, true)?;
            let open = crate::orders::open_orders_of(tx, product.id)?;
            if !open.is_empty() {
                let numbers: Vec<String> = open.iter().map(|n| n.to_string()).collect();
                return Err(Error::conflict(Conflict::InUse, format!(
                    "product {} is on open orders ({}): finish or cancel them first",
                    product.sku,
                    numbers.join(", ")
                )));
            }
            let stock = inventory::on_hand_by_warehouse(tx, product.id)?;
            if !stock.is_empty() {
                let held: Vec<String> = stock.iter().map(|(code, n)| format!("{n} at {code}")).collect();
                return Err(Error::conflict(Conflict::InUse, format!(
                    "product {} still has stock on hand ({}): adjust it to zero or transfer it first",
                    product.sku,
                    held.join(", ")
                )));
            }
            let now = self.store.now();
            tx.execute(
                "UPDATE products SET deleted_at = $1, active = FALSE, version = version + 1, updated_at = $1 WHERE id = $2",
                params![now, product.id],
            )?;
            let id = product.id.to_string();
            let change = Change {
                action: "product.delete",
                entity: ("product", &id),
                before: Some(to_json(&product)),
                after: None,
                events: vec![(EventType::ProductDeleted, json!({ "product_id": id, "sku": product.sku }))],
            };
            journal::record(tx, actor, change, now)?;
            Ok(())
        })
    }

    /// Live products matching `query`, in SKU order, one page at a time.
    pub fn list_products(&self, actor: &Actor, query: &ProductQuery) -> Result<Page<Product>> {
        actor.authorize(Action::ProductRead)?;
        self.store.pool.read(|tx| search::products(tx, query))
    }
}

/// Records a new product: `ProductCreated` carrying all of it, and its audit record.
pub(super) fn record_created(tx: &mut Tx<'_>, actor: &Actor, product: &Product) -> Result<()> {
    let after = to_json(product);
    let id = product.id.to_string();
    let change = Change {
        action: "product.create",
        entity: ("product", &id),
        before: None,
        after: Some(after.clone()),
        events: vec![(EventType::ProductCreated, after)],
    };
    journal::record(tx, actor, change, product.created_at)
}

/// Records a product's update to `next`: `ProductUpdated` with the fields that changed,
/// `ProductPriceChanged` when its price did, and the audit record.
pub(super) fn record_updated(tx: &mut Tx<'_>, actor: &Actor, current: &Product, next: &Product) -> Result<()> {
    let id = current.id.to_string();
    let mut events = vec![(
        EventType::ProductUpdated,
        json!({
            "product_id": id, "sku": current.sku, "version": next.version, "changes": changes(current, next),
        }),
    )];
    if next.price != current.price {
        events.push((
            EventType::ProductPriceChanged,
            json!({
                "product_id": id, "sku": current.sku,
                "old_price": current.price.amount(), "old_currency": current.price.currency(),
                "new_price": next.price.amount(), "new_currency": next.price.currency(),
            }),
        ));
    }
    let change = Change {
        action: "product.update",
        entity: ("product", &id),
        before: Some(to_json(current)),
        after: Some(to_json(next)),
        events,
    };
    journal::record(tx, actor, change, next.updated_at)
}

fn to_json(product: &Product) -> Json {
    serde_json::to_value(product).unwrap_or(Json::Null)
}

/// A live product by SKU or id, locked for update when `lock` is set. (Two indexed
/// look-ups: an `OR` of the two would scan the table.)
pub(crate) fn find(tx: &mut Tx<'_>, key: &str, lock: bool) -> Result<Product> {
    let key = key.trim();
    let lock = if lock { tx.for_update() } else { "" };
    for column in ["sku", "id"] {
        let sql =
            format!("SELECT {} FROM products p WHERE p.{column} = $1 AND p.deleted_at IS NULL{lock}", product::COLUMNS);
        if let Some(row) = tx.query_opt(&sql, params![key])? {
            return product::from_row(&row);
        }
    }
    Err(unknown(tx, key))
}

/// No live product has this SKU or id: not found, offering the likeliest SKU. (Only a miss
/// pays for reading every SKU.)
fn unknown(tx: &mut Tx<'_>, key: &str) -> Error {
    let skus: Vec<String> = match tx.query("SELECT sku FROM products WHERE deleted_at IS NULL", &[]) {
        Ok(rows) => rows.iter().filter_map(|row| row.get::<String>(0).ok()).collect(),
        Err(e) => return e,
    };
    Error::not_found_among("product", key, skus.iter().map(String::as_str))
}

/// Live products that may be reserved and ordered, by SKU or id, in one query and in the
/// order asked: the first key that names no live product is not found, an inactive one is
/// refused (not for sale), and a SKU wins over an id as in [`find`].
pub(crate) fn find_all_for_sale(tx: &mut Tx<'_>, keys: &[&str]) -> Result<Vec<Product>> {
    let keys: Vec<&str> = keys.iter().map(|k| k.trim()).collect();
    let placeholders: Vec<String> = (1..=keys.len()).map(|n| format!("${n}")).collect();
    let list = placeholders.join(", ");
    // Two index lookups: an `OR` of the two would scan the SKU index whole on SQLite.
    let sql = format!(
        "SELECT {columns} FROM products p WHERE p.sku IN ({list}) AND p.deleted_at IS NULL
         UNION ALL SELECT {columns} FROM products p WHERE p.id IN ({list}) AND p.deleted_at IS NULL",
        columns = product::COLUMNS
    );
    let values: Vec<Value> = keys.iter().map(|k| (*k).into()).collect();
    let found = tx.query(&sql, &values)?.iter().map(product::from_row).collect::<Result<Vec<_>>>()?;
    keys.iter()
        .map(|key| {
            let Some(product) = found
                .iter()
                .find(|p| p.sku.as_str() == *key)
                .or_else(|| found.iter().find(|p| p.id.to_string() == *key))
            else {
                return Err(unknown(tx, key));
            };
            if !product.active {
                let reason = format!("product {} is not for sale (inactive)", product.sku);
                return Err(Error::conflict(Conflict::Refused, reason));
            }
            Ok(product.clone())
        })
        .collect()
}

/// Refuses a SKU or barcode that another live product holds, naming the value.
fn ensure_unique(tx: &mut Tx<'_>, sku: &Sku, barcode: Option<&str>, except: Option<ProductId>) -> Result<()> {
    let except = except.map(|id| id.to_string()).unwrap_or_default();
    let holder = |tx: &mut Tx<'_>, column: &str, value: &str| -> Result<Option<String>> {
        let sql = format!("SELECT sku FROM products WHERE {column} = $1 AND deleted_at IS NULL AND id <> $2");
        tx.query_opt(&sql, params![value, &except])?.map(|row| row.get(0)).transpose()
    };
    if holder(tx, "sku", sku.as_str())?.is_some() {
        return Err(Error::conflict(Conflict::Duplicate, format!("a product with SKU {sku} already exists")));
    }
    if let Some(code) = barcode
        && let Some(other) = holder(tx, "barcode", code)?
    {
        return Err(Error::conflict(Conflict::Duplicate, format!("barcode {code} already belongs to product {other}")));
    }
    Ok(())
}

fn patched(tx: &mut Tx<'_>, current: &Product, patch: &ProductPatch) -> Result<Product> {
    let mut next = current.clone();
    if let Some(name) = &patch.name {
        next.name = product::name(name)?;
    }
    if let Some(description) = &patch.description {
        next.description = product::description(description)?;
    }
    if patch.price.is_some() || patch.currency.is_some() {
        let amount = patch.price.clone().unwrap_or_else(|| current.price.amount());
        let currency = patch.currency.as_deref().unwrap_or(current.price.currency().code());
        next.price = product::price(&amount, Some(currency))?;
    }
    if let Some(category) = &patch.category {
        next.category = match category.trim() {
            "" => None,
            key => Some(categories::resolve(tx, key)?),
        };
    }
    if let Some(attributes) = &patch.attributes {
        next.attributes = product::attributes(attributes)?;
    }
    for (key, value) in product::attributes(&patch.merge_attributes)? {
        if value.is_empty() {
            next.attributes.remove(&key);
        } else {
            next.attributes.insert(key, value);
        }
    }
    if let Some(barcode) = &patch.barcode {
        next.barcode = product::barcode(barcode)?;
    }
    if let Some(active) = patch.active {
        next.active = active;
    }
    Ok(next)
}

/// The fields that differ, as `{field: {from, to}}`.
fn changes(before: &Product, after: &Product) -> Json {
    let (Json::Object(old), Json::Object(new)) = (to_json(before), to_json(after)) else { return Json::Null };
    let diff: serde_json::Map<String, Json> = new
        .into_iter()
        .filter(|(field, value)| !["version", "updated_at"].contains(&field.as_str()) && old.get(field) != Some(value))
        .map(|(field, value)| {
            let from = old.get(&field).cloned().unwrap_or(Json::Null);
            (field, json!({ "from": from, "to": value }))
        })
        .collect();
    Json::Object(diff)
}

/// Inserts new products and their attribute rows, as few statements as it takes.
pub(super) fn insert_all(tx: &mut Tx<'_>, products: &[Product]) -> Result<()> {
    let rows = products
        .iter()
        .map(|p| Ok([params![p.id, p.sku.as_str()], &fields(p)?, params![p.created_at, p.updated_at]].concat()))
        .collect::<Result<Vec<_>>>()?;
    tx.insert_rows(
        "INSERT INTO products (id, sku, name, description, price_minor, currency, price_micros, category_id,
                               attributes, barcode, active, version, created_at, updated_at)",
        &rows,
    )?;
    write_attributes(tx, products)
}

/// Writes `p` over `current` (still at its version); the attribute rows only when the
/// attributes changed.
pub(super) fn store_update(tx: &mut Tx<'_>, current: &Product, p: &Product) -> Result<()> {
    let n = tx.execute(
        "UPDATE products SET name = $1, description = $2, price_minor = $3, currency = $4, price_micros = $5,
                category_id = $6, attributes = $7, barcode = $8, active = $9, version = $10, updated_at = $11
         WHERE id = $12 AND version = $13",
        &[&fields(p)?, params![p.updated_at, p.id, current.version]].concat(),
    )?;
    if n != 1 {
        return Err(Error::internal(format!("product {} changed while this transaction held its lock", p.sku)));
    }
    if p.attributes == current.attributes {
        return Ok(());
    }
    tx.execute("DELETE FROM product_attributes WHERE product_id = $1", params![p.id])?;
    write_attributes(tx, std::slice::from_ref(p))
}

/// The stored fields of a product from its name to its version, in column order.
fn fields(p: &Product) -> Result<Vec<Value>> {
    Ok(params![
        &p.name,
        &p.description,
        p.price.minor(),
        p.price.currency().code(),
        micros(p)?,
        p.category,
        attributes_json(&p.attributes),
        p.barcode.clone(),
        p.active,
        p.version
    ]
    .to_vec())
}

fn micros(p: &Product) -> Result<i64> {
    p.price.micros().ok_or_else(|| Error::invalid("price", format!("{} is too large", p.price)))
}

fn attributes_json(attributes: &BTreeMap<String, String>) -> String {
    serde_json::to_string(attributes).unwrap_or_else(|_| "{}".into())
}

/// The attribute index rows that attribute filters search.
fn write_attributes(tx: &mut Tx<'_>, products: &[Product]) -> Result<()> {
    let rows: Vec<Vec<Value>> = products
        .iter()
        .flat_map(|p| p.attributes.iter().map(|(key, value)| params![p.id, key, value].to_vec()))
        .collect();
    tx.insert_rows("INSERT INTO product_attributes (product_id, key, value)", &rows)
}
