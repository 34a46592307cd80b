//! Write-back: an entry's state moved from the one this pass expects (compare-and-set),
//! successful creates and updates recorded with their remote ids and bases, a failed request
//! turned into done, rejected, a conflict or later, and a finished job's per-resident results
//! applied (import items matched by email, bulk items by ResidentId).

use super::recovery::lookup_creates;
use super::send::{close_job, poll};
use super::{chain_key, snapshot, Outcome, Results, Snapshots, UNKNOWN_AT_MOST_ONCE};
use crate::error::AppResult;
use crate::store::{self, conflicts::NewConflict, sync_state};
use crate::sync::client::{RemoteApi, RemoteError};
use crate::sync::merge::{agreed_base, local_fields, normalize, remote_fields};
use crate::sync::plan::{Action, ActionKind, LifeOp};
use crate::sync::{Ctx, SyncError};
use residentdesk_domain::wire::{JobItem, ResidentObject};
use residentdesk_domain::{BulkAction, ConflictKind, OutboxOp, OutboxState, ResidentField};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::time::Instant;

/// The entries of `ids`, each with the state this pass expects it in.
fn expected<R: RemoteApi>(cx: &Ctx<'_, R>, ids: &[i64]) -> Vec<(i64, OutboxState)> {
    ids.iter().map(|id| (*id, cx.expected(*id))).collect()
}

/// Moves entries from their expected state to `to`, one compare-and-set each, in the
/// caller's transaction; returns how many moved (the others changed hands meanwhile).
fn settle_in(
    tx: &rusqlite::Transaction<'_>,
    from: &[(i64, OutboxState)],
    to: OutboxState,
    msg: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<u64> {
    let mut moved = 0;
    let mut done = Vec::new();
    for (id, state) in from {
        if sync_state::transition(tx, *id, &[*state], to, msg, now)? {
            moved += 1;
            done.push(*id);
        }
    }
    // A purge pushed (or found needless): the resident's data is no longer needed to sync,
    // so it goes in this same transaction (purge means gone).
    if to == OutboxState::Done && !done.is_empty() {
        store::scrub::after_pushed(tx, &done, now)?;
    }
    Ok(moved)
}

/// After a transition this pass no longer holds the entries in flight (whether they moved
/// or someone else had changed them).
fn landed<R: RemoteApi>(cx: &mut Ctx<'_, R>, from: &[(i64, OutboxState)]) {
    for (id, _) in from {
        cx.flying.remove(id);
    }
}

/// Moves entries from their expected state to `to` in a transaction of their own.
pub(super) fn settle<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    ids: &[i64],
    to: OutboxState,
    msg: Option<&str>,
) -> AppResult<u64> {
    let from = expected(cx, ids);
    let now = cx.db.now();
    let moved = cx.write(|tx| settle_in(tx, &from, to, msg, now))?;
    landed(cx, &from);
    Ok(moved)
}

pub(super) fn finish<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    a: &Action,
    state: OutboxState,
    msg: Option<&str>,
) -> AppResult<()> {
    let n = settle(cx, &a.entry_ids, state, msg)?;
    match state {
        OutboxState::Done => {
            cx.report.done += n;
            cx.report.coalesced += n.saturating_sub(1);
        }
        OutboxState::Rejected => cx.report.rejected += n,
        OutboxState::Conflict => cx.report.conflict_entries += n,
        _ => {}
    }
    Ok(())
}

pub(super) fn later<R: RemoteApi>(cx: &mut Ctx<'_, R>, a: &Action, msg: &str) -> AppResult<()> {
    cx.report.retry_later += settle(cx, &a.entry_ids, OutboxState::Pending, Some(msg))?;
    cx.note_error(msg);
    Ok(())
}

