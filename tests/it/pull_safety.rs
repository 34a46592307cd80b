//! A pull that survives interruption and a wrong clock (issue 17, "Bad input"): a portfolio
//! of six sites, a pull whose answer for each site in turn fails (connection dropped, 500,
//! answer cut half way, no answer before the client's timeout, the CLI SIGKILLed while it
//! waits), and a desk whose clock runs hours ahead of or behind the remote's. After each,
//! the next pass completes: the desk equals the remote, nothing is duplicated, no local edit
//! is lost and no conflict invented, sites already pulled are not merged again, and neither
//! the pull schedule nor the sync lease stalls on a time set by a wrong clock.

use residentdesk::app::sync::sync_pass;
use residentdesk::app::{ResidentInput, ResidentPatch, Session};
use residentdesk::store::{self, sync_state};
use residentdesk::sync::client::{Credentials, HttpRemote};
use residentdesk::sync::retry::RetryPolicy;
use residentdesk::sync::{PassReport, SyncOptions};
use residentdesk::{App, FixedClock};
use sitemanager_sim::model::{Mapping, Team};
use sitemanager_sim::seed::{SeedResident, SeedSite};
use sitemanager_sim::{Account, AccountLevel, FaultConfig, FaultKind, ScriptedFault, Seed, Sim, SimConfig, SimHandle};
use std::sync::Arc;
use std::time::Duration;

const SVC: (&str, &str) = ("svc@sim.test", "svc-password-1");
const ADMIN: (&str, &str) = ("admin@desk.test", "Desk-Admin-2026-pass");
/// Sites of the portfolio: S1 … S6, named Site1 … Site6.
const SITES: usize = 6;
/// Residents per site at the start (units 101 …).
const RESIDENTS: usize = 3;

fn email(site: usize, i: usize) -> String {
    format!("p{site}-{i}@example.com")
}

/// Team "Riverside" with six sites of three remote residents each.
fn portfolio() -> Seed {
    let day = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
    let sites = (1..=SITES)
        .map(|k| SeedSite {
            site_id: format!("S{k}"),
            team_id: "T1".into(),
            name: format!("Site{k}"),
            site_type: "PSK".into(),
            time_zone: "America/Chicago".into(),
            service_area_number: format!("SA-{k}"),
            mappings: (101..=112)
                .map(|u| Mapping {
                    building: "A".into(),
                    floor: "1".into(),
                    unit: u.to_string(),
                    passphrase: format!("pass{k}{u}"),
                    ssid: format!("Site{k}"),
                    vlan: u.to_string(),
                })
                .collect(),
        })
        .collect();
    let residents = (1..=SITES)
        .flat_map(|k| {
            (0..RESIDENTS).map(move |i| SeedResident {
                resident_id: Some(format!("rem-{k}-{i}")),
                site_id: format!("S{k}"),
                first_name: format!("First{k}{i}"),
                last_name: "Person".into(),
                email: email(k, i),
                phone: Some(format!("555-01{k}{i}")),
                building: "A".into(),
                floor: "1".into(),
                unit: (101 + i).to_string(),
                activation_utc: day - chrono::Duration::days(40),
                deactivation_utc: None,
                onboarded_at: Some(day - chrono::Duration::days(39)),
                suspended: false,
            })
        })
        .collect();
    Seed {
        now: None,
        frozen: false,
        teams: vec![Team { team_id: "T1".into(), name: "Riverside".into() }],
        sites,
        residents,
        accounts: vec![Account {
            email: SVC.0.into(),
            password: SVC.1.into(),
            level: AccountLevel::TeamAdmin,
            team_ids: vec!["T1".into()],
            site_ids: vec![],
        }],
    }
}

fn start(faults: FaultConfig) -> SimHandle {
    Sim::start(SimConfig::with_seed(portfolio()).job_duration_ms(40).faults(faults)).unwrap()
}

fn http(sim: &SimHandle) -> HttpRemote {
    HttpRemote::new(&sim.base_url(), Credentials { email: SVC.0.into(), password: SVC.1.into() }).unwrap()
}

