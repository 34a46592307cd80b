//! Sync against `sitemanager-sim` over real HTTP: every operation's round trip, coalescing,
//! both job kinds, each conflict kind, each fault kind converging to the fault-free result,
//! token renewal, and the crash harness (a few trials; `examples/crash_sync.rs` runs more).

use residentdesk::app::residents::ResidentFilter;
use residentdesk::app::sync::{sync_pass, Keep, Resolution};
use residentdesk::app::{ResidentInput, ResidentPatch, Session};
use residentdesk::domain::{BulkAction, StatusChange};
use residentdesk::store;
use residentdesk::sync::client::{Credentials, HttpRemote, RemoteApi};
use residentdesk::sync::{PassReport, SyncOptions};
use residentdesk::{App, SystemClock};
use sitemanager_sim::model::{Mapping, Team};
use sitemanager_sim::seed::{SeedResident, SeedSite};
use sitemanager_sim::{Account, AccountLevel, FaultConfig, FaultKind, ScriptedFault, Seed, Sim, SimConfig, SimHandle};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const SVC: (&str, &str) = ("svc@sim.test", "svc-password-1");
pub const ADMIN: (&str, &str) = ("admin@desk.test", "Desk-Admin-2026-pass");

/// Two sites of team "Riverside": Hudson (PPK-C) with three remote residents, Bayside (PSK).
pub fn seed() -> Seed {
    // Whole days, so every simulator started by a test has the same dates.
    let now = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
    let mappings = |ssid: &str| -> Vec<Mapping> {
        (101..=140)
            .map(|u| Mapping {
                building: "A".into(),
                floor: "1".into(),
                unit: u.to_string(),
                passphrase: format!("pass{u}"),
                ssid: ssid.into(),
                vlan: u.to_string(),
            })
            .collect()
    };
    let resident = |i: usize, onboarded: bool| SeedResident {
        resident_id: Some(format!("rem-{i}")),
        site_id: "S1".into(),
        first_name: format!("Remote{i}"),
        last_name: "Person".into(),
        email: format!("remote{i}@example.com"),
        phone: Some(format!("555-010{i}")),
        building: "A".into(),
        floor: "1".into(),
        unit: (130 + i).to_string(),
        activation_utc: now - chrono::Duration::days(40),
        deactivation_utc: None,
        onboarded_at: onboarded.then(|| now - chrono::Duration::days(39)),
        suspended: false,
    };
    Seed {
        now: None,
        frozen: false,
        teams: vec![Team { team_id: "T1".into(), name: "Riverside".into() }],
        sites: vec![
            SeedSite {
                site_id: "S1".into(),
                team_id: "T1".into(),
                name: "Hudson".into(),
                site_type: "PPK-C".into(),
                time_zone: "America/Chicago".into(),
                service_area_number: "HU-1".into(),
                mappings: mappings("Hudson"),
            },
            SeedSite {
                site_id: "S2".into(),
                team_id: "T1".into(),
                name: "Bayside".into(),
                site_type: "PSK".into(),
                time_zone: "America/New_York".into(),
                service_area_number: "BA-1".into(),
                mappings: mappings("Bayside"),
            },
        ],
        residents: vec![resident(0, true), resident(1, true), resident(2, false)],
        accounts: vec![Account {
            email: SVC.0.into(),
            password: SVC.1.into(),
            level: AccountLevel::TeamAdmin,
            team_ids: vec!["T1".into()],
            site_ids: vec![],
        }],
    }
}

pub fn start_sim(faults: FaultConfig) -> SimHandle {
    Sim::start(SimConfig::with_seed(seed()).job_duration_ms(40).faults(faults)).unwrap()
}

pub fn remote(sim: &SimHandle) -> HttpRemote {
    HttpRemote::new(&sim.base_url(), Credentials { email: SVC.0.into(), password: SVC.1.into() }).unwrap()
}

fn local() -> (App, Session) {
    let mut app = App::open_in_memory(Arc::new(SystemClock)).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    (app, s)
}

fn opts() -> SyncOptions {
    SyncOptions::fast()
}

/// Runs passes until nothing is pending or in flight (like the worker's timer would).
pub async fn sync_all<R: RemoteApi>(app: &mut App, s: &Session, r: &R) -> PassReport {
    let mut last = PassReport::default();
    for _ in 0..40 {
        last = sync_pass(app, s, r, &opts(), None).await.unwrap();
        let st = app.sync_status(s).unwrap();
        if st.pending == 0 && st.in_flight == 0 && !last.offline && last.sites_failed == 0 {
            return last;
        }
    }
    panic!("sync did not converge: {last:?}");
}

fn input(first: &str, email: &str, unit: u32, start: &str) -> ResidentInput {
    ResidentInput {
        first_name: first.into(),
        last_name: "Local".into(),
        email: email.into(),
        phone: Some("555-2000".into()),
        building: "A".into(),
        floor: "1".into(),
        unit: unit.to_string(),
        start: start.into(),
        end: None,
    }
}

/// Comparable view of a resident: fields, suspension, onboarding, deactivation.
type View = BTreeMap<String, String>;

fn remote_view(sim: &SimHandle) -> View {
    let d = sim.data();
    d.residents
        .values()
        .map(|r| {
            (
                r.email.clone(),
                format!(
                    "{}|{}|{}|{}|{}|{}|{}|{:?}|susp={}|onb={}",
                    r.site_id,
                    r.first_name,
                    r.last_name,
                    r.phone.clone().unwrap_or_default(),
                    r.building,
                    r.unit,
                    r.activation_utc.timestamp(),
                    r.deactivation_utc.map(|d| d.timestamp()),
                    r.suspended,
                    r.onboarded_at.is_some()
                ),
            )
        })
        .collect()
}

fn local_view(app: &App) -> View {
    let mut out = View::new();
    let sites: Vec<(i64, String)> = app
        .conn()
        .prepare("SELECT id, remote_id FROM sites")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get::<_, Option<String>>(1)?.unwrap_or_default())))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (id, remote) in sites {
        for r in store::residents::list_site(app.conn(), id).unwrap() {
            out.insert(
                r.email.clone(),
                format!(
                    "{}|{}|{}|{}|{}|{}|{}|{:?}|susp={}|onb={}",
                    remote,
                    r.first_name,
                    r.last_name,
                    r.phone,
                    r.building,
                    r.unit,
                    r.activation_utc.timestamp(),
                    r.deactivation_utc.map(|d| d.timestamp()),
                    r.suspended,
                    r.onboarded_at.is_some()
                ),
            );
        }
    }
    out
}

fn entry_states(app: &App) -> BTreeMap<String, i64> {
    store::outbox::counts(app.conn()).unwrap().into_iter().collect()
}

