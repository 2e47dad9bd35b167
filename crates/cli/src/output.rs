//! Rendering results as a table (people), JSON (scripts: the HTTP API's shapes) or CSV.

use std::io::Write;

use clap::ValueEnum;
use comfy_table::{Attribute, Cell, ColumnConstraint, ContentArrangement, LineStyle, Row, Table, TableStyle, Width};
use serde::Serialize;
use stockyard_core::Page;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// One column of a table or CSV: its header, where it shows, and how to compute it.
pub struct Column<'a, T> {
    header: &'static str,
    in_list: bool,
    value: Box<dyn Fn(&T) -> String + 'a>,
}

impl<'a, T> Column<'a, T> {
    /// A column shown in tables and CSV.
    pub fn new(header: &'static str, value: impl Fn(&T) -> String + 'a) -> Self {
        Self { header, in_list: true, value: Box::new(value) }
    }

    /// A column left out of list tables (ids and other wide fields); CSV and the
    /// single-item view show it.
    pub fn wide(header: &'static str, value: impl Fn(&T) -> String + 'a) -> Self {
        Self { header, in_list: false, value: Box::new(value) }
    }
}

/// Where and how a command prints.
pub struct Output<W: Write> {
    format: Format,
    quiet: bool,
    out: W,
    /// Set once [`Output::stream`] has printed (so CSV has its header).
    streaming: bool,
}

impl<W: Write> Output<W> {
    pub fn new(format: Format, quiet: bool, out: W) -> Self {
        Self { format, quiet, out, streaming: false }
    }

