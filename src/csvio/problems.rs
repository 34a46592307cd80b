//! The problems an import finds in a file's rows that are not a resident rule (those carry
//! their [`RuleError`](residentdesk_domain::RuleError)), as stable codes with typed
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
    /// The file itself (unreadable, missing columns, too many rows): said in English only.
    File,
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
            RowCode::File => f.write_str("the file cannot be imported"),
        }
    }
}
