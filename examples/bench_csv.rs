//! CSV benchmark: `cargo run --release --example bench_csv`.
//!
//! In one run, on a 100,000-resident / 250-site demo database in a temporary file:
//! 1. export of every resident of every team (the owner switches through the teams), against
//!    `sqlite3 -csv` on the same rows and against a Python `csv` script doing the same query
//!    and write (ratios printed; best of 3 each);
//! 2. peak memory (ru_maxrss) of a `residentdesk export --team` child process;
//! 3. import + validate of 100,000 rows into a new site of the same database (dry run, then
//!    the real import with its outbox and audit entries), in-process through the app layer
//!    as the desktop runs it (with its allocator); the WAL checkpoint that follows on a
//!    background thread is timed apart;
//! 4. a fuzz soak: random and mutated byte inputs into the importer, counting panics.
#![forbid(unsafe_code)]

/// The desktop app's allocator: these in-process figures are the desktop's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use residentdesk::app::csv::{ExportRequest, ImportStatus};
use residentdesk::app::Session;
use residentdesk::store::{self, sites::Mapping};
use residentdesk::{App, FixedClock};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const OWNER: (&str, &str) = ("owner@demo.residentdesk.test", "Demo-Owner-2026");
const RESIDENTS: usize = 100_000;
const IMPORT_ROWS: usize = 100_000;

/// The same rows as the export, for the reference tools: each site in list order, sites by
/// id (the order the `residents_site_name` index gives without a sort, the fastest for them).
const REFERENCE_SQL: &str = "SELECT r.first_name, r.last_name, r.email, r.phone, r.building, r.floor, r.unit, \
     r.activation_utc, r.deactivation_utc, r.onboarded_at, r.suspended, r.remote_id, s.name \
     FROM residents r JOIN sites s ON s.id = r.site_id ORDER BY r.site_id, r.last_lc, r.first_lc, r.id";

fn main() {
    if let Err(e) = run() {
        eprintln!("bench_csv: {e}");
        std::process::exit(1);
    }
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// CPU time of this thread (`/proc/thread-self/schedstat`, nanoseconds) plus that of the
/// children waited for (`/proc/self/stat` cutime + cstime, clock ticks of 10 ms). The
/// machine is shared, so ratios are given on CPU time as well as on wall time.
fn cpu_now() -> Duration {
    let own = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|t| t.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
        .map(Duration::from_nanos)
        .unwrap_or_default();
    let children = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|t| {
            let rest = t.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(13)?.parse::<u64>().ok()? + f.get(14)?.parse::<u64>().ok()?;
            Some(Duration::from_millis(ticks * 10))
        })
        .unwrap_or_default();
    own + children
}

/// CPU time of the whole process, all threads (`/proc/self/stat` utime + stime, 10 ms ticks).
fn process_cpu() -> Duration {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|t| {
            let rest = t.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            Some(Duration::from_millis(ticks * 10))
        })
        .unwrap_or_default()
}

/// Wall and CPU time of a measured run.
#[derive(Debug, Clone, Copy)]
struct Took {
    wall: Duration,
    cpu: Duration,
}

impl Took {
    fn show(self) -> String {
        format!("{} wall, {} CPU", secs(self.wall), secs(self.cpu))
    }
}

fn ratio(a: Took, b: Took) -> String {
    format!(
        "{:.2}× wall, {:.2}× CPU",
        a.wall.as_secs_f64() / b.wall.as_secs_f64(),
        a.cpu.as_secs_f64() / b.cpu.as_secs_f64().max(1e-9)
    )
}

fn measure<T>(f: impl FnOnce() -> Result<T, String>) -> Result<(Took, T), String> {
    let (start, cpu) = (Instant::now(), cpu_now());
    let v = f()?;
    Ok((Took { wall: start.elapsed(), cpu: cpu_now().saturating_sub(cpu) }, v))
}

