//! The CLI's habits (issue #14): usage errors as one JSON document under `--json` (clap's
//! text without it), progress bars on a terminal only (never piped, never with `--json`),
//! a reader that leaves early (`| head`) ends the export quietly.

use crate::fixture::*;
use serde_json::Value;
use std::process::{Command, Stdio};

/// Every way a command line can be wrong that clap itself answers.
const BAD_LINES: &[&[&str]] = &[
    &["resident", "list", "--site", "Maple Court", "--bogus"],
    &["resident", "list", "--site", "Maple Court", "--limit", "many"],
    &["export"],
    &["no-such-command"],
    &[],
];

#[test]
fn usage_errors_are_one_json_document_under_json() {
    let w = Work::demo(0);
    for args in BAD_LINES {
        let run = w.run(Some(TEAM_ADMIN), args);
        run.fails(2);
        assert_eq!(run.stdout, "", "{args:?}: nothing on stdout");
        let doc: Value = serde_json::from_str(run.stderr.trim())
            .unwrap_or_else(|e| panic!("{args:?}: stderr is not one JSON document ({e}): {}", run.stderr));
        assert_eq!(doc["error"]["code"], "usage", "{args:?}: {doc}");
        let message = doc["error"]["message"].as_str().unwrap();
        assert!(!message.is_empty() && !message.starts_with("error:"), "{args:?}: {message}");
        assert!(doc["error"]["details"]["kind"].is_string(), "{args:?}: {doc}");
    }
    let unknown = w.run(Some(TEAM_ADMIN), BAD_LINES[0]).error();
    assert!(unknown["message"].as_str().unwrap().contains("--bogus"), "{unknown}");
    assert_eq!(unknown["details"]["kind"], "unknown_argument");
    // `--json` is global: after the subcommand it counts too.
    let mut late = w.cli(false, Some(TEAM_ADMIN), &["resident", "list", "--bogus", "--json"]);
    let run = Run::from(late.output().unwrap());
    run.fails(2);
    assert_eq!(serde_json::from_str::<Value>(run.stderr.trim()).unwrap()["error"]["code"], "usage");
    // What follows `--` is not a flag of ours.
    let mut quoted = w.cli(false, Some(TEAM_ADMIN), &["resident", "show", "--bogus", "--", "--json"]);
    let run = Run::from(quoted.output().unwrap());
    run.fails(2);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
}

#[test]
fn usage_errors_stay_clap_text_without_json() {
    let w = Work::demo(0);
    for args in BAD_LINES {
        let run = Run::from(w.cli(false, Some(TEAM_ADMIN), args).output().unwrap());
        run.fails(2);
        assert!(serde_json::from_str::<Value>(run.stderr.trim()).is_err(), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("Usage:") || run.stderr.contains("try '--help'"), "{args:?}: {}", run.stderr);
    }
    let run = Run::from(w.cli(false, Some(TEAM_ADMIN), BAD_LINES[0]).output().unwrap());
    assert!(run.stderr.starts_with("error: unexpected argument '--bogus'"), "{}", run.stderr);
    // Help and version are answers, not errors, with or without --json.
    for json in [false, true] {
        let help = Run::from(w.cli(json, None, &["--help"]).output().unwrap());
        help.ok();
        assert!(help.stdout.contains("Usage:"), "{}", help.stdout);
        Run::from(w.cli(json, None, &["--version"]).output().unwrap()).ok();
    }
}

#[test]
fn an_export_whose_reader_leaves_ends_quietly() {
    use std::io::Read;
    let w = Work::demo(3000);
    let mut child = w.cli(false, Some(TEAM_ADMIN), &["export", "--team"]).spawn().unwrap();
    // Read the first bytes, as `head -c` would, then close the pipe while the export writes.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 4096];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(String::from_utf8_lossy(&first).starts_with("FirstName,"), "{}", String::from_utf8_lossy(&first));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("error"), "{stderr}");
}

/// Traces of a drawn bar: the carriage return and the cursor and erase sequences indicatif
/// writes, and the bars' own words.
fn has_bar(text: &str) -> bool {
    text.contains('\r') || text.contains("\x1b[") || text.contains("seeding the demo") || text.contains("exporting")
}

#[test]
fn no_progress_bar_when_piped() {
    let w = Work::new();
    for json in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("piped.db");
        let seed = Command::new(env!("CARGO_BIN_EXE_residentdesk"))
            .arg("--db")
            .arg(&db)
            .args(if json { vec!["--json"] } else { vec![] })
            .args(["demo", "seed", "--residents", "3000", "--seed", "7"])
            .env("RESIDENTDESK_NOW", &w.now)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let seed = Run::from(seed);
        seed.ok();
        assert!(!has_bar(&seed.stderr), "json {json}: {:?}", seed.stderr);
    }
    let w = Work::demo(3000);
    let file = w.dir.path().join("all.csv");
    for json in [false, true] {
        let run = Run::from(
            w.cli(json, Some(TEAM_ADMIN), &["export", "--team", "-o", file.to_str().unwrap()]).output().unwrap(),
        );
        run.ok();
        assert!(!has_bar(&run.stderr), "json {json}: {:?}", run.stderr);
        let back = w.dir.path().join("back.csv");
        std::fs::write(&back, "FirstName,LastName,Email,Building,Floor,Unit,ActivationDate\n").unwrap();
        let run = Run::from(
            w.cli(json, Some(TEAM_ADMIN), &["import", back.to_str().unwrap(), "--site", "Maple Court", "--dry-run"])
                .output()
                .unwrap(),
        );
        assert!(!has_bar(&run.stderr) && !has_bar(&run.stdout), "json {json}: {:?}", run.stderr);
    }
}

/// Runs `residentdesk ARGS` on a pseudo-terminal (util-linux `script`), returning what the
/// terminal showed (stdout and stderr together).
fn on_a_terminal(w: &Work, db: &std::path::Path, args: &[&str]) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut line = vec![quote(env!("CARGO_BIN_EXE_residentdesk")), "--db".into(), quote(db.to_str().unwrap())];
    line.extend(args.iter().map(|a| quote(a)));
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &line.join(" "), "/dev/null"])
        .env("RESIDENTDESK_NOW", &w.now)
        .env_remove("RESIDENTDESK_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs a command on a pseudo-terminal");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{args:?} on a terminal failed: {text}");
    text
}

#[test]
fn a_progress_bar_on_a_terminal_but_not_with_json() {
    let w = Work::new();
    let db = w.dir.path().join("tty.db");
    let shown = on_a_terminal(&w, &db, &["demo", "seed", "--residents", "30000", "--seed", "7"]);
    assert!(shown.contains("seeding the demo"), "the bar was drawn: {shown:?}");
    assert!(shown.contains("Seeded"), "{shown:?}");
    let db = w.dir.path().join("tty-json.db");
    let shown = on_a_terminal(&w, &db, &["--json", "demo", "seed", "--residents", "30000", "--seed", "7"]);
    assert!(!shown.contains("seeding the demo"), "no bar with --json: {shown:?}");
}
