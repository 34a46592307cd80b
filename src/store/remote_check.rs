//! What the first-contact check (`sync::check`) reads and keeps: the last job this desk
//! started on the remote (to ask for its status), and the last check's report, one row of
//! `settings` (JSON, with its time; never a secret).

use rusqlite::{Connection, OptionalExtension, Transaction};

/// The `settings` key of the last check's report.
pub const LAST_CHECK_KEY: &str = "sync.remote_check";

/// The newest import or bulk-action job the remote answered with a job id, among `site_ids`:
/// `(local site id, kind, remote job id)`.
pub fn last_remote_job(conn: &Connection, site_ids: &[i64]) -> rusqlite::Result<Option<(i64, String, String)>> {
    if site_ids.is_empty() {
        return Ok(None);
    }
    let list = site_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    conn.query_row(
        &format!(
            "SELECT site_id, kind, remote_job_id FROM sync_jobs
             WHERE remote_job_id IS NOT NULL AND kind IN ('import', 'bulk') AND site_id IN ({list})
             ORDER BY id DESC LIMIT 1"
        ),
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

/// The last check's report as stored (JSON), if a check ran.
pub fn last_check(conn: &Connection) -> rusqlite::Result<Option<String>> {
    super::settings::get(conn, LAST_CHECK_KEY)
}

/// Keeps `report_json` as the last check.
pub fn save_check(tx: &Transaction<'_>, report_json: &str) -> rusqlite::Result<()> {
    super::settings::set(tx, LAST_CHECK_KEY, report_json)
}
