//! A real `stockyard serve` for the tests that drive the HTTP API: started on a free port,
//! stopped as a service manager would (SIGTERM) or killed outright (SIGKILL).

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Stdio},
    time::Duration,
};

use reqwest::blocking::Client;
use stockyard_testkit::TestDb;

use super::command;

/// A running `stockyard serve`, stopped when dropped.
pub struct Served {
    child: Child,
    /// Its log (stderr), for failure messages.
    log: tempfile::NamedTempFile,
    /// `http://127.0.0.1:PORT` (or https), as the binary printed it.
    pub base: String,
}

impl Served {
    /// Starts `serve ARGS` (`RUST_LOG=warn` unless `env` says otherwise) and waits until it
    /// says where it listens.
    pub fn start(db: &TestDb, args: &[&str], env: &[(&str, &str)], dir: &Path) -> Self {
        let mut cmd = command(db);
        cmd.current_dir(dir).arg("serve").args(args).env("RUST_LOG", "warn").envs(env.iter().copied());
        let log = tempfile::NamedTempFile::new().expect("a log file");
        let stderr = log.reopen().expect("the log file");
        cmd.stdout(Stdio::piped()).stderr(stderr);
        let mut child = cmd.spawn().expect("start stockyard serve");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout).read_line(&mut line).expect("read stdout");
        let Some(base) = line.trim().strip_prefix("listening on ").map(str::to_owned) else {
            let status = child.wait().expect("exit");
            panic!(
                "serve {args:?} did not listen ({status}): {}",
                std::fs::read_to_string(log.path()).unwrap_or_default()
            );
        };
        Self { child, log, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGTERM, as a service manager stops it: it must exit cleanly. Returns its whole log.
    pub fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        assert!(sent.success());
        let status = self.child.wait().expect("wait for serve");
        let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        assert!(status.success(), "SIGTERM stops it cleanly, not {status}: {log}");
        log
    }
}

impl Served {
    /// SIGKILL, as a crash or a power cut ends it: no shutdown code runs.
    pub fn kill(mut self) {
        self.child.kill().expect("kill -9");
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking client that sends no proxy and waits long enough for a loaded machine.
pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().expect("client")
}
