//! Password reset, offline (issue #18): a temporary password from someone who may manage the
//! member, shown once, valid 24 hours; the old password stops at once; signing in with the
//! temporary one requires a new password (the app, and the CLI through
//! RESIDENTDESK_NEW_PASSWORD or --new-password-stdin); an expired one names who can help; the
//! gate decides who may reset whom; everything audited.

use crate::fixture::*;
use residentdesk::error::ErrorReason;
use residentdesk::ErrorCode;
use std::io::Write;

const NEW: &str = "Chosen-By-Sam-2026";

#[test]
fn a_reset_gives_a_one_time_password_that_asks_for_a_new_one() {
    let (mut app, clock) = demo_app(5);
    let admin = sign_in(&mut app, TEAM_ADMIN);
    let temp = app.staff_reset_password(&admin, STAFF.0).unwrap();
    assert_eq!(temp.email, STAFF.0);
    assert_eq!(temp.expires_at, test_now() + chrono::Duration::hours(24));
    assert!(temp.password.len() >= 16 && temp.password != STAFF.1, "{temp:?}");

    // The old password stops working at once.
    let old = app.sign_in(STAFF.0, STAFF.1).unwrap_err();
    assert_eq!(old.code, ErrorCode::Unauthenticated);
    // The temporary one alone does not open a session.
    let alone = app.sign_in(STAFF.0, &temp.password).unwrap_err();
    assert_eq!(alone.reason(), Some(ErrorReason::PasswordChangeRequired), "{alone:?}");
    assert!(alone.message.contains("choose a new password"), "{alone:?}");
    // A new password too short, or the same as the temporary one: refused, nothing changed.
    assert!(app.sign_in_with_new_password(STAFF.0, &temp.password, Some("short")).is_err());
    assert!(app.sign_in_with_new_password(STAFF.0, &temp.password, Some(&temp.password)).is_err());
    // With a new password: signed in, and from now on only the new one works.
    let s = app.sign_in_with_new_password(STAFF.0, &temp.password, Some(NEW)).unwrap();
    assert_eq!(s.actor.email, STAFF.0);
    assert!(app.sign_in(STAFF.0, &temp.password).is_err(), "the temporary password works twice");
    app.sign_in(STAFF.0, NEW).unwrap();

    // Audited: who reset whom (never the password), and the change at sign-in.
    let owner = sign_in(&mut app, OWNER);
    let log = app.audit_list(&owner, None, 500).unwrap();
    let reset = log.iter().find(|a| a.action == "staff.reset_password").expect("the reset is audited");
    assert_eq!(reset.actor, TEAM_ADMIN.0);
    assert_eq!(reset.target.as_deref(), Some(STAFF.0));
    let everything = serde_json::to_string(&log).unwrap();
    assert!(!everything.contains(&temp.password), "the temporary password is in the audit log");
    let changed: i64 = app
        .conn()
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'sign_in' AND actor = ?1 AND details LIKE '%\"from_temporary\":true%'",
            [STAFF.0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(changed, 1, "the password change at sign-in is not audited once");
    drop(clock);
}

#[test]
fn an_expired_temporary_password_says_who_can_help_and_a_reset_lifts_a_lockout() {
    let (mut app, clock) = demo_app(5);
    for _ in 0..5 {
        let _ = app.sign_in(STAFF.0, "wrong password!");
    }
    assert!(app.sign_in(STAFF.0, STAFF.1).is_err(), "five failures lock the account");
    let admin = sign_in(&mut app, TEAM_ADMIN);
    let temp = app.staff_reset_password(&admin, STAFF.0).unwrap();
    // The lock is lifted: the temporary password reaches the new-password step.
    let e = app.sign_in(STAFF.0, &temp.password).unwrap_err();
    assert_eq!(e.reason(), Some(ErrorReason::PasswordChangeRequired), "{e:?}");

    clock.advance(chrono::Duration::hours(24) + chrono::Duration::minutes(1));
    let e = app.sign_in_with_new_password(STAFF.0, &temp.password, Some(NEW)).unwrap_err();
    assert_eq!(e.reason(), Some(ErrorReason::PasswordExpired), "{e:?}");
    assert!(e.message.contains("expired") && e.message.contains("Team administrator"), "{e:?}");
    assert!(app.sign_in(STAFF.0, NEW).is_err(), "an expired temporary password set a new one");
}

#[test]
fn the_gate_decides_who_may_reset_whom() {
    let (mut app, _clock) = demo_app(5);
    // A Staff user may not manage staff.
    let staff = sign_in(&mut app, STAFF);
    let e = app.staff_reset_password(&staff, LOCAL_ADMIN.0).unwrap_err();
    assert_eq!(e.code, ErrorCode::PermissionDenied, "{e:?}");
    // A Team administrator may not reset the owner's password (that would hand over the
    // ownership); the owner may.
    let admin = sign_in(&mut app, TEAM_ADMIN);
    let e = app.staff_reset_password(&admin, OWNER.0).unwrap_err();
    assert_eq!(e.code, ErrorCode::PermissionDenied, "{e:?}");
    assert!(e.message.contains("owner"), "{e:?}");
    app.sign_in(OWNER.0, OWNER.1).expect("a refused reset changed the owner's password");
    // A Staff local-admin may not reset a Team administrator (grant only what you hold).
    let local = sign_in(&mut app, LOCAL_ADMIN);
    let e = app.staff_reset_password(&local, TEAM_ADMIN.0).unwrap_err();
    assert_eq!(e.code, ErrorCode::PermissionDenied, "{e:?}");
    app.sign_in(TEAM_ADMIN.0, TEAM_ADMIN.1).expect("a refused reset changed the password");
}

#[test]
fn the_cli_resets_and_the_member_chooses_a_new_password() {
    let w = Work::demo(5);
    let r = w.run(Some(TEAM_ADMIN), &["staff", "reset-password", STAFF.0]);
    r.ok();
    let temp = r.json()["temporary_password"]["password"].as_str().unwrap().to_string();

    // Without a new password: refused, saying how to give one.
    let r = w.run(Some((STAFF.0, &temp)), &["site", "list"]);
    assert_ne!(r.code, 0, "{r:?}");
    let message = r.error()["message"].as_str().unwrap().to_string();
    assert!(message.contains("RESIDENTDESK_NEW_PASSWORD") && message.contains("--new-password-stdin"), "{message}");
    assert_eq!(r.error()["details"]["reason"], "password_change_required");

    // With --new-password-stdin (after the password on stdin): signed in, the command runs.
    let mut cmd = w.cli(true, None, &["--as", STAFF.0, "--password-stdin", "--new-password-stdin", "site", "list"]);
    cmd.env_remove("RESIDENTDESK_NEW_PASSWORD");
    cmd.stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    writeln!(child.stdin.take().unwrap(), "{temp}\n{NEW}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The new password works on its own; the temporary one no longer.
    w.run(Some((STAFF.0, NEW)), &["site", "list"]).ok();
    assert_ne!(w.run(Some((STAFF.0, &temp)), &["site", "list"]).code, 0);

    // Human output: the password once, and until when.
    let mut cmd = w.cli(false, Some(TEAM_ADMIN), &["staff", "reset-password", LOCAL_ADMIN.0]);
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("shown once") && text.contains("until 2026-11-24 15:00 UTC"), "{text}");
}
