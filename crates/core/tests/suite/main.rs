//! The core's integration tests, one module per former test file, linked into one binary
//! (one binary per file cost a link of the whole stack each). Select a module with
//! `cargo test -p stockyard-core --test suite orders::`.

mod common;

mod audit_chain;
mod catalog;
mod consumers;
mod encryption;
mod event_log;
mod event_visibility;
mod feed;
mod hostile_input;
mod idempotency;
mod input_limits;
mod inventory;
mod ledger_properties;
mod notifications;
mod orders;
mod permissions;
mod picks;
mod reservations;
mod round_trips;
mod search;
mod sheets;
mod store;
mod tamper;
mod users;
mod warehouses;
mod webhooks;
mod workers;
