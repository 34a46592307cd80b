//! The contract's assumptions, checked at first contact (issue #13).
//!
//! Every shape the contract could not confirm is an assumption ([`super::assumptions`]). The
//! first office that connects to the real API is where they meet reality, so
//! `residentdesk remote check` (and Settings → "Check the connection" in the desktop) makes
//! read-only calls — the token, a deliberately bad token, teams, sites, the mappings and
//! residents of one site, an unknown job and, when this desk started one, a known job — and
//! reports, assumption by assumption, `held`, `contradicted` (with the value seen) or
//! `not_exercised`, with each call's latency and any rate-limit headers.
//!
//! The answers are read as raw JSON ([`RawRemote`]), not through the typed client, so a
//! renamed field or a different casing is seen and named rather than failing to parse; where
//! a spelling differs only in case the check goes on with it, to exercise what follows.
//!
//! The last report is stored ([`record`], a `settings` row with its time). While it (or an
//! earlier check not since contradicted by a check where the assumption held) contradicts an
//! assumption a push depends on, [`push_refusal`] holds the push and says which; pull goes
//! on. A new check in which the assumption holds clears it.

use super::assumptions::{by_id, ASSUMPTIONS};
use super::client::{path_segment, residents_path, RawAnswer, RawRemote, RemoteError};
use super::{audit_step, Db};
use crate::access::Session;
use crate::error::{AppError, AppResult};
use crate::store;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// What the check found for one assumption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Held,
    /// The remote answered otherwise; `seen` says what it answered.
    Contradicted,
    /// No read-only call could show it (or the call that would have did not happen).
    NotExercised,
}

/// One assumption and what the check found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AssumptionCheck {
    pub id: String,
    pub topic: String,
    pub assumption: String,
    /// Whether a push depends on it (a contradiction holds the push).
    pub push: bool,
    pub result: Verdict,
    /// What the remote answered instead (contradicted only).
    pub seen: Option<String>,
    /// Why it was not exercised, or what it was checked against.
    pub note: Option<String>,
}

/// One read-only call of the check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CallRecord {
    /// `token`, `bad_token`, `teams`, `sites`, `mappings`, `residents`, `unknown_job`, `job`.
    pub call: String,
    pub method: String,
    pub path: String,
    /// The HTTP status of the last attempt (none when no answer came).
    pub status: Option<u16>,
    /// Latency of the last attempt, in milliseconds.
    pub latency_ms: f64,
    pub attempts: u32,
    /// Rate-limit headers seen on any attempt (`x-ratelimit-*`, `ratelimit-*`, `retry-after`).
    pub rate_limit: BTreeMap<String, String>,
    pub error: Option<String>,
}

/// A push-relevant assumption a check contradicted, and since when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Blocker {
    pub id: String,
    pub seen: Option<String>,
    /// The check that first contradicted it (a later check that could not exercise it keeps it).
    pub since: DateTime<Utc>,
}

/// The report of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CheckReport {
    pub at: DateTime<Utc>,
    pub remote_url: String,
    /// Whether the remote answered at all.
    pub reached: bool,
    /// Whether the token request refused the service account's credentials.
    pub credentials_refused: bool,
    /// Why the check stopped before its last call, if it did.
    pub stopped: Option<String>,
    /// The remote team, site and job the calls were made on.
    pub team: Option<String>,
    pub site: Option<String>,
    pub job: Option<String>,
    pub assumptions: Vec<AssumptionCheck>,
    pub calls: Vec<CallRecord>,
    /// What else was noticed (a team found by another name, an empty site...).
    pub notes: Vec<String>,
    /// The assumptions a push depends on that are contradicted (by this check, or by an
    /// earlier one this check could not exercise them again): while any, the push is held.
    /// Filled when the report is recorded.
    pub push_held_by: Vec<Blocker>,
}

impl CheckReport {
    /// The contradicted assumptions.
    pub fn contradicted(&self) -> impl Iterator<Item = &AssumptionCheck> {
        self.assumptions.iter().filter(|a| a.result == Verdict::Contradicted)
    }
    pub fn count(&self, v: Verdict) -> usize {
        self.assumptions.iter().filter(|a| a.result == v).count()
    }
    /// The result for `id`.
    pub fn get(&self, id: &str) -> Option<&AssumptionCheck> {
        self.assumptions.iter().find(|a| a.id == id)
    }
}

/// What the check looks at on this desk: the active team, the sites in scope and the last
/// job started on the remote. Read through the store by [`target`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckTarget {
    pub team_name: String,
    pub team_remote: Option<String>,
    /// Sites in scope: name and remote id.
    pub sites: Vec<(String, Option<String>)>,
    /// The last import / bulk job: the site's remote id, `import` or `bulk`, the job id.
    pub job: Option<(String, String, String)>,
}

