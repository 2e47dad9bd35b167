//! WHERE clauses built from the filters a list was actually given, every value bound.
//!
//! One statement with optional filters (`($1 = '' OR col = $1)`) is prepared once per
//! connection, and after five executions PostgreSQL may switch it to a generic plan, made
//! without knowing which filters are empty: it cannot use the index on `col`, and reads
//! the whole table for a rare value. Each combination of filters is therefore its own
//! statement, with only the conditions it needs (see BENCHMARKS.md, "Query plans at 100k").

use super::Value;

/// Conditions joined by `AND`, and the parameters they bind, numbered in order.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    conditions: Vec<String>,
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
}
