//! Staff management within Table-1 and the general role model: Staff local-admins manage
//! Staff-level accounts at their own sites; Team users manage Staff-level accounts anywhere in
//! the team; only Team administrators view and edit Team-level members. Nobody grants a role,
//! permission or site they do not hold (`access::grant`), nobody raises their own rights, and
//! the owner cannot be demoted or removed (only ownership transferred). New accounts may get a
//! job function, add-on roles and access to all sites of the team.

use super::access::{
    assignment_json, change_check, check_manage, check_manage_with, find_member, load_assignment,
    new_member_assignment, parse_level, refuse, write_assignment, AccessAction, ActionGate, AssignmentRequest, Check,
    Gate, MemberActions,
};
use super::auth::{check_password, hash_secret};
use super::gate::At;
use super::usecases as uc;
use super::{active_team, resolve_site, App, Session};
use crate::access::grant::{Current, Refusal};
use crate::access::roles::{Permission, SiteAccess};
use crate::access::{Denial, Level};
use crate::error::{AppError, AppResult};
use crate::store::{self, staff::Member};
use residentdesk_domain::rules;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;

/// A new staff account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewStaff {
    pub email: String,
    pub display_name: String,
    pub level: String,
    /// Member sites (required for Staff-level accounts).
    #[serde(default)]
    pub sites: Vec<String>,
    pub password: String,
}

/// Changes to a staff account; `None` keeps a field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StaffPatch {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub sites: Option<Vec<String>>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// Options of a new staff account beyond [`NewStaff`] (Building Engines / SALTO KS): a job
/// function giving the initial roles, add-on roles, and access to all sites of the team.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StaffAccess {
    /// A job function key: its base role (when `level` is empty), add-on roles and site access.
    #[serde(default)]
    pub job_function: Option<String>,
    /// Add-on role keys.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Every site of the team, automatically (sites added later included).
    #[serde(default)]
    pub all_sites: bool,
}

/// The precondition of removing `member` from the active team.
fn remove_check(conn: &Connection, session: &Session, member: &Member, how: Check<'_>) -> AppResult<()> {
    let team = active_team(conn, session)?;
    let before =
        load_assignment(conn, member.staff.id, team.id)?.ok_or_else(|| AppError::internal("membership vanished"))?;
    let current = Current { staff_id: member.staff.id, is_owner: member.staff.is_owner, assignment: &before };
    check_manage_with(conn, session, Some(current), None, &uc::STAFF_REMOVE, how)?;
    if member.staff.id == session.actor.staff_id {
        return Err(AppError::refused(Denial::RemoveSelf));
    }
    Ok(())
}

/// The precondition of changing `member`'s access at all (their roles and sites as they are).
fn edit_check(conn: &Connection, session: &Session, member: &Member, how: Check<'_>) -> AppResult<()> {
    let team = active_team(conn, session)?;
    let before =
        load_assignment(conn, member.staff.id, team.id)?.ok_or_else(|| AppError::internal("membership vanished"))?;
    let current = Current { staff_id: member.staff.id, is_owner: member.staff.is_owner, assignment: &before };
    change_check(conn, session, team.id, &member.staff.email, current, &before, how)
}

fn resolve_sites(conn: &Connection, session: &Session, refs: &[String]) -> AppResult<BTreeSet<i64>> {
    refs.iter().map(|s| resolve_site(conn, session, s).map(|s| s.id)).collect()
}

impl App {
    /// The staff the person may see (`staff.view`): every member for holders of
    /// `team.members`; otherwise Staff-level accounts (at the person's sites, for Staff-level
    /// people) and themselves.
    pub fn staff_list(&self, session: &Session) -> AppResult<Vec<Member>> {
        let rd = self.read(session, &uc::STAFF_LIST, At::Team)?;
        let session = &rd.ctx.session;
        let all = store::staff::members_of_team(&rd, rd.ctx.team.id)?;
        if session.grants.permissions.contains(Permission::TeamMembers) {
            return Ok(all);
        }
        let scope_all = session.grants.all_sites();
        Ok(all
            .into_iter()
            .filter(|m| {
                Level::parse(&m.level).is_some_and(|l| !l.is_team_level()) || m.staff.id == session.actor.staff_id
            })
            .filter(|m| {
                scope_all
                    || m.site_ids.iter().any(|s| session.actor.member_sites.contains(s))
                    || m.staff.id == session.actor.staff_id
            })
            .collect())
    }

