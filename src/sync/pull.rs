//! Pull: link the active team and its sites to the remote ones (by remote id, or by name on
//! first contact; new remote sites are added for team-level actors), then for every site
//! in scope read the mappings and the residents (one GET each, no pagination) and merge
//! them per field into the local database, keeping the last-pulled values as the next
//! merge's base. Conflicts are recorded with both values, never silently overwritten.

use super::client::{AnswerStream, RemoteApi, RemoteError, ResidentsAnswer, Streaming};
use super::json_stream::{Batch, ResidentSplitter};
use super::merge::{self, local_fields, merge, remote_fields, to_fields};
use super::retry::{retry, RetryPolicy};
use super::schedule::{spread, PullPlan, PullSchedule};
use super::site_marks::{remote_key, sha256_key, Key, SiteMarks};
use super::{step_error, Ctx, Progress, SyncError};
use crate::error::{AppError, AppResult};
use crate::store::{self, conflicts::NewConflict, outbox::Entry, residents::Resident, sites::Mapping, sync_state};
use residentdesk_domain::dates::parse_wire_utc;
use residentdesk_domain::vocab::{self, ConflictKind, OutboxOp, OutboxState, ResidentField};
use residentdesk_domain::wire::{MappingObject, ResidentObject};
use rusqlite::Transaction;
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Links the active team and its sites; returns false when the remote cannot be reached
/// (the pass then ends, offline).
pub(crate) async fn link<R: RemoteApi>(cx: &mut Ctx<'_, R>) -> Result<bool, SyncError> {
    let team_id =
        cx.session.actor.team_id().ok_or_else(|| {
            AppError::refused(crate::access::Denial::NoTeam { email: cx.session.actor.email.clone() })
        })?;
    let team =
        store::teams::get(cx.db.conn, team_id)?.ok_or_else(|| AppError::not_found(format!("team #{team_id}")))?;
    let (remote, policy) = (cx.remote, cx.opts.retry);
    let reach = RetryPolicy { max_attempts: cx.opts.reach_attempts.max(1), ..policy };
    let teams = match retry(&reach, true, || remote.teams()).await {
        Ok(t) => t,
        Err(e) => {
            step_error(cx, "reading the remote teams", e)?;
            return Ok(false);
        }
    };
    let remote_team = match &team.remote_id {
        Some(id) => teams.iter().find(|t| &t.team_id == id),
        None => {
            teams.iter().find(|t| t.name.as_deref().is_some_and(|n| n.trim().eq_ignore_ascii_case(team.name.trim())))
        }
    };
    let Some(remote_team) = remote_team.cloned() else {
        let names: Vec<String> = teams.iter().map(|t| t.name.clone().unwrap_or_else(|| t.team_id.clone())).collect();
        return Err(SyncError::App(AppError::not_found(format!(
            "the service account does not see a remote team for {:?} (it sees: {})",
            team.name,
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        ))));
    };
    let now = cx.db.now();
    if team.remote_id.is_none() {
        cx.write(|tx| Ok(store::teams::set_remote_id(tx, team.id, &remote_team.team_id)?))?;
    }
    cx.team_remote = remote_team.team_id.clone();
    let team_id = cx.team_remote.clone();
    let sites = match retry(&policy, true, || remote.sites(&team_id)).await {
        Ok(s) => s,
        Err(e) => {
            step_error(cx, "reading the remote sites", e)?;
            return Ok(false);
        }
    };
    let team_level = cx.session.actor.level().is_some_and(|l| l.is_team_level());
    let session = cx.session;
    let inserted = cx.write(|tx| {
        let mut inserted = 0u64;
        for s in &sites {
            if store::sites::by_remote_id(tx, &s.site_id)?.is_some() {
                continue;
            }
            let name = s.name.clone().unwrap_or_else(|| s.site_id.clone());
            let unlinked: Vec<_> =
                store::sites::by_name(tx, team.id, &name)?.into_iter().filter(|l| l.remote_id.is_none()).collect();
            if let Some(local) = unlinked.first() {
                store::sites::set_remote_id(tx, local.id, &s.site_id)?;
            } else if team_level {
                let tz =
                    s.time_zone.clone().filter(|t| t.parse::<chrono_tz::Tz>().is_ok()).unwrap_or_else(|| "UTC".into());
                let kind = s.site_type.clone().unwrap_or_else(|| "PSK".into());
                let id = store::sites::insert(tx, team.id, &name, &kind, &tz, Some(&s.site_id))?;
                super::audit_step(
                    tx,
                    now,
                    Some(session),
                    "sync.site_added",
                    "ok",
                    Some(team.id),
                    Some(id),
                    Some(&name),
                    json!({"remote_id": s.site_id}),
                )?;
                inserted += 1;
            }
        }
        Ok(inserted)
    })?;
    cx.report.sites_inserted += inserted;
    // The session is the one the gate rebuilt for this pass.
    let scope = cx.session.actor.scope();
    cx.sites = store::sites::list(cx.db.conn, &scope)?
        .into_iter()
        .filter(|s| s.remote_id.is_some())
        .map(|s| (s.id, s))
        .collect();
    Ok(true)
}

/// The pull half of a pass, with a large page cache while it writes (a first pull of a
/// large portfolio inserts into indexes spread over the whole table; restored after). Into
/// an empty desk, the search's indexes are set aside and built once the pull ends, however
/// it ends (`store::deferred_indexes`: at the next open if the process dies).
pub(crate) async fn pull<R: RemoteApi>(cx: &mut Ctx<'_, R>) -> Result<(), SyncError> {
    let cache = store::set_cache_kib(cx.db.conn, store::BULK_CACHE_KIB)?;
    let set_aside = match store::deferred_indexes::residents_empty(cx.db.conn) {
        Ok(true) => store::deferred_indexes::set_aside(cx.db.conn).map(|_| ()),
        Ok(false) => Ok(()),
        Err(e) => Err(e),
    };
    let pulled = match set_aside {
        Ok(()) => pull_sites(cx).await,
        Err(e) => Err(e.into()),
    };
    let building = Instant::now();
    let built = store::deferred_indexes::build_again(cx.db.conn);
    if let Ok(n @ 1..) = built {
        tracing::info!("built {n} search indexes after the pull in {:.1} s", building.elapsed().as_secs_f64());
    }
    store::restore_cache_size(cx.db.conn, cache);
    pulled?;
    built?;
    Ok(())
}

