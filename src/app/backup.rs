//! Backup and restore (issue #14): the use cases `backup.create`, `backup.list`,
//! `backup.settings`, `backup.restore` and the housekeeping `backup.auto`.
//!
//! A backup is a consistent copy of the whole database (every team's data) taken while the
//! app is in use; it needs `team.settings`, and API tokens holding it may take one (a
//! scheduled backup by an integrator's script changes nothing). A restore replaces
//! everything, so it is for a person — the owner — only. The file work is done by
//! [`crate::store::backup`]; here are the gate, the order of the steps and the audit:
//!
//! restore = check the file (on a copy; a refusal writes nothing anywhere) → take the sync
//! lease and audit "replaced by …" in the live database → copy the live database aside as
//! `…-before-restore.db` (it keeps that record) → settle the copy's outbox against the live
//! one, audit "restored from …" in the copy → write the copy into the live database in one
//! transaction (the lease goes with the old content).

use super::gate::{record_denial, At};
use super::usecases as uc;
use super::{App, Session};
use crate::access::Denial;
use crate::error::{AppError, AppResult, ErrorCode, ErrorDetails, ErrorReason};
use crate::store::backup::{self as files, BackupError, BackupFile, FileFacts, Kind, OutboxSettlement};
use crate::store::{self, sync_state};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use std::path::{Path, PathBuf};

/// How long a restore holds the sync lease at most (it releases it when it ends).
const RESTORE_LEASE_MINUTES: i64 = 10;
/// The most automatic backups one may ask to keep.
pub const MAX_KEEP: usize = 1000;

/// A backup that was taken.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BackupReport {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub path: PathBuf,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub kind: Kind,
    pub taken_at: DateTime<Utc>,
    /// Older automatic backups deleted to keep the newest N.
    #[cfg_attr(feature = "ts", ts(type = "Array<string>"))]
    pub rotated: Vec<PathBuf>,
}

/// The backup folder, the rotation setting and the backups in it (oldest first).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BackupListing {
    /// `None` for an in-memory database.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub folder: Option<PathBuf>,
    /// How many automatic (daily and before-migration) backups are kept.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub keep: usize,
    pub backups: Vec<BackupFile>,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RestoreReport {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub restored_from: PathBuf,
    /// The database as it was before the restore.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub kept_as: PathBuf,
    pub file: FileFacts,
    pub outbox: OutboxSettlement,
}

/// Audited actions that change no data (a restore loses nothing by undoing them), left out
/// of the count of changes a restore would lose.
const CHANGES_NOTHING: &[&str] = &[
    uc::SIGN_IN.name,
    uc::TOKEN_SIGN_IN.name,
    uc::EXPORT.name,
    uc::AUDIT_EXPORT.name,
    uc::REMOTE_CHECK.name,
    uc::SYNC_RUN.name,
    uc::BACKUP_CREATE.name,
    uc::BACKUP_AUTO.name,
];

fn backup_error(e: BackupError) -> AppError {
    match e {
        BackupError::Refused(m) => AppError::invalid(m).with_details(ErrorDetails::reason(ErrorReason::BackupRefused)),
        BackupError::Write(m) => {
            AppError::internal(m).with_details(ErrorDetails::reason(ErrorReason::BackupNotWritten))
        }
        BackupError::Sql(e) => AppError::from(e),
    }
}

/// Why `session` may not run `use_case` even with its permission: restore, encrypt and
/// rekey replace or rewrite the whole file — every team's data — so they are the owner's
/// alone. The one list of owner-only use cases, asked by their gate (`App::owner_gate`) and
/// by `App::use_case_gates` (the desktop offers "Restore…" only to whom it would let).
pub(crate) fn owner_only_refusal(use_case: &super::UseCase, session: &Session) -> Option<Denial> {
    let owner_only = [uc::BACKUP_RESTORE.name, uc::DB_ENCRYPT.name, uc::DB_REKEY.name].contains(&use_case.name);
    (owner_only && !session.actor.is_owner).then(|| Denial::OwnerOnly { use_case: use_case.name.into() })
}

fn live_path(app: &App) -> AppResult<PathBuf> {
    store::file_path(app.conn())
        .ok_or_else(|| AppError::invalid("an in-memory database has no file to back up beside or to restore into"))
}

impl App {
    /// `backup.create`: a consistent copy of the whole database at `output`, or in the
    /// backup folder beside the database (`backups/<name>-<UTC time>-manual.db`, 0600). The
    /// copy is taken while others write (one read transaction) and checked before it gets
    /// its name; an existing file is never replaced. Audited (also when it fails).
    pub fn backup_create(&mut self, session: &Session, output: Option<&Path>) -> AppResult<BackupReport> {
        let now = self.read(session, &uc::BACKUP_CREATE, At::Team)?.ctx.now;
        let dest = match output {
            Some(p) => p.to_path_buf(),
            None => files::free_name(&live_path(self)?, now, Kind::Manual),
        };
        let copied = files::copy_to(self.conn(), &dest);
        let run = self.write(session, &uc::BACKUP_CREATE, At::Team)?;
        match copied {
            Ok(bytes) => {
                run.audit().details(json!({"path": dest, "bytes": bytes})).write()?;
                run.commit()?;
                Ok(BackupReport { path: dest, bytes, kind: Kind::Manual, taken_at: now, rotated: vec![] })
            }
            Err(e) => {
                let e = backup_error(e);
                run.audit().outcome("failed").details(json!({"path": dest, "error": e.message})).write()?;
                run.commit()?;
                Err(e)
            }
        }
    }

