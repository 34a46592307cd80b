//! The SQLite store: opening a database with the right pragmas, the embedded migrations, and
//! one module per table. Every SQL statement of the project lives under this module, always
//! with bound parameters. Read functions take `&Connection`; write functions take a
//! `&Transaction`, so the compiler marks every write.

pub mod audit;
pub mod audit_chain;
pub mod backup;
pub mod conflicts;
pub mod deferred_indexes;
pub mod encryption;
pub mod export;
pub mod invitations;
pub mod key;
pub mod outbox;
pub mod overview;
pub mod private_files;
pub mod remote_check;
pub mod residents;
pub mod roles;
pub mod scrub;
pub mod settings;
pub mod sign_in_throttle;
pub mod sites;
pub mod staff;
pub mod sync_state;
pub mod team_sync;
pub mod teams;
pub mod tokens;
pub mod views;

use chrono::{DateTime, NaiveDateTime, Utc};
use include_dir::{include_dir, Dir};
pub use key::{DbKey, KeySource};
use rusqlite::{Connection, OpenFlags, Transaction};
use rusqlite_migration::Migrations;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

static MIGRATIONS_DIR: Dir = include_dir!("$CARGO_MANIFEST_DIR/migrations");

static MIGRATIONS: LazyLock<Migrations<'static>> =
    LazyLock::new(|| Migrations::from_directory(&MIGRATIONS_DIR).expect("migrations/ is well-formed"));

/// Errors of opening or migrating a database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open { path: String, source: rusqlite::Error },
    /// The key is missing or wrong (or the keyring failed): nothing was written.
    #[error("{0}")]
    Key(#[from] key::KeyError),
    #[error("cannot create the database {path} or its folder: {reason}")]
    Create { path: String, reason: String },
    #[error("cannot migrate database: {0}")]
    Migrate(#[from] rusqlite_migration::Error),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The database was made by a newer version (a package downgraded over it).
    #[error(
        "the database {path} was made by a newer version of ResidentDesk (schema version {found}; this \
         version knows up to {latest}); install that version or a later one"
    )]
    TooNew { path: String, found: i64, latest: i64 },
    /// The copy taken before migrating could not be written: nothing was migrated.
    #[error(
        "the database {path} must be migrated (schema version {from} to {to}) and a backup is taken first, \
         but {reason}; the database was left as it was — free some space or make the folder writable and \
         start again"
    )]
    BackupBeforeMigration { path: String, from: i64, to: i64, reason: String },
}

/// The embedded migrations (for `validate()` in tests).
pub fn migrations() -> &'static Migrations<'static> {
    &MIGRATIONS
}

/// Sets the per-connection pragmas: WAL, foreign keys, FULL synchronous (a committed change
/// survives a power cut), a busy timeout for the second process (CLI beside the desktop),
/// and `secure_delete` (deleted content is overwritten with zeros in the database and its
/// WAL, so a purged resident's data is not left in free pages: purge means gone).
pub fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(Duration::from_secs(10))?;
    // 16 KiB pages (only a new database takes them; it must precede WAL): large imports and
    // pulls write ~13 % less CPU than with 4 KiB pages, measured on 100,000-row imports.
    conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -32_000)?;
    // A pull's merge, an import's row or a use case runs a few dozen distinct statements in
    // turn; rusqlite's default cache of 16 evicted and re-parsed them (5 % of a 1 % pull at a
    // million residents went to preparing statements again).
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

/// Opens a savepoint `name` inside the caller's transaction: a step that may have to undo
/// its own writes ([`rollback_to`]) without giving up the transaction's others.
pub fn savepoint(tx: &Transaction<'_>, name: &str) -> rusqlite::Result<()> {
    tx.execute_batch(&format!("SAVEPOINT {name}"))
}

/// Keeps what was written since [`savepoint`] `name` (as part of the transaction).
pub fn release(tx: &Transaction<'_>, name: &str) -> rusqlite::Result<()> {
    tx.execute_batch(&format!("RELEASE {name}"))
}

/// Undoes what was written since [`savepoint`] `name`, and closes it.
pub fn rollback_to(tx: &Transaction<'_>, name: &str) -> rusqlite::Result<()> {
    tx.execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}"))
}

/// How many prepared statements a connection keeps (see [`configure`]).
const STATEMENT_CACHE: usize = 128;

