//! The core through the built CLI: every resident rule and every denial, with the exit
//! codes and JSON of CLI.md.

use crate::fixture::*;
use serde_json::Value;

fn add_args<'a>(site: &'a str, email: &'a str, unit: &'a str, start: &'a str, end: Option<&'a str>) -> Vec<&'a str> {
    let mut v = vec![
        "resident",
        "add",
        "--site",
        site,
        "--first",
        "Chris",
        "--last",
        "Wilson",
        "--email",
        email,
        "--building",
        "C",
        "--floor",
        "1",
        "--unit",
        unit,
        "--start",
        start,
    ];
    if let Some(e) = end {
        v.extend(["--end", e]);
    }
    v
}

fn status(v: &Value) -> Vec<String> {
    v["status"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

#[test]
fn init_creates_the_owner_once() {
    let w = Work::new();
    let r = w.run_with_stdin(
        None,
        &["init", "--admin-email", "Boss@Example.com", "--admin-password-stdin"],
        Some("a-long-password\n"),
    );
    r.ok();
    assert_eq!(r.json()["admin"], "boss@example.com");
    w.run_with_stdin(
        None,
        &["init", "--admin-email", "other@example.com", "--admin-password-stdin"],
        Some("a-long-password\n"),
    )
    .fails(4);
    let teams = w.run(Some(("boss@example.com", "a-long-password")), &["team", "list"]);
    assert_eq!(teams.ok().json()["teams"][0]["level"], "team_admin");
    // Too short a password, a bad email: invalid input naming the problem.
    let w2 = Work::new();
    let r = w2.run_with_stdin(None, &["init", "--admin-email", "x@y.co", "--admin-password-stdin"], Some("short\n"));
    assert!(r.fails(4).error()["message"].as_str().unwrap().contains("at least 10"));
    w2.run_with_stdin(
        None,
        &["init", "--admin-email", "not-an-email", "--admin-password-stdin"],
        Some("a-long-password\n"),
    )
    .fails(4);
}

#[test]
fn commands_need_an_actor_and_a_right_password() {
    let w = Work::demo(60);
    w.run(None, &["site", "list"]).fails(3);
    let r = w.run(Some((TEAM_ADMIN.0, "wrong-password")), &["site", "list"]);
    assert_eq!(r.fails(3).error()["code"], "unauthenticated");
    w.run(Some(TEAM_ADMIN), &["site", "list"]).ok();
}

#[test]
fn lockout_after_five_failures_for_fifteen_minutes() {
    let mut w = Work::demo(0);
    for _ in 0..5 {
        w.run(Some((STAFF.0, "nope-nope-nope")), &["site", "list"]).fails(3);
    }
    // The right password while locked: refused, with the lock's answer (until when, who can
    // help), the same for any email (the reason is in the audit log, checked below).
    let r = w.run(Some(STAFF), &["site", "list"]);
    assert_eq!(r.fails(3).error()["details"]["reason"], "sign_in_locked", "{}", r.stderr);
    assert!(r.error()["message"].as_str().unwrap().contains("blocked until"), "{}", r.stderr);
    w.now = (test_now() + chrono::Duration::minutes(16)).to_rfc3339();
    w.run(Some(STAFF), &["site", "list"]).ok();
    let audit = w.run(Some(TEAM_ADMIN), &["audit", "list", "--limit", "50"]);
    let entries = audit.ok().json()["entries"].as_array().unwrap().clone();
    let failed = entries.iter().filter(|e| e["action"] == "sign_in" && e["outcome"] == "failed").count();
    assert!(failed >= 5, "failed sign-ins are audited: {failed}");
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "sign_in" && e["outcome"] == "denied" && e["details"]["reason"] == "locked"),
        "the locked attempt is audited with its reason"
    );
}

