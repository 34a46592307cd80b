//! Backups of the whole database file (issue #14): a consistent copy taken while the app is
//! in use (`VACUUM INTO`, one read transaction), the backup folder beside the database and
//! its names, the checks a file passes before it may replace the live database, and the
//! restore itself — the checked copy settled against the live database's outbox and then
//! written into the live database through SQLite's online backup API (one write
//! transaction: other connections, the desktop's worker or a second CLI, stay valid and see
//! the restored content at their next statement; a failure leaves the live file as it was).

use super::key::{self, DbKey, FileState};
use super::{private_files, ts, MIGRATIONS_DIR};
use chrono::{DateTime, NaiveDateTime, Utc};
use residentdesk_domain::OutboxState;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};
use serde::Serialize;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The settings key of how many automatic backups are kept.
pub const KEEP_SETTING: &str = "backup.keep";
/// Kept when the setting is absent.
pub const DEFAULT_KEEP: usize = 14;
/// The folder beside the database that holds its backups.
pub const FOLDER: &str = "backups";

/// Why a backup or a restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file given to restore is not acceptable; nothing was changed.
    #[error("{0}")]
    Refused(String),
    /// The copy could not be written (read-only folder, full disk, ...); nothing was changed.
    #[error("{0}")]
    Write(String),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// What made a backup; serialised as its name's suffix (`manual`, `daily`,
/// `before-migration-v4`, `before-restore`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `residentdesk backup` or the desktop's "Back up now".
    Manual,
    /// The daily automatic backup.
    Daily,
    /// Taken before migrating a database at this schema version.
    BeforeMigration(i64),
    /// The database a restore replaced.
    BeforeRestore,
    /// The plain database `db encrypt` replaced (unencrypted: delete it once checked).
    BeforeEncrypt,
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.suffix())
    }
}

impl Kind {
    /// The kind as its name's suffix says it.
    pub fn suffix(self) -> String {
        match self {
            Kind::Manual => "manual".into(),
            Kind::Daily => "daily".into(),
            Kind::BeforeMigration(v) => format!("before-migration-v{v}"),
            Kind::BeforeRestore => "before-restore".into(),
            Kind::BeforeEncrypt => "before-encrypt".into(),
        }
    }

    pub fn parse(suffix: &str) -> Option<Kind> {
        match suffix {
            "manual" => Some(Kind::Manual),
            "daily" => Some(Kind::Daily),
            "before-restore" => Some(Kind::BeforeRestore),
            "before-encrypt" => Some(Kind::BeforeEncrypt),
            s => s.strip_prefix("before-migration-v").and_then(|v| v.parse().ok()).map(Kind::BeforeMigration),
        }
    }

    /// Daily and before-migration backups are automatic: they are rotated (the newest N
    /// kept); manual and before-restore copies are only ever deleted by a person.
    pub fn is_automatic(self) -> bool {
        matches!(self, Kind::Daily | Kind::BeforeMigration(_))
    }
}

/// A backup file in the folder beside the database.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BackupFile {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub path: PathBuf,
    pub name: String,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub kind: Kind,
    /// When it was taken (from its name, UTC).
    pub taken_at: DateTime<Utc>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
}

const NAME_TIME: &str = "%Y%m%dT%H%M%SZ";

/// The backup folder of the database at `db`: `backups/` beside it.
pub fn folder_of(db: &Path) -> PathBuf {
    db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).join(FOLDER)
}

fn stem_of(db: &Path) -> String {
    db.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "residentdesk".into())
}

/// `<stem>-<UTC time>-<kind>.db`: sorts by time, says what made it.
pub fn file_name(db: &Path, at: DateTime<Utc>, kind: Kind) -> String {
    format!("{}-{}-{}.db", stem_of(db), at.format(NAME_TIME), kind.suffix())
}

