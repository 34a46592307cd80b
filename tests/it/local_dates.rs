//! Local time (issue #16): a resident's dates are the site's calendar days, "today" is the
//! site's day on the app's clock, and status follows it, at sites west and east of UTC
//! around midnight UTC.

use crate::fixture::*;
use chrono::{TimeZone, Utc};
use residentdesk::app::org::SiteSettingsPatch;
use residentdesk::app::residents::ResidentInput;
use residentdesk::app::Session;
use residentdesk::App;

fn set_zone(app: &mut App, s: &Session, site: &str, zone: &str) {
    let patch = SiteSettingsPatch { time_zone: Some(zone.into()), ..Default::default() };
    app.site_settings_update(s, site, &patch).unwrap();
}

fn input(email: &str, unit: &str, start: &str) -> ResidentInput {
    ResidentInput {
        first_name: "Desk".into(),
        last_name: "Visitor".into(),
        email: email.into(),
        phone: None,
        building: "C".into(),
        floor: "1".into(),
        unit: unit.into(),
        start: start.into(),
        end: None,
    }
}

/// 01:00 UTC on Dec 1 = 17:00 on Nov 30 in Los Angeles, 10:00 on Dec 1 in Tokyo, 14:00 on
/// Dec 1 in Auckland: a resident added at the desk with the site's "today" starts today and
/// is current at each; the UTC date (what the form used to offer) would have been tomorrow
/// in Los Angeles, so that resident was scheduled.
#[test]
fn added_at_the_desk_in_the_evening_starts_today_west_and_east() {
    let (mut app, clock) = demo_app(0);
    clock.set(Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap());
    let s = sign_in(&mut app, OWNER);

    let cases = [
        ("Maple Court", "America/Los_Angeles", "2026-11-30", "17:00", "-08:00"),
        ("Willow Park", "Asia/Tokyo", "2026-12-01", "10:00", "+09:00"),
        ("Willow Park", "Pacific/Auckland", "2026-12-01", "14:00", "+13:00"),
    ];
    for (i, (site, zone, day, time, offset)) in cases.into_iter().enumerate() {
        set_zone(&mut app, &s, site, zone);
        let today = app.site_today(&s, site).unwrap();
        assert_eq!(
            (today.time_zone.as_str(), today.today.as_str(), today.time.as_str(), today.utc_offset.as_str()),
            (zone, day, time, offset),
            "{site}"
        );
        let added = app
            .resident_add(&s, site, &input(&format!("today{i}@example.com"), &format!("C10{}", i + 1), &today.today))
            .unwrap();
        assert!(added.status.is_current() && !added.status.is_scheduled(), "{site}: {}", added.status);
        assert_eq!((added.start_day.as_str(), added.start_time.as_deref()), (day, None), "{site}");
        assert_eq!(added.time_zone, zone);
        // Shown again the same way, in every listing.
        let shown = app.resident_show(&s, &added.resident.email).unwrap();
        assert_eq!((shown.start_day.as_str(), shown.status), (day, added.status), "{site}");
        let listed = app.resident_list(&s, site, &Default::default()).unwrap();
        let listed = listed.iter().find(|r| r.resident.id == added.resident.id).unwrap();
        assert_eq!(listed.start_day, day, "{site}");
        let found = app.resident_search(&s, &format!("today{i}@"), 5).unwrap();
        assert_eq!((found[0].start_day.as_str(), found[0].time_zone.as_str()), (day, zone), "{site}");
    }

    // The day after the site's today is scheduled everywhere; at Los Angeles that is the UTC
    // date, which is why the form's old default made evening residents "scheduled".
    let la_tomorrow =
        app.resident_add(&s, "Maple Court", &input("utc-date@example.com", "C102", "2026-12-01")).unwrap();
    assert!(la_tomorrow.status.is_scheduled(), "{}", la_tomorrow.status);
    // An instant with a time of day is shown in the site's zone, day and time.
    let with_time =
        app.resident_add(&s, "Willow Park", &input("timed@example.com", "C101", "2026-11-30T23:30:00+00:00")).unwrap();
    assert_eq!((with_time.start_day.as_str(), with_time.start_time.as_deref()), ("2026-12-01", Some("12:30")));
    assert!(with_time.status.is_current());

    // Terminating at the east site ends access on the site's yesterday: at 23:00 UTC on
    // Nov 30 it is already Dec 1 in Auckland, so the end is Nov 30 (the UTC date would say
    // Nov 29).
    clock.set(Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0).unwrap());
    let s = sign_in(&mut app, OWNER);
    app.resident_add(&s, "Willow Park", &input("long@example.com", "C104", "2026-11-01")).unwrap();
    let out = app.resident_terminate(&s, "long@example.com").unwrap();
    let after = out.resident.unwrap();
    assert!(after.status.is_expired());
    assert_eq!(after.end_day.as_deref(), Some("2026-11-30"), "the site's yesterday, not the UTC date's (Nov 29)");
}

/// The CLI shows the site's days: `site today` and the resident list and show at a site east
/// of UTC, whose days differ from the UTC dates of the stored instants.
#[test]
fn the_cli_shows_site_days() {
    let mut w = Work::demo(0);
    w.run(Some(OWNER), &["site", "settings", "Willow Park", "--time-zone", "Asia/Tokyo"]).ok();
    w.now = "2026-11-30T23:00:00Z".into();
    let today = w.run(Some(OWNER), &["site", "today", "Willow Park"]).ok().json();
    assert_eq!(today["today"], "2026-12-01");
    assert_eq!(today["time_zone"], "Asia/Tokyo");
    w.run(
        Some(OWNER),
        &[
            "resident",
            "add",
            "--site",
            "Willow Park",
            "--first",
            "Kei",
            "--last",
            "Sato",
            "--email",
            "kei@example.com",
            "--building",
            "C",
            "--floor",
            "1",
            "--unit",
            "C101",
            "--start",
            "2026-12-01",
        ],
    )
    .ok();
    let shown = w.run(Some(OWNER), &["resident", "show", "kei@example.com"]).ok().json();
    assert_eq!(shown["start_day"], "2026-12-01");
    assert_eq!(shown["activation_utc"], "2026-11-30T15:00:00Z", "stored as the UTC instant of Tokyo's midnight");
    assert_eq!(shown["status"], serde_json::json!(["current", "pending"]));

    let text = |args: &[&str]| {
        let out = w.cli(false, Some(OWNER), args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let list = text(&["resident", "list", "--site", "Willow Park"]);
    assert!(list.contains("2026-12-01") && !list.contains("2026-11-30"), "{list}");
    let show = text(&["resident", "show", "kei@example.com"]);
    assert!(show.contains("2026-12-01 → open-ended (site time, Asia/Tokyo)"), "{show}");
    let today = text(&["site", "today", "Willow Park"]);
    assert!(today.starts_with("2026-12-01 08:00 (Asia/Tokyo, JST UTC+09:00)"), "{today}");
}
