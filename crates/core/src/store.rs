//! The entry point: a store opened from a database URL, and the operations on it.

use std::sync::Arc;

use jiff::SignedDuration;
use serde::Serialize;

use crate::{
    Actor, Audit, Catalog, Events, Inventory, Orders, Result, Users, Warehouses, audit,
    auth::{Action, Auth, sessions},
    clock::Clock,
    crypto::{self, KeySource, Keyring, fingerprint, rotation::Keys},
    db::{Backend, DEFAULT_POOL_SIZE, Location, Pool, Tx},
    feed::{self, Feed},
    inventory::allocation::Strategy,
    journal::{self, Change},
    notifications::{Notifications, templates},
    settings, warehouses,
};

/// A stockyard database (SQLite file or PostgreSQL database). Cheap to clone and safe to
/// share between threads: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    pub(crate) location: Arc<Location>,
    /// The change feed's state, shared by every clone (see [`Store::feed`]).
    pub(crate) feed: Arc<feed::Shared>,
    pub(crate) options: Arc<StoreOptions>,
    /// The keyring, as last checked against the database's fingerprint of it.
    keyring: Arc<fingerprint::Cache>,
    /// The token signing secret once read: it never changes after `init` (a key rotation
    /// re-seals it, the same bytes), so token checks need not read and decrypt it each time.
    pub(crate) signing_secret: Arc<std::sync::OnceLock<Vec<u8>>>,
}

/// How to open a store, and the settings its operations follow.
#[derive(Clone)]
pub struct StoreOptions {
    /// The most connections the pool holds.
    pub pool_size: u32,
    /// How long a checkout reservation holds its stock unless told otherwise.
    pub reservation_ttl: SignedDuration,
    /// How warehouses are chosen for a reservation that names none.
    pub allocation: Strategy,
    /// Replay (and verify) saves a snapshot once this many events were logged since the
    /// last one, so the next replay starts there.
    pub snapshot_every: i64,
    /// Signs session tokens instead of the secret `init` stored (`STOCKYARD_JWT_SECRET`).
    pub jwt_secret: Option<String>,
    /// How long a session token from a login is valid.
    pub session_ttl: SignedDuration,
    /// How long a confirmed order may stay unpaid before the sweep cancels it.
    pub unpaid_timeout: SignedDuration,
    /// The keyring that encrypts personal data and secrets. SQLite defaults to the file
    /// `<database>.key` that `init` creates; PostgreSQL needs one named.
    pub data_key: Option<KeySource>,
    /// Where the store reads the time: the system clock, or a [`crate::ManualClock`] in tests.
    pub clock: Clock,
    /// Lets webhooks call loopback, private, link-local and metadata addresses, which are
    /// refused otherwise (against SSRF): for tests and single-host setups
    /// (`STOCKYARD_WEBHOOK_ALLOW_PRIVATE=1`).
    pub webhook_allow_private: bool,
}

impl std::fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreOptions")
            .field("pool_size", &self.pool_size)
            .field("reservation_ttl", &self.reservation_ttl)
            .field("allocation", &self.allocation)
            .field("snapshot_every", &self.snapshot_every)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<redacted>"))
            .field("session_ttl", &self.session_ttl)
            .field("unpaid_timeout", &self.unpaid_timeout)
            .field("data_key", &self.data_key)
            .field("clock", &self.clock)
            .field("webhook_allow_private", &self.webhook_allow_private)
            .finish()
    }
}

/// The checkout reservation TTL when nothing sets one.
pub const DEFAULT_RESERVATION_TTL: SignedDuration = SignedDuration::from_mins(15);

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            pool_size: DEFAULT_POOL_SIZE,
            reservation_ttl: DEFAULT_RESERVATION_TTL,
            allocation: Strategy::default(),
            snapshot_every: 100_000,
            jwt_secret: None,
            session_ttl: SignedDuration::from_hours(1),
            data_key: None,
            unpaid_timeout: SignedDuration::from_mins(30),
            clock: Clock::system(),
            webhook_allow_private: false,
        }
    }
}