fn route(sim: &SimHandle, key: &str) -> u64 {
    sim.stats().by_route.iter().filter(|(k, _)| k.contains(key)).map(|(_, v)| *v).sum()
}

fn site(app: &App, s: &Session, name: &str) -> i64 {
    app.site_list(s).unwrap().into_iter().find(|x| x.site.name == name).unwrap().site.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_links_team_adds_sites_and_pulls_residents() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    let report = sync_all(&mut app, &s, &r).await;
    assert_eq!(report.sites_inserted, 2, "both remote sites added for a team-level actor");
    let sites = app.site_list(&s).unwrap();
    assert_eq!(sites.len(), 2);
    let hudson = site(&app, &s, "Hudson");
    let list = app.resident_list(&s, &hudson.to_string(), &ResidentFilter::default()).unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(local_view(&app), remote_view(&sim));
    let st = app.sync_status(&s).unwrap();
    assert!(st.sites.iter().all(|x| x.last_pull_at.is_some()), "{st:?}");
    assert_eq!((st.pending, st.in_flight, st.rejected, st.open_conflicts), (0, 0, 0, 0));
    assert!(store::residents::remote_base(app.conn(), list[0].resident.id).unwrap().is_some());
}

/// An unchanged pull merges nothing; a change on either side (the remote's answer, a local
/// edit, a local change without an outbox entry) makes that site's next pull merge it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_site_is_not_merged_again_and_any_change_is() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    let first = sync_all(&mut app, &s, &r).await;
    assert_eq!((first.sites_pulled, first.sites_unchanged), (2, 0), "{first:?}");
    let again = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!((again.sites_pulled, again.sites_unchanged), (2, 2), "{again:?}");
    assert_eq!(local_view(&app), remote_view(&sim));

    // A remote change at Hudson: Hudson is merged again (and the change arrives), Bayside not.
    sim.world(|w| {
        for res in w.data.residents.values_mut().filter(|x| x.email == "remote1@example.com") {
            res.first_name = "Renamed".into();
        }
    });
    let rep = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!((rep.sites_unchanged, rep.residents_updated), (1, 1), "{rep:?}");
    assert_eq!(local_view(&app), remote_view(&sim));

    // A local edit (queued, then pushed by the same pass): the site is merged again.
    app.resident_update(
        &s,
        "remote0@example.com",
        &ResidentPatch { first_name: Some("Edited".into()), ..Default::default() },
    )
    .unwrap();
    let rep = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!(rep.sites_unchanged, 1, "{rep:?}");
    sync_all(&mut app, &s, &r).await;
    assert_eq!(local_view(&app), remote_view(&sim));

    // A local row changed behind the pull's back (no outbox entry, a newer updated_at): the
    // next pull merges the site and puts the remote's value back.
    let quiet = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!(quiet.sites_unchanged, 2, "{quiet:?}");
    app.conn()
        .execute(
            "UPDATE residents SET first_name = 'Stray', updated_at = '2999-01-01T00:00:00.000000Z'
             WHERE email = 'remote2@example.com'",
            [],
        )
        .unwrap();
    let rep = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!((rep.sites_unchanged, rep.residents_updated), (1, 1), "{rep:?}");
    assert_eq!(local_view(&app), remote_view(&sim));
}

/// The per-resident fast path of a merged site (migration 0016): a resident answered as last
/// merged and not changed here is skipped, yet in one pass a remote edit of one resident, a
/// local edit of another and a local row changed behind the pull's back of a third, all at
/// the same site, are each seen; then nothing is written again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_resident_fast_path_still_sees_local_and_remote_edits() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    let kept = |app: &App| -> i64 {
        app.conn()
            .query_row(
                "SELECT count(*) FROM remote_base WHERE remote_digest IS NOT NULL AND local_at IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(kept(&app), 3, "every merged resident keeps its digest");

    sim.world(|w| {
        for res in w.data.residents.values_mut().filter(|x| x.email == "remote1@example.com") {
            res.first_name = "RemoteEdit".into();
        }
    });
    app.resident_update(
        &s,
        "remote0@example.com",
        &ResidentPatch { last_name: Some("LocalEdit".into()), ..Default::default() },
    )
    .unwrap();
    app.conn()
        .execute(
            "UPDATE residents SET first_name = 'Stray', updated_at = '2999-01-01T00:00:00.000000Z'
             WHERE email = 'remote2@example.com'",
            [],
        )
        .unwrap();
    sync_all(&mut app, &s, &r).await;
    assert_eq!(local_view(&app), remote_view(&sim));
    let name = |email: &str| -> (String, String) {
        app.conn()
            .query_row("SELECT first_name, last_name FROM residents WHERE email = ?1", [email], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap()
    };
    assert_eq!(name("remote1@example.com").0, "RemoteEdit", "the remote edit arrived");
    assert_eq!(name("remote0@example.com").1, "LocalEdit", "the local edit stayed (and was pushed)");
    assert_eq!(name("remote2@example.com").0, "Remote2", "the stray local change was put back");

    // Settled: the site's next merge (forced by a remote change elsewhere in it) writes only
    // the resident that changed.
    sim.world(|w| {
        for res in w.data.residents.values_mut().filter(|x| x.email == "remote1@example.com") {
            res.first_name = "RemoteAgain".into();
        }
    });
    let rep = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!((rep.residents_updated, rep.conflicts_recorded), (1, 0), "{rep:?}");
    assert_eq!(local_view(&app), remote_view(&sim));
    assert_eq!(kept(&app), 3);
}

/// After an update's PUT the desk agrees with the remote on the fields it sent, not on the
/// others: another desk's value of another field, which the PUT's fresh read carried along but
/// the local row has not merged yet, must not become the base. Else a person who edits that
/// field next (still seeing the old value) overwrites the other desk's value without a
/// conflict. (The many-desks soak lost an edit this way.)
#[tokio::test]
async fn a_put_does_not_make_the_desk_agree_on_fields_it_did_not_send() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    let email = "remote0@example.com";
    // Another desk changes the phone in Site Manager.
    sim.world(|w| {
        for res in w.data.residents.values_mut().filter(|x| x.email == email) {
            res.phone = Some("555-0999".into());
        }
    });
    // Here: a name edit, pushed by a pass that pulls no site (as a timer pass whose sites are
    // not due yet), then a phone edit by a person who still sees the old phone.
    app.resident_update(&s, email, &ResidentPatch { first_name: Some("Mine".into()), ..Default::default() }).unwrap();
    let push_only = SyncOptions { pull: residentdesk::sync::schedule::PullPlan::Only(Vec::new()), ..opts() };
    let rep = sync_pass(&mut app, &s, &r, &push_only, None).await.unwrap();
    assert_eq!((rep.done, rep.sites_pulled), (1, 0), "{rep:?}");
    app.resident_update(&s, email, &ResidentPatch { phone: Some("555-0111".into()), ..Default::default() }).unwrap();
    sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    let phone = sim.data().residents.values().find(|x| x.email == email).and_then(|x| x.phone.clone());
    assert_eq!(phone.as_deref(), Some("555-0999"), "the other desk's phone was not overwritten unseen");
    let conflicts = app.conflict_list(&s, false).unwrap();
    let about_phone = conflicts
        .iter()
        .any(|c| c.email.as_deref() == Some(email) && c.state == "open" && c.fields.get("PhoneNumber").is_some());
    assert!(about_phone, "a person decides the phone: {conflicts:?}");
}

