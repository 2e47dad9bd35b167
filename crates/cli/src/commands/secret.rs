//! Secrets read from standard input (`--password-stdin`), so they stay out of the shell
//! history and the process list.

use std::io::BufRead;

use crate::exit::Failure;

/// The first line of standard input, without its line ending.
pub fn password_from_stdin() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Other(format!("cannot read the password from standard input: {e}")))?;
    let end = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(end);
    Ok(line)
}
