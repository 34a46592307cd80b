//! Import and bulk-action jobs that progress on the simulated clock.
//!
//! A job's items are processed one by one, evenly spread over the job duration; each is
//! applied when it falls due (lazily, on the next request), against the state of that
//! moment. While the `stall_jobs` fault is on, no job moves. When the last item is done the
//! job is `finished` and its per-resident `result` appears; the owner gets a report e-mail.

use crate::assumptions::{self, MAX_JOB_ITEMS};
use crate::error::{ApiError, ApiResult};
use crate::extract::describe_serde_error;
use crate::model::{Job, JobKind, Site};
use crate::world::{mail_kind, World};
use residentdesk_domain::rules::{self, RuleError};
use residentdesk_domain::wire::{JobItem, JobResult, JobStatus, ResidentInput};
use residentdesk_domain::{BulkAction, StatusChange};
use serde_json::{Map, Value};

impl World {
    fn new_job(&mut self, site: &Site, owner: &str, kind: JobKind) -> String {
        let job_id = self.new_id();
        let job = Job {
            job_id: job_id.clone(),
            team_id: site.team_id.clone(),
            site_id: site.site_id.clone(),
            owner: owner.to_string(),
            created_at: self.now(),
            duration_ms: self.settings.job_duration_ms,
            kind,
            processed: 0,
            succeeded: Vec::new(),
            failed: Vec::new(),
            finished_at: None,
        };
        self.data.jobs.insert(job_id.clone(), job);
        self.touch();
        job_id
    }

    /// `POST .../resident/import` with `{"Residents": [...]}`; rows are checked when processed.
    pub fn start_import(&mut self, site: &Site, owner: &str, body: Value) -> ApiResult<String> {
        let Value::Object(mut obj) = body else {
            return Err(ApiError::bad_request("request body must be a JSON object"));
        };
        if let Some(k) = obj.keys().find(|k| *k != "Residents") {
            return Err(ApiError::bad_request(format!("unknown field `{k}`, expected `Residents`")));
        }
        let rows = match obj.remove("Residents") {
            Some(Value::Array(rows)) => rows,
            Some(_) => return Err(ApiError::bad_request("Residents must be an array of resident objects")),
            None => return Err(ApiError::bad_request("missing field `Residents`")),
        };
        if rows.is_empty() {
            return Err(ApiError::bad_request("Residents must not be empty"));
        }
        if rows.len() > MAX_JOB_ITEMS {
            return Err(ApiError::bad_request(format!("Residents has {} items; at most {MAX_JOB_ITEMS}", rows.len())));
        }
        Ok(self.new_job(site, owner, JobKind::Import { rows }))
    }

    /// `POST .../resident/bulkaction`.
    pub fn start_bulk(
        &mut self,
        site: &Site,
        owner: &str,
        action: BulkAction,
        resident_ids: Option<Vec<String>>,
    ) -> ApiResult<String> {
        let now = self.now();
        let ids = match resident_ids {
            Some(ids) => {
                if ids.is_empty() {
                    return Err(ApiError::bad_request(
                        "ResidentIds must not be empty (omit it to act on the whole site)",
                    ));
                }
                if ids.len() > MAX_JOB_ITEMS {
                    return Err(ApiError::bad_request(format!(
                        "ResidentIds has {} items; at most {MAX_JOB_ITEMS}",
                        ids.len()
                    )));
                }
                let mut seen = std::collections::HashSet::new();
                ids.into_iter().filter(|id| seen.insert(id.clone())).collect()
            }
            None => self
                .site_residents(&site.site_id)
                .into_iter()
                .filter(|r| action.eligible(r.flags(now)))
                .map(|r| r.resident_id.clone())
                .collect(),
        };
        Ok(self.new_job(site, owner, JobKind::Bulk { action, resident_ids: ids }))
    }