/// The connection's page cache set to `kib` KiB for a while (restored on drop): small while
/// an export streams ([`export::STREAMING_CACHE_KIB`]), large while a bulk write (demo seed,
/// import, pull) inserts into indexes whose insertion points are spread over the whole index
/// (emails), so their pages are not read, decrypted and written again for every few rows
/// ([`BULK_CACHE_KIB`]). SQLite frees what is over the limit when it is lowered again.
pub struct CacheSize<'c> {
    conn: &'c Connection,
    previous: i64,
}

/// The page cache of a bulk write, in KiB (128 MiB).
pub const BULK_CACHE_KIB: i64 = 128 * 1024;

impl<'c> CacheSize<'c> {
    pub fn set(conn: &'c Connection, kib: i64) -> rusqlite::Result<CacheSize<'c>> {
        Ok(CacheSize { conn, previous: set_cache_kib(conn, kib)? })
    }
}

impl Drop for CacheSize<'_> {
    fn drop(&mut self) {
        restore_cache_size(self.conn, self.previous);
    }
}

/// Sets the page cache to `kib` KiB; returns the previous `cache_size` for
/// [`restore_cache_size`] (where a [`CacheSize`] guard cannot borrow the connection).
pub fn set_cache_kib(conn: &Connection, kib: i64) -> rusqlite::Result<i64> {
    let previous: i64 = conn.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", -kib)?;
    Ok(previous)
}

/// Puts back a `cache_size` [`set_cache_kib`] returned (quietly: only memory is at stake).
pub fn restore_cache_size(conn: &Connection, previous: i64) {
    let _ = conn.pragma_update(None, "cache_size", previous);
}

/// The page size of databases created by this version.
pub const PAGE_SIZE: i64 = 16_384;

/// SQLite's default: a commit that leaves more than this many pages in the WAL copies them
/// back into the database file itself (an automatic checkpoint).
pub const WAL_AUTOCHECKPOINT_PAGES: i64 = 1000;

/// Begins an immediate transaction (the one writer). Called by the app's gate for every use
/// case and by the sync executor for its short steps, nowhere else (`tests/it/gate.rs`).
pub fn begin_immediate(conn: &Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
}

/// A stamp that changes whenever the database may have changed: SQLite's `data_version`
/// (bumped by commits of other connections) with this connection's own change count. Equal
/// stamps mean nothing was written in between, so what was read then still holds.
pub fn data_stamp(conn: &Connection) -> rusqlite::Result<(i64, u64)> {
    let version: i64 = conn.prepare_cached("PRAGMA data_version")?.query_row([], |r| r.get(0))?;
    Ok((version, conn.total_changes()))
}

/// The database used when none is named (`--db`, `RESIDENTDESK_DB`): `residentdesk.db` in a
/// `residentdesk` folder of the platform's data directory (`$XDG_DATA_HOME` or
/// `~/.local/share` on Linux, `~/Library/Application Support` on macOS, `%APPDATA%` on
/// Windows). The CLI and the desktop both call this, so they open the same file on every OS.
pub fn default_database_path() -> PathBuf {
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("residentdesk").join("residentdesk.db")
}

/// The file of an on-disk database (`None` in memory).
pub fn file_path(conn: &Connection) -> Option<std::path::PathBuf> {
    conn.path().filter(|p| !p.is_empty()).map(std::path::PathBuf::from)
}

/// Sets the connection's automatic WAL checkpoint (0: off, while a large import commits).
pub fn set_auto_checkpoint(conn: &Connection, pages: i64) -> rusqlite::Result<()> {
    conn.pragma_update(None, "wal_autocheckpoint", pages)
}

/// Copies the WAL back into the database file and empties it, without waiting for anyone:
/// after a scrub, so the log keeps no earlier copy of the scrubbed pages (`secure_delete`
/// zeroes the database's free space, not old WAL frames). Another connection reading or
/// writing makes it give up; the next checkpoint then does it.
pub fn truncate_wal(conn: &Connection) {
    if conn.busy_timeout(Duration::ZERO).is_err() {
        return;
    }
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::debug!("the WAL was not emptied after a scrub: {e}");
    }
    let _ = conn.busy_timeout(Duration::from_secs(10));
}

