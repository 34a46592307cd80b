//! Actions that fit the resident's state, Reinstate and Undo while unsent (issue #18),
//! through the app layer and the CLI.

use crate::fixture::*;
use residentdesk::access::roles::Permission;
use residentdesk::app::access::NewToken;
use residentdesk::app::residents::{ResidentInput, ResidentPatch};
use residentdesk::app::undo::UndoHandle;
use residentdesk::domain::actions::{NotNow, ResidentAction};
use residentdesk::domain::{BulkAction, OutboxState, RuleError, StatusChange};
use residentdesk::{store, App, AppError, ErrorCode};

const SITE: &str = "Maple Court";

fn input(email: &str, unit: &str, start: &str, end: Option<&str>) -> ResidentInput {
    ResidentInput {
        first_name: "Pat".into(),
        last_name: "Doe".into(),
        email: email.into(),
        phone: None,
        building: unit[..1].into(),
        floor: "1".into(),
        unit: unit.into(),
        start: start.into(),
        end: end.map(String::from),
    }
}

fn available(app: &App, s: &residentdesk::app::Session, who: &str) -> Vec<ResidentAction> {
    app.resident_actions(s, who).unwrap().actions.into_iter().filter(|a| a.available).map(|a| a.action).collect()
}

fn why(app: &App, s: &residentdesk::app::Session, who: &str, action: ResidentAction) -> Option<NotNow> {
    app.resident_actions(s, who).unwrap().actions.into_iter().find(|a| a.action == action).unwrap().why
}

fn rule(e: &AppError) -> Option<RuleError> {
    match e.details.as_deref().map(|d| &d.rule) {
        Some(residentdesk::error::BrokenRule::Rule(r)) => Some(r.clone()),
        _ => None,
    }
}

fn entry_state(app: &App, id: i64) -> String {
    store::outbox::get(app.conn(), id).unwrap().unwrap().state
}

#[test]
fn terminate_then_undo_gives_the_stay_back_and_sends_nothing() {
    let (mut app, _) = demo_app(0);
    let s = sign_in(&mut app, TEAM_ADMIN);
    let who = "undo@example.com";
    app.resident_add(&s, SITE, &input(who, "C101", "2026-11-01", Some("2027-06-30"))).unwrap();
    app.resident_update(&s, who, &ResidentPatch { first_name: Some("Paula".into()), ..Default::default() }).unwrap();
    let before = app.resident_show(&s, who).unwrap();
    use ResidentAction::*;
    assert!(available(&app, &s, who).contains(&Terminate));
    assert!(!available(&app, &s, who).contains(&Reinstate));

    let done = app.resident_terminate(&s, who).unwrap();
    let handle = done.undo.clone().expect("a terminate can be undone");
    let ended = done.resident.unwrap();
    assert!(ended.status.is_expired());
    // An ended resident is offered no Terminate or Suspend, but Reinstate.
    let now = available(&app, &s, who);
    assert!(!now.contains(&Terminate) && !now.contains(&Suspend), "{now:?}");
    assert!(now.contains(&Reinstate) && now.contains(&Edit), "{now:?}");
    assert_eq!(why(&app, &s, who, Terminate), Some(NotNow::Ended));

    let undone = app.resident_undo(&s, &handle).unwrap();
    assert_eq!(undone.undone, 1);
    let after = app.resident_show(&s, who).unwrap();
    assert_eq!(after.resident.deactivation_utc, before.resident.deactivation_utc, "the lease's end is back");
    assert!(after.status.is_current());
    assert_eq!(entry_state(&app, handle.entries[0]), "discarded");
    // Nothing about the termination is left to send; the create and the rename still are.
    let open: Vec<String> =
        store::outbox::pending_for_resident(app.conn(), after.resident.id).unwrap().into_iter().map(|e| e.op).collect();
    assert_eq!(open, ["create", "update"]);
    let audited = store::audit::list(app.conn(), None, None, 1000).unwrap();
    assert!(audited.iter().any(|e| e.action == "resident.undo" && e.outcome == "ok"));
    // A second undo is refused with its reason.
    let e = app.resident_undo(&s, &handle).unwrap_err();
    assert_eq!((e.code, rule(&e)), (ErrorCode::InvalidInput, Some(RuleError::AlreadyUndone)));
}