/// Records a conflict holding the action's entries (those still in the state this pass
/// expects; none left: no conflict).
pub(super) fn conflict<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    a: &Action,
    kind: ConflictKind,
    fields: Value,
    message: &str,
) -> AppResult<()> {
    let now = cx.db.now();
    let from = expected(cx, &a.entry_ids);
    let held = cx.write(|tx| {
        let mut held = Vec::new();
        for (id, state) in &from {
            if sync_state::transition(tx, *id, &[*state], OutboxState::Conflict, Some(message), now)? {
                held.push(*id);
            }
        }
        if held.is_empty() {
            return Ok(held);
        }
        store::conflicts::insert(
            tx,
            &NewConflict {
                site_id: a.site_id,
                resident_id: a.resident_id,
                remote_id: a.remote_id.as_deref(),
                email: a.email.as_deref(),
                kind,
                fields,
                entry_ids: &held,
                message,
            },
            now,
        )?;
        Ok(held)
    })?;
    landed(cx, &from);
    if !held.is_empty() {
        cx.report.conflicts_recorded += 1;
        cx.report.conflict_entries += held.len() as u64;
    }
    Ok(())
}

/// Writes a successful create (in the caller's transaction): the remote id on the resident
/// and its entries, the base, the entries done (from their expected states `from`).
/// Returns how many entries moved.
fn record_created(
    tx: &rusqlite::Transaction<'_>,
    a: &Action,
    from: &[(i64, OutboxState)],
    r: &ResidentObject,
    note: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<u64> {
    let rid = r.resident_id.clone();
    if let (Some(res), Some(rid)) = (a.resident_id, &rid) {
        if store::residents::get(tx, res)?.is_some() {
            store::residents::set_remote_id(tx, res, rid)?;
            store::residents::set_remote_base(tx, res, &Value::Object(remote_fields(r)), now)?;
        }
        store::outbox::set_remote_id_for_resident(tx, res, rid)?;
    }
    if let Some(rid) = &rid {
        for id in &a.entry_ids {
            sync_state::set_entry_remote_id(tx, *id, rid)?;
        }
    }
    settle_in(tx, from, OutboxState::Done, Some(note).filter(|n| !n.is_empty()), now)
}

/// Records successful creates in one transaction.
fn created_many<R: RemoteApi>(cx: &mut Ctx<'_, R>, done: &[(&Action, ResidentObject)], note: &str) -> AppResult<()> {
    let now = cx.db.now();
    let from: Vec<Vec<(i64, OutboxState)>> = done.iter().map(|(a, _)| expected(cx, &a.entry_ids)).collect();
    let moved = cx.write(|tx| {
        let mut moved = Vec::with_capacity(done.len());
        for ((a, r), from) in done.iter().zip(&from) {
            moved.push(record_created(tx, a, from, r, note, now)?);
        }
        Ok(moved)
    })?;
    for (from, n) in from.iter().zip(moved) {
        landed(cx, from);
        cx.report.done += n;
        cx.report.coalesced += n.saturating_sub(1);
    }
    Ok(())
}

/// Records a successful create.
pub(super) fn created<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    a: &Action,
    r: &ResidentObject,
    note: &str,
) -> AppResult<Option<String>> {
    created_many(cx, &[(a, r.clone())], note)?;
    Ok(r.resident_id.clone())
}

/// Marks many actions done in one transaction, with their new bases.
fn done_many<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    done: &[(&Action, Option<Value>)],
    note: Option<&str>,
) -> AppResult<()> {
    let now = cx.db.now();
    let from: Vec<Vec<(i64, OutboxState)>> = done.iter().map(|(a, _)| expected(cx, &a.entry_ids)).collect();
    let moved = cx.write(|tx| {
        let mut moved = Vec::with_capacity(done.len());
        for ((a, base), from) in done.iter().zip(&from) {
            if let (Some(res), Some(Value::Object(answered))) = (a.resident_id, base) {
                if let Some(row) = store::residents::get(tx, res)? {
                    // Agreed only where the row holds what the remote answered (a bulk
                    // action's answer carries every field, other desks' values included).
                    let old = store::residents::remote_base(tx, res)?;
                    let agreed = agreed_base(old.as_ref().and_then(Value::as_object), &local_fields(&row), answered);
                    store::residents::set_remote_base(tx, res, &Value::Object(agreed), now)?;
                }
            }
            moved.push(settle_in(tx, from, OutboxState::Done, note, now)?);
        }
        Ok(moved)
    })?;
    for (from, n) in from.iter().zip(moved) {
        landed(cx, from);
        cx.report.done += n;
        cx.report.coalesced += n.saturating_sub(1);
    }
    Ok(())
}

