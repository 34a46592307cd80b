//! Pull at scale (issue #17): an in-process `sitemanager-sim` holding 1,000,000 residents
//! over 2,500 sites (400 per site, the demo's shape, one team), pulled on loopback into an
//! empty encrypted desk through the app's sync pass:
//! - the first pull (target < 30 s);
//! - an unchanged pull (target < 5 s: nothing that did not change is written);
//! - a pull with 1 % of the residents changed on the remote (target < 10 s);
//! - issue #17's bad input: one site of 200,000 residents in one answer, pulled into a second
//!   empty desk, with the process's peak resident memory (VmHWM, reset before the phase) and
//!   its growth over the phase (`BENCH_SCALE_BIG=N` for another size, 0 to skip).
//!
//! `cargo xtask bench scale` (with `bench_scale`), or
//! `cargo run --release --example bench_scale_pull`. `BENCH_SCALE_SITES=N` for a smaller run.

/// The desktop app's allocator: these in-process figures are the desktop's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use residentdesk::app::sync::sync_pass;
use residentdesk::sync::client::{Credentials, HttpRemote, RemoteApi, ResidentsAnswer};
use residentdesk::sync::SyncOptions;
use residentdesk::{App, SystemClock};
use sitemanager_sim::model::{Mapping, Team};
use sitemanager_sim::seed::{SeedResident, SeedSite};
use sitemanager_sim::{Account, AccountLevel, Seed, Sim, SimConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SVC: (&str, &str) = ("scale-svc@sim.test", "scale-svc-password");
const ADMIN: (&str, &str) = ("admin@scale.test", "Scale-Admin-2026-pass");
const PER_SITE: usize = 400;

const FIRST: [&str; 8] = ["Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Chloe", "Lucas"];
const LAST: [&str; 8] = ["Wilson", "Garcia", "Nguyen", "Patel", "Smith", "Johnson", "Brown", "Kim"];

fn seed(sites: usize, per_site: usize) -> Seed {
    let day = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let mut seed = Seed {
        teams: vec![Team { team_id: "ST".into(), name: "Scale".into() }],
        accounts: vec![Account {
            email: SVC.0.into(),
            password: SVC.1.into(),
            level: AccountLevel::TeamAdmin,
            team_ids: vec!["ST".into()],
            site_ids: vec![],
        }],
        ..Seed::default()
    };
    for s in 0..sites {
        let site_id = format!("SS{s:04}");
        let mappings: Vec<Mapping> = (0..per_site + 10)
            .map(|u| Mapping {
                building: ["A", "B", "C"][u % 3].into(),
                floor: format!("{}", u / 60 + 1),
                unit: format!("{u:04}"),
                passphrase: format!("pass-{s}-{u}"),
                ssid: format!("Site {s} WiFi"),
                vlan: format!("{}", 100 + u),
            })
            .collect();
        for (i, m) in mappings.iter().enumerate().take(per_site) {
            seed.residents.push(SeedResident {
                resident_id: Some(format!("r-{s}-{i}")),
                site_id: site_id.clone(),
                first_name: FIRST[i % FIRST.len()].into(),
                last_name: LAST[(i / FIRST.len() + s) % LAST.len()].into(),
                email: format!("r{s}x{i}@scale.example"),
                phone: Some(format!("555-{:03}-{i:04}", s % 1000)),
                building: m.building.clone(),
                floor: m.floor.clone(),
                unit: m.unit.clone(),
                activation_utc: day - chrono::Duration::days(30 + (i % 300) as i64),
                deactivation_utc: (i % 20 == 18).then(|| day + chrono::Duration::days(90)),
                onboarded_at: (i % 5 != 0).then(|| day - chrono::Duration::days(29)),
                suspended: i % 50 == 7,
            });
        }
        seed.sites.push(SeedSite {
            site_id,
            team_id: "ST".into(),
            name: format!("Scale Site {s:04}"),
            site_type: ["PPK-C", "PPK-D", "PSK"][s % 3].into(),
            time_zone: ["America/Chicago", "America/New_York", "America/Denver"][s % 3].into(),
            service_area_number: format!("SA-{s}"),
            mappings,
        });
    }
    seed
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

fn main() {
    let sites: usize = std::env::var("BENCH_SCALE_SITES").ok().and_then(|v| v.parse().ok()).unwrap_or(2500);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async move {
        let residents = sites * PER_SITE;
        let t = Instant::now();
        let sim = Sim::start(SimConfig::with_seed(seed(sites, PER_SITE))).expect("sim");
        println!(
            "pull at scale: simulator seeded with {residents} residents over {sites} sites in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        // The simulator builds each resident's answer once, at its first listing: a remote's
        // own work, on its own machine; here it would share the desk's 2 cores during the
        // first pull. Built before, and timed apart, so the first pull is the desk's.
        let t = Instant::now();
        let answer_bytes: usize = sim.world(|w| {
            let sites = w.data.sites.clone();
            sites.iter().map(|site| w.site_wire_json(site).len()).sum()
        });
        println!(
            "  simulator's answer cache: {:.0} MB of answers built in {:.1} s before the pulls (the remote's work)",
            answer_bytes as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let mut app = App::open(&dir.path().join("scale-pull.db"), Arc::new(SystemClock)).expect("open the desk");
        assert!(app.is_encrypted(), "the bench desk is encrypted, as installed (RESIDENTDESK_DB_KEY is set by cargo)");
        let s = app.init(ADMIN.0, ADMIN.1, "Scale").expect("init");
        let r = HttpRemote::new(&sim.base_url(), Credentials { email: SVC.0.into(), password: SVC.1.into() })
            .expect("client");
        // Targets for 1,000,000 residents, scaled to the run's size.
        let scale = residents as f64 / 1e6;
        for (label, change, target) in [
            ("first pull (empty desk)", false, 30.0),
            ("unchanged pull", false, 5.0),
            ("pull with 1 % changed", true, 10.0),
        ] {
            if change {
                sim.world(|w| {
                    for (n, res) in w.data.residents.values_mut().enumerate() {
                        if n % 100 == 0 {
                            res.first_name = format!("{}-changed", res.first_name);
                        }
                    }
                });
                // The changed residents' answers are rebuilt before, as for the first pull:
                // the remote's work, timed apart.
                let t = Instant::now();
                sim.world(|w| {
                    let sites = w.data.sites.clone();
                    sites.iter().for_each(|site| drop(w.site_wire_json(site)));
                });
                println!(
                    "  (the simulator rebuilt the changed answers in {:.1} s before the next pull: the remote's work)",
                    t.elapsed().as_secs_f64()
                );
            }
            let before = r.requests_sent();
            let t = Instant::now();
            let rep = sync_pass(&mut app, &s, &r, &SyncOptions::default(), None).await.expect("pull");
            let wall = t.elapsed();
            let target = Duration::from_secs_f64(target * scale);
            println!(
                "  {label:<26} {:>7.2} s  (target < {:.1} s: {}); {} requests; merge + writes {:.0} ms, of which merge \
                 computation {:.0} ms; inserted {}, updated {}, sites pulled {} ({} unchanged: not merged), failed {}",
                wall.as_secs_f64(),
                target.as_secs_f64(),
                verdict(wall < target),
                r.requests_sent() - before,
                rep.merge_ms,
                rep.merge_cpu_ms,
                rep.residents_inserted,
                rep.residents_updated,
                rep.sites_pulled,
                rep.sites_unchanged,
                rep.sites_failed
            );
            assert!(rep.errors.is_empty(), "{:?}", rep.errors);
        }
        let size = std::fs::metadata(dir.path().join("scale-pull.db")).map(|m| m.len()).unwrap_or(0);
        println!("  desk database after the pulls: {:.0} MB", size as f64 / 1e6);
        drop(app);
        drop(sim);
        let big: usize = std::env::var("BENCH_SCALE_BIG").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
        if big > 0 {
            // The desk alone first: memory the in-process phase frees stays with the allocator
            // and would be reused unseen by a pull measured after it.
            one_big_site_apart(big).await;
            one_big_site(big).await;
        }
    });
}

/// A field of `/proc/self/status` in MB (Linux; 0 elsewhere).
fn status_mb(field: &str) -> f64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = text
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok()));
    kib.unwrap_or(0.0) / 1024.0
}

