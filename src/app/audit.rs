//! Reading the audit log: those holding `audit.view` (Team administrators by default, or the
//! `auditor` add-on) see their team's entries (or a resident's, by email, even once scrubbed)
//! and verify the log's hash chain; those holding `audit.export` export it as CSV (the export
//! is audited). At open, `audit.guard` puts dropped or altered append-only triggers back
//! (audited, and reported by every verify) and scrubs resident details past the retention
//! period.

use super::gate::At;
use super::usecases as uc;
use super::{App, Session};
use crate::error::{AppError, AppResult};
use crate::store::{self, audit::AuditEntry, audit_chain::ChainReport};
use chrono::{DateTime, Utc};
use serde_json::json;

/// The shortest retention period a person may set (a typo of `7` must not scrub a month).
const MIN_RETENTION_DAYS: i64 = 30;
/// The longest: a hundred years.
const MAX_RETENTION_DAYS: i64 = 36_600;

impl App {
    /// The newest audit entries of the active team.
    pub fn audit_list(
        &self,
        session: &Session,
        since: Option<DateTime<Utc>>,
        limit: usize,
    ) -> AppResult<Vec<AuditEntry>> {
        let rd = self.read(session, &uc::AUDIT_LIST, At::Team)?;
        Ok(store::audit::list(&rd, Some(rd.ctx.team.id), since, limit)?)
    }

    /// The active team's entries about one resident, by email: the rows naming them, and
    /// once they were scrubbed (purged, or past the retention period) the rows carrying the
    /// keyed hash of that email. Newest first.
    pub fn audit_for_email(&self, session: &Session, email: &str, limit: usize) -> AppResult<Vec<AuditEntry>> {
        let rd = self.read(session, &uc::AUDIT_LIST, At::Team)?;
        let email = email.trim().to_lowercase();
        if email.is_empty() {
            return Err(AppError::invalid_field("email", "give the resident's email address"));
        }
        let hashed = store::scrub::subject_hash(&rd, &email)?;
        Ok(store::audit::for_subject(&rd, Some(rd.ctx.team.id), &email, hashed.as_deref(), limit)?)
    }

    /// Walks the whole audit log's hash chain (every team's rows: the chain is one) and
    /// names the first row that breaks it, with the entries recording restored triggers.
    pub fn audit_verify(&self, session: &Session) -> AppResult<ChainReport> {
        let rd = self.read(session, &uc::AUDIT_VERIFY, At::Team)?;
        Ok(store::audit_chain::verify(&rd)?)
    }

    /// `audit.retention`: how many days resident details stay in the audit log before they
    /// are scrubbed (30 to 36,600; default 7 × 366). A database setting, taken into account
    /// at the next open. Returns the new value.
    pub fn audit_retention_set(&mut self, session: &Session, days: i64) -> AppResult<i64> {
        if !(MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days) {
            return Err(AppError::invalid_field(
                "days",
                format!("keep resident details between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS} days"),
            ));
        }
        let run = self.write(session, &uc::AUDIT_RETENTION, At::Team)?;
        let before = store::scrub::retention_days(&run)?;
        store::settings::set(&run, store::scrub::RETENTION_DAYS, &days.to_string())?;
        run.audit().before_after(json!({ "days": before }), json!({ "days": days })).write()?;
        run.commit()?;
        Ok(days)
    }

    /// `audit.guard`, at every open: the append-only triggers compared with the SQL they
    /// must have and restored when dropped or altered (audited as the system, with a
    /// warning in the log; `audit verify` reports that entry from then on), and the audit
    /// rows about residents older than the retention period scrubbed. Takes the write lock
    /// only when there is something to do.
    pub(crate) fn guard_audit(&mut self) -> AppResult<()> {
        let now = self.now();
        let problems = store::audit_chain::trigger_problems(self.conn())?;
        let days = store::scrub::retention_days(self.conn())?;
        let cutoff = now - chrono::Duration::days(days);
        if problems.is_empty() && !store::scrub::retention_due(self.conn(), cutoff)? {
            return Ok(());
        }
        let run = self.write_public(&uc::AUDIT_GUARD)?;
        let restored = store::audit_chain::restore_triggers(&run)?;
        if !restored.is_empty() {
            tracing::warn!(
                "the audit log's append-only triggers were dropped or altered ({}); they were restored and \
                 `residentdesk audit verify` reports it",
                restored.iter().map(|p| format!("{} {}", p.name, p.problem)).collect::<Vec<_>>().join(", ")
            );
            run.audit(None, "system")
                .action(store::audit_chain::TRIGGERS_RESTORED)
                .outcome("failed")
                .details(json!({ "triggers": restored }))
                .write()?;
        }
        let scrubbed = store::scrub::older_than(&run, cutoff, now)?;
        if scrubbed > 0 {
            run.audit(None, "system")
                .action("audit.retention_scrub")
                .details(json!({ "rows": scrubbed, "before": cutoff, "retention_days": days }))
                .write()?;
        }
        run.commit()
    }

    /// The audit log of the active team as CSV (needs `audit.export`); the export is audited.
    pub fn audit_export_csv(&mut self, session: &Session, since: Option<DateTime<Utc>>) -> AppResult<String> {
        let rd = self.read(session, &uc::AUDIT_EXPORT, At::Team)?;
        let team = rd.ctx.team.clone();
        let entries = store::audit::list(&rd, Some(team.id), since, usize::MAX >> 1)?;
        drop(rd);
        // The one CSV writer and its Excel-safe guard, as for residents.
        let rows = entries.iter().rev().map(|e| {
            [
                e.id.to_string(),
                store::ts(e.at),
                e.actor.clone(),
                e.action.clone(),
                e.outcome.clone(),
                e.team_id.map(|v| v.to_string()).unwrap_or_default(),
                e.site_id.map(|v| v.to_string()).unwrap_or_default(),
                e.target.clone().unwrap_or_default(),
                e.details.to_string(),
            ]
        });
        let out = crate::csvio::export::audit_csv(&crate::csvio::export::AUDIT_HEADER, rows)
            .map_err(|e| AppError::internal(format!("cannot write the audit CSV: {e}")))?;
        let tx = self.write(session, &uc::AUDIT_EXPORT, At::Team)?;
        tx.audit().no_target().details(json!({"rows": entries.len()})).write()?;
        tx.commit()?;
        Ok(out)
    }
}