/// A WAL checkpoint running on its own connection and thread.
#[derive(Debug)]
pub struct BackgroundCheckpoint {
    thread: std::thread::JoinHandle<Duration>,
}

impl BackgroundCheckpoint {
    /// Waits for the checkpoint; returns how long it ran (a failed one is logged: it only
    /// leaves the log longer, for the next checkpoint to fold back).
    pub fn wait(self) -> Duration {
        self.thread.join().unwrap_or_default()
    }
}

/// Copies the WAL of the database at `path` back into the database file on a thread of
/// its own (a PASSIVE checkpoint: readers and writers go on meanwhile). A large write turns
/// its connection's automatic checkpoint off and calls this after its commit, so the person
/// who imported 100,000 rows is not kept waiting while tens of megabytes are copied.
pub fn checkpoint_in_background(path: &Path, key: &DbKey) -> BackgroundCheckpoint {
    let path = path.to_path_buf();
    let key = key.clone();
    let thread = std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let run = || -> Result<(), Box<dyn std::error::Error>> {
            let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
            key.apply(&conn, &path)?;
            conn.busy_timeout(Duration::from_secs(10))?;
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
            Ok(())
        };
        if let Err(e) = run() {
            tracing::warn!("background checkpoint of {} failed: {e}", path.display());
        }
        started.elapsed()
    });
    BackgroundCheckpoint { thread }
}

/// A read-only connection to the database at `path`, inside a read transaction: it sees
/// the last committed state for as long as it lives, whatever a writer does meanwhile (the
/// import checks its rows on one while the writer inserts them).
pub fn open_snapshot(path: &Path, key: &DbKey) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let sql = |source| StoreError::Open { path: path.display().to_string(), source };
    let open = || -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(path, flags).map_err(sql)?;
        key.apply(&conn, path)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(sql)?;
        // The import's checks look emails up all over their index (a bulk read).
        conn.pragma_update(None, "cache_size", -BULK_CACHE_KIB).map_err(sql)?;
        conn.execute_batch("BEGIN DEFERRED").map_err(sql)?;
        // The snapshot starts at the first read.
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(())).map_err(sql)?;
        Ok(conn)
    };
    open()
}

/// Opens (creating if needed) and migrates the database at `path`, with the key resolved
/// the standard way ([`KeySource::Standard`]: `RESIDENTDESK_DB_KEY`, else the OS keyring).
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    open_keyed(path, &KeySource::Standard).map(|(conn, _)| conn)
}

/// Opens (creating if needed) and migrates the database at `path` with the key from
/// `source`; returns the key too, for the other connections to the same file. A new file
/// is created encrypted (unless the source is [`KeySource::Plain`]) and 0600, in a folder
/// created 0700; a missing or wrong key is refused before anything is written.
pub fn open_keyed(path: &Path, source: &KeySource) -> Result<(Connection, DbKey), StoreError> {
    let key = key::resolve(path, source)?;
    Ok((open_with(path, &key)?, key))
}

/// Opens (creating if needed) and migrates the database at `path` with a key already
/// resolved (after `db encrypt` or a rekey).
pub fn open_with(path: &Path, key: &DbKey) -> Result<Connection, StoreError> {
    let io = |e: std::io::Error| StoreError::Create { path: path.display().to_string(), reason: e.to_string() };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        private_files::create_dir(parent).map_err(io)?;
    }
    private_files::create_file(path).map_err(io)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)
        .map_err(|source| StoreError::Open { path: path.display().to_string(), source })?;
    // Before any pragma changes the file: a refusal leaves it byte for byte as it was.
    key.apply(&conn, path)?;
    if !key.is_encrypted() && matches!(key::file_state(path), Ok(key::FileState::Plain)) {
        tracing::warn!(
            "the database {} is not encrypted; `residentdesk db encrypt` encrypts it (see the README)",
            path.display()
        );
    }
    private_files::restrict(path);
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(|source| StoreError::Open { path: path.display().to_string(), source })?;
    let latest = backup::latest_version();
    let found = backup::user_version(&conn)?;
    if found > latest {
        return Err(StoreError::TooNew { path: path.display().to_string(), found, latest });
    }
    // A database written by an older version (a package installed over it): a copy goes
    // to the backup folder before the first migration touches it.
    if let Some(from) = backup::needs_migration_backup(&conn)? {
        match backup::before_migration(&conn, path, from) {
            Ok(copy) => tracing::info!("backed up {} to {} before migrating it", path.display(), copy.display()),
            Err(e) => {
                let reason = e.to_string();
                return Err(StoreError::BackupBeforeMigration {
                    path: path.display().to_string(),
                    from,
                    to: latest,
                    reason,
                });
            }
        }
    }
    configure(&conn).map_err(|source| StoreError::Open { path: path.display().to_string(), source })?;
    MIGRATIONS.to_latest(&mut conn)?;
    // The audit rows written before the hash chain existed are chained once, here.
    audit_chain::backfill(&conn)?;
    // Indexes a first pull set aside and could not build again (it was killed): built now.
    let built = deferred_indexes::build_again(&conn)?;
    if built > 0 {
        tracing::info!("built {built} search indexes an interrupted first pull had set aside");
    }
    Ok(conn)
}

