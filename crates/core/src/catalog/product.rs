//! The product record, its inputs, and the rules that validate them.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize, Serializer, ser::SerializeStruct};

use crate::{
    CategoryId, Error, ProductId, Result, Sku,
    db::Row,
    money::{Currency, Money},
    validate,
};

/// A catalog product. Serialises to the wire shape of SPEC §1 (price as a decimal string
/// beside its currency).
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: ProductId,
    pub sku: Sku,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub category: Option<CategoryId>,
    pub attributes: BTreeMap<String, String>,
    pub barcode: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Serialize for Product {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut p = s.serialize_struct("Product", 13)?;
        p.serialize_field("id", &self.id)?;
        p.serialize_field("sku", &self.sku)?;
        p.serialize_field("name", &self.name)?;
        p.serialize_field("description", &self.description)?;
        p.serialize_field("price", &self.price.amount())?;
        p.serialize_field("currency", &self.price.currency())?;
        p.serialize_field("category", &self.category)?;
        p.serialize_field("attributes", &self.attributes)?;
        p.serialize_field("barcode", &self.barcode)?;
        p.serialize_field("active", &self.active)?;
        p.serialize_field("version", &self.version)?;
        p.serialize_field("created_at", &crate::clock::wire_text(&self.created_at))?;
        p.serialize_field("updated_at", &crate::clock::wire_text(&self.updated_at))?;
        p.end()
    }
}

/// A product to create. Values arrive as the user typed them; the core validates each and
/// names the field at fault.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// A decimal amount, e.g. `12.50`.
    pub price: String,
    /// ISO 4217; `USD` when absent.
    #[serde(default)]
    pub currency: Option<String>,
    /// A category id or name.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub barcode: Option<String>,
}

/// Changes to a product; `None` leaves a field as it is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<String>,
    pub currency: Option<String>,
    /// A category id or name; an empty string removes the category.
    pub category: Option<String>,
    /// Replaces every attribute.
    pub attributes: Option<BTreeMap<String, String>>,
    /// Sets these attributes, keeping the others; an empty value removes the key.
    #[serde(default)]
    pub merge_attributes: BTreeMap<String, String>,
    /// An empty string removes the barcode.
    pub barcode: Option<String>,
    pub active: Option<bool>,
    /// Refuse the update unless the product is still at this version.
    pub expected_version: Option<i64>,
}

/// Which products to list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProductQuery {
    /// Full-text search over SKU, name and description; every word must match (as a prefix).
    pub search: Option<String>,
    /// A category id or name; its subcategories are included.
    pub category: Option<String>,
    /// Inclusive price bounds, as decimals.
    pub min_price: Option<String>,
    pub max_price: Option<String>,
    /// Products whose attribute `key` equals `value`, for every entry.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

pub(crate) fn name(value: &str) -> Result<String> {
    validate::required("name", value, 200)
}

pub(crate) fn description(value: &str) -> Result<String> {
    validate::bounded("description", value.trim(), 10_000)
}

pub(crate) fn price(amount: &str, currency: Option<&str>) -> Result<Money> {
    let currency = currency.map(Currency::parse).transpose()?.unwrap_or(Currency::USD);
    let money = Money::parse(amount, currency, "price")?;
    money.micros().ok_or_else(|| Error::invalid("price", format!("{amount:?} is too large")))?;
    Ok(money)
}

/// Barcodes (EAN, UPC, internal codes): letters and digits, at most 64.
pub(crate) fn barcode(value: &str) -> Result<Option<String>> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    validate::code("barcode", value, 64, "-").map(Some)
}

pub(crate) fn attributes(attrs: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
    attrs
        .iter()
        .map(|(k, v)| {
            let key = validate::code("attribute key", k, 64, "-_.")?;
            let value = validate::line(&format!("attribute {key}"), v.trim(), 500)?;
            Ok((key, value))
        })
        .collect()
}

pub(crate) const COLUMNS: &str = "p.id, p.sku, p.name, p.description, p.price_minor, p.currency, p.category_id, p.attributes, p.barcode, p.active, p.version, p.created_at, p.updated_at";

pub(crate) fn from_row(row: &Row) -> Result<Product> {
    let currency: String = row.get(5)?;
    let attributes: String = row.get(7)?;
    let sku: String = row.get(1)?;
    let stored = |e: Error| Error::internal_from(format!("stored product {sku}"), e);
    Ok(Product {
        id: row.get(0)?,
        sku: Sku::parse(&sku).map_err(stored)?,
        name: row.get(2)?,
        description: row.get(3)?,
        price: Money::from_minor(row.get(4)?, Currency::parse(&currency).map_err(stored)?),
        category: row.get(6)?,
        attributes: serde_json::from_str(&attributes)
            .map_err(|e| Error::internal_from(format!("stored product {sku}: attributes"), e))?,
        barcode: row.get(8)?,
        active: row.get(9)?,
        version: row.get(10)?,
        created_at: row.get(11)?,
        updated_at: row.get(12)?,
    })
}
