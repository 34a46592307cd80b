//! The IPC commands: one line each over the core's app layer. Arguments arrive in
//! camelCase from the web view (`teamName` → `team_name`); errors leave as the core's
//! `{code, message, details}`. All run off the main thread (`async`), so a long use case
//! never freezes the window.

use crate::{Bootstrap, DemoReady, Desk, KeyPrompt, PassphraseNeeded, Reply, SessionInfo};
use residentdesk::access::roles::Role;
use residentdesk::app::access::{
    AccessChange, ActionGate, CreatedInvitation, CreatedToken, Explanation, InvitationView, JobFunctionView, Matrix,
    MemberActions, NewInvitation, NewRole, NewToken, RoleView,
};
use residentdesk::app::bulk::BulkReport;
use residentdesk::app::bulk_check::BulkPreview;
use residentdesk::app::csv::{ExportRequest, ExportSummary, ImportOptions, ImportProgress, ImportReport};
use residentdesk::app::org::{SiteSettingsPatch, SiteSummary, SiteToday, TeamDetails, TeamEntry};
use residentdesk::app::overview::SiteOverview;
use residentdesk::app::password_reset::TemporaryPassword;
use residentdesk::app::progress::Progress as WorkProgress;
use residentdesk::app::resident_actions::ResidentActions;
use residentdesk::app::residents::{ActionOutcome, ResidentFilter};
use residentdesk::app::staff::{NewStaff, StaffPatch};
use residentdesk::app::sync::{Resolution, ResolveOutcome, SyncConfig};
use residentdesk::app::undo::{UndoHandle, UndoOutcome};
use residentdesk::app::views::{NewView, SavedView};
use residentdesk::app::{ResidentInput, ResidentPatch, ResidentView};
use residentdesk::csvio::Columns;
use residentdesk::domain::{BulkAction, StatusChange};
use residentdesk::store::audit_chain::ChainReport;
use residentdesk::store::staff::Member;
use residentdesk::store::{audit::AuditEntry, conflicts::Conflict, outbox::Entry, sites::Mapping, sites::Site};
use residentdesk::store::{invitations::Invitation, tokens::TokenRow};
use residentdesk::sync::status::SyncStatus;
use residentdesk::AppError;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, State};

type Desktop<'a> = State<'a, Desk>;

/// Every command, for `invoke_handler` (and the capability's allow-list in build.rs).
pub fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        bootstrap,
        db_passphrase,
        demo_seed,
        init,
        sign_in,
        sign_out,
        session_activity,
        team_list,
        team_switch,
        team_show,
        site_list,
        site_mappings,
        site_overview,
        site_today,
        site_settings,
        site_settings_update,
        resident_list,
        resident_search,
        resident_show,
        resident_add,
        resident_update,
        resident_set_status,
        resident_terminate,
        resident_purge,
        resident_invite,
        resident_psk_reset,
        resident_reinstate,
        resident_undo,
        resident_actions,
        bulk,
        bulk_check,
        staff_list,
        staff_add,
        staff_update,
        staff_reset_password,
        staff_remove,
        audit_list,
        audit_verify,
        outbox_list,
        outbox_retry,
        outbox_discard,
        conflict_list,
        conflict_resolve,
        sync_status,
        sync_now,
        sync_focus,
        sync_config,
        sync_configure,
        import_choose,
        import_preview,
        import_commit,
        import_problems,
        import_template,
        export_residents,
        role_list,
        role_add,
        role_remove,
        job_function_list,
        job_function_add,
        invite_create,
        invite_list,
        invite_reject,
        invite_resend,
        invite_accept,
        invite_reject_token,
        token_create,
        token_list,
        token_revoke,
        access_explain,
        access_matrix,
        access_change,
        access_gates,
        staff_actions,
        // Settings → Backups and "Check the connection" (src/maintenance.rs).
        crate::maintenance::backup_list,
        crate::maintenance::backup_create,
        crate::maintenance::backup_settings,
        crate::maintenance::backup_check,
        crate::maintenance::backup_restore,
        crate::maintenance::remote_check,
        crate::maintenance::remote_check_last,
        crate::remote_team::remote_teams,
        crate::remote_team::remote_link,
        view_list,
        view_save,
        view_delete,
    ]
}

