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
//!
//! Desks are not kept in step: a desk that has synced before waits a random delay of up to
//! one interval before its first timer pass ([`first_pass_delay`]), so the desks of a
//! portfolio started at 9 am spread their pulls over the first interval instead of all
//! pulling at 9:00:00; the ticker's period then keeps each desk at its own phase. The site a
//! person opens meanwhile is pulled at once, alone (`PullPlan::Only`), as is everything on
//! "Sync now"; a desk that never synced pulls at once (it has nothing to show yet).

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
        let synced_before = initial.last_pass_at.is_some();
        let first = first_pass_delay(interval, synced_before, spread(app.clock().now()));
        let (status_tx, status_rx) = watch::channel(initial);
        let task = tokio::spawn(run(app, session, remote, opts, (first, interval), rx, status_tx));
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
    (first, interval): (Duration, Duration),
    mut commands: mpsc::Receiver<Command>,
    status: watch::Sender<SyncStatus>,
) -> App {
    let start = tokio::time::Instant::now() + first;
    let mut ticker = tokio::time::interval_at(start, interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    // Until the first timer pass, a pass for the site opened pulls that site alone: the
    // others wait for this desk's own moment (see the module doc).
    let mut started = first.is_zero();
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
            _ = ticker.tick() => started = true,
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
        let pass_opts = if asked {
            SyncOptions { pull: PullPlan::Every, ..opts.clone() }
        } else if !started && matches!(opts.pull, PullPlan::Adaptive { .. }) {
            SyncOptions { pull: PullPlan::Only(focus.into_iter().collect()), ..opts.clone() }
        } else {
            with_focus(&opts, focus)
        };
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

/// How long the worker waits before its first timer pass: `spread` (in [0, 1)) of one
/// interval for a desk that has synced before, so desks started together pull at their own
/// moments over that interval; none for a desk that never synced (a new desk shows its data
/// at once). Always shorter than `interval`.
pub fn first_pass_delay(interval: Duration, synced_before: bool, spread: f64) -> Duration {
    if !synced_before {
        return Duration::ZERO;
    }
    let spread = if spread.is_nan() { 0.0 } else { spread.clamp(0.0, 1.0) };
    let at = interval.mul_f64(spread);
    // A spread of (almost) 1 still starts inside the first interval.
    at.min(interval.saturating_sub(Duration::from_millis(1)))
}

/// A spread in [0, 1) that differs between desks and starts.
fn spread(now: chrono::DateTime<chrono::Utc>) -> f64 {
    crate::sync::schedule::spread(i64::from(std::process::id()), now)
}

/// When to look again after finding another pass running: a third of the lease's life
/// (the other pass renews it more often than that), never later than the next tick.
fn busy_retry(opts: &SyncOptions, interval: Duration) -> Duration {
    (opts.lease_ttl / 3).max(opts.lease_wait).min(interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_timer_pass_is_spread_over_one_interval_and_bounded_by_it() {
        let minute = Duration::from_secs(60);
        let delays: Vec<Duration> = (0..1000)
            .map(|i| first_pass_delay(minute, true, spread(chrono::Utc::now() + chrono::Duration::nanoseconds(i))))
            .collect();
        assert!(delays.iter().all(|d| *d < minute), "every desk starts within the first interval");
        // 10,000 desks started together: spread over the interval, not bunched at its start.
        let mut buckets = [0u32; 4];
        for d in &delays {
            buckets[(d.as_secs_f64() / 15.0) as usize] += 1;
        }
        assert!(buckets.iter().all(|b| (150..350).contains(b)), "quarters of the minute: {buckets:?}");
        // The ends of the band.
        assert_eq!(first_pass_delay(minute, true, 0.0), Duration::ZERO);
        assert_eq!(first_pass_delay(minute, true, 0.5), Duration::from_secs(30));
        assert!(first_pass_delay(minute, true, 1.0) < minute);
        assert!(first_pass_delay(minute, true, f64::NAN) < minute);
    }

    #[test]
    fn a_desk_that_never_synced_pulls_at_once() {
        for s in [0.0, 0.3, 0.99] {
            assert_eq!(first_pass_delay(Duration::from_secs(60), false, s), Duration::ZERO);
        }
    }
}
