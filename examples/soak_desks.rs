//! Many desks, one remote (issue #17): a soak of N desks — each its own database and its own
//! process — over one `sitemanager-sim` with faults on (dropped connections before and after
//! the remote applies a request, 5xx, 429, latency). For a bounded time every desk edits
//! residents (names and phones, the same residents as the other desks), suspends and lifts
//! suspensions, adds residents and imports small CSV files into units of its own, and syncs on
//! its own timer with the adaptive pull schedule; meanwhile desks are killed with SIGKILL at
//! random and started again. Then the faults stop, every desk syncs until quiet and a scripted
//! person decides every conflict (keep this desk's or Site Manager's value, at random) and
//! every refused change (given up). It checks that:
//! - every desk's residents equal the remote's (the whole team is every desk's scope);
//! - nothing was created twice (every resident a desk added is on the remote once);
//! - no edit was lost without a decision: where a desk's last value of a field is not the
//!   final one, another desk changed it having seen that value, or a person decided a conflict
//!   about that resident. The one exception it names apart, and does not fail on, is a write
//!   overwritten inside the API's read-then-PUT window: the remote's record of reads and writes
//!   (`sitemanager_sim::history`; each desk has its own service account) shows the overwriting
//!   desk's fresh read, just before its PUT, came before the lost write reached the remote —
//!   a PUT with no condition lets no client see it (docs/ARCHITECTURE.md, "Many desks").
//!
//! It prints requests per change, conflicts per 1,000 edits and the time to converge.
//!
//! `cargo run --release --example soak_desks -- [--desks N] [--seconds S] [--seed X]`
//! (default 8 desks, 40 s; `cargo xtask bench soak_desks` runs the default).

use rand::{Rng, SeedableRng};
use residentdesk::app::sync::{sync_pass, Keep, Resolution};
use residentdesk::app::{ResidentInput, ResidentPatch, Session};
use residentdesk::domain::StatusChange;
use residentdesk::store::KeySource;
use residentdesk::sync::client::{Credentials, HttpRemote};
use residentdesk::sync::SyncOptions;
use residentdesk::{store, App, SystemClock};
use sitemanager_sim::model::{Mapping, Team};
use sitemanager_sim::seed::{SeedResident, SeedSite};
use sitemanager_sim::{Account, AccountLevel, FaultConfig, Seed, Sim, SimConfig, SimHandle};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Each desk signs in to the remote with its own service account (as each leasing office
/// would), so the remote's record of reads and writes says which desk made each one.
fn svc(k: usize) -> (String, String) {
    (format!("soak-svc-{k}@sim.test"), format!("soak-svc-{k}-password"))
}
const ADMIN: (&str, &str) = ("admin@soak.test", "Soak-Admin-2026-pass");
const SITES: usize = 4;
const SHARED_UNITS: usize = 40;
const OWN_UNITS: usize = 6;
const MAX_DESKS: usize = 50;
/// Every desk's database is encrypted (SQLCipher) under this passphrase.
const DB_KEY: &str = "soak-desks-passphrase";

fn key() -> KeySource {
    KeySource::Passphrase(DB_KEY.into())
}

fn open_app(db: &Path) -> Result<App, String> {
    App::open_with_key(db, Arc::new(SystemClock), &key()).map_err(|e| format!("{}: {e}", db.display()))
}

fn open_db(db: &Path) -> Result<rusqlite::Connection, String> {
    store::open_keyed(db, &key()).map(|(c, _)| c).map_err(|e| format!("{}: {e}", db.display()))
}

fn seed() -> Seed {
    let day = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let mapping = |building: String, unit: String| Mapping {
        passphrase: format!("p-{building}-{unit}"),
        building,
        floor: "1".into(),
        unit,
        ssid: "Net".into(),
        vlan: "10".into(),
    };
    let sites: Vec<SeedSite> = (0..SITES)
        .map(|i| {
            let mut mappings: Vec<Mapping> =
                (0..SHARED_UNITS).map(|u| mapping("A".into(), format!("{}", 100 + u))).collect();
            // Units of each desk's own, for its adds and imports (no two desks race for one).
            for d in 0..MAX_DESKS {
                mappings.extend((0..OWN_UNITS).map(|u| mapping(format!("D{d}"), format!("{}", 10 + u))));
            }
            SeedSite {
                site_id: format!("SK{i}"),
                team_id: "ST".into(),
                name: format!("Soak {i}"),
                site_type: "PPK-C".into(),
                time_zone: "America/Chicago".into(),
                service_area_number: format!("SK-{i}"),
                mappings,
            }
        })
        .collect();
    let residents = (0..SITES)
        .flat_map(|i| {
            (0..SHARED_UNITS).map(move |u| SeedResident {
                resident_id: None,
                site_id: format!("SK{i}"),
                first_name: format!("First{i}x{u}"),
                last_name: "Shared".into(),
                email: format!("shared{i}x{u}@example.com"),
                phone: Some(format!("555-{i}{u:03}")),
                building: "A".into(),
                floor: "1".into(),
                unit: format!("{}", 100 + u),
                activation_utc: day - chrono::Duration::days(60),
                deactivation_utc: None,
                onboarded_at: Some(day - chrono::Duration::days(59)),
                suspended: false,
            })
        })
        .collect();
    Seed {
        now: None,
        frozen: false,
        teams: vec![Team { team_id: "ST".into(), name: "Soak Team".into() }],
        sites,
        residents,
        accounts: (0..MAX_DESKS)
            .map(|k| Account {
                email: svc(k).0,
                password: svc(k).1,
                level: AccountLevel::TeamAdmin,
                team_ids: vec!["ST".into()],
                site_ids: vec![],
            })
            .collect(),
    }
}

fn faults(seed: u64) -> FaultConfig {
    FaultConfig {
        latency_ms: 2,
        latency_jitter_ms: 15,
        fail_rate: 0.03,
        throttle_rate: 0.03,
        retry_after_secs: 1,
        drop_rate: 0.02,
        drop_after_rate: 0.02,
        fail_after_rate: 0.01,
        seed,
        ..FaultConfig::default()
    }
}

/// Runs the CLI (set-up only); an error names the command and its stderr.
fn cli(bin: &Path, db: &Path, args: &[&str], stdin: Option<&str>) -> Result<(), String> {
    let mut cmd = Command::new(bin);
    cmd.arg("--db").arg(db).args(args).env("RESIDENTDESK_PASSWORD", ADMIN.1).env("RESIDENTDESK_DB_KEY", DB_KEY);
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if let (Some(text), Some(mut w)) = (stdin, child.stdin.take()) {
        w.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{args:?} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)))
    }
}

