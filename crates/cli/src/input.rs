//! Input read from files and standard input, always bounded: a path like `/dev/zero` or a
//! huge file is refused with its size limit named, never read until memory runs out.

use std::{
    fs::File,
    io::{BufRead, Read},
    path::Path,
};

use crate::exit::Failure;

/// The most a secret on standard input may hold (`--password-stdin`, `--secret-stdin`).
const SECRET_LIMIT: u64 = 4096;

/// The whole of a text file of at most `limit` bytes; `what` names it in an error.
pub fn file(path: &Path, what: &str, limit: u64) -> Result<String, Failure> {
    let cannot = |why: String| Failure::Other(format!("cannot read the {what} {}: {why}", path.display()));
    let mut bytes = Vec::new();
    File::open(path).and_then(|f| f.take(limit + 1).read_to_end(&mut bytes)).map_err(|e| cannot(e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(cannot(format!("it is larger than the limit of {limit} bytes")));
    }
    String::from_utf8(bytes).map_err(|_| cannot("it is not UTF-8 text".into()))
}

/// The first line of standard input, without its line ending: a secret kept out of the
/// shell history and the process list. `what` names it in an error.
pub fn secret_from_stdin(what: &str) -> Result<String, Failure> {
    let cannot = |why: String| Failure::Other(format!("cannot read the {what} from standard input: {why}"));
    let mut line = Vec::new();
    std::io::stdin().lock().take(SECRET_LIMIT + 1).read_until(b'\n', &mut line).map_err(|e| cannot(e.to_string()))?;
    if line.len() as u64 > SECRET_LIMIT {
        return Err(cannot(format!("it is longer than {SECRET_LIMIT} bytes")));
    }
    let mut line = String::from_utf8(line).map_err(|_| cannot("it is not UTF-8 text".into()))?;
    let end = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(end);
    Ok(line)
}
