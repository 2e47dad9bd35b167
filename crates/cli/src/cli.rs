//! The command-line grammar (clap). Handlers live in `commands/`.

mod access;
pub mod examples;
mod integrity;
mod notify;
mod orders;

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};
use clap_complete::Shell;
use jiff::Timestamp;
use stockyard_core::EventType;

pub use self::{
    access::{PrefsArgs, TokenCommand, UserCommand},
    integrity::{AnchorArg, AuditCommand, KeyCommand, KeyRotate},
    notify::{
        Inbox, InboxCommand, NotifyCommand, NotifySend, TemplateCommand, TemplateSet, WebhookAdd, WebhookCommand,
    },
    orders::{OrderCommand, OrderCreate, OrderList, OrderReturn, OrderUpdate},
};
use crate::{duration, output::Format};

/// Inventory and order management at the terminal.
#[derive(Debug, Parser)]
#[command(name = "stockyard", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB
    #[arg(long, global = true, env = "STOCKYARD_DB", value_name = "URL")]
    pub db: Option<String>,
    /// Act as this user instead of the built-in local admin
    #[arg(long = "as", global = true, env = "STOCKYARD_USER", value_name = "EMAIL")]
    pub acting_user: Option<String>,
    /// Output format; json is stable for scripts
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print only what scripts need (ids), or nothing
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Config file (default: ./stockyard.toml when present)
    #[arg(long, global = true, env = "STOCKYARD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or upgrade the database and its MAIN warehouse (idempotent)
    Init(Init),
    /// Seed a realistic demo data set
    Demo {
        /// How many products to create
        #[arg(long, default_value_t = 50)]
        products: usize,
    },
    /// Products in the catalog
    #[command(subcommand)]
    Product(ProductCommand),
    /// Product categories
    #[command(subcommand)]
    Category(CategoryCommand),
    /// Warehouses
    #[command(subcommand)]
    Warehouse(WarehouseCommand),
    /// Stock levels and movements
    #[command(subcommand)]
    Stock(StockCommand),
    /// The event log
    #[command(subcommand)]
    Events(EventsCommand),
    /// Check that every projection (stock levels and movements, reservations, orders,
    /// products, users) matches the event log and that the hash chains are intact
    Verify(AnchorArg),
    /// Hold stock for a checkout: every line or none; prints the reservation id
    Reserve(Reserve),
    /// Let a reservation's stock go
    Release {
        /// The reservation id
        #[arg(value_name = "RESERVATION_ID")]
        id: String,
    },
    /// Orders: placing them, payment, fulfilment, cancellation, returns and refunds
    #[command(subcommand)]
    Order(OrderCommand),
    /// Run due background work once: reservation expiry, the unpaid-order timeout
    Sweep,
    /// User accounts: roles, warehouse scope, notification preferences
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for client apps and scripts
    #[command(subcommand)]
    Token(TokenCommand),
    /// Notifications: templates, sending, their status, and the dispatcher that delivers them
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// Webhooks: signed HTTP POSTs of chosen event types to a URL
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Your in-app notifications (act as a user with --as); `inbox read ID` marks one read
    Inbox(Inbox),
    /// The audit log and its hash chain
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The keyring that encrypts personal data and secrets
    #[command(subcommand)]
    Key(KeyCommand),
    /// Load products or stock from a CSV file, in one transaction: every row or none
    Import(Import),
    /// Write products, stock or orders as CSV (as JSON with --format json)
    Export(Export),
    /// Serve the HTTP API, with the notification dispatcher and the sweep running beside it
    Serve(Serve),
    /// Forward the event log to a broker other systems consume from, until stopped
    #[command(subcommand)]
    Relay(RelayCommand),
    /// The warehouse-floor dashboard: stock, scanning, pick and pack, alerts (acts as --as)
    Tui,
    /// Print a shell completion script
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Write the HTTP API's OpenAPI 3.1 document (as served at /api/v1/openapi.json)
    Openapi {
        /// Write to this file instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Write a man page for every command, or this reference as one Markdown file
    Man(Man),
}