/// Best of `n` runs (by CPU time; wall time of the same run).
fn best_of<T>(n: usize, mut f: impl FnMut() -> Result<T, String>) -> Result<(Took, T), String> {
    let mut best: Option<(Took, T)> = None;
    for _ in 0..n {
        let (took, v) = measure(&mut f)?;
        if best.as_ref().is_none_or(|(b, _)| took.cpu < b.cpu) {
            best = Some((took, v));
        }
    }
    best.ok_or_else(|| "no run".into())
}

fn run() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let db = dir.path().join("bench.db");
    let now = chrono::Utc::now();
    let clock = Arc::new(FixedClock::new(now));
    // A plain database: the reference is the sqlite3 CLI on the same file, and it cannot
    // read an encrypted one (what encryption costs: bench_core with and without BENCH_PLAIN).
    let plain = residentdesk::store::KeySource::Plain;
    let mut app = App::open_with_key(&db, clock.clone(), &plain).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let seeded = app.demo_seed(RESIDENTS, 42).map_err(|e| e.to_string())?;
    println!(
        "seeded {} residents over {} sites in {} ({})",
        seeded.residents,
        seeded.sites,
        secs(started.elapsed()),
        db.display()
    );
    let owner = app.sign_in(OWNER.0, OWNER.1).map_err(|e| e.to_string())?;
    let teams = app.team_list(&owner).map_err(|e| e.to_string())?;

    // 1. Export of every team, best of 3.
    println!("\n== export: all residents of all teams ==");
    let out_dir = dir.path().join("exports");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let sessions: Vec<Session> =
        teams.iter().map(|t| app.team_switch(&owner, &t.name).map_err(|e| e.to_string())).collect::<Result<_, _>>()?;
    let (ours, (rows, bytes)) = best_of(3, || {
        let mut rows = 0;
        let mut bytes = 0;
        for (i, s) in sessions.iter().enumerate() {
            let path = out_dir.join(format!("team{i}.csv"));
            let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
            let mut w = BufWriter::with_capacity(256 * 1024, file);
            let summary = app.export_residents(s, &ExportRequest::default(), &mut w).map_err(|e| e.to_string())?;
            w.flush().map_err(|e| e.to_string())?;
            rows += summary.rows;
            bytes += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        }
        Ok((rows, bytes))
    })?;
    println!(
        "residentdesk export: {rows} rows, {:.1} MB in {} ({:.0} rows/s of CPU)",
        bytes as f64 / 1e6,
        ours.show(),
        rows as f64 / ours.cpu.as_secs_f64().max(1e-9)
    );
    match reference_sqlite(&db, &out_dir.join("sqlite.csv")) {
        Ok((t, lines)) => println!(
            "sqlite3 -csv (same rows, {lines} lines): {}\n  → residentdesk / sqlite3 = {} (target ≤ 1.2×)",
            t.show(),
            ratio(ours, t)
        ),
        Err(e) => println!("sqlite3 -csv: not measured: {e}"),
    }
    match reference_python(&db, &out_dir.join("python.csv")) {
        Ok(t) => println!(
            "python3 csv script (same rows): {}\n  → python / residentdesk = {} (residentdesk faster by that; target ≥ 3×)",
            t.show(),
            ratio(t, ours)
        ),
        Err(e) => println!("python3 csv: not measured: {e}"),
    }

    // 2. Peak memory of the export CLI (the owner's active team: the first one again).
    app.team_switch(&owner, &teams[0].name).map_err(|e| e.to_string())?;
    println!("\n== peak memory of `residentdesk export --team` ==");
    match peak_memory_of_cli_export(&db, &out_dir.join("cli.csv")) {
        Ok((kb, t, lines)) => println!(
            "peak RSS {:.1} MB for {} rows in {} (target < 50 MB; includes the argon2id sign-in, 19 MiB)",
            kb as f64 / 1024.0,
            lines.saturating_sub(1),
            secs(t)
        ),
        Err(e) => println!("not measured: {e}"),
    }

    // 3. Import + validate 100,000 rows into a new site.
    println!("\n== import + validate {IMPORT_ROWS} rows ==");
    let admin = &sessions[0];
    let team_id = admin.actor.team_id().ok_or("no team")?;
    let site_name = "Bench Import Towers";
    {
        let tx = app.conn_mut().transaction().map_err(|e| e.to_string())?;
        let site = store::sites::insert(&tx, team_id, site_name, "PPK-C", "America/Chicago", None)
            .map_err(|e| e.to_string())?;
        for i in 0..IMPORT_ROWS {
            let m = Mapping {
                building: format!("B{}", i / 10_000),
                floor: format!("{}", (i / 100) % 100 + 1),
                unit: format!("U{i:06}"),
                passphrase: None,
                ssid: None,
                vlan: None,
            };
            store::sites::insert_mapping(&tx, site, &m).map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())?;
    }
    let csv = import_file(IMPORT_ROWS);
    println!("file: {:.1} MB, API and Excel date forms mixed", csv.len() as f64 / 1e6);
    let (dry_t, dry) = measure(|| app.import_preview(admin, site_name, &csv).map_err(|e| e.to_string()))?;
    println!(
        "dry run (parse + validate every row against every rule): {} for {} rows, {} valid (target < 2 s)",
        dry_t.show(),
        dry.rows,
        dry.valid_rows,
    );
    if dry.invalid_rows > 0 {
        return Err(format!("the generated file has problems: {:?}", &dry.problems[..dry.problems.len().min(3)]));
    }
    let process_before = process_cpu();
    let (commit_t, done) = measure(|| app.import_commit(admin, site_name, &csv, false).map_err(|e| e.to_string()))?;
    let process = process_cpu().saturating_sub(process_before);
    if done.status != ImportStatus::Imported {
        return Err(format!("import did not complete: {}", done.summary()));
    }
    let checkpoint = app.settle().unwrap_or_default();
    println!(
        "import (validate + insert + outbox + audit, one transaction, in-process as the desktop runs it): {} wall for {} rows (target < 2 s); \
         CPU: {} on the writing thread, {} in all (the rows are checked on a second thread); \
         then the WAL checkpoint on a background thread: {}",
        secs(commit_t.wall),
        done.imported,
        secs(commit_t.cpu),
        secs(process),
        secs(checkpoint),
    );

    // 4. A 1 GB stream offered to the import CLI: it reads up to its row limit, reports,
    //    and stops, in bounded memory.
    println!("\n== 1 GB offered to `residentdesk import /dev/stdin --dry-run` ==");
    match peak_memory_of_cli_import(&db, site_name, 1 << 30) {
        Ok((kb, t, sent, report)) => println!(
            "peak RSS {:.1} MB in {}; {:.0} MB sent before the CLI stopped reading; report: {} rows read, {} problems listed + {} unlisted, file error: {}",
            kb as f64 / 1024.0,
            secs(t),
            sent as f64 / 1e6,
            report["rows"],
            report["problems"].as_array().map(Vec::len).unwrap_or(0),
            report["unlisted_problems"],
            report["file_error"]
        ),
        Err(e) => println!("not measured: {e}"),
    }

    // 5. Fuzz soak.
    println!("\n== importer fuzz soak ==");
    fuzz_soak(Duration::from_secs(10))?;
    Ok(())
}

