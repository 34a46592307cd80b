//! The one gate every use case passes: [`App::write`] and [`App::read`] (and, for the few use
//! cases without a session, [`App::write_public`]).
//!
//! For a use case declared in [`super::usecases`], the runner
//! 1. re-reads the session from the database (a disabled account or membership, a revoked or
//!    expired token, a change of roles applies at the next action, not the next sign-in),
//! 2. resolves the target (the active team, one of its sites, or a resident at one of its
//!    sites; anything outside is "not found"),
//! 3. checks the declared permission there through [`crate::access::evaluate`] against the
//!    session's effective grants (a token: its own grants intersected with its creator's),
//!    refusing API tokens where the use case is for people only,
//! 4. writes a denial to the audit log (it survives the rollback),
//! 5. for a write, holds the one immediate transaction in which the change, its outbox row
//!    and its audit row (see [`Audit`]) are written together, and commits it.
//!
//! Skipping it is not possible from the other app modules: the database connection is a
//! private field of [`App`] here, the transaction type can only be made here, and
//! `tests/it/gate.rs` fails when SQL, a transaction or the raw connection appears anywhere
//! else outside `store/` and the sync executor.

use super::idle::LiveSessions;
use super::usecases::{Runs, UseCase};
use super::{access, residents, Session};
use crate::access::roles::Permission;
use crate::access::{Decision, Denial, Need, SiteRef, Target, TeamRef};
use crate::clock::Clock;
use crate::error::{AppError, AppResult, ErrorCode, ErrorDetails};
use crate::store::{self, audit::NewAudit, residents::Resident, sites::Site, teams::Team, JsonText};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, Transaction};
use serde::Serialize;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;

/// The application: one database connection (the single writer) and a clock.
pub struct App {
    conn: Connection,
    /// The database's key: every other connection to its file is keyed with it.
    key: store::DbKey,
    clock: Arc<dyn Clock>,
    /// The WAL checkpoint a large write left to a background thread (see
    /// [`store::checkpoint_in_background`]); [`App::settle`] waits for it.
    checkpoint: Option<store::BackgroundCheckpoint>,
    /// The last session the gate rebuilt, kept while the database has not changed.
    sessions: SessionCache,
    /// The people signed in and their last activity: the idle lock (see [`super::idle`]).
    live: Arc<LiveSessions>,
}

impl App {
    /// Opens (creating and migrating) the database at `path`. Nothing is purged here: the
    /// housekeeping runs once someone has signed in (see [`App::purge_after_grace`]); only
    /// the audit log is guarded ([`App::guard_audit`]: its triggers, its retention).
    /// The key is resolved the standard way (`RESIDENTDESK_DB_KEY`, else the OS keyring;
    /// see [`store::key`]).
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> AppResult<App> {
        App::open_with_key(path, clock, &store::KeySource::Standard)
    }

    /// [`App::open`] with the key from `source` (a passphrase read from stdin, a prompt).
    pub fn open_with_key(path: &Path, clock: Arc<dyn Clock>, source: &store::KeySource) -> AppResult<App> {
        let (conn, key) = store::open_keyed(path, source)?;
        let live = LiveSessions::new(clock.clone());
        let mut app = App { conn, key, clock, checkpoint: None, sessions: SessionCache::default(), live };
        app.guard_audit()?;
        Ok(app)
    }

    /// An in-memory application (tests and benchmarks).
    pub fn open_in_memory(clock: Arc<dyn Clock>) -> AppResult<App> {
        Ok(App {
            conn: store::open_in_memory()?,
            key: store::DbKey::plain(),
            live: LiveSessions::new(clock.clone()),
            clock,
            checkpoint: None,
            sessions: SessionCache::default(),
        })
    }

    /// The database's key (plain for an unencrypted or in-memory database).
    pub(crate) fn db_key(&self) -> &store::DbKey {
        &self.key
    }

