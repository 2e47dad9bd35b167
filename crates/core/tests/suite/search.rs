//! Product search and filters on both backends: full text, category subtree, price range,
//! attributes, and cursor pagination.

use std::collections::BTreeMap;

use stockyard_core::{Actor, Error, NewCategory, NewProduct, ProductQuery, Store, demo};
use stockyard_testkit::backend_tests;

fn admin() -> Actor {
    Actor::local_admin()
}

fn skus(store: &Store, query: ProductQuery) -> Vec<String> {
    let page = store.catalog().list_products(&admin(), &query).expect("list");
    page.items.into_iter().map(|p| p.sku.to_string()).collect()
}

fn seed(store: &Store) {
    let catalog = store.catalog();
    for (name, parent) in [("Home", None), ("Kitchen", Some("Home")), ("Tools", None)] {
        catalog
            .create_category(&admin(), NewCategory { name: name.into(), parent: parent.map(Into::into) })
            .expect("category");
    }
    let products = [
        ("KIT-1", "Blue enamel mug", "Kitchen", "9.50", "blue"),
        ("KIT-2", "Cast iron pan", "Kitchen", "45.00", "black"),
        ("HOM-1", "Wool blanket", "Home", "80.00", "blue"),
        ("TLS-1", "Claw hammer", "Tools", "19.99", "red"),
        ("TLS-2", "Blue tape measure", "Tools", "7.25", "blue"),
    ];
    for (sku, name, category, price, color) in products {
        let input = NewProduct {
            sku: sku.into(),
            name: name.into(),
            description: Some(format!("{name}, from the {category} range")),
            price: price.into(),
            category: Some(category.into()),
            attributes: BTreeMap::from([("color".into(), color.into())]),
            ..Default::default()
        };
        catalog.create_product(&admin(), input).expect("product");
    }
}

backend_tests! {
    fn full_text_search_matches_every_word_as_a_prefix(db) {
        let store = db.store();
        seed(&store);
        let search = |q: &str| skus(&store, ProductQuery { search: Some(q.into()), ..Default::default() });
        assert_eq!(search("blue"), ["KIT-1", "TLS-2"]);
        assert_eq!(search("BLU mea"), ["TLS-2"]);
        assert_eq!(search("hamm"), ["TLS-1"]);
        assert_eq!(search("kit-2"), ["KIT-2"]);
        assert_eq!(search("range kitchen"), ["KIT-1", "KIT-2"]);
        assert!(search("submarine").is_empty());
        // Search operators in user text are plain words.
        assert!(search("blue OR NOT \"x*").is_empty());
        let err = store.catalog().list_products(&admin(), &ProductQuery { search: Some("--".into()), ..Default::default() });
        assert!(matches!(err, Err(Error::Invalid { field, .. }) if field == "search"));

        // The index follows renames and deletes.
        let patch = stockyard_core::ProductPatch {
            name: Some("Green enamel mug".into()),
            description: Some("Now in green".into()),
            ..Default::default()
        };
        store.catalog().update_product(&admin(), "KIT-1", patch).expect("rename");
        store.catalog().delete_product(&admin(), "TLS-2").expect("delete");
        assert!(search("blue").is_empty());
        assert_eq!(search("green"), ["KIT-1"]);
    }

    fn filters_by_category_subtree_price_and_attribute(db) {
        let store = db.store();
        seed(&store);
        let q = |f: fn(&mut ProductQuery)| {
            let mut query = ProductQuery::default();
            f(&mut query);
            skus(&store, query)
        };
        assert_eq!(q(|q| q.category = Some("home".into())), ["HOM-1", "KIT-1", "KIT-2"]);
        assert_eq!(q(|q| q.category = Some("Kitchen".into())), ["KIT-1", "KIT-2"]);
        assert_eq!(q(|q| q.min_price = Some("19.99".into())), ["HOM-1", "KIT-2", "TLS-1"]);
        assert_eq!(q(|q| { q.min_price = Some("8".into()); q.max_price = Some("20".into()) }), ["KIT-1", "TLS-1"]);
        assert_eq!(q(|q| { q.attributes.insert("color".into(), "blue".into()); }), ["HOM-1", "KIT-1", "TLS-2"]);
        assert_eq!(
            q(|q| { q.attributes.insert("color".into(), "blue".into()); q.category = Some("Tools".into()); q.search = Some("tape".into()) }),
            ["TLS-2"]
        );
        let bad = ProductQuery { min_price: Some("cheap".into()), ..Default::default() };
        assert!(matches!(store.catalog().list_products(&admin(), &bad), Err(Error::Invalid { field, .. }) if field == "min_price"));
        let bad = ProductQuery { category: Some("Nope".into()), ..Default::default() };
        assert!(matches!(store.catalog().list_products(&admin(), &bad), Err(Error::NotFound { .. })));
    }

    fn cursor_pagination_visits_every_product_once(db) {
        let store = db.store();
        let report = demo::seed(&store, &admin(), 23).expect("demo");
        assert_eq!(report.products_created, 23);
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = store.catalog()
                .list_products(&admin(), &ProductQuery { limit: Some(5), cursor, ..Default::default() })
                .expect("page");
            assert!(page.items.len() <= 5);
            seen.extend(page.items.into_iter().map(|p| p.sku.to_string()));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!((seen.len(), &seen), (23, &sorted));

        for (limit, cursor, field) in [(Some(0), None, "limit"), (Some(5000), None, "limit"), (None, Some("%%%".to_owned()), "cursor")] {
            let err = store.catalog().list_products(&admin(), &ProductQuery { limit, cursor, ..Default::default() });
            assert!(matches!(err, Err(Error::Invalid { field: f, .. }) if f == field));
        }
    }

    fn demo_seeding_is_idempotent(db) {
        let store = db.store();
        let first = demo::seed(&store, &admin(), 60).expect("demo");
        assert_eq!((first.categories_created, first.warehouses_created, first.products_created), (8, 2, 60));
        let again = demo::seed(&store, &admin(), 60).expect("demo again");
        assert_eq!(again, demo::DemoReport::default());
        let blue = ProductQuery { category: Some("Electronics".into()), limit: Some(1000), ..Default::default() };
        assert_eq!(skus(&store, blue).len(), 20);
    }
}
