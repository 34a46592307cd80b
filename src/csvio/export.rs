//! Writing resident rows as CSV: streaming, constant memory, fast.
//!
//! The hot path writes byte fields straight from SQLite's row buffers into the csv
//! writer's buffer; dates are converted by string work ([`super::dates::push_wire_utc`]);
//! one scratch buffer is reused for every row. Excel-safe mode writes a UTF-8 BOM, ends
//! lines with CRLF and puts an apostrophe before any cell starting with `= + - @`, tab or
//! CR, so a spreadsheet shows it as text instead of running it as a formula (and before a
//! cell already starting with an apostrophe, so the importer can undo it losslessly).
//!
//! [`write_audit_csv`] writes the audit log's CSV with the same configuration and guard.

use super::{dates, Columns, Field};
use crate::store::export::RawResident;
use chrono_tz::Tz;
use residentdesk_domain::dates::format_wire_local;
use residentdesk_domain::StatusFlags;
use std::io::{self, Write};

/// Options of one export's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub columns: Columns,
    /// Excel-safe: BOM, CRLF, formula neutralisation.
    pub excel: bool,
    /// Dates as site-local wall-clock time (no offset) instead of UTC.
    pub local_dates: bool,
    /// Add a `Site` column (exports over several sites).
    pub with_site: bool,
}