fn import_file(rows: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows * 110);
    out.extend_from_slice(
        b"FirstName,LastName,Email,PhoneNumber,Building,Floor,Unit,ActivationDateUTC,DeactivationDateUTC\n",
    );
    for i in 0..rows {
        let start = match i % 4 {
            0 => "2026-01-15".to_string(),
            1 => "1/15/2026".to_string(),
            2 => "1/15/26 2:10 PM".to_string(),
            _ => "2026-01-15T09:30:00-06:00".to_string(),
        };
        let end = if i % 5 == 0 { "12/31/2027" } else { "" };
        let line = format!(
            "First{i},Last{},bench.import.{i}@residents.example,555-{:03}-{:04},B{},{},U{i:06},{start},{end}\n",
            i % 997,
            i % 1000,
            i % 10_000,
            i / 10_000,
            (i / 100) % 100 + 1
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

fn reference_sqlite(db: &Path, out: &Path) -> Result<(Took, usize), String> {
    if Command::new("sqlite3").arg("-version").stdout(Stdio::null()).status().is_err() {
        return Err("sqlite3 is not installed; `cargo xtask bench` installs it (apt-get install -y sqlite3)".into());
    }
    let (t, ()) = best_of(3, || {
        let file = std::fs::File::create(out).map_err(|e| e.to_string())?;
        let status = Command::new("sqlite3")
            .args(["-csv", "-header", "-readonly"])
            .arg(db)
            .arg(REFERENCE_SQL)
            .stdout(file)
            .status()
            .map_err(|e| e.to_string())?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("sqlite3 failed: {status}"))
        }
    })?;
    let lines = std::fs::read(out).map(|b| b.iter().filter(|c| **c == b'\n').count()).unwrap_or(0);
    Ok((t, lines))
}