    /// What the person may do to each member they can see ([`App::staff_list`]): edit their
    /// access, remove them, each with the core's reason when not. The same checks as the use
    /// cases, run quietly (a listing audits no denial).
    pub fn staff_actions(&self, session: &Session) -> AppResult<Vec<MemberActions>> {
        self.staff_list(session)?
            .iter()
            .map(|m| {
                Ok(MemberActions {
                    email: m.staff.email.clone(),
                    edit: Gate::of(edit_check(self.conn(), session, m, Check::Quiet))?,
                    remove: Gate::of(remove_check(self.conn(), session, m, Check::Quiet))?,
                    reset_password: Gate::of(super::password_reset::reset_check(
                        self.conn(),
                        session,
                        m,
                        Check::Quiet,
                    ))?,
                })
            })
            .collect()
    }

    /// The core's answer on every access-management action for the person (see
    /// [`AccessAction`]), so the desktop shows each screen and button enabled or disabled with
    /// the reason. Quiet: asking audits nothing.
    pub fn access_gates(&self, session: &Session) -> AppResult<Vec<ActionGate>> {
        AccessAction::ALL
            .into_iter()
            .map(|action| {
                let g = Gate::of(self.ask(session, action.use_case(), At::Team).map(|_| ()))?;
                Ok(ActionGate { action, allowed: g.allowed, reason: g.reason, details: g.details })
            })
            .collect()
    }

    /// Adds a staff account to the active team (Table-1 level and member sites).
    pub fn staff_add(&mut self, session: &Session, new: &NewStaff) -> AppResult<Member> {
        self.staff_add_with(session, new, &StaffAccess::default())
    }

    /// Adds a staff account with a job function, add-on roles or access to all sites. Nobody
    /// grants a role, permission or site they do not hold.
    pub fn staff_add_with(&mut self, session: &Session, new: &NewStaff, access: &StaffAccess) -> AppResult<Member> {
        let email = rules::normalize_email(&new.email).map_err(|e| AppError::invalid_field("email", e.to_string()))?;
        let name = rules::validate_text("name", &new.display_name, true, rules::MAX_NAME_LEN)?;
        check_password(&new.password)?;
        let hash = hash_secret(&new.password)?;
        let tx = self.write(session, &uc::STAFF_ADD, At::Team)?;
        let (team, now, session) = (tx.ctx.team.clone(), tx.ctx.now, &tx.ctx.session);
        let request = AssignmentRequest {
            level: &new.level,
            job_function: access.job_function.as_deref(),
            roles: &access.roles,
            all_sites: access.all_sites,
            sites: &new.sites,
        };
        let (assignment, existing) = new_member_assignment(&tx, now, session, &team, &email, &request, &uc::STAFF_ADD)?;
        let staff_id = match existing {
            Some(existing) => existing.id, // a person of another team joins this one; their password stays theirs
            None => store::staff::insert(&tx, &email, &name, Some(&hash), false, now)?,
        };
        write_assignment(&tx, staff_id, team.id, &assignment, Some(session.actor.staff_id), now)?;
        tx.audit()
            .target(email.clone())
            .details(json!({"level": assignment.base.as_str(), "access": assignment_json(&assignment), "job_function": access.job_function}))
            .write()?;
        let member = find_member(&tx, team.id, &email)?;
        tx.commit()?;
        Ok(member)
    }

