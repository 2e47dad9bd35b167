//! Import and export on both backends: products upserted by SKU and stock moved from CSV in
//! one transaction — every bad row reported by line and column, nothing of a bad file
//! applied — and exports that import back to the same catalog and stock.

use crate::common;

use common::{acting, admin, events_of, level, store_with};

use stockyard_core::{
    Error, ErrorKind, EventType, Product, ProductQuery, RowProblem, Sheet, Store,
    orders::{Customer, NewOrder},
};
use stockyard_testkit::{TestDb, backend_tests};

fn import_products(store: &Store, csv: &str) -> stockyard_core::Result<stockyard_core::catalog::ProductImport> {
    store.catalog().import_products(&admin(), csv.as_bytes(), false, &mut |_, _| {})
}

fn import_stock(store: &Store, csv: &str) -> stockyard_core::Result<stockyard_core::inventory::StockImport> {
    store.inventory().import_stock(&admin(), csv.as_bytes(), false, &mut |_, _| {})
}

fn problems(outcome: Result<impl std::fmt::Debug, Error>) -> Vec<RowProblem> {
    match outcome {
        Err(Error::BadRows { problems }) => problems,
        other => panic!("expected bad rows, got {other:?}"),
    }
}

/// (line, column) of each problem.
fn places(problems: &[RowProblem]) -> Vec<(u64, Option<&str>)> {
    problems.iter().map(|p| (p.line, p.column.as_deref())).collect()
}

fn products(store: &Store) -> Vec<Product> {
    let query = ProductQuery { limit: Some(1000), ..Default::default() };
    store.catalog().list_products(&admin(), &query).expect("products").items
}

fn product(store: &Store, sku: &str) -> Product {
    store.catalog().product(&admin(), sku).expect("product")
}

fn csv(sheet: &Sheet) -> String {
    let mut out = Vec::new();
    sheet.write_csv(&mut out).expect("csv");
    String::from_utf8(out).expect("utf-8")
}

/// Another empty store of the same backend.
fn fresh(db: &TestDb) -> (TestDb, Store) {
    let other = match db.backend() {
        stockyard_core::Backend::Sqlite => TestDb::sqlite(),
        stockyard_core::Backend::Postgres => TestDb::migrated_postgres().expect("PostgreSQL"),
    };
    let store = store_with(&other, &[]);
    (other, store)
}

fn verified(store: &Store) {
    assert!(store.inventory().verify(&admin()).expect("verify").ok, "projections == replay");
    assert!(store.audit().verify(&admin()).expect("audit").ok, "chains intact");
}

const CATALOG: &str = "\
sku,name,price,currency,description,category,barcode,active,attr.color,attr.size
A-1,Anvil,12.50,USD,Heavy,Tools,4006381333931,true,red,L
B-2,\"Bolt, steel\",0.10,,,Hardware,,,,
C-3,Chisel,7,EUR,,tools,,false,blue,
";

