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

/// What only the remote decides about a resident, as pulled (see [`set_remote_state`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteState<'a> {
    pub onboarded_at: Option<DateTime<Utc>>,
    pub suspended: bool,
    pub ssid: Option<&'a str>,
    pub service_area: Option<&'a str>,
    pub status: &'a serde_json::Value,
}

/// Inserts a resident first seen in a pull, with its remote state, in one statement (a
/// first pull of a million residents wrote each row twice: the insert, then its state).
/// `None`, writing nothing, when the email or the remote id is already a resident's here (the
/// same person at another local site, or one added here and not pushed yet): the table's
/// UNIQUE constraints answer that, with no lookup before each insert.
pub fn insert_pulled(
    tx: &Transaction<'_>,
    site_id: i64,
    email: &str,
    f: &ResidentFields,
    remote_id: &str,
    state: &RemoteState<'_>,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<i64>> {
    let inserted = tx
        .prepare_cached(
            "INSERT INTO residents(site_id, remote_id, first_name, last_name, email, phone, building, floor, unit,
            activation_utc, deactivation_utc, first_lc, last_lc, unit_lc, created_at, updated_at,
            onboarded_at, suspended, ssid, service_area, remote_status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, lower(?3), lower(?4), lower(?9), ?12, ?12,
            ?13, ?14, ?15, ?16, ?17)
         ON CONFLICT DO NOTHING",
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
            state.onboarded_at.map(ts),
            state.suspended as i64,
            state.ssid,
            state.service_area,
            state.status.to_string(),
        ])?;
    Ok((inserted == 1).then(|| tx.last_insert_rowid()))
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

/// Whether any resident holds `email` or `remote_id` (one indexed probe each, no row read).
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

/// Which residents of some sites carry a sync marker: those with an outbox entry not yet
/// settled (waiting to sync) and those with an open conflict. Two grouped queries over the
/// sites' few unsettled entries (indexes `outbox_site_state`, `sync_conflicts_open`), whatever
/// the number of residents: a list of 100,000 pays for its outbox, not per row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncMarks {
    pub unsent: std::collections::HashSet<i64>,
    pub conflicts: std::collections::HashSet<i64>,
}

