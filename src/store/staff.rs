//! The `staff`, `team_members` and `site_members` tables.

use super::{opt_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

/// A staff account (passwords never leave the store except as the PHC hash for verifying).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Staff {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub is_owner: bool,
    pub active_team_id: Option<i64>,
    pub failed_attempts: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub disabled: bool,
    /// Set while the password is a temporary one from a reset: until when it signs in (once,
    /// to choose a new password).
    pub password_temporary_until: Option<DateTime<Utc>>,
}

const COLS: &str = "id, email, display_name, password_hash, is_owner, active_team_id, failed_attempts, locked_until, \
                    disabled, password_temporary_until";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Staff> {
    Ok(Staff {
        id: r.get(0)?,
        email: r.get(1)?,
        display_name: r.get(2)?,
        password_hash: r.get(3)?,
        is_owner: r.get::<_, i64>(4)? != 0,
        active_team_id: r.get(5)?,
        failed_attempts: r.get(6)?,
        locked_until: opt_ts(r.get(7)?),
        disabled: r.get::<_, i64>(8)? != 0,
        password_temporary_until: opt_ts(r.get(9)?),
    })
}

pub fn insert(
    tx: &Transaction<'_>,
    email: &str,
    display_name: &str,
    password_hash: Option<&str>,
    is_owner: bool,
    now: DateTime<Utc>,
) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO staff(email, display_name, password_hash, is_owner, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![email, display_name, password_hash, is_owner as i64, ts(now)],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Staff>> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM staff WHERE id = ?1"))?.query_row([id], from_row).optional()
}

pub fn by_email(conn: &Connection, email: &str) -> rusqlite::Result<Option<Staff>> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM staff WHERE email = ?1 COLLATE NOCASE"))?
        .query_row([email], from_row)
        .optional()
}

pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM staff", [], |r| r.get(0))
}

pub fn any_owner(conn: &Connection) -> rusqlite::Result<bool> {
    conn.prepare("SELECT 1 FROM staff WHERE is_owner = 1")?.exists([])
}

pub fn record_failure(tx: &Transaction<'_>, id: i64, locked_until: Option<DateTime<Utc>>) -> rusqlite::Result<i64> {
    tx.execute(
        "UPDATE staff SET failed_attempts = failed_attempts + 1, locked_until = COALESCE(?2, locked_until) WHERE id = ?1",
        params![id, locked_until.map(ts)],
    )?;
    tx.query_row("SELECT failed_attempts FROM staff WHERE id = ?1", [id], |r| r.get(0))
}

pub fn reset_failures(tx: &Transaction<'_>, id: i64) -> rusqlite::Result<()> {
    tx.execute("UPDATE staff SET failed_attempts = 0, locked_until = NULL WHERE id = ?1", [id])?;
    Ok(())
}

pub fn set_active_team(tx: &Transaction<'_>, id: i64, team_id: i64) -> rusqlite::Result<()> {
    tx.execute("UPDATE staff SET active_team_id = ?2 WHERE id = ?1", params![id, team_id])?;
    Ok(())
}

/// Sets a password the person chose (a temporary one, if any, stops being one).
pub fn set_password_hash(tx: &Transaction<'_>, id: i64, hash: &str) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE staff SET password_hash = ?2, password_temporary_until = NULL WHERE id = ?1",
        params![id, hash],
    )?;
    Ok(())
}

/// Rewrites the hash of the same password (new hashing parameters): whether it is temporary,
/// and until when, stays as it was.
pub fn replace_password_hash(tx: &Transaction<'_>, id: i64, hash: &str) -> rusqlite::Result<()> {
    tx.execute("UPDATE staff SET password_hash = ?2 WHERE id = ?1", params![id, hash])?;
    Ok(())
}

/// Replaces the password by a temporary one valid until `until` (the old one stops working at
/// once) and lifts a lockout, so the person can sign in with it.
pub fn set_temporary_password(tx: &Transaction<'_>, id: i64, hash: &str, until: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE staff SET password_hash = ?2, password_temporary_until = ?3, failed_attempts = 0, locked_until = NULL
         WHERE id = ?1",
        params![id, hash, ts(until)],
    )?;
    Ok(())
}

pub fn set_display_name(tx: &Transaction<'_>, id: i64, name: &str) -> rusqlite::Result<()> {
    tx.execute("UPDATE staff SET display_name = ?2 WHERE id = ?1", params![id, name])?;
    Ok(())
}

pub fn set_disabled(tx: &Transaction<'_>, id: i64, disabled: bool) -> rusqlite::Result<()> {
    tx.execute("UPDATE staff SET disabled = ?2 WHERE id = ?1", params![id, disabled as i64])?;
    Ok(())
}

/// Disables (or enables) one membership: the person keeps their other teams.
pub fn set_membership_disabled(
    tx: &Transaction<'_>,
    staff_id: i64,
    team_id: i64,
    disabled: bool,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE team_members SET disabled = ?3 WHERE staff_id = ?1 AND team_id = ?2",
        params![staff_id, team_id, disabled as i64],
    )?;
    Ok(())
}

