//! The `saved_views` table: a person's columns, sort and filters per screen (the remembered
//! state under the name '') and named views, which may be shared with the team.

use super::{parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

/// One stored view; `state` is its JSON text (the app layer reads and checks it).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredView {
    pub id: i64,
    pub team_id: i64,
    pub staff_id: i64,
    /// The owner's email (for a view shared by someone else).
    pub owner: String,
    pub screen: String,
    /// '' for the screen's remembered state.
    pub name: String,
    pub shared: bool,
    pub state: String,
    pub updated_at: DateTime<Utc>,
}

const COLS: &str = "v.id, v.team_id, v.staff_id, s.email, v.screen, v.name, v.shared, v.state, v.updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<StoredView> {
    let at: String = r.get(8)?;
    Ok(StoredView {
        id: r.get(0)?,
        team_id: r.get(1)?,
        staff_id: r.get(2)?,
        owner: r.get(3)?,
        screen: r.get(4)?,
        name: r.get(5)?,
        shared: r.get::<_, i64>(6)? != 0,
        state: r.get(7)?,
        updated_at: parse_ts(&at)
            .ok_or_else(|| rusqlite::Error::InvalidColumnType(8, at, rusqlite::types::Type::Text))?,
    })
}

/// The views a person sees in a team: their own, and the named views others shared there;
/// of one screen, or of all. Own first, then by screen and name.
pub fn visible(
    conn: &Connection,
    team_id: i64,
    staff_id: i64,
    screen: Option<&str>,
) -> rusqlite::Result<Vec<StoredView>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM saved_views v JOIN staff s ON s.id = v.staff_id
         WHERE v.team_id = ?1 AND (v.staff_id = ?2 OR v.shared = 1) AND (?3 IS NULL OR v.screen = ?3)
         ORDER BY v.staff_id <> ?2, v.screen, v.name, v.id"
    ))?;
    let rows = stmt.query_map(params![team_id, staff_id, screen], from_row)?;
    rows.collect()
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<StoredView>> {
    conn.query_row(
        &format!("SELECT {COLS} FROM saved_views v JOIN staff s ON s.id = v.staff_id WHERE v.id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// Saves a person's view of a screen under `name` (replacing one of the same name); returns its id.
#[allow(clippy::too_many_arguments)]
pub fn save(
    tx: &Transaction<'_>,
    team_id: i64,
    staff_id: i64,
    screen: &str,
    name: &str,
    shared: bool,
    state: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<i64> {
    tx.query_row(
        "INSERT INTO saved_views(team_id, staff_id, screen, name, shared, state, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(team_id, staff_id, screen, name) DO UPDATE
         SET shared = excluded.shared, state = excluded.state, updated_at = excluded.updated_at
         RETURNING id",
        params![team_id, staff_id, screen, name, i64::from(shared), state, ts(now)],
        |r| r.get(0),
    )
}

pub fn delete(tx: &Transaction<'_>, id: i64) -> rusqlite::Result<bool> {
    Ok(tx.execute("DELETE FROM saved_views WHERE id = ?1", [id])? > 0)
}
