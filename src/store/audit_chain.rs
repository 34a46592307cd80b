//! The audit log's hash chain (issue #15, tamper-evident audit): how a row's hash is made,
//! the walk that verifies the whole chain, the legacy rows' one-time hashing, and the
//! append-only triggers checked against the SQL they must have.
//!
//! Each row stores `commitment` = SHA-256 over its personal part (target and details),
//! `prev_hash` = the hash of the row before it (32 zero bytes for the first) and `hash` =
//! SHA-256 over `prev_hash` and every other column, the commitment standing in for target
//! and details. A scrub ([`super::scrub`]) may therefore replace target and details (the
//! triggers allow exactly that update) while the chain still verifies. The hash is written
//! in one place, [`super::audit::append`], inside the writer's transaction.
//!
//! What it shows: a row edited, deleted or moved by someone who did not recompute every
//! later hash. What it cannot show alone: a rewrite of the whole chain from the edit on, or
//! rows cut off the end; the report's `head` (the last row's hash) is what to note
//! elsewhere to catch those.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first row.
pub const GENESIS: [u8; 32] = [0; 32];

/// The settings key naming the last row written before the chain existed (migration 0008);
/// those rows are hashed at the first open of this version, then the key is removed.
const CHAIN_FROM: &str = "audit.chain_from";

/// The action of the entry the app writes when it found the triggers dropped or altered.
pub const TRIGGERS_RESTORED: &str = "audit.triggers_restored";

fn put(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

fn put_opt_text(h: &mut Sha256, text: Option<&str>) {
    match text {
        None => h.update([0]),
        Some(t) => {
            h.update([1]);
            put(h, t.as_bytes());
        }
    }
}

fn put_opt_int(h: &mut Sha256, value: Option<i64>) {
    match value {
        None => h.update([0]),
        Some(v) => {
            h.update([1]);
            h.update(v.to_be_bytes());
        }
    }
}

/// The commitment to a row's personal part. Length-prefixed fields, so no two different
/// (target, details) pairs share an input.
pub fn commitment(target: Option<&str>, details: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"residentdesk audit personal v1\0");
    put_opt_text(&mut h, target);
    put(&mut h, details.as_bytes());
    h.finalize().into()
}

/// The columns a row's hash covers (target and details through the commitment).
#[derive(Debug, Clone, Copy)]
pub struct Chained<'a> {
    pub at: &'a str,
    pub actor_id: Option<i64>,
    pub actor: &'a str,
    pub action: &'a str,
    pub outcome: &'a str,
    pub team_id: Option<i64>,
    pub site_id: Option<i64>,
    pub commitment: &'a [u8],
}

/// A row's hash: over the previous row's hash and every column of the row.
pub fn row_hash(prev: &[u8], row: &Chained<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"residentdesk audit row v1\0");
    put(&mut h, prev);
    put(&mut h, row.at.as_bytes());
    put_opt_int(&mut h, row.actor_id);
    put(&mut h, row.actor.as_bytes());
    put(&mut h, row.action.as_bytes());
    put(&mut h, row.outcome.as_bytes());
    put_opt_int(&mut h, row.team_id);
    put_opt_int(&mut h, row.site_id);
    put(&mut h, row.commitment);
    h.finalize().into()
}

/// The hash of the last row (the next row's `prev_hash`); [`GENESIS`] for an empty log.
/// A last row without a hash (written around the chain) also gives [`GENESIS`]: the chain
/// goes on, and `audit verify` names that row.
pub(super) fn last_hash(conn: &Connection) -> rusqlite::Result<[u8; 32]> {
    let last: Option<Option<Vec<u8>>> = conn
        .prepare_cached("SELECT hash FROM audit ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(last.flatten().and_then(|h| <[u8; 32]>::try_from(h.as_slice()).ok()).unwrap_or(GENESIS))
}

/// What is wrong where the chain breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    /// The row's columns are not those its hash was made over.
    ContentEdited,
    /// The row before it is missing (deleted) or was replaced.
    RowMissing,
    /// The row it follows in the chain comes later: rows were moved.
    OrderChanged,
    /// The row has no hash (written around the one writer, after the chain began).
    NotChained,
}

/// The first row that breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChainBreak {
    pub id: i64,
    /// The row's time as stored.
    pub at: String,
    pub kind: BreakKind,
    pub message: String,
}

/// An entry of the log that itself records tampering (the append-only triggers found
/// dropped or altered at open): reported by every verify, since the triggers were off for
/// a while and anything written meanwhile is in doubt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChainFinding {
    pub id: i64,
    pub at: String,
    pub message: String,
}