#[test]
fn staff_users_see_only_their_sites() {
    let w = Work::demo(60);
    let sites = w.run(Some(STAFF), &["site", "list"]);
    let names: Vec<String> =
        sites.ok().json()["sites"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().into()).collect();
    assert_eq!(names, ["Maple Court"]);
    let admin_sites = w.run(Some(TEAM_ADMIN), &["site", "list"]).json()["sites"].as_array().unwrap().len();
    assert_eq!(admin_sites, 2, "team users see every site of the team");
    // Willow Park is in the team but not theirs; Oak Row belongs to another team.
    let r = w.run(Some(STAFF), &["resident", "list", "--site", "Willow Park"]);
    assert_eq!(r.fails(3).error()["message"], "denied: site Willow Park is not in your sites");
    let r = w.run(Some(STAFF), &["resident", "list", "--site", "Oak Row"]);
    assert_eq!(r.fails(5).error()["code"], "not_found", "another team's site does not exist for them");
    // Search never returns residents outside the scope.
    let found = w.run(Some(STAFF), &["resident", "search", "a", "--limit", "500"]).json();
    for r in found["residents"].as_array().unwrap() {
        assert_eq!(r["site_name"], "Maple Court");
    }
    assert!(!found["residents"].as_array().unwrap().is_empty());
}

#[test]
fn table_1_denials_with_reasons() {
    let w = Work::demo(0);
    let r = w.run(Some(STAFF), &["staff", "list"]);
    let err = r.fails(3).error();
    assert_eq!(err["code"], "permission_denied");
    assert!(err["message"].as_str().unwrap().contains("Staff users cannot manage staff users"), "{err}");
    w.run(Some(LOCAL_ADMIN), &["staff", "list"]).ok();
    w.run(Some(TEAM_USER), &["audit", "list"]).fails(3);
    w.run(Some(TEAM_USER), &["site", "settings", "Maple Court", "--name", "Renamed"]).fails(3);
    w.run(Some(TEAM_USER), &["site", "settings", "Maple Court"]).ok();
    w.run(Some(TEAM_ADMIN), &["site", "settings", "Maple Court", "--set", "notes=gate code 1234"]).ok();
    w.run(Some(TEAM_USER), &["team", "settings", "--name", "X"]).fails(3);
    w.run(Some(TEAM_USER), &["team", "members"]).fails(3);
    w.run(Some(STAFF), &["team", "show"]).ok();
    // A local-admin cannot create a Team administrator, nor a staff user at a site not theirs.
    let add = |level: &str, site: &str| {
        w.run(
            Some(LOCAL_ADMIN),
            &["staff", "add", "--email", "new@x.co", "--name", "New", "--level", level, "--site", site],
        )
    };
    add("team_admin", "Maple Court").fails(3);
    w.run(Some(LOCAL_ADMIN), &["staff", "add", "--email", "new@x.co", "--name", "New", "--level", "staff_user"])
        .fails(4);
    let r = add("staff_user", "Maple Court");
    assert!(r.ok().json()["generated_password"].as_str().unwrap().len() >= 10);
    // The denials were audited.
    let audit = w.run(Some(TEAM_ADMIN), &["audit", "list", "--limit", "100"]).json();
    assert!(audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["outcome"] == "denied" && e["action"] == "staff.list"));
}

#[test]
fn the_owner_cannot_be_demoted_or_removed() {
    let w = Work::demo(0);
    let r = w.run(Some(TEAM_ADMIN), &["staff", "update", OWNER.0, "--level", "team_user"]);
    assert!(r.fails(3).error()["message"].as_str().unwrap().contains("owner"));
    w.run(Some(TEAM_ADMIN), &["staff", "remove", OWNER.0]).fails(3);
    w.run(Some(TEAM_ADMIN), &["staff", "remove", LOCAL_ADMIN.0]).ok();
    // Still an account, but without a team nothing is visible.
    let err = w.run(Some(LOCAL_ADMIN), &["site", "list"]).fails(3).error();
    assert!(err["message"].as_str().unwrap().contains("not a member of any team"));
}