/// `man --out DIR` or `man --markdown [--out FILE]`.
#[derive(Debug, Args)]
pub struct Man {
    /// The folder for the man pages (stockyard.1, stockyard-stock-receive.1, …); with
    /// --markdown, the file (standard output when absent)
    #[arg(long, value_name = "DIR|FILE", required_unless_present = "markdown")]
    pub out: Option<PathBuf>,
    /// One Markdown document of every command instead of man pages
    #[arg(long)]
    pub markdown: bool,
}

/// `import products|stock FILE.csv`.
#[derive(Debug, Args)]
#[command(
    after_help = "Products: columns sku,name,price, then any of currency,description,category,barcode,active,version \
and attr.KEY; a row updates the product with its SKU or creates one. Stock: columns sku,warehouse,quantity, then any \
of mode (count, receive or adjust; count by default), reason, reorder_point and reorder_qty."
)]
pub struct Import {
    /// What the file holds
    #[arg(value_enum)]
    pub what: Importable,
    /// The CSV file, or - for standard input
    #[arg(value_name = "FILE.csv")]
    pub file: PathBuf,
    /// Check every row and report what would change, changing nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Importable {
    Products,
    Stock,
}

/// `export products|stock|orders [--out FILE]`.
#[derive(Debug, Args)]
#[command(
    after_help = "Products and stock come out in the columns `stockyard import` reads, so an export imports back."
)]
pub struct Export {
    /// What to write
    #[arg(value_enum)]
    pub what: Exportable,
    /// Write to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Orders: add the customer's email, name, phone and address (for roles that place or
    /// edit orders)
    #[arg(long)]
    pub include_personal_data: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Exportable {
    Products,
    Stock,
    Orders,
}

/// `serve`: each setting is a flag, else its environment variable, else `stockyard.toml`.
#[derive(Debug, Args)]
pub struct Serve {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "STOCKYARD_BIND", value_name = "ADDR")]
    pub bind: Option<String>,
    /// Requests per second per client (per address before login), or `off` [default: 100]
    #[arg(long, env = "STOCKYARD_RATE_LIMIT", value_name = "N|off")]
    pub rate_limit: Option<String>,
    /// Allow browsers on this origin to call the API (repeatable, or comma-separated); CORS
    /// is off without one
    #[arg(long = "cors-origin", env = "STOCKYARD_CORS_ORIGINS", value_delimiter = ',', value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key)
    #[arg(long, env = "STOCKYARD_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert
    #[arg(long, env = "STOCKYARD_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Serve the API alone: no notification dispatcher, no sweep
    #[arg(long)]
    pub no_workers: bool,
    /// Database connections, and so core calls at once [default: 8]
    #[arg(long, env = "STOCKYARD_POOL_SIZE", value_name = "N")]
    pub pool_size: Option<u32>,
    /// Requests answered at once; more are refused with 503 [default: 2048]
    #[arg(long, env = "STOCKYARD_MAX_IN_FLIGHT", value_name = "N")]
    pub max_in_flight: Option<usize>,
    /// How often the sweep runs [default: 10s]
    #[arg(long, env = "STOCKYARD_SWEEP_EVERY", value_name = "DURATION")]
    pub sweep_every: Option<String>,
    /// How often the dispatcher looks for work when no event wakes it [default: 1s]
    #[arg(long, env = "STOCKYARD_DISPATCH_EVERY", value_name = "DURATION")]
    pub dispatch_every: Option<String>,
    /// Also relay the event log to NATS JetStream, as `relay nats` does:
    /// nats://HOST:PORT[?stream=NAME&subject_prefix=PREFIX]
    #[arg(long, env = "STOCKYARD_RELAY", value_name = "URL")]
    pub relay: Option<String>,
    /// Log lines as text or JSON (to stderr; RUST_LOG filters them)
    #[arg(long, env = "STOCKYARD_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Subcommand)]
