//! The small forms behind every change: fields checked as they are typed, then a
//! confirmation that shows before → after, then the core call. The checks here only spare
//! a round trip (a number that is not one, a missing reason); the core decides the rest
//! and its refusal is shown in the form, which keeps what was typed.

use stockyard_core::{Adjustment, Order, StockLevel};

use crate::worker::Op;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    Receive,
    Adjust,
    Transfer,
    Count,
    Threshold,
    Ship,
    Cancel,
}

impl FormKind {
    pub fn title(self) -> &'static str {
        match self {
            FormKind::Receive => "Receive",
            FormKind::Adjust => "Adjust",
            FormKind::Transfer => "Transfer",
            FormKind::Count => "Cycle count",
            FormKind::Threshold => "Reorder threshold",
            FormKind::Ship => "Ship",
            FormKind::Cancel => "Cancel order",
        }
    }
}

/// What a form acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A level as it stood when the form opened.
    Level(StockLevel),
    Order {
        id: String,
        number: i64,
        status: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub label: &'static str,
    pub value: String,
    pub hint: &'static str,
}

impl Field {
    fn new(label: &'static str, value: impl Into<String>, hint: &'static str) -> Self {
        Self { label, value: value.into(), hint }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Edit,
    /// Showing before → after; Enter sends.
    Confirm,
    /// Sent; waiting for the core.
    Sending,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub kind: FormKind,
    pub subject: Subject,
    pub fields: Vec<Field>,
    pub focus: usize,
    pub stage: Stage,
    /// The core's refusal, or why it could not be reached.
    pub refusal: Option<String>,
    /// The idempotency key of this change: made once, so a retry after a lost connection
    /// cannot apply it twice.
    pub key: String,
}

/// A checked form: the change, and its before → after lines.
pub type Checked = (Op, Vec<String>);
/// The field that is wrong (its index) and why.
pub type Problem = (usize, String);

impl Form {
    pub fn stock(kind: FormKind, level: StockLevel, other_warehouse: Option<&str>) -> Self {
        let fields = match kind {
            FormKind::Receive => {
                vec![Field::new("Quantity", "", "units arriving"), Field::new("Reason", "received", "optional note")]
            }
            FormKind::Adjust => vec![
                Field::new("Change", "", "+N or -N, or =N to set on hand"),
                Field::new("Reason", "", "required: damaged, found, …"),
            ],
            FormKind::Transfer => vec![
                Field::new("Quantity", "", "units to move"),
                Field::new("To warehouse", other_warehouse.unwrap_or_default(), "warehouse code"),
            ],
            FormKind::Count => vec![Field::new("Counted", "", "units on the shelf")],
            FormKind::Threshold => vec![
                Field::new("Reorder point", level.reorder_point.to_string(), "low at or below this"),
                Field::new("Reorder qty", level.reorder_qty.to_string(), "how many to buy"),
            ],
            FormKind::Ship | FormKind::Cancel => Vec::new(),
        };
        Self::new(kind, Subject::Level(level), fields)
    }

    pub fn order(kind: FormKind, order: &Order) -> Self {
        let fields = match kind {
            FormKind::Ship => vec![Field::new("Tracking number", "", "carrier's tracking number")],
            _ => vec![Field::new("Reason", "", "required: why it is cancelled")],
        };
        let subject =
            Subject::Order { id: order.id.to_string(), number: order.number, status: order.status.to_string() };
        Self::new(kind, subject, fields)
    }

    fn new(kind: FormKind, subject: Subject, fields: Vec<Field>) -> Self {
        Self {
            kind,
            subject,
            fields,
            focus: 0,
            stage: Stage::Edit,
            refusal: None,
            key: uuid::Uuid::now_v7().to_string(),
        }
    }

    pub fn value(&self, i: usize) -> &str {
        self.fields.get(i).map_or("", |f| f.value.trim())
    }

    /// Checks every field; `on_hand_at` gives another warehouse's on-hand for a transfer's
    /// preview.
    pub fn check(&self, on_hand_at: &dyn Fn(&str, &str) -> Option<i64>) -> Result<Checked, Problem> {
        match &self.subject {
            Subject::Level(level) => self.check_stock(level, on_hand_at),
            Subject::Order { id, number, status } => {
                let text = required(self.value(0), 0, self.fields[0].label)?;
                Ok(match self.kind {
                    FormKind::Ship => (
                        Op::Ship { order: id.clone(), tracking: text.clone() },
                        vec![format!("order {number}: {status} → shipped"), format!("tracking {text}")],
                    ),
                    _ => (
                        Op::Cancel { order: id.clone(), reason: text.clone() },
                        vec![format!("order {number}: {status} → cancelled"), format!("reason: {text}")],
                    ),
                })
            }
        }
    }

