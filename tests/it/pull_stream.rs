//! A site's resident list too large to hold is read as a stream and merged in batches (issue
//! 17, "Bad input": one site of 200,000 residents in one answer, in bounded memory). The
//! thresholds are lowered through the client's [`Streaming`] so a site of 60 residents takes
//! the streamed path: it merges the same as the whole answer does (fields, merge bases,
//! per-resident and site digests, deletions, the unchanged skip); a stream cut midway or an
//! unreadable object in the second batch undoes the first batch too, and the next pull
//! completes the site; one object past the cap is refused by name.

use residentdesk::app::sync::sync_pass;
use residentdesk::domain::wire::{
    BulkActionBody, ImportBody, JobStatus, MappingObject, MappingsResponse, ResidentInput, ResidentObject, SiteObject,
    TeamObject,
};
use residentdesk::store::sync_state;
use residentdesk::sync::client::{
    split_residents, AnswerStream, Credentials, HttpRemote, RawRemote, RemoteApi, RemoteError, RemoteResult,
    ResidentsAnswer, Streaming,
};
use residentdesk::sync::retry::RetryPolicy;
use residentdesk::sync::{PassReport, SyncOptions};
use residentdesk::{App, SystemClock};
use sitemanager_sim::model::{Mapping, Team};
use sitemanager_sim::seed::{SeedResident, SeedSite};
use sitemanager_sim::{Account, AccountLevel, FaultConfig, FaultKind, ScriptedFault, Seed, Sim, SimConfig, SimHandle};
use std::sync::{Arc, Mutex};

const SVC: (&str, &str) = ("svc@sim.test", "svc-password-1");
const ADMIN: (&str, &str) = ("admin@desk.test", "Desk-Admin-2026-pass");
/// Residents of the large site S1 (S2 has 3).
const LARGE: usize = 60;

/// Streamed past 512 bytes, in batches of 7 residents: S1 is 9 batches.
const SMALL_STREAMS: Streaming = Streaming { above: 512, batch: 7, object_cap: 1024 * 1024 };

fn seed() -> Seed {
    let day = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
    let site = |k: usize| SeedSite {
        site_id: format!("S{k}"),
        team_id: "T1".into(),
        name: format!("Site{k}"),
        site_type: "PSK".into(),
        time_zone: "America/Chicago".into(),
        service_area_number: format!("SA-{k}"),
        mappings: (0..LARGE + 10)
            .map(|u| Mapping {
                building: "A".into(),
                floor: "1".into(),
                unit: (100 + u).to_string(),
                passphrase: format!("pass{k}{u}"),
                ssid: format!("Site{k}"),
                vlan: u.to_string(),
            })
            .collect(),
    };
    let resident = |k: usize, i: usize| SeedResident {
        resident_id: Some(format!("rem-{k}-{i:02}")),
        site_id: format!("S{k}"),
        first_name: format!("First{k}{i}"),
        // Quotes, braces and escapes inside strings, for the splitter.
        last_name: format!("O\"Brien {{{i}}} [\\]"),
        email: format!("p{k}-{i}@example.com"),
        phone: Some(format!("555-01{k}{i:02}")),
        building: "A".into(),
        floor: "1".into(),
        unit: (100 + i).to_string(),
        activation_utc: day - chrono::Duration::days(40),
        deactivation_utc: (i % 9 == 4).then(|| day + chrono::Duration::days(90)),
        onboarded_at: (!i.is_multiple_of(5)).then(|| day - chrono::Duration::days(39)),
        suspended: i % 11 == 3,
    };
    Seed {
        now: None,
        frozen: false,
        teams: vec![Team { team_id: "T1".into(), name: "Riverside".into() }],
        sites: vec![site(1), site(2)],
        residents: (0..LARGE).map(|i| resident(1, i)).chain((0..3).map(|i| resident(2, i))).collect(),
        accounts: vec![Account {
            email: SVC.0.into(),
            password: SVC.1.into(),
            level: AccountLevel::TeamAdmin,
            team_ids: vec!["T1".into()],
            site_ids: vec![],
        }],
    }
}

fn start() -> SimHandle {
    Sim::start(SimConfig::with_seed(seed()).job_duration_ms(40).faults(FaultConfig::default())).unwrap()
}

fn http(sim: &SimHandle) -> HttpRemote {
    HttpRemote::new(&sim.base_url(), Credentials { email: SVC.0.into(), password: SVC.1.into() }).unwrap()
}

