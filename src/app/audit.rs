//! Reading the audit log: those holding `audit.view` (Team administrators by default, or the
//! `auditor` add-on) see their team's entries.

use super::{active_team, authorize_perm, team_ref, App, Session};
use crate::access::roles::Permission;
use crate::access::Target;
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
        let team = active_team(&self.conn, session)?;
        authorize_perm(
            &self.conn,
            self.now(),
            session,
            Permission::AuditView,
            Target::Team(&team_ref(&team)),
            "audit.list",
        )?;
        Ok(store::audit::list(&self.conn, Some(team.id), since, limit)?)
    }
}
