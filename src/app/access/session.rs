//! Building a session from the database: a person's roles and sites in a team projected onto
//! Table-1, an API token's limits on its creator's grants, and the gate's re-read of a session
//! at every use case (a disabled account, membership or token ends it there).

use crate::access::grant::Assignment;
use crate::access::roles::{builtin_role, Grants, PermSet, Permission, Role, RoleKind, SiteAccess};
use crate::access::session::TokenInfo;
use crate::access::{Actor, Level, TeamRef};
use crate::app::gate::session_ended;
use crate::app::Session;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::store::{self, tokens::TokenRow};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use std::collections::BTreeSet;

/// Finds a role by key: built in, or defined by the team.
pub(crate) fn load_role(conn: &Connection, team_id: i64, key: &str) -> AppResult<Role> {
    let key = key.trim().to_ascii_lowercase();
    if let Some(r) = builtin_role(&key) {
        return Ok(r);
    }
    store::roles::get(conn, team_id, &key)?
        .ok_or_else(|| AppError::invalid_field("roles", format!("no role {key:?} in this team (see `role list`)")))
}

/// A member's current assignment in a team.
pub(crate) fn load_assignment(conn: &Connection, staff_id: i64, team_id: i64) -> AppResult<Option<Assignment>> {
    let Some(level) = store::staff::level_in_team(conn, staff_id, team_id)? else { return Ok(None) };
    let base = Level::parse(&level).ok_or_else(|| AppError::internal(format!("unknown level {level:?}")))?;
    let addons = store::roles::member_role_keys(conn, staff_id, team_id)?
        .iter()
        .filter_map(|k| load_role(conn, team_id, k).ok())
        .filter(|r| r.kind == RoleKind::AddOn)
        .collect();
    let sites = if base.is_team_level() || store::staff::all_sites(conn, staff_id, team_id)? {
        SiteAccess::AllSites
    } else {
        SiteAccess::Listed(store::staff::member_sites(conn, staff_id, team_id)?.into_iter().collect())
    };
    Ok(Some(Assignment { base, addons, sites }))
}

/// The Table-1 projection of grants: the member sites an actor reaches and its level. A token
/// limited to listed sites of a Team-level person acts at Staff level, so that every scope
/// filter (which reads the actor) stays within the token's sites.
///
/// A Team-level actor's scope is the whole team (`Scope::Team`), so its member sites are not
/// listed: the gate rebuilds the session at every use case, and reading every site id of a
/// 2,500-site portfolio each time would be most of its cost.
fn project(conn: &Connection, team: &TeamRef, grants: &Grants) -> AppResult<(Level, BTreeSet<i64>)> {
    let level = if grants.base.is_team_level() && !grants.all_sites() {
        if grants.permissions.contains(Permission::StaffEdit) {
            Level::StaffLocalAdmin
        } else {
            Level::StaffUser
        }
    } else {
        grants.base
    };
    let sites: BTreeSet<i64> = match &grants.sites {
        SiteAccess::Listed(s) => s.clone(),
        SiteAccess::AllSites if level.is_team_level() => BTreeSet::new(),
        SiteAccess::AllSites => store::staff::team_site_ids(conn, team.id)?.into_iter().collect(),
    };
    Ok((level, sites))
}

/// Builds a person's session in `team` (default: their active team, else their first).
pub(crate) fn build_session(conn: &Connection, staff_id: i64, team: Option<i64>) -> AppResult<Session> {
    let staff = store::staff::get(conn, staff_id)?.ok_or_else(|| AppError::not_found(format!("staff #{staff_id}")))?;
    session_of_staff(conn, staff, team)
}

/// [`build_session`] for an account already read.
fn session_of_staff(conn: &Connection, staff: store::staff::Staff, team: Option<i64>) -> AppResult<Session> {
    let staff_id = staff.id;
    let teams = store::teams::for_staff(conn, staff_id)?;
    let wanted = team.or(staff.active_team_id);
    let active = wanted.and_then(|id| teams.iter().find(|(t, _)| t.id == id)).or_else(|| teams.first());
    let mut session = Session {
        actor: Actor {
            staff_id,
            email: staff.email,
            is_owner: staff.is_owner,
            team: None,
            member_sites: BTreeSet::new(),
        },
        grants: Grants::for_level(Level::StaffUser, &BTreeSet::new()),
        token: None,
    };
    if let Some((t, _)) = active {
        let assignment =
            load_assignment(conn, staff_id, t.id)?.ok_or_else(|| AppError::internal("membership vanished"))?;
        let grants = assignment.grants();
        let tref = TeamRef { id: t.id, name: t.name.clone() };
        let (level, sites) = project(conn, &tref, &grants)?;
        session.actor.team = Some((tref, level));
        session.actor.member_sites = sites;
        session.grants = grants;
    } else {
        session.grants.permissions = PermSet::EMPTY;
    }
    Ok(session)
}

/// Applies a token's limits to its creator's session in the token's team.
pub(super) fn token_session(conn: &Connection, token: &TokenRow) -> AppResult<Session> {
    let mut session = build_session(conn, token.created_by, Some(token.team_id))?;
    if session.actor.team_id() != Some(token.team_id) {
        return Err(AppError::new(ErrorCode::Unauthenticated, "the token's creator is no longer in its team"));
    }
    session.actor.is_owner = false;
    session.grants = session.grants.limit_to_token(&token.name, token.permissions, &token.sites);
    let tref = session.actor.team.clone().map(|(t, _)| t).ok_or_else(|| AppError::internal("no team"))?;
    let (level, sites) = project(conn, &tref, &session.grants)?;
    session.actor.team = Some((tref, level));
    session.actor.member_sites = sites;
    session.token = Some(TokenInfo { id: token.id, name: token.name.clone(), prefix: token.prefix.clone() });
    Ok(session)
}

/// Rebuilds a session from the database, as every use case does at the gate: a person's in
/// their active team (ended when the account is disabled, or their membership of that team
/// was disabled or removed); a token's with the token's limits (ended once the token is
/// revoked or expired, or its creator disabled or gone from its team).
pub(crate) fn rebuild_session(conn: &Connection, session: &Session, now: DateTime<Utc>) -> AppResult<Session> {
    let staff_id = match &session.token {
        Some(t) => {
            let row = store::tokens::by_prefix(conn, &t.prefix)?
                .filter(|r| r.revoked_at.is_none() && r.expires_at.is_none_or(|e| e > now))
                .ok_or_else(|| session_ended("the API token was revoked or has expired"))?;
            if store::staff::get(conn, row.created_by)?.is_none_or(|c| c.disabled) {
                return Err(session_ended("the API token's creator is disabled"));
            }
            return token_session(conn, &row);
        }
        None => session.actor.staff_id,
    };
    let staff = store::staff::get(conn, staff_id)?.ok_or_else(|| session_ended("this account no longer exists"))?;
    if staff.disabled {
        return Err(session_ended("this account is disabled; ask a Team administrator"));
    }
    let fresh = session_of_staff(conn, staff, session.actor.team_id())?;
    if let Some((team, _)) = &session.actor.team {
        if fresh.actor.team_id() != Some(team.id) {
            return Err(session_ended(format!("your access to team {} has ended; sign in again", team.name)));
        }
    }
    Ok(fresh)
}