#[test]
fn undo_is_refused_once_sent_or_changed_since() {
    let (mut app, _) = demo_app(0);
    let s = sign_in(&mut app, TEAM_ADMIN);
    let who = "sent@example.com";
    app.resident_add(&s, SITE, &input(who, "C102", "2026-11-01", None)).unwrap();
    let done = app.resident_terminate(&s, who).unwrap();
    let handle = done.undo.unwrap();
    // A push took it and gave it back (a time-out): it may have reached Site Manager.
    app.conn()
        .execute("UPDATE outbox SET last_error = 'timed out; retry later' WHERE id = ?1", [handle.entries[0]])
        .unwrap();
    let e = app.resident_undo(&s, &handle).unwrap_err();
    assert!(matches!(rule(&e), Some(RuleError::UndoTooLate { .. })), "{e:?}");
    // The sync sent it: too late, and the error says what to do instead.
    app.conn().execute("UPDATE outbox SET state = 'done' WHERE id = ?1", [handle.entries[0]]).unwrap();
    let e = app.resident_undo(&s, &handle).unwrap_err();
    assert!(matches!(rule(&e), Some(RuleError::UndoTooLate { .. })), "{e:?}");
    assert!(e.message.contains("reinstate"), "{}", e.message);
    assert!(app.resident_show(&s, who).unwrap().status.is_expired(), "nothing changed");

    // A suspend followed by another change to the same resident cannot be undone alone.
    let other = "changed@example.com";
    app.resident_add(&s, SITE, &input(other, "C103", "2026-11-01", None)).unwrap();
    app.conn().execute("UPDATE residents SET onboarded_at = created_at WHERE email = ?1", [other]).unwrap();
    let suspended = app.resident_set_status(&s, other, StatusChange::Disabled).unwrap();
    app.resident_update(&s, other, &ResidentPatch { phone: Some("555 0100".into()), ..Default::default() }).unwrap();
    let e = app.resident_undo(&s, suspended.undo.as_ref().unwrap()).unwrap_err();
    assert_eq!(rule(&e), Some(RuleError::UndoChangedSince));
    assert!(app.resident_show(&s, other).unwrap().status.is_suspended());
}

#[test]
fn bulk_suspend_is_undone_as_a_whole() {
    let (mut app, _) = demo_app(0);
    let s = sign_in(&mut app, TEAM_ADMIN);
    let emails = ["b1@example.com", "b2@example.com", "b3@example.com"];
    for (i, e) in emails.iter().enumerate() {
        app.resident_add(&s, SITE, &input(e, &format!("B10{}", i + 1), "2026-11-01", None)).unwrap();
    }
    // Two are onboarded (suspend applies), one is not (ineligible, untouched).
    app.conn()
        .execute("UPDATE residents SET onboarded_at = created_at WHERE email IN (?1, ?2)", [emails[0], emails[1]])
        .unwrap();
    let ids: Vec<String> = emails.iter().map(|e| e.to_string()).collect();
    let report = app.bulk(&s, BulkAction::Suspend, SITE, &ids).unwrap();
    assert_eq!((report.success.len(), report.failed.len()), (2, 1));
    let handle = report.undo.clone().unwrap();
    assert_eq!(handle.entries.len(), 2);
    let undone = app.resident_undo(&s, &handle).unwrap();
    assert_eq!((undone.undone, undone.residents.len()), (2, 2));
    for e in emails {
        assert!(!app.resident_show(&s, e).unwrap().status.is_suspended(), "{e}");
    }
    // An undo aimed at another site's entries finds nothing there.
    let other_site = app.site_list(&s).unwrap().into_iter().find(|x| x.site.name != SITE).unwrap().site.id;
    let e = app.resident_undo(&s, &UndoHandle { site_id: other_site, entries: handle.entries.clone() }).unwrap_err();
    assert_eq!(rule(&e), Some(RuleError::NothingToUndo));
}

