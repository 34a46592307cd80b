//! One gate (issue #12): every use case of the table is decided by its declared permission at
//! the one runner, for every permission (exhaustively, with API tokens); every use case is
//! registered, every edge reaches the core through it; and the named attacks of the issue
//! each get nothing.

use crate::fixture::*;
use residentdesk::access::roles::Permission;
use residentdesk::app::access::{AccessChange, NewInvitation, NewRole, NewToken};
use residentdesk::app::csv::ExportRequest;
use residentdesk::app::org::SiteSettingsPatch;
use residentdesk::app::residents::{ResidentFilter, ResidentInput, ResidentPatch};
use residentdesk::app::staff::{NewStaff, StaffPatch};
use residentdesk::app::sync::{sync_pass, Resolution};
use residentdesk::app::usecases::{self, Runs, UseCase};
use residentdesk::app::Session;
use residentdesk::domain::{BulkAction, ConflictKind, StatusChange};
use residentdesk::sync::client::{Credentials, HttpRemote};
use residentdesk::sync::SyncOptions;
use residentdesk::{store, App, AppError, ErrorCode};
use std::collections::BTreeSet;

const SITE: &str = "Maple Court";

/// What every use case is called with: real targets of the demo portfolio, so that the gate
/// (not a missing target or a malformed input) is what answers.
struct Targets {
    residents: Vec<String>,
    entry: i64,
    conflict: i64,
    role: String,
    invitation: i64,
    token_prefix: String,
    removable: String,
}

fn targets(app: &mut App, owner: &Session) -> Targets {
    let residents: Vec<String> = app
        .resident_list(owner, SITE, &ResidentFilter::default())
        .unwrap()
        .into_iter()
        .filter(|r| !r.status.is_expired())
        .map(|r| r.resident.email)
        .collect();
    assert!(residents.len() >= 20, "the demo site has residents to act on");
    app.resident_update(owner, &residents[0], &ResidentPatch { first_name: Some("Gate".into()), ..Default::default() })
        .unwrap();
    let entry = app.outbox_list(owner, false, 10).unwrap()[0].id;
    let site = app.site_show(owner, SITE).unwrap().site;
    let conflict = {
        let tx = app.conn_mut().transaction().unwrap();
        let c = store::conflicts::NewConflict {
            site_id: site.id,
            resident_id: None,
            remote_id: None,
            email: None,
            kind: ConflictKind::RemotePurge,
            fields: serde_json::json!({}),
            entry_ids: &[],
            message: "test",
        };
        let id = store::conflicts::insert(&tx, &c, test_now()).unwrap();
        tx.commit().unwrap();
        id
    };
    let role = NewRole {
        key: "gate_role".into(),
        name: "Gate role".into(),
        permissions: vec!["audit.view".into()],
        assignable: true,
        description: String::new(),
    };
    app.role_add(owner, &role).unwrap();
    let invitation = app.invite_create(owner, &invitation_of("invited@gate.test", "staff_user")).unwrap().invitation.id;
    let token = app.token_create(owner, &token_of("spare", &[])).unwrap();
    let removable = "removable@gate.test".to_string();
    app.staff_add(owner, &new_staff(&removable)).unwrap();
    Targets {
        residents,
        entry,
        conflict,
        role: "gate_role".into(),
        invitation,
        token_prefix: token.info.prefix,
        removable,
    }
}

fn invitation_of(email: &str, level: &str) -> NewInvitation {
    NewInvitation { email: email.into(), level: level.into(), sites: vec![SITE.into()], ..Default::default() }
}

fn token_of(name: &str, permissions: &[Permission]) -> NewToken {
    NewToken {
        name: name.into(),
        permissions: permissions.iter().map(|p| p.as_str().to_string()).collect(),
        all_sites: true,
        sites: vec![],
        expires_in_days: None,
    }
}

fn new_staff(email: &str) -> NewStaff {
    NewStaff {
        email: email.into(),
        display_name: "Gate Person".into(),
        level: "staff_user".into(),
        sites: vec![SITE.into()],
        password: "gate-password-1".into(),
    }
}