/// The event that carries the background worker's status to the web view.
pub const SYNC_EVENT: &str = "sync-status";

/// Starts (or restarts) background sync for the signed-in person, if it is set up.
fn start_sync(handle: &AppHandle, desk: &Desk) {
    let handle = handle.clone();
    if let Err(e) = desk.restart_sync(move |status: SyncStatus| {
        let _ = handle.emit(SYNC_EVENT, status);
    }) {
        tracing::warn!("background sync not started: {e}");
    }
}

#[tauri::command(async)]
pub fn bootstrap(handle: AppHandle) -> Reply<Bootstrap> {
    let default_remote_url = residentdesk::sync::client::DEFAULT_BASE_URL.to_string();
    let Some(desk) = handle.try_state::<Desk>() else {
        // The database waits for its passphrase: nothing else can be answered yet.
        let prompt =
            handle.try_state::<KeyPrompt>().ok_or_else(|| AppError::internal("the database is not open yet"))?;
        return Ok(Bootstrap {
            initialised: false,
            db_path: prompt.db_path.display().to_string(),
            default_remote_url,
            session: None,
            passphrase: Some(PassphraseNeeded { new_database: prompt.new_database }),
        });
    };
    let initialised = desk.anon(|app| app.is_initialised())?;
    Ok(Bootstrap {
        initialised,
        db_path: desk.db_path().display().to_string(),
        default_remote_url,
        session: desk.current()?,
        passphrase: None,
    })
}

/// The database's passphrase, typed on the first screen when neither `RESIDENTDESK_DB_KEY`
/// nor the keyring gave a key: the core opens the database with it (a wrong one is refused,
/// `key_wrong`, nothing written), and the desk starts as it would have.
#[tauri::command(async)]
pub fn db_passphrase(handle: AppHandle, passphrase: String) -> Reply<()> {
    if handle.try_state::<Desk>().is_some() {
        return Err(AppError::invalid("the database is already open"));
    }
    let Some(prompt) = handle.try_state::<KeyPrompt>() else {
        return Err(AppError::internal("no database waits for a passphrase"));
    };
    let desk = crate::open_with_passphrase(&prompt, passphrase)?;
    tracing::info!("opened {} with the passphrase typed at start", prompt.db_path.display());
    watch_idle_lock(&handle, &desk);
    handle.manage(desk);
    Ok(())
}

#[tauri::command(async)]
pub fn demo_seed(desk: Desktop<'_>, residents: usize) -> Reply<DemoReady> {
    desk.demo_seed(residents)
}

#[tauri::command(async)]
pub fn init(
    handle: AppHandle,
    desk: Desktop<'_>,
    email: String,
    password: String,
    team_name: String,
) -> Reply<SessionInfo> {
    let info = desk.start_session(|app, _| app.init(&email, &password, &team_name))?;
    start_sync(&handle, &desk);
    Ok(info)
}

#[tauri::command(async)]
pub fn sign_in(
    handle: AppHandle,
    desk: Desktop<'_>,
    email: String,
    password: String,
    new_password: Option<String>,
) -> Reply<SessionInfo> {
    // A temporary password (from a reset) needs the new one the person chose with it.
    let info =
        desk.start_session(|app, _| app.sign_in_with_new_password(&email, &password, new_password.as_deref()))?;
    start_sync(&handle, &desk);
    Ok(info)
}

#[tauri::command(async)]
pub fn sign_out(desk: Desktop<'_>) -> Reply<()> {
    desk.sign_out();
    Ok(())
}

/// The person's keys and pointer (the UI sends this at most every few seconds): activity for
/// the core's idle lock. Nothing is decided here.
#[tauri::command(async)]
pub fn session_activity(desk: Desktop<'_>) -> Reply<()> {
    desk.activity();
    Ok(())
}

/// The event that tells the web view the core has locked the session (idle too long).
pub const LOCKED_EVENT: &str = "session-locked";

/// Who was signed in when the session locked.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct SessionLocked {
    pub email: String,
}

/// How often the shell asks the core whether the session has locked (a map look-up).
const LOCK_WATCH: std::time::Duration = std::time::Duration::from_secs(1);

