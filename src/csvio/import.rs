//! Reading resident rows from a CSV file, streaming and with bounded memory.
//!
//! [`RowReader`] detects the dialect from the first bytes, maps the header, then yields one
//! [`ImportRow`] per data row: the resident as typed ([`ResidentInput`], dates already
//! turned from Excel's forms into ISO text), the cells as written (for the report), and the
//! problems found while reading (ragged row, oversized cell, NUL byte, Excel date that is
//! not a date). Rule checks are the app layer's.
//!
//! Row numbers are those a spreadsheet shows: the header is row 1, each record one row
//! (a line break inside a quoted cell does not start a new row; blank lines do count).
//! Memory stays bounded: one record at a time, a record longer than
//! [`MAX_RECORD_BYTES`](super::MAX_RECORD_BYTES) stops the import, at most
//! [`MAX_ROWS`](super::MAX_ROWS) rows are read.

use super::dialect::{self, Bom, DateReading, HeaderMap};
use super::problems::{FileCode, RowCode};
use super::{dates, Field, MAX_CELL_BYTES, MAX_RECORD_BYTES, MAX_ROWS};
use residentdesk_domain::input::ResidentInput;
use residentdesk_domain::RuleError;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

/// One problem of one row, as the import report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RowProblem {
    /// The row as a spreadsheet numbers it (header = 1).
    pub row: u64,
    /// The column header as written in the file (or the API field name when the file has
    /// no such column).
    pub column: String,
    /// The API field name (FirstName, Email, Unit, ActivationDateUTC, ...).
    pub field: String,
    /// The cell as written (shortened when very long).
    pub value: String,
    /// In English (the CLI's words).
    pub message: String,
    /// The resident rule broken, with its parameters, when a rule said no.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub rule: Option<residentdesk_domain::RuleError>,
    /// Otherwise the problem of the file's row, with its parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub code: Option<RowCode>,
}

impl RowProblem {
    /// A problem of the row as a file holds it, its message the code's English.
    pub fn coded(row: u64, column: String, field: &str, value: String, code: RowCode) -> RowProblem {
        RowProblem { row, column, field: field.into(), value, message: code.to_string(), rule: None, code: Some(code) }
    }
}

/// The file-level facts of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FileInfo {
    /// `comma`, `semicolon` or `tab`.
    pub delimiter: String,
    /// `utf-8`, `utf-8 (BOM)`, or `windows-1252` once a cell needed the fallback.
    pub encoding: String,
    /// The header dialect the file is closest to.
    pub header_dialect: super::Columns,
    /// The headers as written.
    pub headers: Vec<String>,
    /// Columns that were ignored (unknown headers).
    pub ignored_columns: Vec<String>,
    /// How each date column's values without an offset were read.
    pub dates: Vec<DateColumn>,
}

/// How one date column of the file was read (the report says so, so nobody has to guess
/// whether `2027-01-05 21:10` was UTC or the site's time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DateColumn {
    /// The header as written.
    pub column: String,
    /// The API field name (`ActivationDateUTC` or `DeactivationDateUTC`).
    pub field: String,
    pub reading: DateReading,
    /// For people: `UTC`, or `site time (America/Chicago)`.
    pub meaning: String,
}

/// One data row.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    /// The row as a spreadsheet numbers it (header = 1).
    pub row: u64,
    pub input: ResidentInput,
    /// The `Site` cell, when the file has that column and it is not empty.
    pub site: Option<String>,
    /// Problems found while reading the row (before any rule check).
    pub problems: Vec<RowProblem>,
}

/// A problem with the file as a whole (not a CSV of residents, unreadable, too large).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub row: u64,
    /// In English (the code's words).
    pub message: String,
    pub code: FileCode,
}

impl FileError {
    fn new(row: u64, code: FileCode) -> FileError {
        FileError { row, message: code.to_string(), code }
    }
}

/// The I/O error [`Guard`] raises for a record longer than the limit, recognised again
/// where the CSV reader hands it back.
#[derive(Debug)]
struct RowTooLong;