/// An in-memory database, migrated (tests and benchmarks).
pub fn open_in_memory() -> Result<Connection, StoreError> {
    let mut conn = Connection::open_in_memory()?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    MIGRATIONS.to_latest(&mut conn)?;
    audit_chain::backfill(&conn)?;
    Ok(conn)
}

/// JSON text ready to store: from a [`serde_json::Value`], or wrapped around JSON that is
/// already serialised (the import path serialises a resident's fields once, for both its
/// outbox and its audit entry, instead of building and printing a `Value` twice per row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(String);

impl JsonText {
    /// `{"key": json}`, where `json` is the output of a JSON serialiser.
    pub fn wrap(key: &str, json: &str) -> JsonText {
        let key = serde_json::Value::from(key);
        JsonText(format!("{{{key}:{json}}}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<serde_json::Value> for JsonText {
    fn from(value: serde_json::Value) -> JsonText {
        JsonText(value.to_string())
    }
}

const TS_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// The stored form of an instant: fixed width, so text order is time order.
///
/// Written digit by digit rather than through `format(TS_FORMAT)`: every insert stores
/// several instants, and chrono's general formatter was ~5 % of a 100,000-row import.
pub fn ts(dt: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let nanos = dt.nanosecond();
    // Years outside four digits and leap seconds take chrono's general path.
    if !(0..=9999).contains(&dt.year()) || nanos >= 1_000_000_000 {
        return dt.format(TS_FORMAT).to_string();
    }
    let mut out = String::with_capacity(27);
    let fields = [
        (dt.year() as u32, 4, '-'),
        (dt.month(), 2, '-'),
        (dt.day(), 2, 'T'),
        (dt.hour(), 2, ':'),
        (dt.minute(), 2, ':'),
        (dt.second(), 2, '.'),
        (nanos / 1000, 6, 'Z'),
    ];
    for (value, width, after) in fields {
        for place in (0..width).rev() {
            out.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
        }
        out.push(after);
    }
    out
}

/// Reads a stored instant (written by [`ts`]).
pub fn parse_ts(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, TS_FORMAT)
        .ok()
        .map(|n| n.and_utc())
        .or_else(|| DateTime::parse_from_rfc3339(text).ok().map(|d| d.with_timezone(&Utc)))
}

/// Reads an optional stored instant column.
pub(crate) fn opt_ts(text: Option<String>) -> Option<DateTime<Utc>> {
    text.as_deref().and_then(parse_ts)
}

/// A SQL `IN (...)`-free way to pass a list: a JSON array read with `json_each`.
pub(crate) fn json_ids(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_validate() {
        migrations().validate().unwrap();
    }

    #[test]
    fn a_savepoint_undoes_only_what_was_written_after_it() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t(x INTEGER)").unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute("INSERT INTO t VALUES (1)", []).unwrap();
        savepoint(&tx, "step").unwrap();
        tx.execute("INSERT INTO t VALUES (2)", []).unwrap();
        rollback_to(&tx, "step").unwrap();
        savepoint(&tx, "step").unwrap();
        tx.execute("INSERT INTO t VALUES (3)", []).unwrap();
        release(&tx, "step").unwrap();
        tx.commit().unwrap();
        let kept: Vec<i64> = conn
            .prepare("SELECT x FROM t ORDER BY x")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .flatten()
            .collect();
        assert_eq!(kept, vec![1, 3]);
    }

    #[test]
    fn fast_timestamps_match_the_chrono_format() {
        let base = chrono::TimeZone::with_ymd_and_hms(&Utc, 1970, 1, 1, 0, 0, 0).unwrap();
        // A walk over instants from 1970 to ~2100 with odd steps, so every field and
        // sub-second digit takes many values.
        let mut at = base;
        for _ in 0..20_000 {
            assert_eq!(ts(at), at.format(TS_FORMAT).to_string());
            assert_eq!(
                parse_ts(&ts(at)),
                Some(at - chrono::Duration::nanoseconds(i64::from(at.timestamp_subsec_nanos() % 1000)))
            );
            at += chrono::Duration::nanoseconds(204_523_917_345_123_457);
        }
        let far = chrono::TimeZone::with_ymd_and_hms(&Utc, 12026, 5, 6, 7, 8, 9).unwrap();
        assert_eq!(ts(far), far.format(TS_FORMAT).to_string());
    }

    #[test]
    fn timestamps_sort_as_text() {
        let a = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 2, 3, 4, 5).unwrap();
        let b = a + chrono::Duration::microseconds(1);
        assert!(ts(a) < ts(b));
        assert_eq!(parse_ts(&ts(b)), Some(b));
    }

