//! The idle lock (issue #15), decided in the core on the test clock: a session idle for its
//! team's minutes is refused (one_gate.rs checks every use case), activity extends it, the
//! setting's bounds and permission, the password again (right or wrong: the lockout rules
//! count it), and signing out during an export or an import.

use crate::fixture::{demo_app, sign_in, test_now, OWNER, STAFF, TEAM_ADMIN, TEAM_USER};
use chrono::Duration;
use residentdesk::app::csv::{ExportRequest, ImportOptions};
use residentdesk::app::idle::{LiveState, DEFAULT_MINUTES};
use residentdesk::app::Session;
use residentdesk::error::ErrorReason;
use residentdesk::store::{self, sites::Mapping};
use residentdesk::{App, AppError, ErrorCode, FixedClock};
use serde_json::json;
use std::sync::mpsc;
use std::sync::Arc;

fn minutes(m: u32) -> Duration {
    Duration::minutes(m.into())
}

#[track_caller]
fn assert_locked<T: std::fmt::Debug>(r: Result<T, AppError>) {
    let e = r.expect_err("the session is locked");
    assert_eq!(e.code, ErrorCode::Unauthenticated, "{e:?}");
    assert_eq!(e.reason(), Some(ErrorReason::SessionLocked), "{e:?}");
}

#[test]
fn every_use_case_run_is_activity_and_idleness_locks() {
    let (mut app, clock) = demo_app(20);
    let s = sign_in(&mut app, OWNER);
    // Nine minutes apart, three times: each call keeps the session live.
    for _ in 0..3 {
        clock.advance(minutes(DEFAULT_MINUTES - 1));
        app.team_show(&s).unwrap();
    }
    // The desktop's report of keys and pointer is activity too.
    clock.advance(minutes(DEFAULT_MINUTES - 1));
    let live = app.live_sessions();
    assert!(matches!(live.activity(s.actor.staff_id), Some(LiveState::Active { .. })));
    clock.advance(minutes(DEFAULT_MINUTES - 1));
    app.site_list(&s).unwrap();
    // Ten idle minutes: locked, whatever comes next, and it stays locked.
    clock.advance(minutes(DEFAULT_MINUTES));
    assert_eq!(live.state(s.actor.staff_id), Some(LiveState::Locked));
    assert_locked(app.team_show(&s));
    assert_eq!(live.activity(s.actor.staff_id), Some(LiveState::Locked), "activity does not open a locked session");
    assert_locked(app.site_list(&s));
    // Another person is not concerned.
    let other = sign_in(&mut app, TEAM_ADMIN);
    app.team_show(&other).unwrap();
}

#[test]
fn questions_and_background_ticks_are_not_activity() {
    let (mut app, clock) = demo_app(20);
    let s = sign_in(&mut app, OWNER);
    clock.advance(minutes(DEFAULT_MINUTES - 1));
    // What the desktop asks to enable its screens, and the sync worker's tick.
    app.use_case_gates(&s).unwrap();
    app.sync_gate(&s).unwrap();
    clock.advance(minutes(1));
    assert_locked(app.use_case_gates(&s));
    assert_locked(app.sync_gate(&s));
    assert_locked(app.team_list(&s));
}

#[test]
fn a_worker_app_sharing_the_live_sessions_is_locked_and_signed_out_with_the_desk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.db");
    let clock = Arc::new(FixedClock::new(test_now()));
    let mut desk = App::open(&path, clock.clone()).unwrap();
    desk.demo_seed(0, 7).unwrap();
    let s = sign_in(&mut desk, OWNER);
    let mut worker = App::open(&path, clock.clone()).unwrap();
    worker.share_live_sessions(desk.live_sessions());
    worker.sync_gate(&s).unwrap();
    clock.advance(minutes(DEFAULT_MINUTES));
    assert_locked(worker.sync_gate(&s));
    let s = sign_in(&mut desk, OWNER);
    worker.sync_gate(&s).unwrap();
    desk.sign_out(&s);
    let e = worker.sync_gate(&s).unwrap_err();
    assert_eq!((e.code, e.reason()), (ErrorCode::Unauthenticated, None), "signed out, not locked: {e:?}");
}