#[test]
fn adding_residents_checks_every_rule() {
    let w = Work::demo(60);
    let a = Some(TEAM_ADMIN);
    let r = w.run(a, &add_args("Maple Court", "New.Person@Example.com", "C105", "2026-11-01", None));
    let v = r.ok().json();
    assert_eq!(v["email"], "new.person@example.com", "emails are normalised");
    assert_eq!(status(&v), ["current", "pending"]);
    // Email unique across everything known.
    let err = w.run(a, &add_args("Willow Park", "new.person@example.com", "C105", "2026-11-01", None)).fails(4).error();
    assert_eq!(err["details"]["field"], "Email");
    // Not a mapping.
    let err = w.run(a, &add_args("Maple Court", "b@example.com", "Z999", "2026-11-01", None)).fails(4).error();
    assert_eq!(err["details"]["field"], "Unit");
    // One resident per unit per date.
    let err = w.run(a, &add_args("Maple Court", "c@example.com", "C105", "2027-01-01", None)).fails(4).error();
    assert!(err["message"].as_str().unwrap().contains("occupied"), "{err}");
    // End before start; bad dates; bad email.
    let err =
        w.run(a, &add_args("Maple Court", "d@example.com", "C106", "2027-01-10", Some("2027-01-01"))).fails(4).error();
    assert_eq!(err["details"]["field"], "DeactivationDateUTC");
    let err = w.run(a, &add_args("Maple Court", "d@example.com", "C106", "someday", None)).fails(4).error();
    assert_eq!(err["details"]["field"], "ActivationDateUTC");
    w.run(a, &add_args("Maple Court", "not-an-email", "C106", "2027-01-10", None)).fails(4);
    // Missing flags are a usage error; nothing written by any failure.
    w.run(a, &["resident", "add", "--site", "Maple Court", "--email", "e@example.com"]).fails(2);
    let list = w.run(a, &["resident", "list", "--site", "Maple Court", "--search", "c@"]).json();
    assert_eq!(list["count"], 0);
    // A scheduled resident after the current one's end is fine (boundary day does not overlap).
    w.run(a, &add_args("Maple Court", "f@example.com", "C106", "2026-12-01", Some("2027-01-01"))).ok();
    let v = w.run(a, &add_args("Maple Court", "g@example.com", "C106", "2027-01-01", None)).ok().json();
    assert_eq!(status(&v), ["scheduled"]);
}

#[test]
fn email_is_immutable_and_updates_recheck_rules() {
    let w = Work::demo(60);
    let a = Some(TEAM_ADMIN);
    w.run(a, &add_args("Maple Court", "imm@example.com", "C105", "2026-11-01", None)).ok();
    let err = w.run(a, &["resident", "update", "imm@example.com", "--email", "other@example.com"]).fails(4).error();
    assert_eq!(err["details"]["field"], "Email");
    w.run(a, &["resident", "update", "imm@example.com", "--email", "IMM@example.com", "--first", "Christine"]).ok();
    let v = w.run(a, &["resident", "show", "imm@example.com"]).json();
    assert_eq!(v["first_name"], "Christine");
    w.run(a, &["resident", "update", "imm@example.com", "--unit", "Q1"]).fails(4);
    w.run(a, &["resident", "update", "imm@example.com", "--first", "\u{7}bell"]).fails(4);
}

