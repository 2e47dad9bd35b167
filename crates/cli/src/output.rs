//! Rendering results as a table (people), JSON (scripts: the HTTP API's shapes) or CSV.

use std::io::Write;

use clap::ValueEnum;
use comfy_table::{ContentArrangement, LineStyle, Table, TableStyle};
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
        let mut table = table();
        table.set_header(shown.iter().map(|c| c.header));
        for item in items {
            table.add_row(shown.iter().map(|c| (c.value)(item)));
        }
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

fn table() -> Table {
    let mut table = Table::new();
    table.load_style(STYLE).set_content_arrangement(ContentArrangement::Dynamic);
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
