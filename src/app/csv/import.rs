//! Importing residents from CSV: one immediate transaction, every row checked (`check`), the
//! valid ones inserted as a single add inserts them; dry run, all-or-nothing or valid-only;
//! the report lists every problem by row.

use super::check::{Checked, RowCheck};
use crate::app::gate::At;
use crate::app::residents::{insert_resident_with, site_tz};
use crate::app::usecases as uc;
use crate::app::{App, Session};
use crate::csvio::import::{FileInfo, RowProblem};
use crate::csvio::problems::FileCode;
use crate::csvio::problems_file::ProblemsWriter;
use crate::csvio::MAX_LISTED_PROBLEMS;
use crate::error::{AppError, AppResult};
use crate::store;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::{Read, Write};

/// How many examples each group of problems keeps.
pub const GROUP_EXAMPLES: usize = 5;

/// The problems of one kind in one column: how many, and the first few (with their rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProblemGroup {
    /// The rule broken (`required`, `email_taken`, …) or the row's problem (`email_twice`,
    /// `row_cut`, …): the tag of the problem's `rule` or `code`; `other` for neither.
    pub kind: String,
    /// The API field name the problems are about (as in [`RowProblem::field`]).
    pub field: String,
    /// Every problem of this kind in this column (exact, even beyond the listed ones).
    pub count: u64,
    /// The first [`GROUP_EXAMPLES`] of them, in row order.
    pub examples: Vec<RowProblem>,
}

/// The kind of a problem, for grouping.
fn problem_kind(p: &RowProblem) -> String {
    if let Some(code) = &p.code {
        return code.kind().to_string();
    }
    p.rule
        .as_ref()
        .and_then(|r| serde_json::to_value(r).ok())
        .and_then(|v| v.get("rule").and_then(|k| k.as_str()).map(str::to_string))
        .unwrap_or_else(|| "other".to_string())
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
    /// Every problem grouped by kind and column, in order of first appearance: what a
    /// person reads when a file has thousands of problems.
    pub groups: Vec<ProblemGroup>,
    /// A problem with the whole file (unreadable, missing columns, too large), if any.
    pub file_error: Option<String>,
    /// The same, as a code with its parameters.
    pub file_code: Option<FileCode>,
}

impl ImportReport {
    /// Keeps at most `n` problems in the list (the rest are counted as unlisted; the groups
    /// keep every count and their examples): what a window needs, whatever the file's size.
    pub fn keep_listed(&mut self, n: usize) {
        if self.problems.len() > n {
            self.unlisted_problems += (self.problems.len() - n) as u64;
            self.problems.truncate(n);
        }
    }

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

impl App {
    /// Checks a CSV file against every rule and reports every problem; writes nothing.
    pub fn import_preview(&mut self, session: &Session, site: &str, bytes: &[u8]) -> AppResult<ImportReport> {
        self.import_residents(session, site, bytes, ImportOptions { dry_run: true, valid_only: false }, &mut |_| {})
    }

    /// [`App::import_residents`], also writing every row with problems to `file.out` as the
    /// file had it plus a `file.column` (English messages): see
    /// [`crate::csvio::problems_file`]. Returns the report and the rows written there.
    pub fn import_with_problems_file(
        &mut self,
        session: &Session,
        site: &str,
        input: impl Read + Send,
        options: ImportOptions,
        progress: &mut dyn FnMut(ImportProgress),
        file: ProblemsFile<'_>,
    ) -> AppResult<(ImportReport, u64)> {
        let mut sink = ProblemsSink::new(file.out, file.column);
        let observers = Observers { progress, sink: Some(&mut sink) };
        let report = self.import_residents_to(session, site, input, options, observers)?;
        let rows = sink.finish()?;
        Ok((report, rows))
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
        self.import_residents_to(session, site, input, options, Observers { progress, sink: None })
    }

