//! The sync bookkeeping tables: per-site pull state (`sync_sites`), the jobs outbox entries
//! were sent in (`sync_jobs`, `sync_job_entries`, written before a request leaves), the
//! sync-wide status (`sync_status`), and the outbox queries only sync needs.

use super::outbox::Entry;
use super::{opt_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

/// Pull state of one site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteSyncState {
    pub site_id: i64,
    pub last_pull_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// Records a successful pull of a site (and clears its error).
pub fn site_pulled(tx: &Transaction<'_>, site_id: i64, now: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO sync_sites(site_id, last_pull_at) VALUES (?1, ?2)
         ON CONFLICT(site_id) DO UPDATE SET last_pull_at = excluded.last_pull_at, last_error = NULL,
             last_error_at = NULL",
    )?
    .execute(params![site_id, ts(now)])?;
    Ok(())
}

/// Records a failed pull of a site (the last success stays).
pub fn site_pull_failed(tx: &Transaction<'_>, site_id: i64, error: &str, now: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO sync_sites(site_id, last_error, last_error_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(site_id) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at",
    )?
    .execute(params![site_id, error, ts(now)])?;
    Ok(())
}

/// Pull state of the given sites (sites never pulled are absent).
pub fn site_states(conn: &Connection, site_ids: &[i64]) -> rusqlite::Result<Vec<SiteSyncState>> {
    let mut stmt = conn.prepare_cached(
        "SELECT site_id, last_pull_at, last_error, last_error_at FROM sync_sites
         WHERE site_id IN (SELECT value FROM json_each(?1)) ORDER BY site_id",
    )?;
    let rows = stmt.query_map([super::json_ids(site_ids)], |r| {
        Ok(SiteSyncState {
            site_id: r.get(0)?,
            last_pull_at: opt_ts(r.get(1)?),
            last_error: r.get(2)?,
            last_error_at: opt_ts(r.get(3)?),
        })
    })?;
    rows.collect()
}

/// A request or remote job that entries were sent in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncJob {
    pub id: i64,
    pub site_id: i64,
    /// `single`, `import` or `bulk`.
    pub kind: String,
    pub action: String,
    pub remote_job_id: Option<String>,
    /// `sending`, `started`, `finished` or `abandoned`.
    pub state: String,
}

/// Records a job about to be sent and marks its entries `in_flight`, in the caller's
/// transaction (which must commit before the request leaves).
pub fn job_start(
    tx: &Transaction<'_>,
    site_id: i64,
    kind: &str,
    action: &str,
    entry_ids: &[i64],
    now: DateTime<Utc>,
) -> rusqlite::Result<i64> {
    tx.prepare_cached(
        "INSERT INTO sync_jobs(site_id, kind, action, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![site_id, kind, action, ts(now)])?;
    let job_id = tx.last_insert_rowid();
    let mut link = tx.prepare_cached(
        "INSERT INTO sync_job_entries(entry_id, job_id) VALUES (?1, ?2)
         ON CONFLICT(entry_id) DO UPDATE SET job_id = excluded.job_id",
    )?;
    let mut mark = tx.prepare_cached(
        "UPDATE outbox SET state = 'in_flight', attempts = attempts + 1, updated_at = ?2 WHERE id = ?1",
    )?;
    for id in entry_ids {
        link.execute(params![id, job_id])?;
        mark.execute(params![id, ts(now)])?;
    }
    Ok(job_id)
}

/// Records the remote's job id once the start was answered.
pub fn job_started(tx: &Transaction<'_>, job_id: i64, remote_job_id: &str, now: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE sync_jobs SET remote_job_id = ?2, state = 'started', updated_at = ?3 WHERE id = ?1")?
        .execute(params![job_id, remote_job_id, ts(now)])?;
    Ok(())
}

/// Closes a job (`finished` or `abandoned`).
pub fn job_close(tx: &Transaction<'_>, job_id: i64, state: &str, now: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE sync_jobs SET state = ?2, updated_at = ?3 WHERE id = ?1")?.execute(params![
        job_id,
        state,
        ts(now)
    ])?;
    Ok(())
}

/// The job an entry was last sent in.
pub fn job_of_entry(conn: &Connection, entry_id: i64) -> rusqlite::Result<Option<SyncJob>> {
    conn.prepare_cached(
        "SELECT j.id, j.site_id, j.kind, j.action, j.remote_job_id, j.state FROM sync_job_entries e
         JOIN sync_jobs j ON j.id = e.job_id WHERE e.entry_id = ?1",
    )?
    .query_row([entry_id], |r| {
        Ok(SyncJob {
            id: r.get(0)?,
            site_id: r.get(1)?,
            kind: r.get(2)?,
            action: r.get(3)?,
            remote_job_id: r.get(4)?,
            state: r.get(5)?,
        })
    })
    .optional()
}

