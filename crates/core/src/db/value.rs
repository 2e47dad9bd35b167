//! Backend-neutral SQL parameters and result rows.

use jiff::Timestamp;

use crate::{Error, Result};

/// A parameter or column value, as both backends exchange it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
    Time(Timestamp),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<Timestamp> for Value {
    fn from(v: Timestamp) -> Self {
        Value::Time(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}
macro_rules! id_values {
    ($($id:ty),*) => {$(
        impl From<$id> for Value {
            fn from(v: $id) -> Self {
                Value::Text(v.to_string())
            }
        }
        impl FromValue for $id {
            fn from_value(v: &Value) -> Result<Self, String> {
                String::from_value(v)?.parse().map_err(|e: Error| e.to_string())
            }
        }
    )*};
}
id_values!(
    crate::ProductId,
    crate::CategoryId,
    crate::WarehouseId,
    crate::ReservationId,
    crate::UserId,
    crate::ApiTokenId,
    crate::OrderId,
    crate::NotificationId,
    crate::WebhookId
);

/// Builds a `&[Value]` parameter list from expressions of any `Into<Value>` type.
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::db::Value::from($v)),*] as &[$crate::db::Value] };
}
pub(crate) use params;

/// One result row, read by column position.
#[derive(Debug)]
pub(crate) struct Row(pub(crate) Vec<Value>);

impl Row {
    pub fn get<T: FromValue>(&self, idx: usize) -> Result<T> {
        let value = self.0.get(idx).unwrap_or(&Value::Null);
        T::from_value(value).map_err(|why| Error::internal(format!("column {idx}: {why}")))
    }
}

/// Conversion from a column value into a Rust type.
pub(crate) trait FromValue: Sized {
    fn from_value(v: &Value) -> Result<Self, String>;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Int(i) => Ok(*i),
            other => Err(format!("expected an integer, found {other:?}")),
        }
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            other => Err(format!("expected text, found {other:?}")),
        }
    }
}
impl FromValue for bool {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Bool(b) => Ok(*b),
            // SQLite keeps booleans as 0/1.
            Value::Int(i) => Ok(*i != 0),
            other => Err(format!("expected a boolean, found {other:?}")),
        }
    }
}
impl FromValue for Timestamp {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Time(t) => Ok(*t),
            // SQLite keeps timestamps as RFC 3339 text.
            Value::Text(s) => s.parse().map_err(|e| format!("bad timestamp {s:?}: {e}")),
            other => Err(format!("expected a timestamp, found {other:?}")),
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}