pub fn set_membership(tx: &Transaction<'_>, staff_id: i64, team_id: i64, level: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO team_members(staff_id, team_id, level) VALUES (?1, ?2, ?3)
         ON CONFLICT(staff_id, team_id) DO UPDATE SET level = excluded.level",
        params![staff_id, team_id, level],
    )?;
    Ok(())
}

pub fn remove_membership(tx: &Transaction<'_>, staff_id: i64, team_id: i64) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM team_members WHERE staff_id = ?1 AND team_id = ?2", params![staff_id, team_id])?;
    tx.execute(
        "DELETE FROM site_members WHERE staff_id = ?1 AND site_id IN (SELECT id FROM sites WHERE team_id = ?2)",
        params![staff_id, team_id],
    )?;
    Ok(())
}

pub fn level_in_team(conn: &Connection, staff_id: i64, team_id: i64) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT level FROM team_members WHERE staff_id = ?1 AND team_id = ?2")?
        .query_row(params![staff_id, team_id], |r| r.get(0))
        .optional()
}

/// Replaces a person's member sites within one team.
pub fn set_sites(tx: &Transaction<'_>, staff_id: i64, team_id: i64, site_ids: &[i64]) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM site_members WHERE staff_id = ?1 AND site_id IN (SELECT id FROM sites WHERE team_id = ?2)",
        params![staff_id, team_id],
    )?;
    let mut stmt = tx.prepare_cached("INSERT OR IGNORE INTO site_members(staff_id, site_id) VALUES (?1, ?2)")?;
    for s in site_ids {
        stmt.execute(params![staff_id, s])?;
    }
    Ok(())
}

pub fn member_sites(conn: &Connection, staff_id: i64, team_id: i64) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.site_id FROM site_members m JOIN sites s ON s.id = m.site_id
         WHERE m.staff_id = ?1 AND s.team_id = ?2 ORDER BY m.site_id",
    )?;
    let rows = stmt.query_map(params![staff_id, team_id], |r| r.get(0))?;
    rows.collect()
}

/// Whether a member reaches every site of the team automatically (sites added later included).
pub fn all_sites(conn: &Connection, staff_id: i64, team_id: i64) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("SELECT all_sites FROM team_members WHERE staff_id = ?1 AND team_id = ?2")?
        .query_row(params![staff_id, team_id], |r| r.get::<_, i64>(0))
        .optional()?
        .is_some_and(|v| v != 0))
}

pub fn set_all_sites(tx: &Transaction<'_>, staff_id: i64, team_id: i64, all: bool) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE team_members SET all_sites = ?3 WHERE staff_id = ?1 AND team_id = ?2",
        params![staff_id, team_id, all as i64],
    )?;
    Ok(())
}

/// The ids of every site of a team (what an all-sites member reaches).
pub fn team_site_ids(conn: &Connection, team_id: i64) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM sites WHERE team_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([team_id], |r| r.get(0))?;
    rows.collect()
}

/// Moves the owner flag from one account to another.
pub fn transfer_owner(tx: &Transaction<'_>, from: i64, to: i64) -> rusqlite::Result<()> {
    tx.execute("UPDATE staff SET is_owner = 0 WHERE id = ?1", [from])?;
    tx.execute("UPDATE staff SET is_owner = 1 WHERE id = ?1", [to])?;
    Ok(())
}

/// A member of a team as listed: account, level, sites.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Member {
    pub staff: Staff,
    pub level: String,
    pub site_ids: Vec<i64>,
    /// Every site of the team automatically (Team-level members always).
    pub all_sites: bool,
    /// Add-on role keys.
    pub roles: Vec<String>,
    /// Whether this membership is disabled (the person keeps their other teams).
    pub disabled_here: bool,
}

pub fn members_of_team(conn: &Connection, team_id: i64) -> rusqlite::Result<Vec<Member>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {}, m.level, m.disabled FROM staff s JOIN team_members m ON m.staff_id = s.id WHERE m.team_id = ?1 ORDER BY s.email",
        COLS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ")
    ))?;
    // The membership's columns follow the account's.
    let n = COLS.split(", ").count();
    let rows =
        stmt.query_map([team_id], |r| Ok((from_row(r)?, r.get::<_, String>(n)?, r.get::<_, i64>(n + 1)? != 0)))?;
    let mut out = Vec::new();
    for row in rows {
        let (staff, level, disabled_here) = row?;
        let site_ids = member_sites(conn, staff.id, team_id)?;
        let all_sites = all_sites(conn, staff.id, team_id)?
            || crate::access::Level::parse(&level).is_some_and(crate::access::Level::is_team_level);
        let roles = super::roles::member_role_keys(conn, staff.id, team_id)?;
        out.push(Member { staff, level, site_ids, all_sites, roles, disabled_here });
    }
    Ok(out)
}

/// Sets the failure count and the lock (`None`: none) as decided from a read in the same
/// transaction (the sign-in gate: `app::auth::verify_account_password`).
pub fn set_failures(
    tx: &Transaction<'_>,
    id: i64,
    failures: i64,
    locked_until: Option<DateTime<Utc>>,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE staff SET failed_attempts = ?2, locked_until = ?3 WHERE id = ?1",
        params![id, failures, locked_until.map(ts)],
    )?;
    Ok(())
}
