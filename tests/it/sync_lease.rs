//! One sync pass at a time per database (issue #12): the lease blocks a second pass until
//! the first releases it or its expiry passes by the app's clock, is released on error and
//! when a pass is dropped, the worker skips a busy tick, an entry moves `pending` →
//! `in_flight` only by compare-and-set, and two passes at once — two CLI processes, or two
//! connections in one process — send every change exactly once.

use crate::fixture::{test_now, Run};
use crate::sync::{remote, seed, start_sim, ADMIN, SVC};
use residentdesk::app::sync::{sync_pass, NO_KEYRING_ENV};
use residentdesk::app::{ResidentInput, ResidentPatch, Session};
use residentdesk::domain::{OutboxOp, OutboxState};
use residentdesk::error::ErrorReason;
use residentdesk::store::{self, sync_state};
use residentdesk::sync::SyncOptions;
use residentdesk::{App, Clock, ErrorCode, FixedClock, SystemClock};
use rusqlite::{Connection, TransactionBehavior};
use sitemanager_sim::seed::SeedResident;
use sitemanager_sim::{FaultConfig, Seed, Sim, SimConfig, SimHandle};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn opts(wait: Duration) -> SyncOptions {
    SyncOptions { lease_wait: wait, ..SyncOptions::fast() }
}

/// A file database initialised for ADMIN in team Riverside, at the clock given.
fn file_app(dir: &Path, clock: Arc<dyn Clock>) -> (App, Session, PathBuf) {
    let db = dir.join("desk.db");
    let mut app = App::open(&db, clock).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    (app, s, db)
}

/// Takes the lease as another process would, through a connection of its own.
fn hold(db: &Path, holder_id: &str, now: chrono::DateTime<chrono::Utc>, ttl_secs: i64) -> Connection {
    let mut conn = store::open(db).unwrap();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
    let new =
        sync_state::NewLease { holder_id, holder: "residentdesk sync, pid 1 on elsewhere", pid: None, host: None };
    assert!(sync_state::lease_take(&tx, &new, now, now + chrono::Duration::seconds(ttl_secs), None).unwrap());
    tx.commit().unwrap();
    conn
}

