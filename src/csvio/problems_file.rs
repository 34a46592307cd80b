//! The problems file of an import: the person's own rows that have problems, every column
//! as written in their file, plus one `Problem` column saying what is wrong, ready to be
//! fixed in a spreadsheet and imported again (the importer ignores the extra column).
//!
//! Written for spreadsheets: UTF-8 with a byte-order mark, CRLF line ends, and the same
//! Excel-safe guard as exports (an apostrophe before a cell a spreadsheet would read as a
//! formula; the importer removes it again from files with a byte-order mark).

use super::export::needs_prefix;
use std::io::{self, Write};

/// The header of the added column.
pub const PROBLEM_COLUMN: &str = "Problem";

/// Streams the rows with problems of one import.
pub struct ProblemsWriter<W: Write> {
    wtr: csv::Writer<W>,
    /// Columns of the header (a row's cells are padded to it, so the problem column lines up).
    width: usize,
    rows: u64,
    scratch: Vec<u8>,
}

impl<W: Write> ProblemsWriter<W> {
    /// Starts the file with the header as written in the imported file, then `problem_column`.
    pub fn new(mut out: W, headers: &[String], problem_column: &str) -> io::Result<ProblemsWriter<W>> {
        out.write_all(b"\xEF\xBB\xBF")?;
        let mut b = super::writer_builder(true);
        b.flexible(true);
        let mut w = ProblemsWriter { wtr: b.from_writer(out), width: headers.len(), rows: 0, scratch: Vec::new() };
        w.record(headers.iter().map(String::as_str), problem_column, &[])?;
        w.rows = 0;
        Ok(w)
    }

    /// One row: its cells as written (padded to the header's width; cells beyond it follow
    /// the problem column) and what is wrong with it.
    pub fn write(&mut self, cells: &[String], problem: &str) -> io::Result<()> {
        let padded = (0..self.width).map(|i| cells.get(i).map_or("", String::as_str));
        let beyond = cells.get(self.width..).unwrap_or_default();
        self.record(padded, problem, beyond)?;
        self.rows += 1;
        Ok(())
    }

    fn record<'a>(&mut self, cells: impl Iterator<Item = &'a str>, problem: &str, beyond: &[String]) -> io::Result<()> {
        for cell in cells {
            self.field(cell)?;
        }
        self.field(problem)?;
        for cell in beyond {
            self.field(cell)?;
        }
        self.wtr.write_record(None::<&[u8]>)?;
        Ok(())
    }

    fn field(&mut self, cell: &str) -> io::Result<()> {
        if needs_prefix(cell.as_bytes()) {
            self.scratch.clear();
            self.scratch.push(b'\'');
            self.scratch.extend_from_slice(cell.as_bytes());
            self.wtr.write_field(&self.scratch)?;
        } else {
            self.wtr.write_field(cell)?;
        }
        Ok(())
    }

    /// Rows written (the header not counted).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and hands the writer back.
    pub fn finish(self) -> io::Result<W> {
        self.wtr.into_inner().map_err(|e| io::Error::new(e.error().kind(), e.error().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_as_written_plus_the_problem_column() {
        let headers: Vec<String> = ["First Name", "Email", "Pets"].iter().map(|s| s.to_string()).collect();
        let mut w = ProblemsWriter::new(Vec::new(), &headers, PROBLEM_COLUMN).unwrap();
        w.write(&["Ava".into(), "not-an-email".into(), "cat".into()], "Email is not valid").unwrap();
        w.write(&["=cmd".into()], "row cut").unwrap();
        w.write(&["Bo".into(), "bo@x.test".into(), "".into(), "extra".into()], "too many cells").unwrap();
        assert_eq!(w.rows(), 3);
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "\u{feff}First Name,Email,Pets,Problem\r\nAva,not-an-email,cat,Email is not valid\r\n'=cmd,,,row cut\r\nBo,bo@x.test,,too many cells,extra\r\n"
        );
    }
}
