// Typed wrappers, one per shell command (src-tauri/src/commands.rs). Argument names are
// camelCase here; Tauri maps them to the Rust parameters.
import { call, subscribe } from './ipc';
import type { ActionOutcome } from './bindings/ActionOutcome';
import type { ResidentActions } from './bindings/ResidentActions';
import type { UndoHandle } from './bindings/UndoHandle';
import type { UndoOutcome } from './bindings/UndoOutcome';
import type { AuditEntry } from './bindings/AuditEntry';
import type { ChainReport } from './bindings/ChainReport';
import type { Bootstrap } from './bindings/Bootstrap';
import type { BulkReport } from './bindings/BulkReport';
import type { ChosenFile } from './bindings/ChosenFile';
import type { SavedFile } from './bindings/SavedFile';
import type { Columns } from './bindings/Columns';
import type { DemoReady } from './bindings/DemoReady';
import type { Entry } from './bindings/Entry';
import type { Mapping } from './bindings/Mapping';
import type { Member } from './bindings/Member';
import type { TemporaryPassword } from './bindings/TemporaryPassword';
import type { NewStaff } from './bindings/NewStaff';
import type { ResidentFilter } from './bindings/ResidentFilter';
import type { ResidentInput } from './bindings/ResidentInput';
import type { ResidentPatch } from './bindings/ResidentPatch';
import type { ResidentView } from './bindings/ResidentView';
import type { SessionInfo } from './bindings/SessionInfo';
import type { Site } from './bindings/Site';
import type { SiteSettingsPatch } from './bindings/SiteSettingsPatch';
import type { SiteSummary } from './bindings/SiteSummary';
import type { SiteToday } from './bindings/SiteToday';
import type { SiteOverview } from './bindings/SiteOverview';
import type { WorkProgress } from './bindings/WorkProgress';
import type { RemoteTeams } from './bindings/RemoteTeams';
import type { NewView } from './bindings/NewView';
import type { SavedView } from './bindings/SavedView';
import type { StaffPatch } from './bindings/StaffPatch';
import type { TeamDetails } from './bindings/TeamDetails';
import type { TeamEntry } from './bindings/TeamEntry';
import type { Conflict } from './bindings/Conflict';
import type { ExportRequest } from './bindings/ExportRequest';
import type { ExportResult } from './bindings/ExportResult';
import type { ImportReport } from './bindings/ImportReport';
import type { ImportProgress } from './bindings/ImportProgress';
import type { Resolution } from './bindings/Resolution';
import type { ResolveOutcome } from './bindings/ResolveOutcome';
import type { SyncConfig } from './bindings/SyncConfig';
import type { SyncStatus } from './bindings/SyncStatus';
import type { AccessChange } from './bindings/AccessChange';
import type { ActionGate } from './bindings/ActionGate';
import type { CreatedInvitation } from './bindings/CreatedInvitation';
import type { CreatedToken } from './bindings/CreatedToken';
import type { Explanation } from './bindings/Explanation';
import type { Invitation } from './bindings/Invitation';
import type { InvitationView } from './bindings/InvitationView';
import type { JobFunctionView } from './bindings/JobFunctionView';
import type { Matrix } from './bindings/Matrix';
import type { MemberActions } from './bindings/MemberActions';
import type { NewInvitation } from './bindings/NewInvitation';
import type { NewRole } from './bindings/NewRole';
import type { NewToken } from './bindings/NewToken';
import type { Role } from './bindings/Role';
import type { RoleView } from './bindings/RoleView';
import type { TokenRow } from './bindings/TokenRow';
import type { BackupListing } from './bindings/BackupListing';
import type { BackupReport } from './bindings/BackupReport';
import type { FileFacts } from './bindings/FileFacts';
import type { RestoreReport } from './bindings/RestoreReport';
import type { CheckReport } from './bindings/CheckReport';
import type { SessionLocked } from './bindings/SessionLocked';
import type { BulkPreview } from './bindings/BulkPreview';

export { ApiError, toApiError } from './ipc';
export type { ErrorDetails, ErrorField, ErrorReason, FieldProblem, RuleError } from './ipc';

export type BulkAction = BulkReport['action'];
export type StatusFlag = ResidentView['status'][number];
export type MainStatus = ResidentView['main_status'];
export type Marker = ResidentView['markers'][number];
export type StatusChange = 'Active' | 'Disabled';

