//! The bulk preview (issue #18): before Apply, which of the chosen residents a bulk action
//! would change and why the others would be skipped, grouped by reason ("12 of 15 can be
//! suspended; 3 are already ended"). It decides with [`BulkAction::eligible`], the very rule
//! [`App::bulk`] applies, so the preview and the result cannot disagree; it writes nothing.

use super::gate::At;
use super::usecases as uc;
use super::{App, Session};
use crate::access::roles::Permission;
use crate::error::{AppError, AppResult};
use crate::store::{self, residents::Resident, sites::Site};
use residentdesk_domain::{BulkAction, SkipReason};
use rusqlite::Connection;
use serde::Serialize;
use std::collections::BTreeMap;

/// How many chosen residents a bulk action skips for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SkipGroup {
    pub reason: SkipReason,
    pub count: usize,
}

/// What a bulk action would do to the chosen residents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkPreview {
    #[cfg_attr(
        feature = "ts",
        ts(
            type = "\"suspend\" | \"unsuspend\" | \"terminate\" | \"terminate-purge\" | \"resend-invites\" | \"onboard-now\""
        )
    )]
    pub action: BulkAction,
    pub site: String,
    /// How many residents were chosen (every resident of the site when none was named).
    pub chosen: usize,
    /// How many of them the action would change.
    pub eligible: usize,
    /// The local ids of those (what Apply acts on).
    pub eligible_ids: Vec<i64>,
    /// The others, grouped by reason, largest group first.
    pub skipped: Vec<SkipGroup>,
}

/// The residents a bulk action at `site` is aimed at: those named by `ids` (local ids, remote
/// ids or emails), each of which must be at that site, or every resident of the site.
pub(crate) fn chosen_residents(
    conn: &Connection,
    session: &Session,
    site: &Site,
    ids: &[String],
) -> AppResult<Vec<Resident>> {
    if ids.is_empty() {
        return Ok(store::residents::list_site(conn, site.id)?);
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let (r, s) = super::residents::resolve_resident(conn, session, id)?;
        if s.id != site.id {
            return Err(AppError::invalid_field("ids", format!("resident {id} is not at site {}", site.name)));
        }
        out.push(r);
    }
    Ok(out)
}

/// Counts per reason as groups, the largest first (ties in reason order).
pub(crate) fn skip_groups(counts: BTreeMap<SkipReason, usize>) -> Vec<SkipGroup> {
    let mut groups: Vec<SkipGroup> = counts.into_iter().map(|(reason, count)| SkipGroup { reason, count }).collect();
    groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
    groups
}

impl App {
    /// Which of the chosen residents `action` would change now, and why it would skip the
    /// others. Needs what the action itself needs (bulk, and purge for terminate-purge).
    pub fn bulk_check(
        &self,
        session: &Session,
        action: BulkAction,
        site: &str,
        ids: &[String],
    ) -> AppResult<BulkPreview> {
        let rd = self.read(session, &uc::BULK_CHECK, At::Site(site))?;
        if action == BulkAction::TerminatePurge {
            rd.require(Permission::ResidentsPurge)?;
        }
        let (site, now) = (rd.ctx.site(), rd.ctx.now);
        let residents = chosen_residents(&rd, &rd.ctx.session, site, ids)?;
        let mut eligible_ids = Vec::new();
        let mut skipped: BTreeMap<SkipReason, usize> = BTreeMap::new();
        for r in &residents {
            match action.skip_reason(r.flags(now)) {
                None => eligible_ids.push(r.id),
                Some(reason) => *skipped.entry(reason).or_default() += 1,
            }
        }
        Ok(BulkPreview {
            action,
            site: site.name.clone(),
            chosen: residents.len(),
            eligible: eligible_ids.len(),
            eligible_ids,
            skipped: skip_groups(skipped),
        })
    }
}