/// A site merged again for a resident's change keeps its units without reading them when the
/// remote's units answer is the one last merged, and takes the remote's new units when it is not.
#[tokio::test]
async fn a_sites_units_follow_the_remote_whether_or_not_its_residents_changed() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    let units = |app: &App| -> Vec<(String, String)> {
        let mut stmt = app
            .conn()
            .prepare(
                "SELECT m.unit, m.ssid FROM mappings m JOIN sites s ON s.id = m.site_id
                 WHERE s.remote_id = 'S1' ORDER BY m.unit",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, Option<String>>(1)?.unwrap_or_default())))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let before = units(&app);
    assert_eq!(before.len(), 40);

    // A resident changes, the units do not: the site is merged, its units stay as they were.
    sim.world(|w| {
        for res in w.data.residents.values_mut().filter(|x| x.email == "remote1@example.com") {
            res.first_name = "Changed".into();
        }
    });
    let rep = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!(rep.residents_updated, 1, "{rep:?}");
    assert_eq!(units(&app), before);

    // A resident and the units change together: both arrive.
    sim.world(|w| {
        for res in w.data.residents.values_mut().filter(|x| x.email == "remote1@example.com") {
            res.first_name = "ChangedAgain".into();
        }
        for m in w.data.mappings.get_mut("S1").unwrap().iter_mut() {
            m.ssid = "Hudson-5G".into();
        }
    });
    let rep = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!(rep.residents_updated, 1, "{rep:?}");
    let after = units(&app);
    assert_eq!(after.len(), 40);
    assert!(after.iter().all(|(_, ssid)| ssid == "Hudson-5G"), "{after:?}");
    assert_eq!(local_view(&app), remote_view(&sim));
}

/// The adaptive pull schedule (the desktop's background worker): a pass pulls the sites that
/// are due and the one on screen; a site that keeps answering the same waits ever longer; a
/// change brings it back to every interval; a one-off pass still pulls every site.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adaptive_schedule_pulls_due_sites_and_the_one_on_screen() {
    let sim = start_sim(FaultConfig::default());
    let clock = Arc::new(residentdesk::FixedClock::new("2026-11-30T12:00:00Z".parse().unwrap()));
    let mut app = App::open_in_memory(clock.clone()).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    let r = remote(&sim);
    let minute = std::time::Duration::from_secs(60);
    let adaptive = |focus: Vec<i64>| opts().pull_by_schedule(minute, focus);
    let pass = |rep: &PassReport| (rep.sites_pulled, rep.sites_unchanged, rep.sites_not_due);

    // Never pulled: every site is due.
    let first = sync_pass(&mut app, &s, &r, &adaptive(vec![]), None).await.unwrap();
    assert_eq!(pass(&first), (2, 0, 0), "{first:?}");
    let hudson = site(&app, &s, "Hudson");
    // At once again: nothing is due; the site on screen is pulled all the same.
    let rep = sync_pass(&mut app, &s, &r, &adaptive(vec![]), None).await.unwrap();
    assert_eq!(pass(&rep), (0, 0, 2), "{rep:?}");
    let rep = sync_pass(&mut app, &s, &r, &adaptive(vec![hudson]), None).await.unwrap();
    assert_eq!(pass(&rep), (1, 1, 1), "{rep:?}");

    // 73 s later (past the first delay, 60 s ± 20 %): Bayside is due, found unchanged, and
    // now waits twice as long (120 s ± 20 %); Hudson, just pulled quiet, is not due yet.
    clock.advance(chrono::Duration::seconds(73));
    let rep = sync_pass(&mut app, &s, &r, &adaptive(vec![]), None).await.unwrap();
    assert_eq!(pass(&rep), (1, 1, 1), "{rep:?}");
    let schedules = store::sync_state::pull_schedules(app.conn()).unwrap();
    let bayside = site(&app, &s, "Bayside");
    let (quiet, next) = schedules[&bayside];
    let wait = (next.unwrap() - residentdesk::Clock::now(clock.as_ref())).num_seconds();
    assert_eq!(quiet, 1);
    assert!((96..=144).contains(&wait), "a quiet site waits 120 s ± 20 %: {wait}");

    // A remote change at a site: once due it is merged, and back to every interval.
    let changed: i64 = app
        .conn()
        .query_row("SELECT site_id FROM residents WHERE email = 'remote2@example.com'", [], |r| r.get(0))
        .unwrap();
    sim.world(|w| {
        for res in w.data.residents.values_mut().filter(|x| x.email == "remote2@example.com") {
            res.first_name = "Changed".into();
        }
    });
    clock.advance(chrono::Duration::seconds(145));
    let rep = sync_pass(&mut app, &s, &r, &adaptive(vec![]), None).await.unwrap();
    assert_eq!(rep.residents_updated, 1, "{rep:?}");
    let schedules = store::sync_state::pull_schedules(app.conn()).unwrap();
    assert_eq!(schedules[&changed].0, 0, "a change starts the quiet count again");
    let other = if changed == hudson { bayside } else { hudson };
    assert!(schedules[&other].0 >= 2, "the other site stays quiet: {schedules:?}");
    assert_eq!(local_view(&app), remote_view(&sim));

    // A one-off pass (the CLI's) pulls every site, due or not.
    let rep = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!(pass(&rep), (2, 2, 0), "{rep:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_round_trips() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    let hudson = site(&app, &s, "Hudson").to_string();
    let bayside = site(&app, &s, "Bayside").to_string();
    // create (single POST at Bayside, import job at Hudson)
    app.resident_add(&s, &bayside, &input("Solo", "solo@example.com", 101, "2026-01-05")).unwrap();
    for i in 0..4 {
        app.resident_add(
            &s,
            &hudson,
            &input(&format!("Imp{i}"), &format!("imp{i}@example.com"), 101 + i, "2026-01-05"),
        )
        .unwrap();
    }
    app.resident_add(&s, &hudson, &input("Later", "later@example.com", 110, "2027-06-01")).unwrap();
    sim.reset_stats();
    let rep = sync_all(&mut app, &s, &r).await;
    assert_eq!(rep.rejected, 0, "{rep:?}");
    assert_eq!(route(&sim, "POST /v2/team/{team_id}/site/{site_id}/resident/import"), 1);
    assert_eq!(route(&sim, "POST /v2/team/{team_id}/site/{site_id}/resident"), 2, "import + one single create");
    assert_eq!(local_view(&app), remote_view(&sim));
    let solo = app.resident_show(&s, "solo@example.com").unwrap().resident;
    assert!(solo.remote_id.is_some());
    // update (PUT), suspend/unsuspend (PATCH), invite, psk reset, terminate, purge, onboard-now
    app.resident_update(
        &s,
        "remote0@example.com",
        &ResidentPatch { first_name: Some("Renamed".into()), ..Default::default() },
    )
    .unwrap();
    app.resident_set_status(&s, "remote1@example.com", StatusChange::Disabled).unwrap();
    app.resident_invite(&s, "remote2@example.com").unwrap();
    app.resident_psk_reset(&s, "remote0@example.com").unwrap();
    app.resident_terminate(&s, "imp0@example.com").unwrap();
    app.resident_purge(&s, "imp1@example.com").unwrap();
    app.bulk(&s, BulkAction::OnboardNow, &hudson, &["later@example.com".to_string()]).unwrap();
    sim.reset_stats();
    let rep = sync_all(&mut app, &s, &r).await;
    assert_eq!((rep.rejected, rep.conflict_entries), (0, 0), "{rep:?}");
    let d = sim.data();
    assert_eq!(d.residents["rem-0"].first_name, "Renamed");
    assert!(d.residents["rem-1"].suspended);
    assert!(!d.residents.values().any(|x| x.email == "imp1@example.com"), "purged remotely");
    let imp0 = d.residents.values().find(|x| x.email == "imp0@example.com").unwrap();
    assert!(imp0.deactivation_utc.is_some_and(|t| t < chrono::Utc::now()), "terminated remotely");
    let mails: Vec<(String, String)> = d.mail.iter().map(|m| (m.to.clone(), m.kind.clone())).collect();
    assert!(mails.contains(&("remote2@example.com".into(), "invitation".into())), "{mails:?}");
    assert!(mails.contains(&("remote0@example.com".into(), "psk_reset".into())), "{mails:?}");
    assert!(mails.iter().any(|(to, _)| to == "later@example.com"), "onboard-now sent: {mails:?}");
    assert_eq!(route(&sim, "PUT "), 1);
    assert_eq!(route(&sim, "PATCH "), 1);
    assert_eq!(route(&sim, "POST /v2/team/{team_id}/site/{site_id}/resident/bulkaction"), 1, "onboard-now is a job");
    app.resident_set_status(&s, "remote1@example.com", StatusChange::Active).unwrap();
    sync_all(&mut app, &s, &r).await;
    assert!(!sim.data().residents["rem-1"].suspended, "unsuspended remotely");
    assert_eq!(entry_states(&app).get("pending"), None);
    assert_eq!(entry_states(&app).get("rejected"), None);
    // Remote-only facts come back on pull: onboarding.
    sim.onboard(&solo.remote_id.clone().unwrap()).unwrap();
    sync_all(&mut app, &s, &r).await;
    assert!(app.resident_show(&s, "solo@example.com").unwrap().resident.onboarded_at.is_some());
    assert_eq!(local_view(&app), remote_view(&sim));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coalescing_sends_the_fewest_requests() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    let bayside = site(&app, &s, "Bayside").to_string();
    // create + 3 updates → one POST with the last values
    app.resident_add(&s, &bayside, &input("A", "coal@example.com", 120, "2026-01-05")).unwrap();
    for name in ["B", "C", "D"] {
        app.resident_update(
            &s,
            "coal@example.com",
            &ResidentPatch { first_name: Some(name.into()), ..Default::default() },
        )
        .unwrap();
    }
    // create + purge → nothing
    app.resident_add(&s, &bayside, &input("Gone", "gone@example.com", 121, "2026-01-05")).unwrap();
    app.resident_purge(&s, "gone@example.com").unwrap();
    // several updates → one PUT
    for last in ["X", "Y"] {
        app.resident_update(
            &s,
            "remote0@example.com",
            &ResidentPatch { last_name: Some(last.into()), ..Default::default() },
        )
        .unwrap();
    }
    app.resident_update(
        &s,
        "remote0@example.com",
        &ResidentPatch { phone: Some("555-9999".into()), ..Default::default() },
    )
    .unwrap();
    sim.reset_stats();
    let rep = sync_all(&mut app, &s, &r).await;
    assert_eq!(route(&sim, "POST /v2/team/{team_id}/site/{site_id}/resident"), 1, "{:?}", sim.stats());
    assert_eq!(route(&sim, "PUT "), 1);
    assert!(rep.coalesced >= 5, "{rep:?}");
    let d = sim.data();
    let coal = d.residents.values().find(|x| x.email == "coal@example.com").unwrap();
    assert_eq!(coal.first_name, "D");
    assert!(!d.residents.values().any(|x| x.email == "gone@example.com"));
    assert_eq!(d.residents["rem-0"].last_name, "Y");
    assert_eq!(d.residents["rem-0"].phone.as_deref(), Some("555-9999"));
    assert_eq!(entry_states(&app).get("pending"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_action_job_and_import_job() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    let hudson = site(&app, &s, "Hudson").to_string();
    for i in 0..6 {
        app.resident_add(&s, &hudson, &input(&format!("B{i}"), &format!("b{i}@example.com"), 101 + i, "2026-01-05"))
            .unwrap();
    }
    sync_all(&mut app, &s, &r).await;
    let ids: Vec<String> = (0..6).map(|i| format!("b{i}@example.com")).collect();
    app.bulk(&s, BulkAction::Terminate, &hudson, &ids).unwrap();
    sim.reset_stats();
    let rep = sync_all(&mut app, &s, &r).await;
    assert_eq!(rep.jobs.get("bulk"), Some(&1), "{rep:?}");
    assert_eq!(route(&sim, "POST /v2/team/{team_id}/site/{site_id}/resident/bulkaction"), 1);
    assert_eq!(route(&sim, "DELETE "), 0, "no single terminate");
    let now = chrono::Utc::now();
    let d = sim.data();
    assert!(d
        .residents
        .values()
        .filter(|x| x.email.starts_with('b'))
        .all(|x| x.deactivation_utc.is_some_and(|t| t < now)));
    assert_eq!(local_view(&app), remote_view(&sim));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_are_recorded_with_both_values_and_resolved_through_the_outbox() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    let other = remote(&sim); // another desk editing the remote
    let hudson = site(&app, &s, "Hudson").to_string();
    let mut theirs = other.resident("T1", "S1", "rem-0").await.unwrap();
    // 1. same field on both sides → conflict; different fields → merged
    theirs.first_name = Some("Theirs".into());
    theirs.last_name = Some("RemoteLast".into());
    let body = |o: &residentdesk::domain::wire::ResidentObject, phone: Option<String>| {
        residentdesk::domain::wire::ResidentInput {
            first_name: o.first_name.clone().unwrap(),
            last_name: o.last_name.clone().unwrap(),
            email: o.email.clone(),
            phone_number: phone,
            building: o.building.clone().unwrap(),
            floor: o.floor.clone().unwrap(),
            unit: o.unit.clone().unwrap(),
            activation_date_utc: o.activation_date_utc.clone().unwrap(),
            deactivation_date_utc: o.deactivation_date_utc.clone(),
        }
    };
    other.update_resident("T1", "S1", "rem-0", &body(&theirs, theirs.phone.clone())).await.unwrap();
    app.resident_update(
        &s,
        "remote0@example.com",
        &ResidentPatch { first_name: Some("Mine".into()), phone: Some("555-7777".into()), ..Default::default() },
    )
    .unwrap();
    // 2. remote purge of a locally edited resident
    other.purge("T1", "S1", "rem-1").await.unwrap();
    app.resident_update(
        &s,
        "remote1@example.com",
        &ResidentPatch { last_name: Some("Edited".into()), ..Default::default() },
    )
    .unwrap();
    // 3. unit taken remotely
    let taken = residentdesk::domain::wire::ResidentInput {
        first_name: "Squatter".into(),
        last_name: "Remote".into(),
        email: Some("squatter@example.com".into()),
        phone_number: None,
        building: "A".into(),
        floor: "1".into(),
        unit: "125".into(),
        activation_date_utc: "2026-01-01T00:00:00+00:00".into(),
        deactivation_date_utc: None,
    };
    app.resident_add(&s, &hudson, &input("Mover", "mover@example.com", 125, "2026-01-05")).unwrap();
    other.create_resident("T1", "S1", &taken).await.unwrap();
    let rep = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!(rep.conflicts_recorded, 3, "{rep:?}");
    let conflicts = app.conflict_list(&s, false).unwrap();
    let kinds: Vec<&str> = conflicts.iter().map(|c| c.kind.as_str()).collect();
    assert!(kinds.contains(&"field") && kinds.contains(&"remote_purge") && kinds.contains(&"unit_taken"), "{kinds:?}");
    let field = conflicts.iter().find(|c| c.kind == "field").unwrap();
    assert_eq!(field.fields["FirstName"]["local"], "Mine");
    assert_eq!(field.fields["FirstName"]["remote"], "Theirs");
    assert_eq!(field.fields["FirstName"]["base"], "Remote0");
    assert!(field.fields.get("PhoneNumber").is_none(), "phone changed on one side only");
    // the remote's LastName change merged locally, the local FirstName kept (not overwritten)
    let me = app.resident_show(&s, "remote0@example.com").unwrap().resident;
    assert_eq!((me.first_name.as_str(), me.last_name.as_str()), ("Mine", "RemoteLast"));
    assert_eq!(sim.data().residents["rem-0"].first_name, "Theirs", "nothing pushed over the remote change");
    let st = app.sync_status(&s).unwrap();
    assert_eq!(st.open_conflicts, 3);
    // resolve: FirstName=local (sent as an ordinary outbox entry)
    let out = app
        .conflict_resolve(
            &s,
            field.id,
            &Resolution { keep: None, fields: [("FirstName".to_string(), Keep::Local)].into() },
        )
        .unwrap();
    assert!(out.entry_id.is_some());
    let purge = conflicts.iter().find(|c| c.kind == "remote_purge").unwrap();
    app.conflict_resolve(&s, purge.id, &Resolution { keep: Some(Keep::Local), ..Default::default() }).unwrap();
    let unit = conflicts.iter().find(|c| c.kind == "unit_taken").unwrap();
    app.conflict_resolve(&s, unit.id, &Resolution { keep: Some(Keep::Remote), ..Default::default() }).unwrap();
    let audit = app.audit_list(&s, None, 50).unwrap();
    assert_eq!(audit.iter().filter(|a| a.action == "conflict.resolve").count(), 3);
    sync_all(&mut app, &s, &r).await;
    let d = sim.data();
    assert_eq!(d.residents["rem-0"].first_name, "Mine");
    assert_eq!(d.residents["rem-0"].last_name, "RemoteLast");
    assert_eq!(d.residents["rem-0"].phone.as_deref(), Some("555-7777"));
    let back = d.residents.values().find(|x| x.email == "remote1@example.com").expect("re-created after keep local");
    assert_eq!(back.last_name, "Edited");
    assert!(!d.residents.values().any(|x| x.email == "mover@example.com"));
    assert!(app.resident_show(&s, "mover@example.com").is_err(), "keep remote dropped the local create");
    assert_eq!(app.conflict_list(&s, false).unwrap().len(), 0);
    assert_eq!(local_view(&app), remote_view(&sim));
}

/// The same local changes, synced against a simulator with `faults`; returns the end states.
async fn scenario(faults: FaultConfig) -> (View, View, BTreeMap<String, i64>, u64) {
    let sim = start_sim(faults);
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    let hudson = site(&app, &s, "Hudson").to_string();
    let bayside = site(&app, &s, "Bayside").to_string();
    for i in 0..6 {
        app.resident_add(&s, &hudson, &input(&format!("F{i}"), &format!("f{i}@example.com"), 101 + i, "2026-01-05"))
            .unwrap();
    }
    app.resident_add(&s, &bayside, &input("Bay", "bay@example.com", 101, "2026-01-05")).unwrap();
    app.resident_add(&s, &bayside, &input("Tmp", "tmp@example.com", 102, "2026-01-05")).unwrap();
    app.resident_purge(&s, "tmp@example.com").unwrap();
    app.resident_update(
        &s,
        "remote0@example.com",
        &ResidentPatch { first_name: Some("Zed".into()), ..Default::default() },
    )
    .unwrap();
    app.resident_set_status(&s, "remote1@example.com", StatusChange::Disabled).unwrap();
    app.resident_terminate(&s, "remote2@example.com").unwrap();
    sync_all(&mut app, &s, &r).await;
    let ids: Vec<String> = (0..3).map(|i| format!("f{i}@example.com")).collect();
    app.bulk(&s, BulkAction::Terminate, &hudson, &ids).unwrap();
    app.resident_update(
        &s,
        "f4@example.com",
        &ResidentPatch { last_name: Some("Changed".into()), phone: Some("555-4444".into()), ..Default::default() },
    )
    .unwrap();
    app.resident_purge(&s, "f5@example.com").unwrap();
    sync_all(&mut app, &s, &r).await;
    let injected: u64 = sim.stats().faults.values().sum();
    sim.set_faults(FaultConfig::default()).unwrap();
    sync_all(&mut app, &s, &r).await;
    let states = entry_states(&app);
    (remote_view(&sim), local_view(&app), states, injected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_kind_converges_to_the_fault_free_state() {
    let (clean_remote, clean_local, clean_states, _) = scenario(FaultConfig::default()).await;
    assert_eq!(clean_remote, clean_local);
    assert_eq!(clean_states.get("rejected"), None, "{clean_states:?}");
    let kinds: Vec<(&str, FaultConfig)> = vec![
        ("drop", FaultConfig { drop_rate: 0.15, seed: 1, ..FaultConfig::default() }),
        ("500/503", FaultConfig { fail_rate: 0.25, seed: 2, ..FaultConfig::default() }),
        ("429", FaultConfig { throttle_rate: 0.25, retry_after_secs: 1, seed: 3, ..FaultConfig::default() }),
        ("truncated bodies", FaultConfig { truncate_rate: 0.2, seed: 4, ..FaultConfig::default() }),
        ("drop after applying", FaultConfig { drop_after_rate: 0.2, seed: 5, ..FaultConfig::default() }),
        ("latency", FaultConfig { latency_ms: 20, latency_jitter_ms: 30, seed: 6, ..FaultConfig::default() }),
    ];
    for (name, faults) in kinds {
        let latency_only = faults.latency_ms > 0;
        let (remote, local, states, injected) = scenario(faults).await;
        assert!(latency_only || injected > 0, "no {name} fault was injected");
        assert_eq!(remote, clean_remote, "remote state after {name}");
        assert_eq!(local, clean_local, "local state after {name}");
        assert_eq!(states, clean_states, "outbox states after {name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_is_renewed_once_and_bad_credentials_keep_the_queue() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    sim.expire_tokens();
    app.resident_update(
        &s,
        "remote0@example.com",
        &ResidentPatch { first_name: Some("Tok".into()), ..Default::default() },
    )
    .unwrap();
    let rep = sync_all(&mut app, &s, &r).await;
    assert_eq!(rep.rejected, 0);
    assert_eq!(sim.data().residents["rem-0"].first_name, "Tok");
    // wrong password: the pass stops asking for credentials; nothing dropped or counted
    let bad = HttpRemote::new(&sim.base_url(), Credentials { email: SVC.0.into(), password: "wrong".into() }).unwrap();
    app.resident_update(
        &s,
        "remote0@example.com",
        &ResidentPatch { first_name: Some("Kept".into()), ..Default::default() },
    )
    .unwrap();
    let err = sync_pass(&mut app, &s, &bad, &opts(), None).await.unwrap_err();
    assert!(err.message.contains("re-enter"), "{}", err.message);
    let pending = app.outbox_list(&s, false, 10).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].state.as_str(), pending[0].attempts), ("pending", 0));
    assert!(app.sync_status(&s).unwrap().last_error.unwrap().contains("re-enter"));
    sync_all(&mut app, &s, &r).await;
    assert_eq!(sim.data().residents["rem-0"].first_name, "Kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_entries_keep_the_reason_and_can_be_retried_or_discarded() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    let hudson = site(&app, &s, "Hudson").to_string();
    // The remote already has this email at another team's view: 409 email exists, not ours.
    let other = remote(&sim);
    let mut taken = other.resident("T1", "S1", "rem-0").await.unwrap();
    taken.email = Some("dup@example.com".into());
    app.resident_add(&s, &hudson, &input("Dup", "dup@example.com", 127, "2026-01-05")).unwrap();
    let body = residentdesk::domain::wire::ResidentInput {
        first_name: "Other".into(),
        last_name: "Person".into(),
        email: taken.email.clone(),
        phone_number: None,
        building: "A".into(),
        floor: "1".into(),
        unit: "128".into(),
        activation_date_utc: "2026-01-01T00:00:00+00:00".into(),
        deactivation_date_utc: None,
    };
    other.create_resident("T1", "S2", &body).await.unwrap();
    sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    let rejected = app.outbox_list(&s, false, 10).unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].state, "rejected");
    assert!(rejected[0].last_error.as_deref().unwrap_or("").contains("dup@example.com"), "{:?}", rejected[0]);
    assert!(app.resident_show(&s, "dup@example.com").is_ok(), "the person's data is kept");
    let again = app.outbox_retry(&s, rejected[0].id).unwrap();
    assert_eq!(again.state, "pending");
    sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    let id = app.outbox_list(&s, false, 10).unwrap()[0].id;
    assert_eq!(app.outbox_discard(&s, id).unwrap().state, "discarded");
    assert_eq!(app.sync_status(&s).unwrap().rejected, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invites_are_sent_at_most_once_when_the_answer_is_lost() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    sim.set_faults(FaultConfig {
        script: vec![ScriptedFault { kind: FaultKind::DropAfter, matches: Some("/invite".into()) }],
        ..FaultConfig::default()
    })
    .unwrap();
    app.resident_invite(&s, "remote2@example.com").unwrap();
    sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    let invites = sim.data().mail.iter().filter(|m| m.to == "remote2@example.com" && m.kind == "invitation").count();
    assert_eq!(invites, 1, "applied once, never resent");
    let e = &app.outbox_list(&s, false, 10).unwrap()[0];
    assert_eq!(e.state, "rejected");
    assert!(e.last_error.as_deref().unwrap().contains("at most once"), "{e:?}");
}

#[path = "../../examples/crash_sync.rs"]
#[allow(dead_code)]
mod crash_harness;

#[test]
fn crash_harness_sigkill_trials_end_in_the_same_state() {
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_residentdesk"));
    let landed = crash_harness::run_trials(&bin, 3, 7).unwrap();
    assert!(landed > 0, "no SIGKILL landed while sync was running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_worker_syncs_on_demand_and_reports_status() {
    use residentdesk::app::worker::Worker;
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    app.resident_update(
        &s,
        "remote0@example.com",
        &ResidentPatch { first_name: Some("Worker".into()), ..Default::default() },
    )
    .unwrap();
    let worker = Worker::spawn(app, s.clone(), remote(&sim), opts(), std::time::Duration::from_secs(3600));
    let mut events = worker.subscribe();
    assert_eq!(events.borrow().pending, 1, "the initial status is published at once");
    worker.sync_now().await;
    let done = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            events.changed().await.unwrap();
            let st = events.borrow().clone();
            if !st.running && st.last_pass_at.is_some() && st.pending == 0 {
                return st;
            }
        }
    })
    .await
    .expect("a status event after the pass");
    assert_eq!(done.in_flight, 0);
    assert_eq!(sim.data().residents["rem-0"].first_name, "Worker");
    let app = worker.stop().await.expect("the app comes back");
    assert_eq!(app.sync_status(&s).unwrap().pending, 0);
}

#[test]
fn cli_sync_exits_6_on_conflicts_and_resolves_them() {
    let sim = start_sim(FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    let bin = env!("CARGO_BIN_EXE_residentdesk");
    let run = |args: &[&str], stdin: Option<&str>| -> (i32, String, String) {
        use std::io::Write;
        let mut child = std::process::Command::new(bin)
            .arg("--db")
            .arg(&db)
            .args(args)
            .env("RESIDENTDESK_PASSWORD", ADMIN.1)
            // The file fallback is what this test inspects, whatever keyring the machine has.
            .env(residentdesk::app::sync::NO_KEYRING_ENV, "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(run(&["init", "--admin-email", ADMIN.0, "--team", "Riverside"], None).0, 0);
    let url = sim.base_url();
    let (code, _, err) = run(
        &["--as", ADMIN.0, "sync", "--remote", &url, "--remote-user", SVC.0, "--remote-password-stdin"],
        Some(&format!("{}\n", SVC.1)),
    );
    assert_eq!(code, 0, "{err}");
    let creds = std::fs::metadata(format!("{}.sync-credentials", db.display())).expect("credentials file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(creds.permissions().mode() & 0o777, 0o600);
    }
    let stored: String = residentdesk::store::open(&db)
        .unwrap()
        .query_row(
            "SELECT coalesce(group_concat(v, ' '), '') FROM (SELECT value AS v FROM settings
             UNION ALL SELECT remote_url FROM team_sync UNION ALL SELECT remote_user FROM team_sync)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!stored.contains(SVC.1), "the password is never in the database");
    assert_eq!(run(&["--as", ADMIN.0, "resident", "update", "remote0@example.com", "--first", "Cli"], None).0, 0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let other = remote(&sim);
        let mut o = other.resident("T1", "S1", "rem-0").await.unwrap();
        o.first_name = Some("Elsewhere".into());
        let body = residentdesk::domain::wire::ResidentInput {
            first_name: o.first_name.clone().unwrap(),
            last_name: o.last_name.clone().unwrap(),
            email: o.email.clone(),
            phone_number: o.phone.clone(),
            building: o.building.clone().unwrap(),
            floor: o.floor.clone().unwrap(),
            unit: o.unit.clone().unwrap(),
            activation_date_utc: o.activation_date_utc.clone().unwrap(),
            deactivation_date_utc: None,
        };
        other.update_resident("T1", "S1", "rem-0", &body).await.unwrap();
    });
    let (code, _, err) = run(&["--as", ADMIN.0, "sync"], None);
    assert_eq!(code, 6, "a conflict needs a person: {err}");
    let (code, out, _) = run(&["--as", ADMIN.0, "--json", "conflict", "list"], None);
    assert_eq!(code, 0);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let c = &list["conflicts"][0];
    assert_eq!(c["fields"]["FirstName"]["local"], "Cli");
    assert_eq!(c["fields"]["FirstName"]["remote"], "Elsewhere");
    let id = c["id"].as_i64().unwrap().to_string();
    let (code, _, err) = run(&["--as", ADMIN.0, "conflict", "resolve", &id, "--field", "FirstName=remote"], None);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&["--as", ADMIN.0, "--json", "sync", "status"], None);
    assert_eq!(code, 0);
    let st: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(st["status"]["open_conflicts"], 0);
    assert_eq!(run(&["--as", ADMIN.0, "sync"], None).0, 0);
    assert_eq!(sim.data().residents["rem-0"].first_name, "Elsewhere");
    let (_, out, _) = run(&["--as", ADMIN.0, "--json", "resident", "show", "remote0@example.com"], None);
    assert!(out.contains("Elsewhere"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_actor_syncs_only_its_sites_and_cannot_configure_sync() {
    use residentdesk::app::staff::NewStaff;
    let sim = start_sim(FaultConfig::default());
    let (mut app, admin) = local();
    let r = remote(&sim);
    sync_all(&mut app, &admin, &r).await;
    let bayside = site(&app, &admin, "Bayside");
    let hudson = site(&app, &admin, "Hudson");
    app.staff_add(
        &admin,
        &NewStaff {
            email: "staff@desk.test".into(),
            display_name: "Staff".into(),
            level: "staff_user".into(),
            sites: vec![bayside.to_string()],
            password: "Staff-Pass-2026-ok".into(),
        },
    )
    .unwrap();
    let staff = app.sign_in("staff@desk.test", "Staff-Pass-2026-ok").unwrap();
    let denied = app.sync_configure(&staff, Some("https://example.com/v2"), None, None).unwrap_err();
    assert_eq!(denied.code, residentdesk::ErrorCode::PermissionDenied);
    // a pending change at Hudson (by the admin) is not the staff member's to send
    app.resident_update(
        &admin,
        "remote0@example.com",
        &ResidentPatch { first_name: Some("AdminEdit".into()), ..Default::default() },
    )
    .unwrap();
    app.resident_add(&staff, &bayside.to_string(), &input("Staffed", "staffed@example.com", 111, "2026-01-05"))
        .unwrap();
    let rep = sync_pass(&mut app, &staff, &r, &opts(), None).await.unwrap();
    assert_eq!(rep.sites_pulled, 1, "{rep:?}");
    let d = sim.data();
    assert!(d.residents.values().any(|x| x.email == "staffed@example.com"));
    assert_eq!(d.residents["rem-0"].first_name, "Remote0", "Hudson is outside the staff member's scope");
    let st = app.sync_status(&admin).unwrap();
    assert_eq!(st.pending, 1);
    assert!(st.sites.iter().any(|x| x.site_id == hudson));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_retries_on_its_backoff_timer_after_being_offline() {
    use residentdesk::app::worker::Worker;
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = local();
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    app.resident_update(
        &s,
        "remote0@example.com",
        &ResidentPatch { first_name: Some("Offline".into()), ..Default::default() },
    )
    .unwrap();
    sim.set_faults(FaultConfig { drop_rate: 1.0, ..FaultConfig::default() }).unwrap();
    let worker = Worker::spawn(app, s.clone(), remote(&sim), opts(), std::time::Duration::from_secs(3600));
    let mut events = worker.subscribe();
    worker.sync_now().await;
    let offline = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            events.changed().await.unwrap();
            let st = events.borrow().clone();
            if !st.running && st.last_pass_at.is_some() {
                return st;
            }
        }
    })
    .await
    .expect("a status event after the offline pass");
    assert_eq!(offline.pending, 1, "being offline keeps the change: {offline:?}");
    sim.set_faults(FaultConfig::default()).unwrap();
    // No sync_now, no new local edit, the hourly tick far away: only the backoff timer.
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            events.changed().await.unwrap();
            let st = events.borrow().clone();
            if !st.running && st.pending == 0 && st.in_flight == 0 {
                return;
            }
        }
    })
    .await
    .expect("the worker retried on its own");
    assert_eq!(sim.data().residents["rem-0"].first_name, "Offline");
    worker.stop().await;
}

