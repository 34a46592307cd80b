//! The Windows build, checked from Linux: the core and the `residentdesk` CLI cross-built for
//! `x86_64-pc-windows-gnu` with mingw-w64, the desktop crate type-checked for that target,
//! and the CLI's smoke test (demo seed, lists, export, import, backup, restore) run under
//! Wine on a scratch database, its outputs checked.
//!
//! Set-up is idempotent like the rest of xtask: the Rust target through rustup, mingw-w64 and
//! Wine from Debian (`gcc-mingw-w64-x86-64`, `wine64`). The linker is given to cargo through
//! `CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER` on the commands xtask starts, not through a
//! tracked `.cargo/config.toml`, so nothing changes for a machine that builds for Windows in
//! its own way (MSYS2, a native Windows toolchain).
//!
//! Debian 12's Wine 8 has no `ProcessPrng` (bcryptprimitives.dll), which Rust's standard
//! library imports on Windows; `xtask/windows/bcryptprimitives.c` supplies it for the test
//! (built next to the .exe, never shipped).

use crate::{root, setup};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// The Windows target the CLI is built for.
pub const TRIPLE: &str = "x86_64-pc-windows-gnu";
/// Cargo's setting for the target's linker.
const LINKER_VAR: &str = "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER";
/// mingw-w64's C compiler (also the linker rustc drives).
const MINGW_GCC: &str = "x86_64-w64-mingw32-gcc";
/// Debian's Wine: `wine64` installs its loader here and puts nothing on the PATH (that is
/// the `wine` package's wrapper, which we do not need).
const DEBIAN_WINE64: &str = "/usr/lib/wine/wine64";

/// Who acts: the demo's Team administrator (as in `cargo xtask run`), and its owner (only the
/// owner may restore: a restore replaces every team's data).
const ADMIN: (&str, &str) = ("teamadmin@demo.residentdesk.test", "Demo-TeamAdmin-2026");
const OWNER: (&str, &str) = ("owner@demo.residentdesk.test", "Demo-Owner-2026");
const SITE: &str = "Maple Court";

/// The core's target directory (the cross build keeps the triple in a subfolder of it).
fn core_target() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Runs cargo for the Windows target (the linker set unless the caller chose one).
fn cargo_windows(args: &[&str], target_dir: Option<&Path>, env: &[(&str, String)]) -> Result<(), String> {
    let mut cmd = Command::new(cargo());
    cmd.args(args).current_dir(root()).envs(env.iter().map(|(k, v)| (k, v)));
    if std::env::var_os(LINKER_VAR).is_none() {
        cmd.env(LINKER_VAR, MINGW_GCC);
    }
    if let Some(dir) = target_dir {
        cmd.env("CARGO_TARGET_DIR", dir);
    }
    eprintln!("xtask: $ cargo {}", args.join(" "));
    let status = cmd.status().map_err(|e| format!("cannot start cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed ({status})", args.join(" ")))
    }
}

/// The Rust target and mingw-w64 (for the cross build).
fn cross_deps() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("cannot run rustup: {e}"))?;
    if !String::from_utf8_lossy(&installed.stdout).lines().any(|l| l.trim() == TRIPLE) {
        crate::sh("rustup", &["target", "add", TRIPLE])?;
    }
    setup::apt(&["gcc-mingw-w64-x86-64"])
}

/// The Wine loader to start Windows programs with.
fn wine() -> Result<PathBuf, String> {
    setup::apt(&["wine64"])?;
    if Path::new(DEBIAN_WINE64).exists() {
        return Ok(PathBuf::from(DEBIAN_WINE64));
    }
    // Other layouts (Ubuntu, the `wine` wrapper) put it on the PATH.
    for name in ["wine64", "wine"] {
        if setup::have(name) {
            return Ok(PathBuf::from(name));
        }
    }
    Err(format!("wine64 is installed but neither {DEBIAN_WINE64} nor wine64/wine on the PATH was found"))
}

