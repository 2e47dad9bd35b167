//! Scan mode: a barcode scanner types a code and Enter. The field takes every character up
//! to Enter, then jumps to the item; only once an item is matched do `+` and `-` on the
//! empty field (one unit, at once) or a typed quantity (`12+` or `12-`, then Enter) receive
//! or remove stock in one step, with a default reason. An unknown code is said inline and
//! the field is ready for the next scan.

use stockyard_core::{Action as Permission, Adjustment};

use super::{LogLine, push_log};
use crate::{
    app::App,
    keys::Action,
    worker::{Command, Op},
};

/// The reasons a scan records.
pub const RECEIVED: &str = "scan: received";
pub const REMOVED: &str = "scan: removed";

#[derive(Debug, Default)]
pub struct ScanView {
    pub input: String,
    /// The field has the focus (Esc on an empty field lets go; Enter takes it back).
    pub active: bool,
    pub warehouse: String,
    /// The SKU of the item the last scan found.
    pub matched: Option<String>,
    pub log: Vec<LogLine>,
}

impl ScanView {
    pub fn log(&mut self, text: String, error: bool) {
        push_log(&mut self.log, text, error);
    }
}

impl App {
    pub(crate) fn scan_act(&mut self, action: Action) -> Vec<Command> {
        let scan = &mut self.scan;
        if !scan.active {
            if action == Action::Enter {
                scan.active = true;
            } else if action == Action::Char('w') {
                return self.next_scan_warehouse();
            }
            return Vec::new();
        }
        match action {
            // A lone + or - on an empty field acts at once on the matched item.
            Action::Char(c @ ('+' | '-')) if scan.input.is_empty() && scan.matched.is_some() => {
                self.scan_move(if c == '+' { 1 } else { -1 })
            }
            Action::Char(c) => {
                scan.input.push(c);
                Vec::new()
            }
            Action::Backspace => {
                scan.input.pop();
                Vec::new()
            }
            Action::Back if scan.input.is_empty() => {
                scan.active = false;
                Vec::new()
            }
            Action::Back => {
                scan.input.clear();
                Vec::new()
            }
            Action::NextField => self.next_scan_warehouse(),
            Action::Enter => {
                let input = std::mem::take(&mut self.scan.input);
                let input = input.trim();
                if input.is_empty() {
                    return Vec::new();
                }
                match quantity(input) {
                    Some(by) if self.scan.matched.is_some() => self.scan_move(by),
                    Some(_) => {
                        self.scan.log(format!("{input}: scan an item first, then + or -"), true);
                        Vec::new()
                    }
                    None => {
                        self.scan_code(input);
                        Vec::new()
                    }
                }
            }
            _ => Vec::new(),
        }
    }

    fn next_scan_warehouse(&mut self) -> Vec<Command> {
        let warehouses = &self.stock.warehouses;
        let at = warehouses.iter().position(|w| *w == self.scan.warehouse).map_or(0, |i| i + 1);
        if let Some(next) = warehouses.get(at % warehouses.len().max(1)) {
            self.scan.warehouse = next.clone();
        }
        Vec::new()
    }

    fn scan_code(&mut self, code: &str) {
        match self.stock.find_code(code) {
            Some(info) => {
                let sku = info.sku.clone();
                let bin = info.bin.as_ref().map(|b| format!(", bin {b}")).unwrap_or_default();
                self.scan.log(format!("{sku} — {}{bin}: + or - moves stock here", info.name), false);
                self.scan.matched = Some(sku);
            }
            None => {
                self.scan.matched = None;
                self.scan.log(format!("{code}: no product has this SKU or barcode"), true);
            }
        }
    }

    /// Receives (`by` > 0) or removes stock of the matched item at the scan warehouse.
    fn scan_move(&mut self, by: i64) -> Vec<Command> {
        let Some(sku) = self.scan.matched.clone() else { return Vec::new() };
        let warehouse = self.scan.warehouse.clone();
        let permission = if by > 0 { Permission::StockReceive } else { Permission::StockAdjust };
        let explained = self.actor.explain(permission, Some(&warehouse));
        if !explained.allowed {
            self.scan.log(explained.reason, true);
            return Vec::new();
        }
        let op = match by > 0 {
            true => Op::Receive { sku, warehouse, quantity: by, reason: RECEIVED.into() },
            false => Op::Adjust { sku, warehouse, adjustment: Adjustment::By(by), reason: REMOVED.into() },
        };
        vec![Command::Do { op, key: uuid::Uuid::now_v7().to_string() }]
    }
}

/// `N+` or `N-`: a quantity to receive or remove. The sign comes last, so a code that
/// starts with digits and holds a dash is never read as one (codes do not end in a sign).
fn quantity(input: &str) -> Option<i64> {
    let sign = match input.as_bytes().last()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    input[..input.len() - 1].parse::<u32>().ok().filter(|n| *n > 0).map(|n| sign * i64::from(n))
}

#[cfg(test)]
mod tests {
    use super::quantity;

    #[test]
    fn only_a_number_then_a_sign_is_a_quantity() {
        assert_eq!(quantity("12+"), Some(12));
        assert_eq!(quantity("3-"), Some(-3));
        assert_eq!(quantity("+"), None);
        assert_eq!(quantity("12"), None);
        assert_eq!(quantity("MUG-01"), None);
        assert_eq!(quantity("123-45"), None);
        assert_eq!(quantity("0+"), None);
        assert_eq!(quantity("+12"), None);
        assert_eq!(quantity("x-"), None);
    }
}
