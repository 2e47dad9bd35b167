//! Products to and from CSV. An import upserts by SKU in one transaction — every row or
//! none, each bad row reported by line and column — recording each product's change as
//! `product add` and `product update` do; an export writes the columns an import reads, so
//! one round-trips through the other.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    io::Read,
};

use jiff::Timestamp;
use serde::Serialize;

use super::{
    Catalog, categories,
    product::{self, Product},
    products,
};
use crate::{
    Action, Actor, CategoryId, ProductId, Result, Sku,
    db::{Tx, Value, params},
    money::Currency,
    sheet::{Incoming, Problems, RowCheck, Sheet},
};

const REQUIRED: &[&str] = &["sku", "name", "price"];
const OPTIONAL: &[&str] = &["currency", "description", "category", "barcode", "active", "version"];
/// Keys looked up per statement.
const CHUNK: usize = 500;

/// What a product import did, or would do (`dry_run`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductImport {
    pub dry_run: bool,
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    /// Rows that matched their product already.
    pub unchanged: usize,
    /// Categories the file named that did not exist, created by the import.
    pub categories_created: Vec<String>,
}

/// One row as read: what it sets. An empty optional cell leaves the field as stored (a
/// new product takes the default).
struct Row {
    line: u64,
    sku: Sku,
    name: String,
    price: String,
    currency: Option<Currency>,
    description: Option<String>,
    category: Option<String>,
    barcode: Option<String>,
    active: Option<bool>,
    version: Option<i64>,
    /// When the file has `attr.KEY` columns: the product's attributes, exactly.
    attributes: Option<BTreeMap<String, String>>,
}

impl Catalog<'_> {
    /// Creates or updates a product per row of a CSV file (columns `sku,name,price`, then
    /// any of `currency,description,category,barcode,active,version` and `attr.KEY`), in
    /// one transaction. A row's `version`, when given, must be the stored one. Categories
    /// the file names that do not exist are created. With `dry_run` nothing is kept.
    /// `progress` hears (rows done, rows in all) as the rows apply.
    pub fn import_products(
        &self,
        actor: &Actor,
        input: impl Read,
        dry_run: bool,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ProductImport> {
        actor.authorize(Action::ProductCreate)?;
        actor.authorize(Action::ProductUpdate)?;
        let file = Incoming::read(input, REQUIRED, OPTIONAL, true)?;
        let (rows, mut problems) = parse(&file)?;
        let now = self.store.now();
        let run = |tx: &mut Tx<'_>| apply(tx, actor, &rows, &mut problems, now, progress);
        let report = self.store.pool.write_unless(dry_run, run)?;
        Ok(ProductImport { dry_run, ..report })
    }

    /// Every live product, by SKU, in the columns [`Catalog::import_products`] reads: an
    /// `attr.KEY` column per attribute key any product has.
    pub fn export_products(&self, actor: &Actor) -> Result<Sheet> {
        actor.authorize(Action::ProductRead)?;
        let (products, categories) = self.store.pool.read(|tx| {
            let sql = format!("SELECT {} FROM products p WHERE p.deleted_at IS NULL ORDER BY p.sku", product::COLUMNS);
            let products = tx.query(&sql, &[])?.iter().map(product::from_row).collect::<Result<Vec<_>>>()?;
            let categories: HashMap<CategoryId, String> = tx
                .query("SELECT id, name FROM categories", &[])?
                .iter()
                .map(|row| Ok((row.get(0)?, row.get(1)?)))
                .collect::<Result<_>>()?;
            Ok((products, categories))
        })?;
        let keys: Vec<String> = products
            .iter()
            .flat_map(|p| p.attributes.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .cloned()
            .collect();
        let mut headers: Vec<String> = REQUIRED.iter().chain(OPTIONAL).map(|h| (*h).to_owned()).collect();
        headers.extend(keys.iter().map(|k| format!("attr.{k}")));
        let rows = products
            .iter()
            .map(|p| {
                let mut row = vec![
                    p.sku.to_string(),
                    p.name.clone(),
                    p.price.amount(),
                    p.price.currency().code().to_owned(),
                    p.description.clone(),
                    p.category.and_then(|id| categories.get(&id).cloned()).unwrap_or_default(),
                    p.barcode.clone().unwrap_or_default(),
                    p.active.to_string(),
                    p.version.to_string(),
                ];
                row.extend(keys.iter().map(|k| p.attributes.get(k).cloned().unwrap_or_default()));
                row
            })
            .collect();
        Ok(Sheet { headers, rows })
    }
}

/// The rows whose values are valid, and the problems of the others: the rest are found
/// against the database, so that all are reported together.
fn parse(file: &Incoming) -> Result<(Vec<Row>, Problems)> {
    let mut problems = Problems::default();
    let mut rows = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (line, record) in &file.records {
        let line = *line;
        let cell = |column: &str| file.cell(record, column);
        let mut check = RowCheck::new(&mut problems, line);
        let required = |column: &str| file.required(record, column);
        let sku = check.value("sku", required("sku").and_then(Sku::parse))?;
        let name = check.value("name", required("name").and_then(product::name))?;
        let currency = check.value("currency", cell("currency").map(Currency::parse).transpose())?.flatten();
        let price =
            check.value("price", required("price").and_then(|p| product::price(p, currency.map(|c| c.code()))))?;
        let description =
            check.value("description", cell("description").map(product::description).transpose())?.flatten();
        let category = check.value("category", cell("category").map(categories::name).transpose())?.flatten();
        let barcode =
            check.value("barcode", cell("barcode").map(product::barcode).transpose().map(Option::flatten))?.flatten();
        let active = check.value("active", cell("active").map(flag).transpose())?.flatten();
        let version = check.value("version", cell("version").map(version).transpose())?.flatten();
        // Each `attr.KEY` cell on its own, so that a bad one is named by its column.
        let attributes = if file.attributes.is_empty() {
            None
        } else {
            let mut given = BTreeMap::new();
            for key in &file.attributes {
                let column = format!("attr.{key}");
                if let Some(value) = cell(&column) {
                    let pair = BTreeMap::from([(key.clone(), value.to_owned())]);
                    given.extend(check.value(&column, product::attributes(&pair))?.unwrap_or_default());
                }
            }
            Some(given)
        };
        let (Some(sku), Some(name), Some(_), true) = (sku, name, price, check.ok) else { continue };
        if let Some(first) = seen.insert(sku.to_string(), line) {
            problems.at(line, Some("sku"), format!("SKU {sku} is also on line {first}: one row per product"));
            continue;
        }
        let price = cell("price").unwrap_or_default().to_owned();
        rows.push(Row {
            line,
            sku,
            name,
            price,
            currency,
            description,
            category,
            barcode,
            active,
            version,
            attributes,
        });
    }
    Ok((rows, problems))
}

fn flag(value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(crate::Error::invalid("active", format!("{value:?} is not true or false"))),
    }
}

