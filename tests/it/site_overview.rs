//! The Sites overview (`site.overview`, issue #16): its grouped counts agree with the residents
//! one by one (their derived status, their units against the site's mappings) and with the
//! outbox, follow a change at once, and cover only the sites a person can see.

use crate::fixture::*;
use residentdesk::app::overview::{ResidentsByStatus, SiteOverview};
use residentdesk::app::residents::ResidentFilter;
use residentdesk::domain::{StatusChange, StatusFlag};
use std::collections::{BTreeMap, BTreeSet};

/// The same numbers worked out resident by resident, from the views every screen shows.
fn expected(
    app: &residentdesk::App,
    s: &residentdesk::app::Session,
) -> BTreeMap<String, (ResidentsByStatus, i64, i64)> {
    let mut out = BTreeMap::new();
    for site in app.site_list(s).unwrap() {
        let mut by = ResidentsByStatus::default();
        let mut occupied = BTreeSet::new();
        let units: BTreeSet<(String, String, String)> = app
            .site_mappings(s, &site.site.id.to_string())
            .unwrap()
            .into_iter()
            .map(|m| (m.building, m.floor, m.unit))
            .collect();
        for r in app.resident_list(s, &site.site.id.to_string(), &ResidentFilter::default()).unwrap() {
            let f = r.status;
            if f.contains(StatusFlag::Expired) {
                by.expired += 1;
            } else if f.contains(StatusFlag::Scheduled) {
                by.scheduled += 1;
            } else if f.contains(StatusFlag::Suspended) {
                by.suspended += 1;
            } else if f.contains(StatusFlag::Pending) {
                by.pending += 1;
            } else {
                by.active += 1;
            }
            let unit = (r.resident.building.clone(), r.resident.floor.clone(), r.resident.unit.clone());
            if f.is_current() && units.contains(&unit) {
                occupied.insert(unit);
            }
        }
        out.insert(site.site.name.clone(), (by, units.len() as i64, occupied.len() as i64));
    }
    out
}

fn got(overview: &[SiteOverview]) -> BTreeMap<String, (ResidentsByStatus, i64, i64)> {
    overview.iter().map(|o| (o.name.clone(), (o.residents, o.units, o.units_occupied))).collect()
}

#[test]
fn the_overview_counts_what_the_residents_say_per_site() {
    let (mut app, _clock) = demo_app(600);
    let owner = sign_in(&mut app, OWNER);
    let overview = app.site_overview(&owner).unwrap();
    assert!(overview.len() > 1, "the demo has several sites: {overview:?}");
    assert_eq!(got(&overview), expected(&app, &owner));
    // The demo's statuses are varied enough that the bar has more than one part somewhere.
    let parts = |r: &ResidentsByStatus| {
        [r.active, r.pending, r.suspended, r.scheduled, r.expired].iter().filter(|n| **n > 0).count()
    };
    assert!(overview.iter().any(|o| parts(&o.residents) > 1), "{overview:?}");
    assert!(overview.iter().all(|o| o.units_occupied <= o.units), "{overview:?}");
    let total: i64 = overview.iter().map(|o| o.residents.total()).sum();
    assert_eq!(total, app.site_list(&owner).unwrap().iter().map(|s| s.residents).sum::<i64>());
    assert!(overview.iter().all(|o| o.pending == 0 && o.rejected == 0 && o.conflicts == 0 && o.last_pull_at.is_none()));

    // Suspending a current resident moves one count and leaves one change in that site's outbox.
    let site = overview.iter().find(|o| o.residents.active > 0).unwrap().clone();
    let r = app
        .resident_list(&owner, &site.site_id.to_string(), &ResidentFilter::default())
        .unwrap()
        .into_iter()
        .find(|r| r.status.is_current() && !r.status.is_suspended() && !r.status.is_pending())
        .unwrap();
    app.resident_set_status(&owner, &r.resident.id.to_string(), StatusChange::Disabled).unwrap();
    let after = app.site_overview(&owner).unwrap();
    let now = after.iter().find(|o| o.site_id == site.site_id).unwrap();
    assert_eq!(
        (now.residents.active, now.residents.suspended),
        (site.residents.active - 1, site.residents.suspended + 1)
    );
    assert_eq!(now.pending, 1, "the suspension waits in the outbox");
    assert!(after.iter().filter(|o| o.site_id != site.site_id).all(|o| o.pending == 0));
    assert_eq!(got(&after), expected(&app, &owner));
}

#[test]
fn the_overview_covers_only_the_sites_a_person_sees() {
    let (mut app, _clock) = demo_app(200);
    let owner = sign_in(&mut app, OWNER);
    let all: BTreeSet<String> = app.site_overview(&owner).unwrap().into_iter().map(|o| o.name).collect();
    let staff = sign_in(&mut app, STAFF);
    let theirs: BTreeSet<String> = app.site_overview(&staff).unwrap().into_iter().map(|o| o.name).collect();
    let listed: BTreeSet<String> = app.site_list(&staff).unwrap().into_iter().map(|s| s.site.name).collect();
    assert_eq!(theirs, listed, "the overview's sites are the site list's");
    assert!(!theirs.is_empty() && theirs.len() < all.len(), "staff see some sites, not all: {theirs:?} of {all:?}");
    assert_eq!(got(&app.site_overview(&staff).unwrap()), expected(&app, &staff));
}
