//! Services a test may take away: a throwaway PostgreSQL cluster of its own (never the
//! machine's shared server), stopped and started again at will; a small tmpfs for a SQLite
//! file, filled to the last byte and emptied again; and a NATS server of its own, killed and
//! started again on the same storage.
//!
//! Both need root (a mount; `initdb` and `pg_ctl` refuse root, so they run as `postgres`
//! through `runuser`). Where that cannot be had the test is skipped with a message on
//! stderr — unless `STOCKYARD_REQUIRE_FAULTS=1` (CI sets it), which makes it a failure.

use std::{
    io::Write,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// A PostgreSQL cluster on a temporary data directory and port, run as `postgres`.
#[derive(Debug)]
pub struct PgCluster {
    dir: tempfile::TempDir,
    port: u16,
}

impl PgCluster {
    /// Creates and starts one, or `None` (with a message) when this machine cannot.
    pub fn start() -> Option<Self> {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let cluster = Self { port: free_port(), dir };
        let made = run(Command::new("chown").args(["postgres"]).arg(cluster.dir.path()))
            .and_then(|()| cluster.as_postgres("initdb", &["-A", "trust", "-U", "postgres", "-D", &cluster.data()]));
        if let Err(why) = made.and_then(|()| cluster.resume()) {
            return cannot("a PostgreSQL cluster of the test's own", &why);
        }
        Some(cluster)
    }

    /// The URL of its `postgres` database, as an administrator.
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops it at once, as a crash or a pulled plug would (`pg_ctl stop -m immediate`):
    /// connections are cut and it recovers from its WAL when started again.
    pub fn halt(&self) {
        self.as_postgres("pg_ctl", &["stop", "-m", "immediate", "-w", "-D", &self.data()])
            .unwrap_or_else(|why| panic!("stop the test's PostgreSQL: {why}"));
    }

    /// Starts it (again), waiting until it takes connections.
    pub fn resume(&self) -> Result<(), String> {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.path().display());
        let log = self.dir.path().join("log").display().to_string();
        self.as_postgres("pg_ctl", &["start", "-w", "-D", &self.data(), "-l", &log, "-o", &options])
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn as_postgres(&self, program: &str, args: &[&str]) -> Result<(), String> {
        run(Command::new("runuser").args(["-u", "postgres", "--", program]).args(args).current_dir(self.dir.path()))
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.as_postgres("pg_ctl", &["stop", "-m", "immediate", "-D", &self.data()]);
    }
}

/// A tmpfs of a few megabytes mounted on a temporary folder, unmounted when dropped.
#[derive(Debug)]
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

/// The file [`Tmpfs::fill`] takes the free space with.
const FILLER: &str = "filler";

impl Tmpfs {
    /// Mounts one of `megabytes`, or `None` (with a message) when this machine cannot.
    pub fn mount(megabytes: u32) -> Option<Self> {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let size = format!("size={megabytes}m");
        match run(Command::new("mount").args(["-t", "tmpfs", "-o", &size, "tmpfs"]).arg(dir.path())) {
            Ok(()) => Some(Self { dir }),
            Err(why) => cannot("a tmpfs to fill", &why),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Takes every free byte.
    pub fn fill(&self) {
        let mut filler = std::fs::File::create(self.filler()).expect("create the filler");
        let block = vec![0u8; 64 * 1024];
        for size in [block.len(), 512, 1] {
            while filler.write_all(&block[..size]).and_then(|()| filler.sync_all()).is_ok() {}
        }
    }

    /// Gives the space back.
    pub fn free(&self) {
        std::fs::remove_file(self.filler()).expect("remove the filler");
    }

    fn filler(&self) -> PathBuf {
        self.dir.path().join(FILLER)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = run(Command::new("umount").arg("-l").arg(self.dir.path()));
    }
}

/// A NATS server with JetStream on a port and a storage folder of its own.
#[derive(Debug)]
pub struct NatsServer {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<std::process::Child>,
}

impl NatsServer {
    /// Starts one, or `None` (with a message) when this machine has no `nats-server`.
    pub fn start() -> Option<Self> {
        let mut server = Self { dir: tempfile::tempdir().expect("a temporary folder"), port: free_port(), child: None };
        match server.resume() {
            Ok(()) => Some(server),
            Err(why) => cannot("a NATS server of the test's own", &why),
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// `kill -9`: clients lose it mid-request.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it (again) on the same storage, waiting until it takes connections.
    pub fn resume(&mut self) -> Result<(), String> {
        let port = self.port.to_string();
        let child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port, "-js", "-sd"])
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("nats-server: {e}"))?;
        self.child = Some(child);
        for _ in 0..500 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Err("nats-server did not listen within 5 s".into())
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

fn run(command: &mut Command) -> Result<(), String> {
    match command.output() {
        Ok(Output { status, .. }) if status.success() => Ok(()),
        Ok(Output { status, stderr, .. }) => {
            Err(format!("{command:?}: {status}: {}", String::from_utf8_lossy(&stderr)))
        }
        Err(e) => Err(format!("{command:?}: {e}")),
    }
}

fn cannot<T>(what: &str, why: &str) -> Option<T> {
    if std::env::var("STOCKYARD_REQUIRE_FAULTS").is_ok_and(|v| v == "1") {
        panic!("{what} is required (STOCKYARD_REQUIRE_FAULTS=1) but cannot be had: {why}");
    }
    let _ = writeln!(
        std::io::stderr(),
        "\n*** cannot make {what} here ({why}): this fault test is SKIPPED. It needs root; \
         STOCKYARD_REQUIRE_FAULTS=1 makes this a failure. ***\n"
    );
    None
}