/// Cross-builds the core library and the CLI (debug: the smoke test needs no optimiser, and
/// the build is the bulk of this step's time).
fn cross_build() -> Result<PathBuf, String> {
    let args = ["build", "--target", TRIPLE, "-p", "residentdesk", "--lib", "--bin", "residentdesk"];
    if let Err(first) = cargo_windows(&args, None, &[]) {
        // The C build scripts (OpenSSL for SQLCipher, SQLCipher itself) run make and mingw;
        // one failed on a CI machine with its error off-screen. Say what they printed last,
        // and try once more: a second failure is reported as it is.
        print_build_script_errors();
        eprintln!("xtask: {first}; trying the Windows build once more");
        cargo_windows(&args, None, &[]).inspect_err(|_| print_build_script_errors())?;
    }
    let exe = core_target().join(TRIPLE).join("debug").join("residentdesk.exe");
    if exe.is_file() {
        Ok(exe)
    } else {
        Err(format!("the cross build succeeded but {} is not there", exe.display()))
    }
}

/// The last lines of every C build script's error output that mentions an error (the
/// cross build's `build/*/stderr`), printed last so a log's tail shows them.
fn print_build_script_errors() {
    let build = core_target().join(TRIPLE).join("debug").join("build");
    let Ok(dirs) = std::fs::read_dir(&build) else { return };
    for dir in dirs.flatten() {
        let stderr = dir.path().join("stderr");
        let Ok(text) = std::fs::read_to_string(&stderr) else { continue };
        let lower = text.to_lowercase();
        if !(lower.contains("error") || lower.contains("panicked") || lower.contains("killed")) {
            continue;
        }
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(40)..];
        eprintln!("xtask: the last lines of {}:\n{}", stderr.display(), tail.join("\n"));
    }
}

/// Type-checks the desktop crate for Windows, in the desktop's own target directory.
///
/// Tauri's build script and context macro need, for a Windows target, the `.ico` the config
/// lists (`src-tauri/icons/icon.ico`, generated with the icon set) and the built UI.
fn check_desktop() -> Result<(), String> {
    let ui = root().join("ui").join("dist").join("index.html");
    if !ui.is_file() {
        return Err(format!(
            "{} is missing: the desktop's Windows check embeds the built UI (run `cargo xtask e2e` or `cd ui && npm run build` first)",
            ui.display()
        ));
    }
    let manifest = root().join("src-tauri").join("Cargo.toml");
    let manifest = manifest.to_str().ok_or("non-UTF-8 path")?;
    cargo_windows(&["check", "--target", TRIPLE, "--manifest-path", manifest], Some(&crate::desktop::target_dir()), &[])
}

/// Builds `bcryptprimitives.dll` next to the .exe when it is missing or older than its source.
fn shim(exe_dir: &Path) -> Result<(), String> {
    let source = root().join("xtask").join("windows").join("bcryptprimitives.c");
    let dll = exe_dir.join("bcryptprimitives.dll");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&dll).is_some() && modified(&dll) >= modified(&source) {
        return Ok(());
    }
    let (source, dll) = (source.to_str().ok_or("non-UTF-8 path")?, dll.to_str().ok_or("non-UTF-8 path")?);
    crate::sh(MINGW_GCC, &["-shared", "-O2", "-s", "-Wall", "-Werror", "-o", dll, source, "-ladvapi32"])
}

/// Wine's settings for every program it starts here: our prefix, no debug chatter, our
/// `bcryptprimitives.dll` before any built-in one, and no Mono/Gecko (they would be
/// downloaded, and a console program needs neither).
fn wine_env(cmd: &mut Command, prefix: &Path) {
    cmd.env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "bcryptprimitives=n,b;mscoree=;mshtml=")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
}

