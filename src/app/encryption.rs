//! Encryption at rest (issue #15): the use cases `db.encrypt` (a plain database from an
//! older version, encrypted in place after a backup) and `db.rekey` (a new key or
//! passphrase). Both are for the owner only, like a restore: they change the whole file.
//! The file work is [`crate::store::encryption`]'s, the keys [`crate::store::key`]'s; here
//! are the gate, the order of the steps and the audit.
//!
//! Both assume no other program has the database open (the desktop app): `db encrypt`
//! refuses when it cannot lock the file; after a rekey, another program's connection fails
//! at its next statement with "the key is wrong" and nothing it holds is lost.

use super::gate::At;
use super::usecases as uc;
use super::{App, Session};
use crate::error::{AppError, AppResult, ErrorCode, ErrorDetails, ErrorReason};
use crate::store;
use crate::store::backup::{self as files, Kind};
use crate::store::encryption::{self, EncryptError};
use crate::store::key::{self, DbKey, KeySource};
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;

/// Where the new key comes from.
#[derive(Clone)]
pub enum NewKey {
    /// A passphrase (argon2id with the database's salt).
    Passphrase(String),
    /// A random key kept in the OS keyring.
    Keyring,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NewKey::Passphrase(_) => "Passphrase(..)",
            NewKey::Keyring => "Keyring",
        })
    }
}

impl NewKey {
    fn kind(&self) -> &'static str {
        match self {
            NewKey::Passphrase(_) => "passphrase",
            NewKey::Keyring => "keyring",
        }
    }
}

/// What `db encrypt` or `db rekey` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EncryptionReport {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub database: PathBuf,
    /// `passphrase` or `keyring`.
    pub key: String,
    /// `db encrypt` only: the plain copy taken first (unencrypted: delete it once checked).
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub plain_backup: Option<PathBuf>,
}

fn encrypt_error(e: EncryptError) -> AppError {
    match e {
        EncryptError::Refused(m) => {
            AppError::new(ErrorCode::Conflict, m).with_details(ErrorDetails::reason(ErrorReason::DbBusy))
        }
        EncryptError::Failed(m) => AppError::internal(m),
    }
}

impl App {
    fn database_file(&self) -> AppResult<PathBuf> {
        store::file_path(self.conn()).ok_or_else(|| AppError::invalid("an in-memory database has no file to encrypt"))
    }

    /// `db.encrypt` (the owner only): encrypts this plain database in place with a new key
    /// (a passphrase, or a random key kept in the OS keyring). First a plain copy goes to
    /// the backup folder (`…-before-encrypt.db`); then an encrypted copy is written beside
    /// the database, checked, and moved over it under an exclusive lock. Audited in the
    /// encrypted database (a failure: in the plain one, which stays as it was).
    pub fn db_encrypt(&mut self, session: &Session, new: &NewKey) -> AppResult<EncryptionReport> {
        self.owner_gate(session, &uc::DB_ENCRYPT)?;
        let live = self.database_file()?;
        if self.db_key().is_encrypted() {
            return Err(AppError::invalid(format!(
                "the database {} is already encrypted; `residentdesk db rekey` changes its key",
                live.display()
            )));
        }
        self.settle();
        let now = self.now();
        let key = DbKey::plain().with_new_secret(match new {
            NewKey::Passphrase(p) if p.is_empty() => {
                return Err(AppError::invalid_field("passphrase", "the new passphrase is empty"))
            }
            NewKey::Passphrase(p) => Some(p.as_str()),
            NewKey::Keyring => None,
        });
        let previous = match new {
            NewKey::Keyring => Some(key::store_in_keyring(&live, &key).map_err(AppError::from)?),
            NewKey::Passphrase(_) => None,
        };
        let undo_keyring = |previous: Option<key::PreviousEntry>| {
            if let Some(p) = previous {
                key::restore_keyring_entry(&key, p);
            }
        };
        let plain_backup = files::free_name(&live, now, Kind::BeforeEncrypt);
        if let Err(e) = files::copy_to(self.conn(), &plain_backup) {
            undo_keyring(previous);
            return Err(AppError::internal(format!("the backup before encrypting was not taken: {e}")));
        }
        // The audit entry goes into the copy that becomes the database.
        let run = self.write(session, &uc::DB_ENCRYPT, At::Team)?;
        run.audit().details(json!({"key": new.kind(), "plain_backup": plain_backup})).write()?;
        run.commit()?;
        let swapped = encryption::encrypted_copy(self.conn(), &live, &key).and_then(|temp| {
            self.close_file().map_err(|e| EncryptError::Failed(e.message))?;
            let moved = encryption::swap_in(&live, &temp);
            if moved.is_err() {
                encryption::remove_with_journals(&temp);
            }
            moved
        });
        match swapped {
            Ok(()) => {
                self.reopen(&live, key)?;
                Ok(EncryptionReport { database: live, key: new.kind().into(), plain_backup: Some(plain_backup) })
            }
            Err(e) => {
                undo_keyring(previous);
                if store::file_path(self.conn()).is_none() {
                    self.reopen(&live, DbKey::plain())?;
                }
                let e = encrypt_error(e);
                let run = self.write(session, &uc::DB_ENCRYPT, At::Team)?;
                run.audit().outcome("failed").details(json!({"error": e.message})).write()?;
                run.commit()?;
                Err(e)
            }
        }
    }

