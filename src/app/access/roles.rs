//! Roles and job functions: listing them (with what the person may grant), defining and
//! deleting a team's add-on roles, defining job functions.

use super::gates::refuse;
use super::session::load_role;
use crate::access::grant;
use crate::access::roles::{builtin_job_functions, builtin_role, builtin_roles, PermSet, Role, RoleKind};
use crate::access::Level;
use crate::app::gate::At;
use crate::app::usecases as uc;
use crate::app::{App, Session};
use crate::error::{AppError, AppResult};
use crate::store;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A role as listed, with whether the session may assign it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RoleView {
    #[serde(flatten)]
    pub role: Role,
    /// Whether the person listing may give it (assignable and within what they hold).
    pub you_can_grant: bool,
}

/// A new add-on role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewRole {
    pub key: String,
    pub name: String,
    pub permissions: Vec<String>,
    #[serde(default = "yes")]
    pub assignable: bool,
    #[serde(default)]
    pub description: String,
}

fn yes() -> bool {
    true
}

/// A job function as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct JobFunctionView {
    pub key: String,
    pub name: String,
    pub base: Level,
    pub addons: Vec<String>,
    pub all_sites: bool,
    pub builtin: bool,
}

impl App {
    /// Every role of the active team: the built-in ones and the team's add-on roles.
    pub fn role_list(&self, session: &Session) -> AppResult<Vec<RoleView>> {
        let rd = self.read(session, &uc::ROLE_LIST, At::Team)?;
        let session = &rd.ctx.session;
        let mut roles = builtin_roles();
        roles.extend(store::roles::list(&rd, rd.ctx.team.id)?);
        Ok(roles
            .into_iter()
            .map(|role| {
                let within = role.permissions.is_subset(session.grants.permissions)
                    && role.level.is_none_or(|l| l <= session.grants.base);
                RoleView { you_can_grant: role.assignable && within, role }
            })
            .collect())
    }

    /// Defines an add-on role in the active team (needs `team.members`; the role may give only
    /// permissions its author holds).
    pub fn role_add(&mut self, session: &Session, new: &NewRole) -> AppResult<Role> {
        let key = new.key.trim().to_ascii_lowercase();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || key.len() > 40 {
            return Err(AppError::invalid_field("key", format!("role key {key:?} must be 1-40 of a-z, 0-9 and _")));
        }
        let name = residentdesk_domain::rules::validate_text(
            "name",
            &new.name,
            true,
            residentdesk_domain::rules::MAX_NAME_LEN,
        )?;
        let permissions =
            PermSet::parse_list(&new.permissions).map_err(|e| AppError::invalid_field("permissions", e))?;
        let role = Role {
            key: key.clone(),
            name,
            kind: RoleKind::AddOn,
            permissions,
            assignable: new.assignable,
            builtin: false,
            level: None,
            description: new.description.trim().to_string(),
        };
        let tx = self.write(session, &uc::ROLE_ADD, At::Team)?;
        let (team, now, session) = (tx.ctx.team.clone(), tx.ctx.now, &tx.ctx.session);
        grant::check_role_definition(&session.grants, &role)
            .map_err(|r| refuse(&tx, now, session, "role.add", Some(team.id), &key, r))?;
        if builtin_role(&key).is_some() || store::roles::get(&tx, team.id, &key)?.is_some() {
            return Err(AppError::invalid_field("key", format!("a role {key:?} already exists")));
        }
        store::roles::insert(&tx, team.id, &role, session.actor.staff_id, now)?;
        tx.audit()
            .target(key.clone())
            .details(json!({"permissions": role.permissions, "assignable": role.assignable}))
            .write()?;
        tx.commit()?;
        Ok(role)
    }