    /// `backup.list`: the backup folder, how many automatic backups are kept, the backups.
    pub fn backup_list(&self, session: &Session) -> AppResult<BackupListing> {
        let read = self.read(session, &uc::BACKUP_LIST, At::Team)?;
        let keep = files::keep(&read)?;
        let Some(db) = store::file_path(self.conn()) else {
            return Ok(BackupListing { folder: None, keep, backups: vec![] });
        };
        let backups = files::list(&db).map_err(|e| {
            AppError::internal(format!("cannot read the backup folder {}: {e}", files::folder_of(&db).display()))
        })?;
        Ok(BackupListing { folder: Some(files::folder_of(&db)), keep, backups })
    }

    /// `backup.settings`: how many automatic backups to keep (1..=1000; default 14).
    pub fn backup_settings(&mut self, session: &Session, keep: usize) -> AppResult<BackupListing> {
        if !(1..=MAX_KEEP).contains(&keep) {
            return Err(AppError::invalid_field("keep", format!("keep between 1 and {MAX_KEEP} automatic backups")));
        }
        let run = self.write(session, &uc::BACKUP_SETTINGS, At::Team)?;
        let before = files::keep(&run)?;
        store::settings::set(&run, files::KEEP_SETTING, &keep.to_string())?;
        run.audit().before_after(json!({"keep": before}), json!({"keep": keep})).write()?;
        run.commit()?;
        self.backup_list(session)
    }

    /// `backup.auto`, the housekeeping after a sign-in (and hourly in the desktop): a daily
    /// backup in the backup folder when the newest automatic one (daily or before a
    /// migration) is 24 hours old or more, then only the newest N automatic backups are
    /// kept (`backup.keep`). `None` when none was due (or the database is in memory).
    pub fn backup_if_due(&mut self, session: &Session) -> AppResult<Option<BackupReport>> {
        let fresh = self.refresh(session)?;
        let Some(db) = store::file_path(self.conn()) else { return Ok(None) };
        let now = self.now();
        let listed = files::list(&db).map_err(|e| {
            AppError::internal(format!("cannot read the backup folder {}: {e}", files::folder_of(&db).display()))
        })?;
        let newest = listed.iter().filter(|b| b.kind.is_automatic()).map(|b| b.taken_at).max();
        // A backup dated more than a day ahead (a clock that was wrong) does not count.
        if newest.is_some_and(|t| now - t < chrono::Duration::hours(24) && t - now < chrono::Duration::hours(24)) {
            return Ok(None);
        }
        // Two processes signing in at once may pick the same free name: the loser takes the next.
        let mut dest = files::free_name(&db, now, Kind::Daily);
        let mut copied = files::copy_to(self.conn(), &dest);
        for _ in 0..4 {
            if copied.is_ok() || !dest.exists() {
                break;
            }
            dest = files::free_name(&db, now, Kind::Daily);
            copied = files::copy_to(self.conn(), &dest);
        }
        let keep = files::keep(self.conn())?;
        let rotated = match &copied {
            Ok(_) => files::rotate(&db, keep).map_err(|e| {
                AppError::internal(format!("cannot delete old backups in {}: {e}", files::folder_of(&db).display()))
            })?,
            Err(_) => vec![],
        };
        let run = self.write_public(&uc::BACKUP_AUTO)?;
        let team = fresh.actor.team_id();
        match copied {
            Ok(bytes) => {
                run.audit(None, "system")
                    .team(team)
                    .target(dest.display().to_string())
                    .details(json!({"bytes": bytes, "keep": keep, "deleted": rotated, "after_sign_in_of": fresh.actor.email}))
                    .write()?;
                run.commit()?;
                Ok(Some(BackupReport { path: dest, bytes, kind: Kind::Daily, taken_at: now, rotated }))
            }
            Err(e) => {
                let e = backup_error(e);
                run.audit(None, "system")
                    .team(team)
                    .outcome("failed")
                    .target(dest.display().to_string())
                    .details(json!({"error": e.message, "after_sign_in_of": fresh.actor.email}))
                    .write()?;
                run.commit()?;
                Err(e)
            }
        }
    }

    /// The owner check of `backup.restore` after the gate (a denial is audited).
    fn restore_gate(&self, session: &Session) -> AppResult<super::gate::Ctx> {
        self.owner_gate(session, &uc::BACKUP_RESTORE)
    }

