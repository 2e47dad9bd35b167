//! Property test: random sequences of stock operations and reservations on both backends
//! keep `0 ≤ reserved ≤ on_hand`, match a model of what each accepted operation does
//! (and refuse exactly what the model refuses), fire one threshold alert per crossing, and
//! leave the projection equal to a replay of the log.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use stockyard_core::{
    Actor, Adjustment, Error, EventFilter, EventType, NewProduct, NewWarehouse, StockQuery, Store,
    inventory::{Hold, ReservationStatus, ReserveRequest},
};
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
    /// Both products at one warehouse (a quantity of 0 leaves a product out); held by an
    /// order when the flag is set, else a checkout.
    Reserve(usize, i64, i64, bool),
    /// The n-th reservation made so far (modulo their number).
    Release(usize),
    Commit(usize),
    /// Every checkout reservation lapses.
    ExpireAll,
}

fn op() -> impl Strategy<Value = Op> {
    let (p, w) = (0..SKUS.len(), 0..WAREHOUSES.len());
    prop_oneof![
        1 => (p.clone(), w.clone(), 1..20i64).prop_map(|(p, w, q)| Op::Receive(p, w, q)),
        1 => (p.clone(), w.clone(), -15..15i64).prop_filter("non-zero", |(_, _, d)| *d != 0).prop_map(|(p, w, d)| Op::AdjustBy(p, w, d)),
        1 => (p.clone(), w.clone(), 0..30i64).prop_map(|(p, w, n)| Op::AdjustSet(p, w, n)),
        1 => (p.clone(), w.clone(), 0..30i64).prop_map(|(p, w, n)| Op::Count(p, w, n)),
        1 => (p.clone(), w.clone(), 1..20i64).prop_map(|(p, from, q)| Op::Transfer(p, from, q)),
        1 => (p, w.clone(), 0..10i64, 0..10i64).prop_map(|(p, w, point, qty)| Op::Threshold(p, w, point, qty)),
        3 => (w, 0..8i64, 0..8i64, any::<bool>())
            .prop_filter("something to hold", |(_, a, b, _)| a + b > 0)
            .prop_map(|(w, a, b, order)| Op::Reserve(w, a, b, order)),
        2 => any::<usize>().prop_map(Op::Release),
        1 => any::<usize>().prop_map(Op::Commit),
        1 => Just(Op::ExpireAll),
    ]
}

/// What the model keeps per level.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Level {
    on_hand: i64,
    reserved: i64,
    reorder_point: i64,
}

impl Level {
    fn low(&self) -> bool {
        self.reorder_point > 0 && self.on_hand - self.reserved <= self.reorder_point
    }
}

/// A reservation as the model sees it.
#[derive(Debug, Clone)]
struct Held {
    id: String,
    lines: Vec<((usize, usize), i64)>,
    /// Held past every sweep of the test (a long TTL).
    long: bool,
    active: bool,
}

type Key = (usize, usize);
/// Levels after a change, as the model computes them.
type Levels = Vec<(Key, Level)>;

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

/// The model's levels after `changes` (deltas of on-hand and reserved, or a new reorder
/// point), or `None` when one of them would break `0 ≤ reserved ≤ on_hand`.
fn after(model: &BTreeMap<Key, Level>, changes: &[(Key, i64, i64, Option<i64>)]) -> Option<Levels> {
    changes
        .iter()
        .map(|&(key, on_hand, reserved, point)| {
            let l = model.get(&key).copied().unwrap_or_default();
            let next = Level {
                on_hand: l.on_hand + on_hand,
                reserved: l.reserved + reserved,
                reorder_point: point.unwrap_or(l.reorder_point),
            };
            (next.reserved >= 0 && next.reserved <= next.on_hand).then_some((key, next))
        })
        .collect()
}

