//! Scale benchmark (issue #17): one desk holding 1,000,000 residents over 2,500 sites, with
//! encryption on (`KeySource::Standard`, as installed), every figure through the app's gate.
//! `cargo xtask bench scale`, or `cargo run --release --example bench_scale`.
//!
//! The seeded database is kept under `target/bench/` and reused by later runs (seeding a
//! million residents takes minutes on a shared machine); its seed time is measured once and
//! printed again from the file beside it. Each run works on a copy, deleted at the end. `BENCH_SCALE_RESIDENTS=N` picks another size (its
//! own file), `BENCH_SCALE_RESEED=1` seeds again.
//!
//! Figures, each with its target:
//! 1. seed time (`demo seed --residents N`, `App::demo_seed`);
//! 2. open + sign-in + first page of a site (median of 5, fresh process state each time);
//! 3. search as you type: every prefix of typed words, p50/p99 (target p99 < 5 ms);
//! 4. export of the owner's active team against `sqlite3 -csv` on the same rows and columns
//!    of a plain copy of the database (target ≤ 0.6×), and the peak memory of the export
//!    CLI for one site and for the whole team (target < 30 MB, independent of the rows);
//! 5. import + validate of 100,000 rows into a new site of this portfolio (target < 1 s).
#![forbid(unsafe_code)]

/// The desktop app's allocator: these in-process figures are the desktop's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use residentdesk::app::csv::{ExportRequest, ImportStatus};
use residentdesk::app::residents::ResidentFilter;
use residentdesk::store::{self, sites::Mapping, KeySource};
use residentdesk::{App, SystemClock};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const OWNER: (&str, &str) = ("owner@demo.residentdesk.test", "Demo-Owner-2026");
const STAFF: (&str, &str) = ("staff@demo.residentdesk.test", "Demo-Staff-2026");
const IMPORT_ROWS: usize = 100_000;

fn main() {
    let result = run();
    clean_up();
    if let Err(e) = result {
        eprintln!("bench_scale: {e}");
        std::process::exit(1);
    }
}

/// The portfolio's size: `BENCH_SCALE_RESIDENTS`, else a million.
fn residents() -> usize {
    std::env::var("BENCH_SCALE_RESIDENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
}

/// Only the seeded file stays in `target/bench` after a run (the disk is shared): the run's
/// copy, the plain copy for the reference (remade in seconds) and the exported files go.
fn clean_up() {
    let dir = bench_dir();
    let n = residents();
    store::encryption::remove_with_journals(&dir.join(format!("scale-{n}-run.db")));
    let _ = std::fs::remove_file(dir.join(format!("scale-{n}-plain.db")));
    let _ = std::fs::remove_dir_all(dir.join("scale-out"));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

/// `target/<profile>/examples/bench_scale` → `target/bench`.
fn bench_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.ancestors().nth(3).map(|t| t.join("bench")).unwrap_or_else(|| PathBuf::from("target/bench"))
}

/// `target/<profile>/examples/bench_scale` → `target/<profile>/residentdesk`.
fn cli_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.parent().and_then(Path::parent).map(|p| p.join("residentdesk")).unwrap_or_else(|| "residentdesk".into())
}

fn open(db: &Path) -> Result<App, String> {
    App::open_with_key(db, Arc::new(SystemClock), &KeySource::Standard).map_err(|e| e.to_string())
}