impl std::fmt::Display for RowTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", FileCode::RowTooLong { kib: MAX_RECORD_BYTES / 1024 })
    }
}

impl std::error::Error for RowTooLong {}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}: {}", self.row, self.message)
    }
}

/// Follows the bytes the CSV parser reads, with the same quoting rules, to know on which
/// spreadsheet row each record starts: the parser skips blank lines and counts line breaks
/// inside quoted cells, a spreadsheet does neither.
#[derive(Debug)]
struct RowTracker {
    delimiter: u8,
    state: ScanState,
    /// The previous byte was a CR ending a row (so a following LF is the same break).
    after_cr: bool,
    /// Rows begun so far (the row number of the current physical row).
    row: u64,
    /// Start offsets of the non-blank rows read ahead, with their row numbers.
    starts: VecDeque<(u64, u64)>,
    /// Bytes seen so far.
    offset: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScanState {
    RowStart,
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl RowTracker {
    fn new(delimiter: u8) -> Self {
        RowTracker {
            delimiter,
            state: ScanState::RowStart,
            after_cr: false,
            row: 1,
            starts: VecDeque::new(),
            offset: 0,
        }
    }

    fn scan(&mut self, bytes: &[u8]) {
        use ScanState::*;
        for &b in bytes {
            let was_cr = std::mem::replace(&mut self.after_cr, false);
            let is_break = b == b'\n' || b == b'\r';
            let state = self.state;
            if state == RowStart && !is_break {
                self.starts.push_back((self.offset, self.row));
            }
            self.state = match (state, b) {
                (Quoted, b'"') => QuoteInQuoted,
                (Quoted, _) => Quoted,
                (RowStart | FieldStart, b'"') => Quoted,
                (QuoteInQuoted, b'"') => Quoted,
                (_, b'\n') if was_cr => RowStart,
                (_, b'\n' | b'\r') => {
                    self.row += 1;
                    self.after_cr = b == b'\r';
                    RowStart
                }
                (_, d) if d == self.delimiter => FieldStart,
                _ => Unquoted,
            };
            self.offset += 1;
        }
    }

    /// The row of the record the parser reports at `byte`.
    fn row_at(&mut self, byte: u64) -> Option<u64> {
        while self.starts.front().is_some_and(|(o, _)| *o < byte) {
            self.starts.pop_front();
        }
        self.starts.pop_front().map(|(_, row)| row)
    }
}

/// Counts what is read, tracks rows, and refuses records longer than the limit, so that a
/// file without line breaks (or with an unclosed quote) cannot make the reader buffer it
/// whole.
struct Guard<R> {
    inner: R,
    read: Rc<Cell<u64>>,
    record_start: Rc<Cell<u64>>,
    tracker: Rc<RefCell<RowTracker>>,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // The csv reader holds at most its buffer beyond the current record.
        if self.read.get().saturating_sub(self.record_start.get()) > MAX_RECORD_BYTES + 64 * 1024 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, RowTooLong));
        }
        let n = self.inner.read(buf)?;
        self.tracker.borrow_mut().scan(&buf[..n]);
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// Streams the rows of a resident CSV.
pub struct RowReader<R: Read> {
    csv: csv::Reader<Guard<BufReader<R>>>,
    map: HeaderMap,
    info: FileInfo,
    /// The site's zone: bare dates in UTC-named columns are days there.
    tz: chrono_tz::Tz,
    record: csv::ByteRecord,
    tracker: Rc<RefCell<RowTracker>>,
    /// The row of the last record read.
    last_row: u64,
    rows: u64,
    bytes_read: Rc<Cell<u64>>,
    record_start: Rc<Cell<u64>>,
    bom_len: u64,
    /// A UTF-8 BOM: Excel-safe apostrophes are removed.
    excel_safe: bool,
    done: bool,
}

fn shorten(text: &str) -> String {
    const MAX: usize = 200;
    if text.len() <= MAX {
        text.to_string()
    } else {
        let mut end = MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} bytes)", &text[..end], text.len())
    }
}

