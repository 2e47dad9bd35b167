//! A realistic demo data set: categories, three warehouses, products with attributes, their
//! stock with reorder points (some below them), and orders in every state they settle in.
//! Deterministic, and idempotent: what already exists is left alone, and only products this
//! run created get stock and orders.

use std::{
    collections::{BTreeMap, HashSet},
    fmt::Write,
};

use serde::Serialize;

use crate::{
    Actor, Error, NewCategory, NewProduct, NewWarehouse, OrderStatus, ProductQuery, Result, Store,
    inventory::{Hold, ReserveRequest},
    orders::{Customer, NewOrder, ReturnLine},
};

/// What a demo run created.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DemoReport {
    pub categories_created: usize,
    pub warehouses_created: usize,
    pub products_created: usize,
    /// Stock movements recorded for the new products.
    pub stock_movements: usize,
    /// New stock levels at or below their reorder point.
    pub low_stock: usize,
    /// Active checkout reservations made for the new products.
    pub reservations_created: usize,
    /// Orders placed for the new products, one in each state.
    pub orders_created: usize,
}

const CATEGORIES: &[(&str, Option<&str>)] = &[
    ("Electronics", None),
    ("Audio", Some("Electronics")),
    ("Computers", Some("Electronics")),
    ("Home", None),
    ("Kitchen", Some("Home")),
    ("Garden", Some("Home")),
    ("Tools", None),
    ("Apparel", None),
];

const WAREHOUSES: &[(&str, &str)] = &[("EAST", "East distribution centre"), ("WEST", "West coast depot")];

/// Leaf category, SKU prefix, product nouns.
const LINES: &[(&str, &str, &[&str])] = &[
    ("Audio", "AUD", &["Headphones", "Bluetooth Speaker", "Earbuds", "Soundbar"]),
    ("Computers", "CMP", &["Mechanical Keyboard", "Wireless Mouse", "27in Monitor", "USB-C Hub"]),
    ("Kitchen", "KIT", &["Kettle", "Chef Knife", "Enamel Mug", "Cutting Board", "Frying Pan"]),
    ("Garden", "GRD", &["Garden Hose", "Trowel", "Planter", "Pruning Shears"]),
    ("Tools", "TLS", &["Claw Hammer", "Screwdriver Set", "Cordless Drill", "Tape Measure"]),
    ("Apparel", "APP", &["T-Shirt", "Hoodie", "Rain Jacket", "Wool Socks"]),
];

const ADJECTIVES: &[&str] = &["Classic", "Compact", "Deluxe", "Rugged", "Slim", "Eco", "Pro", "Vintage"];
const COLORS: &[&str] = &["black", "white", "red", "blue", "green", "grey"];
const BRANDS: &[&str] = &["Northwind", "Acme", "Globex", "Initech", "Umbrella"];
const SIZES: &[&str] = &["S", "M", "L", "XL"];

