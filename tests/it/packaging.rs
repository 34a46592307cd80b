//! The package metadata in one place: the desktop crate (its own workspace, so no
//! `version.workspace`) carries the core's version, the Tauri config takes its version from
//! that Cargo.toml (no `version` of its own), keeps the final identifier, and lists only
//! files that exist.

use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `version` of the `[package]` table of a Cargo.toml (a line scan: no TOML crate here).
fn package_version(manifest: &Path) -> String {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some(v) = line.strip_prefix("version = ") {
                return v.trim_matches('"').to_string();
            }
        }
    }
    panic!("no [package] version in {}", manifest.display());
}

fn tauri_conf() -> Value {
    let path = repo().join("src-tauri/tauri.conf.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn the_desktop_crate_has_the_cores_version() {
    let desktop = package_version(&repo().join("src-tauri/Cargo.toml"));
    assert_eq!(
        desktop,
        env!("CARGO_PKG_VERSION"),
        "src-tauri/Cargo.toml's version must equal the root Cargo.toml's (the packages are named after it)"
    );
}

#[test]
fn the_tauri_config_takes_its_version_from_cargo_and_keeps_the_final_identifier() {
    let conf = tauri_conf();
    assert!(conf.get("version").is_none(), "tauri.conf.json must not carry a version (Cargo's is used)");
    // The identifier can never change after the first release (data, keyring, menu entries).
    assert_eq!(conf["identifier"], "com.residentdesk.desktop");
    assert_eq!(conf["bundle"]["active"], true);
}

#[test]
fn every_icon_and_packaged_file_the_config_names_is_where_xtask_puts_it() {
    let conf = tauri_conf();
    let dir = repo().join("src-tauri");
    let icons = conf["bundle"]["icon"].as_array().expect("bundle.icon");
    assert!(icons.iter().any(|i| i == "icons/icon.ico") && icons.iter().any(|i| i == "icons/icon.icns"));
    for icon in icons {
        let path = dir.join(icon.as_str().unwrap());
        assert!(path.is_file(), "bundle.icon names a missing file {}", path.display());
    }
    for format in ["deb", "rpm"] {
        let files = conf["bundle"]["linux"][format]["files"].as_object().expect("bundle.linux.*.files");
        for dest in ["/usr/bin/residentdesk", "/usr/share/man/man1/residentdesk.1.gz"] {
            assert!(files.contains_key(dest), "{format} lacks {dest}");
        }
        for (dest, src) in files {
            // `cargo xtask package` stages every such file under target/package/stage/ at
            // the path it has in the package.
            assert_eq!(src.as_str().unwrap(), format!("../target/package/stage{dest}"), "{format}: {dest}");
        }
    }
}
