//! The `roles`, `member_roles` and `job_functions` tables: add-on roles a team defines, the
//! add-on roles each member holds, and job-function templates.

use super::ts;
use crate::access::roles::{Role, RoleKind};
use crate::access::Level;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

fn role_from_row(r: &Row<'_>) -> rusqlite::Result<Role> {
    let perms: String = r.get(2)?;
    Ok(Role {
        key: r.get(0)?,
        name: r.get(1)?,
        kind: RoleKind::AddOn,
        permissions: serde_json::from_str(&perms).unwrap_or_default(),
        assignable: r.get::<_, i64>(3)? != 0,
        builtin: false,
        level: None,
        description: r.get(4)?,
    })
}

/// The add-on roles a team defined, by key.
pub fn list(conn: &Connection, team_id: i64) -> rusqlite::Result<Vec<Role>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, name, permissions, assignable, description FROM roles WHERE team_id = ?1 ORDER BY key",
    )?;
    let rows = stmt.query_map([team_id], role_from_row)?;
    rows.collect()
}

pub fn get(conn: &Connection, team_id: i64, key: &str) -> rusqlite::Result<Option<Role>> {
    conn.prepare_cached(
        "SELECT key, name, permissions, assignable, description FROM roles WHERE team_id = ?1 AND key = ?2",
    )?
    .query_row(params![team_id, key], role_from_row)
    .optional()
}

pub fn insert(
    tx: &Transaction<'_>,
    team_id: i64,
    role: &Role,
    created_by: i64,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO roles(team_id, key, name, permissions, assignable, description, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            team_id,
            role.key,
            role.name,
            serde_json::to_string(&role.permissions).unwrap_or_else(|_| "[]".into()),
            role.assignable as i64,
            role.description,
            created_by,
            ts(now)
        ],
    )?;
    Ok(())
}

/// Deletes a team-defined role and every assignment of it; returns how many members held it.
pub fn delete(tx: &Transaction<'_>, team_id: i64, key: &str) -> rusqlite::Result<usize> {
    let held = tx.execute("DELETE FROM member_roles WHERE team_id = ?1 AND role_key = ?2", params![team_id, key])?;
    tx.execute("DELETE FROM roles WHERE team_id = ?1 AND key = ?2", params![team_id, key])?;
    Ok(held)
}

/// The keys of the add-on roles a member holds in a team.
pub fn member_role_keys(conn: &Connection, staff_id: i64, team_id: i64) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT role_key FROM member_roles WHERE staff_id = ?1 AND team_id = ?2 ORDER BY role_key")?;
    let rows = stmt.query_map(params![staff_id, team_id], |r| r.get(0))?;
    rows.collect()
}

/// Replaces the add-on roles of a member in a team.
pub fn set_member_roles(
    tx: &Transaction<'_>,
    staff_id: i64,
    team_id: i64,
    keys: &[String],
    granted_by: Option<i64>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM member_roles WHERE staff_id = ?1 AND team_id = ?2", params![staff_id, team_id])?;
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO member_roles(staff_id, team_id, role_key, granted_by, granted_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for key in keys {
        stmt.execute(params![staff_id, team_id, key, granted_by, ts(now)])?;
    }
    Ok(())
}

/// A job function as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobFunctionRow {
    pub key: String,
    pub name: String,
    pub base: Level,
    pub addons: Vec<String>,
    pub all_sites: bool,
}

pub fn job_functions(conn: &Connection, team_id: i64) -> rusqlite::Result<Vec<JobFunctionRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, name, base_level, addons, all_sites FROM job_functions WHERE team_id = ?1 ORDER BY key",
    )?;
    let rows = stmt.query_map([team_id], |r| {
        let base: String = r.get(2)?;
        let addons: String = r.get(3)?;
        Ok(JobFunctionRow {
            key: r.get(0)?,
            name: r.get(1)?,
            base: Level::parse(&base).unwrap_or(Level::StaffUser),
            addons: serde_json::from_str(&addons).unwrap_or_default(),
            all_sites: r.get::<_, i64>(4)? != 0,
        })
    })?;
    rows.collect()
}

pub fn insert_job_function(tx: &Transaction<'_>, team_id: i64, jf: &JobFunctionRow) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO job_functions(team_id, key, name, base_level, addons, all_sites) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            team_id,
            jf.key,
            jf.name,
            jf.base.as_str(),
            serde_json::to_string(&jf.addons).unwrap_or_else(|_| "[]".into()),
            jf.all_sites as i64
        ],
    )?;
    Ok(())
}

/// How many team-defined roles exist (all teams).
pub fn count_roles(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM roles", [], |r| r.get(0))
}