fn reference_python(db: &Path, out: &Path) -> Result<Took, String> {
    if Command::new("python3").arg("--version").stdout(Stdio::null()).status().is_err() {
        return Err("python3 is not installed; `cargo xtask bench` installs it (apt-get install -y python3)".into());
    }
    let script = format!(
        "import csv, sqlite3, sys\n\
         con = sqlite3.connect(sys.argv[1])\n\
         cur = con.execute({REFERENCE_SQL:?})\n\
         with open(sys.argv[2], 'w', newline='') as f:\n\
         \x20   w = csv.writer(f)\n\
         \x20   w.writerow([d[0] for d in cur.description])\n\
         \x20   w.writerows(cur)\n"
    );
    let (t, ()) = best_of(3, || {
        let status =
            Command::new("python3").arg("-c").arg(&script).arg(db).arg(out).status().map_err(|e| e.to_string())?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("python3 failed: {status}"))
        }
    })?;
    Ok(t)
}

fn cli_binary() -> PathBuf {
    // target/release/examples/bench_csv → target/release/residentdesk
    let exe = std::env::current_exe().unwrap_or_default();
    exe.parent().and_then(Path::parent).map(|p| p.join("residentdesk")).unwrap_or_else(|| "residentdesk".into())
}

/// Runs the export CLI as a child of a small Python wrapper that reports the child's peak
/// resident set size (getrusage RUSAGE_CHILDREN), so no unsafe FFI is needed here.
fn peak_memory_of_cli_export(db: &Path, out: &Path) -> Result<(u64, Duration, usize), String> {
    let bin = cli_binary();
    if !bin.exists() {
        return Err(format!("{} is not built (cargo build --release -p residentdesk)", bin.display()));
    }
    let script = "import resource, subprocess, sys\n\
                  r = subprocess.run(sys.argv[1:])\n\
                  print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n\
                  sys.exit(r.returncode)\n";
    let start = Instant::now();
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&bin)
        .arg("--db")
        .arg(db)
        .args(["--as", OWNER.0, "export", "--team", "-o"])
        .arg(out)
        .env("RESIDENTDESK_PASSWORD", OWNER.1)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    let took = start.elapsed();
    if !output.status.success() {
        return Err(format!("export failed: {}", String::from_utf8_lossy(&output.stdout)));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let kb: u64 = text.lines().last().and_then(|l| l.trim().parse().ok()).ok_or("no ru_maxrss printed")?;
    let lines = std::fs::read(out).map(|b| b.iter().filter(|c| **c == b'\n').count()).unwrap_or(0);
    Ok((kb, took, lines))
}

