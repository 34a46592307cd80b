//! One main status with markers, the filters that match it, and the bulk preview (issue #18):
//! through the app layer, on the demo portfolio.

use crate::fixture::{demo_app, sign_in, TEAM_ADMIN};
use residentdesk::app::residents::ResidentFilter;
use residentdesk::app::ResidentPatch;
use residentdesk::domain::{BulkAction, MainStatus, Marker, SkipReason};
use std::collections::BTreeSet;

const SITE: &str = "Maple Court";

/// Every row carries the main status its flags decide; an offline edit marks its resident
/// (and only it) as waiting to sync; the not-onboarded carry the invitation marker; the
/// filters by main status and by marker keep exactly the matching rows.
#[test]
fn rows_carry_one_main_status_and_their_markers() {
    let (mut app, _) = demo_app(400);
    let s = sign_in(&mut app, TEAM_ADMIN);
    let all = app.resident_list(&s, SITE, &ResidentFilter::default()).unwrap();
    assert!(all.len() > 20, "a site with residents: {}", all.len());
    let mut seen = BTreeSet::new();
    for v in &all {
        assert_eq!(v.main_status, v.status.main(), "{}", v.resident.email);
        assert_eq!(v.markers.contains(&Marker::InvitationNotAccepted), v.status.is_pending(), "{}", v.resident.email);
        seen.insert(v.main_status);
    }
    assert!(seen.len() >= 3, "the demo has several main statuses: {seen:?}");
    let waiting_before: BTreeSet<i64> =
        all.iter().filter(|v| v.markers.contains(&Marker::WaitingToSync)).map(|v| v.resident.id).collect();

    let target = all
        .iter()
        .find(|v| v.main_status == MainStatus::Active && !waiting_before.contains(&v.resident.id))
        .expect("an active resident with nothing unsent");
    let patch = ResidentPatch { phone: Some("555-0142".into()), ..Default::default() };
    app.resident_update(&s, &target.resident.email, &patch).unwrap();

    let after = app.resident_list(&s, SITE, &ResidentFilter::default()).unwrap();
    let waiting_after: BTreeSet<i64> =
        after.iter().filter(|v| v.markers.contains(&Marker::WaitingToSync)).map(|v| v.resident.id).collect();
    let mut expected = waiting_before.clone();
    expected.insert(target.resident.id);
    assert_eq!(waiting_after, expected, "only the edited resident gained the marker");
    let shown = app.resident_show(&s, &target.resident.email).unwrap();
    assert!(shown.markers.contains(&Marker::WaitingToSync), "{:?}", shown.markers);
    let found = app.resident_search(&s, &target.resident.email, 5).unwrap();
    assert!(found[0].markers.contains(&Marker::WaitingToSync), "search carries the markers too");

    for main in MainStatus::ALL {
        let filter = ResidentFilter { main: vec![main], ..Default::default() };
        let got = app.resident_list(&s, SITE, &filter).unwrap();
        let want = after.iter().filter(|v| v.main_status == main).count();
        assert_eq!(got.len(), want, "{main}");
        assert!(got.iter().all(|v| v.main_status == main), "{main}");
    }
    let filter = ResidentFilter { markers: vec![Marker::WaitingToSync], ..Default::default() };
    let got: BTreeSet<i64> = app.resident_list(&s, SITE, &filter).unwrap().iter().map(|v| v.resident.id).collect();
    assert_eq!(got, expected);
    let filter = ResidentFilter { markers: vec![Marker::InvitationNotAccepted], ..Default::default() };
    let got = app.resident_list(&s, SITE, &filter).unwrap();
    assert_eq!(got.len(), after.iter().filter(|v| v.status.is_pending()).count());
}

