//! Reading the audit log: those holding `audit.view` (Team administrators by default, or the
//! `auditor` add-on) see their team's entries; those holding `audit.export` export it as CSV
//! (the export is audited).

use super::gate::At;
use super::usecases as uc;
use super::{App, Session};
use crate::error::{AppError, AppResult};
use crate::store::{self, audit::AuditEntry};
use chrono::{DateTime, Utc};
use serde_json::json;

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
