//! Push: reconcile what a crash left in flight, then send the outbox in rounds — the next
//! coalesced action of every resident, batched into import / bulk-action jobs where many go
//! to one site — and end every entry done, rejected (with the remote's reason) or in
//! conflict. Entries are marked in flight, with their job, in a committed transaction
//! before each request leaves.
//!
//! One pass at a time holds the database's lease (see [`super::lease`]), and every change
//! of an entry's state is a compare-and-set from the state this pass expects it in
//! (`pending`, or `in_flight` once this pass marked it or found it left in flight): an
//! entry someone else changed meanwhile (a person discarded it, another pass took it) is
//! left out of the request and its state is left alone.
//!
//! At-most-once operations: an invite, PSK reset or onboard-now whose outcome is unknown
//! (crash while in flight, or no answer) is never resent automatically; its entry is
//! rejected with that reason, and a person may retry it (`outbox retry`).

use super::client::{RemoteApi, RemoteError};
use super::merge::{normalize, remote_fields};
use super::plan::{self, Action, ActionKind, Batch, LifeOp};
use super::retry::retry;
use super::{Ctx, SyncError};
use crate::error::AppResult;
use crate::store::{self, conflicts::NewConflict, outbox::Entry, sync_state};
use residentdesk_domain::wire::{BulkActionBody, ImportBody, JobItem, JobStatus, ResidentInput, ResidentObject};
use residentdesk_domain::BulkAction;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::Instant;

/// The entries of `ids`, each with the state this pass expects it in.
fn expected<R: RemoteApi>(cx: &Ctx<'_, R>, ids: &[i64]) -> Vec<(i64, &'static str)> {
    ids.iter().map(|id| (*id, cx.expected(*id))).collect()
}

/// Moves entries from their expected state to `to`, one compare-and-set each, in the
/// caller's transaction; returns how many moved (the others changed hands meanwhile).
fn settle_in(
    tx: &rusqlite::Transaction<'_>,
    from: &[(i64, &'static str)],
    to: &str,
    msg: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<u64> {
    let mut moved = 0;
    for (id, state) in from {
        if sync_state::transition(tx, *id, &[state], to, msg, now)? {
            moved += 1;
        }
    }
    Ok(moved)
}

/// After a transition this pass no longer holds the entries in flight (whether they moved
/// or someone else had changed them).
fn landed<R: RemoteApi>(cx: &mut Ctx<'_, R>, from: &[(i64, &'static str)]) {
    for (id, _) in from {
        cx.flying.remove(id);
    }
}

/// Moves entries from their expected state to `to` in a transaction of their own.
fn settle<R: RemoteApi>(cx: &mut Ctx<'_, R>, ids: &[i64], to: &str, msg: Option<&str>) -> AppResult<u64> {
    let from = expected(cx, ids);
    let now = cx.db.now();
    let moved = cx.write(|tx| settle_in(tx, &from, to, msg, now))?;
    landed(cx, &from);
    Ok(moved)
}

/// What happened to one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Done: the resident's next action may go.
    Next,
    /// Rejected, in conflict or left for later: the resident's chain stops for this pass.
    Stop,
}

const UNKNOWN_AT_MOST_ONCE: &str = "no answer from the remote, so it may or may not have been sent; it is not \
                                    resent automatically (at most once) — retry it if the resident did not get it";

fn chain_key(a: &Action) -> String {
    match (a.resident_id, &a.email) {
        (Some(id), _) => format!("r{id}"),
        (None, Some(e)) => format!("e{e}"),
        (None, None) => format!("x{}", a.entry_ids.first().copied().unwrap_or_default()),
    }
}

fn entry_key(e: &Entry) -> String {
    match (e.resident_id, &e.email) {
        (Some(id), _) => format!("r{id}"),
        (None, Some(m)) => format!("e{m}"),
        (None, None) => format!("x{}", e.id),
    }
}

