//! The `residents` and `remote_base` tables.

use super::{opt_ts, parse_ts, ts};
use crate::access::Scope;
use chrono::{DateTime, Utc};
use residentdesk_domain::status::{derive_flags, Lifecycle, StatusFlags};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

/// A resident as stored locally.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Resident {
    pub id: i64,
    pub site_id: i64,
    pub remote_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub building: String,
    pub floor: String,
    pub unit: String,
    pub activation_utc: DateTime<Utc>,
    pub deactivation_utc: Option<DateTime<Utc>>,
    pub onboarded_at: Option<DateTime<Utc>>,
    pub suspended: bool,
    pub invited_at: Option<DateTime<Utc>>,
    pub ssid: Option<String>,
    pub service_area: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Resident {
    pub fn lifecycle(&self) -> Lifecycle {
        Lifecycle {
            activation_utc: self.activation_utc,
            deactivation_utc: self.deactivation_utc,
            onboarded_at: self.onboarded_at,
            suspended: self.suspended,
        }
    }
    pub fn flags(&self, now: DateTime<Utc>) -> StatusFlags {
        derive_flags(&self.lifecycle(), now)
    }
    /// The editable fields (everything but the email and the remote state).
    pub fn editable_fields(&self) -> ResidentFields {
        ResidentFields {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            phone: self.phone.clone(),
            building: self.building.clone(),
            floor: self.floor.clone(),
            unit: self.unit.clone(),
            activation_utc: self.activation_utc,
            deactivation_utc: self.deactivation_utc,
        }
    }
    /// The resident as the API's input body (its editable fields by their wire names).
    pub fn wire_input(&self) -> residentdesk_domain::wire::ResidentInput {
        self.editable_fields().wire(&self.email)
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// The editable fields of a resident, validated by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidentFields {
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub building: String,
    pub floor: String,
    pub unit: String,
    pub activation_utc: DateTime<Utc>,
    pub deactivation_utc: Option<DateTime<Utc>>,
}

impl ResidentFields {
    /// These fields as the API's input body for the resident with `email`.
    pub fn wire(&self, email: &str) -> residentdesk_domain::wire::ResidentInput {
        use residentdesk_domain::dates::format_wire_utc;
        residentdesk_domain::wire::ResidentInput {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: Some(email.to_string()),
            phone_number: (!self.phone.is_empty()).then(|| self.phone.clone()),
            building: self.building.clone(),
            floor: self.floor.clone(),
            unit: self.unit.clone(),
            activation_date_utc: format_wire_utc(self.activation_utc),
            deactivation_date_utc: self.deactivation_utc.map(format_wire_utc),
        }
    }
}

pub const COLS: &str = "id, site_id, remote_id, first_name, last_name, email, phone, building, floor, unit, \
     activation_utc, deactivation_utc, onboarded_at, suspended, invited_at, ssid, service_area, created_at, updated_at";

pub fn from_row(r: &Row<'_>) -> rusqlite::Result<Resident> {
    let ts_col = |i: usize| -> rusqlite::Result<DateTime<Utc>> {
        let s: String = r.get(i)?;
        parse_ts(&s).ok_or_else(|| rusqlite::Error::InvalidColumnType(i, s, rusqlite::types::Type::Text))
    };
    Ok(Resident {
        id: r.get(0)?,
        site_id: r.get(1)?,
        remote_id: r.get(2)?,
        first_name: r.get(3)?,
        last_name: r.get(4)?,
        email: r.get(5)?,
        phone: r.get(6)?,
        building: r.get(7)?,
        floor: r.get(8)?,
        unit: r.get(9)?,
        activation_utc: ts_col(10)?,
        deactivation_utc: opt_ts(r.get(11)?),
        onboarded_at: opt_ts(r.get(12)?),
        suspended: r.get::<_, i64>(13)? != 0,
        invited_at: opt_ts(r.get(14)?),
        ssid: r.get(15)?,
        service_area: r.get(16)?,
        created_at: ts_col(17)?,
        updated_at: ts_col(18)?,
    })
}

/// Inserts a new resident; `email` must already be normalised.
pub fn insert(
    tx: &Transaction<'_>,
    site_id: i64,
    email: &str,
    f: &ResidentFields,
    remote_id: Option<&str>,
    now: DateTime<Utc>,
) -> rusqlite::Result<i64> {
    tx.prepare_cached(
        "INSERT INTO residents(site_id, remote_id, first_name, last_name, email, phone, building, floor, unit,
            activation_utc, deactivation_utc, first_lc, last_lc, unit_lc, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, lower(?3), lower(?4), lower(?9), ?12, ?12)",
    )?
    .execute(params![
        site_id,
        remote_id,
        f.first_name,
        f.last_name,
        email,
        f.phone,
        f.building,
        f.floor,
        f.unit,
        ts(f.activation_utc),
        f.deactivation_utc.map(ts),
        ts(now),
    ])?;
    Ok(tx.last_insert_rowid())
}

