//! Every action of the dashboard, through its keys, against a real store on both
//! backends: what it changes in the database, and what a refusal leaves unchanged.

use ratatui::crossterm::event::KeyCode;
use stockyard_core::{Actor, Error, EventFilter, EventType, OrderStatus, PageRequest};
use stockyard_tui::{
    app::{Msg, Screen},
    form::Stage,
    worker::Command,
};

use crate::harness::{Harness, open_as, open_on, place, warehouse};

fn events_of(h: &Harness, event_type: EventType) -> usize {
    let filter = EventFilter { event_type: Some(event_type), limit: Some(1000), ..EventFilter::default() };
    h.store.events().list(&Actor::local_admin(), &filter).expect("read events").len()
}

fn audit_count(h: &Harness) -> usize {
    let page = PageRequest { limit: Some(1000), cursor: None };
    h.store.audit().list(&Actor::local_admin(), None, &page).expect("read the audit log").items.len()
}

/// Filters the stock screen down to one row.
fn select(h: &mut Harness, sku: &str, warehouse: &str) {
    h.typed("2/");
    h.typed(sku);
    h.key(KeyCode::Enter);
    let at = h.app.stock.view.iter().position(|&i| h.app.stock.rows[i].level.warehouse == warehouse);
    h.app.stock.selected = at.unwrap_or_else(|| panic!("{sku} at {warehouse} is listed"));
}

