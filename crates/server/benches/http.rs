//! `stockyard serve` under load: product reads by SKU and 3-line order placements over
//! HTTP, closed loop at 100 and 1,000 connections (`wrk`) and placements by 1,000 users who
//! pause between orders, on SQLite and PostgreSQL —
//! beside, in the same run, the in-process core figure for the same operation and an axum
//! hello-world, the ceiling of the HTTP stack on this machine (the load generator shares
//! its cores), and on SQLite a bare floor of a read over HTTP: the same hello-world server
//! handing each request to the blocking pool for the two indexed reads no design can skip
//! (the token, the product). Prints Markdown tables.
//!
//! Needs `wrk` (Debian: `apt-get install wrk`) and a release build of the binary:
//! `cargo build --release -p stockyard-cli && cargo bench -p stockyard-server --bench http`.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use stockyard_core::{
    Actor, Role, Store,
    auth::NewApiToken,
    orders::{Customer, NewOrder},
};
use stockyard_testkit::{
    TestDb,
    bench::{sku, stocked_store, timed_rate},
};

const PRODUCTS: usize = 1_000;
const STOCK: i64 = 1_000_000_000;
const LOAD_FOR: &str = "10s";
const IN_PROCESS_FOR: Duration = Duration::from_secs(5);
const IN_PROCESS_THREADS: usize = 8;
const CONNECTIONS: [usize; 2] = [100, 1_000];
/// A user's mean pause between orders in the users row (uniform over 0–2× this).
const USER_THINK_MS: u64 = 3_000;

fn main() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("--hello") {
        hello(&args.next().expect("--hello ADDR [SQLITE_PATH]"), args.next());
        return;
    }
    let binary = release_binary();
    println!("| backend | measure | req/s | p50 ms | p99 ms | p99.9 ms | errors |\n|---|---|---|---|---|---|---|");
    let ceiling = hello_world();
    for (backend, db) in [("SQLite", Some(TestDb::sqlite())), ("PostgreSQL", TestDb::postgres())] {
        match db {
            Some(db) => backend_figures(backend, &db, &binary, ceiling),
            None => println!("| {backend} | (skipped: unreachable) | | | | | |"),
        }
    }
}

/// The axum hello-world on its own process, as the ceiling; returns its rate at 1,000
/// connections.
fn hello_world() -> f64 {
    let this = std::env::current_exe().expect("this bench's path");
    let mut server = Served::start(Command::new(this).args(["--hello", "127.0.0.1:0"]));
    let mut ceiling = 0.0;
    for connections in CONNECTIONS {
        let result = wrk(&server.url, "hello", "", connections, 0);
        println!("{}", result.row("—", &format!("axum hello-world, {connections} connections")));
        ceiling = result.rate;
    }
    server.stop();
    ceiling
}

