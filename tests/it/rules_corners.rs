//! Issue #13's corner cases through the built CLI, one table per rule: terminating a
//! resident whose access has not started, onboard-now, invite vs resend-invites on a
//! scheduled resident, `...UTC` CSV columns, back-dated stays and occupancy, and the
//! automatic purge decided by `rules::purge_due`. The same cases against the simulator are
//! in `rules_sim.rs`; the rules' own tables are next to them in `domain/`.

use crate::fixture::*;
use serde_json::Value;

const SITE: &str = "Maple Court"; // America/Chicago in the demo
const A: Option<(&str, &str)> = Some(TEAM_ADMIN);

fn add(w: &Work, email: &str, unit: &str, start: &str, end: Option<&str>) -> Value {
    let building = &unit[..1].replace(|c: char| c.is_ascii_digit(), "A");
    let mut args = vec![
        "resident",
        "add",
        "--site",
        SITE,
        "--first",
        "Pat",
        "--last",
        "Corner",
        "--email",
        email,
        "--building",
        building,
        "--floor",
        "1",
        "--unit",
        unit,
        "--start",
        start,
    ];
    if let Some(e) = end {
        args.extend(["--end", e]);
    }
    w.run(A, &args).ok().json()
}

fn show(w: &Work, email: &str) -> Value {
    w.run(A, &["resident", "show", email]).ok().json()
}

