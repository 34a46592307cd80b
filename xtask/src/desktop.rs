//! The desktop app's steps: system packages (WebKitGTK 4.1 and friends), npm modules,
//! `tauri-driver`, the UI build, the Tauri build (in `target/desktop`, its own workspace and
//! target directory so a long desktop build never holds the core's `target/` lock), the
//! typed-IPC staleness check, the front-end checks and the end-to-end tests in the real
//! webview under Xvfb.

use crate::{root, setup, sh_in};
use std::path::PathBuf;
use std::process::Command;

/// Debian/Ubuntu packages the desktop build and its tests need.
const APT: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libwebkit2gtk-4.1-dev",
    "libgtk-3-dev",
    "librsvg2-dev",
    "libayatana-appindicator3-dev",
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "imagemagick",
    // pdftotext/pdfinfo: the e2e print test reads the PDF the print seam wrote.
    "poppler-utils",
];

fn ui_dir() -> PathBuf {
    root().join("ui")
}

fn manifest() -> PathBuf {
    root().join("src-tauri").join("Cargo.toml")
}

/// The desktop's own target directory.
pub fn target_dir() -> PathBuf {
    root().join("target").join("desktop")
}

/// The debug app binary (the e2e tests and `cargo xtask run` use it).
pub fn app_binary() -> PathBuf {
    target_dir().join("debug").join("residentdesk-desktop")
}

fn cargo_desktop(args: &[&str]) -> Result<(), String> {
    let manifest = manifest();
    let manifest = manifest.to_str().ok_or("non-UTF-8 path")?;
    // `--manifest-path` right after the subcommand, before any `--` meant for the tool.
    let mut full = args.to_vec();
    full.splice(1..1, ["--manifest-path", manifest]);
    eprintln!("xtask: $ CARGO_TARGET_DIR=target/desktop cargo {}", full.join(" "));
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(&full)
        .env("CARGO_TARGET_DIR", target_dir())
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} (desktop) failed ({status})", args.join(" ")))
    }
}

/// Installs what is missing: system packages, Node.js, the npm modules, `tauri-driver`.
pub fn deps(with_test_tools: bool) -> Result<(), String> {
    setup::apt(APT)?;
    if !setup::have("npm") {
        setup::apt(&["nodejs", "npm"])?;
    }
    let ui = ui_dir();
    let stamp = ui.join("node_modules").join(".package-lock.json");
    let fresh = match (std::fs::metadata(&stamp), std::fs::metadata(ui.join("package-lock.json"))) {
        (Ok(installed), Ok(lock)) => installed.modified().ok() >= lock.modified().ok(),
        _ => false,
    };
    if !fresh {
        // `npm ci`: exactly the committed lock, never rewritten. The lock lists every
        // platform's optional native packages (rollup, esbuild, @tauri-apps/cli), so it
        // installs on any machine; after a dependency change, commit the lock `npm install`
        // writes and check that it still does.
        sh_in(&ui, "npm", &["ci", "--no-audit", "--no-fund"])?;
    }
    if with_test_tools && !setup::have("tauri-driver") {
        sh_in(
            &root(),
            &std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
            &["install", "tauri-driver", "--locked"],
        )?;
    }
    Ok(())
}

/// Builds the UI into `ui/dist` (the binary embeds it) and then the app; `e2e` turns on the
/// tests' dialog seam (src-tauri/src/dialogs.rs), which `run` and the bench never get.
pub fn build(e2e: bool) -> Result<(), String> {
    sh_in(&ui_dir(), "npm", &["run", "build"])?;
    if e2e {
        cargo_desktop(&["build", "--features", "e2e", "--bins", "--tests"])
    } else {
        cargo_desktop(&["build", "--bins", "--tests"])
    }
}

/// Builds the UI and the release app (`target/desktop/release`), what the packages hold.
pub fn build_release() -> Result<(), String> {
    sh_in(&ui_dir(), "npm", &["run", "build"])?;
    cargo_desktop(&["build", "--release", "--bins"])
}