/// True when a spreadsheet would read the cell as a formula.
pub fn is_formula_like(cell: &[u8]) -> bool {
    matches!(cell.first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'))
}

/// True when Excel-safe output prefixes the cell with an apostrophe: formula-like cells,
/// and cells that already start with one (so the importer's removal of one apostrophe
/// gives back exactly what was stored).
pub fn needs_prefix(cell: &[u8]) -> bool {
    is_formula_like(cell) || cell.first() == Some(&b'\'')
}

/// Streams resident rows to a writer.
pub struct RowWriter<W: Write> {
    wtr: csv::Writer<W>,
    layout: Layout,
    scratch: Vec<u8>,
    rows: u64,
}

impl<W: Write> RowWriter<W> {
    /// Writes the BOM (Excel-safe) and the header row.
    pub fn new(mut out: W, layout: Layout) -> io::Result<RowWriter<W>> {
        if layout.excel {
            out.write_all(super::dialect::UTF8_BOM)?;
        }
        let mut wtr = super::writer_builder(layout.excel).from_writer(out);
        for field in Field::EXPORTED {
            wtr.write_field(layout.columns.header(field, layout.local_dates))?;
        }
        if layout.with_site {
            wtr.write_field(layout.columns.header(Field::Site, false))?;
        }
        wtr.write_record(None::<&[u8]>)?;
        Ok(RowWriter { wtr, layout, scratch: Vec::with_capacity(64), rows: 0 })
    }

    fn cell(&mut self, value: &[u8]) -> io::Result<()> {
        if self.layout.excel && needs_prefix(value) {
            self.scratch.clear();
            self.scratch.push(b'\'');
            self.scratch.extend_from_slice(value);
            self.wtr.write_field(&self.scratch)?;
        } else {
            self.wtr.write_field(value)?;
        }
        Ok(())
    }

    fn date(&mut self, stored: &str, tz: Tz) -> io::Result<()> {
        self.scratch.clear();
        if self.layout.local_dates {
            match dates::parse_stored(stored) {
                Some(dt) => self.scratch.extend_from_slice(format_wire_local(dt, tz).as_bytes()),
                None => self.scratch.extend_from_slice(stored.as_bytes()),
            }
        } else {
            dates::push_wire_utc(stored, &mut self.scratch);
        }
        self.wtr.write_field(&self.scratch)?;
        Ok(())
    }

    /// Writes one resident. `tz` is the site's zone (for local dates), `site` its name
    /// (for the `Site` column).
    pub fn write(&mut self, r: &RawResident<'_>, flags: StatusFlags, tz: Tz, site: &str) -> io::Result<()> {
        self.cell(r.first_name.as_bytes())?;
        self.cell(r.last_name.as_bytes())?;
        self.cell(r.email.as_bytes())?;
        self.cell(r.phone.as_bytes())?;
        self.cell(r.building.as_bytes())?;
        self.cell(r.floor.as_bytes())?;
        self.cell(r.unit.as_bytes())?;
        self.date(r.activation, tz)?;
        match r.deactivation {
            Some(d) => self.date(d, tz)?,
            None => self.wtr.write_field(b"")?,
        }
        self.scratch.clear();
        for (i, flag) in flags.iter().enumerate() {
            if i > 0 {
                self.scratch.push(b'+');
            }
            self.scratch.extend_from_slice(flag.as_str().as_bytes());
        }
        self.wtr.write_field(&self.scratch)?;
        self.cell(r.remote_id.unwrap_or("").as_bytes())?;
        if self.layout.with_site {
            self.cell(site.as_bytes())?;
        }
        self.wtr.write_record(None::<&[u8]>)?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> io::Result<W> {
        self.wtr.into_inner().map_err(|e| io::Error::new(e.error().kind(), e.error().to_string()))
    }
}

/// The columns of the audit log's CSV export, in order.
pub const AUDIT_HEADER: [&str; 9] =
    ["id", "at", "actor", "action", "outcome", "team_id", "site_id", "target", "details"];

/// Writes a CSV of audit rows (`header`, then one record per row) with the one writer
/// configuration ([`super::writer_builder`], `\n` line ends, quotes only where needed) and
/// the same Excel-safe guard as resident exports ([`needs_prefix`]: an apostrophe before a
/// cell starting with `= + - @`, tab, CR or `'`). Audit cells hold what people and remotes
/// typed (names, emails, reasons, JSON details), so they are always guarded: an audit file
/// is meant to be opened in a spreadsheet.
pub fn write_audit_csv<W, I, R, C>(out: W, header: &[&str], rows: I) -> io::Result<W>
where
    W: Write,
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = C>,
    C: AsRef<[u8]>,
{
    let mut wtr = super::writer_builder(false).from_writer(out);
    wtr.write_record(header)?;
    let mut scratch = Vec::with_capacity(64);
    for row in rows {
        for cell in row {
            let cell = cell.as_ref();
            if needs_prefix(cell) {
                scratch.clear();
                scratch.push(b'\'');
                scratch.extend_from_slice(cell);
                wtr.write_field(&scratch)?;
            } else {
                wtr.write_field(cell)?;
            }
        }
        wtr.write_record(None::<&[u8]>)?;
    }
    wtr.into_inner().map_err(|e| io::Error::new(e.error().kind(), e.error().to_string()))
}

/// [`write_audit_csv`] into a `String` (what `App::audit_export_csv` returns).
pub fn audit_csv<I, R, C>(header: &[&str], rows: I) -> io::Result<String>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = C>,
    C: AsRef<[u8]>,
{
    let bytes = write_audit_csv(Vec::new(), header, rows)?;
    // Every cell came in as bytes of UTF-8 text (or is reported here if not).
    String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use residentdesk_domain::StatusFlag;

    fn raw<'a>(first: &'a str, last: &'a str, phone: &'a str) -> RawResident<'a> {
        RawResident {
            id: 1,
            remote_id: Some("r-1"),
            first_name: first,
            last_name: last,
            email: "a@x.test",
            phone,
            building: "A",
            floor: "1",
            unit: "101",
            activation: "2021-11-05T21:10:22.844348Z",
            deactivation: None,
            onboarded_at: None,
            suspended: false,
        }
    }

    fn flags() -> StatusFlags {
        StatusFlags::empty().with(StatusFlag::Current).with(StatusFlag::Pending)
    }

    #[test]
    fn plain_export_quotes_only_where_needed() {
        let layout = Layout { columns: Columns::Api, excel: false, local_dates: false, with_site: false };
        let mut w = RowWriter::new(Vec::new(), layout).unwrap();
        w.write(&raw("Ava", "O\"Neil, Jr", "+1 555"), flags(), chrono_tz::UTC, "").unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "FirstName,LastName,Email,PhoneNumber,Building,Floor,Unit,ActivationDateUTC,DeactivationDateUTC,Status,ResidentId\n\
             Ava,\"O\"\"Neil, Jr\",a@x.test,+1 555,A,1,101,2021-11-05T21:10:22.844348+00:00,,current+pending,r-1\n"
        );
    }

    /// Corner case 7: audit rows get the shared writer and the full Excel-safe guard (also
    /// tab, CR and a leading apostrophe, which the hand-written escaping let through), and
    /// read back with the shared reader exactly as written (minus the one apostrophe).
    #[test]
    fn audit_csv_is_quoted_guarded_and_reads_back() {
        let rows = [
            ["1", "2026-11-23T15:00:00.000000Z", "ann@x.test", "resident.add", "ok", "1", "", "a@x.test", "{}"],
            ["2", "t", "=cmd|' /C calc'!A0", "+x", "-1", "@SUM(A1)", "\tTAB", "'quoted", "{\"a\":\"b,c\"}"],
            ["3", "t", "\rCR", "line\nbreak", "say \"hi\"", "", "", "", ""],
        ];
        let text = audit_csv(&AUDIT_HEADER, rows.iter().map(|r| r.iter())).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("id,at,actor,action,outcome,team_id,site_id,target,details"));
        assert_eq!(lines.next(), Some("1,2026-11-23T15:00:00.000000Z,ann@x.test,resident.add,ok,1,,a@x.test,{}"));
        let mut reader = crate::csvio::reader_builder(b',').from_reader(text.as_bytes());
        let back: Vec<Vec<String>> =
            reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
        assert_eq!(back.len(), 4);
        for (row, read) in rows.iter().zip(&back[1..]) {
            for (cell, got) in row.iter().zip(read) {
                let expected = if needs_prefix(cell.as_bytes()) { format!("'{cell}") } else { cell.to_string() };
                assert_eq!(got, &expected);
            }
        }
        assert!(back[2][6].starts_with("'\t") && back[2][7] == "''quoted" && back[3][2].starts_with("'\r"));
    }

    #[test]
    fn excel_safe_export_neutralises_formulas() {
        let layout = Layout { columns: Columns::SiteManager, excel: true, local_dates: true, with_site: true };
        let tz: Tz = "America/Los_Angeles".parse().unwrap();
        let mut w = RowWriter::new(Vec::new(), layout).unwrap();
        w.write(&raw("=HYPERLINK(\"http://x\")", "@SUM(A1)", "+1 555"), flags(), tz, "-Site").unwrap();
        let bytes = w.finish().unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBFFirst Name,Last Name,Email,Phone Number,"));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0].split(',').nth(7), Some("Access Start"));
        assert_eq!(
            lines[1],
            "\"'=HYPERLINK(\"\"http://x\"\")\",'@SUM(A1),a@x.test,'+1 555,A,1,101,2021-11-05T14:10:22,,current+pending,r-1,'-Site"
        );
        assert_eq!(lines[2], "");
    }
}