/// Watches for the core's idle lock, on the desk's runtime: once the core says the signed-in
/// person's session is locked, stops the sync worker and tells the web view (once per lock).
pub fn watch_idle_lock(handle: &AppHandle, desk: &Desk) {
    let handle = handle.clone();
    desk.spawn(async move {
        let mut announced: Option<String> = None;
        loop {
            tokio::time::sleep(LOCK_WATCH).await;
            let Some(desk) = handle.try_state::<Desk>() else { continue };
            let locked = desk.locked();
            if locked.is_some() && locked != announced {
                desk.stop_sync();
                if let Some(email) = &locked {
                    tracing::info!("the session of {email} locked after its idle minutes");
                    let _ = handle.emit(LOCKED_EVENT, SessionLocked { email: email.clone() });
                }
            }
            announced = locked;
        }
    });
}

#[tauri::command(async)]
pub fn team_list(desk: Desktop<'_>) -> Reply<Vec<TeamEntry>> {
    desk.signed_in(|app, s| app.team_list(s))
}

#[tauri::command(async)]
pub fn team_switch(handle: AppHandle, desk: Desktop<'_>, team: String) -> Reply<SessionInfo> {
    let info = desk.start_session(|app, s| app.team_switch(s.ok_or_else(crate::not_signed_in)?, &team))?;
    start_sync(&handle, &desk);
    Ok(info)
}

#[tauri::command(async)]
pub fn team_show(desk: Desktop<'_>) -> Reply<TeamDetails> {
    desk.signed_in(|app, s| app.team_show(s))
}

#[tauri::command(async)]
pub fn site_list(desk: Desktop<'_>) -> Reply<Vec<SiteSummary>> {
    desk.signed_in(|app, s| app.site_list(s))
}

/// Per site the person can see: residents by status, units occupied and free, sync state
/// (the Sites screen's pictures and the sync bar's per-site panel).
#[tauri::command(async)]
pub fn site_overview(desk: Desktop<'_>) -> Reply<Vec<SiteOverview>> {
    desk.signed_in(|app, s| app.site_overview(s))
}

#[tauri::command(async)]
pub fn site_mappings(desk: Desktop<'_>, site: String) -> Reply<Vec<Mapping>> {
    desk.signed_in(|app, s| app.site_mappings(s, &site))
}

#[tauri::command(async)]
pub fn view_list(desk: Desktop<'_>, screen: Option<String>) -> Reply<Vec<SavedView>> {
    desk.signed_in(|app, s| app.view_list(s, screen.as_deref()))
}

#[tauri::command(async)]
pub fn view_save(desk: Desktop<'_>, view: NewView) -> Reply<SavedView> {
    desk.signed_in(|app, s| app.view_save(s, &view))
}

#[tauri::command(async)]
pub fn view_delete(desk: Desktop<'_>, id: i64) -> Reply<()> {
    desk.signed_in(|app, s| app.view_delete(s, id))
}

#[tauri::command(async)]
pub fn site_today(desk: Desktop<'_>, site: String) -> Reply<SiteToday> {
    desk.signed_in(|app, s| app.site_today(s, &site))
}

#[tauri::command(async)]
pub fn site_settings(desk: Desktop<'_>, site: String) -> Reply<Site> {
    desk.signed_in(|app, s| app.site_settings(s, &site))
}

#[tauri::command(async)]
pub fn site_settings_update(desk: Desktop<'_>, site: String, patch: SiteSettingsPatch) -> Reply<Site> {
    desk.signed_in(|app, s| app.site_settings_update(s, &site, &patch))
}

#[tauri::command(async)]
pub fn resident_list(desk: Desktop<'_>, site: String, filter: ResidentFilter) -> Reply<Vec<ResidentView>> {
    desk.signed_in(|app, s| app.resident_list(s, &site, &filter))
}

#[tauri::command(async)]
pub fn resident_search(desk: Desktop<'_>, query: String, limit: usize) -> Reply<Vec<ResidentView>> {
    desk.signed_in(|app, s| app.resident_search(s, &query, limit))
}

#[tauri::command(async)]
pub fn resident_show(desk: Desktop<'_>, resident: String) -> Reply<ResidentView> {
    desk.signed_in(|app, s| app.resident_show(s, &resident))
}

