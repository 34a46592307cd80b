//! The actions that apply to one resident now, and why the others do not: the state rules
//! of [`residentdesk_domain::actions`] combined with the session's grants, asked of the gate
//! quietly (nothing audited) for each action's own use case — so what the desktop offers is
//! what the use case will allow.

use super::gate::At;
use super::residents::site_tz;
use super::usecases::{self as uc, Runs, UseCase};
use super::{App, Session};
use crate::error::AppResult;
use residentdesk_domain::actions::{self, ActionState, ResidentAction, ResidentFacts};
use residentdesk_domain::rules::SiteType;
use serde::Serialize;

/// A resident's actions now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ResidentActions {
    pub resident_id: i64,
    pub actions: Vec<ActionState>,
}

/// The use case that runs an action (its declaration says the permission needed).
pub fn use_case_of(action: ResidentAction) -> &'static UseCase {
    match action {
        ResidentAction::Edit => &uc::RESIDENT_UPDATE,
        ResidentAction::Suspend => &uc::RESIDENT_SUSPEND,
        ResidentAction::Unsuspend => &uc::RESIDENT_UNSUSPEND,
        ResidentAction::Terminate => &uc::RESIDENT_TERMINATE,
        ResidentAction::Reinstate => &uc::RESIDENT_REINSTATE,
        ResidentAction::ResendInvitation => &uc::RESIDENT_INVITE,
        ResidentAction::ResetWifiKey => &uc::RESIDENT_PSK_RESET,
        ResidentAction::DeletePermanently => &uc::RESIDENT_PURGE,
    }
}

impl App {
    /// Which actions apply to `resident` now for this session, each with why not.
    pub fn resident_actions(&self, session: &Session, resident: &str) -> AppResult<ResidentActions> {
        let rd = self.read(session, &uc::RESIDENT_ACTIONS, At::Resident(resident))?;
        let ctx = &rd.ctx;
        let (r, site, now) = (ctx.resident(), ctx.site(), ctx.now);
        let facts = ResidentFacts {
            flags: r.flags(now),
            onboarded: r.onboarded_at.is_some(),
            site_type: SiteType::parse(&site.site_type),
            activation: r.activation_utc,
            deactivation: r.deactivation_utc,
            tz: site_tz(site),
        };
        let token = ctx.session.token.is_some();
        let permitted = |action: ResidentAction| {
            let u = use_case_of(action);
            !(token && u.runs == Runs::PeopleOnly) && u.permission.is_some_and(|p| ctx.may_at(p, site))
        };
        Ok(ResidentActions { resident_id: r.id, actions: actions::applicable(&facts, now, permitted) })
    }
}
