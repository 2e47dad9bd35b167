//! The dashboard at 10,000 SKUs × 3 warehouses (30,000 levels) on SQLite: start-up to the
//! first frame and to the first frame with the stock loaded, a frame of the stock screen,
//! a keystroke to the next frame (filter, sort), another process's change to the screen,
//! and the idle CPU of the real binary.
//!
//! `cargo bench -p stockyard-tui` (the idle-CPU figure needs the release binary first:
//! `cargo build --release -p stockyard-cli`; it runs it in tmux).

use std::{
    process::Command,
    sync::{Arc, mpsc},
    time::{Duration, Instant},
};

use ratatui::{
    Terminal,
    backend::TestBackend,
    crossterm::event::{KeyCode, KeyEvent, KeyModifiers},
    widgets::Paragraph,
};
use stockyard_core::{Actor, NewProduct, NewWarehouse, Stop, Store, StoreOptions};
use stockyard_testkit::{TestDb, bench::median};
use stockyard_tui::{
    app::{App, Msg},
    theme::Theme,
    ui,
    worker::{self, Command as Load},
};

const PRODUCTS: usize = 10_000;
const WAREHOUSES: [&str; 3] = ["MAIN", "EAST", "WEST"];

fn main() {
    let db = TestDb::sqlite();
    let t = Instant::now();
    let store = Arc::new(stocked(&db, PRODUCTS));
    println!("set-up: {PRODUCTS} products × {} warehouses in {:.1?}", WAREHOUSES.len(), t.elapsed());
    let admin = Actor::local_admin();

    // Start-up: the first frame (before any data), then the first with every level loaded.
    let started = Instant::now();
    let (mut app, first) = App::new(admin.clone(), store.location(), Theme::coloured(true));
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    terminal.draw(|f| ui::draw(f, &app)).expect("draw");
    let first_frame = started.elapsed();
    for command in first {
        let outcome = worker::execute(&store, &admin, command.clone());
        for next in app.update(Msg::Reply(Box::new((command, outcome)))) {
            let outcome = worker::execute(&store, &admin, next.clone());
            app.update(Msg::Reply(Box::new((next, outcome))));
        }
    }
    app.show(1);
    terminal.draw(|f| ui::draw(f, &app)).expect("draw");
    let loaded = started.elapsed();
    assert_eq!(app.stock.rows.len(), PRODUCTS * WAREHOUSES.len());
    println!("start-up: first frame {first_frame:.2?}; first frame with {} levels {loaded:.0?}", app.stock.rows.len());
    let (board, _) = median(|| {
        worker::execute(&store, &admin, Load::Board).expect("board");
    });
    println!("  reading the board alone (products and levels, pages of 1,000): median {board:.0?}");

    // A frame: the stock screen against a bare frame of the same size (one paragraph).
    for (w, h) in [(80, 24), (160, 48)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        let (frame, n) = median(|| {
            terminal.draw(|f| ui::draw(f, &app)).expect("draw");
        });
        let (bare, _) = median(|| {
            terminal.draw(|f| f.render_widget(Paragraph::new("x"), f.area())).expect("draw");
        });
        println!(
            "frame {w}×{h}, stock screen: median {frame:.2?} over {n} (bare frame {bare:.2?}, ×{:.1})",
            frame.as_secs_f64() / bare.as_secs_f64()
        );
    }

    // Keystroke to frame: one character into the filter (refilter 30,000 rows), a sort.
    let key = |app: &mut App, code: KeyCode| {
        let commands = app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        assert!(commands.is_empty());
    };
    key(&mut app, KeyCode::Char('/'));
    let mut n = 0;
    let (typed, _) = median(|| {
        key(&mut app, if n % 2 == 0 { KeyCode::Char('7') } else { KeyCode::Backspace });
        terminal.draw(|f| ui::draw(f, &app)).expect("draw");
        n += 1;
    });
    key(&mut app, KeyCode::Enter);
    let (sorted, _) = median(|| {
        key(&mut app, KeyCode::Char('s'));
        terminal.draw(|f| ui::draw(f, &app)).expect("draw");
    });
    println!("keystroke to frame, 160×48: filter {typed:.2?}, sort {sorted:.2?}");

    live_update(&db, &store, "SQLite's feed looks for other processes' commits every 200 ms");
    idle_cpu(&db);
    // PostgreSQL tells listeners of each commit: the same path, without the 200 ms poll.
    if let Some(pg) = TestDb::postgres() {
        let store = Arc::new(stocked(&pg, 1_000));
        live_update(&pg, &store, "PostgreSQL, 1,000 SKUs × 3 warehouses: LISTEN/NOTIFY");
    }
}

