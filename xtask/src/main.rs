//! `cargo xtask run|test|bench|package`: set-up, build and checks in one place.
//!
//! Each command first installs what it needs on a fresh Debian/Ubuntu machine, idempotently
//! (nothing is installed twice; nothing is assumed to be there already), then does its job.
#![forbid(unsafe_code)]

mod deny;
mod desktop;
mod package;
mod setup;
mod windows;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.split_first() {
        Some((c, r)) => (c.as_str(), r.to_vec()),
        None => ("help", vec![]),
    };
    let result = match cmd {
        "test" => test(&rest),
        "run" => run(&rest),
        "bench" => bench(&rest),
        "package" => setup::core_tools().and_then(|()| package::package()),
        // The package test alone, over the debug binaries an earlier `test` or `e2e` built.
        "package-test" => package::test(),
        "e2e" => desktop::e2e_only(&rest),
        "windows" => windows::test(true),
        // The dependency policy alone (deny.toml), as `test` checks it.
        "deny" => deny::check(),
        "help" | "--help" | "-h" => {
            println!("usage: cargo xtask <run|test|bench|package|e2e|windows|deny>\n  run    set up, seed a demo database if none, and start ResidentDesk\n  test   set up, then fmt check, clippy -D warnings, the dependency policy (cargo deny, deny.toml) and every test suite\n  bench  npm audit of the UI's runtime dependencies (reported), then build in release and print the benchmark figures (ratios against references measured in the same run)\n  package  build the release CLI and desktop app and make the .deb and .rpm (target/desktop/release/bundle/)\n  package-test  only the package test of `test`, over the debug binaries already built\n  e2e [FILE...]  build the desktop app and run only its end-to-end tests (all of tests/e2e/, or the files named)\n  windows  cross-build the CLI for Windows, run its smoke test under Wine (both part of test) and type-check the desktop for Windows\n  deny   only the dependency policy of `test`: cargo deny check licenses bans sources (advisories where a database is on disk) for the core and the desktop");
            Ok(())
        }
        other => Err(format!(
            "unknown xtask command {other:?} (run, test, bench, package, package-test, e2e, windows, deny)"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (xtask lives one level below it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// Runs a command in the repository root, failing on a non-zero exit.
pub fn sh(program: &str, args: &[&str]) -> Result<(), String> {
    sh_in(&root(), program, args)
}

pub fn sh_in(dir: &Path, program: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("xtask: $ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{program} {} failed ({status})", args.join(" ")))
    }
}

pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn test(_args: &[String]) -> Result<(), String> {
    setup::core_tools()?;
    // A real Secret Service for the keyring test (tests/it/keyring.rs): a private D-Bus
    // session with GNOME Keyring, as on a Linux desktop.
    setup::apt(&["dbus", "gnome-keyring", "libsecret-tools"])?;
    let cargo = cargo();
    sh(&cargo, &["fmt", "--all", "--", "--check"])?;
    sh(&cargo, &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    // Licenses, bans and sources of both workspaces, before the long test run.
    deny::check()?;
    sh(&cargo, &["test", "--workspace"])?;
    desktop::test()?;
    package::test()?;
    // The CLI cross-built and smoke-tested under Wine (the desktop's Windows type-check is
    // `cargo xtask windows`, see windows::test).
    windows::test(false)?;
    println!("xtask: all checks passed");
    Ok(())
}

fn run(_args: &[String]) -> Result<(), String> {
    setup::core_tools()?;
    let cargo = cargo();
    sh(&cargo, &["build", "--release", "-p", "residentdesk"])?;
    let bin = root().join("target/release/residentdesk");
    let bin = bin.to_str().ok_or("non-UTF-8 path")?;
    let db = std::env::var("RESIDENTDESK_DB")
        .unwrap_or_else(|_| root().join("target/demo/residentdesk.db").display().to_string());
    if !Path::new(&db).exists() {
        sh(bin, &["--db", &db, "demo", "seed"])?;
    } else {
        println!("xtask: using the existing database {db}");
    }
    println!("\nxtask: the sites and first residents the Team administrator sees:");
    let with_pw = |args: &[&str]| -> Result<(), String> {
        eprintln!("xtask: $ residentdesk {}", args.join(" "));
        let status = Command::new(bin)
            .args(args)
            .env("RESIDENTDESK_PASSWORD", "Demo-TeamAdmin-2026")
            .status()
            .map_err(|e| e.to_string())?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("residentdesk {} failed", args.join(" ")))
        }
    };
    with_pw(&["--db", &db, "--as", "teamadmin@demo.residentdesk.test", "site", "list"])?;
    with_pw(&[
        "--db",
        &db,
        "--as",
        "teamadmin@demo.residentdesk.test",
        "resident",
        "list",
        "--site",
        "Maple Court",
        "--limit",
        "15",
    ])?;
    println!(
        "\nxtask: try it: {bin} --db {db} --as teamadmin@demo.residentdesk.test --help (password Demo-TeamAdmin-2026)"
    );
    desktop::run()
}

fn bench(args: &[String]) -> Result<(), String> {
    // `cargo xtask bench [PART…]`: every part, or only those named (an example's name such
    // as `bench_crypt`, `sim` for the simulator's throughput, `desktop` for the packaged app).
    // `scale` names the two scale examples and the desktop at scale (issue #17: a million
    // residents on one desk, their pull, and the app's sign-in on them), which take minutes the
    // first time (the seeded databases are kept under target/bench for later runs).
    let wanted = |part: &str| {
        args.is_empty()
            || args
                .iter()
                .any(|a| a == part || (a == "scale" && (part.starts_with("bench_scale") || part == "desktop_scale")))
    };
    const PARTS: &[&str] = &[
        "bench_core",
        "bench_crypt",
        "bench_csv",
        "bench_access",
        "bench_sync",
        "crash_sync",
        // Many desks over one remote with faults and SIGKILLs (issue #17): 8 desks, 40 s.
        "soak_desks",
        "bench_scale",
        "bench_scale_pull",
    ];
    if let Some(unknown) = args
        .iter()
        .find(|a| !PARTS.contains(&a.as_str()) && !["sim", "desktop", "desktop_scale", "scale"].contains(&a.as_str()))
    {
        return Err(format!(
            "no benchmark part {unknown:?}: the parts are {}, scale, sim, desktop and desktop_scale",
            PARTS.join(", ")
        ));
    }
    setup::core_tools()?;
    // The references measured in the same run: sqlite3's CSV mode and a Python csv script.
    setup::apt(&["sqlite3", "python3"])?;
    // The UI's runtime dependencies against the npm registry's advisories: reported, and
    // repeated as the last line, but not a reason to withhold the figures.
    let audit = deny::npm_audit()?;
    let cargo = cargo();
    let root = root();
    let mut ran = 0;
    // The CLI in release: bench_csv and bench_scale measure its peak memory as a child.
    if wanted("bench_csv") || wanted("bench_scale") {
        sh(&cargo, &["build", "--release", "-p", "residentdesk", "--bin", "residentdesk"])?;
    }
    // bench_scale_pull pulls its huge site from the simulator in its own process as well.
    if wanted("bench_scale_pull") {
        sh(&cargo, &["build", "--release", "-p", "sitemanager-sim"])?;
    }
    for example in PARTS.iter().filter(|p| wanted(p)) {
        if root.join("examples").join(format!("{example}.rs")).exists() {
            sh(&cargo, &["run", "--release", "-p", "residentdesk", "--example", example])?;
            ran += 1;
        }
    }
    if wanted("sim") && root.join("sim/benches/sim_throughput.rs").exists() {
        sh(&cargo, &["bench", "-p", "sitemanager-sim", "--bench", "sim_throughput"])?;
        ran += 1;
    }
    // The desktop as installed: the release packages, the app unpacked from the .deb, timed
    // from start-up to a usable resident list on 100,000 residents, with its memory.
    // The desktop as installed at 100,000 residents (issue #16: sign-in < 300 ms) and at a
    // million (issue #17: < 500 ms; `desktop_scale`, seeded once, 30–90 s here).
    if wanted("desktop") || wanted("desktop_scale") {
        let packages = package::release()?;
        let scratch = package::extract(&packages[0], "root-bench")?;
        let app = package::packaged_app(&scratch)?;
        let cli = scratch.join("usr/bin/residentdesk");
        if wanted("desktop") {
            desktop::bench(&cli, &app, 100_000, 300)?;
            ran += 1;
        }
        if wanted("desktop_scale") {
            println!("xtask: the desktop at 1,000,000 residents (issue #17)");
            desktop::bench(&cli, &app, 1_000_000, 500)?;
            ran += 1;
        }
        package::print_sizes(&packages);
    }
    println!("xtask: {ran} benchmark programs ran");
    println!("{}", audit.summary());
    Ok(())
}