fn release(conn: &mut Connection, holder_id: &str) {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
    assert!(sync_state::lease_release(&tx, holder_id).unwrap());
    tx.commit().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lease_blocks_a_pass_until_released_or_expired_by_the_apps_clock() {
    let sim = start_sim(FaultConfig::default());
    let r = remote(&sim);
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(test_now()));
    let (mut app, s, db) = file_app(dir.path(), clock.clone());
    let mut other = hold(&db, "A", test_now(), 90);

    let started = std::time::Instant::now();
    let err = sync_pass(&mut app, &s, &r, &opts(Duration::from_millis(400)), None).await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(400), "the pass waited before giving up");
    assert_eq!(err.code, ErrorCode::Internal, "{err:?}");
    assert_eq!(err.reason(), Some(ErrorReason::SyncBusy));
    assert_eq!(err.details.as_ref().and_then(|d| d.holder.as_deref()), Some("residentdesk sync, pid 1 on elsewhere"));
    assert!(err.message.starts_with("a sync is already running on this database (since "), "{}", err.message);
    assert!(err.message.contains("by residentdesk sync, pid 1 on elsewhere"), "{}", err.message);
    assert_eq!(sim.stats().total, 0, "nothing reached the remote");
    assert_eq!(app.sync_status(&s).unwrap().last_pass_at, None, "the status is the running pass's to write");

    // Released: the next pass runs and gives the lease back when it ends.
    release(&mut other, "A");
    sync_pass(&mut app, &s, &r, &opts(Duration::from_millis(400)), None).await.unwrap();
    assert_eq!(sync_state::lease_get(app.conn()).unwrap(), None, "released at the end of the pass");

    // A lease left by a killed process: blocked while the app's clock is before its expiry
    // (whatever the system clock says), taken over once the clock passes it.
    let _other = hold(&db, "killed", test_now(), 90);
    clock.advance(chrono::Duration::seconds(89));
    assert!(sync_pass(&mut app, &s, &r, &opts(Duration::from_millis(100)), None).await.is_err());
    clock.advance(chrono::Duration::seconds(2));
    sync_pass(&mut app, &s, &r, &opts(Duration::from_millis(100)), None).await.unwrap();
    assert_eq!(sync_state::lease_get(app.conn()).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_is_released_when_a_pass_fails_or_is_dropped() {
    let sim = start_sim(FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let (mut app, s, _db) = file_app(dir.path(), Arc::new(SystemClock));
    // Refused credentials stop the pass with an error.
    let bad = residentdesk::sync::client::HttpRemote::new(
        &sim.base_url(),
        residentdesk::sync::client::Credentials { email: SVC.0.into(), password: "wrong".into() },
    )
    .unwrap();
    let err = sync_pass(&mut app, &s, &bad, &opts(Duration::ZERO), None).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthenticated, "{err:?}");
    assert_eq!(sync_state::lease_get(app.conn()).unwrap(), None, "released after the error");
    // A pass whose future is dropped mid-way (a cancelled task, a timeout).
    sim.set_faults(FaultConfig { latency_ms: 400, ..FaultConfig::default() }).unwrap();
    let r = remote(&sim);
    let o = opts(Duration::ZERO);
    let cut = tokio::time::timeout(Duration::from_millis(150), sync_pass(&mut app, &s, &r, &o, None));
    assert!(cut.await.is_err(), "the pass was still waiting for the remote");
    assert_eq!(sync_state::lease_get(app.conn()).unwrap(), None, "released when the pass was dropped");
    sim.set_faults(FaultConfig::default()).unwrap();
    sync_pass(&mut app, &s, &r, &opts(Duration::ZERO), None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_skips_a_busy_tick_and_syncs_once_the_other_pass_ends() {
    use residentdesk::app::worker::Worker;
    let sim = start_sim(FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let (mut app, s, db) = file_app(dir.path(), Arc::new(SystemClock));
    sync_pass(&mut app, &s, &remote(&sim), &opts(Duration::ZERO), None).await.unwrap();
    let patch = ResidentPatch { first_name: Some("AfterBusy".into()), ..Default::default() };
    app.resident_update(&s, "remote0@example.com", &patch).unwrap();
    let mut other = hold(&db, "cli", chrono::Utc::now(), 90);
    // Short lease life so the worker looks again soon (a third of it, at least lease_wait).
    let o = SyncOptions { lease_ttl: Duration::from_millis(900), ..opts(Duration::from_millis(100)) }.in_background();
    let worker = Worker::spawn(app, s.clone(), remote(&sim), o, Duration::from_secs(3600));
    let mut events = worker.subscribe();
    worker.sync_now().await;
    let busy = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            events.changed().await.unwrap();
            let st = events.borrow().clone();
            if !st.running {
                return st;
            }
        }
    })
    .await
    .expect("a status event after the busy tick");
    assert_eq!(busy.pending, 1, "nothing was sent: {busy:?}");
    assert_eq!(busy.last_error, None, "a busy tick is neither offline nor failed: {busy:?}");
    assert_eq!(sim.data().residents["rem-0"].first_name, "Remote0");
    release(&mut other, "cli");
    // No sync_now and the hourly tick far away: the worker looks again on its own.
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            events.changed().await.unwrap();
            let st = events.borrow().clone();
            if !st.running && st.pending == 0 {
                return;
            }
        }
    })
    .await
    .expect("the worker synced after the other pass ended");
    assert_eq!(sim.data().residents["rem-0"].first_name, "AfterBusy");
    worker.stop().await;
}

