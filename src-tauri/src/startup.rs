//! A failed start, said in plain words. When the database cannot be opened the desktop shows
//! a native message box (see `lib.rs`) with the reason, the database and the log file, logs
//! the same, and exits with status 1; a release build has no console, so without the box
//! the person would see nothing at all.
//!
//! The kind comes from the store's typed error ([`StoreError`]) and SQLite's own error code,
//! never from the wording of a message.

use crate::instance::LockError;
use residentdesk::store::key::KeyError;
use residentdesk::store::StoreError;
use rusqlite::ErrorCode;
use std::path::Path;

/// Why the app could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Another ResidentDesk window has this database open (its lock is held).
    AlreadyOpen,
    /// Another program holds the database's SQLite lock.
    Locked,
    /// The database was written by a newer version of ResidentDesk.
    NewerSchema,
    /// The file is not an SQLite database (or is encrypted by something else).
    NotADatabase,
    /// The database file is damaged.
    Damaged,
    /// The folder or the file cannot be created or written.
    Unwritable,
    /// The copy taken before a migration could not be written (nothing was migrated).
    BackupBeforeMigration,
    /// The database is encrypted and no key was given (no keyring entry, no passphrase).
    KeyMissing,
    /// The key or passphrase given does not open the database.
    KeyWrong,
    /// The OS keyring failed while giving or storing the key.
    Keyring,
    /// Anything else (the details say what).
    Other,
}

impl Failure {
    /// The kind of a store error.
    pub fn of_store(error: &StoreError) -> Failure {
        match error {
            StoreError::TooNew { .. } => Failure::NewerSchema,
            StoreError::BackupBeforeMigration { .. } => Failure::BackupBeforeMigration,
            StoreError::Open { source, .. } | StoreError::Sql(source) => Failure::of_sqlite(source),
            StoreError::Migrate(_) => Failure::Other,
            StoreError::Create { .. } => Failure::Unwritable,
            StoreError::Key(key) => match key {
                KeyError::Missing { .. } | KeyError::NoKeyForNew { .. } | KeyError::EmptyPassphrase { .. } => {
                    Failure::KeyMissing
                }
                KeyError::Wrong { .. } | KeyError::NotPlain { .. } => Failure::KeyWrong,
                KeyError::Read { .. } => Failure::Unwritable,
                KeyError::NotADatabase { .. } => Failure::NotADatabase,
                KeyError::Keyring { .. } => Failure::Keyring,
                KeyError::Damaged { .. } => Failure::Damaged,
            },
        }
    }

    fn of_sqlite(error: &rusqlite::Error) -> Failure {
        match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Failure::Locked,
            Some(ErrorCode::NotADatabase) => Failure::NotADatabase,
            Some(ErrorCode::DatabaseCorrupt) => Failure::Damaged,
            Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::DiskFull) => {
                Failure::Unwritable
            }
            _ => Failure::Other,
        }
    }

    /// The kind of a failure to take the database's lock.
    pub fn of_lock(error: &LockError) -> Failure {
        match error {
            LockError::Held { .. } => Failure::AlreadyOpen,
            LockError::Io { .. } => Failure::Unwritable,
        }
    }

    /// The first sentence of the message box.
    pub fn headline(self) -> &'static str {
        match self {
            Failure::AlreadyOpen => "ResidentDesk is already open on this database in another window.",
            Failure::Locked => "Another program is using the database and keeps it locked.",
            Failure::NewerSchema => "The database was saved by a newer version of ResidentDesk.",
            Failure::NotADatabase => "The file is not a ResidentDesk database.",
            Failure::Damaged => "The database file is damaged.",
            Failure::Unwritable => "ResidentDesk cannot write to the database's folder.",
            Failure::BackupBeforeMigration => {
                "The database must be updated, and the backup taken before that could not be written."
            }
            Failure::KeyMissing => "The database is encrypted, and its key was not found.",
            Failure::KeyWrong => "The database's key or passphrase is wrong.",
            Failure::Keyring => "The system keyring did not give or keep the database's key.",
            Failure::Other => "The database could not be opened.",
        }
    }

    /// What the person can do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Failure::AlreadyOpen => "Switch to that window, or close it and start ResidentDesk again.",
            Failure::Locked => "Close the other program (or wait for it to finish) and start ResidentDesk again.",
            Failure::NewerSchema => {
                "Install that version of ResidentDesk or a later one. The database was not changed."
            }
            Failure::NotADatabase => {
                "Check the database path (--db or RESIDENTDESK_DB), or restore a backup. The file was not changed."
            }
            Failure::Damaged => "Restore the latest backup (residentdesk restore FILE).",
            Failure::Unwritable => "Make the folder writable (or free some disk space) and start again.",
            Failure::BackupBeforeMigration => {
                "Free some disk space or make the folder writable and start again. The database was not changed."
            }
            Failure::KeyMissing => {
                "Sign in to the computer account whose keyring holds the key, or start ResidentDesk with the \
                 database's passphrase in RESIDENTDESK_DB_KEY. The database was not changed."
            }
            Failure::KeyWrong => {
                "Start ResidentDesk with the right passphrase in RESIDENTDESK_DB_KEY, or restore a backup. \
                 The database was not changed."
            }
            Failure::Keyring => {
                "Unlock the keyring (sign in to the desktop again) or start ResidentDesk with a passphrase in \
                 RESIDENTDESK_DB_KEY. The database was not changed."
            }
            Failure::Other => "The details below and the log file say more.",
        }
    }
}

