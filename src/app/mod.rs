//! The application layer: one function per use case, the only API that the CLI, the
//! desktop shell and the tests call.
//!
//! Every mutation follows one shape: open an immediate transaction → resolve the target →
//! [`crate::access::authorize`] (a denial is audited and nothing else is written) → the domain
//! rule → the write → one outbox entry per changed resident → one audit entry → commit.
//! Nothing in here reaches the network.

pub mod access;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod csv;
pub mod demo;
pub mod org;
pub mod residents;
pub mod staff;
pub mod sync;

use crate::access::roles::Grants;
use crate::access::{Actor, Decision, Feature, Level, Need, SiteRef, Target, TeamRef};
use crate::clock::Clock;
use crate::error::{AppError, AppResult};
use crate::store::{self, audit::NewAudit, sites::Site, teams::Team};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;

pub use residents::{ResidentInput, ResidentPatch, ResidentView};

/// The application: one database connection (the single writer) and a clock.
pub struct App {
    conn: Connection,
    clock: Arc<dyn Clock>,
    /// The WAL checkpoint a large write left to a background thread (see
    /// [`store::checkpoint_in_background`]); [`App::settle`] waits for it.
    checkpoint: Option<store::BackgroundCheckpoint>,
}

/// A signed-in person (or API token) acting in their active team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The Table-1 view of the person (base role, member sites).
    pub actor: Actor,
    /// What the session effectively holds: roles, add-ons, site access, token limits.
    pub grants: Grants,
    /// The API token the session signed in with, if any.
    pub token: Option<access::TokenInfo>,
}

impl Session {
    pub fn email(&self) -> &str {
        &self.actor.email
    }
    pub fn level(&self) -> Option<Level> {
        self.actor.level()
    }
}

impl App {
    /// Opens (creating and migrating) the database at `path`, then purges residents whose
    /// 31-day grace period has ended.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> AppResult<App> {
        let conn = store::open(path)?;
        let mut app = App { conn, clock, checkpoint: None };
        app.purge_after_grace()?;
        Ok(app)
    }

    /// An in-memory application (tests and benchmarks).
    pub fn open_in_memory(clock: Arc<dyn Clock>) -> AppResult<App> {
        Ok(App { conn: store::open_in_memory()?, clock, checkpoint: None })
    }

    /// Waits for the WAL checkpoint a large write (an import) left running in the
    /// background, and returns how long it took; `None` when there was none. The change
    /// itself was durable when its transaction committed; this only folds the log back into
    /// the database file (a CLI waits for it before exiting).
    pub fn settle(&mut self) -> Option<std::time::Duration> {
        self.checkpoint.take().map(store::BackgroundCheckpoint::wait)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Read access to the database, for the other core modules (sync, CSV) and tests.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Write access for the other core modules that run their own use cases (sync, CSV).
    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Starts the one immediate transaction of a use case. Dropping it without commit rolls
    /// back, then writes the audit entries of any denial decided inside it (a denial must
    /// be recorded even though the use case's own writes are undone).
    pub(crate) fn begin(&mut self) -> AppResult<UseCaseTx<'_>> {
        let conn: &Connection = &self.conn;
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        Ok(UseCaseTx { conn, tx: Some(tx) })
    }

    /// Rebuilds the session from the database (after a team switch or a change of rights).
    pub fn refresh(&self, session: &Session) -> AppResult<Session> {
        access::rebuild_session(&self.conn, session, self.now())
    }
}

/// The transaction of one use case (see [`App::begin`]); derefs to a rusqlite transaction.
pub struct UseCaseTx<'a> {
    conn: &'a Connection,
    tx: Option<Transaction<'a>>,
}

impl<'a> std::ops::Deref for UseCaseTx<'a> {
    type Target = Transaction<'a>;
    fn deref(&self) -> &Transaction<'a> {
        self.tx.as_ref().expect("transaction is open until commit or drop")
    }
}

impl UseCaseTx<'_> {
    /// Commits the use case's writes.
    pub fn commit(mut self) -> rusqlite::Result<()> {
        match self.tx.take() {
            Some(tx) => tx.commit(),
            None => Ok(()),
        }
    }
}

impl Drop for UseCaseTx<'_> {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.rollback();
        }
        flush_denials(self.conn);
    }
}

/// An audit entry of a denial decided inside a transaction, written after it ends.
struct DeferredAudit {
    at: DateTime<Utc>,
    actor_id: i64,
    actor: String,
    action: String,
    team_id: Option<i64>,
    site_id: Option<i64>,
    target: String,
    details: Value,
}

thread_local! {
    static DEFERRED_DENIALS: RefCell<Vec<DeferredAudit>> = const { RefCell::new(Vec::new()) };
}

