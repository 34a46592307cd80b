//! Sync with the remote Site Manager v2 API: push the outbox (coalesced, in order per
//! resident, through import and bulk-action jobs where many changes go to one site), then
//! pull every site in the actor's scope and merge per field. Nothing is lost (entries end
//! done, rejected with the remote's reason, or in conflict), nothing is created twice (an
//! entry is marked in flight, with the job it was sent in, in a committed transaction
//! before the request leaves; a restart reconciles what was in flight), and no conflict is
//! hidden (both values go to the conflict inbox).
//!
//! - [`client`]: the typed v2 client ([`client::RemoteApi`], [`client::HttpRemote`]);
//!   [`json_stream`]: a large resident list split as it arrives;
//! - [`plan`]: coalescing and batching (pure); [`merge`]: the 3-way merge (pure);
//! - [`push`], [`pull`]: the two halves of a pass; [`retry`]: backoff;
//! - [`worker`]: the background task of the desktop shell; [`status`]: what it reports;
//! - [`lease`]: one pass at a time per database;
//! - [`check`]: the contract's assumptions checked at first contact (a contradiction a push
//!   depends on holds the push).

pub mod assumptions;
pub mod check;
pub mod client;
pub mod json_stream;
pub mod lease;
pub mod merge;
pub mod plan;
pub mod pull;
pub mod push;
pub mod retry;
pub mod schedule;
mod site_marks;
pub mod status;

use crate::access::Session;
use crate::clock::Clock;
use crate::error::{AppError, AppResult, ErrorCode, ErrorDetails, ErrorReason};
use crate::store::{self, sites::Site};
use chrono::{DateTime, Utc};
use client::{RemoteApi, RemoteError};
use plan::BatchLimits;
use residentdesk_domain::OutboxState;
use retry::RetryPolicy;
use rusqlite::Transaction;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// How a pass behaves.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub retry: RetryPolicy,
    pub limits: BatchLimits,
    /// First delay between job polls (doubling up to `poll_cap`).
    pub poll_first: Duration,
    pub poll_cap: Duration,
    /// How long one pass waits for a job; after that its entries stay in flight and the
    /// next pass picks the job up again.
    pub job_timeout: Duration,
    /// Attempts of a pass's first contact with the remote. A one-off pass (the CLI) retries
    /// like any call; the background worker makes one, because its own backoff timer
    /// retries the pass, so an unreachable remote shows as Offline at once instead of after
    /// the in-pass retries.
    pub reach_attempts: u32,
    /// How long a pass waits for another pass on the same database to end before it gives
    /// up with [`SyncError::Busy`] (polling meanwhile).
    pub lease_wait: Duration,
    /// How long the lease of a running pass lasts without renewal: long enough for a slow
    /// request, since the pass renews it between requests (before each batch, each job
    /// poll, each pull chunk, and with every in-flight mark). A holder killed without
    /// releasing it blocks other passes for at most this long (less on the same host).
    pub lease_ttl: Duration,
    /// Who the pass is, for the message another pass shows ("desktop", …); `None`: the
    /// program's name. The process id and host are added.
    pub lease_label: Option<String>,
    /// Which sites the pass pulls: every one (a one-off pass), or those due by the adaptive
    /// schedule and the one on screen (the desktop's background worker): [`schedule`].
    pub pull: schedule::PullPlan,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            retry: RetryPolicy::default(),
            limits: BatchLimits::default(),
            poll_first: Duration::from_millis(250),
            poll_cap: Duration::from_secs(5),
            job_timeout: Duration::from_secs(600),
            reach_attempts: RetryPolicy::default().max_attempts,
            lease_wait: Duration::from_secs(2),
            lease_ttl: Duration::from_secs(90),
            lease_label: None,
            pull: schedule::PullPlan::Every,
        }
    }
}

impl SyncOptions {
    /// Short delays for tests and benchmarks on loopback.
    pub fn fast() -> Self {
        SyncOptions {
            retry: RetryPolicy::fast(),
            limits: BatchLimits::default(),
            poll_first: Duration::from_millis(20),
            poll_cap: Duration::from_millis(200),
            job_timeout: Duration::from_secs(60),
            reach_attempts: RetryPolicy::fast().max_attempts,
            lease_wait: Duration::from_secs(2),
            lease_ttl: Duration::from_secs(90),
            lease_label: None,
            pull: schedule::PullPlan::Every,
        }
    }

