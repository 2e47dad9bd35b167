//! The dashboard driven by messages against a real store (both backends), and drawn on
//! ratatui's `TestBackend` for snapshots.

mod harness;
mod render;
mod state;