async fn pull_sites<R: RemoteApi>(cx: &mut Ctx<'_, R>) -> Result<(), SyncError> {
    let linked: Vec<crate::store::sites::Site> = cx.sites.values().filter(|s| s.remote_id.is_some()).cloned().collect();
    let schedule = match &cx.opts.pull {
        PullPlan::Every | PullPlan::Only(_) => None,
        PullPlan::Adaptive { schedule, focus } => Some((*schedule, focus.clone())),
    };
    // The adaptive schedule pulls the sites that are due and the ones on screen; the others
    // wait for their turn (see `super::schedule`).
    let sites: Vec<crate::store::sites::Site> = match (&schedule, &cx.opts.pull) {
        (None, PullPlan::Only(only)) => {
            let (pull, wait): (Vec<_>, Vec<_>) = linked.into_iter().partition(|site| only.contains(&site.id));
            cx.report.sites_not_due += wait.len() as u64;
            pull
        }
        (None, _) => linked,
        (Some((plan, focus)), _) => {
            let now = cx.db.now();
            let due = sync_state::pull_schedules(cx.db.conn)?;
            let (pull, wait): (Vec<_>, Vec<_>) = linked.into_iter().partition(|site| {
                focus.contains(&site.id) || plan.is_due(due.get(&site.id).and_then(|(_, at)| *at), now)
            });
            cx.report.sites_not_due += wait.len() as u64;
            pull
        }
    };
    let total = sites.len() as u64;
    let (remote, policy, team) = (cx.remote, cx.opts.retry, cx.team_remote.clone());
    let mut done = 0u64;
    // Progress counts a site once its answer is in (the network is the slow part), so a pass
    // of one chunk still moves: 0 of N at the start, then site by site.
    cx.progress("pull", 0, total);
    let fetch = Fetch { remote, policy, team: &team, fetched: AtomicU64::new(0), total, progress: cx.progress };
    let chunks: Vec<&[crate::store::sites::Site]> = sites.chunks(PULL_CHUNK).collect();
    let mut ahead: Option<Ahead<'_>> = None;
    for (i, chunk) in chunks.iter().enumerate() {
        cx.keep_lease()?;
        let results = match ahead.take() {
            Some(Ahead::Running(next)) => next.await,
            Some(Ahead::Answered(results)) => results,
            None => fetch.chunk(chunk).await,
        };
        if let Some(RemoteError::Auth(m)) =
            results.iter().find_map(|r| r.as_ref().err().filter(|e| matches!(e, RemoteError::Auth(_))))
        {
            return Err(SyncError::Auth(RemoteError::Auth(m.clone()).to_string()));
        }
        // The next chunk's requests go out now, before this chunk is merged: the remote
        // answers them (and the connections read the answers) while the database is written,
        // so a pull takes about the longer of the network and the writes, not their sum.
        if let Some(next) = chunks.get(i + 1) {
            let mut next: Running<'_> = Box::pin(fetch.chunk(next));
            ahead = Some(match poll_once(&mut next).await {
                Some(results) => Ahead::Answered(results),
                None => Ahead::Running(next),
            });
        }
        let now = cx.db.now();
        let session = cx.session;
        let mut report = std::mem::take(&mut cx.report);
        let started = Instant::now();
        let mut errors = Vec::new();
        // Answers too large to hold, merged one by one after this chunk's others.
        let mut streamed: Vec<(&crate::store::sites::Site, Option<Vec<u8>>, AnswerStream, String)> = Vec::new();
        let written = off_the_runtime(|| {
            cx.write(|tx| {
                for (site, result) in chunk.iter().zip(results) {
                    match result {
                        Ok(Answer::Streamed { units, stream, digest }) => streamed.push((site, units, stream, digest)),
                        Ok(Answer::Whole { units: m, body, digest: remote }) => {
                            // What the remote answered, and what the merge would read here: the
                            // same as after the last merge means that merge's result still holds.
                            // The body is digested as it came, so an unchanged one is never parsed.
                            let last = sync_state::pulled_digest(tx, site.id)?;
                            let unchanged =
                                last.as_deref().and_then(|d| d.split_once(' ')).is_some_and(|(d, stamp)| {
                                    d == remote
                                        && sync_state::site_local_stamp(tx, site.id).is_ok_and(|now| now == stamp)
                                });
                            // The site's place in the schedule: back to every pass when it
                            // changed, further apart while it stays quiet (only a scheduled
                            // pass sets a time; after a one-off pass the site is due at once).
                            sync_state::schedule_pull(tx, site.id, !unchanged, |quiet| {
                                schedule.as_ref().map(|(s, _)| s.next_pull(now, quiet, spread(site.id, now)))
                            })?;
                            // The units as the last settled merge left them: the same mappings
                            // answer, and nothing else writes a synced site's units, so they are
                            // neither parsed nor compared again (`None` below).
                            let same_units = !unchanged
                                && last.as_deref().is_some_and(|last| same_mappings(last, &remote))
                                && sync_state::site_units_stamp(tx, site.id).is_ok_and(|now| {
                                    last.as_deref().is_some_and(|l| units_part(l) == Some(now.as_str()))
                                });
                            let parsed = match unchanged {
                                true => None,
                                false => Some(
                                    match same_units {
                                        true => Ok(None),
                                        false => units(&m).map(Some),
                                    }
                                    .and_then(|m| super::client::split_residents(&body).map(|r| (m, r))),
                                ),
                            };
                            if let Some(Err(e)) = parsed {
                                failed(tx, site, e, now, &mut report, &mut errors)?;
                                continue;
                            }
                            if let Some(Ok((m, r))) = parsed {
                                // A resident the merge cannot read fails the site, as a body it
                                // cannot read would: what the merge wrote before it is undone.
                                store::savepoint(tx, "site_merge")?;
                                let before = report.clone();
                                let texts = Source::Whole(Some(r.iter().map(|r| r.get()).collect()));
                                let merged =
                                    at_once(merge_site(tx, session, site, m.as_ref(), texts, now, &mut report))
                                        .ok_or_else(|| AppError::internal("a whole answer's merge waited"))??;
                                let settled = match merged {
                                    Ok(settled) => {
                                        store::release(tx, "site_merge")?;
                                        settled
                                    }
                                    Err(e) => {
                                        store::rollback_to(tx, "site_merge")?;
                                        report = before;
                                        failed(tx, site, e, now, &mut report, &mut errors)?;
                                        continue;
                                    }
                                };
                                let digest = match settled {
                                    true => Some(format!("{remote} {}", sync_state::site_local_stamp(tx, site.id)?)),
                                    false => None,
                                };
                                sync_state::set_pulled_digest(tx, site.id, digest.as_deref())?;
                            } else {
                                sync_state::site_pulled(tx, site.id, now)?;
                                report.sites_unchanged += 1;
                            }
                            report.sites_pulled += 1;
                        }
                        Err(e) => failed(tx, site, e, now, &mut report, &mut errors)?,
                    }
                }
                Ok(())
            })
        });
        report.merge_ms += started.elapsed().as_secs_f64() * 1000.0;
        cx.report = report;
        written?;
        for e in errors {
            cx.note_error(e);
        }
        for (site, m, stream, mappings) in streamed {
            let plan = schedule.as_ref().map(|(s, _)| s);
            let (mut report, mut errors) = (std::mem::take(&mut cx.report), Vec::new());
            let started = Instant::now();
            let now = cx.db.now();
            let conn: &rusqlite::Connection = cx.db.conn;
            // The pull's large page cache would hold the whole site's written pages until its
            // commit; a small one spills them to the WAL as the batches go (memory bounded).
            let cache = store::set_cache_kib(conn, STREAM_CACHE_KIB)?;
            let merged = wait_here(merge_streamed(
                conn,
                (session, remote, &team),
                site,
                (m, &mappings),
                stream,
                plan,
                now,
                &mut report,
                &mut errors,
            ))
            .unwrap_or_else(|| Err(AppError::internal("a streamed answer outside a multi-threaded runtime")));
            store::restore_cache_size(conn, cache);
            report.merge_ms += started.elapsed().as_secs_f64() * 1000.0;
            cx.report = report;
            merged?;
            for e in errors {
                cx.note_error(e);
            }
        }
        done += chunk.len() as u64;
        cx.progress("pull", done, total);
    }
    Ok(())
}