fn version(value: &str) -> Result<i64> {
    value
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| crate::Error::invalid("version", format!("{value:?} is not a version (1, 2, …)")))
}

/// Applies the rows in the caller's transaction, or refuses them all.
fn apply(
    tx: &mut Tx<'_>,
    actor: &Actor,
    rows: &[Row],
    problems: &mut Problems,
    now: Timestamp,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ProductImport> {
    let skus: Vec<&str> = rows.iter().map(|r| r.sku.as_str()).collect();
    let stored: HashMap<String, Product> =
        live_by(tx, "sku", &skus, true)?.into_iter().map(|p| (p.sku.to_string(), p)).collect();
    let (categories, categories_created) = categories_named(tx, actor, rows, now)?;
    let mut created = Vec::new();
    let mut updated = Vec::new();
    let mut unchanged = 0;
    for row in rows {
        let current = stored.get(row.sku.as_str());
        if let (Some(current), Some(expected)) = (current, row.version)
            && current.version != expected
        {
            let reason = format!("product {} is at version {}, not {expected}", current.sku, current.version);
            problems.conflict(row.line, Some("version"), reason);
            continue;
        }
        let currency = row.currency.or(current.map(|c| c.price.currency()));
        let price = match product::price(&row.price, currency.map(|c| c.code())) {
            Ok(price) => price,
            Err(e) => {
                problems.refused(row.line, Some("price"), e)?;
                continue;
            }
        };
        let mut next = current.cloned().unwrap_or_else(|| Product {
            id: ProductId::new(),
            sku: row.sku.clone(),
            name: String::new(),
            description: String::new(),
            price,
            category: None,
            attributes: BTreeMap::new(),
            barcode: None,
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        });
        next.name.clone_from(&row.name);
        next.price = price;
        if let Some(description) = &row.description {
            next.description.clone_from(description);
        }
        if let Some(category) = &row.category {
            next.category = categories.get(&category.to_lowercase()).copied();
        }
        if let Some(barcode) = &row.barcode {
            next.barcode = Some(barcode.clone());
        }
        if let Some(active) = row.active {
            next.active = active;
        }
        if let Some(attributes) = &row.attributes {
            next.attributes.clone_from(attributes);
        }
        match current {
            None => created.push((row.line, next)),
            Some(current) if next == *current => unchanged += 1,
            Some(current) => {
                next.version += 1;
                next.updated_at = now;
                updated.push((row.line, current, next));
            }
        }
    }
    let changed = created.iter().map(|(line, p)| (*line, p)).chain(updated.iter().map(|(line, _, p)| (*line, p)));
    barcodes_free(tx, problems, changed.collect())?;
    problems.finish()?;

    let total = rows.len() as u64;
    // Barcodes may move between products (even swap): each is unique at every statement,
    // so those that move are let go first, and new products come last.
    for (_, current, _) in updated.iter().filter(|(_, c, n)| c.barcode.is_some() && c.barcode != n.barcode) {
        tx.execute("UPDATE products SET barcode = NULL WHERE id = $1", params![current.id])?;
    }
    let mut done = 0;
    for (_, current, next) in &updated {
        products::store_update(tx, current, next)?;
        products::record_updated(tx, actor, current, next)?;
        done += 1;
        progress(done, total);
    }
    let new: Vec<Product> = created.iter().map(|(_, p)| p.clone()).collect();
    products::insert_all(tx, &new)?;
    for product in &new {
        products::record_created(tx, actor, product)?;
        done += 1;
        progress(done, total);
    }
    progress(total, total);
    Ok(ProductImport {
        dry_run: false,
        rows: rows.len(),
        created: created.len(),
        updated: updated.len(),
        unchanged,
        categories_created,
    })
}

/// The categories the rows name, by lower-cased name, creating those that do not exist;
/// and the names created.
fn categories_named(
    tx: &mut Tx<'_>,
    actor: &Actor,
    rows: &[Row],
    now: Timestamp,
) -> Result<(HashMap<String, CategoryId>, Vec<String>)> {
    let mut found = HashMap::new();
    let mut created = Vec::new();
    for name in rows.iter().filter_map(|r| r.category.as_deref()) {
        let key = name.to_lowercase();
        if found.contains_key(&key) {
            continue;
        }
        let id = match categories::find(tx, name)? {
            Some(id) => id,
            None => {
                created.push(name.to_owned());
                categories::insert(tx, actor, name, None, now)?.id
            }
        };
        found.insert(key, id);
    }
    Ok((found, created))
}

/// Refuses a barcode that two of the products the file changes would share, or that a live
/// product it leaves as it is holds.
fn barcodes_free(tx: &mut Tx<'_>, problems: &mut Problems, changed: Vec<(u64, &Product)>) -> Result<()> {
    let mut claimed: HashMap<&str, (u64, &Product)> = HashMap::new();
    for &(line, product) in &changed {
        let Some(barcode) = product.barcode.as_deref() else { continue };
        match claimed.get(barcode) {
            Some((first, other)) if other.sku != product.sku => problems.conflict(
                line,
                Some("barcode"),
                format!("barcode {barcode} is also given to {} on line {first}", other.sku),
            ),
            _ => {
                claimed.insert(barcode, (line, product));
            }
        }
    }
    // A product the file changes gives up its stored barcode unless it keeps it (above).
    let changing: HashSet<&str> = changed.iter().map(|(_, p)| p.sku.as_str()).collect();
    let barcodes: Vec<&str> = claimed.keys().copied().collect();
    for holder in live_by(tx, "barcode", &barcodes, false)? {
        let Some(barcode) = holder.barcode.as_deref() else { continue };
        let Some((line, product)) = claimed.get(barcode) else { continue };
        if holder.sku != product.sku && !changing.contains(holder.sku.as_str()) {
            let reason = format!("barcode {barcode} already belongs to product {}", holder.sku);
            problems.conflict(*line, Some("barcode"), reason);
        }
    }
    Ok(())
}

/// The live products whose `column` (`sku` or `barcode`) is one of `keys`, a chunk of keys
/// per statement; locked until commit when `lock` is set (PostgreSQL).
pub(crate) fn live_by(tx: &mut Tx<'_>, column: &str, keys: &[&str], lock: bool) -> Result<Vec<Product>> {
    let mut found = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        let list: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT {} FROM products p WHERE p.{column} IN ({}) AND p.deleted_at IS NULL{}",
            product::COLUMNS,
            list.join(", "),
            if lock { tx.for_update() } else { "" }
        );
        let values: Vec<Value> = chunk.iter().map(|k| (*k).into()).collect();
        for row in tx.query(&sql, &values)? {
            found.push(product::from_row(&row)?);
        }
    }
    Ok(found)
}