/// The result of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChainReport {
    /// No break and no finding.
    pub ok: bool,
    /// Rows in the log.
    pub rows: i64,
    /// Rows verified before the first break (all of them when none).
    pub verified: i64,
    /// The last row's hash (hex) when the whole chain verified: note it elsewhere to catch
    /// a later rewrite of the end of the log.
    pub head: Option<String>,
    pub first_break: Option<ChainBreak>,
    pub findings: Vec<ChainFinding>,
}

struct Stored {
    id: i64,
    at: String,
    actor_id: Option<i64>,
    actor: String,
    action: String,
    outcome: String,
    team_id: Option<i64>,
    site_id: Option<i64>,
    target: Option<String>,
    details: String,
    commitment: Option<Vec<u8>>,
    prev_hash: Option<Vec<u8>>,
    hash: Option<Vec<u8>>,
    scrubbed: bool,
}

/// Checks one row against the hash of the row before it; `None` when it holds.
fn check_row(conn: &Connection, row: &Stored, expected_prev: &[u8]) -> rusqlite::Result<Option<(BreakKind, String)>> {
    let (Some(committed), Some(prev), Some(hash)) = (&row.commitment, &row.prev_hash, &row.hash) else {
        return Ok(Some((BreakKind::NotChained, "the row has no hash: it was written around the audit writer".into())));
    };
    if row.scrubbed {
        if !row.details.starts_with("{\"scrubbed\":") {
            return Ok(Some((
                BreakKind::ContentEdited,
                "the row is marked scrubbed but its details were changed".into(),
            )));
        }
    } else if commitment(row.target.as_deref(), &row.details).as_slice() != committed.as_slice() {
        return Ok(Some((BreakKind::ContentEdited, "the row's target or details were changed".into())));
    }
    let chained = Chained {
        at: &row.at,
        actor_id: row.actor_id,
        actor: &row.actor,
        action: &row.action,
        outcome: &row.outcome,
        team_id: row.team_id,
        site_id: row.site_id,
        commitment: committed,
    };
    if row_hash(prev, &chained).as_slice() != hash.as_slice() {
        return Ok(Some((
            BreakKind::ContentEdited,
            "the row's time, actor, action, outcome, team or site were changed".into(),
        )));
    }
    if prev.as_slice() == expected_prev {
        return Ok(None);
    }
    // The link is wrong: the row it follows (or the row that should follow the previous
    // one) sits later in the log, or nowhere.
    let moved = conn
        .prepare_cached("SELECT 1 FROM audit WHERE id > ?1 AND (hash = ?2 OR prev_hash = ?3) LIMIT 1")?
        .exists(params![row.id, prev, expected_prev])?;
    Ok(Some(if moved {
        (BreakKind::OrderChanged, "the rows around it are out of order".into())
    } else {
        (BreakKind::RowMissing, "the row before it is missing or was replaced".into())
    }))
}

/// Walks the whole log in id order and reports the first row that breaks the chain, with
/// every entry that records restored triggers.
pub fn verify(conn: &Connection) -> rusqlite::Result<ChainReport> {
    let rows: i64 = conn.query_row("SELECT count(*) FROM audit", [], |r| r.get(0))?;
    let mut stmt = conn.prepare(
        "SELECT id, at, actor_id, actor, action, outcome, team_id, site_id, target, details, commitment,
                prev_hash, hash, scrubbed_at IS NOT NULL
         FROM audit ORDER BY id",
    )?;
    let mut cursor = stmt.query([])?;
    let mut expected_prev: Vec<u8> = GENESIS.to_vec();
    let mut verified = 0;
    let mut first_break = None;
    while let Some(r) = cursor.next()? {
        let row = Stored {
            id: r.get(0)?,
            at: r.get(1)?,
            actor_id: r.get(2)?,
            actor: r.get(3)?,
            action: r.get(4)?,
            outcome: r.get(5)?,
            team_id: r.get(6)?,
            site_id: r.get(7)?,
            target: r.get(8)?,
            details: r.get(9)?,
            commitment: r.get(10)?,
            prev_hash: r.get(11)?,
            hash: r.get(12)?,
            scrubbed: r.get(13)?,
        };
        if let Some((kind, message)) = check_row(conn, &row, &expected_prev)? {
            first_break = Some(ChainBreak { id: row.id, at: row.at, kind, message });
            break;
        }
        verified += 1;
        expected_prev = row.hash.unwrap_or_default();
    }
    drop(cursor);
    let mut findings = Vec::new();
    let mut stmt = conn.prepare_cached("SELECT id, at, details FROM audit WHERE action = ?1 ORDER BY id")?;
    let mut cursor = stmt.query([TRIGGERS_RESTORED])?;
    while let Some(r) = cursor.next()? {
        let details: String = r.get(2)?;
        let what = serde_json::from_str::<serde_json::Value>(&details)
            .ok()
            .and_then(|d| d.get("triggers").map(|t| t.to_string()))
            .unwrap_or_default();
        findings.push(ChainFinding {
            id: r.get(0)?,
            at: r.get(1)?,
            message: format!(
                "the audit log's append-only triggers were found dropped or altered and restored {what}; rows \
                 written before this entry may have been changed meanwhile"
            ),
        });
    }
    let head = (first_break.is_none() && rows > 0).then(|| hex::encode(&expected_prev));
    Ok(ChainReport { ok: first_break.is_none() && findings.is_empty(), rows, verified, head, first_break, findings })
}