/// The seeded database, made once: returns its path and the seed time measured then.
fn seeded(residents: usize) -> Result<(PathBuf, Duration, bool), String> {
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let db = dir.join(format!("scale-{residents}.db"));
    let stamp = dir.join(format!("scale-{residents}.seed-ms"));
    // A file an earlier version seeded keeps that version's key derivation (its salt names
    // it): it would measure that version's open, so it is seeded again.
    let current_format = matches!(
        store::key::file_state(&db),
        Ok(store::key::FileState::Encrypted(salt)) if store::key::kdf_parameters(&salt).0 == store::key::KDF_MEMORY_KIB
    );
    let reseed = std::env::var_os("BENCH_SCALE_RESEED").is_some() || !current_format;
    if !reseed && db.exists() {
        if let Some(ms) = std::fs::read_to_string(&stamp).ok().and_then(|t| t.trim().parse::<u64>().ok()) {
            // Opened once here: a file seeded before a migration is brought up to date (an
            // index built over a million rows) once, not in the first timed open of each run.
            let app = open(&db)?;
            app.conn().query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(|e| e.to_string())?;
            drop(app);
            return Ok((db, Duration::from_millis(ms), true));
        }
    }
    store::encryption::remove_with_journals(&db);
    let _ = std::fs::remove_file(&stamp);
    let mut app = open(&db)?;
    let t = Instant::now();
    app.demo_seed(residents, 42).map_err(|e| e.to_string())?;
    let took = t.elapsed();
    app.settle();
    // The file alone is copied for each run: everything in it, nothing left in a WAL.
    app.conn().query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(|e| e.to_string())?;
    drop(app);
    std::fs::write(&stamp, took.as_millis().to_string()).map_err(|e| e.to_string())?;
    Ok((db, took, false))
}

/// Whether a section runs: all of them, or those named in `BENCH_SCALE_ONLY` (comma-separated:
/// open, search, export, import), for looking at one figure.
fn only(section: &str) -> bool {
    std::env::var("BENCH_SCALE_ONLY").map_or(true, |v| v.split(',').any(|s| s.trim() == section))
}

/// CPU time of this thread so far (`/proc/thread-self/schedstat`, ns; updated by the
/// scheduler, so only differences over many operations are meaningful).
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|t| t.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// CPU time of the whole process, every thread (`/proc/self/stat` utime + stime, 10 ms ticks).
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

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let at = |q: f64| ms(samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)]);
    (at(0.5), at(0.99), ms(*samples.last().unwrap_or(&Duration::ZERO)))
}

