//! The OS keyring as a desk meets it (issue #15): a real Secret Service (GNOME Keyring on a
//! private D-Bus session, as a Linux desktop has) keeps the random key of a new database;
//! the database opens from it with no passphrase anywhere; a locked keyring that fails to
//! answer mid-start, and a keyring that holds no key for this file, are refused with words
//! that name the keyring, and no byte of the database changes.
//!
//! Needs `dbus-run-session`, `gnome-keyring-daemon` and `secret-tool` (Debian's `dbus`,
//! `gnome-keyring`, `libsecret-tools`; `cargo xtask test` installs them). Each run has its
//! own HOME, so the keyrings made here are the test's alone.

use crate::fixture::*;
use residentdesk::store::key;
use std::path::Path;
use std::process::{Command, Stdio};

/// How a session's keyring is prepared before the CLI runs.
enum Keyring {
    /// The daemon started and unlocked with a password (a signed-in desktop).
    Unlocked,
    /// No daemon started: D-Bus starts it on demand, locked, and its unlock prompt cannot
    /// show (no display), so the request fails — a keyring that errors mid-start.
    Locked,
}

/// Runs `residentdesk --db DB --json ARGS` in a new D-Bus session whose keyring lives under
/// `home`, without any database passphrase in the environment.
fn in_session(home: &Path, db: &Path, keyring: Keyring, who: Option<(&str, &str)>, args: &[&str]) -> Run {
    for tool in ["dbus-run-session", "gnome-keyring-daemon", "secret-tool"] {
        assert!(
            Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().unwrap().status.success(),
            "{tool} is missing: `cargo xtask test` installs dbus, gnome-keyring and libsecret-tools"
        );
    }
    let unlock = match keyring {
        Keyring::Unlocked => "printf %s desk-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null;",
        Keyring::Locked => "",
    };
    let script = format!("{unlock} exec \"$0\" \"$@\"");
    // A bounded run: a keyring prompt that waits for a person would otherwise hang the test.
    let mut cmd = Command::new("timeout");
    cmd.args(["60", "dbus-run-session", "--", "sh", "-c", &script, env!("CARGO_BIN_EXE_residentdesk"), "--db"])
        .arg(db)
        .arg("--json");
    if let Some((email, password)) = who {
        cmd.arg("--as").arg(email).env("RESIDENTDESK_PASSWORD", password);
    } else {
        cmd.env_remove("RESIDENTDESK_PASSWORD");
    }
    cmd.args(args)
        .env_remove(key::PASSPHRASE_ENV)
        .env_remove(key::NO_KEYRING_ENV)
        .env_remove("RESIDENTDESK_DB")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_RUNTIME_DIR", home)
        .env("RESIDENTDESK_NOW", "2026-11-23T15:00:00Z")
        .stdin(Stdio::null());
    // Into files, not pipes: a daemon the session started may outlive it holding a pipe.
    let out = tempfile::tempdir().unwrap();
    let (stdout, stderr) = (out.path().join("stdout"), out.path().join("stderr"));
    cmd.stdout(std::fs::File::create(&stdout).unwrap()).stderr(std::fs::File::create(&stderr).unwrap());
    let status = cmd.status().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(&stdout).unwrap(),
        stderr: std::fs::read_to_string(&stderr).unwrap(),
    }
}

/// The keyring's database entries in a session under `home` (`secret-tool search`).
fn keyring_entries(home: &Path) -> String {
    let script = "printf %s desk-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
                  secret-tool search --all service residentdesk-database 2>&1";
    let out = Command::new("timeout")
        .args(["60", "dbus-run-session", "--", "sh", "-c", script])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_RUNTIME_DIR", home)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .stdout(std::fs::File::create(home.join("entries.txt")).unwrap())
        .status()
        .unwrap();
    assert!(out.success(), "secret-tool search failed: {out:?}");
    std::fs::read_to_string(home.join("entries.txt")).unwrap()
}

/// The CLI's JSON error among what stderr holds (D-Bus and the keyring daemon write there
/// too, and the daemon's last words may lack their newline: "discover_other_daemon: 1{…}"),
/// so it is looked for from each `{` of each line.
fn json_error(run: &Run) -> serde_json::Value {
    run.stderr
        .lines()
        .flat_map(|l| l.match_indices('{').map(move |(at, _)| &l[at..]))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v.get("error").cloned())
        .unwrap_or_else(|| panic!("no JSON error on stderr: {run:?}"))
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_string()
}

#[test]
fn the_keyring_keeps_the_key_and_a_failing_or_empty_keyring_changes_nothing() {
    let desk = tempfile::tempdir().unwrap();
    let home = desk.path().join("home");
    let other_home = desk.path().join("other-home");
    for h in [&home, &other_home] {
        std::fs::create_dir_all(h).unwrap();
    }
    let db = desk.path().join("desk.db");

    // A new database, no passphrase anywhere: its random key goes to the keyring.
    let seeded = in_session(&home, &db, Keyring::Unlocked, None, &["demo", "seed", "--residents", "20"]);
    assert_eq!(seeded.code, 0, "{seeded:?}");
    let bytes = std::fs::read(&db).unwrap();
    assert_ne!(&bytes[..16], b"SQLite format 3\0", "the new database is not encrypted");
    let salt: String = bytes[..16].iter().map(|b| format!("{b:02x}")).collect();
    let entries = keyring_entries(&home);
    assert!(entries.contains(&salt), "no keyring entry named by the database's salt {salt}: {entries}");
    let files: Vec<String> = std::fs::read_dir(desk.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("key"))
        .collect();
    assert!(files.is_empty(), "a key file beside the database: {files:?}");

    // It opens from the keyring alone.
    let shown = in_session(&home, &db, Keyring::Unlocked, Some(OWNER), &["team", "show"]);
    assert_eq!(shown.code, 0, "{shown:?}");

    // A locked keyring whose unlock prompt fails, then a keyring without this key.
    let before = sha256(&db);
    for (home, keyring, why) in
        [(&home, Keyring::Locked, "no OS keyring answered"), (&other_home, Keyring::Unlocked, "holds no key")]
    {
        let refused = in_session(home, &db, keyring, Some(OWNER), &["team", "show"]);
        assert_ne!(refused.code, 0, "{refused:?}");
        let message = json_error(&refused)["message"].as_str().unwrap_or_default().to_string();
        assert!(message.contains(why) && message.contains("keyring"), "{why}: {message}");
        assert!(message.contains("not changed"), "{message}");
        assert_eq!(json_error(&refused)["details"]["reason"], "key_missing", "{refused:?}");
        assert_eq!(before, sha256(&db), "a refused start changed the database ({why})");
    }
}
