//! Secrets read from standard input (`--password-stdin`, `--secret-stdin`), so they stay out
//! of the shell history and the process list.

use std::io::BufRead;

use crate::exit::Failure;

/// The first line of standard input, without its line ending; `what` names the secret in
/// an error.
pub fn from_stdin(what: &str) -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Other(format!("cannot read the {what} from standard input: {e}")))?;
    let end = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(end);
    Ok(line)
}
