//! Undo while unsent: a suspend, unsuspend or terminate (single or bulk) is taken back as
//! long as its outbox entry has not been sent. Each such entry keeps the resident's values
//! from before the change (a before-image, migration 0013); undoing writes them back and
//! withdraws the entries (state `discarded`), audited, in the one transaction of the use
//! case. Once an entry has been sent (or a send was attempted), the change is in Site
//! Manager's hands and the undo is refused with what to do instead (Reinstate, Unsuspend).

use super::gate::At;
use super::residents::{check_unit_free, problems_to_error, site_tz, ResidentView};
use super::usecases as uc;
use super::{App, Session};
use crate::error::AppResult;
use crate::store::{self, residents::Resident};
use chrono::{DateTime, Utc};
use residentdesk_domain::actions::Undoable;
use residentdesk_domain::rules::{Interval, RuleError};
use residentdesk_domain::{OutboxOp, OutboxState};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// What an action's result carries so that it can be undone: its site and outbox entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UndoHandle {
    pub site_id: i64,
    pub entries: Vec<i64>,
}

impl UndoHandle {
    /// The handle of `entries` at a site; `None` when there is nothing to undo.
    pub(crate) fn of(site_id: i64, entries: Vec<i64>) -> Option<UndoHandle> {
        (!entries.is_empty()).then_some(UndoHandle { site_id, entries })
    }
}

/// What an undo did: how many changes it took back, and the residents as they are now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UndoOutcome {
    pub undone: usize,
    /// In English (the CLI's words).
    pub message: String,
    pub residents: Vec<ResidentView>,
}

/// The before-image of a suspend or unsuspend: the switch as it was.
pub(crate) fn before_suspend(r: &Resident) -> Value {
    json!({ "suspended": r.suspended })
}

/// The before-image of a terminate: the access end as it was (`null`: open-ended).
pub(crate) fn before_terminate(r: &Resident) -> Value {
    json!({ "deactivation_utc": r.deactivation_utc })
}

/// The access end a before-image of a terminate holds: `Some(end)` (itself optional) when
/// the image is one.
pub(crate) fn end_before(image: &Value) -> Option<Option<DateTime<Utc>>> {
    let v = image.get("deactivation_utc")?;
    Some(serde_json::from_value(v.clone()).ok().flatten())
}

fn undoable(op: &str) -> Option<Undoable> {
    match OutboxOp::parse(op)? {
        OutboxOp::Suspend => Some(Undoable::Suspend),
        OutboxOp::Unsuspend => Some(Undoable::Unsuspend),
        OutboxOp::Terminate => Some(Undoable::Terminate),
        _ => None,
    }
}

impl App {
    /// [`App::resident_undo`] of outbox entries by id (the CLI's `resident undo ENTRY...`):
    /// the site is the first entry's; the gate checks it and every entry must be there.
    pub fn resident_undo_entries(&mut self, session: &Session, entries: &[i64]) -> AppResult<UndoOutcome> {
        let first = entries.first().ok_or(RuleError::NothingToUndo)?;
        let site_id = store::outbox::get(self.conn(), *first)?.ok_or(RuleError::NothingToUndo)?.site_id;
        self.resident_undo(session, &UndoHandle { site_id, entries: entries.to_vec() })
    }

    /// Takes back the changes of `handle` (all of them, or none): each entry must still be
    /// unsent, the resident unchanged since, and — for a terminate — the unit still free for
    /// the access given back.
    pub fn resident_undo(&mut self, session: &Session, handle: &UndoHandle) -> AppResult<UndoOutcome> {
        let tx = self.write(session, &uc::RESIDENT_UNDO, At::SiteId(handle.site_id))?;
        let (site, now) = (tx.ctx.site().clone(), tx.ctx.now);
        let who = tx.ctx.session.actor.email.clone();
        let mut undone = Vec::new();
        let mut residents = Vec::new();
        // Newest first: several changes to one resident unwind in reverse.
        let mut ids = handle.entries.clone();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids.dedup();
        for id in ids {
            let entry = store::outbox::get(&tx, id)?.filter(|e| e.site_id == site.id);
            let (Some(entry), Some(image)) = (entry, store::outbox::before_image(&tx, id)?) else {
                return Err(RuleError::NothingToUndo.into());
            };
            let change = undoable(&entry.op).ok_or(RuleError::NothingToUndo)?;
            match OutboxState::parse(&entry.state) {
                Some(OutboxState::Discarded) => return Err(RuleError::AlreadyUndone.into()),
                // Never taken by a push (one that gave it back left its reason in last_error).
                Some(OutboxState::Pending) if entry.attempts == 0 && entry.last_error.is_none() => {}
                _ => return Err(RuleError::UndoTooLate { change }.into()),
            }
            let resident = match entry.resident_id {
                Some(rid) => store::residents::get(&tx, rid)?,
                None => None,
            };
            let resident = resident.ok_or(RuleError::NothingToUndo)?;
            if store::outbox::changed_since(&tx, resident.id, id)? {
                return Err(RuleError::UndoChangedSince.into());
            }
            match change {
                Undoable::Suspend | Undoable::Unsuspend => {
                    let was = image.get("suspended").and_then(Value::as_bool).ok_or(RuleError::NothingToUndo)?;
                    store::residents::set_suspended(&tx, resident.id, was, now)?;
                }
                Undoable::Terminate => {
                    let end = end_before(&image).ok_or(RuleError::NothingToUndo)?;
                    // The unit was freed by the termination: someone may hold it now.
                    let mut fields = resident.editable_fields();
                    fields.deactivation_utc = end;
                    let stay = Interval { start: resident.activation_utc, end };
                    check_unit_free(&tx, site.id, &fields, &stay, Some(resident.id), now)
                        .map_err(|p| problems_to_error(vec![p]))?;
                    store::residents::set_deactivation(&tx, resident.id, end, now)?;
                }
            }
            if !store::outbox::withdraw_unsent(&tx, id, &format!("withdrawn: undone by {who}"), now)? {
                return Err(RuleError::UndoTooLate { change }.into());
            }
            undone.push(json!({ "entry": id, "change": change, "email": resident.email }));
            if let Some(after) = store::residents::get(&tx, resident.id)? {
                if !residents.iter().any(|v: &ResidentView| v.resident.id == after.id) {
                    let flags = after.flags(now);
                    residents.push(ResidentView::with_status(
                        after,
                        flags,
                        site.name.clone(),
                        &site.time_zone,
                        site_tz(&site),
                    ));
                }
            }
        }
        tx.audit().details(json!({ "undone": undone })).write()?;
        tx.commit()?;
        let message = match undone.len() {
            1 => "the change was undone".to_string(),
            n => format!("{n} changes were undone"),
        };
        Ok(UndoOutcome { undone: undone.len(), message, residents })
    }
}
