//! OpenAPI schemas (feature `openapi`) for the wire types whose `Serialize` is written by
//! hand; the others derive `utoipa::ToSchema` beside `Serialize`.

use std::{borrow::Cow, collections::BTreeMap};

use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        RefOr,
        schema::{ObjectBuilder, Schema, Type},
    },
};

use crate::{CategoryId, Currency, Product, ProductId, Sku};

/// A string that is one of `names`: the schema of every `named!` enum.
pub(crate) fn names<'a>(names: impl Iterator<Item = &'a str>) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names)).into()
}

impl PartialSchema for Currency {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[A-Z]{3}$"))
            .description(Some("An ISO 4217 code."))
            .examples(["USD"])
            .into()
    }
}

impl ToSchema for Currency {}

/// What `Product`'s `Serialize` writes: the price as a decimal string beside its currency.
#[derive(ToSchema)]
#[schema(as = Product)]
#[allow(dead_code, reason = "a shape to document, never built")]
struct ProductWire {
    id: ProductId,
    sku: Sku,
    name: String,
    description: String,
    #[schema(examples("12.50"))]
    price: String,
    currency: Currency,
    category: Option<CategoryId>,
    attributes: BTreeMap<String, String>,
    barcode: Option<String>,
    active: bool,
    version: i64,
    created_at: jiff::Timestamp,
    updated_at: jiff::Timestamp,
}

impl PartialSchema for Product {
    fn schema() -> RefOr<Schema> {
        ProductWire::schema()
    }
}

impl ToSchema for Product {
    fn name() -> Cow<'static, str> {
        ProductWire::name()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        ProductWire::schemas(schemas);
    }
}