/// A person discards entries while a pass runs, after the pass read them as pending: the
/// pass leaves them out of its requests and does not overwrite their state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_discarded_during_a_pass_is_not_sent() {
    let sim = start_sim(FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let (mut app, s, db) = file_app(dir.path(), Arc::new(SystemClock));
    let r = remote(&sim);
    sync_pass(&mut app, &s, &r, &opts(Duration::ZERO), None).await.unwrap();
    for (i, email) in ["remote0@example.com", "remote1@example.com", "remote2@example.com"].iter().enumerate() {
        let patch = ResidentPatch { first_name: Some(format!("Changed{i}")), ..Default::default() };
        app.resident_update(&s, email, &patch).unwrap();
    }
    // Three updates are three single requests; after the first, discard what is pending.
    let person = std::sync::Mutex::new(store::open(&db).unwrap());
    let discarded = std::sync::Mutex::new(Vec::new());
    let progress = |p: residentdesk::sync::Progress| {
        let mut list = discarded.lock().unwrap();
        if p.phase != "push" || !list.is_empty() {
            return;
        }
        let mut conn = person.lock().unwrap();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
        for e in store::outbox::list(&tx, &[OutboxState::Pending], 10).unwrap() {
            let moved = sync_state::transition(
                &tx,
                e.id,
                &[OutboxState::Pending, OutboxState::Rejected],
                OutboxState::Discarded,
                None,
                chrono::Utc::now(),
            )
            .unwrap();
            assert!(moved);
            list.push(e.id);
        }
        tx.commit().unwrap();
    };
    sim.reset_stats();
    let report = sync_pass(&mut app, &s, &r, &opts(Duration::ZERO), Some(&progress)).await.unwrap();
    let discarded = discarded.into_inner().unwrap();
    assert_eq!(discarded.len(), 2, "two updates were still waiting after the first request");
    assert_eq!(report.taken_elsewhere, 2, "{report:?}");
    assert_eq!(report.done, 1, "{report:?}");
    let puts: u64 = sim.stats().by_route.iter().filter(|(k, _)| k.starts_with("PUT ")).map(|(_, v)| *v).sum();
    assert_eq!(puts, 1, "only the update not discarded was sent");
    for id in discarded {
        assert_eq!(store::outbox::get(app.conn(), id).unwrap().unwrap().state, "discarded");
    }
    let changed = sim.data().residents.values().filter(|x| x.first_name.starts_with("Changed")).count();
    assert_eq!(changed, 1);
}

/// Threads on connections of their own race to move the same pending entries in flight
/// (what two passes without the lease would do): each entry moves exactly once.
#[test]
fn racing_movers_move_each_entry_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("race.db");
    let mut conn = store::open(&db).unwrap();
    let now = chrono::Utc::now();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
    let ids: Vec<i64> = (0..200)
        .map(|i| {
            let email = format!("race{i}@example.com");
            let e = store::outbox::NewEntry {
                actor_id: None,
                site_id: 1,
                resident_id: None,
                remote_id: None,
                email: Some(&email),
                op: OutboxOp::Create,
                payload: serde_json::json!({}).into(),
                base: serde_json::json!({}).into(),
            };
            store::outbox::append(&tx, &e, now).unwrap()
        })
        .collect();
    tx.commit().unwrap();
    let movers: Vec<_> = (0..4)
        .map(|t| {
            let (db, mut ids) = (db.clone(), ids.clone());
            if t % 2 == 1 {
                ids.reverse();
            }
            std::thread::spawn(move || {
                let mut conn = store::open(&db).unwrap();
                let mut mine = Vec::new();
                for chunk in ids.chunks(7) {
                    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
                    let groups: Vec<&[i64]> = chunk.iter().map(std::slice::from_ref).collect();
                    if let Some(start) = sync_state::job_start(&tx, 1, "import", "create", &groups, now).unwrap() {
                        mine.extend(chunk.iter().zip(&start.moved).filter(|(_, ok)| **ok).map(|(id, _)| *id));
                    }
                    tx.commit().unwrap();
                }
                mine
            })
        })
        .collect();
    let mut moved: Vec<i64> = movers.into_iter().flat_map(|h| h.join().unwrap()).collect();
    moved.sort_unstable();
    assert_eq!(moved, ids, "every entry moved by exactly one mover");
    let attempts: i64 = conn.query_row("SELECT max(attempts) FROM outbox", [], |r| r.get(0)).unwrap();
    assert_eq!(attempts, 1);
}

// ----- two passes at once against the simulator -----

const REMOTE_UPDATED: usize = 50;
const CREATES_PER_SITE: usize = 100;