    /// Closes the database connection (an in-memory one stands in), so that `db encrypt`
    /// can move a new file over the database; [`App::reopen`] follows.
    pub(crate) fn close_file(&mut self) -> AppResult<()> {
        self.settle();
        let old = std::mem::replace(&mut self.conn, Connection::open_in_memory()?);
        old.close().map_err(|(_, e)| AppError::from(e))?;
        self.sessions = SessionCache::default();
        Ok(())
    }

    /// Opens the database file at `path` again with `key` (after `db encrypt`, or to take
    /// a rekeyed key into use).
    pub(crate) fn reopen(&mut self, path: &Path, key: store::DbKey) -> AppResult<()> {
        self.conn = store::open_with(path, &key)?;
        self.key = key;
        self.sessions = SessionCache::default();
        self.guard_audit()
    }

    /// Whether the database file is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.key.is_encrypted()
    }

    /// Waits for the WAL checkpoint a large write (an import) left running in the
    /// background, and returns how long it took; `None` when there was none.
    pub fn settle(&mut self) -> Option<std::time::Duration> {
        self.checkpoint.take().map(store::BackgroundCheckpoint::wait)
    }

    /// Keeps the background checkpoint a large write started (waiting for an earlier one).
    pub(crate) fn keep_checkpoint(&mut self, checkpoint: store::BackgroundCheckpoint) {
        if let Some(previous) = self.checkpoint.replace(checkpoint) {
            previous.wait();
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Read access to the database, for the sync executor, benchmarks and tests' assertions.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Raw write access: for the sync executor, which the gated `sync.run` use case drives
    /// ([`super::sync::sync_pass`]), and for test and benchmark fixtures that build a
    /// database directly. No use case writes through it (`tests/it/gate.rs`).
    #[doc(hidden)]
    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The database and clock lent to the sync executor for a pass the gate has allowed
    /// (`sync.run` through [`super::sync::sync_pass`] or [`App::sync_gate`]).
    pub(crate) fn sync_db(&mut self) -> crate::sync::Db<'_> {
        crate::sync::Db { conn: &mut self.conn, clock: &*self.clock }
    }

    /// The live sessions of this app (the idle lock): the desktop keeps this handle to sign
    /// out and to watch for the lock without waiting for the app (see [`super::idle`]).
    pub fn live_sessions(&self) -> Arc<LiveSessions> {
        self.live.clone()
    }

    /// Makes this app share `live` (the desktop's sync worker shares its desk's): a lock or
    /// a sign-out there stops this app's next use case of the session too.
    pub fn share_live_sessions(&mut self, live: Arc<LiveSessions>) {
        self.live = live;
    }

    /// A person proved who they are: their session is live from now (see [`LiveSessions`]).
    pub(crate) fn session_begins(&self, session: &Session) {
        let team = super::active_team(&self.conn, session).ok();
        self.live.begin(session.actor.staff_id, team.as_ref());
    }

    /// Rebuilds the session from the database (after a team switch or a change of rights).
    pub fn refresh(&self, session: &Session) -> AppResult<Session> {
        self.sessions.fresh(&self.conn, session, self.now())
    }

    /// Opens the gate of a write use case: fresh session, target, permission (a denial is
    /// audited), then the one immediate transaction the body writes in. Dropping the [`Run`]
    /// without [`Run::commit`] rolls everything back.
    pub(crate) fn write(&mut self, session: &Session, uc: &'static UseCase, at: At<'_>) -> AppResult<Run<'_>> {
        let now = self.now();
        let tx = UseCaseTx::begin(&self.conn)?;
        let ctx = decide(&tx, &self.sessions, &self.live, session, uc, at, now, Check::Audited)?;
        Ok(Run { tx, ctx, purged: RefCell::default() })
    }

    /// Opens the gate of a read use case: the same checks as [`App::write`], no transaction.
    pub(crate) fn read(&self, session: &Session, uc: &'static UseCase, at: At<'_>) -> AppResult<Read<'_>> {
        let ctx = decide(&self.conn, &self.sessions, &self.live, session, uc, at, self.now(), Check::Audited)?;
        Ok(Read { conn: &self.conn, ctx })
    }

    /// [`App::read`] for work the app does on its own for a session (the sync worker's
    /// tick): the same checks, but not the person's activity, so a desk left alone locks.
    pub(crate) fn read_in_background(&self, session: &Session, uc: &'static UseCase, at: At<'_>) -> AppResult<Ctx> {
        decide(&self.conn, &self.sessions, &self.live, session, uc, at, self.now(), Check::Background)
    }

    /// The same decision as [`App::read`]/[`App::write`] without auditing a denial: what the
    /// desktop shows beside a disabled button before anyone tries.
    pub(crate) fn ask(&self, session: &Session, uc: &'static UseCase, at: At<'_>) -> AppResult<Ctx> {
        decide(&self.conn, &self.sessions, &self.live, session, uc, at, self.now(), Check::Quiet)
    }

    /// A write use case that no session runs (sign-in, set-up, invitations by their code,
    /// the housekeeping): the one transaction and an audit builder acting as "system".
    pub(crate) fn write_public(&mut self, uc: &'static UseCase) -> AppResult<PublicRun<'_>> {
        debug_assert!(matches!(uc.runs, Runs::Anyone | Runs::System), "{} needs a session", uc.name);
        let now = self.now();
        Ok(PublicRun { tx: UseCaseTx::begin(&self.conn)?, uc, now })
    }
}