/// Removes the apostrophe an Excel-safe export put before `= + - @ tab CR` or `'`. Only
/// for files with a UTF-8 BOM (as Excel-safe exports are); elsewhere cells are as typed.
fn unneutralise(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) => rest,
        _ => text,
    }
}

impl<R: Read> RowReader<R> {
    /// [`RowReader::for_site`] for a site whose time zone is UTC.
    pub fn new(reader: R) -> Result<RowReader<R>, FileError> {
        RowReader::for_site(reader, chrono_tz::UTC)
    }

    /// Reads the start of the file (byte-order mark, delimiter and header row) of an import
    /// into a site in time zone `tz` (the report names it; bare dates in UTC-named columns
    /// are days at the site).
    pub fn for_site(reader: R, tz: chrono_tz::Tz) -> Result<RowReader<R>, FileError> {
        let file_err = |code: FileCode| FileError::new(1, code);
        let mut buffered = BufReader::with_capacity(64 * 1024, reader);
        let head = buffered.fill_buf().map_err(|e| file_err(FileCode::Unreadable { reason: e.to_string() }))?;
        if head.is_empty() {
            return Err(file_err(FileCode::Empty));
        }
        let (bom, bom_len) = dialect::detect_bom(head);
        if bom == Bom::Utf16 {
            return Err(file_err(FileCode::Utf16));
        }
        let delimiter = dialect::sniff_delimiter(&head[bom_len..]);
        buffered.consume(bom_len);
        let read = Rc::new(Cell::new(0));
        let record_start = Rc::new(Cell::new(0));
        let tracker = Rc::new(RefCell::new(RowTracker::new(delimiter)));
        let guard =
            Guard { inner: buffered, read: read.clone(), record_start: record_start.clone(), tracker: tracker.clone() };
        let mut csv = super::reader_builder(delimiter).from_reader(guard);
        let mut header = csv::ByteRecord::new();
        match csv.read_byte_record(&mut header) {
            Ok(true) => {}
            Ok(false) => return Err(file_err(FileCode::NoHeader)),
            Err(e) => return Err(file_err(file_code_of(&e))),
        }
        let mut fallback = false;
        let headers: Vec<String> = header
            .iter()
            .map(|h| {
                let (text, fb) = dialect::decode_cell(h);
                fallback |= fb;
                text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}').to_string()
            })
            .collect();
        if headers.iter().any(|h| h.contains('\0')) {
            return Err(file_err(FileCode::HeaderNul));
        }
        let map = HeaderMap::new(&headers).map_err(file_err)?;
        record_start.set(csv.position().byte());
        let encoding = if fallback {
            "windows-1252"
        } else if bom == Bom::Utf8 {
            "utf-8 (BOM)"
        } else {
            "utf-8"
        };
        let info = FileInfo {
            delimiter: dialect::delimiter_name(delimiter).to_string(),
            encoding: encoding.to_string(),
            header_dialect: map.dialect,
            headers: map.names.clone(),
            ignored_columns: map.ignored.clone(),
            dates: [Field::Start, Field::End]
                .into_iter()
                .filter_map(|f| {
                    let i = map.column_of(f)?;
                    let reading = map.readings[i];
                    let meaning = match reading {
                        DateReading::Utc => "UTC".to_string(),
                        DateReading::SiteTime => format!("site time ({})", tz.name()),
                    };
                    Some(DateColumn { column: map.names[i].clone(), field: f.api_name().to_string(), reading, meaning })
                })
                .collect(),
        };
        Ok(RowReader {
            csv,
            map,
            info,
            record: csv::ByteRecord::new(),
            tracker,
            last_row: 1,
            rows: 0,
            bytes_read: read,
            record_start,
            bom_len: bom_len as u64,
            excel_safe: bom == Bom::Utf8,
            tz,
            done: false,
        })
    }

    /// The file-level facts (encoding switches to `windows-1252` once a cell needed it).
    pub fn info(&self) -> &FileInfo {
        &self.info
    }

    /// The header mapping.
    pub fn header(&self) -> &HeaderMap {
        &self.map
    }

    /// Bytes read from the input so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.get() + self.bom_len
    }

    /// The header of the column carrying `field`, as written, or the API name.
    pub fn column_name(&self, field: &str) -> String {
        Field::from_api_name(field)
            .and_then(|f| self.map.column_of(f))
            .map(|i| self.map.names[i].clone())
            .unwrap_or_else(|| field.to_string())
    }

    /// The next data row; `Ok(None)` at the end; `Err` when the file cannot be read on.
    /// Rows whose cells are all empty are skipped.
    pub fn next_row(&mut self) -> Result<Option<ImportRow>, FileError> {
        loop {
            if self.done {
                return Ok(None);
            }
            let next_row_guess = self.last_row + 1;
            let more = self.csv.read_byte_record(&mut self.record).map_err(|e| {
                self.done = true;
                FileError::new(next_row_guess, file_code_of(&e))
            })?;
            if !more {
                self.done = true;
                return Ok(None);
            }
            let start = self.record.position().map(|p| p.byte()).unwrap_or(0);
            let row = self.tracker.borrow_mut().row_at(start).unwrap_or(next_row_guess);
            self.last_row = row;
            self.record_start.set(self.csv.position().byte());
            if self.record.iter().all(|c| c.iter().all(|b| b.is_ascii_whitespace())) {
                continue;
            }
            self.rows += 1;
            if self.rows > MAX_ROWS {
                self.done = true;
                return Err(FileError::new(row, FileCode::TooManyRows { max: MAX_ROWS }));
            }
            return Ok(Some(self.build_row(row)));
        }
    }

    fn build_row(&mut self, row: u64) -> ImportRow {
        let mut problems = Vec::new();
        let mut input = ResidentInput::default();
        let mut site = None;
        let width = self.map.fields.len();
        let cells = self.record.len();
        // Fewer cells than headers: tools that drop trailing empty cells are fine as long as
        // no required column is cut off; otherwise the row is broken.
        let cut_required =
            self.map.fields[cells.min(width)..].iter().any(|f| f.is_some_and(|f| Field::REQUIRED.contains(&f)));
        if cells < width && cut_required {
            problems.push(RowProblem::coded(
                row,
                self.map.names.get(cells).cloned().unwrap_or_default(),
                "row",
                String::new(),
                RowCode::RowCut { cells: cells as u64, width: width as u64 },
            ));
        } else if self.record.iter().skip(width).any(|c| !c.iter().all(u8::is_ascii_whitespace)) {
            problems.push(RowProblem::coded(
                row,
                format!("column {}", width + 1),
                "row",
                shorten(&dialect::decode_cell(&self.record[width]).0),
                RowCode::RowOverflow { cells: cells as u64, width: width as u64 },
            ));
        }
        for (i, field) in self.map.fields.iter().enumerate() {
            let (Some(field), Some(raw)) = (field, self.record.get(i)) else { continue };
            let column = &self.map.names[i];
            let (text, fallback) = dialect::decode_cell(raw);
            if fallback && self.info.encoding != "windows-1252" {
                self.info.encoding = "windows-1252".into();
            }
            let mut problem = |code: Result<RowCode, RuleError>, value: &str| {
                let (message, rule, code) = match code {
                    Ok(c) => (c.to_string(), None, Some(c)),
                    Err(r) => (r.to_string(), Some(r), None),
                };
                problems.push(RowProblem {
                    row,
                    column: column.clone(),
                    field: field.api_name().into(),
                    value: shorten(value),
                    message,
                    rule,
                    code,
                })
            };
            if raw.len() > MAX_CELL_BYTES {
                problem(Ok(RowCode::CellTooLong { max: MAX_CELL_BYTES as u64, len: raw.len() as u64 }), &text);
                continue;
            }
            if raw.contains(&0) {
                problem(Ok(RowCode::NulByte), &text.replace('\0', "\\0"));
                continue;
            }
            let value = if self.excel_safe { unneutralise(&text) } else { &text };
            match field {
                Field::FirstName => input.first_name = value.to_string(),
                Field::LastName => input.last_name = value.to_string(),
                Field::Email => input.email = value.to_string(),
                Field::Phone => input.phone = Some(value.to_string()).filter(|p| !p.trim().is_empty()),
                Field::Building => input.building = value.to_string(),
                Field::Floor => input.floor = value.to_string(),
                Field::Unit => input.unit = value.to_string(),
                Field::Start | Field::End => match dates::normalize_excel_date(value) {
                    Ok(iso) => {
                        // A UTC-named column: a date without an offset is UTC, so it is
                        // handed on with one (the user-date parser would read it in the
                        // site's zone). Text that is no date is left for the parser to report.
                        let iso = match self.map.readings[i] {
                            DateReading::Utc => {
                                match residentdesk_domain::dates::parse_utc_datetime(field.api_name(), &iso, self.tz) {
                                    Ok(dt) => residentdesk_domain::dates::format_wire_utc(dt).into(),
                                    Err(_) => iso,
                                }
                            }
                            DateReading::SiteTime => iso,
                        };
                        if *field == Field::Start {
                            input.start = iso.into_owned();
                        } else {
                            input.end = Some(iso.into_owned()).filter(|e| !e.trim().is_empty());
                        }
                    }
                    Err(reason) => problem(
                        Err(RuleError::Invalid {
                            field: field.api_name().into(),
                            reason: reason.to_string(),
                            why: Some(residentdesk_domain::rules::InvalidWhy::NotADate),
                        }),
                        value,
                    ),
                },
                Field::Site => site = Some(value.trim().to_string()).filter(|s| !s.is_empty()),
                Field::Status | Field::ResidentId => {}
            }
        }
        ImportRow { row, input, site, problems }
    }

    /// Every cell of the current row as written (decoded, not shortened): what the problems
    /// file gives back to the person.
    pub fn cells(&self) -> Vec<String> {
        self.record.iter().map(|raw| dialect::decode_cell(raw).0.into_owned()).collect()
    }

    /// The cell of `field` in the current row, as written (for reports).
    pub fn cell(&self, field: &str) -> String {
        Field::from_api_name(field)
            .and_then(|f| self.map.column_of(f))
            .and_then(|i| self.record.get(i))
            .map(|raw| shorten(&dialect::decode_cell(raw).0))
            .unwrap_or_default()
    }
}