#[tauri::command(async)]
pub fn resident_add(desk: Desktop<'_>, site: String, input: ResidentInput) -> Reply<ResidentView> {
    desk.signed_in(|app, s| app.resident_add(s, &site, &input))
}

#[tauri::command(async)]
pub fn resident_update(desk: Desktop<'_>, resident: String, patch: ResidentPatch) -> Reply<ResidentView> {
    desk.signed_in(|app, s| app.resident_update(s, &resident, &patch))
}

#[tauri::command(async)]
pub fn resident_set_status(desk: Desktop<'_>, resident: String, change: StatusChange) -> Reply<ActionOutcome> {
    desk.signed_in(|app, s| app.resident_set_status(s, &resident, change))
}

#[tauri::command(async)]
pub fn resident_terminate(desk: Desktop<'_>, resident: String) -> Reply<ActionOutcome> {
    desk.signed_in(|app, s| app.resident_terminate(s, &resident))
}

#[tauri::command(async)]
pub fn resident_purge(desk: Desktop<'_>, resident: String) -> Reply<ActionOutcome> {
    desk.signed_in(|app, s| app.resident_purge(s, &resident))
}

#[tauri::command(async)]
pub fn resident_invite(desk: Desktop<'_>, resident: String) -> Reply<ActionOutcome> {
    desk.signed_in(|app, s| app.resident_invite(s, &resident))
}

#[tauri::command(async)]
pub fn resident_psk_reset(desk: Desktop<'_>, resident: String) -> Reply<ActionOutcome> {
    desk.signed_in(|app, s| app.resident_psk_reset(s, &resident))
}

#[tauri::command(async)]
pub fn resident_reinstate(desk: Desktop<'_>, resident: String) -> Reply<ActionOutcome> {
    desk.signed_in(|app, s| app.resident_reinstate(s, &resident))
}

#[tauri::command(async)]
pub fn resident_undo(desk: Desktop<'_>, undo: UndoHandle) -> Reply<UndoOutcome> {
    desk.signed_in(|app, s| app.resident_undo(s, &undo))
}

/// Which actions apply to a resident now, and why the others do not.
#[tauri::command(async)]
pub fn resident_actions(desk: Desktop<'_>, resident: String) -> Reply<ResidentActions> {
    desk.signed_in(|app, s| app.resident_actions(s, &resident))
}

/// The event that carries a bulk action's progress (residents taken up of the total).
pub const BULK_EVENT: &str = "bulk-progress";

#[tauri::command(async)]
pub fn bulk(
    handle: AppHandle,
    desk: Desktop<'_>,
    action: BulkAction,
    site: String,
    ids: Vec<String>,
) -> Reply<BulkReport> {
    desk.signed_in(|app, s| app.bulk_observed(s, action, &site, &ids, &mut report_work(&handle, BULK_EVENT)))
}

/// Which chosen residents a bulk action would change, before Apply.
#[tauri::command(async)]
pub fn bulk_check(desk: Desktop<'_>, action: BulkAction, site: String, ids: Vec<String>) -> Reply<BulkPreview> {
    desk.signed_in(|app, s| app.bulk_check(s, action, &site, &ids))
}

#[tauri::command(async)]
pub fn staff_list(desk: Desktop<'_>) -> Reply<Vec<Member>> {
    desk.signed_in(|app, s| app.staff_list(s))
}

#[tauri::command(async)]
pub fn staff_add(desk: Desktop<'_>, new: NewStaff) -> Reply<Member> {
    desk.signed_in(|app, s| app.staff_add(s, &new))
}

#[tauri::command(async)]
pub fn staff_update(desk: Desktop<'_>, email: String, patch: StaffPatch) -> Reply<Member> {
    desk.signed_in(|app, s| app.staff_update(s, &email, &patch))
}

#[tauri::command(async)]
pub fn staff_reset_password(desk: Desktop<'_>, email: String) -> Reply<TemporaryPassword> {
    desk.signed_in(|app, s| app.staff_reset_password(s, &email))
}

#[tauri::command(async)]
pub fn staff_remove(desk: Desktop<'_>, email: String) -> Reply<()> {
    desk.signed_in(|app, s| app.staff_remove(s, &email))
}