/// The target of a check for `session` (its active team and the sites in its scope).
pub fn target(conn: &rusqlite::Connection, session: &Session) -> AppResult<CheckTarget> {
    let team_id = session
        .actor
        .team_id()
        .ok_or_else(|| AppError::refused(crate::access::Denial::NoTeam { email: session.actor.email.clone() }))?;
    let team = store::teams::get(conn, team_id)?.ok_or_else(|| AppError::not_found(format!("team #{team_id}")))?;
    let mut sites: Vec<_> =
        store::sites::list(conn, &session.actor.scope())?.into_iter().filter(|s| s.team_id == team.id).collect();
    let ids: Vec<i64> = sites.iter().map(|s| s.id).collect();
    let last_job = store::remote_check::last_remote_job(conn, &ids)?;
    // The site of the last job first: the one most likely to have residents to look at.
    if let Some((site_id, ..)) = &last_job {
        sites.sort_by_key(|s| s.id != *site_id);
    }
    let job = last_job.and_then(|(site_id, kind, job)| {
        let site = sites.iter().find(|s| s.id == site_id)?;
        Some((site.remote_id.clone()?, kind, job))
    });
    Ok(CheckTarget {
        team_name: team.name.clone(),
        team_remote: team.remote_id.clone(),
        sites: sites.iter().map(|s| (s.name.clone(), s.remote_id.clone())).collect(),
        job,
    })
}

/// How many times one call is tried (a 429, a 5xx or no answer is tried again).
const ATTEMPTS: u32 = 3;
/// The longest wait between attempts, whatever Retry-After says.
const MAX_WAIT: Duration = Duration::from_secs(5);
/// The bearer token sent to provoke a 401.
const BAD_TOKEN: &str = "residentdesk-check-deliberately-invalid-token";
/// A job id no remote knows.
const UNKNOWN_JOB: &str = "residentdesk-check-no-such-job-0000";
const STATUS_LABELS: [&str; 5] = ["scheduled", "current", "pending", "suspended", "expired"];

struct Checker<'a, R: RawRemote> {
    remote: &'a R,
    findings: BTreeMap<&'static str, (Verdict, Option<String>, Option<String>)>,
    report: CheckReport,
}

/// Runs the read-only calls against `remote` and evaluates every assumption. Never fails:
/// what could not be reached or read is said in the report.
pub async fn run<R: RawRemote>(remote: &R, target: &CheckTarget, now: DateTime<Utc>) -> CheckReport {
    let mut c = Checker {
        remote,
        findings: BTreeMap::new(),
        report: CheckReport {
            at: now,
            remote_url: remote.base_url().to_string(),
            reached: false,
            credentials_refused: false,
            stopped: None,
            team: None,
            site: None,
            job: None,
            assumptions: Vec::new(),
            calls: Vec::new(),
            notes: Vec::new(),
            push_held_by: Vec::new(),
        },
    };
    if let Err(why) = c.calls(target).await {
        c.report.stopped = Some(why);
    }
    let Checker { findings, mut report, .. } = c;
    report.assumptions = ASSUMPTIONS
        .iter()
        .map(|a| {
            let (result, seen, note) = findings.get(a.id).cloned().unwrap_or_else(|| {
                let why = match a.checked_by {
                    None => "only a write would show it; a check makes read-only calls".to_string(),
                    Some(_) if report.stopped.is_some() => "the check stopped before it".to_string(),
                    Some(what) => format!("nothing to look at ({what})"),
                };
                (Verdict::NotExercised, None, Some(why))
            });
            AssumptionCheck {
                id: a.id.into(),
                topic: a.topic.into(),
                assumption: a.assumption.into(),
                push: a.push,
                result,
                seen,
                note,
            }
        })
        .collect();
    report
}

fn clip(text: &str, max: usize) -> String {
    let t = text.trim();
    if t.chars().count() <= max {
        t.to_string()
    } else {
        format!("{}…", t.chars().take(max).collect::<String>())
    }
}

fn body_text(a: &RawAnswer) -> String {
    clip(&String::from_utf8_lossy(&a.body), 200)
}

fn keys(obj: &Map<String, Value>) -> String {
    let mut k: Vec<&str> = obj.keys().map(String::as_str).collect();
    k.sort_unstable();
    k.join(", ")
}

/// The value of `key` in `obj`, exactly or, failing that, in another casing (`Ok` exact,
/// `Err(Some)` found under another spelling).
fn lookup<'v>(obj: &'v Map<String, Value>, key: &str) -> Result<&'v Value, Option<(&'v str, &'v Value)>> {
    if let Some(v) = obj.get(key) {
        return Ok(v);
    }
    let norm = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
    let want = norm(key);
    Err(obj.iter().find(|(k, _)| norm(k) == want).map(|(k, v)| (k.as_str(), v)))
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn is_rate_limit_header(name: &str) -> bool {
    name.starts_with("x-ratelimit")
        || name.starts_with("x-rate-limit")
        || name.starts_with("ratelimit")
        || name == "retry-after"
}

