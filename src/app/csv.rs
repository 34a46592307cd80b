//! CSV use cases: export any resident list the person may see, and import resident lists
//! with a full per-row report.
//!
//! Export: the sites are those of the request within the person's scope (one site, or every
//! site they see in the active team), each authorised for managing residents; rows stream
//! from SQLite to the writer (constant memory); the export is audited (who, which sites,
//! how many rows).
//!
//! Import: one immediate transaction. Each row is read ([`crate::csvio::import`]), checked
//! with the same validation as a single add ([`validate_new`]), plus the in-file checks
//! (the same email twice in the file, overlapping stays in one unit within the file) and
//! the row's `Site` cell. Valid rows go through the same insert as a single add
//! ([`insert_resident`]: one outbox `create` entry and one audit entry each), so sync sends
//! them like any other add. A dry run writes nothing; otherwise all-or-nothing, or only the
//! valid rows on request. Dry run and commit report the same problems.
//!
//! On a database file, a committing import reads and checks its rows on a second thread
//! ([`RowCheck`], against a read-only snapshot of the database as the transaction found it)
//! while the use case's thread writes the valid ones, so a large file costs about the
//! slower of the two halves.

use super::gate::At;
use super::residents::{
    create_entries, insert_resident_with, site_tz, validate_new, CreateEntries, FieldProblem, ResidentFilter,
};
use super::usecases as uc;
use super::{App, Session};
use crate::csvio::export::{Layout, RowWriter};
use crate::csvio::import::{FileInfo, RowProblem, RowReader};
use crate::csvio::{Columns, MAX_LISTED_PROBLEMS};
use crate::error::{AppError, AppResult};
use crate::store::{self, residents::Resident, sites::Site};
use chrono::{DateTime, Utc};
use residentdesk_domain::rules::{self, Interval};
use residentdesk_domain::status::{derive_flags, Lifecycle};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::io::{Read, Write};

/// What to export.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportRequest {
    /// One site (id, remote id or name); `None`: every site the person sees in the active team.
    #[serde(default)]
    pub site: Option<String>,
    /// Status, building and search filters (`limit` is ignored).
    #[serde(default)]
    pub filter: ResidentFilter,
    #[serde(default)]
    pub columns: Columns,
    /// Excel-safe output: UTF-8 BOM, CRLF, formula-like cells neutralised.
    #[serde(default)]
    pub excel: bool,
    /// Dates as site-local wall-clock time instead of ISO 8601 UTC.
    #[serde(default)]
    pub local_dates: bool,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportSummary {
    pub sites: Vec<String>,
    pub rows: u64,
    pub columns: Columns,
    pub excel: bool,
    pub local_dates: bool,
}

/// How to import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportOptions {
    /// Check everything, write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Import the valid rows even when others have problems (default: all or nothing).
    #[serde(default)]
    pub valid_only: bool,
}

/// Progress of a long import: rows and bytes of the file read so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportProgress {
    pub rows: u64,
    pub bytes: u64,
}

/// The outcome of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Dry run: nothing was written.
    DryRun,
    /// Every row was imported.
    Imported,
    /// The valid rows were imported, the others were not (`valid_only`).
    PartiallyImported,
    /// Nothing was imported: some rows (or the file) have problems.
    Rejected,
}

/// The report of an import (dry run or not), shaped for a table of problems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    pub site: String,
    pub status: ImportStatus,
    pub options: ImportOptions,
    /// Absent when the file could not be read as a resident CSV at all.
    pub file: Option<FileInfo>,
    /// Data rows read (blank rows not counted).
    pub rows: u64,
    pub valid_rows: u64,
    pub invalid_rows: u64,
    /// Residents written (0 for dry runs and rejected imports).
    pub imported: u64,
    /// Every problem (up to [`MAX_LISTED_PROBLEMS`]), by row.
    pub problems: Vec<RowProblem>,
    /// Problems found but not listed (beyond the limit).
    pub unlisted_problems: u64,
    /// A problem with the whole file (unreadable, missing columns, too large), if any.
    pub file_error: Option<String>,
}