/// What a use case is aimed at, as the caller names it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum At<'a> {
    /// The session's active team.
    Team,
    /// Another team of the person (a team switch), by id.
    TeamId(i64),
    /// A site by local id, remote id or exact name.
    Site(&'a str),
    /// A site by local id (outbox entries, conflicts).
    SiteId(i64),
    /// A resident by local id, remote id or email.
    Resident(&'a str),
}

/// What the gate decided a use case may act on, with the fresh session.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub uc: &'static UseCase,
    /// The session as the database says it is now.
    pub session: Session,
    pub now: DateTime<Utc>,
    pub team: Team,
    pub site: Option<Site>,
    pub resident: Option<Resident>,
}

impl Ctx {
    /// The target site (for site and resident use cases).
    pub fn site(&self) -> &Site {
        self.site.as_ref().expect("the gate resolved a site for this use case")
    }
    /// The target resident (for resident use cases).
    pub fn resident(&self) -> &Resident {
        self.resident.as_ref().expect("the gate resolved a resident for this use case")
    }
    pub fn team_ref(&self) -> TeamRef {
        TeamRef { id: self.team.id, name: self.team.name.clone() }
    }
    /// Whether the session holds `permission` at `site` (quietly; for filtering listings).
    pub fn may_at(&self, permission: Permission, site: &Site) -> bool {
        let sref = SiteRef { id: site.id, team_id: site.team_id, name: site.name.clone() };
        crate::access::evaluate(
            &self.session.actor,
            &self.session.grants,
            Need::Permission(permission),
            Target::Site(&sref),
        )
        .is_allowed()
    }
    /// The sites of the active team where the session holds the use case's permission.
    pub fn sites_allowed(&self, conn: &Connection) -> AppResult<Vec<Site>> {
        let perm = self.uc.permission.unwrap_or(Permission::ResidentsView);
        Ok(store::sites::list(conn, &self.session.actor.scope())?
            .into_iter()
            .filter(|s| self.may_at(perm, s))
            .collect())
    }
}

/// The session the gate last rebuilt from the database, reused while the database is
/// unchanged (same [`store::data_stamp`]) and a token's expiry has not come: rebuilding reads
/// the account, its memberships, roles and sites (five to seven queries), which would be most
/// of the cost of a small read. Any write — by this connection or any other — misses.
#[derive(Default)]
struct SessionCache(RefCell<Option<CachedSession>>);

struct CachedSession {
    asked: (i64, Option<i64>, Option<String>),
    stamp: (i64, u64),
    token_expires: Option<DateTime<Utc>>,
    session: Session,
}

