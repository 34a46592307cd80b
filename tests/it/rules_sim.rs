//! Issue #13's corner cases against `sitemanager-sim` over HTTP: the local result and the
//! remote result agree, because both sides decide with the same rule of `domain/`
//! (terminate before the access start, onboard-now, invite on a scheduled resident,
//! back-dated stays and occupancy). Each case is done locally, synced, and compared with the
//! simulator's own data; where the local side refuses (so nothing is pushed), the same
//! request is sent to the simulator directly through the v2 client.

use crate::sync::{remote, start_sim, ADMIN};
use chrono::{DateTime, Duration, Utc};
use residentdesk::app::sync::sync_pass;
use residentdesk::app::{ResidentInput, ResidentPatch, Session};
use residentdesk::domain::wire::BulkActionBody;
use residentdesk::domain::{BulkAction, OutboxState, StatusFlags};
use residentdesk::store;
use residentdesk::sync::client::{HttpRemote, RemoteApi, RemoteError};
use residentdesk::sync::SyncOptions;
use residentdesk::{App, SystemClock};
use sitemanager_sim::{FaultConfig, SimHandle};
use std::sync::Arc;

const TEAM: &str = "T1";
const HUDSON: &str = "S1";

fn local() -> (App, Session) {
    let mut app = App::open_in_memory(Arc::new(SystemClock)).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    (app, s)
}

/// Sync passes until nothing is pending or in flight; then no entry may have been rejected.
async fn sync_all(app: &mut App, s: &Session, r: &HttpRemote) {
    for _ in 0..40 {
        let last = sync_pass(app, s, r, &SyncOptions::fast(), None).await.unwrap();
        let st = app.sync_status(s).unwrap();
        if st.pending == 0 && st.in_flight == 0 && !last.offline && last.sites_failed == 0 {
            let states: Vec<(String, i64)> = store::outbox::counts(app.conn()).unwrap();
            assert!(
                !states.iter().any(|(state, n)| (state == "rejected" || state == "conflict") && *n > 0),
                "the remote refused what the local rules accepted: {states:?} {:?}",
                store::outbox::list(app.conn(), &[OutboxState::Rejected, OutboxState::Conflict], 20)
                    .unwrap()
                    .iter()
                    .map(|e| (e.op.clone(), e.email.clone(), e.last_error.clone()))
                    .collect::<Vec<_>>()
            );
            return;
        }
    }
    panic!("sync did not converge");
}

fn day(offset_days: i64) -> String {
    (Utc::now() + Duration::days(offset_days)).format("%Y-%m-%d").to_string()
}

fn input(email: &str, unit: u32, start: &str, end: Option<&str>) -> ResidentInput {
    ResidentInput {
        first_name: "Pat".into(),
        last_name: "Corner".into(),
        email: email.into(),
        phone: None,
        building: "A".into(),
        floor: "1".into(),
        unit: unit.to_string(),
        start: start.into(),
        end: end.map(str::to_string),
    }
}

/// (first name, access start, access end, status) of a resident, on one side.
type Seen = (String, DateTime<Utc>, Option<DateTime<Utc>>, StatusFlags);

fn local_seen(app: &App, s: &Session, email: &str) -> Seen {
    let v = app.resident_show(s, email).unwrap();
    let r = v.resident;
    (r.first_name, r.activation_utc, r.deactivation_utc, v.status)
}

fn remote_seen(sim: &SimHandle, email: &str) -> Seen {
    let now = sim.now();
    let d = sim.data();
    let r = d.residents.values().find(|r| r.email == email).unwrap_or_else(|| panic!("{email} not on the remote"));
    (r.first_name.clone(), r.activation_utc, r.deactivation_utc, r.flags(now))
}

fn remote_id(app: &App, s: &Session, email: &str) -> String {
    app.resident_show(s, email).unwrap().resident.remote_id.expect("linked after a sync")
}

