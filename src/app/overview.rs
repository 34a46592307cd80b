//! The Sites overview (`site.overview`): per site a person can see, the residents by status,
//! the units occupied and free (from the site's mappings) and its sync state (last pull,
//! pending, rejected, conflicts) — the numbers behind the Sites screen's pictures and the
//! sync bar's per-site panel. Four grouped queries for all the sites together.

use super::gate::At;
use super::usecases as uc;
use super::{App, Session};
use crate::error::AppResult;
use crate::store;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// Residents of a site by main status (each resident counted once).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ResidentsByStatus {
    /// Current, onboarded, not suspended.
    pub active: i64,
    /// Current, invitation outstanding.
    pub pending: i64,
    /// Current and suspended.
    pub suspended: i64,
    /// Access starts later.
    pub scheduled: i64,
    /// Access ended (grace period before the purge).
    pub expired: i64,
}

impl ResidentsByStatus {
    pub fn total(&self) -> i64 {
        self.active + self.pending + self.suspended + self.scheduled + self.expired
    }
}

/// One site's numbers in the overview.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteOverview {
    pub site_id: i64,
    pub name: String,
    pub site_type: String,
    pub time_zone: String,
    pub remote_id: Option<String>,
    pub residents: ResidentsByStatus,
    /// Units mapped at the site.
    pub units: i64,
    /// Units with someone living there now.
    pub units_occupied: i64,
    pub last_pull_at: Option<DateTime<Utc>>,
    /// The last pull's error, when the last pull failed.
    pub last_error: Option<String>,
    /// Outbox entries waiting to be sent (or on their way).
    pub pending: i64,
    pub rejected: i64,
    /// Open conflicts of the site.
    pub conflicts: i64,
}

impl App {
    /// The overview of every site the person can see, by name.
    pub fn site_overview(&self, session: &Session) -> AppResult<Vec<SiteOverview>> {
        let rd = self.read(session, &uc::SITE_OVERVIEW, At::Team)?;
        let now = rd.ctx.now;
        let sites = rd.ctx.sites_allowed(&rd)?;
        let ids: Vec<i64> = sites.iter().map(|s| s.id).collect();
        let statuses = store::overview::status_counts(&rd, &ids, now)?;
        let units = store::overview::unit_counts(&rd, &ids, now)?;
        let outbox = store::overview::outbox_counts(&rd, &ids)?;
        let conflicts = store::overview::open_conflicts(&rd, &ids)?;
        let pulls: HashMap<i64, store::sync_state::SiteSyncState> =
            store::sync_state::site_states(&rd, &ids)?.into_iter().map(|p| (p.site_id, p)).collect();
        Ok(sites
            .into_iter()
            .map(|s| {
                let c = statuses.get(&s.id).copied().unwrap_or_default();
                let (units, units_occupied) = units.get(&s.id).copied().unwrap_or((0, 0));
                let (pending, rejected) = outbox.get(&s.id).copied().unwrap_or((0, 0));
                let pull = pulls.get(&s.id);
                SiteOverview {
                    site_id: s.id,
                    residents: ResidentsByStatus {
                        active: c.active,
                        pending: c.pending,
                        suspended: c.suspended,
                        scheduled: c.scheduled,
                        expired: c.expired,
                    },
                    units,
                    units_occupied,
                    last_pull_at: pull.and_then(|p| p.last_pull_at),
                    last_error: pull.and_then(|p| p.last_error.clone()),
                    pending,
                    rejected,
                    conflicts: conflicts.get(&s.id).copied().unwrap_or(0),
                    name: s.name,
                    site_type: s.site_type,
                    time_zone: s.time_zone,
                    remote_id: s.remote_id,
                }
            })
            .collect())
    }
}
