//! The catalog: products, their categories and attributes, and search over them.

mod categories;
mod product;
mod products;
mod search;
mod sheets;

pub use categories::{Category, NewCategory};
pub use product::{NewProduct, Product, ProductPatch, ProductQuery};
pub(crate) use products::{find as find_product, find_all_for_sale};
pub use sheets::ProductImport;
pub(crate) use sheets::live_by as live_products_by;

use crate::Store;

/// Catalog operations on a store.
#[derive(Debug, Clone, Copy)]
pub struct Catalog<'s> {
    pub(crate) store: &'s Store,
}
