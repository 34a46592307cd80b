//! Recovery: what a pass that ended without finishing left in flight. Entries of a job the
//! remote knows are settled by polling that job again; a create whose outcome is unknown is
//! looked up on the remote by email (found: done; not found: sent again); an at-most-once
//! operation is rejected for a person to retry; anything else is sent again.

use super::send::close_job;
use super::write_back::{created, finish_bulk, finish_import, later, settle};
use super::{chain_key, snapshot, Outcome, Results, Snapshots, UNKNOWN_AT_MOST_ONCE};
use crate::store::{self, outbox::Entry, sync_state};
use crate::sync::client::RemoteApi;
use crate::sync::plan::{self, Action};
use crate::sync::{Ctx, SyncError};
use residentdesk_domain::wire::ResidentObject;
use residentdesk_domain::{BulkAction, OutboxOp, OutboxState};
use std::collections::BTreeMap;

/// Reconciles entries a crash (or a job still running) left in flight.
pub(super) async fn recover<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    snap: &mut Snapshots,
    entries: Vec<Entry>,
) -> Result<(), SyncError> {
    let mut by_job: BTreeMap<i64, (store::sync_state::SyncJob, Vec<Entry>)> = BTreeMap::new();
    let mut loose = Vec::new();
    for e in entries {
        match sync_state::job_of_entry(cx.db.conn, e.id)? {
            Some(job) if job.remote_job_id.is_some() && job.kind != "single" => {
                by_job.entry(job.id).or_insert_with(|| (job, Vec::new())).1.push(e)
            }
            _ => loose.push(e),
        }
    }
    for (_, (job, entries)) in by_job {
        let actions: Vec<Action> = plan::coalesce(&entries).into_iter().flatten().collect();
        let bulk = if job.kind == "bulk" { BulkAction::parse(&job.action).ok() } else { None };
        let remote_job = job.remote_job_id.clone().unwrap_or_default();
        let results = match bulk {
            Some(action) => finish_bulk(cx, job.id, job.site_id, action, &actions, &remote_job, None).await?,
            None => finish_import(cx, snap, job.id, job.site_id, &actions, &remote_job, None).await?,
        };
        let _ = results;
    }
    for e in loose {
        match OutboxOp::parse(&e.op) {
            Some(OutboxOp::Create) => {
                let email = e.email.clone().unwrap_or_default();
                let found = snapshot(cx, snap, e.site_id, false).await?.map(|s| s.email(&email).cloned());
                match found {
                    Some(Some(r)) => {
                        let a = plan::coalesce(std::slice::from_ref(&e)).into_iter().flatten().next();
                        if let Some(a) = a {
                            created(cx, &a, &r, "found on the remote after an interruption")?;
                        }
                    }
                    Some(None) => {
                        let msg = "interrupted before the remote answered; not found remotely, resending";
                        settle(cx, &[e.id], OutboxState::Pending, Some(msg))?;
                    }
                    None => {
                        settle(
                            cx,
                            &[e.id],
                            OutboxState::Pending,
                            Some("interrupted; the remote could not be checked yet"),
                        )?;
                    }
                }
            }
            Some(OutboxOp::Invite | OutboxOp::PskReset | OutboxOp::OnboardNow) => {
                let msg = format!("interrupted while sending: {UNKNOWN_AT_MOST_ONCE}");
                cx.report.rejected += settle(cx, &[e.id], OutboxState::Rejected, Some(&msg))?;
            }
            _ => {
                settle(
                    cx,
                    &[e.id],
                    OutboxState::Pending,
                    Some("interrupted while sending; resending (safe to repeat)"),
                )?;
            }
        }
    }
    Ok(())
}

/// After an import whose start got no answer: creates found remotely are done, the others
/// are sent again later.
pub(super) async fn lookup_creates<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    snap: &mut Snapshots,
    job: i64,
    site_id: i64,
    actions: &[Action],
    why: &str,
) -> Result<Results, SyncError> {
    let mut out = Vec::new();
    let found: Vec<Option<ResidentObject>> = match snapshot(cx, snap, site_id, true).await? {
        Some(s) => actions.iter().map(|a| s.email(a.email.as_deref().unwrap_or_default()).cloned()).collect(),
        None => vec![None; actions.len()],
    };
    for (a, f) in actions.iter().zip(found) {
        match f {
            Some(r) => {
                let rid = created(cx, a, &r, "")?;
                out.push((chain_key(a), Outcome::Next, rid));
            }
            None => {
                later(cx, a, &format!("import: {why}"))?;
                out.push((chain_key(a), Outcome::Stop, None));
            }
        }
    }
    close_job(cx, job, "abandoned")?;
    Ok(out)
}