impl SyncMarks {
    pub fn of_sites(conn: &Connection, site_ids: &[i64]) -> rusqlite::Result<SyncMarks> {
        let ids = super::json_ids(site_ids);
        let open = serde_json::to_string(&residentdesk_domain::OutboxState::OPEN).unwrap_or_else(|_| "[]".into());
        let unsent = conn
            .prepare_cached(
                "SELECT DISTINCT resident_id FROM outbox WHERE site_id IN (SELECT value FROM json_each(?1))
                 AND state IN (SELECT value FROM json_each(?2)) AND resident_id IS NOT NULL",
            )?
            .query_map(params![ids, open], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let conflicts = conn
            .prepare_cached(
                "SELECT DISTINCT resident_id FROM sync_conflicts WHERE state = 'open'
                 AND site_id IN (SELECT value FROM json_each(?1)) AND resident_id IS NOT NULL",
            )?
            .query_map(params![ids], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(SyncMarks { unsent, conflicts })
    }

    /// The markers of resident `r` at `now`.
    pub fn markers(&self, id: i64, flags: StatusFlags) -> Vec<residentdesk_domain::Marker> {
        residentdesk_domain::Marker::of(flags, self.unsent.contains(&id), self.conflicts.contains(&id))
    }
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

/// Prefix search on first name, last name, email or unit across the sites of `scope`: the
/// first `limit` matches in list order (last name, first name, id).
///
/// The cost follows the page, not the table (issue #17: p99 < 5 ms at 1,000,000 residents).
/// Each key is answered on its own, from indexes alone (migration `search-indexes`), and the four
/// answers are merged:
/// - a scope of a few sites reads those sites' residents in list order (`residents_site_name`);
/// - otherwise a key's range is counted in its index up to [`SEARCH_COLLECT_CAP`] entries:
///   when the range ends within that, its in-scope entries are sorted for the first `limit`
///   (the index holds the order and the site: no table row is read);
/// - a longer range is a common prefix: `residents_order` (the list order, with the site and
///   every key) is walked in order, filtered, until `limit` rows are found, which takes about
///   `limit` divided by the prefix's share of the rows, so a common prefix stops early.
pub fn search(conn: &Connection, scope: &Scope, query: &str, limit: usize) -> rusqlite::Result<Vec<Resident>> {
    search_capped(conn, scope, query, limit, SEARCH_COLLECT_CAP)
}

/// [`search`] with another collect cap (the tests take both paths on small data).
fn search_capped(
    conn: &Connection,
    scope: &Scope,
    query: &str,
    limit: usize,
    cap: usize,
) -> rusqlite::Result<Vec<Resident>> {
    let q = query.trim().to_lowercase();
    if q.is_empty() || limit == 0 || matches!(scope, Scope::Nothing) {
        return Ok(Vec::new());
    }
    // Upper bound of the prefix range: the prefix followed by the highest code point.
    let hi = format!("{q}\u{10FFFF}");
    let (cond, team_id, sites) = scope_filter(scope);
    let mut found: Vec<(String, String, i64)> = Vec::new();
    let few_sites = matches!(scope, Scope::Sites { sites, .. } if sites.len() <= SEARCH_FEW_SITES);
    if few_sites {
        let sql = format!(
            "SELECT last_lc, first_lc, id FROM residents INDEXED BY residents_site_name
             WHERE {cond}
               AND ((first_lc >= ?3 AND first_lc < ?4) OR (last_lc >= ?3 AND last_lc < ?4)
                    OR (email >= ?3 AND email < ?4) OR (unit_lc >= ?3 AND unit_lc < ?4))
             ORDER BY last_lc, first_lc, id LIMIT ?5"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![team_id, sites, q, hi, limit as i64], order_key)?;
        found = rows.collect::<rusqlite::Result<_>>()?;
    } else {
        for (column, index) in SEARCH_KEYS {
            // How many entries the key's range has, up to the cap (the index alone, no row).
            // The last name's range is a range of the list order itself: always walked.
            let common = column == "last_lc" || {
                let sql = format!(
                    "SELECT count(*) FROM (SELECT 1 FROM residents INDEXED BY {index}
                     WHERE {column} >= ?1 AND {column} < ?2 LIMIT ?3)"
                );
                let n: i64 = conn.prepare_cached(&sql)?.query_row(params![q, hi, cap as i64 + 1], |r| r.get(0))?;
                n as usize > cap
            };
            let sql = if common {
                format!(
                    "SELECT last_lc, first_lc, id FROM residents INDEXED BY residents_order
                     WHERE {column} >= ?3 AND {column} < ?4 AND {cond}
                     ORDER BY last_lc, first_lc, id LIMIT ?5"
                )
            } else {
                format!(
                    "SELECT last_lc, first_lc, id FROM residents INDEXED BY {index}
                     WHERE {column} >= ?3 AND {column} < ?4 AND {cond}
                     ORDER BY last_lc, first_lc, id LIMIT ?5"
                )
            };
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![team_id, sites, q, hi, limit as i64], order_key)?;
            for row in rows {
                found.push(row?);
            }
        }
        found.sort_unstable();
        found.dedup_by_key(|k| k.2);
        found.truncate(limit);
    }
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLS} FROM residents WHERE id = ?1"))?;
    let mut out = Vec::with_capacity(found.len());
    for (_, _, id) in found {
        if let Some(r) = stmt.query_row([id], from_row).optional()? {
            out.push(r);
        }
    }
    Ok(out)
}

/// The searched keys and the index that holds each with the list order and the site.
const SEARCH_KEYS: [(&str, &str); 4] = [
    ("first_lc", "residents_first"),
    ("last_lc", "residents_order"),
    ("email", "residents_email_order"),
    ("unit_lc", "residents_unit_lc"),
];

/// How many index entries of one key's range are read as candidates before the prefix
/// counts as common (walked in list order instead). Reading them costs about as much as the
/// ordered walk of a prefix just above it (measured at 1,000,000 residents, `bench_scale`).
pub const SEARCH_COLLECT_CAP: usize = 4_000;

/// A scope of at most this many sites is searched site by site (all of their residents).
const SEARCH_FEW_SITES: usize = 8;

fn order_key(r: &Row<'_>) -> rusqlite::Result<(String, String, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
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
         ON CONFLICT(resident_id) DO UPDATE SET pulled_at = excluded.pulled_at, fields = excluded.fields,
             remote_digest = NULL, local_at = NULL",
    )?
    .execute(params![resident_id, ts(now), fields.to_string()])?;
    Ok(())
}