    /// Processes every job item that has fallen due.
    pub fn process_jobs(&mut self) {
        if self.faults.stall_jobs() {
            return;
        }
        let now = self.now();
        let due: Vec<String> = self
            .data
            .jobs
            .values()
            .filter(|j| j.finished_at.is_none() && (j.processed >= j.total() || j.due(j.processed) <= now))
            .map(|j| j.job_id.clone())
            .collect();
        for job_id in due {
            while let Some(job) = self.data.jobs.get(&job_id) {
                if job.processed >= job.total() {
                    let owner = job.owner.clone();
                    if let Some(j) = self.data.jobs.get_mut(&job_id) {
                        j.finished_at = Some(now);
                    }
                    self.record_mail(&owner, "job_report", None);
                    break;
                }
                if job.due(job.processed) > now {
                    break;
                }
                let i = job.processed;
                let site = self.site(&job.site_id).cloned();
                let (ok, item) = match (&job.kind, site) {
                    (_, None) => (false, failed_item(Map::new(), "Site no longer exists".into(), None)),
                    (JobKind::Import { rows }, Some(site)) => {
                        let row = rows[i].clone();
                        self.import_row(&site, row)
                    }
                    (JobKind::Bulk { action, resident_ids }, Some(site)) => {
                        let (action, id) = (*action, resident_ids[i].clone());
                        self.bulk_one(&site, action, &id)
                    }
                };
                if let Some(j) = self.data.jobs.get_mut(&job_id) {
                    j.processed += 1;
                    if ok {
                        j.succeeded.push(item);
                    } else {
                        j.failed.push(item);
                    }
                }
                self.touch();
            }
        }
    }

    fn import_row(&mut self, site: &Site, row: Value) -> (bool, JobItem) {
        let echo = match &row {
            Value::Object(m) => m.clone(),
            _ => Map::new(),
        };
        if !row.is_object() {
            return (false, failed_item(echo, "each item of Residents must be a JSON object".into(), None));
        }
        let input: ResidentInput = match serde_path_to_error::deserialize(row) {
            Ok(i) => i,
            Err(e) => {
                let field = serde_field(&e);
                return (false, failed_item(echo, describe_serde_error(&e), field));
            }
        };
        match self.create_resident(site, &input) {
            Ok(r) => (true, success_item(self.resident_map(&r.resident_id), assumptions::RESULT_IMPORTED.into())),
            Err(e) => {
                let field = e.field().map(str::to_string);
                (false, failed_item(echo, e.to_string(), field))
            }
        }
    }

    fn resident_map(&self, id: &str) -> Map<String, Value> {
        match self.data.residents.get(id).map(|r| serde_json::to_value(self.resident_wire(r))) {
            Some(Ok(Value::Object(m))) => m,
            _ => {
                let mut m = Map::new();
                m.insert("ResidentId".into(), Value::String(id.to_string()));
                m
            }
        }
    }

    fn bulk_one(&mut self, site: &Site, action: BulkAction, id: &str) -> (bool, JobItem) {
        let now = self.now();
        let Some(r) = self.data.residents.get(id).filter(|r| r.site_id == site.site_id) else {
            let mut m = Map::new();
            m.insert("ResidentId".into(), Value::String(id.to_string()));
            return (
                false,
                failed_item(m, format!("Resident {id} not found on this site"), Some("ResidentIds".into())),
            );
        };
        let flags = r.flags(now);
        let before = self.resident_map(id);
        if !action.eligible(flags) {
            return (false, failed_item(before, action.ineligible_reason(flags), Some("Status".into())));
        }
        let email = r.email.clone();
        let onboarded = r.onboarded_at.is_some();
        let mut invite = None;
        let outcome: Result<(), RuleError> = match action {
            BulkAction::Suspend | BulkAction::Unsuspend => {
                let change = if action == BulkAction::Suspend { StatusChange::Disabled } else { StatusChange::Active };
                if let Some(r) = self.data.residents.get_mut(id) {
                    r.suspended = change == StatusChange::Disabled;
                    r.updated_at = now;
                    r.version += 1;
                }
                Ok(())
            }
            BulkAction::Terminate => {
                let end = rules::termination_end(r.activation_utc, now, site.tz());
                if let Some(r) = self.data.residents.get_mut(id) {
                    r.deactivation_utc = Some(end);
                    r.updated_at = now;
                    r.version += 1;
                }
                Ok(())
            }
            BulkAction::TerminatePurge => rules::check_purge(flags).map(|()| {
                self.remove_resident(id);
            }),
            BulkAction::ResendInvites => rules::invite_kind(flags, onboarded).map(|k| {
                invite = Some(k);
                self.record_mail(&email, mail_kind(k), Some(id));
            }),
            BulkAction::OnboardNow => self.onboard_now_interval(site, id, now).map(|moved| {
                if let Some(r) = self.data.residents.get_mut(id) {
                    r.activation_utc = moved.start;
                    r.updated_at = now;
                    r.version += 1;
                }
                self.record_mail(&email, "invitation", Some(id));
            }),
        };
        match outcome {
            Ok(()) => {
                let after = if self.data.residents.contains_key(id) { self.resident_map(id) } else { before };
                (true, success_item(after, assumptions::bulk_item_result(action, invite)))
            }
            Err(e) => {
                let field = e.field().map(str::to_string);
                (false, failed_item(before, e.to_string(), field))
            }
        }
    }

