//! Reading the audit log: those holding `audit.view` (Team administrators by default, or the
//! `auditor` add-on) see their team's entries.

use super::gate::At;
use super::usecases as uc;
use super::{App, Session};
use crate::error::AppResult;
use crate::store::{self, audit::AuditEntry};
use chrono::{DateTime, Utc};

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
}
