//! The contract's assumptions checked at first contact (issue #13), against `sitemanager-sim`:
//! in its normal mode everything the read-only calls exercise holds; switched to contradict
//! one assumption, the check names it with the value seen; a push is held while a
//! push-relevant assumption is contradicted (pull goes on) and goes through after a clean
//! check; the CLI prints the report and exits 0 or 6.

use crate::fixture::Work;
use crate::sync::{remote, seed, start_sim, ADMIN, SVC};
use residentdesk::app::sync::{remote_check_with, sync_pass};
use residentdesk::app::{ResidentInput, Session};
use residentdesk::sync::assumptions::ASSUMPTIONS;
use residentdesk::sync::check::{CheckReport, Verdict};
use residentdesk::sync::SyncOptions;
use residentdesk::{App, SystemClock};
use sitemanager_sim::{Contradiction, FaultConfig, FaultKind, ScriptedFault, SimHandle};
use std::sync::Arc;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn resident(n: u32) -> ResidentInput {
    ResidentInput {
        first_name: format!("Check{n}"),
        last_name: "Local".into(),
        email: format!("check{n}@example.com"),
        phone: Some("555-3000".into()),
        building: "A".into(),
        floor: "1".into(),
        unit: (101 + n).to_string(),
        start: "2024-01-01".into(),
        end: None,
    }
}

/// A desk linked to the simulator's team, with one import job started at Hudson (so the
/// check has a job to ask about).
fn linked_desk(sim: &SimHandle) -> (App, Session) {
    let mut app = App::open_in_memory(Arc::new(SystemClock)).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    let r = remote(sim);
    rt().block_on(sync_pass(&mut app, &s, &r, &SyncOptions::fast(), None)).unwrap();
    for n in 0..3 {
        app.resident_add(&s, "Hudson", &resident(n)).unwrap();
    }
    let report = rt().block_on(sync_pass(&mut app, &s, &r, &SyncOptions::fast(), None)).unwrap();
    assert_eq!(report.jobs.get("import"), Some(&1), "{report:?}");
    (app, s)
}

fn check(app: &mut App, s: &Session, sim: &SimHandle) -> CheckReport {
    rt().block_on(remote_check_with(app, s, &remote(sim))).unwrap()
}

fn verdict(r: &CheckReport, id: &str) -> Verdict {
    r.get(id).unwrap_or_else(|| panic!("{id} is not in the report")).result
}

#[test]
fn against_the_simulator_everything_exercised_holds() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = linked_desk(&sim);
    let r = check(&mut app, &s, &sim);
    assert_eq!(r.assumptions.len(), ASSUMPTIONS.len(), "every assumption is reported");
    assert!(r.reached && r.stopped.is_none(), "{r:#?}");
    let contradicted: Vec<_> = r.contradicted().collect();
    assert!(contradicted.is_empty(), "{contradicted:#?}");
    for id in [
        "token.shape",
        "token.bad_is_401",
        "errors.body",
        "teams.shape",
        "sites.shape",
        "mappings.shape",
        "residents.envelope",
        "residents.fields",
        "residents.phone",
        "residents.status",
        "residents.onboarded_at",
        "jobs.status_shape",
        "jobs.unknown_is_404",
    ] {
        assert_eq!(verdict(&r, id), Verdict::Held, "{id}: {:?}", r.get(id));
    }
    // What only a write would show is said, not guessed.
    for a in ASSUMPTIONS.iter().filter(|a| a.checked_by.is_none()) {
        assert_eq!(verdict(&r, a.id), Verdict::NotExercised, "{}", a.id);
        assert!(r.get(a.id).unwrap().note.is_some());
    }
    assert_eq!((r.team.as_deref(), r.site.as_deref()), (Some("T1"), Some("S1")), "the job's site is looked at");
    let calls: Vec<&str> = r.calls.iter().map(|c| c.call.as_str()).collect();
    assert_eq!(calls, ["token", "bad_token", "teams", "sites", "mappings", "residents", "unknown_job", "job"]);
    assert!(r.calls.iter().all(|c| c.status.is_some() && c.latency_ms >= 0.0 && c.attempts == 1), "{:?}", r.calls);
    assert!(r.push_held_by.is_empty());
    // Read-only: nothing was written on the remote.
    let writes: u64 = sim
        .stats()
        .by_route
        .iter()
        .filter(|(k, _)| !k.starts_with("GET") && !k.contains("oauth"))
        .map(|(_, v)| *v)
        .sum();
    assert_eq!(writes, 1, "only the desk's own import before the check: {:?}", sim.stats().by_route);
    // Stored as the last check.
    let last = app.remote_check_last(&s).unwrap().unwrap();
    assert_eq!(last.at, r.at);
}