/// What a pull's merge of one resident settled: the base (`fields`, when it changed), the
/// digest of the remote object merged and the resident's `updated_at` after the merge. The
/// next pull skips the resident while both still hold (migration 0016). Any other write of
/// the base ([`set_remote_base`]) forgets the digest.
pub fn set_pulled_base(
    tx: &Transaction<'_>,
    resident_id: i64,
    fields: Option<&serde_json::Value>,
    remote_digest: &str,
    local_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    match fields {
        Some(f) => tx
            .prepare_cached(
                "INSERT INTO remote_base(resident_id, pulled_at, fields, remote_digest, local_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(resident_id) DO UPDATE SET pulled_at = excluded.pulled_at, fields = excluded.fields,
                     remote_digest = excluded.remote_digest, local_at = excluded.local_at",
            )?
            .execute(params![resident_id, ts(now), f.to_string(), remote_digest, ts(local_at)])?,
        None => tx
            .prepare_cached("UPDATE remote_base SET remote_digest = ?2, local_at = ?3 WHERE resident_id = ?1")?
            .execute(params![resident_id, remote_digest, ts(local_at)])?,
    };
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

/// A resident's merge base as stored: the JSON text of the values last pulled (parsed only
/// by a merge that needs it), the digest of the remote object last merged and the
/// resident's `updated_at` after that merge (both `None` when not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBase {
    pub fields: String,
    pub remote_digest: Option<String>,
    pub local_at: Option<String>,
}

impl StoredBase {
    /// The base values (`Null` when unreadable: the merge then has no base).
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(&self.fields).unwrap_or(serde_json::Value::Null)
    }

    /// Whether this base was kept by a pull that merged `digest` and left the resident at
    /// `updated_at`.
    pub fn settles(&self, digest: &str, updated_at: DateTime<Utc>) -> bool {
        self.remote_digest.as_deref() == Some(digest) && self.local_at.as_deref() == Some(ts(updated_at).as_str())
    }
}

/// What a pull reads of each resident of a site before it looks closer: enough to find the
/// resident an answer is about (remote id, email) and to see that the last merge still holds
/// (the digest it merged, and whether the row's `updated_at` is still the base's). Borrowed
/// from the row being read: a huge site's marks are read whole, and the pull keeps of each
/// only what it needs, in its own compact form (`sync::site_marks`). A site answered with a
/// few residents changed reads the full rows and bases of those few only ([`get`],
/// [`remote_base`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullMark<'a> {
    pub id: i64,
    pub remote_id: Option<&'a str>,
    /// The email of a resident without a remote id (what an answer finds it by); `None` for
    /// a linked one, found by its remote id.
    pub email: Option<&'a str>,
    /// The digest of the remote object the last merge merged into this resident, if any.
    pub remote_digest: Option<&'a str>,
    /// Whether the row is as the last merge left it: its `updated_at` is the base's
    /// `local_at`, compared in SQL as stored text (a difference in form alone only costs a
    /// full merge of the resident).
    pub unchanged_since_merge: bool,
}

/// Calls `each` with the [`PullMark`] of every resident of a site, one row at a time, in the
/// table's order (`residents_site`: each page of the residents and of their bases is read
/// once, however large the site).
pub fn for_each_pull_mark(conn: &Connection, site_id: i64, mut each: impl FnMut(PullMark<'_>)) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.remote_id, CASE WHEN r.remote_id IS NULL THEN r.email END, b.remote_digest,
                coalesce(b.local_at = r.updated_at, 0)
         FROM residents r INDEXED BY residents_site LEFT JOIN remote_base b ON b.resident_id = r.id
         WHERE r.site_id = ?1",
    )?;
    let mut rows = stmt.query([site_id])?;
    while let Some(r) = rows.next()? {
        each(PullMark {
            id: r.get(0)?,
            remote_id: r.get_ref(1)?.as_str_or_null()?,
            email: r.get_ref(2)?.as_str_or_null()?,
            remote_digest: r.get_ref(3)?.as_str_or_null()?,
            unchanged_since_merge: r.get(4)?,
        });
    }
    Ok(())
}