/// One site of `n` residents in one answer, into an empty desk: the peak memory of the pull.
async fn one_big_site(n: usize) {
    let sim = Sim::start(SimConfig::with_seed(seed(1, n))).expect("sim");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = App::open(&dir.path().join("big-site.db"), Arc::new(SystemClock)).expect("open the desk");
    let s = app.init(ADMIN.0, ADMIN.1, "Scale").expect("init");
    let r =
        HttpRemote::new(&sim.base_url(), Credentials { email: SVC.0.into(), password: SVC.1.into() }).expect("client");
    // The simulator runs in this process: its per-resident answer cache is made by the first
    // listing of the site, here, so the phase's growth is the desk's pull (and the answer's
    // bytes on the simulator's side while they are sent). Read as the pull reads it (streamed
    // past `client::STREAM_ABOVE_BYTES`), each chunk dropped as it comes.
    async fn read_through(r: &HttpRemote) -> usize {
        match r.residents_answer("ST", "SS0000").await.expect("the simulator lists the site") {
            ResidentsAnswer::Streamed(mut stream) => {
                let mut n = 0;
                while let Some(chunk) = stream.next_chunk().await.expect("the answer") {
                    n += chunk.len();
                }
                n
            }
            ResidentsAnswer::Whole(body) => body.len(),
        }
    }
    let answer_mb = read_through(&r).await as f64 / 1e6;
    // The same read again: the simulator's and the transport's share of the pull's memory,
    // apart from the desk's merge.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_mb("VmRSS:");
    read_through(&r).await;
    let sent = status_mb("VmHWM:") - before;
    // Writing 5 to clear_refs resets VmHWM (the peak) to the current resident size.
    measured_pull(&mut app, &s, &r, n, Some(answer_mb), "simulator in this process").await;
    println!(
        "    the simulator sending the answer and the client reading it (a streamed read of the same answer, \
         dropped as it came): {sent:.0} MB"
    );
}

