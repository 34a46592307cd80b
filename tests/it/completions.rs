//! `residentdesk completions SHELL` and `residentdesk man`: what the packages install. They
//! need no database and no sign-in (they are not use cases), and they follow the real
//! command tree, so a new subcommand shows up in them by itself.

use crate::fixture::Work;

/// Subcommands every generated text must know (top level and one level down).
const SUBCOMMANDS: &[&str] = &["resident", "site", "import", "export", "backup", "restore", "use-cases"];

#[test]
fn completion_scripts_name_the_subcommands_without_a_database() {
    let w = Work::new();
    for (shell, marker) in
        [("bash", "complete -F"), ("zsh", "#compdef residentdesk"), ("fish", "complete -c residentdesk")]
    {
        let run = w.run(None, &["completions", shell]);
        run.ok();
        assert!(run.stdout.contains(marker), "{shell} script lacks {marker:?}:\n{}", run.stdout);
        for sub in SUBCOMMANDS {
            assert!(run.stdout.contains(sub), "{shell} script does not mention {sub}");
        }
        // `list` is a subcommand of `resident`: completions go below the top level.
        assert!(run.stdout.contains("list"), "{shell} script lacks nested subcommands");
    }
    assert!(!w.db().exists(), "completions must not create the database");
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let w = Work::new();
    let run = w.cli(false, None, &["completions", "tcsh"]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("tcsh") && stderr.contains("bash"), "{stderr}");
}

#[test]
fn the_man_page_is_roff_for_section_1() {
    let w = Work::new();
    let run = w.run(None, &["man"]);
    run.ok();
    let first = run.stdout.lines().find(|l| l.starts_with(".TH")).expect("a .TH title line");
    let fields: Vec<&str> = first.split_whitespace().collect();
    assert_eq!(fields.get(1).map(|f| f.trim_matches('"')), Some("residentdesk"), "{first}");
    assert_eq!(fields.get(2).map(|f| f.trim_matches('"')), Some("1"), "{first}");
    assert!(first.contains(env!("CARGO_PKG_VERSION")), "the title names the version: {first}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(run.stdout.contains(section), "man page lacks {section}");
    }
    // roff writes a hyphen as `\-`; the reader sees `use-cases`.
    let text = run.stdout.replace("\\-", "-");
    for sub in SUBCOMMANDS {
        assert!(text.contains(sub), "man page does not mention {sub}");
    }
    assert!(!w.db().exists(), "the man page must not create the database");
}
