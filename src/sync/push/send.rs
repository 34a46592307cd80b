//! Sending: one request per action, or an import / bulk-action job per batch, each action's
//! entries marked in flight (with their job) in a committed transaction before the request
//! leaves; a started job is polled with backoff until it has finished.

use super::recovery::lookup_creates;
use super::write_back::{conflict, created, failed, finish, later, settle};
use super::{chain_key, snapshot, Outcome, Results, Snapshots, Started};
use crate::error::AppResult;
use crate::store::{self, sync_state};
use crate::sync::client::{RemoteApi, RemoteError};
use crate::sync::merge::{agreed_base, local_fields, normalize, remote_fields};
use crate::sync::plan::{Action, ActionKind, Batch, LifeOp};
use crate::sync::retry::retry;
use crate::sync::{Ctx, SyncError};
use residentdesk_domain::wire::{BulkActionBody, ImportBody, JobStatus, ResidentInput};
use residentdesk_domain::{BulkAction, ConflictKind, OutboxOp, OutboxState, ResidentField};
use serde_json::{json, Map, Value};
use std::time::Instant;

pub(super) async fn run_batch<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    snap: &mut Snapshots,
    batch: Batch,
    started: &mut Vec<Started>,
) -> Result<Results, SyncError> {
    match batch {
        Batch::Nothing(a) => {
            let n =
                settle(cx, &a.entry_ids, OutboxState::Done, Some("nothing to send: created and purged before sync"))?;
            cx.report.done += n;
            cx.report.coalesced += n;
            Ok(vec![(chain_key(&a), Outcome::Next, None)])
        }
        Batch::Single(a) => {
            *cx.report.jobs.entry("single".into()).or_default() += 1;
            let key = chain_key(&a);
            let (outcome, rid) = single(cx, snap, &a).await?;
            Ok(vec![(key, outcome, rid)])
        }
        Batch::Import { site_id, actions } => import(cx, snap, site_id, actions, started).await,
        Batch::Bulk { site_id, action, actions } => bulk(cx, site_id, action, actions, started).await,
    }
}

/// Moves the entries of `actions` `pending` → `in_flight` under a new job (compare-and-set
/// per action; see [`sync_state::job_start`]), committed before sending, after checking in
/// the same transaction that this pass still holds the lease. Returns the job and, per
/// action, whether it is in it; `None` when no action could be taken. An action not taken
/// (a person discarded one of its entries, another pass took them) must not be sent.
fn mark_in_flight<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    site_id: i64,
    kind: &str,
    action: &str,
    actions: &[&Action],
) -> Result<Option<(i64, Vec<bool>)>, SyncError> {
    let groups: Vec<&[i64]> = actions.iter().map(|a| a.entry_ids.as_slice()).collect();
    let now = cx.db.now();
    let tx = crate::store::begin_immediate(cx.db.conn).map_err(crate::AppError::from)?;
    if let Some(held) = cx.lease.as_mut() {
        held.renew_in(&tx, now)?;
    }
    let start = sync_state::job_start(&tx, site_id, kind, action, &groups, now)?;
    tx.commit()?;
    let moved = start.as_ref().map(|s| s.moved.clone()).unwrap_or_else(|| vec![false; actions.len()]);
    for (a, ok) in actions.iter().zip(&moved) {
        if *ok {
            cx.flying.extend(a.entry_ids.iter().copied());
        } else {
            cx.report.taken_elsewhere += a.entry_ids.len() as u64;
        }
    }
    Ok(start.map(|s| (s.job_id, s.moved)))
}

pub(super) fn input_of(body: &Value) -> Result<ResidentInput, String> {
    let mut obj = match body {
        Value::Object(m) => m.clone(),
        _ => return Err("the stored change has no resident values".into()),
    };
    obj.retain(|k, _| ResidentField::parse(k).is_some());
    serde_json::from_value(Value::Object(obj)).map_err(|e| format!("the stored change cannot be sent: {e}"))
}

