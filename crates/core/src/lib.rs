//! stockyard's core: every domain rule of the inventory and order system, over SQLite
//! (embedded) or PostgreSQL (shared), behind one synchronous, typed API.
//!
//! ```no_run
//! use stockyard_core::{Actor, NewProduct, Store, StoreOptions};
//!
//! let store = Store::create("sqlite://shop.db", &StoreOptions::default())?;
//! let admin = Actor::local_admin();
//! store.init(&admin)?;
//! let product = store.catalog().create_product(&admin, NewProduct {
//!     sku: "MUG-01".into(),
//!     name: "Enamel mug".into(),
//!     price: "9.50".into(),
//!     ..Default::default()
//! })?;
//! assert_eq!(product.price.amount(), "9.50");
//! # Ok::<(), stockyard_core::Error>(())
//! ```

mod actor;
mod audit;
pub mod auth;
pub mod catalog;
mod clock;
pub mod consumers;
pub mod crypto;
mod db;
pub mod demo;
mod error;
mod events;
mod feed;
mod idempotency;
mod ids;
pub mod inventory;
mod journal;
mod leases;
pub mod money;
mod named;
pub mod notifications;
#[cfg(feature = "openapi")]
mod openapi;
pub mod orders;
mod page;
#[cfg(test)]
mod plans;
mod process;
mod settings;
mod sheet;
mod sku;
mod store;
mod suggest;
mod tallies;
pub mod users;
mod validate;
pub mod warehouses;
pub mod workers;

pub use actor::Actor;
pub use audit::{
    Audit, AuditRecord,
    chain::{Anchor, ChainHead, ChainProblem, ChainReport, UNSEALED_AFTER},
    projections::{Mismatch, ProjectionReport},
};
pub use auth::{Action, Auth, Explanation, Role};
pub use catalog::{Catalog, Category, NewCategory, NewProduct, Product, ProductPatch, ProductQuery};
pub use clock::{Clock, ManualClock};
pub use db::{Backend, statements_sent};
pub use error::{Conflict, Error, ErrorKind, Result, RowProblem, Shortage};
pub use events::{Event, EventBatch, EventFilter, EventType, Events};
pub use feed::Feed;
pub use idempotency::check as check_idempotency_key;
pub use ids::{
    ApiTokenId, CategoryId, NotificationId, OrderId, ProductId, ReservationId, UserId, WarehouseId, WebhookId,
};
pub use inventory::{Adjustment, Counted, Inventory, StockLevel, StockQuery, Transfer};
pub use money::{Currency, Money};
pub use orders::{Order, OrderStatus, Orders};
pub use page::{Page, PageRequest};
pub use sheet::Sheet;
pub use sku::Sku;
pub use store::{DEFAULT_RESERVATION_TTL, InitReport, Store, StoreOptions};
pub use tallies::Tallies;
pub use users::{CreatedUser, NewUser, User, Users, preferences::Channel};
pub use warehouses::{NewWarehouse, Warehouse, Warehouses};
pub use workers::{Stop, SweepReport, Sweeper};