/// Seeds `products` demo products (plus the categories and warehouses they use).
pub fn seed(store: &Store, actor: &Actor, products: usize) -> Result<DemoReport> {
    let mut report = DemoReport::default();
    let catalog = store.catalog();
    for (name, parent) in CATEGORIES {
        let input = NewCategory { name: (*name).into(), parent: parent.map(Into::into) };
        report.categories_created += created(catalog.create_category(actor, input))?;
    }
    for (code, name) in WAREHOUSES {
        let input = NewWarehouse { code: (*code).into(), name: (*name).into() };
        report.warehouses_created += created(store.warehouses().create(actor, input))?;
    }
    // The products not yet in the catalog, with their stock, in two imports: a large demo
    // seeds in seconds, not a transaction per product and movement.
    let mut existing = HashSet::new();
    let mut query = ProductQuery { limit: Some(1000), ..Default::default() };
    loop {
        let page = catalog.list_products(actor, &query)?;
        existing.extend(page.items.into_iter().map(|p| p.sku.to_string()));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    let new_products: Vec<usize> = (0..products).filter(|&i| !existing.contains(&product(i).sku)).collect();
    if !new_products.is_empty() {
        let mut none = |_, _| {};
        let sheet = catalog_sheet(&new_products);
        report.products_created = catalog.import_products(actor, sheet.as_bytes(), false, &mut none)?.created;
        let sheet = stock_sheet(&new_products, &mut report);
        store.inventory().import_stock(actor, sheet.as_bytes(), false, &mut none)?;
    }
    for &i in new_products.iter().filter(|&&i| i % 11 == 5) {
        reserve(store, actor, i)?;
        report.reservations_created += 1;
    }
    if !new_products.is_empty() {
        for (n, steps) in ORDERS.iter().enumerate() {
            order(store, actor, &new_products, n, steps)?;
            report.orders_created += 1;
        }
    }
    Ok(report)
}

/// One step of an order's life after it was placed.
#[derive(Debug)]
enum Step {
    Pay,
    /// `picking`, `packed`, `shipped` or `delivered`.
    Status(OrderStatus),
    Cancel,
    RequestReturn,
    /// The goods back: the first line restocked, any second one written off.
    Return,
    Refund,
}

use Step::{Cancel, Pay, Refund, RequestReturn, Return, Status};

/// The demo's orders, by the steps each takes: confirmed, paid, picking, packed, shipped,
/// delivered, cancelled, return_requested, returned and refunded.
const ORDERS: &[&[Step]] = &[
    &[],
    &[Pay],
    &[Pay, Status(OrderStatus::Picking)],
    &[Pay, Status(OrderStatus::Picking), Status(OrderStatus::Packed)],
    &[Pay, Status(OrderStatus::Picking), Status(OrderStatus::Packed), Status(OrderStatus::Shipped)],
    &[
        Pay,
        Status(OrderStatus::Picking),
        Status(OrderStatus::Packed),
        Status(OrderStatus::Shipped),
        Status(OrderStatus::Delivered),
    ],
    &[Cancel],
    &[
        Pay,
        Status(OrderStatus::Picking),
        Status(OrderStatus::Packed),
        Status(OrderStatus::Shipped),
        Status(OrderStatus::Delivered),
        RequestReturn,
    ],
    &[Pay, Status(OrderStatus::Picking), Status(OrderStatus::Packed), Status(OrderStatus::Shipped), Return],
    &[
        Pay,
        Status(OrderStatus::Picking),
        Status(OrderStatus::Packed),
        Status(OrderStatus::Shipped),
        Status(OrderStatus::Delivered),
        Return,
        Refund,
    ],
];

/// Made-up customers: name, email, phone, address.
const CUSTOMERS: &[(&str, &str, &str, &str)] = &[
    ("Ada Lovelace", "ada.lovelace@example.com", "+44 20 7946 0018", "12 St James's Square, London"),
    ("Grace Hopper", "grace.hopper@example.com", "+1 212 555 0142", "410 Park Avenue, New York"),
    ("Alan Turing", "alan.turing@example.net", "+44 161 496 0735", "43 Adlington Road, Wilmslow"),
    ("Katherine Johnson", "k.johnson@example.org", "+1 757 555 0199", "8 Langley Boulevard, Hampton"),
    ("Edsger Dijkstra", "edsger@example.nl", "+31 20 555 0123", "Plantage Muidergracht 24, Amsterdam"),
    ("Margaret Hamilton", "mhamilton@example.com", "+1 617 555 0177", "77 Massachusetts Avenue, Cambridge"),
    ("Linus Pauling", "linus.p@example.edu", "+1 503 555 0160", "3945 SE Hawthorne Blvd, Portland"),
];

/// Places the `n`-th demo order — one or two of the new products, one unit each, so even a
/// single new product has stock for all of them — and takes it through `steps`.
fn order(store: &Store, actor: &Actor, new_products: &[usize], n: usize, steps: &[Step]) -> Result<()> {
    let orders = store.orders();
    let (name, email, phone, address) = CUSTOMERS[n % CUSTOMERS.len()];
    let mut skus = vec![product(new_products[n % new_products.len()]).sku];
    if new_products.len() > 1 && !n.is_multiple_of(3) {
        skus.push(product(new_products[(n + 1) % new_products.len()]).sku);
    }
    let input = NewOrder {
        customer: Customer {
            email: email.into(),
            name: Some(name.into()),
            phone: Some(phone.into()),
            address: Some(address.into()),
        },
        lines: skus.iter().map(|sku| (sku.clone(), 1)).collect(),
        notes: (n % 4 == 1).then(|| "Gift wrap, please.".into()),
        ..Default::default()
    };
    let key = orders.create(actor, input)?.id.to_string();
    let returned: Vec<ReturnLine> =
        skus.iter().enumerate().map(|(i, sku)| ReturnLine { sku: sku.clone(), quantity: 1, scrap: i > 0 }).collect();
    for step in steps {
        match step {
            Pay => orders.pay(actor, &key, None, Some(&format!("demo-payment-{n}"))).map(drop)?,
            Status(status) => {
                let tracking = format!("1Z{:08}DEMO", n + 1);
                let tracking = (*status == OrderStatus::Shipped).then_some(tracking.as_str());
                orders.set_status(actor, &key, *status, tracking).map(drop)?
            }
            Cancel => orders.cancel(actor, &key, Some("the customer changed their mind")).map(drop)?,
            RequestReturn => orders.return_goods(actor, &key, &returned, true).map(drop)?,
            Return => orders.return_goods(actor, &key, &returned, false).map(drop)?,
            Refund => orders.refund(actor, &key, None).map(drop)?,
        }
    }
    Ok(())
}

/// A shopper's cart holding two of the `i`-th product and one of the next, for two hours.
fn reserve(store: &Store, actor: &Actor, i: usize) -> Result<()> {
    let request = ReserveRequest {
        lines: vec![(product(i).sku, 2), (product(i.saturating_sub(1)).sku, 1)],
        hold: Hold::CheckoutFor(jiff::SignedDuration::from_hours(2)),
        reference: Some(format!("demo-cart-{i}")),
        ..Default::default()
    };
    store.inventory().reserve(actor, request).map(drop)
}

/// The demo products `new` as a catalog file.
fn catalog_sheet(new: &[usize]) -> String {
    let mut csv = csv::Writer::from_writer(Vec::new());
    let header =
        ["sku", "name", "price", "description", "category", "barcode", "attr.color", "attr.brand", "attr.size"];
    let mut rows = vec![header.map(str::to_owned).to_vec()];
    for &i in new {
        let p = product(i);
        let attribute = |key: &str| p.attributes.get(key).cloned().unwrap_or_default();
        let (color, brand, size) = (attribute("color"), attribute("brand"), attribute("size"));
        rows.push(vec![
            p.sku,
            p.name,
            p.price,
            p.description.unwrap_or_default(),
            p.category.unwrap_or_default(),
            p.barcode.unwrap_or_default(),
            color,
            brand,
            size,
        ]);
    }
    for row in rows {
        // Writing to memory cannot fail.
        let _ = csv.write_record(row);
    }
    String::from_utf8(csv.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The stock of the demo products `new` as a stock file: some in every warehouse, a reorder
/// point at MAIN, and every seventh product sold down to or below it.
fn stock_sheet(new: &[usize], report: &mut DemoReport) -> String {
    let mut csv = String::from("sku,warehouse,quantity,mode,reason,reorder_point,reorder_qty\n");
    for &i in new {
        let sku = product(i).sku;
        let mut rng = Rng(i as u64 + 1000);
        let received = [(crate::warehouses::MAIN, 40), ("EAST", 10), ("WEST", 0)]
            .map(|(warehouse, base)| (warehouse, base + (rng.next() % 60) as i64));
        let reorder_point = 10 + (rng.next() % 20) as i64;
        // MAIN (always stocked, first) carries the threshold.
        let mut on_hand = received[0].1;
        for (n, (warehouse, quantity)) in received.into_iter().enumerate().filter(|(_, (_, q))| *q > 0) {
            let threshold = if n == 0 { format!("{reorder_point},{}", reorder_point * 3) } else { ",".into() };
            let _ = writeln!(csv, "{sku},{warehouse},{quantity},receive,demo opening stock,{threshold}");
            report.stock_movements += 1;
        }
        if i % 7 == 3 {
            let sold = (on_hand - reorder_point + (rng.next() % 5) as i64).min(on_hand);
            let _ = writeln!(csv, "{sku},MAIN,{},adjust,demo sales,,", -sold);
            on_hand -= sold;
            report.stock_movements += 1;
        }
        report.low_stock += usize::from(on_hand <= reorder_point);
    }
    csv
}

/// 1 for created, 0 for already there.
fn created<T>(outcome: Result<T>) -> Result<usize> {
    match outcome {
        Ok(_) => Ok(1),
        Err(Error::Conflict { .. }) => Ok(0),
        Err(e) => Err(e),
    }
}

/// The `i`-th demo product, always the same (categories from [`seed`]).
pub fn product(i: usize) -> NewProduct {
    let mut rng = Rng(i as u64 + 1);
    let (category, prefix, nouns) = LINES[i % LINES.len()];
    let noun = rng.pick(nouns);
    let mut attributes = BTreeMap::from([
        ("color".to_owned(), rng.pick(COLORS).to_owned()),
        ("brand".to_owned(), rng.pick(BRANDS).to_owned()),
    ]);
    if category == "Apparel" {
        attributes.insert("size".into(), rng.pick(SIZES).into());
    }
    let cents = 500 + rng.next() % 49_500;
    NewProduct {
        sku: format!("{prefix}-{:04}", i + 1),
        name: format!("{} {noun}", rng.pick(ADJECTIVES)),
        description: Some(format!("{noun} from the {category} range.")),
        price: format!("{}.{:02}", cents / 100, cents % 100),
        currency: None,
        category: Some(category.into()),
        attributes,
        barcode: Some(ean13(200_000_000_000 + i as u64)),
    }
}

/// An EAN-13 from 12 digits plus its check digit.
fn ean13(body: u64) -> String {
    let digits = format!("{body:012}");
    let sum: u32 =
        digits.bytes().enumerate().map(|(pos, b)| u32::from(b - b'0') * if pos % 2 == 0 { 1 } else { 3 }).sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

/// A tiny deterministic generator (xorshift64): demo data must not depend on a seed crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_products_are_valid_and_stable() {
        assert_eq!(ean13(400_638_133_393), "4006381333931");
        let first = product(0);
        assert_eq!(first.sku, "AUD-0001");
        assert_eq!(product(0).name, first.name);
    }

    #[test]
    fn demo_orders_cover_every_state_an_order_settles_in() {
        let mut reached: Vec<OrderStatus> = ORDERS
            .iter()
            .map(|steps| {
                steps.iter().fold(OrderStatus::Confirmed, |status, step| {
                    let next = match step {
                        Pay => OrderStatus::Paid,
                        Status(s) => *s,
                        Cancel => OrderStatus::Cancelled,
                        RequestReturn => OrderStatus::ReturnRequested,
                        Return => OrderStatus::Returned,
                        Refund => OrderStatus::Refunded,
                    };
                    assert!(status.can_become(next), "{status} -> {next}");
                    next
                })
            })
            .collect();
        reached.sort();
        let every: Vec<OrderStatus> = OrderStatus::ALL.iter().copied().filter(|s| *s != OrderStatus::Pending).collect();
        assert_eq!(reached, every);
    }
}
