//! The import template: the header an import reads (the core's column vocabulary, in either
//! dialect) and one example row, for a person to fill in a spreadsheet.

use super::{Columns, Field};
use std::io::{self, Write};

/// The columns of the template, in order: every field a person types for a resident.
pub const TEMPLATE_FIELDS: [Field; 9] = [
    Field::FirstName,
    Field::LastName,
    Field::Email,
    Field::Phone,
    Field::Building,
    Field::Floor,
    Field::Unit,
    Field::Start,
    Field::End,
];

/// The example row (a made-up resident; the end date may stay empty).
const EXAMPLE: [&str; 9] = ["Ava", "Smith", "ava.smith@example.com", "555-0100", "A", "1", "101", "2027-01-15", ""];

/// Writes the template in `columns`' names. Dates are the site's calendar days (the API
/// dialect names them `ActivationDate`, not the UTC-named columns).
pub fn write_template<W: Write>(out: W, columns: Columns) -> io::Result<W> {
    let mut wtr = super::writer_builder(true).from_writer(out);
    wtr.write_record(TEMPLATE_FIELDS.iter().map(|f| columns.header(*f, true)))?;
    wtr.write_record(EXAMPLE)?;
    wtr.into_inner().map_err(|e| io::Error::new(e.error().kind(), e.error().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csvio::import::RowReader;

    /// The template reads back as one problem-free row (the importer's own vocabulary).
    #[test]
    fn template_reads_back_in_both_dialects() {
        for columns in [Columns::Api, Columns::SiteManager] {
            let bytes = write_template(Vec::new(), columns).unwrap();
            let mut r = RowReader::new(&bytes[..]).unwrap();
            assert_eq!(r.info().header_dialect, columns);
            assert!(r.info().ignored_columns.is_empty());
            let row = r.next_row().unwrap().unwrap();
            assert!(row.problems.is_empty(), "{:?}", row.problems);
            assert_eq!(row.input.email, "ava.smith@example.com");
            assert_eq!(row.input.start, "2027-01-15");
            assert!(r.next_row().unwrap().is_none());
        }
        let text = String::from_utf8(write_template(Vec::new(), Columns::SiteManager).unwrap()).unwrap();
        assert!(
            text.starts_with("First Name,Last Name,Email,Phone Number,Building,Floor,Unit,Access Start,Access End\r\n")
        );
    }
}