impl SessionCache {
    fn fresh(&self, conn: &Connection, session: &Session, now: DateTime<Utc>) -> AppResult<Session> {
        let asked = (session.actor.staff_id, session.actor.team_id(), session.token.as_ref().map(|t| t.prefix.clone()));
        let stamp = store::data_stamp(conn)?;
        if let Some(c) = self.0.borrow().as_ref() {
            if c.asked == asked && c.stamp == stamp && c.token_expires.is_none_or(|e| e > now) {
                return Ok(c.session.clone());
            }
        }
        let fresh = access::rebuild_session(conn, session, now)?;
        let token_expires = match &fresh.token {
            Some(t) => store::tokens::by_prefix(conn, &t.prefix)?.and_then(|r| r.expires_at),
            None => None,
        };
        *self.0.borrow_mut() = Some(CachedSession { asked, stamp, token_expires, session: fresh.clone() });
        Ok(fresh)
    }
}

/// Whether a decision is recorded, and whether the use case is the person's activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// A use case the person runs: a denial is audited; it counts as activity.
    Audited,
    /// A question before anyone tries: nothing audited, no activity.
    Quiet,
    /// Work the app does for the session on its own: a denial is audited; no activity.
    Background,
}

/// The runner's decision: fresh session → live (not idle-locked, not signed out) → target →
/// who may run it → permission at the target.
#[allow(clippy::too_many_arguments)]
fn decide(
    conn: &Connection,
    sessions: &SessionCache,
    live: &LiveSessions,
    session: &Session,
    uc: &'static UseCase,
    at: At<'_>,
    now: DateTime<Utc>,
    how: Check,
) -> AppResult<Ctx> {
    let fresh = match at {
        At::TeamId(team_id) => access::build_session(conn, session.actor.staff_id, Some(team_id)).and_then(|s| {
            if session.token.is_some() || s.actor.team_id() == Some(team_id) {
                Ok(s)
            } else {
                Err(AppError::not_found(format!("team #{team_id} is not one of your teams")))
            }
        })?,
        _ => sessions.fresh(conn, session, now)?,
    };
    let team = super::active_team(conn, &fresh)?;
    live.check(&fresh, uc, &team, how != Check::Audited)?;
    let (site, resident) = match at {
        At::Team | At::TeamId(_) => (None, None),
        At::Site(reference) => (Some(super::resolve_site(conn, &fresh, reference)?), None),
        At::SiteId(id) => {
            let site = store::sites::get(conn, id)?
                .filter(|s| s.team_id == team.id)
                .ok_or_else(|| AppError::not_found(format!("site #{id} is not in your active team")))?;
            (Some(site), None)
        }
        At::Resident(reference) => {
            let (r, site) = residents::resolve_resident(conn, &fresh, reference)?;
            (Some(site), Some(r))
        }
    };
    let ctx = Ctx { uc, session: fresh, now, team, site, resident };
    let tref = ctx.team_ref();
    let sref = ctx.site.as_ref().map(|s| SiteRef { id: s.id, team_id: s.team_id, name: s.name.clone() });
    let target = match &sref {
        Some(s) => Target::Site(s),
        None => Target::Team(&tref),
    };
    let refusal = if uc.runs == Runs::PeopleOnly && ctx.session.token.is_some() {
        Some(Denial::TokenCannot { use_case: uc.name.into(), summary: uc.summary.into() })
    } else {
        match uc.permission {
            Some(p) => {
                match crate::access::evaluate(&ctx.session.actor, &ctx.session.grants, Need::Permission(p), target) {
                    Decision::Allow { .. } => None,
                    Decision::Deny { reason } => Some(reason),
                }
            }
            None => None,
        }
    };
    match refusal {
        None => Ok(ctx),
        Some(reason) => {
            if how != Check::Quiet {
                let token = ctx.session.token.as_ref().map(|t| t.name.clone());
                let details = json!({ "reason": reason.to_string(), "permission": uc.permission, "token": token });
                let (site_id, name) = match (&ctx.resident, &ctx.site) {
                    (Some(r), Some(s)) => (Some(s.id), r.email.clone()),
                    (None, Some(s)) => (Some(s.id), s.name.clone()),
                    _ => (None, ctx.team.name.clone()),
                };
                record_denial(conn, now, &ctx.session, uc.name, Some(ctx.team.id), site_id, &name, details);
            }
            let what = uc.permission.map(|p| p.as_str()).unwrap_or(uc.name);
            Err(AppError::refused_permission(reason, uc.name, what))
        }
    }
}

