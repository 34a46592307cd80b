//! CSV use cases: export any resident list the person may see, and import resident lists
//! with a full per-row report.
//!
//! Export: the sites are those of the request within the person's scope (one site, or every
//! site they see in the active team), each authorised for managing residents; rows stream
//! from SQLite to the writer (constant memory); the export is audited (who, which sites,
//! how many rows).
//!
//! Import: one immediate transaction. Each row is read ([`crate::csvio::import`]), checked
//! with the same validation as a single add (`residents::validate_new`), plus the in-file
//! checks (the same email twice in the file, overlapping stays in one unit within the file)
//! and the row's `Site` cell. Valid rows go through the same insert as a single add
//! (`residents::insert_resident_with`: one outbox `create` entry and one audit entry each), so
//! sync sends them like any other add. A dry run writes nothing; otherwise all-or-nothing, or
//! only the valid rows on request. Dry run and commit report the same problems.
//!
//! On a database file, a committing import reads and checks its rows on a second thread
//! (`check::RowCheck`, against a read-only snapshot of the database as the transaction found
//! it) while the use case's thread writes the valid ones, so a large file costs about the
//! slower of the two halves.
//!
//! One file per half: `export` (the export use case and its row streaming), `import` (the
//! import use cases, their report and transaction) and `check` (the row checker: every rule
//! of a single add plus the in-file checks, run on the checker thread or inline).

mod check;
mod export;
mod import;

pub use export::{ExportRequest, ExportSummary};
pub use import::{ImportOptions, ImportProgress, ImportReport, ImportStatus, ProblemGroup, ProblemsFile};
