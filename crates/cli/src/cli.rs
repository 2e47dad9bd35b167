//! The command-line grammar (clap). Handlers live in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

use crate::output::Format;

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
    Init,
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
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProductCommand {
    /// Add a product
    Add(ProductAdd),
    /// List products, optionally searched and filtered
    List(ProductList),
    /// Show one product (by SKU or id)
    Show { sku: String },
    /// Change a product (by SKU or id)
    Update(ProductUpdate),
    /// Delete a product (soft: its history stays)
    Delete { sku: String },
}

#[derive(Debug, Args)]
pub struct ProductAdd {
    #[arg(long)]
    pub sku: String,
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
    #[arg(long)]
    pub barcode: Option<String>,
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
    /// Page size (1–1000)
    #[arg(long)]
    pub limit: Option<u32>,
    /// Continue after a previous page's next_cursor
    #[arg(long)]
    pub cursor: Option<String>,
}

#[derive(Debug, Args)]
pub struct ProductUpdate {
    /// SKU or id of the product
    pub sku: String,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long, allow_negative_numbers = true)]
    pub price: Option<String>,
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
        #[arg(long)]
        name: String,
    },
    /// List warehouses
    List,
}

fn key_value(arg: &str) -> Result<(String, String), String> {
    arg.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{arg:?} is not KEY=VALUE"))
}
