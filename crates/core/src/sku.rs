//! Stock-keeping units: the human handle of a product.

use std::{fmt, str::FromStr};

use serde::Serialize;

use crate::{Error, Result, validate};

/// A validated SKU: 1–64 ASCII letters, digits and `- _ . /`, starting with a letter or
/// digit. Case is kept; `:` is excluded so `SKU:QTY` arguments stay unambiguous.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Sku(String);

impl Sku {
    pub fn parse(value: &str) -> Result<Self> {
        validate::code("sku", value, 64, "-_./").map(Sku)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Sku {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Sku::parse(s)
    }
}