    fn check_stock(&self, l: &StockLevel, on_hand_at: &dyn Fn(&str, &str) -> Option<i64>) -> Result<Checked, Problem> {
        let (sku, warehouse) = (l.sku.clone(), l.warehouse.clone());
        let on_hand = |to: i64| format!("{sku} at {warehouse}: on hand {} → {to}", l.on_hand);
        Ok(match self.kind {
            FormKind::Receive => {
                let quantity = positive(self.value(0), 0)?;
                let reason = self.value(1).to_owned();
                let preview = vec![on_hand(l.on_hand + quantity), available(l, l.available + quantity)];
                (Op::Receive { sku, warehouse, quantity, reason }, preview)
            }
            FormKind::Adjust => {
                let adjustment = change(self.value(0))?;
                let reason = required(self.value(1), 1, "Reason")?;
                let to = match adjustment {
                    Adjustment::By(by) => l.on_hand + by,
                    Adjustment::Set(to) => to,
                };
                let preview = vec![on_hand(to), available(l, l.available + to - l.on_hand)];
                (Op::Adjust { sku, warehouse, adjustment, reason }, preview)
            }
            FormKind::Transfer => {
                let quantity = positive(self.value(0), 0)?;
                let to = required(self.value(1), 1, "To warehouse")?.to_ascii_uppercase();
                if to == warehouse {
                    return Err((1, format!("already at {to}: name another warehouse")));
                }
                let there = on_hand_at(&sku, &to).unwrap_or(0);
                let preview = vec![
                    on_hand(l.on_hand - quantity),
                    format!("{sku} at {to}: on hand {there} → {}", there + quantity),
                ];
                (Op::Transfer { sku, from: warehouse, to, quantity }, preview)
            }
            FormKind::Count => {
                let counted = whole(self.value(0), 0)?;
                let preview = vec![on_hand(counted), format!("variance {:+}", counted - l.on_hand)];
                (Op::Count { sku, warehouse, counted }, preview)
            }
            FormKind::Threshold => {
                let reorder_point = whole(self.value(0), 0)?;
                let reorder_qty = whole(self.value(1), 1)?;
                let preview = vec![
                    format!("{sku} at {warehouse}: reorder point {} → {reorder_point}", l.reorder_point),
                    format!("reorder qty {} → {reorder_qty}", l.reorder_qty),
                ];
                (Op::Threshold { sku, warehouse, reorder_point, reorder_qty }, preview)
            }
            FormKind::Ship | FormKind::Cancel => return Err((0, "not a stock change".into())),
        })
    }
}

fn available(l: &StockLevel, to: i64) -> String {
    format!("available {} → {to} ({} reserved)", l.available, l.reserved)
}

fn required(value: &str, field: usize, label: &str) -> Result<String, Problem> {
    if value.is_empty() { Err((field, format!("{label} is required"))) } else { Ok(value.to_owned()) }
}

fn whole(value: &str, field: usize) -> Result<i64, Problem> {
    match value.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        _ if value.is_empty() => Err((field, "type a whole number".into())),
        _ => Err((field, format!("{value:?} is not a whole number of 0 or more"))),
    }
}

fn positive(value: &str, field: usize) -> Result<i64, Problem> {
    match whole(value, field)? {
        0 => Err((field, "must be more than 0".into())),
        n => Ok(n),
    }
}

/// `+N`/`-N` (or a bare N) changes on-hand by N; `=N` sets it.
fn change(value: &str) -> Result<Adjustment, Problem> {
    if let Some(set) = value.strip_prefix('=') {
        return whole(set.trim(), 0).map(Adjustment::Set);
    }
    match value.strip_prefix('+').unwrap_or(value).parse::<i64>() {
        Ok(0) => Err((0, "a change of 0 changes nothing".into())),
        Ok(by) => Ok(Adjustment::By(by)),
        Err(_) if value.is_empty() => Err((0, "type +N, -N or =N".into())),
        Err(_) => Err((0, format!("{value:?} is not +N, -N or =N"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level() -> StockLevel {
        StockLevel {
            product_id: stockyard_core::ProductId::new(),
            sku: "MUG-01".into(),
            warehouse: "MAIN".into(),
            on_hand: 10,
            reserved: 4,
            available: 6,
            reorder_point: 5,
            reorder_qty: 20,
        }
    }

    fn typed(kind: FormKind, values: &[&str]) -> Form {
        let mut form = Form::stock(kind, level(), None);
        for (field, value) in form.fields.iter_mut().zip(values) {
            field.value = (*value).into();
        }
        form
    }

    #[test]
    fn each_field_is_checked_as_typed_and_names_what_is_wrong() {
        let none = |_: &str, _: &str| None;
        assert_eq!(typed(FormKind::Receive, &["", ""]).check(&none).err().map(|e| e.0), Some(0));
        assert_eq!(typed(FormKind::Receive, &["-2", ""]).check(&none).err().map(|e| e.0), Some(0));
        let adjust = typed(FormKind::Adjust, &["-3", ""]).check(&none);
        assert_eq!(adjust.err(), Some((1, "Reason is required".into())));
        assert_eq!(typed(FormKind::Adjust, &["x", "r"]).check(&none).err().map(|e| e.0), Some(0));
        let transfer = typed(FormKind::Transfer, &["2", "main"]).check(&none);
        assert_eq!(transfer.err().map(|e| e.0), Some(1));
    }

    #[test]
    fn the_confirmation_shows_before_and_after() {
        let (op, preview) = typed(FormKind::Adjust, &["=7", "found"]).check(&|_, _| None).unwrap_or_else(|e| {
            panic!("{e:?}");
        });
        assert_eq!(
            op,
            Op::Adjust {
                sku: "MUG-01".into(),
                warehouse: "MAIN".into(),
                adjustment: Adjustment::Set(7),
                reason: "found".into()
            }
        );
        assert_eq!(preview, ["MUG-01 at MAIN: on hand 10 → 7", "available 6 → 3 (4 reserved)"]);
        let (_, preview) =
            typed(FormKind::Transfer, &["3", "east"]).check(&|_, _| Some(1)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(preview, ["MUG-01 at MAIN: on hand 10 → 7", "MUG-01 at EAST: on hand 1 → 4"]);
    }
}