/// What `init` did; empty on a store that was already initialised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InitReport {
    /// Whether this call initialised the store (false: it already was).
    pub initialised: bool,
    /// Codes of the warehouses it created.
    pub warehouses_created: Vec<String>,
}

impl Store {
    /// Opens an initialised store (`sqlite://PATH` or `postgres://…`), applying pending
    /// migrations. A store `init` never ran on is refused with [`crate::Error::NotInitialised`];
    /// one whose keyring lacks a key its data is sealed with, with a clear storage error.
    pub fn open(url: &str) -> Result<Self> {
        Self::open_with(url, &StoreOptions::default())
    }

    pub fn open_with(url: &str, options: &StoreOptions) -> Result<Self> {
        let store = Self::connect(url, false, options)?;
        if !store.is_initialised()? {
            return Err(crate::Error::NotInitialised { location: store.location.display() });
        }
        Ok(store)
    }

    /// Opens a store for [`Store::init`], creating the SQLite file if it is missing.
    pub fn create(url: &str, options: &StoreOptions) -> Result<Self> {
        Self::connect(url, true, options)
    }

    fn connect(url: &str, create: bool, options: &StoreOptions) -> Result<Self> {
        let location = Location::parse(url)?;
        let feed = Arc::new(feed::Shared::default());
        let pool = Pool::open(&location, create, options.pool_size, Arc::clone(&feed))?;
        let store = Self {
            pool,
            location: Arc::new(location),
            feed,
            options: Arc::new(options.clone()),
            keyring: Arc::default(),
            signing_secret: Arc::default(),
        };
        store.admit_keyring()?;
        audit::chain::ensure(&store.pool, store.now())?;
        Ok(store)
    }

    /// Refuses, before anything is written, a keyring that lacks a key the data is sealed
    /// with (or holds another key under its id). A store initialised before the database
    /// recorded its keyring's fingerprint records it now. A PostgreSQL store opened
    /// without a key can neither seal nor open, so there is nothing to check.
    fn admit_keyring(&self) -> Result<()> {
        let Ok(source) = self.key_source() else { return Ok(()) };
        if !self.is_initialised()? {
            return Ok(());
        }
        if !self.pool.read(fingerprint::recorded)? {
            let keyring = Keyring::load(&source)?;
            self.pool.bookkeep(|tx| fingerprint::adopt(tx, &keyring, &source))?;
        }
        self.pool.read(|tx| self.keyring(tx)).map(drop)
    }

    /// One-time set-up, idempotent: marks the store initialised, creates the `MAIN`
    /// warehouse and the token signing secret. Run again, it changes nothing that exists;
    /// in particular it never creates a keyring for a store already initialised.
    pub fn init(&self, actor: &Actor) -> Result<InitReport> {
        actor.authorize(Action::StoreSetup)?;
        let source = self.key_source()?;
        if let (None, Location::Sqlite(path), false) = (&self.options.data_key, &*self.location, self.is_initialised()?)
        {
            // Two `init`s at once: the first file written stands, and both read it back.
            Keyring::generate().save_new(&crypto::default_keyring_path(path))?;
        }
        let keyring = Keyring::load(&source)?;
        self.pool.write(|tx| {
            fingerprint::adopt(tx, &keyring, &source)?;
            let keyring = self.sealing_keyring(tx)?;
            let now = self.now();
            let initialised = settings::put_if_absent(tx, settings::INITIALISED_AT, &now.to_string())?;
            let mut warehouses_created = Vec::new();
            sessions::ensure_secret(tx, &keyring)?;
            templates::install_defaults(tx, now)?;
            if warehouses::find(tx, warehouses::MAIN)?.is_none() {
                warehouses::insert(tx, actor, warehouses::MAIN, "Main warehouse", now)?;
                warehouses_created.push(warehouses::MAIN.to_owned());
            }
            if initialised {
                let change = Change {
                    action: "store.init",
                    entity: ("store", "settings"),
                    before: None,
                    after: Some(serde_json::json!({ "initialised_at": now })),
                    events: Vec::new(),
                };
                journal::record(tx, actor, change, now)?;
            }
            Ok(InitReport { initialised, warehouses_created })
        })
    }

