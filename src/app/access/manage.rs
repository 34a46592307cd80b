//! The staff-management precondition: whether the session may add, change or remove an
//! account as described (the use case's permission at the team and at each listed site,
//! `team.members` for Team-level roles, then grant-only-what-you-hold), and finding a member
//! of the active team. Staff management and invitations both check through it.

use super::gates::Check;
use crate::access::grant::{self, Assignment, Current, Grantor};
use crate::access::roles::{Permission, SiteAccess};
use crate::access::{Need, Target};
use crate::app::usecases::UseCase;
use crate::app::{active_team, site_ref, team_ref, Session};
use crate::error::{AppError, AppResult};
use crate::store::{self, staff::Member};
use rusqlite::Connection;

/// Checks that the session may manage an account as `a` describes, for `use_case` (whose
/// permission — `staff.add`, `staff.edit`, `staff.delete` — is needed at the team and at each
/// listed site; `team.members` too when a Team-level role is involved), then
/// grant-only-what-you-hold against the account as it is (`current`).
pub(crate) fn check_manage(
    conn: &Connection,
    now: chrono::DateTime<chrono::Utc>,
    session: &Session,
    current: Option<Current<'_>>,
    a: Option<&Assignment>,
    use_case: &'static UseCase,
) -> AppResult<()> {
    check_manage_with(conn, session, current, a, use_case, Check::Audited(now, use_case.name))
}

/// [`check_manage`], audited or quiet (for showing an action disabled beforehand).
pub(crate) fn check_manage_with(
    conn: &Connection,
    session: &Session,
    current: Option<Current<'_>>,
    a: Option<&Assignment>,
    use_case: &'static UseCase,
    how: Check<'_>,
) -> AppResult<()> {
    let team = active_team(conn, session)?;
    let tref = team_ref(&team);
    let permission = use_case.permission.unwrap_or(Permission::StaffEdit);
    let mut team_level = current.is_some_and(|c| c.assignment.base.is_team_level());
    let mut sites: Vec<i64> = Vec::new();
    for x in current.map(|c| c.assignment).into_iter().chain(a) {
        team_level |= x.base.is_team_level();
        if let SiteAccess::Listed(s) = &x.sites {
            sites.extend(s.iter().copied());
        }
    }
    how.need_at(conn, session, Need::Permission(permission), Target::Team(&tref))?;
    if team_level {
        how.need_at(conn, session, Need::Permission(Permission::TeamMembers), Target::Team(&tref))?;
    } else {
        if let Some(SiteAccess::Listed(s)) = a.map(|a| &a.sites) {
            if s.is_empty() {
                return Err(AppError::invalid_field("sites", "a Staff-level account needs at least one site"));
            }
        }
        sites.sort_unstable();
        sites.dedup();
        for id in sites {
            if let Some(site) = store::sites::get(conn, id)? {
                how.need_at(conn, session, Need::Permission(permission), Target::Site(&site_ref(&site)))?;
            }
        }
    }
    let target = a.map(|_| "").unwrap_or_default();
    grant::check(
        Grantor { staff_id: session.actor.staff_id, is_owner: session.actor.is_owner, grants: &session.grants },
        current,
        a,
    )
    .map_err(|r| how.refusal(conn, session, team.id, target, r))
}

/// A member of the team `team_id` by email (any case).
pub(crate) fn find_member(conn: &Connection, team_id: i64, email: &str) -> AppResult<Member> {
    let email = email.trim().to_ascii_lowercase();
    store::staff::members_of_team(conn, team_id)?
        .into_iter()
        .find(|m| m.staff.email == email)
        .ok_or_else(|| AppError::not_found(format!("{email} is not a member of your active team")))
}