fn backend_figures(backend: &str, db: &TestDb, binary: &PathBuf, ceiling: f64) {
    let store = stocked_store(db, PRODUCTS, STOCK);
    let me = Actor::local_admin();
    let reads = in_process(|worker| {
        let (store, me) = (&store, &me);
        move |n: usize| {
            store.catalog().product(me, &sku((worker * 7919 + n * 7919) % PRODUCTS)).expect("product");
        }
    });
    let orders = in_process(|worker| {
        let (store, me) = (&store, &me);
        move |n: usize| place(store, me, worker * 7919 + n * 3)
    });
    println!("| {backend} | in-process: product by SKU, {IN_PROCESS_THREADS} threads | {reads:.0} | | | | |");
    println!("| {backend} | in-process: 3-line order, {IN_PROCESS_THREADS} threads | {orders:.0} | | | | |");
    let token = store
        .auth()
        .create_token(
            &me,
            NewApiToken { name: "bench".into(), role: Role::Admin, warehouses: vec![], expires_in: None },
        )
        .expect("a token")
        .secret;
    drop(store);

    let mut command = Command::new(binary);
    command.args(["serve", "--bind", "127.0.0.1:0", "--rate-limit", "off", "--no-workers", "--pool-size", "16"]);
    command.args(["--max-in-flight", "4096"]).env("STOCKYARD_DB", db.url()).env("RUST_LOG", "warn");
    if let Some(keys) = db.key_file() {
        command.env("STOCKYARD_DATA_KEY_FILE", keys);
    }
    if db.backend() == stockyard_core::Backend::Sqlite {
        let this = std::env::current_exe().expect("this bench's path");
        let path = db.url().trim_start_matches("sqlite://").to_owned();
        let mut floor = Served::start(Command::new(this).args(["--hello", "127.0.0.1:0", &path]));
        for connections in CONNECTIONS {
            let result = wrk(&floor.url, "floor", &token, connections, 0);
            println!("{}", result.row(backend, &format!("bare floor of an HTTP read, {connections} connections")));
        }
        floor.stop();
    }
    let mut server = Served::start(&mut command);
    for connections in CONNECTIONS {
        let result = wrk(&server.url, "read", &token, connections, 0);
        let share = 100.0 * result.rate / ceiling;
        println!(
            "{}",
            result
                .row(backend, &format!("HTTP product by SKU, {connections} connections ({share:.0}% of hello-world)"))
        );
    }
    for connections in CONNECTIONS {
        let result = wrk(&server.url, "order", &token, connections, 0);
        let share = 100.0 * result.rate / orders;
        println!(
            "{}",
            result.row(backend, &format!("HTTP 3-line order, {connections} connections ({share:.0}% of in-process)"))
        );
    }
    // A closed loop answers in (connections / rate) on average whatever the server does, so
    // 1,000 connections that never pause measure the queue, not a user's wait: here 1,000
    // users each pause a random 0–2 × USER_THINK_MS between orders.
    let result = wrk(&server.url, "order", &token, 1_000, USER_THINK_MS);
    println!(
        "{}",
        result
            .row(backend, &format!("HTTP 3-line order, 1000 users pausing ~{} s between orders", USER_THINK_MS / 1000))
    );
    println!("| {backend} | server peak RSS after both loads | {} MiB | | | | |", server.peak_rss_kib() / 1024);
    server.stop();
}

fn in_process<W: FnMut(usize)>(worker: impl Fn(usize) -> W + Sync) -> f64 {
    timed_rate(IN_PROCESS_THREADS, IN_PROCESS_FOR, worker)
}

/// Places the bench's 3-line order starting at product `n`, as the wrk script does.
fn place(store: &Store, me: &Actor, n: usize) {
    let first = n % (PRODUCTS - 2);
    let order = NewOrder {
        customer: Customer {
            email: format!("customer{}@example.com", n % 10_000),
            name: Some("Ada Lovelace".into()),
            phone: Some("+44 20 7946 0958".into()),
            address: Some("12 St James's Square, London SW1Y 4JH, United Kingdom".into()),
        },
        lines: (first..first + 3).map(|i| (sku(i), 1)).collect(),
        warehouse: Some("MAIN".into()),
        ..Default::default()
    };
    store.orders().create(me, order).expect("an order");
}

/// A server process, stopped with SIGTERM.
struct Served {
    child: Child,
    url: String,
}