#[test]
fn lifecycle_suspend_terminate_purge_and_reactivate() {
    let mut w = Work::demo(60);
    let a = Some(TEAM_ADMIN);
    w.run(a, &add_args("Maple Court", "life@example.com", "C105", "2026-11-01", None)).ok();
    // Pending: suspend is a no-op, not an error.
    let r = w.run(a, &["resident", "suspend", "life@example.com"]).ok().json();
    assert_eq!(r["outcome"], "no_op");
    // An onboarded current resident from the demo can be suspended and unsuspended.
    let list = w.run(a, &["resident", "list", "--site", "Maple Court", "--status", "current"]).json();
    let onboarded = list["residents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| status(r) == ["current"])
        .expect("an onboarded current resident")["email"]
        .as_str()
        .unwrap()
        .to_string();
    let r = w.run(a, &["resident", "suspend", &onboarded]).ok().json();
    assert_eq!(r["outcome"], "done");
    assert_eq!(status(&r["resident"]), ["current", "suspended"]);
    assert_eq!(w.run(a, &["resident", "suspend", &onboarded]).json()["outcome"], "no_op");
    assert_eq!(status(&w.run(a, &["resident", "unsuspend", &onboarded]).ok().json()["resident"]), ["current"]);
    // Invite: onboarded → Wi-Fi details; pending → invitation.
    assert!(w.run(a, &["resident", "invite", &onboarded]).ok().json()["message"].as_str().unwrap().contains("Wi-Fi"));
    assert!(w.run(a, &["resident", "invite", "life@example.com"]).ok().json()["message"]
        .as_str()
        .unwrap()
        .contains("invitation"));
    // Terminate: deactivation = yesterday in the site's zone (Chicago), expired at once.
    let r = w.run(a, &["resident", "terminate", "life@example.com"]).ok().json();
    assert_eq!(status(&r["resident"]), ["expired"]);
    assert_eq!(r["resident"]["deactivation_utc"], "2026-11-22T06:00:00Z");
    assert_eq!(w.run(a, &["resident", "terminate", "life@example.com"]).ok().json()["outcome"], "no_op");
    // An expired resident frees the unit, keeps the email, cannot be purged, cannot be re-added.
    w.run(a, &add_args("Maple Court", "next@example.com", "C105", "2026-11-23", None)).ok();
    w.run(a, &add_args("Maple Court", "life@example.com", "C106", "2026-11-23", None)).fails(4);
    let err = w.run(a, &["resident", "purge", "life@example.com"]).fails(4).error();
    assert!(err["message"].as_str().unwrap().contains("already ended"), "{err}");
    assert_eq!(err["details"]["rule"], "purge_expired", "{err}");
    // Reactivating by update needs a free unit: C105 is taken now, C106 is free.
    w.run(a, &["resident", "update", "life@example.com", "--end", ""]).fails(4);
    let v = w.run(a, &["resident", "update", "life@example.com", "--unit", "C106", "--end", ""]).ok().json();
    assert_eq!(status(&v), ["current", "pending"]);
    // Terminate + purge of a current resident removes it and releases the email.
    assert_eq!(w.run(a, &["resident", "purge", "life@example.com"]).ok().json()["outcome"], "done");
    w.run(a, &["resident", "show", "life@example.com"]).fails(5);
    w.run(a, &add_args("Maple Court", "life@example.com", "C106", "2026-11-23", None)).ok();
    // 31-day grace, counted from the deactivation instant (yesterday 00:00 site time): still
    // there 29 days later, purged automatically once 31 days have passed.
    w.run(a, &["resident", "terminate", "next@example.com"]).ok();
    w.now = (test_now() + chrono::Duration::days(29)).to_rfc3339();
    w.run(a, &["resident", "show", "next@example.com"]).ok();
    w.now = (test_now() + chrono::Duration::days(31)).to_rfc3339();
    w.run(a, &["resident", "show", "next@example.com"]).fails(5);
    // Every change queued for sync, in order (with those already settled: the first
    // life@example.com never left this desk, so its purge settled its entries at once).
    let outbox = w.run(a, &["outbox", "list", "--all"]).ok().json();
    let ops: Vec<&str> = outbox["entries"].as_array().unwrap().iter().map(|e| e["op"].as_str().unwrap()).collect();
    assert!(
        ops.starts_with(&[
            "create",
            "suspend",
            "unsuspend",
            "invite",
            "invite",
            "terminate",
            "create",
            "update",
            "purge",
            "create",
            "terminate"
        ]),
        "{ops:?}"
    );
}

#[test]
fn psk_reset_only_on_ppk_sites() {
    let w = Work::demo(60);
    let a = Some(OWNER);
    let maple = w.run(a, &["resident", "list", "--site", "Maple Court", "--status", "current", "--limit", "1"]).json();
    let email = maple["residents"][0]["email"].as_str().unwrap().to_string();
    w.run(a, &["resident", "psk-reset", &email]).ok();
    w.run(a, &["team", "switch", "harbor"]).ok();
    let cedar = w.run(a, &["resident", "list", "--site", "Cedar Lofts", "--status", "current", "--limit", "1"]).json();
    let email = cedar["residents"][0]["email"].as_str().unwrap().to_string();
    let err = w.run(a, &["resident", "psk-reset", &email]).fails(4).error();
    assert!(err["message"].as_str().unwrap().contains("PPK-C or PPK-D"), "{err}");
}

#[test]
fn team_switching_changes_what_is_seen() {
    let w = Work::demo(60);
    let a = Some(OWNER);
    let before = w.run(a, &["site", "list"]).json();
    let err = w.run(a, &["team", "switch", "i"]).fails(4).error();
    assert!(err["details"]["candidates"].as_array().unwrap().len() >= 2, "ambiguous names list candidates: {err}");
    w.run(a, &["team", "switch", "nowhere"]).fails(5);
    let r = w.run(a, &["team", "switch", "summit"]).ok().json();
    assert_eq!(r["active_team"]["name"], "Summit Communities");
    let after = w.run(a, &["site", "list"]).json();
    assert_ne!(before, after);
    // Riverside's sites are now out of reach.
    w.run(a, &["resident", "list", "--site", "Maple Court"]).fails(5);
    w.run(a, &["team", "switch", "Riverside Living"]).ok();
    w.run(a, &["resident", "list", "--site", "Maple Court", "--limit", "1"]).ok();
}

#[test]
fn bulk_actions_report_per_resident() {
    let w = Work::demo(200);
    let a = Some(TEAM_ADMIN);
    let everyone = w.run(a, &["resident", "list", "--site", "Maple Court"]).json()["count"].as_u64().unwrap() as usize;
    let r = w.run(a, &["bulk", "suspend", "--site", "Maple Court"]).ok().json();
    let success = r["success"].as_array().unwrap().len();
    let failed = r["failed"].as_array().unwrap().len();
    assert_eq!(success + failed, everyone);
    assert!(success > 0 && failed > 0, "some residents are not current non-pending: {r}");
    let suspended = w.run(a, &["resident", "list", "--site", "Maple Court", "--status", "suspended"]).json();
    assert!(suspended["count"].as_u64().unwrap() as usize >= success);
    w.run(a, &["bulk", "explode", "--site", "Maple Court"]).fails(2);
    w.run(Some(STAFF), &["bulk", "suspend", "--site", "Willow Park"]).fails(3);
    let one = w.run(a, &["resident", "list", "--site", "Maple Court", "--status", "suspended", "--limit", "1"]).json();
    let email = one["residents"][0]["email"].as_str().unwrap().to_string();
    let r = w.run(a, &["bulk", "unsuspend", "--site", "Maple Court", "--ids", &email]).ok().json();
    assert_eq!(r["success"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_flags_and_values_are_rejected_clearly() {
    let w = Work::demo(0);
    w.run(Some(TEAM_ADMIN), &["resident", "list", "--site", "Maple Court", "--status", "sleeping"]).fails(4);
    w.run(Some(TEAM_ADMIN), &["resident", "show", "nobody@example.com"]).fails(5);
    w.run(Some(TEAM_ADMIN), &["resident", "list", "--site", "Maple Court", "--limit", "many"]).fails(2);
    w.run(Some(TEAM_ADMIN), &["audit", "list", "--since", "yesterday-ish"]).fails(4);
    w.run(Some(TEAM_ADMIN), &["site", "settings", "Maple Court", "--time-zone", "Mars/Base"]).fails(4);
    w.run(Some(TEAM_ADMIN), &["site", "settings", "Maple Court", "--set", "novalue"]).fails(2);
    let mut bad_now = Work::demo(0);
    bad_now.now = "not a time".into();
    bad_now.run(Some(TEAM_ADMIN), &["site", "list"]).fails(2);
}