/// One site's answers as they came.
type Fetched = Result<Answer, RemoteError>;

/// A site's answers as fetched.
enum Answer {
    /// Both held whole (the mappings' body and the residents'), with the site's digest
    /// ([`remote_digest`]).
    Whole { units: Vec<u8>, body: Vec<u8>, digest: String },
    /// A resident list too large to hold: read and merged in batches. `units` is the mappings'
    /// body, or `None` when that too was too large to hold (read through for its digest only;
    /// read again if the merge needs the units); `digest` is the first half of the site's
    /// digest (the second is known once the residents' stream has ended).
    Streamed { units: Option<Vec<u8>>, stream: AnswerStream, digest: String },
}

/// A chunk's fetch under way.
type Running<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Vec<Fetched>> + Send + 'a>>;

/// The next chunk's fetch, started before the current chunk is merged.
enum Ahead<'a> {
    Running(Running<'a>),
    Answered(Vec<Fetched>),
}

/// What fetching a site's answers needs, shared by every chunk of a pull.
struct Fetch<'a, R: RemoteApi> {
    remote: &'a R,
    policy: RetryPolicy,
    team: &'a str,
    /// Sites whose answers are in, for the progress.
    fetched: AtomicU64,
    total: u64,
    progress: Option<super::ProgressFn<'a>>,
}

impl<R: RemoteApi> Fetch<'_, R> {
    /// The answers of a chunk's sites, fetched concurrently (a site's two GETs at once too),
    /// each digested as it arrives.
    async fn chunk(&self, chunk: &[crate::store::sites::Site]) -> Vec<Fetched> {
        let fetches = chunk.iter().map(|site| {
            let site_remote = site.remote_id.clone().unwrap_or_default();
            async move {
                let (m, r) = tokio::join!(
                    retry(&self.policy, true, || self.remote.mappings_answer(self.team, &site_remote)),
                    retry(&self.policy, true, || self.remote.residents_answer(self.team, &site_remote)),
                );
                let (m, r) = (m?, r?);
                // Digested here, while the chunk's other answers are still on their way
                // (not in the write step, which holds the database).
                let whole = whole_here();
                let units = match m {
                    ResidentsAnswer::Whole(units) => Ok(units),
                    ResidentsAnswer::Streamed(stream) if whole => Ok(read_whole(stream).await?),
                    ResidentsAnswer::Streamed(stream) => Err(hash_through(stream).await?),
                };
                let answer = match (units, r) {
                    (Ok(units), ResidentsAnswer::Whole(body)) => {
                        Answer::Whole { digest: remote_digest(&units, &body), units, body }
                    }
                    (Ok(units), ResidentsAnswer::Streamed(stream)) if whole => {
                        let body = read_whole(stream).await?;
                        Answer::Whole { digest: remote_digest(&units, &body), units, body }
                    }
                    (Ok(units), ResidentsAnswer::Streamed(stream)) => {
                        Answer::Streamed { digest: sha256_hex(&units, 32), units: Some(units), stream }
                    }
                    // Units too many to hold: the site takes the streamed path, whatever the
                    // size of its resident list.
                    (Err(digest), r) => {
                        let stream = match r {
                            ResidentsAnswer::Streamed(stream) => stream,
                            ResidentsAnswer::Whole(body) => AnswerStream::from_chunks(
                                &super::client::residents_path(self.team, &site_remote),
                                vec![Ok(body)],
                                Streaming::default(),
                            ),
                        };
                        Answer::Streamed { digest, units: None, stream }
                    }
                };
                let now = self.fetched.fetch_add(1, Ordering::Relaxed) + 1;
                if let Some(p) = self.progress {
                    p(Progress { phase: "pull".into(), done: now, total: self.total });
                }
                Ok::<_, RemoteError>(answer)
            }
        });
        join_all(fetches.collect()).await
    }
}

