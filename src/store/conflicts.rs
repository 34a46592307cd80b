//! The conflict inbox (`sync_conflicts`): what the remote and the local side both changed,
//! with both values, until a person resolves it.

use super::{opt_ts, parse_ts, ts};
use chrono::{DateTime, Utc};
use residentdesk_domain::ConflictKind;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;
use serde_json::Value;

/// A conflict to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConflict<'a> {
    pub site_id: i64,
    pub resident_id: Option<i64>,
    pub remote_id: Option<&'a str>,
    pub email: Option<&'a str>,
    /// `field`, `remote_purge` or `unit_taken`.
    pub kind: ConflictKind,
    /// Field → `{"base", "local", "remote"}`.
    pub fields: Value,
    pub entry_ids: &'a [i64],
    pub message: &'a str,
}

/// A stored conflict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Conflict {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub site_id: i64,
    pub resident_id: Option<i64>,
    pub remote_id: Option<String>,
    pub email: Option<String>,
    pub kind: String,
    pub fields: Value,
    pub entry_ids: Vec<i64>,
    pub message: String,
    pub state: String,
    pub resolution: Option<Value>,
    pub resolved_by: Option<i64>,
    pub resolved_at: Option<DateTime<Utc>>,
}

const COLS: &str = "id, created_at, site_id, resident_id, remote_id, email, kind, fields, entry_ids, message, state, \
                    resolution, resolved_by, resolved_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Conflict> {
    let json = |i: usize| -> rusqlite::Result<Value> {
        let s: String = r.get(i)?;
        Ok(serde_json::from_str(&s).unwrap_or(Value::Null))
    };
    let resolution: Option<String> = r.get(11)?;
    let created: String = r.get(1)?;
    Ok(Conflict {
        id: r.get(0)?,
        created_at: parse_ts(&created).unwrap_or_default(),
        site_id: r.get(2)?,
        resident_id: r.get(3)?,
        remote_id: r.get(4)?,
        email: r.get(5)?,
        kind: r.get(6)?,
        fields: json(7)?,
        entry_ids: serde_json::from_value(json(8)?).unwrap_or_default(),
        message: r.get(9)?,
        state: r.get(10)?,
        resolution: resolution.and_then(|s| serde_json::from_str(&s).ok()),
        resolved_by: r.get(12)?,
        resolved_at: opt_ts(r.get(13)?),
    })
}

/// Records a conflict; returns its id.
pub fn insert(tx: &Transaction<'_>, c: &NewConflict<'_>, now: DateTime<Utc>) -> rusqlite::Result<i64> {
    tx.prepare_cached(
        "INSERT INTO sync_conflicts(created_at, site_id, resident_id, remote_id, email, kind, fields, entry_ids, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        ts(now),
        c.site_id,
        c.resident_id,
        c.remote_id,
        c.email,
        c.kind.as_str(),
        c.fields.to_string(),
        serde_json::to_string(c.entry_ids).unwrap_or_else(|_| "[]".into()),
        c.message
    ])?;
    Ok(tx.last_insert_rowid())
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Conflict>> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM sync_conflicts WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()
}

/// Conflicts of the given sites, open ones only unless `all`, oldest first.
pub fn list_for_sites(conn: &Connection, site_ids: &[i64], all: bool) -> rusqlite::Result<Vec<Conflict>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM sync_conflicts WHERE site_id IN (SELECT value FROM json_each(?1))
         AND (?2 OR state = 'open') ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![super::json_ids(site_ids), all], from_row)?;
    rows.collect()
}

/// The open conflict of a resident, if any.
pub fn open_for_resident(conn: &Connection, resident_id: i64) -> rusqlite::Result<Option<Conflict>> {
    conn.prepare_cached(&format!(
        "SELECT {COLS} FROM sync_conflicts WHERE resident_id = ?1 AND state = 'open' ORDER BY id LIMIT 1"
    ))?
    .query_row([resident_id], from_row)
    .optional()
}

/// Number of open conflicts over the given sites.
pub fn count_open(conn: &Connection, site_ids: &[i64]) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT count(*) FROM sync_conflicts WHERE state = 'open' AND site_id IN (SELECT value FROM json_each(?1))",
    )?
    .query_row([super::json_ids(site_ids)], |r| r.get(0))
}

/// Marks a conflict resolved with what the person chose.
pub fn resolve(
    tx: &Transaction<'_>,
    id: i64,
    resolution: &Value,
    resolved_by: Option<i64>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE sync_conflicts SET state = 'resolved', resolution = ?2, resolved_by = ?3, resolved_at = ?4
         WHERE id = ?1",
    )?
    .execute(params![id, resolution.to_string(), resolved_by, ts(now)])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::open_in_memory;
    use serde_json::json;

    #[test]
    fn insert_list_resolve() {
        let mut conn = open_in_memory().unwrap();
        let now = Utc::now();
        let tx = conn.transaction().unwrap();
        let id = insert(
            &tx,
            &NewConflict {
                site_id: 3,
                resident_id: Some(9),
                remote_id: Some("r9"),
                email: Some("a@b.co"),
                kind: ConflictKind::Field,
                fields: json!({"FirstName": {"base": "A", "local": "B", "remote": "C"}}),
                entry_ids: &[4, 5],
                message: "FirstName changed on both sides",
            },
            now,
        )
        .unwrap();
        tx.commit().unwrap();
        let open = list_for_sites(&conn, &[3], false).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].entry_ids, vec![4, 5]);
        assert_eq!(open[0].fields["FirstName"]["remote"], "C");
        assert_eq!(count_open(&conn, &[3]).unwrap(), 1);
        assert!(list_for_sites(&conn, &[4], false).unwrap().is_empty());
        let tx = conn.transaction().unwrap();
        resolve(&tx, id, &json!({"keep": "local"}), Some(1), now).unwrap();
        tx.commit().unwrap();
        assert_eq!(count_open(&conn, &[3]).unwrap(), 0);
        assert_eq!(get(&conn, id).unwrap().unwrap().state, "resolved");
    }
}