/// Calls the use case `uc` as `s`; `n` makes inputs unique between calls.
fn call(app: &mut App, s: &Session, uc: &UseCase, t: &Targets, n: usize) -> Result<(), AppError> {
    let res = |i: usize| t.residents[i % t.residents.len()].clone();
    let ok = |_: ()| ();
    match uc.name {
        "team.list" => app.team_list(s).map(|_| ()),
        "team.switch" => app.team_switch(s, "Riverside Living").map(|_| ()),
        "team.show" => app.team_show(s).map(|_| ()),
        "team.settings" => app.team_settings_update(s, None, None).map(|_| ()),
        "team.idle_lock" => app.idle_lock(s).map(|_| ()),
        "team.idle_lock.set" => app.set_idle_lock(s, 10).map(|_| ()),
        "team.members" => app.team_members(s).map(|_| ()),
        "site.list" => app.site_list(s).map(|_| ()),
        "site.show" => app.site_show(s, SITE).map(|_| ()),
        "site.mappings" => app.site_mappings(s, SITE).map(|_| ()),
        "site.today" => app.site_today(s, SITE).map(|_| ()),
        "site.overview" => app.site_overview(s).map(|_| ()),
        "site.settings" => app.site_settings(s, SITE).map(|_| ()),
        "site.settings.edit" => app.site_settings_update(s, SITE, &SiteSettingsPatch::default()).map(|_| ()),
        "resident.list" => app.resident_list(s, SITE, &ResidentFilter::default()).map(|_| ()),
        "resident.list_all" => app.resident_list_all(s, &ResidentFilter::default()).map(|_| ()),
        "resident.search" => app.resident_search(s, "a", 10).map(|_| ()),
        "resident.show" => app.resident_show(s, &res(1)).map(|_| ()),
        "resident.add" => {
            let input = ResidentInput {
                first_name: "Gate".into(),
                last_name: "Tester".into(),
                email: format!("new{n}@gate.test"),
                building: "Z".into(),
                floor: "9".into(),
                unit: "Z999".into(),
                start: "2026-12-01".into(),
                ..Default::default()
            };
            app.resident_add(s, SITE, &input).map(|_| ())
        }
        "resident.update" => app.resident_update(s, &res(2), &ResidentPatch::default()).map(|_| ()),
        "resident.suspend" => app.resident_set_status(s, &res(3), StatusChange::Disabled).map(|_| ()),
        "resident.unsuspend" => app.resident_set_status(s, &res(3), StatusChange::Active).map(|_| ()),
        "resident.terminate" => app.resident_terminate(s, &res(4)).map(|_| ()),
        "resident.purge" => app.resident_purge(s, &res(5 + n % 3)).map(|_| ()),
        "resident.invite" => app.resident_invite(s, &res(9)).map(|_| ()),
        "resident.psk_reset" => app.resident_psk_reset(s, &res(10)).map(|_| ()),
        "resident.reinstate" => app.resident_reinstate(s, &res(15)).map(|_| ()),
        "resident.undo" => app.resident_undo_entries(s, &[t.entry]).map(|_| ()),
        "resident.actions" => app.resident_actions(s, &res(16)).map(|_| ()),
        "resident.bulk" => app.bulk(s, BulkAction::ResendInvites, SITE, &[res(11)]).map(|_| ()),
        "resident.bulk_check" => app.bulk_check(s, BulkAction::Suspend, SITE, &[res(11)]).map(|_| ()),
        "resident.import" => app.import_preview(s, SITE, b"FirstName,LastName\n").map(|_| ()),
        "resident.export" => {
            let request = ExportRequest { site: Some(SITE.into()), ..Default::default() };
            app.export_residents(s, &request, &mut Vec::new()).map(|_| ())
        }
        "staff.list" => app.staff_list(s).map(|_| ()),
        "staff.add" => app.staff_add(s, &new_staff(&format!("added{n}@gate.test"))).map(|_| ()),
        "staff.update" => app.staff_update(s, STAFF.0, &StaffPatch::default()).map(|_| ()),
        "staff.remove" => app.staff_remove(s, &t.removable),
        "account.disable" => app.account_disable(s, &t.removable, false).map(|_| ()),
        "staff.reset_password" => app.staff_reset_password(s, &t.removable).map(|_| ()),
        "role.list" => app.role_list(s).map(|_| ()),
        "role.add" => {
            let role = NewRole {
                key: format!("r_{n}"),
                name: format!("Role {n}"),
                permissions: vec!["residents.view".into()],
                assignable: true,
                description: String::new(),
            };
            app.role_add(s, &role).map(|_| ())
        }
        "role.remove" => app.role_remove(s, &t.role).map(|_| ()),
        "job_function.list" => app.job_function_list(s).map(|_| ()),
        "job_function.add" => app.job_function_add(s, &format!("jf_{n}"), "Job", "staff_user", &[], false).map(|_| ()),
        "access.change" => app.access_change(s, STAFF.0, &AccessChange::default()).map(|_| ()),
        "owner.transfer" => app.owner_transfer(s, TEAM_ADMIN.0).map(|_| ()),
        "access.explain" => app.access_explain(s, None, "manage_residents", "team").map(|_| ()),
        "access.matrix" => app.access_matrix(s, None).map(|_| ()),
        "token.create" => app.token_create(s, &token_of(&format!("t{n}"), &[Permission::TeamView])).map(|_| ()),
        "token.list" => app.token_list(s).map(|_| ()),
        "token.revoke" => app.token_revoke(s, &t.token_prefix).map(|_| ()),
        "invite.create" => app.invite_create(s, &invitation_of(&format!("inv{n}@gate.test"), "staff_user")).map(|_| ()),
        "invite.list" => app.invite_list(s).map(|_| ()),
        "invite.resend" => app.invite_resend(s, t.invitation).map(|_| ()),
        "invite.withdraw" => app.invite_reject(s, t.invitation).map(|_| ()),
        "sync.run" => {
            // A closed port: the gate answers before any network; past it the pass is offline.
            let remote =
                HttpRemote::new("http://127.0.0.1:9/v2", Credentials { email: "x@y.z".into(), password: "p".into() })
                    .unwrap();
            let mut opts = SyncOptions::fast();
            opts.reach_attempts = 1;
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(sync_pass(app, s, &remote, &opts, None)).map(|_| ())
        }
        "sync.status" => app.sync_status(s).map(|_| ()),
        "sync.config" => app.sync_config(s).map(|_| ()),
        "sync.configure" => app.sync_configure(s, None, None, None).map(|_| ()),
        "outbox.list" => app.outbox_list(s, false, 10).map(|_| ()),
        "outbox.retry" => app.outbox_retry(s, t.entry).map(|_| ()),
        "outbox.discard" => app.outbox_discard(s, t.entry).map(|_| ()),
        "conflict.list" => app.conflict_list(s, false).map(|_| ()),
        "conflict.resolve" => app.conflict_resolve(s, t.conflict, &Resolution::default()).map(|_| ()),
        "remote.check" => {
            // In memory there are no stored credentials: past the gate the check says so.
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(app.remote_check(s)).map(|_| ())
        }
        "remote.teams" | "remote.link" => {
            // In memory there are no stored credentials: past the gate the call says so.
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            if uc.name == "remote.teams" {
                rt.block_on(app.remote_teams(s)).map(|_| ())
            } else {
                rt.block_on(app.remote_link(s, "T1")).map(|_| ())
            }
        }
        "view.list" => app.view_list(s, None).map(|_| ()),
        "view.save" => app
            .view_save(
                s,
                &residentdesk::app::views::NewView {
                    screen: "residents".into(),
                    name: Some(format!("gate {n}")),
                    ..Default::default()
                },
            )
            .map(|_| ()),
        "view.delete" => app.view_delete(s, 999_999).map(|_| ()),
        "audit.list" => app.audit_list(s, None, 10).map(|_| ()),
        "audit.export" => app.audit_export_csv(s, None).map(|_| ()),
        "audit.verify" => app.audit_verify(s).map(|_| ()),
        "audit.retention" => app.audit_retention_set(s, 2562).map(|_| ()),
        "demo.portfolio" => app.demo_portfolio(s).map(|_| ()),
        "demo.grow_site" => app.demo_grow_site(s, 1).map(|_| ()),
        // In memory: past the gate, a backup without a file and a restore say so.
        "backup.create" => app.backup_create(s, None).map(|_| ()),
        "backup.list" => app.backup_list(s).map(|_| ()),
        "backup.settings" => app.backup_settings(s, 14).map(|_| ()),
        "backup.restore" => {
            // The owner only: after `owner.transfer` above, the owner is the Team administrator.
            let person = s.token.is_none() && !app.refresh(s).is_ok_and(|f| f.actor.is_owner);
            let s = if person { app.sign_in(TEAM_ADMIN.0, TEAM_ADMIN.1)? } else { s.clone() };
            app.restore(&s, std::path::Path::new("/nonexistent/backup.db")).map(|_| ())
        }
        "db.encrypt" | "db.rekey" => {
            // The owner only, as backup.restore (the in-memory app has no file: past the
            // gate, both say so).
            let person = s.token.is_none() && !app.refresh(s).is_ok_and(|f| f.actor.is_owner);
            let s = if person { app.sign_in(TEAM_ADMIN.0, TEAM_ADMIN.1)? } else { s.clone() };
            let new = residentdesk::app::encryption::NewKey::Passphrase("gate passphrase".into());
            if uc.name == "db.encrypt" {
                app.db_encrypt(&s, &new).map(|_| ())
            } else {
                app.db_rekey(&s, &new).map(|_| ())
            }
        }
        other => panic!("use case {other} has no call in this test: add one"),
    }
    .map(ok)
}