    /// The interval onboard-now gives a scheduled resident (`rules::onboard_now`: the start
    /// moves to `now`), checked against the unit's other stays with the one occupancy rule.
    fn onboard_now_interval(
        &self,
        site: &Site,
        id: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<rules::Interval, RuleError> {
        let r = self.data.residents.get(id).ok_or_else(|| RuleError::Invalid {
            field: "ResidentIds".into(),
            reason: format!("Resident {id} not found on this site"),
            why: None,
        })?;
        let interval = rules::onboard_now(r.flags(now), r.interval(), now)?;
        if !assumptions::ONBOARD_NOW_MOVES_ACTIVATION {
            return Ok(r.interval());
        }
        let others = self.site_residents(&site.site_id).into_iter().filter(|o| {
            o.resident_id != r.resident_id && o.unit == r.unit && o.floor == r.floor && o.building == r.building
        });
        rules::check_occupancy(
            &r.unit,
            &interval,
            now,
            others.map(|o| rules::Occupant { label: &o.email, interval: o.interval(), flags: o.flags(now) }),
        )?;
        Ok(interval)
    }

    /// The status of job `job_id` of `site` (404 for another site's or an unknown job).
    pub fn job_status(&self, site: &Site, job_id: &str, bulk: bool) -> ApiResult<JobStatus> {
        let job = self
            .data
            .jobs
            .get(job_id)
            .filter(|j| j.site_id == site.site_id)
            .filter(|j| matches!(j.kind, JobKind::Bulk { .. }) == bulk)
            .ok_or_else(|| ApiError::not_found(format!("Job {job_id} not found on site {}", site.site_id)))?;
        let total = job.total();
        let progress = if total == 0 { 100.0 } else { (job.processed as f64 * 100.0 / total as f64).floor() };
        let finished = job.finished_at.is_some();
        let action = match &job.kind {
            JobKind::Bulk { action, .. } => Some(action.as_str().to_string()),
            JobKind::Import { .. } => None,
        };
        Ok(JobStatus {
            job_id: Some(job.job_id.clone()),
            status: if finished { "finished".into() } else { "started".into() },
            progress: if finished { 100.0 } else { progress.min(99.0) },
            total: total as u64,
            success: job.succeeded.len() as u64,
            failed: job.failed.len() as u64,
            action,
            result: finished.then(|| JobResult { success: job.succeeded.clone(), failed: job.failed.clone() }),
        })
    }
}

fn success_item(resident: Map<String, Value>, result: String) -> JobItem {
    JobItem { result, field: None, resident }
}

fn failed_item(resident: Map<String, Value>, result: String, field: Option<String>) -> JobItem {
    JobItem { result, field, resident }
}

/// The field a serde error is about: the path, or the name in a "missing/unknown field" message.
fn serde_field(e: &serde_path_to_error::Error<serde_json::Error>) -> Option<String> {
    let path = e.path().to_string();
    if !path.is_empty() && path != "." {
        return Some(path);
    }
    let msg = e.inner().to_string();
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(msg[start..start + len].to_string())
}