/// A write use case past the gate: the fresh context and the one transaction (which it
/// derefs to, so the store's write functions take `&run`).
pub(crate) struct Run<'a> {
    tx: UseCaseTx<'a>,
    pub ctx: Ctx,
    /// Residents purged by this use case, scrubbed at commit (after the use case's own
    /// audit entry, which names them, is written).
    purged: RefCell<Vec<store::scrub::Subject>>,
}

impl<'a> std::ops::Deref for Run<'a> {
    type Target = Transaction<'a>;
    fn deref(&self) -> &Transaction<'a> {
        &self.tx
    }
}

impl Run<'_> {
    /// A further permission some variants of a use case need at the same target (a bulk
    /// terminate-and-purge also needs `residents.purge`); a denial is audited like the gate's.
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        require(&self.tx, &self.ctx, permission)
    }

    /// The audit entry of this use case, with the gate's defaults (action = the use case's
    /// name, actor = the session, team, site and target from the resolved target).
    pub fn audit(&self) -> Audit<'_> {
        let (site_id, target) = match (&self.ctx.resident, &self.ctx.site) {
            (Some(r), Some(s)) => (Some(s.id), Some(r.email.clone())),
            (None, Some(s)) => (Some(s.id), Some(s.name.clone())),
            _ => (None, Some(self.ctx.team.name.clone())),
        };
        Audit {
            conn: &self.tx,
            now: self.ctx.now,
            actor_id: Some(self.ctx.session.actor.staff_id),
            actor: self.ctx.session.actor.email.clone(),
            action: self.ctx.uc.name,
            outcome: "ok",
            team_id: Some(self.ctx.team.id),
            site_id,
            target,
            details: JsonText::from(Value::Object(Default::default())),
        }
    }

    /// Marks a resident this use case purges: at commit, a purge that never left this desk
    /// is settled and the resident's personal data removed when no sync needs it any more
    /// ([`store::scrub`]).
    pub fn purged(&self, r: &Resident) {
        self.purged.borrow_mut().push(store::scrub::Subject { resident_id: Some(r.id), email: r.email.clone() });
    }

    /// Commits the use case's writes (scrubbing what it purged first, in the same transaction).
    pub fn commit(self) -> AppResult<()> {
        let purged = self.purged.take();
        if !purged.is_empty() {
            for s in &purged {
                store::scrub::settle_never_sent(&self.tx, s, self.ctx.now)?;
            }
            let scrubbed = store::scrub::purged(&self.tx, &purged, self.ctx.now)?;
            let conn = self.tx.conn;
            self.tx.commit()?;
            if scrubbed != store::scrub::Scrubbed::default() {
                store::truncate_wal(conn);
            }
            return Ok(());
        }
        Ok(self.tx.commit()?)
    }
}

/// A read use case past the gate: the fresh context and the connection (which it derefs to).
pub(crate) struct Read<'a> {
    conn: &'a Connection,
    pub ctx: Ctx,
}

impl Read<'_> {
    /// See [`Run::require`].
    pub fn require(&self, permission: Permission) -> AppResult<()> {
        require(self.conn, &self.ctx, permission)
    }
}