/// Each call tried twice within a pass: a fault scripted twice fails the call for the pass.
const ATTEMPTS: u32 = 2;

fn opts() -> SyncOptions {
    SyncOptions { retry: RetryPolicy { max_attempts: ATTEMPTS, ..RetryPolicy::fast() }, ..SyncOptions::fast() }
}

/// One line per resident (duplicates kept): email, site, fields, state.
fn line(email: &str, site: &str, fields: [&str; 5], start: i64, suspended: bool) -> String {
    format!("{email}|{site}|{}|{start}|susp={suspended}", fields.join("|"))
}

fn remote_lines(sim: &SimHandle) -> Vec<String> {
    let mut out: Vec<String> = sim
        .data()
        .residents
        .values()
        .map(|r| {
            let phone = r.phone.clone().unwrap_or_default();
            line(
                &r.email,
                &r.site_id,
                [&r.first_name, &r.last_name, &phone, &r.building, &r.unit],
                r.activation_utc.timestamp(),
                r.suspended,
            )
        })
        .collect();
    out.sort();
    out
}

fn local_lines(conn: &rusqlite::Connection) -> Vec<String> {
    let sites: Vec<(i64, String)> = conn
        .prepare("SELECT id, coalesce(remote_id, '') FROM sites")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = Vec::new();
    for (id, remote) in sites {
        for r in store::residents::list_site(conn, id).unwrap() {
            out.push(line(
                &r.email,
                &remote,
                [&r.first_name, &r.last_name, &r.phone, &r.building, &r.unit],
                r.activation_utc.timestamp(),
                r.suspended,
            ));
        }
    }
    out.sort();
    out
}

/// The desk equals the remote, resident for resident, and neither holds a person twice.
#[track_caller]
fn assert_same(conn: &rusqlite::Connection, sim: &SimHandle, when: &str) {
    let (local, remote) = (local_lines(conn), remote_lines(sim));
    assert_eq!(local, remote, "{when}: the desk differs from the remote");
    let mut emails: Vec<&str> = remote.iter().map(|l| l.split('|').next().unwrap()).collect();
    emails.dedup();
    assert_eq!(emails.len(), remote.len(), "{when}: someone is there twice: {remote:#?}");
}

fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn site_id(app: &App, s: &Session, k: usize) -> i64 {
    let name = format!("Site{k}");
    app.site_list(s).unwrap().into_iter().find(|x| x.site.name == name).unwrap().site.id
}

fn remote_rename(sim: &SimHandle, email: &str, first: &str) {
    let n = sim.world(|w| {
        let mut n = 0;
        for r in w.data.residents.values_mut().filter(|r| r.email == email) {
            r.first_name = first.into();
            n += 1;
        }
        n
    });
    assert_eq!(n, 1, "{email} is on the remote");
}

fn patch(first: Option<&str>, last: Option<&str>, phone: Option<&str>) -> ResidentPatch {
    ResidentPatch {
        first_name: first.map(str::to_string),
        last_name: last.map(str::to_string),
        phone: phone.map(str::to_string),
        ..Default::default()
    }
}

/// Each `(kind, route, calls)`: `calls` calls of `route` fail with `kind` on every attempt.
fn script(faults: &[(FaultKind, String, u32)], hang_ms: u64) -> FaultConfig {
    let script = faults
        .iter()
        .flat_map(|(kind, on, calls)| {
            (0..calls * ATTEMPTS).map(|_| ScriptedFault { kind: *kind, matches: Some(on.clone()) })
        })
        .collect();
    FaultConfig { hang_ms, script, ..FaultConfig::default() }
}

/// The GET of site `k`'s resident list (every answer the pull needs of that site but one).
fn residents_of(k: usize) -> String {
    format!("GET /v2/team/T1/site/S{k}/resident")
}

