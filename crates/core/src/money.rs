//! Exact money: integer minor units of an ISO 4217 currency, decimal strings on the wire.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// An ISO 4217 currency and the number of decimal digits of its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u8,
}

/// Active ISO 4217 codes whose minor unit is not the usual hundredth.
const EXPONENT_0: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF",
    "XPF",
];
const EXPONENT_3: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
const EXPONENT_4: &[&str] = &["CLF", "UYW"];
/// Active ISO 4217 codes with two decimal digits.
const EXPONENT_2: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BMD", "BND",
    "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CNY", "COP", "COU",
    "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS",
    "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR",
    "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU",
    "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS",
    "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD",
    "USN", "UYU", "UZS", "VED", "VES", "WST", "XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG",
];

impl Currency {
    pub const USD: Currency = Currency { code: "USD", exponent: 2 };

    /// Parses an ISO 4217 code (case-insensitive) such as `usd` or `EUR`.
    pub fn parse(code: &str) -> Result<Self> {
        let upper = code.trim().to_ascii_uppercase();
        [(EXPONENT_2, 2), (EXPONENT_0, 0), (EXPONENT_3, 3), (EXPONENT_4, 4)]
            .into_iter()
            .find_map(|(codes, exponent)| codes.iter().find(|c| **c == upper).map(|code| Currency { code, exponent }))
            .ok_or_else(|| Error::invalid("currency", format!("{code:?} is not an ISO 4217 currency code")))
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Decimal digits of the minor unit (2 for USD, 0 for JPY, 3 for KWD).
    pub fn exponent(&self) -> u32 {
        u32::from(self.exponent)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// An exact amount of one currency, held in its minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Parses a non-negative decimal such as `12.50` or `12` in `currency`. More decimal
    /// digits than the currency has, signs, exponents and other characters are refused,
    /// naming `field`.
    pub fn parse(amount: &str, currency: Currency, field: &str) -> Result<Self> {
        let minor = parse_scaled(amount, currency.exponent(), field, currency.code())?;
        Ok(Self { minor, currency })
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount as a decimal string with exactly the currency's digits: `12.50`, `-3.00`, `500`.
    pub fn amount(&self) -> String {
        let exponent = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exponent == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10u64.pow(exponent);
        format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = exponent as usize)
    }

    /// The amount scaled to millionths of the major unit: one exact scale for every currency,
    /// used to filter and sort prices of mixed currencies.
    pub fn micros(&self) -> Option<i64> {
        self.minor.checked_mul(10i64.pow(6 - self.currency.exponent()))
    }
}

/// Parses a non-negative decimal into millionths (the scale of [`Money::micros`]).
pub(crate) fn parse_micros(amount: &str, field: &str) -> Result<i64> {
    parse_scaled(amount, 6, field, "a price filter")
}

/// `amount` × 10^`exponent` as an exact integer; `scale_name` says whose digits those are.
fn parse_scaled(amount: &str, exponent: u32, field: &str, scale_name: &str) -> Result<i64> {
    let bad = |why: String| Error::invalid(field, format!("{amount:?} {why}"));
    let text = amount.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || (text.contains('.') && frac.is_empty()) {
        return Err(bad("is not a non-negative decimal amount like 12.50".into()));
    }
    let exponent = exponent as usize;
    if frac.len() > exponent {
        return Err(bad(format!("has more decimal places than {scale_name} allows ({exponent})")));
    }
    format!("{whole}{frac:0<exponent$}").parse::<i64>().map_err(|_| bad("is too large".into()))
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Result<Money> {
        Money::parse(s, Currency::USD, "price")
    }

    #[test]
    fn parses_and_formats_exactly() {
        assert_eq!(usd("12.50").map(|m| m.minor()).ok(), Some(1250));
        assert_eq!(usd("12.5").map(|m| m.amount()).ok(), Some("12.50".into()));
        assert_eq!(usd("0").map(|m| m.amount()).ok(), Some("0.00".into()));
        assert_eq!(usd("7").map(|m| m.minor()).ok(), Some(700));
        let jpy = Currency::parse("jpy").ok().and_then(|c| Money::parse("500", c, "price").ok());
        assert_eq!(jpy.map(|m| m.amount()), Some("500".into()));
        let kwd = Currency::parse("KWD").ok().and_then(|c| Money::parse("1.005", c, "price").ok());
        assert_eq!(kwd.map(|m| (m.minor(), m.micros())), Some((1005, Some(1_005_000))));
        assert_eq!(Money::from_minor(-305, Currency::USD).amount(), "-3.05");
    }

    #[test]
    fn refuses_what_is_not_exact_money() {
        for bad in ["", "abc", "-1", "+1", "1e3", "1.", ".5", "1.234", "1,50", "99999999999999999999"] {
            let err = usd(bad).expect_err(bad);
            assert!(err.to_string().starts_with("invalid price:"), "{bad}: {err}");
        }
        assert!(Currency::parse("XYZ").is_err());
        assert!(Money::parse("1.5", Currency::parse("JPY").expect("JPY"), "price").is_err());
    }
}