/// From a receive committed by another store on the same file to the dashboard's row
/// showing it: the feed notices, the events are read, the level is read again.
fn live_update(db: &TestDb, store: &Arc<Store>, note: &str) {
    let admin = Actor::local_admin();
    let (send, messages) = mpsc::channel();
    let (mut app, first) = App::new(admin.clone(), store.location(), Theme::coloured(true));
    let worker = worker::spawn(store.clone(), admin.clone(), send.clone(), |c, o| Msg::Reply(Box::new((c, o))));
    let stop = Stop::new();
    worker::follow(store.clone(), 0, stop.clone(), send, Msg::Seq);
    let pump = |app: &mut App, until: &dyn Fn(&App) -> bool| {
        while !until(app) {
            let msg = messages.recv_timeout(Duration::from_secs(10)).expect("a message within 10 s");
            for command in app.update(msg) {
                worker.send(command).expect("the worker");
            }
        }
    };
    for command in first {
        worker.send(command).expect("the worker");
    }
    pump(&mut app, &|app| app.stock.loaded && app.dashboard.loaded);
    let other = Store::open_with(db.url(), &db.options()).expect("a second store");
    let mut samples = Vec::new();
    for i in 0..20 {
        let sku = stockyard_testkit::bench::sku(i);
        let before = app.stock.on_hand(&sku, "MAIN").expect("a level");
        let t = Instant::now();
        other.inventory().receive(&admin, &sku, Some("MAIN"), 1, None).expect("receive");
        pump(&mut app, &|app| app.stock.on_hand(&sku, "MAIN") == Some(before + 1));
        samples.push(t.elapsed());
    }
    stop.stop();
    samples.sort();
    println!(
        "another store's receive to the dashboard's row: median {:.0?}, max {:.0?} ({note})",
        samples[samples.len() / 2],
        samples[samples.len() - 1]
    );
}

/// The real binary, idle on the dashboard in tmux for 10 s: CPU time from /proc.
fn idle_cpu(db: &TestDb) {
    let binary = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/release/stockyard");
    if !std::path::Path::new(binary).exists() {
        println!("idle CPU: skipped — build the binary first (cargo build --release -p stockyard-cli)");
        return;
    }
    let socket = format!("stockyard-bench-{}", std::process::id());
    let tmux = |args: &[&str]| Command::new("tmux").arg("-L").arg(&socket).args(args).output().expect("tmux");
    let run = format!("exec env TERM=xterm-256color '{binary}' --db '{}' tui", db.url());
    tmux(&["new-session", "-d", "-x", "160", "-y", "48", "-s", "b", &run]);
    std::thread::sleep(Duration::from_secs(5));
    let pid = String::from_utf8_lossy(&tmux(&["display", "-p", "-t", "b", "#{pane_pid}"]).stdout).trim().to_owned();
    let ticks = || -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
    };
    let (start, t) = (ticks(), Instant::now());
    std::thread::sleep(Duration::from_secs(10));
    let (end, elapsed) = (ticks(), t.elapsed());
    tmux(&["kill-server"]);
    match (start, end) {
        // Clock ticks are 1/100 s on Linux.
        (Some(a), Some(b)) => println!(
            "idle CPU of `stockyard tui` over {:.0?}: {:.2}% of one core ({} ticks)",
            elapsed,
            (b - a) as f64 / elapsed.as_secs_f64(),
            b - a
        ),
        _ => println!("idle CPU: the binary was not running (pid {pid:?})"),
    }
}

/// `products` products, each stocked at three warehouses.
fn stocked(db: &TestDb, products: usize) -> Store {
    let store = Store::create(db.url(), &StoreOptions { pool_size: 4, ..db.options() }).expect("open");
    let me = Actor::local_admin();
    store.init(&me).expect("init");
    for code in &WAREHOUSES[1..] {
        store.warehouses().create(&me, NewWarehouse { code: (*code).into(), name: (*code).into() }).expect("warehouse");
    }
    for i in 0..products {
        let sku = stockyard_testkit::bench::sku(i);
        let product = NewProduct {
            sku: sku.clone(),
            name: format!("Bench item {i}"),
            price: "1.00".into(),
            barcode: Some(format!("{:013}", 2_000_000_000_000u64 + i as u64)),
            ..Default::default()
        };
        store.catalog().create_product(&me, product).expect("product");
        for (w, code) in WAREHOUSES.iter().enumerate() {
            store.inventory().receive(&me, &sku, Some(code), 10 + (i * 7 + w) as i64 % 50, None).expect("stock");
        }
    }
    store
}
