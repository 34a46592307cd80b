//! The IPC commands: one line each over the core's app layer. Arguments arrive in
//! camelCase from the web view (`teamName` → `team_name`); errors leave as the core's
//! `{code, message, details}`. All run off the main thread (`async`), so a long use case
//! never freezes the window.

use crate::{Bootstrap, Desk, Reply, SessionInfo};
use residentdesk::app::bulk::BulkReport;
use residentdesk::app::demo::DemoSummary;
use residentdesk::app::org::{SiteSettingsPatch, SiteSummary, TeamDetails, TeamEntry};
use residentdesk::app::residents::{ActionOutcome, ResidentFilter};
use residentdesk::app::staff::{NewStaff, StaffPatch};
use residentdesk::app::{ResidentInput, ResidentPatch, ResidentView};
use residentdesk::domain::{BulkAction, StatusChange};
use residentdesk::store::{audit::AuditEntry, outbox::Entry, sites::Mapping, sites::Site, staff::Member};
use tauri::State;

type Desktop<'a> = State<'a, Desk>;

/// Every command, for `invoke_handler` (and the capability's allow-list in build.rs).
pub fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        bootstrap,
        demo_seed,
        init,
        sign_in,
        sign_out,
        team_list,
        team_switch,
        team_show,
        site_list,
        site_mappings,
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
        bulk,
        staff_list,
        staff_add,
        staff_update,
        staff_remove,
        audit_list,
        outbox_list,
    ]
}

#[tauri::command(async)]
pub fn bootstrap(desk: Desktop<'_>) -> Reply<Bootstrap> {
    let initialised = desk.anon(|app| app.is_initialised())?;
    Ok(Bootstrap { initialised, db_path: desk.db_path().display().to_string(), session: desk.current()? })
}

#[tauri::command(async)]
pub fn demo_seed(desk: Desktop<'_>, residents: usize) -> Reply<DemoSummary> {
    desk.anon(|app| app.demo_seed(residents, 42))
}

#[tauri::command(async)]
pub fn init(desk: Desktop<'_>, email: String, password: String, team_name: String) -> Reply<SessionInfo> {
    desk.start_session(|app, _| app.init(&email, &password, &team_name))
}

#[tauri::command(async)]
pub fn sign_in(desk: Desktop<'_>, email: String, password: String) -> Reply<SessionInfo> {
    desk.start_session(|app, _| app.sign_in(&email, &password))
}

#[tauri::command(async)]
pub fn sign_out(desk: Desktop<'_>) -> Reply<()> {
    desk.sign_out();
    Ok(())
}

#[tauri::command(async)]
pub fn team_list(desk: Desktop<'_>) -> Reply<Vec<TeamEntry>> {
    desk.signed_in(|app, s| app.team_list(s))
}

#[tauri::command(async)]
pub fn team_switch(desk: Desktop<'_>, team: String) -> Reply<SessionInfo> {
    desk.start_session(|app, s| app.team_switch(s.ok_or_else(crate::not_signed_in)?, &team))
}

#[tauri::command(async)]
pub fn team_show(desk: Desktop<'_>) -> Reply<TeamDetails> {
    desk.signed_in(|app, s| app.team_show(s))
}

#[tauri::command(async)]
pub fn site_list(desk: Desktop<'_>) -> Reply<Vec<SiteSummary>> {
    desk.signed_in(|app, s| app.site_list(s))
}

#[tauri::command(async)]
pub fn site_mappings(desk: Desktop<'_>, site: String) -> Reply<Vec<Mapping>> {
    desk.signed_in(|app, s| app.site_mappings(s, &site))
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
pub fn bulk(desk: Desktop<'_>, action: BulkAction, site: String, ids: Vec<String>) -> Reply<BulkReport> {
    desk.signed_in(|app, s| app.bulk(s, action, &site, &ids))
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
pub fn staff_remove(desk: Desktop<'_>, email: String) -> Reply<()> {
    desk.signed_in(|app, s| app.staff_remove(s, &email))
}

#[tauri::command(async)]
pub fn audit_list(desk: Desktop<'_>, limit: usize) -> Reply<Vec<AuditEntry>> {
    desk.signed_in(|app, s| app.audit_list(s, None, limit))
}

#[tauri::command(async)]
pub fn outbox_list(desk: Desktop<'_>, all: bool, limit: usize) -> Reply<Vec<Entry>> {
    desk.signed_in(|app, s| app.outbox_list(s, all, limit))
}