#[test]
fn each_contradicted_shape_is_named_with_the_value_seen() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = linked_desk(&sim);
    for c in Contradiction::ALL {
        let id = c.id();
        assert!(ASSUMPTIONS.iter().any(|a| a.id == id), "the simulator's {id} is one of the client's assumptions");
        sim.set_contradiction(Some(c));
        if c == Contradiction::RetryAfterDate {
            // A 429 is needed to see Retry-After: the next GET /team is throttled.
            sim.set_faults(FaultConfig {
                script: vec![ScriptedFault { kind: FaultKind::Throttle, matches: Some("GET /v2/team".into()) }],
                ..FaultConfig::default()
            })
            .unwrap();
        }
        let r = check(&mut app, &s, &sim);
        sim.set_faults(FaultConfig::default()).unwrap();
        let a = r.get(&id).unwrap();
        assert_eq!(a.result, Verdict::Contradicted, "{id}: {r:#?}");
        let seen = a.seen.clone().unwrap_or_default();
        assert!(!seen.is_empty(), "{id}: the value seen is said");
        let others: Vec<&str> = r.contradicted().map(|a| a.id.as_str()).filter(|o| *o != id).collect();
        assert!(others.is_empty(), "{id} contradicts only itself, not {others:?}: {r:#?}");
        eprintln!("{id}: {seen}");
    }
    sim.set_contradiction(None);
    let r = check(&mut app, &s, &sim);
    assert_eq!(r.count(Verdict::Contradicted), 0, "{r:#?}");
    assert!(r.push_held_by.is_empty(), "a clean check clears every hold");
}

#[test]
fn the_values_seen_are_the_ones_answered() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = linked_desk(&sim);
    let seen = |app: &mut App, c: Contradiction| {
        sim.set_contradiction(Some(c));
        check(app, &s, &sim).get(&c.id()).unwrap().seen.clone().unwrap()
    };
    assert!(seen(&mut app, Contradiction::StatusCasing).contains("\"Current\""));
    assert!(seen(&mut app, Contradiction::TeamsCasing).contains("\"teamId\" instead of \"TeamId\""));
    assert!(seen(&mut app, Contradiction::SitesTimezone).contains("no TimeZone"));
    assert!(seen(&mut app, Contradiction::JobStatusValue).contains("\"completed\""));
    assert!(seen(&mut app, Contradiction::UnknownJob400).contains("HTTP 400"));
    assert!(seen(&mut app, Contradiction::BadToken403).contains("HTTP 403"));
    assert!(seen(&mut app, Contradiction::PhoneRenamed).contains("MobilePhone"));
    assert!(seen(&mut app, Contradiction::TokenShape).contains("accessToken"));
}