/// The backups of the database at `db` in its folder, oldest first (other files ignored).
pub fn list(db: &Path) -> std::io::Result<Vec<BackupFile>> {
    let dir = folder_of(db);
    let prefix = format!("{}-", stem_of(db));
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix).and_then(|r| r.strip_suffix(".db")) else { continue };
        let Some((time, suffix)) = rest.split_once('-') else { continue };
        let Ok(at) = NaiveDateTime::parse_from_str(time, NAME_TIME) else { continue };
        // A second backup in the same second is named `...-<kind>-2.db`.
        let kind_text = match suffix.rsplit_once('-') {
            Some((k, n)) if n.parse::<u32>().is_ok() && Kind::parse(k).is_some() => k,
            _ => suffix,
        };
        let Some(kind) = Kind::parse(kind_text) else { continue };
        let meta = entry.metadata()?;
        if !meta.is_file() {
            continue;
        }
        out.push(BackupFile { path: entry.path(), name, kind, taken_at: at.and_utc(), bytes: meta.len() });
    }
    out.sort_by(|a, b| (a.taken_at, &a.name).cmp(&(b.taken_at, &b.name)));
    Ok(out)
}

/// Deletes the oldest automatic backups beyond the newest `keep`; returns what it deleted.
pub fn rotate(db: &Path, keep: usize) -> std::io::Result<Vec<PathBuf>> {
    let automatic: Vec<BackupFile> = list(db)?.into_iter().filter(|b| b.kind.is_automatic()).collect();
    let extra = automatic.len().saturating_sub(keep.max(1));
    let mut deleted = Vec::new();
    for b in automatic.into_iter().take(extra) {
        std::fs::remove_file(&b.path)?;
        deleted.push(b.path);
    }
    Ok(deleted)
}

/// How many automatic backups to keep (the `backup.keep` setting, default 14).
pub fn keep(conn: &Connection) -> rusqlite::Result<usize> {
    Ok(super::settings::get(conn, KEEP_SETTING)?.and_then(|v| v.trim().parse().ok()).unwrap_or(DEFAULT_KEEP))
}

/// The schema version this build migrates to (the number of embedded migrations).
pub fn latest_version() -> i64 {
    MIGRATIONS_DIR.dirs().count() as i64
}

/// The schema version of a database (`user_version`, which the migrations keep).
pub fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

fn has_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT count(*) FROM sqlite_schema WHERE type = 'table'", [], |r| r.get::<_, i64>(0)).map(|n| n > 0)
}

/// Whether a database at `version` with tables must be copied aside before migrating.
pub(crate) fn needs_migration_backup(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    let version = user_version(conn)?;
    Ok((version < latest_version() && has_tables(conn)?).then_some(version))
}

/// Copies the database about to be migrated from `version` into its backup folder. `now`
/// only names the file (the store has no clock of its own; the app's clock names every
/// other backup).
pub(crate) fn before_migration(conn: &Connection, db: &Path, version: i64) -> Result<PathBuf, BackupError> {
    let dest = free_name(db, Utc::now(), Kind::BeforeMigration(version));
    copy_to(conn, &dest)?;
    Ok(dest)
}

/// A name for a new backup of `db` in its folder (`-2`, `-3`... when taken).
pub fn free_name(db: &Path, at: DateTime<Utc>, kind: Kind) -> PathBuf {
    let dir = folder_of(db);
    let first = dir.join(file_name(db, at, kind));
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| dir.join(format!("{}-{}-{}-{n}.db", stem_of(db), at.format(NAME_TIME), kind.suffix())))
        .find(|p| !p.exists())
        .expect("some suffix is free")
}

fn io_message(action: &str, path: &Path, e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let why = match e.kind() {
        K::PermissionDenied => "the folder is not writable (permission denied)".to_string(),
        K::ReadOnlyFilesystem => "the folder is on a read-only file system".to_string(),
        K::StorageFull => "the disk is full".to_string(),
        K::NotFound => "the folder does not exist".to_string(),
        K::AlreadyExists => "the file already exists (choose another name)".to_string(),
        _ => e.to_string(),
    };
    format!("cannot {action} {}: {why}", path.display())
}

fn sql_message(action: &str, path: &Path, e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode as C;
    let why = match e.sqlite_error_code() {
        Some(C::DiskFull) => "the disk is full".to_string(),
        Some(C::CannotOpen | C::ReadOnly | C::PermissionDenied) => "the folder or file is not writable".to_string(),
        Some(C::SystemIoFailure) => format!("an I/O error ({e}); is the disk full or removed?"),
        _ => e.to_string(),
    };
    format!("cannot {action} {}: {why}", path.display())
}