/// A pull into `app` with its peak memory: over the whole pass, and until the site's merge
/// committed (before the search indexes set aside for an empty desk are built).
async fn measured_pull(
    app: &mut App,
    s: &residentdesk::app::Session,
    r: &HttpRemote,
    n: usize,
    answer_mb: Option<f64>,
    how: &str,
) {
    // Writing 5 to clear_refs resets VmHWM (the peak) to the current resident size.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status_mb("VmRSS:");
    let t = Instant::now();
    // The peak when the last site's merge has committed (the pass's last "pull" progress),
    // before the pass builds the search indexes it set aside for an empty desk.
    let merged_peak = std::sync::Mutex::new(0.0f64);
    let progress = |p: residentdesk::sync::Progress| {
        if p.phase == "pull" && p.total > 0 && p.done == p.total {
            *merged_peak.lock().unwrap_or_else(|e| e.into_inner()) = status_mb("VmHWM:");
        }
    };
    let rep = sync_pass(app, s, r, &SyncOptions::default(), Some(&progress)).await.expect("pull");
    let merged_peak = *merged_peak.lock().unwrap_or_else(|e| e.into_inner());
    println!(
        "  one site of {n} residents ({how})  {:>7.2} s; inserted {}; answer {}; process peak RSS {:.0} MB \
         (VmHWM), {:.0} MB over the {:.0} MB before the pull",
        t.elapsed().as_secs_f64(),
        rep.residents_inserted,
        answer_mb.map_or("as below".to_string(), |mb| format!("{mb:.0} MB")),
        status_mb("VmHWM:"),
        status_mb("VmHWM:") - before,
        before
    );
    // What the figure is: on a first pull, the batches (and after the merge the search indexes
    // set aside for an empty desk); on a later one, the site's local marks, read whole.
    let what = if rep.residents_inserted > 0 {
        "the rest is the search indexes built after a first pull into an empty desk (sorted within the pull's page \
         cache)"
    } else {
        "a pull of a site the desk holds reads the site's local marks whole (about 60 bytes a resident: id, \
         remote id and digest as 128-bit keys, two sorted lookups), then batches of the answer and the page cache"
    };
    println!(
        "    until the site's merge committed: {:.0} MB over (target < 40 MB: {}); {what}",
        merged_peak - before,
        verdict(merged_peak - before < 40.0)
    );
    assert!(rep.errors.is_empty(), "{:?}", rep.errors);
}

/// The same pull with the simulator in its own process (its binary built beside this one,
/// `cargo build --release -p sitemanager-sim`), seeded from a file: the growth is the desk's
/// alone. Skipped when the binary is not there.
async fn one_big_site_apart(n: usize) {
    let bin = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("sitemanager-sim")))
        .filter(|bin| bin.exists());
    let Some(bin) = bin else {
        println!(
            "  (the simulator's binary is not built: `cargo build --release -p sitemanager-sim` for the desk alone)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let seed_file = dir.path().join("seed.json");
    std::fs::write(&seed_file, serde_json::to_vec(&seed(1, n)).expect("seed")).expect("seed file");
    let mut child = std::process::Command::new(bin)
        .arg("--seed")
        .arg(&seed_file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the simulator starts");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("its output"));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).expect("its address");
    let base = line.trim().strip_prefix("listening on ").expect("listening on URL").to_string();
    let mut app = App::open(&dir.path().join("big-site.db"), Arc::new(SystemClock)).expect("open the desk");
    let s = app.init(ADMIN.0, ADMIN.1, "Scale").expect("init");
    let r = HttpRemote::new(&base, Credentials { email: SVC.0.into(), password: SVC.1.into() }).expect("client");
    measured_pull(&mut app, &s, &r, n, None, "simulator in its own process").await;
    // Again, unchanged: every resident takes the digest fast path against the site's local
    // marks (ids, emails, digests: held for the whole site), then the merge is undone.
    measured_pull(&mut app, &s, &r, n, None, "again, unchanged").await;
    let _ = child.kill();
    let _ = child.wait();
}
