//! Data in transit (issue #15): https only (http to this machine excepted), no redirect to
//! another host, a cap on every answer, and a changed remote URL forgets the password —
//! against real local HTTP servers (a tiny one below, and the simulator).

use crate::sync::{seed, start_sim, ADMIN, SVC};
use residentdesk::app::sync::sync_pass;
use residentdesk::sync::client::{Credentials, HttpRemote, RawRemote, RemoteApi, RemoteError, MAX_BODY_BYTES};
use residentdesk::sync::SyncOptions;
use residentdesk::{App, ErrorCode, SystemClock};
use sitemanager_sim::seed::SeedResident;
use sitemanager_sim::{FaultConfig, Sim, SimConfig};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// One canned answer of [`Server`].
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Announce the length (else the body ends when the connection closes).
    with_length: bool,
}

impl Reply {
    fn json(body: &str) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            with_length: true,
        }
    }
    fn redirect(status: u16, to: &str) -> Reply {
        Reply { status, headers: vec![("Location".into(), to.into())], body: vec![], with_length: true }
    }
}

/// A tiny HTTP/1.1 server on 127.0.0.1: one request per connection, answered by `route`
/// from the method and path; counts the requests it got.
struct Server {
    port: u16,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn start(route: impl Fn(&str, &str) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        let route = Arc::new(route);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (count, route) = (count.clone(), route.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() {
                        return;
                    }
                    let mut length = 0usize;
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                            break;
                        }
                        if let Some((n, v)) = h.split_once(':') {
                            if n.eq_ignore_ascii_case("content-length") {
                                length = v.trim().parse().unwrap_or(0);
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    let _ = reader.read_exact(&mut body);
                    count.fetch_add(1, Ordering::SeqCst);
                    let mut parts = line.split_whitespace();
                    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                    let reply = route(method, path);
                    let mut head = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", reply.status);
                    for (n, v) in &reply.headers {
                        head.push_str(&format!("{n}: {v}\r\n"));
                    }
                    if reply.with_length {
                        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
                    }
                    head.push_str("\r\n");
                    let _ = stream.write_all(head.as_bytes());
                    for chunk in reply.body.chunks(16 * 1024) {
                        if stream.write_all(chunk).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Server { port, requests }
    }
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}/v2", self.port)
    }
    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

const TOKEN: &str = r#"{"access_token":"tok","token_type":"Bearer","expires_in":3600}"#;
const TEAMS: &str = r#"{"Teams":[{"TeamId":"T1","Name":"Riverside"}]}"#;

fn svc() -> Credentials {
    Credentials { email: SVC.0.into(), password: SVC.1.into() }
}

fn client(base: &str) -> HttpRemote {
    HttpRemote::new(base, svc()).unwrap()
}

#[test]
fn plain_http_to_another_machine_is_refused_by_the_client_and_where_it_is_configured() {
    for base in ["http://192.0.2.10/v2", "http://sitemanager.example.com/v2", "http://localhost.example.com:80/v2"] {
        match HttpRemote::new(base, svc()) {
            Err(RemoteError::Insecure(m)) => {
                assert!(m.contains(base) && m.contains("use https") && m.contains("127.0.0.0/8"), "{m}")
            }
            other => panic!("{base}: {other:?}"),
        }
    }
    for base in ["ftp://example.com/v2", "not a url"] {
        assert!(matches!(HttpRemote::new(base, svc()), Err(RemoteError::Insecure(_))), "{base}");
    }
    for base in [
        "https://api.example.com/v2",
        "http://127.0.0.1:9/v2",
        "http://127.8.0.1:9/v2",
        "http://localhost:9/v2",
        "http://[::1]:9/v2",
    ] {
        assert!(HttpRemote::new(base, svc()).is_ok(), "{base}");
    }
    assert!(!RemoteError::Insecure("x".into()).retryable());

    let mut app = App::open_in_memory(Arc::new(SystemClock)).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    let before = app.sync_config(&s).unwrap();
    let err = app.sync_configure(&s, Some("http://sitemanager.example.com/v2"), Some(SVC.0), None).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput, "{err:?}");
    assert!(err.message.contains("http://sitemanager.example.com/v2") && err.message.contains("https"), "{err:?}");
    assert_eq!(app.sync_config(&s).unwrap(), before, "nothing of a refused configuration is saved");
    app.sync_configure(&s, Some("http://127.0.0.1:9/v2"), Some(SVC.0), None).unwrap();
    app.sync_configure(&s, Some("https://api.example.com/v2"), None, None).unwrap();
    assert_eq!(app.sync_config(&s).unwrap().remote_url, "https://api.example.com/v2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_host_is_refused_and_nothing_reaches_it() {
    let elsewhere = Server::start(|_, _| Reply::json(TEAMS));
    // "localhost" is another host than "127.0.0.1" for the rule (and for the token), though
    // both are this machine: the rule is about where the configured URL points.
    let target = format!("http://localhost:{}/v2/team", elsewhere.port);
    let to = target.clone();
    let remote = Server::start(move |method, path| match (method, path) {
        ("POST", "/v2/oauth/token") => Reply::json(TOKEN),
        ("GET", "/v2/team") => Reply::redirect(302, &to),
        _ => Reply { status: 404, headers: vec![], body: b"{}".to_vec(), with_length: true },
    });
    let r = client(&remote.base());
    match r.teams().await {
        Err(e @ RemoteError::Insecure(_)) => {
            let m = e.to_string();
            assert!(m.contains("another host") && m.contains(&target), "{m}");
            assert!(!e.retryable());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(elsewhere.requests(), 0, "nothing reached the other host");
    // The raw calls of `remote check` follow the same rule.
    let raw = r.raw_get("/team", "tok").await;
    assert!(matches!(raw, Err(RemoteError::Insecure(_))), "{raw:?}");
    assert_eq!(elsewhere.requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_on_the_same_host_is_followed_but_not_forever() {
    let remote = Server::start(|method, path| match (method, path) {
        ("POST", "/v2/oauth/token") => Reply::json(TOKEN),
        ("GET", "/v2/team") => Reply::redirect(307, "/v2/teams-moved"),
        ("GET", "/v2/teams-moved") => Reply::json(TEAMS),
        ("GET", "/v2/team/T1/site") => Reply::redirect(302, "/v2/team/T1/site"),
        _ => Reply { status: 404, headers: vec![], body: b"{}".to_vec(), with_length: true },
    });
    let r = client(&remote.base());
    let teams = r.teams().await.unwrap();
    assert_eq!(teams[0].team_id, "T1");
    match r.sites("T1").await {
        Err(RemoteError::Insecure(m)) => assert!(m.contains("redirected more than 5 times"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_past_the_cap_is_refused_naming_the_url_and_the_cap() {
    const CAP: usize = 64 * 1024;
    let big = format!(r#"{{"Teams":[{}]}}"#, vec![r#"{"TeamId":"T1","Name":"Riverside"}"#; 20_000].join(","));
    assert!(big.len() > 4 * CAP);
    let (announced, streamed, error) = (big.clone(), big.clone(), big.clone());
    let remote = Server::start(move |method, path| match (method, path) {
        ("POST", "/v2/oauth/token") => Reply::json(TOKEN),
        ("GET", "/v2/team") => Reply::json(&announced),
        // No Content-Length: the body ends with the connection, so only counting stops it.
        ("GET", "/v2/team/T1/site") => Reply { with_length: false, ..Reply::json(&streamed) },
        _ => Reply { status: 500, headers: vec![], body: error.as_bytes().to_vec(), with_length: false },
    });
    let r = client(&remote.base()).with_body_cap(CAP);
    for (what, result) in [
        ("announced", r.teams().await.map(|_| ())),
        ("streamed", r.sites("T1").await.map(|_| ())),
        ("raw", r.raw_get("/team", "tok").await.map(|_| ())),
    ] {
        match result {
            Err(e @ RemoteError::TooLarge { .. }) => {
                let m = e.to_string();
                assert!(
                    m.contains(&format!("127.0.0.1:{}/v2/team", remote.port)) && m.contains("65536"),
                    "{what}: {m}"
                );
                assert!(!e.retryable() && e.outcome_unknown(), "{what}");
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    // An error answer is read only as far as its message needs: a clear 500, no memory spent.
    match r.mappings("T1", "S1").await {
        Err(RemoteError::Server { status: 500, message }) => assert!(message.len() <= 300, "{}", message.len()),
        other => panic!("{other:?}"),
    }
    // Under the cap, the same client reads answers as before.
    let small = Server::start(|method, _| if method == "POST" { Reply::json(TOKEN) } else { Reply::json(TEAMS) });
    assert_eq!(client(&small.base()).with_body_cap(CAP).teams().await.unwrap().len(), 1);
}

/// The production cap holds a site far larger than any building complex: 100,000 residents
/// as the wire carries them, every field filled.
#[test]
fn the_cap_holds_a_very_large_site() {
    let one = serde_json::json!({
        "ActivationDate": "2026-01-05 00:00:00", "ActivationDateUTC": "2026-01-05T06:00:00Z",
        "Building": "Building 12", "DeactivationDate": "2027-01-05 00:00:00",
        "DeactivationDateUTC": "2027-01-05T06:00:00Z", "Email": "firstname.lastname.1234@example-mail.com",
        "FirstName": "Maximiliana", "Floor": "14", "LastName": "Featherstonehaugh-Smith",
        "Mobile": "+1 (555) 010-1234", "OnboardedAt": "2026-01-06T10:11:12Z", "Phone": "+1 (555) 010-1234",
        "ResidentId": "0f8fad5b-d9cb-469f-a165-70867728950e", "SSID": "Riverside-Maple-Court-5G",
        "ServiceAreaNumber": "SAN-000123", "Status": ["Active", "Onboarded"],
        "UUID": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "Unit": "1412"
    });
    let per_resident = serde_json::to_vec(&one).unwrap().len() + 1;
    assert!(per_resident * 100_000 < MAX_BODY_BYTES, "{per_resident} bytes a resident");
}

/// A site whose resident list passes the cap is not merged at all; the other site is, and
/// with the cap lifted the next pass pulls the first one whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_list_past_the_cap_merges_nothing_of_that_site() {
    let mut seed = seed();
    let template = seed.residents[0].clone();
    seed.residents.extend((101..=129).map(|u| SeedResident {
        resident_id: Some(format!("many-{u}")),
        email: format!("many{u}@example.com"),
        unit: u.to_string(),
        onboarded_at: None,
        ..template.clone()
    }));
    let sim = Sim::start(SimConfig::with_seed(seed).job_duration_ms(40).faults(FaultConfig::default())).unwrap();
    let full = client(&sim.base_url());
    let token: serde_json::Value = serde_json::from_slice(&full.raw_token().await.unwrap().body).unwrap();
    let token = token["access_token"].as_str().unwrap();
    let size = |path: &'static str| {
        let full = &full;
        async move { full.raw_get(path, token).await.unwrap().body.len() }
    };
    let hudson = size("/team/T1/site/S1/resident").await;
    let others = [
        size("/team").await,
        size("/team/T1/site").await,
        size("/team/T1/site/S1/mappings").await,
        size("/team/T1/site/S2/mappings").await,
        size("/team/T1/site/S2/resident").await,
    ];
    assert!(others.iter().all(|o| *o < hudson), "{others:?} < {hudson}");
    let capped = client(&sim.base_url()).with_body_cap(hudson - 1);

    let mut app = App::open_in_memory(Arc::new(SystemClock)).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    let report = sync_pass(&mut app, &s, &capped, &SyncOptions::fast(), None).await.unwrap();
    assert_eq!((report.sites_pulled, report.sites_failed), (1, 1), "{report:?}");
    let residents =
        |app: &App| -> i64 { app.conn().query_row("SELECT count(*) FROM residents", [], |r| r.get(0)).unwrap() };
    assert_eq!(residents(&app), 0, "nothing of Hudson's list was merged");
    let st = app.sync_status(&s).unwrap();
    let hudson_status = st.sites.iter().find(|x| x.name == "Hudson").unwrap();
    let e = hudson_status.last_error.as_deref().unwrap_or_default();
    assert!(e.contains("/team/T1/site/S1/resident") && e.contains(&(hudson - 1).to_string()), "{e}");

    let report = sync_pass(&mut app, &s, &full, &SyncOptions::fast(), None).await.unwrap();
    assert_eq!(report.sites_failed, 0, "{report:?}");
    assert_eq!(residents(&app), 32);
}

fn audit_details(app: &App, action: &str) -> serde_json::Value {
    let text: String = app
        .conn()
        .query_row(
            "SELECT details FROM audit WHERE action = ?1 AND outcome = 'ok' ORDER BY id DESC LIMIT 1",
            [action],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn changing_the_remote_url_forgets_the_stored_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    let file = dir.path().join("desk.db.sync-credentials");
    let mut app = App::open(&db, Arc::new(SystemClock)).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    let first = "https://one.example.com/v2";
    let c = app.sync_configure(&s, Some(first), Some(SVC.0), Some(SVC.1)).unwrap();
    assert!(c.credentials_stored && c.notice.is_none(), "{c:?}");
    // Saving the same URL again (the desktop's Save sends it every time) keeps it.
    let c = app.sync_configure(&s, Some("https://one.example.com/v2/"), None, None).unwrap();
    assert!(c.credentials_stored && c.notice.is_none(), "{c:?}");
    assert!(!audit_details(&app, "sync.configure")["password_forgotten"].as_bool().unwrap());

    let second = "https://two.example.com/v2";
    let c = app.sync_configure(&s, Some(second), None, None).unwrap();
    assert!(!c.credentials_stored, "{c:?}");
    let notice = c.notice.unwrap_or_default();
    assert!(notice.contains(first) && notice.contains(second) && notice.contains("enter it again"), "{notice}");
    assert_eq!(app.sync_credentials(&s).unwrap_err().code, ErrorCode::Unauthenticated);
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(!text.contains(SVC.1), "the password is gone from the fallback file: {text}");
    let audit = audit_details(&app, "sync.configure");
    assert_eq!(audit["password_forgotten"], true, "{audit}");
    assert_eq!(audit["previous_remote_url"], first, "{audit}");
    assert_eq!(audit["remote_url"], second, "{audit}");

    // A new URL given with a password keeps the new password.
    let c = app.sync_configure(&s, Some(first), None, Some("new-password")).unwrap();
    assert!(c.credentials_stored && c.notice.is_none(), "{c:?}");
    assert_eq!(app.sync_credentials(&s).unwrap().password, "new-password");
}

#[test]
fn each_team_has_its_own_remote_and_service_account() {
    use residentdesk::app::sync::CredentialStore;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    let mut app = App::open(&db, Arc::new(SystemClock)).unwrap();
    app.demo_seed(60, 42).unwrap();
    let owner = app.sign_in(crate::fixture::OWNER.0, crate::fixture::OWNER.1).unwrap();
    let teams = app.team_list(&owner).unwrap();
    assert!(teams.len() >= 2, "{teams:?}");
    let river = app.team_switch(&owner, &teams[0].id.to_string()).unwrap();
    let lake = app.team_switch(&owner, &teams[1].id.to_string()).unwrap();
    app.sync_configure(&river, Some("https://river.example.com/v2"), Some("river@svc.test"), Some("river-pw")).unwrap();
    let l = app.sync_config(&lake).unwrap();
    assert_eq!(l.remote_url, residentdesk::sync::client::DEFAULT_BASE_URL);
    assert_eq!((l.remote_user, l.credentials_stored), (None, false), "another team's account is not this one's");
    app.sync_configure(&lake, Some("https://lake.example.com/v2"), Some("lake@svc.test"), Some("lake-pw")).unwrap();
    // Lakeside moving its remote forgets only Lakeside's password.
    app.sync_configure(&lake, Some("https://lake2.example.com/v2"), None, None).unwrap();
    assert!(app.sync_credentials(&lake).is_err());
    let r = app.sync_credentials(&river).unwrap();
    assert_eq!((r.email.as_str(), r.password.as_str()), ("river@svc.test", "river-pw"));
    assert_eq!(app.sync_config(&river).unwrap().remote_url, "https://river.example.com/v2");

    // A desk-wide password of an older version serves every team until one team's changes;
    // then each other team keeps it and the desk-wide copy is gone.
    let file = dir.path().join("desk.db.sync-credentials");
    std::fs::remove_file(&file).ok();
    let (rid, lid) = (river.actor.team_id().unwrap(), lake.actor.team_id().unwrap());
    for t in [rid, lid] {
        let _ = CredentialStore::for_team(app.conn(), t).forget(&[]);
    }
    std::fs::write(&file, r#"{"email":"old@svc.test","password":"old-pw"}"#).unwrap();
    for t in [rid, lid] {
        assert_eq!(CredentialStore::for_team(app.conn(), t).load().unwrap().unwrap().password, "old-pw");
    }
    assert!(CredentialStore::for_team(app.conn(), lid).forget(&[rid, lid]).unwrap());
    assert!(CredentialStore::for_team(app.conn(), lid).load().unwrap().is_none());
    assert_eq!(CredentialStore::for_team(app.conn(), rid).load().unwrap().unwrap().password, "old-pw");
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let left: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    assert!(left.get("email").is_none() && left.get("password").is_none(), "no desk-wide copy left: {text}");
}

#[test]
fn the_cli_says_when_a_new_remote_url_forgot_the_password() {
    let sim = start_sim(FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    let bin = env!("CARGO_BIN_EXE_residentdesk");
    let run = |args: &[&str], stdin: Option<&str>| -> (i32, String) {
        let mut child = std::process::Command::new(bin)
            .arg("--db")
            .arg(&db)
            .args(args)
            .env("RESIDENTDESK_PASSWORD", ADMIN.1)
            .env(residentdesk::app::sync::NO_KEYRING_ENV, "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    assert_eq!(run(&["init", "--admin-email", ADMIN.0, "--team", "Riverside"], None).0, 0);
    let url = sim.base_url();
    let (code, err) = run(
        &["--as", ADMIN.0, "sync", "--remote", &url, "--remote-user", SVC.0, "--remote-password-stdin"],
        Some(&format!("{}\n", SVC.1)),
    );
    assert_eq!(code, 0, "{err}");
    let (code, err) = run(&["--as", ADMIN.0, "sync", "--remote", "http://sitemanager.example.com/v2"], None);
    assert_ne!(code, 0);
    assert!(err.contains("http://sitemanager.example.com/v2") && err.contains("https"), "{err}");
    let moved = url.replace("127.0.0.1", "localhost");
    let (code, err) = run(&["--as", ADMIN.0, "sync", "--remote", &moved], None);
    assert_ne!(code, 0, "no password, no pass: {err}");
    assert!(err.contains("forgotten") && err.contains(&moved), "{err}");
    let file = std::fs::read_to_string(format!("{}.sync-credentials", db.display())).unwrap_or_default();
    assert!(!file.contains(SVC.1), "{file}");
}