/// One try per call: a scripted fault fails the call for the pass.
fn opts() -> SyncOptions {
    SyncOptions { retry: RetryPolicy { max_attempts: 1, ..RetryPolicy::fast() }, ..SyncOptions::fast() }
}

fn desk() -> (App, residentdesk::app::Session) {
    let mut app = App::open_in_memory(Arc::new(SystemClock)).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    (app, s)
}

/// Everything a merge leaves of the residents, site by site: their fields, remote state and
/// merge base (the remote object's fields and its digest), by email.
fn merged(conn: &rusqlite::Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare(
            "SELECT s.remote_id, r.email, r.first_name, r.last_name, r.phone, r.building, r.floor, r.unit,
                    r.activation_utc, coalesce(r.deactivation_utc, ''), r.suspended, coalesce(r.onboarded_at, ''),
                    coalesce(r.ssid, ''), coalesce(b.fields, ''), coalesce(b.remote_digest, '')
             FROM residents r JOIN sites s ON s.id = r.site_id LEFT JOIN remote_base b ON b.resident_id = r.id
             ORDER BY s.remote_id, r.email",
        )
        .unwrap();
    let mut units = conn
        .prepare(
            "SELECT 'unit|' || s.remote_id || '|' || m.building || '|' || m.floor || '|' || m.unit || '|' ||
                    coalesce(m.passphrase, '') || '|' || coalesce(m.ssid, '') || '|' || coalesce(m.vlan, '')
             FROM mappings m JOIN sites s ON s.id = m.site_id ORDER BY 1",
        )
        .unwrap();
    let units: Vec<String> = units.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    let residents: Vec<String> = stmt
        .query_map([], |row| {
            let cols: Vec<String> = (0..15)
                .map(|i| {
                    row.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                        rusqlite::types::Value::Text(t) => t,
                        other => format!("{other:?}"),
                    })
                })
                .collect::<Result<_, _>>()?;
            Ok(cols.join("|"))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    residents.into_iter().chain(units).collect()
}

/// The local residents of remote site `site` (by `merged`'s lines).
fn of_site(lines: &[String], site: &str) -> Vec<String> {
    lines.iter().filter(|l| l.starts_with(&format!("{site}|"))).cloned().collect()
}

fn digests(app: &App) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = app
        .conn()
        .prepare("SELECT id, remote_id FROM sites ORDER BY remote_id")
        .unwrap()
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(Result::unwrap)
        // The answer's digest (`mappings:residents`), without the local stamp after it (the
        // local rows' ids and times, which differ between desks).
        .map(|(id, remote)| {
            let digest = sync_state::pulled_digest(app.conn(), id).unwrap();
            (remote, digest.map(|d| d.split(' ').next().unwrap_or_default().to_string()))
        })
        .collect();
    out.sort();
    out
}

fn counts(r: &PassReport) -> [u64; 7] {
    [
        r.sites_pulled,
        r.sites_unchanged,
        r.sites_failed,
        r.residents_inserted,
        r.residents_updated,
        r.residents_deleted,
        r.conflicts_recorded,
    ]
}

fn remote_set(sim: &SimHandle, id: &str, first: &str) {
    let found = sim.world(|w| {
        w.data.residents.get_mut(id).map(|r| {
            r.first_name = first.into();
        })
    });
    assert!(found.is_some(), "{id} is on the remote");
}

/// The ids of S1's residents in the order its list answer gives them.
fn list_order(sim: &SimHandle) -> Vec<String> {
    let body = sim.world(|w| {
        let site = w.site("S1").unwrap().clone();
        w.site_wire_json(&site)
    });
    split_residents(&body)
        .unwrap()
        .iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(r.get()).unwrap()["ResidentId"].as_str().unwrap().to_string()
        })
        .collect()
}

