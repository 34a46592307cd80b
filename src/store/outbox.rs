//! The durable outbox: one row per local change, written in the same transaction as the
//! change itself, read in order by sync.

use super::{parse_ts, ts};
use chrono::{DateTime, Utc};
use residentdesk_domain::{OutboxOp, OutboxState};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

/// An outbox entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry<'a> {
    pub actor_id: Option<i64>,
    pub site_id: i64,
    pub resident_id: Option<i64>,
    pub remote_id: Option<&'a str>,
    pub email: Option<&'a str>,
    pub op: OutboxOp,
    pub payload: super::JsonText,
    pub base: super::JsonText,
}

/// An outbox entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Entry {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub site_id: i64,
    pub resident_id: Option<i64>,
    pub remote_id: Option<String>,
    pub email: Option<String>,
    pub op: String,
    pub payload: serde_json::Value,
    pub base: serde_json::Value,
    pub idempotency_key: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

const COLS: &str = "id, created_at, actor_id, site_id, resident_id, remote_id, email, op, payload, base, \
                    idempotency_key, state, attempts, last_error, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Entry> {
    let json = |i: usize| -> rusqlite::Result<serde_json::Value> {
        let s: String = r.get(i)?;
        Ok(serde_json::from_str(&s).unwrap_or(serde_json::Value::Null))
    };
    let at = |i: usize| -> rusqlite::Result<DateTime<Utc>> {
        let s: String = r.get(i)?;
        Ok(parse_ts(&s).unwrap_or_default())
    };
    Ok(Entry {
        id: r.get(0)?,
        created_at: at(1)?,
        actor_id: r.get(2)?,
        site_id: r.get(3)?,
        resident_id: r.get(4)?,
        remote_id: r.get(5)?,
        email: r.get(6)?,
        op: r.get(7)?,
        payload: json(8)?,
        base: json(9)?,
        idempotency_key: r.get(10)?,
        state: r.get(11)?,
        attempts: r.get(12)?,
        last_error: r.get(13)?,
        updated_at: at(14)?,
    })
}

/// Appends an entry with a fresh idempotency key; returns its id.
pub fn append(tx: &Transaction<'_>, e: &NewEntry<'_>, now: DateTime<Utc>) -> rusqlite::Result<i64> {
    insert(tx, e, None, now)
}

/// Appends an entry that can be undone while unsent: `undo` is the resident's values from
/// before the change (a JSON before-image, see migration 0013), which [`before_image`] gives
/// back. Returns its id.
pub fn append_undoable(
    tx: &Transaction<'_>,
    e: &NewEntry<'_>,
    undo: &serde_json::Value,
    now: DateTime<Utc>,
) -> rusqlite::Result<i64> {
    insert(tx, e, Some(undo.to_string()), now)
}

fn insert(tx: &Transaction<'_>, e: &NewEntry<'_>, undo: Option<String>, now: DateTime<Utc>) -> rusqlite::Result<i64> {
    // Time-ordered (v7) keys: the unique index grows at its end instead of splitting pages
    // at random, which keeps large imports fast.
    let key = uuid::Uuid::now_v7().to_string();
    tx.prepare_cached(
        "INSERT INTO outbox(created_at, actor_id, site_id, resident_id, remote_id, email, op, payload, base,
                            idempotency_key, updated_at, undo)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?1, ?11)",
    )?
    .execute(params![
        ts(now),
        e.actor_id,
        e.site_id,
        e.resident_id,
        e.remote_id,
        e.email,
        e.op.as_str(),
        e.payload.as_str(),
        e.base.as_str(),
        key,
        undo
    ])?;
    Ok(tx.last_insert_rowid())
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Entry>> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM outbox WHERE id = ?1"))?.query_row([id], from_row).optional()
}

/// Entries in the given states, oldest first.
pub fn list(conn: &Connection, states: &[OutboxState], limit: usize) -> rusqlite::Result<Vec<Entry>> {
    let states = serde_json::to_string(states).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM outbox WHERE state IN (SELECT value FROM json_each(?1)) ORDER BY id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![states, limit as i64], from_row)?;
    rows.collect()
}

