//! The binary's tests, one module per former test file, linked into one binary (one binary
//! per file cost a link of the whole stack each). Select a module with
//! `cargo test -p stockyard-cli --test suite orders::`.

mod common;

mod cli;
mod crash;
mod databases;
mod idempotency;
mod input_limits;
mod instances;
mod integrity;
mod notifications;
mod orders;
mod outage;
mod privacy;
mod relay;
mod reservations;
mod serve;
mod serve_shutdown;
mod session;
mod sheets;
mod stock;
mod tui;
mod users;
mod webhooks;