fn run() -> Result<(), String> {
    let residents = residents();
    let (pristine, seed_time, reused) = seeded(residents)?;
    // Every run works on a fresh copy of the seeded file, so each measures the same portfolio
    // (sign-ins, exports and the import write to it; outbox entries are never deleted).
    let db = bench_dir().join(format!("scale-{residents}-run.db"));
    store::encryption::remove_with_journals(&db);
    std::fs::copy(&pristine, &db).map_err(|e| format!("copying {}: {e}", pristine.display()))?;
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!(
        "scale bench: {residents} residents, {} sites, encrypted database {} ({:.0} MB)",
        residents.div_ceil(400).max(6),
        db.display(),
        size as f64 / 1e6
    );
    println!(
        "  demo seed                       {:>9.1} s    {}(target < 100 s at 1M, 10× the 100k target: {})",
        seed_time.as_secs_f64(),
        if reused { "(measured when the file was made; reused) " } else { "" },
        verdict(seed_time < Duration::from_secs(100))
    );

    // 2. Open + sign in + first page, each time from a closed database.
    let mut samples = Vec::new();
    for _ in 0..if only("open") { 5 } else { 0 } {
        let t = Instant::now();
        let mut app = open(&db)?;
        let s = app.sign_in(OWNER.0, OWNER.1).map_err(|e| e.to_string())?;
        let f = ResidentFilter { limit: Some(50), ..Default::default() };
        let page = app.resident_list(&s, "Maple Court", &f).map_err(|e| e.to_string())?;
        samples.push(t.elapsed());
        std::hint::black_box(page);
    }
    if !samples.is_empty() {
        let (open_p50, _, _) = percentiles(samples);
        println!(
        "  open + sign-in + first page     {open_p50:>9.1} ms   (median of 5, argon2id sign-in included; target < 1 s: {})",
        verdict(open_p50 < 1000.0)
    );
    }

    // 3. Search as you type: every prefix of each word, as typed, for a Team administrator
    //    (the owner's active team, a third of the portfolio) and a one-site staff user.
    let mut app = open(&db)?;
    let owner = app.sign_in(OWNER.0, OWNER.1).map_err(|e| e.to_string())?;
    let staff = app.sign_in(STAFF.0, STAFF.1).map_err(|e| e.to_string())?;
    let words = ["wilson", "ava", "c101", "nguyen", "mateo.lopez", "b205", "zoe", "hill", "grace.", "a10", "xq"];
    let typed: Vec<String> =
        words.iter().flat_map(|w| (1..=w.len()).map(move |n| w[..n].to_string())).collect::<Vec<_>>();
    for (who, session) in [("team", &owner), ("staff", &staff)].into_iter().filter(|_| only("search")) {
        for q in &typed {
            app.resident_search(session, q, 50).map_err(|e| e.to_string())?; // warm
        }
        // Each keystroke 5 times: every sample counts for the p99; each keystroke's best of
        // 5 is its cost without the waits for a core of this shared machine.
        let mut samples = Vec::new();
        let mut best: Vec<(Duration, &str)> = typed.iter().map(|q| (Duration::MAX, q.as_str())).collect();
        for _ in 0..5 {
            for (k, q) in typed.iter().enumerate() {
                let t = Instant::now();
                std::hint::black_box(app.resident_search(session, q, 50).map_err(|e| e.to_string())?);
                let wall = t.elapsed();
                samples.push(wall);
                best[k].0 = best[k].0.min(wall);
            }
        }
        // The CPU each keystroke takes (this thread's schedstat over 20 runs of it in a row:
        // the counter moves in scheduler ticks, so one run alone cannot be read): what the
        // search costs, apart from waiting for a core of this shared machine.
        let cpu: Vec<Duration> = typed
            .iter()
            .map(|q| {
                let before = thread_cpu();
                for _ in 0..20 {
                    let _ = std::hint::black_box(app.resident_search(session, q, 50));
                }
                thread_cpu().saturating_sub(before) / 20
            })
            .collect();
        let (_, cpu99, cpu_max) = percentiles(cpu);
        let n = samples.len();
        let (p50, p99, max) = percentiles(samples);
        let (_, best99, _) = percentiles(best.iter().map(|b| b.0).collect());
        best.sort_by(|a, b| b.cmp(a));
        let worst: Vec<String> = best.iter().take(3).map(|(d, q)| format!("{q:?} {:.2} ms", ms(*d))).collect();
        println!(
            "  search as you type ({who:<5})     p50 {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms over {n} keystrokes; \
             p99 of each keystroke's best of 5: {best99:.3} ms; CPU per keystroke p99 {cpu99:.3} ms, max {cpu_max:.3} ms \
             (target p99 < 5 ms: all samples {}, best of 5 {}, CPU {}); slowest: {}",
            verdict(p99 < 5.0),
            verdict(best99 < 5.0),
            verdict(cpu99 < 5.0),
            worst.join(", ")
        );
    }

    // The reference, same run: the query this search replaced (one UNION of the four prefix
    //    ranges, every match looked up and sorted), for the same team and keystrokes.
    let scope_team = owner.actor.team_id().ok_or("no team")?;
    let mut samples = Vec::new();
    if only("search") {
        let conn = app.conn();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {} FROM residents WHERE id IN (
                     SELECT id FROM residents WHERE first_lc >= ?2 AND first_lc < ?3
                     UNION SELECT id FROM residents WHERE last_lc >= ?2 AND last_lc < ?3
                     UNION SELECT id FROM residents WHERE email >= ?2 AND email < ?3
                     UNION SELECT id FROM residents WHERE unit_lc >= ?2 AND unit_lc < ?3)
                 AND site_id IN (SELECT id FROM sites WHERE team_id = ?1)
                 ORDER BY last_lc, first_lc, id LIMIT 50",
                store::residents::COLS
            ))
            .map_err(|e| e.to_string())?;
        for q in &typed {
            let t = Instant::now();
            let hi = format!("{q}\u{10FFFF}");
            let n = stmt
                .query_map(rusqlite::params![scope_team, q, hi], store::residents::from_row)
                .map_err(|e| e.to_string())?
                .count();
            samples.push(t.elapsed());
            std::hint::black_box(n);
        }
    }
    let n = samples.len();
    let (p50, p99, max) = if n > 0 { percentiles(samples) } else { (0.0, 0.0, 0.0) };
    if n > 0 {
        println!(
        "  (reference: the previous search query, store only, team: p50 {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms over {n} keystrokes)"
        );
    }

    // 4. Export of the owner's active team against sqlite3 on a plain copy.
    let out = bench_dir().join("scale-out");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let plain = bench_dir().join(format!("scale-{residents}-plain.db"));
    if !plain.exists() {
        let t = Instant::now();
        store::encryption::remove_with_journals(&plain);
        let conn = app.conn();
        conn.execute("ATTACH DATABASE ?1 AS plain KEY ''", [plain.to_string_lossy()]).map_err(|e| e.to_string())?;
        conn.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(())).map_err(|e| e.to_string())?;
        conn.execute_batch("DETACH DATABASE plain").map_err(|e| e.to_string())?;
        println!("  (plain copy for the reference made in {:.1} s)", t.elapsed().as_secs_f64());
    }
    let team_id = owner.actor.team_id().ok_or("the owner has no active team")?;
    if only("export") {
        // Ours and the reference take turns, five rounds, and each keeps its best: on a shared
        // machine the load moves between two phases run one after the other, and alternating
        // puts both under the same conditions.
        // CPU time is printed too: it moves much less with the load than wall time does.
        let (mut ours, mut reference, mut rows) = (Duration::MAX, Duration::MAX, 0);
        let (mut ours_cpu, mut reference_cpu) = (Duration::MAX, Duration::MAX);
        for _ in 0..5 {
            let path = out.join("team.csv");
            let (t, cpu) = (Instant::now(), thread_cpu());
            let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
            let mut w = BufWriter::with_capacity(256 * 1024, file);
            rows = app.export_residents(&owner, &ExportRequest::default(), &mut w).map_err(|e| e.to_string())?.rows;
            w.flush().map_err(|e| e.to_string())?;
            ours = ours.min(t.elapsed());
            ours_cpu = ours_cpu.min(thread_cpu().saturating_sub(cpu));
            let (wall, cpu) = reference_sqlite(&plain, team_id, &out.join("sqlite.csv"))?;
            reference = reference.min(wall);
            reference_cpu = reference_cpu.min(cpu);
        }
        let r = ours.as_secs_f64() / reference.as_secs_f64();
        println!(
        "  export of the team ({rows} rows)  {:>9.1} ms   vs sqlite3 -csv on a plain copy {:.1} ms: {r:.2}× (best of 5 each, taking turns; target ≤ 0.6×: {})",
        ms(ours),
        ms(reference),
        verdict(r <= 0.6)
    );
        println!(
            "    the same in CPU time: {:.1} ms vs {:.1} ms: {:.2}×",
            ms(ours_cpu),
            ms(reference_cpu),
            ours_cpu.as_secs_f64() / reference_cpu.as_secs_f64()
        );
        let site_name = app
            .site_list(&owner)
            .map_err(|e| e.to_string())?
            .into_iter()
            .next()
            .map(|s| s.site.name)
            .ok_or("the team has no site")?;
        // The CLI takes the daily backup after a sign-in when one is due: taken here first,
        // so the figures are the export's (the backup is the bench's, deleted at the end).
        let t = Instant::now();
        if app.backup_if_due(&owner).map_err(|e| e.to_string())?.is_some() {
            println!(
                "  (the daily backup the CLI would take first: {:.1} s, taken beforehand)",
                t.elapsed().as_secs_f64()
            );
        }
        for (what, site) in [("one site", Some(site_name.as_str())), ("the team", None)] {
            match peak_memory_of_cli_export(&db, site, &out.join("cli.csv")) {
                Ok((kb, t, lines)) => println!(
                    "  export CLI peak memory ({what:<8}) {:>6.1} MB for {} rows in {:.1} s (target < 30 MB: {})",
                    kb as f64 / 1024.0,
                    lines.saturating_sub(1),
                    t.as_secs_f64(),
                    verdict(kb < 30 * 1024)
                ),
                Err(e) => println!("  export CLI peak memory ({what}): not measured: {e}"),
            }
        }
        // The floor under both: a signed-in command that reads one row. Its peak is the
        // sign-in's (argon2id's 19 MiB block, the process's code and libraries, and with
        // RESIDENTDESK_DB_KEY a second argon2id for the database key, before it).
        match peak_memory_of_cli(&db, &["team", "show"]) {
            Ok((kb, _)) => println!(
                "  (the floor: `team show`, sign-in and one read, peaks at {:.1} MB; an export adds nothing above it when it peaks there too)",
                kb as f64 / 1024.0
            ),
            Err(e) => println!("  (the floor, `team show`: not measured: {e})"),
        }
    }

    // The run's own backups go with it (a copy of the whole database each).
    if let Ok(dir) = std::fs::read_dir(bench_dir().join("backups")) {
        let prefix = format!("scale-{residents}-run-");
        for f in dir.flatten().filter(|f| f.file_name().to_string_lossy().starts_with(&prefix)) {
            let _ = std::fs::remove_file(f.path());
        }
    }
    if !only("import") {
        return Ok(());
    }
    // 5. Import + validate 100,000 rows into a new site of the portfolio.
    let site_name = "Scale Import Towers";
    {
        let tx = app.conn_mut().transaction().map_err(|e| e.to_string())?;
        let existing: Option<i64> =
            tx.query_row("SELECT id FROM sites WHERE name = ?1", [site_name], |r| r.get(0)).ok();
        if existing.is_none() {
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
        }
        tx.commit().map_err(|e| e.to_string())?;
    }
    let csv = import_file(IMPORT_ROWS);
    let t = Instant::now();
    let dry = app.import_preview(&owner, site_name, &csv).map_err(|e| e.to_string())?;
    let dry_t = t.elapsed();
    if dry.invalid_rows > 0 {
        return Err(format!("the generated file has problems: {:?}", &dry.problems[..dry.problems.len().min(3)]));
    }
    let (t, cpu) = (Instant::now(), process_cpu());
    let done = app.import_commit(&owner, site_name, &csv, false).map_err(|e| e.to_string())?;
    let (commit_t, commit_cpu) = (t.elapsed(), process_cpu().saturating_sub(cpu));
    if done.status != ImportStatus::Imported {
        return Err(format!("import did not complete: {}", done.summary()));
    }
    let wal = std::fs::metadata(db.with_extension("db-wal")).map(|m| m.len()).unwrap_or(0);
    let checkpoint = app.settle().unwrap_or_default();
    println!("  import dry run ({} rows)      {:>9.1} ms   (parse + validate every rule)", dry.rows, ms(dry_t));
    println!(
        "  import + validate ({} rows)   {:>9.1} ms   (one transaction, outbox + audit; target < 1 s: {}); CPU of both threads {:.0} ms \
         (the rest is waiting: for a core, and for the commit's fsync of {:.0} MB of WAL); WAL checkpoint after, in the background: {:.0} ms",
        done.imported,
        ms(commit_t),
        verdict(commit_t < Duration::from_secs(1)),
        ms(commit_cpu),
        wal as f64 / 1e6,
        ms(checkpoint)
    );
    Ok(())
}

