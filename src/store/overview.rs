//! The numbers of the Sites overview, for many sites at once: residents by status, units
//! occupied and free, and the outbox and conflicts per site. Each is one grouped query over
//! the given sites (never one query per site), so the overview of 2,500 sites costs a few
//! scans, not thousands of look-ups.

use super::{json_ids, ts};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use std::collections::HashMap;

/// A site's residents by their main status at one instant; every resident counts once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// Inside the stay, onboarded, not suspended.
    pub active: i64,
    /// Inside the stay, not yet onboarded (and not suspended).
    pub pending: i64,
    /// Inside the stay and suspended.
    pub suspended: i64,
    /// The stay starts later.
    pub scheduled: i64,
    /// The stay is over (the 31-day grace period).
    pub expired: i64,
}

/// Residents per site by main status at `now`. The CASE is `status::derive_flags` written as
/// SQL over the stored timestamps (fixed-width UTC text, so they compare as text): expired
/// when the stay has ended or is empty, else scheduled when it starts later, else current —
/// suspended before pending, as the stacked bar shows each resident in one part only.
pub fn status_counts(
    conn: &Connection,
    site_ids: &[i64],
    now: DateTime<Utc>,
) -> rusqlite::Result<HashMap<i64, StatusCounts>> {
    let mut stmt = conn.prepare_cached(
        "SELECT site_id,
                CASE
                  WHEN deactivation_utc IS NOT NULL
                       AND (deactivation_utc <= ?2 OR deactivation_utc <= activation_utc) THEN 4
                  WHEN activation_utc > ?2 THEN 3
                  WHEN suspended = 1 THEN 2
                  WHEN onboarded_at IS NULL THEN 1
                  ELSE 0
                END AS bucket,
                count(*)
         FROM residents
         WHERE site_id IN (SELECT value FROM json_each(?1))
         GROUP BY site_id, bucket",
    )?;
    let rows = stmt.query_map(params![json_ids(site_ids), ts(now)], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
    })?;
    let mut out: HashMap<i64, StatusCounts> = HashMap::new();
    for row in rows {
        let (site, bucket, n) = row?;
        let c = out.entry(site).or_default();
        match bucket {
            0 => c.active = n,
            1 => c.pending = n,
            2 => c.suspended = n,
            3 => c.scheduled = n,
            _ => c.expired = n,
        }
    }
    Ok(out)
}

/// Units per site: `(mapped units, units with a resident inside the stay at now)`. A unit is
/// occupied while someone lives there now (scheduled and expired residents leave it free).
pub fn unit_counts(
    conn: &Connection,
    site_ids: &[i64],
    now: DateTime<Utc>,
) -> rusqlite::Result<HashMap<i64, (i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.site_id, count(*),
                sum(EXISTS (SELECT 1 FROM residents r
                            WHERE r.site_id = m.site_id AND r.building = m.building
                              AND r.floor = m.floor AND r.unit = m.unit
                              AND r.activation_utc <= ?2
                              AND (r.deactivation_utc IS NULL OR r.deactivation_utc > ?2)))
         FROM mappings m
         WHERE m.site_id IN (SELECT value FROM json_each(?1))
         GROUP BY m.site_id",
    )?;
    let rows = stmt.query_map(params![json_ids(site_ids), ts(now)], |r| {
        Ok((r.get::<_, i64>(0)?, (r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))
    })?;
    rows.collect()
}

/// The outbox per site: `(pending + in flight, rejected)`.
pub fn outbox_counts(conn: &Connection, site_ids: &[i64]) -> rusqlite::Result<HashMap<i64, (i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT site_id,
                sum(state IN ('pending', 'in_flight')),
                sum(state = 'rejected')
         FROM outbox
         WHERE site_id IN (SELECT value FROM json_each(?1)) AND state IN ('pending', 'in_flight', 'rejected')
         GROUP BY site_id",
    )?;
    let rows = stmt
        .query_map([json_ids(site_ids)], |r| Ok((r.get::<_, i64>(0)?, (r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))))?;
    rows.collect()
}

/// Open conflicts per site.
pub fn open_conflicts(conn: &Connection, site_ids: &[i64]) -> rusqlite::Result<HashMap<i64, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT site_id, count(*) FROM sync_conflicts
         WHERE state = 'open' AND site_id IN (SELECT value FROM json_each(?1))
         GROUP BY site_id",
    )?;
    let rows = stmt.query_map([json_ids(site_ids)], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
    rows.collect()
}
