//! Crash harness for sync: runs `residentdesk sync` as a child process against an
//! in-process `sitemanager-sim`, kills it with SIGKILL at seeded random points (before
//! sending, while the remote applies, during import and bulk-action jobs, before the local
//! commit), restarts it until a pass completes, and checks the local and remote end states
//! exactly against a run without kills: no change lost, no resident created twice, every
//! entry done.
//!
//! `cargo run --release --example crash_sync -- [TRIALS] [SEED]` (default 50 trials).
//! The integration tests run a few trials through [`run_trials`].

use residentdesk::app::{ResidentInput, ResidentPatch};
use residentdesk::domain::{BulkAction, StatusChange};
use residentdesk::{store, App, SystemClock};
use sitemanager_sim::model::{Mapping, Team};
use sitemanager_sim::seed::{SeedResident, SeedSite};
use sitemanager_sim::{Account, AccountLevel, Seed, Sim, SimConfig, SimHandle};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SVC: (&str, &str) = ("crash-svc@sim.test", "crash-svc-password");
const ADMIN: (&str, &str) = ("admin@crash.test", "Crash-Admin-2026-pass");

fn seed() -> Seed {
    let day = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let mappings: Vec<Mapping> = (100..=199)
        .map(|u| Mapping {
            building: "A".into(),
            floor: "1".into(),
            unit: u.to_string(),
            passphrase: format!("p{u}"),
            ssid: "Net".into(),
            vlan: u.to_string(),
        })
        .collect();
    let site = |id: &str, name: &str| SeedSite {
        site_id: id.into(),
        team_id: "CT".into(),
        name: name.into(),
        site_type: "PPK-C".into(),
        time_zone: "America/Chicago".into(),
        service_area_number: "C-1".into(),
        mappings: mappings.clone(),
    };
    let residents = (0..7)
        .map(|i| SeedResident {
            resident_id: Some(format!("crash-rem-{i}")),
            site_id: "CS1".into(),
            first_name: format!("Remote{i}"),
            last_name: "Person".into(),
            email: format!("crash-remote{i}@example.com"),
            phone: None,
            building: "A".into(),
            floor: "1".into(),
            unit: (190 + i).to_string(),
            activation_utc: day - chrono::Duration::days(30),
            deactivation_utc: None,
            onboarded_at: Some(day - chrono::Duration::days(29)),
            suspended: false,
        })
        .collect();
    Seed {
        now: None,
        frozen: false,
        teams: vec![Team { team_id: "CT".into(), name: "Crash Team".into() }],
        sites: vec![site("CS1", "North"), site("CS2", "South")],
        residents,
        accounts: vec![Account {
            email: SVC.0.into(),
            password: SVC.1.into(),
            level: AccountLevel::TeamAdmin,
            team_ids: vec!["CT".into()],
            site_ids: vec![],
        }],
    }
}

