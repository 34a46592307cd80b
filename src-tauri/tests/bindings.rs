//! Writes the TypeScript types of everything that crosses IPC to `ui/src/lib/api/bindings`
//! (or `$BINDINGS_DIR`). `cargo xtask test` runs this and fails when the committed copy
//! differs, so the UI can never compile against stale types.

use residentdesk::access::roles::{Role, RoleKind, SiteAccess};
use residentdesk::app::access::{
    AccessAction, AccessChange, ActionGate, CreatedInvitation, CreatedToken, Explanation, Gate, InvitationView,
    JobFunctionView, Matrix, MatrixFeature, MatrixRow, MemberActions, NewInvitation, NewRole, NewToken, RoleView,
};
use residentdesk::app::backup::{BackupListing, BackupReport, RestoreReport};
use residentdesk::app::bulk::{BulkItem, BulkReport};
use residentdesk::app::bulk_check::BulkPreview;
use residentdesk::app::csv::{ExportRequest, ExportSummary, ImportProgress, ImportReport};
use residentdesk::app::demo::{DemoAccount, DemoSummary};
use residentdesk::app::gate::UseCaseGate;
use residentdesk::app::org::{SiteSettingsPatch, SiteSummary, SiteToday, TeamDetails, TeamEntry};
use residentdesk::app::overview::{ResidentsByStatus, SiteOverview};
use residentdesk::app::password_reset::TemporaryPassword;
use residentdesk::app::progress::Progress as WorkProgress;
use residentdesk::app::remote_team::{RemoteTeam, RemoteTeams};
use residentdesk::app::resident_actions::ResidentActions;
use residentdesk::app::residents::{ActionOutcome, FieldProblem, ResidentFilter};
use residentdesk::app::staff::{NewStaff, StaffPatch};
use residentdesk::app::sync::{Resolution, ResolveOutcome, SyncConfig};
use residentdesk::app::undo::{UndoHandle, UndoOutcome};
use residentdesk::app::views::{NewView, SavedView, ViewSort, ViewState};
use residentdesk::app::{ResidentInput, ResidentPatch, ResidentView};
use residentdesk::domain::vocab::{ConflictKind, OutboxOp, OutboxState, ResidentField};
use residentdesk::error::{AppError, ErrorCode};
use residentdesk::store::audit_chain::{BreakKind, ChainBreak, ChainFinding, ChainReport};
use residentdesk::store::backup::{BackupFile, FileFacts, OutboxSettlement};
use residentdesk::store::conflicts::Conflict;
use residentdesk::store::{audit::AuditEntry, outbox::Entry, sites::Mapping, sites::Site, staff::Member};
use residentdesk::store::{invitations::Invitation, tokens::TokenRow};
use residentdesk::sync::check::{AssumptionCheck, Blocker, CallRecord, CheckReport, Verdict};
use residentdesk::sync::status::SyncStatus;
use residentdesk_desktop::commands::{ChosenFile, ExportResult, SavedFile, SessionLocked};
use residentdesk_desktop::{Bootstrap, DemoReady, PassphraseNeeded, SessionInfo};
use std::path::PathBuf;
use ts_rs::TS;

#[test]
fn export_bindings() {
    let dir = std::env::var_os("BINDINGS_DIR").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("ui")
            .join("src")
            .join("lib")
            .join("api")
            .join("bindings")
    });
    std::fs::create_dir_all(&dir).expect("bindings directory");
    macro_rules! export {
        ($($t:ty),* $(,)?) => {
            $( <$t as TS>::export_all_to(&dir).unwrap_or_else(|e| panic!("exporting {}: {e}", stringify!($t))); )*
        };
    }
    export!(
        AppError,
        SessionLocked,
        PassphraseNeeded,
        ErrorCode,
        Bootstrap,
        SessionInfo,
        UseCaseGate,
        TeamEntry,
        TeamDetails,
        SiteSummary,
        SiteToday,
        SiteOverview,
        ResidentsByStatus,
        WorkProgress,
        RemoteTeams,
        RemoteTeam,
        SavedView,
        NewView,
        ViewState,
        ViewSort,
        Site,
        SiteSettingsPatch,
        Mapping,
        ResidentView,
        BulkPreview,
        ResidentInput,
        ResidentPatch,
        ResidentFilter,
        FieldProblem,
        ActionOutcome,
        ResidentActions,
        UndoHandle,
        UndoOutcome,
        BulkReport,
        BulkItem,
        DemoSummary,
        DemoAccount,
        DemoReady,
        NewStaff,
        StaffPatch,
        Member,
        TemporaryPassword,
        AuditEntry,
        ChainReport,
        ChainBreak,
        ChainFinding,
        BreakKind,
        Entry,
        SyncStatus,
        SyncConfig,
        Conflict,
        Resolution,
        ResolveOutcome,
        ImportReport,
        ImportProgress,
        ExportRequest,
        ExportSummary,
        ExportResult,
        ChosenFile,
        SavedFile,
        Role,
        RoleKind,
        RoleView,
        NewRole,
        SiteAccess,
        JobFunctionView,
        NewInvitation,
        CreatedInvitation,
        Invitation,
        InvitationView,
        NewToken,
        CreatedToken,
        TokenRow,
        Explanation,
        Matrix,
        MatrixRow,
        MatrixFeature,
        AccessChange,
        AccessAction,
        Gate,
        ActionGate,
        MemberActions,
        ResidentField,
        OutboxState,
        OutboxOp,
        ConflictKind,
        BackupListing,
        BackupReport,
        BackupFile,
        FileFacts,
        RestoreReport,
        OutboxSettlement,
        CheckReport,
        AssumptionCheck,
        CallRecord,
        Blocker,
        Verdict,
    );
    // ts-rs writes i64 as `bigint`, but serde_json sends ids and counts as plain JSON numbers
    // (all far below 2^53), which is what the web view receives: say so in the types.
    for file in ts_files(&dir) {
        let text = std::fs::read_to_string(&file).expect("read binding");
        if text.contains("bigint") {
            std::fs::write(&file, text.replace("bigint", "number")).expect("write binding");
        }
    }
    assert!(dir.join("ResidentView.ts").exists(), "ResidentView.ts was not written to {}", dir.display());
}

fn ts_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("list bindings").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(ts_files(&path));
        } else if path.extension().is_some_and(|e| e == "ts") {
            out.push(path);
        }
    }
    out
}