/// For each site k in turn: remote and local edits across the portfolio, then a pass whose
/// answers for site k's residents fail with `kind` (every attempt: the push's read of the
/// site, so site k's own local edit waits, and the pull's); the local edit of site j = k+1
/// waits in the outbox through that pass too (its PUT fails), so its pull merges remote
/// changes around a pending local one. Then a clean pass.
async fn interrupted_at_every_site(kind: FaultKind) {
    let sim = start(FaultConfig::default());
    let clock = Arc::new(residentdesk::SystemClock);
    let mut app = App::open_in_memory(clock).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    // The hang outlasts the client's patience (0.8 s) by far; nothing else comes near it.
    // The desk's own HTTP client, giving up after 0.8 s instead of 120 s.
    let r = HttpRemote::with_timeout(
        &sim.base_url(),
        Credentials { email: SVC.0.into(), password: SVC.1.into() },
        Duration::from_millis(800),
    )
    .unwrap();
    let first = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!((first.sites_inserted, first.sites_pulled, first.sites_failed), (6, 6, 0), "{first:?}");
    assert_same(app.conn(), &sim, "after the first pull");
    for k in 1..=SITES {
        let j = k % SITES + 1;
        let c = (k + 1) % SITES + 1;
        let tag = format!("{}{k}", kind.as_str());
        // Site k: a remote rename and a local one of another resident.
        remote_rename(&sim, &email(k, 1), &format!("Remote-{tag}"));
        app.resident_update(&s, &email(k, 2), &patch(None, Some(&format!("Local-{tag}")), None)).unwrap();
        // Site j: the same resident renamed remotely and its phone changed here.
        remote_rename(&sim, &email(j, 0), &format!("RemoteJ-{tag}"));
        app.resident_update(&s, &email(j, 0), &patch(None, None, Some(&format!("555-9{k}{}", kind as u8)))).unwrap();
        // Site c: a new resident, created once whatever happens to the pull.
        let new = format!("new-{tag}@example.com");
        let input = ResidentInput {
            first_name: "New".into(),
            last_name: tag.clone(),
            email: new.clone(),
            phone: Some("555-2000".into()),
            building: "A".into(),
            floor: "1".into(),
            unit: (104 + k).to_string(),
            start: "2026-01-05".into(),
            end: None,
        };
        app.resident_add(&s, &site_id(&app, &s, c).to_string(), &input).unwrap();
        let put_j = format!("PUT /v2/team/T1/site/S{j}/resident");
        let faults = [(kind, residents_of(k), 2), (FaultKind::Fail500, put_j, 1)];
        sim.set_faults(script(&faults, 6_000)).unwrap();

        let broken = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
        let ctx = format!("{kind:?} at Site{k}");
        assert_eq!((broken.sites_pulled, broken.sites_failed), (5, 1), "{ctx}: {broken:?}");
        assert!(
            broken.errors.iter().any(|e| e.starts_with(&format!("pull of site Site{k}:"))),
            "{ctx}: the report names the site: {:?}",
            broken.errors
        );
        let st = app.sync_status(&s).unwrap();
        for site in &st.sites {
            let failed = site.name == format!("Site{k}");
            assert_eq!(site.last_error.is_some(), failed, "{ctx}: the status names the failed site only: {st:?}");
        }
        assert_eq!(st.pending, 2, "{ctx}: the edits at Site{k} and Site{j} wait: {st:?}");
        assert_eq!(st.open_conflicts, 0, "{ctx}: no conflict invented");
        // Site j was merged around its pending edit: the remote's new name, the desk's phone.
        let here = app.resident_show(&s, &email(j, 0)).unwrap();
        assert_eq!(here.resident.first_name, format!("RemoteJ-{tag}"), "{ctx}");
        assert!(here.resident.phone.starts_with("555-9"), "{ctx}: the local phone is kept: {here:?}");
        let digests: Vec<Option<String>> =
            (1..=SITES).map(|x| sync_state::pulled_digest(app.conn(), site_id(&app, &s, x)).unwrap()).collect();
        let left = sim.faults().script;
        assert!(left.iter().all(|f| f.matches != Some(residents_of(k))), "{ctx}: every fault fired: {left:?}");
        sim.set_faults(FaultConfig::default()).unwrap();

        let next = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
        assert_eq!((next.sites_pulled, next.sites_failed, next.retry_later), (6, 0, 0), "{ctx}: {next:?}");
        // Site k is merged now, site j again (the push changed its answer, as it did site
        // k's); the four others, pulled by the broken pass, are not merged again.
        assert_eq!(next.sites_unchanged, 4, "{ctx}: {next:?}");
        for x in (1..=SITES).filter(|x| *x != k && *x != j) {
            let now = sync_state::pulled_digest(app.conn(), site_id(&app, &s, x)).unwrap();
            assert_eq!(now, digests[x - 1], "{ctx}: Site{x} was not merged again");
        }
        let st = app.sync_status(&s).unwrap();
        assert!(st.sites.iter().all(|x| x.last_error.is_none()), "{ctx}: {st:?}");
        assert_eq!((st.pending, st.in_flight, st.conflict, st.open_conflicts), (0, 0, 0, 0), "{ctx}: {st:?}");
        assert_same(app.conn(), &sim, &ctx);
        // No edit lost: both sides' changes are on the remote, the new resident once.
        let d = sim.data();
        let on_remote = |e: &str| d.residents.values().filter(|r| r.email == e).cloned().collect::<Vec<_>>();
        assert_eq!(on_remote(&email(k, 1))[0].first_name, format!("Remote-{tag}"), "{ctx}");
        assert_eq!(on_remote(&email(k, 2))[0].last_name, format!("Local-{tag}"), "{ctx}");
        let jr = on_remote(&email(j, 0));
        assert_eq!(jr[0].first_name, format!("RemoteJ-{tag}"), "{ctx}");
        assert!(jr[0].phone.as_deref().is_some_and(|p| p.starts_with("555-9")), "{ctx}: {jr:?}");
        assert_eq!(on_remote(&new).len(), 1, "{ctx}: created once");
    }
    assert_eq!(remote_lines(&sim).len(), SITES * RESIDENTS + SITES, "one new resident a round");
    assert_eq!(count(app.conn(), "SELECT count(*) FROM sync_conflicts"), 0, "no conflict in any round");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_whose_connection_drops_at_each_site_in_turn_resumes_without_a_wrong_merge() {
    interrupted_at_every_site(FaultKind::Drop).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_answered_500_at_each_site_in_turn_resumes_without_a_wrong_merge() {
    interrupted_at_every_site(FaultKind::Fail500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_whose_answer_is_cut_half_way_at_each_site_in_turn_resumes_without_a_wrong_merge() {
    interrupted_at_every_site(FaultKind::Truncate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_that_hangs_past_the_timeout_at_each_site_in_turn_resumes_without_a_wrong_merge() {
    interrupted_at_every_site(FaultKind::Hang).await;
}

/// The CLI process SIGKILLed while its pull waits for site k's answer, for each k in turn:
/// nothing of that pull was merged, the lease of the dead process is taken over at once,
/// and the next `residentdesk sync` brings the desk to the remote's state, merging only the
/// sites that changed.
#[cfg(unix)]
#[test]
fn the_cli_killed_mid_pull_at_each_site_in_turn_resumes_on_the_next_sync() {
    let sim = start(FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    let cli = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_residentdesk"));
        cmd.arg("--db")
            .arg(&db)
            .args(args)
            .env("RESIDENTDESK_PASSWORD", ADMIN.1)
            .env(residentdesk::app::sync::NO_KEYRING_ENV, "1")
            .env_remove("RESIDENTDESK_NOW")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    };
    let run = |args: &[&str], stdin: Option<&str>| -> (i32, String, String) {
        use std::io::Write;
        let mut child = cli(args).spawn().unwrap();
        if let Some(text) = stdin {
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
    };
    let report = |out: &str| -> PassReportView {
        let v: serde_json::Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
        serde_json::from_value(v["report"].clone()).unwrap()
    };
    assert_eq!(run(&["init", "--admin-email", ADMIN.0, "--team", "Riverside"], None).0, 0);
    let url = sim.base_url();
    let args = ["--as", ADMIN.0, "--json", "sync", "--remote", &url, "--remote-user", SVC.0, "--remote-password-stdin"];
    let (code, out, err) = run(&args, Some(&format!("{}\n", SVC.1)));
    assert_eq!(code, 0, "{err}");
    assert_eq!(report(&out).sites_pulled, 6, "{out}");
    let conn = || store::open(&db).unwrap();
    assert_same(&conn(), &sim, "after the first sync");
    for k in 1..=SITES {
        let j = k % SITES + 1;
        let ctx = format!("killed while pulling Site{k}");
        remote_rename(&sim, &email(k, 1), &format!("Killed{k}"));
        let phone = format!("555-8{k}00");
        let (code, _, err) = run(&["--as", ADMIN.0, "resident", "update", &email(j, 2), "--phone", &phone], None);
        assert_eq!(code, 0, "{err}");
        // Site k's list is held back for a minute; the CLI is killed while it waits.
        sim.set_faults(FaultConfig {
            hang_ms: 60_000,
            script: vec![ScriptedFault { kind: FaultKind::Hang, matches: Some(residents_of(k)) }],
            ..FaultConfig::default()
        })
        .unwrap();
        let mut child = cli(&["--as", ADMIN.0, "--json", "sync"]).spawn().unwrap();
        drop(child.stdin.take());
        let waited = std::time::Instant::now();
        while !sim.faults().script.is_empty() {
            assert!(waited.elapsed() < Duration::from_secs(60), "{ctx}: the pull never reached Site{k}");
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{ctx}: the sync ended before it reached Site{k}: {status}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // A moment for the other sites' answers to arrive (they are merged with site k's, in
        // one transaction after the chunk's answers are in: none is merged yet).
        std::thread::sleep(Duration::from_millis(200));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "{ctx}: killed, not finished");
        sim.set_faults(FaultConfig::default()).unwrap();
        let in_flight_or_pending = count(
            &conn(),
            "SELECT count(*) FROM outbox WHERE state IN ('pending', 'in_flight', 'rejected', 'conflict')",
        );
        assert!(in_flight_or_pending <= 1, "{ctx}: {in_flight_or_pending}");

        // The next sync: the dead process's lease is taken over at once, the pull completes.
        let (code, out, err) = run(&["--as", ADMIN.0, "--json", "sync"], None);
        assert_eq!(code, 0, "{ctx}: {err}");
        let rep = report(&out);
        assert_eq!((rep.sites_pulled, rep.sites_failed), (6, 0), "{ctx}: {out}");
        // Site k changed remotely and site j by the push (before this pass or in it): the
        // four others were merged by an earlier sync and are not merged again.
        assert_eq!(rep.sites_unchanged, 4, "{ctx}: {out}");
        let c = conn();
        assert_same(&c, &sim, &ctx);
        assert_eq!(count(&c, "SELECT count(*) FROM sync_conflicts"), 0, "{ctx}: no conflict invented");
        assert_eq!(count(&c, "SELECT count(*) FROM outbox WHERE state <> 'done'"), 0, "{ctx}: nothing left over");
        assert_eq!(count(&c, "SELECT count(*) FROM sync_lease"), 0, "{ctx}: the lease was released");
        let d = sim.data();
        let r = d.residents.values().find(|r| r.email == email(j, 2)).unwrap();
        assert_eq!(r.phone.as_deref(), Some(phone.as_str()), "{ctx}: the local edit reached the remote");
    }
}

/// The parts of the CLI's JSON report this file reads.
#[derive(serde::Deserialize, Debug)]
struct PassReportView {
    sites_pulled: u64,
    sites_unchanged: u64,
    sites_failed: u64,
}

/// The same in-memory desk on a clock the test moves.
fn desk_at(at: chrono::DateTime<chrono::Utc>) -> (App, Session, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(at));
    let mut app = App::open_in_memory(clock.clone()).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    (app, s, clock)
}

fn pulled(rep: &PassReport) -> (u64, u64) {
    (rep.sites_pulled, rep.sites_not_due)
}

/// The adaptive schedule with a clock hours ahead, then put right (and hours behind, then
/// put right): no site waits for a time its wrong clock set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_set_by_a_clock_hours_off_does_not_stall_pulls_once_it_is_right() {
    let sim = start(FaultConfig::default());
    let r = http(&sim);
    let right = chrono::Utc::now();
    let (mut app, mut s, clock) = desk_at(right + chrono::Duration::hours(3));
    // The session locks after idle minutes on the desk's clock: a clock moved needs a sign-in.
    let minute = Duration::from_secs(60);
    let adaptive = || opts().pull_by_schedule(minute, vec![]);
    // Pulled (and quiet for a while) while the clock runs three hours ahead.
    assert_eq!(pulled(&sync_pass(&mut app, &s, &r, &adaptive(), None).await.unwrap()), (6, 0));
    for _ in 0..3 {
        clock.advance(chrono::Duration::minutes(10));
        s = app.sign_in(ADMIN.0, ADMIN.1).unwrap();
        sync_pass(&mut app, &s, &r, &adaptive(), None).await.unwrap();
    }
    assert_eq!(pulled(&sync_pass(&mut app, &s, &r, &adaptive(), None).await.unwrap()), (0, 6), "none due yet");
    // The clock is put right: the times it set are hours ahead, and every site is due.
    clock.set(right);
    s = app.sign_in(ADMIN.0, ADMIN.1).unwrap();
    remote_rename(&sim, &email(3, 0), "WhileAhead");
    let rep = sync_pass(&mut app, &s, &r, &adaptive(), None).await.unwrap();
    assert_eq!(pulled(&rep), (6, 0), "{rep:?}");
    assert_eq!(rep.residents_updated, 1, "{rep:?}");
    // And then the schedule runs as usual on the right clock: the changed site a minute
    // later, the quiet ones within the longest delay (32 minutes + 20 %).
    assert_eq!(pulled(&sync_pass(&mut app, &s, &r, &adaptive(), None).await.unwrap()), (0, 6));
    clock.advance(chrono::Duration::seconds(73));
    assert_eq!(pulled(&sync_pass(&mut app, &s, &r, &adaptive(), None).await.unwrap()), (1, 5));
    clock.advance(chrono::Duration::minutes(39));
    s = app.sign_in(ADMIN.0, ADMIN.1).unwrap();
    assert_eq!(pulled(&sync_pass(&mut app, &s, &r, &adaptive(), None).await.unwrap()), (6, 0));

    // Five hours behind: the right clock's times look hours ahead, so the sites are pulled
    // (not held for five hours); put right again, the behind clock's times have passed.
    clock.set(right - chrono::Duration::hours(5));
    s = app.sign_in(ADMIN.0, ADMIN.1).unwrap();
    assert_eq!(pulled(&sync_pass(&mut app, &s, &r, &adaptive(), None).await.unwrap()), (6, 0));
    assert_eq!(pulled(&sync_pass(&mut app, &s, &r, &adaptive(), None).await.unwrap()), (0, 6));
    clock.set(right + chrono::Duration::seconds(80));
    s = app.sign_in(ADMIN.0, ADMIN.1).unwrap();
    assert_eq!(pulled(&sync_pass(&mut app, &s, &r, &adaptive(), None).await.unwrap()), (6, 0));
    assert_same(app.conn(), &sim, "after the clock was put right");
}

/// Writes the lease as another pass would have, renewed at `renewed` for `ttl_secs`.
fn hold_lease(app: &App, holder_id: &str, renewed: chrono::DateTime<chrono::Utc>, ttl_secs: i64) {
    let tx = app.conn().unchecked_transaction().unwrap();
    let new =
        sync_state::NewLease { holder_id, holder: "residentdesk sync, pid 1 on elsewhere", pid: None, host: None };
    let expires = renewed + chrono::Duration::seconds(ttl_secs);
    tx.execute("DELETE FROM sync_lease", []).unwrap();
    assert!(sync_state::lease_take(&tx, &new, renewed, expires, None).unwrap());
    tx.commit().unwrap();
}

/// A lease written by a clock hours ahead is taken over once the clock is right, not waited
/// out for hours; a lease of a clock hours behind has expired; a live one still blocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_written_by_a_clock_hours_off_does_not_block_syncing() {
    let sim = start(FaultConfig::default());
    let r = http(&sim);
    let right = chrono::Utc::now();
    let (mut app, s, _clock) = desk_at(right);
    let quick = || SyncOptions { lease_wait: Duration::from_millis(300), ..opts() };
    sync_pass(&mut app, &s, &r, &quick(), None).await.unwrap();

    // A pass that ran with the clock three hours ahead and was killed: its lease "expires"
    // three hours from now by the right clock.
    hold_lease(&app, "ahead", right + chrono::Duration::hours(3), 90);
    let rep = sync_pass(&mut app, &s, &r, &quick(), None).await.expect("the lease of a clock ahead is taken over");
    assert_eq!(rep.sites_pulled, 6);
    assert_eq!(count(app.conn(), "SELECT count(*) FROM sync_lease"), 0, "and released after the pass");

    // Written five hours behind: long expired.
    hold_lease(&app, "behind", right - chrono::Duration::hours(5), 90);
    sync_pass(&mut app, &s, &r, &quick(), None).await.expect("an expired lease is taken over");

    // A live pass (renewed now, or by a clock a minute ahead: within a lease's life) blocks.
    for ahead in [0, 60] {
        hold_lease(&app, "live", right + chrono::Duration::seconds(ahead), 90);
        let err = sync_pass(&mut app, &s, &r, &quick(), None).await.unwrap_err();
        assert!(err.message.contains("already running"), "{ahead}: {err:?}");
        app.conn().execute("DELETE FROM sync_lease", []).unwrap();
    }
}

/// Edits made while the desk's clock runs hours ahead or behind the remote's: edits to
/// different fields of one resident both survive, edits of the same field become a conflict
/// with both values (never decided by comparing the desk's time with the remote's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_made_on_a_clock_hours_off_merge_without_a_wrong_decision() {
    let sim = start(FaultConfig::default());
    let r = http(&sim);
    let right = chrono::Utc::now();
    let (mut app, mut s, clock) = desk_at(right);
    sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    for (round, off) in [(1usize, chrono::Duration::hours(3)), (2, -chrono::Duration::hours(5))] {
        clock.set(right + off);
        // The session of the right clock may look expired or not yet valid: sign in again.
        s = app.sign_in(ADMIN.0, ADMIN.1).unwrap();
        let (a, b) = (email(round, 0), email(round, 1));
        // A: the desk changes the phone, the remote the first name.
        app.resident_update(&s, &a, &patch(None, None, Some(&format!("555-77{round}0")))).unwrap();
        remote_rename(&sim, &a, &format!("RemoteA{round}"));
        // B: both change the first name.
        app.resident_update(&s, &b, &patch(Some(&format!("DeskB{round}")), None, None)).unwrap();
        remote_rename(&sim, &b, &format!("RemoteB{round}"));
        sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
        sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
        let d = sim.data();
        let ra = d.residents.values().find(|x| x.email == a).unwrap();
        assert_eq!(ra.first_name, format!("RemoteA{round}"), "round {round}: the remote's edit kept");
        assert_eq!(
            ra.phone.clone().unwrap_or_default(),
            format!("555-77{round}0"),
            "round {round}: the desk's edit kept"
        );
        let la = app.resident_show(&s, &a).unwrap().resident;
        assert_eq!((la.first_name.as_str(), la.phone.as_str()), (ra.first_name.as_str(), ra.phone.as_deref().unwrap()));
        // B: a conflict holding both values; neither side silently won.
        let rb = d.residents.values().find(|x| x.email == b).unwrap();
        assert_eq!(rb.first_name, format!("RemoteB{round}"), "round {round}: nothing pushed over the remote's edit");
        let lb = app.resident_show(&s, &b).unwrap().resident;
        assert_eq!(lb.first_name, format!("DeskB{round}"), "round {round}: the desk's edit waits for a person");
        let fields: String = app
            .conn()
            .query_row("SELECT fields FROM sync_conflicts WHERE state = 'open' AND email = ?1", [&b], |row| row.get(0))
            .unwrap_or_else(|e| panic!("round {round}: no open conflict for {b}: {e}"));
        assert!(fields.contains(&format!("DeskB{round}")) && fields.contains(&format!("RemoteB{round}")), "{fields}");
    }
    assert_eq!(count(app.conn(), "SELECT count(*) FROM sync_conflicts WHERE state = 'open'"), 2, "B of each round");
}

/// The report of the last pass the worker ran, as stored.
fn last_report(app: &App) -> serde_json::Value {
    let (text, _) = sync_state::status_get(app.conn(), "last_pass_report").unwrap().expect("a pass ran");
    serde_json::from_str(&text).unwrap()
}

/// Waits for the worker's next finished pass (`last_pass_at` moves).
async fn next_pass(events: &mut tokio::sync::watch::Receiver<residentdesk::sync::status::SyncStatus>) {
    let before = events.borrow().last_pass_at;
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            events.changed().await.unwrap();
            let st = events.borrow().clone();
            if !st.running && st.last_pass_at != before {
                return;
            }
        }
    })
    .await
    .expect("a pass");
}