impl<R: RawRemote> Checker<'_, R> {
    fn set(&mut self, id: &'static str, verdict: Verdict, seen: Option<String>, note: Option<String>) {
        debug_assert!(by_id(id).is_some(), "{id} is not an assumption");
        let slot = self.findings.entry(id).or_insert((Verdict::NotExercised, None, None));
        // Contradicted stays; held replaces not exercised.
        match (slot.0, verdict) {
            (Verdict::Contradicted, _) => {}
            (_, Verdict::Contradicted) | (Verdict::NotExercised, _) => *slot = (verdict, seen, note),
            _ => {}
        }
    }
    fn held(&mut self, id: &'static str) {
        self.set(id, Verdict::Held, None, None);
    }
    fn contradicted(&mut self, id: &'static str, seen: impl Into<String>) {
        self.set(id, Verdict::Contradicted, Some(seen.into()), None);
    }
    fn not_exercised(&mut self, id: &'static str, why: impl Into<String>) {
        self.set(id, Verdict::NotExercised, None, Some(why.into()));
    }

    /// One call, tried again on no answer, 429 and 5xx (waiting as Retry-After says, within
    /// [`MAX_WAIT`]); recorded in the report.
    async fn call(&mut self, call: &str, path: &str, token: Option<&str>) -> Result<RawAnswer, String> {
        let method = if token.is_none() { "POST" } else { "GET" };
        let mut record = CallRecord {
            call: call.into(),
            method: method.into(),
            path: path.into(),
            status: None,
            latency_ms: 0.0,
            attempts: 0,
            rate_limit: BTreeMap::new(),
            error: None,
        };
        let mut outcome = Err(String::new());
        for attempt in 1..=ATTEMPTS {
            record.attempts = attempt;
            let started = std::time::Instant::now();
            let answer = match token {
                None => self.remote.raw_token().await,
                Some(t) => self.remote.raw_get(path, t).await,
            };
            let mut wait = Duration::from_millis(300 << (attempt - 1));
            match answer {
                Ok(a) => {
                    self.report.reached = true;
                    record.status = Some(a.status);
                    record.latency_ms = (a.elapsed.as_secs_f64() * 10_000.0).round() / 10.0;
                    record.error = None;
                    for (n, v) in &a.headers {
                        if is_rate_limit_header(n) {
                            record.rate_limit.insert(n.clone(), v.clone());
                        }
                    }
                    let again = a.status == 429 || a.status >= 500;
                    if a.status == 429 || a.status == 503 {
                        match a.header("retry-after") {
                            Some(v) => match v.trim().parse::<u64>() {
                                Ok(secs) => {
                                    self.held("errors.retry_after");
                                    wait = Duration::from_secs(secs).min(MAX_WAIT);
                                }
                                Err(_) => self.contradicted("errors.retry_after", format!("Retry-After: {v}")),
                            },
                            None if a.status == 429 => {
                                self.contradicted("errors.retry_after", "a 429 without Retry-After")
                            }
                            None => {}
                        }
                    }
                    if again && attempt < ATTEMPTS {
                        record.error = Some(format!("HTTP {}: {}", a.status, body_text(&a)));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    outcome = Ok(a);
                }
                Err(e) => {
                    record.latency_ms = (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0;
                    let text = match &e {
                        RemoteError::Network(m) => m.clone(),
                        other => other.to_string(),
                    };
                    record.error = Some(text.clone());
                    if attempt < ATTEMPTS {
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    outcome = Err(text);
                }
            }
            break;
        }
        if let Ok(a) = &outcome {
            if !(200..300).contains(&a.status) {
                record.error = Some(format!("HTTP {}: {}", a.status, body_text(a)));
            }
        }
        self.report.calls.push(record);
        outcome
    }

    /// `errors.body` on an error answer.
    fn error_body(&mut self, a: &RawAnswer) {
        if a.status < 400 {
            return;
        }
        match serde_json::from_slice::<Value>(&a.body) {
            Ok(Value::Object(o)) => match o.get("Error") {
                Some(Value::String(m)) if !m.trim().is_empty() => self.held("errors.body"),
                Some(other) => self.contradicted("errors.body", format!("HTTP {}: Error is {other}", a.status)),
                None => self.contradicted("errors.body", format!("HTTP {}: {}", a.status, body_text(a))),
            },
            _ => self.contradicted("errors.body", format!("HTTP {}: {}", a.status, body_text(a))),
        }
    }

    /// The answer's JSON object, or the reason it is not one.
    fn object(a: &RawAnswer) -> Result<Map<String, Value>, String> {
        match serde_json::from_slice::<Value>(&a.body) {
            Ok(Value::Object(o)) => Ok(o),
            Ok(other) => Err(format!("not a JSON object: {}", clip(&other.to_string(), 120))),
            Err(_) => Err(format!("not JSON: {}", body_text(a))),
        }
    }

    /// The array under `key` (another casing contradicts `id` but is used to go on).
    fn list(&mut self, id: &'static str, obj: &Map<String, Value>, key: &str) -> Option<Vec<Value>> {
        match lookup(obj, key) {
            Ok(Value::Array(items)) => Some(items.clone()),
            Ok(other) => {
                self.contradicted(id, format!("{key} is {}", clip(&other.to_string(), 120)));
                None
            }
            Err(Some((k, Value::Array(items)))) => {
                self.contradicted(id, format!("\"{k}\" instead of \"{key}\" (keys: {})", keys(obj)));
                Some(items.clone())
            }
            Err(_) => {
                self.contradicted(id, format!("no {key} (keys: {})", keys(obj)));
                None
            }
        }
    }

    /// A required id field of a list item (another casing contradicts `id`, used to go on).
    fn item_id(&mut self, id: &'static str, list: &str, i: usize, item: &Value, key: &str) -> Option<String> {
        let Value::Object(o) = item else {
            self.contradicted(id, format!("{list}[{i}] is {}", clip(&item.to_string(), 120)));
            return None;
        };
        match lookup(o, key) {
            Ok(v) => id_text(v).or_else(|| {
                self.contradicted(id, format!("{list}[{i}].{key} is {v}"));
                None
            }),
            Err(Some((k, v))) => {
                self.contradicted(id, format!("{list}[{i}] has \"{k}\" instead of \"{key}\" (keys: {})", keys(o)));
                id_text(v)
            }
            Err(None) => {
                self.contradicted(id, format!("{list}[{i}] has no {key} (keys: {})", keys(o)));
                None
            }
        }
    }

    /// The calls, in order; `Err` says why the check stopped.
    async fn calls(&mut self, target: &CheckTarget) -> Result<(), String> {
        // The token.
        let a = self
            .call("token", "/oauth/token", None)
            .await
            .map_err(|e| format!("the remote could not be reached: {e}"))?;
        if a.status == 401 || a.status == 403 {
            self.report.credentials_refused = true;
            self.error_body(&a);
            return Err(format!(
                "the remote refused the service account's credentials (HTTP {}: {})",
                a.status,
                body_text(&a)
            ));
        }
        if !(200..300).contains(&a.status) {
            self.error_body(&a);
            return Err(format!("the token request was answered HTTP {}: {}", a.status, body_text(&a)));
        }
        let token = self.token(&a)?;

        // A bad token must get 401.
        if let Ok(a) = self.call("bad_token", "/team", Some(BAD_TOKEN)).await {
            if a.status == 401 {
                self.held("token.bad_is_401");
            } else {
                self.contradicted("token.bad_is_401", format!("HTTP {} for a bad token: {}", a.status, body_text(&a)));
            }
            self.error_body(&a);
        }

        // Teams.
        let a = self.call("teams", "/team", Some(&token)).await.map_err(|e| format!("GET /team failed: {e}"))?;
        if !(200..300).contains(&a.status) {
            self.error_body(&a);
            return Err(format!("GET /team was answered HTTP {}: {}", a.status, body_text(&a)));
        }
        let team = self.teams(&a, target)?;
        self.report.team = Some(team.clone());

        // Sites.
        let path = format!("/team/{}/site", path_segment(&team));
        let a = self.call("sites", &path, Some(&token)).await.map_err(|e| format!("GET {path} failed: {e}"))?;
        if !(200..300).contains(&a.status) {
            self.error_body(&a);
            return Err(format!("GET {path} was answered HTTP {}: {}", a.status, body_text(&a)));
        }
        let site = self.sites(&a, target)?;
        self.report.site = Some(site.clone());

        // Mappings and residents of that site.
        let path = format!("/team/{}/site/{}/mappings", path_segment(&team), path_segment(&site));
        match self.call("mappings", &path, Some(&token)).await {
            Ok(a) if (200..300).contains(&a.status) => self.mappings(&a),
            Ok(a) => self.error_body(&a),
            Err(_) => {}
        }
        let path = residents_path(&team, &site);
        match self.call("residents", &path, Some(&token)).await {
            Ok(a) if (200..300).contains(&a.status) => self.residents(&a),
            Ok(a) => self.error_body(&a),
            Err(_) => {}
        }

        // A job nobody started: 404.
        let path = format!("{}/import/{}", residents_path(&team, &site), UNKNOWN_JOB);
        if let Ok(a) = self.call("unknown_job", &path, Some(&token)).await {
            if a.status == 404 {
                self.held("jobs.unknown_is_404");
            } else {
                self.contradicted(
                    "jobs.unknown_is_404",
                    format!("HTTP {} for a job that does not exist: {}", a.status, body_text(&a)),
                );
            }
            self.error_body(&a);
        }

        // The last job this desk started, if the remote still knows it.
        match &target.job {
            None => self.not_exercised("jobs.status_shape", "this desk has not started an import or bulk job yet"),
            Some((job_site, kind, job)) => {
                let word = if kind == "bulk" { "bulkaction" } else { "import" };
                let path = format!("{}/{word}/{}", residents_path(&team, job_site), path_segment(job));
                self.report.job = Some(job.clone());
                match self.call("job", &path, Some(&token)).await {
                    Ok(a) if (200..300).contains(&a.status) => self.job(&a),
                    Ok(a) if a.status == 404 => {
                        self.error_body(&a);
                        self.not_exercised("jobs.status_shape", format!("the remote no longer knows job {job}"));
                    }
                    Ok(a) => self.error_body(&a),
                    Err(_) => {}
                }
            }
        }
        Ok(())
    }

    fn token(&mut self, a: &RawAnswer) -> Result<String, String> {
        let o = match Self::object(a) {
            Ok(o) => o,
            Err(e) => {
                self.contradicted("token.shape", e.clone());
                return Err(format!("the token answer is {e}"));
            }
        };
        let token = match lookup(&o, "access_token") {
            Ok(Value::String(t)) if !t.is_empty() => t.clone(),
            Ok(other) => {
                self.contradicted("token.shape", format!("access_token is {other}"));
                return Err("the token answer has no usable access_token".into());
            }
            Err(Some((k, Value::String(t)))) => {
                self.contradicted("token.shape", format!("\"{k}\" instead of \"access_token\" (keys: {})", keys(&o)));
                t.clone()
            }
            Err(_) => {
                self.contradicted("token.shape", format!("no access_token (keys: {})", keys(&o)));
                return Err("the token answer has no access_token".into());
            }
        };
        match o.get("token_type") {
            Some(Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {}
            None | Some(Value::Null) => {}
            Some(other) => self.contradicted("token.shape", format!("token_type: {other}")),
        }
        match o.get("expires_in") {
            None | Some(Value::Null) => {}
            Some(v) if v.as_u64().is_some() => {}
            Some(other) => self.contradicted("token.shape", format!("expires_in: {other}")),
        }
        self.held("token.shape");
        Ok(token)
    }

    fn teams(&mut self, a: &RawAnswer, target: &CheckTarget) -> Result<String, String> {
        const ID: &str = "teams.shape";
        let o = Self::object(a).inspect_err(|e| self.contradicted(ID, e.clone()))?;
        let items = self.list(ID, &o, "Teams").ok_or("the teams could not be read")?;
        let mut teams: Vec<(String, Option<String>)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Some(id) = self.item_id(ID, "Teams", i, item, "TeamId") else { continue };
            let name = match item.get("Name") {
                Some(Value::String(n)) => Some(n.clone()),
                Some(other) => {
                    self.contradicted(ID, format!("Teams[{i}].Name is {other}"));
                    None
                }
                None => {
                    let o = item.as_object().cloned().unwrap_or_default();
                    self.contradicted(ID, format!("Teams[{i}] has no Name (keys: {})", keys(&o)));
                    lookup(&o, "Name").err().flatten().and_then(|(_, v)| v.as_str().map(str::to_string))
                }
            };
            teams.push((id, name));
        }
        if teams.is_empty() {
            return Err("the service account sees no team".into());
        }
        self.held(ID);
        let found = match &target.team_remote {
            Some(remote) => teams.iter().find(|(id, _)| id == remote),
            None => teams
                .iter()
                .find(|(_, n)| n.as_deref().is_some_and(|n| n.trim().eq_ignore_ascii_case(target.team_name.trim()))),
        };
        Ok(match found {
            Some((id, _)) => id.clone(),
            None => {
                self.report.notes.push(format!(
                    "the remote shows no team for {:?} (it shows: {}); the first one was checked",
                    target.team_name,
                    teams.iter().map(|(id, n)| n.clone().unwrap_or_else(|| id.clone())).collect::<Vec<_>>().join(", ")
                ));
                teams[0].0.clone()
            }
        })
    }

    fn sites(&mut self, a: &RawAnswer, target: &CheckTarget) -> Result<String, String> {
        const ID: &str = "sites.shape";
        let o = Self::object(a).inspect_err(|e| self.contradicted(ID, e.clone()))?;
        let items = self.list(ID, &o, "Sites").ok_or("the sites could not be read")?;
        let mut sites: Vec<(String, Option<String>)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Some(id) = self.item_id(ID, "Sites", i, item, "SiteId") else { continue };
            let o = item.as_object().cloned().unwrap_or_default();
            for key in ["Name", "SiteType", "TimeZone"] {
                match o.get(key) {
                    Some(Value::String(_)) => {}
                    Some(other) => self.contradicted(ID, format!("Sites[{i}].{key} is {other}")),
                    None => self.contradicted(ID, format!("Sites[{i}] has no {key} (keys: {})", keys(&o))),
                }
            }
            if let Some(Value::String(tz)) = o.get("TimeZone") {
                if tz.parse::<chrono_tz::Tz>().is_err() {
                    self.contradicted(ID, format!("Sites[{i}].TimeZone {tz:?} is not an IANA time zone"));
                }
            }
            sites.push((id, o.get("Name").and_then(Value::as_str).map(str::to_string)));
        }
        if sites.is_empty() {
            return Err("the service account sees no site of this team".into());
        }
        self.held(ID);
        let linked = target.sites.iter().find_map(|(_, remote)| {
            remote.as_ref().and_then(|r| sites.iter().find(|(id, _)| id == r)).map(|(id, _)| id.clone())
        });
        let named = || {
            target.sites.iter().find_map(|(name, _)| {
                sites
                    .iter()
                    .find(|(_, n)| n.as_deref().is_some_and(|n| n.trim().eq_ignore_ascii_case(name.trim())))
                    .map(|(id, _)| id.clone())
            })
        };
        Ok(linked.or_else(named).unwrap_or_else(|| sites[0].0.clone()))
    }

    fn mappings(&mut self, a: &RawAnswer) {
        const ID: &str = "mappings.shape";
        let o = match Self::object(a) {
            Ok(o) => o,
            Err(e) => return self.contradicted(ID, e),
        };
        let Some(items) = self.list(ID, &o, "Mappings") else { return };
        if items.is_empty() {
            return self.not_exercised(ID, "the site has no mappings");
        }
        for (i, item) in items.iter().enumerate() {
            let Value::Object(m) = item else {
                self.contradicted(ID, format!("Mappings[{i}] is {}", clip(&item.to_string(), 120)));
                continue;
            };
            for key in ["Building", "Floor", "Unit", "Passphrase", "SSID", "Vlan"] {
                let required = matches!(key, "Building" | "Floor" | "Unit");
                match m.get(key) {
                    Some(Value::String(_)) => {}
                    None | Some(Value::Null) if !required => {}
                    None => self.contradicted(ID, format!("Mappings[{i}] has no {key} (keys: {})", keys(m))),
                    Some(other) => self.contradicted(ID, format!("Mappings[{i}].{key} is not a string: {other}")),
                }
            }
        }
        self.held(ID);
    }

    fn residents(&mut self, a: &RawAnswer) {
        let o = match Self::object(a) {
            Ok(o) => o,
            Err(e) => return self.contradicted("residents.envelope", e),
        };
        match o.get("Error") {
            None | Some(Value::Null) => {}
            Some(other) => self.contradicted("residents.envelope", format!("Error is {other} on a 200")),
        }
        let Some(items) = self.list("residents.envelope", &o, "Residents") else { return };
        self.held("residents.envelope");
        if items.is_empty() {
            for id in ["residents.fields", "residents.phone", "residents.status", "residents.onboarded_at"] {
                self.not_exercised(id, "the site has no resident");
            }
            self.not_exercised("residents.list_expired", "the site has no resident");
            return;
        }
        let (mut phone_keys, mut onboarded, mut expired) = (false, false, false);
        for (i, item) in items.iter().enumerate() {
            let Value::Object(r) = item else {
                self.contradicted("residents.fields", format!("Residents[{i}] is {}", clip(&item.to_string(), 120)));
                continue;
            };
            let who = r.get("ResidentId").and_then(id_text).unwrap_or_else(|| format!("Residents[{i}]"));
            for key in
                ["ResidentId", "Email", "FirstName", "LastName", "Building", "Floor", "Unit", "ActivationDateUTC"]
            {
                match r.get(key) {
                    Some(Value::String(s)) if !s.is_empty() => {}
                    Some(Value::Number(_)) if matches!(key, "ResidentId" | "Building" | "Floor" | "Unit") => {}
                    Some(other) => self.contradicted("residents.fields", format!("{who}: {key} is {other}")),
                    None => self.contradicted("residents.fields", format!("{who} has no {key} (keys: {})", keys(r))),
                }
            }
            for key in ["ActivationDateUTC", "DeactivationDateUTC"] {
                match r.get(key) {
                    Some(Value::String(d)) if !d.is_empty() && DateTime::parse_from_rfc3339(d).is_err() => self
                        .contradicted(
                            "residents.fields",
                            format!("{who}: {key} {d:?} has no offset or is not ISO 8601"),
                        ),
                    Some(other @ (Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_))) => {
                        self.contradicted("residents.fields", format!("{who}: {key} is {other}"))
                    }
                    _ => {}
                }
            }
            for k in r.keys() {
                let l = k.to_ascii_lowercase();
                if matches!(k.as_str(), "PhoneNumber" | "Phone" | "Mobile") {
                    phone_keys = true;
                } else if l.contains("phone") || l.contains("mobile") || l.starts_with("tel") || l.contains("cell") {
                    self.contradicted("residents.phone", format!("{who}: {k}: {}", r[k]));
                }
            }
            match r.get("Status") {
                Some(Value::Array(labels)) => {
                    let ok = labels.iter().all(|l| l.as_str().is_some_and(|s| STATUS_LABELS.contains(&s)));
                    if !ok {
                        self.contradicted(
                            "residents.status",
                            format!("{who}: Status {}", Value::Array(labels.clone())),
                        );
                    }
                    expired |= labels.iter().any(|l| l.as_str() == Some("expired"));
                }
                Some(other) => self.contradicted("residents.status", format!("{who}: Status {other}")),
                None => self.contradicted("residents.status", format!("{who} has no Status (keys: {})", keys(r))),
            }
            match r.get("OnboardedAt") {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => {
                    onboarded = true;
                    let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok();
                    if !naive {
                        self.contradicted(
                            "residents.onboarded_at",
                            format!("{who}: OnboardedAt {s:?} is not a date-time without an offset"),
                        );
                    }
                }
                Some(other) => self.contradicted("residents.onboarded_at", format!("{who}: OnboardedAt {other}")),
            }
        }
        self.held("residents.fields");
        self.held("residents.status");
        if phone_keys {
            self.held("residents.phone");
        } else {
            let first = items[0].as_object().map(keys).unwrap_or_default();
            self.contradicted(
                "residents.phone",
                format!("no PhoneNumber, Phone or Mobile in any resident (keys: {first})"),
            );
        }
        if onboarded {
            self.held("residents.onboarded_at");
        } else {
            self.not_exercised("residents.onboarded_at", "no resident of the site has onboarded");
        }
        if expired {
            self.held("residents.list_expired");
        } else {
            self.not_exercised("residents.list_expired", "no expired resident is listed at the site");
        }
    }

    fn job(&mut self, a: &RawAnswer) {
        const ID: &str = "jobs.status_shape";
        let o = match Self::object(a) {
            Ok(o) => o,
            Err(e) => return self.contradicted(ID, e),
        };
        let status = match lookup(&o, "status") {
            Ok(Value::String(s)) => s.clone(),
            Ok(other) => return self.contradicted(ID, format!("status is {other}")),
            Err(Some((k, v))) => return self.contradicted(ID, format!("\"{k}\": {v} instead of \"status\"")),
            Err(None) => return self.contradicted(ID, format!("no status (keys: {})", keys(&o))),
        };
        if status != "started" && status != "finished" {
            return self.contradicted(ID, format!("status {status:?} (expected started or finished)"));
        }
        for key in ["progress", "total", "success", "failed"] {
            match o.get(key) {
                Some(Value::Number(_)) => {}
                Some(other) => return self.contradicted(ID, format!("{key} is {other}")),
                None => return self.contradicted(ID, format!("no {key} (keys: {})", keys(&o))),
            }
        }
        if status == "finished" {
            match o.get("result") {
                Some(Value::Object(r)) => {
                    for key in ["success", "failed"] {
                        if !matches!(r.get(key), Some(Value::Array(_))) {
                            return self
                                .contradicted(ID, format!("result.{key} is not a list (result keys: {})", keys(r)));
                        }
                    }
                }
                Some(other) => return self.contradicted(ID, format!("result is {}", clip(&other.to_string(), 120))),
                None => return self.contradicted(ID, format!("a finished job without result (keys: {})", keys(&o))),
            }
        }
        self.held(ID);
    }
}