#[tauri::command(async)]
pub fn audit_list(desk: Desktop<'_>, limit: usize) -> Reply<Vec<AuditEntry>> {
    desk.signed_in(|app, s| app.audit_list(s, None, limit))
}

/// The audit log's hash chain checked (`audit.verify`): verified rows, or the first that breaks it.
#[tauri::command(async)]
pub fn audit_verify(desk: Desktop<'_>) -> Reply<ChainReport> {
    desk.signed_in(|app, s| app.audit_verify(s))
}

#[tauri::command(async)]
pub fn outbox_list(desk: Desktop<'_>, all: bool, limit: usize) -> Reply<Vec<Entry>> {
    desk.signed_in(|app, s| app.outbox_list(s, all, limit))
}

#[tauri::command(async)]
pub fn outbox_retry(desk: Desktop<'_>, id: i64) -> Reply<Entry> {
    desk.signed_in(|app, s| app.outbox_retry(s, id))
}

#[tauri::command(async)]
pub fn outbox_discard(desk: Desktop<'_>, id: i64) -> Reply<Entry> {
    desk.signed_in(|app, s| app.outbox_discard(s, id))
}

#[tauri::command(async)]
pub fn conflict_list(desk: Desktop<'_>, all: bool) -> Reply<Vec<Conflict>> {
    desk.signed_in(|app, s| app.conflict_list(s, all))
}

#[tauri::command(async)]
pub fn conflict_resolve(desk: Desktop<'_>, id: i64, resolution: Resolution) -> Reply<ResolveOutcome> {
    desk.signed_in(|app, s| app.conflict_resolve(s, id, &resolution))
}

/// The stored status, with whether the background worker is in a pass right now (and how
/// far), so a screen opened mid-pass does not show it idle.
#[tauri::command(async)]
pub fn sync_status(desk: Desktop<'_>) -> Reply<SyncStatus> {
    let mut status = desk.signed_in(|app, s| app.sync_status(s))?;
    if let Some(worker) = desk.worker() {
        let live = worker.subscribe();
        let live = live.borrow();
        status.running = live.running;
        status.progress = live.progress.clone();
    }
    Ok(status)
}

/// Asks the background worker for a pass now; its progress arrives as `sync-status` events.
#[tauri::command]
pub async fn sync_now(desk: Desktop<'_>) -> Reply<()> {
    let worker = desk.worker().ok_or_else(|| {
        AppError::invalid(
            "sync is not set up: a Team administrator enters the remote and its service account in Settings",
        )
    })?;
    worker.sync_now().await;
    Ok(())
}

/// Tells the background worker which site is on screen (`None`: none), so the adaptive pull
/// schedule pulls it now and at every pass. Only a hint: a pass pulls only the sites the
/// session's scope holds, so an id outside it changes nothing. Without a worker (sync not set
/// up) there is nothing to do.
#[tauri::command]
pub async fn sync_focus(desk: Desktop<'_>, site: Option<String>) -> Reply<()> {
    let site = match site.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(
            text.parse::<i64>().map_err(|_| AppError::invalid_field("site", format!("{text:?} is not a site id")))?,
        ),
    };
    if let Some(worker) = desk.worker() {
        worker.focus(site).await;
    }
    Ok(())
}

#[tauri::command(async)]
pub fn sync_config(desk: Desktop<'_>) -> Reply<SyncConfig> {
    desk.signed_in(|app, s| app.sync_config(s))
}

#[tauri::command(async)]
pub fn sync_configure(
    handle: AppHandle,
    desk: Desktop<'_>,
    remote_url: Option<String>,
    remote_user: Option<String>,
    password: Option<String>,
) -> Reply<SyncConfig> {
    let config = desk.signed_in(|app, s| {
        app.sync_configure(s, remote_url.as_deref(), remote_user.as_deref(), password.as_deref())
    })?;
    start_sync(&handle, &desk);
    Ok(config)
}

/// The event that carries an import's progress (rows and bytes read, every 1,000 rows).
pub const IMPORT_EVENT: &str = "import-progress";

/// The file chosen for an import: its name and size (the path stays in the shell).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ChosenFile {
    pub name: String,
    pub bytes: u64,
}

