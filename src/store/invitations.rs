//! The `invitations` table: invitations by email with roles and sites, a one-time token
//! (argon2id hash, found by its prefix), pending until accepted, rejected or expired.

use super::{opt_ts, parse_ts, ts};
use crate::access::roles::SiteAccess;
use crate::access::Level;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

/// An invitation as stored (the token hash never leaves the store except for verifying).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Invitation {
    pub id: i64,
    pub team_id: i64,
    pub email: String,
    pub display_name: String,
    pub base: Level,
    pub addons: Vec<String>,
    pub sites: SiteAccess,
    #[serde(skip)]
    pub token_prefix: String,
    #[serde(skip)]
    pub token_hash: String,
    pub state: String,
    pub invited_by: i64,
    pub created_at: DateTime<Utc>,
    pub sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
}

const COLS: &str = "id, team_id, email, display_name, base_level, addons, all_sites, sites, token_prefix, token_hash, \
                    state, invited_by, created_at, sent_at, expires_at, decided_at, decided_by";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Invitation> {
    let base: String = r.get(4)?;
    let addons: String = r.get(5)?;
    let sites: String = r.get(7)?;
    let at =
        |i: usize| -> rusqlite::Result<DateTime<Utc>> { Ok(parse_ts(&r.get::<_, String>(i)?).unwrap_or_default()) };
    Ok(Invitation {
        id: r.get(0)?,
        team_id: r.get(1)?,
        email: r.get(2)?,
        display_name: r.get(3)?,
        base: Level::parse(&base).unwrap_or(Level::StaffUser),
        addons: serde_json::from_str(&addons).unwrap_or_default(),
        sites: if r.get::<_, i64>(6)? != 0 {
            SiteAccess::AllSites
        } else {
            SiteAccess::Listed(serde_json::from_str(&sites).unwrap_or_default())
        },
        token_prefix: r.get(8)?,
        token_hash: r.get(9)?,
        state: r.get(10)?,
        invited_by: r.get(11)?,
        created_at: at(12)?,
        sent_at: at(13)?,
        expires_at: at(14)?,
        decided_at: opt_ts(r.get(15)?),
        decided_by: r.get(16)?,
    })
}

/// An invitation to store.
pub struct NewInvitation<'a> {
    pub team_id: i64,
    pub email: &'a str,
    pub display_name: &'a str,
    pub base: Level,
    pub addons: &'a [String],
    pub sites: &'a SiteAccess,
    pub token_prefix: &'a str,
    pub token_hash: &'a str,
    pub invited_by: i64,
    pub expires_at: DateTime<Utc>,
}

pub fn insert(tx: &Transaction<'_>, i: &NewInvitation<'_>, now: DateTime<Utc>) -> rusqlite::Result<i64> {
    let (all, list) = match i.sites {
        SiteAccess::AllSites => (1, "[]".to_string()),
        SiteAccess::Listed(s) => (0, serde_json::to_string(s).unwrap_or_else(|_| "[]".into())),
    };
    tx.execute(
        "INSERT INTO invitations(team_id, email, display_name, base_level, addons, all_sites, sites, token_prefix,
                                 token_hash, invited_by, created_at, sent_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)",
        params![
            i.team_id,
            i.email,
            i.display_name,
            i.base.as_str(),
            serde_json::to_string(i.addons).unwrap_or_else(|_| "[]".into()),
            all,
            list,
            i.token_prefix,
            i.token_hash,
            i.invited_by,
            ts(now),
            ts(i.expires_at)
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Invitation>> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM invitations WHERE id = ?1"))?.query_row([id], from_row).optional()
}

pub fn by_prefix(conn: &Connection, prefix: &str) -> rusqlite::Result<Option<Invitation>> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM invitations WHERE token_prefix = ?1"))?
        .query_row([prefix], from_row)
        .optional()
}

/// The invitations of a team, newest first.
pub fn list(conn: &Connection, team_id: i64) -> rusqlite::Result<Vec<Invitation>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLS} FROM invitations WHERE team_id = ?1 ORDER BY id DESC"))?;
    let rows = stmt.query_map([team_id], from_row)?;
    rows.collect()
}

/// Ends a pending invitation (accepted, rejected or expired); returns whether it was pending.
pub fn decide(tx: &Transaction<'_>, id: i64, state: &str, by: &str, now: DateTime<Utc>) -> rusqlite::Result<bool> {
    Ok(tx.execute(
        "UPDATE invitations SET state = ?2, decided_at = ?3, decided_by = ?4 WHERE id = ?1 AND state = 'pending'",
        params![id, state, ts(now), by],
    )? == 1)
}

/// Gives a pending invitation a new token and expiry (resend).
pub fn renew(
    tx: &Transaction<'_>,
    id: i64,
    prefix: &str,
    hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE invitations SET token_prefix = ?2, token_hash = ?3, sent_at = ?4, expires_at = ?5 WHERE id = ?1",
        params![id, prefix, hash, ts(now), ts(expires_at)],
    )?;
    Ok(())
}