/// An unreachable remote: a one-off pass tries its first contact as often as any call, the
/// background worker's pass once (its own timer retries), and both report offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_remote_is_offline_after_one_attempt_in_the_background() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v2", closed.local_addr().unwrap());
    drop(closed);
    let (mut app, s) = local();
    for (options, attempts) in [(opts(), opts().retry.max_attempts), (opts().in_background(), 1)] {
        let r = HttpRemote::new(&url, Credentials { email: SVC.0.into(), password: SVC.1.into() }).unwrap();
        let report = sync_pass(&mut app, &s, &r, &options, None).await.unwrap();
        assert!(report.offline, "{report:?}");
        assert_eq!(r.requests_sent(), u64::from(attempts));
        assert!(app.sync_status(&s).unwrap().last_error.is_some_and(|e| e.contains("will retry")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_the_service_account_cannot_see_is_a_clear_error() {
    let sim = start_sim(FaultConfig::default());
    let mut app = App::open_in_memory(Arc::new(SystemClock)).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Elsewhere Holdings").unwrap();
    let err = sync_pass(&mut app, &s, &remote(&sim), &opts(), None).await.unwrap_err();
    assert_eq!(err.code, residentdesk::ErrorCode::NotFound);
    assert!(err.message.contains("Elsewhere Holdings") && err.message.contains("Riverside"), "{}", err.message);
    assert!(app.sync_status(&s).unwrap().last_error.is_some_and(|e| e.contains("Riverside")));
}

/// Without an answering OS keyring (none runs on a headless machine), credentials fall back
/// to the 0600 file and load back from it; the database never holds them.
#[test]
fn credentials_fall_back_to_a_private_file_and_load_back() {
    use residentdesk::app::sync::CredentialStore;
    use residentdesk::sync::client::Credentials;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    let conn = residentdesk::store::open(&db).unwrap();
    let store = CredentialStore::for_team(&conn, 1);
    store.save(&Credentials { email: "svc@x.co".into(), password: "s3cret-pass".into() }, &[1]).unwrap();
    let back = store.load().unwrap().unwrap();
    assert_eq!((back.email.as_str(), back.password.as_str()), ("svc@x.co", "s3cret-pass"));
    let file = std::path::PathBuf::from(format!("{}.sync-credentials", db.display()));
    if file.exists() {
        assert!(store.describe().contains("0600"), "{}", store.describe());
    } else {
        assert_eq!(store.describe(), "the OS keyring");
    }
}

/// The desktop's first-run demo: a simulator seeded with the demo database's own portfolio.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_portfolio_seeds_a_simulator_that_the_first_sync_links_without_a_change() {
    use crate::fixture::{OWNER, STAFF};
    use residentdesk::app::demo::DEMO_SYNC_ACCOUNT;
    let mut app = App::open_in_memory(Arc::new(SystemClock)).unwrap();
    app.demo_seed(600, 42).unwrap();
    let owner = app.sign_in(OWNER.0, OWNER.1).unwrap();
    let staff = app.sign_in(STAFF.0, STAFF.1).unwrap();
    assert!(app.demo_portfolio(&staff).is_err(), "only the owner is given the whole portfolio");
    let portfolio = app.demo_portfolio(&owner).unwrap();
    let seed: Seed = serde_json::from_value(portfolio.to_sim_seed()).expect("a valid sitemanager-sim seed file");
    assert_eq!((seed.teams.len(), seed.sites.len(), seed.residents.len()), (3, 6, 600));
    let sim = Sim::start(SimConfig::with_seed(seed).job_duration_ms(40)).unwrap();
    let remote = HttpRemote::new(
        &sim.base_url(),
        Credentials { email: DEMO_SYNC_ACCOUNT.0.into(), password: DEMO_SYNC_ACCOUNT.1.into() },
    )
    .unwrap();
    for team in app.team_list(&owner).unwrap() {
        let s = app.team_switch(&owner, &team.name).unwrap();
        let report = sync_all(&mut app, &s, &remote).await;
        assert_eq!(
            (report.residents_inserted, report.residents_updated, report.residents_deleted, report.sites_inserted),
            (0, 0, 0, 0),
            "the first sync of {} only links what both sides already hold: {report:?}",
            team.name
        );
        let st = app.sync_status(&s).unwrap();
        assert_eq!((st.pending, st.rejected, st.open_conflicts), (0, 0, 0), "{st:?}");
    }
    let unlinked: i64 =
        app.conn().query_row("SELECT count(*) FROM residents WHERE remote_id IS NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(unlinked, 0, "every demo resident is linked to its simulated twin");
    assert_eq!(local_view(&app), remote_view(&sim));

    // From then on the demo behaves like a connected desk: a change reaches the remote.
    let s = app.team_switch(&owner, "Riverside Living").unwrap();
    let maple = site(&app, &s, "Maple Court");
    let someone = app.resident_list(&s, &maple.to_string(), &ResidentFilter::default()).unwrap()[0].resident.clone();
    let patch = ResidentPatch { first_name: Some("Renamed".into()), ..Default::default() };
    app.resident_update(&s, &someone.email, &patch).unwrap();
    sync_all(&mut app, &s, &remote).await;
    let twin = sim.data().residents.into_values().find(|r| r.email == someone.email).unwrap();
    assert_eq!(twin.first_name, "Renamed");

    // The simulated remote may move to another loopback port; nothing else can be redirected.
    assert!(app.demo_remote_moved("http://127.0.0.1:9/v2").is_err(), "the remote is not a loopback one yet");
    app.sync_configure(&s, Some(&sim.base_url()), None, None).unwrap();
    app.demo_remote_moved("http://127.0.0.1:9/v2").unwrap();
    assert_eq!(app.sync_config(&s).unwrap().remote_url, "http://127.0.0.1:9/v2");
    assert!(app.demo_remote_moved("https://api.example.com/v2").is_err());
}
