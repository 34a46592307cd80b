//! One sync pass at a time per database: the desktop's worker, `residentdesk sync` and a
//! second window share one outbox, and two passes at once would each mark, send and
//! reconcile the same entries (the second taking the first's in-flight entries for crash
//! leftovers). A pass therefore takes the `sync_lease` row before it touches the remote,
//! renews it while it runs, and releases it when it ends — on success, on error, and when
//! its future is dropped (see [`super::Ctx`]'s `Drop`).
//!
//! Expiry is judged by the app's clock, so a test's fixed clock decides it. A pass that
//! finds the lease held waits up to [`SyncOptions::lease_wait`] and then fails with
//! [`SyncError::Busy`]. A holder that vanished without releasing (SIGKILL, power cut) is
//! taken over once its lease expires, or at once when it ran on this host and its process
//! no longer exists (checked where the OS makes that cheap: `/proc` on Linux).
//!
//! The desk's clock may be wrong for a while. A lease written while it ran hours ahead
//! would, once the clock is put right, look alive for those hours and block every pass. No
//! pass renews a lease at a time later than its own now, so a lease renewed more than a
//! lease's life in the future was written by a clock that has gone back since: it is taken
//! over at once ([`written_ahead`]). Should its holder still be running, its next renewal
//! finds the lease taken and it stops before sending anything more. A lease written while
//! the clock ran behind simply looks expired, and is taken over as any expired one.

use super::Db;
use super::{SyncError, SyncOptions};
use crate::store::sync_state::{self, Lease, NewLease};
use std::time::{Duration, Instant};

/// How often a waiting pass looks at the lease again.
const POLL: Duration = Duration::from_millis(50);

/// The lease a running pass holds.
#[derive(Debug)]
pub(crate) struct Held {
    pub id: String,
    ttl: chrono::Duration,
    renew_every: Duration,
    renewed: Instant,
}

/// Who this process is, for the person told that a sync is running, and to recognise a
/// holder whose process is gone.
fn holder_description(label: Option<&str>) -> (String, i64, Option<String>) {
    let pid = i64::from(std::process::id());
    let host = host_name();
    let who = label.map(str::to_string).unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| format!("{} sync", s.to_string_lossy())))
            .unwrap_or_else(|| "residentdesk sync".into())
    });
    let place = match &host {
        Some(h) => format!("pid {pid} on {h}"),
        None => format!("pid {pid}"),
    };
    (format!("{who}, {place}"), pid, host)
}