/// Polls `f` once, so that the requests it makes are on their way; its output if that
/// already finished it.
async fn poll_once<F: std::future::Future + Unpin>(f: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| match std::pin::Pin::new(&mut *f).poll(cx) {
        std::task::Poll::Ready(out) => std::task::Poll::Ready(Some(out)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

/// Runs a database step that holds the thread for a while. On a multi-threaded runtime the
/// thread's other tasks (the connections reading the next chunk's answers) move to another
/// thread meanwhile; on a single-threaded one the step just runs (the kernel still buffers
/// the answers the remote sends).
fn off_the_runtime<T>(step: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(step),
        _ => step(),
    }
}

/// Where a merge's remote residents come from.
enum Source<'a, 's> {
    /// A whole answer's objects, all in one batch.
    Whole(Option<Vec<&'a str>>),
    /// A streamed answer, batch by batch.
    Stream(&'a mut SiteStream<'s>),
}

/// A streamed resident list being split into batches and digested as it arrives.
struct SiteStream<'s> {
    answer: &'s mut AnswerStream,
    split: ResidentSplitter,
    hash: sha2::Sha256,
    ended: bool,
    /// The chunk being fed to the splitter, and how far.
    chunk: Vec<u8>,
    fed: usize,
}

/// The most bytes fed to the splitter at once: a large chunk (the bytes read before an
/// answer without a length was known to be large, up to 8 MiB) still makes batches of about
/// the batch size, not one batch of all its residents.
const FEED_BYTES: usize = 64 * 1024;

impl<'s> SiteStream<'s> {
    fn new(answer: &'s mut AnswerStream) -> SiteStream<'s> {
        use sha2::Digest;
        let split = ResidentSplitter::new(answer.streaming().object_cap);
        SiteStream { answer, split, hash: sha2::Sha256::new(), ended: false, chunk: Vec::new(), fed: 0 }
    }

    /// The next batch of objects (up to the answer's batch size), `None` once the answer has
    /// ended whole; an error when it breaks or is not a resident list.
    async fn next_batch(&mut self) -> Result<Option<Batch>, RemoteError> {
        use sha2::Digest;
        let want = self.answer.streaming().batch.max(1);
        while !self.ended && self.split.ready() < want {
            if self.fed == self.chunk.len() {
                // The chunk fed whole is dropped before the next one is read.
                self.chunk = Vec::new();
                self.fed = 0;
                match self.answer.next_chunk().await? {
                    Some(chunk) => {
                        self.hash.update(&chunk);
                        self.chunk = chunk;
                    }
                    None => {
                        self.split.finish().map_err(|e| self.answer.refused(e))?;
                        self.ended = true;
                    }
                }
                continue;
            }
            let end = self.chunk.len().min(self.fed + FEED_BYTES);
            self.split.feed(&self.chunk[self.fed..end]).map_err(|e| self.answer.refused(e))?;
            self.fed = end;
        }
        let batch = self.split.take();
        Ok((!batch.is_empty()).then_some(batch))
    }

    /// The residents half of the site's digest: the same as [`remote_digest`]'s for the same
    /// bytes held whole (meaningful once the answer has ended).
    fn digest(&self) -> String {
        use sha2::Digest;
        self.hash.clone().finalize()[..32].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The output of a future that finishes without waiting (a whole answer's merge, which never
/// waits for anything), without a runtime; `None` if it would have waited.
fn at_once<F: std::future::Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(out) => Some(out),
        std::task::Poll::Pending => None,
    }
}

/// Merges one site whose resident list is streamed, in its own transaction: batch by batch
/// as the answer arrives, inside the site's savepoint, so an answer that breaks or holds an
/// unreadable object midway undoes every batch before it (the site stays as it was, its
/// digest and stamp untouched, and the next pass pulls it again). The site's digest is known
/// only at the end: when it is the last settled merge's, and nothing changed here since,
/// this merge is undone as well and the site counts as unchanged, as on the whole path.
/// The transaction stays open while the answer arrives (the merge is the database's only
/// writer meanwhile, as during any chunk's merge).
#[allow(clippy::too_many_arguments)]
async fn merge_streamed<R: RemoteApi>(
    conn: &rusqlite::Connection,
    (session, remote, team): (&crate::access::Session, &R, &str),
    site: &crate::store::sites::Site,
    (units, units_digest): (Option<Vec<u8>>, &str),
    mut answer: AnswerStream,
    schedule: Option<&PullSchedule>,
    now: chrono::DateTime<chrono::Utc>,
    report: &mut super::PassReport,
    errors: &mut Vec<String>,
) -> AppResult<()> {
    let txn = store::begin_immediate(conn)?;
    let tx = &txn;
    let reschedule = |tx: &Transaction<'_>, changed: bool| {
        sync_state::schedule_pull(tx, site.id, changed, |quiet| {
            schedule.map(|s| s.next_pull(now, quiet, spread(site.id, now)))
        })
    };
    let last = sync_state::pulled_digest(tx, site.id)?;
    let stamp = sync_state::site_local_stamp(tx, site.id)?;
    let same_units = last.as_deref().is_some_and(|last| same_mappings(last, &format!("{units_digest}:")))
        && sync_state::site_units_stamp(tx, site.id)
            .is_ok_and(|now| last.as_deref().is_some_and(|l| units_part(l) == Some(now.as_str())));
    store::savepoint(tx, "site_merge")?;
    let before = report.clone();
    let units = (!same_units).then_some(units.as_deref().ok_or(units_digest));
    match streamed_site(tx, (session, remote, team), site, units, &mut answer, now, report).await? {
        Err(e) => {
            store::rollback_to(tx, "site_merge")?;
            *report = before;
            reschedule(tx, true)?;
            failed(tx, site, e, now, report, errors)?;
        }
        Ok((settled, read_again, residents)) => {
            let remote = format!("{}:{residents}", read_again.as_deref().unwrap_or(units_digest));
            let unchanged =
                last.as_deref().and_then(|d| d.split_once(' ')).is_some_and(|(d, at)| d == remote && at == stamp);
            if unchanged {
                store::rollback_to(tx, "site_merge")?;
                *report = before;
                reschedule(tx, false)?;
                sync_state::site_pulled(tx, site.id, now)?;
                report.sites_unchanged += 1;
            } else {
                store::release(tx, "site_merge")?;
                reschedule(tx, true)?;
                let digest = match settled {
                    true => Some(format!("{remote} {}", sync_state::site_local_stamp(tx, site.id)?)),
                    false => None,
                };
                sync_state::set_pulled_digest(tx, site.id, digest.as_deref())?;
            }
            report.sites_pulled += 1;
        }
    }
    txn.commit()?;
    Ok(())
}

/// A streamed site's merge inside its savepoint: its units when they are to be merged
/// (`units`: `Ok` the mappings' body held, `Err` its digest when it was too large to hold, and
/// the units are read again as a stream), then its residents batch by batch. Whether every
/// resident settled, the digest of the units' answer when it was read again, and of the
/// residents' answer; or why it failed.
#[allow(clippy::too_many_arguments)]
async fn streamed_site<R: RemoteApi>(
    tx: &Transaction<'_>,
    (session, remote, team): (&crate::access::Session, &R, &str),
    site: &crate::store::sites::Site,
    units: Option<Result<&[u8], &str>>,
    answer: &mut AnswerStream,
    now: chrono::DateTime<chrono::Utc>,
    report: &mut super::PassReport,
) -> AppResult<Result<(bool, Option<String>, String), RemoteError>> {
    let (held, read_again) = match units {
        None => (None, None),
        Some(Ok(body)) => match self::units(body) {
            Ok(units) => (Some(units), None),
            Err(e) => return Ok(Err(e)),
        },
        Some(Err(_)) => match stream_units(tx, site, remote, team, answer.streaming()).await? {
            Ok(digest) => (None, Some(digest)),
            Err(e) => return Ok(Err(e)),
        },
    };
    let mut stream = SiteStream::new(answer);
    match merge_site(tx, session, site, held.as_ref(), Source::Stream(&mut stream), now, report).await? {
        Ok(settled) => Ok(Ok((settled, read_again, stream.digest()))),
        Err(e) => Ok(Err(e)),
    }
}

/// A site's units read again as a stream and written as they come, replacing the site's
/// (inside the site's savepoint; not compared first, which would hold them): for a site whose
/// mappings' answer was too large to hold. The digest of the answer merged, or why it failed.
async fn stream_units<R: RemoteApi>(
    tx: &Transaction<'_>,
    site: &crate::store::sites::Site,
    remote: &R,
    team: &str,
    streaming: Streaming,
) -> AppResult<Result<String, RemoteError>> {
    use sha2::Digest;
    let site_remote = site.remote_id.clone().unwrap_or_default();
    let mut stream = match remote.mappings_answer(team, &site_remote).await {
        Ok(ResidentsAnswer::Streamed(stream)) => stream,
        Ok(ResidentsAnswer::Whole(body)) => AnswerStream::from_chunks(&site_remote, vec![Ok(body)], streaming),
        Err(e) => return Ok(Err(e)),
    };
    let mut split = ResidentSplitter::of_list("Mappings", streaming.object_cap);
    let mut hash = sha2::Sha256::new();
    store::sites::delete_mappings(tx, site.id)?;
    loop {
        let chunk = match stream.next_chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Ok(Err(e)),
        };
        hash.update(&chunk);
        if let Err(e) = split.feed(&chunk) {
            return Ok(Err(stream.refused(e)));
        }
        let batch = split.take();
        let texts = match batch.texts() {
            Ok(texts) => texts,
            Err(e) => return Ok(Err(stream.refused(e))),
        };
        for raw in texts {
            match super::client::parse_mapping(raw) {
                Ok(m) => store::sites::insert_mapping(tx, site.id, &mapping_of(&m))?,
                Err(e) => return Ok(Err(e)),
            }
        }
    }
    if let Err(e) = split.finish() {
        return Ok(Err(stream.refused(e)));
    }
    Ok(Ok(hash.finalize()[..32].iter().map(|b| format!("{b:02x}")).collect()))
}

/// A streamed answer read to its end for its digest only, nothing of it held.
async fn hash_through(mut stream: AnswerStream) -> Result<String, RemoteError> {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    while let Some(chunk) = stream.next_chunk().await? {
        hash.update(&chunk);
    }
    Ok(hash.finalize()[..32].iter().map(|b| format!("{b:02x}")).collect())
}

/// Runs `f` to its end on this thread, off the runtime: a streamed site's merge holds its
/// transaction (which may not move between threads) while it waits for the answer's next
/// bytes, which the runtime's other threads receive meanwhile. `None` on a runtime that is
/// not multi-threaded (no other thread would receive them): the fetch reads an answer whole
/// there ([`whole_here`]), so a streamed one never reaches this.
fn wait_here<F: std::future::Future>(f: F) -> Option<F::Output> {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            Some(tokio::task::block_in_place(|| h.block_on(f)))
        }
        _ => None,
    }
}