    /// `db.rekey` (the owner only): re-encrypts this database under a new key — a new
    /// passphrase, or a new random key in the OS keyring — with SQLCipher's `PRAGMA rekey`
    /// (one transaction: a failure leaves the old key in force). The salt stays, so the
    /// database keeps its keyring entry name. Backups taken before keep the old key.
    pub fn db_rekey(&mut self, session: &Session, new: &NewKey) -> AppResult<EncryptionReport> {
        self.owner_gate(session, &uc::DB_REKEY)?;
        let live = self.database_file()?;
        if !self.db_key().is_encrypted() {
            return Err(AppError::invalid(format!(
                "the database {} is not encrypted; `residentdesk db encrypt` encrypts it",
                live.display()
            )));
        }
        self.settle();
        let old = self.db_key().clone();
        let key = old.with_new_secret(match new {
            NewKey::Passphrase(p) if p.is_empty() => {
                return Err(AppError::invalid_field("passphrase", "the new passphrase is empty"))
            }
            NewKey::Passphrase(p) => Some(p.as_str()),
            NewKey::Keyring => None,
        });
        let previous = match new {
            NewKey::Keyring => Some(key::store_in_keyring(&live, &key).map_err(AppError::from)?),
            NewKey::Passphrase(_) => None,
        };
        let run = self.write(session, &uc::DB_REKEY, At::Team)?;
        run.audit().details(json!({"key": new.kind()})).write()?;
        run.commit()?;
        match encryption::rekey(self.conn(), &live, &key) {
            Ok(()) => {
                if matches!(new, NewKey::Passphrase(_)) {
                    // The old keyring key (if any) opens nothing any more.
                    key::forget_keyring_entry(&old);
                }
                self.reopen(&live, key)?;
                Ok(EncryptionReport { database: live, key: new.kind().into(), plain_backup: None })
            }
            Err(e) => {
                if let Some(p) = previous {
                    key::restore_keyring_entry(&key, p);
                }
                let e = encrypt_error(e);
                let run = self.write(session, &uc::DB_REKEY, At::Team)?;
                run.audit().outcome("failed").details(json!({"error": e.message})).write()?;
                run.commit()?;
                Err(e)
            }
        }
    }
}

/// The new key's source as the CLI gives it: a passphrase read by the edge, else
/// `RESIDENTDESK_NEW_DB_KEY`, else the OS keyring.
pub fn new_key_from(passphrase: Option<String>) -> NewKey {
    match passphrase.or_else(|| std::env::var(NEW_PASSPHRASE_ENV).ok()) {
        Some(p) => NewKey::Passphrase(p),
        None => NewKey::Keyring,
    }
}

/// The new passphrase for `db encrypt` / `db rekey` (scripts, tests).
pub const NEW_PASSPHRASE_ENV: &str = "RESIDENTDESK_NEW_DB_KEY";

/// The key source of an open: a passphrase read by the edge (`--db-key-stdin`), else the
/// standard way.
pub fn key_source(passphrase: Option<String>) -> KeySource {
    passphrase.map_or(KeySource::Standard, KeySource::Passphrase)
}