/// Creates `dir` (0700 on Unix: backups hold personal data).
fn ensure_folder(dir: &Path) -> Result<(), BackupError> {
    private_files::create_dir(dir).map_err(|e| BackupError::Write(io_message("create the backup folder", dir, &e)))
}

/// An empty file only its owner may read (0600 on Unix), created new.
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    private_files::create_new(path)
}

/// Removes a temporary database file and its journals, quietly.
fn remove_db_files(path: &Path) {
    let _ = std::fs::remove_file(path);
    for ext in ["-journal", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(ext);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

fn temp_name(dir: &Path, what: &str) -> PathBuf {
    dir.join(format!(".{what}-{}.tmp", uuid::Uuid::new_v4().simple()))
}

/// Writes a consistent copy of the database of `conn` to `dest` (which must not exist):
/// `VACUUM INTO` a temporary file beside it (one read transaction, so writers go on and
/// the copy is one committed state), checked (`quick_check`), synced, 0600, then moved to
/// `dest` without replacing anything. An encrypted database's copy is encrypted with its
/// key and salt (SQLCipher attaches the copy with the connection's key). Returns the copy's
/// size. On any failure no file is left behind and the database is untouched.
pub fn copy_to(conn: &Connection, dest: &Path) -> Result<u64, BackupError> {
    let dir = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    ensure_folder(dir)?;
    if dest.exists() {
        return Err(BackupError::Write(format!("{} already exists (choose another name)", dest.display())));
    }
    let temp = temp_name(dir, "backup");
    let result = (|| {
        drop(create_private(&temp).map_err(|e| BackupError::Write(io_message("write a backup in", dir, &e)))?);
        let target = temp.to_string_lossy().into_owned();
        conn.execute("VACUUM INTO ?1", [&target]).map_err(|e| BackupError::Write(sql_message("write", dest, &e)))?;
        // Checked through this connection, which keys the copy as it keyed `VACUUM INTO`'s.
        conn.execute("ATTACH DATABASE ?1 AS backup_check", [&target])?;
        let verdict = conn.query_row("PRAGMA backup_check.quick_check", [], |r| r.get::<_, String>(0));
        conn.execute_batch("DETACH DATABASE backup_check")?;
        let verdict = verdict?;
        if verdict != "ok" {
            return Err(BackupError::Write(format!(
                "the copy written to {} does not check out: {verdict}",
                dest.display()
            )));
        }
        let file = std::fs::OpenOptions::new().read(true).write(true).open(&temp);
        file.and_then(|f| f.sync_all()).map_err(|e| BackupError::Write(io_message("write", dest, &e)))?;
        // A hard link refuses to replace an existing file (two processes taking the same
        // daily backup); then the temporary name goes.
        std::fs::hard_link(&temp, dest)
            .or_else(
                |e| if e.kind() == std::io::ErrorKind::Unsupported { std::fs::rename(&temp, dest) } else { Err(e) },
            )
            .map_err(|e| BackupError::Write(io_message("write", dest, &e)))?;
        sync_dir(dir);
        Ok(std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0))
    })();
    remove_db_files(&temp);
    result
}

/// What a checked file holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FileFacts {
    /// The file's schema version (migrated to the current one in the copy when older).
    pub schema_version: i64,
    pub teams: i64,
    pub residents: i64,
    pub staff: i64,
    pub outbox_unfinished: i64,
    /// The newest audit entry's time: about when the copy was taken.
    pub last_activity: Option<DateTime<Utc>>,
    /// What a restore of this file would lose, measured against the live database by
    /// [`measure_loss`] (0 until measured): the changes recorded in the live audit log after
    /// the copy's newest entry...
    pub changes_since: i64,
    /// ...and the live database's unsent outbox entries that the copy does not have (changes
    /// never sent to the remote; they stay only in the before-restore copy).
    pub unsent_lost: i64,
}