#[test]
fn reinstate_gives_access_back_when_the_unit_is_free() {
    let (mut app, _) = demo_app(0);
    let s = sign_in(&mut app, TEAM_ADMIN);
    let lease = "lease@example.com";
    app.resident_add(&s, SITE, &input(lease, "C101", "2026-11-01", Some("2027-06-30"))).unwrap();
    let end_before = app.resident_show(&s, lease).unwrap().resident.deactivation_utc;
    app.resident_terminate(&s, lease).unwrap();
    let e = app.resident_reinstate(&s, "nobody@example.com").unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    let back = app.resident_reinstate(&s, lease).unwrap();
    let r = back.resident.unwrap();
    assert!(r.status.is_current(), "{:?}", r.status);
    assert_eq!(r.resident.deactivation_utc, end_before, "a lease's end still ahead is kept");
    let last = store::outbox::pending_for_resident(app.conn(), r.resident.id).unwrap().pop().unwrap();
    assert_eq!(last.op, "update");
    assert_eq!(last.payload["changed"][0], "DeactivationDateUTC");
    assert_eq!(last.payload["resident"]["DeactivationDateUTC"], "2027-06-30T05:00:00+00:00");
    // Not ended any more: Reinstate is refused with its reason.
    let e = app.resident_reinstate(&s, lease).unwrap_err();
    assert_eq!(rule(&e), Some(RuleError::NotEnded));

    // Open-ended access when there was no end; refused when someone took the unit meanwhile.
    let gone = "gone@example.com";
    app.resident_add(&s, SITE, &input(gone, "C102", "2026-11-01", None)).unwrap();
    app.resident_terminate(&s, gone).unwrap();
    app.resident_add(&s, SITE, &input("next@example.com", "C102", "2026-11-23", None)).unwrap();
    let e = app.resident_reinstate(&s, gone).unwrap_err();
    assert!(matches!(rule(&e), Some(RuleError::UnitOccupied { .. })), "{e:?}");
    assert!(app.resident_show(&s, gone).unwrap().status.is_expired(), "nothing changed");
    app.resident_purge(&s, "next@example.com").unwrap();
    let back = app.resident_reinstate(&s, gone).unwrap().resident.unwrap();
    assert_eq!(back.resident.deactivation_utc, None);
    let audited = store::audit::list(app.conn(), None, None, 1000).unwrap();
    assert_eq!(audited.iter().filter(|e| e.action == "resident.reinstate" && e.outcome == "ok").count(), 2);
    let _ = OutboxState::Pending;
}

#[test]
fn actions_combine_the_role_with_the_state() {
    let (mut app, _) = demo_app(0);
    let owner = sign_in(&mut app, OWNER);
    let admin = sign_in(&mut app, TEAM_ADMIN);
    let who = "roles@example.com";
    app.resident_add(&admin, SITE, &input(who, "C101", "2026-11-01", None)).unwrap();
    let staff = sign_in(&mut app, STAFF);
    // The Staff user's site is not this one: the resident does not exist for them.
    if app.resident_show(&staff, who).is_ok() {
        assert!(available(&app, &staff, who).contains(&ResidentAction::Terminate));
    }
    // A token that may only look: every action says the role does not allow it.
    let token = app
        .token_create(
            &owner,
            &NewToken {
                name: "viewer".into(),
                permissions: vec![Permission::ResidentsView.as_str().into(), Permission::SitesView.as_str().into()],
                all_sites: true,
                sites: vec![],
                expires_in_days: None,
            },
        )
        .unwrap();
    let viewer = app.sign_in_token(&token.token).unwrap();
    let list = app.resident_actions(&viewer, who).unwrap().actions;
    assert!(list.iter().all(|a| !a.available), "{list:?}");
    let edit = list.iter().find(|a| a.action == ResidentAction::Edit).unwrap();
    assert_eq!(edit.why, Some(NotNow::NotPermitted));
    assert!(edit.worth_saying);
    // And the use cases agree: the viewer is refused.
    assert_eq!(app.resident_terminate(&viewer, who).unwrap_err().code, ErrorCode::PermissionDenied);
}

#[test]
fn cli_reinstate_undo_and_actions() {
    let w = Work::demo(0);
    let who = Some(TEAM_ADMIN);
    let args = [
        "resident",
        "add",
        "--site",
        SITE,
        "--first",
        "Cli",
        "--last",
        "Undo",
        "--email",
        "cli@example.com",
        "--building",
        "C",
        "--floor",
        "1",
        "--unit",
        "C101",
        "--start",
        "2026-11-01",
    ];
    w.run(who, &args).ok();
    let t = w.run(who, &["resident", "terminate", "cli@example.com"]);
    let id = t.ok().json()["undo"]["entries"][0].as_i64().unwrap().to_string();
    let human = Run::from(w.cli(false, who, &["resident", "actions", "cli@example.com"]).output().unwrap());
    assert!(human.stdout.contains("reinstate") && human.stdout.contains("access has ended"), "{}", human.stdout);
    let human = Run::from(w.cli(false, who, &["resident", "terminate", "cli@example.com"]).output().unwrap());
    assert!(!human.stdout.contains("resident undo"), "a no-op has nothing to undo: {}", human.stdout);
    let u = w.run(who, &["resident", "undo", &id]);
    assert_eq!(u.ok().json()["undone"], 1);
    let again = w.run(who, &["resident", "undo", &id]);
    again.fails(4);
    assert_eq!(again.error()["details"]["rule"], "already_undone");
    let human = Run::from(w.cli(false, who, &["resident", "terminate", "cli@example.com"]).output().unwrap());
    assert!(human.stdout.contains("residentdesk resident undo "), "{}", human.stdout);
    let r = w.run(who, &["resident", "reinstate", "cli@example.com"]);
    assert_eq!(r.ok().json()["said"]["said"], "reinstated");
}
