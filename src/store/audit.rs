//! The append-only audit log (no update or delete path; triggers refuse both).

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

/// Appends an entry. Takes `&Connection` because a transaction derefs to one: denials and
/// failed sign-ins are written on their own, mutations inside their transaction.
pub fn append(conn: &Connection, a: &NewAudit<'_>, now: DateTime<Utc>) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO audit(at, actor_id, actor, action, outcome, team_id, site_id, target, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        ts(now),
        a.actor_id,
        a.actor,
        a.action,
        a.outcome,
        a.team_id,
        a.site_id,
        a.target,
        a.details.as_str()
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

pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
}
