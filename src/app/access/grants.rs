//! Granting and revoking: a member's roles and sites as requested, written and audited, under
//! "grant only what you hold" (`access::grant`); ownership transfer.

use super::gates::{refuse, Check};
use super::manage::find_member;
use super::session::load_assignment;
use super::session::load_role;
use crate::access::grant::{self, Assignment, Current, Grantor, Refusal};
use crate::access::roles::{Permission, RoleKind, SiteAccess};
use crate::access::{Denial, Level, Need};
use crate::app::gate::At;
use crate::app::usecases as uc;
use crate::app::{resolve_site, App, Session};
use crate::error::{AppError, AppResult};
use crate::store::{self, staff::Member};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Parses the sites of a request: all sites, or a list resolved in the active team.
pub(crate) fn parse_site_access(
    conn: &Connection,
    session: &Session,
    all_sites: bool,
    sites: &[String],
) -> AppResult<SiteAccess> {
    if all_sites {
        if !sites.is_empty() {
            return Err(AppError::invalid_field("sites", "give either all sites or a list of sites, not both"));
        }
        return Ok(SiteAccess::AllSites);
    }
    let mut ids = BTreeSet::new();
    for s in sites {
        ids.insert(resolve_site(conn, session, s)?.id);
    }
    Ok(SiteAccess::Listed(ids))
}

pub(super) fn grantor(session: &Session) -> Grantor<'_> {
    Grantor { staff_id: session.actor.staff_id, is_owner: session.actor.is_owner, grants: &session.grants }
}

/// Writes a member's assignment (level, add-on roles, site access) in a team.
pub(crate) fn write_assignment(
    tx: &rusqlite::Transaction<'_>,
    staff_id: i64,
    team_id: i64,
    a: &Assignment,
    granted_by: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    store::staff::set_membership(tx, staff_id, team_id, a.base.as_str())?;
    let keys: Vec<String> = a.addons.iter().map(|r| r.key.clone()).collect();
    store::roles::set_member_roles(tx, staff_id, team_id, &keys, granted_by, now)?;
    let (all, list): (bool, Vec<i64>) = match &a.sites {
        _ if a.base.is_team_level() => (true, vec![]),
        SiteAccess::AllSites => (true, vec![]),
        SiteAccess::Listed(s) => (false, s.iter().copied().collect()),
    };
    store::staff::set_all_sites(tx, staff_id, team_id, all)?;
    store::staff::set_sites(tx, staff_id, team_id, &list)?;
    Ok(())
}

/// The JSON form of an assignment for audit entries.
pub(crate) fn assignment_json(a: &Assignment) -> Value {
    json!({
        "base": a.base.as_str(),
        "roles": a.addons.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        "sites": a.sites,
    })
}

/// The precondition of changing a member's access from `cur` to `after`: `staff.edit` (and
/// `team.members` when a Team-level role is involved), then grant-only-what-you-hold.
pub(crate) fn change_check(
    conn: &Connection,
    session: &Session,
    team_id: i64,
    email: &str,
    cur: Current<'_>,
    after: &Assignment,
    how: Check<'_>,
) -> AppResult<()> {
    let staff_need = if cur.assignment.base.is_team_level() || after.base.is_team_level() {
        Permission::TeamMembers
    } else {
        Permission::StaffEdit
    };
    how.need(conn, session, Need::Permission(Permission::StaffEdit))?;
    how.need(conn, session, Need::Permission(staff_need))?;
    grant::check(grantor(session), Some(cur), Some(after)).map_err(|r| how.refusal(conn, session, team_id, email, r))
}

/// A change to a member's roles and sites; `None` keeps a part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccessChange {
    /// A new base role (Table-1 level).
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub add_roles: Vec<String>,
    #[serde(default)]
    pub remove_roles: Vec<String>,
    /// `Some(true)`: every site of the team; `Some(false)` with `sites`: that list.
    #[serde(default)]
    pub all_sites: Option<bool>,
    #[serde(default)]
    pub sites: Option<Vec<String>>,
}

