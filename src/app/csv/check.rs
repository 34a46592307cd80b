//! The row checker of an import: reads the file and checks each row against every rule of a
//! single add (on the database its connection shows: the writer's transaction, or a read-only
//! snapshot on the checker thread) plus the in-file checks (the same email twice, overlapping
//! stays in one unit) and the row's `Site` cell, and hands the outcomes to the writer.

use super::import::ImportProgress;
use crate::app::residents::{create_entries, validate_new, CreateEntries, FieldProblem};
use crate::csvio::import::{FileError, FileInfo, RowProblem, RowReader};
use crate::csvio::problems::RowCode;
use crate::store::{self, sites::Site};
use chrono::{DateTime, Utc};
use residentdesk_domain::rules::{self, Interval};
use residentdesk_domain::ResidentField;
use std::collections::HashMap;
use std::io::Read;

/// A stay within the file, for the in-file occupancy check.
struct Stay {
    row: u64,
    interval: Interval,
}

/// The in-file state of an import: emails seen and stays per unit, keyed by a 64-bit hash
/// of the normalised email / of Building, Floor and Unit, so memory stays small (about 60
/// bytes a row) for the largest files (a collision among 200,000 rows has odds near 1e-9).
#[derive(Default)]
struct InFile {
    emails: HashMap<u64, u64>,
    stays: HashMap<u64, Vec<Stay>>,
}

fn key_of(parts: &[&str]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// What the row checker tells the writer.
pub(super) enum Checked {
    /// The header row as written (first, when cells are kept).
    Header(Vec<String>),
    /// One data row: its problems, or (when writes are prepared) what to insert; the row's
    /// cells as written when it has problems and cells are kept (for the problems file).
    Row {
        problems: Vec<RowProblem>,
        valid: Option<ValidRow>,
        cells: Option<Vec<String>>,
    },
    Progress(ImportProgress),
    /// The file cannot be read (further): a summary for the report and the problem to list.
    FileProblem {
        summary: String,
        code: crate::csvio::problems::FileCode,
        problem: RowProblem,
    },
    /// The file was read to its end (or to its first unreadable part).
    End(FileInfo),
}

/// A valid row, ready for `residents::insert_resident_with`.
pub(super) struct ValidRow {
    pub(super) email: String,
    pub(super) fields: store::residents::ResidentFields,
    pub(super) entries: CreateEntries,
}

/// Reads and checks the rows of an import: every rule of a single add (against the
/// database `conn` shows) plus the in-file checks and the row's `Site` cell.
#[derive(Clone, Copy)]
pub(super) struct RowCheck<'a> {
    pub(super) site: &'a Site,
    pub(super) tz: chrono_tz::Tz,
    pub(super) now: DateTime<Utc>,
    /// Serialise each valid row's wire fields here (off the writer's thread).
    pub(super) prepare_writes: bool,
    /// Hand over the header and the cells of rows with problems (for the problems file).
    pub(super) keep_cells: bool,
}

