//! Property test: random sequences of stock operations on both backends keep
//! `0 ≤ reserved ≤ on_hand`, match a model of what each accepted operation does, fire one
//! threshold alert per crossing, and leave the projection equal to a replay of the log.

use std::collections::BTreeMap;

use proptest::prelude::*;
use stockyard_core::{Actor, Adjustment, Error, EventFilter, EventType, NewProduct, NewWarehouse, StockQuery, Store};
use stockyard_testkit::TestDb;

const SKUS: [&str; 2] = ["P-1", "P-2"];
const WAREHOUSES: [&str; 2] = ["MAIN", "EAST"];

#[derive(Debug, Clone)]
enum Op {
    Receive(usize, usize, i64),
    AdjustBy(usize, usize, i64),
    AdjustSet(usize, usize, i64),
    Count(usize, usize, i64),
    Transfer(usize, usize, i64),
    Threshold(usize, usize, i64, i64),
}

fn op() -> impl Strategy<Value = Op> {
    let (p, w) = (0..SKUS.len(), 0..WAREHOUSES.len());
    prop_oneof![
        (p.clone(), w.clone(), 1..20i64).prop_map(|(p, w, q)| Op::Receive(p, w, q)),
        (p.clone(), w.clone(), -15..15i64)
            .prop_filter("non-zero", |(_, _, d)| *d != 0)
            .prop_map(|(p, w, d)| Op::AdjustBy(p, w, d)),
        (p.clone(), w.clone(), 0..30i64).prop_map(|(p, w, n)| Op::AdjustSet(p, w, n)),
        (p.clone(), w.clone(), 0..30i64).prop_map(|(p, w, n)| Op::Count(p, w, n)),
        (p.clone(), w.clone(), 1..20i64).prop_map(|(p, from, q)| Op::Transfer(p, from, q)),
        (p, w, 0..10i64, 0..10i64).prop_map(|(p, w, point, qty)| Op::Threshold(p, w, point, qty)),
    ]
}

/// What the model keeps per level: on-hand and the reorder point.
#[derive(Debug, Clone, Copy, Default)]
struct Level {
    on_hand: i64,
    reorder_point: i64,
}

impl Level {
    fn low(&self) -> bool {
        self.reorder_point > 0 && self.on_hand <= self.reorder_point
    }
}

/// The levels an operation changes, as the model sees them; `None` when it must be refused.
type Changes = Vec<((usize, usize), Level)>;

fn store(db: &TestDb) -> Store {
    let store = db.store();
    let me = Actor::local_admin();
    store.warehouses().create(&me, NewWarehouse { code: "EAST".into(), name: "East".into() }).expect("EAST");
    for sku in SKUS {
        let product = NewProduct { sku: sku.into(), name: sku.into(), price: "1".into(), ..Default::default() };
        store.catalog().create_product(&me, product).expect("product");
    }
    store
}

fn check(db: &TestDb, ops: &[Op]) -> Result<(), TestCaseError> {
    let store = store(db);
    let (me, inv) = (Actor::local_admin(), store.inventory());
    let mut model: BTreeMap<(usize, usize), Level> = BTreeMap::new();
    let mut crossings = 0;
    for op in ops {
        let (outcome, expected): (Result<(), Error>, Option<Changes>) = match *op {
            Op::Receive(p, w, q) => {
                let l = model.get(&(p, w)).copied().unwrap_or_default();
                (
                    inv.receive(&me, SKUS[p], Some(WAREHOUSES[w]), q, None).map(drop),
                    Some(vec![((p, w), Level { on_hand: l.on_hand + q, ..l })]),
                )
            }
            Op::AdjustBy(p, w, d) => {
                let l = model.get(&(p, w)).copied().unwrap_or_default();
                let next = (l.on_hand + d >= 0).then(|| vec![((p, w), Level { on_hand: l.on_hand + d, ..l })]);
                (inv.adjust(&me, SKUS[p], Some(WAREHOUSES[w]), Adjustment::By(d), "prop").map(drop), next)
            }
            Op::AdjustSet(p, w, n) | Op::Count(p, w, n) => {
                let l = model.get(&(p, w)).copied().unwrap_or_default();
                let outcome = if matches!(op, Op::Count(..)) {
                    inv.count(&me, SKUS[p], Some(WAREHOUSES[w]), n).map(drop)
                } else {
                    inv.adjust(&me, SKUS[p], Some(WAREHOUSES[w]), Adjustment::Set(n), "prop").map(drop)
                };
                (outcome, Some(vec![((p, w), Level { on_hand: n, ..l })]))
            }
            Op::Transfer(p, from, q) => {
                let to = 1 - from;
                let (a, b) = (
                    model.get(&(p, from)).copied().unwrap_or_default(),
                    model.get(&(p, to)).copied().unwrap_or_default(),
                );
                let next = (a.on_hand >= q).then(|| {
                    vec![
                        ((p, from), Level { on_hand: a.on_hand - q, ..a }),
                        ((p, to), Level { on_hand: b.on_hand + q, ..b }),
                    ]
                });
                (inv.transfer(&me, SKUS[p], q, WAREHOUSES[from], WAREHOUSES[to]).map(drop), next)
            }
            Op::Threshold(p, w, point, qty) => {
                let l = model.get(&(p, w)).copied().unwrap_or_default();
                (
                    inv.set_threshold(&me, SKUS[p], Some(WAREHOUSES[w]), point, Some(qty)).map(drop),
                    Some(vec![((p, w), Level { reorder_point: point, ..l })]),
                )
            }
        };
        match (outcome, expected) {
            (Ok(()), Some(levels)) => {
                for (key, next) in levels {
                    let before = model.get(&key).copied().unwrap_or_default();
                    crossings += usize::from(!before.low() && next.low());
                    model.insert(key, next);
                }
            }
            (Err(Error::InsufficientStock { .. }), None) => {}
            (outcome, expected) => prop_assert!(false, "{op:?}: store said {outcome:?}, model expected {expected:?}"),
        }
    }
    let levels = inv.levels(&me, &StockQuery { limit: Some(100), ..Default::default() }).expect("levels").items;
    for level in &levels {
        prop_assert!(level.on_hand >= 0 && level.reserved >= 0 && level.reserved <= level.on_hand, "{level:?}");
        let key = (
            SKUS.iter().position(|s| *s == level.sku).expect("sku"),
            WAREHOUSES.iter().position(|w| *w == level.warehouse).expect("wh"),
        );
        let want = model.get(&key).copied().unwrap_or_default();
        prop_assert_eq!((level.on_hand, level.reorder_point), (want.on_hand, want.reorder_point), "{:?}", level);
    }
    let filter =
        EventFilter { event_type: Some(EventType::InventoryThresholdReached), limit: Some(1000), ..Default::default() };
    prop_assert_eq!(store.events().list(&me, &filter).expect("events").len(), crossings);
    let report = inv.verify(&me).expect("verify");
    prop_assert!(report.ok, "projection != replay: {:?}", report.differences);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_ledger_keeps_its_invariants(ops in prop::collection::vec(op(), 1..40)) {
        check(&TestDb::sqlite(), &ops)?;
    }

    #[test]
    fn postgres_ledger_keeps_its_invariants(ops in prop::collection::vec(op(), 1..40)) {
        if let Some(db) = TestDb::postgres() {
            check(&db, &ops)?;
        }
    }
}