/// The push half of a pass.
pub(crate) async fn push<R: RemoteApi>(cx: &mut Ctx<'_, R>) -> Result<(), SyncError> {
    // The last remote check contradicts what a push relies on: send nothing (pull goes on).
    if let Some(why) = super::check::push_refusal(cx.db.conn)? {
        cx.report.push_held = super::check::push_held_ids(cx.db.conn)?;
        cx.note_error(why);
        return Ok(());
    }
    let site_ids: Vec<i64> = cx.sites.keys().copied().collect();
    let mut snap = Snapshots::default();
    let in_flight: Vec<Entry> = sync_state::unfinished_for_sites(cx.db.conn, &site_ids)?
        .into_iter()
        .filter(|e| e.state == "in_flight")
        .collect();
    // Under the lease nobody else is sending: whatever is in flight was left by a pass that
    // ended without finishing it, and is this pass's to reconcile.
    cx.flying.extend(in_flight.iter().map(|e| e.id));
    if !in_flight.is_empty() {
        recover(cx, &mut snap, in_flight).await?;
    }
    let entries = sync_state::unfinished_for_sites(cx.db.conn, &site_ids)?;
    let held: HashSet<String> = entries.iter().filter(|e| e.state != "pending").map(entry_key).collect();
    let pending: Vec<Entry> =
        entries.into_iter().filter(|e| e.state == "pending" && !held.contains(&entry_key(e))).collect();
    let total = pending.len() as u64;
    let mut chains: BTreeMap<String, VecDeque<Action>> = BTreeMap::new();
    for chain in plan::coalesce(&pending) {
        if let Some(first) = chain.first() {
            chains.insert(chain_key(first), chain.into_iter().collect());
        }
    }
    let mut remote_ids: HashMap<String, String> = HashMap::new();
    let mut sent = 0u64;
    while !chains.is_empty() {
        cx.keep_lease()?;
        let mut round = Vec::new();
        for (key, chain) in chains.iter_mut() {
            if let Some(mut a) = chain.pop_front() {
                if a.remote_id.is_none() {
                    a.remote_id = remote_ids.get(key).cloned();
                }
                round.push(a);
            }
        }
        let mut finished: Vec<(String, Outcome)> = Vec::new();
        let mut started: Vec<Started> = Vec::new();
        for batch in plan::batches(round, &cx.opts.limits) {
            let n: u64 = match &batch {
                Batch::Nothing(a) | Batch::Single(a) => a.entry_ids.len() as u64,
                Batch::Import { actions, .. } | Batch::Bulk { actions, .. } => {
                    actions.iter().map(|a| a.entry_ids.len() as u64).sum()
                }
            };
            cx.keep_lease()?;
            let results = run_batch(cx, &mut snap, batch, &mut started).await?;
            for (key, outcome, remote_id) in results {
                if let Some(id) = remote_id {
                    remote_ids.insert(key.clone(), id);
                }
                finished.push((key, outcome));
            }
            sent += n;
            cx.progress("push", sent, total);
        }
        for job in std::mem::take(&mut started) {
            let results = match job {
                Started::Import { job, site_id, actions, remote_job, at } => {
                    finish_import(cx, &mut snap, job, site_id, &actions, &remote_job, Some(at)).await?
                }
                Started::Bulk { job, site_id, action, actions, remote_job, at } => {
                    finish_bulk(cx, job, site_id, action, &actions, &remote_job, Some(at)).await?
                }
            };
            for (key, outcome, remote_id) in results {
                if let Some(id) = remote_id {
                    remote_ids.insert(key.clone(), id);
                }
                finished.push((key, outcome));
            }
        }
        for (key, outcome) in finished {
            if outcome == Outcome::Stop {
                chains.remove(&key);
            }
        }
        chains.retain(|_, c| !c.is_empty());
    }
    Ok(())
}

/// Per-pass cache of the remote residents of a site (by id and by email).
#[derive(Default)]
struct Snapshots {
    sites: HashMap<i64, Snapshot>,
}

#[derive(Default)]
struct Snapshot {
    by_id: HashMap<String, ResidentObject>,
    by_email: HashMap<String, String>,
}

impl Snapshot {
    fn from(list: Vec<ResidentObject>) -> Snapshot {
        let mut s = Snapshot::default();
        for r in list {
            s.put(r);
        }
        s
    }
    fn put(&mut self, r: ResidentObject) {
        if let Some(id) = r.resident_id.clone() {
            if let Some(e) = &r.email {
                self.by_email.insert(e.trim().to_lowercase(), id.clone());
            }
            self.by_id.insert(id, r);
        }
    }
    fn email(&self, email: &str) -> Option<&ResidentObject> {
        self.by_email.get(&email.trim().to_lowercase()).and_then(|id| self.by_id.get(id))
    }
}

