//! Allocation, free of storage: which active warehouses serve which lines of a reservation
//! that names none, splitting a line across warehouses when it must, and a sentence saying why.
//!
//! Every active warehouse is considered (never only the first one, Medusa #14987): a request
//! that all of them together can cover is always allocated, and one they cannot is refused
//! naming every short line.

use std::{cmp::Reverse, fmt, str::FromStr};

use crate::{Error, warehouses};

/// The two accepted spellings of `STOCKYARD_ALLOCATION`, for error messages.
const FORMS: &str = "`single-then-most` or `priority:W1,W2,...`";

/// How to choose warehouses when a reservation names none. Chosen by configuration:
/// `STOCKYARD_ALLOCATION` = `single-then-most` (default) or `priority:W1,W2,...`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Strategy {
    /// One warehouse that holds every line in full (the one with the most stock of them);
    /// failing that, each line from the warehouses with the most of it first.
    #[default]
    SingleThenMost,
    /// Warehouses in this order of codes, then the rest in code order: the first that holds
    /// every line in full; failing that, each line filled down that order.
    Priority(Vec<String>),
}

impl FromStr for Strategy {
    type Err = Error;

    /// `single-then-most`, or `priority:` and a comma-separated list of warehouse codes
    /// (trimmed, upper-cased, none empty, none twice).
    fn from_str(value: &str) -> Result<Self, Error> {
        let trimmed = value.trim();
        if trimmed == "single-then-most" {
            return Ok(Strategy::SingleThenMost);
        }
        let Some(list) = trimmed.strip_prefix("priority:") else {
            return Err(invalid(value, "is not an allocation strategy"));
        };
        let mut codes: Vec<String> = Vec::new();
        for code in list.split(',') {
            if code.trim().is_empty() {
                return Err(invalid(value, "has an empty warehouse code"));
            }
            let code = warehouses::parse_code(code).map_err(|e| match e {
                Error::Invalid { reason, .. } => invalid(value, format_args!("has a bad warehouse code: {reason}")),
                other => other,
            })?;
            if codes.contains(&code) {
                return Err(invalid(value, format_args!("names warehouse {code} twice")));
            }
            codes.push(code);
        }
        Ok(Strategy::Priority(codes))
    }
}

impl fmt::Display for Strategy {
    /// The configuration value: whatever `from_str` accepted parses back to the same strategy.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::SingleThenMost => f.write_str("single-then-most"),
            Strategy::Priority(codes) => write!(f, "priority:{}", codes.join(",")),
        }
    }
}

fn invalid(value: &str, problem: impl fmt::Display) -> Error {
    Error::invalid("allocation", format!("{value:?} {problem}; expected {FORMS}"))
}

/// Available stock of one warehouse, per line of the request (same order as the needs).
/// A missing entry counts as 0, and so does a negative one.
#[derive(Debug, Clone)]
pub struct WarehouseStock {
    pub code: String,
    pub available: Vec<i64>,
}

impl WarehouseStock {
    /// What this warehouse can give of line `line`: never below zero, so one warehouse's
    /// deficit never cancels another's stock.
    fn available(&self, line: usize) -> i64 {
        self.available.get(line).copied().unwrap_or(0).max(0)
    }

    /// Whether it can give every line in full on its own.
    fn holds_all(&self, needs: &[i64]) -> bool {
        needs.iter().enumerate().all(|(line, &need)| self.available(line) >= need)
    }

    /// Its stock of the requested lines, added up.
    fn stock_of(&self, needs: &[i64]) -> i64 {
        (0..needs.len()).map(|line| self.available(line)).fold(0, i64::saturating_add)
    }
}

/// One piece of the answer: `quantity` of line `line` from `warehouse` (a code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub line: usize,
    pub warehouse: String,
    pub quantity: i64,
}

