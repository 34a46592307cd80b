//! Staff management within Table-1: Staff local-admins manage Staff-level accounts at their
//! own sites; Team users manage Staff-level accounts anywhere in the team; only Team
//! administrators view and edit Team-level members. Nobody grants a level above their own,
//! and the owner cannot be demoted or removed.

use super::auth::{check_password, hash_secret};
use super::{active_team, audit_ok, authorize, resolve_site, site_ref, team_ref, App, Session};
use crate::access::{Feature, Level, Target};
use crate::error::{AppError, AppResult};
use crate::store::{self, sites::Site, staff::Member};
use residentdesk_domain::rules;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A new staff account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

/// Checks that the session may manage an account at `level` with `sites` in the team.
fn check_manage(
    conn: &Connection,
    app_now: chrono::DateTime<chrono::Utc>,
    session: &Session,
    level: Level,
    sites: &[Site],
    action: &str,
) -> AppResult<()> {
    let team = active_team(conn, session)?;
    let own = session.level().unwrap_or(Level::StaffUser);
    if level.is_team_level() {
        authorize(conn, app_now, session, Feature::EditTeamMembers, Target::Team(&team_ref(&team)), action)?;
    } else {
        authorize(conn, app_now, session, Feature::ManageStaffUsers, Target::Team(&team_ref(&team)), action)?;
        if sites.is_empty() {
            return Err(AppError::invalid_field("sites", "a Staff-level account needs at least one site"));
        }
        for site in sites {
            authorize(conn, app_now, session, Feature::ManageStaffUsers, Target::Site(&site_ref(site)), action)?;
        }
    }
    if level > own {
        return Err(AppError::denied(format!(
            "denied: {} cannot grant the {} level, which is above their own",
            own.plural(),
            level.title()
        )));
    }
    Ok(())
}

fn parse_level(text: &str) -> AppResult<Level> {
    Level::parse(text).ok_or_else(|| {
        AppError::invalid_field(
            "level",
            format!("unknown level {text:?} (staff_user, staff_local_admin, team_user, team_admin)"),
        )
    })
}

fn resolve_sites(conn: &Connection, session: &Session, refs: &[String]) -> AppResult<Vec<Site>> {
    refs.iter().map(|s| resolve_site(conn, session, s)).collect()
}

impl App {
    /// The staff the person may manage: all members for Team administrators; Staff-level
    /// accounts (at the person's sites, for local-admins) for those who manage staff users.
    pub fn staff_list(&self, session: &Session) -> AppResult<Vec<Member>> {
        let now = self.now();
        let team = active_team(&self.conn, session)?;
        let tref = team_ref(&team);
        let all = store::staff::members_of_team(&self.conn, team.id)?;
        if crate::access::authorize(&session.actor, Feature::ViewTeamMembers, Target::Team(&tref)).is_allowed() {
            return Ok(all);
        }
        authorize(&self.conn, now, session, Feature::ManageStaffUsers, Target::Team(&tref), "staff.list")?;
        let scope_all = session.level().is_some_and(Level::is_team_level);
        Ok(all
            .into_iter()
            .filter(|m| Level::parse(&m.level).is_some_and(|l| !l.is_team_level()))
            .filter(|m| {
                scope_all
                    || m.site_ids.iter().any(|s| session.actor.member_sites.contains(s))
                    || m.staff.id == session.actor.staff_id
            })
            .collect())
    }

    /// Adds a staff account to the active team.
    pub fn staff_add(&mut self, session: &Session, new: &NewStaff) -> AppResult<Member> {
        let now = self.now();
        let email = rules::normalize_email(&new.email).map_err(|e| AppError::invalid_field("email", e.to_string()))?;
        let name = rules::validate_text("name", &new.display_name, true, rules::MAX_NAME_LEN)?;
        let level = parse_level(&new.level)?;
        check_password(&new.password)?;
        let hash = hash_secret(&new.password)?;
        let tx = self.begin()?;
        let team = active_team(&tx, session)?;
        let sites = resolve_sites(&tx, session, &new.sites)?;
        check_manage(&tx, now, session, level, &sites, "staff.add")?;
        let staff_id = match store::staff::by_email(&tx, &email)? {
            Some(existing) => {
                if store::staff::level_in_team(&tx, existing.id, team.id)?.is_some() {
                    return Err(AppError::invalid_field(
                        "email",
                        format!("{email} is already a member of {}", team.name),
                    ));
                }
                existing.id // a person of another team joins this one; their password stays theirs
            }
            None => store::staff::insert(&tx, &email, &name, Some(&hash), false, now)?,
        };
        store::staff::set_membership(&tx, staff_id, team.id, level.as_str())?;
        let site_ids: Vec<i64> = if level.is_team_level() { vec![] } else { sites.iter().map(|s| s.id).collect() };
        store::staff::set_sites(&tx, staff_id, team.id, &site_ids)?;
        audit_ok(
            &tx,
            now,
            Some(session),
            "staff.add",
            "ok",
            Some(team.id),
            None,
            Some(&email),
            json!({"level": level.as_str(), "sites": site_ids}),
        )?;
        let member = store::staff::members_of_team(&tx, team.id)?
            .into_iter()
            .find(|m| m.staff.id == staff_id)
            .ok_or_else(|| AppError::internal("member vanished"))?;
        tx.commit()?;
        Ok(member)
    }