    /// The gate of a use case for the owner only (`owner_only_refusal`): the declared
    /// permission, then the owner check (a denial is audited with its reason).
    pub(crate) fn owner_gate(
        &self,
        session: &Session,
        use_case: &'static super::UseCase,
    ) -> AppResult<super::gate::Ctx> {
        let ctx = self.read(session, use_case, At::Team)?.ctx;
        if let Some(reason) = owner_only_refusal(use_case, &ctx.session) {
            record_denial(
                self.conn(),
                ctx.now,
                &ctx.session,
                use_case.name,
                Some(ctx.team.id),
                None,
                &ctx.team.name,
                json!({"reason": reason.to_string(), "permission": "owner"}),
            );
            return Err(AppError::refused_permission(reason, use_case.name, "owner"));
        }
        Ok(ctx)
    }

    /// What a restore of `file` would bring, checked as the restore checks it (the owner
    /// only), and what it would lose (changes recorded since the copy, unsent changes the
    /// copy lacks); nothing is written. The desktop shows this before asking to confirm.
    pub fn backup_check(&self, session: &Session, file: &Path) -> AppResult<FileFacts> {
        self.restore_gate(session)?;
        let live = live_path(self)?;
        let mut checked = files::check(file, &live, self.db_key()).map_err(backup_error)?;
        files::measure_loss(&mut checked, self.conn(), CHANGES_NOTHING)?;
        Ok(checked.facts.clone())
    }

    /// `backup.restore` (the owner only): replaces the database with the backup `file`.
    ///
    /// The file is checked first, on a copy (not empty, not truncated, a SQLite database,
    /// intact, a ResidentDesk database, not from a newer version; an older one is migrated);
    /// a refused file changes nothing anywhere. Refused as well while a sync pass runs. Then
    /// the live database is copied aside (`backups/…-before-restore.db`, with its audit entry
    /// of the restore), the copy's outbox is settled against the live one (changes the
    /// remote already has are marked done and never sent again; unsent ones stay pending)
    /// and the copy replaces the live database in one transaction, with its own audit entry.
    /// This `App` stays open on the restored content; the session should be refreshed (the
    /// person may not exist in the copy: then [`App::refresh`] ends it).
    pub fn restore(&mut self, session: &Session, file: &Path) -> AppResult<RestoreReport> {
        let ctx = self.restore_gate(session)?;
        let live = live_path(self)?;
        self.settle();
        let mut checked = files::check(file, &live, self.db_key()).map_err(backup_error)?;
        files::measure_loss(&mut checked, self.conn(), CHANGES_NOTHING)?;
        let facts = checked.facts.clone();
        let now = self.now();
        let kept_as = files::free_name(&live, now, Kind::BeforeRestore);
        let holder_id = uuid::Uuid::new_v4().to_string();
        // The lease: no sync pass starts while the database is replaced (the restored
        // content has no lease, so it ends with the old content).
        {
            let run = self.write(session, &uc::BACKUP_RESTORE, At::Team)?;
            if let Some(lease) = sync_state::lease_get(&run)?.filter(|l| l.expires_at > now) {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    format!(
                        "a sync is running on this database (since {}, by {}); restore when it has ended",
                        lease.taken_at.format("%H:%M"),
                        lease.holder
                    ),
                )
                .with_details(ErrorDetails {
                    holder: Some(lease.holder.clone()),
                    since: Some(lease.taken_at),
                    ..ErrorDetails::reason(ErrorReason::SyncBusy)
                }));
            }
            let holder = format!("residentdesk restore (pid {})", std::process::id());
            let new = sync_state::NewLease {
                holder_id: &holder_id,
                holder: &holder,
                pid: Some(i64::from(std::process::id())),
                host: None,
            };
            sync_state::lease_take(&run, &new, now, now + chrono::Duration::minutes(RESTORE_LEASE_MINUTES), None)?;
            run.audit()
                .details(json!({
                    "phase": "replaced",
                    "restored_from": file,
                    "kept_as": kept_as,
                    "file": facts,
                }))
                .write()?;
            run.commit()?;
        }
        let result = files::copy_to(self.conn(), &kept_as).and_then(|_| {
            let audit = files::RestoreAudit {
                actor_id: ctx.session.actor.staff_id,
                actor: &ctx.session.actor.email,
                team_name: &ctx.team.name,
                details: json!({
                    "phase": "restored",
                    "restored_from": file,
                    "kept_as": kept_as,
                    "file": facts,
                }),
            };
            files::restore_into(checked, self.conn(), &live, &audit, now)
        });
        match result {
            Ok(outbox) => Ok(RestoreReport { restored_from: file.to_path_buf(), kept_as, file: facts, outbox }),
            Err(e) => {
                let e = backup_error(e);
                let run = self.write(session, &uc::BACKUP_RESTORE, At::Team)?;
                sync_state::lease_release(&run, &holder_id)?;
                run.audit().outcome("failed").details(json!({"restored_from": file, "error": e.message})).write()?;
                run.commit()?;
                Err(e)
            }
        }
    }
}
