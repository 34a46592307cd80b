//! Reinstate: an ended resident gets access back during the 31-day grace period.
//!
//! Decided here (docs/ARCHITECTURE.md says it too): the access end becomes the one the
//! resident had before they were terminated when that end is still ahead (a lease with a
//! fixed end keeps it; the terminate's outbox entry kept it as its before-image), otherwise
//! none (open-ended). The unit must still be free for that stay (the occupancy rule), and the
//! change goes to Site Manager as an update of the access end — the contract's way to
//! reactivate an expired resident (PUT with `DeactivationDateUTC` moved).

use super::outcomes::ActionSaid;
use super::residents::{base_of, check_unit_free, field_values, problems_to_error, site_tz, ActionOutcome, Effect};
use super::undo::end_before;
use super::usecases as uc;
use super::{App, Session};
use crate::error::AppResult;
use crate::store;
use residentdesk_domain::actions::{self, NotNow};
use residentdesk_domain::rules::{Interval, RuleError};
use residentdesk_domain::{OutboxOp, ResidentField};
use serde_json::json;

impl App {
    /// Gives an ended resident access again (see the module's doc for which end they get).
    pub fn resident_reinstate(&mut self, session: &Session, resident: &str) -> AppResult<ActionOutcome> {
        self.lifecycle(session, resident, &uc::RESIDENT_REINSTATE, |tx, session, r, site, now| {
            actions::reinstate_rule(r.flags(now), r.deactivation_utc, now).map_err(|why| match why {
                NotNow::GraceOver => RuleError::GraceOver,
                _ => RuleError::NotEnded,
            })?;
            let before = store::outbox::last_termination_before(tx, r.id)?.as_ref().and_then(end_before).flatten();
            let end = actions::reinstated_end(before, now);
            let mut fields = r.editable_fields();
            fields.deactivation_utc = end;
            let stay = Interval { start: r.activation_utc, end };
            check_unit_free(tx, site.id, &fields, &stay, Some(r.id), now).map_err(|p| problems_to_error(vec![p]))?;
            store::residents::set_deactivation(tx, r.id, end, now)?;
            let after = store::residents::get(tx, r.id)?.unwrap_or_else(|| r.clone());
            let field = ResidentField::DeactivationDateUTC.as_str();
            let base = base_of(tx, r.id, &[field])?;
            let payload = json!({ "resident": field_values(&after), "changed": [field] });
            super::residents::append_entry(tx, session, site, &after, OutboxOp::Update, payload, base, now)?;
            let until = end.map(|e| e.with_timezone(&site_tz(site)).date_naive());
            let said = ActionSaid::Reinstated { name: r.full_name(), until };
            let details = json!({ "before": r.deactivation_utc, "after": end });
            Ok(Effect { done: true, said, details, undo: vec![] })
        })
    }
}