fn denied(r: &Result<(), AppError>) -> bool {
    matches!(r, Err(e) if e.code == ErrorCode::PermissionDenied)
}

fn denials_of(app: &App, action: &str) -> usize {
    store::audit::list(app.conn(), None, None, 1_000_000)
        .unwrap()
        .iter()
        .filter(|e| e.action == action && e.outcome == "denied")
        .count()
}

/// Every use case × every permission: a token holding everything but the use case's
/// permission is refused at the gate, and the refusal is audited under the use case's name; a
/// token holding everything passes the gate (whatever the use case then says). Use cases for
/// people only refuse every token and let the owner through.
#[test]
fn every_use_case_is_decided_by_its_declared_permission() {
    let (mut app, _) = demo_app(400);
    let owner = sign_in(&mut app, OWNER);
    let t = targets(&mut app, &owner);
    let mut n = 0;
    let mut token = |app: &mut App, perms: &[Permission]| {
        n += 1;
        let created = app.token_create(&owner, &token_of(&format!("gate{n}"), perms)).unwrap();
        app.sign_in_token(&created.token).unwrap()
    };
    let everything: Vec<Permission> = Permission::ALL.to_vec();
    let all_token = token(&mut app, &everything);
    let mut checked = 0;
    for (i, uc) in usecases::ALL.iter().enumerate() {
        match uc.runs {
            Runs::Anyone | Runs::System => continue,
            Runs::PeopleOnly => {
                let before = denials_of(&app, uc.name);
                let r = call(&mut app, &all_token, uc, &t, i);
                assert!(denied(&r), "{}: a token is refused whatever it holds: {r:?}", uc.name);
                assert_eq!(denials_of(&app, uc.name), before + 1, "{}: the refusal is audited", uc.name);
                let owner = app.refresh(&owner).unwrap();
                let r = call(&mut app, &owner, uc, &t, i + 1000);
                assert!(!denied(&r), "{}: the owner passes the gate: {r:?}", uc.name);
            }
            Runs::PeopleAndTokens => {
                let p = uc.permission.expect("declared");
                let without: Vec<Permission> = everything.iter().copied().filter(|q| *q != p).collect();
                let lacking = token(&mut app, &without);
                let before = denials_of(&app, uc.name);
                let r = call(&mut app, &lacking, uc, &t, i);
                let e = r.as_ref().expect_err(&format!("{}: a token without {p} is refused", uc.name));
                assert_eq!(e.code, ErrorCode::PermissionDenied, "{}: {e:?}", uc.name);
                assert_eq!(
                    e.details.as_ref().and_then(|d| d.permission.as_deref()),
                    Some(p.as_str()),
                    "{}: {e:?}",
                    uc.name
                );
                assert_eq!(denials_of(&app, uc.name), before + 1, "{}: the refusal is audited", uc.name);
                let r = call(&mut app, &all_token, uc, &t, i + 1000);
                assert!(!denied(&r), "{}: a token holding {p} passes the gate: {r:?}", uc.name);
            }
        }
        checked += 1;
    }
    assert!(checked >= 55, "{checked} use cases checked");
}

/// The idle lock (issue #15) is decided at the one gate: once a person's session has been
/// idle for its team's minutes, every use case it may run is refused as `unauthenticated`
/// with the reason `session_locked`; the person's password again opens it.
#[test]
fn an_idle_locked_session_is_refused_by_every_use_case() {
    let (mut app, clock) = demo_app(400);
    let owner = sign_in(&mut app, OWNER);
    let t = targets(&mut app, &owner);
    clock.advance(chrono::Duration::minutes(residentdesk::app::idle::DEFAULT_MINUTES.into()));
    let mut checked = 0;
    for (i, uc) in usecases::ALL.iter().enumerate() {
        if matches!(uc.runs, Runs::Anyone | Runs::System) {
            continue;
        }
        let e = call(&mut app, &owner, uc, &t, i).expect_err(&format!("{}: a locked session is refused", uc.name));
        assert_eq!(e.code, ErrorCode::Unauthenticated, "{}: {e:?}", uc.name);
        assert_eq!(e.reason(), Some(residentdesk::error::ErrorReason::SessionLocked), "{}: {e:?}", uc.name);
        checked += 1;
    }
    assert!(checked >= 55, "{checked} use cases checked");
    let again = sign_in(&mut app, OWNER);
    assert!(call(&mut app, &again, &usecases::TEAM_SHOW, &t, 0).is_ok(), "the password again opens the session");
    assert!(call(&mut app, &owner, &usecases::SITE_LIST, &t, 0).is_ok(), "the session is the person's, as it was");
}