/// The remote residents of a site: cached for the pass, or fetched fresh.
async fn snapshot<'s, R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    snap: &'s mut Snapshots,
    site_id: i64,
    fresh: bool,
) -> Result<Option<&'s mut Snapshot>, SyncError> {
    if fresh || !snap.sites.contains_key(&site_id) {
        let Some(site) = cx.site_remote(site_id) else { return Ok(None) };
        let (remote, team, policy) = (cx.remote, cx.team_remote.clone(), cx.opts.retry);
        match retry(&policy, true, || remote.residents(&team, &site)).await {
            Ok(list) => {
                snap.sites.insert(site_id, Snapshot::from(list));
            }
            Err(RemoteError::Auth(m)) => return Err(SyncError::Auth(RemoteError::Auth(m).to_string())),
            Err(e) => {
                cx.note_error(format!("cannot read the residents of site #{site_id}: {e}"));
                return Ok(None);
            }
        }
    }
    Ok(snap.sites.get_mut(&site_id))
}

/// Reconciles entries a crash (or a job still running) left in flight.
async fn recover<R: RemoteApi>(
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
        match e.op.as_str() {
            "create" => {
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
                        settle(cx, &[e.id], "pending", Some(msg))?;
                    }
                    None => {
                        settle(cx, &[e.id], "pending", Some("interrupted; the remote could not be checked yet"))?;
                    }
                }
            }
            "invite" | "psk_reset" | "onboard_now" => {
                let msg = format!("interrupted while sending: {UNKNOWN_AT_MOST_ONCE}");
                cx.report.rejected += settle(cx, &[e.id], "rejected", Some(&msg))?;
            }
            _ => {
                settle(cx, &[e.id], "pending", Some("interrupted while sending; resending (safe to repeat)"))?;
            }
        }
    }
    Ok(())
}

type Results = Vec<(String, Outcome, Option<String>)>;

/// A job started in this round, finished (polled and applied) once every job of the round
/// has been started, so jobs at different sites run on the remote at the same time.
enum Started {
    Import { job: i64, site_id: i64, actions: Vec<Action>, remote_job: String, at: Instant },
    Bulk { job: i64, site_id: i64, action: BulkAction, actions: Vec<Action>, remote_job: String, at: Instant },
}