    /// As `self`, pulling by the adaptive schedule of a pass interval of `interval`, with the
    /// sites in `focus` pulled at every pass (the background worker: the site on screen).
    pub fn pull_by_schedule(self, interval: Duration, focus: Vec<i64>) -> Self {
        let pull = schedule::PullPlan::Adaptive { schedule: schedule::PullSchedule::for_interval(interval), focus };
        SyncOptions { pull, ..self }
    }

    /// For the background worker: as `self`, but the first contact is tried once (see
    /// [`SyncOptions::reach_attempts`]).
    pub fn in_background(self) -> Self {
        let lease_label = self.lease_label.clone().or_else(|| Some("the desktop's background sync".into()));
        SyncOptions { reach_attempts: 1, lease_label, ..self }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PassReport {
    /// Entries that reached the remote (or needed nothing sent).
    pub done: u64,
    /// Entries coalesced into another one or cancelled out (counted in `done` too).
    pub coalesced: u64,
    pub rejected: u64,
    /// Entries now waiting on a conflict.
    pub conflict_entries: u64,
    /// Entries left for the next pass (network trouble).
    pub retry_later: u64,
    /// Requests by kind: `single`, `import`, `bulk`.
    pub jobs: BTreeMap<String, u64>,
    pub sites_pulled: u64,
    /// Of the sites pulled, those whose answer and local state were as after their last
    /// merge: nothing merged or written for them.
    pub sites_unchanged: u64,
    /// Sites the adaptive schedule left for a later pass (not due, not on screen).
    pub sites_not_due: u64,
    pub sites_failed: u64,
    pub residents_inserted: u64,
    pub residents_updated: u64,
    pub residents_deleted: u64,
    pub sites_inserted: u64,
    pub conflicts_recorded: u64,
    /// Time merging and writing pulled sites into the database (synchronous), in ms.
    pub merge_ms: f64,
    /// Of which the field-by-field merge computation itself (no SQL), in ms.
    pub merge_cpu_ms: f64,
    /// Entries left out of a request because they were no longer pending when the pass
    /// came to send them (a person discarded one, or another pass had taken them).
    pub taken_elsewhere: u64,
    /// Errors that did not stop the pass (offline sites, retries left for later).
    pub errors: Vec<String>,
    /// Whether the remote could not be reached at all.
    pub offline: bool,
    /// The assumptions whose contradiction (in the last remote check) held the push back; the
    /// reason is in `errors`. Empty when the push ran.
    pub push_held: Vec<String>,
}

/// Why a pass stopped.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SyncError {
    /// The credentials were refused twice: a person must re-enter them.
    #[error("{0}")]
    Auth(String),
    /// Another pass holds this database's sync lease (or took it over from this one):
    /// nothing was sent; try again once it has ended. Not a sign of being offline.
    #[error("a sync is already running on this database (since {}, by {holder})", clock_time(.since))]
    Busy { holder: String, since: DateTime<Utc> },
    #[error(transparent)]
    App(#[from] AppError),
}

/// `HH:MM` in the local time zone (what a person at the desk compares with their clock).
fn clock_time(at: &DateTime<Utc>) -> String {
    at.with_timezone(&chrono::Local).format("%H:%M").to_string()
}

impl From<rusqlite::Error> for SyncError {
    fn from(e: rusqlite::Error) -> Self {
        SyncError::App(e.into())
    }
}

impl From<SyncError> for AppError {
    fn from(e: SyncError) -> Self {
        let message = e.to_string();
        match e {
            SyncError::Auth(m) => AppError::new(ErrorCode::Unauthenticated, m),
            // No error code fits exactly and a new one would change the desktop's bindings:
            // `internal` (CLI exit 1) with a reason the shells can tell apart.
            SyncError::Busy { holder, since } => AppError::internal(message).with_details(ErrorDetails {
                holder: Some(holder),
                since: Some(since),
                ..ErrorDetails::reason(ErrorReason::SyncBusy)
            }),
            SyncError::App(a) => a,
        }
    }
}

/// Progress of a long pass, for the status line.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Progress {
    /// `push`, `poll`, `pull`.
    pub phase: String,
    pub done: u64,
    pub total: u64,
}

/// An audit entry of a step of the pass (a site added, a resident purged remotely), written
/// in that step's transaction on behalf of the session running the pass.
#[allow(clippy::too_many_arguments)]
pub(crate) fn audit_step(
    tx: &Transaction<'_>,
    now: chrono::DateTime<chrono::Utc>,
    session: Option<&Session>,
    action: &str,
    outcome: &str,
    team_id: Option<i64>,
    site_id: Option<i64>,
    target: Option<&str>,
    details: serde_json::Value,
) -> AppResult<()> {
    let entry = store::audit::NewAudit {
        actor_id: session.map(|s| s.actor.staff_id),
        actor: session.map(|s| s.actor.email.as_str()).unwrap_or("system"),
        action,
        outcome,
        team_id,
        site_id,
        target,
        details: details.into(),
    };
    store::audit::append(tx, &entry, now)?;
    Ok(())
}

/// What a pass works on: the database connection and the clock, lent by the app's gate
/// (`app::sync::sync_pass`, or the worker after `App::sync_gate`). The executor writes its
/// short steps through `store::begin_immediate` on this connection.
pub struct Db<'a> {
    /// Held mutably so the pass (a future that may move between threads) owns it alone.
    pub conn: &'a mut rusqlite::Connection,
    pub clock: &'a dyn Clock,
}