    /// Refreshes the query planner's statistics (`ANALYZE` / `PRAGMA optimize`). Worth
    /// running after a bulk load; PostgreSQL's autovacuum and SQLite's defaults otherwise
    /// catch up on their own, later.
    pub fn optimize(&self) -> Result<()> {
        self.pool.maintain()
    }

    pub fn is_initialised(&self) -> Result<bool> {
        self.pool.read(|tx| settings::get(tx, settings::INITIALISED_AT).map(|v| v.is_some()))
    }

    /// Whether the store can serve now, for a readiness check: initialised, the database
    /// reachable, and — after a write failed for want of room — writable again (a small
    /// write is tried). `Unavailable` names the trouble while it lasts; it ends by itself.
    pub fn ready(&self) -> Result<()> {
        self.pool.ready()?;
        if !self.is_initialised()? {
            return Err(crate::Error::NotInitialised { location: self.location.display() });
        }
        Ok(())
    }

    /// Now, by the store's clock ([`StoreOptions::clock`]).
    pub fn now(&self) -> jiff::Timestamp {
        self.options.clock.now()
    }

    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// Where the store lives, without secrets.
    pub fn location(&self) -> String {
        self.location.display()
    }

    pub fn catalog(&self) -> Catalog<'_> {
        Catalog { store: self }
    }

    pub fn warehouses(&self) -> Warehouses<'_> {
        Warehouses { store: self }
    }

    pub fn inventory(&self) -> Inventory<'_> {
        Inventory { store: self }
    }

    pub fn events(&self) -> Events<'_> {
        Events { store: self }
    }

    /// Waits for new events, for readers that run long (see [`Feed`]).
    pub fn feed(&self) -> Feed<'_> {
        Feed { store: self }
    }

    pub fn audit(&self) -> Audit<'_> {
        Audit { store: self }
    }

    pub fn users(&self) -> Users<'_> {
        Users { store: self }
    }

    pub fn auth(&self) -> Auth<'_> {
        Auth { store: self }
    }

    pub fn notifications(&self) -> Notifications<'_> {
        Notifications { store: self }
    }

    pub fn orders(&self) -> Orders<'_> {
        Orders { store: self }
    }

    pub fn keys(&self) -> Keys<'_> {
        Keys { store: self }
    }

    /// Where the keyring comes from: as configured, else (SQLite) `<database>.key`.
    pub(crate) fn key_source(&self) -> Result<KeySource> {
        match (&self.options.data_key, &*self.location) {
            (Some(source), _) => Ok(source.clone()),
            (None, Location::Sqlite(path)) => Ok(KeySource::File(crypto::default_keyring_path(path))),
            (None, Location::Postgres(_)) => Err(crate::Error::internal(
                "a PostgreSQL store needs its data key: set STOCKYARD_DATA_KEY (base64 of 32 bytes) or \
                 STOCKYARD_DATA_KEY_FILE (a keyring file)",
            )),
        }
    }

    /// The keyring to open values with in this transaction, checked against the database's
    /// fingerprint: a rotation elsewhere shows at the next transaction.
    pub(crate) fn keyring(&self, tx: &mut Tx<'_>) -> Result<Arc<Keyring>> {
        self.keyring.keyring(tx, &self.key_source()?, false)
    }

    /// The keyring to seal with in this write transaction: [`Store::keyring`], sealing under
    /// the key the database names, which a rotation cannot retire before this commits.
    pub(crate) fn sealing_keyring(&self, tx: &mut Tx<'_>) -> Result<Arc<Keyring>> {
        self.keyring.keyring(tx, &self.key_source()?, true)
    }
}