/// Whether a remote resident found by email is the one this create would have made.
fn same_person(a: &Action, r: &ResidentObject) -> bool {
    let ActionKind::Create { body } = &a.kind else { return false };
    let mine = normalize(body.as_object().unwrap_or(&Map::new()));
    let theirs = remote_fields(r);
    ResidentField::IDENTITY.iter().all(|f| mine.get(f.as_str()) == theirs.get(f.as_str()))
}

fn is_unit_taken(e: &RemoteError) -> bool {
    matches!(e, RemoteError::Rejected { status: 409, message } if message.to_lowercase().contains("occupied"))
}

fn text_of(v: &Value, f: &str) -> String {
    v.get(f).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// Handles a failed single request; returns the outcome for the chain.
pub(super) async fn failed<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    snap: &mut Snapshots,
    a: &Action,
    e: RemoteError,
) -> Result<(Outcome, Option<String>), SyncError> {
    let op = a.op_name();
    match e {
        RemoteError::Auth(m) => {
            let msg = RemoteError::Auth(m).to_string();
            settle(cx, &a.entry_ids, OutboxState::Pending, Some(&msg))?;
            Err(SyncError::Auth(msg))
        }
        e if is_unit_taken(&e) => {
            let body = match &a.kind {
                ActionKind::Create { body } | ActionKind::Update { body, .. } => body.clone(),
                _ => Value::Null,
            };
            let fields = json!({"Unit": {
                "local": format!("{}/{}/{}", text_of(&body, "Building"), text_of(&body, "Floor"), text_of(&body, "Unit")),
                "remote": e.to_string(),
            }});
            conflict(cx, a, ConflictKind::UnitTaken, fields, &format!("the unit was taken in Site Manager: {e}"))?;
            Ok((Outcome::Stop, None))
        }
        RemoteError::Rejected { status: 404, .. }
            if matches!(a.kind, ActionKind::Life(LifeOp::Purge | LifeOp::Terminate)) =>
        {
            finish(cx, a, OutboxState::Done, Some("already gone on the remote"))?;
            Ok((Outcome::Next, None))
        }
        RemoteError::Rejected { status: 404, message } if a.remote_id.is_some() => {
            conflict(
                cx,
                a,
                ConflictKind::RemotePurge,
                json!({}),
                &format!("the resident was purged on the remote while changed here ({op}: {message})"),
            )?;
            Ok((Outcome::Stop, None))
        }
        RemoteError::Rejected { status: 409, message } if op == OutboxOp::Create.as_str() => {
            // Our own earlier attempt (a lost answer, a lost job, a crash) may have created it.
            let email = a.email.clone().unwrap_or_default();
            let found = snapshot(cx, snap, a.site_id, true).await?.and_then(|s| s.email(&email).cloned());
            match found.filter(|r| same_person(a, r)) {
                Some(r) => {
                    let rid = created(cx, a, &r, "already on the remote (an earlier attempt went through)")?;
                    Ok((Outcome::Next, rid))
                }
                None => {
                    finish(cx, a, OutboxState::Rejected, Some(&message))?;
                    Ok((Outcome::Stop, None))
                }
            }
        }
        RemoteError::Rejected { message, .. } => {
            finish(cx, a, OutboxState::Rejected, Some(&message))?;
            Ok((Outcome::Stop, None))
        }
        e if e.outcome_unknown() && op == OutboxOp::Create.as_str() => {
            let email = a.email.clone().unwrap_or_default();
            let found = snapshot(cx, snap, a.site_id, true).await?.and_then(|s| s.email(&email).cloned());
            match found {
                Some(r) => {
                    let rid = created(cx, a, &r, "")?;
                    Ok((Outcome::Next, rid))
                }
                None => {
                    later(cx, a, &format!("{op}: {e}"))?;
                    Ok((Outcome::Stop, None))
                }
            }
        }
        e if e.outcome_unknown() && matches!(a.kind, ActionKind::Life(op) if !op.idempotent()) => {
            finish(cx, a, OutboxState::Rejected, Some(&format!("{e}: {UNKNOWN_AT_MOST_ONCE}")))?;
            Ok((Outcome::Stop, None))
        }
        e => {
            later(cx, a, &format!("{op} {}: {e}", a.email.as_deref().unwrap_or("")))?;
            Ok((Outcome::Stop, None))
        }
    }
}