/// A change made on the remote before a round of pulls.
type Change<'a> = Box<dyn Fn(&SimHandle) + 'a>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_longer_than_one_batch_merges_the_same_as_the_whole_answer() {
    let sim = start();
    let whole = http(&sim);
    let streamed = http(&sim).with_streaming(SMALL_STREAMS);
    let (mut a, sa) = desk();
    let (mut b, sb) = desk();
    // The simulator streams its answer: the same bytes, the length announced.
    let token: serde_json::Value = serde_json::from_slice(&whole.raw_token().await.unwrap().body).unwrap();
    let answer = whole.raw_get("/team/T1/site/S1/resident", token["access_token"].as_str().unwrap()).await.unwrap();
    let expected = sim.world(|w| {
        let site = w.site("S1").unwrap().clone();
        w.site_wire_json(&site)
    });
    assert_eq!(answer.body, expected);
    assert_eq!(answer.header("content-length"), Some(expected.len().to_string().as_str()));
    assert!(expected.len() > 8 * SMALL_STREAMS.above, "S1 streams: {} bytes", expected.len());
    // Its mappings' answer is the bytes `Json(MappingsResponse)` would send.
    let units = whole.raw_get("/team/T1/site/S1/mappings", token["access_token"].as_str().unwrap()).await.unwrap();
    let mappings = sim.world(|w| w.data.mappings["S1"].iter().map(|m| m.to_wire()).collect());
    assert_eq!(units.body, serde_json::to_vec(&MappingsResponse { mappings }).unwrap());
    assert!(units.body.len() > SMALL_STREAMS.above, "S1's units stream too");

    let order = list_order(&sim);
    let rounds: [(&str, Change<'_>); 3] = [
        ("the first pull", Box::new(|_: &SimHandle| {})),
        (
            "remote changes in the first, a middle and the last batch, and a deletion",
            Box::new(|sim: &SimHandle| {
                remote_set(sim, &order[0], "Changed-first");
                remote_set(sim, &order[LARGE / 2], "Changed-middle");
                remote_set(sim, &order[LARGE - 1], "Changed-last");
                // A unit's SSID: the units' answer changes too (streamed, read again to merge).
                sim.world(|w| w.data.mappings.get_mut("S1").unwrap()[3].ssid = "Changed-SSID".into());
                sim.world(|w| {
                    w.data.residents.remove(&order[9]);
                    w.reindex();
                });
            }),
        ),
        ("an unchanged pull", Box::new(|_: &SimHandle| {})),
    ];
    for (round, change) in rounds {
        change(&sim);
        let ra = sync_pass(&mut a, &sa, &whole, &opts(), None).await.unwrap();
        let rb = sync_pass(&mut b, &sb, &streamed, &opts(), None).await.unwrap();
        assert!(ra.errors.is_empty() && rb.errors.is_empty(), "{round}: {:?} {:?}", ra.errors, rb.errors);
        assert_eq!(counts(&rb), counts(&ra), "{round}: the same work reported");
        assert_eq!(merged(b.conn()), merged(a.conn()), "{round}: the same residents and merge bases");
        assert_eq!(digests(&b), digests(&a), "{round}: the same site digests");
        assert!(digests(&a).iter().all(|(_, d)| d.is_some()), "{round}: every site settled");
    }
    let last = sync_pass(&mut b, &sb, &streamed, &opts(), None).await.unwrap();
    assert_eq!((last.sites_pulled, last.sites_unchanged), (2, 2), "unchanged streamed sites are skipped: {last:?}");
    let lines = merged(b.conn());
    assert_eq!(of_site(&lines, "S1").len(), LARGE - 1, "the deleted resident is gone");
    assert!(lines.iter().any(|l| l.contains("|Changed-last|")), "the last batch merged");
    assert_eq!(lines.iter().filter(|l| l.starts_with("unit|S1|")).count(), LARGE + 10);
    assert!(lines.iter().any(|l| l.starts_with("unit|S1|") && l.contains("|Changed-SSID|")), "the units merged");

    // The streamed path is the one taken: an object cap below one resident refuses both
    // sites' answers by name, and nothing of them is merged.
    let capped = http(&sim).with_streaming(Streaming { object_cap: 64, ..SMALL_STREAMS });
    let (mut c, sc) = desk();
    let rc = sync_pass(&mut c, &sc, &capped, &opts(), None).await.unwrap();
    assert_eq!((rc.sites_pulled, rc.sites_failed), (0, 2), "{rc:?}");
    for e in &rc.errors {
        assert!(e.contains("a resident in the answer of") && e.contains("larger than 64 bytes"), "{e}");
    }
    assert!(merged(c.conn()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_cut_midway_leaves_the_site_untouched_and_the_next_pull_completes_it() {
    let sim = start();
    let r = http(&sim).with_streaming(SMALL_STREAMS);
    let (mut app, s) = desk();
    let first = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!((first.sites_pulled, first.sites_failed), (2, 0), "{first:?}");
    let order = list_order(&sim);
    // Changes in the first batch (merged before the cut) and in the last (never reached).
    remote_set(&sim, &order[0], "Before-cut");
    remote_set(&sim, &order[LARGE - 1], "After-cut");
    let before = merged(app.conn());
    let digests_before = digests(&app);
    // The answer's first half arrives, then the connection breaks.
    let script =
        vec![ScriptedFault { kind: FaultKind::Truncate, matches: Some("GET /v2/team/T1/site/S1/resident".into()) }];
    sim.set_faults(FaultConfig { script, ..FaultConfig::default() }).unwrap();
    let cut = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert!(sim.faults().script.is_empty(), "the cut happened");
    assert_eq!((cut.sites_pulled, cut.sites_failed), (1, 1), "{cut:?}");
    assert!(cut.errors.iter().any(|e| e.starts_with("pull of site Site1:")), "{:?}", cut.errors);
    assert_eq!((cut.residents_updated, cut.residents_inserted), (0, 0), "nothing of the cut site counted: {cut:?}");
    assert_eq!(merged(app.conn()), before, "the site is as it was: the batches before the cut are undone");
    assert_eq!(digests(&app), digests_before, "its digest and stamp are untouched");
    let st = app.sync_status(&s).unwrap();
    assert!(st.sites.iter().any(|x| x.name == "Site1" && x.last_error.is_some()), "{st:?}");

    let next = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!((next.sites_pulled, next.sites_failed, next.residents_updated), (2, 0, 2), "{next:?}");
    let lines = merged(app.conn());
    assert!(lines.iter().any(|l| l.contains("|Before-cut|")) && lines.iter().any(|l| l.contains("|After-cut|")));
    let st = app.sync_status(&s).unwrap();
    assert!(st.sites.iter().all(|x| x.last_error.is_none()), "{st:?}");
    // And it equals what a desk reading the answer whole has.
    let (mut whole, sw) = desk();
    sync_pass(&mut whole, &sw, &http(&sim), &opts(), None).await.unwrap();
    assert_eq!(merged(app.conn()), merged(whole.conn()));
}

/// How [`Doctored`] changes S1's answer: the objects of the list (as answered) in, the
/// answer's chunks out.
type Doctor = Box<dyn Fn(&[&str]) -> Vec<RemoteResult<Vec<u8>>> + Send + Sync>;

/// The simulator's answers, with S1's resident list rebuilt by a doctor and handed over as a
/// stream of chunks (every other call goes to the simulator as it is).
struct Doctored {
    inner: HttpRemote,
    doctor: Mutex<Option<Doctor>>,
}

fn chunks_of(body: &[u8], size: usize) -> Vec<RemoteResult<Vec<u8>>> {
    body.chunks(size).map(|c| Ok(c.to_vec())).collect()
}

fn envelope(objects: &[&str]) -> Vec<u8> {
    format!(r#"{{"Error":null,"Residents":[{}]}}"#, objects.join(",")).into_bytes()
}

impl RemoteApi for Doctored {
    async fn teams(&self) -> RemoteResult<Vec<TeamObject>> {
        self.inner.teams().await
    }
    async fn sites(&self, team: &str) -> RemoteResult<Vec<SiteObject>> {
        self.inner.sites(team).await
    }
    async fn mappings(&self, team: &str, site: &str) -> RemoteResult<Vec<MappingObject>> {
        self.inner.mappings(team, site).await
    }
    async fn mappings_body(&self, team: &str, site: &str) -> RemoteResult<Vec<u8>> {
        self.inner.mappings_body(team, site).await
    }
    async fn residents(&self, team: &str, site: &str) -> RemoteResult<Vec<ResidentObject>> {
        self.inner.residents(team, site).await
    }
    async fn residents_answer(&self, team: &str, site: &str) -> RemoteResult<ResidentsAnswer> {
        let body = self.inner.residents_body(team, site).await?;
        let doctor = self.doctor.lock().unwrap();
        let Some(doctor) = doctor.as_ref().filter(|_| site == "S1") else {
            return Ok(ResidentsAnswer::Whole(body));
        };
        let objects: Vec<&str> = split_residents(&body)?.iter().map(|r| r.get()).collect();
        Ok(ResidentsAnswer::Streamed(AnswerStream::from_chunks("doctored S1", doctor(&objects), SMALL_STREAMS)))
    }
    async fn resident(&self, team: &str, site: &str, id: &str) -> RemoteResult<ResidentObject> {
        self.inner.resident(team, site, id).await
    }
    async fn create_resident(&self, team: &str, site: &str, body: &ResidentInput) -> RemoteResult<ResidentObject> {
        self.inner.create_resident(team, site, body).await
    }
    async fn update_resident(
        &self,
        team: &str,
        site: &str,
        id: &str,
        body: &ResidentInput,
    ) -> RemoteResult<ResidentObject> {
        self.inner.update_resident(team, site, id, body).await
    }
    async fn terminate(&self, team: &str, site: &str, id: &str) -> RemoteResult<String> {
        self.inner.terminate(team, site, id).await
    }
    async fn purge(&self, team: &str, site: &str, id: &str) -> RemoteResult<String> {
        self.inner.purge(team, site, id).await
    }
    async fn invite(&self, team: &str, site: &str, id: &str) -> RemoteResult<String> {
        self.inner.invite(team, site, id).await
    }
    async fn psk_reset(&self, team: &str, site: &str, id: &str) -> RemoteResult<String> {
        self.inner.psk_reset(team, site, id).await
    }
    async fn set_status(&self, team: &str, site: &str, id: &str, status: &str) -> RemoteResult<String> {
        self.inner.set_status(team, site, id, status).await
    }
    async fn start_import(&self, team: &str, site: &str, body: &ImportBody) -> RemoteResult<String> {
        self.inner.start_import(team, site, body).await
    }
    async fn import_status(&self, team: &str, site: &str, job: &str) -> RemoteResult<JobStatus> {
        self.inner.import_status(team, site, job).await
    }
    async fn start_bulk(&self, team: &str, site: &str, body: &BulkActionBody) -> RemoteResult<String> {
        self.inner.start_bulk(team, site, body).await
    }
    async fn bulk_status(&self, team: &str, site: &str, job: &str) -> RemoteResult<JobStatus> {
        self.inner.bulk_status(team, site, job).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_object_in_the_second_batch_undoes_the_first_batch_too() {
    let sim = start();
    let r = Doctored { inner: http(&sim), doctor: Mutex::new(None) };
    let (mut app, s) = desk();
    // Chunks of 100 bytes: objects straddle them.
    *r.doctor.lock().unwrap() = Some(Box::new(|objects: &[&str]| chunks_of(&envelope(objects), 100)));
    let first = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!((first.sites_pulled, first.sites_failed, first.residents_inserted), (2, 0, LARGE as u64 + 3));
    let order = list_order(&sim);
    remote_set(&sim, &order[0], "In-batch-one");
    let before = merged(app.conn());
    let digests_before = digests(&app);
    // Object 10 (the second batch of 7) unreadable three ways: a field of the wrong type, JSON
    // the splitter refuses, a connection that breaks right after it.
    let doctors: [(&str, Doctor); 3] = [
        (
            "a resident",
            Box::new(|objects: &[&str]| {
                let mut o = objects.to_vec();
                o[10] = r#"{"ResidentId":"rem-1-10","FirstName":{"not":"a name"}}"#;
                chunks_of(&envelope(&o), 100)
            }),
        ),
        (
            "byte",
            Box::new(|objects: &[&str]| {
                let mut o = objects.to_vec();
                o[10] = r#"{"ResidentId":"rem-1-10"}}"#;
                chunks_of(&envelope(&o), 100)
            }),
        ),
        (
            "network",
            Box::new(|objects: &[&str]| {
                let body = envelope(objects);
                let cut = body.windows(objects[11].len()).position(|w| w == objects[11].as_bytes()).unwrap();
                let mut chunks = chunks_of(&body[..cut], 100);
                chunks.push(Err(RemoteError::Network("connection reset (test)".into())));
                chunks
            }),
        ),
    ];
    for (says, doctor) in doctors {
        *r.doctor.lock().unwrap() = Some(doctor);
        let rep = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
        assert_eq!((rep.sites_pulled, rep.sites_failed), (1, 1), "{says}: {rep:?}");
        assert!(
            rep.errors.iter().any(|e| e.starts_with("pull of site Site1:") && e.contains(says)),
            "{:?}",
            rep.errors
        );
        assert_eq!(rep.residents_updated, 0, "{says}: nothing of the failed site counted");
        assert_eq!(merged(app.conn()), before, "{says}: the first batch's change is undone too");
        assert_eq!(digests(&app), digests_before, "{says}");
    }
    *r.doctor.lock().unwrap() = Some(Box::new(|objects: &[&str]| chunks_of(&envelope(objects), 100)));
    let next = sync_pass(&mut app, &s, &r, &opts(), None).await.unwrap();
    assert_eq!((next.sites_pulled, next.sites_failed, next.residents_updated), (2, 0, 1), "{next:?}");
    assert!(merged(app.conn()).iter().any(|l| l.contains("|In-batch-one|")));
    // The stored digests are those of the same bytes held whole.
    let (mut whole, sw) = desk();
    sync_pass(&mut whole, &sw, &http(&sim), &opts(), None).await.unwrap();
    assert_eq!(merged(app.conn()), merged(whole.conn()));
    assert_eq!(digests(&app), digests(&whole));
}