fn flush_denials(conn: &Connection) {
    let pending = DEFERRED_DENIALS.with(|d| std::mem::take(&mut *d.borrow_mut()));
    for d in pending {
        let entry = NewAudit {
            actor_id: Some(d.actor_id),
            actor: &d.actor,
            action: &d.action,
            outcome: "denied",
            team_id: d.team_id,
            site_id: d.site_id,
            target: Some(&d.target),
            details: d.details.into(),
        };
        if let Err(e) = store::audit::append(conn, &entry, d.at) {
            tracing::error!("cannot write the audit entry of a denial: {e}");
        }
    }
}

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

/// Checks `feature` on `target` for the session. A denial is written to the audit log (on
/// the connection, outside any transaction that is about to roll back) and returned as
/// `permission_denied` with the reason.
pub(crate) fn authorize(
    conn: &Connection,
    now: DateTime<Utc>,
    session: &Session,
    feature: Feature,
    target: Target<'_>,
    action: &str,
) -> AppResult<()> {
    authorize_need(conn, now, session, Need::Feature(feature), target, action)
}

/// Checks one fine-grained permission (access::roles) on `target`: what a role, an add-on or
/// an API token must hold for this use case.
pub(crate) fn authorize_perm(
    conn: &Connection,
    now: DateTime<Utc>,
    session: &Session,
    permission: crate::access::roles::Permission,
    target: Target<'_>,
    action: &str,
) -> AppResult<()> {
    authorize_need(conn, now, session, crate::access::Need::Permission(permission), target, action)
}

/// [`authorize`] for any [`Need`] (a Table-1 feature or one permission of the role model),
/// checked against the session's effective grants (roles, add-ons, site access, token).
pub(crate) fn authorize_need(
    conn: &Connection,
    now: DateTime<Utc>,
    session: &Session,
    need: Need,
    target: Target<'_>,
    action: &str,
) -> AppResult<()> {
    let what = match need {
        Need::Feature(f) => f.as_str(),
        Need::Permission(p) => p.as_str(),
    };
    match crate::access::evaluate(&session.actor, &session.grants, need, target) {
        Decision::Allow { .. } => Ok(()),
        Decision::Deny { reason } => {
            let (team_id, site_id, target_name) = match target {
                Target::Team(t) => (Some(t.id), None, t.name.clone()),
                Target::Site(s) => (Some(s.team_id), Some(s.id), s.name.clone()),
            };
            let token = session.token.as_ref().map(|t| t.name.clone());
            let details = json!({ "reason": reason, "feature": what, "token": token });
            record_denial(conn, now, session, action, team_id, site_id, &target_name, details);
            Err(AppError::denied(format!("denied: {reason}")).with_details(json!({ "feature": what })))
        }
    }
}

/// Records a denial in the audit log: now when outside a transaction, else once the
/// transaction has ended (so the use case's rollback does not take it along).
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_denial(
    conn: &Connection,
    now: DateTime<Utc>,
    session: &Session,
    action: &str,
    team_id: Option<i64>,
    site_id: Option<i64>,
    target: &str,
    details: Value,
) {
    let denial = DeferredAudit {
        at: now,
        actor_id: session.actor.staff_id,
        actor: session.actor.email.clone(),
        action: action.to_string(),
        team_id,
        site_id,
        target: target.to_string(),
        details,
    };
    DEFERRED_DENIALS.with(|d| d.borrow_mut().push(denial));
    if conn.is_autocommit() {
        flush_denials(conn);
    }
}

/// Writes the audit entry of a successful use case inside its transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) fn audit_ok(
    tx: &Transaction<'_>,
    now: DateTime<Utc>,
    session: Option<&Session>,
    action: &str,
    outcome: &str,
    team_id: Option<i64>,
    site_id: Option<i64>,
    target: Option<&str>,
    details: impl Into<store::JsonText>,
) -> AppResult<()> {
    let actor = session.map(|s| s.actor.email.as_str()).unwrap_or("system");
    store::audit::append(
        tx,
        &NewAudit {
            actor_id: session.map(|s| s.actor.staff_id),
            actor,
            action,
            outcome,
            team_id,
            site_id,
            target,
            details: details.into(),
        },
        now,
    )?;
    Ok(())
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
        .ok_or_else(|| AppError::denied(format!("denied: {} is not a member of any team", session.actor.email)))?;
    store::teams::get(conn, id)?.ok_or_else(|| AppError::not_found(format!("team #{id}")))
}

impl App {
    /// Outbox entries of the sites the person can see, oldest first: those still waiting or
    /// needing attention, or all of them with `all`.
    pub fn outbox_list(&self, session: &Session, all: bool, limit: usize) -> AppResult<Vec<store::outbox::Entry>> {
        let sites: Vec<i64> = store::sites::list(&self.conn, &session.actor.scope())?.iter().map(|s| s.id).collect();
        let states: &[&str] = if all {
            &["pending", "in_flight", "rejected", "conflict", "done", "discarded"]
        } else {
            &["pending", "in_flight", "rejected", "conflict"]
        };
        Ok(store::outbox::list_for_sites(&self.conn, &sites, states, limit)?)
    }
}