impl App {
    /// `team.members` when a Team-level role is involved), then grant-only-what-you-hold.
    pub fn access_change(&mut self, session: &Session, email: &str, change: &AccessChange) -> AppResult<Member> {
        let tx = self.write(session, &uc::ACCESS_CHANGE, At::Team)?;
        let (team, now, session) = (tx.ctx.team.clone(), tx.ctx.now, &tx.ctx.session);
        let member = find_member(&tx, team.id, email)?;
        let before =
            load_assignment(&tx, member.staff.id, team.id)?.ok_or_else(|| AppError::internal("membership vanished"))?;
        let mut after = before.clone();
        if let Some(b) = &change.base {
            after.base =
                Level::parse(b).ok_or_else(|| AppError::invalid_field("base", format!("unknown base role {b:?}")))?;
        }
        for k in &change.remove_roles {
            let k = k.trim().to_ascii_lowercase();
            if !after.addons.iter().any(|r| r.key == k) {
                return Err(AppError::invalid_field(
                    "roles",
                    format!("{} does not hold the role {k:?}", member.staff.email),
                ));
            }
            after.addons.retain(|r| r.key != k);
        }
        for k in &change.add_roles {
            let role = load_role(&tx, team.id, k)?;
            if role.kind == RoleKind::Hierarchical {
                return Err(AppError::invalid_field("roles", format!("{} is a base role: use --base", role.name)));
            }
            if !after.addons.iter().any(|r| r.key == role.key) {
                after.addons.push(role);
            }
        }
        match (change.all_sites, &change.sites) {
            (Some(true), _) => after.sites = parse_site_access(&tx, session, true, &[])?,
            (_, Some(list)) => after.sites = parse_site_access(&tx, session, false, list)?,
            _ => {}
        }
        if after.base.is_team_level() {
            after.sites = SiteAccess::AllSites;
        } else if before.base.is_team_level()
            && matches!(after.sites, SiteAccess::AllSites)
            && change.all_sites != Some(true)
        {
            return Err(AppError::invalid_field(
                "sites",
                "a Staff-level base role needs --all-sites or at least one --site",
            ));
        }
        let widened = !change.add_roles.is_empty()
            || after.base > before.base
            || !after.grants().permissions.is_subset(before.grants().permissions)
            || !after.sites.is_within(&before.sites);
        let action = if widened { "access.grant" } else { "access.revoke" };
        let cur = Current { staff_id: member.staff.id, is_owner: member.staff.is_owner, assignment: &before };
        change_check(&tx, session, team.id, &member.staff.email, cur, &after, Check::Audited(now, action))?;
        write_assignment(&tx, member.staff.id, team.id, &after, Some(session.actor.staff_id), now)?;
        tx.audit()
            .action(action)
            .target(member.staff.email.clone())
            .before_after(assignment_json(&before), assignment_json(&after))
            .write()?;
        let updated = find_member(&tx, team.id, &member.staff.email)?;
        tx.commit()?;
        Ok(updated)
    }

    /// Hands the owner flag to another Team administrator of the active team (owner only).
    pub fn owner_transfer(&mut self, session: &Session, email: &str) -> AppResult<Member> {
        let tx = self.write(session, &uc::OWNER_TRANSFER, At::Team)?;
        let (team, now, session) = (tx.ctx.team.clone(), tx.ctx.now, &tx.ctx.session);
        if !session.actor.is_owner {
            return Err(refuse(
                &tx,
                now,
                session,
                "owner.transfer",
                Some(team.id),
                email,
                Refusal::Denied(Denial::OwnerOnly { use_case: "owner.transfer".into() }),
            ));
        }
        let member = find_member(&tx, team.id, email)?;
        if member.level != Level::TeamAdmin.as_str() {
            return Err(AppError::invalid_field(
                "email",
                format!("{} is not a Team administrator; make them one first", member.staff.email),
            ));
        }
        store::staff::transfer_owner(&tx, session.actor.staff_id, member.staff.id)?;
        tx.audit().target(member.staff.email.clone()).details(json!({"from": session.actor.email})).write()?;
        let updated = find_member(&tx, team.id, &member.staff.email)?;
        tx.commit()?;
        Ok(updated)
    }
}