/// A failed import row that the remote refused as a conflict (unit occupied, email exists).
fn is_conflict_item(item: &JobItem) -> bool {
    let text = item.result.to_lowercase();
    (item.field.as_deref() == Some("Unit") && text.contains("occupied"))
        || (item.field.as_deref() == Some("Email")
            && (text.contains("exist") || text.contains("taken") || text.contains("already")))
}

/// Whether a bulk item that failed as ineligible is already in the state the action wants
/// (an earlier attempt went through).
fn already_applied(action: BulkAction, item: &JobItem) -> bool {
    let status: Vec<String> = item
        .resident
        .get("Status")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_lowercase).collect())
        .unwrap_or_default();
    let has = |s: &str| status.iter().any(|x| x == s);
    match action {
        BulkAction::Terminate => has("expired"),
        BulkAction::Suspend => has("suspended"),
        BulkAction::Unsuspend => !status.is_empty() && !has("suspended"),
        _ => false,
    }
}

fn item_resident(item: &JobItem) -> Option<ResidentObject> {
    serde_json::from_value(Value::Object(item.resident.clone())).ok()
}

/// Polls an import job and applies its per-resident results (matched by email).
pub(super) async fn finish_import<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    snap: &mut Snapshots,
    job: i64,
    site_id: i64,
    actions: &[Action],
    remote_job: &str,
    sent_at: Option<Instant>,
) -> Result<Results, SyncError> {
    let Some(site) = cx.site_remote(site_id) else { return Ok(Vec::new()) };
    let status = match poll(cx, &site, remote_job, false, sent_at).await? {
        Ok(s) => s,
        Err(RemoteError::Rejected { status: 404, .. }) => {
            return lookup_creates(cx, snap, job, site_id, actions, "the remote no longer knows the import job").await
        }
        Err(e) => {
            cx.note_error(format!("import job {remote_job}: {e}; its entries stay in flight until it finishes"));
            cx.report.retry_later += actions.iter().map(|a| a.entry_ids.len() as u64).sum::<u64>();
            return Ok(actions.iter().map(|a| (chain_key(a), Outcome::Stop, None)).collect());
        }
    };
    let result = status.result.unwrap_or_default();
    let mut ok: HashMap<String, &JobItem> = HashMap::new();
    for item in &result.success {
        if let Some(e) = item.email() {
            ok.insert(e.trim().to_lowercase(), item);
        }
    }
    let mut bad: HashMap<String, &JobItem> = HashMap::new();
    for item in &result.failed {
        if let Some(e) = item.email() {
            bad.insert(e.trim().to_lowercase(), item);
        }
    }
    let mut out = Vec::new();
    let mut done = Vec::new();
    for a in actions {
        let email = a.email.clone().unwrap_or_default().trim().to_lowercase();
        if let Some(r) = ok.get(&email).and_then(|i| item_resident(i)) {
            out.push((chain_key(a), Outcome::Next, r.resident_id.clone()));
            done.push((a, r));
        }
    }
    created_many(cx, &done, "")?;
    for a in actions {
        let email = a.email.clone().unwrap_or_default().trim().to_lowercase();
        if ok.get(&email).and_then(|i| item_resident(i)).is_some() {
            continue;
        } else if let Some(item) = bad.get(&email) {
            let e = RemoteError::Rejected {
                status: if is_conflict_item(item) { 409 } else { 400 },
                message: item.result.clone(),
            };
            let (o, rid) = failed(cx, snap, a, e).await?;
            out.push((chain_key(a), o, rid));
        } else {
            later(cx, a, &format!("import job {remote_job} did not report {email}"))?;
            out.push((chain_key(a), Outcome::Stop, None));
        }
    }
    close_job(cx, job, "finished")?;
    Ok(out)
}