impl Db<'_> {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// A progress callback.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// The state of one pass, shared by push and pull.
pub(crate) struct Ctx<'a, R: RemoteApi> {
    pub db: Db<'a>,
    pub session: &'a Session,
    pub remote: &'a R,
    pub opts: &'a SyncOptions,
    pub team_remote: String,
    /// Linked sites in the actor's scope, by local id.
    pub sites: BTreeMap<i64, Site>,
    pub report: PassReport,
    pub progress: Option<ProgressFn<'a>>,
    /// The pass's lease (taken before the pass starts, released when it ends).
    pub lease: Option<lease::Held>,
    /// Entries this pass holds in flight (it marked them, or found them left in flight
    /// under its lease): their transitions start from `in_flight`, all others from
    /// `pending`, so a state someone else changed meanwhile is never overwritten.
    pub flying: HashSet<i64>,
}

/// A pass that ends any way — returned, failed, or dropped mid-way (a cancelled task) —
/// gives its lease back.
impl<R: RemoteApi> Drop for Ctx<'_, R> {
    fn drop(&mut self) {
        if let Some(held) = self.lease.take() {
            held.release(&self.db);
        }
    }
}

impl<R: RemoteApi> Ctx<'_, R> {
    /// Runs `f` in one immediate transaction and commits it.
    pub fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> AppResult<T>) -> AppResult<T> {
        let tx = store::begin_immediate(self.db.conn)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Renews the lease when a renewal is due (cheap to call before every request);
    /// [`SyncError::Busy`] when another pass has taken it over, and the pass must stop.
    pub fn keep_lease(&mut self) -> Result<(), SyncError> {
        let Some(held) = self.lease.as_mut() else { return Ok(()) };
        if !held.due() {
            return Ok(());
        }
        let now = self.db.now();
        let tx = store::begin_immediate(self.db.conn).map_err(AppError::from)?;
        held.renew_in(&tx, now)?;
        tx.commit()?;
        Ok(())
    }

    /// The state an entry of this pass is expected to be in before it moves.
    pub fn expected(&self, entry_id: i64) -> OutboxState {
        if self.flying.contains(&entry_id) {
            OutboxState::InFlight
        } else {
            OutboxState::Pending
        }
    }

    pub fn site_remote(&self, site_id: i64) -> Option<String> {
        self.sites.get(&site_id).and_then(|s| s.remote_id.clone())
    }

    pub fn note_error(&mut self, e: impl std::fmt::Display) {
        if self.report.errors.len() < 50 {
            self.report.errors.push(e.to_string());
        }
    }

    pub fn progress(&self, phase: &str, done: u64, total: u64) {
        if let Some(p) = self.progress {
            p(Progress { phase: phase.into(), done, total });
        }
    }
}

