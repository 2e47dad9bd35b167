//! `stockyard tui` end to end: the real binary in a real terminal (tmux), on the demo data,
//! driven by keys — filter, adjust a level, see another process's change live, scan-pick an
//! order to packed — each change checked through the CLI, then quit with the terminal as
//! it was (the shell prompt back, `stty -a` unchanged).

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use serde_json::Value;
use stockyard_testkit::TestDb;

use crate::common::{items, json, stockyard};

/// How long the screen may take to show something (the bound for a live update).
const PATIENCE: Duration = Duration::from_secs(10);

/// A tmux server of the test's own, killed when dropped.
struct Tmux {
    socket: String,
    dir: tempfile::TempDir,
}

impl Tmux {
    /// A shell in a 100×30 terminal, its prompt `$ `.
    fn start() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let socket = format!("stockyard-test-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let dir = tempfile::tempdir().expect("a temporary directory");
        let tmux = Tmux { socket, dir };
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "30",
            "-s",
            "t",
            "env -i PATH=/usr/bin:/bin HOME=/tmp TERM=xterm-256color PS1='$ ' sh",
        ]);
        assert!(out.status.success(), "tmux could not start: {}", String::from_utf8_lossy(&out.stderr));
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("tmux is installed")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "t", "-l", text]);
    }

    /// Presses named keys (`Enter`, `Escape`, `Tab`, …).
    fn press(&self, key: &str) {
        self.run(&["send-keys", "-t", "t", key]);
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }

    /// The screen with its styles, as escape sequences.
    fn styled_screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-e", "-t", "t"]).stdout).into_owned()
    }

    /// Waits until the screen shows every one of `fragments`.
    fn wait_for(&self, fragments: &[&str]) -> String {
        self.wait_until(fragments, |screen| fragments.iter().all(|f| screen.contains(f)))
    }

    /// Waits until one line of the screen holds every one of `fragments`.
    fn wait_line(&self, fragments: &[&str]) -> String {
        self.wait_until(fragments, |screen| screen.lines().any(|l| fragments.iter().all(|f| l.contains(f))))
    }

    fn wait_until(&self, fragments: &[&str], shown: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if shown(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "the screen never showed {fragments:?}:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The shell command that runs the binary as the tests' `common::command` does.
fn tui_command(db: &TestDb, stty_before: &Path, stty_after: &Path) -> String {
    let binary = env!("CARGO_BIN_EXE_stockyard");
    let keyring = db.key_file().map(|k| format!("STOCKYARD_DATA_KEY_FILE='{}' ", k.display())).unwrap_or_default();
    format!(
        "stty -a > '{}'; NO_COLOR=1 {keyring}'{binary}' --db '{}' tui; echo \"exit $?\"; stty -a > '{}'",
        stty_before.display(),
        db.url(),
        stty_after.display()
    )
}

fn level(db: &TestDb, sku: &str, warehouse: &str) -> i64 {
    let shown = json(db, &["stock", "show", sku, "--warehouse", warehouse]);
    items(&shown)[0]["on_hand"].as_i64().expect("on_hand")
}

stockyard_testkit::backend_tests! {
    fn a_shift_in_the_real_terminal_filter_adjust_live_update_pick_and_quit(db) {
        stockyard(db).arg("init").assert().success();
        stockyard(db).args(["demo", "--products", "30"]).assert().success();
        // The oldest order to pick at MAIN heads the pick list.
        let mut open = items(&json(db, &["order", "list", "--status", "paid"]));
        open.extend(items(&json(db, &["order", "list", "--status", "picking"])));
        let at_main = |o: &&Value| o["allocations"].as_array().is_some_and(|a| a.iter().any(|a| a["warehouse"] == "MAIN"));
        let order = open.iter().filter(at_main).min_by_key(|o| o["number"].as_i64()).expect("the demo has an order to pick");
        let number = order["number"].as_i64().expect("number");
        let allocations = order["allocations"].as_array().expect("allocations").clone();
        assert!(allocations.iter().all(|a| a["warehouse"] == "MAIN"), "the demo's order is served from MAIN alone: {allocations:?}");
        let (sku, warehouse) = (allocations[0]["sku"].as_str().expect("sku").to_owned(), "MAIN");

        let tmux = Tmux::start();
        let (before, after) = (tmux.file("stty-before"), tmux.file("stty-after"));
        tmux.type_text(&tui_command(db, &before, &after));
        tmux.press("Enter");
        tmux.wait_for(&["Dashboard", "Orders today"]);
        // NO_COLOR: bold, dim and reverse only, never a colour (SGR 30–38, 90–97).
        let styled = tmux.styled_screen();
        let colours: Vec<&str> = styled
            .split("\u{1b}[")
            .skip(1)
            .filter_map(|s| s.split_once('m').map(|(codes, _)| codes))
            .filter(|codes| codes.split(';').any(|c| matches!(c.parse::<u8>(), Ok(30..=38 | 90..=97))))
            .collect();
        assert!(colours.is_empty(), "NO_COLOR was set, yet colours were drawn: {colours:?}");

        // Filter to the order's first SKU, adjust it down by one.
        let on_hand = level(db, &sku, warehouse);
        tmux.type_text("2/");
        tmux.type_text(&sku);
        tmux.press("Enter");
        tmux.wait_for(&[&sku]);
        // Only MAIN's row: `w` steps through the warehouses.
        for _ in 0..5 {
            if tmux.screen().contains("· MAIN") {
                break;
            }
            tmux.type_text("w");
            std::thread::sleep(Duration::from_millis(100));
        }
        tmux.wait_for(&["1 of", "· MAIN"]);
        tmux.type_text("a-1");
        tmux.press("Tab");
        tmux.type_text("end to end");
        tmux.press("Enter");
        tmux.wait_for(&["Before → after", &format!("on hand {on_hand} → {}", on_hand - 1)]);
        tmux.press("Enter");
        tmux.wait_for(&["Adjusted"]);
        assert_eq!(level(db, &sku, warehouse), on_hand - 1);

        // Another process receives stock: the row shows it.
        stockyard(db).args(["stock", "receive", &sku, "7", "--warehouse", warehouse]).assert().success();
        let expected = format!(" {} ", on_hand + 6);
        tmux.wait_line(&[&sku, " MAIN ", &expected]);

        // Pick the paid order by scanning every unit: it ends packed.
        tmux.type_text("4");
        tmux.wait_for(&["To pick at MAIN", &number.to_string()]);
        tmux.press("Enter");
        tmux.wait_for(&[&format!("Order {number}")]);
        for allocation in &allocations {
            for _ in 0..allocation["quantity"].as_i64().expect("quantity") {
                tmux.type_text(allocation["sku"].as_str().expect("sku"));
                tmux.press("Enter");
            }
        }
        tmux.wait_for(&["packed"]);
        let shown = json(db, &["order", "show", &number.to_string()]);
        assert_eq!(shown["status"], "packed", "{shown}");

        // The terminal shrinks to 80×24: everything is drawn again to fit, keys still shown.
        tmux.run(&["resize-window", "-t", "t", "-x", "80", "-y", "24"]);
        tmux.wait_until(&["80 columns"], |screen| {
            screen.lines().count() <= 24 && screen.lines().any(|l| l.contains("Esc back"))
        });

        // Leave the pick list, quit: the shell is back, the terminal as it was.
        tmux.press("Escape");
        tmux.type_text("q");
        tmux.wait_for(&["exit 0"]);
        // The shell prompt comes back once the last `stty -a` has written its file.
        tmux.wait_until(&["$"], |screen| screen.lines().any(|l| l.trim_end() == "$"));
        assert!(after.exists(), "the shell ran on after the dashboard quit");
        // Every mode as it was; only the size line differs, since the window was resized.
        let modes = |p: &Path| {
            let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            text.lines().skip(1).collect::<Vec<_>>().join("\n")
        };
        assert_eq!(modes(&before), modes(&after), "stty -a differs after the dashboard quit");
    }
}
