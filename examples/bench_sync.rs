//! Sync benchmarks on loopback against an in-process `sitemanager-sim`:
//!
//! - push: 10,000 queued changes over 25 sites (10,000 creates through import jobs, then
//!   10,000 terminations through bulk-action jobs) — requests sent per change and wall time;
//! - pull: 100,000 residents over 250 sites into an empty desk, then a steady-state pull and
//!   one with 1 % remote changes — wall time and merge time.
//!
//! `cargo run --release --example bench_sync` (also run by `cargo xtask bench`).

/// The desktop app's allocator: these in-process figures are the desktop's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use residentdesk::app::sync::sync_pass;
use residentdesk::app::{ResidentInput, Session};
use residentdesk::domain::BulkAction;
use residentdesk::sync::client::{Credentials, HttpRemote};
use residentdesk::sync::{PassReport, SyncOptions};
use residentdesk::{App, SystemClock};
use sitemanager_sim::model::{Mapping, Team};
use sitemanager_sim::seed::{SeedResident, SeedSite};
use sitemanager_sim::{Account, AccountLevel, Seed, Sim, SimConfig, SimHandle};
use std::sync::Arc;
use std::time::Instant;

const SVC: (&str, &str) = ("bench-svc@sim.test", "bench-svc-password");
const ADMIN: (&str, &str) = ("admin@bench.test", "Bench-Admin-2026-pass");

fn seed(sites: usize, residents_per_site: usize, units_per_site: usize) -> Seed {
    let day = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let mut seed = Seed {
        teams: vec![Team { team_id: "BT".into(), name: "Bench".into() }],
        accounts: vec![Account {
            email: SVC.0.into(),
            password: SVC.1.into(),
            level: AccountLevel::TeamAdmin,
            team_ids: vec!["BT".into()],
            site_ids: vec![],
        }],
        ..Seed::default()
    };
    for s in 0..sites {
        let site_id = format!("BS{s:03}");
        let mappings: Vec<Mapping> = (0..units_per_site)
            .map(|u| Mapping {
                building: "B".into(),
                floor: format!("{}", u / 100),
                unit: format!("{u:04}"),
                passphrase: format!("p{u}"),
                ssid: "Bench".into(),
                vlan: format!("{}", 100 + u),
            })
            .collect();
        for (i, m) in mappings.iter().enumerate().take(residents_per_site) {
            seed.residents.push(SeedResident {
                resident_id: Some(format!("r-{s}-{i}")),
                site_id: site_id.clone(),
                first_name: format!("First{i}"),
                last_name: format!("Last{s}"),
                email: format!("r{s}x{i}@bench.example"),
                phone: Some(format!("555-{i:04}")),
                building: m.building.clone(),
                floor: m.floor.clone(),
                unit: m.unit.clone(),
                activation_utc: day - chrono::Duration::days(30),
                deactivation_utc: None,
                onboarded_at: (i % 2 == 0).then(|| day - chrono::Duration::days(29)),
                suspended: false,
            });
        }
        seed.sites.push(SeedSite {
            site_id,
            team_id: "BT".into(),
            name: format!("Site {s:03}"),
            site_type: "PPK-C".into(),
            time_zone: "America/Chicago".into(),
            service_area_number: format!("SA-{s}"),
            mappings,
        });
    }
    seed
}

fn desk(dir: &std::path::Path) -> (App, Session) {
    let mut app = App::open(&dir.join("bench.db"), Arc::new(SystemClock)).expect("open the bench database");
    let s = app.init(ADMIN.0, ADMIN.1, "Bench").expect("init");
    (app, s)
}

fn remote(sim: &SimHandle) -> HttpRemote {
    HttpRemote::new(&sim.base_url(), Credentials { email: SVC.0.into(), password: SVC.1.into() }).expect("client")
}

/// Passes until nothing is pending or in flight; returns the reports.
async fn sync_all(app: &mut App, s: &Session, r: &HttpRemote) -> Vec<PassReport> {
    let mut reports = Vec::new();
    for _ in 0..20 {
        let rep = sync_pass(app, s, r, &SyncOptions::default(), None).await.expect("sync pass");
        reports.push(rep);
        let st = app.sync_status(s).expect("status");
        if st.pending == 0 && st.in_flight == 0 {
            break;
        }
    }
    reports
}

