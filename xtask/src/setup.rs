//! Idempotent installation of what the commands need on Debian/Ubuntu.

use std::process::Command;

/// True when `program` is on the PATH.
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs Debian packages that are missing (one `apt-get update` at most, only when needed).
pub fn apt(packages: &[&str]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| {
            !Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !have("apt-get") {
        return Err(format!("missing system packages {missing:?} and no apt-get to install them"));
    }
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let run = |args: &[&str]| -> Result<(), String> {
        let (prog, rest) = match sudo.first() {
            Some(s) => (*s, [&["apt-get"][..], args].concat()),
            None => ("apt-get", args.to_vec()),
        };
        crate::sh(prog, &rest)
    };
    run(&["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(missing.iter());
    run(&args)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// What every command needs: the C toolchain, the D-Bus headers the OS-keyring crate
/// links against, libcrypto's headers for SQLCipher (the database's encryption), and the
/// rustfmt and clippy components.
pub fn core_tools() -> Result<(), String> {
    apt(&["build-essential", "pkg-config", "libdbus-1-dev", "libssl-dev"])?;
    for component in ["rustfmt", "clippy"] {
        let probe = if component == "rustfmt" { "cargo fmt --version" } else { "cargo clippy --version" };
        let ok =
            Command::new("sh").args(["-c", &format!("{probe} >/dev/null 2>&1")]).status().is_ok_and(|s| s.success());
        if !ok {
            crate::sh("rustup", &["component", "add", component])?;
        }
    }
    Ok(())
}