/// The table is the whole API: every use case of the table is run by a function of the
/// core, every public function of the core that acts for a session passes the gate, and every
/// CLI arm and Tauri command reaches the core only through those functions.
#[test]
fn every_use_case_is_registered_and_every_edge_goes_through_the_gate() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    // Every file of app/, its folders included (`access/`, `csv/`), by its path under app/.
    let app_dir = root.join("src/app");
    let app_files: Vec<(String, String)> = walk(&app_dir)
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&app_dir).unwrap().to_string_lossy().replace('\\', "/");
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    assert!(app_files.iter().any(|(f, _)| f == "access/mod.rs"), "app/'s folders are read");
    let table = read("src/app/usecases.rs");
    // 1. Every declared use case is run somewhere in app/ (by its constant).
    let idents: Vec<&str> = table
        .lines()
        .filter_map(|l| l.trim().split_once(" = \"").map(|(id, _)| id))
        .filter(|id| id.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    assert_eq!(idents.len(), usecases::ALL.len(), "the table's constants were all found");
    for id in &idents {
        let used = app_files
            .iter()
            .filter(|(f, _)| f != "usecases.rs")
            .any(|(_, src)| src.contains(&format!("uc::{id}")) || src.contains(&format!("usecases::{id}")));
        assert!(used, "use case {id} is declared but no use case runs it");
    }
    // 2. Every public method of App passes the gate or delegates to one that does.
    let infrastructure = [
        "open",
        "open_in_memory",
        "settle",
        "now",
        "clock",
        "conn",
        "conn_mut",
        "refresh",
        "is_initialised",
        "is_demo",
        "sync_credentials",
        "is_encrypted",
        "use_case_gates",
        "job_function_assignment",
        // The idle lock's table of live sessions (memory only, no database): sharing it with
        // the sync worker's app, and signing out (src/app/idle.rs).
        "live_sessions",
        "share_live_sessions",
        "sign_out",
        // The gate itself (src/app/gate.rs).
        "write",
        "read",
        "ask",
        "write_public",
        "keep_checkpoint",
        "require",
        "commit",
        "audit",
    ];
    let gate_calls =
        ["self.read(", "self.write(", "self.write_public(", "self.ask(", "self.refresh(", "self.read_in_background("];
    // Every method of App (public or not) with its body, by name.
    let mut bodies: Vec<(String, String, bool, String)> = Vec::new();
    for (file, whole) in &app_files {
        // Only the `impl App` blocks (other types have methods too).
        let blocks: Vec<&str> =
            whole.split("\nimpl App {").skip(1).map(|b| b.split("\n}\n").next().unwrap_or("")).collect();
        let src = &blocks.join("\n");
        for (i, _) in src.match_indices("\n    ").filter(|(i, _)| {
            let rest = &src[i + 5..];
            rest.starts_with("pub fn ") || rest.starts_with("fn ") || rest.starts_with("pub(crate) fn ")
        }) {
            let rest = &src[i + 5..];
            let public = rest.starts_with("pub fn ");
            let after = rest.split_once("fn ").unwrap().1;
            let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let body = after.split("\n    }\n").next().unwrap_or("").to_string();
            if body.contains("self") {
                bodies.push((name, body, public, file.clone()));
            }
        }
    }
    // Gated: calls the gate, or delegates to a method that is gated.
    let mut gated: BTreeSet<String> = bodies
        .iter()
        .filter(|(_, body, _, _)| gate_calls.iter().any(|g| body.contains(g)))
        .map(|(n, ..)| n.clone())
        .collect();
    loop {
        let more: Vec<String> = bodies
            .iter()
            .filter(|(n, body, ..)| !gated.contains(n) && gated.iter().any(|g| body.contains(&format!("self.{g}("))))
            .map(|(n, ..)| n.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        gated.extend(more);
    }
    let mut methods = BTreeSet::new();
    for (name, _, public, file) in &bodies {
        if !*public || infrastructure.contains(&name.as_str()) {
            continue;
        }
        assert!(gated.contains(name), "App::{name} ({file}) reaches the database without passing the gate");
        methods.insert(name.clone());
    }
    assert!(methods.len() >= 60, "{} gated methods found", methods.len());
    // 3. The edges call only gated methods (or infrastructure) on the app.
    // The CLI (its main file and every file of its folder) and the Tauri commands.
    let mut edges: Vec<String> = vec!["src/bin/residentdesk.rs".into()];
    edges.extend(
        walk(&root.join("src/bin/residentdesk"))
            .into_iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/")),
    );
    assert!(edges.len() >= 6, "the CLI's files are read: {edges:?}");
    edges.extend([
        "src-tauri/src/commands.rs".into(),
        "src-tauri/src/lib.rs".into(),
        "src-tauri/src/maintenance.rs".into(),
    ]);
    for edge in &edges {
        let src = read(edge);
        for (i, _) in src.match_indices("app.") {
            let name: String = src[i + 4..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if name.is_empty() || !src[i + 4 + name.len()..].starts_with('(') {
                continue;
            }
            assert!(
                methods.contains(&name) || infrastructure.contains(&name.as_str()),
                "{edge} calls app.{name}, which is not a gated use case"
            );
            assert_ne!(name, "conn_mut", "{edge} writes around the gate");
        }
    }
    // 4. Transactions and SQL stay where the gate can see them.
    let allowed_tx = ["src/store/", "src/app/gate.rs", "src/sync/"];
    for entry in walk(&root.join("src")) {
        let rel = entry.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        let src = std::fs::read_to_string(&entry).unwrap();
        if !allowed_tx.iter().any(|a| rel.starts_with(a)) {
            for needle in
                ["Transaction::new", ".transaction()", "begin_immediate(", "conn_mut()", ".execute(", "pragma_update("]
            {
                assert!(!src.contains(needle), "{rel} uses {needle} outside the store, the gate and the sync executor");
            }
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// The docs carry the table as the code declares it.
#[test]
fn the_architecture_map_shows_the_use_case_table() {
    let doc =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ARCHITECTURE.md")).unwrap();
    assert!(
        doc.contains(&usecases::markdown_table()),
        "docs/ARCHITECTURE.md must contain the table of use cases exactly as \
         `residentdesk access use-cases --markdown` prints it"
    );
}

/// Attack 1: a Staff local-admin resends (or withdraws) a Team administrator's invitation to
/// get its fresh code. Refused: only someone who could have created it may touch it.
#[test]
fn a_local_admin_cannot_take_over_a_team_admins_invitation() {
    let mut w = Work::demo(0);
    let inv = w
        .run(Some(TEAM_ADMIN), &["invite", "create", "--email", "boss@attack.test", "--level", "team_admin"])
        .ok()
        .json();
    let id = inv["invitation"]["id"].as_i64().unwrap().to_string();
    // Past the 2-day wait, so only the grant check can refuse.
    w.now = (test_now() + chrono::Duration::days(3)).to_rfc3339();
    let r = w.run(Some(LOCAL_ADMIN), &["invite", "resend", &id]);
    r.fails(3);
    assert!(!r.stdout.contains("rdi_"), "no code leaks: {}", r.stdout);
    w.run(Some(LOCAL_ADMIN), &["invite", "reject", &id]).fails(3);
    // The Team administrator may.
    w.run(Some(TEAM_ADMIN), &["invite", "resend", &id]).ok();
    let audit = w.run(Some(TEAM_ADMIN), &["audit", "list", "--limit", "50"]).ok().json();
    let denied: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "denied" && e["actor"] == LOCAL_ADMIN.0)
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(denied.contains(&"invite.resend") && denied.contains(&"invite.withdraw"), "{denied:?}");
}

/// Attack 2: a token holding only `audit.view` reads nothing else and cannot sync.
#[test]
fn an_audit_view_token_reads_no_resident_staff_or_outbox_and_cannot_sync() {
    let w = Work::demo(200);
    let created = w.run(Some(TEAM_ADMIN), &["token", "create", "auditor", "--permission", "audit.view"]).ok().json();
    let secret = created["token"].as_str().unwrap().to_string();
    let as_token = |args: &[&str]| {
        let out = w.cli(true, None, args).env("RESIDENTDESK_TOKEN", &secret).output().unwrap();
        Run::from(out)
    };
    as_token(&["audit", "list"]).ok();
    for args in [
        &["resident", "search", "a"][..],
        &["resident", "list", "--site", SITE],
        &["resident", "list", "--all"],
        &["staff", "list"],
        &["outbox", "list"],
        &["conflict", "list"],
        &["sync", "status"],
        &["sync", "--remote", "http://127.0.0.1:9/v2"],
        &["export", "--team", "-o", "-"],
    ] {
        let r = as_token(args);
        r.fails(3);
        assert!(!r.stdout.contains("@residents.example"), "{args:?} leaked residents: {}", r.stdout);
        assert_eq!(r.error()["code"], "permission_denied", "{args:?}");
    }
}

/// Attack 3: disabling is per team. A local-admin of one team who disables a person there
/// does not lock them out of their other team; their session in the first team ends at its
/// next action; only the owner disables an account everywhere.
#[test]
fn disabling_applies_to_the_team_where_it_was_done() {
    let (mut app, _) = demo_app(0);
    let la = sign_in(&mut app, LOCAL_ADMIN);
    let staff = sign_in(&mut app, STAFF);
    let teams = app.team_list(&staff).unwrap();
    assert!(teams.len() >= 2, "the demo's staff user is in two teams: {teams:?}");
    let la_team = la.actor.team_id().unwrap();
    let staff_in_la_team = app.team_switch(&staff, &la_team.to_string()).unwrap();
    app.staff_update(&la, STAFF.0, &StaffPatch { disabled: Some(true), ..Default::default() }).unwrap();
    // The session in that team ends at its next action (as the desktop's would).
    let e = app.site_list(&staff_in_la_team).unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthenticated, "{e:?}");
    // Signing in again lands in the other team, which still works.
    let again = sign_in(&mut app, STAFF);
    assert_ne!(again.actor.team_id(), Some(la_team));
    app.site_list(&again).unwrap();
    // A local-admin cannot disable an account everywhere; the owner can, and tokens stop.
    assert_eq!(app.account_disable(&la, STAFF.0, true).unwrap_err().code, ErrorCode::PermissionDenied);
    let owner = sign_in(&mut app, OWNER);
    let mut mine = token_of("mine", &[Permission::SitesView]);
    mine.all_sites = false;
    let token = app.token_create(&again, &mine).unwrap();
    app.account_disable(&owner, STAFF.0, true).unwrap();
    assert_eq!(app.site_list(&again).unwrap_err().code, ErrorCode::Unauthenticated);
    assert_eq!(app.sign_in_token(&token.token).unwrap_err().code, ErrorCode::Unauthenticated);
    assert!(app.sign_in(STAFF.0, STAFF.1).is_err());
}

/// Attack 4: guessing an existing account's password through `invite accept` meets the
/// sign-in's lockout (and a disabled account cannot accept at all).
#[test]
fn invite_accept_obeys_the_lockout() {
    let (mut app, _) = demo_app(0);
    let admin = sign_in(&mut app, TEAM_ADMIN);
    // Someone of the other team, invited into the admin's team.
    let staff = sign_in(&mut app, STAFF);
    let other = app.team_list(&staff).unwrap().into_iter().find(|t| Some(t.id) != admin.actor.team_id()).map(|t| t.id);
    let _ = other;
    // An account that exists but is not in the team: create one in the other team first.
    let outsider = "outsider@gate.test";
    let owner = sign_in(&mut app, OWNER);
    let owner_other = app
        .team_list(&owner)
        .unwrap()
        .into_iter()
        .find(|t| Some(t.id) != admin.actor.team_id())
        .map(|t| app.team_switch(&owner, &t.id.to_string()).unwrap())
        .unwrap();
    let site = app.site_list(&owner_other).unwrap()[0].site.name.clone();
    let mut s = new_staff(outsider);
    s.sites = vec![site];
    app.staff_add(&owner_other, &s).unwrap();
    let inv = app.invite_create(&admin, &invitation_of(outsider, "staff_user")).unwrap();
    for _ in 0..residentdesk::app::auth::MAX_FAILURES {
        let e = app.invite_accept(&inv.token, "", "wrong-password-9").unwrap_err();
        assert_eq!(e.code, ErrorCode::Unauthenticated);
    }
    // Locked now: even the right password is refused, here and at sign-in.
    assert_eq!(app.invite_accept(&inv.token, "", "gate-password-1").unwrap_err().code, ErrorCode::Unauthenticated);
    assert!(app.sign_in(outsider, "gate-password-1").is_err());
    let fails = store::audit::list(app.conn(), None, None, 10_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "invite.accept" && e.actor == outsider && e.outcome != "ok")
        .count();
    assert_eq!(fails, 6, "every try is audited");
}

/// The CLI arguments that run use case `uc` (None: the use case has no CLI arm of its own).
fn cli_args(uc: &str, t: &Targets, file: &str, n: usize) -> Option<Vec<String>> {
    let res = |i: usize| t.residents[i % t.residents.len()].clone();
    let v = |items: &[&str]| Some(items.iter().map(|s| s.to_string()).collect::<Vec<String>>());
    match uc {
        "team.list" => v(&["team", "list"]),
        "team.show" => v(&["team", "show"]),
        "team.settings" => v(&["team", "settings", "--name", "Riverside Living"]),
        "team.idle_lock" => v(&["team", "idle-lock"]),
        "team.idle_lock.set" => v(&["team", "idle-lock", "--minutes", "10"]),
        "team.members" => v(&["team", "members"]),
        "site.list" => v(&["site", "list"]),
        "site.show" => v(&["site", "show", SITE]),
        "site.mappings" => v(&["site", "mappings", SITE]),
        "site.today" => v(&["site", "today", SITE]),
        "site.overview" => v(&["site", "overview"]),
        "site.settings" => v(&["site", "settings", SITE]),
        "site.settings.edit" => v(&["site", "settings", SITE, "--set", "notes=gate"]),
        "resident.list" => v(&["resident", "list", "--site", SITE]),
        "resident.list_all" => v(&["resident", "list", "--all"]),
        "resident.search" => v(&["resident", "search", "a"]),
        "resident.show" => v(&["resident", "show", &res(1)]),
        "resident.add" => v(&[
            "resident",
            "add",
            "--site",
            SITE,
            "--first",
            "Gate",
            "--last",
            "Cli",
            "--email",
            &format!("cli{n}@gate.test"),
            "--building",
            "Z",
            "--floor",
            "9",
            "--unit",
            "Z999",
            "--start",
            "2026-12-01",
        ]),
        "resident.update" => v(&["resident", "update", &res(2), "--first", "Gate"]),
        "resident.suspend" => v(&["resident", "suspend", &res(3)]),
        "resident.unsuspend" => v(&["resident", "unsuspend", &res(3)]),
        "resident.terminate" => v(&["resident", "terminate", &res(4)]),
        "resident.purge" => v(&["resident", "purge", &res(12 + n % 3)]),
        "resident.invite" => v(&["resident", "invite", &res(9)]),
        "resident.psk_reset" => v(&["resident", "psk-reset", &res(10)]),
        "resident.reinstate" => v(&["resident", "reinstate", &res(15)]),
        "resident.undo" => v(&["resident", "undo", &t.entry.to_string()]),
        "resident.actions" => v(&["resident", "actions", &res(16)]),
        "resident.bulk" => v(&["bulk", "resend-invites", "--site", SITE, "--ids", &res(11)]),
        "resident.bulk_check" => v(&["bulk", "suspend", "--site", SITE, "--ids", &res(11), "--dry-run"]),
        "resident.import" => v(&["import", file, "--site", SITE, "--dry-run"]),
        "resident.export" => v(&["export", "--site", SITE, "-o", "-"]),
        "staff.list" => v(&["staff", "list"]),
        "staff.add" => v(&[
            "staff",
            "add",
            "--email",
            &format!("cli{n}@gate.test"),
            "--name",
            "Cli",
            "--level",
            "staff_user",
            "--site",
            SITE,
        ]),
        "staff.update" => v(&["staff", "update", STAFF.0, "--name", "Staff User"]),
        "staff.remove" => v(&["staff", "remove", &t.removable]),
        "staff.reset_password" => v(&["staff", "reset-password", &t.removable]),
        "role.list" => v(&["role", "list"]),
        "role.add" => v(&["role", "add", &format!("cli_{n}"), "--name", "Cli role", "--permission", "residents.view"]),
        "role.remove" => v(&["role", "remove", &t.role]),
        "job_function.list" => v(&["role", "job-functions"]),
        "job_function.add" => {
            v(&["role", "add-job-function", &format!("cli_{n}"), "--name", "Cli", "--base", "staff_user"])
        }
        "access.change" => v(&["access", "set", STAFF.0]),
        "access.explain" => v(&["access", "explain", "manage_residents", "team"]),
        "access.matrix" => v(&["access", "matrix"]),
        "token.list" => v(&["token", "list"]),
        "token.revoke" => v(&["token", "revoke", &t.token_prefix]),
        "invite.create" => {
            v(&["invite", "create", "--email", &format!("cli{n}@gate.test"), "--level", "staff_user", "--site", SITE])
        }
        "invite.list" => v(&["invite", "list"]),
        "invite.resend" => v(&["invite", "resend", &t.invitation.to_string()]),
        "invite.withdraw" => v(&["invite", "reject", &t.invitation.to_string()]),
        "sync.run" => v(&["sync", "--remote", "http://127.0.0.1:9/v2", "--remote-user", "svc@gate.test"]),
        "sync.status" => v(&["sync", "status"]),
        "outbox.list" => v(&["outbox", "list"]),
        "outbox.retry" => v(&["outbox", "retry", &t.entry.to_string()]),
        "outbox.discard" => v(&["outbox", "discard", &t.entry.to_string()]),
        "conflict.list" => v(&["conflict", "list"]),
        "conflict.resolve" => v(&["conflict", "resolve", &t.conflict.to_string(), "--keep", "local"]),
        "remote.check" => {
            v(&["remote", "check", "--remote", "http://127.0.0.1:9/v2", "--remote-user", "svc@gate.test"])
        }
        "remote.teams" => {
            v(&["remote", "teams", "--remote", "http://127.0.0.1:9/v2", "--remote-user", "svc@gate.test"])
        }
        "remote.link" => {
            v(&["remote", "link", "T1", "--remote", "http://127.0.0.1:9/v2", "--remote-user", "svc@gate.test"])
        }
        "view.list" => v(&["views", "list"]),
        "view.save" => v(&["views", "save", "--screen", "residents", "--name", &format!("gate {n}")]),
        "view.delete" => v(&["views", "delete", "999999"]),
        "audit.list" => v(&["audit", "list"]),
        "audit.export" => v(&["audit", "export"]),
        "audit.verify" => v(&["audit", "verify"]),
        "audit.retention" => v(&["audit", "retention", "--days", "2562"]),
        "backup.create" => v(&["backup"]),
        "backup.list" => v(&["backup", "list"]),
        "backup.settings" => v(&["backup", "settings", "--keep", "14"]),
        // Shown and set through `sync` and the desktop's Settings, not a command of their own.
        "sync.config" | "sync.configure" => None,
        other => panic!("use case {other} has no CLI arguments in this test: add them"),
    }
}

/// The same exhaustive check through the built CLI: a token lacking the use case's
/// permission exits 3 with `permission_denied`, and a token holding everything does not.
#[test]
fn every_use_case_through_the_cli_exits_3_without_its_permission() {
    let w = Work::demo(400);
    let file = w.dir.path().join("rows.csv");
    std::fs::write(&file, "FirstName,LastName\n").unwrap();
    let file = file.to_string_lossy().into_owned();
    let (t, secrets) = {
        let mut app = App::open(&w.db(), std::sync::Arc::new(residentdesk::FixedClock::new(test_now()))).unwrap();
        let owner = sign_in(&mut app, OWNER);
        let t = targets(&mut app, &owner);
        let mut secrets = std::collections::BTreeMap::new();
        let everything: Vec<Permission> = Permission::ALL.to_vec();
        for p in Permission::ALL {
            let without: Vec<Permission> = everything.iter().copied().filter(|q| *q != p).collect();
            let created = app.token_create(&owner, &token_of(&format!("no-{p}"), &without)).unwrap();
            secrets.insert(Some(p), created.token);
        }
        secrets.insert(None, app.token_create(&owner, &token_of("all", &everything)).unwrap().token);
        (t, secrets)
    };
    let run = |secret: &str, args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = w.cli(true, None, &args);
        cmd.env("RESIDENTDESK_TOKEN", secret)
            .env("RESIDENTDESK_REMOTE_PASSWORD", "gate")
            .env("RESIDENTDESK_NO_KEYRING", "1");
        Run::from(cmd.output().unwrap())
    };
    let mut checked = 0;
    for (i, uc) in usecases::ALL.iter().enumerate() {
        let (Runs::PeopleAndTokens, Some(p)) = (uc.runs, uc.permission) else { continue };
        let Some(args) = cli_args(uc.name, &t, &file, i) else { continue };
        let r = run(&secrets[&Some(p)], &args);
        assert_eq!(r.code, 3, "{}: {args:?} without {p}: {r:?}", uc.name);
        assert_eq!(r.error()["code"], "permission_denied", "{}", uc.name);
        let r = run(&secrets[&None], &cli_args(uc.name, &t, &file, i + 1000).unwrap());
        assert_ne!(r.code, 3, "{}: a token holding {p} passes the gate: {r:?}", uc.name);
        checked += 1;
    }
    assert!(checked >= 50, "{checked} use cases checked through the CLI");
}

mod escalation {
    //! Random sequences of the access-changing use cases by random actors (people and their
    //! tokens): invitations created, resent, withdrawn and accepted, tokens created, roles
    //! defined and removed, members disabled, enabled and removed, access changed, teams
    //! switched. Whatever succeeds never leaves anyone holding a permission, a base role or a
    //! site that the person who granted it did not hold at that moment.
    use super::*;
    use proptest::prelude::*;
    use residentdesk::access::roles::PermSet;

    const PEOPLE: [(&str, &str); 5] = [OWNER, TEAM_ADMIN, TEAM_USER, LOCAL_ADMIN, STAFF];
    const LEVELS: [&str; 4] = ["staff_user", "staff_local_admin", "team_user", "team_admin"];
    const ROLES: [&str; 3] = ["auditor", "sync_operator", "r_mixed"];
    const SITES: [&str; 2] = ["Maple Court", "Willow Park"];

    #[derive(Debug, Clone)]
    enum Step {
        Invite { who: usize, level: usize, role: Option<usize>, site: usize },
        Resend { who: usize },
        Withdraw { who: usize },
        Accept,
        Token { who: usize, perms: u32 },
        RoleAdd { who: usize, perms: u32 },
        RoleRemove { who: usize },
        Disable { who: usize, whom: usize, disabled: bool },
        Remove { who: usize, whom: usize },
        Change { who: usize, whom: usize, level: usize, role: Option<usize> },
        Switch { who: usize },
    }

    fn step() -> impl Strategy<Value = Step> {
        // Invitations weigh more: a leak there needs three steps in a row to show.
        prop_oneof![
            4 => (0..5usize, 0..4usize, proptest::option::of(0..3usize), 0..2usize)
                .prop_map(|(who, level, role, site)| Step::Invite { who, level, role, site }),
            4 => (0..5usize).prop_map(|who| Step::Resend { who }),
            1 => (0..5usize).prop_map(|who| Step::Withdraw { who }),
            4 => Just(Step::Accept),
            1 => (0..5usize, any::<u32>()).prop_map(|(who, perms)| Step::Token { who, perms }),
            1 => (0..5usize, any::<u32>()).prop_map(|(who, perms)| Step::RoleAdd { who, perms }),
            1 => (0..5usize).prop_map(|who| Step::RoleRemove { who }),
            1 => (0..5usize, 0..5usize, any::<bool>()).prop_map(|(who, whom, disabled)| Step::Disable {
                who,
                whom,
                disabled
            }),
            1 => (0..5usize, 0..5usize).prop_map(|(who, whom)| Step::Remove { who, whom }),
            1 => (0..5usize, 0..5usize, 0..4usize, proptest::option::of(0..3usize))
                .prop_map(|(who, whom, level, role)| Step::Change { who, whom, level, role }),
            1 => (0..5usize).prop_map(|who| Step::Switch { who }),
        ]
    }

    /// Whether an invitation gives only what `holder` holds (its base role, add-on roles'
    /// permissions and sites).
    fn invitation_within(app: &App, owner: &Session, holder: &Session, id: i64) -> bool {
        let owner = app.refresh(owner).unwrap();
        let Some(inv) = app.invite_list(&owner).unwrap().into_iter().map(|v| v.invitation).find(|i| i.id == id) else {
            return true;
        };
        let roles = app.role_list(&owner).unwrap();
        let addon_perms = inv
            .addons
            .iter()
            .filter_map(|k| roles.iter().find(|r| &r.role.key == k))
            .fold(PermSet::EMPTY, |acc, r| acc.union(r.role.permissions));
        inv.base <= holder.grants.base
            && addon_perms.is_subset(holder.grants.permissions)
            && inv.sites.is_within(&holder.grants.sites)
    }

    fn within(holder: &Session, given: &Session) -> bool {
        given.grants.permissions.is_subset(holder.grants.permissions)
            && given.grants.base <= holder.grants.base
            && given.grants.sites.is_within(&holder.grants.sites)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn no_sequence_of_use_cases_escalates(steps in proptest::collection::vec(step(), 1..14)) {
            let (mut app, clock) = demo_app(0);
            // Steps are days apart (the resend wait): a "minute" of the idle lock lasts a
            // month here, so every session — the owner's too, which only checks — stays live
            // through the longest sequence (13 steps, 39 days) and the steps test what they
            // are for.
            app.live_sessions().set_minute(chrono::Duration::days(30));
            let owner = sign_in(&mut app, OWNER);
            let mixed = NewRole {
                key: "r_mixed".into(),
                name: "Mixed".into(),
                permissions: vec!["audit.view".into(), "staff.add".into(), "sites.settings".into()],
                assignable: true,
                description: String::new(),
            };
            app.role_add(&owner, &mixed).unwrap();
            let mut sessions: Vec<Option<Session>> = PEOPLE.iter().map(|p| Some(sign_in(&mut app, *p))).collect();
            // The open invitation: its code and who created it (as they were then).
            let mut pending: Option<(String, i64, Session)> = None;
            let mut k = 0;
            for s in steps {
                k += 1;
                clock.advance(chrono::Duration::days(3));
                let actor = |sessions: &Vec<Option<Session>>, app: &App, who: usize| {
                    sessions[who].as_ref().and_then(|s| app.refresh(s).ok())
                };
                match s {
                    Step::Invite { who, level, role, site } => {
                        let Some(a) = actor(&sessions, &app, who) else { continue };
                        let new = NewInvitation {
                            email: format!("p{k}@esc.test"),
                            level: LEVELS[level].into(),
                            roles: role.map(|r| vec![ROLES[r].to_string()]).unwrap_or_default(),
                            sites: vec![SITES[site].into()],
                            ..Default::default()
                        };
                        if let Ok(c) = app.invite_create(&a, &new) {
                            pending = Some((c.token, c.invitation.id, a));
                        }
                    }
                    Step::Resend { who } => {
                        let (Some(a), Some((_, id, _))) = (actor(&sessions, &app, who), pending.clone()) else { continue };
                        if let Ok(c) = app.invite_resend(&a, id) {
                            prop_assert!(invitation_within(&app, &owner, &a, id), "{} resent an invitation beyond them", a.actor.email);
                            // Whoever resends could have created it: the code is theirs now.
                            pending = Some((c.token, id, a));
                        }
                    }
                    Step::Withdraw { who } => {
                        let (Some(a), Some((_, id, _))) = (actor(&sessions, &app, who), pending.clone()) else { continue };
                        let allowed = invitation_within(&app, &owner, &a, id);
                        if app.invite_reject(&a, id).is_ok() {
                            prop_assert!(allowed, "{} withdrew an invitation beyond them", a.actor.email);
                            pending = None;
                        }
                    }
                    Step::Accept => {
                        let Some((token, _, by)) = pending.take() else { continue };
                        if let Ok(invitee) = app.invite_accept(&token, "", "esc-password-1") {
                            prop_assert!(within(&by, &invitee), "an invitation gave {:?} beyond {}", invitee.grants, by.actor.email);
                        }
                    }
                    Step::Token { who, perms } => {
                        let Some(a) = actor(&sessions, &app, who) else { continue };
                        let asked: Vec<String> = PermSet::from_bits(perms).iter().map(|p| p.as_str().to_string()).collect();
                        let new = NewToken { name: format!("t{k}"), permissions: asked, all_sites: false, sites: vec![], expires_in_days: None };
                        if let Ok(c) = app.token_create(&a, &new) {
                            let t = app.sign_in_token(&c.token).unwrap();
                            prop_assert!(within(&a, &t), "a token got {:?} beyond {}", t.grants, a.actor.email);
                        }
                    }
                    Step::RoleAdd { who, perms } => {
                        let Some(a) = actor(&sessions, &app, who) else { continue };
                        let asked: Vec<String> = PermSet::from_bits(perms).iter().map(|p| p.as_str().to_string()).collect();
                        let role = NewRole { key: format!("r{k}"), name: format!("R{k}"), permissions: asked, assignable: true, description: String::new() };
                        if let Ok(r) = app.role_add(&a, &role) {
                            prop_assert!(r.permissions.is_subset(a.grants.permissions), "a role beyond its author");
                        }
                    }
                    Step::RoleRemove { who } => {
                        let Some(a) = actor(&sessions, &app, who) else { continue };
                        let _ = app.role_remove(&a, "r_mixed");
                    }
                    Step::Disable { who, whom, disabled } => {
                        let Some(a) = actor(&sessions, &app, who) else { continue };
                        let _ = app.staff_update(&a, PEOPLE[whom].0, &StaffPatch { disabled: Some(disabled), ..Default::default() });
                    }
                    Step::Remove { who, whom } => {
                        let Some(a) = actor(&sessions, &app, who) else { continue };
                        let _ = app.staff_remove(&a, PEOPLE[whom].0);
                    }
                    Step::Change { who, whom, level, role } => {
                        let Some(a) = actor(&sessions, &app, who) else { continue };
                        let change = AccessChange {
                            base: Some(LEVELS[level].into()),
                            add_roles: role.map(|r| vec![ROLES[r].to_string()]).unwrap_or_default(),
                            ..Default::default()
                        };
                        if app.access_change(&a, PEOPLE[whom].0, &change).is_ok() {
                            if let Some(target) = actor(&sessions, &app, whom).filter(|t| t.actor.team_id() == a.actor.team_id()) {
                                prop_assert!(within(&a, &target), "{} got beyond {}", PEOPLE[whom].0, a.actor.email);
                            }
                        }
                    }
                    Step::Switch { who } => {
                        let Some(a) = actor(&sessions, &app, who) else { continue };
                        // Someone removed from their last team has no team to list (denied).
                        let Ok(teams) = app.team_list(&a) else { continue };
                        let other = teams.into_iter().find(|t| !t.active);
                        if let Some(t) = other {
                            if let Ok(s) = app.team_switch(&a, &t.id.to_string()) {
                                sessions[who] = Some(s);
                            }
                        }
                    }
                }
                // Sessions whose access ended are signed in again (or stay out).
                for (i, s) in sessions.iter_mut().enumerate() {
                    let fresh = s.as_ref().and_then(|x| app.refresh(x).ok());
                    *s = fresh.or_else(|| app.sign_in(PEOPLE[i].0, PEOPLE[i].1).ok());
                }
                let o = sessions[0].clone().expect("the owner is never locked out");
                prop_assert!(o.actor.is_owner && o.grants.base == residentdesk::access::Level::TeamAdmin);
            }
        }
    }
}

/// The layers point one way: the store, the CSV format and the sync executor import nothing
/// from the app layer (the app composes them; they never call back up).
#[test]
fn store_csvio_and_sync_import_nothing_from_app() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["src/store", "src/csvio", "src/sync"] {
        for file in walk(&root.join(dir)) {
            let src = std::fs::read_to_string(&file).unwrap();
            for needle in ["crate::app", "super::super::app", "residentdesk::app"] {
                assert!(!src.contains(needle), "{} imports the app layer ({needle})", file.display());
            }
        }
    }
}
