//! Each screen's state and what its keys do. Drawing them is `crate::ui`'s job.

pub mod alerts;
pub mod dashboard;
pub mod pick;
pub mod scan;
pub mod stock;

/// A line of a screen's running log (scans, picks): what happened, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub text: String,
    pub error: bool,
}

/// How many lines a running log keeps.
const LOG_LINES: usize = 50;

/// Adds `text` to `log`, newest first, dropping the oldest beyond [`LOG_LINES`].
fn push_log(log: &mut Vec<LogLine>, text: String, error: bool) {
    log.insert(0, LogLine { text, error });
    log.truncate(LOG_LINES);
}

/// Moves a selection within `len` items by `action`; `page` is the rows on screen.
fn moved(selected: usize, len: usize, page: usize, action: crate::keys::Action) -> usize {
    use crate::keys::Action::*;
    let last = len.saturating_sub(1);
    match action {
        Up => selected.saturating_sub(1),
        Down => (selected + 1).min(last),
        PageUp => selected.saturating_sub(page.max(1)),
        PageDown => (selected + page.max(1)).min(last),
        Top => 0,
        Bottom => last,
        _ => selected.min(last),
    }
}