/// The append-only triggers as they must be in `sqlite_schema` (migrations 0004 and 0008
/// create them with exactly this text; a unit test keeps the two the same).
pub const TRIGGERS: [(&str, &str); 2] = [
    (
        "audit_no_update",
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
WHEN NOT (OLD.scrubbed_at IS NULL AND NEW.scrubbed_at IS NOT NULL
    AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor_id IS OLD.actor_id AND NEW.actor IS OLD.actor
    AND NEW.action IS OLD.action AND NEW.outcome IS OLD.outcome AND NEW.team_id IS OLD.team_id
    AND NEW.site_id IS OLD.site_id AND NEW.commitment IS OLD.commitment AND NEW.prev_hash IS OLD.prev_hash
    AND NEW.hash IS OLD.hash AND NEW.details LIKE '{\"scrubbed\":%'
    AND (NEW.target IS OLD.target OR NEW.target LIKE 'hmac:%'))
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    ),
    (
        "audit_no_delete",
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    ),
];

/// A trigger on the audit log that is not as it must be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TriggerProblem {
    pub name: String,
    /// `missing`, `altered` or `unexpected` (a trigger on the log this version never made).
    pub problem: &'static str,
}

/// Compares the triggers on the audit log with [`TRIGGERS`] (whitespace aside).
pub fn trigger_problems(conn: &Connection) -> rusqlite::Result<Vec<TriggerProblem>> {
    let norm = |sql: &str| sql.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut stmt = conn.prepare_cached(
        "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'audit' COLLATE NOCASE",
    )?;
    let found: Vec<(String, Option<String>)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    let mut problems = Vec::new();
    for (name, sql) in TRIGGERS {
        match found.iter().find(|(n, _)| n == name) {
            None => problems.push(TriggerProblem { name: name.into(), problem: "missing" }),
            Some((_, have)) if have.as_deref().map(norm) != Some(norm(sql)) => {
                problems.push(TriggerProblem { name: name.into(), problem: "altered" })
            }
            Some(_) => {}
        }
    }
    for (name, _) in &found {
        if !TRIGGERS.iter().any(|(n, _)| n == name) {
            problems.push(TriggerProblem { name: name.clone(), problem: "unexpected" });
        }
    }
    Ok(problems)
}

/// Puts the triggers back as [`TRIGGERS`] says (dropping altered and unexpected ones), in
/// the caller's transaction; returns what was wrong.
pub fn restore_triggers(tx: &Transaction<'_>) -> rusqlite::Result<Vec<TriggerProblem>> {
    let problems = trigger_problems(tx)?;
    for p in &problems {
        // The name comes from sqlite_schema or the constant; quoted as an identifier.
        tx.execute_batch(&format!("DROP TRIGGER IF EXISTS \"{}\"", p.name.replace('"', "\"\"")))?;
        if let Some((_, sql)) = TRIGGERS.iter().find(|(n, _)| *n == p.name) {
            tx.execute_batch(sql)?;
        }
    }
    Ok(problems)
}

