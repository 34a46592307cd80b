//! One desktop process per database. Two windows on one database would run two sync
//! workers over one outbox, so a second start on the same database hands over to the first.
//!
//! Two mechanisms, because neither covers every case alone:
//! - `tauri-plugin-single-instance` brings the first window to the front (unminimised,
//!   shown, focused) and ends the second process with status 0. On Linux the plugin keys on a
//!   D-Bus name, by default the app identifier; [`dbus_id`] puts a hash of the database's
//!   path into that name, so a second start on *another* database (`--db`,
//!   `RESIDENTDESK_DB`) is a separate instance and opens normally. On Windows (a named mutex)
//!   and macOS (a socket) the plugin keys on the identifier only and cannot be told the
//!   database: there a second start on any database focuses the first window; when the second
//!   start named its database with `--db` and it differs, the first window says so (the
//!   environment variable does not travel with the hand-over, so that case is silent).
//! - An exclusive lock on a file beside the database ([`DatabaseLock`]), taken before the
//!   database is opened: it holds where the plugin cannot (no D-Bus session bus, as under
//!   Xvfb or in some kiosk sessions) and between an instance releasing its D-Bus name and its
//!   process ending. The OS drops it when the process ends, crashed or not, so it never goes
//!   stale. A second start that finds it taken waits a few seconds (a window that is closing
//!   lets go) and then refuses with a message box: nothing of the first one's work — an import
//!   half done, the sync — is touched, because the second never opened the database.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tauri::{AppHandle, Manager, Runtime};

/// How long a second start waits for the lock before it says the database is in use.
const WAIT_FOR_LOCK: Duration = Duration::from_secs(5);

/// The database's path as one process sees another's: absolute, links resolved (a database
/// that does not exist yet: its folder resolved, the name appended).
pub fn canonical(db: &Path) -> PathBuf {
    if let Ok(p) = db.canonicalize() {
        return p;
    }
    let absolute = std::path::absolute(db).unwrap_or_else(|_| db.to_path_buf());
    match (absolute.parent().and_then(|d| d.canonicalize().ok()), absolute.file_name()) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => absolute,
    }
}

/// 64-bit FNV-1a: stable across Rust versions and builds (the std hasher is not), so two
/// versions of the app agree on the name of one database.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// The D-Bus name base for the database `db`: the app identifier plus `db_<hash>` (the plugin
/// appends `.SingleInstance`). Every element is letters, digits and `_`, and does not start
/// with a digit, as D-Bus requires.
pub fn dbus_id(identifier: &str, db: &Path) -> String {
    let path = canonical(db);
    let hash = fnv1a(path.as_os_str().to_string_lossy().as_bytes());
    format!("{identifier}.db_{hash:016x}")
}

/// The plugin, keyed on the database; a second start on it focuses the main window.
pub fn single_instance<R: Runtime>(identifier: &str, db: &Path) -> tauri::plugin::TauriPlugin<R> {
    let own = canonical(db);
    tauri_plugin_single_instance::Builder::new()
        .dbus_id(dbus_id(identifier, db))
        .callback(move |app, argv, _cwd| {
            tracing::info!("a second start ({argv:?}) handed over to this window");
            focus_main(app);
            if let Some(other) = named_database(&argv).map(|p| canonical(&p)).filter(|p| *p != own) {
                crate::dialogs::inform(
                    app,
                    "ResidentDesk is already open",
                    &format!(
                        "ResidentDesk is already open on {}; it was not opened a second time on {}. \
                         Close this window first to work on the other database.",
                        own.display(),
                        other.display()
                    ),
                );
            }
        })
        .build()
}

/// Unminimises, shows and focuses the main window (it may not exist yet while the first
/// instance is still starting; it then comes up by itself).
pub fn focus_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// The `--db PATH` of a command line (the first element is the program).
fn named_database(argv: &[String]) -> Option<PathBuf> {
    let mut args = argv.iter().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--db" {
            return args.next().map(PathBuf::from);
        }
    }
    None
}

/// The held lock of one database (released when dropped or when the process ends).
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
    pub path: PathBuf,
}

/// Why the lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Another ResidentDesk window has this database open.
    Held { lock: PathBuf },
    /// The lock file cannot be created (the folder is not writable, not a folder…).
    Io { lock: PathBuf, error: std::io::Error },
}

/// The lock file of the database `db`: `<name>.desktop-lock` beside it.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "residentdesk.db".into());
    name.push(".desktop-lock");
    db.with_file_name(name)
}

/// Takes the database's lock, waiting up to `wait` for another process to let go.
pub fn lock(db: &Path, wait: Duration) -> Result<DatabaseLock, LockError> {
    let path = lock_path(db);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|error| LockError::Io { lock: path.clone(), error })?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|error| LockError::Io { lock: path.clone(), error })?;
    let until = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(DatabaseLock { _file: file, path }),
            Err(TryLockError::WouldBlock) if Instant::now() < until => std::thread::sleep(Duration::from_millis(100)),
            Err(TryLockError::WouldBlock) => return Err(LockError::Held { lock: path }),
            Err(TryLockError::Error(error)) => return Err(LockError::Io { lock: path, error }),
        }
    }
}

/// [`lock`] with the start-up wait.
pub fn lock_for_start(db: &Path) -> Result<DatabaseLock, LockError> {
    lock(db, WAIT_FOR_LOCK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dbus_name_depends_on_the_database_and_is_valid() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = dbus_id("test.residentdesk.desktop", &dir.path().join("a.db"));
        let b = dbus_id("test.residentdesk.desktop", &dir.path().join("b.db"));
        assert_ne!(a, b);
        // The same file named two ways is one instance.
        let again = dbus_id("test.residentdesk.desktop", &dir.path().join(".").join("a.db"));
        assert_eq!(a, again);
        for element in format!("{a}.SingleInstance").split('.') {
            assert!(!element.is_empty() && !element.starts_with(|c: char| c.is_ascii_digit()), "{a}");
            assert!(element.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{a}");
        }
    }

    #[test]
    fn a_second_lock_on_one_database_is_refused_and_another_database_is_free() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("residentdesk.db");
        let first = lock(&db, Duration::ZERO).expect("first lock");
        assert_eq!(first.path, dir.path().join("residentdesk.db.desktop-lock"));
        assert!(matches!(lock(&db, Duration::ZERO), Err(LockError::Held { .. })));
        let other = lock(&dir.path().join("other.db"), Duration::ZERO);
        assert!(other.is_ok(), "{other:?}");
        drop(first);
        assert!(lock(&db, Duration::ZERO).is_ok(), "the lock is free again once the first lets go");
    }

    #[test]
    fn a_lock_in_a_folder_that_cannot_exist_is_an_io_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").expect("write");
        assert!(matches!(lock(&file.join("residentdesk.db"), Duration::ZERO), Err(LockError::Io { .. })));
    }

    #[test]
    fn the_database_named_on_a_command_line() {
        let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(named_database(&argv(&["app", "--db", "/x/y.db"])), Some(PathBuf::from("/x/y.db")));
        assert_eq!(named_database(&argv(&["app"])), None);
        assert_eq!(named_database(&argv(&["app", "--db"])), None);
    }
}
