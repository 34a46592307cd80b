//! CSV import and export of resident lists.
//!
//! - [`dialect`]: what a file looks like — byte-order mark, encoding (UTF-8, or Windows-1252
//!   when a cell is not UTF-8), delimiter (comma, semicolon or tab, sniffed from the header)
//!   and which column means which field (both header dialects, with common aliases).
//! - [`dates`]: the date forms Excel writes (`11/5/2021 2:10 PM`, `11/5/21`, serial numbers)
//!   turned into ISO 8601 text that the one user-date parser reads in the site's time zone;
//!   and the fast stored-timestamp → wire-date conversion of the export hot path.
//! - [`import`]: a streaming, bounded-memory reader of resident rows with per-row problems
//!   (row numbers as a spreadsheet shows them). Validation against the rules and the
//!   database is the app layer's (`app::csv`), through the same code as a single add.
//! - [`export`]: a streaming writer of resident rows (byte records, reused buffers) with the
//!   Excel-safe mode (UTF-8 BOM, CRLF, formula-injection neutralised).
//! - [`problems`]: the coded problems of rows and files; [`problems_file`]: the rows with
//!   problems written back as the person's own CSV plus a problem column; [`template`]: the
//!   header and an example row for a new file.
//!
//! One CSV configuration is shared by every reader and writer ([`reader_builder`],
//! [`writer_builder`]), so what the export writes, the import reads.

pub mod dates;
pub mod dialect;
pub mod export;
pub mod import;
pub mod problems;
pub mod problems_file;
pub mod template;

use residentdesk_domain::ResidentField;
use serde::{Deserialize, Serialize};

/// Largest cell the importer accepts (bytes); longer cells are a row error.
pub const MAX_CELL_BYTES: usize = 4096;
/// Largest record (all cells of one row, bytes); a longer one stops the import: the file is
/// most likely not a CSV file (or a quote is never closed).
pub const MAX_RECORD_BYTES: u64 = 1 << 20;
/// Most data rows one import reads; bounds the memory of the in-file checks (one email
/// and one stay per row) whatever the size of the file.
pub const MAX_ROWS: u64 = 200_000;
/// Most problems listed in one report (the counts stay exact).
pub const MAX_LISTED_PROBLEMS: usize = 10_000;

/// The header dialect of a file: API field names or the Site Manager UI template names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Columns {
    /// `FirstName, LastName, Email, PhoneNumber, Building, Floor, Unit, ActivationDateUTC, DeactivationDateUTC`.
    #[default]
    Api,
    /// `First Name, Last Name, Email, Phone Number, Building, Floor, Unit, Access Start, Access End`.
    SiteManager,
}

impl Columns {
    /// `api` or `site-manager` (also `site_manager`, `sitemanager`, `ui`).
    pub fn parse(text: &str) -> Option<Columns> {
        match text.trim().to_ascii_lowercase().replace(['-', '_', ' '], "").as_str() {
            "api" => Some(Columns::Api),
            "sitemanager" | "ui" | "template" => Some(Columns::SiteManager),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Columns::Api => "api",
            Columns::SiteManager => "site-manager",
        }
    }

    /// The header of `field` in this dialect. `local_dates` names the date columns for
    /// site-local wall-clock dates (`ActivationDate` rather than `ActivationDateUTC`).
    pub fn header(self, field: Field, local_dates: bool) -> &'static str {
        match (self, field) {
            (Columns::Api, Field::Start) if local_dates => "ActivationDate",
            (Columns::Api, Field::End) if local_dates => "DeactivationDate",
            (Columns::Api, f) => f.api_name(),
            (Columns::SiteManager, Field::FirstName) => "First Name",
            (Columns::SiteManager, Field::LastName) => "Last Name",
            (Columns::SiteManager, Field::Phone) => "Phone Number",
            (Columns::SiteManager, Field::Start) => "Access Start",
            (Columns::SiteManager, Field::End) => "Access End",
            (Columns::SiteManager, f) => f.api_name(),
        }
    }
}