pub enum RelayCommand {
    /// Publish every event to NATS JetStream: subject PREFIX.TYPE, the seq as Nats-Msg-Id;
    /// resumes where it stopped; a second relay to the same stream waits for the first
    Nats(RelayNats),
}

#[derive(Debug, Args)]
pub struct RelayNats {
    /// The NATS server
    #[arg(long, value_name = "URL", default_value = "nats://127.0.0.1:4222")]
    pub url: String,
    /// The JetStream stream, created when missing (subjects PREFIX.>, a 10-minute duplicate
    /// window)
    #[arg(long, value_name = "NAME", default_value = stockyard_relay::NatsTarget::DEFAULT_STREAM)]
    pub stream: String,
    /// The subjects' prefix: events go to PREFIX.OrderCreated and so on
    #[arg(long, value_name = "PREFIX", default_value = stockyard_relay::NatsTarget::DEFAULT_PREFIX)]
    pub subject_prefix: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct Init {
    /// Also create this first admin user (nothing changes when the email exists)
    #[arg(long, value_name = "EMAIL")]
    pub admin: Option<String>,
    /// Read the admin's password from the first line of standard input (else one is
    /// generated and printed once)
    #[arg(long, requires = "admin")]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum ProductCommand {
    /// Add a product
    Add(ProductAdd),
    /// List products, optionally searched and filtered
    List(ProductList),
    /// Show one product (by SKU or id)
    Show {
        /// SKU or id of the product
        sku: String,
    },
    /// Change a product (by SKU or id)
    Update(ProductUpdate),
    /// Delete a product (soft: its history stays)
    Delete {
        /// SKU or id of the product
        sku: String,
    },
}

#[derive(Debug, Args)]
pub struct ProductAdd {
    /// Stock-keeping unit: 1 to 64 ASCII letters, digits, - _ . or /, starting with a letter or digit
    #[arg(long)]
    pub sku: String,
    /// What people call it
    #[arg(long)]
    pub name: String,
    /// Unit price as a decimal, e.g. 12.50
    #[arg(long, allow_negative_numbers = true)]
    pub price: String,
    /// ISO 4217 code (default USD)
    #[arg(long)]
    pub currency: Option<String>,
    /// Category name or id
    #[arg(long)]
    pub category: Option<String>,
    /// An attribute, KEY=VALUE (repeatable)
    #[arg(long = "attr", value_name = "KEY=VALUE", value_parser = key_value)]
    pub attributes: Vec<(String, String)>,
    /// A barcode (EAN, UPC, …) that `order pick` and the dashboard scan
    #[arg(long)]
    pub barcode: Option<String>,
    /// Free text
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub struct ProductList {
    /// Category name or id (subcategories included)
    #[arg(long)]
    pub category: Option<String>,
    /// Words to find in SKU, name or description
    #[arg(long)]
    pub search: Option<String>,
    /// Lowest price, inclusive
    #[arg(long, allow_negative_numbers = true)]
    pub min_price: Option<String>,
    /// Highest price, inclusive
    #[arg(long, allow_negative_numbers = true)]
    pub max_price: Option<String>,
    /// Only products with this attribute value (repeatable)
    #[arg(long = "attr", value_name = "KEY=VALUE", value_parser = key_value)]
    pub attributes: Vec<(String, String)>,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Args)]
pub struct ProductUpdate {
    /// SKU or id of the product
    pub sku: String,
    /// A new name
    #[arg(long)]
    pub name: Option<String>,
    /// A new description; "" removes it
    #[arg(long)]
    pub description: Option<String>,
    /// A new unit price as a decimal, e.g. 12.50
    #[arg(long, allow_negative_numbers = true)]
    pub price: Option<String>,
    /// A new ISO 4217 currency code
    #[arg(long)]
    pub currency: Option<String>,
    /// Category name or id; "" removes it
    #[arg(long)]
    pub category: Option<String>,
    /// Set an attribute, KEY=VALUE; KEY= removes it (repeatable)
    #[arg(long = "attr", value_name = "KEY=VALUE", value_parser = key_value)]
    pub attributes: Vec<(String, String)>,
    /// Barcode; "" removes it
    #[arg(long)]
    pub barcode: Option<String>,
    /// false takes it off sale: no new reservations or orders
    #[arg(long)]
    pub active: Option<bool>,
    /// Refuse the change unless the product is still at this version
    #[arg(long, value_name = "VERSION")]
    pub if_version: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum CategoryCommand {
    /// Add a category
    Add {
        /// The category's name, unique
        name: String,
        /// Parent category name or id
        #[arg(long)]
        parent: Option<String>,
    },
    /// List categories as a tree
    List,
}

#[derive(Debug, Subcommand)]
pub enum WarehouseCommand {
    /// Add a warehouse
    Add {
        /// Short upper-case code, e.g. EAST
        code: String,
        /// Its full name, e.g. "East depot"
        #[arg(long)]
        name: String,
    },
    /// List warehouses
    List,
}

#[derive(Debug, Subcommand)]
pub enum StockCommand {
    /// Stock levels, now or as of a past time
    Show(StockShow),
    /// Goods in: add QTY to on-hand stock
    Receive {
        /// SKU or id of the product
        sku: String,
        /// How many units
        #[arg(value_name = "QTY", allow_negative_numbers = true)]
        quantity: i64,
        /// Warehouse code (default MAIN)
        #[arg(long)]
        warehouse: Option<String>,
        /// Why, e.g. a purchase order number
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Correct on-hand stock by a signed amount or to a figure
    Adjust(StockAdjust),
    /// Move stock between two warehouses
    Transfer {
        /// SKU or id of the product
        sku: String,
        /// How many units
        #[arg(value_name = "QTY", allow_negative_numbers = true)]
        quantity: i64,
        /// Warehouse code to take the stock from
        #[arg(long)]
        from: String,
        /// Warehouse code to put the stock in
        #[arg(long)]
        to: String,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Cycle count: set on-hand to what was counted and record the variance
    Count {
        /// SKU or id of the product
        sku: String,
        /// How many units were counted
        #[arg(value_name = "QTY", allow_negative_numbers = true)]
        counted: i64,
        /// Warehouse code (default MAIN)
        #[arg(long)]
        warehouse: Option<String>,
    },
    /// Set the reorder point (and quantity) of a stock level
    Threshold {
        /// SKU or id of the product
        sku: String,
        /// Warehouse code (default MAIN)
        #[arg(long)]
        warehouse: Option<String>,
        /// Stock is low once available is at or below this (0: never)
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        reorder_point: i64,
        /// How much to order when low
        #[arg(long, value_name = "M", allow_negative_numbers = true)]
        reorder_qty: Option<i64>,
    },
    /// The movements of a product, oldest first
    History {
        /// SKU or id of the product
        sku: String,
        /// Only movements at this warehouse
        #[arg(long)]
        warehouse: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// What to buy for low stock, and how much, most urgent first
    Reorder {
        /// Only this warehouse
        #[arg(long)]
        warehouse: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct StockShow {
    /// One product (SKU or id); all when absent
    pub sku: Option<String>,
    /// Only this warehouse
    #[arg(long)]
    pub warehouse: Option<String>,
    /// Only levels at or below their reorder point
    #[arg(long)]
    pub low: bool,
    /// Stock as of this time: RFC 3339, or a duration ago (90s, 15m, 2h, 30d)
    #[arg(long, value_name = "TIME", value_parser = duration::time)]
    pub at: Option<Timestamp>,
    #[command(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("change").required(true).args(["by", "set"])))]
pub struct StockAdjust {
    /// SKU or id of the product
    pub sku: String,
    /// Add (or, negative, remove) this many
    #[arg(long, value_name = "±N", allow_negative_numbers = true)]
    pub by: Option<i64>,
    /// Set on-hand to this figure
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub set: Option<i64>,
    /// Warehouse code (default MAIN)
    #[arg(long)]
    pub warehouse: Option<String>,
    /// Why the books were wrong, e.g. "damaged in transit"
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub key: KeyArg,
}

#[derive(Debug, Args)]
pub struct Reserve {
    /// What to hold, SKU:QTY (one or more)
    #[arg(value_name = "SKU:QTY", required = true, value_parser = sku_quantity)]
    pub lines: Vec<(String, i64)>,
    /// Hold every line at this warehouse (default: the allocation strategy chooses)
    #[arg(long)]
    pub warehouse: Option<String>,
    /// How long the checkout holds the stock (default 15m, or STOCKYARD_RESERVATION_TTL)
    #[arg(long, value_name = "DURATION", value_parser = duration::duration)]
    pub ttl: Option<jiff::SignedDuration>,
    /// Your own reference, e.g. a cart id
    #[arg(long = "ref", value_name = "R")]
    pub reference: Option<String>,
    #[command(flatten)]
    pub key: KeyArg,
}

/// `SKU:QTY`, e.g. `MUG-01:2`.
fn sku_quantity(arg: &str) -> Result<(String, i64), String> {
    let (sku, quantity) = arg.rsplit_once(':').ok_or_else(|| format!("{arg:?} is not SKU:QTY"))?;
    stockyard_core::Sku::parse(sku).map_err(|e| format!("{arg:?} is not SKU:QTY: {e}"))?;
    let quantity = quantity.trim().parse().map_err(|_| format!("{arg:?}: {quantity:?} is not a whole number"))?;
    Ok((sku.trim().to_owned(), quantity))
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// The newest events (or those after --since), optionally following new ones
    Tail(EventsTail),
    /// Rebuild the stock projection from the event log
    Replay,
}

#[derive(Debug, Args)]
pub struct EventsTail {
    /// Keep printing events as they are appended, until interrupted
    #[arg(long, short)]
    pub follow: bool,
    /// Only events after this seq (a previous list's next_cursor)
    #[arg(long, visible_alias = "cursor", value_name = "SEQ")]
    pub since: Option<i64>,
    /// Only events of this type, e.g. InventoryChanged
    #[arg(long = "type", value_name = "TYPE", value_parser = event_type)]
    pub event_type: Option<EventType>,
    /// How many events to show (1–1000)
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
}

/// `--idempotency-key K` of a command that creates or moves something.
#[derive(Debug, Args)]
pub struct KeyArg {
    /// Do this once: a repeat with the same key and arguments prints the first result and
    /// changes nothing; the same key with other arguments is refused
    #[arg(long, value_name = "K")]
    pub idempotency_key: Option<String>,
}

impl KeyArg {
    /// The actor, sending under the key if one was given.
    pub fn on(&self, actor: stockyard_core::Actor) -> stockyard_core::Result<stockyard_core::Actor> {
        match &self.idempotency_key {
            Some(key) => actor.with_idempotency_key(key),
            None => Ok(actor),
        }
    }
}

/// `--limit N --cursor C` of a list read one page at a time.
#[derive(Debug, Args)]
pub struct PageArgs {
    /// How many to show (1–1000; default 50)
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// Continue after the page that returned this next_cursor
    #[arg(long)]
    pub cursor: Option<String>,
}

impl From<PageArgs> for stockyard_core::PageRequest {
    fn from(args: PageArgs) -> Self {
        Self { limit: args.limit, cursor: args.cursor }
    }
}

fn event_type(arg: &str) -> Result<EventType, String> {
    arg.parse().map_err(|_| {
        let known: Vec<&str> = EventType::ALL.iter().map(EventType::as_str).collect();
        format!("not a known event type (known: {})", known.join(", "))
    })
}

fn key_value(arg: &str) -> Result<(String, String), String> {
    arg.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{arg:?} is not KEY=VALUE"))
}
