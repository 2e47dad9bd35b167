//! Settings resolved before anything runs: flags beat environment beat `stockyard.toml`
//! beat defaults. (Clap applies flag-over-environment; the file fills what both left.)

use std::path::Path;

use serde::Deserialize;
use stockyard_core::{Actor, Error, StoreOptions, inventory::allocation::Strategy};

use crate::{cli::Global, duration, exit::Failure, output::Format};

const DEFAULT_DATABASE: &str = "sqlite://stockyard.db";
const DEFAULT_CONFIG_FILE: &str = "stockyard.toml";

/// The settings a command runs with.
#[derive(Debug)]
pub struct Config {
    pub database: String,
    /// `--as`: the user to act as, when not the built-in local admin.
    pub acting_user: Option<String>,
    pub format: Format,
    pub quiet: bool,
    /// What the store's operations follow: reservation TTL, allocation strategy.
    pub store: StoreOptions,
}

/// The keys `stockyard.toml` may set.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    database: Option<String>,
    user: Option<String>,
    reservation_ttl: Option<String>,
    allocation: Option<String>,
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
        if let Some(strategy) = setting("STOCKYARD_ALLOCATION", file.allocation) {
            store.allocation = strategy.parse::<Strategy>()?;
        }
        Ok(Self {
            database: global.db.clone().or(file.database).unwrap_or_else(|| DEFAULT_DATABASE.into()),
            acting_user: global.acting_user.clone().or(file.user),
            format: global.format,
            quiet: global.quiet,
            store,
        })
    }

    /// Who the command acts as. Without `--as` it is the built-in `local-admin`.
    pub fn actor(&self) -> Result<Actor, Failure> {
        match &self.acting_user {
            None => Ok(Actor::local_admin()),
            // No user accounts exist yet, so every named user is unknown.
            Some(email) => Err(Error::Forbidden { reason: format!("unknown user {email:?}") }.into()),
        }
    }
}

/// A setting from the environment, else from the config file.
fn setting(variable: &str, from_file: Option<String>) -> Option<String> {
    std::env::var(variable).ok().filter(|v| !v.trim().is_empty()).or(from_file)
}

fn read(path: &Path) -> Result<File, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Other(format!("cannot read config file {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| Failure::Other(format!("config file {}: {e}", path.display())))
}
