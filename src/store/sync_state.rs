//! The sync bookkeeping tables: per-site pull state (`sync_sites`), the jobs outbox entries
//! were sent in (`sync_jobs`, `sync_job_entries`, written before a request leaves), the
//! sync-wide status (`sync_status`), the lease that lets one pass run at a time
//! (`sync_lease`), and the outbox queries and state transitions only sync needs.
//!
//! Every change of an entry's state here is a compare-and-set: the `UPDATE` names the
//! states the entry is expected to be in and the caller learns whether it moved, so a check
//! made earlier (in another transaction, by another pass or by a person) can never be acted
//! on after it stopped being true.

use super::outbox::Entry;
use super::{opt_ts, ts};
use chrono::{DateTime, Utc};
use residentdesk_domain::OutboxState;
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

/// A stamp of what a pull's merge of `site_id` reads locally: its residents, its open outbox
/// entries (and their states), its open conflicts and its units. Equal stamps mean none of
/// them changed in between (any local write to a resident moves its `updated_at` or the count;
/// every state change of an entry moves its `updated_at`).
pub fn site_local_stamp(conn: &Connection, site_id: i64) -> rusqlite::Result<String> {
    // In the table's order (`residents_site`): every row of the site is read, each page once.
    let residents: (i64, Option<String>, f64) = conn
        .prepare_cached(
            "SELECT count(*), max(updated_at), total(id) FROM residents INDEXED BY residents_site WHERE site_id = ?1",
        )?
        .query_row([site_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let entries: (i64, Option<String>, f64) = conn
        .prepare_cached(
            "SELECT count(*), max(updated_at),
                    total(id * (CASE state WHEN 'pending' THEN 1 WHEN 'in_flight' THEN 2 WHEN 'rejected' THEN 3 ELSE 4 END))
             FROM outbox WHERE site_id = ?1 AND state IN ('pending', 'in_flight', 'rejected', 'conflict')",
        )?
        .query_row([site_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let conflicts: (i64, f64) = conn
        .prepare_cached("SELECT count(*), total(id) FROM sync_conflicts WHERE state = 'open' AND site_id = ?1")?
        .query_row([site_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let units = site_units_stamp(conn, site_id)?;
    Ok(format!(
        "r{}/{}/{}:o{}/{}/{}:c{}/{}:{units}",
        residents.0,
        residents.1.unwrap_or_default(),
        residents.2,
        entries.0,
        entries.1.unwrap_or_default(),
        entries.2,
        conflicts.0,
        conflicts.1
    ))
}

/// The units part of [`site_local_stamp`] (`u<count>`), alone: cheap next to the residents'
/// part, which reads every resident row of the site.
pub fn site_units_stamp(conn: &Connection, site_id: i64) -> rusqlite::Result<String> {
    let units: i64 =
        conn.prepare_cached("SELECT count(*) FROM mappings WHERE site_id = ?1")?.query_row([site_id], |r| r.get(0))?;
    Ok(format!("u{units}"))
}

/// The digest kept by the last merge of a site (`None`: merge it next time).
pub fn pulled_digest(conn: &Connection, site_id: i64) -> rusqlite::Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT pulled_digest FROM sync_sites WHERE site_id = ?1")?
        .query_row([site_id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// Keeps (or forgets, `None`) the digest of a site's last merge.
pub fn set_pulled_digest(tx: &Transaction<'_>, site_id: i64, digest: Option<&str>) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO sync_sites(site_id, pulled_digest) VALUES (?1, ?2)
         ON CONFLICT(site_id) DO UPDATE SET pulled_digest = excluded.pulled_digest",
    )?
    .execute(params![site_id, digest])?;
    Ok(())
}

/// A site's place in the pull schedule: pulls in a row that found it unchanged, and when it is
/// due again (`None`: at once).
pub type PullSchedule = (u32, Option<DateTime<Utc>>);

/// The pull schedule of every site that has one. Sites never pulled are absent.
pub fn pull_schedules(conn: &Connection) -> rusqlite::Result<std::collections::HashMap<i64, PullSchedule>> {
    let mut stmt = conn.prepare_cached("SELECT site_id, quiet_pulls, next_pull_at FROM sync_sites")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, (r.get::<_, u32>(1)?, opt_ts(r.get(2)?)))))?;
    rows.collect()
}

/// After a successful pull of a site: `changed` (the merge ran) starts its quiet count again,
/// an unchanged answer adds one; `next_pull_at` is when it is due again (`None`: at once).
/// Returns the quiet count now.
pub fn schedule_pull(
    tx: &Transaction<'_>,
    site_id: i64,
    changed: bool,
    next_pull_at: impl FnOnce(u32) -> Option<DateTime<Utc>>,
) -> rusqlite::Result<u32> {
    let quiet: u32 = tx
        .prepare_cached("SELECT quiet_pulls FROM sync_sites WHERE site_id = ?1")?
        .query_row([site_id], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    let quiet = if changed { 0 } else { quiet.saturating_add(1) };
    let next = next_pull_at(quiet);
    tx.prepare_cached(
        "INSERT INTO sync_sites(site_id, quiet_pulls, next_pull_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(site_id) DO UPDATE SET quiet_pulls = excluded.quiet_pulls, next_pull_at = excluded.next_pull_at",
    )?
    .execute(params![site_id, quiet, next.map(ts)])?;
    Ok(quiet)
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

/// A job recorded by [`job_start`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStart {
    pub job_id: i64,
    /// Per group given: whether its entries moved to `in_flight` (and belong to the job).
    pub moved: Vec<bool>,
}

/// Records a job about to be sent and moves its entries `pending` → `in_flight` by
/// compare-and-set, in the caller's transaction (which must commit before the request
/// leaves). Entries come in groups — the entries one coalesced action carries — and a group
/// moves whole or not at all: one whose entries are not all still pending (a person
/// discarded one, another pass took them) is left out, and the request must leave it out
/// too. Returns `None`, recording no job, when no group could move.
pub fn job_start(
    tx: &Transaction<'_>,
    site_id: i64,
    kind: &str,
    action: &str,
    groups: &[&[i64]],
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<JobStart>> {
    // Inside the caller's IMMEDIATE transaction nobody else writes between this count and
    // the updates below; the updates still name the expected state and count the rows.
    let mut pending = tx.prepare_cached(
        "SELECT count(DISTINCT id) FROM outbox WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'pending'",
    )?;
    let mut moved = Vec::with_capacity(groups.len());
    for ids in groups {
        let distinct: std::collections::BTreeSet<i64> = ids.iter().copied().collect();
        let n: i64 = pending.query_row([super::json_ids(ids)], |r| r.get(0))?;
        moved.push(!distinct.is_empty() && n as usize == distinct.len());
    }
    if !moved.contains(&true) {
        return Ok(None);
    }
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
        "UPDATE outbox SET state = 'in_flight', attempts = attempts + 1, updated_at = ?2
         WHERE id = ?1 AND state = 'pending'",
    )?;
    for (ids, ok) in groups.iter().zip(&moved) {
        if !ok {
            continue;
        }
        for id in ids.iter().copied().collect::<std::collections::BTreeSet<i64>>() {
            let changed = mark.execute(params![id, ts(now)])?;
            if changed != 1 {
                // Cannot happen under the transaction's write lock; refuse rather than send.
                return Err(rusqlite::Error::StatementChangedRows(changed));
            }
            link.execute(params![id, job_id])?;
        }
    }
    Ok(Some(JobStart { job_id, moved }))
}

/// Moves an entry from one of the states `from` to `to`, with `error` as its last error,
/// in one statement: true when it was in one of `from` and moved, false when it was not
/// (someone changed it since it was read; nothing is written). Leaving `in_flight`
/// unlinks it from its job. For retry, discard and conflict resolution, so the check and
/// the change cannot be split by another writer.
pub fn transition(
    tx: &Transaction<'_>,
    entry_id: i64,
    from: &[OutboxState],
    to: OutboxState,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> rusqlite::Result<bool> {
    let from = serde_json::to_string(from).unwrap_or_else(|_| "[]".into());
    let moved = tx
        .prepare_cached(
            "UPDATE outbox SET state = ?3, last_error = ?4, updated_at = ?5
             WHERE id = ?1 AND state IN (SELECT value FROM json_each(?2))",
        )?
        .execute(params![entry_id, from, to.as_str(), error, ts(now)])?;
    if moved == 1 && to != OutboxState::InFlight {
        tx.prepare_cached("DELETE FROM sync_job_entries WHERE entry_id = ?1")?.execute([entry_id])?;
    }
    Ok(moved == 1)
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
    state: OutboxState,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE outbox SET state = ?2, last_error = ?3, updated_at = ?4 WHERE id = ?1")?
        .execute(params![entry_id, state.as_str(), error, ts(now)])?;
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
    super::outbox::list_for_sites(conn, site_ids, &OutboxState::OPEN, usize::MAX >> 1)
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

/// The lease of the running sync pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lease {
    /// Random id of the holding pass.
    pub holder_id: String,
    /// Who holds it, for people ("residentdesk (pid 4242 on desk-7)").
    pub holder: String,
    pub pid: Option<i64>,
    pub host: Option<String>,
    pub taken_at: DateTime<Utc>,
    pub renewed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A pass asking for the lease.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLease<'a> {
    pub holder_id: &'a str,
    pub holder: &'a str,
    pub pid: Option<i64>,
    pub host: Option<&'a str>,
}

/// The current lease, expired or not (none while no pass runs).
pub fn lease_get(conn: &Connection) -> rusqlite::Result<Option<Lease>> {
    conn.prepare_cached(
        "SELECT holder_id, holder, pid, host, taken_at, renewed_at, expires_at FROM sync_lease WHERE id = 1",
    )?
    .query_row([], |r| {
        let at = |i: usize| -> rusqlite::Result<DateTime<Utc>> {
            let text: String = r.get(i)?;
            Ok(super::parse_ts(&text).unwrap_or_default())
        };
        Ok(Lease {
            holder_id: r.get(0)?,
            holder: r.get(1)?,
            pid: r.get(2)?,
            host: r.get(3)?,
            taken_at: at(4)?,
            renewed_at: at(5)?,
            expires_at: at(6)?,
        })
    })
    .optional()
}

/// Takes the lease until `expires_at` when nobody holds it, when its holder's expiry is at
/// or before `now` (judged by the caller's clock), or when its holder is `replacing` (a
/// holder the caller knows is gone). True when taken; false when someone else holds it.
/// Run it in an IMMEDIATE transaction so two passes cannot both see it free.
pub fn lease_take(
    tx: &Transaction<'_>,
    new: &NewLease<'_>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    replacing: Option<&str>,
) -> rusqlite::Result<bool> {
    let changed = tx
        .prepare_cached(
            "INSERT INTO sync_lease(id, holder_id, holder, pid, host, taken_at, renewed_at, expires_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET holder_id = excluded.holder_id, holder = excluded.holder,
                 pid = excluded.pid, host = excluded.host, taken_at = excluded.taken_at,
                 renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
             WHERE sync_lease.expires_at <= ?5 OR sync_lease.holder_id = ?1 OR sync_lease.holder_id = ?7",
        )?
        .execute(params![new.holder_id, new.holder, new.pid, new.host, ts(now), ts(expires_at), replacing])?;
    Ok(changed == 1)
}

/// Extends the lease of `holder_id` to `expires_at`; false when it no longer holds it
/// (it expired and another pass took it over).
pub fn lease_renew(
    tx: &Transaction<'_>,
    holder_id: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> rusqlite::Result<bool> {
    let changed = tx
        .prepare_cached("UPDATE sync_lease SET renewed_at = ?2, expires_at = ?3 WHERE id = 1 AND holder_id = ?1")?
        .execute(params![holder_id, ts(now), ts(expires_at)])?;
    Ok(changed == 1)
}

/// Gives the lease of `holder_id` back; false when it did not hold it any more.
pub fn lease_release(tx: &Transaction<'_>, holder_id: &str) -> rusqlite::Result<bool> {
    let changed = tx.prepare_cached("DELETE FROM sync_lease WHERE id = 1 AND holder_id = ?1")?.execute([holder_id])?;
    Ok(changed == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{open_in_memory, outbox};
    use residentdesk_domain::OutboxOp;
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
            op: OutboxOp::Create,
            payload: json!({}).into(),
            base: json!({}).into(),
        };
        let id = outbox::append(&tx, &e, now).unwrap();
        let job = job_start(&tx, 1, "import", "create", &[&[id]], now).unwrap().unwrap();
        assert_eq!(job.moved, [true]);
        job_started(&tx, job.job_id, "remote-7", now).unwrap();
        tx.commit().unwrap();
        assert_eq!(outbox::get(&conn, id).unwrap().unwrap().state, "in_flight");
        let j = job_of_entry(&conn, id).unwrap().unwrap();
        assert_eq!((j.kind.as_str(), j.remote_job_id.as_deref()), ("import", Some("remote-7")));
        let tx = conn.transaction().unwrap();
        finish_entry(&tx, id, OutboxState::Done, None, now).unwrap();
        tx.commit().unwrap();
        assert!(job_of_entry(&conn, id).unwrap().is_none());
        assert_eq!(outbox::get(&conn, id).unwrap().unwrap().state, "done");
    }

    fn entry(tx: &Transaction<'_>, email: &str, now: DateTime<Utc>) -> i64 {
        let e = outbox::NewEntry {
            actor_id: None,
            site_id: 1,
            resident_id: None,
            remote_id: None,
            email: Some(email),
            op: OutboxOp::Create,
            payload: json!({}).into(),
            base: json!({}).into(),
        };
        outbox::append(tx, &e, now).unwrap()
    }

    /// Two connections to one file database, as two processes would have.
    fn two_connections() -> (tempfile::TempDir, Connection, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lease.db");
        let a = crate::store::open(&path).unwrap();
        let b = crate::store::open(&path).unwrap();
        (dir, a, b)
    }

    fn immediate(conn: &mut Connection) -> Transaction<'_> {
        conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap()
    }

    #[test]
    fn the_second_mover_of_an_entry_is_refused() {
        let (_dir, mut a, mut b) = two_connections();
        let now = Utc::now();
        let tx = immediate(&mut a);
        let (x, y, z) = (entry(&tx, "x@b.co", now), entry(&tx, "y@b.co", now), entry(&tx, "z@b.co", now));
        tx.commit().unwrap();
        // Both passes read the three entries as pending; A moves x and y first.
        let tx = immediate(&mut a);
        let first = job_start(&tx, 1, "import", "create", &[&[x], &[y]], now).unwrap().unwrap();
        tx.commit().unwrap();
        assert_eq!(first.moved, [true, true]);
        let tx = immediate(&mut b);
        let second = job_start(&tx, 1, "import", "create", &[&[x], &[y, z], &[z]], now).unwrap().unwrap();
        tx.commit().unwrap();
        assert_eq!(second.moved, [false, false, true], "only z was still pending; y's group moves whole or not");
        assert_eq!(job_of_entry(&b, x).unwrap().unwrap().id, first.job_id, "x stays with the first job");
        assert_eq!(job_of_entry(&b, z).unwrap().unwrap().id, second.job_id);
        assert_eq!(outbox::get(&b, x).unwrap().unwrap().attempts, 1, "counted once");
        let tx = immediate(&mut b);
        assert_eq!(job_start(&tx, 1, "single", "create", &[&[x, y, z]], now).unwrap(), None, "no job recorded");
        drop(tx);
        let jobs: i64 = b.query_row("SELECT count(*) FROM sync_jobs", [], |r| r.get(0)).unwrap();
        assert_eq!(jobs, 2);
    }

    #[test]
    fn transition_moves_only_from_the_expected_states() {
        let (_dir, mut a, mut b) = two_connections();
        let now = Utc::now();
        let tx = immediate(&mut a);
        let id = entry(&tx, "t@b.co", now);
        tx.commit().unwrap();
        // A person discards the pending entry while a pass is about to record it as done.
        let tx = immediate(&mut a);
        assert!(transition(
            &tx,
            id,
            &[OutboxState::Pending, OutboxState::Rejected],
            OutboxState::Discarded,
            Some("by hand"),
            now
        )
        .unwrap());
        tx.commit().unwrap();
        let tx = immediate(&mut b);
        assert!(
            !transition(&tx, id, &[OutboxState::Pending], OutboxState::Done, None, now).unwrap(),
            "the pass's stale check is refused"
        );
        tx.commit().unwrap();
        let e = outbox::get(&b, id).unwrap().unwrap();
        assert_eq!((e.state.as_str(), e.last_error.as_deref()), ("discarded", Some("by hand")));
        // Leaving in_flight unlinks the entry from its job.
        let tx = immediate(&mut b);
        let other = entry(&tx, "u@b.co", now);
        job_start(&tx, 1, "single", "create", &[&[other]], now).unwrap().unwrap();
        assert!(!transition(&tx, other, &[OutboxState::Pending], OutboxState::Done, None, now).unwrap());
        assert!(job_of_entry(&tx, other).unwrap().is_some());
        assert!(transition(&tx, other, &[OutboxState::InFlight], OutboxState::Done, None, now).unwrap());
        assert!(job_of_entry(&tx, other).unwrap().is_none());
        tx.commit().unwrap();
    }

    fn lease<'a>(holder_id: &'a str) -> NewLease<'a> {
        NewLease { holder_id, holder: holder_id, pid: Some(1), host: Some("h") }
    }

    #[test]
    fn a_lease_blocks_others_until_released_or_expired_by_the_callers_clock() {
        let (_dir, mut a, mut b) = two_connections();
        let t0 = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 23, 15, 0, 0).unwrap();
        let ttl = chrono::Duration::seconds(90);
        let tx = immediate(&mut a);
        assert!(lease_take(&tx, &lease("A"), t0, t0 + ttl, None).unwrap());
        tx.commit().unwrap();
        let tx = immediate(&mut b);
        assert!(!lease_take(&tx, &lease("B"), t0 + chrono::Duration::seconds(89), t0 + ttl * 2, None).unwrap());
        assert!(!lease_take(&tx, &lease("B"), t0, t0 + ttl, Some("someone else")).unwrap());
        tx.commit().unwrap();
        assert_eq!(lease_get(&b).unwrap().unwrap().holder_id, "A");
        // A renews: its expiry moves, and B still waits past the first expiry.
        let tx = immediate(&mut a);
        let t1 = t0 + chrono::Duration::seconds(60);
        assert!(lease_renew(&tx, "A", t1, t1 + ttl).unwrap());
        tx.commit().unwrap();
        let tx = immediate(&mut b);
        assert!(!lease_take(&tx, &lease("B"), t0 + chrono::Duration::seconds(100), t0 + ttl * 3, None).unwrap());
        // Once A's expiry has passed by the clock B is given, B takes it over; A notices.
        assert!(lease_take(&tx, &lease("B"), t1 + ttl, t1 + ttl * 2, None).unwrap());
        tx.commit().unwrap();
        let tx = immediate(&mut a);
        assert!(!lease_renew(&tx, "A", t1 + ttl, t1 + ttl * 2).unwrap());
        assert!(!lease_release(&tx, "A").unwrap(), "A cannot release B's lease");
        tx.commit().unwrap();
        assert_eq!(lease_get(&a).unwrap().unwrap().holder_id, "B");
        // B releases; A takes it at once. A holder known to be gone is replaced at once too.
        let tx = immediate(&mut b);
        assert!(lease_release(&tx, "B").unwrap());
        tx.commit().unwrap();
        assert_eq!(lease_get(&a).unwrap(), None);
        let tx = immediate(&mut a);
        assert!(lease_take(&tx, &lease("A2"), t1, t1 + ttl, None).unwrap());
        assert!(lease_take(&tx, &lease("C"), t1, t1 + ttl, Some("A2")).unwrap());
        tx.commit().unwrap();
        let now = lease_get(&a).unwrap().unwrap();
        assert_eq!((now.holder_id.as_str(), now.taken_at, now.expires_at), ("C", t1, t1 + ttl));
    }
}