impl ImportReport {
    /// One sentence for people.
    pub fn summary(&self) -> String {
        let base = format!("{} row(s): {} valid, {} with problems", self.rows, self.valid_rows, self.invalid_rows);
        match self.status {
            ImportStatus::DryRun => format!("dry run for {}: {base}; nothing was written", self.site),
            ImportStatus::Imported => format!("imported {} resident(s) into {}", self.imported, self.site),
            ImportStatus::PartiallyImported => {
                format!("imported {} valid resident(s) into {}; {base}", self.imported, self.site)
            }
            ImportStatus::Rejected => match &self.file_error {
                Some(e) => format!("nothing was imported into {}: {e}", self.site),
                None => {
                    format!("nothing was imported into {}: {base} (fix them, or import with valid-only)", self.site)
                }
            },
        }
    }
}

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

impl App {
    /// Exports residents to `out` as CSV (streaming) and audits the export.
    pub fn export_residents(
        &mut self,
        session: &Session,
        request: &ExportRequest,
        out: &mut dyn Write,
    ) -> AppResult<ExportSummary> {
        let at = match request.site.as_deref() {
            Some(site) => At::Site(site),
            None => At::Team,
        };
        let rd = self.read(session, &uc::EXPORT, at)?;
        let now = rd.ctx.now;
        let sites: Vec<Site> = match &rd.ctx.site {
            Some(site) => vec![site.clone()],
            None => {
                let sites = rd.ctx.sites_allowed(&rd)?;
                if sites.is_empty() {
                    return Err(AppError::not_found(format!("you see no site in team {}", rd.ctx.team.name)));
                }
                sites
            }
        };
        let layout = Layout {
            columns: request.columns,
            excel: request.excel,
            local_dates: request.local_dates,
            with_site: request.site.is_none(),
        };
        let result = write_rows(&rd, &sites, &request.filter, layout, now, out);
        drop(rd);
        let names: Vec<String> = sites.iter().map(|s| s.name.clone()).collect();
        let (outcome, rows, error) = match &result {
            Ok(rows) => ("ok", *rows, None),
            Err((rows, e)) => ("failed", *rows, Some(e.message.clone())),
        };
        // The audit entry has a (short) write transaction of its own: the rows were streamed
        // outside any write transaction, so a long export never holds the writer's lock.
        let tx = self.write(session, &uc::EXPORT, at)?;
        let site_id = (sites.len() == 1).then(|| sites[0].id);
        let target = if request.site.is_some() { names[0].clone() } else { format!("{} site(s)", names.len()) };
        tx.audit()
            .outcome(outcome)
            .site(site_id)
            .target(target)
            .details(json!({
                "sites": names,
                "rows": rows,
                "columns": request.columns,
                "excel": request.excel,
                "local_dates": request.local_dates,
                "filter": request.filter,
                "error": error,
            }))
            .write()?;
        tx.commit()?;
        result.map_err(|(_, e)| e)?;
        Ok(ExportSummary {
            sites: names,
            rows,
            columns: request.columns,
            excel: request.excel,
            local_dates: request.local_dates,
        })
    }

    /// Checks a CSV file against every rule and reports every problem; writes nothing.
    pub fn import_preview(&mut self, session: &Session, site: &str, bytes: &[u8]) -> AppResult<ImportReport> {
        self.import_residents(session, site, bytes, ImportOptions { dry_run: true, valid_only: false }, &mut |_| {})
    }

    /// Imports a CSV file: all rows or none, or only the valid rows with `valid_only`.
    pub fn import_commit(
        &mut self,
        session: &Session,
        site: &str,
        bytes: &[u8],
        valid_only: bool,
    ) -> AppResult<ImportReport> {
        self.import_residents(session, site, bytes, ImportOptions { dry_run: false, valid_only }, &mut |_| {})
    }