fn host_name() -> Option<String> {
    let from_env = ["HOSTNAME", "COMPUTERNAME"].iter().find_map(|k| std::env::var(k).ok());
    from_env
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// Whether the holder is known to be gone: it ran on this host, is not this process, and
/// no process with its pid runs (or only its zombie). Unknown → false: wait for expiry.
fn holder_gone(lease: &Lease) -> bool {
    let (Some(pid), Some(host)) = (lease.pid, lease.host.as_deref()) else { return false };
    if pid == i64::from(std::process::id()) || host_name().as_deref() != Some(host) {
        return false;
    }
    process_gone(pid)
}

#[cfg(target_os = "linux")]
fn process_gone(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|s| s == "Z" || s == "X"),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

#[cfg(not(target_os = "linux"))]
fn process_gone(_pid: i64) -> bool {
    // No cheap, safe check without a new dependency: such a holder is taken over on expiry.
    false
}

/// Whether `lease` was renewed more than `ttl` after `now`: by a clock that ran ahead and
/// has been put right since (no pass renews later than its own now).
fn written_ahead(lease: &Lease, now: chrono::DateTime<chrono::Utc>, ttl: chrono::Duration) -> bool {
    now.checked_add_signed(ttl).is_some_and(|limit| lease.renewed_at > limit)
}

fn ttl_of(opts: &SyncOptions) -> chrono::Duration {
    chrono::Duration::from_std(opts.lease_ttl).unwrap_or_else(|_| chrono::Duration::seconds(90))
}

pub(crate) fn busy(lease: Lease) -> SyncError {
    SyncError::Busy { holder: lease.holder, since: lease.taken_at }
}

/// Takes the lease, waiting up to `opts.lease_wait` for the running pass to end.
pub(crate) async fn acquire(db: &mut Db<'_>, opts: &SyncOptions) -> Result<Held, SyncError> {
    let id = uuid::Uuid::new_v4().to_string();
    let (holder, pid, host) = holder_description(opts.lease_label.as_deref());
    let ttl = ttl_of(opts);
    let started = Instant::now();
    loop {
        let now = db.now();
        let new = NewLease { holder_id: &id, holder: &holder, pid: Some(pid), host: host.as_deref() };
        let current = match try_take(db, &new, now, ttl)? {
            None => return Ok(Held { id, ttl, renew_every: opts.lease_ttl / 6, renewed: Instant::now() }),
            Some(current) => current,
        };
        if started.elapsed() >= opts.lease_wait {
            return Err(match current {
                Some(l) => busy(l),
                // Released between the read and the take: the next pass will find it free.
                None => SyncError::Busy { holder: "another pass".into(), since: now },
            });
        }
        tokio::time::sleep(POLL.min(opts.lease_wait)).await;
    }
}

/// One attempt, in one IMMEDIATE transaction: `None` when taken, else the lease that
/// stands in the way.
fn try_take(
    db: &Db<'_>,
    new: &NewLease<'_>,
    now: chrono::DateTime<chrono::Utc>,
    ttl: chrono::Duration,
) -> Result<Option<Option<Lease>>, SyncError> {
    let tx = crate::store::begin_immediate(db.conn).map_err(crate::AppError::from)?;
    let current = sync_state::lease_get(&tx)?;
    let ahead = current.as_ref().is_some_and(|l| written_ahead(l, now, ttl));
    let gone = current.as_ref().filter(|l| ahead || holder_gone(l)).map(|l| l.holder_id.clone());
    if !sync_state::lease_take(&tx, new, now, now + ttl, gone.as_deref())? {
        return Ok(Some(current));
    }
    tx.commit()?;
    match (current, gone) {
        (Some(old), Some(_)) if ahead => tracing::warn!(
            "took over the sync lease of {}, renewed at {} by a clock that ran ahead (now {now})",
            old.holder,
            old.renewed_at
        ),
        (Some(old), Some(_)) => tracing::warn!("took over the sync lease of {}, whose process is gone", old.holder),
        (Some(old), None) if old.expires_at <= now => {
            tracing::warn!("took over the sync lease of {}, expired at {}", old.holder, old.expires_at)
        }
        _ => {}
    }
    Ok(None)
}

impl Held {
    /// Whether a renewal is due (a sixth of the lease's life has passed since the last).
    pub fn due(&self) -> bool {
        self.renewed.elapsed() >= self.renew_every
    }

    /// Extends the lease inside the caller's transaction; [`SyncError::Busy`] when another
    /// pass has taken it over (this one outlived its lease), and nothing may be sent.
    pub fn renew_in(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), SyncError> {
        if sync_state::lease_renew(tx, &self.id, now, now + self.ttl)? {
            self.renewed = Instant::now();
            return Ok(());
        }
        Err(match sync_state::lease_get(tx)? {
            Some(l) => busy(l),
            None => SyncError::Busy { holder: "another pass (this pass's lease expired)".into(), since: now },
        })
    }

    /// Gives the lease back (a failure only delays the next pass until the lease expires).
    pub fn release(self, db: &Db<'_>) {
        let done = crate::store::begin_immediate(db.conn).map_err(crate::AppError::from).and_then(|tx| {
            sync_state::lease_release(&tx, &self.id)?;
            tx.commit()?;
            Ok(())
        });
        if let Err(e) = done {
            tracing::warn!("could not release the sync lease (the next pass waits for it to expire): {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_names_the_process_and_host() {
        let (who, pid, host) = holder_description(Some("desktop"));
        assert_eq!(pid, i64::from(std::process::id()));
        assert!(who.starts_with(&format!("desktop, pid {pid}")), "{who}");
        if let Some(h) = host {
            assert!(who.ends_with(&format!(" on {h}")), "{who}");
        }
    }

    #[test]
    fn a_lease_renewed_after_now_by_more_than_its_life_was_written_by_a_clock_ahead() {
        let now: chrono::DateTime<chrono::Utc> = "2026-11-30T12:00:00Z".parse().unwrap();
        let ttl = chrono::Duration::seconds(90);
        let renewed = |at: chrono::DateTime<chrono::Utc>| Lease {
            holder_id: "x".into(),
            holder: "x".into(),
            pid: None,
            host: None,
            taken_at: at,
            renewed_at: at,
            expires_at: at.checked_add_signed(ttl).unwrap_or(at),
        };
        let s = chrono::Duration::seconds;
        assert!(written_ahead(&renewed(now + chrono::Duration::hours(3)), now, ttl));
        assert!(written_ahead(&renewed(now + s(91)), now, ttl));
        // Within a lease's life ahead (a live holder's renewal, a clock a little off): kept.
        assert!(!written_ahead(&renewed(now + s(90)), now, ttl));
        assert!(!written_ahead(&renewed(now), now, ttl));
        assert!(!written_ahead(&renewed(now - chrono::Duration::hours(3)), now, ttl));
        assert!(!written_ahead(
            &renewed(chrono::DateTime::<chrono::Utc>::MAX_UTC),
            chrono::DateTime::<chrono::Utc>::MAX_UTC,
            ttl
        ));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_holder_on_this_host_whose_process_is_gone_is_recognised() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = i64::from(child.id());
        child.wait().unwrap();
        let at = chrono::Utc::now();
        let lease = |pid: i64, host: Option<String>| Lease {
            holder_id: "x".into(),
            holder: "x".into(),
            pid: Some(pid),
            host,
            taken_at: at,
            renewed_at: at,
            expires_at: at,
        };
        let here = host_name();
        assert_eq!(holder_gone(&lease(dead, here.clone())), here.is_some());
        assert!(!holder_gone(&lease(i64::from(std::process::id()), here.clone())), "this process runs");
        assert!(!holder_gone(&lease(dead, Some("another-host.invalid".into()))), "another host: wait for expiry");
        assert!(!holder_gone(&lease(dead, None)));
    }
}
