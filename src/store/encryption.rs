//! Turning a plain database into an encrypted one, and changing the key of an encrypted
//! one (issue #15: `db encrypt`, `db rekey`). The keys themselves are [`super::key`]'s.
//!
//! Encrypting writes an encrypted copy beside the database (`sqlcipher_export` inside one
//! read transaction, so the copy is one committed state), checks it, and moves it over the
//! database file while holding an exclusive lock; the plain file goes to the backup folder
//! first. Rekeying is SQLCipher's `PRAGMA rekey`: every page rewritten under the new key in
//! one transaction (a failure leaves the old key in force).

use super::key::DbKey;
use super::private_files;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// Why an encryption or a rekey did not happen; the database was not changed.
#[derive(Debug, thiserror::Error)]
pub enum EncryptError {
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
}

fn failed(what: &str, path: &Path, e: impl std::fmt::Display) -> EncryptError {
    EncryptError::Failed(format!("cannot {what} {}: {e}; the database was not changed", path.display()))
}

/// Writes `conn`'s plain database, encrypted with `key`, to a new file beside `live`, and
/// checks it (`quick_check` under the key). Returns the new file's path; the caller moves
/// it in with [`swap_in`] (or removes it).
pub fn encrypted_copy(conn: &Connection, live: &Path, key: &DbKey) -> Result<PathBuf, EncryptError> {
    if !key.is_encrypted() {
        return Err(EncryptError::Refused("no key to encrypt with".into()));
    }
    let dir = live.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temp = dir.join(format!(".encrypt-{}.tmp", uuid::Uuid::new_v4().simple()));
    drop(private_files::create_new(&temp).map_err(|e| failed("write an encrypted copy beside", live, e))?);
    let result = (|| -> rusqlite::Result<String> {
        key.attach(conn, &temp, "encrypted")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let copied = (|| {
            conn.execute_batch("BEGIN")?;
            conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
            // sqlcipher_export copies the schema and rows, not the header's schema version.
            conn.pragma_update(Some("encrypted"), "user_version", version)?;
            conn.execute_batch("COMMIT")
        })();
        if copied.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        let verdict = copied.and_then(|_| conn.query_row("PRAGMA encrypted.quick_check", [], |r| r.get(0)));
        conn.execute_batch("DETACH DATABASE encrypted")?;
        verdict
    })();
    match result {
        Ok(v) if v == "ok" => Ok(temp),
        Ok(v) => {
            remove_with_journals(&temp);
            Err(failed("encrypt", live, format!("the encrypted copy does not check out ({v})")))
        }
        Err(e) => {
            remove_with_journals(&temp);
            Err(failed("encrypt", live, e))
        }
    }
}

/// Moves `new_file` over the database `live` (whose connections in this process are all
/// closed): under an exclusive lock, after folding the WAL into the file, so no committed
/// change of another connection is left behind in a `-wal` file paired with the new file.
pub fn swap_in(live: &Path, new_file: &Path) -> Result<(), EncryptError> {
    let lock =
        Connection::open_with_flags(live, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(|e| failed("lock", live, e))?;
    let locked = (|| -> rusqlite::Result<()> {
        lock.busy_timeout(std::time::Duration::from_secs(10))?;
        lock.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        lock.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        // An exclusive transaction takes the lock; the exclusive mode keeps it after COMMIT.
        lock.execute_batch("BEGIN EXCLUSIVE; COMMIT;")
    })();
    if let Err(e) = locked {
        return Err(EncryptError::Refused(format!(
            "cannot take the database {} for myself ({e}): is the desktop app or another ResidentDesk using it? \
             Close them and run again; the database was not changed",
            live.display()
        )));
    }
    std::fs::rename(new_file, live).map_err(|e| failed("replace", live, e))?;
    drop(lock);
    // The old file's (empty) WAL and shared memory must not be paired with the new file.
    for suffix in ["-wal", "-shm"] {
        let mut p = live.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    Ok(())
}

/// Removes a file with its journals, quietly.
pub fn remove_with_journals(path: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// Rewrites every page of `conn`'s encrypted database under `new` (`PRAGMA rekey`), then
/// proves the new key on a connection of its own.
pub fn rekey(conn: &Connection, path: &Path, new: &DbKey) -> Result<(), EncryptError> {
    if !new.is_encrypted() {
        return Err(EncryptError::Refused("a database cannot be rekeyed to no key".into()));
    }
    new.rekey(conn).map_err(|e| failed("rekey", path, e))?;
    let check = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| EncryptError::Failed(format!("cannot reopen {} after the rekey: {e}", path.display())))?;
    new.apply(&check, path)
        .map_err(|e| EncryptError::Failed(format!("the new key does not open {}: {e}", path.display())))
}