    #[test]
    fn audit_is_append_only() {
        let conn = open_in_memory().unwrap();
        conn.execute("INSERT INTO audit(at, actor, action, outcome) VALUES ('t', 'a', 'x', 'ok')", []).unwrap();
        assert!(conn.execute("UPDATE audit SET actor = 'b'", []).is_err());
        assert!(conn.execute("DELETE FROM audit", []).is_err());
    }

    #[test]
    fn outbox_entries_are_never_deleted() {
        let conn = open_in_memory().unwrap();
        conn.execute(
            "INSERT INTO outbox(created_at, site_id, op, payload, base, idempotency_key, updated_at) \
             VALUES ('t', 1, 'create', '{}', '{}', 'k', 't')",
            [],
        )
        .unwrap();
        let err = conn.execute("DELETE FROM outbox", []).unwrap_err();
        assert!(err.to_string().contains("outbox entries are kept"), "{err}");
    }

    /// Migration 0004 drops AUTOINCREMENT from the outbox and the audit log: every row keeps
    /// its id, the triggers and indexes are back, and new rows continue after the last id.
    #[test]
    fn outbox_and_audit_keep_their_rows_and_ids_without_autoincrement() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_version(&mut conn, 3).unwrap();
        for id in [3, 7] {
            conn.execute(
                "INSERT INTO outbox(id, created_at, site_id, op, payload, base, idempotency_key, updated_at) \
                 VALUES (?1, 't', 1, 'create', '{\"a\":1}', '{}', 'key' || ?1, 't')",
                [id],
            )
            .unwrap();
            conn.execute("INSERT INTO audit(id, at, actor, action, outcome) VALUES (?1, 't', 'a', 'x', 'ok')", [id])
                .unwrap();
        }
        migrations().to_latest(&mut conn).unwrap();
        let schema: String = conn
            .query_row(
                "SELECT group_concat(sql, ';') FROM sqlite_schema WHERE tbl_name IN ('outbox', 'audit')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!schema.contains("AUTOINCREMENT"), "{schema}");
        for name in
            ["outbox_state", "outbox_resident", "outbox_no_delete", "audit_at", "audit_no_update", "audit_no_delete"]
        {
            assert!(schema.contains(name), "{name} missing from {schema}");
        }
        let ids = |table: &str| -> Vec<i64> {
            let mut stmt = conn.prepare(&format!("SELECT id FROM {table} ORDER BY id")).unwrap();
            stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
        };
        assert_eq!(ids("outbox"), [3, 7]);
        assert_eq!(ids("audit"), [3, 7]);
        let payload: String = conn.query_row("SELECT payload FROM outbox WHERE id = 7", [], |r| r.get(0)).unwrap();
        assert_eq!(payload, r#"{"a":1}"#);
        conn.execute("INSERT INTO audit(at, actor, action, outcome) VALUES ('t', 'a', 'y', 'ok')", []).unwrap();
        assert_eq!(conn.last_insert_rowid(), 8);
        assert!(conn.execute("DELETE FROM audit", []).is_err());
    }
}
