//! The append-only audit log: one writer ([`append`], which chains every row), reads; no
//! update or delete path (triggers refuse both, but for the scrub of [`super::scrub`]).

use super::{parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, Row};
use serde::Serialize;

/// An audit entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAudit<'a> {
    pub actor_id: Option<i64>,
    pub actor: &'a str,
    pub action: &'a str,
    pub outcome: &'a str,
    pub team_id: Option<i64>,
    pub site_id: Option<i64>,
    pub target: Option<&'a str>,
    pub details: super::JsonText,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub team_id: Option<i64>,
    pub site_id: Option<i64>,
    pub target: Option<String>,
    pub details: serde_json::Value,
}

/// Appends an entry: the one writer of the audit log, which chains it (its hash over the
/// previous row's hash and its own columns, see [`super::audit_chain`]) in the same
/// transaction. Takes `&Connection` because a transaction derefs to one: denials and failed
/// sign-ins are written on their own (then in an immediate transaction of their own, so two
/// processes never chain onto the same previous row), mutations inside their transaction.
pub fn append(conn: &Connection, a: &NewAudit<'_>, now: DateTime<Utc>) -> rusqlite::Result<i64> {
    if conn.is_autocommit() {
        let tx = super::begin_immediate(conn)?;
        let id = insert_chained(&tx, a, now)?;
        tx.commit()?;
        return Ok(id);
    }
    insert_chained(conn, a, now)
}

fn insert_chained(conn: &Connection, a: &NewAudit<'_>, now: DateTime<Utc>) -> rusqlite::Result<i64> {
    let at = ts(now);
    let prev = super::audit_chain::last_hash(conn)?;
    let commitment = super::audit_chain::commitment(a.target, a.details.as_str());
    let hash = super::audit_chain::row_hash(
        &prev,
        &super::audit_chain::Chained {
            at: &at,
            actor_id: a.actor_id,
            actor: a.actor,
            action: a.action,
            outcome: a.outcome,
            team_id: a.team_id,
            site_id: a.site_id,
            commitment: &commitment,
        },
    );
    conn.prepare_cached(
        "INSERT INTO audit(at, actor_id, actor, action, outcome, team_id, site_id, target, details, commitment,
                           prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        at,
        a.actor_id,
        a.actor,
        a.action,
        a.outcome,
        a.team_id,
        a.site_id,
        a.target,
        a.details.as_str(),
        commitment.as_slice(),
        prev.as_slice(),
        hash.as_slice()
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Whether any entry records `action` (e.g. `demo.seed`: a demo database).
pub fn has_action(conn: &Connection, action: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM audit WHERE action = ?1 LIMIT 1")?.exists([action])
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    let at: String = r.get(1)?;
    let details: String = r.get(9)?;
    Ok(AuditEntry {
        id: r.get(0)?,
        at: parse_ts(&at).unwrap_or_default(),
        actor_id: r.get(2)?,
        actor: r.get(3)?,
        action: r.get(4)?,
        outcome: r.get(5)?,
        team_id: r.get(6)?,
        site_id: r.get(7)?,
        target: r.get(8)?,
        details: serde_json::from_str(&details).unwrap_or_default(),
    })
}

/// Newest first. `team_id` restricts to one team's entries (plus that team's people's
/// sign-ins, which carry no team).
pub fn list(
    conn: &Connection,
    team_id: Option<i64>,
    since: Option<DateTime<Utc>>,
    limit: usize,
) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, actor_id, actor, action, outcome, team_id, site_id, target, details FROM audit
         WHERE (?1 IS NULL OR team_id = ?1 OR (team_id IS NULL AND actor_id IN
                (SELECT staff_id FROM team_members WHERE team_id = ?1)))
           AND (?2 IS NULL OR at >= ?2)
         ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![team_id, since.map(ts), limit as i64], from_row)?;
    rows.collect()
}

/// Newest first: the entries naming `email` (target or details), or carrying `hashed`, its
/// keyed hash (rows scrubbed by [`super::scrub`]); `team_id` as in [`list`].
pub fn for_subject(
    conn: &Connection,
    team_id: Option<i64>,
    email: &str,
    hashed: Option<&str>,
    limit: usize,
) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, actor_id, actor, action, outcome, team_id, site_id, target, details FROM audit
         WHERE (?1 IS NULL OR team_id = ?1 OR (team_id IS NULL AND actor_id IN
                (SELECT staff_id FROM team_members WHERE team_id = ?1)))
           AND (target = ?2 OR instr(details, ?2) > 0
                OR (?3 IS NOT NULL AND (target = ?3 OR instr(details, ?3) > 0)))
         ORDER BY id DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![team_id, email, hashed, limit as i64], from_row)?;
    rows.collect()
}

pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
}
