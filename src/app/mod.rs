//! The application layer: one function per use case, the only API that the CLI, the
//! desktop shell and the tests call.
//!
//! Every use case, read or write, passes the one gate ([`gate`]): it is declared in the table
//! of use cases ([`usecases`]) with its permission and target; the runner re-reads the session,
//! resolves the target, checks the permission against the session's real grants (a denial is
//! audited) and, for a write, holds the one immediate transaction in which the change, its
//! outbox entry and its audit entry are written together. Nothing in here reaches the network.

pub mod access;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod bulk;
pub mod bulk_check;
pub mod csv;
pub mod demo;
pub mod encryption;
pub mod gate;
pub mod idle;
pub mod org;
pub mod outcomes;
pub mod overview;
pub mod password_reset;
pub mod progress;
pub mod reinstate;
pub mod remote_team;
pub mod resident_actions;
pub mod residents;
pub mod staff;
pub mod sync;
pub mod undo;
pub mod usecases;
pub mod views;
pub mod worker;

use crate::access::{SiteRef, TeamRef};
use crate::error::{AppError, AppResult};
use crate::store::{self, sites::Site, teams::Team};
use rusqlite::Connection;

pub use crate::access::session::{Session, TokenInfo};
pub use gate::App;
pub use residents::{ResidentInput, ResidentPatch, ResidentView};
pub use usecases::UseCase;

/// Builds the session of a staff account in its active team (or its first team).
pub(crate) fn session_for(conn: &Connection, staff_id: i64) -> AppResult<Session> {
    access::build_session(conn, staff_id, None)
}

pub(crate) fn site_ref(site: &Site) -> SiteRef {
    SiteRef { id: site.id, team_id: site.team_id, name: site.name.clone() }
}

pub(crate) fn team_ref(team: &Team) -> TeamRef {
    TeamRef { id: team.id, name: team.name.clone() }
}

/// Finds a site by local id, remote id or exact name within the session's active team.
/// Sites of other teams are reported as not found, so nothing leaks across teams.
pub(crate) fn resolve_site(conn: &Connection, session: &Session, reference: &str) -> AppResult<Site> {
    let reference = reference.trim();
    let team_id = session.actor.team_id();
    let in_team = |s: &Site| Some(s.team_id) == team_id;
    let not_found = || AppError::not_found(format!("no site {reference:?} in your active team"));
    if reference.is_empty() {
        return Err(AppError::invalid_field("site", "a site is required"));
    }
    if let Ok(id) = reference.parse::<i64>() {
        if let Some(site) = store::sites::get(conn, id)?.filter(in_team) {
            return Ok(site);
        }
    }
    if let Some(site) = store::sites::by_remote_id(conn, reference)?.filter(in_team) {
        return Ok(site);
    }
    let Some(team_id) = team_id else { return Err(not_found()) };
    let mut named = store::sites::by_name(conn, team_id, reference)?;
    match named.len() {
        0 => Err(not_found()),
        1 => Ok(named.remove(0)),
        _ => Err(AppError::invalid(format!("several sites are named {reference:?}; use the site id"))),
    }
}

/// Loads the team of the session.
pub(crate) fn active_team(conn: &Connection, session: &Session) -> AppResult<Team> {
    let id = session
        .actor
        .team_id()
        .ok_or_else(|| AppError::refused(crate::access::Denial::NoTeam { email: session.actor.email.clone() }))?;
    store::teams::get(conn, id)?.ok_or_else(|| AppError::not_found(format!("team #{id}")))
}