/// The preview counts exactly what Apply then does: its eligible ids are the successes, its
/// skipped groups add up to the failures, grouped by reason.
#[test]
fn the_bulk_preview_says_what_apply_does() {
    let (mut app, _) = demo_app(400);
    let s = sign_in(&mut app, TEAM_ADMIN);
    let all = app.resident_list(&s, SITE, &ResidentFilter::default()).unwrap();
    let pick = |main: MainStatus, n: usize| {
        all.iter().filter(move |v| v.main_status == main && !v.status.is_pending()).take(n).map(|v| v.resident.id)
    };
    let chosen: Vec<i64> = pick(MainStatus::Active, 4)
        .chain(pick(MainStatus::Ended, 2))
        .chain(pick(MainStatus::Suspended, 1))
        .chain(pick(MainStatus::Scheduled, 1))
        .collect();
    let ids: Vec<String> = chosen.iter().map(i64::to_string).collect();
    let preview = app.bulk_check(&s, BulkAction::Suspend, SITE, &ids).unwrap();
    assert_eq!(preview.chosen, chosen.len());
    let active = pick(MainStatus::Active, 4).count();
    assert_eq!(preview.eligible, active);
    let reasons: Vec<(SkipReason, usize)> = preview.skipped.iter().map(|g| (g.reason, g.count)).collect();
    let count_of = |r: SkipReason| reasons.iter().find(|(x, _)| *x == r).map(|(_, c)| *c).unwrap_or(0);
    assert_eq!(count_of(SkipReason::AlreadyEnded), pick(MainStatus::Ended, 2).count(), "{reasons:?}");
    assert_eq!(count_of(SkipReason::AlreadySuspended), pick(MainStatus::Suspended, 1).count(), "{reasons:?}");
    assert_eq!(count_of(SkipReason::NotStarted), pick(MainStatus::Scheduled, 1).count(), "{reasons:?}");

    // The preview writes nothing: the same preview twice.
    assert_eq!(app.bulk_check(&s, BulkAction::Suspend, SITE, &ids).unwrap(), preview);

    let report = app.bulk(&s, BulkAction::Suspend, SITE, &ids).unwrap();
    let done: BTreeSet<i64> = report.success.iter().map(|i| i.resident_id).collect();
    assert_eq!(done, preview.eligible_ids.iter().copied().collect());
    assert_eq!(report.failed.len(), preview.skipped.iter().map(|g| g.count).sum::<usize>());
    assert_eq!(report.skipped, preview.skipped, "the result groups the skipped as the preview did");

    // Afterwards the same choice has nothing left to suspend.
    let again = app.bulk_check(&s, BulkAction::Suspend, SITE, &ids).unwrap();
    assert_eq!(again.eligible, 0);
}

/// The markers come from two grouped queries whatever the number of rows: a site of many
/// hundreds lists with its few unsent residents marked and no other.
#[test]
fn markers_on_a_large_site_mark_only_the_unsent() {
    let (mut app, _) = demo_app(3_000);
    let s = sign_in(&mut app, TEAM_ADMIN);
    let all = app.resident_list(&s, SITE, &ResidentFilter::default()).unwrap();
    assert!(all.len() >= 300, "{}", all.len());
    let before = all.iter().filter(|v| v.markers.contains(&Marker::WaitingToSync)).count();
    let active: Vec<String> = all
        .iter()
        .filter(|v| v.main_status == MainStatus::Active && !v.markers.contains(&Marker::WaitingToSync))
        .take(3)
        .map(|v| v.resident.email.clone())
        .collect();
    for email in &active {
        app.resident_terminate(&s, email).unwrap();
    }
    let after = app.resident_list(&s, SITE, &ResidentFilter::default()).unwrap();
    let marked: Vec<&str> = after
        .iter()
        .filter(|v| v.markers.contains(&Marker::WaitingToSync))
        .map(|v| v.resident.email.as_str())
        .collect();
    assert_eq!(marked.len(), before + 3);
    for email in &active {
        let v = after.iter().find(|v| &v.resident.email == email).unwrap();
        assert_eq!(v.main_status, MainStatus::Ended, "terminated → ended");
        assert!(marked.contains(&email.as_str()));
    }
}

/// The CLI: `resident list --status` takes main statuses and markers, and `bulk --dry-run`
/// answers the preview and changes nothing.
#[test]
fn cli_filters_by_main_status_and_previews_a_bulk_action() {
    use crate::fixture::Work;
    let w = Work::demo(60);
    let a = Some(TEAM_ADMIN);
    let active = w.run(a, &["resident", "list", "--site", SITE, "--status", "active"]).ok().json();
    let rows = active["residents"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["main_status"] == "active"), "{active}");
    let email = rows[3]["email"].as_str().unwrap();
    w.run(a, &["resident", "terminate", email]).ok();
    let ended = w.run(a, &["resident", "list", "--site", SITE, "--status", "ended"]).ok().json();
    let ended_rows = ended["residents"].as_array().unwrap();
    assert!(ended_rows.iter().any(|r| r["email"] == email), "terminated → ended: {ended}");
    assert!(ended_rows.iter().all(|r| r["main_status"] == "ended"));
    w.run(a, &["resident", "list", "--site", SITE, "--status", "gone"]).fails(4);

    let ids: Vec<String> = rows.iter().take(3).map(|r| r["id"].to_string()).collect();
    let ended_id = ended_rows.iter().find(|r| r["email"] == email).unwrap()["id"].to_string();
    let chosen = format!("{},{ended_id}", ids.join(","));
    let preview = w.run(a, &["bulk", "terminate", "--site", SITE, "--ids", &chosen, "--dry-run"]).ok().json();
    assert_eq!(preview["chosen"], 4, "{preview}");
    assert_eq!(preview["eligible"], 3, "{preview}");
    assert_eq!(preview["skipped"][0]["reason"], "already_ended", "{preview}");
    // Nothing changed: the same residents are still active (all but the one terminated).
    let again = w.run(a, &["resident", "list", "--site", SITE, "--status", "active"]).ok().json();
    assert_eq!(again["count"].as_u64().unwrap(), active["count"].as_u64().unwrap() - 1);
}