/// A file that passed every check, copied into a temporary file beside the live database
/// (the file given is never opened for writing); removed when dropped.
pub struct Checked {
    path: PathBuf,
    conn: Option<Connection>,
    /// The live database's key, which the copy was opened with.
    key: DbKey,
    pub facts: FileFacts,
}

impl std::fmt::Debug for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked").field("path", &self.path).field("facts", &self.facts).finish()
    }
}

impl Drop for Checked {
    fn drop(&mut self) {
        drop(self.conn.take());
        remove_db_files(&self.path);
    }
}

/// The tables every ResidentDesk database has had since its first schema.
const CORE_TABLES: &[&str] = &["teams", "sites", "residents", "staff", "team_members", "settings", "outbox", "audit"];

fn refused(file: &Path, why: impl std::fmt::Display) -> BackupError {
    BackupError::Refused(format!("{} cannot be restored: {why}; the database was not changed", file.display()))
}

/// Reads the 100-byte SQLite header and compares the size it states with the file's. An
/// encrypted file (the live database is) has no readable header: its size must be whole
/// pages; the key proves the rest.
fn check_header(file: &Path, key: &DbKey) -> Result<(), BackupError> {
    let meta = std::fs::metadata(file).map_err(|e| refused(file, format!("cannot read it ({e})")))?;
    if !meta.is_file() {
        return Err(refused(file, "it is not a file"));
    }
    let len = meta.len();
    if len == 0 {
        return Err(refused(file, "it is empty (0 bytes)"));
    }
    let state = key::file_state(file).map_err(|e| refused(file, e))?;
    match (key.is_encrypted(), state) {
        (true, FileState::Encrypted(_)) => {
            let page = key::CIPHER_PAGE_SIZE as u64;
            if len % page != 0 {
                return Err(refused(
                    file,
                    format!(
                        "it is not a SQLite database, or it is truncated ({len} bytes: not whole {page}-byte pages)"
                    ),
                ));
            }
            return Ok(());
        }
        (true, _) => {
            return Err(refused(
                file,
                "it is not encrypted, and this database is (encrypt the copy first: residentdesk --db FILE db encrypt)",
            ))
        }
        (false, FileState::Encrypted(_)) => {
            return Err(refused(
                file,
                "it is encrypted (or not a SQLite database), and this database is not (encrypt this database first: \
                 residentdesk db encrypt)",
            ))
        }
        (false, _) => {}
    }
    let mut header = [0u8; 100];
    let mut f = std::fs::File::open(file).map_err(|e| refused(file, format!("cannot read it ({e})")))?;
    let n = read_up_to(&mut f, &mut header).map_err(|e| refused(file, format!("cannot read it ({e})")))?;
    if n < 16 || &header[..16] != b"SQLite format 3\0" {
        return Err(refused(
            file,
            "it is not a SQLite database (another kind of file, or one encrypted by another program)",
        ));
    }
    if n < 100 {
        return Err(refused(file, format!("it is truncated ({len} bytes, not even a database header)")));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536u64,
        p => u64::from(p),
    };
    if !(512..=65_536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(refused(file, "its header is damaged (impossible page size)"));
    }
    let pages = u64::from(u32::from_be_bytes([header[28], header[29], header[30], header[31]]));
    let counter_ok = header[24..28] == header[92..96];
    if len % page_size != 0 || (counter_ok && pages > 0 && len < pages * page_size) {
        let expected =
            if counter_ok && pages > 0 { format!(" of {} expected", pages * page_size) } else { String::new() };
        return Err(refused(file, format!("it is truncated ({len} bytes{expected})")));
    }
    Ok(())
}

