//! The demo's simulated Site Manager: an in-process `sitemanager-sim` seeded with the demo
//! database's own portfolio, so the first-run demo behaves like a connected desk (sync bar,
//! outbox, jobs, conflicts) without the real remote.
//!
//! It lives beside the database: `<db>.demo-remote.db` is the simulator's state (kept
//! across restarts, so the remote remembers what was synced) and `<db>.demo-remote.json`
//! records the port it listens on. Every start of the app on that database starts the
//! simulator again, on the same port when it is free, otherwise on another one the core is
//! told about ([`App::demo_remote_moved`]). Nothing here decides a rule: the portfolio, the
//! seed and the sync configuration all come from the core.

use residentdesk::app::demo::{DemoSummary, DEMO_SYNC_ACCOUNT};
use residentdesk::{App, AppError};
use serde::{Deserialize, Serialize};
use sitemanager_sim::{Seed, Sim, SimConfig, SimHandle};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The running simulator of a demo database.
pub struct DemoRemote {
    sim: SimHandle,
}

impl DemoRemote {
    /// `http://127.0.0.1:PORT/v2`.
    pub fn base_url(&self) -> String {
        self.sim.base_url()
    }
}

/// What is remembered between runs.
#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    port: u16,
}

fn marker_path(db: &Path) -> PathBuf {
    sibling(db, "demo-remote.json")
}

fn state_path(db: &Path) -> PathBuf {
    sibling(db, "demo-remote.db")
}

fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{suffix}"));
    db.with_file_name(name)
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn failed(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("the demo's simulated Site Manager {what}: {e}"))
}

/// Right after `demo_seed`: seeds a new simulator with the portfolio and points sync at it
/// with the demo's service account.
pub fn create(app: &mut App, db: &Path, summary: &DemoSummary) -> Result<DemoRemote, AppError> {
    let owner = summary.owner()?;
    let session = app.sign_in(&owner.email, &owner.password)?;
    let seed: Seed = serde_json::from_value(app.demo_portfolio(&session)?.to_sim_seed())
        .map_err(|e| failed("cannot read its seed", e))?;
    let state = state_path(db);
    // A state file left by an earlier demo database of the same name would win over the seed.
    let _ = std::fs::remove_file(&state);
    let sim = Sim::start(SimConfig::with_seed(seed).state_file(&state)).map_err(|e| failed("did not start", e))?;
    let marker = serde_json::to_string(&Marker { port: sim.addr().port() }).map_err(|e| failed("marker", e))?;
    std::fs::write(marker_path(db), marker).map_err(|e| failed("cannot record its port", e))?;
    let (account, password) = DEMO_SYNC_ACCOUNT;
    // The service account is per team: every demo team syncs with the simulated remote
    // (switching to each, then back to the owner's active team).
    for team in app.team_list(&session)? {
        let s = app.team_switch(&session, &team.id.to_string())?;
        app.sync_configure(&s, Some(&sim.base_url()), Some(account), Some(password))?;
    }
    if let Some(active) = session.actor.team_id() {
        app.team_switch(&session, &active.to_string())?;
    }
    Ok(DemoRemote { sim })
}

/// On start: the simulator of a demo database, when it has one (None otherwise).
pub fn resume(app: &mut App, db: &Path) -> Option<Result<DemoRemote, AppError>> {
    let text = std::fs::read_to_string(marker_path(db)).ok()?;
    Some(resume_from(app, db, &text))
}

fn resume_from(app: &mut App, db: &Path, marker: &str) -> Result<DemoRemote, AppError> {
    let marker: Marker = serde_json::from_str(marker).map_err(|e| failed("has an unreadable marker file", e))?;
    let config = |port: u16| SimConfig { listen: loopback(port), ..SimConfig::default() }.state_file(state_path(db));
    match Sim::start(config(marker.port)) {
        Ok(sim) => Ok(DemoRemote { sim }),
        Err(sitemanager_sim::SimError::Bind { .. }) => {
            // The port is taken by something else: listen elsewhere and tell the core.
            let sim = Sim::start(config(0)).map_err(|e| failed("did not start", e))?;
            app.demo_remote_moved(&sim.base_url())?;
            let marker = serde_json::to_string(&Marker { port: sim.addr().port() }).map_err(|e| failed("marker", e))?;
            std::fs::write(marker_path(db), marker).map_err(|e| failed("cannot record its port", e))?;
            Ok(DemoRemote { sim })
        }
        Err(e) => Err(failed("did not start", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use residentdesk::SystemClock;
    use std::sync::Arc;

    #[test]
    fn a_demo_database_gets_its_simulator_back_after_a_restart_even_when_the_port_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("demo.db");
        let mut app = App::open(&db, Arc::new(SystemClock)).unwrap();
        let summary = app.demo_seed(600, 42).unwrap();
        let first = create(&mut app, &db, &summary).unwrap();
        let url = first.base_url();
        let owner = app.sign_in("owner@demo.residentdesk.test", "Demo-Owner-2026").unwrap();
        assert_eq!(app.sync_config(&owner).unwrap().remote_url, url);
        drop(first);
        // Same port when free.
        let again = resume(&mut app, &db).expect("a demo database").unwrap();
        assert_eq!(again.base_url(), url);
        // Another one when something else holds it, and the core follows.
        let port = again.sim.addr().port();
        drop(again);
        let squatter = std::net::TcpListener::bind(loopback(port)).unwrap();
        let moved = resume(&mut app, &db).expect("a demo database").unwrap();
        assert_ne!(moved.base_url(), url);
        let owner = app.sign_in("owner@demo.residentdesk.test", "Demo-Owner-2026").unwrap();
        assert_eq!(app.sync_config(&owner).unwrap().remote_url, moved.base_url());
        drop(squatter);
        // A database that is not a demo has no simulator.
        let plain = dir.path().join("plain.db");
        let mut other = App::open(&plain, Arc::new(SystemClock)).unwrap();
        assert!(resume(&mut other, &plain).is_none());
    }
}
