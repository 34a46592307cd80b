//! The `sitemanager-sim` binary: first stdout line, demo credentials, seed files, flags.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Running {
    child: Child,
    lines: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[&str], extra_lines: usize) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sitemanager-sim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn sitemanager-sim");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut lines = Vec::new();
    for _ in 0..=extra_lines {
        let mut line = String::new();
        reader.read_line(&mut line).expect("read stdout");
        lines.push(line.trim_end().to_string());
    }
    Running { child, lines }
}

fn base_of(first_line: &str) -> String {
    first_line.strip_prefix("listening on ").expect("first line format").to_string()
}

#[test]
fn first_line_is_the_listening_url_and_demo_prints_accounts() {
    let sim = spawn(&["--seed", "demo", "--listen", "127.0.0.1:0"], 5);
    let first = &sim.lines[0];
    let base = base_of(first);
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/v2"), "{first}");
    let port: u16 = base.trim_start_matches("http://127.0.0.1:").trim_end_matches("/v2").parse().unwrap();
    assert!(port > 0);
    let accounts: Vec<&String> = sim.lines.iter().filter(|l| l.starts_with("account ")).collect();
    assert_eq!(accounts.len(), 4, "{:?}", sim.lines);
    for level in ["staff_user", "staff_local_admin", "team_user", "team_admin"] {
        assert!(accounts.iter().any(|l| l.contains(level)), "{level}");
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::builder().use_rustls_tls().build().unwrap();
        use base64::Engine;
        let cred = base64::engine::general_purpose::STANDARD.encode("team.admin@demo.sim.test:team-admin-pass");
        let r = http
            .post(format!("{base}/oauth/token"))
            .header("Authorization", format!("Password {cred}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    });
}

#[test]
fn seed_file_and_fault_flags() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        r#"{
          "now": "2026-03-01T12:00:00Z", "frozen": true,
          "teams": [{"team_id": "t1", "name": "One"}],
          "sites": [{"site_id": "s1", "team_id": "t1", "name": "Site", "site_type": "PSK", "time_zone": "America/Chicago",
                     "mappings": [{"building": "A", "floor": "1", "unit": "101", "passphrase": "p", "ssid": "S", "vlan": "10"}]}],
          "residents": [{"site_id": "s1", "first_name": "A", "last_name": "B", "email": "a@b.example",
                         "building": "A", "floor": "1", "unit": "101", "activation_utc": "2026-01-01T00:00:00Z"}],
          "accounts": [{"email": "u@x.test", "password": "pw", "level": "staff_user", "site_ids": ["s1"]}]
        }"#,
    )
    .unwrap();
    let sim = spawn(&["--seed", seed.to_str().unwrap(), "--rate-limit", "1000/s", "--fault-seed", "7"], 0);
    let base = base_of(&sim.lines[0]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::builder().use_rustls_tls().build().unwrap();
        let ctl = base.replace("/v2", "/__sim");
        let clock: serde_json::Value = http.get(format!("{ctl}/clock")).send().await.unwrap().json().await.unwrap();
        assert_eq!(clock["now"], "2026-03-01T12:00:00+00:00");
        assert_eq!(clock["frozen"], true);
        let faults: serde_json::Value = http.get(format!("{ctl}/faults")).send().await.unwrap().json().await.unwrap();
        assert_eq!(faults["rate_limit_per_sec"], 1000.0);
        assert_eq!(faults["seed"], 7);
        let state: serde_json::Value = http.get(format!("{ctl}/state")).send().await.unwrap().json().await.unwrap();
        assert_eq!(state["wire_residents"][0]["Status"], serde_json::json!(["current", "pending"]));
    });
}

#[test]
fn bad_flags_fail_with_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_sitemanager-sim")).args(["--fail-rate", "2"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("fail_rate"));
    let out =
        Command::new(env!("CARGO_BIN_EXE_sitemanager-sim")).args(["--seed", "/no/such/file.json"]).output().unwrap();
    assert!(!out.status.success());
}

/// The control routes over a real socket: a loopback client is answered, with and without
/// `--allow-remote-control` (from another machine they answer 403 unless the flag is given:
/// `server::tests::control_routes_answer_only_this_machine_unless_allowed`).
#[test]
fn control_routes_answer_loopback_with_or_without_allow_remote_control() {
    for args in [&["--listen", "127.0.0.1:0"][..], &["--listen", "127.0.0.1:0", "--allow-remote-control"][..]] {
        let sim = spawn(args, 1);
        let control = sim.lines[1].strip_prefix("control: ").expect("second line").to_string();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let r = reqwest::get(format!("{control}/health")).await.unwrap();
            assert_eq!(r.status(), 200, "{args:?}");
        });
    }
}