/// Ends an entry: `done`, `rejected`, `conflict`, `pending` (to resend) or `discarded`,
/// with the remote's reason, and unlinks it from its job.
pub fn finish_entry(
    tx: &Transaction<'_>,
    entry_id: i64,
    state: &str,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE outbox SET state = ?2, last_error = ?3, updated_at = ?4 WHERE id = ?1")?
        .execute(params![entry_id, state, error, ts(now)])?;
    tx.prepare_cached("DELETE FROM sync_job_entries WHERE entry_id = ?1")?.execute([entry_id])?;
    Ok(())
}

/// Notes a failed attempt that will be retried, without changing the entry's state.
pub fn note_retry(tx: &Transaction<'_>, entry_id: i64, error: &str, now: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE outbox SET state = CASE WHEN state = 'in_flight' THEN 'pending' ELSE state END, last_error = ?2,
             updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![entry_id, error, ts(now)])?;
    tx.prepare_cached("DELETE FROM sync_job_entries WHERE entry_id = ?1")?.execute([entry_id])?;
    Ok(())
}

/// Records the remote id on one entry.
pub fn set_entry_remote_id(tx: &Transaction<'_>, entry_id: i64, remote_id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE outbox SET remote_id = ?2 WHERE id = ?1")?.execute(params![entry_id, remote_id])?;
    Ok(())
}

/// Unfinished entries (pending, in flight, rejected, conflict) of the given sites, oldest
/// first: what push works on and what the merge treats as local changes.
pub fn unfinished_for_sites(conn: &Connection, site_ids: &[i64]) -> rusqlite::Result<Vec<Entry>> {
    super::outbox::list_for_sites(conn, site_ids, &["pending", "in_flight", "rejected", "conflict"], usize::MAX >> 1)
}

/// Counts of entries per state over the given sites.
pub fn counts_for_sites(conn: &Connection, site_ids: &[i64]) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT state, count(*) FROM outbox WHERE site_id IN (SELECT value FROM json_each(?1))
         GROUP BY state ORDER BY state",
    )?;
    let rows = stmt.query_map([super::json_ids(site_ids)], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Sets a sync-wide status value.
pub fn status_set(tx: &Transaction<'_>, key: &str, value: &str, now: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO sync_status(key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )?
    .execute(params![key, value, ts(now)])?;
    Ok(())
}

/// Removes a sync-wide status value.
pub fn status_clear(tx: &Transaction<'_>, key: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM sync_status WHERE key = ?1")?.execute([key])?;
    Ok(())
}

/// A sync-wide status value and when it was set.
pub fn status_get(conn: &Connection, key: &str) -> rusqlite::Result<Option<(String, Option<DateTime<Utc>>)>> {
    conn.prepare_cached("SELECT value, updated_at FROM sync_status WHERE key = ?1")?
        .query_row([key], |r| Ok((r.get(0)?, opt_ts(r.get(1)?))))
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{open_in_memory, outbox};
    use serde_json::json;

    #[test]
    fn job_marks_entries_in_flight_and_finish_unlinks() {
        let mut conn = open_in_memory().unwrap();
        let now = Utc::now();
        let tx = conn.transaction().unwrap();
        let e = outbox::NewEntry {
            actor_id: None,
            site_id: 1,
            resident_id: Some(1),
            remote_id: None,
            email: Some("a@b.co"),
            op: "create",
            payload: json!({}).into(),
            base: json!({}).into(),
        };
        let id = outbox::append(&tx, &e, now).unwrap();
        let job = job_start(&tx, 1, "import", "create", &[id], now).unwrap();
        job_started(&tx, job, "remote-7", now).unwrap();
        tx.commit().unwrap();
        assert_eq!(outbox::get(&conn, id).unwrap().unwrap().state, "in_flight");
        let j = job_of_entry(&conn, id).unwrap().unwrap();
        assert_eq!((j.kind.as_str(), j.remote_job_id.as_deref()), ("import", Some("remote-7")));
        let tx = conn.transaction().unwrap();
        finish_entry(&tx, id, "done", None, now).unwrap();
        tx.commit().unwrap();
        assert!(job_of_entry(&conn, id).unwrap().is_none());
        assert_eq!(outbox::get(&conn, id).unwrap().unwrap().state, "done");
    }
}