/// Replaces the editable fields of a resident (email never changes).
pub fn update_fields(tx: &Transaction<'_>, id: i64, f: &ResidentFields, now: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE residents SET first_name = ?2, last_name = ?3, phone = ?4, building = ?5, floor = ?6, unit = ?7,
            activation_utc = ?8, deactivation_utc = ?9, first_lc = lower(?2), last_lc = lower(?3), unit_lc = lower(?7),
            updated_at = ?10
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        f.first_name,
        f.last_name,
        f.phone,
        f.building,
        f.floor,
        f.unit,
        ts(f.activation_utc),
        f.deactivation_utc.map(ts),
        ts(now),
    ])?;
    Ok(())
}

pub fn set_suspended(tx: &Transaction<'_>, id: i64, suspended: bool, now: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE residents SET suspended = ?2, updated_at = ?3 WHERE id = ?1")?.execute(params![
        id,
        suspended as i64,
        ts(now)
    ])?;
    Ok(())
}

pub fn set_deactivation(
    tx: &Transaction<'_>,
    id: i64,
    deactivation: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE residents SET deactivation_utc = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, deactivation.map(ts), ts(now)])?;
    Ok(())
}

pub fn set_invited(tx: &Transaction<'_>, id: i64, now: DateTime<Utc>) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE residents SET invited_at = ?2, updated_at = ?2 WHERE id = ?1")?
        .execute(params![id, ts(now)])?;
    Ok(())
}

/// The demo's onboarding and suspension of a resident it just inserted (the demo seeds
/// residents in every status; real ones get these from the remote or a lifecycle action).
pub fn set_demo_state(
    tx: &Transaction<'_>,
    id: i64,
    onboarded_at: Option<DateTime<Utc>>,
    suspended: bool,
) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE residents SET onboarded_at = ?2, suspended = ?3 WHERE id = ?1")?.execute(params![
        id,
        onboarded_at.map(super::ts),
        suspended as i64
    ])?;
    Ok(())
}

pub fn delete(tx: &Transaction<'_>, id: i64) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM residents WHERE id = ?1")?.execute([id])?;
    Ok(())
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Resident>> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM residents WHERE id = ?1"))?.query_row([id], from_row).optional()
}

pub fn by_email(conn: &Connection, email: &str) -> rusqlite::Result<Option<Resident>> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM residents WHERE email = ?1"))?
        .query_row([email], from_row)
        .optional()
}

pub fn by_remote_id(conn: &Connection, remote_id: &str) -> rusqlite::Result<Option<Resident>> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM residents WHERE remote_id = ?1"))?
        .query_row([remote_id], from_row)
        .optional()
}

pub fn set_remote_id(tx: &Transaction<'_>, id: i64, remote_id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE residents SET remote_id = ?2 WHERE id = ?1")?.execute(params![id, remote_id])?;
    Ok(())
}

/// Every resident of one unit (for the occupancy rule), except `exclude`.
pub fn in_unit(
    conn: &Connection,
    site_id: i64,
    building: &str,
    floor: &str,
    unit: &str,
    exclude: Option<i64>,
) -> rusqlite::Result<Vec<Resident>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM residents WHERE site_id = ?1 AND building = ?2 AND floor = ?3 AND unit = ?4
         AND id IS NOT ?5"
    ))?;
    let rows = stmt.query_map(params![site_id, building, floor, unit, exclude], from_row)?;
    rows.collect()
}

/// Residents of a site, by last then first name.
pub fn list_site(conn: &Connection, site_id: i64) -> rusqlite::Result<Vec<Resident>> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {COLS} FROM residents WHERE site_id = ?1 ORDER BY last_lc, first_lc, id"))?;
    let rows = stmt.query_map([site_id], from_row)?;
    rows.collect()
}

/// The SQL condition restricting residents to a scope (`site_id` column), with its
/// parameters: `?1` the team id, `?2` the member sites as a JSON array.
fn scope_filter(scope: &Scope) -> (&'static str, i64, String) {
    match scope {
        Scope::Nothing => ("0", 0, String::new()),
        Scope::Team(team_id) => ("site_id IN (SELECT id FROM sites WHERE team_id = ?1)", *team_id, String::new()),
        Scope::Sites { team_id, sites } => (
            "site_id IN (SELECT id FROM sites WHERE team_id = ?1 AND id IN (SELECT value FROM json_each(?2)))",
            *team_id,
            super::json_ids(sites),
        ),
    }
}