fn require(conn: &Connection, ctx: &Ctx, permission: Permission) -> AppResult<()> {
    let tref = ctx.team_ref();
    let sref = ctx.site.as_ref().map(|s| SiteRef { id: s.id, team_id: s.team_id, name: s.name.clone() });
    let target = match &sref {
        Some(s) => Target::Site(s),
        None => Target::Team(&tref),
    };
    match crate::access::evaluate(&ctx.session.actor, &ctx.session.grants, Need::Permission(permission), target) {
        Decision::Allow { .. } => Ok(()),
        Decision::Deny { reason } => {
            let token = ctx.session.token.as_ref().map(|t| t.name.clone());
            let details = json!({ "reason": reason.to_string(), "permission": permission, "token": token });
            let name = sref.as_ref().map(|s| s.name.clone()).unwrap_or_else(|| ctx.team.name.clone());
            record_denial(
                conn,
                ctx.now,
                &ctx.session,
                ctx.uc.name,
                Some(ctx.team.id),
                sref.map(|s| s.id),
                &name,
                details,
            );
            Err(AppError::refused_permission(reason, ctx.uc.name, permission.as_str()))
        }
    }
}

impl std::ops::Deref for Read<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

/// A use case without a session: its transaction, and audit entries by "system" or by the
/// person signing in.
pub(crate) struct PublicRun<'a> {
    tx: UseCaseTx<'a>,
    pub uc: &'static UseCase,
    pub now: DateTime<Utc>,
}

impl<'a> std::ops::Deref for PublicRun<'a> {
    type Target = Transaction<'a>;
    fn deref(&self) -> &Transaction<'a> {
        &self.tx
    }
}

impl PublicRun<'_> {
    /// An audit entry of this use case by `actor` (an email, or "system").
    pub fn audit(&self, actor_id: Option<i64>, actor: &str) -> Audit<'_> {
        Audit {
            conn: &self.tx,
            now: self.now,
            actor_id,
            actor: actor.to_string(),
            action: self.uc.name,
            outcome: "ok",
            team_id: None,
            site_id: None,
            target: None,
            details: JsonText::from(Value::Object(Default::default())),
        }
    }

    pub fn commit(self) -> AppResult<()> {
        Ok(self.tx.commit()?)
    }
}

/// A typed audit entry under construction: who (from the gate), what (the use case, or a
/// more precise action), the target, the outcome and the details (before/after).
#[must_use = "an audit entry is written by .write()"]
pub(crate) struct Audit<'a> {
    conn: &'a Connection,
    now: DateTime<Utc>,
    actor_id: Option<i64>,
    actor: String,
    action: &'a str,
    outcome: &'static str,
    team_id: Option<i64>,
    site_id: Option<i64>,
    target: Option<String>,
    details: JsonText,
}

impl<'a> Audit<'a> {
    /// A more precise action than the use case's name (`access.grant` for `access.change`).
    pub fn action(mut self, action: &'a str) -> Self {
        self.action = action;
        self
    }
    /// `ok` by default; `no_op`, `rejected`, ...
    pub fn outcome(mut self, outcome: &'static str) -> Self {
        self.outcome = outcome;
        self
    }
    pub fn team(mut self, team_id: Option<i64>) -> Self {
        self.team_id = team_id;
        self
    }
    pub fn site(mut self, site_id: Option<i64>) -> Self {
        self.site_id = site_id;
        self
    }
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }
    pub fn no_target(mut self) -> Self {
        self.target = None;
        self
    }
    pub fn details(mut self, details: impl Into<JsonText>) -> Self {
        self.details = details.into();
        self
    }
    /// `{"before": …, "after": …}`.
    pub fn before_after(self, before: impl Serialize, after: impl Serialize) -> Self {
        let details = json!({ "before": before, "after": after });
        self.details(details)
    }
    /// Appends the entry inside the use case's transaction.
    pub fn write(self) -> AppResult<i64> {
        let entry = NewAudit {
            actor_id: self.actor_id,
            actor: &self.actor,
            action: self.action,
            outcome: self.outcome,
            team_id: self.team_id,
            site_id: self.site_id,
            target: self.target.as_deref(),
            details: self.details,
        };
        Ok(store::audit::append(self.conn, &entry, self.now)?)
    }
}

/// The transaction of one use case; derefs to a rusqlite transaction. Only this module makes
/// one. Dropping it without commit rolls back, then writes the audit entries of any denial
/// decided inside it (a denial must be recorded even though the use case's writes are undone).
struct UseCaseTx<'a> {
    conn: &'a Connection,
    tx: Option<Transaction<'a>>,
}

