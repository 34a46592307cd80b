//! Key/value settings of the desk (sync target, demo flags, backup count, audit retention).
//! Never credentials; the one secret here is the key of scrubbed emails' hashes
//! (`store::scrub::SUBJECT_KEY`), which must live with the data it keys.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

pub fn get(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()
}

pub fn set(tx: &Transaction<'_>, key: &str, value: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}