fn status(v: &Value) -> Vec<String> {
    v["status"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

fn bulk(w: &Work, action: &str, emails: &[&str]) -> Value {
    w.run(A, &["bulk", action, "--site", SITE, "--ids", &emails.join(",")]).ok().json()
}

/// Corner case 1: terminate stores end = start when the access has not started, and the
/// resident can still be renamed and reactivated afterwards.
#[test]
fn terminating_before_the_access_start_leaves_a_valid_empty_stay() {
    let w = Work::demo(0);
    // (email, unit, start, expected end): now is 2026-11-23 09:00 in Chicago.
    let cases = [
        ("sched@corner.test", "101", "2027-01-10", "2027-01-10T06:00:00Z"),
        ("morning@corner.test", "102", "2026-11-23T14:00:00Z", "2026-11-23T14:00:00Z"),
        ("current@corner.test", "103", "2026-01-01", "2026-11-22T06:00:00Z"),
    ];
    for (email, unit, start, end) in cases {
        add(&w, email, unit, start, None);
        let out = w.run(A, &["resident", "terminate", email]).ok().json();
        let r = &out["resident"];
        assert_eq!(status(r), ["expired"], "{email}");
        assert_eq!(r["deactivation_utc"], end, "{email}");
        assert!(r["deactivation_utc"].as_str() >= r["activation_utc"].as_str(), "{email}: never before the start");
        // Every later update passes the rules: a rename...
        let renamed = w.run(A, &["resident", "update", email, "--first", "Renamed"]).ok().json();
        assert_eq!((renamed["first_name"].as_str(), status(&renamed)), (Some("Renamed"), vec!["expired".into()]));
    }
    // The bulk terminate decides the same way.
    add(&w, "bulk@corner.test", "104", "2027-02-01", None);
    let report = bulk(&w, "terminate", &["bulk@corner.test"]);
    assert_eq!(report["success"].as_array().unwrap().len(), 1, "{report}");
    let r = show(&w, "bulk@corner.test");
    assert_eq!((status(&r), r["deactivation_utc"].clone()), (vec!["expired".into()], r["activation_utc"].clone()));
    // ...and a reactivation, which checks occupancy: the empty stay freed unit 101, and
    // someone else took it from January on.
    add(&w, "next@corner.test", "101", "2027-01-01", None);
    let err = w.run(A, &["resident", "update", "sched@corner.test", "--end", "2027-06-01"]).fails(4).error();
    assert!(err["message"].as_str().unwrap().contains("occupied"), "{err}");
    let back = w
        .run(
            A,
            &["resident", "update", "sched@corner.test", "--building", "B", "--unit", "B101", "--end", "2027-06-01"],
        )
        .ok()
        .json();
    assert_eq!(status(&back), ["scheduled"], "reactivated by update");
}

/// Corner case 2: after onboard-now the resident is current (access starts now), unless the
/// earlier start overlaps another stay of the unit.
#[test]
fn onboard_now_makes_the_resident_current_or_fails_on_occupancy() {
    let w = Work::demo(0);
    add(&w, "early@corner.test", "101", "2027-01-10", Some("2027-12-31"));
    add(&w, "leaving@corner.test", "102", "2026-01-01", Some("2026-12-31"));
    add(&w, "after@corner.test", "102", "2027-01-01", None);
    let current = add(&w, "now@corner.test", "103", "2026-11-01", None);
    assert_eq!(status(&current), ["current", "pending"]);
    let report = bulk(&w, "onboard-now", &["early@corner.test", "after@corner.test", "now@corner.test"]);
    let results: Vec<(String, String)> = ["success", "failed"]
        .iter()
        .flat_map(|k| report[k].as_array().unwrap().iter().map(move |i| (k.to_string(), i["email"].to_string())))
        .collect();
    assert_eq!(
        results,
        [
            ("success".into(), "\"early@corner.test\"".into()),
            ("failed".into(), "\"after@corner.test\"".into()),
            ("failed".into(), "\"now@corner.test\"".into())
        ],
        "{report}"
    );
    let early = show(&w, "early@corner.test");
    assert_eq!(status(&early), ["current", "pending"]);
    assert_eq!(early["activation_utc"], "2026-11-23T15:00:00Z", "access starts now");
    assert_eq!(early["deactivation_utc"], "2027-12-31T06:00:00Z", "the end stays");
    let failed = report["failed"].as_array().unwrap();
    assert!(failed[0]["result"].as_str().unwrap().contains("occupied"), "{report}");
    assert!(failed[1]["result"].as_str().unwrap().contains("scheduled"), "{report}");
    let after = show(&w, "after@corner.test");
    assert_eq!(
        (status(&after), after["activation_utc"].as_str()),
        (vec!["scheduled".into()], Some("2027-01-01T06:00:00Z"))
    );
}

/// Corner case 3: the single invite and the bulk resend-invites agree, status by status.
#[test]
fn invite_and_resend_invites_agree_on_every_status() {
    let w = Work::demo(0);
    add(&w, "sched@corner.test", "101", "2027-01-10", None);
    add(&w, "pending@corner.test", "102", "2026-11-01", None);
    add(&w, "expired@corner.test", "103", "2026-01-01", Some("2026-11-01")); // in its grace period
    for (email, sent) in [("sched@corner.test", false), ("pending@corner.test", true), ("expired@corner.test", false)] {
        let single = w.run(A, &["resident", "invite", email]);
        assert_eq!(single.code == 0, sent, "{email}: single invite\n{}", single.stderr);
        if email == "sched@corner.test" {
            let message = single.error()["message"].as_str().unwrap().to_string();
            assert!(message.contains("activation date") && message.contains("onboard-now"), "{message}");
        }
        let report = bulk(&w, "resend-invites", &[email]);
        assert_eq!(report["success"].as_array().unwrap().len() == 1, sent, "{email}: bulk\n{report}");
    }
}

/// Corner case 4: `ActivationDateUTC` without an offset is UTC (Excel's rewrite of an
/// export), `Access End` is site time, and the report says which reading was used.
#[test]
fn utc_named_csv_columns_are_read_as_utc() {
    let w = Work::demo(0);
    let file = w.dir.path().join("excel.csv");
    std::fs::write(
        &file,
        "FirstName,LastName,Email,Building,Floor,Unit,ActivationDateUTC,Access End\n\
         Ann,Lee,ann@csv.test,C,1,C101,2027-01-05 21:10:00,1/6/2028 9:00\n\
         Bo,Ray,bo@csv.test,C,1,C102,1/5/2027 21:10,\n",
    )
    .unwrap();
    let report = w.run(A, &["import", file.to_str().unwrap(), "--site", SITE]).ok().json();
    let dates: Vec<(String, String)> = report["file"]["dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["column"].as_str().unwrap().into(), d["meaning"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        dates,
        [("ActivationDateUTC".into(), "UTC".into()), ("Access End".into(), "site time (America/Chicago)".into())]
    );
    let ann = show(&w, "ann@csv.test");
    assert_eq!(ann["activation_utc"], "2027-01-05T21:10:00Z", "not 2027-01-06T03:10:00Z");
    assert_eq!(ann["deactivation_utc"], "2028-01-06T15:00:00Z", "9:00 in Chicago");
    assert_eq!(show(&w, "bo@csv.test")["activation_utc"], "2027-01-05T21:10:00Z", "Excel's own form");
}

/// Corner case 5: a back-dated stay that is already over frees the unit (the candidate's
/// half); an expired resident frees it for others (the other half); a live overlap does not.
#[test]
fn back_dated_stays_and_occupancy() {
    let w = Work::demo(0);
    add(&w, "long@corner.test", "C101", "2026-01-01", None);
    add(&w, "gone@corner.test", "C102", "2025-01-01", Some("2026-11-01")); // expired, not yet purged
    let cases = [
        ("past@corner.test", "C101", "2026-03-01", Some("2026-04-01"), true, "over at now: occupies nothing"),
        ("overlap@corner.test", "C101", "2026-12-01", None, false, "overlaps the current stay"),
        ("after@corner.test", "C102", "2026-03-01", None, true, "the other stay is expired"),
    ];
    for (email, unit, start, end, ok, name) in cases {
        let mut args = vec!["resident", "add", "--site", SITE, "--first", "P", "--last", "Q", "--email", email];
        args.extend(["--building", "C", "--floor", "1", "--unit", unit, "--start", start]);
        if let Some(e) = end {
            args.extend(["--end", e]);
        }
        let r = w.run(A, &args);
        assert_eq!(r.code == 0, ok, "{name}\n{}", r.stderr);
    }
    // The importer decides the same way (one row back-dated into the occupied unit).
    let file = w.dir.path().join("past.csv");
    std::fs::write(
        &file,
        "FirstName,LastName,Email,Building,Floor,Unit,ActivationDateUTC,DeactivationDateUTC\n\
         I,Past,ipast@corner.test,C,1,C101,2026-02-01T00:00:00+00:00,2026-02-15T00:00:00+00:00\n",
    )
    .unwrap();
    let report = w.run(A, &["import", file.to_str().unwrap(), "--site", SITE]).ok().json();
    assert_eq!(report["imported"], 1, "{report}");
}

/// Corner case 6: the automatic purge (after a sign-in) removes exactly the residents
/// `rules::purge_due` names: 31 days after the stored end, also for an empty stay.
#[test]
fn the_automatic_purge_follows_purge_due() {
    let mut w = Work::demo(0);
    add(&w, "gone@corner.test", "101", "2026-01-01", None);
    add(&w, "never@corner.test", "102", "2027-01-10", None);
    w.run(A, &["resident", "terminate", "gone@corner.test"]).ok(); // end 2026-11-22T06:00Z
    w.run(A, &["resident", "terminate", "never@corner.test"]).ok(); // end = start 2027-01-10T06:00Z
    let present = |w: &Work, email: &str| w.run(A, &["resident", "show", email]).code == 0;
    // (now, gone present, never present)
    let cases = [
        ("2026-12-23T05:59:00Z", true, true),
        ("2026-12-23T06:00:00Z", false, true),
        ("2027-02-10T05:59:00Z", false, true),
        ("2027-02-10T06:00:00Z", false, false),
    ];
    for (now, gone, never) in cases {
        w.now = now.into();
        assert_eq!((present(&w, "gone@corner.test"), present(&w, "never@corner.test")), (gone, never), "at {now}");
    }
}