/// Runs the CLI; returns (exit code, stderr).
fn cli(bin: &Path, db: &Path, args: &[&str], stdin: Option<&str>) -> Result<(i32, String), String> {
    let mut cmd = Command::new(bin);
    cmd.arg("--db").arg(db).args(args).env("RESIDENTDESK_PASSWORD", ADMIN.1);
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if let (Some(text), Some(mut w)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        w.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    Ok((out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned()))
}

/// A fresh simulator and a database linked to it by one first sync, with the local changes
/// of the scenario queued.
fn prepare(bin: &Path, dir: &Path) -> Result<(SimHandle, PathBuf), String> {
    let sim = Sim::start(SimConfig::with_seed(seed()).job_duration_ms(150)).map_err(|e| e.to_string())?;
    let db = dir.join("desk.db");
    let (code, err) = cli(bin, &db, &["init", "--admin-email", ADMIN.0, "--team", "Crash Team"], None)?;
    if code != 0 {
        return Err(format!("init failed ({code}): {err}"));
    }
    let url = sim.base_url();
    let args = ["--as", ADMIN.0, "sync", "--remote", &url, "--remote-user", SVC.0, "--remote-password-stdin"];
    let (code, err) = cli(bin, &db, &args, Some(&format!("{}\n", SVC.1)))?;
    if code != 0 {
        return Err(format!("first sync failed ({code}): {err}"));
    }
    queue_changes(&db).map_err(|e| format!("queueing changes: {e}"))?;
    Ok((sim, db))
}

fn queue_changes(db: &Path) -> Result<(), residentdesk::AppError> {
    let mut app = App::open(db, Arc::new(SystemClock))?;
    let s = app.sign_in(ADMIN.0, ADMIN.1)?;
    let sites = app.site_list(&s)?;
    let id = |name: &str| sites.iter().find(|x| x.site.name == name).map(|x| x.site.id.to_string()).unwrap_or_default();
    let (north, south) = (id("North"), id("South"));
    let input = |i: u32, first: &str| ResidentInput {
        first_name: first.into(),
        last_name: "Queued".into(),
        email: format!("q{i}@example.com"),
        phone: Some(format!("555-{i:04}")),
        building: "A".into(),
        floor: "1".into(),
        unit: (100 + i).to_string(),
        start: "2026-01-10".into(),
        end: None,
    };
    for i in 0..25 {
        app.resident_add(&s, &north, &input(i, &format!("N{i}")))?;
    }
    for i in 25..27 {
        app.resident_add(&s, &south, &input(i, &format!("S{i}")))?;
    }
    app.resident_update(
        &s,
        "q3@example.com",
        &ResidentPatch { last_name: Some("Renamed".into()), ..Default::default() },
    )?;
    app.resident_update(
        &s,
        "crash-remote0@example.com",
        &ResidentPatch { first_name: Some("Edited".into()), ..Default::default() },
    )?;
    app.resident_set_status(&s, "crash-remote1@example.com", StatusChange::Disabled)?;
    app.resident_terminate(&s, "crash-remote2@example.com")?;
    app.resident_purge(&s, "crash-remote3@example.com")?;
    app.bulk(&s, BulkAction::Suspend, &north, &["crash-remote0@example.com".into()])?;
    // Three at once: a bulk-action job.
    let many: Vec<String> = (4..7).map(|i| format!("crash-remote{i}@example.com")).collect();
    app.bulk(&s, BulkAction::Suspend, &north, &many)?;
    Ok(())
}

/// What must be equal at the end: remote residents, local residents, outbox states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndState {
    pub remote: BTreeMap<String, String>,
    pub local: BTreeMap<String, String>,
    pub outbox: BTreeMap<String, i64>,
}

fn end_state(sim: &SimHandle, db: &Path) -> Result<EndState, String> {
    let d = sim.data();
    let remote = d
        .residents
        .values()
        .map(|r| {
            let v = format!(
                "{}|{}|{}|{}|{:?}|{}",
                r.site_id,
                r.first_name,
                r.last_name,
                r.unit,
                r.deactivation_utc.map(|t| t.timestamp()),
                r.suspended
            );
            (r.email.clone(), v)
        })
        .collect();
    let conn = store::open(db).map_err(|e| e.to_string())?;
    let mut local = BTreeMap::new();
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM sites")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| e.to_string())?;
    for id in ids {
        let site =
            store::sites::get(&conn, id).map_err(|e| e.to_string())?.and_then(|s| s.remote_id).unwrap_or_default();
        for r in store::residents::list_site(&conn, id).map_err(|e| e.to_string())? {
            let v = format!(
                "{}|{}|{}|{}|{:?}|{}",
                site,
                r.first_name,
                r.last_name,
                r.unit,
                r.deactivation_utc.map(|t| t.timestamp()),
                r.suspended
            );
            local.insert(r.email.clone(), v);
        }
    }
    let outbox = store::outbox::counts(&conn).map_err(|e| e.to_string())?.into_iter().collect();
    Ok(EndState { remote, local, outbox })
}