#[test]
fn the_setting_has_bounds_and_only_team_settings_may_shorten_it() {
    let (mut app, clock) = demo_app(20);
    let admin = sign_in(&mut app, TEAM_ADMIN);
    let shown = app.idle_lock(&admin).unwrap();
    assert_eq!((shown.minutes, shown.default_minutes, shown.max_minutes), (10, 10, 10));
    for bad in [0, 11, 60] {
        let e = app.set_idle_lock(&admin, bad).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{bad}: {e:?}");
        assert_eq!(e.details.as_ref().and_then(|d| d.field_name()), Some("idle_lock_minutes"), "{bad}");
        assert!(e.message.contains("1 to 10"), "{}", e.message);
    }
    // The generic team settings keep the same bounds.
    let mut generic = serde_json::Map::new();
    generic.insert("idle_lock_minutes".into(), json!("30"));
    assert_eq!(app.team_settings_update(&admin, None, Some(&generic)).unwrap_err().code, ErrorCode::InvalidInput);
    assert_eq!(app.idle_lock(&admin).unwrap().minutes, 10, "nothing changed");
    // A Team user or a Staff user sees it (team.view) but may not change it.
    let user = sign_in(&mut app, TEAM_USER);
    assert_eq!(app.idle_lock(&user).unwrap().minutes, 10);
    assert_eq!(app.set_idle_lock(&user, 5).unwrap_err().code, ErrorCode::PermissionDenied);
    let staff = sign_in(&mut app, STAFF);
    assert_eq!(app.idle_lock(&staff).unwrap().minutes, 10);
    assert_eq!(app.set_idle_lock(&staff, 5).unwrap_err().code, ErrorCode::PermissionDenied);
    // Shortened to 3: audited, and every session of the team locks after 3 idle minutes.
    assert_eq!(app.set_idle_lock(&admin, 3).unwrap().minutes, 3);
    let audit = app.audit_list(&admin, None, 5).unwrap();
    assert!(audit.iter().any(|a| a.action == "team.idle_lock.set" && a.outcome == "ok"), "{audit:?}");
    let user = sign_in(&mut app, TEAM_USER);
    clock.advance(minutes(2));
    app.team_show(&user).unwrap();
    clock.advance(minutes(3));
    assert_locked(app.team_show(&user));
    // The generic settings accept it within the bounds (as text from the CLI, stored as a number).
    let admin = sign_in(&mut app, TEAM_ADMIN);
    generic.insert("idle_lock_minutes".into(), json!("5"));
    let team = app.team_settings_update(&admin, None, Some(&generic)).unwrap();
    assert_eq!(team.settings["idle_lock_minutes"], json!(5));
    assert_eq!(app.idle_lock(&admin).unwrap().minutes, 5);
}

#[test]
fn the_password_again_unlocks_and_a_wrong_one_counts_toward_the_lockout() {
    let (mut app, clock) = demo_app(20);
    let s = sign_in(&mut app, OWNER);
    clock.advance(minutes(DEFAULT_MINUTES));
    assert_locked(app.team_show(&s));
    let failures = |app: &App| store::staff::by_email(app.conn(), OWNER.0).unwrap().unwrap().failed_attempts;
    let e = app.sign_in(OWNER.0, "not-the-password").unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthenticated);
    assert_eq!(failures(&app), 1, "a wrong password counts");
    assert_locked(app.team_show(&s));
    // The right one: the same person's session is live again (the screen beneath is kept by
    // the desktop; the core's session is the same person's).
    sign_in(&mut app, OWNER);
    assert_eq!(failures(&app), 0);
    app.team_show(&s).unwrap();
    // Locked again; five wrong passwords lock the account: the right one is refused too.
    clock.advance(minutes(DEFAULT_MINUTES));
    for _ in 0..5 {
        assert!(app.sign_in(OWNER.0, "not-the-password").is_err());
    }
    assert_eq!(app.sign_in(OWNER.0, OWNER.1).unwrap_err().code, ErrorCode::Unauthenticated);
    assert_locked(app.team_show(&s));
}

#[test]
fn another_person_may_sign_in_instead() {
    let (mut app, clock) = demo_app(20);
    let owner = sign_in(&mut app, OWNER);
    clock.advance(minutes(DEFAULT_MINUTES));
    let admin = sign_in(&mut app, TEAM_ADMIN);
    app.team_show(&admin).unwrap();
    assert_locked(app.team_show(&owner));
}

#[test]
fn signing_out_ends_the_session_at_once() {
    let (mut app, _) = demo_app(20);
    let s = sign_in(&mut app, OWNER);
    app.sign_out(&s);
    let e = app.team_show(&s).unwrap_err();
    assert_eq!((e.code, e.reason()), (ErrorCode::Unauthenticated, None), "{e:?}");
    assert!(e.message.contains("signed out"), "{}", e.message);
    let s = sign_in(&mut app, OWNER);
    app.team_show(&s).unwrap();
}