/// The message box's text: the reason in plain words, what to do, the details, the database
/// and the log file.
pub fn message(failure: Failure, details: &str, db: &Path, log: &str) -> String {
    format!(
        "{}\n{}\n\nDetails: {details}\n\nDatabase: {}\nLog file: {log}",
        failure.headline(),
        failure.advice(),
        db.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(path: &Path) -> Failure {
        match residentdesk::store::open(path) {
            Ok(_) => panic!("{} opened", path.display()),
            Err(e) => Failure::of_store(&e),
        }
    }

    #[test]
    fn a_newer_schema_is_said_so_and_left_as_it_was() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("newer.db");
        {
            let conn = rusqlite::Connection::open(&db).expect("create");
            conn.pragma_update(None, "user_version", 9_999).expect("version");
        }
        let before = std::fs::read(&db).expect("read");
        assert_eq!(kind_of(&db), Failure::NewerSchema);
        assert_eq!(std::fs::read(&db).expect("read"), before);
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_not_a_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("notes.db");
        std::fs::write(&db, "Name,Unit\nAlice,101\n".repeat(200)).expect("write");
        assert_eq!(kind_of(&db), Failure::NotADatabase);
    }

    #[test]
    fn a_folder_that_cannot_exist_is_unwritable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").expect("write");
        assert_eq!(kind_of(&file.join("residentdesk.db")), Failure::Unwritable);
        let lock =
            crate::instance::lock(&file.join("residentdesk.db"), std::time::Duration::ZERO).expect_err("no lock");
        assert_eq!(Failure::of_lock(&lock), Failure::Unwritable);
    }

    #[test]
    fn a_database_locked_by_another_program_is_locked() {
        let busy = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY), None);
        assert_eq!(Failure::of_sqlite(&busy), Failure::Locked);
    }

    #[test]
    fn a_window_already_open_on_the_database_is_already_open() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("residentdesk.db");
        let _first = crate::instance::lock(&db, std::time::Duration::ZERO).expect("first");
        let second = crate::instance::lock(&db, std::time::Duration::ZERO).expect_err("second");
        assert_eq!(Failure::of_lock(&second), Failure::AlreadyOpen);
    }

    #[test]
    fn the_message_names_the_reason_the_database_and_the_log() {
        let text = message(
            Failure::NewerSchema,
            "schema version 9999",
            Path::new("/data/residentdesk.db"),
            "/data/residentdesk-desktop.2026-11-30.log",
        );
        assert!(text.starts_with("The database was saved by a newer version of ResidentDesk."), "{text}");
        assert!(text.contains("Database: /data/residentdesk.db"), "{text}");
        assert!(text.contains("Log file: /data/residentdesk-desktop.2026-11-30.log"), "{text}");
        assert!(text.contains("schema version 9999"), "{text}");
    }
}