/// The allocation and a sentence saying why it was chosen (for `--explain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// By line, then in the order taken; none of quantity 0; each line's picks add up to
    /// exactly its need.
    pub picks: Vec<Pick>,
    pub reason: String,
}

/// A line that all warehouses together cannot cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Short {
    pub line: usize,
    pub needed: i64,
    /// Everything available of it, over all warehouses.
    pub available: i64,
}

/// Decides which of `warehouses` (the active ones, in code order) serve each line of a
/// request, where `needs[i]` is the quantity of line `i` (a line asking for 0 or less gets
/// no picks). Refuses with every line that all warehouses together cannot cover.
pub fn allocate(strategy: &Strategy, needs: &[i64], warehouses: &[WarehouseStock]) -> Result<Plan, Vec<Short>> {
    let short = shortages(needs, warehouses);
    if !short.is_empty() {
        return Err(short);
    }
    if needs.iter().all(|&need| need <= 0) {
        return Ok(Plan { picks: Vec::new(), reason: "nothing to allocate".into() });
    }
    Ok(match strategy {
        Strategy::SingleThenMost => single_then_most(needs, warehouses),
        Strategy::Priority(codes) => priority(codes, needs, warehouses),
    })
}

/// Every line whose need exceeds the stock of all warehouses together.
fn shortages(needs: &[i64], warehouses: &[WarehouseStock]) -> Vec<Short> {
    needs
        .iter()
        .enumerate()
        .filter_map(|(line, &needed)| {
            let available = warehouses.iter().map(|w| w.available(line)).fold(0, i64::saturating_add);
            (available < needed).then_some(Short { line, needed, available })
        })
        .collect()
}

fn single_then_most(needs: &[i64], warehouses: &[WarehouseStock]) -> Plan {
    let mut holders = 0;
    let mut best: Option<(&WarehouseStock, i64)> = None;
    for warehouse in warehouses.iter().filter(|w| w.holds_all(needs)) {
        holders += 1;
        let stock = warehouse.stock_of(needs);
        if best.is_none_or(|(_, most)| stock > most) {
            best = Some((warehouse, stock));
        }
    }
    if let Some((warehouse, _)) = best {
        let reason = match holders {
            1 => format!("{} holds every line", warehouse.code),
            n => format!(
                "{} holds every line and, of the {n} warehouses that do, the most stock of them",
                warehouse.code
            ),
        };
        return Plan { picks: whole(warehouse, needs), reason };
    }
    let mut picks = Vec::new();
    for (line, &need) in needs.iter().enumerate() {
        let mut order: Vec<&WarehouseStock> = warehouses.iter().collect();
        // Stable: equal stock keeps the given (code) order.
        order.sort_by_key(|w| Reverse(w.available(line)));
        fill(&mut picks, line, need, order);
    }
    Plan {
        picks,
        reason: "no single warehouse holds every line; each line taken from the warehouses with the most stock first"
            .into(),
    }
}

fn priority(codes: &[String], needs: &[i64], warehouses: &[WarehouseStock]) -> Plan {
    let order = priority_order(codes, warehouses);
    let named = order.iter().map(|w| w.code.as_str()).collect::<Vec<_>>().join(", ");
    if let Some(warehouse) = order.iter().find(|w| w.holds_all(needs)) {
        return Plan {
            picks: whole(warehouse, needs),
            reason: format!(
                "{} is the first warehouse in priority order {named} that holds every line",
                warehouse.code
            ),
        };
    }
    let mut picks = Vec::new();
    for (line, &need) in needs.iter().enumerate() {
        fill(&mut picks, line, need, order.iter().copied());
    }
    Plan { picks, reason: format!("no single warehouse holds every line; each line taken in priority order {named}") }
}

