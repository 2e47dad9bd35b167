//! The grammar of `user …` and `token …`: accounts, their roles and scope, and API tokens.

use clap::{ArgGroup, Args, Subcommand};
use jiff::SignedDuration;
use stockyard_core::users::preferences::Channel;

use super::PageArgs;
use crate::duration;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user (its password from standard input, or generated and printed once)
    Add(UserAdd),
    /// List users, by email
    List(PageArgs),
    /// Show one user
    Show {
        /// The user's email
        email: String,
    },
    /// Give a user another role (admin, manager, warehouse, sales, client, viewer)
    Role {
        /// The user's email
        email: String,
        /// The new role
        role: String,
    },
    /// Disable a user: no login, no `--as`, no token issued before
    Disable {
        /// The user's email
        email: String,
    },
    /// Enable a disabled user again
    Enable {
        /// The user's email
        email: String,
    },
    /// Limit a user to warehouses, or with --clear let it act at every warehouse
    #[command(group(ArgGroup::new("scope").required(true).args(["warehouses", "clear"])))]
    Scope {
        /// The user's email
        email: String,
        /// Warehouse code (one or more)
        #[arg(long = "warehouse", value_name = "W", num_args = 1..)]
        warehouses: Vec<String>,
        /// Remove the limit: every warehouse
        #[arg(long)]
        clear: bool,
    },
    /// Set a user's password from the first line of standard input
    Password {
        /// The user's email
        email: String,
        /// Read the password from the first line of standard input (required: never on the
        /// command line, where other users and shell history see it)
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Whether a user may do ACTION (e.g. stock.adjust, product.delete), and why; exits 0 either way
    Explain {
        /// The user's email
        email: String,
        /// The action, e.g. stock.adjust, order.ship, product.delete
        action: String,
        /// The warehouse the action would happen at
        #[arg(long)]
        warehouse: Option<String>,
    },
    /// A user's notification preferences; with --event, set some first
    Prefs(PrefsArgs),
}

#[derive(Debug, Args)]
pub struct UserAdd {
    /// The new user's email: their login
    pub email: String,
    /// admin, manager, warehouse, sales, client or viewer
    #[arg(long)]
    pub role: String,
    /// Display name (default: the part of the email before the @)
    #[arg(long)]
    pub name: Option<String>,
    /// Limit the user to this warehouse (repeatable; none: every warehouse)
    #[arg(long = "warehouse", value_name = "W")]
    pub warehouses: Vec<String>,
    /// Read the password from the first line of standard input
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct PrefsArgs {
    /// The user's email
    pub email: String,
    /// The event type to set channels for, e.g. InventoryThresholdReached
    #[arg(long, value_name = "TYPE", requires = "channels")]
    pub event: Option<String>,
    /// Channels turned on or off: email, in_app, webhook or sms (one or more, repeatable)
    #[arg(long = "channel", value_name = "CH=on|off", value_parser = channel_switch, requires = "event", num_args = 1..)]
    pub channels: Vec<(Channel, bool)>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; its secret is printed this once
    Create {
        /// A unique name, e.g. shop-frontend
        #[arg(long)]
        name: String,
        /// The role the token acts with
        #[arg(long)]
        role: String,
        /// Valid for this long (90s, 15m, 2h, 30d); forever when absent
        #[arg(long, value_name = "DURATION", value_parser = duration::duration)]
        expires: Option<SignedDuration>,
        /// Limit the token to this warehouse (repeatable; none: the creator's own scope)
        #[arg(long = "warehouse", value_name = "W")]
        warehouses: Vec<String>,
    },
    /// List API tokens, revoked ones included, newest first
    List(PageArgs),
    /// Revoke the live token of that name
    Revoke {
        /// The token's name
        name: String,
    },
}

/// `CHANNEL=on|off`, e.g. `email=off`.
fn channel_switch(arg: &str) -> Result<(Channel, bool), String> {
    let (channel, state) = arg.split_once('=').ok_or_else(|| format!("{arg:?} is not CHANNEL=on|off"))?;
    let channel = channel.parse().map_err(|e: stockyard_core::Error| e.to_string())?;
    match state.trim().to_ascii_lowercase().as_str() {
        "on" => Ok((channel, true)),
        "off" => Ok((channel, false)),
        _ => Err(format!("{arg:?}: {state:?} is neither on nor off")),
    }
}
