//! The assignment a new member gets (base role, add-on roles, sites), built from what a
//! person asked for: a level and/or a job function, add-on role keys, all sites or a list.
//! One builder for adding a member (`staff add`) and inviting one (`invite create`), so both
//! read the request alike and check it alike: the person must be able to grant it
//! (`check_manage`) and the email must not already belong to a member of the team.

use super::grants::parse_site_access;
use super::manage::check_manage;
use super::session::load_role;
use crate::access::grant::Assignment;
use crate::access::roles::{Role, SiteAccess};
use crate::access::Level;
use crate::app::usecases::UseCase;
use crate::app::{App, Session};
use crate::error::{AppError, AppResult};
use crate::store::{self, staff::Staff, teams::Team};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

/// What a person asks a new member to be given.
pub(crate) struct AssignmentRequest<'a> {
    /// A Table-1 level (base role); may be empty with a job function.
    pub level: &'a str,
    /// A job function key: its base role (when `level` is empty), add-on roles and site access.
    pub job_function: Option<&'a str>,
    /// Add-on role keys, beyond the job function's.
    pub roles: &'a [String],
    /// Every site of the team (sites added later included).
    pub all_sites: bool,
    /// Member sites, by reference (name, remote id or id).
    pub sites: &'a [String],
}

/// A level by its key, or an error listing the levels.
pub(crate) fn parse_level(text: &str) -> AppResult<Level> {
    Level::parse(text).ok_or_else(|| {
        AppError::invalid_field(
            "level",
            format!("unknown level {text:?} (staff_user, staff_local_admin, team_user, team_admin)"),
        )
    })
}

/// The assignment `req` asks for in team `team_id`. A level given overrides the job
/// function's base role; add-on roles are the job function's plus those named (each once);
/// a Team-level base role has all sites; the job function's "all sites" applies when no site
/// is listed.
fn requested_assignment(
    conn: &Connection,
    session: &Session,
    team_id: i64,
    req: &AssignmentRequest<'_>,
) -> AppResult<Assignment> {
    let (mut base, mut addons, mut all_sites) = (None, Vec::new(), req.all_sites);
    if let Some(jf) = req.job_function.filter(|j| !j.trim().is_empty()) {
        let (b, roles, all) = App::job_function_assignment(conn, team_id, jf)?;
        base = Some(b);
        addons = roles;
        all_sites |= all && req.sites.is_empty();
    }
    if !req.level.trim().is_empty() {
        base = Some(parse_level(req.level)?);
    }
    let base = base.ok_or_else(|| AppError::invalid_field("level", "give a level or a job function"))?;
    for key in req.roles {
        let role = load_role(conn, team_id, key)?;
        if !addons.iter().any(|r: &Role| r.key == role.key) {
            addons.push(role);
        }
    }
    let sites = if base.is_team_level() && !all_sites {
        SiteAccess::AllSites
    } else {
        parse_site_access(conn, session, all_sites, req.sites)?
    };
    Ok(Assignment { base, addons, sites })
}

/// The assignment `req` asks for someone joining `team` as `email` (normalised), once the
/// person may grant it for `use_case` and the email is no member of the team yet. Returns
/// the account the email already has in another team, if any.
pub(crate) fn new_member_assignment(
    conn: &Connection,
    now: DateTime<Utc>,
    session: &Session,
    team: &Team,
    email: &str,
    req: &AssignmentRequest<'_>,
    use_case: &'static UseCase,
) -> AppResult<(Assignment, Option<Staff>)> {
    let assignment = requested_assignment(conn, session, team.id, req)?;
    check_manage(conn, now, session, None, Some(&assignment), use_case)?;
    let existing = store::staff::by_email(conn, email)?;
    if let Some(staff) = &existing {
        if store::staff::level_in_team(conn, staff.id, team.id)?.is_some() {
            return Err(AppError::invalid_field("email", format!("{email} is already a member of {}", team.name)));
        }
    }
    Ok((assignment, existing))
}