impl<'a> UseCaseTx<'a> {
    fn begin(conn: &'a Connection) -> AppResult<UseCaseTx<'a>> {
        let tx = store::begin_immediate(conn)?;
        Ok(UseCaseTx { conn, tx: Some(tx) })
    }

    fn commit(mut self) -> rusqlite::Result<()> {
        match self.tx.take() {
            Some(tx) => tx.commit(),
            None => Ok(()),
        }
    }
}

impl<'a> std::ops::Deref for UseCaseTx<'a> {
    type Target = Transaction<'a>;
    fn deref(&self) -> &Transaction<'a> {
        self.tx.as_ref().expect("transaction is open until commit or drop")
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

/// Refuses a session that no longer exists in the database (an account disabled everywhere,
/// a membership disabled or removed, a token revoked): the desktop ends the session.
pub(crate) fn session_ended(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::Unauthenticated, message)
}

/// An audit entry by `session` inside `tx`, for helpers a use case shares (an import writes
/// one per row; a bulk action one per resident) that get the transaction from a [`Run`].
pub(crate) fn audit_by<'a>(
    tx: &'a Transaction<'_>,
    session: &Session,
    now: DateTime<Utc>,
    action: &'a str,
) -> Audit<'a> {
    Audit {
        conn: tx,
        now,
        actor_id: Some(session.actor.staff_id),
        actor: session.actor.email.clone(),
        action,
        outcome: "ok",
        team_id: session.actor.team_id(),
        site_id: None,
        target: None,
        details: JsonText::from(Value::Object(Default::default())),
    }
}

/// The core's answer on one use case for the signed-in person, before they try it: what the
/// desktop enables or disables (with the reason). Site and resident use cases are allowed
/// when the session may run them at one site at least.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UseCaseGate {
    /// The use case's name (`resident.add`, `audit.list`...).
    pub use_case: String,
    pub allowed: bool,
    /// Empty when allowed; otherwise the core's message ("denied: ...") in English.
    pub reason: String,
    /// The refusal's code and parameters, for the UI to say it in the person's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub details: Option<ErrorDetails>,
}

impl App {
    /// Every use case a session may be asked about (all but the public and system ones),
    /// decided by the same code as the gate, quietly (asking audits nothing).
    pub fn use_case_gates(&self, session: &Session) -> AppResult<Vec<UseCaseGate>> {
        let fresh = self.refresh(session)?;
        let sites = store::sites::list(&self.conn, &fresh.actor.scope())?;
        let mut out = Vec::new();
        for uc in super::usecases::ALL.iter().filter(|u| matches!(u.runs, Runs::PeopleAndTokens | Runs::PeopleOnly)) {
            let decision = match uc.target {
                super::usecases::TargetKind::Site | super::usecases::TargetKind::Resident => {
                    // The session's scope holds only sites its grants reach, so one of them
                    // answers for all: the permission does not depend on which.
                    match sites.first() {
                        Some(site) => self.ask(&fresh, uc, At::SiteId(site.id)).map(|_| ()),
                        None => Err(AppError::refused(Denial::NoSite)),
                    }
                }
                _ => self.ask(&fresh, uc, At::Team).map(|_| ()),
            };
            // A rule beyond the permission that the use case itself applies (owner only).
            let decision = decision.and_then(|()| match super::backup::owner_only_refusal(uc, &fresh) {
                Some(reason) => Err(AppError::refused(reason)),
                None => Ok(()),
            });
            let gate = match decision {
                Ok(()) => UseCaseGate { use_case: uc.name.into(), allowed: true, reason: String::new(), details: None },
                Err(e) if matches!(e.code, ErrorCode::PermissionDenied | ErrorCode::NotFound) => UseCaseGate {
                    use_case: uc.name.into(),
                    allowed: false,
                    reason: e.message,
                    details: e.details.map(|d| *d),
                },
                Err(e) => return Err(e),
            };
            out.push(gate);
        }
        Ok(out)
    }
}