export const api = {
  bootstrap: () => call<Bootstrap>('bootstrap'),
  /** The database's passphrase, when the first screen asks for it. */
  dbPassphrase: (passphrase: string) => call<null>('db_passphrase', { passphrase }),
  demoSeed: (residents: number) => call<DemoReady>('demo_seed', { residents }),
  init: (email: string, password: string, teamName: string) =>
    call<SessionInfo>('init', { email, password, teamName }),
  signIn: (email: string, password: string, newPassword?: string) =>
    call<SessionInfo>('sign_in', { email, password, newPassword: newPassword ?? null }),
  signOut: () => call<null>('sign_out'),
  /** The person's keys and pointer, for the core's idle lock (the caller throttles it). */
  sessionActivity: () => call<null>('session_activity'),
  /** The shell's word that the core has locked the session after its idle minutes. */
  onSessionLocked: (handler: (locked: SessionLocked) => void) => subscribe<SessionLocked>('session-locked', handler),
  teamList: () => call<TeamEntry[]>('team_list'),
  teamSwitch: (team: string) => call<SessionInfo>('team_switch', { team }),
  teamShow: () => call<TeamDetails>('team_show'),
  siteList: () => call<SiteSummary[]>('site_list'),
  siteMappings: (site: string) => call<Mapping[]>('site_mappings', { site }),
  /** Per site: residents by status, units occupied and free, sync state. */
  siteOverview: () => call<SiteOverview[]>('site_overview'),
  siteToday: (site: string) => call<SiteToday>('site_today', { site }),
  siteSettings: (site: string) => call<Site>('site_settings', { site }),
  siteSettingsUpdate: (site: string, patch: SiteSettingsPatch) => call<Site>('site_settings_update', { site, patch }),
  residentList: (site: string, filter: ResidentFilter) => call<ResidentView[]>('resident_list', { site, filter }),
  residentSearch: (query: string, limit: number) => call<ResidentView[]>('resident_search', { query, limit }),
  residentShow: (resident: string) => call<ResidentView>('resident_show', { resident }),
  residentAdd: (site: string, input: ResidentInput) => call<ResidentView>('resident_add', { site, input }),
  residentUpdate: (resident: string, patch: ResidentPatch) =>
    call<ResidentView>('resident_update', { resident, patch }),
  residentSetStatus: (resident: string, change: StatusChange) =>
    call<ActionOutcome>('resident_set_status', { resident, change }),
  residentTerminate: (resident: string) => call<ActionOutcome>('resident_terminate', { resident }),
  residentPurge: (resident: string) => call<ActionOutcome>('resident_purge', { resident }),
  residentInvite: (resident: string) => call<ActionOutcome>('resident_invite', { resident }),
  residentPskReset: (resident: string) => call<ActionOutcome>('resident_psk_reset', { resident }),
  residentReinstate: (resident: string) => call<ActionOutcome>('resident_reinstate', { resident }),
  /** Takes back a suspend, unsuspend or terminate (single or bulk) that is still unsent. */
  residentUndo: (undo: UndoHandle) => call<UndoOutcome>('resident_undo', { undo }),
  /** Which actions apply to a resident now, and why the others do not. */
  residentActions: (resident: string) => call<ResidentActions>('resident_actions', { resident }),
  bulk: (action: BulkAction, site: string, ids: string[]) => call<BulkReport>('bulk', { action, site, ids }),
  /** Which chosen residents a bulk action would change, and why not the others (before Apply). */
  bulkCheck: (action: BulkAction, site: string, ids: string[]) => call<BulkPreview>('bulk_check', { action, site, ids }),
  staffList: () => call<Member[]>('staff_list'),
  staffAdd: (staff: NewStaff) => call<Member>('staff_add', { new: staff }),
  staffUpdate: (email: string, patch: StaffPatch) => call<Member>('staff_update', { email, patch }),
  staffResetPassword: (email: string) => call<TemporaryPassword>('staff_reset_password', { email }),
  staffRemove: (email: string) => call<null>('staff_remove', { email }),
  auditList: (limit: number) => call<AuditEntry[]>('audit_list', { limit }),
  auditVerify: () => call<ChainReport>('audit_verify'),
  outboxList: (all: boolean, limit: number) => call<Entry[]>('outbox_list', { all, limit }),
  outboxRetry: (id: number) => call<Entry>('outbox_retry', { id }),
  outboxDiscard: (id: number) => call<Entry>('outbox_discard', { id }),
  conflictList: (all: boolean) => call<Conflict[]>('conflict_list', { all }),
  conflictResolve: (id: number, resolution: Resolution) => call<ResolveOutcome>('conflict_resolve', { id, resolution }),
  syncStatus: () => call<SyncStatus>('sync_status'),
  syncNow: () => call<null>('sync_now'),
  syncFocus: (site: string | null) => call<null>('sync_focus', { site }),
  syncConfig: () => call<SyncConfig>('sync_config'),
  syncConfigure: (remoteUrl: string | null, remoteUser: string | null, password: string | null) =>
    call<SyncConfig>('sync_configure', { remoteUrl, remoteUser, password }),
  /** Asks which CSV file to import (a native dialog, in the shell; the path stays there).
   * `null`: cancelled. */
  importChoose: () => call<ChosenFile | null>('import_choose'),
  /** Checks, then imports, the file chosen with `importChoose`. */
  importPreview: (site: string) => call<ImportReport>('import_preview', { site }),
  importCommit: (site: string, validOnly: boolean) => call<ImportReport>('import_commit', { site, validOnly }),
  /** Saves the chosen file's rows with problems plus a column `problemColumn` (Save As). `null`: cancelled. */
  importProblems: (site: string, problemColumn: string) => call<SavedFile | null>('import_problems', { site, problemColumn }),
  /** Saves an import template: the columns and one example row (Save As). `null`: cancelled. */
  importTemplate: (columns: Columns) => call<SavedFile | null>('import_template', { columns }),
  /** Asks where to save (a native dialog, in the shell), then exports. `null`: cancelled. */
  exportResidents: (request: ExportRequest) => call<ExportResult | null>('export_residents', { request }),
  // Access management (roles, invitations, API tokens, explain).
  roleList: () => call<RoleView[]>('role_list'),
  roleAdd: (role: NewRole) => call<Role>('role_add', { role }),
  roleRemove: (key: string) => call<number>('role_remove', { key }),
  jobFunctionList: () => call<JobFunctionView[]>('job_function_list'),
  jobFunctionAdd: (key: string, name: string, base: string, roles: string[], allSites: boolean) =>
    call<JobFunctionView>('job_function_add', { key, name, base, roles, allSites }),
  inviteCreate: (invitation: NewInvitation) => call<CreatedInvitation>('invite_create', { invitation }),
  inviteList: () => call<InvitationView[]>('invite_list'),
  inviteReject: (id: number) => call<Invitation>('invite_reject', { id }),
  inviteResend: (id: number) => call<CreatedInvitation>('invite_resend', { id }),
  inviteAccept: (token: string, name: string, password: string) =>
    call<SessionInfo>('invite_accept', { token, name, password }),
  inviteRejectToken: (token: string) => call<Invitation>('invite_reject_token', { token }),
  tokenCreate: (token: NewToken) => call<CreatedToken>('token_create', { token }),
  tokenList: () => call<TokenRow[]>('token_list'),
  tokenRevoke: (token: string) => call<TokenRow>('token_revoke', { token }),
  accessExplain: (email: string | null, action: string, place: string) =>
    call<Explanation>('access_explain', { email, action, place }),
  accessMatrix: (email: string | null) => call<Matrix>('access_matrix', { email }),
  accessChange: (email: string, change: AccessChange) => call<Member>('access_change', { email, change }),
  accessGates: () => call<ActionGate[]>('access_gates'),
  staffActions: () => call<MemberActions[]>('staff_actions'),
  // Settings → Backups and "Check the connection" (src-tauri/src/maintenance.rs). A backup
  // is named by its name in the core's listing, never by a path.
  backupList: () => call<BackupListing>('backup_list'),
  backupCreate: () => call<BackupReport>('backup_create'),
  backupSettings: (keep: number) => call<BackupListing>('backup_settings', { keep }),
  backupCheck: (name: string) => call<FileFacts>('backup_check', { name }),
  /** Restores, then the shell reopens the database and the session ends (sign in again). */
  backupRestore: (name: string) => call<RestoreReport>('backup_restore', { name }),
  remoteCheck: () => call<CheckReport>('remote_check'),
  remoteCheckLast: () => call<CheckReport | null>('remote_check_last'),
  remoteTeams: () => call<RemoteTeams>('remote_teams'),
  remoteLink: (team: string) => call<RemoteTeams>('remote_link', { team }),
  viewList: (screen: string | null) => call<SavedView[]>('view_list', { screen }),
  viewSave: (view: NewView) => call<SavedView>('view_save', { view }),
  viewDelete: (id: number) => call<null>('view_delete', { id }),
  /** Status events of the background sync worker. */
  onSyncStatus: (handler: (status: SyncStatus) => void) => subscribe<SyncStatus>('sync-status', handler),
  /** Progress of a running export (rows written, of the total when known). */
  onExportProgress: (handler: (progress: WorkProgress) => void) => subscribe<WorkProgress>('export-progress', handler),
  /** Progress of a running bulk action (residents taken up, of the total). */
  onBulkProgress: (handler: (progress: WorkProgress) => void) => subscribe<WorkProgress>('bulk-progress', handler),
  /** Progress of a running import check or import (every 1,000 rows). */
  onImportProgress: (handler: (progress: ImportProgress) => void) =>
    subscribe<ImportProgress>('import-progress', handler),
};

export type Api = typeof api;