/// The last check's report, if one is stored and readable.
pub fn last(conn: &rusqlite::Connection) -> AppResult<Option<CheckReport>> {
    let Some(text) = store::remote_check::last_check(conn)? else { return Ok(None) };
    match serde_json::from_str(&text) {
        Ok(r) => Ok(Some(r)),
        Err(e) => {
            tracing::warn!("the stored remote check cannot be read ({e}); it is ignored");
            Ok(None)
        }
    }
}

/// The push-relevant assumptions `report` contradicts, plus those an earlier check
/// contradicted that this one could not exercise again (they stay until a check holds them).
fn blockers(report: &CheckReport, previous: Option<&CheckReport>) -> Vec<Blocker> {
    let before = |id: &str| previous.and_then(|p| p.push_held_by.iter().find(|b| b.id == id));
    let mut out = Vec::new();
    for a in report.assumptions.iter().filter(|a| a.push) {
        match a.result {
            Verdict::Contradicted => out.push(Blocker {
                id: a.id.clone(),
                seen: a.seen.clone(),
                since: before(&a.id).map(|b| b.since).unwrap_or(report.at),
            }),
            Verdict::NotExercised => out.extend(before(&a.id).cloned()),
            Verdict::Held => {}
        }
    }
    out
}

/// Stores `report` as the last check (with the push blockers it leaves) and audits what it
/// found (`remote.check.result`), in one short transaction; returns the stored report.
pub fn record(db: Db<'_>, session: &Session, mut report: CheckReport) -> AppResult<CheckReport> {
    let previous = last(db.conn)?;
    report.push_held_by = blockers(&report, previous.as_ref());
    let text =
        serde_json::to_string(&report).map_err(|e| AppError::internal(format!("cannot encode the check: {e}")))?;
    let now = db.now();
    let tx = store::begin_immediate(db.conn)?;
    store::remote_check::save_check(&tx, &text)?;
    let contradicted: Vec<Value> =
        report.contradicted().map(|a| json!({"id": a.id, "seen": a.seen, "push": a.push})).collect();
    let outcome = if !report.reached || report.credentials_refused {
        "failed"
    } else if contradicted.is_empty() {
        "ok"
    } else {
        "contradicted"
    };
    audit_step(
        &tx,
        now,
        Some(session),
        "remote.check.result",
        outcome,
        session.actor.team_id(),
        None,
        Some(&report.remote_url),
        json!({
            "held": report.count(Verdict::Held),
            "contradicted": contradicted,
            "not_exercised": report.count(Verdict::NotExercised),
            "push_held_by": report.push_held_by.iter().map(|b| b.id.clone()).collect::<Vec<_>>(),
            "stopped": report.stopped,
        }),
    )?;
    tx.commit()?;
    Ok(report)
}