async fn push_bench() {
    let sim = Sim::start(SimConfig::with_seed(seed(25, 0, 1000))).expect("sim");
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut app, s) = desk(dir.path());
    let r = remote(&sim);
    sync_all(&mut app, &s, &r).await;
    let sites: Vec<String> = app.site_list(&s).expect("sites").iter().map(|x| x.site.id.to_string()).collect();
    assert_eq!(sites.len(), 25);
    // Queueing is not what is measured: commit the 10,000 local edits without an fsync each.
    app.conn_mut().pragma_update(None, "synchronous", "NORMAL").expect("pragma");
    let t = Instant::now();
    for (n, site) in sites.iter().enumerate() {
        for i in 0..400 {
            let input = ResidentInput {
                first_name: format!("New{i}"),
                last_name: format!("Site{n}"),
                email: format!("new{n}x{i}@bench.example"),
                phone: Some(format!("555-{i:04}")),
                building: "B".into(),
                floor: format!("{}", i / 100),
                unit: format!("{i:04}"),
                start: "2026-01-05".into(),
                end: None,
            };
            app.resident_add(&s, site, &input).expect("queue a create");
        }
    }
    let queued = t.elapsed();
    app.conn_mut().pragma_update(None, "synchronous", "FULL").expect("pragma");
    sim.reset_stats();
    let before = r.requests_sent();
    let t = Instant::now();
    let reps = sync_all(&mut app, &s, &r).await;
    let wall = t.elapsed();
    let sent = r.requests_sent() - before;
    let done: u64 = reps.iter().map(|x| x.done).sum();
    let rejected: u64 = reps.iter().map(|x| x.rejected).sum();
    assert_eq!((done, rejected), (10_000, 0), "{reps:?}");
    assert_eq!(sim.data().residents.len(), 10_000);
    println!(
        "push creates: 10000 changes / 25 sites (queued in {:.1} s): {} requests ({:.4} per change; {} import jobs), \
         {:.2} s wall, {} passes",
        queued.as_secs_f64(),
        sent,
        sent as f64 / 10_000.0,
        reps.iter().map(|x| x.jobs.get("import").copied().unwrap_or(0)).sum::<u64>(),
        wall.as_secs_f64(),
        reps.len()
    );
    for (n, site) in sites.iter().enumerate() {
        let ids: Vec<String> = (0..400).map(|i| format!("new{n}x{i}@bench.example")).collect();
        app.bulk(&s, BulkAction::Terminate, site, &ids).expect("queue terminations");
    }
    let before = r.requests_sent();
    let t = Instant::now();
    let reps = sync_all(&mut app, &s, &r).await;
    let wall = t.elapsed();
    let sent = r.requests_sent() - before;
    let done: u64 = reps.iter().map(|x| x.done).sum();
    assert_eq!(done, 10_000, "{reps:?}");
    println!(
        "push terminations: 10000 changes / 25 sites: {} requests ({:.4} per change; {} bulk jobs), {:.2} s wall",
        sent,
        sent as f64 / 10_000.0,
        reps.iter().map(|x| x.jobs.get("bulk").copied().unwrap_or(0)).sum::<u64>(),
        wall.as_secs_f64()
    );
    println!("  (requests include the pull of each pass: GET /team, GET sites, and per site GET mappings + residents)");
}

async fn pull_bench() {
    let t = Instant::now();
    let sim = Sim::start(SimConfig::with_seed(seed(250, 400, 400))).expect("sim");
    println!("pull: simulator seeded with 100000 residents over 250 sites in {:.1} s", t.elapsed().as_secs_f64());
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut app, s) = desk(dir.path());
    let r = remote(&sim);
    for (label, change) in
        [("first pull (empty desk)", false), ("steady-state pull", false), ("pull with 1% remote changes", true)]
    {
        if change {
            sim.world(|w| {
                for (n, res) in w.data.residents.values_mut().enumerate() {
                    if n % 100 == 0 {
                        res.first_name = format!("{}-changed", res.first_name);
                    }
                }
            });
        }
        let t = Instant::now();
        let rep = sync_pass(&mut app, &s, &r, &SyncOptions::default(), None).await.expect("pull");
        let wall = t.elapsed();
        println!(
            "{label}: {:.2} s wall for 100000 residents / 250 sites; merge + local writes {:.0} ms, of which merge \
             computation {:.0} ms; inserted {}, updated {}, sites pulled {}",
            wall.as_secs_f64(),
            rep.merge_ms,
            rep.merge_cpu_ms,
            rep.residents_inserted,
            rep.residents_updated,
            rep.sites_pulled
        );
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        push_bench().await;
        pull_bench().await;
    });
}