/// The listed warehouses in the list's order (a code matching none is ignored), then the
/// others in the given order; each warehouse once.
fn priority_order<'w>(codes: &[String], warehouses: &'w [WarehouseStock]) -> Vec<&'w WarehouseStock> {
    let mut taken = vec![false; warehouses.len()];
    let mut order = Vec::with_capacity(warehouses.len());
    for code in codes {
        let code = code.trim();
        let found = warehouses.iter().zip(taken.iter_mut()).find(|(w, t)| !**t && w.code.eq_ignore_ascii_case(code));
        if let Some((warehouse, t)) = found {
            *t = true;
            order.push(warehouse);
        }
    }
    order.extend(warehouses.iter().zip(&taken).filter(|(_, t)| !**t).map(|(w, _)| w));
    order
}

/// Every line in full from one warehouse.
fn whole(warehouse: &WarehouseStock, needs: &[i64]) -> Vec<Pick> {
    needs
        .iter()
        .enumerate()
        .filter(|(_, need)| **need > 0)
        .map(|(line, &quantity)| Pick { line, warehouse: warehouse.code.clone(), quantity })
        .collect()
}

/// Takes line `line` from the warehouses in `order`, each giving what it has, until `need`
/// is met.
fn fill<'w>(picks: &mut Vec<Pick>, line: usize, need: i64, order: impl IntoIterator<Item = &'w WarehouseStock>) {
    let mut remaining = need;
    for warehouse in order {
        if remaining <= 0 {
            break;
        }
        let quantity = warehouse.available(line).min(remaining);
        if quantity > 0 {
            picks.push(Pick { line, warehouse: warehouse.code.clone(), quantity });
            remaining -= quantity;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stock(code: &str, available: &[i64]) -> WarehouseStock {
        WarehouseStock { code: code.into(), available: available.to_vec() }
    }

    fn pick(line: usize, warehouse: &str, quantity: i64) -> Pick {
        Pick { line, warehouse: warehouse.into(), quantity }
    }

    fn picks(strategy: &Strategy, needs: &[i64], warehouses: &[WarehouseStock]) -> Vec<Pick> {
        match allocate(strategy, needs, warehouses) {
            Ok(plan) => plan.picks,
            Err(short) => panic!("expected a plan, got shortages {short:?}"),
        }
    }

    fn priority_of(codes: &[&str]) -> Strategy {
        Strategy::Priority(codes.iter().map(|c| c.to_string()).collect())
    }

    #[test]
    fn strategy_parses_and_displays_round_trip() {
        assert_eq!("single-then-most".parse::<Strategy>().ok(), Some(Strategy::SingleThenMost));
        assert_eq!(" single-then-most ".parse::<Strategy>().ok(), Some(Strategy::SingleThenMost));
        assert_eq!(Strategy::default(), Strategy::SingleThenMost);
        assert_eq!("priority: east , Main".parse::<Strategy>().ok(), Some(priority_of(&["EAST", "MAIN"])));
        assert_eq!("priority:W_1".parse::<Strategy>().ok(), Some(priority_of(&["W_1"])));
        for strategy in [Strategy::SingleThenMost, priority_of(&["EAST"]), priority_of(&["EAST", "MAIN", "W-2"])] {
            let shown = strategy.to_string();
            assert_eq!(shown.parse::<Strategy>().ok(), Some(strategy), "{shown}");
        }
        assert_eq!(priority_of(&["EAST", "MAIN"]).to_string(), "priority:EAST,MAIN");
    }

    #[test]
    fn bad_strategies_are_refused_naming_the_setting_the_value_and_both_forms() {
        for value in [
            "",
            "   ",
            "most",
            "Single-Then-Most",
            "single-then-most,priority:MAIN",
            "priority",
            "priority:",
            "priority: ",
            "priority:EAST,,MAIN",
            "priority:EAST,",
            "priority:EAST,east",
            "priority:EA ST",
            "priority:-EAST",
            "priority=EAST",
        ] {
            match value.parse::<Strategy>() {
                Err(Error::Invalid { field, reason }) => {
                    assert_eq!(field, "allocation", "{value:?}");
                    assert!(reason.contains(&format!("{value:?}")), "{value:?}: {reason}");
                    assert!(reason.contains("single-then-most") && reason.contains("priority:W1,W2"), "{reason}");
                }
                other => panic!("{value:?} gave {other:?}"),
            }
        }
        let duplicate = "priority:EAST,east".parse::<Strategy>().map_err(|e| e.to_string());
        assert!(duplicate.is_err_and(|e| e.starts_with("invalid allocation: ") && e.contains("EAST twice")));
    }

    #[test]
    fn one_warehouse_serves_everything_when_it_can() {
        let warehouses = [stock("EAST", &[1, 9]), stock("MAIN", &[5, 5]), stock("WEST", &[9, 1])];
        let plan = allocate(&Strategy::SingleThenMost, &[2, 3], &warehouses);
        assert_eq!(
            plan,
            Ok(Plan { picks: vec![pick(0, "MAIN", 2), pick(1, "MAIN", 3)], reason: "MAIN holds every line".into() })
        );
    }

    #[test]
    fn among_several_that_can_the_one_with_most_stock_serves_ties_to_the_first() {
        let warehouses = [stock("EAST", &[3, 3]), stock("MAIN", &[4, 10]), stock("WEST", &[20, 1])];
        let plan = allocate(&Strategy::SingleThenMost, &[2, 3], &warehouses);
        let plan = plan.unwrap_or_else(|short| panic!("{short:?}"));
        assert_eq!(plan.picks, vec![pick(0, "MAIN", 2), pick(1, "MAIN", 3)]);
        assert!(
            plan.reason.starts_with("MAIN holds every line") && plan.reason.contains("of the 2 warehouses that do"),
            "{}",
            plan.reason
        );
        let tied = [stock("EAST", &[5, 5]), stock("MAIN", &[6, 4])];
        assert_eq!(picks(&Strategy::SingleThenMost, &[2, 3], &tied), vec![pick(0, "EAST", 2), pick(1, "EAST", 3)]);
    }

    #[test]
    fn lines_split_most_stock_first_when_no_warehouse_holds_all() {
        // Line 0 only WEST has enough of; line 1 needs two warehouses.
        let warehouses = [stock("EAST", &[1, 4]), stock("MAIN", &[2, 6]), stock("WEST", &[8, 0])];
        let plan = allocate(&Strategy::SingleThenMost, &[5, 9], &warehouses);
        let plan = plan.unwrap_or_else(|short| panic!("{short:?}"));
        assert_eq!(plan.picks, vec![pick(0, "WEST", 5), pick(1, "MAIN", 6), pick(1, "EAST", 3)]);
        assert_eq!(
            plan.reason,
            "no single warehouse holds every line; each line taken from the warehouses with the most stock first"
        );
        // Equal stock keeps the given order.
        let tied = [stock("EAST", &[3, 0]), stock("MAIN", &[3, 1])];
        assert_eq!(
            picks(&Strategy::SingleThenMost, &[4, 1], &tied),
            vec![pick(0, "EAST", 3), pick(0, "MAIN", 1), pick(1, "MAIN", 1)]
        );
    }

    #[test]
    fn priority_order_is_honoured_and_unknown_codes_ignored() {
        let warehouses = [stock("EAST", &[10, 10]), stock("MAIN", &[10, 10]), stock("WEST", &[10, 10])];
        let strategy = priority_of(&["NOPE", "WEST", "MAIN"]);
        let plan = allocate(&strategy, &[2, 3], &warehouses).unwrap_or_else(|short| panic!("{short:?}"));
        assert_eq!(plan.picks, vec![pick(0, "WEST", 2), pick(1, "WEST", 3)]);
        assert_eq!(plan.reason, "WEST is the first warehouse in priority order WEST, MAIN, EAST that holds every line");
        // The first that holds every line wins over an earlier one that holds only some.
        let warehouses = [stock("EAST", &[10, 10]), stock("MAIN", &[10, 10]), stock("WEST", &[10, 1])];
        assert_eq!(picks(&strategy, &[2, 3], &warehouses), vec![pick(0, "MAIN", 2), pick(1, "MAIN", 3)]);
        // Unlisted warehouses follow in the given order.
        let warehouses = [stock("EAST", &[10, 10]), stock("MAIN", &[1, 1]), stock("WEST", &[1, 1])];
        assert_eq!(picks(&strategy, &[2, 3], &warehouses), vec![pick(0, "EAST", 2), pick(1, "EAST", 3)]);
    }

    #[test]
    fn priority_fills_each_line_down_the_order_when_none_holds_all() {
        let warehouses = [stock("EAST", &[3, 1]), stock("MAIN", &[2, 0]), stock("WEST", &[0, 5])];
        let plan = allocate(&priority_of(&["WEST", "MAIN"]), &[4, 6], &warehouses);
        let plan = plan.unwrap_or_else(|short| panic!("{short:?}"));
        assert_eq!(plan.picks, vec![pick(0, "MAIN", 2), pick(0, "EAST", 2), pick(1, "WEST", 5), pick(1, "EAST", 1)]);
        assert_eq!(
            plan.reason,
            "no single warehouse holds every line; each line taken in priority order WEST, MAIN, EAST"
        );
    }

    #[test]
    fn shortage_names_every_short_line_with_the_total_available() {
        let warehouses = [stock("EAST", &[1, 5, 0]), stock("MAIN", &[2, 5, 4])];
        for strategy in [Strategy::SingleThenMost, priority_of(&["MAIN"])] {
            assert_eq!(
                allocate(&strategy, &[4, 10, 5], &warehouses),
                Err(vec![Short { line: 0, needed: 4, available: 3 }, Short { line: 2, needed: 5, available: 4 }])
            );
        }
        assert_eq!(
            allocate(&Strategy::SingleThenMost, &[1], &[]),
            Err(vec![Short { line: 0, needed: 1, available: 0 }]),
            "no active warehouse"
        );
    }

    #[test]
    fn zero_negative_and_missing_stock_count_as_nothing() {
        // A deficit in one warehouse never cancels stock in another.
        let warehouses = [stock("EAST", &[-5, 2]), stock("MAIN", &[3]), stock("WEST", &[0, 0, 7])];
        assert_eq!(
            picks(&Strategy::SingleThenMost, &[3, 2, 7], &warehouses),
            vec![pick(0, "MAIN", 3), pick(1, "EAST", 2), pick(2, "WEST", 7)]
        );
        assert_eq!(
            allocate(&Strategy::SingleThenMost, &[4, 3, 1, 1], &warehouses),
            Err(vec![
                Short { line: 0, needed: 4, available: 3 },
                Short { line: 1, needed: 3, available: 2 },
                Short { line: 3, needed: 1, available: 0 }
            ])
        );
        let plan = allocate(&Strategy::SingleThenMost, &[], &warehouses);
        assert_eq!(plan, Ok(Plan { picks: vec![], reason: "nothing to allocate".into() }));
        let huge = [stock("EAST", &[i64::MAX]), stock("MAIN", &[i64::MAX])];
        assert_eq!(picks(&Strategy::SingleThenMost, &[i64::MAX], &huge), vec![pick(0, "EAST", i64::MAX)]);
    }

    /// A tiny deterministic xorshift64, so the loop below needs no new crate and always sees
    /// the same inputs.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        /// A number in `lo..=hi`.
        fn range(&mut self, lo: i64, hi: i64) -> i64 {
            let span = hi.abs_diff(lo) + 1;
            lo + i64::try_from(self.next() % span).unwrap_or(0)
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.range(0, i64::try_from(n).unwrap_or(1) - 1)).unwrap_or(0)
        }
    }

    #[test]
    fn any_request_is_covered_exactly_or_refused_with_exactly_the_short_lines() {
        const CODES: [&str; 5] = ["EAST", "MAIN", "NORTH", "SOUTH", "WEST"];
        let mut rng = XorShift(0x5eed_1234_abcd_ef01);
        let (mut covered, mut split, mut refused) = (0, 0, 0);
        for case in 0..500 {
            let lines = rng.below(5);
            let needs: Vec<i64> = (0..lines).map(|_| rng.range(1, 9)).collect();
            let mut warehouses: Vec<WarehouseStock> = Vec::new();
            for code in CODES {
                if rng.range(0, 3) > 0 {
                    let len = rng.below(lines + 2);
                    let available = (0..len).map(|_| rng.range(-3, 8)).collect();
                    warehouses.push(WarehouseStock { code: code.into(), available });
                }
            }
            let strategy = if rng.range(0, 1) == 0 {
                Strategy::SingleThenMost
            } else {
                let listed = rng.below(4);
                let mut codes: Vec<String> = Vec::new();
                for _ in 0..listed {
                    let code = ["EAST", "MAIN", "NORTH", "SOUTH", "WEST", "GONE"][rng.below(6)];
                    if !codes.iter().any(|c| c == code) {
                        codes.push(code.into());
                    }
                }
                Strategy::Priority(codes)
            };
            let has = |code: &str, line: usize| {
                warehouses.iter().find(|w| w.code == code).map_or(0, |w| w.available.get(line).map_or(0, |&a| a.max(0)))
            };
            let total = |line: usize| warehouses.iter().map(|w| w.available.get(line).map_or(0, |&a| a.max(0))).sum();
            let context = format!("case {case}: {strategy:?} {needs:?} {warehouses:?}");
            let outcome = allocate(&strategy, &needs, &warehouses);
            assert_eq!(outcome, allocate(&strategy, &needs, &warehouses), "deterministic; {context}");
            match outcome {
                Ok(plan) => {
                    covered += 1;
                    split += usize::from(plan.picks.windows(2).any(|p| p[0].line == p[1].line));
                    assert!(needs.iter().enumerate().all(|(line, &need)| need <= total(line)), "{context}");
                    assert!(!plan.reason.is_empty(), "{context}");
                    assert!(plan.picks.windows(2).all(|p| p[0].line <= p[1].line), "sorted by line; {context}");
                    for (line, &need) in needs.iter().enumerate() {
                        let of_line: Vec<&Pick> = plan.picks.iter().filter(|p| p.line == line).collect();
                        assert_eq!(of_line.iter().map(|p| p.quantity).sum::<i64>(), need, "line {line}; {context}");
                        for p in &of_line {
                            assert!(p.quantity > 0, "{context}");
                            let from_same: i64 =
                                of_line.iter().filter(|q| q.warehouse == p.warehouse).map(|q| q.quantity).sum();
                            assert!(from_same <= has(&p.warehouse, line), "{p:?} over stock; {context}");
                        }
                    }
                    assert!(plan.picks.iter().all(|p| p.line < needs.len()), "{context}");
                    // A warehouse that holds every line means no split.
                    if warehouses.iter().any(|w| w.holds_all(&needs)) {
                        let first = plan.picks.first().map(|p| p.warehouse.clone());
                        assert!(plan.picks.iter().all(|p| Some(&p.warehouse) == first.as_ref()), "{context}");
                    }
                }
                Err(short) => {
                    refused += 1;
                    let expected: Vec<Short> = needs
                        .iter()
                        .enumerate()
                        .filter(|&(line, &needed)| total(line) < needed)
                        .map(|(line, &needed)| Short { line, needed, available: total(line) })
                        .collect();
                    assert!(!expected.is_empty(), "{context}");
                    assert_eq!(short, expected, "{context}");
                }
            }
        }
        // The inputs reach every branch, not just the easy one.
        assert!(covered > 50 && split > 20 && refused > 50, "covered {covered}, split {split}, refused {refused}");
    }
}
