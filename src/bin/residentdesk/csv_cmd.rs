//! `residentdesk import` and `residentdesk export`: thin over `app::csv`.
//!
//! Export writes to `-o FILE` through a temporary file renamed at the end (nothing
//! half-written is left under the name), or to standard output (`-o -` or no `-o`); the
//! summary then goes to standard error so the CSV stays clean. Import streams the file,
//! prints the report (every problem by row and column) and exits 4 when nothing was
//! imported because of problems, or when a dry run found problems.

use crate::output::{clip, print_table, Out};
use crate::progress::Bar;
use residentdesk::app::csv::{ExportRequest, ImportOptions, ImportReport, ImportStatus};
use residentdesk::app::residents::ResidentFilter;
use residentdesk::app::Session;
use residentdesk::csvio::Columns;
use residentdesk::domain::StatusFlag;
use residentdesk::{App, AppError, ErrorCode};
use std::io::{BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The flags of `export`.
pub struct ExportArgs<'a> {
    pub site: Option<&'a str>,
    pub statuses: Vec<StatusFlag>,
    pub building: Option<&'a str>,
    pub search: Option<&'a str>,
    pub columns: &'a str,
    pub excel: bool,
    pub local_dates: bool,
    pub output: Option<&'a Path>,
}

pub fn export(app: &mut App, session: &Session, args: ExportArgs<'_>, out: &Out) -> Result<(), AppError> {
    let columns = Columns::parse(args.columns).ok_or_else(|| {
        AppError::new(ErrorCode::Usage, format!("--columns must be api or site-manager, not {:?}", args.columns))
    })?;
    let request = ExportRequest {
        site: args.site.map(str::to_string),
        filter: ResidentFilter {
            statuses: args.statuses,
            building: args.building.map(str::to_string),
            search: args.search.map(str::to_string),
            limit: None,
            ..ResidentFilter::default()
        },
        columns,
        excel: args.excel,
        local_dates: args.local_dates,
    };
    let to_file = args.output.filter(|p| p.as_os_str() != "-");
    // No bar over CSV that goes to the same terminal.
    let bar = if to_file.is_some() || !std::io::stdout().is_terminal() {
        Bar::new(out, "exporting", "rows", None)
    } else {
        Bar::none()
    };
    let mut progress = |p: residentdesk::app::progress::Progress| bar.set(p.done, p.total);
    // An export no bar shows is not counted first (a pass over every site's index).
    let drawn = bar.is_drawn();
    let mut export = |app: &mut residentdesk::App, w: &mut dyn std::io::Write| match drawn {
        true => app.export_residents_observed(session, &request, w, &mut progress),
        false => app.export_residents(session, &request, w),
    };
    let summary = match to_file {
        Some(path) => {
            let tmp = partial_path(path);
            let file = std::fs::File::create(&tmp)
                .map_err(|e| AppError::internal(format!("cannot create {}: {e}", tmp.display())))?;
            let mut w = BufWriter::with_capacity(256 * 1024, file);
            let result = export(app, &mut w).and_then(|s| {
                w.flush().map_err(|e| AppError::internal(format!("cannot write {}: {e}", tmp.display())))?;
                Ok(s)
            });
            drop(w);
            match result {
                Ok(s) => {
                    std::fs::rename(&tmp, path).map_err(|e| {
                        AppError::internal(format!("cannot move the export to {}: {e}", path.display()))
                    })?;
                    s
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
            }
        }
        None => {
            let stdout = PipeWatch { inner: std::io::stdout().lock(), reader_left: false };
            let mut w = BufWriter::with_capacity(256 * 1024, stdout);
            let result = export(app, &mut w).and_then(|s| {
                w.flush().map_err(|e| AppError::internal(format!("cannot write to standard output: {e}")))?;
                Ok(s)
            });
            match result {
                Ok(s) => s,
                // `residentdesk export ... | head`: the reader left; not an error of ours (the
                // export is audited as failed with the rows written).
                Err(_) if w.get_ref().reader_left => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    };
    bar.finish();
    let text = format!(
        "exported {} resident(s) from {} site(s){}",
        summary.rows,
        summary.sites.len(),
        to_file.map(|p| format!(" to {}", p.display())).unwrap_or_default()
    );
    if to_file.is_some() {
        out.value(&summary, || println!("{text}"));
    } else if out.json {
        eprintln!("{}", serde_json::to_string(&summary).unwrap_or_default());
    } else {
        eprintln!("{text}");
    }
    Ok(())
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

/// `import --template OUT.csv`: the import's header and one example row.
pub fn template(path: &Path, columns: &str, out: &Out) -> Result<(), AppError> {
    let columns = Columns::parse(columns).ok_or_else(|| {
        AppError::new(ErrorCode::Usage, format!("--columns must be api or site-manager, not {columns:?}"))
    })?;
    let file = std::fs::File::create(path)
        .map_err(|e| AppError::internal(format!("cannot create {}: {e}", path.display())))?;
    residentdesk::csvio::template::write_template(BufWriter::new(file), columns)
        .and_then(|mut w| w.flush())
        .map_err(|e| AppError::internal(format!("cannot write {}: {e}", path.display())))?;
    out.value(&serde_json::json!({"template": path, "columns": columns}), || {
        println!("wrote an import template ({} columns) to {}", columns.as_str(), path.display());
    });
    Ok(())
}

pub fn import(
    app: &mut App,
    session: &Session,
    file: &Path,
    site: &str,
    options: ImportOptions,
    problems_out: Option<&Path>,
    out: &Out,
) -> Result<(), AppError> {
    let f = std::fs::File::open(file).map_err(|e| {
        let code = if e.kind() == std::io::ErrorKind::NotFound { ErrorCode::NotFound } else { ErrorCode::Internal };
        AppError::new(code, format!("cannot open {}: {e}", file.display()))
    })?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let what = if options.dry_run { "checking" } else { "importing" };
    let bar = Bar::new(out, what, "bytes", Some(size));
    let mut progress = |p: residentdesk::app::csv::ImportProgress| {
        bar.set(p.bytes, None);
        bar.say(format!("{what}: {} rows read", p.rows));
    };
    let input = BufReader::with_capacity(256 * 1024, f);
    let (report, problem_rows) = match problems_out {
        None => (app.import_residents(session, site, input, options, &mut progress)?, None),
        Some(path) => {
            // Through a temporary file renamed at the end, like an export.
            let tmp = partial_path(path);
            let file = std::fs::File::create(&tmp)
                .map_err(|e| AppError::internal(format!("cannot create {}: {e}", tmp.display())))?;
            let mut w = BufWriter::new(file);
            let file = residentdesk::app::csv::ProblemsFile {
                out: &mut w,
                column: residentdesk::csvio::problems_file::PROBLEM_COLUMN,
            };
            let result = app.import_with_problems_file(session, site, input, options, &mut progress, file);
            drop(w);
            match result {
                Ok((report, rows)) => {
                    std::fs::rename(&tmp, path)
                        .map_err(|e| AppError::internal(format!("cannot write {}: {e}", path.display())))?;
                    (report, Some((rows, path)))
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
            }
        }
    };
    bar.finish();
    // The rows are saved; fold the log back into the database file before exiting.
    app.settle();
    print_report(&report, out);
    if let Some((rows, path)) = problem_rows {
        // Beside the report: stdout carries the one JSON document with --json.
        eprintln!("wrote {rows} row(s) with problems to {}", path.display());
    }
    let problems = report.invalid_rows > 0 || report.file_error.is_some();
    match report.status {
        ImportStatus::Rejected => Err(AppError::invalid(report.summary())),
        ImportStatus::DryRun if problems => Err(AppError::invalid(report.summary())),
        _ => Ok(()),
    }
}

fn print_report(report: &ImportReport, out: &Out) {
    out.value(report, || {
        if let Some(file) = &report.file {
            println!(
                "{}: {}, {}, {} headers{}",
                report.site,
                file.encoding,
                file.delimiter,
                file.header_dialect.as_str(),
                if file.ignored_columns.is_empty() {
                    String::new()
                } else {
                    format!(" (ignored columns: {})", file.ignored_columns.join(", "))
                }
            );
        }
        let many = report.problems.len() as u64 + report.unlisted_problems > 50;
        if many {
            // Thousands of lines help nobody: one line per kind of problem, with the first
            // rows, and the way to get every row.
            print_table(
                &["PROBLEMS", "COLUMN", "FIRST ROWS", "EXAMPLE"],
                report
                    .groups
                    .iter()
                    .map(|g| {
                        let rows: Vec<String> = g.examples.iter().map(|p| p.row.to_string()).collect();
                        let example = g.examples.first().map(|p| clip(&p.message, 70)).unwrap_or_default();
                        vec![g.count.to_string(), g.field.clone(), rows.join(", "), example]
                    })
                    .collect(),
            );
            println!("(every row with its problem: add --problems OUT.csv)");
        } else if !report.problems.is_empty() {
            print_table(
                &["ROW", "COLUMN", "VALUE", "PROBLEM"],
                report
                    .problems
                    .iter()
                    .map(|p| vec![p.row.to_string(), p.column.clone(), clip(&p.value, 40), p.message.clone()])
                    .collect(),
            );
            if report.unlisted_problems > 0 {
                println!("... and {} more problems", report.unlisted_problems);
            }
        }
        println!("{}", report.summary());
    });
}

/// Standard output that remembers whether its reader left (a closed pipe), which the core's
/// error no longer says once it is text, and which each OS words differently.
struct PipeWatch<W: Write> {
    inner: W,
    reader_left: bool,
}

impl<W: Write> Write for PipeWatch<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| self.reader_left |= e.kind() == std::io::ErrorKind::BrokenPipe)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| self.reader_left |= e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}
