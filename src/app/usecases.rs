//! The one table of use cases: every action of the core, read or write, with the permission it
//! needs, what it is aimed at, who may run it and whether it is audited. The runner
//! ([`super::gate`]) checks exactly this declaration before a use case's body runs; the docs
//! (`docs/ARCHITECTURE.md`), the CLI's `access use-cases` listing and the desktop's screen gates
//! ([`crate::App::use_case_gates`]) are derived from it, never from copies kept by hand.
//!
//! Permission words follow ForSURE (seed 003) as the issue reads them: `staff.view` lists staff,
//! `staff.add` adds staff and creates invitations, `staff.edit` changes them, `staff.delete`
//! removes them; `sync.operate` runs a sync, retries, discards and resolves conflicts; reading
//! the outbox, conflicts and the sync status needs `residents.view` on the sites concerned.

use crate::access::roles::Permission;
use serde::Serialize;

/// What a use case is aimed at, which the runner resolves within the active team before it
/// checks the permission there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// No one is signed in yet (sign-in, first set-up, accepting an invitation).
    Public,
    /// The active team as a whole (listings filter further to the sites the grants reach).
    Team,
    /// One site of the active team.
    Site,
    /// One resident, checked at its site.
    Resident,
}

/// Who may run a use case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Runs {
    /// A signed-in person or an API token holding the permission.
    PeopleAndTokens,
    /// A signed-in person only: a token is refused whatever it holds (creating tokens,
    /// switching team, transferring ownership).
    PeopleOnly,
    /// Anyone (no session): sign-in, set-up, invitations by their code.
    Anyone,
    /// The application itself, on behalf of a signed-in session (housekeeping).
    System,
}

/// One use case as declared in [`ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UseCase {
    /// Stable name, also the audit log's action (`resident.add`).
    pub name: &'static str,
    /// The permission checked at the target; `None` only for [`Runs::Anyone`] and
    /// [`Runs::System`].
    pub permission: Option<Permission>,
    pub target: TargetKind,
    pub runs: Runs,
    /// Whether a successful run writes an audit entry (every denial is audited anyway).
    pub audited: bool,
    /// One line for the docs and the CLI.
    pub summary: &'static str,
}

macro_rules! use_cases {
    ($( $id:ident = $name:literal, $perm:expr, $target:ident, $runs:ident, $audited:literal, $summary:literal; )*) => {
        $(
            #[doc = $summary]
            pub const $id: UseCase = UseCase {
                name: $name,
                permission: $perm,
                target: TargetKind::$target,
                runs: Runs::$runs,
                audited: $audited,
                summary: $summary,
            };
        )*
        /// Every use case of the core, in the order the docs list them.
        pub const ALL: &[UseCase] = &[$($id),*];
    };
}

const fn p(permission: Permission) -> Option<Permission> {
    Some(permission)
}

use Permission::*;