backend_tests! {
    fn an_import_creates_then_updates_by_sku_and_records_each_product(db) {
        let store = store_with(db, &["OLD-1"]);
        let report = import_products(&store, CATALOG).expect("import");
        assert_eq!((report.rows, report.created, report.updated, report.unchanged), (3, 3, 0, 0));
        assert_eq!(report.categories_created, vec!["Tools", "Hardware"], "`tools` is the same category as `Tools`");
        let anvil = product(&store, "A-1");
        assert_eq!((anvil.name.as_str(), anvil.price.amount(), anvil.barcode.as_deref()), ("Anvil", "12.50".into(), Some("4006381333931")));
        assert_eq!(anvil.attributes.get("color").map(String::as_str), Some("red"));
        assert_eq!(product(&store, "B-2").name, "Bolt, steel");
        assert_eq!(product(&store, "C-3").price.currency().code(), "EUR");
        assert!(!product(&store, "C-3").active);
        assert_eq!(product(&store, "C-3").category, anvil.category);
        assert_eq!(events_of(&store, EventType::ProductCreated).len(), 4, "OLD-1 and the three imported");

        // The same file again changes nothing; a changed price updates and says so.
        let again = import_products(&store, CATALOG).expect("again");
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3));
        let report = import_products(&store, "sku,name,price,version\nA-1,Anvil,13.00,1\nOLD-1,Item OLD-1,1.00,1\n").expect("update");
        assert_eq!((report.created, report.updated, report.unchanged), (0, 1, 1));
        let anvil = product(&store, "A-1");
        assert_eq!((anvil.price.amount(), anvil.version), ("13.00".into(), 2));
        assert_eq!(anvil.attributes.get("color").map(String::as_str), Some("red"), "no attr columns: attributes kept");
        assert_eq!(events_of(&store, EventType::ProductPriceChanged).len(), 1);
        verified(&store);
    }

    fn every_bad_row_is_reported_and_nothing_of_the_file_applies(db) {
        let store = store_with(db, &["OLD-1"]);
        let before = products(&store);
        let file = "\
sku,name,price,currency,barcode,active,version
N-1,New one,1.00,,,,
N-2,,abc,XYZ,,maybe,
N-1,Twice,1.00,,,,
OLD-1,Old,1.00,,,,9
bad sku!,Name,1.00,,,,
N-3,Three,1.00,,CODE-1,,
N-4,Four,1.00,,CODE-1,,
";
        let found = problems(import_products(&store, file));
        assert_eq!(
            places(&found),
            vec![
                (3, Some("name")),
                (3, Some("currency")),
                (3, Some("price")),
                (3, Some("active")),
                (4, Some("sku")),
                (5, Some("version")),
                (6, Some("sku")),
                (8, Some("barcode")),
            ],
            "{found:#?}"
        );
        assert!(found[5].conflict && found[5].reason.contains("at version 1, not 9"), "{:?}", found[5]);
        assert!(found[4].reason.contains("also on line 2"), "{:?}", found[4]);
        assert_eq!(Error::BadRows { problems: found }.kind(), ErrorKind::Invalid);
        assert_eq!(products(&store), before, "nothing of the file applied, N-1 included");

        // A file whose only problem is a stale version is a conflict.
        let stale = problems(import_products(&store, "sku,name,price,version\nOLD-1,Old,2.00,5\n"));
        assert_eq!(Error::BadRows { problems: stale }.kind(), ErrorKind::Conflict);
        // A barcode another product holds, and one two rows would share, are conflicts too.
        import_products(&store, "sku,name,price,barcode\nHAS-1,Has,1,CODE-9\n").expect("holder");
        let taken = problems(import_products(&store, "sku,name,price,barcode\nN-5,Five,1,CODE-9\n"));
        assert!(taken[0].reason.contains("already belongs to product HAS-1"), "{taken:?}");
        // Moving a barcode from one product to another in one file is fine.
        let moved = import_products(&store, "sku,name,price,barcode\nN-5,Five,1,CODE-9\nHAS-1,Has,1,CODE-8\n").expect("move");
        assert_eq!((moved.created, moved.updated), (1, 1));
        verified(&store);
    }

    fn a_broken_header_names_its_columns_and_a_dry_run_keeps_nothing(db) {
        let store = store_with(db, &[]);
        let header = problems(import_products(&store, "sku,title,price,price\nA-1,x,1,1\n"));
        assert_eq!(places(&header), vec![(1, Some("title")), (1, Some("price")), (1, Some("name"))], "{header:#?}");
        let ragged = problems(import_products(&store, "sku,name,price\nA-1,x\nB-1,y,1,extra\n"));
        assert_eq!(places(&ragged), vec![(2, None), (3, None)], "{ragged:#?}");
        let long = problems(import_products(&store, &format!("sku,name,price,attr.color\nA-1,x,1,{}\n", "y".repeat(501))));
        assert_eq!(places(&long), vec![(2, Some("attr.color"))], "a bad attribute named by its column: {long:#?}");

        let mut seen = Vec::new();
        let rehearsal = store
            .catalog()
            .import_products(&admin(), CATALOG.as_bytes(), true, &mut |done, total| seen.push((done, total)))
            .expect("dry run");
        assert!(rehearsal.dry_run);
        assert_eq!((rehearsal.created, rehearsal.categories_created.len()), (3, 2));
        assert_eq!(seen.last(), Some(&(3, 3)), "progress reaches the end");
        assert!(products(&store).is_empty(), "a dry run keeps nothing");
        assert!(store.catalog().categories(&admin()).expect("categories").is_empty());
    }

    fn exported_products_and_stock_import_back_exactly(db) {
        let store = store_with(db, &[]);
        import_products(&store, CATALOG).expect("catalog");
        import_stock(&store, "sku,warehouse,quantity,mode,reorder_point,reorder_qty\nA-1,MAIN,10,receive,3,12\nA-1,EAST,4,receive,,\nB-2,MAIN,0,count,2,\n").expect("stock");
        assert_eq!((level(&store, "A-1", "MAIN").reorder_point, level(&store, "A-1", "MAIN").reorder_qty), (3, 12));
        let catalog = store.catalog().export_products(&admin()).expect("export");
        let stock = store.inventory().export_stock(&admin()).expect("export stock");
        assert_eq!(stock.rows.len(), 3, "{stock:?}");

        // Into the same store: every row as it is.
        let again = import_products(&store, &csv(&catalog)).expect("reimport");
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3));
        let counted = import_stock(&store, &csv(&stock)).expect("recount");
        assert_eq!((counted.moved, counted.unchanged, counted.thresholds_set), (0, 3, 0));

        // Into another store: the same catalog and stock.
        let (_other_db, other) = fresh(db);
        import_products(&other, &csv(&catalog)).expect("import elsewhere");
        import_stock(&other, &csv(&stock)).expect("stock elsewhere");
        assert_eq!(other.catalog().export_products(&admin()).expect("export"), catalog);
        assert_eq!(other.inventory().export_stock(&admin()).expect("export"), stock);
        assert_eq!(level(&other, "A-1", "EAST").on_hand, 4);
        assert_eq!((level(&other, "A-1", "MAIN").reorder_point, level(&other, "B-2", "MAIN").reorder_point), (3, 2));
        verified(&other);
    }

    fn stock_rows_are_movements_and_a_bad_one_stops_them_all(db) {
        let store = store_with(db, &["A-1", "B-1"]);
        let report = import_stock(
            &store,
            "sku,warehouse,quantity,mode,reason\nA-1,MAIN,10,receive,PO-7\nA-1,MAIN,8,count,\nB-1,east,5,,\nB-1,EAST,-2,adjust,damaged\n",
        )
        .expect("import");
        assert_eq!((report.rows, report.moved, report.unchanged), (4, 4, 0));
        assert_eq!(level(&store, "A-1", "MAIN").on_hand, 8);
        assert_eq!(level(&store, "B-1", "EAST").on_hand, 3);
        let reasons: Vec<String> =
            events_of(&store, EventType::InventoryChanged).iter().map(|e| e["reason"].as_str().unwrap_or("").to_owned()).collect();
        assert_eq!(reasons, vec!["PO-7", "count", "count", "damaged"]);

        let found = problems(import_stock(
            &store,
            "sku,warehouse,quantity,mode,reason,reorder_qty\nA-1,MAIN,1,receive,,\nNOPE-1,MAIN,1,,,\nA-1,WEST,1,,,\nA-1,MAIN,-1,adjust,,\nA-1,MAIN,x,,,\nB-1,EAST,-9,adjust,too many,\nA-1,MAIN,1,sell,,\nA-1,MAIN,1,,,4\n",
        ));
        assert_eq!(
            places(&found),
            vec![(3, Some("sku")), (4, Some("warehouse")), (5, Some("reason")), (6, Some("quantity")), (7, Some("quantity")), (8, Some("mode")), (9, Some("reorder_point"))],
            "{found:#?}"
        );
        assert_eq!(level(&store, "A-1", "MAIN").on_hand, 8, "line 2's receipt was not kept");
        verified(&store);
    }

    fn imports_and_exports_respect_roles_and_scopes(db) {
        let store = store_with(db, &["A-1"]);
        let viewer = acting(&store, "viewer@example.org", "viewer", &[]);
        let outcome = store.catalog().import_products(&viewer, CATALOG.as_bytes(), false, &mut |_, _| {});
        assert!(matches!(outcome, Err(Error::Forbidden { .. })), "{outcome:?}");
        let east = acting(&store, "east@example.org", "warehouse", &["EAST"]);
        let outcome = store.inventory().import_stock(&east, "sku,warehouse,quantity,mode\nA-1,EAST,1,receive\nA-1,MAIN,1,receive\n".as_bytes(), false, &mut |_, _| {});
        assert!(matches!(outcome, Err(Error::Forbidden { .. })), "{outcome:?}");
        assert_eq!(level(&store, "A-1", "EAST").on_hand, 0, "nothing applied");
        import_stock(&store, "sku,warehouse,quantity,mode\nA-1,EAST,1,receive\nA-1,MAIN,2,receive\n").expect("admin");
        let seen = store.inventory().export_stock(&east).expect("export");
        assert_eq!(seen.rows, vec![vec!["A-1", "EAST", "1", "count", "", "0", "0"]], "only its own warehouses");
        let outcome = store.inventory().import_stock(&east, "sku,warehouse,quantity,reorder_point\nA-1,EAST,1,5\n".as_bytes(), false, &mut |_, _| {});
        assert!(matches!(outcome, Err(Error::Forbidden { .. })), "a threshold is a manager's: {outcome:?}");
        let same = store.inventory().import_stock(&east, "sku,warehouse,quantity,reorder_point\nA-1,EAST,1,0\n".as_bytes(), false, &mut |_, _| {});
        assert_eq!(same.expect("a threshold left as it is asks nothing").thresholds_set, 0);

        let order = NewOrder {
            customer: Customer { email: "jo@example.org".into(), name: Some("Jo".into()), ..Default::default() },
            lines: vec![("A-1".into(), 1)],
            warehouse: Some("MAIN".into()),
            ..Default::default()
        };
        store.orders().create(&admin(), order).expect("order");
        let plain = store.orders().export(&admin(), false).expect("export");
        assert!(!csv(&plain).contains("jo@example.org"), "no personal data unless asked for");
        assert_eq!(plain.rows[0][7], "A-1:1");
        let personal = store.orders().export(&admin(), true).expect("export");
        assert!(csv(&personal).contains("jo@example.org,Jo"), "{}", csv(&personal));
        let picker = acting(&store, "picker@example.org", "warehouse", &[]);
        assert!(matches!(store.orders().export(&picker, true), Err(Error::Forbidden { .. })));
        assert!(!csv(&store.orders().export(&picker, false).expect("export")).contains("jo@example.org"));
    }
}
