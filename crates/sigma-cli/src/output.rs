//! How results are shown: aligned tables for people, JSON, YAML or CSV for
//! scripts. Colour only on a terminal, and never with `NO_COLOR` set.

use crate::error::{CliError, CliResult};
use chrono::NaiveDate;
use serde::Serialize;
use std::io::{IsTerminal, Write};
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    Json,
    Yaml,
    Csv,
}

/// How a cell is coloured in a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Good,
    Info,
    Warn,
    Bad,
    Dim,
}

impl Tone {
    fn ansi(self) -> Option<&'static str> {
        match self {
            Tone::Plain => None,
            Tone::Good => Some("32"),
            Tone::Info => Some("36"),
            Tone::Warn => Some("33"),
            Tone::Bad => Some("31"),
            Tone::Dim => Some("2"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub tone: Tone,
}

impl Cell {
    pub fn new(text: impl Into<String>, tone: Tone) -> Cell {
        Cell { text: text.into(), tone }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell { text, tone: Tone::Plain }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell { text: text.to_owned(), tone: Tone::Plain }
    }
}

/// One column of a resource: its name, whether the table shows it (CSV
/// and `show` have every column), and how to read it.
pub struct Column<T> {
    pub name: &'static str,
    pub in_table: bool,
    pub value: fn(&T) -> Cell,
}

pub const fn col<T>(name: &'static str, value: fn(&T) -> Cell) -> Column<T> {
    Column { name, in_table: true, value }
}

/// A column left out of tables.
pub const fn wide<T>(name: &'static str, value: fn(&T) -> Cell) -> Column<T> {
    Column { name, in_table: false, value }
}

pub fn opt<T: ToString>(v: &Option<T>) -> Cell {
    v.as_ref().map(ToString::to_string).unwrap_or_default().into()
}

pub struct Output {
    pub format: Format,
    pub color: bool,
}

impl Output {
    pub fn new(format: Format, no_color: bool) -> Output {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        let color = !no_color && !no_color_env && !dumb && std::io::stdout().is_terminal();
        Output { format, color }
    }

    /// A list of records.
    pub fn list<T: Serialize>(&self, items: &[T], columns: &[Column<T>]) -> CliResult<()> {
        match self.format {
            Format::Json | Format::Yaml => self.data(&items),
            Format::Csv => emit(&csv_text(items, columns)?),
            Format::Table => {
                let shown: Vec<&Column<T>> = columns.iter().filter(|c| c.in_table).collect();
                let header: Vec<&str> = shown.iter().map(|c| c.name).collect();
                let rows = items.iter().map(|i| shown.iter().map(|c| (c.value)(i)).collect()).collect();
                emit(&self.table(&header, rows))
            }
        }
    }

    /// One record: every column, one per line.
    pub fn item<T: Serialize>(&self, item: &T, columns: &[Column<T>]) -> CliResult<()> {
        match self.format {
            Format::Json | Format::Yaml => self.data(item),
            Format::Csv => emit(&csv_text(std::slice::from_ref(item), columns)?),
            Format::Table => {
                let rows = columns.iter().map(|c| vec![Cell::from(c.name), (c.value)(item)]).collect();
                emit(&self.table(&[], rows))
            }
        }
    }

    /// Data for scripts: JSON or YAML (tables and CSV fall back to JSON).
    pub fn data<T: Serialize + ?Sized>(&self, value: &T) -> CliResult<()> {
        emit(&match self.format {
            Format::Yaml => yaml(value)?,
            _ => json(value)?,
        })
    }

    /// Aligned columns separated by two spaces; no header when `header` is empty.
    pub fn table(&self, header: &[&str], rows: Vec<Vec<Cell>>) -> String {
        let mut all: Vec<Vec<Cell>> = Vec::with_capacity(rows.len() + 1);
        if !header.is_empty() {
            all.push(header.iter().map(|h| Cell::new(h.to_uppercase(), Tone::Plain)).collect());
        }
        all.extend(rows);
        let columns = all.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0; columns];
        for row in &all {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.text.width());
            }
        }
        let mut out = String::new();
        for row in &all {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let last = i + 1 == row.len();
                let text = cell.text.replace(['\n', '\r', '\t'], " ");
                match cell.tone.ansi().filter(|_| self.color) {
                    Some(code) => line.push_str(&format!("\x1b[{code}m{text}\x1b[0m")),
                    None => line.push_str(&text),
                }
                if !last {
                    line.push_str(&" ".repeat(widths[i] - text.width() + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

pub fn json<T: Serialize + ?Sized>(value: &T) -> CliResult<String> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| CliError::failure(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

pub fn yaml<T: Serialize + ?Sized>(value: &T) -> CliResult<String> {
    // Through a JSON value, so that YAML shows exactly what JSON shows.
    let value = serde_json::to_value(value).map_err(|e| CliError::failure(e.to_string()))?;
    serde_saphyr::to_string(&value).map_err(|e| CliError::failure(format!("cannot write YAML: {e}")))
}

fn csv_text<T>(items: &[T], columns: &[Column<T>]) -> CliResult<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| CliError::failure(e.to_string());
    w.write_record(columns.iter().map(|c| c.name)).map_err(fail)?;
    for item in items {
        w.write_record(columns.iter().map(|c| (c.value)(item).text)).map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| CliError::failure(e.to_string()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Writes to standard output; a closed pipe (`sigma vps list | head`) ends quietly.
pub fn emit(text: &str) -> CliResult<()> {
    emit_bytes(text.as_bytes())
}

pub fn emit_bytes(bytes: &[u8]) -> CliResult<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(e.into()),
    }
}

/// Today in UTC, the day the server counts expiry from.
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// Days from today until `date` (negative once past), coloured by urgency.
pub fn days_left(date: Option<NaiveDate>, today: NaiveDate) -> Cell {
    match date {
        None => Cell::from(""),
        Some(d) => {
            let days = (d - today).num_days();
            let tone = match days {
                ..=7 => Tone::Bad,
                8..=30 => Tone::Warn,
                _ => Tone::Plain,
            };
            Cell::new(days.to_string(), tone)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_wide_text_and_colour_only_when_asked() {
        let plain = Output { format: Format::Table, color: false };
        let rows = vec![
            vec![Cell::from("東京-1"), Cell::new("active", Tone::Good)],
            vec![Cell::from("osaka-22"), Cell::new("retired", Tone::Dim)],
        ];
        assert_eq!(
            plain.table(&["host", "status"], rows.clone()),
            "HOST      STATUS\n東京-1    active\nosaka-22  retired\n"
        );
        let coloured = Output { format: Format::Table, color: true }.table(&["host", "status"], rows);
        assert!(coloured.contains("\x1b[32mactive\x1b[0m"), "{coloured}");
    }

    #[test]
    fn days_left_counts_from_today() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert_eq!(days_left(NaiveDate::from_ymd_opt(2026, 12, 31), today), Cell::new("37", Tone::Plain));
        assert_eq!(days_left(NaiveDate::from_ymd_opt(2026, 11, 20), today), Cell::new("-4", Tone::Bad));
        assert_eq!(days_left(NaiveDate::from_ymd_opt(2026, 12, 10), today), Cell::new("16", Tone::Warn));
    }
}
