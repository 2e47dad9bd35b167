//! The server's tests: a real server on a free local port over a real SQLite file and a real
//! PostgreSQL database, driven over HTTP. One binary, one module per area.

mod auth_refusals;
mod catalog;
mod common;
mod events;
mod hostile_bodies;
mod idempotency;
mod inventory;
mod openapi;
mod operations;
mod orders;
mod people;
mod permissions;
mod smoke;