/// One resident's merge base (unparsed) with its merge marks, if a pull kept one.
pub fn stored_base(conn: &Connection, resident_id: i64) -> rusqlite::Result<Option<StoredBase>> {
    conn.prepare_cached("SELECT fields, remote_digest, local_at FROM remote_base WHERE resident_id = ?1")?
        .query_row([resident_id], |r| {
            Ok(StoredBase { fields: r.get(0)?, remote_digest: r.get(1)?, local_at: r.get(2)? })
        })
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same question answered by a plain scan: every resident with a key starting with
    /// the prefix, in scope, in list order, the first `limit`.
    fn naive(conn: &Connection, scope: &Scope, q: &str, limit: usize) -> Vec<i64> {
        let (cond, team_id, sites) = scope_filter(scope);
        let sql = format!(
            "SELECT id FROM residents NOT INDEXED WHERE (substr(first_lc, 1, length(?3)) = ?3
                 OR substr(last_lc, 1, length(?3)) = ?3 OR substr(email, 1, length(?3)) = ?3
                 OR substr(unit_lc, 1, length(?3)) = ?3) AND {cond}
             ORDER BY last_lc, first_lc, id LIMIT ?4"
        );
        let mut stmt = conn.prepare(&sql).unwrap();
        let rows = stmt.query_map(params![team_id, sites, q, limit as i64], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    }

    /// Two teams of 12 sites; few distinct names (so prefixes are common) and some rare ones.
    fn portfolio() -> (Connection, i64, Vec<i64>) {
        let mut conn = crate::store::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        let now = chrono::Utc::now();
        let teams: Vec<i64> =
            ["One", "Two"].iter().map(|t| crate::store::teams::insert(&tx, t, None).unwrap()).collect();
        let mut sites = Vec::new();
        for s in 0..24 {
            let site =
                crate::store::sites::insert(&tx, teams[s % 2], &format!("Site {s}"), "PSK", "UTC", None).unwrap();
            sites.push(site);
            for i in 0..60 {
                let (first, last) = if i % 29 == 3 {
                    ("Quentin".to_string(), format!("Rare{s}x{i}"))
                } else {
                    (
                        ["Ava", "Avery", "Liam", "Wil"][i % 4].to_string(),
                        ["Wilson", "Avila", "Kim"][(i + s) % 3].to_string(),
                    )
                };
                let f = ResidentFields {
                    first_name: first.clone(),
                    last_name: last.clone(),
                    phone: String::new(),
                    building: "A".into(),
                    floor: "1".into(),
                    unit: format!("{}{i:03}", ["A", "B", "Wi"][s % 3]),
                    activation_utc: now,
                    deactivation_utc: None,
                };
                let email = format!("{}.{}.{s}x{i}@example.test", first.to_lowercase(), last.to_lowercase());
                insert(&tx, site, &email, &f, None, now).unwrap();
            }
        }
        tx.commit().unwrap();
        (conn, teams[0], sites)
    }

    #[test]
    fn search_matches_a_plain_scan_on_every_path() {
        let (conn, team, sites) = portfolio();
        let team_sites: Vec<i64> = sites.iter().copied().step_by(2).collect();
        let scopes = [
            Scope::Team(team),
            Scope::Sites { team_id: team, sites: team_sites[..2].to_vec() },
            Scope::Sites { team_id: team, sites: team_sites.clone() },
            // A site of the other team named in the list is still outside the team's scope.
            Scope::Sites { team_id: team, sites: vec![sites[1], sites[0]] },
        ];
        let queries =
            ["a", "av", "ava", "avi", "w", "wil", "wilson", "wi0", "q", "rare1", "rare13x", "k", "b01", "z", " AVA "];
        let mut compared = 0;
        for scope in &scopes {
            for q in queries {
                for limit in [1, 7, 50, 5000] {
                    let want = naive(&conn, scope, &q.trim().to_lowercase(), limit);
                    // A cap of 0 walks the list order for every key; 10 mixes both; the
                    // real cap collects every range of this small portfolio.
                    for cap in [0, 10, SEARCH_COLLECT_CAP] {
                        let got: Vec<i64> =
                            search_capped(&conn, scope, q, limit, cap).unwrap().into_iter().map(|r| r.id).collect();
                        assert_eq!(got, want, "query {q:?}, scope {scope:?}, limit {limit}, cap {cap}");
                        compared += 1;
                    }
                }
            }
        }
        assert_eq!(compared, scopes.len() * queries.len() * 4 * 3);
        // The comparison is not vacuous: common prefixes fill the page, rare ones do not.
        assert_eq!(naive(&conn, &scopes[0], "ava", 50).len(), 50);
        assert!(!naive(&conn, &scopes[0], "rare1", 50).is_empty());
        assert!(search(&conn, &Scope::Nothing, "a", 50).unwrap().is_empty());
        assert!(search(&conn, &scopes[0], "  ", 50).unwrap().is_empty());
    }
}
