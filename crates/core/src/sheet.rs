//! CSV files in and out: an import's file read whole with its header checked and each
//! record's line number kept, the problems of its rows gathered to report all at once, and
//! an export's table written back in the same shape.

use std::{collections::HashMap, io};

use serde_json::{Map, Value as Json};

use crate::{Error, Result, RowProblem};

/// An import's file: which column holds each known field, the keys of its `attr.KEY`
/// columns, and the records with their line numbers (the header is line 1).
pub(crate) struct Incoming {
    columns: HashMap<String, usize>,
    pub attributes: Vec<String>,
    pub records: Vec<(u64, csv::StringRecord)>,
}

impl Incoming {
    /// Reads `input` whole. The header must name every `required` column, may name the
    /// `optional` ones (and `attr.KEY` columns when `attributes`), and nothing else, once
    /// each; a record that does not parse (a stray quote, the wrong number of cells, bad
    /// UTF-8) is reported by its line, with every other.
    pub fn read(input: impl io::Read, required: &[&str], optional: &[&str], attributes: bool) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
        let header = reader.headers().map_err(|e| bad_file(&e))?.clone();
        let mut problems = Problems::default();
        let mut columns = HashMap::new();
        let mut attribute_columns = Vec::new();
        for (i, name) in header.iter().enumerate() {
            let known = required.contains(&name) || optional.contains(&name);
            let attribute = name.strip_prefix("attr.").filter(|key| attributes && !key.is_empty());
            if !known && attribute.is_none() {
                let mut expected: Vec<&str> = required.iter().chain(optional).copied().collect();
                if attributes {
                    expected.push("attr.KEY");
                }
                problems.at(1, Some(name), format!("unknown column; the columns are {}", expected.join(", ")));
            } else if columns.insert(name.to_owned(), i).is_some() {
                problems.at(1, Some(name), "the column is named twice");
            } else if let Some(key) = attribute {
                attribute_columns.push(key.to_owned());
            }
        }
        for name in required.iter().filter(|name| !columns.contains_key(**name)) {
            problems.at(1, Some(name), "the required column is missing");
        }
        problems.finish()?;
        let mut records = Vec::new();
        for record in reader.records() {
            match record {
                Ok(record) => records.push((record.position().map_or(0, csv::Position::line), record)),
                Err(e) => problems.at(e.position().map_or(0, csv::Position::line), None, reason(&e)),
            }
        }
        problems.finish()?;
        Ok(Self { columns, attributes: attribute_columns, records })
    }

    /// The trimmed cell of `column` in `record`; `None` when the file has no such column
    /// or the cell is empty.
    pub fn cell<'r>(&self, record: &'r csv::StringRecord, column: &str) -> Option<&'r str> {
        self.columns.get(column).and_then(|&i| record.get(i)).filter(|cell| !cell.is_empty())
    }

    /// [`Incoming::cell`], refused when empty.
    pub fn required<'r>(&self, record: &'r csv::StringRecord, column: &str) -> Result<&'r str> {
        self.cell(record, column).ok_or_else(|| Error::invalid(column, format!("{column} is required")))
    }
}

/// A file that cannot be read at all (its header broken).
fn bad_file(e: &csv::Error) -> Error {
    Error::BadRows { problems: vec![RowProblem { line: 1, column: None, reason: reason(e), conflict: false }] }
}

/// What the CSV reader found wrong, without its own position (the problem carries one).
fn reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} cells where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".into(),
        csv::ErrorKind::Io(e) => format!("cannot read the file: {e}"),
        _ => e.to_string(),
    }
}

/// The problems of a file's rows, gathered to be reported all at once.
#[derive(Default)]
pub(crate) struct Problems(Vec<RowProblem>);

impl Problems {
    /// A malformed value or row.
    pub fn at(&mut self, line: u64, column: Option<&str>, reason: impl Into<String>) {
        self.0.push(RowProblem { line, column: column.map(str::to_owned), reason: reason.into(), conflict: false });
    }

    /// A row refused by what is stored: a stale version, a key another holds.
    pub fn conflict(&mut self, line: u64, column: Option<&str>, reason: impl Into<String>) {
        self.0.push(RowProblem { line, column: column.map(str::to_owned), reason: reason.into(), conflict: true });
    }

    /// `error`, about a row, as its problem: a refusal of input names the column it is
    /// about, a clash with the stored state is a conflict, and anything else (the database
    /// failing) is no row's fault and is returned.
    pub fn refused(&mut self, line: u64, column: Option<&str>, error: Error) -> Result<()> {
        match error {
            Error::Invalid { reason, .. } => self.at(line, column, reason),
            e @ (Error::Conflict { .. } | Error::InsufficientStock { .. } | Error::NotFound { .. }) => {
                self.conflict(line, column, e.to_string())
            }
            other => return Err(other),
        }
        Ok(())
    }

    /// Refuses the whole file when any row had a problem, in line order.
    pub fn finish(&mut self) -> Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let mut problems = std::mem::take(&mut self.0);
        problems.sort_by_key(|p| p.line);
        Err(Error::BadRows { problems })
    }
}

/// The checks of one row's values: each refusal kept as the row's problem, and whether
/// every value passed.
pub(crate) struct RowCheck<'p> {
    problems: &'p mut Problems,
    line: u64,
    pub ok: bool,
}

impl<'p> RowCheck<'p> {
    pub fn new(problems: &'p mut Problems, line: u64) -> Self {
        Self { problems, line, ok: true }
    }

    /// The value, or `None` with its problem kept against `column`.
    pub fn value<T>(&mut self, column: &str, outcome: Result<T>) -> Result<Option<T>> {
        match outcome {
            Ok(value) => Ok(Some(value)),
            Err(e) => {
                self.ok = false;
                self.problems.refused(self.line, Some(column), e)?;
                Ok(None)
            }
        }
    }
}

/// An exported table: a header and rows of text, written as CSV with the header an import
/// reads, or as JSON objects keyed by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Sheet {
    /// The CSV text: the header, then a record per row.
    pub fn write_csv(&self, out: impl io::Write) -> io::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(&self.headers)?;
        for row in &self.rows {
            writer.write_record(row)?;
        }
        writer.flush()
    }

    /// Each row as an object of its header's columns (empty cells left out).
    pub fn to_json(&self) -> Json {
        Json::Array(
            self.rows
                .iter()
                .map(|row| {
                    let object: Map<String, Json> = self
                        .headers
                        .iter()
                        .zip(row)
                        .filter(|(_, cell)| !cell.is_empty())
                        .map(|(header, cell)| (header.clone(), Json::String(cell.clone())))
                        .collect();
                    Json::Object(object)
                })
                .collect(),
        )
    }
}
