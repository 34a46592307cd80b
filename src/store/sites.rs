//! The `sites` and `mappings` tables.

use crate::access::Scope;
use residentdesk_domain::rules::Location;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Site {
    pub id: i64,
    pub team_id: i64,
    pub remote_id: Option<String>,
    pub name: String,
    pub site_type: String,
    pub time_zone: String,
    pub settings: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Mapping {
    pub building: String,
    pub floor: String,
    pub unit: String,
    pub passphrase: Option<String>,
    pub ssid: Option<String>,
    pub vlan: Option<String>,
}

impl Mapping {
    pub fn location(&self) -> Location {
        Location { building: self.building.clone(), floor: self.floor.clone(), unit: self.unit.clone() }
    }
}

const COLS: &str = "id, team_id, remote_id, name, site_type, time_zone, settings";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Site> {
    let settings: String = r.get(6)?;
    Ok(Site {
        id: r.get(0)?,
        team_id: r.get(1)?,
        remote_id: r.get(2)?,
        name: r.get(3)?,
        site_type: r.get(4)?,
        time_zone: r.get(5)?,
        settings: serde_json::from_str(&settings).unwrap_or_default(),
    })
}

pub fn insert(
    tx: &Transaction<'_>,
    team_id: i64,
    name: &str,
    site_type: &str,
    time_zone: &str,
    remote_id: Option<&str>,
) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO sites(team_id, name, site_type, time_zone, remote_id) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![team_id, name, site_type, time_zone, remote_id],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Site>> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM sites WHERE id = ?1"))?.query_row([id], from_row).optional()
}

pub fn by_remote_id(conn: &Connection, remote_id: &str) -> rusqlite::Result<Option<Site>> {
    conn.query_row(&format!("SELECT {COLS} FROM sites WHERE remote_id = ?1"), [remote_id], from_row).optional()
}

/// Sites of a team whose name matches exactly (case-insensitive).
pub fn by_name(conn: &Connection, team_id: i64, name: &str) -> rusqlite::Result<Vec<Site>> {
    let mut stmt =
        conn.prepare(&format!("SELECT {COLS} FROM sites WHERE team_id = ?1 AND name = ?2 COLLATE NOCASE"))?;
    let rows = stmt.query_map(params![team_id, name], from_row)?;
    rows.collect()
}

/// The sites in `scope`, by name.
pub fn list(conn: &Connection, scope: &Scope) -> rusqlite::Result<Vec<Site>> {
    match scope {
        Scope::Nothing => Ok(Vec::new()),
        Scope::Team(team_id) => {
            let mut stmt =
                conn.prepare_cached(&format!("SELECT {COLS} FROM sites WHERE team_id = ?1 ORDER BY name"))?;
            let rows = stmt.query_map([team_id], from_row)?;
            rows.collect()
        }
        Scope::Sites { team_id, sites } => {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLS} FROM sites WHERE team_id = ?1 AND id IN (SELECT value FROM json_each(?2)) ORDER BY name"
            ))?;
            let rows = stmt.query_map(params![team_id, super::json_ids(sites)], from_row)?;
            rows.collect()
        }
    }
}

pub fn count_in_team(conn: &Connection, team_id: i64) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM sites WHERE team_id = ?1", [team_id], |r| r.get(0))
}

pub fn update_settings(
    tx: &Transaction<'_>,
    id: i64,
    name: &str,
    site_type: &str,
    time_zone: &str,
    settings: &serde_json::Value,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE sites SET name = ?2, site_type = ?3, time_zone = ?4, settings = ?5 WHERE id = ?1",
        params![id, name, site_type, time_zone, settings.to_string()],
    )?;
    Ok(())
}

pub fn set_remote_id(tx: &Transaction<'_>, id: i64, remote_id: &str) -> rusqlite::Result<()> {
    tx.execute("UPDATE sites SET remote_id = ?2 WHERE id = ?1", params![id, remote_id])?;
    Ok(())
}

pub fn insert_mapping(tx: &Transaction<'_>, site_id: i64, m: &Mapping) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO mappings(site_id, building, floor, unit, passphrase, ssid, vlan)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![site_id, m.building, m.floor, m.unit, m.passphrase, m.ssid, m.vlan])?;
    Ok(())
}

pub fn delete_mappings(tx: &Transaction<'_>, site_id: i64) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM mappings WHERE site_id = ?1", [site_id])?;
    Ok(())
}

pub fn mappings(conn: &Connection, site_id: i64) -> rusqlite::Result<Vec<Mapping>> {
    let mut stmt = conn.prepare_cached(
        "SELECT building, floor, unit, passphrase, ssid, vlan FROM mappings WHERE site_id = ?1
         ORDER BY building, CAST(floor AS INTEGER), floor, CAST(unit AS INTEGER), unit",
    )?;
    let rows = stmt.query_map([site_id], |r| {
        Ok(Mapping {
            building: r.get(0)?,
            floor: r.get(1)?,
            unit: r.get(2)?,
            passphrase: r.get(3)?,
            ssid: r.get(4)?,
            vlan: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// Whether one Building/Floor/Unit is a mapping of the site (an indexed point look-up).
pub fn has_mapping(conn: &Connection, site_id: i64, loc: &Location) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM mappings WHERE site_id = ?1 AND building = ?2 AND floor = ?3 AND unit = ?4")?
        .exists(params![site_id, loc.building, loc.floor, loc.unit])
}