    /// Deletes a team-defined role (and every assignment of it).
    pub fn role_remove(&mut self, session: &Session, key: &str) -> AppResult<usize> {
        let key = key.trim().to_ascii_lowercase();
        let tx = self.write(session, &uc::ROLE_REMOVE, At::Team)?;
        let (team, now, session) = (tx.ctx.team.clone(), tx.ctx.now, &tx.ctx.session);
        if builtin_role(&key).is_some() {
            return Err(AppError::invalid_field("key", format!("{key} is a built-in role and cannot be removed")));
        }
        let role =
            store::roles::get(&tx, team.id, &key)?.ok_or_else(|| AppError::not_found(format!("no role {key:?}")))?;
        grant::check_role_definition(&session.grants, &role)
            .map_err(|r| refuse(&tx, now, session, "role.remove", Some(team.id), &key, r))?;
        let held = store::roles::delete(&tx, team.id, &key)?;
        tx.audit().target(key.clone()).details(json!({"revoked_from": held})).write()?;
        tx.commit()?;
        Ok(held)
    }

    /// The job functions of the active team (built in and the team's).
    pub fn job_function_list(&self, session: &Session) -> AppResult<Vec<JobFunctionView>> {
        let rd = self.read(session, &uc::JOB_FUNCTION_LIST, At::Team)?;
        let team = rd.ctx.team.clone();
        let mut out: Vec<JobFunctionView> = builtin_job_functions()
            .into_iter()
            .map(|j| JobFunctionView {
                key: j.key,
                name: j.name,
                base: j.base,
                addons: j.addons,
                all_sites: j.all_sites,
                builtin: true,
            })
            .collect();
        out.extend(store::roles::job_functions(&rd, team.id)?.into_iter().map(|j| JobFunctionView {
            key: j.key,
            name: j.name,
            base: j.base,
            addons: j.addons,
            all_sites: j.all_sites,
            builtin: false,
        }));
        Ok(out)
    }

    /// Defines a job function in the active team (needs `team.members`).
    pub fn job_function_add(
        &mut self,
        session: &Session,
        key: &str,
        name: &str,
        base: &str,
        addons: &[String],
        all_sites: bool,
    ) -> AppResult<JobFunctionView> {
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(AppError::invalid_field("key", format!("job function key {key:?} must be a-z, 0-9 and _")));
        }
        let base =
            Level::parse(base).ok_or_else(|| AppError::invalid_field("base", format!("unknown base role {base:?}")))?;
        let tx = self.write(session, &uc::JOB_FUNCTION_ADD, At::Team)?;
        let team = tx.ctx.team.clone();
        for a in addons {
            let role = load_role(&tx, team.id, a)?;
            if role.kind != RoleKind::AddOn {
                return Err(AppError::invalid_field("roles", format!("{} is not an add-on role", role.name)));
            }
        }
        if builtin_job_functions().iter().any(|j| j.key == key)
            || store::roles::job_functions(&tx, team.id)?.iter().any(|j| j.key == key)
        {
            return Err(AppError::invalid_field("key", format!("a job function {key:?} already exists")));
        }
        let row = store::roles::JobFunctionRow {
            key: key.clone(),
            name: residentdesk_domain::rules::validate_text(
                "name",
                name,
                true,
                residentdesk_domain::rules::MAX_NAME_LEN,
            )?,
            base,
            addons: addons.to_vec(),
            all_sites,
        };
        store::roles::insert_job_function(&tx, team.id, &row)?;
        tx.audit()
            .target(key.clone())
            .details(json!({"base": base.as_str(), "roles": addons, "all_sites": all_sites}))
            .write()?;
        tx.commit()?;
        Ok(JobFunctionView { key: row.key, name: row.name, base, addons: row.addons, all_sites, builtin: false })
    }

    /// Resolves a job function into its assignment (sites: all, or the given list).
    pub(crate) fn job_function_assignment(
        conn: &Connection,
        team_id: i64,
        key: &str,
    ) -> AppResult<(Level, Vec<Role>, bool)> {
        let key = key.trim().to_ascii_lowercase();
        let (base, addons, all) = if let Some(j) = builtin_job_functions().into_iter().find(|j| j.key == key) {
            (j.base, j.addons, j.all_sites)
        } else if let Some(j) = store::roles::job_functions(conn, team_id)?.into_iter().find(|j| j.key == key) {
            (j.base, j.addons, j.all_sites)
        } else {
            return Err(AppError::invalid_field(
                "job_function",
                format!("no job function {key:?} (see `role job-functions`)"),
            ));
        };
        let roles = addons.iter().map(|k| load_role(conn, team_id, k)).collect::<AppResult<Vec<_>>>()?;
        Ok((base, roles, all))
    }
}