/// What the desktop does: the person signs out on another thread while the long use case
/// runs; the use case stops at its next progress tick.
fn sign_out_from_another_thread(app: &App, s: &Session) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (ticked, tick) = mpsc::channel::<()>();
    let live = app.live_sessions();
    let staff = s.actor.staff_id;
    let other = std::thread::spawn(move || {
        tick.recv().unwrap();
        live.end(staff);
    });
    (ticked, other)
}

#[test]
fn signing_out_during_an_export_stops_it() {
    let (mut app, _) = demo_app(2500);
    let s = sign_in(&mut app, OWNER);
    let request = ExportRequest::default();
    let mut all = Vec::new();
    let full = app.export_residents(&s, &request, &mut all).unwrap();
    assert!(full.rows > 1000, "{} rows", full.rows);
    let (ticked, other) = sign_out_from_another_thread(&app, &s);
    let mut out = Vec::new();
    let mut ticks = Vec::new();
    let result = app.export_residents_observed(&s, &request, &mut out, &mut |p| {
        ticks.push(p.done);
        if ticks.len() == 1 {
            ticked.send(()).unwrap();
            // The sign-out is done (on the other thread) before the next row.
            while !other.is_finished() {
                std::thread::yield_now();
            }
        }
    });
    other.join().unwrap();
    let e = result.unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthenticated, "{e:?}");
    assert_eq!(ticks[0], 1000);
    let rows = String::from_utf8(out).unwrap().lines().count();
    assert!(rows <= 1001, "stopped at the tick: {rows} lines written of {}", full.rows);
}

/// Adds a site with `units` units (A/1/U0001…) to the session's team.
fn big_site(app: &mut App, s: &Session, name: &str, units: usize) {
    let tx = app.conn_mut().transaction().unwrap();
    let id = store::sites::insert(&tx, s.actor.team_id().unwrap(), name, "PSK", "America/Chicago", None).unwrap();
    for u in 1..=units {
        let m = Mapping {
            building: "A".into(),
            floor: "1".into(),
            unit: format!("U{u:04}"),
            passphrase: None,
            ssid: None,
            vlan: None,
        };
        store::sites::insert_mapping(&tx, id, &m).unwrap();
    }
    tx.commit().unwrap();
}

#[test]
fn signing_out_during_an_import_writes_nothing() {
    // A database file: the import's row checker runs on its own thread there.
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("import.db"), Arc::new(FixedClock::new(test_now()))).unwrap();
    app.demo_seed(20, 7).unwrap();
    let s = sign_in(&mut app, TEAM_ADMIN);
    big_site(&mut app, &s, "Long Import", 1500);
    let mut text = String::from(
        "FirstName,LastName,Email,PhoneNumber,Building,Floor,Unit,ActivationDateUTC,DeactivationDateUTC\n",
    );
    for u in 1..=1500 {
        text.push_str(&format!("R{u},Lee,r{u}@long.test,,A,1,U{u:04},2026-01-01,\n"));
    }
    let count = |app: &App, sql: &str| app.conn().query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    let before = (
        count(&app, "SELECT count(*) FROM residents"),
        count(&app, "SELECT count(*) FROM outbox"),
        count(&app, "SELECT count(*) FROM audit"),
    );
    let (ticked, other) = sign_out_from_another_thread(&app, &s);
    let mut ticks = Vec::new();
    let options = ImportOptions { dry_run: false, valid_only: false };
    let result = app.import_residents(&s, "Long Import", text.as_bytes(), options, &mut |p| {
        ticks.push(p.rows);
        if ticks.len() == 1 {
            ticked.send(()).unwrap();
            while !other.is_finished() {
                std::thread::yield_now();
            }
        }
    });
    other.join().unwrap();
    let e = result.unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthenticated, "{e:?}");
    assert_eq!(ticks, [1000], "stopped at the first tick");
    let after = (
        count(&app, "SELECT count(*) FROM residents"),
        count(&app, "SELECT count(*) FROM outbox"),
        count(&app, "SELECT count(*) FROM audit"),
    );
    assert_eq!(before, after, "not one row, outbox entry or audit entry of the import was written");
    // The person signs in again and the same file imports whole.
    let s = sign_in(&mut app, TEAM_ADMIN);
    let report = app.import_residents(&s, "Long Import", text.as_bytes(), options, &mut |_| {}).unwrap();
    assert_eq!(report.imported, 1500);
}