/// Runs a bulk action on the simulator directly; returns (succeeded, failed reasons).
async fn remote_bulk(r: &HttpRemote, action: BulkAction, ids: Vec<String>) -> (usize, Vec<String>) {
    let body = BulkActionBody { action: action.as_str().into(), resident_ids: Some(ids) };
    let job = r.start_bulk(TEAM, HUDSON, &body).await.unwrap();
    for _ in 0..200 {
        let st = r.bulk_status(TEAM, HUDSON, &job).await.unwrap();
        if let Some(result) = st.result {
            return (result.success.len(), result.failed.into_iter().map(|i| i.result).collect());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("bulk job did not finish");
}

fn rejected(e: RemoteError) -> (u16, String) {
    match e {
        RemoteError::Rejected { status, message } => (status, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Corner case 1: terminate before the access start → end = start on both sides, expired
/// on both, and a rename afterwards goes through on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_scheduled_agrees() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    app.resident_add(&s, "Hudson", &input("later@rules.test", 110, &day(60), None)).unwrap();
    app.resident_add(&s, "Hudson", &input("bulk@rules.test", 111, &day(90), None)).unwrap();
    sync_all(&mut app, &s, &r).await;
    app.resident_terminate(&s, "later@rules.test").unwrap();
    app.bulk(&s, BulkAction::Terminate, "Hudson", &["bulk@rules.test".to_string()]).unwrap();
    for email in ["later@rules.test", "bulk@rules.test"] {
        let (_, start, end, flags) = local_seen(&app, &s, email);
        assert_eq!((end, flags.is_expired()), (Some(start), true), "{email}: local");
    }
    sync_all(&mut app, &s, &r).await;
    for email in ["later@rules.test", "bulk@rules.test"] {
        let remote = remote_seen(&sim, email);
        assert_eq!(remote.2, Some(remote.1), "{email}: the simulator stores end = start too");
        assert!(remote.3.is_expired(), "{email}: expired on the remote");
        assert_eq!(local_seen(&app, &s, email), remote, "{email}: local and remote agree");
    }
    // A rename of the terminated resident: accepted here, then by the remote's PUT.
    let patch = ResidentPatch { first_name: Some("Renamed".into()), ..Default::default() };
    app.resident_update(&s, "later@rules.test", &patch).unwrap();
    sync_all(&mut app, &s, &r).await;
    assert_eq!(remote_seen(&sim, "later@rules.test").0, "Renamed");
    assert_eq!(local_seen(&app, &s, "later@rules.test"), remote_seen(&sim, "later@rules.test"));
}

/// Corner case 2: onboard-now makes the resident current on both sides (the activation
/// moved to now), and an earlier start that would overlap another stay fails on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboard_now_agrees() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    app.resident_add(&s, "Hudson", &input("early@rules.test", 112, &day(60), None)).unwrap();
    app.resident_add(&s, "Hudson", &input("leaving@rules.test", 113, &day(-10), Some(&day(10)))).unwrap();
    app.resident_add(&s, "Hudson", &input("after@rules.test", 113, &day(20), None)).unwrap();
    sync_all(&mut app, &s, &r).await;
    let ids = ["early@rules.test".to_string(), "after@rules.test".to_string()];
    let report = app.bulk(&s, BulkAction::OnboardNow, "Hudson", &ids).unwrap();
    assert_eq!(report.success.len(), 1, "{report:?}");
    assert!(report.failed[0].result.contains("already occupied"), "{report:?}");
    let early = local_seen(&app, &s, "early@rules.test");
    assert!(early.3.is_current() && early.3.is_pending(), "current after onboard-now: {early:?}");
    sync_all(&mut app, &s, &r).await;
    let remote = remote_seen(&sim, "early@rules.test");
    assert!(remote.3.is_current() && remote.1 <= sim.now(), "current on the remote too: {remote:?}");
    assert_eq!(local_seen(&app, &s, "early@rules.test"), remote, "the pull brings the remote's exact start");
    let mails = sim.data().mail;
    assert!(mails.iter().any(|m| m.to == "early@rules.test" && m.kind == "invitation"), "first invitation sent");
    // The resident the local rule refused is refused by the remote's rule for the same reason.
    let (done, failed) = remote_bulk(&r, BulkAction::OnboardNow, vec![remote_id(&app, &s, "after@rules.test")]).await;
    assert_eq!(done, 0);
    assert!(failed[0].contains("already occupied"), "{failed:?}");
    assert!(remote_seen(&sim, "after@rules.test").3.is_scheduled());
    assert!(local_seen(&app, &s, "after@rules.test").3.is_scheduled());
}

/// Corner case 3: invite and resend-invites refuse a scheduled resident on both sides, and
/// both send to a current pending one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_scheduled_agrees() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    app.resident_add(&s, "Hudson", &input("sched@rules.test", 114, &day(60), None)).unwrap();
    sync_all(&mut app, &s, &r).await;
    let id = remote_id(&app, &s, "sched@rules.test");
    let local = app.resident_invite(&s, "sched@rules.test").unwrap_err();
    let (status, message) = rejected(r.invite(TEAM, HUDSON, &id).await.unwrap_err());
    assert_eq!(status, 400);
    assert_eq!(local.message, message, "the same rule, the same words");
    assert!(message.contains("onboard-now"), "{message}");
    let bulk = app.bulk(&s, BulkAction::ResendInvites, "Hudson", &["sched@rules.test".to_string()]).unwrap();
    let (done, failed) = remote_bulk(&r, BulkAction::ResendInvites, vec![id]).await;
    assert_eq!((bulk.success.len(), bulk.failed.len()), (done, failed.len()));
    assert_eq!((done, failed.len()), (0, 1));
    // A current, pending resident (seeded remotely, not onboarded) gets one on both paths.
    app.resident_invite(&s, "remote2@example.com").unwrap();
    r.invite(TEAM, HUDSON, "rem-2").await.unwrap();
    let bulk = app.bulk(&s, BulkAction::ResendInvites, "Hudson", &["remote2@example.com".to_string()]).unwrap();
    let (done, _) = remote_bulk(&r, BulkAction::ResendInvites, vec!["rem-2".into()]).await;
    assert_eq!((bulk.success.len(), done), (1, 1));
}

/// Corner case 5: a back-dated stay that is over frees the unit on both sides (it was a 409
/// at the simulator while the core accepted it); a live overlap is refused on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_dated_occupancy_agrees() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    // remote0 has lived in unit 130 for 40 days, open-ended.
    app.resident_add(&s, "Hudson", &input("past@rules.test", 130, &day(-30), Some(&day(-20)))).unwrap();
    sync_all(&mut app, &s, &r).await;
    let remote = remote_seen(&sim, "past@rules.test");
    assert!(remote.3.is_expired());
    assert_eq!(local_seen(&app, &s, "past@rules.test"), remote);
    // A stay that would overlap remote0 from next week: refused here and there (409).
    let overlap = input("overlap@rules.test", 130, &day(7), None);
    let local = app.resident_add(&s, "Hudson", &overlap).unwrap_err();
    assert!(local.message.contains("already occupied"), "{}", local.message);
    let start = residentdesk::domain::dates::format_wire_utc(Utc::now() + Duration::days(7));
    let body = residentdesk::domain::wire::ResidentInput {
        first_name: "Pat".into(),
        last_name: "Corner".into(),
        email: Some("overlap@rules.test".into()),
        phone_number: None,
        building: "A".into(),
        floor: "1".into(),
        unit: "130".into(),
        activation_date_utc: start,
        deactivation_date_utc: None,
    };
    let (status, message) = rejected(r.create_resident(TEAM, HUDSON, &body).await.unwrap_err());
    assert_eq!(status, 409);
    assert!(message.contains("already occupied"), "{message}");
}