/// Entries of the given sites in the given states, oldest first (what a person may see).
pub fn list_for_sites(
    conn: &Connection,
    site_ids: &[i64],
    states: &[OutboxState],
    limit: usize,
) -> rusqlite::Result<Vec<Entry>> {
    let states = serde_json::to_string(states).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM outbox WHERE state IN (SELECT value FROM json_each(?1))
         AND site_id IN (SELECT value FROM json_each(?2)) ORDER BY id LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![states, super::json_ids(site_ids), limit as i64], from_row)?;
    rows.collect()
}

/// Counts per state.
pub fn counts(conn: &Connection) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT state, count(*) FROM outbox GROUP BY state ORDER BY state")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Pending entries of one resident (the local side of a 3-way merge).
pub fn pending_for_resident(conn: &Connection, resident_id: i64) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM outbox WHERE resident_id = ?1 AND state IN ('pending', 'in_flight', 'rejected', 'conflict')
         ORDER BY id"
    ))?;
    let rows = stmt.query_map([resident_id], from_row)?;
    rows.collect()
}

pub fn set_state(
    tx: &Transaction<'_>,
    id: i64,
    state: OutboxState,
    last_error: Option<&str>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE outbox SET state = ?2, last_error = ?3, updated_at = ?4 WHERE id = ?1")?
        .execute(params![id, state.as_str(), last_error, ts(now)])?;
    Ok(())
}

pub fn bump_attempts(tx: &Transaction<'_>, id: i64, now: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE outbox SET attempts = attempts + 1, updated_at = ?2 WHERE id = ?1")?
        .execute(params![id, ts(now)])?;
    Ok(())
}

/// Records the remote id on every entry of a resident once the create is known remotely.
pub fn set_remote_id_for_resident(tx: &Transaction<'_>, resident_id: i64, remote_id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE outbox SET remote_id = ?2 WHERE resident_id = ?1 AND remote_id IS NULL")?
        .execute(params![resident_id, remote_id])?;
    Ok(())
}

/// The before-image an undoable entry keeps (`None`: the entry cannot be undone).
pub fn before_image(conn: &Connection, id: i64) -> rusqlite::Result<Option<serde_json::Value>> {
    let text: Option<Option<String>> =
        conn.prepare_cached("SELECT undo FROM outbox WHERE id = ?1")?.query_row([id], |r| r.get(0)).optional()?;
    Ok(text.flatten().and_then(|t| serde_json::from_str(&t).ok()))
}

/// Whether the resident has an entry after `id` that still counts (anything not withdrawn):
/// a change made since, which an undo of entry `id` would contradict.
pub fn changed_since(conn: &Connection, resident_id: i64, id: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM outbox WHERE resident_id = ?1 AND id > ?2 AND state <> 'discarded' LIMIT 1")?
        .exists(params![resident_id, id])
}

/// Withdraws an entry that has never been sent: `pending`, no attempt counted and no
/// `last_error` (a push that took an entry and gave it back — a time-out, an interruption —
/// always leaves its reason there, and the change may have reached the remote). It becomes
/// `discarded` with `note`. Compare-and-set, like the push's own claim: false when the entry
/// was claimed or sent meanwhile, and nothing changes then.
pub fn withdraw_unsent(tx: &Transaction<'_>, id: i64, note: &str, now: DateTime<Utc>) -> rusqlite::Result<bool> {
    let n = tx
        .prepare_cached(
            "UPDATE outbox SET state = 'discarded', last_error = ?2, updated_at = ?3
             WHERE id = ?1 AND state = 'pending' AND attempts = 0 AND last_error IS NULL",
        )?
        .execute(params![id, note, ts(now)])?;
    Ok(n == 1)
}

/// The before-image of the resident's latest terminate entry that was not withdrawn (what
/// their access end was before they were terminated), if one was kept.
pub fn last_termination_before(conn: &Connection, resident_id: i64) -> rusqlite::Result<Option<serde_json::Value>> {
    let text: Option<Option<String>> = conn
        .prepare_cached(
            "SELECT undo FROM outbox WHERE resident_id = ?1 AND op = 'terminate' AND state <> 'discarded'
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row([resident_id], |r| r.get(0))
        .optional()?;
    Ok(text.flatten().and_then(|t| serde_json::from_str(&t).ok()))
}