use_cases! {
    // Signing in and setting up.
    INIT = "init", None, Public, Anyone, true, "Create the database's first Team administrator (the owner)";
    SIGN_IN = "sign_in", None, Public, Anyone, true, "Sign in with email and password";
    TOKEN_SIGN_IN = "token.use", None, Public, Anyone, true, "Sign in with an API token";
    DEMO_SEED = "demo.seed", None, Public, Anyone, true, "Fill an empty database with the demo portfolio";
    INVITE_ACCEPT = "invite.accept", None, Public, Anyone, true, "Accept an invitation with its code";
    INVITE_DECLINE = "invite.decline", None, Public, Anyone, true, "Decline an invitation with its code";
    AUTO_PURGE = "resident.auto_purge", None, Team, System, true, "Purge residents whose 31-day grace period is over";
    DEMO_REMOTE_MOVED = "demo.remote_moved", None, Public, System, true, "Point a demo database at its simulated remote's new port";

    // Teams and sites.
    TEAM_LIST = "team.list", p(TeamView), Team, PeopleAndTokens, false, "List the teams you belong to";
    TEAM_SWITCH = "team.switch", p(TeamView), Team, PeopleOnly, true, "Switch your active team";
    TEAM_SHOW = "team.show", p(TeamView), Team, PeopleAndTokens, false, "Show the active team's details";
    TEAM_SETTINGS = "team.settings", p(TeamSettings), Team, PeopleAndTokens, true, "Edit the team's settings";
    IDLE_LOCK_SHOW = "team.idle_lock", p(TeamView), Team, PeopleAndTokens, false, "Show after how many idle minutes a session locks";
    IDLE_LOCK_SET = "team.idle_lock.set", p(TeamSettings), Team, PeopleAndTokens, true, "Set after how many idle minutes a session locks (1 to 10)";
    TEAM_MEMBERS = "team.members", p(TeamMembers), Team, PeopleAndTokens, false, "List every member of the team";
    SITE_LIST = "site.list", p(SitesView), Team, PeopleAndTokens, false, "List the sites you can see";
    SITE_SHOW = "site.show", p(SitesView), Site, PeopleAndTokens, false, "Show one site";
    SITE_MAPPINGS = "site.mappings", p(SitesView), Site, PeopleAndTokens, false, "List a site's building/floor/unit mappings";
    SITE_TODAY = "site.today", p(SitesView), Site, PeopleAndTokens, false, "Today's date and time at a site, in the site's time zone";
    SITE_SETTINGS = "site.settings", p(SitesView), Site, PeopleAndTokens, false, "Show a site's settings";
    SITE_OVERVIEW = "site.overview", p(SitesView), Team, PeopleAndTokens, false, "Per site you can see: residents by status, units occupied and free, sync state";
    SITE_SETTINGS_EDIT = "site.settings.edit", p(SitesSettings), Site, PeopleAndTokens, true, "Edit a site's settings";

    // Residents.
    RESIDENT_LIST = "resident.list", p(ResidentsView), Site, PeopleAndTokens, false, "List a site's residents";
    RESIDENT_LIST_ALL = "resident.list_all", p(ResidentsView), Team, PeopleAndTokens, false, "List the residents of every site you can see";
    RESIDENT_SEARCH = "resident.search", p(ResidentsView), Team, PeopleAndTokens, false, "Search residents as you type";
    RESIDENT_SHOW = "resident.show", p(ResidentsView), Resident, PeopleAndTokens, false, "Show one resident";
    RESIDENT_ADD = "resident.add", p(ResidentsEdit), Site, PeopleAndTokens, true, "Add a resident";
    RESIDENT_UPDATE = "resident.update", p(ResidentsEdit), Resident, PeopleAndTokens, true, "Change a resident's details";
    RESIDENT_SUSPEND = "resident.suspend", p(ResidentsLifecycle), Resident, PeopleAndTokens, true, "Suspend a resident";
    RESIDENT_UNSUSPEND = "resident.unsuspend", p(ResidentsLifecycle), Resident, PeopleAndTokens, true, "Unsuspend a resident";
    RESIDENT_TERMINATE = "resident.terminate", p(ResidentsLifecycle), Resident, PeopleAndTokens, true, "Terminate a resident (access ends yesterday)";
    RESIDENT_PURGE = "resident.purge", p(ResidentsPurge), Resident, PeopleAndTokens, true, "Terminate and purge a resident at once";
    RESIDENT_REINSTATE = "resident.reinstate", p(ResidentsLifecycle), Resident, PeopleAndTokens, true, "Give an ended resident access again during the 31-day grace period";
    RESIDENT_UNDO = "resident.undo", p(ResidentsLifecycle), Site, PeopleAndTokens, true, "Undo a suspend, unsuspend or terminate (single or bulk) that has not been sent yet";
    RESIDENT_ACTIONS = "resident.actions", p(ResidentsView), Resident, PeopleAndTokens, false, "Which actions apply to a resident now, and why the others do not";
    RESIDENT_INVITE = "resident.invite", p(ResidentsLifecycle), Resident, PeopleAndTokens, true, "Resend an invitation or the Wi-Fi details";
    RESIDENT_PSK_RESET = "resident.psk_reset", p(ResidentsLifecycle), Resident, PeopleAndTokens, true, "Reset a resident's personal Wi-Fi key";
    BULK = "resident.bulk", p(ResidentsBulk), Site, PeopleAndTokens, true, "Run a bulk action on a site's residents";
    BULK_CHECK = "resident.bulk_check", p(ResidentsBulk), Site, PeopleAndTokens, false, "Check which chosen residents a bulk action would change, and why not the others";
    IMPORT = "resident.import", p(ResidentsImport), Site, PeopleAndTokens, true, "Import residents from CSV (or check a file)";
    EXPORT = "resident.export", p(ResidentsExport), Team, PeopleAndTokens, true, "Export residents as CSV";

    // Staff and access.
    STAFF_LIST = "staff.list", p(StaffView), Team, PeopleAndTokens, false, "List the staff you may see";
    STAFF_ADD = "staff.add", p(StaffAdd), Team, PeopleAndTokens, true, "Add a staff account";
    STAFF_UPDATE = "staff.update", p(StaffEdit), Team, PeopleAndTokens, true, "Change a staff member's name, level, sites or disabled flag in this team";
    STAFF_REMOVE = "staff.remove", p(StaffDelete), Team, PeopleAndTokens, true, "Remove a staff member from this team";
    STAFF_RESET_PASSWORD = "staff.reset_password", p(StaffEdit), Team, PeopleOnly, true, "Give a member a one-time temporary password (24 hours); they choose a new one when they sign in with it";
    ACCOUNT_DISABLE = "account.disable", p(TeamMembers), Team, PeopleOnly, true, "Disable or enable an account in every team (the owner only)";
    ROLE_LIST = "role.list", p(TeamView), Team, PeopleAndTokens, false, "List roles";
    ROLE_ADD = "role.add", p(TeamMembers), Team, PeopleAndTokens, true, "Define a team add-on role";
    ROLE_REMOVE = "role.remove", p(TeamMembers), Team, PeopleAndTokens, true, "Delete a team add-on role";
    JOB_FUNCTION_LIST = "job_function.list", p(StaffView), Team, PeopleAndTokens, false, "List job functions";
    JOB_FUNCTION_ADD = "job_function.add", p(TeamMembers), Team, PeopleAndTokens, true, "Define a job function";
    ACCESS_CHANGE = "access.change", p(StaffEdit), Team, PeopleAndTokens, true, "Grant or revoke a member's roles and sites";
    OWNER_TRANSFER = "owner.transfer", p(TeamMembers), Team, PeopleOnly, true, "Hand the owner flag to another Team administrator";
    ACCESS_EXPLAIN = "access.explain", p(TeamView), Team, PeopleAndTokens, false, "Explain an access decision";
    ACCESS_MATRIX = "access.matrix", p(TeamView), Team, PeopleAndTokens, false, "Show someone's effective permissions";
    TOKEN_CREATE = "token.create", p(TeamView), Team, PeopleOnly, true, "Create an API token (a subset of what you hold)";
    TOKEN_LIST = "token.list", p(TeamView), Team, PeopleAndTokens, false, "List API tokens";
    TOKEN_REVOKE = "token.revoke", p(TeamView), Team, PeopleAndTokens, true, "Revoke an API token (yours, or any with team.members)";
    INVITE_CREATE = "invite.create", p(StaffAdd), Team, PeopleAndTokens, true, "Invite someone by email";
    INVITE_LIST = "invite.list", p(StaffView), Team, PeopleAndTokens, false, "List invitations";
    INVITE_RESEND = "invite.resend", p(StaffAdd), Team, PeopleAndTokens, true, "Resend an invitation (after 2 days)";
    INVITE_WITHDRAW = "invite.withdraw", p(StaffAdd), Team, PeopleAndTokens, true, "Withdraw an invitation";

    // Sync.
    SYNC_RUN = "sync.run", p(SyncOperate), Team, PeopleAndTokens, true, "Run a sync pass: push the outbox, pull the sites";
    SYNC_STATUS = "sync.status", p(ResidentsView), Team, PeopleAndTokens, false, "Show the sync status of your sites";
    SYNC_CONFIG = "sync.config", p(TeamView), Team, PeopleAndTokens, false, "Show the sync settings";
    SYNC_CONFIGURE = "sync.configure", p(SyncConfigure), Team, PeopleAndTokens, true, "Set the remote and the service account";
    OUTBOX_LIST = "outbox.list", p(ResidentsView), Team, PeopleAndTokens, false, "List the outbox of your sites";
    OUTBOX_RETRY = "outbox.retry", p(SyncOperate), Site, PeopleAndTokens, true, "Send a rejected change again";
    OUTBOX_DISCARD = "outbox.discard", p(SyncOperate), Site, PeopleAndTokens, true, "Give up sending a change";
    CONFLICT_LIST = "conflict.list", p(ResidentsView), Team, PeopleAndTokens, false, "List the conflicts of your sites";
    CONFLICT_RESOLVE = "conflict.resolve", p(SyncOperate), Site, PeopleAndTokens, true, "Decide a conflict";
    REMOTE_CHECK = "remote.check", p(SyncOperate), Team, PeopleAndTokens, true, "Check the remote against the contract's assumptions (read-only calls)";
    REMOTE_TEAMS = "remote.teams", p(SyncConfigure), Team, PeopleAndTokens, false, "List the remote teams the service account sees (first connection of a desk)";
    REMOTE_LINK = "remote.link", p(SyncConfigure), Team, PeopleAndTokens, true, "Link the active team to a remote team chosen by id or name (kept by remote id)";

    // Audit and the demo.
    AUDIT_LIST = "audit.list", p(AuditView), Team, PeopleAndTokens, false, "Read the team's audit log";
    AUDIT_EXPORT = "audit.export", p(AuditExport), Team, PeopleAndTokens, true, "Export the team's audit log as CSV";
    AUDIT_VERIFY = "audit.verify", p(AuditView), Team, PeopleAndTokens, false, "Check the audit log's hash chain and name the first row that breaks it";
    AUDIT_RETENTION = "audit.retention", p(TeamSettings), Team, PeopleAndTokens, true, "Set how many days resident details stay in the audit log (default 7 years)";
    AUDIT_GUARD = "audit.guard", None, Team, System, true, "At open: restore dropped audit triggers, scrub resident details past the retention period";
    DEMO_PORTFOLIO = "demo.portfolio", p(TeamSettings), Team, PeopleOnly, false, "The demo portfolio as a simulator seed (owner of a demo database)";
    DEMO_GROW_SITE = "demo.grow_site", p(SitesSettings), Team, PeopleOnly, true, "Add units and residents to a demo site (owner of a demo database)";

    // Backups.
    BACKUP_CREATE = "backup.create", p(TeamSettings), Team, PeopleAndTokens, true, "Take a backup copy of the whole database";
    BACKUP_LIST = "backup.list", p(TeamSettings), Team, PeopleAndTokens, false, "List the backups beside the database";
    BACKUP_SETTINGS = "backup.settings", p(TeamSettings), Team, PeopleAndTokens, true, "Set how many automatic backups are kept";
    BACKUP_RESTORE = "backup.restore", p(TeamSettings), Team, PeopleOnly, true, "Replace the database with a checked backup (the owner only)";
    BACKUP_AUTO = "backup.auto", None, Team, System, true, "Take the daily automatic backup when one is due";
    DB_ENCRYPT = "db.encrypt", p(TeamSettings), Team, PeopleOnly, true, "Encrypt a plain database in place, after a backup (the owner only)";
    DB_REKEY = "db.rekey", p(TeamSettings), Team, PeopleOnly, true, "Change the database's key or passphrase (the owner only)";

    // Saved views.
    VIEW_LIST = "view.list", p(TeamView), Team, PeopleOnly, false, "List your saved views and those shared with the team";
    VIEW_SAVE = "view.save", p(TeamView), Team, PeopleOnly, true, "Save a screen's columns, sort and filters (named views may be shared)";
    VIEW_DELETE = "view.delete", p(TeamView), Team, PeopleOnly, true, "Delete one of your saved views";
}

