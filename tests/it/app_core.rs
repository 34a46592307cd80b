//! The core through the app layer: atomicity of change + outbox + audit, the occupancy
//! property over random intervals, and the exhaustive access matrix over real use cases.

use crate::fixture::*;
use chrono::Duration;
use proptest::prelude::*;
use residentdesk::access::{Feature, Level};
use residentdesk::app::residents::ResidentFilter;
use residentdesk::app::{App, ResidentInput};
use residentdesk::domain::rules::Interval;
use residentdesk::domain::OutboxState;
use residentdesk::store;

fn input(email: &str, unit: &str, start: &str, end: Option<&str>) -> ResidentInput {
    ResidentInput {
        first_name: "Pat".into(),
        last_name: "Doe".into(),
        email: email.into(),
        phone: None,
        building: "C".into(),
        floor: "1".into(),
        unit: unit.into(),
        start: start.into(),
        end: end.map(String::from),
    }
}

fn counts(app: &App) -> (i64, i64, i64) {
    let c = app.conn();
    (
        store::residents::count(c).unwrap(),
        c.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0)).unwrap(),
        store::audit::count(c).unwrap(),
    )
}

#[test]
fn change_outbox_and_audit_commit_together() {
    let (mut app, _) = demo_app(0);
    let s = sign_in(&mut app, TEAM_ADMIN);
    let before = counts(&app);
    app.resident_add(&s, "Maple Court", &input("one@example.com", "C101", "2026-11-01", None)).unwrap();
    let after = counts(&app);
    assert_eq!((after.0 - before.0, after.1 - before.1, after.2 - before.2), (1, 1, 1));
    let entry = &store::outbox::list(app.conn(), &[OutboxState::Pending], 10).unwrap()[0];
    assert_eq!(entry.op, "create");
    assert_eq!(entry.payload["resident"]["Email"], "one@example.com");
    assert_eq!(entry.payload["resident"]["ActivationDateUTC"], "2026-11-01T05:00:00+00:00");

    // A failure while writing the outbox row rolls the resident back too.
    app.conn()
        .execute_batch(
            "CREATE TEMP TRIGGER fail_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    let err = app.resident_add(&s, "Maple Court", &input("two@example.com", "C102", "2026-11-01", None)).unwrap_err();
    assert!(err.message.contains("disk full"), "{err:?}");
    assert_eq!(counts(&app), after);
    assert!(store::residents::by_email(app.conn(), "two@example.com").unwrap().is_none());
    app.conn().execute_batch("DROP TRIGGER fail_outbox").unwrap();

    // A failure while writing the audit row rolls back the change and its outbox row.
    app.conn()
        .execute_batch(
            "CREATE TEMP TRIGGER fail_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit down'); END;",
        )
        .unwrap();
    app.resident_terminate(&s, "one@example.com").unwrap_err();
    assert_eq!(counts(&app), after);
    let one = store::residents::by_email(app.conn(), "one@example.com").unwrap().unwrap();
    assert_eq!(one.deactivation_utc, None, "the termination was rolled back");
    app.conn().execute_batch("DROP TRIGGER fail_audit").unwrap();
    app.resident_terminate(&s, "one@example.com").unwrap();
    let done = counts(&app);
    assert_eq!((done.1 - after.1, done.2 - after.2), (1, 1));
}

#[test]
fn a_denied_use_case_writes_only_its_audit_entry() {
    let (mut app, _) = demo_app(0);
    let s = sign_in(&mut app, STAFF);
    let before = counts(&app);
    let err = app.resident_add(&s, "Willow Park", &input("x@example.com", "C101", "2026-11-01", None)).unwrap_err();
    assert_eq!(err.code.exit_code(), 3, "another site of the team is not a Staff user's");
    let err = app.staff_list(&s).unwrap_err();
    assert_eq!(err.code.exit_code(), 3);
    let after = counts(&app);
    assert_eq!((after.0, after.1), (before.0, before.1));
    assert_eq!(after.2, before.2 + 2, "both denials were audited");
}

/// Every level × every use case backing a Table-1 feature × (own site, other site of the
/// team, site of another team).
#[test]
fn exhaustive_matrix_over_use_cases() {
    let (mut app, _) = demo_app(60);
    let who = [
        (Level::StaffUser, STAFF),
        (Level::StaffLocalAdmin, LOCAL_ADMIN),
        (Level::TeamUser, TEAM_USER),
        (Level::TeamAdmin, TEAM_ADMIN),
    ];
    // Own site: Maple Court (every demo account's first team site); other: Willow Park; foreign: Oak Row (Summit).
    for (level, account) in who {
        let s = sign_in(&mut app, account);
        assert_eq!(s.level(), Some(level));
        for (site, place) in [("Maple Court", "own"), ("Willow Park", "other"), ("Oak Row", "foreign")] {
            let member = place == "own" || (place == "other" && level == Level::StaffLocalAdmin);
            let sees = place != "foreign" && (level.is_team_level() || member);
            let expect = |feature: Feature| sees && residentdesk::access::level_allows(level, feature);
            let f = ResidentFilter { limit: Some(1), ..Default::default() };
            assert_eq!(
                app.resident_list(&s, site, &f).is_ok(),
                expect(Feature::ManageResidents),
                "{level:?} residents {place}"
            );
            assert_eq!(app.site_show(&s, site).is_ok(), expect(Feature::ViewIndividualSites), "{level:?} site {place}");
            assert_eq!(
                app.site_settings(&s, site).is_ok(),
                expect(Feature::ViewSiteSettings),
                "{level:?} settings {place}"
            );
            let edit = app.site_settings_update(&s, site, &Default::default());
            assert_eq!(edit.is_ok(), expect(Feature::EditSiteSettings), "{level:?} edit settings {place}");
            let new = residentdesk::app::staff::NewStaff {
                email: format!("n-{}-{place}@x.co", level.as_str()),
                display_name: "N".into(),
                level: "staff_user".into(),
                sites: vec![site.into()],
                password: "long-enough-pw".into(),
            };
            assert_eq!(
                app.staff_add(&s, &new).is_ok(),
                expect(Feature::ManageStaffUsers),
                "{level:?} manage staff {place}"
            );
        }
        // Team users see both Riverside sites; Staff users their member sites (the local-admin has both).
        let seen = app.site_list(&s).unwrap().len();
        let expected = if residentdesk::access::level_allows(level, Feature::ViewAllTeamSites) {
            2
        } else {
            s.actor.member_sites.len()
        };
        assert_eq!(seen, expected, "{level:?} all team sites");
        assert_eq!(seen == 2, level != Level::StaffUser);
        assert!(app.team_show(&s).is_ok(), "every level views team details");
        assert_eq!(app.team_members(&s).is_ok(), residentdesk::access::level_allows(level, Feature::ViewTeamMembers));
        assert_eq!(
            app.team_settings_update(&s, None, None).is_ok(),
            residentdesk::access::level_allows(level, Feature::EditTeamSettings)
        );
        let team_member = residentdesk::app::staff::NewStaff {
            email: format!("t-{}@x.co", level.as_str()),
            display_name: "T".into(),
            level: "team_user".into(),
            sites: vec![],
            password: "long-enough-pw".into(),
        };
        assert_eq!(
            app.staff_add(&s, &team_member).is_ok(),
            residentdesk::access::level_allows(level, Feature::EditTeamMembers)
        );
    }
}

#[test]
fn search_is_prefix_and_scoped() {
    let (mut app, _) = demo_app(600);
    let s = sign_in(&mut app, TEAM_ADMIN);
    let hits = app.resident_search(&s, "wil", 1000).unwrap();
    assert!(!hits.is_empty());
    for h in &hits {
        let r = &h.resident;
        assert!([&r.first_name, &r.last_name, &r.email, &r.unit].iter().any(|f| f.to_lowercase().starts_with("wil")));
        assert!(
            ["Maple Court", "Willow Park"].contains(&h.site_name.as_str()),
            "only the active team: {}",
            h.site_name
        );
    }
    let staff = sign_in(&mut app, STAFF);
    for h in app.resident_search(&staff, "a", 1000).unwrap() {
        assert_eq!(h.site_name, "Maple Court");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Whatever sequence of adds is tried on one unit, the accepted non-expired residents
    /// never overlap, and every refusal was because of a real overlap.
    #[test]
    fn occupancy_holds_over_random_intervals(spans in prop::collection::vec((0i64..120, prop::option::of(1i64..60)), 1..12)) {
        let (mut app, _) = demo_app(0);
        let s = sign_in(&mut app, TEAM_ADMIN);
        let base = test_now() - Duration::days(60);
        let mut accepted: Vec<Interval> = Vec::new();
        for (i, (start, len)) in spans.iter().enumerate() {
            let a = base + Duration::days(*start);
            let b = len.map(|l| a + Duration::days(l));
            let candidate = Interval::new(a, b).unwrap();
            let end_text = b.map(|b| b.to_rfc3339());
            let res = app.resident_add(&s, "Maple Court", &input(&format!("p{i}@example.com"), "C101", &a.to_rfc3339(), end_text.as_deref()));
            let live: Vec<&Interval> = accepted.iter().filter(|iv| iv.end.is_none_or(|e| e > test_now())).collect();
            let clashes = live.iter().any(|iv| iv.overlaps(&candidate));
            let self_expired = b.is_some_and(|b| b <= test_now());
            match res {
                Ok(_) => {
                    prop_assert!(self_expired || !clashes, "accepted an overlap");
                    accepted.push(candidate);
                }
                Err(e) => prop_assert!(clashes && !self_expired, "refused without an overlap: {e:?}"),
            }
        }
        let now = test_now();
        let live: Vec<&Interval> = accepted.iter().filter(|iv| iv.end.is_none_or(|e| e > now)).collect();
        for (i, x) in live.iter().enumerate() {
            for y in &live[i + 1..] {
                prop_assert!(!x.overlaps(y));
            }
        }
    }
}
