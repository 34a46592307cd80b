//! The background sync worker for the desktop shell (in `app/` because it composes the gate,
//! the sync executor and the housekeeping): a tokio task that owns the app, runs a
//! pass on an interval (missed ticks are skipped, not bunched; sites pulled by the adaptive
//! schedule when the options carry one, see `sync::schedule`), on demand (`SyncNow`: every
//! site), when a site is opened (`Focus`: that site at once), and
//! after a failed pass on a backoff timer (never waiting for the next local edit), and
//! publishes [`SyncStatus`] events on a `watch` channel. A pass that finds another pass
//! running on the database (`residentdesk sync` beside the desktop, [`SyncError::Busy`]) is
//! neither offline nor failed: the worker skips it, keeps its backoff as it was and tries
//! again a little later.

use super::{App, Session};
use crate::sync::client::RemoteApi;
use crate::sync::schedule::PullPlan;
use crate::sync::status::{self, SyncStatus};
use crate::sync::{run_pass, Progress, SyncError, SyncOptions};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::MissedTickBehavior;

/// What the shell can ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    SyncNow,
    /// The site a person has on screen (`None`: none): with the adaptive pull schedule it is
    /// pulled at once and at every pass.
    Focus(Option<i64>),
    Stop,
}

/// The handle the shell keeps.
pub struct Worker {
    commands: mpsc::Sender<Command>,
    status: watch::Receiver<SyncStatus>,
    task: tokio::task::JoinHandle<App>,
}

impl Worker {
    /// Starts the worker on the current tokio runtime.
    pub fn spawn<R: RemoteApi + 'static>(
        app: App,
        session: Session,
        remote: R,
        opts: SyncOptions,
        interval: Duration,
    ) -> Worker {
        let (tx, rx) = mpsc::channel(8);
        let initial = load_status(&app, &session);
        let (status_tx, status_rx) = watch::channel(initial);
        let task = tokio::spawn(run(app, session, remote, opts, interval, rx, status_tx));
        Worker { commands: tx, status: status_rx, task }
    }

    /// Asks for a pass now: it pulls every site, whatever the schedule says.
    pub async fn sync_now(&self) {
        let _ = self.commands.send(Command::SyncNow).await;
    }

    /// Tells the worker which site is on screen; a pass runs now to pull it.
    pub async fn focus(&self, site: Option<i64>) {
        let _ = self.commands.send(Command::Focus(site)).await;
    }

    /// A receiver of status events (the latest value is always available).
    pub fn subscribe(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Stops the worker after the running pass and gives the app back.
    pub async fn stop(self) -> Option<App> {
        let _ = self.commands.send(Command::Stop).await;
        self.task.await.ok()
    }
}

/// How often the background worker runs the purge of residents past their grace period.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

fn load_status(app: &App, session: &Session) -> SyncStatus {
    let sites = crate::store::sites::list(app.conn(), &session.actor.scope()).unwrap_or_default();
    status::load(app.conn(), &sites).unwrap_or_default()
}

async fn run<R: RemoteApi>(
    mut app: App,
    session: Session,
    remote: R,
    opts: SyncOptions,
    interval: Duration,
    mut commands: mpsc::Receiver<Command>,
    status: watch::Sender<SyncStatus>,
) -> App {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut failures = 0u32;
    let mut last_purge: Option<tokio::time::Instant> = None;
    let mut retry_at: Option<tokio::time::Instant> = None;
    let mut focus: Option<i64> = None;
    let status = Arc::new(status);
    loop {
        let backoff = async {
            match retry_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        // A person's "Sync now" pulls every site; the timer's passes (and opening a site)
        // pull by the schedule, if the options have one.
        let mut asked = false;
        tokio::select! {
            cmd = commands.recv() => match cmd {
                Some(Command::SyncNow) => asked = true,
                Some(Command::Focus(site)) => {
                    // Nothing to pull for no site, or for the same one again.
                    let same = focus == site;
                    focus = site;
                    if same || site.is_none() {
                        continue;
                    }
                }
                Some(Command::Stop) | None => return app,
            },
            _ = ticker.tick() => {}
            _ = backoff => {}
        }
        status.send_modify(|s| {
            s.running = true;
            s.progress = None;
        });
        let progress_tx = status.clone();
        let progress = move |p: Progress| progress_tx.send_modify(|s| s.progress = Some(p));
        // Every pass goes through the gate first: a session that lost `sync.operate`, was
        // disabled or whose token was revoked stops syncing at its next tick.
        let pass_opts =
            if asked { SyncOptions { pull: PullPlan::Every, ..opts.clone() } } else { with_focus(&opts, focus) };
        let outcome = match app.sync_gate(&session) {
            Ok(fresh) => run_pass(app.sync_db(), &fresh, &remote, &pass_opts, Some(&progress)).await,
            Err(e) => Err(SyncError::App(e)),
        };
        // The 31-day purge runs on the worker's timer too (at most hourly), on behalf of the
        // signed-in session, so a desk left open for weeks still purges on time.
        if last_purge.is_none_or(|at: tokio::time::Instant| at.elapsed() >= PURGE_EVERY) {
            last_purge = Some(tokio::time::Instant::now());
            if let Err(e) = app.purge_after_grace(&session) {
                tracing::warn!("the purge after the grace period failed: {e}");
            }
            // And the daily backup, for a desk that stays signed in for days.
            if let Err(e) = app.backup_if_due(&session) {
                tracing::warn!("the daily backup failed: {e}");
            }
        }
        if matches!(outcome, Err(SyncError::Busy { .. })) {
            // Skip this tick: the other pass sends the same outbox. Look again after a few
            // of its lease renewals (or sooner on the next tick / SyncNow); the failure
            // count and the last error stay as they were.
            retry_at = Some(tokio::time::Instant::now() + busy_retry(&opts, interval));
            let s = load_status(&app, &session);
            status.send_replace(s);
            continue;
        }
        let trouble = match &outcome {
            Ok(r) => r.offline || r.retry_later > 0,
            Err(SyncError::Auth(_)) => false,
            Err(SyncError::App(_)) => true,
            Err(SyncError::Busy { .. }) => false,
        };
        if trouble {
            failures += 1;
            retry_at = Some(tokio::time::Instant::now() + opts.retry.delay(failures, None));
        } else {
            failures = 0;
            retry_at = None;
        }
        let mut s = load_status(&app, &session);
        if let Err(e) = &outcome {
            s.last_error = Some(e.to_string());
        }
        status.send_replace(s);
    }
}

/// The options of one pass: with the adaptive pull schedule, the site on screen is pulled
/// whatever its schedule says.
fn with_focus(opts: &SyncOptions, focus: Option<i64>) -> SyncOptions {
    let mut pass = opts.clone();
    if let PullPlan::Adaptive { focus: sites, .. } = &mut pass.pull {
        *sites = focus.into_iter().collect();
    }
    pass
}

/// When to look again after finding another pass running: a third of the lease's life
/// (the other pass renews it more often than that), never later than the next tick.
fn busy_retry(opts: &SyncOptions, interval: Duration) -> Duration {
    (opts.lease_ttl / 3).max(opts.lease_wait).min(interval)
}
