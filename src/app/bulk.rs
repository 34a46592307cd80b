//! Bulk actions on the residents of one site: each resident in the statuses the action
//! applies to is changed exactly as the single action would change it; the others are
//! reported as failed with the reason, like the remote's bulk job.

use super::gate::At;
use super::outcomes::BulkSaid;
use super::progress::{Progress, Ticker};
use super::residents::{apply_invite, apply_onboard_now, apply_purge, apply_status_change, apply_terminate};
use super::usecases as uc;
use super::{App, Session};
use crate::access::roles::Permission;
use crate::error::AppResult;
use residentdesk_domain::rules::invite_kind;
use residentdesk_domain::{BulkAction, InviteKind, OutboxOp, StatusChange};
use serde::Serialize;
use serde_json::json;

/// About how many progress reports a bulk action makes (each resident is a few writes, so a
/// report every 1,000 would leave most sites' bars still until the end).
const BULK_REPORTS: u64 = 20;

/// One resident's result in a bulk action.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkItem {
    pub resident_id: i64,
    pub email: String,
    pub name: String,
    /// In English (the CLI's words).
    pub result: String,
    /// The same as a code with its parameters, for the desktop's catalog.
    pub said: BulkSaid,
}

/// The report of a bulk action, shaped like the remote's job status.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkReport {
    #[cfg_attr(
        feature = "ts",
        ts(
            type = "\"suspend\" | \"unsuspend\" | \"terminate\" | \"terminate-purge\" | \"resend-invites\" | \"onboard-now\""
        )
    )]
    pub action: BulkAction,
    pub site: String,
    pub total: usize,
    pub success: Vec<BulkItem>,
    pub failed: Vec<BulkItem>,
    /// What [`App::resident_undo`] needs to take the whole batch back while it is unsent
    /// (suspend, unsuspend and terminate; absent for the others and when nothing changed).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub undo: Option<super::undo::UndoHandle>,
    /// The residents skipped because the action does not apply to them, grouped by reason as
    /// the preview groups them (the result panel's words); the failures a rule refused are
    /// only in `failed`.
    pub skipped: Vec<super::bulk_check::SkipGroup>,
}

impl App {
    /// Applies `action` to the given residents of a site, or to every resident of the site
    /// when `ids` is empty. One transaction for the whole batch.
    pub fn bulk(&mut self, session: &Session, action: BulkAction, site: &str, ids: &[String]) -> AppResult<BulkReport> {
        self.bulk_observed(session, action, site, ids, &mut |_| {})
    }

    /// [`App::bulk`], telling `progress` how many residents it has taken up out of how many
    /// (about every twentieth of them, and once all are done), for a progress bar.
    pub fn bulk_observed(
        &mut self,
        session: &Session,
        action: BulkAction,
        site: &str,
        ids: &[String],
        progress: &mut dyn FnMut(Progress),
    ) -> AppResult<BulkReport> {
        let tx = self.write(session, &uc::BULK, At::Site(site))?;
        let (site, now, session) = (tx.ctx.site().clone(), tx.ctx.now, &tx.ctx.session);
        let audit_action = format!("bulk.{}", action.as_str());
        if action == BulkAction::TerminatePurge {
            tx.require(Permission::ResidentsPurge)?;
        }
        let residents = super::bulk_check::chosen_residents(&tx, session, &site, ids)?;
        let mut report = BulkReport {
            action,
            site: site.name.clone(),
            total: residents.len(),
            success: vec![],
            failed: vec![],
            undo: None,
            skipped: vec![],
        };
        let mut undo = Vec::new();
        let mut skipped = std::collections::BTreeMap::new();
        let total = residents.len() as u64;
        let mut ticker = Ticker::new("bulk", Some(total), progress).every(total.div_ceil(BULK_REPORTS));
        for r in residents {
            let flags = r.flags(now);
            let item = |result: String, said: BulkSaid| BulkItem {
                resident_id: r.id,
                email: r.email.clone(),
                name: r.full_name(),
                result,
                said,
            };
            ticker.tick();
            if let Some(reason) = action.skip_reason(flags) {
                report.failed.push(item(action.ineligible_reason(flags), BulkSaid::NotApplicable { status: flags }));
                *skipped.entry(reason).or_default() += 1;
                continue;
            }
            let result = match action {
                BulkAction::Suspend => {
                    undo.push(apply_status_change(&tx, session, &site, &r, StatusChange::Disabled, now)?);
                    "suspended".to_string()
                }
                BulkAction::Unsuspend => {
                    undo.push(apply_status_change(&tx, session, &site, &r, StatusChange::Active, now)?);
                    "unsuspended".to_string()
                }
                BulkAction::Terminate => {
                    undo.push(apply_terminate(&tx, session, &site, &r, now)?.1);
                    "terminated".to_string()
                }
                BulkAction::TerminatePurge => {
                    apply_purge(&tx, session, &site, &r, now)?;
                    "deleted permanently".to_string()
                }
                BulkAction::ResendInvites => {
                    // The single invite's rule; `eligible` agreed, so this cannot refuse.
                    let kind = invite_kind(flags, r.onboarded_at.is_some())?;
                    apply_invite(&tx, session, &site, &r, OutboxOp::Invite, now)?;
                    match kind {
                        InviteKind::WifiDetails => "wifi details sent",
                        InviteKind::Invitation => "invitation sent",
                    }
                    .to_string()
                }
                BulkAction::OnboardNow => match apply_onboard_now(&tx, session, &site, &r, now)? {
                    Ok(_) => "onboarding started; access starts now".to_string(),
                    Err(problem) => {
                        report.failed.push(item(problem.message, BulkSaid::Refused { rule: problem.rule }));
                        continue;
                    }
                },
            };
            report.success.push(item(result, BulkSaid::Done));
        }
        ticker.finish();
        report.undo = super::undo::UndoHandle::of(site.id, undo);
        report.skipped = super::bulk_check::skip_groups(skipped);
        tx.audit()
            .action(&audit_action)
            .details(json!({
                "total": report.total,
                "success": report.success.iter().map(|i| &i.email).collect::<Vec<_>>(),
                "failed": report.failed.iter().map(|i| json!({"email": i.email, "reason": i.result})).collect::<Vec<_>>(),
            }))
            .write()?;
        tx.commit()?;
        Ok(report)
    }
}
