//! The `stockyard` command line: flags resolved into a [`config::Config`], one handler per
//! command area, output rendered as table, JSON or CSV, errors mapped to exit codes in one
//! place ([`exit`]).

mod cli;
mod commands;
mod config;
mod duration;
mod exit;
mod input;
mod output;

use std::process::ExitCode;

use clap::FromArgMatches;

/// Parses the command line, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    let parsed = cli::examples::command().try_get_matches().and_then(|matches| cli::Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => return exit::usage(&e),
    };
    match config::Config::resolve(&cli.global).and_then(|config| commands::run(&config, cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::failure(&e),
    }
}