fn read_up_to(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Checks `file` for a restore into the database at `live`: a SQLite database (not empty,
/// not truncated, not another format), intact (`integrity_check`), a ResidentDesk database
/// (its core tables, a schema version), not newer than this build. The checks run on a copy
/// in the live database's folder, which is migrated when older; nothing else is written.
pub fn check(file: &Path, live: &Path, key: &DbKey) -> Result<Checked, BackupError> {
    check_header(file, key)?;
    let dir = live.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temp = temp_name(dir, "restore");
    let copied = (|| -> std::io::Result<()> {
        let mut from = std::fs::File::open(file)?;
        let mut to = create_private(&temp)?;
        std::io::copy(&mut from, &mut to)?;
        to.flush()?;
        to.sync_all()
    })();
    let mut checked = Checked {
        path: temp.clone(),
        conn: None,
        key: key.clone(),
        facts: FileFacts {
            schema_version: 0,
            teams: 0,
            residents: 0,
            staff: 0,
            outbox_unfinished: 0,
            last_activity: None,
            changes_since: 0,
            unsent_lost: 0,
        },
    };
    if let Err(e) = copied {
        return Err(BackupError::Write(io_message("copy the file to check into", dir, &e)));
    }
    let not_sqlite = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => {
            refused(file, "it is not a SQLite database (another kind of file, or one encrypted by another program)")
        }
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => refused(file, format!("it is damaged ({e})")),
        _ => refused(file, format!("it cannot be read as a database ({e})")),
    };
    let conn = Connection::open_with_flags(&temp, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(not_sqlite)?;
    key.apply(&conn, &temp).map_err(|e| match e {
        key::KeyError::Wrong { .. } => refused(
            file,
            "this database's key does not open it: it is encrypted with another key (a backup of another \
             database, or one taken before a rekey), or it is not a SQLite database",
        ),
        e => refused(file, e),
    })?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // The copy is this process's alone: a rollback journal, no WAL beside it.
    conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(())).map_err(not_sqlite)?;
    let mut problems: Vec<String> = Vec::new();
    {
        let mut stmt = conn.prepare("PRAGMA integrity_check(5)").map_err(not_sqlite)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(not_sqlite)?;
        for row in rows {
            problems.push(row.map_err(not_sqlite)?);
        }
    }
    if problems != ["ok"] {
        return Err(refused(file, format!("it is damaged ({})", problems.join("; "))));
    }
    let version = user_version(&conn)?;
    let tables: Vec<String> = {
        let mut stmt = conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let missing: Vec<&str> = CORE_TABLES.iter().copied().filter(|t| !tables.iter().any(|x| x == t)).collect();
    if version < 1 || !missing.is_empty() {
        return Err(refused(file, "it is not a ResidentDesk database (its tables are not ResidentDesk's)"));
    }
    let latest = latest_version();
    if version > latest {
        return Err(refused(
            file,
            format!(
                "it was made by a newer ResidentDesk (schema version {version}; this version knows up to {latest}); \
                 restore it with that version or a later one"
            ),
        ));
    }
    let mut conn = conn;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    if version < latest {
        super::MIGRATIONS
            .to_latest(&mut conn)
            .map_err(|e| refused(file, format!("its schema version {version} cannot be brought up to date ({e})")))?;
    }
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
    checked.facts = FileFacts {
        schema_version: version,
        teams: count("SELECT count(*) FROM teams")?,
        residents: count("SELECT count(*) FROM residents")?,
        staff: count("SELECT count(*) FROM staff")?,
        outbox_unfinished: count(
            "SELECT count(*) FROM outbox WHERE state IN ('pending', 'in_flight', 'rejected', 'conflict')",
        )?,
        last_activity: conn
            .query_row("SELECT max(at) FROM audit", [], |r| r.get::<_, Option<String>>(0))
            .map(super::opt_ts)?,
        changes_since: 0,
        unsent_lost: 0,
    };
    checked.conn = Some(conn);
    Ok(checked)
}

/// Measures what replacing `live` with the checked copy would lose, into its facts: the
/// successful audit entries of `live` after the copy's newest one, except the actions in
/// `changes_nothing` (a sign-in, an export: recorded, but no data to lose), and the unsent
/// outbox entries of `live` whose idempotency key the copy does not have (the same count
/// the restore reports as `only_in_replaced`). Nothing is written.
pub fn measure_loss(checked: &mut Checked, live: &Connection, changes_nothing: &[&str]) -> rusqlite::Result<()> {
    let Some(copy) = checked.conn.as_ref() else { return Ok(()) };
    let since = checked.facts.last_activity.map(ts).unwrap_or_default();
    let mut changes = 0i64;
    {
        let mut stmt = live.prepare("SELECT action FROM audit WHERE at > ?1 AND outcome = 'ok'")?;
        let mut rows = stmt.query([since.as_str()])?;
        while let Some(row) = rows.next()? {
            let action: String = row.get(0)?;
            if !changes_nothing.contains(&action.as_str()) {
                changes += 1;
            }
        }
    }
    let mut unsent = 0i64;
    {
        let mut stmt = live.prepare(
            "SELECT idempotency_key FROM outbox WHERE state IN ('pending', 'in_flight', 'rejected', 'conflict')",
        )?;
        let mut known = copy.prepare("SELECT 1 FROM outbox WHERE idempotency_key = ?1")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let key: String = row.get(0)?;
            if !known.exists([key.as_str()])? {
                unsent += 1;
            }
        }
    }
    checked.facts.changes_since = changes;
    checked.facts.unsent_lost = unsent;
    Ok(())
}

/// What a restore did with the outbox of the copy, matched with the live database's
/// entries by idempotency key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OutboxSettlement {
    /// Unfinished in the copy, already sent (done) in the replaced database: marked done.
    pub already_sent: u64,
    /// Unfinished in the copy, discarded by a person in the replaced database: discarded.
    pub discarded: u64,
    /// Refused by the remote in the replaced database: rejected (a person may retry).
    pub rejected: u64,
    /// In flight in the replaced database (a pass ended without knowing the outcome):
    /// in flight in the restored one with the same job, so the next pass reconciles it as
    /// after a crash instead of sending it blindly.
    pub in_flight: u64,
    /// In flight in the copy but back to pending in the replaced database.
    pub back_to_pending: u64,
    /// Unfinished in the copy and still unsent: they go at the next sync.
    pub still_to_send: u64,
    /// Unfinished entries of the replaced database that the copy does not have (changes
    /// made after the copy was taken and never sent): kept only in the before-restore copy.
    pub only_in_replaced: u64,
}

