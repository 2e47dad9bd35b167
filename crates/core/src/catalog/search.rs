//! Product search: full text (FTS5 on SQLite, `tsvector` on PostgreSQL) plus filters by
//! category subtree, price range and attributes, with cursor pagination in SKU order.

use super::{
    categories,
    product::{self, Product, ProductQuery},
};
use crate::{
    Error, Page, Result,
    db::{Backend, Filter, Tx},
    money, page,
};

pub(super) fn products(tx: &mut Tx<'_>, query: &ProductQuery) -> Result<Page<Product>> {
    let limit = page::limit(query.limit)?;
    let mut filter = Filter::default();
    filter.push("p.deleted_at IS NULL".into());
    if let Some(text) = query.search.as_deref().filter(|s| !s.trim().is_empty()) {
        let p = filter.bind(match_expression(tx.backend(), text)?);
        filter.push(match tx.backend() {
            Backend::Sqlite => format!("p.rowid IN (SELECT rowid FROM products_fts WHERE products_fts MATCH {p})"),
            Backend::Postgres => format!("p.search @@ to_tsquery('simple', {p})"),
        });
    }
    if let Some(category) = query.category.as_deref() {
        let id = categories::resolve(tx, category)?;
        let p = filter.bind(id);
        filter.push(format!(
            "p.category_id IN (WITH RECURSIVE tree(id) AS (
                 SELECT id FROM categories WHERE id = {p}
                 UNION SELECT c.id FROM categories c JOIN tree ON c.parent_id = tree.id)
               SELECT id FROM tree)"
        ));
    }
    for (bound, op, field) in [(&query.min_price, ">=", "min_price"), (&query.max_price, "<=", "max_price")] {
        if let Some(amount) = bound {
            filter.and(&format!("p.price_micros {op} {{}}"), money::parse_micros(amount, field)?);
        }
    }
    for (key, value) in &query.attributes {
        let (k, v) = (filter.bind(key), filter.bind(value));
        filter.push(format!(
            "EXISTS (SELECT 1 FROM product_attributes a WHERE a.product_id = p.id AND a.key = {k} AND a.value = {v})"
        ));
    }
    if let Some(cursor) = &query.cursor {
        filter.and("p.sku > {}", page::decode_cursor(cursor)?);
    }
    let sql = format!(
        "SELECT {} FROM products p{} ORDER BY p.sku LIMIT {}",
        product::COLUMNS,
        filter.clause(),
        filter.bind(i64::from(limit + 1))
    );
    let items = tx.query(&sql, filter.params())?.iter().map(product::from_row).collect::<Result<Vec<_>>>()?;
    Ok(page::from_rows(items, limit, |p| p.sku.to_string()))
}

/// Turns free text into a query where every word must match as a prefix, in the
/// backend's syntax. Only letters and digits reach the query, so user text cannot inject
/// search operators.
fn match_expression(backend: Backend, text: &str) -> Result<String> {
    let words: Vec<String> =
        text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    if words.is_empty() {
        return Err(Error::invalid("search", format!("{text:?} has no letters or digits to search for")));
    }
    Ok(match backend {
        Backend::Sqlite => words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" "),
        Backend::Postgres => words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_become_prefix_queries() {
        assert_eq!(match_expression(Backend::Sqlite, "Blue WID-00").ok(), Some("\"blue\"* \"wid\"* \"00\"*".into()));
        assert_eq!(match_expression(Backend::Postgres, "blue \"x\" OR").ok(), Some("blue:* & x:* & or:*".into()));
        assert!(match_expression(Backend::Sqlite, " -- ").is_err());
    }
}
