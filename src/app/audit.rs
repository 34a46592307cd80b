//! Reading the audit log. Team administrators see their team's entries (viewing the log is
//! part of overseeing team members in Table-1).

use super::{active_team, authorize, team_ref, App, Session};
use crate::access::{Feature, Target};
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
        authorize(
            &self.conn,
            self.now(),
            session,
            Feature::ViewTeamMembers,
            Target::Team(&team_ref(&team)),
            "audit.list",
        )?;
        Ok(store::audit::list(&self.conn, Some(team.id), since, limit)?)
    }
}
