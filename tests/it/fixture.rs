//! Test fixtures: a work directory with a database, and a runner for the built CLI.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use residentdesk::app::Session;
use residentdesk::{App, FixedClock};

/// The instant every test runs at (a Monday, outside any DST change).
pub fn test_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
}

pub const OWNER: (&str, &str) = ("owner@demo.residentdesk.test", "Demo-Owner-2026");
pub const TEAM_ADMIN: (&str, &str) = ("teamadmin@demo.residentdesk.test", "Demo-TeamAdmin-2026");
pub const TEAM_USER: (&str, &str) = ("teamuser@demo.residentdesk.test", "Demo-TeamUser-2026");
pub const LOCAL_ADMIN: (&str, &str) = ("localadmin@demo.residentdesk.test", "Demo-LocalAdmin-2026");
pub const STAFF: (&str, &str) = ("staff@demo.residentdesk.test", "Demo-Staff-2026");

/// An in-memory app seeded with the demo portfolio, at a fixed time.
pub fn demo_app(residents: usize) -> (App, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(test_now()));
    let mut app = App::open_in_memory(clock.clone()).unwrap();
    app.demo_seed(residents, 7).unwrap();
    (app, clock)
}

pub fn sign_in(app: &mut App, who: (&str, &str)) -> Session {
    app.sign_in(who.0, who.1).unwrap()
}

/// A work directory with its own database, and the CLI run against it.
pub struct Work {
    pub dir: tempfile::TempDir,
    pub now: String,
}

/// The result of one CLI run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
    pub fn error(&self) -> Value {
        let line = self.stderr.lines().last().unwrap_or("");
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {}", self.stderr))
            ["error"]
            .clone()
    }
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success\nstdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }
    #[track_caller]
    pub fn fails(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "expected exit {code}\nstdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }
}

impl Work {
    pub fn new() -> Self {
        Work { dir: tempfile::tempdir().unwrap(), now: test_now().to_rfc3339() }
    }

    /// A work directory with the demo portfolio (`residents` residents).
    pub fn demo(residents: usize) -> Self {
        let w = Work::new();
        w.run(None, &["demo", "seed", "--residents", &residents.to_string(), "--seed", "7"]).ok();
        w
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("desk.db")
    }

    /// Runs `residentdesk --db DB --json [--as who] args...`.
    pub fn run(&self, who: Option<(&str, &str)>, args: &[&str]) -> Run {
        self.run_with_stdin(who, args, None)
    }

    pub fn run_with_stdin(&self, who: Option<(&str, &str)>, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = self.cli(true, who, args);
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        Run::from(child.wait_with_output().unwrap())
    }

    /// `residentdesk --db DB [--json] [--as who] args...` at the work's time, output piped,
    /// not yet started (for runs in parallel, or without `--json`).
    pub fn cli(&self, json: bool, who: Option<(&str, &str)>, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_residentdesk"));
        cmd.arg("--db").arg(self.db());
        if json {
            cmd.arg("--json");
        }
        cmd.env_remove("RESIDENTDESK_PASSWORD").env_remove("RESIDENTDESK_TOKEN").env_remove("RESIDENTDESK_DB");
        cmd.env("RESIDENTDESK_NOW", &self.now);
        if let Some((email, password)) = who {
            cmd.arg("--as").arg(email).env("RESIDENTDESK_PASSWORD", password);
        }
        cmd.args(args);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd
    }
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}