/// Desk `k`'s client of the remote, under its own service account.
fn remote(url: &str, k: usize) -> HttpRemote {
    let (email, password) = svc(k);
    HttpRemote::new(url, Credentials { email, password }).expect("a remote client")
}

// ---- one desk (a child process) ---------------------------------------------------------

/// What a desk did, one JSON line each, written after the change committed.
fn journal(out: &mut std::fs::File, line: serde_json::Value) {
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A desk's life until `deadline` (ms since the epoch): random changes through the gate and
/// a sync pass on its timer (every 1.5 s, adaptive pull schedule on a 2 s interval).
fn desk(db: &Path, k: usize, seed: u64, deadline: u128, url: &str, journal_path: &Path) -> Result<(), String> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut app = open_app(db)?;
    let s = app.sign_in(ADMIN.0, ADMIN.1).map_err(|e| e.to_string())?;
    let sites: Vec<(i64, String)> =
        app.site_list(&s).map_err(|e| e.to_string())?.into_iter().map(|x| (x.site.id, x.site.id.to_string())).collect();
    let mut out =
        std::fs::OpenOptions::new().create(true).append(true).open(journal_path).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let r = remote(url, k);
    let opts = SyncOptions::fast().pull_by_schedule(Duration::from_secs(2), Vec::new());
    let mut next_sync = Instant::now();
    let mut n = 0u64;
    while now_ms() < deadline {
        if Instant::now() >= next_sync {
            let _ = runtime.block_on(sync_pass(&mut app, &s, &r, &opts, None));
            next_sync = Instant::now() + Duration::from_millis(1500);
        }
        n += 1;
        let (site_id, site) = sites[rng.random_range(0..sites.len())].clone();
        let shared = format!("shared{}x{}@example.com", site_index(&app, site_id), rng.random_range(0..SHARED_UNITS));
        match rng.random_range(0..100) {
            0..=54 => {
                // An edit of a shared resident's name or phone (other desks edit them too).
                let Ok(Some(now)) = store::residents::by_email(app.conn(), &shared) else { continue };
                let (field, patch, seen, value) = if rng.random_bool(0.5) {
                    let v = format!("D{k}n{n}");
                    (
                        "FirstName",
                        ResidentPatch { first_name: Some(v.clone()), ..Default::default() },
                        now.first_name,
                        v,
                    )
                } else {
                    let v = format!("555-{k:02}{:05}", n % 100_000);
                    ("PhoneNumber", ResidentPatch { phone: Some(v.clone()), ..Default::default() }, now.phone, v)
                };
                if app.resident_update(&s, &shared, &patch).is_ok() {
                    journal(
                        &mut out,
                        serde_json::json!({"k": "edit", "email": shared, "field": field, "value": value, "seen": seen}),
                    );
                }
            }
            55..=74 => {
                let change = if rng.random_bool(0.5) { StatusChange::Disabled } else { StatusChange::Active };
                if app.resident_set_status(&s, &shared, change).is_ok() {
                    journal(&mut out, serde_json::json!({"k": "status", "email": shared}));
                }
            }
            75..=89 => {
                let email = format!("desk{k}n{n}@example.com");
                let input = ResidentInput {
                    first_name: format!("Added{n}"),
                    last_name: format!("Desk{k}"),
                    email: email.clone(),
                    phone: None,
                    building: format!("D{k}"),
                    floor: "1".into(),
                    unit: format!("{}", 10 + rng.random_range(0..OWN_UNITS)),
                    start: chrono::Utc::now().date_naive().to_string(),
                    end: None,
                };
                if app.resident_add(&s, &site, &input).is_ok() {
                    journal(&mut out, serde_json::json!({"k": "add", "email": email}));
                }
            }
            90..=94 => {
                // End the stay of someone this desk added, which frees the unit.
                let mine: Vec<String> = store::residents::list_site(app.conn(), site_id)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|x| x.email.starts_with(&format!("desk{k}n")) && x.deactivation_utc.is_none())
                    .map(|x| x.email)
                    .collect();
                if let Some(email) = mine.get(rng.random_range(0..mine.len().max(1))) {
                    if app.resident_terminate(&s, email).is_ok() {
                        journal(&mut out, serde_json::json!({"k": "terminate", "email": email}));
                    }
                }
            }
            _ => {
                // A small CSV import into two of this desk's units.
                let day = chrono::Utc::now().date_naive();
                let rows: Vec<(String, String)> = (0..2)
                    .map(|i| {
                        (format!("desk{k}i{n}x{i}@example.com"), format!("{}", 10 + rng.random_range(0..OWN_UNITS)))
                    })
                    .collect();
                let mut csv = String::from("FirstName,LastName,Email,Building,Floor,Unit,ActivationDate\n");
                for (email, unit) in &rows {
                    csv.push_str(&format!("Imported,Desk{k},{email},D{k},1,{unit},{day}\n"));
                }
                if let Ok(report) = app.import_commit(&s, &site, csv.as_bytes(), false) {
                    if report.imported > 0 {
                        for (email, _) in &rows {
                            journal(&mut out, serde_json::json!({"k": "add", "email": email}));
                        }
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(30..120)));
    }
    Ok(())
}

/// The seed's index of a local site (its remote id is `SK<i>`).
fn site_index(app: &App, site_id: i64) -> usize {
    store::sites::get(app.conn(), site_id)
        .ok()
        .flatten()
        .and_then(|s| s.remote_id)
        .and_then(|id| id.trim_start_matches("SK").parse().ok())
        .unwrap_or(0)
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

// ---- the soak -----------------------------------------------------------------------------

struct Desk {
    db: PathBuf,
    journal: PathBuf,
    child: Option<Child>,
    starts: u64,
}

fn start(desk: &mut Desk, k: usize, seed: u64, deadline: u128, url: &str) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let child = Command::new(exe)
        .arg("--worker")
        .arg(&desk.db)
        .args([
            k.to_string(),
            (seed + desk.starts * 1000 + k as u64).to_string(),
            deadline.to_string(),
            url.to_string(),
        ])
        .arg(&desk.journal)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start desk {k}: {e}"))?;
    desk.child = Some(child);
    desk.starts += 1;
    Ok(())
}

/// Syncs one desk until it has nothing to send, deciding its conflicts and refusals on the way
/// (a scripted person: a random side per conflict, refused changes given up). Returns whether
/// the desk was already quiet: nothing sent, nothing decided, every site unchanged.
fn settle(
    k: usize,
    db: &Path,
    url: &str,
    rng: &mut rand::rngs::StdRng,
    decided: &mut Vec<(String, String)>,
    given_up: &mut Vec<String>,
) -> Result<bool, String> {
    let mut app = open_app(db)?;
    let s: Session = app.sign_in(ADMIN.0, ADMIN.1).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let r = remote(url, k);
    let mut quiet = true;
    for _ in 0..30 {
        let rep =
            runtime.block_on(sync_pass(&mut app, &s, &r, &SyncOptions::fast(), None)).map_err(|e| e.to_string())?;
        if rep.done > 0 || rep.sites_unchanged < rep.sites_pulled || rep.sites_failed > 0 || rep.offline {
            quiet = false;
        }
        let conflicts = app.conflict_list(&s, false).map_err(|e| e.to_string())?;
        for c in conflicts.iter().filter(|c| c.state == "open") {
            let keep = if rng.random_bool(0.5) { Keep::Local } else { Keep::Remote };
            let fields = c.fields.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
            for f in fields {
                decided.push((c.email.clone().unwrap_or_default(), f));
            }
            decided.push((c.email.clone().unwrap_or_default(), "*".into()));
            app.conflict_resolve(&s, c.id, &Resolution { keep: Some(keep), fields: BTreeMap::new() })
                .map_err(|e| format!("resolving conflict {}: {e}", c.id))?;
            quiet = false;
        }
        for e in store::outbox::list(app.conn(), &[residentdesk::domain::OutboxState::Rejected], 1000)
            .map_err(|e| e.to_string())?
        {
            given_up.push(format!(
                "{} {}: {}",
                e.op,
                e.email.clone().unwrap_or_default(),
                e.last_error.clone().unwrap_or_default()
            ));
            app.outbox_discard(&s, e.id).map_err(|x| format!("giving up entry {}: {x}", e.id))?;
            quiet = false;
        }
        let st = app.sync_status(&s).map_err(|e| e.to_string())?;
        let open = app.conflict_list(&s, false).map_err(|e| e.to_string())?.iter().any(|c| c.state == "open");
        if st.pending == 0 && st.in_flight == 0 && !open && !rep.offline && rep.sites_failed == 0 {
            return Ok(quiet);
        }
    }
    Err(format!("{} did not settle in 30 passes", db.display()))
}

/// A resident as compared: site, names, phone, unit, end, suspended.
fn remote_view(sim: &SimHandle) -> BTreeMap<String, String> {
    sim.data()
        .residents
        .values()
        .map(|r| {
            let v = format!(
                "{}|{}|{}|{}|{}/{}|{:?}|{}",
                r.site_id,
                r.first_name,
                r.last_name,
                r.phone.clone().unwrap_or_default(),
                r.building,
                r.unit,
                r.deactivation_utc.map(|t| t.timestamp()),
                r.suspended
            );
            (r.email.clone(), v)
        })
        .collect()
}

fn local_view(db: &Path) -> Result<BTreeMap<String, String>, String> {
    let conn = open_db(db)?;
    let mut out = BTreeMap::new();
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM sites")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| e.to_string())?;
    for id in ids {
        let site =
            store::sites::get(&conn, id).map_err(|e| e.to_string())?.and_then(|s| s.remote_id).unwrap_or_default();
        for r in store::residents::list_site(&conn, id).map_err(|e| e.to_string())? {
            let v = format!(
                "{}|{}|{}|{}|{}/{}|{:?}|{}",
                site,
                r.first_name,
                r.last_name,
                r.phone,
                r.building,
                r.unit,
                r.deactivation_utc.map(|t| t.timestamp()),
                r.suspended
            );
            out.insert(r.email, v);
        }
    }
    Ok(out)
}

fn conflicts_recorded(db: &Path) -> Result<u64, String> {
    let n: i64 =
        open_db(db)?.query_row("SELECT count(*) FROM sync_conflicts", [], |r| r.get(0)).map_err(|e| e.to_string())?;
    Ok(n as u64)
}

fn run(desks: usize, seconds: u64, seed: u64) -> Result<(), String> {
    let bin = cli_binary()?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let sim = Sim::start(SimConfig::with_seed(self::seed()).job_duration_ms(100)).map_err(|e| e.to_string())?;
    let url = sim.base_url();
    let mut all: Vec<Desk> = Vec::new();
    let set_up = Instant::now();
    for k in 0..desks {
        let db = dir.path().join(format!("desk{k}.db"));
        cli(&bin, &db, &["init", "--admin-email", ADMIN.0, "--team", "Soak Team"], None)?;
        let (user, password) = svc(k);
        let args = ["--as", ADMIN.0, "sync", "--remote", &url, "--remote-user", &user, "--remote-password-stdin"];
        cli(&bin, &db, &args, Some(&format!("{password}\n")))?;
        all.push(Desk { db, journal: dir.path().join(format!("desk{k}.jsonl")), child: None, starts: 0 });
    }
    println!("soak: {desks} desks set up (init + first sync) in {:.1} s", set_up.elapsed().as_secs_f64());

    // The soak: faults on, every desk working and syncing, some killed and started again.
    sim.set_faults(faults(seed)).map_err(|e| e.message)?;
    sim.world(|w| w.keep_history());
    let before = sim.stats();
    let deadline = now_ms() + u128::from(seconds) * 1000;
    for (k, d) in all.iter_mut().enumerate() {
        start(d, k, seed, deadline, &url)?;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut kills = 0;
    while now_ms() + 1500 < deadline {
        std::thread::sleep(Duration::from_millis(rng.random_range(500..2000)));
        let k = rng.random_range(0..desks);
        if let Some(mut child) = all[k].child.take() {
            if child.try_wait().map_err(|e| e.to_string())?.is_none() {
                child.kill().map_err(|e| e.to_string())?; // SIGKILL on Unix
                kills += 1;
            }
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(200));
            start(&mut all[k], k, seed, deadline, &url)?;
        }
    }
    for d in all.iter_mut() {
        if let Some(mut child) = d.child.take() {
            let _ = child.wait();
        }
    }
    let after = sim.stats();
    let soak_requests = after.total - before.total;
    // Reads (GET: pulls, the fresh read before each update, job polls) and writes, apart.
    let gets = |s: &sitemanager_sim::world::Stats| {
        s.by_route.iter().filter(|(k, _)| k.starts_with("GET")).map(|(_, n)| *n).sum::<u64>()
    };
    let soak_gets = gets(&after) - gets(&before);

    // Converge: faults off, every desk syncs until quiet, a person deciding what is asked.
    sim.set_faults(FaultConfig::default()).map_err(|e| e.message)?;
    let converging = Instant::now();
    let mut decided: Vec<(String, String)> = Vec::new();
    let mut given_up: Vec<String> = Vec::new();
    let mut rounds = 0;
    loop {
        rounds += 1;
        let mut quiet = true;
        for (k, d) in all.iter().enumerate() {
            quiet &= settle(k, &d.db, &url, &mut rng, &mut decided, &mut given_up)?;
        }
        if quiet {
            break;
        }
        if rounds >= 12 {
            return Err(format!("the desks did not converge in {rounds} rounds"));
        }
    }
    let converge_s = converging.elapsed().as_secs_f64();

    // The checks.
    let remote = remote_view(&sim);
    for (k, d) in all.iter().enumerate() {
        let local = local_view(&d.db)?;
        if local != remote {
            let diff: Vec<_> = remote
                .iter()
                .filter(|(e, v)| local.get(*e) != Some(v))
                .take(5)
                .map(|(e, v)| (e, v, local.get(e)))
                .collect();
            let extra: Vec<_> = local.keys().filter(|e| !remote.contains_key(*e)).take(5).collect();
            return Err(format!("desk {k} differs from the remote: {diff:?}; only here: {extra:?}"));
        }
    }
    let emails: Vec<String> = sim.data().residents.values().map(|r| r.email.clone()).collect();
    if emails.iter().collect::<BTreeSet<_>>().len() != emails.len() {
        return Err("a resident is on the remote twice".into());
    }
    let mut lines: Vec<serde_json::Value> = Vec::new();
    for d in &all {
        let text = std::fs::read_to_string(&d.journal).unwrap_or_default();
        lines.extend(text.lines().filter_map(|l| serde_json::from_str(l).ok()));
    }
    let kind = |l: &serde_json::Value| l["k"].as_str().unwrap_or_default().to_string();
    let added: Vec<&str> = lines.iter().filter(|l| kind(l) == "add").filter_map(|l| l["email"].as_str()).collect();
    // An add may be missing only where a person decided so: a conflict about it (say, its unit
    // taken in Site Manager before this desk's move-out reached it) resolved for Site Manager.
    let decided_on: BTreeSet<&str> = decided.iter().map(|(e, _)| e.as_str()).collect();
    let dropped: Vec<&&str> = added.iter().filter(|e| !remote.contains_key(**e) && decided_on.contains(**e)).collect();
    let missing: Vec<&&str> = added.iter().filter(|e| !remote.contains_key(**e) && !decided_on.contains(**e)).collect();
    // An add can be given up only as a refused change (counted in `decided`? no: refusals of
    // adds would be units taken, which cannot happen in a desk's own units).
    if !missing.is_empty() {
        for d in &all {
            let conn = open_db(&d.db)?;
            for email in &missing {
                let mut q = conn
                    .prepare("SELECT op, state, coalesce(last_error, '') FROM outbox WHERE email = ?1 ORDER BY id")
                    .map_err(|e| e.to_string())?;
                let rows: Vec<(String, String, String)> = q
                    .query_map([**email], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .and_then(|r| r.collect())
                    .map_err(|e| e.to_string())?;
                let mut q = conn
                    .prepare(
                        "SELECT kind, state, coalesce(resolution, ''), message FROM sync_conflicts WHERE email = ?1",
                    )
                    .map_err(|e| e.to_string())?;
                let conflicts: Vec<(String, String, String, String)> = q
                    .query_map([**email], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .and_then(|r| r.collect())
                    .map_err(|e| e.to_string())?;
                if !rows.is_empty() || !conflicts.is_empty() {
                    eprintln!("{}: {email}: outbox {rows:?}; conflicts {conflicts:?}", d.db.display());
                }
            }
        }
        return Err(format!(
            "{} added residents never reached the remote: {:?} (changes given up: {given_up:?})",
            missing.len(),
            &missing[..missing.len().min(5)]
        ));
    }
    // No edit lost without a decision.
    let edits: Vec<&serde_json::Value> = lines.iter().filter(|l| kind(l) == "edit").collect();
    let final_value = |email: &str, field: &str| -> Option<String> {
        let d = sim.data();
        let r = d.residents.values().find(|r| r.email == email)?;
        Some(if field == "FirstName" { r.first_name.clone() } else { r.phone.clone().unwrap_or_default() })
    };
    let mut last_by_desk: BTreeMap<(String, String, usize), String> = BTreeMap::new();
    for (k, d) in all.iter().enumerate() {
        let text = std::fs::read_to_string(&d.journal).unwrap_or_default();
        for l in
            text.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).filter(|l| l["k"] == "edit")
        {
            let key = (
                l["email"].as_str().unwrap_or_default().to_string(),
                l["field"].as_str().unwrap_or_default().to_string(),
                k,
            );
            last_by_desk.insert(key, l["value"].as_str().unwrap_or_default().to_string());
        }
    }
    let history = sim.world(|w| w.history().to_vec());
    let mut lost = Vec::new();
    let mut in_window = Vec::new();
    for ((email, field, k), value) in &last_by_desk {
        let Some(now) = final_value(email, field) else { continue };
        if &now == value {
            continue;
        }
        let seen_by_another = edits
            .iter()
            .any(|l| l["email"] == email.as_str() && l["field"] == field.as_str() && l["seen"] == value.as_str());
        if !seen_by_another && !decided_on.contains(email.as_str()) {
            let what = format!("desk {k}: {email} {field} = {value} (now {now})");
            match overwritten_unseen(&history, *k, email, field, value) {
                Some((by, gap)) => in_window
                    .push(format!("{what}, by desk {by}, whose read came {} ms before its PUT", gap.as_millis())),
                None => lost.push(what),
            }
        }
    }
    if !lost.is_empty() {
        // The desks' databases and journals stay for the diagnosis (who saw what, when).
        let kept = dir.keep();
        return Err(format!(
            "{} edits lost without a decision: {:?}; the desks' databases and journals are kept in {}",
            lost.len(),
            &lost[..lost.len().min(5)],
            kept.display()
        ));
    }

    let changes = lines.len() as f64;
    let conflicts: u64 = all.iter().map(|d| conflicts_recorded(&d.db)).sum::<Result<u64, String>>()?;
    let starts: u64 = all.iter().map(|d| d.starts).sum();
    println!(
        "soak: {desks} desks, {seconds} s with faults, {kills} SIGKILLs ({starts} starts): {} changes ({} edits, {} adds), \
         {soak_requests} requests: {:.2} requests per change ({:.2} writes, {:.2} reads); {conflicts} conflicts: {:.1} per 1,000 edits; \
         converged in {converge_s:.1} s ({rounds} rounds, {} decisions, {} adds dropped by a decision); every desk equals the remote ({} residents), \
         nothing created twice, no edit lost without a decision{}",
        lines.len(),
        edits.len(),
        added.len(),
        soak_requests as f64 / changes.max(1.0),
        (soak_requests - soak_gets) as f64 / changes.max(1.0),
        soak_gets as f64 / changes.max(1.0),
        conflicts as f64 * 1000.0 / (edits.len() as f64).max(1.0),
        decided.iter().filter(|(_, f)| f == "*").count(),
        dropped.len(),
        remote.len(),
        match in_window.len() {
            0 => String::new(),
            n => format!(
                " but {n} overwritten in the API's read-then-PUT window (the overwriting desk read the resident before \
                 the lost write reached the remote, and the API's PUT has no condition to refuse it): {in_window:?}"
            ),
        },
    );
    Ok(())
}

/// Whether desk `k`'s last write of `value` into `field` was overwritten, on the remote, by a
/// desk whose last read of that resident came before the write landed: a loss inside the one
/// round trip between an update's fresh read and its PUT, which the API (a PUT with no
/// condition) gives no client a way to prevent. Returns the overwriting desk and how long
/// before its PUT its read was served. `None` — the
/// write never reached the remote, or the desk that overwrote it had read it (or never read
/// at all, or not just before its write) — is a loss the desk should have prevented.
fn overwritten_unseen(
    history: &[sitemanager_sim::history::ResidentAccess],
    k: usize,
    email: &str,
    field: &str,
    value: &str,
) -> Option<(usize, Duration)> {
    let of = |a: &sitemanager_sim::history::ResidentAccess| -> String {
        if field == "FirstName" {
            a.first_name.clone()
        } else {
            a.phone.clone().unwrap_or_default()
        }
    };
    let mine = svc(k).0;
    let accesses: Vec<_> = history.iter().filter(|a| a.email == email).collect();
    let written = accesses.iter().rposition(|a| a.write && a.account == mine && of(a) == value)?;
    let over = accesses[written..].iter().find(|a| a.write && of(a) != value)?;
    let last_read = accesses.iter().rfind(|a| !a.write && a.account == over.account && a.seq < over.seq)?;
    let by = (0..MAX_DESKS).find(|j| svc(*j).0 == over.account)?;
    // That read was the overwriting update's own fresh read (its PUT follows it within a
    // round trip and a retry), not one from long before: a desk that skipped the fresh read
    // would show an old one here, and its loss is the desk's.
    let gap = over.at.duration_since(last_read.at);
    (gap < Duration::from_millis(1500) && last_read.seq < accesses[written].seq).then_some((by, gap))
}

/// The residentdesk CLI beside this example, built now (set-up runs it).
fn cli_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let profile_dir = exe.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "-p", "residentdesk", "--bin", "residentdesk"]);
    if release {
        build.arg("--release");
    }
    match build.status() {
        Ok(s) if s.success() => Ok(profile_dir.join("residentdesk")),
        other => Err(format!("cannot build the residentdesk CLI: {other:?}")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--worker") {
        let [_, db, k, seed, deadline, url, journal] = &args[..] else {
            eprintln!("soak_desks --worker DB K SEED DEADLINE URL JOURNAL");
            std::process::exit(2);
        };
        let result = desk(
            Path::new(db),
            k.parse().unwrap_or(0),
            seed.parse().unwrap_or(0),
            deadline.parse().unwrap_or(0),
            url,
            Path::new(journal),
        );
        std::process::exit(i32::from(result.is_err()));
    }
    let value = |flag: &str, default: u64| -> u64 {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let desks = value("--desks", 8) as usize;
    if desks == 0 || desks > MAX_DESKS {
        eprintln!("soak_desks: --desks must be 1 to {MAX_DESKS}");
        std::process::exit(2);
    }
    let started = Instant::now();
    match run(desks, value("--seconds", 40), value("--seed", 1)) {
        Ok(()) => println!("soak: passed in {:.1} s", started.elapsed().as_secs_f64()),
        Err(e) => {
            eprintln!("soak: FAILED: {e}");
            std::process::exit(1);
        }
    }
}