    /// One resource: its JSON object, a field/value table, or a CSV header and row.
    /// `--quiet` prints only its `id`.
    pub fn one<T: Serialize>(&mut self, item: &T, columns: &[Column<'_, T>]) -> std::io::Result<()> {
        if self.quiet {
            return self.id_only(item);
        }
        match self.format {
            Format::Json => self.json(item),
            Format::Csv => self.csv(std::slice::from_ref(item), columns),
            Format::Table => {
                let mut table = table();
                for column in columns {
                    table.add_row([column.header.to_owned(), (column.value)(item)]);
                }
                writeln!(self.out, "{table}")
            }
        }
    }

    /// A list: `{"items": [...], "next_cursor": ...}`, a table, or CSV. `--quiet` prints
    /// each item's first column, one per line.
    pub fn list<T: Serialize>(&mut self, page: &Page<T>, columns: &[Column<'_, T>]) -> std::io::Result<()> {
        if self.quiet {
            for item in &page.items {
                if let Some(first) = columns.first() {
                    writeln!(self.out, "{}", (first.value)(item))?;
                }
            }
            return Ok(());
        }
        match self.format {
            Format::Json => self.json(page),
            Format::Csv => self.csv(&page.items, columns),
            Format::Table => {
                self.list_table(&page.items, columns)?;
                if let Some(cursor) = &page.next_cursor {
                    writeln!(self.out, "(more: --cursor {cursor})")?;
                }
                Ok(())
            }
        }
    }

    /// A result whose detail is a set of rows (e.g. `verify`'s differences): JSON gets
    /// `value`, a table or CSV the rows; `--quiet` nothing.
    pub fn report<T: Serialize, R>(&mut self, value: &T, rows: &[R], columns: &[Column<'_, R>]) -> std::io::Result<()> {
        match (self.quiet, self.format) {
            (true, _) => Ok(()),
            (false, Format::Json) => self.json(value),
            (false, Format::Csv) => self.csv(rows, columns),
            (false, Format::Table) => self.list_table(rows, columns),
        }
    }

    /// One item of a stream as it arrives (`events tail --follow`), flushed at once: a
    /// compact JSON line, a CSV row (the header before the first), or the list columns on
    /// one line. `--quiet` prints its first column.
    pub fn stream<T: Serialize>(&mut self, item: &T, columns: &[Column<'_, T>]) -> std::io::Result<()> {
        match (self.quiet, self.format) {
            (true, _) => {
                if let Some(first) = columns.first() {
                    writeln!(self.out, "{}", (first.value)(item))?;
                }
            }
            (false, Format::Json) => {
                serde_json::to_writer(&mut self.out, item)?;
                writeln!(self.out)?;
            }
            (false, Format::Csv) => {
                let mut writer = csv::Writer::from_writer(&mut self.out);
                if !self.streaming {
                    writer.write_record(columns.iter().map(|c| c.header.to_lowercase()))?;
                }
                writer.write_record(columns.iter().map(|c| spreadsheet_safe((c.value)(item))))?;
                writer.flush()?;
            }
            (false, Format::Table) => {
                let fields: Vec<String> = columns.iter().filter(|c| c.in_list).map(|c| (c.value)(item)).collect();
                writeln!(self.out, "{}", fields.join("  "))?;
            }
        }
        self.streaming = true;
        self.out.flush()
    }

    /// A confirmation for people; JSON gets `value` instead, `--quiet` nothing.
    pub fn done<T: Serialize>(&mut self, message: &str, value: &T) -> std::io::Result<()> {
        match (self.quiet, self.format) {
            (true, _) => Ok(()),
            (false, Format::Json) => self.json(value),
            (false, _) => writeln!(self.out, "{message}"),
        }
    }

    /// A line as it happens (`notify run`'s rounds), flushed at once: the message for
    /// people, a compact JSON line of `value` for scripts; `--quiet` nothing.
    pub fn progress<T: Serialize>(&mut self, message: &str, value: &T) -> std::io::Result<()> {
        match (self.quiet, self.format) {
            (true, _) => return Ok(()),
            (false, Format::Json) => serde_json::to_writer(&mut self.out, value)?,
            (false, _) => write!(self.out, "{message}")?,
        }
        writeln!(self.out)?;
        self.out.flush()
    }

    /// A line for people after a table, e.g. that a secret is shown only once: printed in
    /// the table format only, never with `--quiet`.
    pub fn note(&mut self, text: &str) -> std::io::Result<()> {
        match (self.quiet, self.format) {
            (false, Format::Table) => writeln!(self.out, "{text}"),
            _ => Ok(()),
        }
    }

    /// Plain text (e.g. a completion script), whatever the format.
    pub fn raw(&mut self) -> &mut W {
        &mut self.out
    }

    fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut self.out, value)?;
        writeln!(self.out)
    }

    fn list_table<T>(&mut self, items: &[T], columns: &[Column<'_, T>]) -> std::io::Result<()> {
        let shown: Vec<_> = columns.iter().filter(|c| c.in_list).collect();
        let rows: Vec<Vec<String>> = items.iter().map(|item| shown.iter().map(|c| (c.value)(item)).collect()).collect();
        let mut natural: Vec<usize> = shown.iter().map(|c| c.header.chars().count()).collect();
        for row in &rows {
            for (width, cell) in natural.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut table = table();
        let bold = stockyard_tui::theme::colour_allowed();
        let mut header = Row::from(
            shown
                .iter()
                .map(|c| if bold { Cell::new(c.header).add_attribute(Attribute::Bold) } else { Cell::new(c.header) }),
        );
        header.max_height(1);
        table.set_header(header);
        for cells in rows {
            // One line per row: a cell too wide for its column is cut with `…`, not wrapped.
            let mut row = Row::from(cells);
            row.max_height(1);
            table.add_row(row);
        }
        fit(&mut table, &natural);
        writeln!(self.out, "{table}")
    }

    fn csv<T>(&mut self, items: &[T], columns: &[Column<'_, T>]) -> std::io::Result<()> {
        let mut writer = csv::Writer::from_writer(&mut self.out);
        writer.write_record(columns.iter().map(|c| c.header.to_lowercase()))?;
        for item in items {
            writer.write_record(columns.iter().map(|c| spreadsheet_safe((c.value)(item))))?;
        }
        writer.flush()
    }

    fn id_only<T: Serialize>(&mut self, item: &T) -> std::io::Result<()> {
        match serde_json::to_value(item)?.get("id").and_then(|id| id.as_str()) {
            Some(id) => writeln!(self.out, "{id}"),
            None => Ok(()),
        }
    }
}

/// A CSV cell a spreadsheet will not run as a formula (OWASP "CSV injection"): text that
/// starts with `= + - @`, a tab or a carriage return gets a leading `'`. Numbers (`-3`,
/// `-1.50`) stay as they are.
pub fn spreadsheet_safe(cell: String) -> String {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let unsigned = cell.trim_start_matches(['+', '-']);
    let number = unsigned.chars().any(|c| c.is_ascii_digit())
        && unsigned.chars().all(|c| c.is_ascii_digit() || c == '.')
        && unsigned.matches('.').count() <= 1;
    if risky && !number { format!("'{cell}") } else { cell }
}

/// Columns separated by space, one rule under the header: compact, and easy on `grep`.
const STYLE: TableStyle = TableStyle::new().header_separator(LineStyle::none().fill('─'));

/// The narrowest a column is cut to, however little room there is.
const NARROWEST: usize = 6;

/// Fits a list table to its width (see [`table`]): columns that fit keep their whole width;
/// the widest ones are cut to the same width, as wide as the room allows, but never below
/// [`NARROWEST`].
fn fit(table: &mut Table, natural: &[usize]) {
    const PADDING: usize = 2;
    let Some(width) = table.width() else { return };
    let room = usize::from(width).saturating_sub(PADDING * natural.len());
    let mut cap = natural.iter().copied().max().unwrap_or(0);
    let needs = |cap: usize| natural.iter().map(|n| (*n).min(cap)).sum::<usize>();
    while cap > NARROWEST && needs(cap) > room {
        cap -= 1;
    }
    if needs(cap) > room {
        // Too narrow even so: whole lines that the terminal wraps beat columns of one letter.
        table.set_content_arrangement(ContentArrangement::Disabled);
    }
    for (index, _) in natural.iter().enumerate().filter(|(_, n)| **n > cap) {
        let fixed = u16::try_from(cap + PADDING).unwrap_or(u16::MAX);
        if let Some(column) = table.column_mut(index) {
            column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(fixed)));
        }
    }
}

/// A table fitted to the terminal's width, or to `COLUMNS` when that is set (so a pipe
/// gets whole rows unless asked otherwise); styled (bold header) only on a terminal, and
/// not with `NO_COLOR`.
fn table() -> Table {
    let mut table = Table::new();
    table.load_style(STYLE).set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(width) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<u16>().ok()).filter(|w| *w > 0) {
        table.set_width(width);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn formulas_are_defused_and_numbers_kept() {
        let safe = |s: &str| spreadsheet_safe(s.to_owned());
        assert_eq!(safe("=HYPERLINK(\"http://x\",\"y\")"), "'=HYPERLINK(\"http://x\",\"y\")");
        assert_eq!(safe("+1+cmd"), "'+1+cmd");
        assert_eq!(safe("-2+3"), "'-2+3");
        assert_eq!(safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe("\tx"), "'\tx");
        assert_eq!(safe("-3"), "-3");
        assert_eq!(safe("-1.50"), "-1.50");
        assert_eq!(safe("Jane"), "Jane");
        assert_eq!(safe("-"), "'-");
    }
}