    /// Imports (or dry-runs) a CSV stream into a site, calling `progress` every 1,000 rows.
    /// Errors are for the whole request (site not found, permission denied, database);
    /// problems with the file or its rows are in the report.
    pub fn import_residents(
        &mut self,
        session: &Session,
        site: &str,
        input: impl Read + Send,
        options: ImportOptions,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> AppResult<ImportReport> {
        // A committing import into a database file may write tens of megabytes: its commit
        // does not also copy them back from the WAL; a background thread does, afterwards.
        let db_file = store::file_path(self.conn()).filter(|_| !options.dry_run);
        if db_file.is_some() {
            store::set_auto_checkpoint(self.conn(), 0)?;
        }
        let report = self.import_residents_in_one_transaction(session, site, input, options, db_file.clone(), progress);
        if let Some(path) = db_file {
            store::set_auto_checkpoint(self.conn(), store::WAL_AUTOCHECKPOINT_PAGES)?;
            self.keep_checkpoint(store::checkpoint_in_background(&path));
        }
        report
    }

    /// The import itself; `snapshot`: the database file a committing import checks its rows
    /// against on a second thread (none in memory or in a dry run).
    fn import_residents_in_one_transaction(
        &mut self,
        session: &Session,
        site: &str,
        input: impl Read + Send,
        options: ImportOptions,
        snapshot: Option<std::path::PathBuf>,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> AppResult<ImportReport> {
        // Each row runs about ten distinct statements (checks, insert, outbox, audit); a
        // statement cache smaller than that would re-prepare every one of them on every row.
        self.conn().set_prepared_statement_cache_capacity(64);
        let site_reference = site;
        let tx = self.write(session, &uc::IMPORT, At::Site(site_reference))?;
        let (site, now) = (tx.ctx.site().clone(), tx.ctx.now);
        let fresh = tx.ctx.session.clone();
        let session = &fresh;
        let mut report = ImportReport {
            site: site.name.clone(),
            status: ImportStatus::DryRun,
            options,
            file: None,
            rows: 0,
            valid_rows: 0,
            invalid_rows: 0,
            imported: 0,
            problems: Vec::new(),
            unlisted_problems: 0,
            file_error: None,
        };
        let tz = site_tz(&site);
        let may_write = |report: &ImportReport| !options.dry_run && (options.valid_only || report.invalid_rows == 0);
        let mut absorb = |checked: Checked, report: &mut ImportReport| -> AppResult<()> {
            match checked {
                Checked::Row { problems, valid } => {
                    report.rows += 1;
                    if problems.is_empty() {
                        report.valid_rows += 1;
                        if let Some(valid) = valid {
                            if may_write(report) {
                                insert_resident_with(
                                    &tx,
                                    session,
                                    &site,
                                    &valid.email,
                                    &valid.fields,
                                    valid.entries,
                                    now,
                                    uc::IMPORT.name,
                                )?;
                                report.imported += 1;
                            }
                        }
                    } else {
                        report.invalid_rows += 1;
                        for p in problems {
                            push_problem(report, p);
                        }
                    }
                }
                Checked::Progress(p) => progress(p),
                Checked::FileProblem { summary, problem } => {
                    report.file_error = Some(summary);
                    push_problem(report, problem);
                }
                Checked::End(info) => report.file = Some(info),
            }
            Ok(())
        };
        let check = RowCheck { site: &site, tz, now, prepare_writes: !options.dry_run };
        // Rows are read and checked on a second thread, against a snapshot of the database
        // as it was when this transaction began, while this thread writes the valid ones: on
        // two cores a large import takes about as long as the slower half. The snapshot sees
        // what the checks in a single transaction would see, because rows of this same file
        // are checked by the in-file checks, in both modes. A dry run writes nothing, and an
        // in-memory database has no second connection: both check on this thread.
        match snapshot {
            None => {
                let mut failed = None;
                check.run(input, &tx, &mut |c| match absorb(c, &mut report) {
                    Ok(()) => true,
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                });
                if let Some(e) = failed {
                    return Err(e);
                }
            }
            Some(path) => std::thread::scope(|scope| -> AppResult<()> {
                // Outcomes travel in batches: one channel hand-over per row cost the writer ~9 %.
                const BATCH: usize = 256;
                let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Checked>>(8);
                let checker = scope.spawn(move || -> AppResult<()> {
                    let conn = store::open_snapshot(&path)?;
                    let mut batch = Vec::with_capacity(BATCH);
                    check.run(input, &conn, &mut |c| {
                        batch.push(c);
                        batch.len() < BATCH
                            || send.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_ok()
                    });
                    if !batch.is_empty() {
                        let _ = send.send(batch);
                    }
                    Ok(())
                });
                for checked in receive.iter().flatten() {
                    // On an error `receive` is dropped, so the checker stops at its next batch.
                    absorb(checked, &mut report)?;
                }
                checker.join().map_err(|_| AppError::internal("the import's row checker stopped unexpectedly"))?
            })?,
        }
        let failed = report.invalid_rows > 0 || report.file_error.is_some();
        report.status = if options.dry_run {
            ImportStatus::DryRun
        } else if report.file_error.is_some() || (failed && !options.valid_only) || report.imported == 0 && failed {
            ImportStatus::Rejected
        } else if failed {
            ImportStatus::PartiallyImported
        } else {
            ImportStatus::Imported
        };
        if options.dry_run {
            drop(tx);
            return Ok(report);
        }
        let details = json!({
            "rows": report.rows,
            "valid": report.valid_rows,
            "invalid": report.invalid_rows,
            "imported": report.imported,
            "valid_only": options.valid_only,
            "status": report.status,
            "file_error": report.file_error,
        });
        if report.status == ImportStatus::Rejected {
            report.imported = 0;
            drop(tx);
            let tx = self.write(session, &uc::IMPORT, At::Site(site_reference))?;
            tx.audit().outcome("rejected").details(details).write()?;
            tx.commit()?;
        } else {
            tx.audit().details(details).write()?;
            tx.commit()?;
        }
        Ok(report)
    }
}

/// Streams the residents of `sites` that pass `filter`; returns the rows written, or the
/// rows written before an error and the error.
fn write_rows(
    conn: &rusqlite::Connection,
    sites: &[Site],
    filter: &ResidentFilter,
    layout: Layout,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<u64, (u64, AppError)> {
    let io_err = |e: std::io::Error| AppError::internal(format!("cannot write the export: {e}"));
    let mut writer = RowWriter::new(out, layout).map_err(|e| (0, io_err(e)))?;
    let needs_resident = filter.building.as_deref().is_some_and(|b| !b.is_empty())
        || filter.search.as_deref().is_some_and(|s| !s.trim().is_empty());
    for site in sites {
        let tz = site_tz(site);
        let result = store::export::for_each_raw_in_site(conn, site.id, |r| -> AppResult<()> {
            let (Some(activation), deactivation, onboarded) = (
                crate::csvio::dates::parse_stored(r.activation),
                r.deactivation.and_then(crate::csvio::dates::parse_stored),
                r.onboarded_at.and_then(crate::csvio::dates::parse_stored),
            ) else {
                return Err(AppError::internal(format!("resident #{} has an unreadable activation date", r.id)));
            };
            let life = Lifecycle {
                activation_utc: activation,
                deactivation_utc: deactivation,
                onboarded_at: onboarded,
                suspended: r.suspended,
            };
            let flags = derive_flags(&life, now);
            let passes = if needs_resident {
                filter.matches(&resident_of(r, site.id, life), flags)
            } else {
                filter.statuses.is_empty() || filter.statuses.iter().any(|s| flags.contains(*s))
            };
            if passes {
                writer.write(r, flags, tz, &site.name).map_err(io_err)?;
            }
            Ok(())
        });
        result.map_err(|e| (writer.rows(), e))?;
    }
    let rows = writer.rows();
    writer.finish().map_err(|e| (rows, io_err(e)))?;
    Ok(rows)
}

/// A resident built from a raw row, for the filters that look at names (slow path).
fn resident_of(r: &store::export::RawResident<'_>, site_id: i64, life: Lifecycle) -> Resident {
    Resident {
        id: r.id,
        site_id,
        remote_id: r.remote_id.map(str::to_string),
        first_name: r.first_name.to_string(),
        last_name: r.last_name.to_string(),
        email: r.email.to_string(),
        phone: r.phone.to_string(),
        building: r.building.to_string(),
        floor: r.floor.to_string(),
        unit: r.unit.to_string(),
        activation_utc: life.activation_utc,
        deactivation_utc: life.deactivation_utc,
        onboarded_at: life.onboarded_at,
        suspended: life.suspended,
        invited_at: None,
        ssid: None,
        service_area: None,
        created_at: life.activation_utc,
        updated_at: life.activation_utc,
    }
}

/// What the row checker tells the writer.
enum Checked {
    /// One data row: its problems, or (when writes are prepared) what to insert.
    Row {
        problems: Vec<RowProblem>,
        valid: Option<ValidRow>,
    },
    Progress(ImportProgress),
    /// The file cannot be read (further): a summary for the report and the problem to list.
    FileProblem {
        summary: String,
        problem: RowProblem,
    },
    /// The file was read to its end (or to its first unreadable part).
    End(FileInfo),
}

/// A valid row, ready for [`insert_resident_with`].
struct ValidRow {
    email: String,
    fields: store::residents::ResidentFields,
    entries: CreateEntries,
}

/// Reads and checks the rows of an import: every rule of a single add (against the
/// database `conn` shows) plus the in-file checks and the row's `Site` cell.
#[derive(Clone, Copy)]
struct RowCheck<'a> {
    site: &'a Site,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    /// Serialise each valid row's wire fields here (off the writer's thread).
    prepare_writes: bool,
}

impl RowCheck<'_> {
    /// Reads `input` to its end, handing each outcome to `emit` (which returns false to
    /// stop early).
    fn run<R: Read>(self, input: R, conn: &rusqlite::Connection, emit: &mut dyn FnMut(Checked) -> bool) {
        let file_problem = |row: u64, summary: String, message: String| Checked::FileProblem {
            summary,
            problem: RowProblem { row, column: String::new(), field: "file".into(), value: String::new(), message },
        };
        let mut reader = match RowReader::for_site(input, self.tz) {
            Ok(r) => r,
            Err(e) => {
                emit(file_problem(e.row, e.message.clone(), e.message));
                return;
            }
        };
        let site = self.site;
        let mut in_file = InFile::default();
        let mut rows = 0u64;
        loop {
            let row = match reader.next_row() {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(e) => {
                    if !emit(file_problem(e.row, e.to_string(), e.message)) {
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
                    problems.push(RowProblem {
                        row: row.row,
                        column: reader.column_name("Site"),
                        field: "Site".into(),
                        value: named.clone(),
                        message: format!(
                            "this row is for site {named:?}, but the import is into {:?}; import each site's rows into that site",
                            site.name
                        ),
                    });
                }
            }
            // Rows that could not even be read (ragged, oversized) are not checked further.
            let readable = !problems.iter().any(|p| p.field == "row");
            let mut in_file_email = false;
            let mut in_file_unit = false;
            if readable {
                let (email_dup, overlap) = in_file.check(&row.input, row.row, self.tz, self.now);
                if let Some(message) = email_dup {
                    in_file_email = true;
                    problems.push(RowProblem {
                        row: row.row,
                        column: reader.column_name("Email"),
                        field: "Email".into(),
                        value: reader.cell("Email"),
                        message,
                    });
                }
                if let Some(message) = overlap {
                    in_file_unit = true;
                    problems.push(RowProblem {
                        row: row.row,
                        column: reader.column_name("Unit"),
                        field: "Unit".into(),
                        value: reader.cell("Unit"),
                        message,
                    });
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
                        if (in_file_email && p.field == "Email") || (in_file_unit && p.field == "Unit") {
                            continue;
                        }
                        if already.contains(&p.field) {
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
            if !emit(Checked::Row { problems, valid }) {
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
    let value = reader.cell(&p.field);
    RowProblem { row, column: reader.column_name(&p.field), field: p.field, value, message: p.message }
}

fn push_problem(report: &mut ImportReport, p: RowProblem) {
    if report.problems.len() < MAX_LISTED_PROBLEMS {
        report.problems.push(p);
    } else {
        report.unlisted_problems += 1;
    }
}

impl InFile {
    /// Records the row and returns the in-file problems: the email already on an earlier
    /// row, and an overlapping stay in the same unit on an earlier row.
    fn check(
        &mut self,
        input: &super::ResidentInput,
        row: u64,
        tz: chrono_tz::Tz,
        now: DateTime<Utc>,
    ) -> (Option<String>, Option<String>) {
        let email = rules::normalize_email(&input.email).ok();
        let mut email_dup = None;
        if let Some(email) = &email {
            match self.emails.entry(key_of(&[email])) {
                std::collections::hash_map::Entry::Occupied(first) => {
                    email_dup = Some(format!("Email {email} is already on row {} of this file", first.get()));
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
        let overlap = stays.iter().find(|s| s.interval.overlaps(&interval)).map(|s| {
            format!("Unit {building}/{floor}/{unit} is also taken on row {} of this file for overlapping dates", s.row)
        });
        if overlap.is_none() {
            stays.push(Stay { row, interval });
        }
        (email_dup, overlap)
    }
}
