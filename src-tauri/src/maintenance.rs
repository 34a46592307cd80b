//! The Settings screen's maintenance commands: Settings → Backups (list, "Back up now", how
//! many are kept, "Restore…" with what it would lose) and "Check the connection". One line
//! each over the core's `App::backup_*`, `App::restore` and `App::remote_check`; the core
//! gates and decides everything (who may, whether a file can be restored, what it would
//! lose). The web view names a backup only by a name from the core's own listing, never a
//! path.
//!
//! A restore replaces the database under the running app, so the shell first stops the
//! background sync worker and waits for its pass to end (nothing keeps writing for the
//! replaced content), then lets the core restore, then opens the restored database afresh
//! and ends the session: the person signs in again on the restored data.

use crate::{Desk, Reply};
use residentdesk::app::backup::{BackupListing, BackupReport, RestoreReport};
use residentdesk::error::{ErrorDetails, ErrorReason};
use residentdesk::store::backup::FileFacts;
use residentdesk::sync::check::CheckReport;
use residentdesk::{AppError, ErrorCode};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tauri::State;

type Desktop<'a> = State<'a, Desk>;

#[tauri::command(async)]
pub fn backup_list(desk: Desktop<'_>) -> Reply<BackupListing> {
    desk.signed_in(|app, s| app.backup_list(s))
}

/// "Back up now": a manual backup in the backup folder beside the database.
#[tauri::command(async)]
pub fn backup_create(desk: Desktop<'_>) -> Reply<BackupReport> {
    desk.signed_in(|app, s| app.backup_create(s, None))
}

#[tauri::command(async)]
pub fn backup_settings(desk: Desktop<'_>, keep: usize) -> Reply<BackupListing> {
    desk.signed_in(|app, s| app.backup_settings(s, keep))
}

/// What restoring the listed backup `name` would bring and lose (nothing is written).
#[tauri::command(async)]
pub fn backup_check(desk: Desktop<'_>, name: String) -> Reply<FileFacts> {
    let path = listed(&desk, &name)?;
    desk.signed_in(|app, s| app.backup_check(s, &path))
}

/// Restores the listed backup `name`, then reopens the database and ends the session.
#[tauri::command]
pub async fn backup_restore(desk: Desktop<'_>, name: String) -> Reply<RestoreReport> {
    let path = listed(&desk, &name)?;
    // The gate and the file's checks first: a refusal stops nothing and changes nothing.
    desk.signed_in(|app, s| app.backup_check(s, &path))?;
    stop_worker(&desk).await?;
    let report = desk.signed_in(|app, s| app.restore(s, &path));
    // Restored or not, the desk goes on with a fresh App on whatever the file now holds,
    // and whoever was signed in signs in again (their account may differ in the copy).
    let reopened = desk.open_app();
    let mut inner = desk.lock();
    inner.session = None;
    *desk.person.lock().unwrap_or_else(|p| p.into_inner()) = None;
    match reopened {
        Ok(app) => inner.app = app,
        Err(e) => eprintln!("residentdesk-desktop: cannot reopen the database after the restore: {e}"),
    }
    report
}

/// The backup called `name` in the core's listing (the web view never gives a path).
fn listed(desk: &Desk, name: &str) -> Reply<PathBuf> {
    let listing = desk.signed_in(|app, s| app.backup_list(s))?;
    listing.backups.into_iter().find(|b| b.name == name).map(|b| b.path).ok_or_else(|| {
        AppError::not_found(format!("there is no backup called {name:?} in the backup folder"))
            .with_details(ErrorDetails::field("backup"))
    })
}

/// Stops the background worker and waits until its running pass has ended. A command that
/// is still handing it a "sync now" holds it for a moment; after a few seconds the restore
/// is refused instead of racing the worker.
async fn stop_worker(desk: &Desk) -> Reply<()> {
    for _ in 0..50 {
        let taken = desk.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(shared) = taken else { return Ok(()) };
        match Arc::try_unwrap(shared) {
            Ok(worker) => {
                let _ = desk.runtime.spawn(async move { worker.stop().await }).await;
                return Ok(());
            }
            Err(shared) => {
                *desk.worker.lock().unwrap_or_else(|p| p.into_inner()) = Some(shared);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    Err(AppError::new(ErrorCode::Conflict, "the background sync is busy; try the restore again in a moment")
        .with_details(ErrorDetails::reason(ErrorReason::SyncBusy)))
}

/// "Check the connection": the core's read-only check of the remote against the contract's
/// assumptions, on the shell's runtime, with a connection of its own (like the worker's),
/// so the window and the other commands go on while the remote answers.
#[tauri::command]
pub async fn remote_check(desk: Desktop<'_>) -> Reply<CheckReport> {
    let session = desk.signed_in(|app, s| app.remote_check_gate(s).map(|_| s.clone()))?;
    let mut app = desk.open_app()?;
    desk.runtime
        .spawn(async move { app.remote_check(&session).await })
        .await
        .map_err(|e| AppError::internal(format!("the connection check stopped: {e}")))?
}

/// The last check's report, if one ran (shown when Settings opens).
#[tauri::command(async)]
pub fn remote_check_last(desk: Desktop<'_>) -> Reply<Option<CheckReport>> {
    desk.signed_in(|app, s| app.remote_check_last(s))
}