/// Creates the Wine prefix once (later runs reuse it).
fn prefix(wine: &Path) -> Result<PathBuf, String> {
    let prefix = core_target().join("wine").join("prefix");
    if prefix.join("system.reg").is_file() {
        return Ok(prefix);
    }
    let _ = std::fs::remove_dir_all(&prefix);
    std::fs::create_dir_all(&prefix).map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
    eprintln!("xtask: $ WINEPREFIX={} {} wineboot --init", prefix.display(), wine.display());
    let mut cmd = Command::new(wine);
    cmd.args(["wineboot", "--init"]);
    wine_env(&mut cmd, &prefix);
    let out = cmd.output().map_err(|e| format!("cannot start {}: {e}", wine.display()))?;
    // The registry files are written when the prefix's wineserver exits: wait for it.
    let server = match wine.parent().map(|d| d.join("wineserver")) {
        Some(s) if s.is_file() => s,
        _ => PathBuf::from("wineserver"),
    };
    let mut wait = Command::new(&server);
    wait.arg("-w");
    wine_env(&mut wait, &prefix);
    let _ = wait.status();
    if !out.status.success() || !prefix.join("system.reg").is_file() {
        return Err(format!(
            "wineboot could not create the Wine prefix {} ({}):\n{}",
            prefix.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(prefix)
}

/// One run of the Windows CLI under Wine, in the scratch folder.
struct Smoke<'a> {
    wine: &'a Path,
    exe: &'a Path,
    prefix: &'a Path,
    dir: &'a Path,
}

impl Smoke<'_> {
    /// Runs `residentdesk --db smoke.db --as ADMIN ARGS` (no actor when `as_admin` is false)
    /// and returns its standard output.
    fn run(&self, step: &str, as_admin: bool, args: &[&str]) -> Result<String, String> {
        self.run_as(step, as_admin.then_some(ADMIN), args)
    }

    /// Runs `residentdesk --db smoke.db [--as EMAIL] ARGS` with the actor's password in
    /// `RESIDENTDESK_PASSWORD` and returns its standard output; a non-zero exit fails the
    /// step, named, with what the program said.
    fn run_as(&self, step: &str, actor: Option<(&str, &str)>, args: &[&str]) -> Result<String, String> {
        let mut full = vec!["--db", "smoke.db"];
        let mut cmd = Command::new(self.wine);
        if let Some((email, password)) = actor {
            full.extend(["--as", email]);
            cmd.env("RESIDENTDESK_PASSWORD", password);
        }
        full.extend(args);
        eprintln!("xtask: [wine] residentdesk.exe {}", full.join(" "));
        cmd.arg(self.exe).args(&full).current_dir(self.dir);
        wine_env(&mut cmd, self.prefix);
        let out: Output = cmd.output().map_err(|e| format!("{step}: cannot start {}: {e}", self.wine.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(format!(
                "Windows smoke test, step {step:?}: residentdesk.exe {} exited with {}\nstdout:\n{stdout}\nstderr:\n{}",
                full.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(stdout)
    }
}

/// Fails the step, naming it and showing the output it judged.
fn expect(step: &str, ok: bool, what: &str, output: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("Windows smoke test, step {step:?}: expected {what}; the output was:\n{output}"))
    }
}

/// The residents a `resident list` printed: its closing "N resident(s)" line, which must
/// agree with the table's rows (a header line, then one line per resident).
fn listed_residents(step: &str, output: &str) -> Result<usize, String> {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    let total = lines
        .last()
        .and_then(|l| l.strip_suffix(" resident(s)"))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .ok_or_else(|| format!("Windows smoke test, step {step:?}: no closing \"N resident(s)\" line in:\n{output}"))?;
    let rows = lines.len().saturating_sub(2);
    expect(step, rows == total, &format!("{total} table rows, as the closing line says"), output)?;
    Ok(total)
}

/// The sorted emails (third column) of an exported CSV file.
fn emails(csv: &str) -> Vec<String> {
    let mut all: Vec<String> = csv.lines().skip(1).filter_map(|l| l.split(',').nth(2)).map(str::to_string).collect();
    all.sort();
    all
}

/// The smoke test proper, on a fresh scratch folder (relative paths: the folder is the
/// program's current directory, which also checks Windows path handling).
fn smoke(wine: &Path, exe: &Path, prefix: &Path) -> Result<(), String> {
    let dir = core_target().join("wine").join("smoke");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let s = Smoke { wine, exe, prefix, dir: &dir };

    let out = s.run("demo seed", false, &["demo", "seed"])?;
    expect(
        "demo seed",
        [ADMIN, OWNER].iter().all(|(e, p)| out.contains(e) && out.contains(p)),
        "the demo accounts printed",
        &out,
    )?;

    let sites = s.run("site list", true, &["site", "list"])?;
    expect("site list", sites.contains(SITE), &format!("the site {SITE:?} listed"), &sites)?;

    let list = |s: &Smoke, step: &str| s.run(step, true, &["resident", "list", "--site", SITE, "--limit", "100000"]);
    let out = list(&s, "resident list")?;
    let residents = listed_residents("resident list", &out)?;
    // The site list's count column says the same.
    let site_row = sites.lines().find(|l| l.contains(SITE)).unwrap_or_default();
    expect(
        "resident list",
        residents > 0 && site_row.split_whitespace().last() == Some(residents.to_string().as_str()),
        &format!("as many residents as the site list's row {site_row:?} counts, and at least one"),
        &out,
    )?;

    let out = s.run("export", true, &["export", "--site", SITE, "-o", "maple.csv"])?;
    let csv = std::fs::read_to_string(dir.join("maple.csv"))
        .map_err(|e| format!("Windows smoke test, step \"export\": cannot read maple.csv: {e}\n{out}"))?;
    let mut lines = csv.lines();
    let header = lines.next().unwrap_or_default().to_string();
    expect("export", header.to_ascii_lowercase().contains("email"), "a header line with an email column", &csv)?;
    let exported = lines.filter(|l| !l.is_empty()).count();
    expect(
        "export",
        exported == residents && out.contains(&format!("exported {residents} resident(s)")),
        &format!("{residents} data lines (one per listed resident) and the summary saying so"),
        &format!("{out}\n--- maple.csv ({exported} data lines):\n{csv}"),
    )?;

    // Import that file back: purge the site's residents (expired ones cannot be purged and
    // keep their emails for the grace period), import the file with --valid-only, and the
    // site holds the same residents again.
    let out = s.run("bulk terminate-purge", true, &["bulk", "terminate-purge", "--site", SITE])?;
    let purged = out
        .lines()
        .find_map(|l| l.split_once(": ").and_then(|(_, r)| r.split_once(&format!(" of {residents} succeeded"))))
        .and_then(|(n, _)| n.trim().parse::<usize>().ok());
    let Some(purged) = purged.filter(|&p| p > 0) else {
        return expect("bulk terminate-purge", false, &format!("\"P of {residents} succeeded\" with P > 0"), &out);
    };
    let kept = residents - purged;
    let out = list(&s, "resident list after purge")?;
    expect(
        "bulk terminate-purge",
        listed_residents("resident list after purge", &out)? == kept,
        &format!("{kept} residents left"),
        &out,
    )?;
    let out = s.run("import", true, &["import", "maple.csv", "--site", SITE, "--valid-only"])?;
    expect(
        "import",
        out.contains(&format!("imported {purged} "))
            && (kept == 0 || out.contains(&format!("{purged} valid, {kept} with problems"))),
        &format!("{purged} residents imported ({kept} rows refused: their residents are still there)"),
        &out,
    )?;
    let out = list(&s, "resident list after import")?;
    expect(
        "import",
        listed_residents("resident list after import", &out)? == residents,
        &format!("{residents} residents again"),
        &out,
    )?;
    s.run("export after import", true, &["export", "--site", SITE, "-o", "again.csv"])?;
    let again = std::fs::read_to_string(dir.join("again.csv"))
        .map_err(|e| format!("Windows smoke test, step \"export after import\": cannot read again.csv: {e}"))?;
    expect("import", emails(&again) == emails(&csv), "the same residents' emails as the first export", &again)?;

    let out = s.run("backup", true, &["backup", "-o", "before.db"])?;
    expect("backup", out.contains("Backed up to") && dir.join("before.db").is_file(), "before.db written", &out)?;
    // The default place too: `backups\` beside the database.
    let out = s.run("backup (default folder)", true, &["backup"])?;
    expect("backup (default folder)", out.contains("Backed up to"), "a backup in the backups folder", &out)?;
    let out = s.run("backup list", true, &["backup", "list"])?;
    expect(
        "backup list",
        out.contains("backups") && out.lines().any(|l| l.contains(" manual ") && l.trim_end().ends_with("-manual.db")),
        "the backups folder holding the manual backup",
        &out,
    )?;

    // A change after the backup, which the restore must take back: a resident's phone.
    let Some((who, phone)) = again
        .lines()
        .nth(1)
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
        .and_then(|f| Some((f.get(2)?.clone(), f.get(3)?.clone())))
    else {
        return expect("resident update", false, "a resident with email and phone in the export", &again);
    };
    let new_phone = "555-010-0199";
    let phone_of = |s: &Smoke, step: &str| -> Result<String, String> {
        let out = s.run(step, true, &["resident", "show", &who])?;
        Ok(out
            .lines()
            .find_map(|l| l.trim().strip_prefix("phone:"))
            .map(|p| p.trim().to_string())
            .unwrap_or_else(|| format!("(no phone line in: {out})")))
    };
    s.run("resident update", true, &["resident", "update", &who, "--phone", new_phone])?;
    let now = phone_of(&s, "resident show after update")?;
    expect("resident update", now == new_phone, &format!("{who}'s phone now {new_phone}"), &now)?;
    let out = s.run_as("restore --check", Some(OWNER), &["restore", "before.db", "--check"])?;
    expect("restore --check", out.contains("can be restored"), "the check to pass", &out)?;
    let out = s.run_as("restore", Some(OWNER), &["restore", "before.db"])?;
    expect("restore", out.contains("Restored") && out.contains("before-restore"), "the restore reported", &out)?;
    let out = list(&s, "resident list after restore")?;
    expect(
        "restore",
        listed_residents("resident list after restore", &out)? == residents,
        &format!("the backup's {residents} residents"),
        &out,
    )?;
    let back = phone_of(&s, "resident show after restore")?;
    expect("restore", back == phone, &format!("{who}'s phone {phone} again, as in the backup"), &back)?;
    println!("xtask: Windows smoke test passed under Wine ({residents} residents listed, exported, imported back, backed up and restored)");
    Ok(())
}

/// The Windows checks, with the seconds each part took: the cross-build and the CLI's smoke
/// test under Wine always; the desktop's type-check when `with_desktop` (`cargo xtask
/// windows`). `cargo xtask test` leaves the desktop's check out: from cold it compiles Tauri
/// and its Windows crates once more (about ten CPU-minutes), which would take CI's run from
/// about half an hour towards its limit, while the core and CLI — where the platform code
/// lives — are built and run under Wine on every run.
pub fn test(with_desktop: bool) -> Result<(), String> {
    let mut times: Vec<(&str, f64)> = Vec::new();
    let mut timed = |name: &'static str, t: Instant| times.push((name, t.elapsed().as_secs_f64()));

    let t = Instant::now();
    cross_deps()?;
    let wine = wine()?;
    timed("set-up", t);
    let t = Instant::now();
    let exe = cross_build()?;
    timed("cross build", t);
    let t = Instant::now();
    shim(exe.parent().ok_or("the .exe has no folder")?)?;
    let prefix = prefix(&wine)?;
    timed("Wine prefix", t);
    let t = Instant::now();
    smoke(&wine, &exe, &prefix)?;
    timed("Wine smoke", t);
    if with_desktop {
        let t = Instant::now();
        check_desktop()?;
        timed("desktop check", t);
    }
    let summary: Vec<String> = times.iter().map(|(n, s)| format!("{n} {s:.0} s")).collect();
    println!("xtask: Windows: {}", summary.join(", "));
    Ok(())
}