/// Whether answers must be read whole here: on a runtime with one thread ([`wait_here`]) a
/// streamed answer is read to its end at once (within [`super::client::MAX_BODY_BYTES`]), as
/// before streaming existed.
fn whole_here() -> bool {
    !tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}

/// A streamed answer read to its end, for a runtime that cannot stream ([`whole_here`]).
async fn read_whole(mut stream: AnswerStream) -> Result<Vec<u8>, RemoteError> {
    let mut body = Vec::new();
    while let Some(chunk) = stream.next_chunk().await? {
        if body.len() + chunk.len() > super::client::MAX_BODY_BYTES {
            return Err(stream.too_large(super::client::MAX_BODY_BYTES));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Records a site whose answer could not be had or read: its pull failed this pass.
fn failed(
    tx: &Transaction<'_>,
    site: &crate::store::sites::Site,
    e: RemoteError,
    now: chrono::DateTime<chrono::Utc>,
    report: &mut super::PassReport,
    errors: &mut Vec<String>,
) -> AppResult<()> {
    let msg = e.to_string();
    sync_state::site_pull_failed(tx, site.id, &msg, now)?;
    report.sites_failed += 1;
    if e.retryable() {
        report.offline = true;
    }
    errors.push(format!("pull of site {}: {msg}", site.name));
    Ok(())
}

/// A digest of a site's answer: SHA-256 of its mappings' body and of its residents' body as
/// they came over the wire (neither parsed), `mappings:residents` in hex. A remote that
/// re-orders or re-spaces its answer only costs a merge of the site (whose residents mostly
/// take the per-resident fast path).
fn remote_digest(mappings_body: &[u8], residents_body: &[u8]) -> String {
    format!("{}:{}", sha256_hex(mappings_body, 32), sha256_hex(residents_body, 32))
}

/// The first `bytes` bytes of the SHA-256 of `data`, in hex.
fn sha256_hex(data: &[u8], bytes: usize) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(data)[..bytes].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a kept digest (`mappings:residents stamp`) was of the same mappings' answer as
/// `remote` (a digest of [`remote_digest`]'s form; an older form never matches).
fn same_mappings(kept: &str, remote: &str) -> bool {
    let mappings = |d: &str| d.split_once(':').map(|(m, _)| m.to_string());
    mappings(kept).is_some_and(|k| Some(k) == mappings(remote))
}

/// The units part (`u<count>`) of a local stamp, or of a kept digest ending with one.
fn units_part(stamp: &str) -> Option<&str> {
    stamp.rsplit_once(':').map(|(_, u)| u).filter(|u| u.starts_with('u'))
}

/// A digest of one remote resident as it came over the wire (its JSON object, unparsed: every
/// field, `Status` included), kept with its merge base: the first 128 bits of its SHA-256
/// (stored in hex). The same bytes are the same object; other bytes for the same values (a remote that
/// re-orders keys) only cost that resident a full merge.
fn resident_digest(raw: &str) -> Key {
    sha256_key(raw.as_bytes())
}

/// A mapping's values (building, floor, unit, passphrase, SSID, VLAN) as 128 bits of their
/// SHA-256: what the merge compares of a site's units, so that neither side's units are held
/// as values (a site of 200,000 units).
type UnitKey = [u8; 16];

fn unit_key(m: &Mapping) -> UnitKey {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let fields =
        [Some(&m.building), Some(&m.floor), Some(&m.unit), m.passphrase.as_ref(), m.ssid.as_ref(), m.vlan.as_ref()];
    for f in fields {
        // Tagged and length-prefixed: no two different tuples hash the same bytes.
        match f {
            None => h.update([0u8]),
            Some(v) => {
                h.update([1u8]);
                h.update((v.len() as u64).to_le_bytes());
                h.update(v.as_bytes());
            }
        }
    }
    let mut key = [0u8; 16];
    key.copy_from_slice(&h.finalize()[..16]);
    key
}

/// A site's units as answered: each mapping's JSON unparsed (parsed once to check it and key
/// it), their keys sorted without repeats, and the parsed mappings themselves for an
/// ordinary site (up to [`UNITS_KEPT`]), which the merge would otherwise parse again.
struct Units<'a> {
    raw: Vec<&'a str>,
    keys: Vec<UnitKey>,
    parsed: Option<Vec<MappingObject>>,
}

/// Up to this many units, a site's parsed mappings are kept for the merge.
const UNITS_KEPT: usize = 10_000;

/// The units of a mappings' body; an unreadable mapping fails the site as before.
fn units(body: &[u8]) -> Result<Units<'_>, RemoteError> {
    let raw: Vec<&str> = super::client::split_mappings(body)?.into_iter().map(|r| r.get()).collect();
    let keep = raw.len() <= UNITS_KEPT;
    let mut parsed = Vec::with_capacity(if keep { raw.len() } else { 0 });
    let mut keys = Vec::with_capacity(raw.len());
    for r in &raw {
        let m = super::client::parse_mapping(r)?;
        keys.push(unit_key(&mapping_of(&m)));
        if keep {
            parsed.push(m);
        }
    }
    keys.sort_unstable();
    keys.dedup();
    Ok(Units { raw, keys, parsed: keep.then_some(parsed) })
}

/// The page cache while a streamed site is merged, in KiB: what a site's merge may hold of
/// its written pages before SQLite spills them to the WAL (the pull's own is
/// [`store::BULK_CACHE_KIB`], which would hold a site of 200,000 residents whole).
const STREAM_CACHE_KIB: i64 = 16 * 1024;

/// Sites fetched concurrently and merged in one transaction.
const PULL_CHUNK: usize = 16;

/// Polls every future to completion, concurrently (no extra crate for one helper).
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, f) in out.iter_mut().zip(futures.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// What unfinished local entries say about one resident.
#[derive(Default)]
struct Local {
    fields: BTreeSet<String>,
    status: bool,
    any: bool,
    purge: Vec<i64>,
    create: bool,
    ids: Vec<i64>,
}

fn touched(entries: &[Entry]) -> HashMap<String, Local> {
    let mut out: HashMap<String, Local> = HashMap::new();
    for e in entries {
        let keys = [
            e.resident_id.map(vocab::chain_key),
            e.remote_id.clone().map(|r| format!("x{r}")),
            e.email.clone().map(|m| format!("e{m}")),
        ];
        for key in keys.into_iter().flatten() {
            let l = out.entry(key).or_default();
            l.any = true;
            l.ids.push(e.id);
            match OutboxOp::parse(&e.op) {
                Some(OutboxOp::Create) => {
                    l.create = true;
                    l.fields.extend(merge::FIELDS.map(|f| f.as_str().to_string()));
                }
                Some(OutboxOp::Update) => l.fields.extend(
                    e.payload
                        .get("changed")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_string),
                ),
                Some(OutboxOp::Terminate) => {
                    l.fields.insert(ResidentField::DeactivationDateUTC.as_str().into());
                }
                // Onboard-now moves the access start to now (rules::onboard_now): a pull before
                // it is pushed must not put the remote's future start back.
                Some(OutboxOp::OnboardNow) => {
                    l.fields.insert(ResidentField::ActivationDateUTC.as_str().into());
                }
                Some(OutboxOp::Suspend | OutboxOp::Unsuspend) => l.status = true,
                Some(OutboxOp::Purge) => l.purge.push(e.id),
                _ => {}
            }
        }
    }
    out
}