/// What a reading error of the CSV parser means for the file.
fn file_code_of(e: &csv::Error) -> FileCode {
    match e.kind() {
        csv::ErrorKind::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<RowTooLong>()) => {
            FileCode::RowTooLong { kib: MAX_RECORD_BYTES / 1024 }
        }
        csv::ErrorKind::Io(io) => FileCode::Unreadable { reason: io.to_string() },
        _ => FileCode::Unreadable { reason: e.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> (FileInfo, Vec<ImportRow>) {
        let mut r = RowReader::new(bytes).unwrap();
        let mut out = Vec::new();
        while let Some(row) = r.next_row().unwrap() {
            out.push(row);
        }
        (r.info().clone(), out)
    }

    const API: &str =
        "FirstName,LastName,Email,PhoneNumber,Building,Floor,Unit,ActivationDateUTC,DeactivationDateUTC\n";

    #[test]
    fn reads_api_rows_with_spreadsheet_row_numbers() {
        let text = format!(
            "{API}Ava,Smith,ava@x.test,555-0100,A,1,101,2026-01-01,\n\n\"Bo\nB\",\"O\"\"Neil\",bo@x.test,,A,1,102,11/5/21 2:10 PM,12/31/2026\nCy,Lee,cy@x.test,,A,1,103,2026-01-01,\n"
        );
        let (info, rows) = read_all(text.as_bytes());
        assert_eq!(info.delimiter, "comma");
        assert_eq!(info.encoding, "utf-8");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[0].input.phone.as_deref(), Some("555-0100"));
        assert_eq!(rows[0].input.end, None);
        // The blank line is row 3; the multi-line record is row 4; the next is row 5.
        assert_eq!(rows[1].row, 4);
        assert_eq!(rows[1].input.first_name, "Bo\nB");
        assert_eq!(rows[1].input.last_name, "O\"Neil");
        // UTC-named columns: Excel's forms and dates without an offset are read as UTC.
        assert_eq!(rows[1].input.start, "2021-11-05T14:10:00+00:00");
        assert_eq!(rows[1].input.end.as_deref(), Some("2026-12-31T00:00:00+00:00"), "a day at the (UTC) site");
        assert_eq!(info.dates.iter().map(|d| d.meaning.as_str()).collect::<Vec<_>>(), ["UTC", "UTC"]);
        assert_eq!(rows[2].row, 5);
        assert!(rows.iter().all(|r| r.problems.is_empty()));
    }

    #[test]
    fn row_numbers_with_crlf_blank_lines_and_quoted_breaks() {
        let text = format!(
            "{}a,b,a@x.test,,A,1,101,2026-01-01,\r\n\r\n\r\n\"c\r\nd\",e,c@x.test,,A,1,102,2026-01-01,\r\n,,,,,,,,\r\nf,g,f@x.test,,A,1,103,2026-01-01,",
            API.trim_end().to_string() + "\r\n"
        );
        let (_, rows) = read_all(text.as_bytes());
        let numbers: Vec<u64> = rows.iter().map(|r| r.row).collect();
        // Header 1, data 2, blanks 3–4, the two-line record 5, an all-empty row 6 (skipped), 7.
        assert_eq!(numbers, [2, 5, 7]);
        assert_eq!(rows[1].input.first_name, "c\r\nd");
    }

    /// Corner case 4: `ActivationDateUTC` without an offset is UTC; `Access End` and plain
    /// `ActivationDate` stay site time; the file facts say which reading was used.
    #[test]
    fn utc_named_columns_are_read_as_utc() {
        let text = "Email,FirstName,LastName,Building,Floor,Unit,ActivationDateUTC,Access End\n\
                    a@x.test,A,B,A,1,101,2027-01-05 21:10:00,1/6/2027 9:00\n\
                    b@x.test,A,B,A,1,102,1/5/2027 21:10,2027-02-01T00:00:00-06:00\n";
        let chicago: chrono_tz::Tz = "America/Chicago".parse().unwrap();
        let mut r = RowReader::for_site(text.as_bytes(), chicago).unwrap();
        let (a, b) = (r.next_row().unwrap().unwrap(), r.next_row().unwrap().unwrap());
        assert_eq!(a.input.start, "2027-01-05T21:10:00+00:00");
        assert_eq!(a.input.end.as_deref(), Some("2027-01-06T09:00:00"), "site time: left for the site's zone");
        assert_eq!(b.input.start, "2027-01-05T21:10:00+00:00", "Excel's form of the same UTC instant");
        assert_eq!(b.input.end.as_deref(), Some("2027-02-01T00:00:00-06:00"), "an explicit offset is kept");
        let meanings: Vec<(&str, &str)> =
            r.info().dates.iter().map(|d| (d.column.as_str(), d.meaning.as_str())).collect();
        assert_eq!(meanings, [("ActivationDateUTC", "UTC"), ("Access End", "site time (America/Chicago)")]);
        let day = "Email,FirstName,LastName,Building,Floor,Unit,ActivationDateUTC\na@x.test,A,B,A,1,101,1/5/2027\n";
        let mut r = RowReader::for_site(day.as_bytes(), chicago).unwrap();
        let start = r.next_row().unwrap().unwrap().input.start;
        assert_eq!(start, "2027-01-05T06:00:00+00:00", "a bare date is a day at the site");
        let plain =
            "Email,FirstName,LastName,Building,Floor,Unit,ActivationDate\na@x.test,A,B,A,1,101,2027-01-05 21:10:00\n";
        let mut r = RowReader::for_site(plain.as_bytes(), chicago).unwrap();
        assert_eq!(r.next_row().unwrap().unwrap().input.start, "2027-01-05 21:10:00");
        assert_eq!(r.info().dates[0].reading, DateReading::SiteTime);
    }

    #[test]
    fn semicolon_tab_bom_and_windows_1252() {
        let ui = "First Name;Last Name;E-mail;Phone;Building;Floor;Unit;Move In;Move Out\r\nZo\u{eb};Kim;z@x.test;;A;1;101;5.11.2021;\r\n";
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(ui.as_bytes());
        let (info, rows) = read_all(&bytes);
        assert_eq!(info.delimiter, "semicolon");
        assert_eq!(info.encoding, "utf-8 (BOM)");
        assert_eq!(info.header_dialect, super::super::Columns::SiteManager);
        assert_eq!(rows[0].input.first_name, "Zoë");
        assert_eq!(rows[0].input.start, "2021-11-05");

        let cp1252 = b"First Name\tLast Name\tEmail\tBuilding\tFloor\tUnit\tStart Date\nZo\xEB\tM\xFCller\tz@x.test\tA\t1\t101\t2026-01-01\n";
        let (info, rows) = read_all(cp1252);
        assert_eq!(info.delimiter, "tab");
        assert_eq!(info.encoding, "windows-1252");
        assert_eq!(rows[0].input.first_name, "Zoë");
        assert_eq!(rows[0].input.last_name, "Müller");
    }

    #[test]
    fn bad_rows_are_row_problems() {
        let big = "x".repeat(MAX_CELL_BYTES + 1);
        let text = format!(
            "{API}Ava,Smith\nBo,Lee,bo@x.test,,A,1,101,2026-01-01,,surprise\nCy,{big},cy@x.test,,A,1,101,2026-01-01,\nDi,N\0l,d@x.test,,A,1,101,2/30/2021,\nEd,'=HYPERLINK(\"x\"),e@x.test,'+1 555,A,1,101,2026-01-01,,\n"
        );
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(text.as_bytes());
        let (_, rows) = read_all(&bytes);
        assert_eq!(rows.len(), 5);
        assert!(rows[0].problems[0].message.contains("2 cell(s) but the header has 9"), "{:?}", rows[0].problems);
        assert_eq!(rows[1].problems[0].column, "column 10");
        assert_eq!(rows[2].problems[0].field, "LastName");
        assert!(rows[2].problems[0].message.contains("longer than 4096"));
        assert!(rows[2].problems[0].value.len() < 300);
        let msgs: Vec<&str> = rows[3].problems.iter().map(|p| p.message.as_str()).collect();
        assert!(msgs[0].contains("NUL"), "{msgs:?}");
        assert!(msgs[1].contains("not a calendar date"), "{msgs:?}");
        assert_eq!(rows[3].problems[1].column, "ActivationDateUTC");
        // Formula text is kept as typed; the Excel-safe apostrophe is removed.
        assert_eq!(rows[4].input.last_name, "=HYPERLINK(\"x\")");
        assert_eq!(rows[4].input.phone.as_deref(), Some("+1 555"));
        assert!(rows[4].problems.is_empty());
    }

    #[test]
    fn file_level_errors() {
        assert!(RowReader::new(&b""[..]).is_err());
        assert!(RowReader::new(&b"\xFF\xFEF\0i\0"[..]).err().unwrap().message.contains("UTF-16"));
        let e = RowReader::new(&b"Name,Age\nx,1\n"[..]).err().unwrap();
        assert!(e.message.contains("missing column"), "{e}");
        // A file without line breaks is refused once a record passes the limit.
        let endless = vec![b'a'; (MAX_RECORD_BYTES as usize) * 2];
        let mut header = API.as_bytes().to_vec();
        header.extend_from_slice(&endless);
        let mut r = RowReader::new(&header[..]).unwrap();
        let err = r.next_row().unwrap_err();
        assert!(err.message.contains("longer than"), "{err}");
        assert_eq!(err.code, FileCode::RowTooLong { kib: MAX_RECORD_BYTES / 1024 });
        assert_eq!(RowReader::new(&b""[..]).err().unwrap().code, FileCode::Empty);
    }
}
