//! The grammar of `notify …`, `webhook …` and `inbox …`: templates, notifications, endpoint
//! breakers, the dispatcher, webhook subscriptions and the acting user's in-app inbox.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use stockyard_core::Channel;

use super::{PageArgs, key_value};

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// List the notification templates: name, channel, subject
    Templates,
    /// Change or preview one template
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Send a template by email to an address; the dispatcher (`notify run`) delivers it
    Send(NotifySend),
    /// Notifications, newest first
    List {
        /// Only notifications in this status: pending, sent, delivered or failed
        #[arg(long, value_name = "S")]
        status: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show one notification: where it stands, its attempts and last error
    Status {
        /// The notification id (also its delivery id)
        id: String,
    },
    /// The circuit breaker of each endpoint (the SMTP server, each webhook host): closed
    /// (sending), open (resting after repeated failures, until OPEN_UNTIL) or half_open
    /// (the next attempt probes)
    Endpoints,
    /// The dispatcher: make notifications from new events and deliver what is due
    ///
    /// Email goes out over STOCKYARD_SMTP_URL as STOCKYARD_MAIL_FROM; without them email
    /// is off and emails wait (in-app notifications are still delivered). Without --once it
    /// runs until interrupted, printing a line for every round that did something. SQLite
    /// allows one dispatcher at a time: a second is refused (exit 4).
    Run {
        /// One round, then print what it did
        #[arg(long)]
        once: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Create or replace a template; every part must parse (an error names its line)
    Set(TemplateSet),
    /// Render a template against sample data
    Preview {
        /// The template name, e.g. order_status_changed
        name: String,
        /// email, in_app, webhook or sms
        #[arg(long, value_name = "CH", value_parser = channel)]
        channel: Channel,
    },
}

#[derive(Debug, Args)]
pub struct TemplateSet {
    /// The template name: an event type in snake case (e.g. inventory_threshold_reached) or
    /// your own for `notify send`
    pub name: String,
    /// email, in_app, webhook or sms
    #[arg(long, value_name = "CH", value_parser = channel)]
    pub channel: Channel,
    /// The subject line (default: the existing template's; required for a new one)
    #[arg(long, value_name = "S")]
    pub subject: Option<String>,
    /// A file holding the body (plain text)
    #[arg(long, value_name = "F")]
    pub body_file: PathBuf,
    /// A file holding an HTML alternative (default: the existing template's, if any)
    #[arg(long, value_name = "F")]
    pub html_file: Option<PathBuf>,
    /// Remove the existing HTML alternative
    #[arg(long, conflicts_with = "html_file")]
    pub no_html: bool,
}

#[derive(Debug, Args)]
pub struct NotifySend {
    /// The recipient's email address
    #[arg(long, value_name = "EMAIL")]
    pub to: String,
    /// The email template to render, e.g. one made with `notify template set`
    #[arg(long, value_name = "NAME")]
    pub template: String,
    /// A template variable, KEY=VALUE (repeatable; values are text)
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = key_value)]
    pub variables: Vec<(String, String)>,
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Subscribe a URL to event types; every delivery is a signed JSON POST
    ///
    /// Each POST carries `X-Stockyard-Signature: t=UNIX_SECONDS,v1=HEX(HMAC-SHA256(secret,
    /// "UNIX_SECONDS." + body))` and `X-Stockyard-Delivery` (the same id on every attempt).
    /// The secret is printed once (with --quiet, only the webhook id is).
    Add(WebhookAdd),
    /// The webhook subscriptions, removed ones included (ACTIVE no)
    List,
    /// End a subscription: nothing more is sent to it, and what was queued is dropped
    Remove {
        /// The webhook id
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct WebhookAdd {
    /// Where to POST: an http:// or https:// URL
    pub url: String,
    /// The event types to send, e.g. InventoryChanged,OrderCreated (comma-separated,
    /// repeatable)
    #[arg(long, value_name = "TYPE,...", required = true, value_delimiter = ',')]
    pub events: Vec<String>,
    /// Read the signing secret (16 characters or more) from the first line of standard
    /// input (else one is generated)
    #[arg(long)]
    pub secret_stdin: bool,
}

/// `inbox [--unread] | read ID`: the acting user's (`--as`) in-app notifications.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Inbox {
    /// Only notifications not yet read
    #[arg(long)]
    pub unread: bool,
    #[command(flatten)]
    pub page: PageArgs,
    #[command(subcommand)]
    pub command: Option<InboxCommand>,
}

#[derive(Debug, Subcommand)]
pub enum InboxCommand {
    /// Mark one of your notifications read
    Read {
        /// The notification id
        id: String,
    },
}

fn channel(arg: &str) -> Result<Channel, String> {
    arg.parse().map_err(|e: stockyard_core::Error| e.to_string())
}