/// The sync tests' seed with room for 300 units per site and 50 more remote residents at
/// Bayside (S2) for the local updates.
fn big_seed() -> Seed {
    let mut seed = seed();
    for site in &mut seed.sites {
        let ssid = site.name.clone();
        site.mappings = (101..=400)
            .map(|u| sitemanager_sim::model::Mapping {
                building: "A".into(),
                floor: "1".into(),
                unit: u.to_string(),
                passphrase: format!("pass{u}"),
                ssid: ssid.clone(),
                vlan: u.to_string(),
            })
            .collect();
    }
    let day = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
    seed.residents.extend((0..REMOTE_UPDATED).map(|i| SeedResident {
        resident_id: Some(format!("upd-{i}")),
        site_id: "S2".into(),
        first_name: format!("Upd{i}"),
        last_name: "Remote".into(),
        email: format!("upd{i}@example.com"),
        phone: None,
        building: "A".into(),
        floor: "1".into(),
        unit: (301 + i).to_string(),
        activation_utc: day - chrono::Duration::days(10),
        deactivation_utc: None,
        onboarded_at: None,
        suspended: false,
    }));
    seed
}

fn created_email(i: usize) -> String {
    format!("new{i}@example.com")
}

/// 200 creates (100 per site: import jobs) and 50 updates (single PUTs), queued locally.
fn queue_changes(app: &mut App, s: &Session) {
    let sites = app.site_list(s).unwrap();
    let id = |name: &str| sites.iter().find(|x| x.site.name == name).unwrap().site.id.to_string();
    let (hudson, bayside) = (id("Hudson"), id("Bayside"));
    for i in 0..2 * CREATES_PER_SITE {
        let (site, unit) = if i < CREATES_PER_SITE { (&hudson, 201 + i) } else { (&bayside, 1 + i) };
        let input = ResidentInput {
            first_name: format!("New{i}"),
            last_name: "Local".into(),
            email: created_email(i),
            phone: None,
            building: "A".into(),
            floor: "1".into(),
            unit: unit.to_string(),
            start: "2026-01-05".into(),
            end: None,
        };
        app.resident_add(s, site, &input).unwrap();
    }
    for i in 0..REMOTE_UPDATED {
        let patch = ResidentPatch { last_name: Some(format!("Edited{i}")), ..Default::default() };
        app.resident_update(s, &format!("upd{i}@example.com"), &patch).unwrap();
    }
}

/// Every change arrived once: each created email exists once remotely and was in exactly
/// one create (import row or single POST), each update was one PUT, and the outbox is done.
fn assert_each_change_arrived_once(sim: &SimHandle, db: &Path) {
    let d = sim.data();
    let mut remote_count: BTreeMap<String, usize> = BTreeMap::new();
    for r in d.residents.values() {
        *remote_count.entry(r.email.clone()).or_default() += 1;
    }
    let mut sent: BTreeMap<String, usize> = BTreeMap::new();
    for job in d.jobs.values() {
        if let sitemanager_sim::model::JobKind::Import { rows } = &job.kind {
            for row in rows {
                *sent.entry(row["Email"].as_str().unwrap_or_default().to_lowercase()).or_default() += 1;
            }
        }
    }
    let stats = sim.stats();
    let route = |key: &str| stats.by_route.get(key).copied().unwrap_or(0);
    let singles = route("POST /v2/team/{team_id}/site/{site_id}/resident");
    for i in 0..2 * CREATES_PER_SITE {
        let email = created_email(i);
        assert_eq!(remote_count.get(&email), Some(&1), "{email} exists once remotely");
    }
    assert!(remote_count.values().all(|n| *n == 1), "no email twice remotely");
    let imported: usize = sent.values().sum();
    assert!(sent.values().all(|n| *n == 1), "an import row was sent twice: {sent:?}");
    assert_eq!(imported as u64 + singles, (2 * CREATES_PER_SITE) as u64, "each create sent once ({singles} singles)");
    let puts: u64 = stats.by_route.iter().filter(|(k, _)| k.starts_with("PUT ")).map(|(_, v)| *v).sum();
    assert_eq!(puts, REMOTE_UPDATED as u64, "each update sent once");
    for i in 0..REMOTE_UPDATED {
        assert_eq!(d.residents[&format!("upd-{i}")].last_name, format!("Edited{i}"));
    }
    let conn = store::open(db).unwrap();
    let states: BTreeMap<String, i64> = store::outbox::counts(&conn).unwrap().into_iter().collect();
    assert_eq!(states.keys().collect::<Vec<_>>(), ["done"], "every entry done: {states:?}");
    assert_eq!(sync_state::lease_get(&conn).unwrap(), None, "no lease left behind");
}

