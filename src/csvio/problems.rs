//! The problems an import finds in a file's rows that are not a resident rule (those carry
//! their [`RuleError`](residentdesk_domain::RuleError)), and the problems of the file as a
//! whole ([`FileCode`]: empty, UTF-16, missing columns, …), as stable codes with typed
//! parameters: the desktop says them from its catalog in the person's language, the CLI in
//! the English of [`fmt::Display`] (the same words as the report's `message`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// One kind of row problem, with its parameters (`problem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum RowCode {
    /// Fewer cells than columns, a required one cut off (a line break inside a cell?).
    RowCut { cells: u64, width: u64 },
    /// More cells than columns (a delimiter inside a cell?).
    RowOverflow { cells: u64, width: u64 },
    /// A cell longer than the limit.
    CellTooLong { max: u64, len: u64 },
    /// A NUL byte in a cell (a binary file?).
    NulByte,
    /// The row names another site than the one imported into.
    OtherSite { named: String, site: String },
    /// The email is already on an earlier row of the file.
    EmailTwice { email: String, row: u64 },
    /// The unit is taken on an earlier row for overlapping dates.
    UnitTwice { building: String, floor: String, unit: String, row: u64 },
    /// The file itself (unreadable, missing columns, too many rows).
    File { file: FileCode },
}

/// What is wrong with a file as a whole: it cannot be read as a resident CSV (or not on
/// beyond some row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum FileCode {
    /// No bytes at all.
    Empty,
    /// UTF-16 (Excel's "Unicode Text").
    Utf16,
    /// The file could not be read (`reason`: the system's words).
    Unreadable { reason: String },
    /// No header row.
    NoHeader,
    /// The first row holds no header names.
    HeaderEmpty,
    /// The header row has NUL bytes: not a text file.
    HeaderNul,
    /// Two columns mean the same field.
    DuplicateColumns { first: String, second: String, field: String },
    /// Required fields have no column (API field names), with the headers found.
    MissingColumns { missing: Vec<String>, found: Vec<String> },
    /// A row longer than the limit (an unclosed quote, or not a CSV file).
    RowTooLong { kib: u64 },
    /// More data rows than one import reads.
    TooManyRows { max: u64 },
}

impl fmt::Display for FileCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileCode::Empty => f.write_str("the file is empty; the first row must hold the column headers"),
            FileCode::Utf16 => f.write_str(
                "the file is UTF-16 (Excel's \"Unicode Text\"); save it as \"CSV UTF-8\" or \"CSV (Comma delimited)\"",
            ),
            FileCode::Unreadable { reason } => write!(f, "cannot read the file: {reason}"),
            FileCode::NoHeader => f.write_str("the file has no header row"),
            FileCode::HeaderEmpty => f.write_str("the first row is empty; it must hold the column headers"),
            FileCode::HeaderNul => f.write_str("the header row contains NUL bytes: this is not a text CSV file"),
            FileCode::DuplicateColumns { first, second, field } => {
                write!(f, "columns {first:?} and {second:?} both mean {field}; keep one of them")
            }
            FileCode::MissingColumns { missing, found } => write!(
                f,
                "missing column(s) {} (headers found: {})",
                missing.join(", "),
                found.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ")
            ),
            FileCode::RowTooLong { kib } => {
                write!(f, "a row is longer than {kib} KiB (an unclosed quote, or not a CSV file?)")
            }
            FileCode::TooManyRows { max } => {
                write!(f, "the file has more than {max} rows; split it into smaller files")
            }
        }
    }
}

impl RowCode {
    /// The kind of problem (the serialised tag), for grouping a report's problems.
    pub fn kind(&self) -> &'static str {
        match self {
            RowCode::RowCut { .. } => "row_cut",
            RowCode::RowOverflow { .. } => "row_overflow",
            RowCode::CellTooLong { .. } => "cell_too_long",
            RowCode::NulByte => "nul_byte",
            RowCode::OtherSite { .. } => "other_site",
            RowCode::EmailTwice { .. } => "email_twice",
            RowCode::UnitTwice { .. } => "unit_twice",
            RowCode::File { .. } => "file",
        }
    }
}

impl fmt::Display for RowCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowCode::RowCut { cells, width } => write!(
                f,
                "the row has {cells} cell(s) but the header has {width} columns (a line break inside a cell without quotes?)"
            ),
            RowCode::RowOverflow { cells, width } => write!(
                f,
                "the row has {cells} cells but the header has {width} columns (a delimiter inside a cell without quotes?)"
            ),
            RowCode::CellTooLong { max, len } => write!(f, "the cell is longer than {max} bytes ({len} bytes)"),
            RowCode::NulByte => f.write_str("the cell contains a NUL byte (is this a binary file?)"),
            RowCode::OtherSite { named, site } => write!(
                f,
                "this row is for site {named:?}, but the import is into {site:?}; import each site's rows into that site"
            ),
            RowCode::EmailTwice { email, row } => write!(f, "Email {email} is already on row {row} of this file"),
            RowCode::UnitTwice { building, floor, unit, row } => write!(
                f,
                "Unit {building}/{floor}/{unit} is also taken on row {row} of this file for overlapping dates"
            ),
            RowCode::File { file } => write!(f, "the file cannot be imported: {file}"),
        }
    }
}