/// Hashes the rows written before the chain existed (once, at the first open of this
/// version: migration 0008 left their last id in `audit.chain_from`). The update trigger
/// allows no such change, so it is lifted for this one transaction and put back as it was.
pub fn backfill(conn: &Connection) -> rusqlite::Result<u64> {
    let from: Option<String> = super::settings::get(conn, CHAIN_FROM)?;
    let Some(last_legacy) = from.and_then(|v| v.trim().parse::<i64>().ok()) else {
        if super::settings::get(conn, CHAIN_FROM)?.is_some() {
            let tx = super::begin_immediate(conn)?;
            tx.execute("DELETE FROM settings WHERE key = ?1", [CHAIN_FROM])?;
            tx.commit()?;
        }
        return Ok(0);
    };
    let tx = super::begin_immediate(conn)?;
    let update_sql: Option<String> = tx
        .query_row("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = 'audit_no_update'", [], |r| {
            r.get(0)
        })
        .optional()?;
    tx.execute_batch("DROP TRIGGER IF EXISTS audit_no_update")?;
    let mut prev = GENESIS.to_vec();
    let mut n = 0;
    {
        let mut read = tx.prepare(
            "SELECT id, at, actor_id, actor, action, outcome, team_id, site_id, target, details, hash
             FROM audit WHERE id <= ?1 ORDER BY id",
        )?;
        let mut write =
            tx.prepare("UPDATE audit SET commitment = ?2, prev_hash = ?3, hash = ?4 WHERE id = ?1 AND hash IS NULL")?;
        let mut cursor = read.query([last_legacy])?;
        while let Some(r) = cursor.next()? {
            let id: i64 = r.get(0)?;
            let hash: Option<Vec<u8>> = r.get(10)?;
            if let Some(h) = hash {
                prev = h;
                continue;
            }
            let (at, actor, action, outcome): (String, String, String, String) =
                (r.get(1)?, r.get(3)?, r.get(4)?, r.get(5)?);
            let target: Option<String> = r.get(8)?;
            let details: String = r.get(9)?;
            let c = commitment(target.as_deref(), &details);
            let chained = Chained {
                at: &at,
                actor_id: r.get(2)?,
                actor: &actor,
                action: &action,
                outcome: &outcome,
                team_id: r.get(6)?,
                site_id: r.get(7)?,
                commitment: &c,
            };
            let h = row_hash(&prev, &chained);
            write.execute(params![id, c.as_slice(), prev.as_slice(), h.as_slice()])?;
            prev = h.to_vec();
            n += 1;
        }
    }
    if let Some(sql) = update_sql {
        tx.execute_batch(&sql)?;
    }
    tx.execute("DELETE FROM settings WHERE key = ?1", [CHAIN_FROM])?;
    tx.commit()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_database_has_exactly_the_expected_triggers() {
        let conn = super::super::open_in_memory().unwrap();
        assert_eq!(trigger_problems(&conn).unwrap(), []);
    }

    /// Rows written before migration 0008 are chained by the first open after it (once),
    /// the update trigger is back as it must be, and new rows chain on after them.
    #[test]
    fn rows_from_before_the_chain_are_hashed_once_at_the_first_open() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrations().to_version(&mut conn, 7).unwrap();
        for (at, target) in [("2026-01-01T00:00:00.000000Z", Some("a@x.test")), ("2026-01-02T00:00:00.000000Z", None)] {
            conn.execute(
                "INSERT INTO audit(at, actor, action, outcome, target, details) VALUES (?1, 'me', 'x', 'ok', ?2, '{}')",
                params![at, target],
            )
            .unwrap();
        }
        super::super::migrations().to_latest(&mut conn).unwrap();
        assert!(!verify(&conn).unwrap().ok, "not chained yet");
        assert_eq!(backfill(&conn).unwrap(), 2);
        assert_eq!(backfill(&conn).unwrap(), 0, "once");
        assert_eq!(trigger_problems(&conn).unwrap(), []);
        let entry = super::super::audit::NewAudit {
            actor_id: None,
            actor: "me",
            action: "y",
            outcome: "ok",
            team_id: None,
            site_id: None,
            target: None,
            details: serde_json::json!({}).into(),
        };
        super::super::audit::append(&conn, &entry, chrono::Utc::now()).unwrap();
        let report = verify(&conn).unwrap();
        assert!(report.ok && report.verified == 3, "{report:?}");
    }

    #[test]
    fn the_hash_covers_every_column_and_the_link() {
        let c = commitment(Some("a@x.test"), "{}");
        let base = Chained {
            at: "t",
            actor_id: Some(1),
            actor: "me",
            action: "x",
            outcome: "ok",
            team_id: Some(2),
            site_id: None,
            commitment: &c,
        };
        let h = row_hash(&GENESIS, &base);
        let c2 = commitment(Some("b@x.test"), "{}");
        for other in [
            Chained { at: "u", ..base },
            Chained { actor_id: None, ..base },
            Chained { actor: "you", ..base },
            Chained { action: "y", ..base },
            Chained { outcome: "denied", ..base },
            Chained { team_id: Some(3), ..base },
            Chained { site_id: Some(2), ..base },
            Chained { commitment: &c2, ..base },
        ] {
            assert_ne!(row_hash(&GENESIS, &other), h, "{other:?}");
        }
        assert_ne!(row_hash(&[1; 32], &base), h);
        assert_ne!(commitment(None, "{}"), commitment(Some(""), "{}"));
    }
}