/// The team's rows and columns as the export writes them, in the same order, by sqlite3:
/// the wall time and the CPU time (user + system) of one run, both taken by a small Python
/// wrapper around the child (the standard library has no rusage of children).
fn reference_sqlite(plain: &Path, team_id: i64, out: &Path) -> Result<(Duration, Duration), String> {
    if Command::new("sqlite3").arg("-version").stdout(Stdio::null()).status().is_err() {
        return Err("sqlite3 is not installed; `cargo xtask bench` installs it".into());
    }
    let sql = format!(
        "SELECT r.first_name, r.last_name, r.email, r.phone, r.building, r.floor, r.unit, \
         r.activation_utc, r.deactivation_utc, r.onboarded_at, r.suspended, r.remote_id, s.name \
         FROM residents r JOIN sites s ON s.id = r.site_id WHERE s.team_id = {team_id} \
         ORDER BY r.site_id, r.last_lc, r.first_lc, r.id"
    );
    let script = "import resource, subprocess, sys, time\n\
                  out = open(sys.argv[1], 'wb')\n\
                  t = time.perf_counter()\n\
                  r = subprocess.run(sys.argv[2:], stdout=out)\n\
                  wall = time.perf_counter() - t\n\
                  u = resource.getrusage(resource.RUSAGE_CHILDREN)\n\
                  print(wall, u.ru_utime + u.ru_stime)\n\
                  sys.exit(r.returncode)\n";
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(out)
        .args(["sqlite3", "-csv", "-header", "-readonly"])
        .arg(plain)
        .arg(&sql)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("sqlite3 failed: {} {text}", output.status));
    }
    let seconds: Vec<f64> = text.split_whitespace().filter_map(|t| t.parse().ok()).collect();
    match seconds[..] {
        [wall, cpu] => Ok((Duration::from_secs_f64(wall), Duration::from_secs_f64(cpu))),
        _ => Err(format!("the sqlite3 wrapper printed {text:?}")),
    }
}