/// A field a CSV column can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    FirstName,
    LastName,
    Email,
    Phone,
    Building,
    Floor,
    Unit,
    /// Access start (ActivationDate).
    Start,
    /// Access end (DeactivationDate).
    End,
    /// Derived status (exported; ignored on import).
    Status,
    /// The remote resident id (exported; ignored on import).
    ResidentId,
    /// The site of the row (team exports; checked against the import's site).
    Site,
}

impl Field {
    /// The columns every export writes, in order (`Site` is added to multi-site exports).
    pub const EXPORTED: [Field; 11] = [
        Field::FirstName,
        Field::LastName,
        Field::Email,
        Field::Phone,
        Field::Building,
        Field::Floor,
        Field::Unit,
        Field::Start,
        Field::End,
        Field::Status,
        Field::ResidentId,
    ];

    /// The fields an import needs a column for.
    pub const REQUIRED: [Field; 7] =
        [Field::FirstName, Field::LastName, Field::Email, Field::Building, Field::Floor, Field::Unit, Field::Start];

    /// The resident field this column holds (`None`: status, id and site are not fields a
    /// person edits).
    pub fn resident_field(self) -> Option<ResidentField> {
        Some(match self {
            Field::FirstName => ResidentField::FirstName,
            Field::LastName => ResidentField::LastName,
            Field::Email => ResidentField::Email,
            Field::Phone => ResidentField::PhoneNumber,
            Field::Building => ResidentField::Building,
            Field::Floor => ResidentField::Floor,
            Field::Unit => ResidentField::Unit,
            Field::Start => ResidentField::ActivationDateUTC,
            Field::End => ResidentField::DeactivationDateUTC,
            Field::Status | Field::ResidentId | Field::Site => return None,
        })
    }

    /// The API field name (what `FieldProblem::field` and the wire use).
    pub fn api_name(self) -> &'static str {
        match self {
            Field::Status => "Status",
            Field::ResidentId => "ResidentId",
            Field::Site => "Site",
            f => f.resident_field().map_or("", ResidentField::as_str),
        }
    }

    /// The field whose API name is `name` (as validation reports it).
    pub fn from_api_name(name: &str) -> Option<Field> {
        [Field::Site].into_iter().chain(Field::EXPORTED).find(|f| f.api_name() == name)
    }
}

/// The one reader configuration: headers handled by the importer (to number rows and keep
/// the header as written), flexible records (ragged rows become row errors, not a stop).
pub fn reader_builder(delimiter: u8) -> csv::ReaderBuilder {
    let mut b = csv::ReaderBuilder::new();
    b.delimiter(delimiter).has_headers(false).flexible(true).double_quote(true).quoting(true);
    b
}

/// The one writer configuration: comma, quotes only where needed, `\n` or (Excel) CRLF.
pub fn writer_builder(excel: bool) -> csv::WriterBuilder {
    let mut b = csv::WriterBuilder::new();
    b.delimiter(b',')
        .quote_style(csv::QuoteStyle::Necessary)
        .terminator(if excel { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
        .buffer_capacity(64 * 1024);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_both_dialects() {
        let api: Vec<&str> = Field::EXPORTED.iter().map(|f| Columns::Api.header(*f, false)).collect();
        assert_eq!(
            api,
            [
                "FirstName",
                "LastName",
                "Email",
                "PhoneNumber",
                "Building",
                "Floor",
                "Unit",
                "ActivationDateUTC",
                "DeactivationDateUTC",
                "Status",
                "ResidentId"
            ]
        );
        let ui: Vec<&str> = Field::EXPORTED.iter().map(|f| Columns::SiteManager.header(*f, false)).collect();
        assert_eq!(
            ui,
            [
                "First Name",
                "Last Name",
                "Email",
                "Phone Number",
                "Building",
                "Floor",
                "Unit",
                "Access Start",
                "Access End",
                "Status",
                "ResidentId"
            ]
        );
        assert_eq!(Columns::Api.header(Field::Start, true), "ActivationDate");
        assert_eq!(Columns::parse("Site-Manager"), Some(Columns::SiteManager));
        assert_eq!(Columns::parse("xml"), None);
        assert_eq!(Field::from_api_name("PhoneNumber"), Some(Field::Phone));
        assert_eq!(Field::from_api_name("resident"), None);
    }
}