/// Polls a bulk job and applies its per-resident results (matched by ResidentId).
pub(super) async fn finish_bulk<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    job: i64,
    site_id: i64,
    action: BulkAction,
    actions: &[Action],
    remote_job: &str,
    sent_at: Option<Instant>,
) -> Result<Results, SyncError> {
    let Some(site) = cx.site_remote(site_id) else { return Ok(Vec::new()) };
    let mut snap = Snapshots::default();
    let status = match poll(cx, &site, remote_job, true, sent_at).await? {
        Ok(s) => s,
        Err(e) => {
            let gone = matches!(e, RemoteError::Rejected { status: 404, .. });
            if !gone {
                cx.note_error(format!("bulk job {remote_job}: {e}; its entries stay in flight until it finishes"));
                cx.report.retry_later += actions.iter().map(|a| a.entry_ids.len() as u64).sum::<u64>();
                return Ok(actions.iter().map(|a| (chain_key(a), Outcome::Stop, None)).collect());
            }
            close_job(cx, job, "abandoned")?;
            let mut out = Vec::new();
            for a in actions {
                let e = RemoteError::Network("the remote no longer knows the bulk job".into());
                let (o, rid) = failed(cx, &mut snap, a, e).await?;
                out.push((chain_key(a), o, rid));
            }
            return Ok(out);
        }
    };
    let result = status.result.unwrap_or_default();
    let ok: HashMap<&str, &JobItem> = result.success.iter().filter_map(|i| i.resident_id().map(|id| (id, i))).collect();
    let bad: HashMap<&str, &JobItem> = result.failed.iter().filter_map(|i| i.resident_id().map(|id| (id, i))).collect();
    let mut out = Vec::new();
    let mut done = Vec::new();
    for a in actions {
        let id = a.remote_id.clone().unwrap_or_default();
        if let Some(item) = ok.get(id.as_str()) {
            let base = item_resident(item).filter(|r| r.first_name.is_some()).map(|r| Value::Object(remote_fields(&r)));
            done.push((a, base));
            out.push((chain_key(a), Outcome::Next, None));
        }
    }
    done_many(cx, &done, None)?;
    for a in actions {
        let id = a.remote_id.clone().unwrap_or_default();
        if ok.contains_key(id.as_str()) {
            continue;
        } else if bad.get(id.as_str()).is_some_and(|i| already_applied(action, i)) {
            finish(cx, a, OutboxState::Done, Some("already applied on the remote"))?;
            out.push((chain_key(a), Outcome::Next, None));
        } else if let Some(item) = bad.get(id.as_str()) {
            let not_found = item.result.to_lowercase().contains("not found");
            let e = RemoteError::Rejected { status: if not_found { 404 } else { 400 }, message: item.result.clone() };
            let (o, rid) = failed(cx, &mut snap, a, e).await?;
            out.push((chain_key(a), o, rid));
        } else {
            later(cx, a, &format!("bulk job {remote_job} did not report resident {id}"))?;
            out.push((chain_key(a), Outcome::Stop, None));
        }
    }
    close_job(cx, job, "finished")?;
    Ok(out)
}