    /// Changes a member's name, level, sites or disabled flag. Disabling applies to the
    /// membership of the active team only (the person keeps their other teams); disabling
    /// the account everywhere is the owner's act ([`App::account_disable`]).
    pub fn staff_update(&mut self, session: &Session, email: &str, patch: &StaffPatch) -> AppResult<Member> {
        let tx = self.write(session, &uc::STAFF_UPDATE, At::Team)?;
        let (team, now, session) = (tx.ctx.team.clone(), tx.ctx.now, &tx.ctx.session);
        let member = find_member(&tx, team.id, email)?;
        let before =
            load_assignment(&tx, member.staff.id, team.id)?.ok_or_else(|| AppError::internal("membership vanished"))?;
        let mut after = before.clone();
        if let Some(l) = &patch.level {
            after.base = parse_level(l)?;
        }
        if let Some(s) = &patch.sites {
            after.sites = SiteAccess::Listed(resolve_sites(&tx, session, s)?);
        }
        if after.base.is_team_level() {
            after.sites = SiteAccess::AllSites;
        } else if before.base.is_team_level() && patch.sites.is_none() {
            after.sites = SiteAccess::Listed(BTreeSet::new());
        }
        let current = Current { staff_id: member.staff.id, is_owner: member.staff.is_owner, assignment: &before };
        if member.staff.is_owner && patch.disabled == Some(true) {
            return Err(refuse(
                &tx,
                now,
                session,
                uc::STAFF_UPDATE.name,
                Some(team.id),
                &member.staff.email,
                Refusal::Denied(Denial::OwnerStays),
            ));
        }
        // The person must be able to manage the account as it is, and as it will be.
        check_manage(&tx, now, session, Some(current), Some(&after), &uc::STAFF_UPDATE)?;
        if let Some(name) = &patch.display_name {
            let name = rules::validate_text("name", name, true, rules::MAX_NAME_LEN)?;
            store::staff::set_display_name(&tx, member.staff.id, &name)?;
        }
        if let Some(disabled) = patch.disabled {
            store::staff::set_membership_disabled(&tx, member.staff.id, team.id, disabled)?;
        }
        write_assignment(&tx, member.staff.id, team.id, &after, Some(session.actor.staff_id), now)?;
        tx.audit()
            .target(member.staff.email.clone())
            .details(json!({"before": assignment_json(&before), "after": assignment_json(&after), "disabled_in_team": patch.disabled}))
            .write()?;
        let updated = find_member(&tx, team.id, &member.staff.email)?;
        tx.commit()?;
        Ok(updated)
    }

    /// Removes a member from the active team (the account stays for its other teams).
    pub fn staff_remove(&mut self, session: &Session, email: &str) -> AppResult<()> {
        let tx = self.write(session, &uc::STAFF_REMOVE, At::Team)?;
        let (team, now, session) = (tx.ctx.team.clone(), tx.ctx.now, &tx.ctx.session);
        let member = find_member(&tx, team.id, email)?;
        remove_check(&tx, session, &member, Check::Audited(now, uc::STAFF_REMOVE.name))?;
        store::staff::remove_membership(&tx, member.staff.id, team.id)?;
        store::roles::set_member_roles(&tx, member.staff.id, team.id, &[], None, now)?;
        tx.audit()
            .target(member.staff.email.clone())
            .details(json!({"level": member.level, "sites": member.site_ids}))
            .write()?;
        tx.commit()?;
        Ok(())
    }

    /// Disables (or enables again) an account in every team: the owner's act alone. The
    /// person's sessions end at their next action and their API tokens stop working.
    pub fn account_disable(&mut self, session: &Session, email: &str, disabled: bool) -> AppResult<Member> {
        let tx = self.write(session, &uc::ACCOUNT_DISABLE, At::Team)?;
        let (team, now, session) = (tx.ctx.team.clone(), tx.ctx.now, &tx.ctx.session);
        let member = find_member(&tx, team.id, email)?;
        let refusal = if !session.actor.is_owner {
            Some(Denial::OwnerOnly { use_case: uc::ACCOUNT_DISABLE.name.into() })
        } else if member.staff.id == session.actor.staff_id {
            Some(Denial::OwnerDisablesSelf)
        } else {
            None
        };
        if let Some(reason) = refusal {
            let r = Refusal::Denied(reason);
            return Err(refuse(&tx, now, session, uc::ACCOUNT_DISABLE.name, Some(team.id), &member.staff.email, r));
        }
        store::staff::set_disabled(&tx, member.staff.id, disabled)?;
        tx.audit().target(member.staff.email.clone()).details(json!({"disabled_everywhere": disabled})).write()?;
        let updated = find_member(&tx, team.id, &member.staff.email)?;
        tx.commit()?;
        Ok(updated)
    }
}
