//! What a CSV file looks like: byte-order mark, encoding, delimiter and header meaning.
//!
//! - UTF-8 with or without BOM; a cell that is not valid UTF-8 is read as Windows-1252
//!   (what Excel writes for "CSV (Comma delimited)" on Western systems). UTF-16 files are
//!   recognised by their BOM and refused with a hint.
//! - The delimiter is sniffed from the header line: the most frequent of comma, semicolon
//!   and tab outside quotes (comma on a tie or when none occurs).
//! - Headers are compared case-, space- and punctuation-insensitively, with the aliases
//!   leasing offices use (E-mail, Phone, Mobile, Start Date, Move In, Move Out...).
//! - A date column's name says how a date without an offset is read ([`DateReading`]): a
//!   name ending in `UTC` (`ActivationDateUTC`, `DeactivationDateUTC`, `Move In (UTC)`) means
//!   UTC; every other name (`Access Start`, `ActivationDate`, `Start Date`...) means the
//!   site's time. Excel drops the `+00:00` of an exported UTC date when it saves the file
//!   again, so the name is all that is left to say which time it was.

use super::problems::FileCode;
use super::{Columns, Field};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The UTF-8 byte-order mark.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// What the byte-order mark (if any) says about the encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bom {
    None,
    Utf8,
    /// UTF-16 (little or big endian): not supported.
    Utf16,
}

/// Detects a byte-order mark at the start of `head`; returns it and its length.
pub fn detect_bom(head: &[u8]) -> (Bom, usize) {
    if head.starts_with(UTF8_BOM) {
        (Bom::Utf8, 3)
    } else if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        (Bom::Utf16, 2)
    } else {
        (Bom::None, 0)
    }
}

/// Decodes one cell: UTF-8 when valid, else Windows-1252. Returns the text and whether the
/// fallback was used.
pub fn decode_cell(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Cow::Borrowed(s), false),
        Err(_) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            (text, true)
        }
    }
}