/// Asks which CSV file to import (a native Open dialog). `None`: the person cancelled, and
/// the file chosen before (if any) stays chosen.
#[tauri::command(async)]
pub fn import_choose(handle: AppHandle, desk: Desktop<'_>) -> Reply<Option<ChosenFile>> {
    let Some(path) = crate::dialogs::open_csv(&handle, "Import residents from a CSV file") else { return Ok(None) };
    let bytes = std::fs::metadata(&path)
        .map_err(|e| AppError::invalid_field("file", format!("cannot read {}: {e}", path.display())))?
        .len();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    desk.set_import_file(path);
    Ok(Some(ChosenFile { name, bytes }))
}

/// Problems a report carries across to the window, beyond its groups (each with its first
/// examples): a file of 20,000 bad rows still answers in a few kilobytes; every problem is in
/// the problems file (`import_problems`).
const LISTED_PROBLEMS: usize = 0;

/// Checks the chosen CSV file without writing anything.
#[tauri::command(async)]
pub fn import_preview(handle: AppHandle, desk: Desktop<'_>, site: String) -> Reply<ImportReport> {
    let file = chosen_file(&desk)?;
    let options = ImportOptions { dry_run: true, valid_only: false };
    let mut report =
        desk.signed_in(|app, s| app.import_residents(s, &site, file, options, &mut report_import(&handle)))?;
    report.keep_listed(LISTED_PROBLEMS);
    Ok(report)
}

/// Imports the chosen CSV file: all rows or none, or the valid ones.
#[tauri::command(async)]
pub fn import_commit(handle: AppHandle, desk: Desktop<'_>, site: String, valid_only: bool) -> Reply<ImportReport> {
    let file = chosen_file(&desk)?;
    let options = ImportOptions { dry_run: false, valid_only };
    let mut report =
        desk.signed_in(|app, s| app.import_residents(s, &site, file, options, &mut report_import(&handle)))?;
    report.keep_listed(LISTED_PROBLEMS);
    Ok(report)
}

/// Where a problems file or a template was written.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct SavedFile {
    pub path: String,
    /// Data rows written (the rows with problems; 1 for a template's example).
    pub rows: u64,
}

/// Writes `what` to a file the person chooses (Save As); `None`: cancelled. Through a
/// `.partial` file renamed at the end, like an export.
fn save_as(
    handle: &AppHandle,
    title: &str,
    suggested: &str,
    what: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<u64, AppError>,
) -> Reply<Option<SavedFile>> {
    let Some(path) = crate::dialogs::save_csv(handle, title, suggested) else { return Ok(None) };
    let mut partial = path.clone().into_os_string();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let cannot_write =
        |e: std::io::Error| AppError::invalid_field("file", format!("cannot write {}: {e}", path.display()));
    let written = std::fs::File::create(&partial).map_err(cannot_write).and_then(|file| {
        let mut out = std::io::BufWriter::new(file);
        let rows = what(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error()).and_then(|f| f.sync_all().map(|()| f));
        file.map_err(cannot_write)?;
        std::fs::rename(&partial, &path).map_err(cannot_write)?;
        Ok(rows)
    });
    match written {
        Ok(rows) => Ok(Some(SavedFile { path: path.display().to_string(), rows })),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Saves the rows of the chosen file that have problems, as the person wrote them plus a
/// column (`problem_column`, in the person's language) saying what is wrong: the file is
/// checked again, nothing is written to the database.
#[tauri::command(async)]
pub fn import_problems(
    handle: AppHandle,
    desk: Desktop<'_>,
    site: String,
    problem_column: String,
) -> Reply<Option<SavedFile>> {
    let file = chosen_file(&desk)?;
    let stem = desk
        .import_file()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "import".into());
    let options = ImportOptions { dry_run: true, valid_only: false };
    save_as(&handle, "Save the problems", &format!("{stem}-problems.csv"), |out| {
        let column = if problem_column.trim().is_empty() { "Problem" } else { problem_column.trim() };
        desk.signed_in(|app, s| {
            let problems = residentdesk::app::csv::ProblemsFile { out, column };
            app.import_with_problems_file(s, &site, file, options, &mut report_import(&handle), problems)
                .map(|(_, rows)| rows)
        })
    })
}

/// Saves an import template: the header an import reads and one example row.
#[tauri::command(async)]
pub fn import_template(handle: AppHandle, columns: Columns) -> Reply<Option<SavedFile>> {
    save_as(&handle, "Save an import template", "residentdesk-import-template.csv", |out| {
        residentdesk::csvio::template::write_template(out, columns)
            .map(|_| 1)
            .map_err(|e| AppError::invalid_field("file", format!("cannot write the template: {e}")))
    })
}

/// The chosen file, opened for reading (any encoding, BOM included: the importer decides
/// what the bytes mean).
fn chosen_file(desk: &Desk) -> Result<std::io::BufReader<std::fs::File>, AppError> {
    let path = desk.import_file().ok_or_else(|| AppError::invalid_field("file", "choose a CSV file first"))?;
    std::fs::File::open(&path)
        .map(std::io::BufReader::new)
        .map_err(|e| AppError::invalid_field("file", format!("cannot read {}: {e}", path.display())))
}

fn report_import(handle: &AppHandle) -> impl FnMut(ImportProgress) + '_ {
    move |p| {
        let _ = handle.emit(IMPORT_EVENT, p);
    }
}

