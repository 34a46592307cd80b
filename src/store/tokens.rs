//! The `api_tokens` table: API tokens stored as an argon2id hash, found by their prefix.

use super::{opt_ts, parse_ts, ts};
use crate::access::roles::{PermSet, SiteAccess};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

/// An API token as stored (the hash never leaves the store except for verifying).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TokenRow {
    pub id: i64,
    pub team_id: i64,
    pub created_by: i64,
    pub name: String,
    pub prefix: String,
    #[serde(skip)]
    pub token_hash: String,
    #[cfg_attr(feature = "ts", ts(as = "Vec<String>"))]
    pub permissions: PermSet,
    pub sites: SiteAccess,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const COLS: &str = "id, team_id, created_by, name, prefix, token_hash, permissions, all_sites, sites, created_at, \
                    expires_at, last_used_at, revoked_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<TokenRow> {
    let perms: String = r.get(6)?;
    let sites: String = r.get(8)?;
    let created: String = r.get(9)?;
    Ok(TokenRow {
        id: r.get(0)?,
        team_id: r.get(1)?,
        created_by: r.get(2)?,
        name: r.get(3)?,
        prefix: r.get(4)?,
        token_hash: r.get(5)?,
        permissions: serde_json::from_str(&perms).unwrap_or_default(),
        sites: if r.get::<_, i64>(7)? != 0 {
            SiteAccess::AllSites
        } else {
            SiteAccess::Listed(serde_json::from_str(&sites).unwrap_or_default())
        },
        created_at: parse_ts(&created).unwrap_or_default(),
        expires_at: opt_ts(r.get(10)?),
        last_used_at: opt_ts(r.get(11)?),
        revoked_at: opt_ts(r.get(12)?),
    })
}

/// A token to store.
pub struct NewToken<'a> {
    pub team_id: i64,
    pub created_by: i64,
    pub name: &'a str,
    pub prefix: &'a str,
    pub token_hash: &'a str,
    pub permissions: PermSet,
    pub sites: &'a SiteAccess,
    pub expires_at: Option<DateTime<Utc>>,
}

pub fn insert(tx: &Transaction<'_>, t: &NewToken<'_>, now: DateTime<Utc>) -> rusqlite::Result<i64> {
    let (all, list) = match t.sites {
        SiteAccess::AllSites => (1, "[]".to_string()),
        SiteAccess::Listed(s) => (0, serde_json::to_string(s).unwrap_or_else(|_| "[]".into())),
    };
    tx.execute(
        "INSERT INTO api_tokens(team_id, created_by, name, prefix, token_hash, permissions, all_sites, sites, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            t.team_id,
            t.created_by,
            t.name,
            t.prefix,
            t.token_hash,
            serde_json::to_string(&t.permissions).unwrap_or_else(|_| "[]".into()),
            all,
            list,
            ts(now),
            t.expires_at.map(ts)
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn by_prefix(conn: &Connection, prefix: &str) -> rusqlite::Result<Option<TokenRow>> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM api_tokens WHERE prefix = ?1"))?
        .query_row([prefix], from_row)
        .optional()
}

/// The tokens of a team, newest first.
pub fn list(conn: &Connection, team_id: i64) -> rusqlite::Result<Vec<TokenRow>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLS} FROM api_tokens WHERE team_id = ?1 ORDER BY id DESC"))?;
    let rows = stmt.query_map([team_id], from_row)?;
    rows.collect()
}

pub fn touch(conn: &Connection, id: i64, now: DateTime<Utc>) -> rusqlite::Result<()> {
    conn.execute("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1", params![id, ts(now)])?;
    Ok(())
}

/// Revokes a token (once); returns whether it was live.
pub fn revoke(tx: &Transaction<'_>, id: i64, by: i64, now: DateTime<Utc>) -> rusqlite::Result<bool> {
    Ok(tx.execute(
        "UPDATE api_tokens SET revoked_at = ?2, revoked_by = ?3 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, ts(now), by],
    )? == 1)
}