/// Sniffs the delimiter from the first line of `head` (quotes respected).
pub fn sniff_delimiter(head: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let candidates = [b',', b';', b'\t'];
    let mut in_quotes = false;
    for &b in head {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' | b'\r' if !in_quotes => break,
            _ if !in_quotes => {
                if let Some(i) = candidates.iter().position(|c| *c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    candidates[best]
}

/// A readable name of a delimiter for reports.
pub fn delimiter_name(d: u8) -> &'static str {
    match d {
        b',' => "comma",
        b';' => "semicolon",
        b'\t' => "tab",
        _ => "other",
    }
}

/// The comparison key of a header: lowercase letters and digits only.
fn header_key(header: &str) -> String {
    header.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// How a date column's values without an offset are read. A value with an offset (or `Z`)
/// is that instant whatever the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DateReading {
    /// The column is named `...UTC`: values are UTC.
    Utc,
    /// Any other name: values are wall-clock time in the site's zone.
    SiteTime,
}

/// The reading a date column's header asks for (see [`DateReading`]).
pub fn date_reading_of_header(header: &str) -> DateReading {
    if header_key(header).ends_with("utc") {
        DateReading::Utc
    } else {
        DateReading::SiteTime
    }
}

/// The field a header means, and which dialect spelled it that way (API names are one word,
/// the UI template has spaces). `None` for a column the importer does not know.
pub fn field_of_header(header: &str) -> Option<(Field, Option<Columns>)> {
    let key = header_key(header);
    let found = field_of_key(&key);
    // `Start Date UTC`, `Move In (UTC)`: a date alias with a UTC suffix (see [`DateReading`]).
    let found = found
        .or_else(|| key.strip_suffix("utc").and_then(field_of_key).filter(|f| matches!(f, Field::Start | Field::End)));
    let field = found?;
    let spaced = header.trim().contains(' ');
    let dialect = |api: bool| Some(if api { Columns::Api } else { Columns::SiteManager });
    // Which dialect: the exact API spellings are the API dialect; the exact template names
    // are the Site Manager dialect; aliases say nothing.
    let which = match header.trim() {
        "FirstName" | "LastName" | "PhoneNumber" | "ActivationDateUTC" | "DeactivationDateUTC" => dialect(true),
        "First Name" | "Last Name" | "Phone Number" | "Access Start" | "Access End" => dialect(false),
        _ if matches!(field, Field::FirstName | Field::LastName | Field::Phone | Field::Start | Field::End) => {
            if key.starts_with("access") || spaced && matches!(key.as_str(), "firstname" | "lastname" | "phonenumber") {
                dialect(false)
            } else if matches!(key.as_str(), "activationdateutc" | "deactivationdateutc") {
                dialect(true)
            } else {
                None
            }
        }
        _ => None,
    };
    Some((field, which))
}

/// The field a header key (see [`header_key`]) names.
fn field_of_key(key: &str) -> Option<Field> {
    let field = match key {
        "firstname" | "first" | "givenname" | "fname" | "forename" => Field::FirstName,
        "lastname" | "last" | "surname" | "familyname" | "lname" => Field::LastName,
        "email" | "emailaddress" | "mail" | "emailid" => Field::Email,
        "phonenumber" | "phone" | "mobile" | "mobilenumber" | "mobilephone" | "cell" | "cellphone" | "telephone"
        | "tel" | "phoneno" => Field::Phone,
        "building" | "bldg" | "buildingname" | "buildingnumber" => Field::Building,
        "floor" | "floornumber" | "floorno" => Field::Floor,
        "unit" | "unitnumber" | "unitno" | "apt" | "aptno" | "apartment" | "apartmentnumber" | "suite" => Field::Unit,
        "activationdateutc" | "activationdate" | "activation" | "accessstart" | "accessstartdate" | "startdate"
        | "start" | "movein" | "moveindate" | "leasestart" | "leasestartdate" => Field::Start,
        "deactivationdateutc"
        | "deactivationdate"
        | "deactivation"
        | "accessend"
        | "accessenddate"
        | "enddate"
        | "end"
        | "moveout"
        | "moveoutdate"
        | "leaseend"
        | "leaseenddate" => Field::End,
        "status" => Field::Status,
        "residentid" | "id" => Field::ResidentId,
        "site" | "sitename" | "property" => Field::Site,
        _ => return None,
    };
    Some(field)
}

/// The meaning of a header row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMap {
    /// For each column: the field it carries, if known.
    pub fields: Vec<Option<Field>>,
    /// The headers as written (trimmed), for the report.
    pub names: Vec<String>,
    /// The dialect the headers are closest to.
    pub dialect: Columns,
    /// Columns the importer ignores (unknown headers), as written.
    pub ignored: Vec<String>,
    /// For each column: how its dates are read (meaningful for the date columns only).
    pub readings: Vec<DateReading>,
}

impl HeaderMap {
    /// Maps a header row. Errors: an empty header, two columns meaning the same field, or
    /// required fields without a column (all of them listed).
    pub fn new(headers: &[String]) -> Result<HeaderMap, FileCode> {
        if headers.iter().all(|h| h.trim().is_empty()) {
            return Err(FileCode::HeaderEmpty);
        }
        let mut fields = Vec::with_capacity(headers.len());
        let mut ignored = Vec::new();
        let (mut api, mut ui) = (0, 0);
        for h in headers {
            match field_of_header(h) {
                Some((f, which)) => {
                    if let Some(prev) = fields.iter().position(|x| *x == Some(f)) {
                        return Err(FileCode::DuplicateColumns {
                            first: headers[prev].trim().to_string(),
                            second: h.trim().to_string(),
                            field: f.api_name().to_string(),
                        });
                    }
                    match which {
                        Some(Columns::Api) => api += 1,
                        Some(Columns::SiteManager) => ui += 1,
                        None => {}
                    }
                    fields.push(Some(f));
                }
                None => {
                    if !h.trim().is_empty() {
                        ignored.push(h.trim().to_string());
                    }
                    fields.push(None);
                }
            }
        }
        let missing: Vec<String> =
            Field::REQUIRED.iter().filter(|f| !fields.contains(&Some(**f))).map(|f| f.api_name().to_string()).collect();
        if !missing.is_empty() {
            let found = headers.iter().map(|h| h.trim().to_string()).collect();
            return Err(FileCode::MissingColumns { missing, found });
        }
        let dialect = if ui > api { Columns::SiteManager } else { Columns::Api };
        let readings = headers.iter().map(|h| date_reading_of_header(h)).collect();
        Ok(HeaderMap {
            fields,
            names: headers.iter().map(|h| h.trim().to_string()).collect(),
            dialect,
            ignored,
            readings,
        })
    }

    /// The column index of `field`.
    pub fn column_of(&self, field: Field) -> Option<usize> {
        self.fields.iter().position(|f| *f == Some(field))
    }

    /// How the dates of `field`'s column are read (site time when there is no such column).
    pub fn reading_of(&self, field: Field) -> DateReading {
        self.column_of(field).map(|i| self.readings[i]).unwrap_or(DateReading::SiteTime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sniffs_each_delimiter_outside_quotes() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1;2;3;4;5"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\r\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\tc"), b'\t');
        assert_eq!(sniff_delimiter(b"\"x;y;z\",b,c"), b',');
        assert_eq!(sniff_delimiter(b"single"), b',');
    }

    #[test]
    fn boms_and_encodings() {
        assert_eq!(detect_bom(b"\xEF\xBB\xBFa,b"), (Bom::Utf8, 3));
        assert_eq!(detect_bom(b"\xFF\xFEa\0"), (Bom::Utf16, 2));
        assert_eq!(detect_bom(b"a,b"), (Bom::None, 0));
        assert_eq!(decode_cell("Zoë".as_bytes()), (Cow::Borrowed("Zoë"), false));
        let (text, fallback) = decode_cell(b"Zo\xEB \x80");
        assert_eq!(text, "Zoë €");
        assert!(fallback);
    }

    #[test]
    fn header_aliases_table() {
        let cases = [
            ("FirstName", Field::FirstName),
            (" first name ", Field::FirstName),
            ("FIRST_NAME", Field::FirstName),
            ("Surname", Field::LastName),
            ("E-mail", Field::Email),
            ("Email Address", Field::Email),
            ("Phone", Field::Phone),
            ("Mobile", Field::Phone),
            ("Phone Number", Field::Phone),
            ("Bldg", Field::Building),
            ("Apt #", Field::Unit),
            ("Start Date", Field::Start),
            ("Move In", Field::Start),
            ("Move-In Date", Field::Start),
            ("Access Start", Field::Start),
            ("ActivationDateUTC", Field::Start),
            ("ActivationDate", Field::Start),
            ("End Date", Field::End),
            ("Move Out", Field::End),
            ("Access End", Field::End),
            ("DeactivationDateUTC", Field::End),
            ("Status", Field::Status),
            ("ResidentId", Field::ResidentId),
            ("Site", Field::Site),
        ];
        for (header, field) in cases {
            assert_eq!(field_of_header(header).map(|(f, _)| f), Some(field), "{header}");
        }
        assert_eq!(field_of_header("Pet name"), None);
        assert_eq!(field_of_header("Move In (UTC)").map(|(f, _)| f), Some(Field::Start));
        assert_eq!(field_of_header("Email UTC"), None, "only date columns take a UTC suffix");
    }

    /// Corner case 4: a UTC-named date column means UTC; every other name, site time.
    #[test]
    fn date_reading_table() {
        let cases = [
            ("ActivationDateUTC", DateReading::Utc),
            ("DeactivationDateUTC", DateReading::Utc),
            ("activation_date_utc", DateReading::Utc),
            ("Move In (UTC)", DateReading::Utc),
            ("Start Date UTC", DateReading::Utc),
            ("Access Start", DateReading::SiteTime),
            ("Access End", DateReading::SiteTime),
            ("ActivationDate", DateReading::SiteTime),
            ("DeactivationDate", DateReading::SiteTime),
            ("Move In", DateReading::SiteTime),
        ];
        for (header, reading) in cases {
            assert_eq!(date_reading_of_header(header), reading, "{header}");
        }
        let map = HeaderMap::new(&strings(&[
            "Email",
            "FirstName",
            "LastName",
            "Building",
            "Floor",
            "Unit",
            "ActivationDateUTC",
            "Access End",
        ]))
        .unwrap();
        assert_eq!(map.reading_of(Field::Start), DateReading::Utc);
        assert_eq!(map.reading_of(Field::End), DateReading::SiteTime);
    }

    #[test]
    fn header_maps_detect_dialect_duplicates_and_missing() {
        let api = HeaderMap::new(&strings(&[
            "FirstName",
            "LastName",
            "Email",
            "PhoneNumber",
            "Building",
            "Floor",
            "Unit",
            "ActivationDateUTC",
            "DeactivationDateUTC",
        ]))
        .unwrap();
        assert_eq!(api.dialect, Columns::Api);
        let ui = HeaderMap::new(&strings(&[
            "First Name",
            "Last Name",
            "Email",
            "Phone Number",
            "Building",
            "Floor",
            "Unit",
            "Access Start",
            "Access End",
            "Pets",
        ]))
        .unwrap();
        assert_eq!(ui.dialect, Columns::SiteManager);
        assert_eq!(ui.ignored, vec!["Pets".to_string()]);
        assert_eq!(ui.column_of(Field::End), Some(8));
        let dup = HeaderMap::new(&strings(&["Email", "E-mail"])).unwrap_err().to_string();
        assert!(dup.contains("both mean Email"), "{dup}");
        let missing = HeaderMap::new(&strings(&["Email", "First Name"])).unwrap_err().to_string();
        assert!(missing.contains("LastName, Building, Floor, Unit, ActivationDateUTC"), "{missing}");
        assert!(HeaderMap::new(&strings(&["", ""])).is_err());
    }
}
