pub use stockyard_core::*;