fn mapping_of(m: &MappingObject) -> Mapping {
    Mapping {
        building: m.building.clone(),
        floor: m.floor.clone(),
        unit: m.unit.clone(),
        passphrase: m.passphrase.clone(),
        ssid: m.ssid.clone(),
        vlan: m.vlan.clone(),
    }
}

/// Stores what only the remote decides: onboarding, suspension, SSID, service area, Status.
fn remote_state(
    tx: &Transaction<'_>,
    id: i64,
    r: &ResidentObject,
    keep_suspended: Option<bool>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let suspended = keep_suspended.unwrap_or_else(|| r.status.iter().any(|s| s.eq_ignore_ascii_case("suspended")));
    let onboarded = r.onboarded_at.as_deref().and_then(parse_wire_utc);
    let status = serde_json::to_value(&r.status).unwrap_or(Value::Null);
    store::residents::set_remote_state(
        tx,
        id,
        onboarded,
        suspended,
        r.ssid.as_deref(),
        r.service_area_number.as_deref(),
        &status,
        now,
    )?;
    Ok(())
}

/// Merges one site's remote residents into the local database, in one transaction. Returns
/// whether every remote resident was settled to a resident of this site (when not, e.g. one
/// held at another local site, the next pull must merge the site again whatever changed).
///
/// The remote residents come from `source` in batches (one for a whole answer); across
/// batches only the site's local marks and the ids seen are kept, never the objects. It waits
/// only for a streamed answer's next batch (a whole answer's merge finishes at its first poll).
#[allow(clippy::too_many_arguments)]
async fn merge_site(
    tx: &Transaction<'_>,
    session: &crate::access::Session,
    site: &crate::store::sites::Site,
    mappings: Option<&Units<'_>>,
    mut source: Source<'_, '_>,
    now: chrono::DateTime<chrono::Utc>,
    report: &mut super::PassReport,
) -> AppResult<Result<bool, RemoteError>> {
    let site_id = site.id;
    let mut unsettled = 0u64;
    // `None`: the units are as the last settled merge left them.
    if let Some(units) = mappings {
        let mut have: Vec<UnitKey> = store::sites::mappings(tx, site_id)?.iter().map(unit_key).collect();
        have.sort_unstable();
        have.dedup();
        if have != units.keys {
            store::sites::delete_mappings(tx, site_id)?;
            match &units.parsed {
                Some(parsed) => {
                    for m in parsed {
                        store::sites::insert_mapping(tx, site_id, &mapping_of(m))?;
                    }
                }
                None => {
                    for raw in &units.raw {
                        let m = match super::client::parse_mapping(raw) {
                            Ok(m) => m,
                            Err(e) => return Ok(Err(e)),
                        };
                        store::sites::insert_mapping(tx, site_id, &mapping_of(&m))?;
                    }
                }
            }
        }
    }
    {
        let entries = sync_state::unfinished_for_sites(tx, &[site_id])?;
        let local_changes = touched(&entries);
        let marks = store::residents::SyncMarks::of_sites(tx, &[site_id])?;
        // The site's residents as ids, 128-bit keys and merge marks only: a resident the fast
        // path below settles is never read in full (a site with a few changed residents reads
        // those few rows and bases, not all of them), and a huge site's marks stay small.
        let mut locals = SiteMarks::read(tx, site_id)?;
        // What the fast path asks of the unfinished entries, as ids and keys.
        let changed_ids: HashSet<i64> = entries.iter().filter_map(|e| e.resident_id).collect();
        let changed_remote: HashSet<Key> =
            entries.iter().filter_map(|e| e.remote_id.as_deref()).map(remote_key).collect();
        let empty = Local::default();
        loop {
            let batch: Batch;
            let remote: Vec<&str> = match &mut source {
                Source::Whole(all) => match all.take() {
                    Some(all) => all,
                    None => break,
                },
                Source::Stream(stream) => match stream.next_batch().await {
                    Ok(Some(next)) => {
                        batch = next;
                        match batch.texts() {
                            Ok(texts) => texts,
                            Err(e) => return Ok(Err(stream.answer.refused(e))),
                        }
                    }
                    Ok(None) => break,
                    Err(e) => return Ok(Err(e)),
                },
            };
            for raw in remote {
                let digest_key = resident_digest(raw);
                // The fast path: the same remote object, byte for byte, as last merged into a
                // resident here, and nothing here since (same `updated_at`, no unfinished entry, no
                // open conflict): that merge holds, and the object is not even parsed.
                if let Some(at) = locals.by_digest(&digest_key) {
                    let l = locals.mark(at);
                    let quiet = l.remote().is_some_and(|rid| !changed_remote.contains(rid))
                        && !changed_ids.contains(&l.id)
                        && !marks.unsent.contains(&l.id)
                        && !marks.conflicts.contains(&l.id)
                        && l.settles(&digest_key);
                    if quiet {
                        locals.see(at);
                        continue;
                    }
                }
                let digest = hex::encode(digest_key);
                let r = match super::client::parse_resident(raw) {
                    Ok(r) => r,
                    Err(e) => return Ok(Err(e)),
                };
                let r = &r;
                let Some(rid) = r.resident_id.clone() else {
                    unsettled += 1;
                    continue;
                };
                let email = r.email.clone().unwrap_or_default().trim().to_lowercase();
                let found = locals.by_remote(&remote_key(&rid)).or_else(|| {
                    locals.by_email(&email).filter(|&at| {
                        let l = locals.mark(at);
                        !l.linked() && !local_changes.get(&vocab::chain_key(l.id)).is_some_and(|c| c.create)
                    })
                });
                // A key is a candidate: the row read must be linked to this remote id, or not
                // linked at all (found by email).
                let local: Option<Resident> = match found {
                    Some(at) => {
                        let row = store::residents::get(tx, locals.mark(at).id)?
                            .filter(|l| l.remote_id.as_deref().is_none_or(|linked| linked == rid));
                        if row.is_some() {
                            locals.see(at);
                        }
                        row
                    }
                    None => None,
                };
                let local = local.as_ref();
                let cpu = Instant::now();
                let rf = remote_fields(r);
                report.merge_cpu_ms += cpu.elapsed().as_secs_f64() * 1000.0;
                match local {
                    None => {
                        let pending =
                            local_changes.get(&format!("x{rid}")).or_else(|| local_changes.get(&format!("e{email}")));
                        // Each `continue` leaves this remote resident unsettled here.
                        unsettled += 1;
                        if pending.is_some_and(|p| !p.purge.is_empty()) {
                            continue; // purged here, the purge is on its way
                        }
                        let Some(fields) = to_fields(&rf) else { continue };
                        if email.is_empty() {
                            continue;
                        }
                        let status = serde_json::to_value(&r.status).unwrap_or(Value::Null);
                        let state = store::residents::RemoteState {
                            onboarded_at: r.onboarded_at.as_deref().and_then(parse_wire_utc),
                            suspended: r.status.iter().any(|s| s.eq_ignore_ascii_case("suspended")),
                            ssid: r.ssid.as_deref(),
                            service_area: r.service_area_number.as_deref(),
                            status: &status,
                        };
                        // One write per new resident: its fields and remote state together.
                        let Some(id) =
                            store::residents::insert_pulled(tx, site_id, &email, &fields, &rid, &state, now)?
                        else {
                            continue; // the same person at another local site or waiting to be created here
                        };
                        unsettled -= 1;
                        store::residents::set_pulled_base(tx, id, Some(&Value::Object(rf)), &digest, now, now)?;
                        report.residents_inserted += 1;
                    }
                    Some(l) => {
                        let changes = local_changes.get(&vocab::chain_key(l.id)).unwrap_or(&empty);
                        if l.remote_id.is_none() {
                            store::residents::set_remote_id(tx, l.id, &rid)?;
                            store::outbox::set_remote_id_for_resident(tx, l.id, &rid)?;
                        }
                        let stored = store::residents::stored_base(tx, l.id)?;
                        let stored = stored.as_ref();
                        let base: Option<Map<String, Value>> =
                            stored.map(|b| b.value()).as_ref().and_then(Value::as_object).map(merge::normalize);
                        let cpu = Instant::now();
                        let lf = local_fields(l);
                        let m = merge(base.as_ref(), &lf, &rf, &changes.fields);
                        report.merge_cpu_ms += cpu.elapsed().as_secs_f64() * 1000.0;
                        if m.local_changed {
                            if let Some(f) = to_fields(&m.merged) {
                                store::residents::update_fields(tx, l.id, &f, now)?;
                                report.residents_updated += 1;
                            }
                        }
                        let keep = changes.status.then_some(l.suspended);
                        // A steady-state pull writes nothing for residents that did not change.
                        let onboarded = r.onboarded_at.as_deref().and_then(parse_wire_utc);
                        let suspended =
                            keep.unwrap_or_else(|| r.status.iter().any(|s| s.eq_ignore_ascii_case("suspended")));
                        let wrote = m.local_changed
                            || onboarded != l.onboarded_at
                            || suspended != l.suspended
                            || r.ssid != l.ssid
                            || r.service_area_number != l.service_area;
                        if wrote {
                            remote_state(tx, l.id, r, keep, now)?;
                        }
                        // `remote_state` stamps the row with `now`; the next pull compares it.
                        let local_at = if wrote { now } else { l.updated_at };
                        let fields = (base.as_ref() != Some(&rf)).then_some(Value::Object(rf));
                        if fields.is_some() || !stored.is_some_and(|b| b.settles(&digest, local_at)) {
                            store::residents::set_pulled_base(tx, l.id, fields.as_ref(), &digest, local_at, now)?;
                        }
                        if !m.conflicts.is_empty() && store::conflicts::open_for_resident(tx, l.id)?.is_none() {
                            let message = crate::sync::merge::disputed_message(m.conflicts.keys());
                            // Read in this transaction; each still moves by compare-and-set.
                            let mut held: Vec<i64> = Vec::new();
                            for e in entries
                                .iter()
                                .filter(|e| e.resident_id == Some(l.id) && e.state == OutboxState::Pending)
                            {
                                if sync_state::transition(
                                    tx,
                                    e.id,
                                    &[OutboxState::Pending],
                                    OutboxState::Conflict,
                                    Some(&message),
                                    now,
                                )? {
                                    held.push(e.id);
                                }
                            }
                            store::conflicts::insert(
                                tx,
                                &NewConflict {
                                    site_id,
                                    resident_id: Some(l.id),
                                    remote_id: Some(&rid),
                                    email: Some(&l.email),
                                    kind: ConflictKind::Field,
                                    fields: serde_json::to_value(&m.conflicts).unwrap_or(Value::Null),
                                    entry_ids: &held,
                                    message: &message,
                                },
                                now,
                            )?;
                            report.conflicts_recorded += 1;
                            report.conflict_entries += held.len() as u64;
                        }
                    }
                }
            }
        }
        for gone in locals.unseen_linked() {
            let Some(l) = store::residents::get(tx, gone)? else { continue };
            let l = &l;
            let changes = local_changes.get(&vocab::chain_key(l.id)).unwrap_or(&empty);
            if changes.any {
                if store::conflicts::open_for_resident(tx, l.id)?.is_some() {
                    continue;
                }
                let message = "the resident was deleted in Site Manager while changed here".to_string();
                // Read in this transaction; each still moves by compare-and-set from the state read.
                let mut held: Vec<i64> = Vec::new();
                for e in entries.iter().filter(|e| e.resident_id == Some(l.id) && e.state != OutboxState::InFlight) {
                    // The database's CHECK keeps every stored state one of OutboxState's.
                    let Some(from) = OutboxState::parse(&e.state) else { continue };
                    if sync_state::transition(tx, e.id, &[from], OutboxState::Conflict, Some(&message), now)? {
                        held.push(e.id);
                    }
                }
                store::conflicts::insert(
                    tx,
                    &NewConflict {
                        site_id,
                        resident_id: Some(l.id),
                        remote_id: l.remote_id.as_deref(),
                        email: Some(&l.email),
                        kind: ConflictKind::RemotePurge,
                        fields: serde_json::to_value(local_fields(l))
                            .map(|v| json!({"local": v, "remote": null}))
                            .unwrap_or(Value::Null),
                        entry_ids: &held,
                        message: &message,
                    },
                    now,
                )?;
                report.conflicts_recorded += 1;
                report.conflict_entries += held.len() as u64;
            } else {
                store::residents::delete(tx, l.id)?;
                super::audit_step(
                    tx,
                    now,
                    Some(session),
                    "sync.remote_purge",
                    "ok",
                    Some(site.team_id),
                    Some(site_id),
                    Some(&l.email),
                    json!({"remote_id": l.remote_id}),
                )?;
                // Purged on both sides: nothing left to sync needs the resident's data.
                let gone = store::scrub::Subject { resident_id: Some(l.id), email: l.email.clone() };
                store::scrub::purged(tx, &[gone], now)?;
                report.residents_deleted += 1;
            }
        }
        sync_state::site_pulled(tx, site_id, now)?;
    }
    Ok(Ok(unsettled == 0))
}
