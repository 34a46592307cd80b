//! The export's streaming read of residents: columns borrowed straight from SQLite's row
//! buffers (no per-row allocation), one site at a time, in the list order.

use rusqlite::types::FromSqlError;
use rusqlite::Connection;

/// A resident row as stored, borrowed from the statement for the time of one callback.
/// Instants are in the stored form (`store::ts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawResident<'a> {
    pub id: i64,
    pub remote_id: Option<&'a str>,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
    pub building: &'a str,
    pub floor: &'a str,
    pub unit: &'a str,
    pub activation: &'a str,
    pub deactivation: Option<&'a str>,
    pub onboarded_at: Option<&'a str>,
    pub suspended: bool,
}

/// The page cache an export streams with (KiB; [`super::CacheSize`]). An export reads each
/// page once, in order, so a large cache only grew the process by what it read (32 MB at the
/// default `cache_size`, whatever the row count): with 2 MiB the export's peak memory does
/// not depend on the rows (issue #17: < 30 MB).
pub const STREAMING_CACHE_KIB: i64 = 2048;

fn text_err(i: usize, e: FromSqlError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

/// Calls `f` for every resident of `site_id`, by last then first name (as lists show them).
pub fn for_each_raw_in_site<E: From<rusqlite::Error>>(
    conn: &Connection,
    site_id: i64,
    mut f: impl FnMut(&RawResident<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, remote_id, first_name, last_name, email, phone, building, floor, unit,
                activation_utc, deactivation_utc, onboarded_at, suspended
         FROM residents WHERE site_id = ?1 ORDER BY last_lc, first_lc, id",
    )?;
    let mut rows = stmt.query([site_id])?;
    while let Some(row) = rows.next()? {
        let text = |i: usize| -> rusqlite::Result<&str> { row.get_ref(i)?.as_str().map_err(|e| text_err(i, e)) };
        let opt = |i: usize| -> rusqlite::Result<Option<&str>> {
            row.get_ref(i)?.as_str_or_null().map_err(|e| text_err(i, e))
        };
        let raw = RawResident {
            id: row.get(0)?,
            remote_id: opt(1)?,
            first_name: text(2)?,
            last_name: text(3)?,
            email: text(4)?,
            phone: text(5)?,
            building: text(6)?,
            floor: text(7)?,
            unit: text(8)?,
            activation: text(9)?,
            deactivation: opt(10)?,
            onboarded_at: opt(11)?,
            suspended: row.get::<_, i64>(12)? != 0,
        };
        f(&raw)?;
    }
    Ok(())
}
