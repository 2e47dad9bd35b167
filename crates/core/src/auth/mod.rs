//! Authentication and authorisation: who is asking (password login, signed session tokens,
//! API tokens) and what they may do (the permission table).

pub mod api_tokens;
pub(crate) mod passwords;
mod permissions;
pub(crate) mod sessions;

pub use api_tokens::{ApiToken, CreatedToken, NewApiToken};
pub use permissions::{Action, Explanation, Role, explain};
pub use sessions::AccessToken;

use crate::Store;

/// Logins, tokens and API tokens on a store.
#[derive(Debug, Clone, Copy)]
pub struct Auth<'s> {
    pub(crate) store: &'s Store,
}