/// Runs the shell's own tests and regenerates the TypeScript bindings, failing if they
/// differ from the committed ones.
fn check_bindings() -> Result<(), String> {
    // `ui_gates`: every use case the UI gates on is one the core answers.
    cargo_desktop(&["test", "--lib", "--test", "bindings", "--test", "ui_gates"])?;
    let dir = "ui/src/lib/api/bindings";
    let out = Command::new("git")
        .args(["status", "--porcelain", "--", dir])
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let changed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && !changed.is_empty() {
        return Err(format!("the TypeScript bindings in {dir} are stale; commit the regenerated files:\n{changed}"));
    }
    Ok(())
}

/// Everything `cargo xtask test` runs for the desktop.
pub fn test() -> Result<(), String> {
    deps(true)?;
    sh_in(&ui_dir(), "npm", &["run", "build"])?;
    cargo_desktop(&["fmt", "--check"])?;
    cargo_desktop(&["clippy", "--all-targets", "--features", "e2e", "--", "-D", "warnings"])?;
    check_bindings()?;
    sh_in(&ui_dir(), "npm", &["run", "check"])?;
    sh_in(&ui_dir(), "npm", &["test"])?;
    cargo_desktop(&["build", "--features", "e2e", "--bins"])?;
    e2e(&[])
}

/// `cargo xtask e2e [FILE...]`: builds the UI and the app, then runs the end-to-end tests
/// (all of `tests/e2e/`, or only the files named) — the quick loop while working on screens.
pub fn e2e_only(files: &[String]) -> Result<(), String> {
    deps(true)?;
    build(true)?;
    e2e(files)
}

/// The end-to-end tests: the real binary in WebKitGTK under Xvfb, driven over WebDriver
/// (tauri-driver → WebKitWebDriver). Screenshots land in `target/screenshots/`.
pub fn e2e(files: &[String]) -> Result<(), String> {
    let shots = root().join("target").join("screenshots");
    // The whole suite starts from an empty folder, so no picture (a failure's included) is
    // left over from an earlier run.
    if files.is_empty() {
        let _ = std::fs::remove_dir_all(&shots);
    }
    std::fs::create_dir_all(&shots).map_err(|e| format!("cannot create {}: {e}", shots.display()))?;
    let db_dir = root().join("target").join("e2e");
    let _ = std::fs::remove_dir_all(&db_dir);
    std::fs::create_dir_all(&db_dir).map_err(|e| format!("cannot create {}: {e}", db_dir.display()))?;
    // The simulator for the sync test (in the core's target directory).
    crate::sh(&std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()), &["build", "-p", "sitemanager-sim"])?;
    let sim = root().join("target").join("debug").join("sitemanager-sim");
    let mut args: Vec<&str> = vec!["-a", "-s", "-screen 0 1366x900x24", "node", "--test", "--test-concurrency=1"];
    if files.is_empty() {
        args.push("tests/e2e/");
    } else {
        args.extend(files.iter().map(String::as_str));
    }
    let status = Command::new("xvfb-run")
        .args(&args)
        .current_dir(root())
        .env("RESIDENTDESK_APP", app_binary())
        .env("RESIDENTDESK_DB", db_dir.join("residentdesk.db"))
        // The dialog seam of the e2e build: answers in files there (see src-tauri/src/dialogs.rs).
        .env("RESIDENTDESK_E2E_DIALOGS", db_dir.join("dialogs"))
        // A scratch config folder: the window size one test leaves (window-state) never
        // sizes another run's screenshots.
        .env("XDG_CONFIG_HOME", db_dir.join("config"))
        // And a scratch data folder: the web view keeps its local storage (the language and
        // theme a test chose in Settings) there, which must not reach another run.
        .env("XDG_DATA_HOME", db_dir.join("data"))
        .env("SITEMANAGER_SIM", &sim)
        .env("SCREENSHOTS", &shots)
        .env("NODE_PATH", ui_dir().join("node_modules"))
        .status()
        .map_err(|e| format!("cannot start xvfb-run: {e}"))?;
    if status.success() {
        println!("xtask: end-to-end tests passed; screenshots in {}", shots.display());
        Ok(())
    } else {
        Err(format!("end-to-end tests failed ({status}); screenshots in {}", shots.display()))
    }
}