/// Runs `sync` until a pass completes with nothing pending or in flight.
fn finish(bin: &Path, db: &Path) -> Result<(), String> {
    for _ in 0..20 {
        let (code, err) = cli(bin, db, &["--as", ADMIN.0, "sync"], None)?;
        if code != 0 {
            return Err(format!("sync after the kills failed ({code}): {err}"));
        }
        let conn = store::open(db).map_err(|e| e.to_string())?;
        let counts: BTreeMap<String, i64> =
            store::outbox::counts(&conn).map_err(|e| e.to_string())?.into_iter().collect();
        if !counts.contains_key("pending") && !counts.contains_key("in_flight") {
            return Ok(());
        }
    }
    Err("sync did not finish within 20 passes".into())
}

/// The end state of a run without kills, and how long its first sync took (the window the
/// kills are drawn from).
pub fn reference(bin: &Path) -> Result<(EndState, Duration), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (sim, db) = prepare(bin, dir.path())?;
    let t = Instant::now();
    finish(bin, &db)?;
    let took = t.elapsed();
    Ok((end_state(&sim, &db)?, took))
}

/// One trial: up to `kills` SIGKILLs at seeded random delays, then completion; compared
/// with `want`. Returns how many kills landed while the child was still running.
pub fn trial(bin: &Path, seed: u64, kills: usize, window: Duration, want: &EndState) -> Result<usize, String> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (sim, db) = prepare(bin, dir.path())?;
    let mut landed = 0;
    for _ in 0..kills {
        let mut child = Command::new(bin)
            .arg("--db")
            .arg(&db)
            .args(["--as", ADMIN.0, "sync"])
            .env("RESIDENTDESK_PASSWORD", ADMIN.1)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let wait = Duration::from_micros(rng.random_range(0..window.as_micros().max(1) as u64));
        let start = Instant::now();
        while start.elapsed() < wait {
            if child.try_wait().map_err(|e| e.to_string())?.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        if child.try_wait().map_err(|e| e.to_string())?.is_none() {
            child.kill().map_err(|e| e.to_string())?; // SIGKILL on Unix
            landed += 1;
        }
        let _ = child.wait();
    }
    finish(bin, &db)?;
    let got = end_state(&sim, &db)?;
    if &got != want {
        return Err(format!("seed {seed}: end state differs\n got: {got:?}\nwant: {want:?}"));
    }
    let emails: Vec<String> = sim.data().residents.values().map(|r| r.email.clone()).collect();
    let unique: std::collections::BTreeSet<&String> = emails.iter().collect();
    if unique.len() != emails.len() {
        return Err(format!("seed {seed}: a resident was created twice"));
    }
    Ok(landed)
}

/// Runs `n` trials from `seed`; returns the number of kills that landed.
pub fn run_trials(bin: &Path, n: usize, seed: u64) -> Result<usize, String> {
    let (want, window) = reference(bin)?;
    if want.outbox.keys().any(|k| k != "done") {
        return Err(format!("the reference run did not end with every entry done: {:?}", want.outbox));
    }
    let mut landed = 0;
    for i in 0..n {
        landed += trial(bin, seed.wrapping_add(i as u64), 3, window, &want)?;
    }
    Ok(landed)
}

#[allow(dead_code)]
fn main() {
    let mut args = std::env::args().skip(1);
    let trials: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/examples/crash_sync → target/<profile>/residentdesk, built now so the
    // harness always kills the current CLI.
    let profile_dir = exe.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "-p", "residentdesk", "--bin", "residentdesk"]);
    if release {
        build.arg("--release");
    }
    match build.status() {
        Ok(s) if s.success() => {}
        other => {
            eprintln!("crash_sync: cannot build the residentdesk CLI: {other:?}");
            std::process::exit(2);
        }
    }
    let bin = profile_dir.join("residentdesk");
    let started = Instant::now();
    match run_trials(&bin, trials, seed) {
        Ok(landed) => println!(
            "crash_sync: {trials} trials passed ({landed} SIGKILLs landed mid-sync) in {:.1} s",
            started.elapsed().as_secs_f64()
        ),
        Err(e) => {
            eprintln!("crash_sync: FAILED: {e}");
            std::process::exit(1);
        }
    }
}
