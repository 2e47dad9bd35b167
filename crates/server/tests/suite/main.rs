//! The server's tests: a real server on a free local port over a real SQLite file and a real
//! PostgreSQL database, driven over HTTP. One binary, one module per area.

mod common;
mod events;
mod operations;
mod smoke;