    fn import_residents_to(
        &mut self,
        session: &Session,
        site: &str,
        input: impl Read + Send,
        options: ImportOptions,
        observers: Observers<'_, '_>,
    ) -> AppResult<ImportReport> {
        // A committing import into a database file may write tens of megabytes: its commit
        // does not also copy them back from the WAL; a background thread does, afterwards.
        let db_file = store::file_path(self.conn()).filter(|_| !options.dry_run);
        if db_file.is_some() {
            store::set_auto_checkpoint(self.conn(), 0)?;
        }
        let snapshot = db_file.clone().map(|path| (path, self.db_key().clone()));
        // Its rows go into indexes spread over the whole table (emails): a large cache keeps
        // their pages from being read and decrypted again every few rows on a large desk.
        let cache = store::set_cache_kib(self.conn(), store::BULK_CACHE_KIB)?;
        let report = self.import_residents_in_one_transaction(session, site, input, options, snapshot, observers);
        store::restore_cache_size(self.conn(), cache);
        if let Some(path) = db_file {
            store::set_auto_checkpoint(self.conn(), store::WAL_AUTOCHECKPOINT_PAGES)?;
            self.keep_checkpoint(store::checkpoint_in_background(&path, &self.db_key().clone()));
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
        snapshot: Option<(std::path::PathBuf, store::DbKey)>,
        observers: Observers<'_, '_>,
    ) -> AppResult<ImportReport> {
        let Observers { progress, mut sink } = observers;
        let site_reference = site;
        let live = self.live_sessions();
        let tx = self.write(session, &uc::IMPORT, At::Site(site_reference))?;
        let (site, now) = (tx.ctx.site().clone(), tx.ctx.now);
        let fresh = tx.ctx.session.clone();
        let session = &fresh;
        // Signing out stops the import at its next progress tick (every 1,000 rows): the
        // error drops the one transaction, so nothing of it is written.
        let signed_out = || live.ended(session.actor.staff_id);
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
            groups: Vec::new(),
            file_error: None,
            file_code: None,
        };
        let tz = site_tz(&site);
        let keep_cells = sink.is_some();
        let may_write = |report: &ImportReport| !options.dry_run && (options.valid_only || report.invalid_rows == 0);
        let mut absorb = |checked: Checked, report: &mut ImportReport| -> AppResult<()> {
            match checked {
                Checked::Header(headers) => {
                    if let Some(sink) = sink.as_deref_mut() {
                        sink.start(&headers)?;
                    }
                }
                Checked::Row { problems, valid, cells } => {
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
                        if let (Some(sink), Some(cells)) = (sink.as_deref_mut(), cells) {
                            sink.row(&cells, &problems)?;
                        }
                        for p in problems {
                            push_problem(report, p);
                        }
                    }
                }
                Checked::Progress(p) => {
                    progress(p);
                    if signed_out() {
                        return Err(crate::app::idle::signed_out());
                    }
                }
                Checked::FileProblem { summary, code, problem } => {
                    report.file_error = Some(summary);
                    report.file_code = Some(code);
                    push_problem(report, problem);
                }
                Checked::End(info) => report.file = Some(info),
            }
            Ok(())
        };
        let check = RowCheck { site: &site, tz, now, prepare_writes: !options.dry_run, keep_cells };
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
            Some((path, key)) => std::thread::scope(|scope| -> AppResult<()> {
                // Outcomes travel in batches: one channel hand-over per row cost the writer ~9 %.
                const BATCH: usize = 256;
                let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Checked>>(8);
                let checker = scope.spawn(move || -> AppResult<()> {
                    let conn = store::open_snapshot(&path, &key)?;
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

fn push_problem(report: &mut ImportReport, p: RowProblem) {
    let kind = problem_kind(&p);
    match report.groups.iter_mut().find(|g| g.kind == kind && g.field == p.field) {
        Some(g) => {
            g.count += 1;
            if g.examples.len() < GROUP_EXAMPLES {
                g.examples.push(p.clone());
            }
        }
        None => report.groups.push(ProblemGroup { kind, field: p.field.clone(), count: 1, examples: vec![p.clone()] }),
    }
    if report.problems.len() < MAX_LISTED_PROBLEMS {
        report.problems.push(p);
    } else {
        report.unlisted_problems += 1;
    }
}

/// Where an import writes its rows with problems, and the header of the added column.
pub struct ProblemsFile<'a> {
    pub out: &'a mut dyn Write,
    pub column: &'a str,
}

/// Who hears of an import as it goes: its progress, and the problems file if any.
struct Observers<'p, 's> {
    progress: &'p mut dyn FnMut(ImportProgress),
    sink: Option<&'p mut ProblemsSink<'s>>,
}

/// Where the rows with problems go (the problems file), opened at the header.
struct ProblemsSink<'a> {
    out: Option<&'a mut dyn Write>,
    column: &'a str,
    writer: Option<ProblemsWriter<&'a mut dyn Write>>,
}

fn file_write_error(e: std::io::Error) -> AppError {
    AppError::internal(format!("cannot write the problems file: {e}"))
}

impl<'a> ProblemsSink<'a> {
    fn new(out: &'a mut dyn Write, column: &'a str) -> ProblemsSink<'a> {
        ProblemsSink { out: Some(out), column, writer: None }
    }

    fn start(&mut self, headers: &[String]) -> AppResult<()> {
        if let Some(out) = self.out.take() {
            self.writer = Some(ProblemsWriter::new(out, headers, self.column).map_err(file_write_error)?);
        }
        Ok(())
    }

    /// One row with its problems (the English messages, one after the other).
    fn row(&mut self, cells: &[String], problems: &[RowProblem]) -> AppResult<()> {
        let Some(w) = self.writer.as_mut() else { return Ok(()) };
        let text = problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; ");
        w.write(cells, &text).map_err(file_write_error)
    }

    /// Flushes the file; the rows written (none when the file had no readable header).
    fn finish(self) -> AppResult<u64> {
        match self.writer {
            Some(w) => {
                let rows = w.rows();
                w.finish().map_err(file_write_error)?.flush().map_err(file_write_error)?;
                Ok(rows)
            }
            None => Ok(0),
        }
    }
}