#[test]
fn a_push_waits_while_a_push_relevant_assumption_is_contradicted() {
    let sim = start_sim(FaultConfig::default());
    let (mut app, s) = linked_desk(&sim);
    let r = remote(&sim);
    let pass = |app: &mut App| rt().block_on(sync_pass(app, &s, &r, &SyncOptions::fast(), None)).unwrap();

    // Not push-relevant: the push goes on.
    sim.set_contradiction(Some(Contradiction::OnboardedAtFormat));
    let report = check(&mut app, &s, &sim);
    assert_eq!(verdict(&report, "residents.onboarded_at"), Verdict::Contradicted);
    assert!(report.push_held_by.is_empty());

    // Push-relevant: held, and said.
    sim.set_contradiction(Some(Contradiction::StatusCasing));
    let report = check(&mut app, &s, &sim);
    assert_eq!(report.push_held_by.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(), ["residents.status"]);
    sim.set_contradiction(None);
    app.resident_add(&s, "Hudson", &resident(10)).unwrap();
    let before = sim.data().residents.len();
    let pass_report = pass(&mut app);
    assert_eq!(pass_report.push_held, ["residents.status"]);
    let why = &pass_report.errors[0];
    assert!(why.contains("push held") && why.contains("residents.status") && why.contains("Current"), "{why}");
    assert_eq!(pass_report.done, 0);
    assert!(pass_report.sites_pulled > 0, "pull goes on");
    assert_eq!(sim.data().residents.len(), before, "nothing was sent");
    let st = app.sync_status(&s).unwrap();
    assert_eq!(st.pending, 1);
    assert!(st.last_error.as_deref().is_some_and(|e| e.contains("residents.status")), "{st:?}");

    // A check that cannot reach the remote keeps the hold.
    let unreachable = residentdesk::sync::client::HttpRemote::new(
        "http://127.0.0.1:9/v2",
        residentdesk::sync::client::Credentials { email: SVC.0.into(), password: SVC.1.into() },
    )
    .unwrap();
    let offline = rt().block_on(remote_check_with(&mut app, &s, &unreachable)).unwrap();
    assert!(!offline.reached && offline.stopped.is_some());
    assert_eq!(offline.push_held_by.len(), 1, "{offline:#?}");
    assert_eq!(pass(&mut app).push_held, ["residents.status"]);

    // A check where it holds clears it; the change goes out.
    let clean = check(&mut app, &s, &sim);
    assert_eq!(verdict(&clean, "residents.status"), Verdict::Held);
    assert!(clean.push_held_by.is_empty());
    let pass_report = pass(&mut app);
    assert!(pass_report.push_held.is_empty());
    assert_eq!(pass_report.done, 1, "{pass_report:?}");
    assert_eq!(sim.data().residents.len(), before + 1);

    // Each check is audited: who ran it and what it found.
    let audit = residentdesk::store::audit::list(app.conn(), None, None, 1000).unwrap();
    assert!(audit.iter().any(|e| e.action == "remote.check"));
    assert!(audit.iter().any(|e| e.action == "remote.check.result" && e.outcome == "contradicted"));
}

#[test]
fn the_cli_prints_the_report_and_exits_6_on_a_contradiction() {
    let sim = sitemanager_sim::Sim::start(sitemanager_sim::SimConfig::with_seed(seed())).unwrap();
    let w = Work::new();
    let mut init = w.cli(true, None, &["init", "--admin-email", ADMIN.0, "--team", "Riverside"]);
    init.env("RESIDENTDESK_PASSWORD", ADMIN.1);
    crate::fixture::Run::from(init.output().unwrap()).ok();
    let run = |args: &[&str]| {
        let mut cmd = w.cli(true, Some(ADMIN), args);
        cmd.env("RESIDENTDESK_REMOTE_PASSWORD", SVC.1).env("RESIDENTDESK_NO_KEYRING", "1");
        crate::fixture::Run::from(cmd.output().unwrap())
    };
    let url = sim.base_url();
    let r = run(&["remote", "check", "--remote", &url, "--remote-user", SVC.0]);
    r.ok();
    let report = &r.json()["report"];
    assert_eq!(report["remote_url"], url.as_str());
    assert!(report["assumptions"].as_array().unwrap().iter().all(|a| a["result"] != "contradicted"));
    assert!(report["calls"][0]["latency_ms"].is_number());

    sim.set_contradiction(Some(Contradiction::EnvelopeCasing));
    let r = run(&["remote", "check"]);
    r.fails(6);
    let found = r.json()["report"]["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "residents.envelope")
        .cloned()
        .unwrap();
    assert_eq!(found["result"], "contradicted");
    assert!(found["seen"].as_str().unwrap().contains("\"residents\""), "{found}");
    assert_eq!(r.error()["code"], "conflict");

    // The human table names it too.
    let mut cmd = w.cli(false, Some(ADMIN), &["remote", "check"]);
    cmd.env("RESIDENTDESK_NO_KEYRING", "1");
    let human = crate::fixture::Run::from(cmd.output().unwrap());
    human.fails(6);
    assert!(human.stdout.contains("residents.envelope") && human.stdout.contains("CONTRADICTED"), "{}", human.stdout);
    assert!(human.stdout.contains("The push is held"), "{}", human.stdout);
}