/// One full pass for `session`: take the database's sync lease (waiting up to
/// `opts.lease_wait`, else [`SyncError::Busy`]), link the team and sites, push the outbox,
/// pull every site in scope, release the lease. Being offline is not an error: the report
/// says so and the entries wait. Reached only through the gate (`app::sync::sync_pass`, or
/// the worker after `App::sync_gate`).
pub(crate) async fn run_pass<R: RemoteApi>(
    mut db: Db<'_>,
    session: &Session,
    remote: &R,
    opts: &SyncOptions,
    progress: Option<ProgressFn<'_>>,
) -> Result<PassReport, SyncError> {
    let held = lease::acquire(&mut db, opts).await?;
    let mut cx = Ctx {
        db,
        session,
        remote,
        opts,
        team_remote: String::new(),
        sites: BTreeMap::new(),
        report: PassReport::default(),
        progress,
        lease: Some(held),
        flying: HashSet::new(),
    };
    let outcome = async {
        if !pull::link(&mut cx).await? {
            return Ok(());
        }
        push::push(&mut cx).await?;
        pull::pull(&mut cx).await
    }
    .await;
    if matches!(outcome, Err(SyncError::Busy { .. })) {
        // Another pass took the lease over: the status is its to write.
        return outcome.map(|()| cx.report.clone());
    }
    let now = cx.db.now();
    let report = cx.report.clone();
    let last_error = match &outcome {
        Err(SyncError::Auth(m)) => Some(m.clone()),
        Err(SyncError::App(e)) => Some(e.message.clone()),
        Err(e @ SyncError::Busy { .. }) => Some(e.to_string()),
        Ok(()) => report.errors.first().cloned(),
    };
    let last_problem = match &outcome {
        Err(SyncError::Auth(_)) => Some(status::PassProblem::CredentialsRefused),
        Err(SyncError::App(e)) => Some(status::PassProblem::Stopped { reason: e.reason() }),
        Err(SyncError::Busy { holder, since }) => {
            Some(status::PassProblem::Busy { holder: holder.clone(), since: *since })
        }
        Ok(()) if report.offline => Some(status::PassProblem::Unreachable),
        Ok(()) => (!report.errors.is_empty())
            .then(|| status::PassProblem::SomeFailed { count: report.errors.len().try_into().unwrap_or(u32::MAX) }),
    };
    let summary = serde_json::to_string(&report).unwrap_or_default();
    cx.write(|tx| {
        store::sync_state::status_set(tx, "last_pass_at", &store::ts(now), now)?;
        store::sync_state::status_set(tx, "last_pass_report", &summary, now)?;
        match &last_error {
            Some(e) => store::sync_state::status_set(tx, "last_error", e, now)?,
            None => store::sync_state::status_clear(tx, "last_error")?,
        }
        match &last_problem {
            Some(p) => {
                store::sync_state::status_set(tx, "last_problem", &serde_json::to_string(p).unwrap_or_default(), now)?
            }
            None => store::sync_state::status_clear(tx, "last_problem")?,
        }
        Ok(())
    })?;
    if let Some(held) = cx.lease.take() {
        held.release(&cx.db);
    }
    if store::scrub::take_scrubbed() {
        store::truncate_wal(cx.db.conn);
    }
    outcome.map(|()| report)
}

/// Classifies a remote error that stops a whole step: credentials → stop the pass; anything
/// retryable → offline (not an error); a refusal → an error for the report.
pub(crate) fn step_error<R: RemoteApi>(cx: &mut Ctx<'_, R>, what: &str, e: RemoteError) -> Result<(), SyncError> {
    match e {
        RemoteError::Auth(m) => Err(SyncError::Auth(RemoteError::Auth(m).to_string())),
        e if e.retryable() => {
            cx.report.offline = true;
            cx.note_error(format!("{what}: {e} (will retry)"));
            Ok(())
        }
        e => {
            cx.note_error(format!("{what}: {e}"));
            Ok(())
        }
    }
}