impl RowCheck<'_> {
    /// Reads `input` to its end, handing each outcome to `emit` (which returns false to
    /// stop early).
    pub(super) fn run<R: Read>(self, input: R, conn: &rusqlite::Connection, emit: &mut dyn FnMut(Checked) -> bool) {
        let file_problem = |e: FileError| Checked::FileProblem {
            summary: e.to_string(),
            code: e.code.clone(),
            problem: RowProblem {
                row: e.row,
                column: String::new(),
                field: "file".into(),
                value: String::new(),
                message: e.message,
                rule: None,
                code: Some(RowCode::File { file: e.code }),
            },
        };
        let mut reader = match RowReader::for_site(input, self.tz) {
            Ok(r) => r,
            Err(e) => {
                emit(file_problem(e));
                return;
            }
        };
        if self.keep_cells && !emit(Checked::Header(reader.info().headers.clone())) {
            return;
        }
        let site = self.site;
        let mut in_file = InFile::default();
        let mut rows = 0u64;
        loop {
            let row = match reader.next_row() {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(e) => {
                    if !emit(file_problem(e)) {
                        return;
                    }
                    break;
                }
            };
            rows += 1;
            if rows.is_multiple_of(1000)
                && !emit(Checked::Progress(ImportProgress { rows, bytes: reader.bytes_read() }))
            {
                return;
            }
            let mut problems = row.problems;
            if let Some(named) = &row.site {
                if !site_matches(site, named) {
                    problems.push(RowProblem::coded(
                        row.row,
                        reader.column_name("Site"),
                        "Site",
                        named.clone(),
                        RowCode::OtherSite { named: named.clone(), site: site.name.clone() },
                    ));
                }
            }
            // Rows that could not even be read (ragged, oversized) are not checked further.
            let readable = !problems.iter().any(|p| p.field == "row");
            let mut in_file_email = false;
            let mut in_file_unit = false;
            if readable {
                let (email_dup, overlap) = in_file.check(&row.input, row.row, self.tz, self.now);
                if let Some(code) = email_dup {
                    in_file_email = true;
                    let (column, value) = (reader.column_name("Email"), reader.cell("Email"));
                    problems.push(RowProblem::coded(row.row, column, "Email", value, code));
                }
                if let Some(code) = overlap {
                    in_file_unit = true;
                    let (column, value) = (reader.column_name("Unit"), reader.cell("Unit"));
                    problems.push(RowProblem::coded(row.row, column, "Unit", value, code));
                }
            }
            // Fields the reader already found wrong (bad Excel date, NUL, oversized cell) are
            // not reported a second time as "required".
            let already: Vec<String> = problems.iter().map(|p| p.field.clone()).collect();
            let validated = if readable { Some(validate_new(conn, site, &row.input, self.now)) } else { None };
            let fields = match validated {
                Some(Ok(ok)) => Some(ok),
                Some(Err(rule_problems)) => {
                    for p in rule_problems {
                        // The in-file message replaces what the database check says about
                        // rows of this same file (identical in dry run and commit).
                        let field = p.field.resident();
                        if (in_file_email && field == Some(ResidentField::Email))
                            || (in_file_unit && field == Some(ResidentField::Unit))
                        {
                            continue;
                        }
                        if already.iter().any(|f| f == p.field.as_str()) {
                            continue;
                        }
                        problems.push(row_problem(&reader, row.row, p));
                    }
                    None
                }
                None => None,
            };
            let valid = match fields {
                Some((email, fields)) if problems.is_empty() && self.prepare_writes => {
                    let entries = create_entries(&email, &fields);
                    Some(ValidRow { email, fields, entries })
                }
                _ => None,
            };
            let cells = (self.keep_cells && !problems.is_empty()).then(|| reader.cells());
            if !emit(Checked::Row { problems, valid, cells }) {
                return;
            }
        }
        if emit(Checked::Progress(ImportProgress { rows, bytes: reader.bytes_read() })) {
            emit(Checked::End(reader.info().clone()));
        }
    }
}

fn site_matches(site: &Site, named: &str) -> bool {
    let named = named.trim();
    site.name.eq_ignore_ascii_case(named)
        || site.remote_id.as_deref() == Some(named)
        || named.parse::<i64>().is_ok_and(|id| id == site.id)
}

fn row_problem<R: Read>(reader: &RowReader<R>, row: u64, p: FieldProblem) -> RowProblem {
    let field = p.field.as_str();
    RowProblem {
        row,
        column: reader.column_name(field),
        field: field.to_string(),
        value: reader.cell(field),
        message: p.message,
        rule: p.rule,
        code: None,
    }
}

impl InFile {
    /// Records the row and returns the in-file problems: the email already on an earlier
    /// row, and an overlapping stay in the same unit on an earlier row.
    fn check(
        &mut self,
        input: &crate::app::ResidentInput,
        row: u64,
        tz: chrono_tz::Tz,
        now: DateTime<Utc>,
    ) -> (Option<RowCode>, Option<RowCode>) {
        let email = rules::normalize_email(&input.email).ok();
        let mut email_dup = None;
        if let Some(email) = &email {
            match self.emails.entry(key_of(&[email])) {
                std::collections::hash_map::Entry::Occupied(first) => {
                    email_dup = Some(RowCode::EmailTwice { email: email.clone(), row: *first.get() });
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(row);
                }
            }
        }
        let date = |text: &str| residentdesk_domain::dates::parse_user_datetime("date", text, tz).ok();
        let start = date(&input.start);
        let end = match input.end.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            None => Some(None),
            Some(e) => date(e).map(Some),
        };
        let (Some(start), Some(end)) = (start, end) else { return (email_dup, None) };
        let Ok(interval) = Interval::new(start, end) else { return (email_dup, None) };
        // A stay that is over (or empty) does not occupy the unit: the occupancy rule's own
        // definition, so the in-file check and `rules::check_occupancy` never disagree.
        if interval.ended_by(now) {
            return (email_dup, None);
        }
        let (building, floor, unit) = (input.building.trim(), input.floor.trim(), input.unit.trim());
        if building.is_empty() || floor.is_empty() || unit.is_empty() {
            return (email_dup, None);
        }
        let stays = self.stays.entry(key_of(&[building, floor, unit])).or_default();
        let overlap = stays.iter().find(|s| s.interval.overlaps(&interval)).map(|s| RowCode::UnitTwice {
            building: building.into(),
            floor: floor.into(),
            unit: unit.into(),
            row: s.row,
        });
        if overlap.is_none() {
            stays.push(Stay { row, interval });
        }
        (email_dup, overlap)
    }
}