/// The event that carries an export's progress (rows written, every 1,000, of the total when
/// the core knows it).
pub const EXPORT_EVENT: &str = "export-progress";

/// Sends a long use case's progress to the web view as `event`.
fn report_work<'a>(handle: &'a AppHandle, event: &'static str) -> impl FnMut(WorkProgress) + 'a {
    move |p| {
        let _ = handle.emit(event, p);
    }
}

/// Where an export was written, and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ExportResult {
    pub path: String,
    pub summary: ExportSummary,
}

/// Exports residents to a file the person chooses (a native Save As dialog; the web view
/// never names a file). `None`: the person cancelled, nothing was written. The rows go to a
/// `.partial` file beside the chosen one, renamed over it only when complete, so a refused
/// or failed export leaves no half file and an existing file as it was.
#[tauri::command(async)]
pub fn export_residents(handle: AppHandle, desk: Desktop<'_>, request: ExportRequest) -> Reply<Option<ExportResult>> {
    let suggested = format!("residentdesk-residents-{}.csv", chrono::Local::now().format("%Y-%m-%d"));
    let Some(path) = crate::dialogs::save_csv(&handle, "Export residents", &suggested) else { return Ok(None) };
    let mut partial = path.clone().into_os_string();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let written = desk.signed_in(|app, s| {
        let file = std::fs::File::create(&partial)
            .map_err(|e| AppError::invalid_field("file", format!("cannot create {}: {e}", path.display())))?;
        let mut out = std::io::BufWriter::new(file);
        let summary = app.export_residents_observed(s, &request, &mut out, &mut report_work(&handle, EXPORT_EVENT))?;
        let file = out.into_inner().map_err(|e| e.into_error()).and_then(|f| f.sync_all().map(|()| f));
        file.map_err(|e| AppError::invalid_field("file", format!("cannot write {}: {e}", path.display())))?;
        std::fs::rename(&partial, &path)
            .map_err(|e| AppError::invalid_field("file", format!("cannot write {}: {e}", path.display())))?;
        Ok(summary)
    });
    match written {
        Ok(summary) => Ok(Some(ExportResult { path: path.display().to_string(), summary })),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

// ---- access management (roles, invitations, API tokens, explain) ----------------------

#[tauri::command(async)]
pub fn role_list(desk: Desktop<'_>) -> Reply<Vec<RoleView>> {
    desk.signed_in(|app, s| app.role_list(s))
}

#[tauri::command(async)]
pub fn role_add(desk: Desktop<'_>, role: NewRole) -> Reply<Role> {
    desk.signed_in(|app, s| app.role_add(s, &role))
}

#[tauri::command(async)]
pub fn role_remove(desk: Desktop<'_>, key: String) -> Reply<usize> {
    desk.signed_in(|app, s| app.role_remove(s, &key))
}

#[tauri::command(async)]
pub fn job_function_list(desk: Desktop<'_>) -> Reply<Vec<JobFunctionView>> {
    desk.signed_in(|app, s| app.job_function_list(s))
}

#[tauri::command(async)]
pub fn job_function_add(
    desk: Desktop<'_>,
    key: String,
    name: String,
    base: String,
    roles: Vec<String>,
    all_sites: bool,
) -> Reply<JobFunctionView> {
    desk.signed_in(|app, s| app.job_function_add(s, &key, &name, &base, &roles, all_sites))
}

#[tauri::command(async)]
pub fn invite_create(desk: Desktop<'_>, invitation: NewInvitation) -> Reply<CreatedInvitation> {
    desk.signed_in(|app, s| app.invite_create(s, &invitation))
}

#[tauri::command(async)]
pub fn invite_list(desk: Desktop<'_>) -> Reply<Vec<InvitationView>> {
    desk.signed_in(|app, s| app.invite_list(s))
}

#[tauri::command(async)]
pub fn invite_reject(desk: Desktop<'_>, id: i64) -> Reply<Invitation> {
    desk.signed_in(|app, s| app.invite_reject(s, id))
}

#[tauri::command(async)]
pub fn invite_resend(desk: Desktop<'_>, id: i64) -> Reply<CreatedInvitation> {
    desk.signed_in(|app, s| app.invite_resend(s, id))
}

/// Accepts an invitation from the sign-in screen: the new account is signed in to the team.
#[tauri::command(async)]
pub fn invite_accept(
    handle: AppHandle,
    desk: Desktop<'_>,
    token: String,
    name: String,
    password: String,
) -> Reply<SessionInfo> {
    let info = desk.start_session(|app, _| app.invite_accept(&token, &name, &password))?;
    start_sync(&handle, &desk);
    Ok(info)
}

/// Declines an invitation from the sign-in screen (no one is signed in).
#[tauri::command(async)]
pub fn invite_reject_token(desk: Desktop<'_>, token: String) -> Reply<Invitation> {
    desk.anon(|app| app.invite_reject_token(&token))
}

#[tauri::command(async)]
pub fn token_create(desk: Desktop<'_>, token: NewToken) -> Reply<CreatedToken> {
    desk.signed_in(|app, s| app.token_create(s, &token))
}

#[tauri::command(async)]
pub fn token_list(desk: Desktop<'_>) -> Reply<Vec<TokenRow>> {
    desk.signed_in(|app, s| app.token_list(s))
}

#[tauri::command(async)]
pub fn token_revoke(desk: Desktop<'_>, token: String) -> Reply<TokenRow> {
    desk.signed_in(|app, s| app.token_revoke(s, &token))
}

#[tauri::command(async)]
pub fn access_explain(desk: Desktop<'_>, email: Option<String>, action: String, place: String) -> Reply<Explanation> {
    desk.signed_in(|app, s| app.access_explain(s, email.as_deref(), &action, &place))
}

#[tauri::command(async)]
pub fn access_matrix(desk: Desktop<'_>, email: Option<String>) -> Reply<Matrix> {
    desk.signed_in(|app, s| app.access_matrix(s, email.as_deref()))
}

#[tauri::command(async)]
pub fn access_change(desk: Desktop<'_>, email: String, change: AccessChange) -> Reply<Member> {
    desk.signed_in(|app, s| app.access_change(s, &email, &change))
}

#[tauri::command(async)]
pub fn access_gates(desk: Desktop<'_>) -> Reply<Vec<ActionGate>> {
    desk.signed_in(|app, s| app.access_gates(s))
}

#[tauri::command(async)]
pub fn staff_actions(desk: Desktop<'_>) -> Reply<Vec<MemberActions>> {
    desk.signed_in(|app, s| app.staff_actions(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_without_a_readable_chosen_file_names_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let desk =
            Desk::open(&dir.path().join("residentdesk.db"), residentdesk::store::KeySource::Standard).expect("open");
        let err = chosen_file(&desk).expect_err("nothing chosen");
        assert_eq!(err.field(), Some("file"));
        assert!(err.message.contains("choose a CSV file first"), "{}", err.message);
        desk.set_import_file(dir.path().join("gone.csv"));
        let err = chosen_file(&desk).expect_err("a file that is gone");
        assert_eq!(err.field(), Some("file"));
        assert!(err.message.contains("gone.csv"), "{}", err.message);
    }
}