async fn single<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    snap: &mut Snapshots,
    a: &Action,
) -> Result<(Outcome, Option<String>), SyncError> {
    let Some(site) = cx.site_remote(a.site_id) else {
        later(cx, a, "the site is not linked to the remote yet")?;
        return Ok((Outcome::Stop, None));
    };
    let team = cx.team_remote.clone();
    let (remote, policy) = (cx.remote, cx.opts.retry);
    match &a.kind {
        ActionKind::Nothing => {
            finish(cx, a, OutboxState::Done, Some("nothing to send"))?;
            Ok((Outcome::Next, None))
        }
        ActionKind::Unknown(op) => {
            finish(
                cx,
                a,
                OutboxState::Rejected,
                Some(&format!("unknown operation {op:?}; this version cannot send it")),
            )?;
            Ok((Outcome::Stop, None))
        }
        ActionKind::Create { body } => {
            let input = match input_of(body) {
                Ok(i) => i,
                Err(m) => {
                    finish(cx, a, OutboxState::Rejected, Some(&m))?;
                    return Ok((Outcome::Stop, None));
                }
            };
            if mark_in_flight(cx, a.site_id, "single", OutboxOp::Create.as_str(), &[a])?.is_none() {
                return Ok((Outcome::Stop, None));
            }
            match retry(&policy, false, || remote.create_resident(&team, &site, &input)).await {
                Ok(r) => {
                    let rid = created(cx, a, &r, "")?;
                    if let Some(s) = snap.sites.get_mut(&a.site_id) {
                        s.put(r);
                    }
                    Ok((Outcome::Next, rid))
                }
                Err(e) => failed(cx, snap, a, e).await,
            }
        }
        ActionKind::Update { body, changed, base } => update(cx, snap, a, &site, body, changed, base).await,
        ActionKind::Life(op) => {
            let Some(id) = a.remote_id.clone() else {
                finish(
                    cx,
                    a,
                    OutboxState::Rejected,
                    Some("the resident is not on the remote (its creation did not go through)"),
                )?;
                return Ok((Outcome::Stop, None));
            };
            if mark_in_flight(cx, a.site_id, "single", op.as_str(), &[a])?.is_none() {
                return Ok((Outcome::Stop, None));
            }
            let result = match op {
                LifeOp::Terminate => retry(&policy, true, || remote.terminate(&team, &site, &id)).await,
                LifeOp::Purge => retry(&policy, true, || remote.purge(&team, &site, &id)).await,
                LifeOp::Invite => retry(&policy, false, || remote.invite(&team, &site, &id)).await,
                LifeOp::PskReset => retry(&policy, false, || remote.psk_reset(&team, &site, &id)).await,
                LifeOp::Suspend => retry(&policy, true, || remote.set_status(&team, &site, &id, "Disabled")).await,
                LifeOp::Unsuspend => retry(&policy, true, || remote.set_status(&team, &site, &id, "Active")).await,
                LifeOp::OnboardNow => {
                    let body = BulkActionBody {
                        action: BulkAction::OnboardNow.as_str().into(),
                        resident_ids: Some(vec![id.clone()]),
                    };
                    retry(&policy, false, || remote.start_bulk(&team, &site, &body)).await
                }
            };
            match result {
                Ok(_) => {
                    finish(cx, a, OutboxState::Done, None)?;
                    Ok((Outcome::Next, None))
                }
                Err(e) => failed(cx, snap, a, e).await,
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn update<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    snap: &mut Snapshots,
    a: &Action,
    site: &str,
    body: &Value,
    changed: &std::collections::BTreeSet<String>,
    base: &Map<String, Value>,
) -> Result<(Outcome, Option<String>), SyncError> {
    let email = a.email.clone().unwrap_or_default();
    let Some(s) = snapshot(cx, snap, a.site_id, false).await? else {
        later(cx, a, "the remote residents could not be read")?;
        return Ok((Outcome::Stop, None));
    };
    let current = match &a.remote_id {
        Some(id) => s.by_id.get(id).cloned(),
        None => s.email(&email).cloned(),
    };
    let Some(current) = current else {
        return purged_while_changed(cx, a);
    };
    let Some(id) = current.resident_id.clone() else {
        later(cx, a, "the remote resident has no ResidentId")?;
        return Ok((Outcome::Stop, None));
    };
    // The API's PUT replaces the whole object and has no condition (no version to match), so
    // whatever another desk wrote between our read and our PUT would be overwritten without a
    // conflict. The site's snapshot may be seconds old by now (a pass sends many changes):
    // read this one resident again just before comparing, so that window is one round trip
    // (the many-desks soak, examples/soak_desks.rs, found edits lost in it). The entry is
    // marked in flight before that read, not between the read and the PUT: the mark is a
    // commit (an fsync, milliseconds on a busy desk) that would widen the window; a crash
    // after it leaves an in-flight update that recovery sends again, reading first.
    if mark_in_flight(cx, a.site_id, "single", OutboxOp::Update.as_str(), &[a])?.is_none() {
        return Ok((Outcome::Stop, None));
    }
    let (remote, team, policy) = (cx.remote, cx.team_remote.clone(), cx.opts.retry);
    let current = match retry(&policy, true, || remote.resident(&team, site, &id)).await {
        Ok(fresh) => fresh,
        Err(RemoteError::Rejected { status: 404, .. }) => return purged_while_changed(cx, a),
        Err(e) => return failed(cx, snap, a, e).await,
    };
    let cur = remote_fields(&current);
    let local = normalize(body.as_object().unwrap_or(&Map::new()));
    let base_n = normalize(base);
    let mut disputed = Map::new();
    let mut merged = cur.clone();
    // An entry written before anything was pulled has only nulls as base: nothing to compare.
    let base_known = base.values().any(|v| !v.is_null());
    for f in changed {
        let (l, r) = (local.get(f).cloned().unwrap_or(Value::Null), cur.get(f).cloned().unwrap_or(Value::Null));
        if base_known && base.contains_key(f) {
            let b = base_n.get(f).cloned().unwrap_or(Value::Null);
            if r != b && r != l {
                disputed.insert(f.clone(), json!({"base": b, "local": l, "remote": r}));
                continue;
            }
        }
        merged.insert(f.clone(), l);
    }
    if !disputed.is_empty() {
        let msg = crate::sync::merge::disputed_message(disputed.keys());
        conflict(cx, a, ConflictKind::Field, Value::Object(disputed), &msg)?;
        return Ok((Outcome::Stop, None));
    }
    if merged == cur {
        finish(cx, a, OutboxState::Done, Some("the remote already has these values"))?;
        return Ok((Outcome::Next, None));
    }
    let mut wire = merged.clone();
    wire.insert("Email".into(), current.email.clone().map(Value::String).unwrap_or(Value::String(email)));
    let input = match input_of(&Value::Object(wire)) {
        Ok(i) => i,
        Err(m) => {
            finish(cx, a, OutboxState::Rejected, Some(&m))?;
            return Ok((Outcome::Stop, None));
        }
    };
    // Sent once per pass: a PUT that fails is not sent again with the same body after a
    // wait (another desk may have written meanwhile, and a PUT has no condition); the entry
    // waits for the next pass, which reads the resident again and compares first.
    let once = crate::sync::retry::RetryPolicy { max_attempts: 1, ..policy };
    match retry(&once, true, || remote.update_resident(&team, site, &id, &input)).await {
        Ok(r) => {
            let now = cx.db.now();
            let answered = remote_fields(&r);
            cx.write(|tx| {
                if let Some(res) = a.resident_id {
                    if let Some(row) = store::residents::get(tx, res)? {
                        // The base is what this desk and the remote last agreed on: the PUT
                        // makes them agree on the fields it changed, not on the others it
                        // carried from the fresh read, which may be another desk's values this
                        // row has not merged yet (the many-desks soak lost an edit when the
                        // whole answer became the base).
                        let old = store::residents::remote_base(tx, res)?;
                        let agreed =
                            agreed_base(old.as_ref().and_then(Value::as_object), &local_fields(&row), &answered);
                        store::residents::set_remote_base(tx, res, &Value::Object(agreed), now)?;
                    }
                }
                Ok(())
            })?;
            finish(cx, a, OutboxState::Done, None)?;
            if let Some(s) = snap.sites.get_mut(&a.site_id) {
                s.put(r);
            }
            Ok((Outcome::Next, None))
        }
        Err(e) => failed(cx, snap, a, e).await,
    }
}

/// An update whose resident is gone from the remote (not in the snapshot, or 404 on the fresh
/// read): a conflict for a person, the entry stops.
fn purged_while_changed<R: RemoteApi>(cx: &mut Ctx<'_, R>, a: &Action) -> Result<(Outcome, Option<String>), SyncError> {
    conflict(cx, a, ConflictKind::RemotePurge, json!({}), "the resident was purged on the remote while changed here")?;
    Ok((Outcome::Stop, None))
}

/// Creates at one site through an import job.
async fn import<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    snap: &mut Snapshots,
    site_id: i64,
    actions: Vec<Action>,
    started: &mut Vec<Started>,
) -> Result<Results, SyncError> {
    let mut out = Vec::new();
    let mut rows = Vec::new();
    let mut sendable = Vec::new();
    for a in actions {
        let ActionKind::Create { body } = &a.kind else { continue };
        match input_of(body) {
            Ok(i) => {
                rows.push(i);
                sendable.push(a);
            }
            Err(m) => {
                finish(cx, &a, OutboxState::Rejected, Some(&m))?;
                out.push((chain_key(&a), Outcome::Stop, None));
            }
        }
    }
    if sendable.is_empty() {
        return Ok(out);
    }
    let Some(site) = cx.site_remote(site_id) else { return Ok(out) };
    let refs: Vec<&Action> = sendable.iter().collect();
    let Some((job, moved)) = mark_in_flight(cx, site_id, "import", OutboxOp::Create.as_str(), &refs)? else {
        out.extend(sendable.iter().map(|a| (chain_key(a), Outcome::Stop, None)));
        return Ok(out);
    };
    *cx.report.jobs.entry("import".into()).or_default() += 1;
    // Only the actions whose entries this pass moved go out.
    let mut taken = Vec::new();
    let mut taken_rows = Vec::new();
    for ((a, row), ok) in sendable.into_iter().zip(rows).zip(moved) {
        if ok {
            taken.push(a);
            taken_rows.push(row);
        } else {
            out.push((chain_key(&a), Outcome::Stop, None));
        }
    }
    let (sendable, rows) = (taken, taken_rows);
    let body = ImportBody { residents: rows };
    let (remote, team, policy) = (cx.remote, cx.team_remote.clone(), cx.opts.retry);
    match retry(&policy, false, || remote.start_import(&team, &site, &body)).await {
        Ok(job_id) => {
            let now = cx.db.now();
            cx.write(|tx| Ok(sync_state::job_started(tx, job, &job_id, now)?))?;
            started.push(Started::Import { job, site_id, actions: sendable, remote_job: job_id, at: Instant::now() });
        }
        Err(e) if e.outcome_unknown() => {
            out.extend(lookup_creates(cx, snap, job, site_id, &sendable, &e.to_string()).await?)
        }
        Err(e) => {
            for a in &sendable {
                let (o, rid) = failed(cx, snap, a, e.clone()).await?;
                out.push((chain_key(a), o, rid));
            }
            close_job(cx, job, "abandoned")?;
        }
    }
    Ok(out)
}

pub(super) fn close_job<R: RemoteApi>(cx: &mut Ctx<'_, R>, job: i64, state: &str) -> AppResult<()> {
    let now = cx.db.now();
    cx.write(|tx| Ok(sync_state::job_close(tx, job, state, now)?))
}

/// Polls a job with backoff until it has finished (None: not within the pass's limit, or
/// the remote no longer knows it).
pub(super) async fn poll<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    site: &str,
    job: &str,
    bulk: bool,
    sent_at: Option<Instant>,
) -> Result<Result<JobStatus, RemoteError>, SyncError> {
    let (remote, team, policy) = (cx.remote, cx.team_remote.clone(), cx.opts.retry);
    let started = Instant::now();
    // The first poll waits `poll_first` after the job was sent (at once for a job sent long
    // ago, e.g. found in flight after a restart, or while other jobs were being polled).
    let mut delay = sent_at.map(|t| cx.opts.poll_first.saturating_sub(t.elapsed())).unwrap_or_default();
    let mut next = cx.opts.poll_first;
    loop {
        tokio::time::sleep(delay).await;
        cx.keep_lease()?;
        let status = if bulk {
            retry(&policy, true, || remote.bulk_status(&team, site, job)).await
        } else {
            retry(&policy, true, || remote.import_status(&team, site, job)).await
        };
        match status {
            Ok(s) if s.is_finished() => return Ok(Ok(s)),
            Ok(s) => cx.progress("poll", s.success + s.failed, s.total),
            Err(RemoteError::Auth(m)) => return Err(SyncError::Auth(RemoteError::Auth(m).to_string())),
            Err(e) => return Ok(Err(e)),
        }
        if started.elapsed() > cx.opts.job_timeout {
            return Ok(Err(RemoteError::Network(format!("job {job} still running after {:?}", cx.opts.job_timeout))));
        }
        delay = next;
        next = (next * 2).min(cx.opts.poll_cap);
    }
}

/// The same lifecycle action on many residents of one site through a bulk-action job.
async fn bulk<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    site_id: i64,
    action: BulkAction,
    actions: Vec<Action>,
    started: &mut Vec<Started>,
) -> Result<Results, SyncError> {
    let Some(site) = cx.site_remote(site_id) else { return Ok(Vec::new()) };
    let refs: Vec<&Action> = actions.iter().collect();
    let Some((job, moved)) = mark_in_flight(cx, site_id, "bulk", action.as_str(), &refs)? else {
        return Ok(actions.iter().map(|a| (chain_key(a), Outcome::Stop, None)).collect());
    };
    *cx.report.jobs.entry("bulk".into()).or_default() += 1;
    // Only the actions whose entries this pass moved go out.
    let mut taken = Vec::new();
    let mut skipped: Results = Vec::new();
    for (a, ok) in actions.into_iter().zip(moved) {
        if ok {
            taken.push(a);
        } else {
            skipped.push((chain_key(&a), Outcome::Stop, None));
        }
    }
    let actions = taken;
    let ids: Vec<String> = actions.iter().filter_map(|a| a.remote_id.clone()).collect();
    let body = BulkActionBody { action: action.as_str().into(), resident_ids: Some(ids) };
    let (remote, team, policy) = (cx.remote, cx.team_remote.clone(), cx.opts.retry);
    match retry(&policy, false, || remote.start_bulk(&team, &site, &body)).await {
        Ok(job_id) => {
            let now = cx.db.now();
            cx.write(|tx| Ok(sync_state::job_started(tx, job, &job_id, now)?))?;
            started.push(Started::Bulk { job, site_id, action, actions, remote_job: job_id, at: Instant::now() });
            Ok(skipped)
        }
        Err(e) => {
            close_job(cx, job, "abandoned")?;
            let mut out = skipped;
            let mut snap = Snapshots::default();
            for a in &actions {
                let (o, rid) = failed(cx, &mut snap, a, e.clone()).await?;
                out.push((chain_key(a), o, rid));
            }
            Ok(out)
        }
    }
}