stockyard_testkit::backend_tests! {
    fn an_adjust_through_its_form_changes_stock_and_is_audited_as_the_user(db) {
        let mut h = open_as(db, "boss@example.com");
        select(&mut h, "NUT-M6", "MAIN");
        h.typed("a-2\tdamaged in transit\n");
        let form = h.app.form.as_ref().expect("the adjust form");
        assert_eq!(form.stage, Stage::Confirm, "{:?}", form.refusal);
        assert!(h.screen(80, 24).contains("NUT-M6 at MAIN: on hand 120 → 118"), "{}", h.screen(80, 24));
        let changed = events_of(&h, EventType::InventoryChanged);
        h.key(KeyCode::Enter);
        assert!(h.app.form.is_none(), "the form closes once the core made the change");
        assert_eq!(h.on_hand("NUT-M6", "MAIN"), 118);
        assert_eq!(h.app.stock.row("NUT-M6", "MAIN").map(|r| r.level.on_hand), Some(118));
        assert_eq!(events_of(&h, EventType::InventoryChanged), changed + 1);
        let page = PageRequest { limit: Some(1000), cursor: None };
        let audit = h.store.audit().list(&Actor::local_admin(), None, &page).expect("audit");
        let last = audit.items.iter().max_by_key(|r| r.seq).expect("an audit record");
        assert_eq!((last.action.as_str(), last.actor.as_str()), ("stock.adjust", "boss@example.com"));
    }

    fn a_refusal_shows_the_core_message_in_the_form_and_changes_nothing(db) {
        let mut h = open_as(db, "boss@example.com");
        select(&mut h, "DRILL-18V", "MAIN");
        let audit = audit_count(&h);
        h.typed("a-50\tlost\n");
        h.key(KeyCode::Enter);
        let form = h.app.form.as_ref().expect("the form stays open");
        assert_eq!(form.stage, Stage::Edit);
        let refusal = form.refusal.clone().expect("the core's refusal");
        assert!(refusal.contains("DRILL-18V"), "{refusal}");
        assert_eq!(form.fields[1].value, "lost", "what was typed is kept");
        assert_eq!(h.on_hand("DRILL-18V", "MAIN"), 8);
        assert_eq!(audit_count(&h), audit);
        // Fixed and sent again: the same form goes through.
        h.key(KeyCode::Backspace);
        h.typed("\t");
        let form = h.app.form.as_mut().expect("the form");
        form.fields[0].value = "-5".into();
        h.typed("\n\n");
        assert!(h.app.form.is_none());
        assert_eq!(h.on_hand("DRILL-18V", "MAIN"), 3);
    }

    fn receive_transfer_count_and_threshold_each_go_through_their_form(db) {
        let mut h = open_as(db, "boss@example.com");
        select(&mut h, "WASHER-M6", "MAIN");
        h.typed("r25\n\n");
        assert_eq!(h.on_hand("WASHER-M6", "MAIN"), 325);
        h.typed("t5\t");
        let form = h.app.form.as_mut().expect("the transfer form");
        form.fields[1].value = "east".into();
        h.typed("\n");
        assert!(h.screen(80, 24).contains("WASHER-M6 at EAST: on hand 0 → 5"), "{}", h.screen(80, 24));
        h.typed("\n");
        assert_eq!((h.on_hand("WASHER-M6", "MAIN"), h.on_hand("WASHER-M6", "EAST")), (320, 5));
        assert!(h.app.stock.row("WASHER-M6", "EAST").is_some(), "the new level is listed");
        h.typed("c318\n\n");
        assert_eq!(h.on_hand("WASHER-M6", "MAIN"), 318);
        h.typed("p");
        let form = h.app.form.as_mut().expect("the threshold form");
        form.fields[0].value = "400".into();
        h.typed("\n\n");
        let row = h.app.stock.row("WASHER-M6", "MAIN").expect("the row");
        assert_eq!((row.level.reorder_point, row.low), (400, true));
    }

    fn a_scoped_user_is_refused_outside_its_warehouse_with_the_reason(db) {
        let mut h = open_as(db, "east@example.com");
        assert!(h.app.stock.row("NUT-M6", "MAIN").is_none(), "a scoped user lists only its warehouses");
        // The row exists only for users who see MAIN; the picker acts at EAST alone.
        select(&mut h, "GLOVE-L", "EAST");
        h.typed("r2\n\n");
        assert_eq!(h.on_hand("GLOVE-L", "EAST"), 42);
        assert!(h.app.permitted(stockyard_core::Action::StockReceive, "EAST"));
        assert!(!h.app.permitted(stockyard_core::Action::StockReceive, "MAIN"));
        let flash = h.app.flash.clone().expect("the reason");
        assert!(flash.error && flash.text.contains("MAIN"), "{flash:?}");
        // Scanning at MAIN is refused before anything is sent.
        h.typed("3");
        h.app.scan.warehouse = "MAIN".into();
        h.typed("BOLT-M6\n+");
        assert!(h.app.scan.log[0].error, "{:?}", h.app.scan.log);
        assert_eq!(h.on_hand("BOLT-M6", "MAIN"), 15);
    }

    fn the_stock_list_filters_sorts_narrows_and_pages(db) {
        let mut h = open_as(db, "boss@example.com");
        let shown = |h: &Harness| -> Vec<String> {
            let stock = &h.app.stock;
            stock.view.iter().map(|&i| format!("{} {}", stock.rows[i].level.sku, stock.rows[i].level.warehouse)).collect()
        };
        h.typed("2/HEX");
        assert_eq!(shown(&h), ["BOLT-M6 EAST", "BOLT-M6 MAIN", "NUT-M6 MAIN"], "by name, any case");
        h.key(KeyCode::Backspace);
        h.key(KeyCode::Backspace);
        h.key(KeyCode::Backspace);
        h.typed("5901234123457\n");
        assert_eq!(shown(&h), ["TAPE-50 EAST"], "by barcode");
        h.key(KeyCode::Esc);
        assert_eq!(shown(&h).len(), 7, "Esc clears the filter");
        h.typed("L");
        assert_eq!(shown(&h), ["BOLT-M6 MAIN"], "low only");
        h.typed("Lsss");
        assert_eq!(h.app.stock.sort, Some(stockyard_tui::screens::stock::Column::OnHand));
        assert_eq!(shown(&h)[0], "DRILL-18V MAIN", "fewest on hand first");
        h.typed("S");
        assert_eq!(shown(&h)[0], "WASHER-M6 MAIN", "reversed");
        h.typed("w");
        let first = h.app.stock.warehouse.clone().expect("one warehouse");
        assert!(shown(&h).iter().all(|r| r.ends_with(&first)), "{:?}", shown(&h));
        h.typed("ww");
        assert_eq!(h.app.stock.warehouse, None, "and back to all");
        // Paging moves by what fits on screen.
        h.screen(80, 8);
        let page = h.app.stock.page.get();
        h.typed("g");
        h.key(KeyCode::PageDown);
        assert_eq!(h.app.stock.selected, page);
        h.typed("G");
        assert_eq!(h.app.stock.selected, 6);
    }

    fn a_viewer_sees_every_screen_and_changes_nothing(db) {
        let mut h = open_as(db, "look@example.com");
        let audit = audit_count(&h);
        assert_eq!(h.app.stock.rows.len(), 7);
        select(&mut h, "NUT-M6", "MAIN");
        for key in ["r", "a", "t", "c", "p"] {
            h.app.flash = None;
            h.typed(key);
            assert!(h.app.form.is_none(), "{key}: no form for a viewer");
            let flash = h.app.flash.clone().expect("the reason");
            assert!(flash.error && flash.text.contains("viewer"), "{key}: {flash:?}");
        }
        h.typed("3NUT-M6\n+");
        assert!(h.app.scan.log[0].error, "{:?}", h.app.scan.log);
        h.key(KeyCode::Esc);
        h.typed("4");
        assert!(h.app.pick.error.as_deref().is_some_and(|e| e.contains("order.pick")), "{:?}", h.app.pick.error);
        assert!(h.screen(80, 24).contains("Cannot show this"));
        assert_eq!(audit_count(&h), audit);
        assert_eq!(h.on_hand("NUT-M6", "MAIN"), 120);
    }

    fn scanning_finds_by_sku_or_barcode_and_moves_stock_in_one_step(db) {
        let mut h = open_as(db, "boss@example.com");
        h.typed("3");
        assert_eq!(h.app.screen, Screen::Scan);
        h.typed("+");
        assert!(h.sent.iter().all(|c| !matches!(c, Command::Do { .. })), "nothing moves before a match");
        h.typed("NOPE-1\n");
        assert!(h.app.scan.log[0].error && h.app.scan.log[0].text.contains("NOPE-1"));
        h.typed("4006381333931\n");
        assert_eq!(h.app.scan.matched.as_deref(), Some("BOLT-M6"));
        h.typed("+");
        assert_eq!(h.on_hand("BOLT-M6", "MAIN"), 16);
        h.typed("12+\n");
        assert_eq!(h.on_hand("BOLT-M6", "MAIN"), 28);
        h.typed("-3-\n");
        assert_eq!(h.on_hand("BOLT-M6", "MAIN"), 24);
        // SKUs with dashes, any case, and the next scan at another warehouse.
        h.typed("tape-50\n");
        assert_eq!(h.app.scan.matched.as_deref(), Some("TAPE-50"));
        h.key(KeyCode::Tab);
        assert_eq!(h.app.scan.warehouse, "EAST");
        h.typed("+");
        assert_eq!(h.on_hand("TAPE-50", "EAST"), 26);
        assert_eq!(h.app.stock.row("TAPE-50", "EAST").map(|r| r.level.on_hand), Some(26));
    }

    fn picking_by_scan_packs_the_order_and_shipping_asks_for_tracking(db) {
        let mut h = open_as(db, "main@example.com");
        h.typed("4");
        assert_eq!(h.app.pick.warehouse.as_deref(), Some("MAIN"));
        assert_eq!(h.app.pick.orders.len(), 1, "the paid order at MAIN");
        let order = h.app.pick.orders[0].id.to_string();
        h.key(KeyCode::Enter);
        let version = h.store.orders().order(&Actor::local_admin(), &order).expect("order").version;
        h.typed("DRILL-18V\n");
        assert!(h.app.pick.log[0].error, "a wrong item is refused: {:?}", h.app.pick.log);
        assert_eq!(h.store.orders().order(&Actor::local_admin(), &order).expect("order").version, version);
        h.typed("4006381333931\n");
        let status = |h: &Harness| h.store.orders().order(&Actor::local_admin(), &order).expect("order").status;
        assert_eq!(status(&h), OrderStatus::Picking);
        h.typed("BOLT-M6\nBOLT-M6\nBOLT-M6\n");
        assert!(h.app.pick.log[0].error, "too many is refused: {:?}", h.app.pick.log);
        h.typed("NUT-M6\nnut-m6\nWASHER-M6\n");
        assert_eq!(status(&h), OrderStatus::Packed);
        h.ctrl('t');
        h.typed("1Z999AA10123456784\n\n");
        assert_eq!(status(&h), OrderStatus::Shipped);
        assert!(h.app.pick.open.is_none() && h.app.pick.orders.is_empty());
    }

    fn cancel_needs_a_reason_and_is_refused_to_a_picker_with_the_reason(db) {
        let (store, clock) = warehouse(db);
        let mut h = open_on(&store, &clock, "main@example.com");
        h.typed("4\n");
        h.ctrl('x');
        assert!(h.app.form.is_none(), "a warehouse user may not cancel");
        assert!(h.app.flash.as_ref().is_some_and(|f| f.error && f.text.contains("order.cancel")), "{:?}", h.app.flash);
        let mut h = open_on(&store, &clock, "boss@example.com");
        h.typed("4\n");
        h.ctrl('x');
        h.typed("\n");
        assert_eq!(h.app.form.as_ref().map(|f| f.stage), Some(Stage::Edit), "no reason, no cancel");
        h.typed("customer called\n\n");
        assert!(h.app.pick.orders.is_empty());
    }

    fn another_process_receiving_stock_shows_through_the_event_log(db) {
        let mut h = open_as(db, "boss@example.com");
        let other = stockyard_core::Store::open_with(db.url(), &db.options()).expect("a second store");
        other.inventory().receive(&Actor::local_admin(), "NUT-M6", Some("MAIN"), 7, None).expect("receive");
        h.sent.clear();
        h.feed();
        assert_eq!(h.app.stock.row("NUT-M6", "MAIN").map(|r| r.level.on_hand), Some(127));
        assert!(h.sent.contains(&Command::Levels(vec![("NUT-M6".into(), "MAIN".into())])), "only the moved level: {:?}", h.sent);
        assert!(!h.sent.contains(&Command::Board), "no full reload");
        assert_eq!(h.app.dashboard.recent.back().map(|e| e.event_type), Some(EventType::InventoryChanged));
    }

    fn an_unreachable_database_shows_a_banner_keeps_the_form_and_retries(db) {
        let mut h = open_as(db, "boss@example.com");
        select(&mut h, "NUT-M6", "MAIN");
        h.typed("r4\n");
        let form = h.app.form.clone().expect("the form");
        let (op, key) = match form.check(&|_, _| None) {
            Ok((op, _)) => (op, form.key.clone()),
            Err(e) => panic!("{e:?}"),
        };
        // The worker's reply when the database is down.
        let lost = Error::Unavailable { reason: "connection refused".into() };
        h.app.form.as_mut().expect("form").stage = Stage::Sending;
        let next = h.app.update(Msg::Reply(Box::new((Command::Do { op: op.clone(), key: key.clone() }, Err(lost)))));
        assert!(next.is_empty());
        assert!(h.app.offline.is_some());
        assert!(h.screen(80, 24).contains("Database unreachable"), "{}", h.screen(80, 24));
        let form = h.app.form.as_ref().expect("the form is kept");
        assert_eq!((form.stage, form.fields[0].value.as_str()), (Stage::Confirm, "4"));
        // A tick tries again; the database answers; everything reloads.
        let retry = h.app.update(Msg::Tick(h.clock.now()));
        assert_eq!(retry, vec![Command::Ping]);
        assert!(h.app.update(Msg::Tick(h.clock.now())).is_empty(), "one ping at a time");
        h.run(retry);
        assert!(h.app.offline.is_none());
        assert!(h.sent.contains(&Command::Board));
        // Enter sends the same change under the same key: applied once.
        h.key(KeyCode::Enter);
        assert_eq!(h.on_hand("NUT-M6", "MAIN"), 124);
        h.run(vec![Command::Do { op, key }]);
        assert_eq!(h.on_hand("NUT-M6", "MAIN"), 124, "a retry with the same key applies nothing twice");
    }

    fn the_inbox_marks_read_and_low_stock_suggests_a_quantity(db) {
        let mut h = open_as(db, "boss@example.com");
        assert_eq!(h.app.alerts.low.len(), 1);
        assert_eq!((h.app.alerts.low[0].level.sku.as_str(), h.app.alerts.low[0].suggested_qty), ("BOLT-M6", 100));
        // An order placed now is news to a manager, in the app.
        place(&h.store, &[("GLOVE-L", 1)], "EAST");
        let dispatcher =
            stockyard_core::notifications::dispatch::Dispatcher::new(&h.store, &Actor::system("dispatcher"), None)
                .expect("a dispatcher");
        dispatcher.run_once().expect("deliver");
        h.run(vec![Command::Alerts]);
        let unread = h.app.alerts.unread();
        assert!(unread >= 1, "{:?}", h.app.alerts.inbox);
        h.typed("5l\n");
        assert_eq!(h.app.alerts.unread(), unread - 1);
        let page = PageRequest { limit: Some(100), cursor: None };
        let inbox = h.store.notifications().inbox(&h.actor, true, &page).expect("inbox");
        assert_eq!(inbox.items.len(), unread - 1);
    }
}
