//! Purge means gone (issue #15): removing a purged resident's personal data (name, email,
//! phone, unit) from the outbox, the conflicts, the sync status and the audit log once its
//! change no longer needs it to sync, and scrubbing the audit log's resident details after
//! the retention period. The one place that rewrites personal data out of the database.
//!
//! An audit row is scrubbed by replacing its details by `{"scrubbed":…,"subjects":[…]}`
//! and a target naming the resident by the resident's keyed hash (`hmac:` + HMAC-SHA256 of
//! the email under a per-database random secret, [`SUBJECT_KEY`]): the action, actor, time,
//! team and site stay, the row's chain hash still verifies (it covers the personal part
//! through a commitment, see [`super::audit_chain`]), and hashing an email with the same
//! secret finds the rows again ([`subject_hash`]). The audit triggers allow exactly this
//! update. Freed pages are zeroed on disk (`secure_delete`, set in [`super::configure`]).

use super::ts;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sha2::Sha256;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by every scrub; the sync pass asks at its end whether one happened (its scrubs run
/// deep in the push's write-back) to empty the WAL of the pages' earlier copies.
static SCRUBBED: AtomicBool = AtomicBool::new(false);

/// Whether a scrub ran since the last call (in any connection of this process: at worst
/// one extra WAL checkpoint).
pub fn take_scrubbed() -> bool {
    SCRUBBED.swap(false, Ordering::Relaxed)
}

/// The settings key of the per-database secret (hex) that keys the hashes of scrubbed
/// residents' emails. Kept in the database itself: a stolen encrypted file reveals nothing,
/// and with the key a guessed email can be confirmed — the price of a traceable history.
pub const SUBJECT_KEY: &str = "audit.subject_key";

/// The settings key of the audit retention period, in days.
pub const RETENTION_DAYS: &str = "audit.retention_days";

/// The default retention: 7 years (the longest any anchor keeps), in days.
pub const DEFAULT_RETENTION_DAYS: i64 = 7 * 366;

/// The settings key of the instant up to which the retention scrub has run (so each open
/// reads only the rows that aged past the period since the last one).
const RETENTION_DONE: &str = "audit.retention_scrubbed_until";

/// The note on a purged resident's entries that never left this desk.
pub const NEVER_SENT: &str = "nothing to send: created and purged before sync";

/// A purged resident: the local id (outbox entries and conflicts keep it) and the email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub resident_id: Option<i64>,
    pub email: String,
}

/// How much a scrub rewrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scrubbed {
    pub outbox: u64,
    pub conflicts: u64,
    pub audit: u64,
}

fn existing_key(conn: &Connection) -> rusqlite::Result<Option<Vec<u8>>> {
    Ok(super::settings::get(conn, SUBJECT_KEY)?.and_then(|h| hex::decode(h.trim()).ok()).filter(|k| k.len() == 32))
}

/// The secret, made on first use.
fn subject_key(tx: &Transaction<'_>) -> rusqlite::Result<Vec<u8>> {
    if let Some(key) = existing_key(tx)? {
        return Ok(key);
    }
    let mut key = vec![0u8; 32];
    rand::rng().fill_bytes(&mut key);
    super::settings::set(tx, SUBJECT_KEY, &hex::encode(&key))?;
    Ok(key)
}

fn keyed(key: &[u8], email: &str) -> String {
    // HMAC takes a key of any length; 32 bytes never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(email.trim().to_lowercase().as_bytes());
    format!("hmac:{}", hex::encode(mac.finalize().into_bytes()))
}

/// The keyed hash a scrubbed row names `email` by; `None` while nothing was ever scrubbed
/// (no secret yet).
pub fn subject_hash(conn: &Connection, email: &str) -> rusqlite::Result<Option<String>> {
    Ok(existing_key(conn)?.map(|k| keyed(&k, email)))
}

/// The retention period in days (the setting, else [`DEFAULT_RETENTION_DAYS`]).
pub fn retention_days(conn: &Connection) -> rusqlite::Result<i64> {
    Ok(super::settings::get(conn, RETENTION_DAYS)?
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|d| *d > 0)
        .unwrap_or(DEFAULT_RETENTION_DAYS))
}

const OPEN_STATES: &str = "('pending', 'in_flight', 'rejected', 'conflict')";

/// Whether an entry of the resident still waits to be sent (or to be retried, or is held
/// by a conflict): its data is still needed.
fn has_open_entries(conn: &Connection, s: &Subject) -> rusqlite::Result<bool> {
    conn.prepare_cached(&format!(
        "SELECT 1 FROM outbox WHERE (resident_id = ?1 OR email = ?2) AND state IN {OPEN_STATES} LIMIT 1"
    ))?
    .exists(params![s.resident_id, s.email])
}