/// Streams up to `limit` bytes of rows (for units that are not mappings) into a dry-run
/// import CLI through a pipe; returns its peak RSS (KiB), time, bytes sent and the report.
fn peak_memory_of_cli_import(
    db: &Path,
    site: &str,
    limit: u64,
) -> Result<(u64, Duration, u64, serde_json::Value), String> {
    let bin = cli_binary();
    let script = "import resource, subprocess, sys\n\
                  r = subprocess.run(sys.argv[1:])\n\
                  print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n";
    let start = Instant::now();
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&bin)
        .arg("--db")
        .arg(db)
        .args(["--as", OWNER.0, "--json", "import", "/dev/stdin", "--dry-run", "--site", site])
        .env("RESIDENTDESK_PASSWORD", OWNER.1)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    // Feed from a thread: the report comes back on stdout while rows are still offered.
    let feeder = std::thread::spawn(move || {
        let mut sent = 0u64;
        let mut buf = Vec::with_capacity(1 << 20);
        buf.extend_from_slice(b"FirstName,LastName,Email,Building,Floor,Unit,ActivationDateUTC\n");
        let mut i = 0u64;
        while sent < limit {
            while buf.len() < (1 << 20) {
                buf.extend_from_slice(
                    format!("F{i},L{i},stream.{i}@residents.example,Z,1,Z{i},2026-01-01\n").as_bytes(),
                );
                i += 1;
            }
            if stdin.write_all(&buf).is_err() {
                break;
            }
            sent += buf.len() as u64;
            buf.clear();
        }
        sent
    });
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let took = start.elapsed();
    let sent = feeder.join().map_err(|_| "the feeder thread panicked")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let (json, last) = text.trim_end().rsplit_once('\n').ok_or("no output")?;
    let kb: u64 = last.trim().parse().map_err(|_| format!("no ru_maxrss in {last:?}"))?;
    let report: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("report is not JSON: {e}"))?;
    Ok((kb, took, sent, report))
}

/// Random and mutated inputs into the importer (dry run) for `budget`; counts panics.
fn fuzz_soak(budget: Duration) -> Result<(), String> {
    use rand::{Rng, SeedableRng};
    let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
    let mut app = App::open_in_memory(clock).map_err(|e| e.to_string())?;
    let s = app.init("fuzz@bench.test", "Fuzz-Bench-Pass-2026", "Fuzz").map_err(|e| e.to_string())?;
    {
        let team = s.actor.team_id().ok_or("no team")?;
        let tx = app.conn_mut().transaction().map_err(|e| e.to_string())?;
        let site = store::sites::insert(&tx, team, "Fuzz Site", "PSK", "UTC", None).map_err(|e| e.to_string())?;
        let m = Mapping {
            building: "A".into(),
            floor: "1".into(),
            unit: "101".into(),
            passphrase: None,
            ssid: None,
            vlan: None,
        };
        store::sites::insert_mapping(&tx, site, &m).map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
    }
    let seed_file = import_file(20);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (mut inputs, mut panics, mut bytes) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    while start.elapsed() < budget {
        let input: Vec<u8> = match inputs % 3 {
            0 => (0..rng.random_range(0..4096)).map(|_| rng.random()).collect(),
            1 => {
                let mut v = seed_file.clone();
                for _ in 0..rng.random_range(1..32) {
                    let at = rng.random_range(0..v.len());
                    v[at] = rng.random();
                }
                v
            }
            _ => {
                let mut v = seed_file[..seed_file.iter().position(|b| *b == b'\n').unwrap_or(0) + 1].to_vec();
                let alphabet = b",;\t\"\n\r\0'=+-@/: aZ09\xE9\xFF";
                v.extend((0..rng.random_range(0..2048)).map(|_| alphabet[rng.random_range(0..alphabet.len())]));
                v
            }
        };
        bytes += input.len() as u64;
        inputs += 1;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            app.import_preview(&s, "Fuzz Site", &input).map(|r| r.rows)
        }));
        match result {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(format!("importer returned an error on input #{inputs}: {e}")),
            Err(_) => panics += 1,
        }
    }
    println!(
        "{inputs} inputs ({:.1} MB) in {}: {panics} panics{}",
        bytes as f64 / 1e6,
        secs(start.elapsed()),
        if panics == 0 { " ✓" } else { " ✗" }
    );
    if panics > 0 {
        return Err(format!("{panics} panics in the importer"));
    }
    Ok(())
}