/// The CLI, with its own credentials file and no keyring.
fn cli(db: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Child {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_residentdesk"));
    cmd.arg("--db").arg(db).args(args);
    cmd.env("RESIDENTDESK_PASSWORD", ADMIN.1).env(NO_KEYRING_ENV, "1");
    cmd.env_remove("RESIDENTDESK_NOW").env_remove("RESIDENTDESK_TOKEN").env_remove("RESIDENTDESK_DB");
    cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child
}

fn finished(child: std::process::Child) -> Run {
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn two_sync_processes_at_once_send_each_change_once() {
    let sim = Sim::start(SimConfig::with_seed(big_seed()).job_duration_ms(40)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    finished(cli(&db, &["init", "--admin-email", ADMIN.0, "--team", "Riverside"], None)).ok();
    let url = sim.base_url();
    let first = ["--as", ADMIN.0, "sync", "--remote", &url, "--remote-user", SVC.0, "--remote-password-stdin"];
    finished(cli(&db, &first, Some(&format!("{}\n", SVC.1)))).ok();
    {
        let mut app = App::open(&db, Arc::new(SystemClock)).unwrap();
        let s = app.sign_in(ADMIN.0, ADMIN.1).unwrap();
        queue_changes(&mut app, &s);
    }
    sim.reset_stats();
    let sync = ["--as", ADMIN.0, "--json", "sync"];
    let (a, b) = (cli(&db, &sync, None), cli(&db, &sync, None));
    let runs = [finished(a), finished(b)];
    let mut busy = 0;
    for run in &runs {
        match run.code {
            0 => {}
            // The one that found the other running: `internal` (exit 1), a clear message.
            1 => {
                let e = run.error();
                assert_eq!(e["details"]["reason"], serde_json::json!(ErrorReason::SyncBusy), "{}", run.stderr);
                let msg = e["message"].as_str().unwrap();
                assert!(msg.starts_with("a sync is already running on this database (since "), "{msg}");
                assert!(msg.contains("residentdesk sync, pid "), "{msg}");
                busy += 1;
            }
            other => panic!("sync exited {other}\nstdout: {}\nstderr: {}", run.stdout, run.stderr),
        }
    }
    assert!(busy < 2, "at least one pass ran: {runs:?}");
    finished(cli(&db, &["--as", ADMIN.0, "sync"], None)).ok();
    assert_each_change_arrived_once(&sim, &db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_passes_in_one_process_on_two_connections_send_each_change_once() {
    let sim = Sim::start(SimConfig::with_seed(big_seed()).job_duration_ms(40)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut app, s, db) = file_app(dir.path(), Arc::new(SystemClock));
    sync_pass(&mut app, &s, &remote(&sim), &opts(Duration::ZERO), None).await.unwrap();
    queue_changes(&mut app, &s);
    let mut other = App::open(&db, Arc::new(SystemClock)).unwrap();
    let s2 = other.sign_in(ADMIN.0, ADMIN.1).unwrap();
    sim.reset_stats();
    // Long enough a wait that the second pass runs after the first instead of giving up.
    let o = opts(Duration::from_secs(60));
    let (ra, rb) = (remote(&sim), remote(&sim));
    let (oa, ob) = (o.clone(), o);
    let one = tokio::spawn(async move { sync_pass(&mut app, &s, &ra, &oa, None).await.map(|r| (r, app)) });
    let two = tokio::spawn(async move { sync_pass(&mut other, &s2, &rb, &ob, None).await });
    let (one, two) = (one.await.unwrap().unwrap(), two.await.unwrap().unwrap());
    let (first, _app) = one;
    assert_eq!(first.done + two.done, (2 * CREATES_PER_SITE + REMOTE_UPDATED) as u64, "{first:?}\n{two:?}");
    assert_each_change_arrived_once(&sim, &db);
}
