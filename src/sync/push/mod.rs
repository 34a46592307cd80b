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
//!
//! Three parts: `send` (requests, jobs started and polled), `write_back` (an entry's state
//! moved by compare-and-set, a job's per-resident results applied, a failed request turned
//! into done, rejected, a conflict or later) and `recovery` (what a crash left in flight:
//! known jobs polled again, creates whose outcome is unknown looked up). This file holds the
//! pass's loop, its rounds and the per-pass cache of remote residents.

mod recovery;
mod send;
mod write_back;

use super::client::{RemoteApi, RemoteError};
use super::plan::{self, Action, Batch};
use super::retry::retry;
use super::{Ctx, SyncError};
use crate::store::{outbox::Entry, sync_state};
use recovery::recover;
use residentdesk_domain::wire::ResidentObject;
use residentdesk_domain::{vocab, BulkAction, OutboxState};
use send::run_batch;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::Instant;
use write_back::{finish_bulk, finish_import};

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
        (Some(id), _) => vocab::chain_key(id),
        (None, Some(e)) => format!("e{e}"),
        (None, None) => format!("x{}", a.entry_ids.first().copied().unwrap_or_default()),
    }
}

fn entry_key(e: &Entry) -> String {
    match (e.resident_id, &e.email) {
        (Some(id), _) => vocab::chain_key(id),
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
        .filter(|e| e.state == OutboxState::InFlight)
        .collect();
    // Under the lease nobody else is sending: whatever is in flight was left by a pass that
    // ended without finishing it, and is this pass's to reconcile.
    cx.flying.extend(in_flight.iter().map(|e| e.id));
    if !in_flight.is_empty() {
        recover(cx, &mut snap, in_flight).await?;
    }
    let entries = sync_state::unfinished_for_sites(cx.db.conn, &site_ids)?;
    let held: HashSet<String> = entries.iter().filter(|e| e.state != OutboxState::Pending).map(entry_key).collect();
    let pending: Vec<Entry> =
        entries.into_iter().filter(|e| e.state == OutboxState::Pending && !held.contains(&entry_key(e))).collect();
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

type Results = Vec<(String, Outcome, Option<String>)>;

/// A job started in this round, finished (polled and applied) once every job of the round
/// has been started, so jobs at different sites run on the remote at the same time.
enum Started {
    Import { job: i64, site_id: i64, actions: Vec<Action>, remote_job: String, at: Instant },
    Bulk { job: i64, site_id: i64, action: BulkAction, actions: Vec<Action>, remote_job: String, at: Instant },
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
