//! Settings resolved before anything runs: flags beat environment beat `stockyard.toml`
//! beat defaults. (Clap applies flag-over-environment; the file fills what both left.)

use std::path::{Path, PathBuf};

use serde::Deserialize;
use stockyard_core::{Error, StoreOptions, crypto::KeySource, inventory::allocation::Strategy};

use crate::{cli::Global, duration, exit::Failure, output::Format};

const DEFAULT_DATABASE: &str = "sqlite://stockyard.db";
const DEFAULT_CONFIG_FILE: &str = "stockyard.toml";
/// The most a config file may hold: a few dozen settings need far less.
const CONFIG_LIMIT: u64 = 64 * 1024;

/// The settings a command runs with.
#[derive(Debug)]
pub struct Config {
    pub database: String,
    /// `--as`: the user to act as, when not the built-in local admin.
    pub acting_user: Option<String>,
    pub format: Format,
    pub quiet: bool,
    /// What the store's operations follow: reservation TTL, unpaid order timeout, allocation
    /// strategy, the token signing secret.
    pub store: StoreOptions,
    /// Where the notification dispatcher sends email from and through.
    pub mail: Mail,
    /// `serve`'s settings from the config file.
    pub serve: ServeFile,
}

/// The email settings (`STOCKYARD_SMTP_URL`, `STOCKYARD_MAIL_FROM`); email is off unless
/// both are set. `Debug` hides the URL, which may carry a password.
pub struct Mail {
    pub smtp_url: Option<String>,
    pub from: Option<String>,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self.smtp_url.as_ref().map(|_| "<redacted>");
        f.debug_struct("Mail").field("smtp_url", &url).field("from", &self.from).finish()
    }
}

/// The keys `stockyard.toml` may set.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    database: Option<String>,
    user: Option<String>,
    reservation_ttl: Option<String>,
    unpaid_timeout: Option<String>,
    allocation: Option<String>,
    jwt_secret: Option<String>,
    data_key_file: Option<PathBuf>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    bind: Option<String>,
    rate_limit: Option<toml::Value>,
    #[serde(default)]
    cors_origins: Vec<String>,
    pool_size: Option<u32>,
    max_in_flight: Option<usize>,
    sweep_every: Option<String>,
    dispatch_every: Option<String>,
    relay: Option<String>,
    log_format: Option<crate::cli::LogFormat>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    webhook_allow_private: Option<bool>,
}

/// What `stockyard.toml` sets for `serve` (flags and environment come first).
#[derive(Debug, Default)]
pub struct ServeFile {
    pub bind: Option<String>,
    pub rate_limit: Option<toml::Value>,
    pub cors_origins: Vec<String>,
    pub pool_size: Option<u32>,
    pub max_in_flight: Option<usize>,
    pub sweep_every: Option<String>,
    pub dispatch_every: Option<String>,
    pub relay: Option<String>,
    pub log_format: Option<crate::cli::LogFormat>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

impl Config {
    pub fn resolve(global: &Global) -> Result<Self, Failure> {
        let file = match &global.config {
            Some(path) => read(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => read(Path::new(DEFAULT_CONFIG_FILE))?,
            None => File::default(),
        };
        let mut store = StoreOptions::default();
        if let Some(ttl) = setting("STOCKYARD_RESERVATION_TTL", file.reservation_ttl) {
            store.reservation_ttl = duration::duration(&ttl)
                .map_err(|e| Error::invalid("reservation TTL (STOCKYARD_RESERVATION_TTL)", e))?;
        }
        if let Some(timeout) = setting("STOCKYARD_UNPAID_TIMEOUT", file.unpaid_timeout) {
            let invalid = |reason| Error::invalid("unpaid order timeout (STOCKYARD_UNPAID_TIMEOUT)", reason);
            store.unpaid_timeout = duration::duration(&timeout).map_err(invalid)?;
            if store.unpaid_timeout.is_zero() {
                return Err(invalid(format!("{timeout:?} would cancel every order before it could be paid")).into());
            }
        }
        if let Some(strategy) = setting("STOCKYARD_ALLOCATION", file.allocation) {
            store.allocation = strategy.parse::<Strategy>()?;
        }
        store.jwt_secret = setting("STOCKYARD_JWT_SECRET", file.jwt_secret);
        // A keyring file (it can hold several keys) wins over a single key.
        let key_file = setting("STOCKYARD_DATA_KEY_FILE", None).map(PathBuf::from).or(file.data_key_file);
        store.data_key = match (key_file, setting("STOCKYARD_DATA_KEY", None)) {
            (Some(path), _) => Some(KeySource::File(path)),
            (None, Some(key)) => Some(KeySource::Key(key)),
            (None, None) => None,
        };
        store.webhook_allow_private = match setting("STOCKYARD_WEBHOOK_ALLOW_PRIVATE", None) {
            Some(allow) => flag("STOCKYARD_WEBHOOK_ALLOW_PRIVATE", &allow)?,
            None => file.webhook_allow_private.unwrap_or(false),
        };
        let mail = Mail {
            smtp_url: setting("STOCKYARD_SMTP_URL", file.smtp_url),
            from: setting("STOCKYARD_MAIL_FROM", file.mail_from),
        };
        Ok(Self {
            database: global.db.clone().or(file.database).unwrap_or_else(|| DEFAULT_DATABASE.into()),
            acting_user: global.acting_user.clone().or(file.user),
            format: global.format,
            quiet: global.quiet,
            store,
            mail,
            serve: ServeFile {
                bind: file.bind,
                rate_limit: file.rate_limit,
                cors_origins: file.cors_origins,
                pool_size: file.pool_size,
                max_in_flight: file.max_in_flight,
                sweep_every: file.sweep_every,
                dispatch_every: file.dispatch_every,
                relay: file.relay,
                log_format: file.log_format,
                tls_cert: file.tls_cert,
                tls_key: file.tls_key,
            },
        })
    }
}

/// A setting from the environment, else from the config file.
fn setting(variable: &str, from_file: Option<String>) -> Option<String> {
    std::env::var(variable).ok().filter(|v| !v.trim().is_empty()).or(from_file)
}

/// A yes/no environment variable: `1`/`true`/`yes` or `0`/`false`/`no`.
fn flag(variable: &str, value: &str) -> Result<bool, Failure> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Error::invalid(variable, format!("{value:?} is not 1 or 0 (true or false)")).into()),
    }
}

fn read(path: &Path) -> Result<File, Failure> {
    let text = crate::input::file(path, "config file", CONFIG_LIMIT)?;
    toml::from_str(&text).map_err(|e| {
        // toml's own message draws the line it points at; one line says where instead.
        let at = e.span().map_or_else(String::new, |span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
            format!(" line {line}, column {column}:")
        });
        Failure::Other(format!("config file {}:{at} {}", path.display(), e.message().trim()))
    })
}
