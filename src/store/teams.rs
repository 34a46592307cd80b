//! The `teams` table.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Team {
    pub id: i64,
    pub remote_id: Option<String>,
    pub name: String,
    pub settings: serde_json::Value,
}

const COLS: &str = "id, remote_id, name, settings";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Team> {
    let settings: String = r.get(3)?;
    Ok(Team {
        id: r.get(0)?,
        remote_id: r.get(1)?,
        name: r.get(2)?,
        settings: serde_json::from_str(&settings).unwrap_or_default(),
    })
}

pub fn insert(tx: &Transaction<'_>, name: &str, remote_id: Option<&str>) -> rusqlite::Result<i64> {
    tx.execute("INSERT INTO teams(name, remote_id) VALUES (?1, ?2)", params![name, remote_id])?;
    Ok(tx.last_insert_rowid())
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Team>> {
    conn.query_row(&format!("SELECT {COLS} FROM teams WHERE id = ?1"), [id], from_row).optional()
}

pub fn by_remote_id(conn: &Connection, remote_id: &str) -> rusqlite::Result<Option<Team>> {
    conn.query_row(&format!("SELECT {COLS} FROM teams WHERE remote_id = ?1"), [remote_id], from_row).optional()
}

/// The teams a person belongs to, with their level in each.
/// The teams a person works in: every membership that is not disabled.
pub fn for_staff(conn: &Connection, staff_id: i64) -> rusqlite::Result<Vec<(Team, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.remote_id, t.name, t.settings, m.level FROM teams t
         JOIN team_members m ON m.team_id = t.id WHERE m.staff_id = ?1 AND m.disabled = 0 ORDER BY t.name",
    )?;
    let rows = stmt.query_map([staff_id], |r| Ok((from_row(r)?, r.get::<_, String>(4)?)))?;
    rows.collect()
}

pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM teams", [], |r| r.get(0))
}

pub fn update_settings(
    tx: &Transaction<'_>,
    id: i64,
    name: &str,
    settings: &serde_json::Value,
) -> rusqlite::Result<()> {
    tx.execute("UPDATE teams SET name = ?2, settings = ?3 WHERE id = ?1", params![id, name, settings.to_string()])?;
    Ok(())
}

pub fn set_remote_id(tx: &Transaction<'_>, id: i64, remote_id: &str) -> rusqlite::Result<()> {
    tx.execute("UPDATE teams SET remote_id = ?2 WHERE id = ?1", params![id, remote_id])?;
    Ok(())
}