/// A resident purged before any of its changes left this desk (no remote id, every entry
/// pending or discarded): the entries are done now, as the push would have done them
/// (create + purge send nothing). Returns how many were settled (0: something was sent).
pub fn settle_never_sent(tx: &Transaction<'_>, s: &Subject, now: DateTime<Utc>) -> rusqlite::Result<u64> {
    let sent = tx
        .prepare_cached(
            "SELECT 1 FROM outbox WHERE (resident_id = ?1 OR email = ?2)
               AND (state NOT IN ('pending', 'discarded') OR remote_id IS NOT NULL) LIMIT 1",
        )?
        .exists(params![s.resident_id, s.email])?;
    if sent {
        return Ok(0);
    }
    let n = tx
        .prepare_cached(
            "UPDATE outbox SET state = 'done', last_error = ?3, updated_at = ?4
             WHERE (resident_id = ?1 OR email = ?2) AND state = 'pending'",
        )?
        .execute(params![s.resident_id, s.email, NEVER_SENT, ts(now)])?;
    Ok(n as u64)
}

/// Scrubs every purged resident of `subjects` whose data no sync still needs (no open
/// outbox entry) and whose email no current resident uses; the others are left for the
/// push that settles them. In the caller's transaction.
pub fn purged(tx: &Transaction<'_>, subjects: &[Subject], now: DateTime<Utc>) -> rusqlite::Result<Scrubbed> {
    let mut out = Scrubbed::default();
    let mut ready = Vec::new();
    for s in subjects {
        let present = tx.prepare_cached("SELECT 1 FROM residents WHERE email = ?1")?.exists([&s.email])?;
        if !present && !has_open_entries(tx, s)? {
            ready.push(s);
        }
    }
    if ready.is_empty() {
        return Ok(out);
    }
    SCRUBBED.store(true, Ordering::Relaxed);
    let key = subject_key(tx)?;
    for s in &ready {
        out.outbox += tx
            .prepare_cached(
                "UPDATE outbox SET payload = '{}', base = '{}', email = NULL,
                        last_error = replace(last_error, ?2, '[purged]')
                 WHERE (resident_id = ?1 OR email = ?2)
                   AND (payload <> '{}' OR base <> '{}' OR email IS NOT NULL OR instr(last_error, ?2) > 0)",
            )?
            .execute(params![s.resident_id, s.email])? as u64;
        out.conflicts += tx
            .prepare_cached(
                "UPDATE sync_conflicts SET fields = '{}', email = NULL,
                        message = 'the resident was purged; the details were removed',
                        resolution = CASE WHEN resolution IS NULL THEN NULL ELSE '{}' END
                 WHERE (resident_id = ?1 OR email = ?2) AND (fields <> '{}' OR email IS NOT NULL)",
            )?
            .execute(params![s.resident_id, s.email])? as u64;
        tx.prepare_cached("UPDATE sync_status SET value = replace(value, ?1, '[purged]') WHERE instr(value, ?1) > 0")?
            .execute([&s.email])?;
    }
    // The audit rows naming any of them, in one pass over the log (a bulk action's row
    // names many residents in its details).
    let emails: Vec<&str> = ready.iter().map(|s| s.email.as_str()).collect();
    let rows: Vec<(i64, Option<String>, String)> = tx
        .prepare_cached(
            "SELECT id, target, details FROM audit
             WHERE scrubbed_at IS NULL
               AND EXISTS (SELECT 1 FROM json_each(?1) AS e
                           WHERE audit.target = e.value OR instr(audit.details, e.value) > 0)",
        )?
        .query_map([serde_json::to_string(&emails).unwrap_or_else(|_| "[]".into())], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    for (id, target, details) in rows {
        let named: Vec<&str> = emails
            .iter()
            .copied()
            .filter(|e| target.as_deref().is_some_and(|t| t.contains(e)) || details.contains(e))
            .collect();
        scrub_row(tx, &key, id, target.as_deref(), &named, now)?;
        out.audit += 1;
    }
    Ok(out)
}

/// After outbox entries were marked done by a push: the residents whose purge was among
/// them are scrubbed (when nothing else of theirs is open).
pub fn after_pushed(tx: &Transaction<'_>, entry_ids: &[i64], now: DateTime<Utc>) -> rusqlite::Result<Scrubbed> {
    let subjects: Vec<Subject> = tx
        .prepare_cached(
            "SELECT DISTINCT resident_id, email FROM outbox
             WHERE id IN (SELECT value FROM json_each(?1)) AND op = 'purge' AND email IS NOT NULL",
        )?
        .query_map([super::json_ids(entry_ids)], |r| Ok(Subject { resident_id: r.get(0)?, email: r.get(1)? }))?
        .collect::<Result<_, _>>()?;
    if subjects.is_empty() {
        return Ok(Scrubbed::default());
    }
    purged(tx, &subjects, now)
}

/// Replaces one audit row's personal part (the one update the triggers allow).
fn scrub_row(
    tx: &Transaction<'_>,
    key: &[u8],
    id: i64,
    target: Option<&str>,
    emails: &[&str],
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let subjects: Vec<String> = emails.iter().map(|e| keyed(key, e)).collect();
    // Starts with `{"scrubbed":`, which the update trigger and `audit verify` look for.
    let details = format!(
        "{{\"scrubbed\":{},\"subjects\":{}}}",
        serde_json::Value::from(ts(now)),
        serde_json::to_string(&subjects).unwrap_or_else(|_| "[]".into())
    );
    let target = match target {
        Some(t) if emails.iter().any(|e| t.contains(e)) || t.contains('@') => {
            let email = emails.iter().find(|e| t.contains(**e)).copied().unwrap_or(t);
            Some(keyed(key, email))
        }
        other => other.map(str::to_string),
    };
    tx.prepare_cached("UPDATE audit SET target = ?2, details = ?3, scrubbed_at = ?4 WHERE id = ?1")?
        .execute(params![id, target, details, ts(now)])?;
    Ok(())
}

/// The emails a row names: its target and every string of its details that holds an `@`.
fn emails_in(target: Option<&str>, details: &str) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) if s.contains('@') => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out: Vec<String> = target.filter(|t| t.contains('@')).map(str::to_string).into_iter().collect();
    if let Ok(v) = serde_json::from_str(details) {
        walk(&v, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

/// Whether [`older_than`] has work: rows about residents aged past `cutoff` since its last
/// run, or a last run more than 30 days back (its mark moves on, so each open reads little).
pub fn retention_due(conn: &Connection, cutoff: DateTime<Utc>) -> rusqlite::Result<bool> {
    let from: String = conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [RETENTION_DONE], |r| r.get(0))
        .optional()?
        .unwrap_or_default();
    let until = ts(cutoff);
    if until <= from {
        return Ok(false);
    }
    if super::parse_ts(&from).is_none_or(|f| cutoff - f > chrono::Duration::days(30)) {
        // Never run, or long ago: only worth a write when the log holds rows that old.
        let old = conn.prepare_cached("SELECT 1 FROM audit WHERE at < ?1 LIMIT 1")?.exists([&until])?;
        if old {
            return Ok(true);
        }
    }
    conn.prepare_cached(
        "SELECT 1 FROM audit
         WHERE at >= ?1 AND at < ?2 AND scrubbed_at IS NULL
           AND (action LIKE 'resident.%' OR action LIKE 'bulk.%' OR target IN (SELECT email FROM residents))
         LIMIT 1",
    )?
    .exists(params![from, until])
}

/// Scrubs the audit rows about residents (resident and bulk actions, or a target that is a
/// current resident's email) written before `cutoff` (now minus the retention period), from
/// where the last run stopped; the row's staff actor stays. Returns how many rows changed.
pub fn older_than(tx: &Transaction<'_>, cutoff: DateTime<Utc>, now: DateTime<Utc>) -> rusqlite::Result<u64> {
    let from: String = tx
        .query_row("SELECT value FROM settings WHERE key = ?1", [RETENTION_DONE], |r| r.get(0))
        .optional()?
        .unwrap_or_default();
    let until = ts(cutoff);
    if until <= from {
        return Ok(0);
    }
    let rows: Vec<(i64, Option<String>, String)> = tx
        .prepare_cached(
            "SELECT id, target, details FROM audit
             WHERE at >= ?1 AND at < ?2 AND scrubbed_at IS NULL
               AND (action LIKE 'resident.%' OR action LIKE 'bulk.%'
                    OR target IN (SELECT email FROM residents))",
        )?
        .query_map(params![from, until], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut n = 0;
    if !rows.is_empty() {
        let key = subject_key(tx)?;
        for (id, target, details) in rows {
            let emails = emails_in(target.as_deref(), &details);
            let named: Vec<&str> = emails.iter().map(String::as_str).collect();
            scrub_row(tx, &key, id, target.as_deref(), &named, now)?;
            n += 1;
        }
    }
    super::settings::set(tx, RETENTION_DONE, &until)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_found_in_the_target_and_nested_details() {
        let found = emails_in(Some("a@x.test"), r#"{"success":["b@x.test","a@x.test"],"n":{"e":"c@x.test"},"k":1}"#);
        assert_eq!(found, ["a@x.test", "b@x.test", "c@x.test"]);
        assert!(emails_in(Some("Bayside"), "{}").is_empty());
    }

    #[test]
    fn the_keyed_hash_ignores_case_and_depends_on_the_key() {
        assert_eq!(keyed(&[1; 32], "A@x.test "), keyed(&[1; 32], "a@x.test"));
        assert_ne!(keyed(&[1; 32], "a@x.test"), keyed(&[2; 32], "a@x.test"));
        assert!(keyed(&[1; 32], "a@x.test").starts_with("hmac:"));
    }
}