/// The use case of this name.
pub fn by_name(name: &str) -> Option<&'static UseCase> {
    ALL.iter().find(|u| u.name == name)
}

/// The use-case table as Markdown (docs/ARCHITECTURE.md carries this exact text; a test fails
/// when the two differ).
pub fn markdown_table() -> String {
    let mut out =
        String::from("| use case | permission | target | who | audited | what |\n|---|---|---|---|---|---|\n");
    for u in ALL {
        let who = match u.runs {
            Runs::PeopleAndTokens => "people, tokens",
            Runs::PeopleOnly => "people",
            Runs::Anyone => "anyone",
            Runs::System => "the app",
        };
        let target = match u.target {
            TargetKind::Public => "—",
            TargetKind::Team => "team",
            TargetKind::Site => "site",
            TargetKind::Resident => "resident",
        };
        out.push_str(&format!(
            "| `{}` | {} | {target} | {who} | {} | {} |\n",
            u.name,
            u.permission.map(|p| format!("`{p}`")).unwrap_or_else(|| "—".into()),
            if u.audited { "yes" } else { "denials" },
            u.summary
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_declarations_consistent() {
        let names: BTreeSet<&str> = ALL.iter().map(|u| u.name).collect();
        assert_eq!(names.len(), ALL.len(), "two use cases share a name");
        for u in ALL {
            let public = matches!(u.runs, Runs::Anyone | Runs::System);
            assert_eq!(
                u.permission.is_none(),
                public,
                "{}: only public and system use cases need no permission",
                u.name
            );
            assert_eq!(
                u.target == TargetKind::Public,
                u.runs == Runs::Anyone || u.name == "demo.remote_moved",
                "{}",
                u.name
            );
            assert!(!u.summary.is_empty());
        }
        assert_eq!(by_name("resident.add"), Some(&RESIDENT_ADD));
    }

    #[test]
    fn forsure_words_as_the_seeds_mean_them() {
        assert_eq!(STAFF_LIST.permission, Some(Permission::StaffView));
        assert_eq!(STAFF_ADD.permission, Some(Permission::StaffAdd));
        assert_eq!(INVITE_CREATE.permission, Some(Permission::StaffAdd));
        assert_eq!(STAFF_UPDATE.permission, Some(Permission::StaffEdit));
        assert_eq!(STAFF_REMOVE.permission, Some(Permission::StaffDelete));
        for u in [SYNC_RUN, OUTBOX_RETRY, OUTBOX_DISCARD, CONFLICT_RESOLVE] {
            assert_eq!(u.permission, Some(Permission::SyncOperate), "{}", u.name);
        }
        for u in [OUTBOX_LIST, CONFLICT_LIST, SYNC_STATUS, RESIDENT_SEARCH] {
            assert_eq!(u.permission, Some(Permission::ResidentsView), "{}", u.name);
        }
    }
}