/// Why a push must wait, when the last check holds it: the message names every contradicted
/// assumption a push depends on (with the value seen). `None`: push away.
pub fn push_refusal(conn: &rusqlite::Connection) -> AppResult<Option<String>> {
    let Some(last) = last(conn)? else { return Ok(None) };
    if last.push_held_by.is_empty() {
        return Ok(None);
    }
    let what: Vec<String> = last
        .push_held_by
        .iter()
        .map(|b| match &b.seen {
            Some(seen) => format!("{} (seen: {seen})", b.id),
            None => b.id.clone(),
        })
        .collect();
    Ok(Some(format!(
        "push held: the remote check of {} found the remote contradicting what a push relies on: {}; changes wait \
         (pull goes on) until `residentdesk remote check` (Settings → Check the connection) finds them held",
        last.push_held_by.iter().map(|b| b.since).min().unwrap_or(last.at).format("%Y-%m-%d %H:%M UTC"),
        what.join("; ")
    )))
}

/// The ids of the assumptions holding the push (for the pass report).
pub fn push_held_ids(conn: &rusqlite::Connection) -> AppResult<Vec<String>> {
    Ok(last(conn)?.map(|l| l.push_held_by.into_iter().map(|b| b.id).collect()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(at: DateTime<Utc>, results: &[(&str, Verdict)]) -> CheckReport {
        CheckReport {
            at,
            remote_url: "http://x/v2".into(),
            reached: true,
            credentials_refused: false,
            stopped: None,
            team: None,
            site: None,
            job: None,
            assumptions: results
                .iter()
                .map(|(id, v)| AssumptionCheck {
                    id: id.to_string(),
                    topic: String::new(),
                    assumption: String::new(),
                    push: by_id(id).unwrap().push,
                    result: *v,
                    seen: (*v == Verdict::Contradicted).then(|| "x".to_string()),
                    note: None,
                })
                .collect(),
            calls: vec![],
            notes: vec![],
            push_held_by: vec![],
        }
    }

    #[test]
    fn a_contradiction_stays_until_a_check_holds_it() {
        let t0 = Utc::now();
        let mut first = report(
            t0,
            &[("residents.status", Verdict::Contradicted), ("residents.onboarded_at", Verdict::Contradicted)],
        );
        first.push_held_by = blockers(&first, None);
        assert_eq!(
            first.push_held_by.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
            ["residents.status"],
            "only push-relevant ones hold the push"
        );
        let t1 = t0 + chrono::Duration::minutes(5);
        let mut unreached = report(t1, &[("residents.status", Verdict::NotExercised)]);
        unreached.push_held_by = blockers(&unreached, Some(&first));
        assert_eq!(unreached.push_held_by.len(), 1, "a check that could not look keeps the block");
        assert_eq!(unreached.push_held_by[0].since, t0);
        let held = report(t1, &[("residents.status", Verdict::Held)]);
        assert!(blockers(&held, Some(&unreached)).is_empty(), "a check that holds clears it");
    }

    #[test]
    fn lookups_name_other_spellings() {
        let o: Map<String, Value> = serde_json::from_str(r#"{"teamId": "T1", "Name": "x"}"#).unwrap();
        assert!(lookup(&o, "Name").is_ok());
        assert_eq!(lookup(&o, "TeamId").err().flatten().map(|(k, _)| k), Some("teamId"));
        assert!(lookup(&o, "SiteId").unwrap_err().is_none());
        assert!(is_rate_limit_header("x-ratelimit-remaining") && is_rate_limit_header("retry-after"));
        assert!(!is_rate_limit_header("content-type"));
    }
}
