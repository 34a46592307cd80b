//! The search's indexes set aside while a first pull fills an empty desk, and built again
//! after it (migration `deferred-indexes`). A pull inserts residents site by site; the
//! search's indexes are keyed by name, unit and email, so each insert lands on a random page
//! of each of them, and once they outgrow the page cache (a few hundred thousand residents)
//! every insert reads, decrypts, re-encrypts and writes pages again: the first pull of
//! 1,000,000 residents grew faster than the data. Built at the end, each index is one sort.
//!
//! Only indexes no pull or merge reads are set aside (the merge finds residents by remote
//! id, email and site, through the UNIQUE constraints and `residents_site_name`); a search
//! during the first pull still answers, by scanning. Each definition is kept in
//! `deferred_indexes` in the transaction that drops it, so whatever stops the pull (an error,
//! a crash, a kill) the indexes are built again: after the pull, or at the next open.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

/// The search's indexes (migration `search-indexes`): read by the resident list's search
/// only, never by the pull.
pub const DEFERRABLE: [&str; 4] = ["residents_order", "residents_first", "residents_unit_lc", "residents_email_order"];

/// Whether the desk holds no resident yet (a first pull is about to fill it).
pub fn residents_empty(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM residents)", [], |r| r.get(0))
}

/// Drops the [`DEFERRABLE`] indexes that exist, keeping their definitions; returns how many.
pub fn set_aside(conn: &Connection) -> rusqlite::Result<usize> {
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let mut dropped = 0;
    for name in DEFERRABLE {
        let sql: Option<String> = tx
            .query_row("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1", [name], |r| r.get(0))
            .optional()?;
        let Some(sql) = sql else { continue };
        tx.execute("INSERT OR REPLACE INTO deferred_indexes(name, sql) VALUES (?1, ?2)", [name, sql.as_str()])?;
        // `name` is one of DEFERRABLE's literals, never input.
        tx.execute_batch(&format!("DROP INDEX {name}"))?;
        dropped += 1;
    }
    tx.commit()?;
    Ok(dropped)
}

/// Builds every index set aside again, each in its own transaction (so one built survives
/// a crash during the next); returns how many were built.
pub fn build_again(conn: &Connection) -> rusqlite::Result<usize> {
    let pending: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM deferred_indexes ORDER BY name")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut built = 0;
    for (name, sql) in pending {
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1)",
            [&name],
            |r| r.get(0),
        )?;
        if !exists {
            tx.execute_batch(&sql)?;
            built += 1;
        }
        tx.execute("DELETE FROM deferred_indexes WHERE name = ?1", [&name])?;
        tx.commit()?;
    }
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column of the residents' explicit indexes (`name` or `sql`), in name order.
    fn residents_indexes(conn: &Connection, column: &str) -> Vec<String> {
        conn.prepare(&format!(
            "SELECT {column} FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'residents' AND sql IS NOT NULL ORDER BY name"
        ))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    fn indexes(conn: &Connection) -> Vec<String> {
        residents_indexes(conn, "name")
    }

    #[test]
    fn indexes_set_aside_are_built_again_as_they_were() {
        let conn = crate::store::open_in_memory().unwrap();
        let before = indexes(&conn);
        let definitions: Vec<String> = residents_indexes(&conn, "sql");
        assert!(DEFERRABLE.iter().all(|d| before.iter().any(|b| b == d)), "{before:?}");
        assert!(residents_empty(&conn).unwrap());
        assert_eq!(set_aside(&conn).unwrap(), DEFERRABLE.len());
        let during = indexes(&conn);
        assert!(DEFERRABLE.iter().all(|d| !during.contains(&d.to_string())), "{during:?}");
        // Set aside twice (a second pass before the first built them) loses nothing.
        assert_eq!(set_aside(&conn).unwrap(), 0);
        assert_eq!(build_again(&conn).unwrap(), DEFERRABLE.len());
        assert_eq!(indexes(&conn), before);
        let after: Vec<String> = residents_indexes(&conn, "sql");
        assert_eq!(after, definitions);
        assert_eq!(build_again(&conn).unwrap(), 0, "nothing left to build");
    }

    #[test]
    fn a_pull_killed_with_its_indexes_set_aside_has_them_built_at_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("killed.db");
        let before = indexes(&crate::store::open(&path).unwrap());
        {
            let conn = crate::store::open(&path).unwrap();
            assert_eq!(set_aside(&conn).unwrap(), DEFERRABLE.len());
            // The process dies here: nothing builds them on this connection.
        }
        let conn = crate::store::open(&path).unwrap();
        assert_eq!(indexes(&conn), before);
        let left: i64 = conn.query_row("SELECT count(*) FROM deferred_indexes", [], |r| r.get(0)).unwrap();
        assert_eq!(left, 0);
    }
}