/// Peak resident set (KiB) of `residentdesk export` in a child process, its time and the
/// lines it wrote.
fn peak_memory_of_cli_export(db: &Path, site: Option<&str>, out: &Path) -> Result<(u64, Duration, usize), String> {
    let out_text = out.to_string_lossy();
    let mut args = vec!["export"];
    match site {
        Some(site) => args.extend(["--site", site]),
        None => args.push("--team"),
    }
    args.extend(["-o", out_text.as_ref()]);
    let (kb, took) = peak_memory_of_cli(db, &args)?;
    let lines = std::fs::read(out).map(|b| b.iter().filter(|c| **c == b'\n').count()).unwrap_or(0);
    Ok((kb, took, lines))
}

/// Peak resident set (KiB) and time of `residentdesk --db DB --as OWNER ARGS…` in a child
/// process: a small Python wrapper reports getrusage(RUSAGE_CHILDREN).ru_maxrss, so no
/// unsafe FFI is needed here.
fn peak_memory_of_cli(db: &Path, args: &[&str]) -> Result<(u64, Duration), String> {
    let bin = cli_binary();
    if !bin.exists() {
        return Err(format!("{} is not built (cargo build --release -p residentdesk)", bin.display()));
    }
    let script = "import resource, subprocess, sys\n\
                  r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n\
                  print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n\
                  sys.exit(r.returncode)\n";
    let start = Instant::now();
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&bin)
        .arg("--db")
        .arg(db)
        .args(["--as", OWNER.0])
        .args(args)
        .env("RESIDENTDESK_PASSWORD", OWNER.1)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    let took = start.elapsed();
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("residentdesk {} failed: {text}", args.join(" ")));
    }
    let kb: u64 = text.lines().last().and_then(|l| l.trim().parse().ok()).ok_or("no ru_maxrss printed")?;
    Ok((kb, took))
}

fn import_file(rows: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows * 110);
    out.extend_from_slice(
        b"FirstName,LastName,Email,PhoneNumber,Building,Floor,Unit,ActivationDateUTC,DeactivationDateUTC\n",
    );
    let stamp = chrono::Utc::now().timestamp();
    for i in 0..rows {
        let start = match i % 4 {
            0 => "2026-01-15".to_string(),
            1 => "1/15/2026".to_string(),
            2 => "1/15/26 2:10 PM".to_string(),
            _ => "2026-01-15T09:30:00-06:00".to_string(),
        };
        let end = if i % 5 == 0 { "12/31/2027" } else { "" };
        let line = format!(
            "First{i},Last{},scale.{stamp}.{i}@residents.example,555-{:03}-{:04},B{},{},U{i:06},{start},{end}\n",
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
