//! How the server runs; the CLI fills it from flags, environment and `stockyard.toml`.

use std::{net::SocketAddr, num::NonZeroU32, path::PathBuf, time::Duration};

/// The server's settings. [`Settings::default`] is what `stockyard serve` runs with when
/// nothing else is set.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    /// Requests per second per credential (per address before login); `None`: no limit.
    pub rate_limit: Option<NonZeroU32>,
    /// Origins allowed to call from a browser; none: CORS stays off.
    pub cors_origins: Vec<String>,
    /// The largest request body taken, in bytes.
    pub body_limit: usize,
    /// The longest a request may take before it is answered 503.
    pub request_timeout: Duration,
    /// Requests answered at once; more are shed with 503 at once.
    pub max_in_flight: usize,
    /// Calls into the core at once: the store's connection pool size.
    pub pool_size: u32,
    /// How long a request may wait for a free connection before it is shed.
    pub queue_timeout: Duration,
    /// How often an SSE stream sends a heartbeat comment.
    pub heartbeat: Duration,
    /// Serve HTTPS with this certificate and key; `None`: plain HTTP.
    pub tls: Option<TlsFiles>,
    /// The first wait after repeated failed logins (per account, per address); it doubles
    /// with each further failure.
    pub login_backoff: Duration,
}

/// A PEM certificate chain (the server's certificate first) and its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_RATE_LIMIT: u32 = 100;

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            rate_limit: NonZeroU32::new(DEFAULT_RATE_LIMIT),
            cors_origins: Vec::new(),
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_in_flight: 2048,
            pool_size: stockyard_core::StoreOptions::default().pool_size,
            queue_timeout: Duration::from_secs(10),
            heartbeat: Duration::from_secs(15),
            tls: None,
            login_backoff: Duration::from_secs(1),
        }
    }
}