async fn run_batch<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    snap: &mut Snapshots,
    batch: Batch,
    started: &mut Vec<Started>,
) -> Result<Results, SyncError> {
    match batch {
        Batch::Nothing(a) => {
            let n = settle(cx, &a.entry_ids, "done", Some("nothing to send: created and purged before sync"))?;
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

fn finish<R: RemoteApi>(cx: &mut Ctx<'_, R>, a: &Action, state: &str, msg: Option<&str>) -> AppResult<()> {
    let n = settle(cx, &a.entry_ids, state, msg)?;
    match state {
        "done" => {
            cx.report.done += n;
            cx.report.coalesced += n.saturating_sub(1);
        }
        "rejected" => cx.report.rejected += n,
        "conflict" => cx.report.conflict_entries += n,
        _ => {}
    }
    Ok(())
}

fn later<R: RemoteApi>(cx: &mut Ctx<'_, R>, a: &Action, msg: &str) -> AppResult<()> {
    cx.report.retry_later += settle(cx, &a.entry_ids, "pending", Some(msg))?;
    cx.note_error(msg);
    Ok(())
}

/// Records a conflict holding the action's entries (those still in the state this pass
/// expects; none left: no conflict).
fn conflict<R: RemoteApi>(cx: &mut Ctx<'_, R>, a: &Action, kind: &str, fields: Value, message: &str) -> AppResult<()> {
    let now = cx.db.now();
    let from = expected(cx, &a.entry_ids);
    let held = cx.write(|tx| {
        let mut held = Vec::new();
        for (id, state) in &from {
            if sync_state::transition(tx, *id, &[state], "conflict", Some(message), now)? {
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
    from: &[(i64, &'static str)],
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
    settle_in(tx, from, "done", Some(note).filter(|n| !n.is_empty()), now)
}

/// Records successful creates in one transaction.
fn created_many<R: RemoteApi>(cx: &mut Ctx<'_, R>, done: &[(&Action, ResidentObject)], note: &str) -> AppResult<()> {
    let now = cx.db.now();
    let from: Vec<Vec<(i64, &'static str)>> = done.iter().map(|(a, _)| expected(cx, &a.entry_ids)).collect();
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
fn created<R: RemoteApi>(cx: &mut Ctx<'_, R>, a: &Action, r: &ResidentObject, note: &str) -> AppResult<Option<String>> {
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
    let from: Vec<Vec<(i64, &'static str)>> = done.iter().map(|(a, _)| expected(cx, &a.entry_ids)).collect();
    let moved = cx.write(|tx| {
        let mut moved = Vec::with_capacity(done.len());
        for ((a, base), from) in done.iter().zip(&from) {
            if let (Some(res), Some(base)) = (a.resident_id, base) {
                if store::residents::get(tx, res)?.is_some() {
                    store::residents::set_remote_base(tx, res, base, now)?;
                }
            }
            moved.push(settle_in(tx, from, "done", note, now)?);
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
    ["FirstName", "LastName", "Building", "Floor", "Unit"].iter().all(|f| mine.get(*f) == theirs.get(*f))
}

fn is_unit_taken(e: &RemoteError) -> bool {
    matches!(e, RemoteError::Rejected { status: 409, message } if message.to_lowercase().contains("occupied"))
}

fn text_of(v: &Value, f: &str) -> String {
    v.get(f).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// Handles a failed single request; returns the outcome for the chain.
async fn failed<R: RemoteApi>(
    cx: &mut Ctx<'_, R>,
    snap: &mut Snapshots,
    a: &Action,
    e: RemoteError,
) -> Result<(Outcome, Option<String>), SyncError> {
    let op = a.op_name();
    match e {
        RemoteError::Auth(m) => {
            let msg = RemoteError::Auth(m).to_string();
            settle(cx, &a.entry_ids, "pending", Some(&msg))?;
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
            conflict(cx, a, "unit_taken", fields, &format!("the unit was taken remotely: {e}"))?;
            Ok((Outcome::Stop, None))
        }
        RemoteError::Rejected { status: 404, .. }
            if matches!(a.kind, ActionKind::Life(LifeOp::Purge | LifeOp::Terminate)) =>
        {
            finish(cx, a, "done", Some("already gone on the remote"))?;
            Ok((Outcome::Next, None))
        }
        RemoteError::Rejected { status: 404, message } if a.remote_id.is_some() => {
            conflict(
                cx,
                a,
                "remote_purge",
                json!({}),
                &format!("the resident was purged on the remote while changed here ({op}: {message})"),
            )?;
            Ok((Outcome::Stop, None))
        }
        RemoteError::Rejected { status: 409, message } if op == "create" => {
            // Our own earlier attempt (a lost answer, a lost job, a crash) may have created it.
            let email = a.email.clone().unwrap_or_default();
            let found = snapshot(cx, snap, a.site_id, true).await?.and_then(|s| s.email(&email).cloned());
            match found.filter(|r| same_person(a, r)) {
                Some(r) => {
                    let rid = created(cx, a, &r, "already on the remote (an earlier attempt went through)")?;
                    Ok((Outcome::Next, rid))
                }
                None => {
                    finish(cx, a, "rejected", Some(&message))?;
                    Ok((Outcome::Stop, None))
                }
            }
        }
        RemoteError::Rejected { message, .. } => {
            finish(cx, a, "rejected", Some(&message))?;
            Ok((Outcome::Stop, None))
        }
        e if e.outcome_unknown() && op == "create" => {
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
            finish(cx, a, "rejected", Some(&format!("{e}: {UNKNOWN_AT_MOST_ONCE}")))?;
            Ok((Outcome::Stop, None))
        }
        e => {
            later(cx, a, &format!("{op} {}: {e}", a.email.as_deref().unwrap_or("")))?;
            Ok((Outcome::Stop, None))
        }
    }
}

fn input_of(body: &Value) -> Result<ResidentInput, String> {
    let mut obj = match body {
        Value::Object(m) => m.clone(),
        _ => return Err("the stored change has no resident values".into()),
    };
    obj.retain(|k, _| {
        matches!(
            k.as_str(),
            "FirstName"
                | "LastName"
                | "Email"
                | "PhoneNumber"
                | "Building"
                | "Floor"
                | "Unit"
                | "ActivationDateUTC"
                | "DeactivationDateUTC"
        )
    });
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
            finish(cx, a, "done", Some("nothing to send"))?;
            Ok((Outcome::Next, None))
        }
        ActionKind::Unknown(op) => {
            finish(cx, a, "rejected", Some(&format!("unknown operation {op:?}; this version cannot send it")))?;
            Ok((Outcome::Stop, None))
        }
        ActionKind::Create { body } => {
            let input = match input_of(body) {
                Ok(i) => i,
                Err(m) => {
                    finish(cx, a, "rejected", Some(&m))?;
                    return Ok((Outcome::Stop, None));
                }
            };
            if mark_in_flight(cx, a.site_id, "single", "create", &[a])?.is_none() {
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
                finish(cx, a, "rejected", Some("the resident is not on the remote (its creation did not go through)"))?;
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
                    finish(cx, a, "done", None)?;
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
        conflict(cx, a, "remote_purge", json!({}), "the resident was purged on the remote while changed here")?;
        return Ok((Outcome::Stop, None));
    };
    let Some(id) = current.resident_id.clone() else {
        later(cx, a, "the remote resident has no ResidentId")?;
        return Ok((Outcome::Stop, None));
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
        let names: Vec<&str> = disputed.keys().map(String::as_str).collect();
        let msg = format!("changed here and on the remote: {}", names.join(", "));
        conflict(cx, a, "field", Value::Object(disputed), &msg)?;
        return Ok((Outcome::Stop, None));
    }
    if merged == cur {
        finish(cx, a, "done", Some("the remote already has these values"))?;
        return Ok((Outcome::Next, None));
    }
    let mut wire = merged.clone();
    wire.insert("Email".into(), current.email.clone().map(Value::String).unwrap_or(Value::String(email)));
    let input = match input_of(&Value::Object(wire)) {
        Ok(i) => i,
        Err(m) => {
            finish(cx, a, "rejected", Some(&m))?;
            return Ok((Outcome::Stop, None));
        }
    };
    if mark_in_flight(cx, a.site_id, "single", "update", &[a])?.is_none() {
        return Ok((Outcome::Stop, None));
    }
    let (remote, team, policy) = (cx.remote, cx.team_remote.clone(), cx.opts.retry);
    match retry(&policy, true, || remote.update_resident(&team, site, &id, &input)).await {
        Ok(r) => {
            let now = cx.db.now();
            let fields = Value::Object(remote_fields(&r));
            cx.write(|tx| {
                if let Some(res) = a.resident_id {
                    if store::residents::get(tx, res)?.is_some() {
                        store::residents::set_remote_base(tx, res, &fields, now)?;
                    }
                }
                Ok(())
            })?;
            finish(cx, a, "done", None)?;
            if let Some(s) = snap.sites.get_mut(&a.site_id) {
                s.put(r);
            }
            Ok((Outcome::Next, None))
        }
        Err(e) => failed(cx, snap, a, e).await,
    }
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
                finish(cx, &a, "rejected", Some(&m))?;
                out.push((chain_key(&a), Outcome::Stop, None));
            }
        }
    }
    if sendable.is_empty() {
        return Ok(out);
    }
    let Some(site) = cx.site_remote(site_id) else { return Ok(out) };
    let refs: Vec<&Action> = sendable.iter().collect();
    let Some((job, moved)) = mark_in_flight(cx, site_id, "import", "create", &refs)? else {
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

fn close_job<R: RemoteApi>(cx: &mut Ctx<'_, R>, job: i64, state: &str) -> AppResult<()> {
    let now = cx.db.now();
    cx.write(|tx| Ok(sync_state::job_close(tx, job, state, now)?))
}

/// After an import whose start got no answer: creates found remotely are done, the others
/// are sent again later.
async fn lookup_creates<R: RemoteApi>(
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

/// Polls a job with backoff until it has finished (None: not within the pass's limit, or
/// the remote no longer knows it).
async fn poll<R: RemoteApi>(
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
async fn finish_import<R: RemoteApi>(
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

/// Polls a bulk job and applies its per-resident results (matched by ResidentId).
async fn finish_bulk<R: RemoteApi>(
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
            finish(cx, a, "done", Some("already applied on the remote"))?;
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