    /// Changes a member's name, level, sites or disabled flag.
    pub fn staff_update(&mut self, session: &Session, email: &str, patch: &StaffPatch) -> AppResult<Member> {
        let now = self.now();
        let tx = self.begin()?;
        let team = active_team(&tx, session)?;
        let member = find_member(&tx, team.id, email)?;
        let current_level = parse_level(&member.level)?;
        let current_sites: Vec<Site> =
            member.site_ids.iter().filter_map(|id| store::sites::get(&tx, *id).ok().flatten()).collect();
        // The person must be able to manage the account as it is, and as it will be.
        check_manage(&tx, now, session, current_level, &current_sites, "staff.update")?;
        let new_level = match &patch.level {
            Some(l) => parse_level(l)?,
            None => current_level,
        };
        let new_sites = match &patch.sites {
            Some(s) => resolve_sites(&tx, session, s)?,
            None => current_sites,
        };
        check_manage(&tx, now, session, new_level, &new_sites, "staff.update")?;
        if member.staff.is_owner && (new_level != Level::TeamAdmin || patch.disabled == Some(true)) {
            return Err(AppError::denied("denied: the owner cannot be demoted or disabled; transfer ownership first"));
        }
        if member.staff.id == session.actor.staff_id && new_level > current_level {
            return Err(AppError::denied("denied: nobody can raise their own level"));
        }
        if let Some(name) = &patch.display_name {
            let name = rules::validate_text("name", name, true, rules::MAX_NAME_LEN)?;
            store::staff::set_display_name(&tx, member.staff.id, &name)?;
        }
        if let Some(disabled) = patch.disabled {
            store::staff::set_disabled(&tx, member.staff.id, disabled)?;
        }
        store::staff::set_membership(&tx, member.staff.id, team.id, new_level.as_str())?;
        let site_ids: Vec<i64> =
            if new_level.is_team_level() { vec![] } else { new_sites.iter().map(|s| s.id).collect() };
        store::staff::set_sites(&tx, member.staff.id, team.id, &site_ids)?;
        audit_ok(
            &tx,
            now,
            Some(session),
            "staff.update",
            "ok",
            Some(team.id),
            None,
            Some(&member.staff.email),
            json!({"before": {"level": member.level, "sites": member.site_ids}, "after": {"level": new_level.as_str(), "sites": site_ids, "disabled": patch.disabled}}),
        )?;
        let updated = find_member(&tx, team.id, &member.staff.email)?;
        tx.commit()?;
        Ok(updated)
    }

    /// Removes a member from the active team (the account stays for its other teams).
    pub fn staff_remove(&mut self, session: &Session, email: &str) -> AppResult<()> {
        let now = self.now();
        let tx = self.begin()?;
        let team = active_team(&tx, session)?;
        let member = find_member(&tx, team.id, email)?;
        let level = parse_level(&member.level)?;
        let sites: Vec<Site> =
            member.site_ids.iter().filter_map(|id| store::sites::get(&tx, *id).ok().flatten()).collect();
        check_manage(&tx, now, session, level, &sites, "staff.remove")?;
        if member.staff.is_owner {
            return Err(AppError::denied("denied: the owner cannot be removed; transfer ownership first"));
        }
        if member.staff.id == session.actor.staff_id {
            return Err(AppError::denied("denied: you cannot remove yourself"));
        }
        store::staff::remove_membership(&tx, member.staff.id, team.id)?;
        audit_ok(
            &tx,
            now,
            Some(session),
            "staff.remove",
            "ok",
            Some(team.id),
            None,
            Some(&member.staff.email),
            json!({"level": member.level, "sites": member.site_ids}),
        )?;
        tx.commit()?;
        Ok(())
    }
}

fn find_member(conn: &Connection, team_id: i64, email: &str) -> AppResult<Member> {
    let email = email.trim().to_ascii_lowercase();
    store::staff::members_of_team(conn, team_id)?
        .into_iter()
        .find(|m| m.staff.email == email)
        .ok_or_else(|| AppError::not_found(format!("{email} is not a member of your active team")))
}