/// The job an in-flight entry of the live database was sent in: its id there, kind, action,
/// remote job id, state, created and updated times.
type LiveJob = (i64, String, String, Option<String>, String, String, String);

/// An entry of the live database as the settlement needs it.
struct LiveEntry {
    state: String,
    last_error: Option<String>,
    job: Option<LiveJob>,
}

fn live_entry(live: &Connection, key: &str) -> rusqlite::Result<Option<LiveEntry>> {
    let found = live
        .prepare_cached("SELECT id, state, last_error FROM outbox WHERE idempotency_key = ?1")?
        .query_row([key], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?)))
        .optional()?;
    let Some((id, state, last_error)) = found else { return Ok(None) };
    let job = if state == OutboxState::InFlight {
        live.prepare_cached(
            "SELECT j.id, j.kind, j.action, j.remote_job_id, j.state, j.created_at, j.updated_at
             FROM sync_job_entries e JOIN sync_jobs j ON j.id = e.job_id WHERE e.entry_id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
        .optional()?
    } else {
        None
    };
    Ok(Some(LiveEntry { state, last_error, job }))
}

fn set_entry(
    tx: &Transaction<'_>,
    id: i64,
    state: OutboxState,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.prepare_cached("UPDATE outbox SET state = ?2, last_error = ?3, updated_at = ?4 WHERE id = ?1")?
        .execute(params![id, state.as_str(), error, ts(now)])?;
    if state != OutboxState::InFlight {
        tx.prepare_cached("DELETE FROM sync_job_entries WHERE entry_id = ?1")?.execute([id])?;
    }
    Ok(())
}

