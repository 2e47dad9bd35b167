//! WHERE clauses built from the filters a list was actually given, every value bound.
//!
//! A statement with optional filters (`($1 = '' OR col = $1)`) is planned without knowing
//! which filters are empty: by SQLite always, by PostgreSQL once it switches a prepared
//! statement to a generic plan. Such a plan cannot use the index on `col` and walks the
//! whole table for a rare value (600 ms for one event type at a million events). Each
//! combination of filters is therefore its own statement, with only the conditions it
//! needs (BENCHMARKS.md, "Query plans at 100k").

use super::Value;

/// Conditions joined by `AND`, and the parameters they bind, numbered in order.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    conditions: Vec<String>,
    /// How many of the conditions only bound the sort key (a cursor): see [`Filter::page`].
    on_key: usize,
    params: Vec<Value>,
}

impl Filter {
    /// Binds a value; returns its placeholder (`$n`).
    pub fn bind(&mut self, value: impl Into<Value>) -> String {
        self.params.push(value.into());
        format!("${}", self.params.len())
    }

    /// Adds a condition whose parameters are already bound.
    pub fn push(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    /// Adds `condition` with `{}` standing for `value`'s placeholder.
    pub fn and(&mut self, condition: &str, value: impl Into<Value>) {
        let placeholder = self.bind(value);
        self.push(condition.replace("{}", &placeholder));
    }

    /// Adds `condition` (as in [`Filter::and`]) on the sort key alone, such as a cursor.
    pub fn on_key(&mut self, condition: &str, value: impl Into<Value>) {
        self.and(condition, value);
        self.on_key += 1;
    }

    /// Adds `condition` (as in [`Filter::and`]) only when there is a value.
    pub fn and_some<V: Into<Value>>(&mut self, condition: &str, value: Option<V>) {
        if let Some(value) = value {
            self.and(condition, value);
        }
    }

    /// `column IN (…)` over an actor's warehouse scope; none means unscoped: no condition.
    pub fn in_scope(&mut self, column: &str, values: &[String]) {
        if !values.is_empty() {
            let placeholders: Vec<String> = values.iter().map(|v| self.bind(v)).collect();
            self.push(format!("{column} IN ({})", placeholders.join(", ")));
        }
    }

    /// ` WHERE a AND b …`, or nothing without conditions.
    pub fn clause(&self) -> String {
        if self.conditions.is_empty() { String::new() } else { format!(" WHERE {}", self.conditions.join(" AND ")) }
    }

    pub fn params(&self) -> &[Value] {
        &self.params
    }

    /// `SELECT columns FROM table` for the first `limit` rows in `key` order (`ASC` or
    /// `DESC`) that match. With conditions on more than the key, the keys are found first,
    /// on their own: an index holding the filtered columns and the key answers that from
    /// the index alone. Asked for whole rows, PostgreSQL assumes matches are spread evenly
    /// along the key and walks the primary key, past every non-match when they are
    /// clustered (half a million product records before the first order's): about 300 ms
    /// instead of 0.3.
    pub fn page(&mut self, columns: &str, table: &str, key: &str, order: &str, limit: i64) -> String {
        let (clause, limit) = (self.clause(), self.bind(limit));
        let page = format!("ORDER BY {key} {order} LIMIT {limit}");
        if self.conditions.len() == self.on_key {
            return format!("SELECT {columns} FROM {table}{clause} {page}");
        }
        format!(
            "SELECT {columns} FROM {table} WHERE {key} IN (SELECT {key} FROM {table}{clause} {page}) ORDER BY {key} {order}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_given_filters_become_conditions_in_binding_order() {
        let mut filter = Filter::default();
        assert_eq!(filter.clause(), "");
        filter.and("seq > {}", 5_i64);
        filter.and_some("status = {}", None::<&str>);
        filter.and_some("owner = {}", Some("ann"));
        filter.in_scope("code", &["A".into(), "B".into()]);
        filter.in_scope("other", &[]);
        let limit = filter.bind(10_i64);
        assert_eq!(filter.clause(), " WHERE seq > $1 AND owner = $2 AND code IN ($3, $4)");
        assert_eq!(limit, "$5");
        assert_eq!(filter.params(), &[5_i64.into(), "ann".into(), "A".into(), "B".into(), 10_i64.into()][..]);
    }

    #[test]
    fn a_filtered_page_finds_its_keys_first() {
        assert_eq!(
            Filter::default().page("a, b", "t", "seq", "DESC", 5),
            "SELECT a, b FROM t ORDER BY seq DESC LIMIT $1"
        );
        let mut filter = Filter::default();
        filter.on_key("seq > {}", 7_i64);
        assert_eq!(filter.page("a", "t", "seq", "ASC", 5), "SELECT a FROM t WHERE seq > $1 ORDER BY seq ASC LIMIT $2");
        let mut filter = Filter::default();
        filter.on_key("seq > {}", 7_i64);
        filter.and("kind = {}", "x");
        assert_eq!(
            filter.page("a, b", "t", "seq", "ASC", 5),
            "SELECT a, b FROM t WHERE seq IN (SELECT seq FROM t WHERE seq > $1 AND kind = $2 ORDER BY seq ASC LIMIT $3) \
             ORDER BY seq ASC"
        );
    }
}