fn check(db: &TestDb, ops: &[Op]) -> Result<(), TestCaseError> {
    let store = store(db);
    let (me, inv) = (Actor::local_admin(), store.inventory());
    let mut model: BTreeMap<Key, Level> = BTreeMap::new();
    let mut held: Vec<Held> = Vec::new();
    let mut crossings = 0;
    for op in ops {
        let on_hand = |key: Key| model.get(&key).copied().unwrap_or_default().on_hand;
        // The changes the model expects, and what the store did.
        let (expected, outcome): (Option<Levels>, Result<(), Error>) = match *op {
            Op::Receive(p, w, q) => (
                after(&model, &[((p, w), q, 0, None)]),
                inv.receive(&me, SKUS[p], Some(WAREHOUSES[w]), q, None).map(drop),
            ),
            Op::AdjustBy(p, w, d) => (
                after(&model, &[((p, w), d, 0, None)]),
                inv.adjust(&me, SKUS[p], Some(WAREHOUSES[w]), Adjustment::By(d), "prop").map(drop),
            ),
            Op::AdjustSet(p, w, n) => (
                after(&model, &[((p, w), n - on_hand((p, w)), 0, None)]),
                inv.adjust(&me, SKUS[p], Some(WAREHOUSES[w]), Adjustment::Set(n), "prop").map(drop),
            ),
            Op::Count(p, w, n) => (
                after(&model, &[((p, w), n - on_hand((p, w)), 0, None)]),
                inv.count(&me, SKUS[p], Some(WAREHOUSES[w]), n).map(drop),
            ),
            Op::Transfer(p, from, q) => (
                after(&model, &[((p, from), -q, 0, None), ((p, 1 - from), q, 0, None)]),
                inv.transfer(&me, SKUS[p], q, WAREHOUSES[from], WAREHOUSES[1 - from]).map(drop),
            ),
            Op::Threshold(p, w, point, qty) => (
                after(&model, &[((p, w), 0, 0, Some(point))]),
                inv.set_threshold(&me, SKUS[p], Some(WAREHOUSES[w]), point, Some(qty)).map(drop),
            ),
            Op::Reserve(w, a, b, long) => {
                let lines: Vec<(Key, i64)> = [((0, w), a), ((1, w), b)].into_iter().filter(|(_, q)| *q > 0).collect();
                let changes: Vec<_> = lines.iter().map(|&(key, q)| (key, 0, q, None)).collect();
                let request = ReserveRequest {
                    lines: lines.iter().map(|&((p, _), q)| (SKUS[p].to_owned(), q)).collect(),
                    warehouse: Some(WAREHOUSES[w].to_owned()),
                    hold: if long { Hold::CheckoutFor(SignedDuration::from_hours(24 * 29)) } else { Hold::Checkout },
                    reference: None,
                };
                let outcome = inv
                    .reserve(&me, request)
                    .map(|r| held.push(Held { id: r.id.to_string(), lines, long, active: true }));
                (after(&model, &changes), outcome)
            }
            Op::Release(n) | Op::Commit(n) if !held.is_empty() => {
                let k = n % held.len();
                let commit = matches!(op, Op::Commit(_));
                let shipped = if commit { -1 } else { 0 };
                let changes: Vec<_> = held[k].lines.iter().map(|&(key, q)| (key, shipped * q, -q, None)).collect();
                let expected = if held[k].active { after(&model, &changes) } else { None };
                let id = held[k].id.clone();
                let outcome = if commit { inv.commit(&me, &id) } else { inv.release(&me, &id) };
                if outcome.is_ok() {
                    held[k].active = false;
                }
                (expected, outcome.map(drop))
            }
            Op::Release(_) | Op::Commit(_) => continue,
            Op::ExpireAll => {
                let lapsing: Vec<usize> = (0..held.len()).filter(|&k| held[k].active && !held[k].long).collect();
                let changes: Vec<_> =
                    lapsing.iter().flat_map(|&k| held[k].lines.iter().map(|&(key, q)| (key, 0, -q, None))).collect();
                let later = Timestamp::now() + SignedDuration::from_hours(1);
                let expired = inv.expire_due(&Actor::system("sweeper"), later).expect("sweep");
                prop_assert_eq!(expired, lapsing.len());
                for &k in &lapsing {
                    held[k].active = false;
                }
                // Several reservations may touch one level: apply their releases one by one.
                let mut next = model.clone();
                for change in &changes {
                    let (key, level) =
                        after(&next, std::slice::from_ref(change)).expect("a release always fits").remove(0);
                    crossings += usize::from(!next.get(&key).copied().unwrap_or_default().low() && level.low());
                    next.insert(key, level);
                }
                model = next;
                continue;
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
            (Err(Error::InvalidTransition { .. }), None) if matches!(op, Op::Release(_) | Op::Commit(_)) => {}
            (outcome, expected) => prop_assert!(false, "{op:?}: store said {outcome:?}, model expected {expected:?}"),
        }
    }
    // The store's levels and the model's, as whole sets: a level lost (or one too many)
    // shows, not only a wrong number. Untouched levels and levels back at zero count alike.
    let levels = inv.levels(&me, &StockQuery { limit: Some(100), ..Default::default() }).expect("levels").items;
    let mut stored = BTreeMap::new();
    for level in &levels {
        prop_assert!(level.on_hand >= 0 && level.reserved >= 0 && level.reserved <= level.on_hand, "{level:?}");
        let key = (
            SKUS.iter().position(|s| *s == level.sku).expect("sku"),
            WAREHOUSES.iter().position(|w| *w == level.warehouse).expect("wh"),
        );
        stored.insert(key, (level.on_hand, level.reserved, level.reorder_point));
    }
    let modelled: BTreeMap<Key, (i64, i64, i64)> =
        model.iter().map(|(key, l)| (*key, (l.on_hand, l.reserved, l.reorder_point))).collect();
    let nonzero = |set: &BTreeMap<Key, (i64, i64, i64)>| -> BTreeMap<Key, (i64, i64, i64)> {
        set.iter().filter(|(_, n)| **n != (0, 0, 0)).map(|(k, n)| (*k, *n)).collect()
    };
    prop_assert_eq!(nonzero(&stored), nonzero(&modelled));
    for h in &held {
        let status = inv.reservation(&me, &h.id).expect("reservation").status;
        prop_assert_eq!(status == ReservationStatus::Active, h.active, "{:?}", h);
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
        if let Some(db) = TestDb::migrated_postgres() {
            check(&db, &ops)?;
        }
    }
}