/// The bench database's passphrase (a throwaway portfolio of demo residents).
const BENCH_DB_KEY: &str = "bench-desktop-passphrase";

/// The desktop's start-up benchmark (`tests/e2e/bench.mjs`): the app binary `app` (the
/// packaged release build) under Xvfb on a database of `residents` demo residents (seeded once
/// by the CLI `cli` and kept: 100,000 for issue #16's figures, 1,000,000 for issue #17's),
/// timed from launch to the sign-in screen and from "Sign in" to a usable resident list
/// (against `sign_in_target_ms`), with its memory and search as you type. The database is
/// encrypted under a passphrase of the bench's own (`RESIDENTDESK_DB_KEY`), as a front desk
/// without an OS keyring runs it; one that this build cannot open (an older file format,
/// another key) is seeded again.
pub fn bench(
    cli: &std::path::Path,
    app: &std::path::Path,
    residents: u32,
    sign_in_target_ms: u32,
) -> Result<(), String> {
    deps(true)?;
    let dir = root().join("target").join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let name = match residents {
        n if n % 1_000_000 == 0 => format!("desktop-{}m.db", n / 1_000_000),
        n => format!("desktop-{}k.db", n / 1000),
    };
    let db = dir.join(&name);
    let path = db.to_str().ok_or("non-UTF-8 path")?;
    let opens = Command::new(cli)
        .args(["--db", path, "--as", "teamadmin@demo.residentdesk.test", "team", "show"])
        .env("RESIDENTDESK_DB_KEY", BENCH_DB_KEY)
        .env("RESIDENTDESK_PASSWORD", "Demo-TeamAdmin-2026")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !opens {
        for stale in std::fs::read_dir(&dir).map_err(|e| e.to_string())?.flatten() {
            if stale.file_name().to_string_lossy().starts_with(&name) {
                let _ = std::fs::remove_file(stale.path());
            }
        }
        eprintln!("xtask: seeding {path} ({residents} residents; minutes, once)");
        let status = Command::new(cli)
            .args(["--db", path, "demo", "seed", "--residents", &residents.to_string()])
            .env("RESIDENTDESK_DB_KEY", BENCH_DB_KEY)
            .status()
            .map_err(|e| format!("cannot start {}: {e}", cli.display()))?;
        if !status.success() {
            return Err(format!("demo seed of {path} failed ({status})"));
        }
    }
    // The app's own folders start empty: no language or theme chosen in an earlier run.
    let profile = dir.join("desktop-profile");
    let _ = std::fs::remove_dir_all(&profile);
    let status = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1366x900x24", "node", "tests/e2e/bench.mjs"])
        .current_dir(root())
        .env("XDG_CONFIG_HOME", profile.join("config"))
        .env("XDG_DATA_HOME", profile.join("data"))
        .env("RESIDENTDESK_APP", app)
        .env("RESIDENTDESK_DB", &db)
        .env("RESIDENTDESK_DB_KEY", BENCH_DB_KEY)
        .env("BENCH_SIGN_IN_TARGET_MS", sign_in_target_ms.to_string())
        .env("NODE_PATH", ui_dir().join("node_modules"))
        .status()
        .map_err(|e| format!("cannot start xvfb-run: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the desktop start-up benchmark failed ({status})"))
    }
}

/// `cargo xtask run`: installs what is missing, builds, and starts the app on the person's
/// database (`RESIDENTDESK_DB`, or the platform data directory); an empty database offers
/// the demo portfolio on first start.
pub fn run() -> Result<(), String> {
    deps(false)?;
    build(false)?;
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        println!(
            "xtask: the desktop app is built, but there is no display to open its window on; \
             start it on a desktop with {} (or headless: xvfb-run {})",
            app_binary().display(),
            app_binary().display()
        );
        return Ok(());
    }
    let app = app_binary();
    eprintln!("xtask: $ {}", app.display());
    let status =
        Command::new(&app).current_dir(root()).status().map_err(|e| format!("cannot start {}: {e}", app.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the app exited with {status}"))
    }
}