/// Desks not in step: a desk that synced before waits its random moment for the first timer
/// pass (an interval so long here that it never comes during the test), but the site opened
/// meanwhile is pulled at once and alone; a desk that never synced pulls at once, unasked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_pulls_the_site_on_screen_at_once_and_a_new_desk_at_once_but_waits_its_turn_for_the_rest() {
    use residentdesk::app::worker::Worker;
    let sim = start(FaultConfig::default());
    let far = Duration::from_secs(100_000_000);
    let background = || opts().pull_by_schedule(far, vec![]).in_background();

    // Never synced: the first pass runs at once, no "Sync now" needed.
    let mut app = App::open_in_memory(Arc::new(residentdesk::SystemClock)).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    let worker = Worker::spawn(app, s.clone(), http(&sim), background(), far);
    let mut events = worker.subscribe();
    next_pass(&mut events).await;
    let mut app = worker.stop().await.unwrap();
    assert_eq!(last_report(&app)["sites_pulled"], 6, "a new desk pulls every site at once");
    // A one-off pass leaves every site due at once by the schedule.
    sync_pass(&mut app, &s, &http(&sim), &opts(), None).await.unwrap();

    // Synced before: a remote change waits for the desk's own moment; the site opened is
    // pulled at once, alone.
    let focus = site_id(&app, &s, 4);
    remote_rename(&sim, &email(4, 0), "OnScreen");
    remote_rename(&sim, &email(5, 0), "Elsewhere");
    let worker = Worker::spawn(app, s.clone(), http(&sim), background(), far);
    let mut events = worker.subscribe();
    worker.focus(Some(focus)).await;
    next_pass(&mut events).await;
    let app = worker.stop().await.unwrap();
    let rep = last_report(&app);
    assert_eq!((rep["sites_pulled"].as_u64(), rep["sites_not_due"].as_u64()), (Some(1), Some(5)), "{rep}");
    assert_eq!(app.resident_show(&s, &email(4, 0)).unwrap().resident.first_name, "OnScreen");
    assert_ne!(app.resident_show(&s, &email(5, 0)).unwrap().resident.first_name, "Elsewhere");
}