/// Prefix search on first name, last name, email or unit across the sites of `scope`.
/// Each prefix uses its own index (a range scan), so the cost follows the matches, not the
/// table.
pub fn search(conn: &Connection, scope: &Scope, query: &str, limit: usize) -> rusqlite::Result<Vec<Resident>> {
    let q = query.trim().to_lowercase();
    if q.is_empty() || matches!(scope, Scope::Nothing) {
        return Ok(Vec::new());
    }
    // Upper bound of the prefix range: the prefix followed by the highest code point.
    let hi = format!("{q}\u{10FFFF}");
    let (cond, team_id, sites) = scope_filter(scope);
    let sql = format!(
        "SELECT {COLS} FROM residents WHERE id IN (
             SELECT id FROM residents WHERE first_lc >= ?3 AND first_lc < ?4
             UNION SELECT id FROM residents WHERE last_lc >= ?3 AND last_lc < ?4
             UNION SELECT id FROM residents WHERE email >= ?3 AND email < ?4
             UNION SELECT id FROM residents WHERE unit_lc >= ?3 AND unit_lc < ?4)
         AND {cond}
         ORDER BY last_lc, first_lc, id LIMIT ?5"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![team_id, sites, q, hi, limit as i64], from_row)?;
    rows.collect()
}

/// Calls `f` for every resident in the given sites, in site then name order, without
/// holding them all in memory (exports).
pub fn for_each_in_sites(
    conn: &Connection,
    site_ids: &[i64],
    mut f: impl FnMut(Resident) -> Result<(), crate::error::AppError>,
) -> Result<(), crate::error::AppError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {COLS} FROM residents WHERE site_id = ?1 ORDER BY last_lc, first_lc, id"))?;
    for site in site_ids {
        let mut rows = stmt.query([site])?;
        while let Some(row) = rows.next()? {
            f(from_row(row)?)?;
        }
    }
    Ok(())
}

/// Candidates for the automatic purge: deactivation at or before `cutoff`
/// (`rules::purge_cutoff`). A pre-selection only: the caller decides each one with
/// `rules::purge_due`.
pub fn deactivated_before(conn: &Connection, cutoff: DateTime<Utc>) -> rusqlite::Result<Vec<Resident>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM residents WHERE deactivation_utc IS NOT NULL AND deactivation_utc <= ?1"
    ))?;
    let rows = stmt.query_map([ts(cutoff)], from_row)?;
    rows.collect()
}

pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM residents", [], |r| r.get(0))
}

pub fn count_in_site(conn: &Connection, site_id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT count(*) FROM residents WHERE site_id = ?1")?.query_row([site_id], |r| r.get(0))
}

/// The last-pulled remote values of a resident (the base of the 3-way merge).
pub fn remote_base(conn: &Connection, resident_id: i64) -> rusqlite::Result<Option<serde_json::Value>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT fields FROM remote_base WHERE resident_id = ?1")?
        .query_row([resident_id], |r| r.get(0))
        .optional()?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

pub fn set_remote_base(
    tx: &Transaction<'_>,
    resident_id: i64,
    fields: &serde_json::Value,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO remote_base(resident_id, pulled_at, fields) VALUES (?1, ?2, ?3)
         ON CONFLICT(resident_id) DO UPDATE SET pulled_at = excluded.pulled_at, fields = excluded.fields",
    )?
    .execute(params![resident_id, ts(now), fields.to_string()])?;
    Ok(())
}

/// Stores what only the remote decides (onboarding, suspension, SSID, service area and the
/// `Status` array as given), as pulled.
#[allow(clippy::too_many_arguments)]
pub fn set_remote_state(
    tx: &Transaction<'_>,
    id: i64,
    onboarded_at: Option<DateTime<Utc>>,
    suspended: bool,
    ssid: Option<&str>,
    service_area: Option<&str>,
    remote_status: &serde_json::Value,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE residents SET onboarded_at = ?2, suspended = ?3, ssid = ?4, service_area = ?5, remote_status = ?6,
             updated_at = ?7 WHERE id = ?1",
    )?
    .execute(params![
        id,
        onboarded_at.map(ts),
        suspended as i64,
        ssid,
        service_area,
        remote_status.to_string(),
        ts(now)
    ])?;
    Ok(())
}

/// Forgets a resident's remote id (the remote no longer has it and it will be created again).
pub fn clear_remote_id(tx: &Transaction<'_>, id: i64) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE residents SET remote_id = NULL WHERE id = ?1")?.execute([id])?;
    Ok(())
}

/// The last-pulled remote values of every resident of a site, by local resident id.
pub fn remote_bases_for_site(
    conn: &Connection,
    site_id: i64,
) -> rusqlite::Result<std::collections::HashMap<i64, serde_json::Value>> {
    let mut stmt = conn.prepare_cached(
        "SELECT b.resident_id, b.fields FROM remote_base b JOIN residents r ON r.id = b.resident_id
         WHERE r.site_id = ?1",
    )?;
    let rows = stmt.query_map([site_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = std::collections::HashMap::new();
    for row in rows {
        let (id, text) = row?;
        out.insert(id, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null));
    }
    Ok(out)
}