/// Settles the copy's outbox against the live database's, so that nothing the remote
/// already has is sent again: an entry is the same change in both when its idempotency
/// key is (keys are random and never reused; entries are never deleted).
fn settle_outbox(tx: &Transaction<'_>, live: &Connection, now: DateTime<Utc>) -> rusqlite::Result<OutboxSettlement> {
    let mut report = OutboxSettlement::default();
    let unfinished: Vec<(i64, String, String, i64)> = {
        let mut stmt = tx.prepare(
            "SELECT id, idempotency_key, state, site_id FROM outbox
             WHERE state IN ('pending', 'in_flight', 'rejected', 'conflict') ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut jobs: HashMap<i64, i64> = HashMap::new();
    for (id, key, state, site_id) in unfinished {
        let Some(l) = live_entry(live, &key)? else {
            if state == OutboxState::Pending {
                report.still_to_send += 1;
            }
            continue;
        };
        let held_by_conflict = state == OutboxState::Conflict;
        match OutboxState::parse(&l.state) {
            Some(OutboxState::Done) => {
                set_entry(
                    tx,
                    id,
                    OutboxState::Done,
                    Some("sent before the restore (done in the database it replaced)"),
                    now,
                )?;
                report.already_sent += 1;
            }
            Some(OutboxState::Discarded) => {
                set_entry(tx, id, OutboxState::Discarded, l.last_error.as_deref(), now)?;
                report.discarded += 1;
            }
            Some(OutboxState::Rejected) if !held_by_conflict => {
                set_entry(tx, id, OutboxState::Rejected, l.last_error.as_deref(), now)?;
                report.rejected += 1;
            }
            Some(OutboxState::InFlight) if !held_by_conflict => {
                set_entry(tx, id, OutboxState::InFlight, l.last_error.as_deref(), now)?;
                if let Some((live_job, kind, action, remote_job, job_state, created, updated)) = l.job {
                    let job = match jobs.get(&live_job) {
                        Some(j) => *j,
                        None => {
                            tx.prepare_cached(
                                "INSERT INTO sync_jobs(site_id, kind, action, remote_job_id, state, created_at, updated_at)
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                            )?
                            .execute(params![site_id, kind, action, remote_job, job_state, created, updated])?;
                            let j = tx.last_insert_rowid();
                            jobs.insert(live_job, j);
                            j
                        }
                    };
                    tx.prepare_cached(
                        "INSERT INTO sync_job_entries(entry_id, job_id) VALUES (?1, ?2)
                         ON CONFLICT(entry_id) DO UPDATE SET job_id = excluded.job_id",
                    )?
                    .execute(params![id, job])?;
                } else {
                    tx.prepare_cached("DELETE FROM sync_job_entries WHERE entry_id = ?1")?.execute([id])?;
                }
                report.in_flight += 1;
            }
            // Pending (or held by a conflict, which the next pass finds again) in the live
            // database: never sent. Whatever the copy left in flight goes back to pending
            // (the live database knows it did not reach the remote).
            _ => {
                if state == OutboxState::InFlight {
                    set_entry(tx, id, OutboxState::Pending, None, now)?;
                    report.back_to_pending += 1;
                    report.still_to_send += 1;
                } else if state == OutboxState::Pending {
                    report.still_to_send += 1;
                }
            }
        }
    }
    // Changes of the live database the copy never had and the remote never got.
    let live_unfinished: Vec<String> = {
        let mut stmt = live.prepare(
            "SELECT idempotency_key FROM outbox WHERE state IN ('pending', 'in_flight', 'rejected', 'conflict')",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for key in live_unfinished {
        let known = tx.prepare_cached("SELECT 1 FROM outbox WHERE idempotency_key = ?1")?.exists([key.as_str()])?;
        if !known {
            report.only_in_replaced += 1;
        }
    }
    Ok(report)
}

/// The page size of `conn`'s database (SQLCipher answers an encrypted one's as text).
fn page_size(conn: &Connection) -> rusqlite::Result<i64> {
    let value: rusqlite::types::Value = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
    Ok(match value {
        rusqlite::types::Value::Integer(n) => n,
        rusqlite::types::Value::Text(t) => t.parse().unwrap_or(0),
        _ => 0,
    })
}

/// The restore's own audit entry, written into the restored database.
#[derive(Debug, Clone)]
pub struct RestoreAudit<'a> {
    pub actor_id: i64,
    pub actor: &'a str,
    pub team_name: &'a str,
    pub details: serde_json::Value,
}

/// Replaces the content of the live database at `live_path` with the checked copy:
///
/// 1. in the copy, one transaction: the outbox settled against `live` (see
///    [`OutboxSettlement`]), the copy's sync lease (a pass running when it was taken)
///    cleared, the sites' pull times cleared (the next pull is due, and it reads every
///    resident of every site anyway), and the restore's audit entry appended;
/// 2. the copy brought to the live database's page size;
/// 3. the copy written into the live database with SQLite's online backup API, in one
///    write transaction of a connection of its own (WAL: a failure or a crash leaves the
///    live database as it was; other connections stay valid and see the new content).
pub fn restore_into(
    mut checked: Checked,
    live: &Connection,
    live_path: &Path,
    audit: &RestoreAudit<'_>,
    now: DateTime<Utc>,
) -> Result<OutboxSettlement, BackupError> {
    let mut conn = checked.conn.take().expect("a checked copy holds its connection");
    let settlement = {
        let tx = conn.transaction()?;
        let report = settle_outbox(&tx, live, now)?;
        tx.execute("DELETE FROM sync_lease", [])?;
        tx.execute("UPDATE sync_sites SET last_pull_at = NULL", [])?;
        let actor_id: Option<i64> =
            tx.query_row("SELECT id FROM staff WHERE email = ?1", [audit.actor], |r| r.get(0)).optional()?;
        let team_id: Option<i64> = tx
            .query_row("SELECT id FROM teams WHERE name = ?1 COLLATE NOCASE", [audit.team_name], |r| r.get(0))
            .optional()?;
        let mut details = audit.details.clone();
        if let serde_json::Value::Object(map) = &mut details {
            map.insert("outbox".into(), serde_json::to_value(&report).unwrap_or_default());
            if actor_id != Some(audit.actor_id) {
                map.insert("actor_id_in_replaced_database".into(), audit.actor_id.into());
            }
        }
        super::audit::append(
            &tx,
            &super::audit::NewAudit {
                actor_id,
                actor: audit.actor,
                action: "backup.restore",
                outcome: "ok",
                team_id,
                site_id: None,
                target: Some(audit.team_name),
                details: details.into(),
            },
            now,
        )?;
        tx.commit()?;
        report
    };
    let live_page = page_size(live)?;
    let copy_page = page_size(&conn)?;
    if live_page != copy_page {
        conn.pragma_update(None, "page_size", live_page)?;
        conn.execute_batch("VACUUM").map_err(|e| BackupError::Write(sql_message("prepare", &checked.path, &e)))?;
    }
    let mut dest = Connection::open_with_flags(live_path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    checked.key.apply(&dest, live_path).map_err(|e| BackupError::Write(e.to_string()))?;
    dest.busy_timeout(Duration::from_secs(10))?;
    {
        let backup = rusqlite::backup::Backup::new(&conn, &mut dest)?;
        let started = std::time::Instant::now();
        loop {
            match backup.step(-1) {
                Ok(rusqlite::backup::StepResult::Done) => break,
                Ok(rusqlite::backup::StepResult::More) => continue,
                Ok(_) if started.elapsed() < Duration::from_secs(30) => std::thread::sleep(Duration::from_millis(50)),
                Ok(_) => {
                    return Err(BackupError::Write(
                        "the database stayed busy for 30 s (another program is writing); nothing was restored".into(),
                    ))
                }
                Err(e) => return Err(BackupError::Write(sql_message("restore into", live_path, &e))),
            }
        }
    }
    // Fold the restored pages back into the database file now (readers may hold some back).
    let _ = dest.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    drop(dest);
    checked.conn = Some(conn);
    Ok(settlement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_by_time() {
        let db = Path::new("/data/desk.db");
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 23, 15, 0, 0).unwrap();
        assert_eq!(file_name(db, at, Kind::BeforeMigration(4)), "desk-20261123T150000Z-before-migration-v4.db");
        assert_eq!(folder_of(db), Path::new("/data/backups"));
        for k in [Kind::Manual, Kind::Daily, Kind::BeforeMigration(12), Kind::BeforeRestore, Kind::BeforeEncrypt] {
            assert_eq!(Kind::parse(&k.suffix()), Some(k));
        }
        assert_eq!(Kind::parse("weekly"), None);
    }

    #[test]
    fn latest_version_counts_the_migrations() {
        let conn = crate::store::open_in_memory().unwrap();
        assert_eq!(user_version(&conn).unwrap(), latest_version());
    }
}
