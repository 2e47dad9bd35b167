//! Exit codes (SPEC §3), decided here and nowhere else.

use std::{io::Write, process::ExitCode};

use clap::error::ErrorKind as ClapKind;
use stockyard_core::ErrorKind;

/// What a command failed with.
#[derive(Debug)]
pub enum Failure {
    Core(stockyard_core::Error),
    /// Writing the output failed (other than a closed pipe).
    Io(std::io::Error),
    /// `verify` or `audit verify` found something that does not hold; the sentence says what.
    Unverified(String),
    /// Anything else the CLI itself could not do, e.g. read a config file.
    Other(String),
}

impl From<stockyard_core::Error> for Failure {
    fn from(e: stockyard_core::Error) -> Self {
        Failure::Core(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Io(e)
    }
}

const OTHER: u8 = 1;
const USAGE: u8 = 2;
const NOT_FOUND: u8 = 3;
const CONFLICT: u8 = 4;
const NOT_AUTHORISED: u8 = 5;
const INVALID: u8 = 6;

/// Prints the error as one line on stderr and returns its exit code.
pub fn failure(failure: &Failure) -> ExitCode {
    // Every bad row of an import on a line of its own, under one line saying so.
    if let Failure::Core(e @ stockyard_core::Error::BadRows { problems }) = failure {
        let mut err = std::io::stderr().lock();
        let rows = if problems.len() == 1 { "row" } else { "rows" };
        let _ = writeln!(err, "{} {} bad {rows}, nothing was imported:", prefix(), problems.len());
        for problem in problems {
            let _ = writeln!(err, "  {}", one_line(&problem.to_string()));
        }
        return ExitCode::from(core_code(e.kind()));
    }
    let (code, message) = match failure {
        // The CLI's user is the operator: an internal failure shows its whole chain.
        Failure::Core(e) => (core_code(e.kind()), e.chain()),
        Failure::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
        Failure::Io(e) => (OTHER, format!("cannot write output: {e}")),
        Failure::Unverified(message) => (OTHER, message.clone()),
        Failure::Other(message) => (OTHER, message.clone()),
    };
    let _ = writeln!(std::io::stderr(), "{} {}", prefix(), one_line(&message));
    ExitCode::from(code)
}

/// `error:`, in red on a terminal that allows colour.
fn prefix() -> &'static str {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() && stockyard_tui::theme::colour_allowed() {
        "\x1b[1;31merror:\x1b[0m"
    } else {
        "error:"
    }
}

/// Errors are one line on stderr, whatever a library's message looks like.
fn one_line(message: &str) -> String {
    message.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

fn core_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::NotFound => NOT_FOUND,
        ErrorKind::Conflict | ErrorKind::KeyReused => CONFLICT,
        ErrorKind::Unauthenticated | ErrorKind::Forbidden => NOT_AUTHORISED,
        ErrorKind::Invalid => INVALID,
        ErrorKind::NotInitialised | ErrorKind::Unavailable | ErrorKind::Internal => OTHER,
    }
}

/// Help and version exit 0; a value that does not parse is invalid input (6); anything
/// else wrong with the command line is a usage error (2).
/// A mistake is told in one line, pointing at `--help` for the rest.
pub fn usage(e: &clap::Error) -> ExitCode {
    let code = match e.kind() {
        ClapKind::DisplayHelp | ClapKind::DisplayVersion | ClapKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        ClapKind::InvalidValue | ClapKind::ValueValidation | ClapKind::InvalidUtf8 => INVALID,
        _ => USAGE,
    };
    // What clap says before its usage section, in one line.
    let rendered = e.render().to_string();
    let said: Vec<&str> =
        rendered.lines().take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more")).collect();
    let said = one_line(&said.join("\n"));
    let _ = writeln!(std::io::stderr(), "{} {} (see --help)", prefix(), said.trim_start_matches("error: "));
    ExitCode::from(code)
}