impl Served {
    /// Starts `command`, which prints `listening on http://ADDR` once it listens.
    fn start(command: &mut Command) -> Self {
        let mut child = command.stdout(Stdio::piped()).spawn().expect("start the server");
        let stdout = child.stdout.take().expect("its stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("its first line");
        let url = line.trim().strip_prefix("listening on ").expect("`listening on URL`").to_owned();
        Self { child, url }
    }

    /// The most memory the process has held (`VmHWM`), in KiB.
    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    fn stop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

struct Load {
    rate: f64,
    p50_us: u64,
    p99_us: u64,
    p999_us: u64,
    errors: String,
}

impl Load {
    fn row(&self, backend: &str, measure: &str) -> String {
        let ms = |us: u64| us as f64 / 1000.0;
        format!(
            "| {backend} | {measure} | {:.0} | {:.1} | {:.1} | {:.1} | {} |",
            self.rate,
            ms(self.p50_us),
            ms(self.p99_us),
            ms(self.p999_us),
            self.errors
        )
    }
}

/// A load of `mode` requests (see benches/http.lua) at `connections`: closed loop, or each
/// connection pausing a random 0–2 × `think_ms` before each request.
fn wrk(url: &str, mode: &str, token: &str, connections: usize, think_ms: u64) -> Load {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/http.lua");
    let output = Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{LOAD_FOR}"), "--timeout", "10s", "-s"])
        .arg(&script)
        .arg(url)
        .env("BENCH_MODE", mode)
        .env("BENCH_TOKEN", token)
        .env("BENCH_PRODUCTS", PRODUCTS.to_string())
        .env("BENCH_THINK_MS", think_ms.to_string())
        .output()
        .expect("run wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<u64> = text
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("wrk printed no result: {text}"))
        .split_whitespace()
        .map(|n| n.parse().expect("a number"))
        .collect();
    let [requests, duration_us, p50_us, p99_us, p999_us, status, connect, read, write, timeout] = numbers[..] else {
        panic!("wrk's result has 10 numbers: {text}");
    };
    let errors = match status + connect + read + write + timeout {
        0 => "0".to_owned(),
        _ => format!("status {status}, connect {connect}, read {read}, write {write}, timeout {timeout}"),
    };
    Load { rate: requests as f64 / (duration_us as f64 / 1e6), p50_us, p99_us, p999_us, errors }
}

/// The hello-world server: `GET /` answers a short text, on a runtime like `serve`'s. With
/// a SQLite database, `GET /floor/{sku}` is the bare floor of a read: on the blocking pool,
/// the API token's row by its hash and the product's row by its SKU, answered as JSON.
fn hello(address: &str, database: Option<String>) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(address).await.expect("bind");
        println!("listening on http://{}", listener.local_addr().expect("address"));
        let floor = move |axum::extract::Path(sku): axum::extract::Path<String>, headers: axum::http::HeaderMap| {
            let database = database.clone().expect("a database for /floor");
            async move {
                let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                tokio::task::spawn_blocking(move || bare_read(&database, &bearer, &sku)).await.expect("the read")
            }
        };
        let app = axum::Router::new()
            .route("/", axum::routing::get(|| async { "Hello, world!" }))
            .route("/floor/{sku}", axum::routing::get(floor));
        let stop = async {
            let mut terminate =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM");
            terminate.recv().await;
        };
        axum::serve(listener, app).with_graceful_shutdown(stop).await.expect("serve");
    });
}

/// The two reads of the floor, on this thread's own connection.
fn bare_read(database: &str, bearer: &str, sku: &str) -> String {
    use sha2::Digest;
    thread_local! {
        static CONNECTION: std::cell::OnceCell<rusqlite::Connection> = const { std::cell::OnceCell::new() };
    }
    let hash: String =
        sha2::Sha256::digest(bearer.trim_start_matches("Bearer ")).iter().map(|b| format!("{b:02x}")).collect();
    CONNECTION.with(|cell| {
        let connection = cell.get_or_init(|| rusqlite::Connection::open(database).expect("open the bench database"));
        let token: Option<String> = connection
            .prepare_cached("SELECT name FROM api_tokens WHERE token_hash = ?1")
            .and_then(|mut s| s.query_row([&hash], |row| row.get(0)))
            .ok();
        let name: String = connection
            .prepare_cached("SELECT name FROM products WHERE sku = ?1")
            .and_then(|mut s| s.query_row([sku], |row| row.get(0)))
            .expect("the product");
        format!("{{\"sku\":\"{sku}\",\"name\":\"{name}\",\"token\":{}}}", token.is_some())
    })
}

/// `target/release/stockyard`, built beforehand.
fn release_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"), PathBuf::from);
    let binary = target.join("release/stockyard");
    assert!(
        binary.exists(),
        "build it first: cargo build --release -p stockyard-cli ({} is missing)",
        binary.display()
    );
    binary
}
