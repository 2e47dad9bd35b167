//! The grammar of `verify`, `audit …` and `key …`: the checks, the audit chain and the data
//! keyring.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::PageArgs;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Audit records, oldest first
    List {
        /// Only records about this entity type (`product`) or entity (`product:ID`)
        #[arg(long, value_name = "E")]
        entity: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Walk the hash chains of the audit log and the event log and report the first record
    /// or event edited, deleted or moved, or a tail cut off
    Verify(AnchorArg),
    /// The chain's length and last record's hash: keep it elsewhere, to check with --anchor
    Head,
}

#[derive(Debug, Args)]
pub struct AnchorArg {
    /// Also check that audit record SEQ exists with this hash (as `audit head` printed it)
    #[arg(long, value_name = "SEQ:HASH")]
    pub anchor: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Add a new data key to the keyring and re-encrypt personal data and secrets under it
    Rotate(KeyRotate),
}

#[derive(Debug, Args)]
pub struct KeyRotate {
    /// A file holding the new key (base64 of 32 bytes); generated when absent
    #[arg(long, value_name = "F", conflicts_with = "resume")]
    pub new_key_file: Option<PathBuf>,
    /// Finish an interrupted rotation under the newest key, adding none
    #[arg(long)]
    pub resume: bool,
}
