//! Staff access management: building a session's effective grants from its roles (and API
//! token), roles and job functions, granting and revoking roles and sites ("grant only what
//! you hold"), ownership transfer, API tokens, explain-why and the effective matrix, and the
//! audit export. Every grant, revoke, token step and denial is audited.

use super::auth::{hash_secret, verify_secret};
use super::gate::{record_denial, session_ended, At};
use super::usecases::{self as uc, UseCase};
use super::{active_team, resolve_site, team_ref, App, Session};
use crate::access::grant::{self, Assignment, Current, Grantor, Refusal};
use crate::access::roles::{
    builtin_job_functions, builtin_role, builtin_roles, Grants, PermSet, Permission, Role, RoleKind, SiteAccess,
};
use crate::access::{evaluate, Actor, Decision, Feature, Level, Need, Target, TeamRef};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::store::{self, invitations::Invitation, staff::Member, tokens::TokenRow};
use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub use crate::access::session::TokenInfo;

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
fn token_session(conn: &Connection, token: &TokenRow) -> AppResult<Session> {
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

/// Writes an audit entry of a failed or refused public use case (sign-in with a token, an
/// invitation code) in that use case's own transaction.
#[allow(clippy::too_many_arguments)]
fn audit_refusal(
    run: &super::gate::PublicRun<'_>,
    actor_id: Option<i64>,
    actor: &str,
    outcome: &'static str,
    team_id: Option<i64>,
    target: Option<&str>,
    details: Value,
) -> AppResult<()> {
    let mut audit = run.audit(actor_id, actor).outcome(outcome).team(team_id).details(details);
    if let Some(t) = target {
        audit = audit.target(t);
    }
    audit.write()?;
    Ok(())
}

/// Turns a refused grant into an error; escalations are audited as denials (written once
/// the use case's transaction has ended, so its rollback keeps them).
pub(crate) fn refuse(
    conn: &Connection,
    now: DateTime<Utc>,
    session: &Session,
    action: &str,
    team_id: Option<i64>,
    target: &str,
    refusal: Refusal,
) -> AppError {
    match refusal {
        Refusal::Invalid { field, message } => AppError::invalid_field(field, message),
        Refusal::Denied(reason) => {
            let token = session.token.as_ref().map(|t| t.name.clone());
            record_denial(conn, now, session, action, team_id, None, target, json!({"reason": reason, "token": token}));
            AppError::denied(format!("denied: {reason}"))
        }
    }
}

/// How a precondition is checked: by the use case itself (a denial is audited and fails the
/// call), or beforehand and quietly, for the UI to show an action disabled with the reason.
/// Both run the same code, so what the UI shows is what the use case will decide.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check<'a> {
    Audited(DateTime<Utc>, &'a str),
    Quiet,
}

impl Check<'_> {
    /// `need` on the active team.
    pub(crate) fn need(self, conn: &Connection, session: &Session, need: Need) -> AppResult<()> {
        let team = active_team(conn, session)?;
        self.need_at(conn, session, need, Target::Team(&team_ref(&team)))
    }

    /// `need` on `target`.
    pub(crate) fn need_at(self, conn: &Connection, session: &Session, need: Need, target: Target<'_>) -> AppResult<()> {
        match self {
            Check::Audited(now, action) => match evaluate(&session.actor, &session.grants, need, target) {
                Decision::Allow { .. } => Ok(()),
                Decision::Deny { reason } => {
                    let (team_id, site_id, name) = match target {
                        Target::Team(t) => (Some(t.id), None, t.name.clone()),
                        Target::Site(s) => (Some(s.team_id), Some(s.id), s.name.clone()),
                    };
                    let token = session.token.as_ref().map(|t| t.name.clone());
                    let details = json!({ "reason": reason, "need": format!("{need:?}"), "token": token });
                    record_denial(conn, now, session, action, team_id, site_id, &name, details);
                    Err(AppError::denied(format!("denied: {reason}")))
                }
            },
            Check::Quiet => match evaluate(&session.actor, &session.grants, need, target) {
                Decision::Allow { .. } => Ok(()),
                Decision::Deny { reason } => Err(AppError::denied(format!("denied: {reason}"))),
            },
        }
    }

    /// A refused grant as an error (audited when the use case itself checks).
    pub(crate) fn refusal(
        self,
        conn: &Connection,
        session: &Session,
        team_id: i64,
        target: &str,
        refusal: Refusal,
    ) -> AppError {
        match (self, refusal) {
            (Check::Audited(now, action), r) => refuse(conn, now, session, action, Some(team_id), target, r),
            (Check::Quiet, Refusal::Invalid { field, message }) => AppError::invalid_field(field, message),
            (Check::Quiet, Refusal::Denied(reason)) => AppError::denied(format!("denied: {reason}")),
        }
    }
}

/// Whether an action is allowed, and the core's reason when it is not: what the desktop shows
/// beside a disabled button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Gate {
    pub allowed: bool,
    /// Empty when allowed; otherwise the core's message ("denied: ...").
    pub reason: String,
}

impl Gate {
    /// The gate of a quiet check: an `Err` becomes its message. Database errors stay errors.
    pub(crate) fn of(result: AppResult<()>) -> AppResult<Gate> {
        match result {
            Ok(()) => Ok(Gate { allowed: true, reason: String::new() }),
            Err(e) if matches!(e.code, ErrorCode::PermissionDenied | ErrorCode::InvalidInput) => {
                Ok(Gate { allowed: false, reason: e.message })
            }
            Err(e) => Err(e),
        }
    }
}

/// The access-management use cases whose precondition (a permission on the active team) can
/// be asked before trying them. Each use case checks its precondition through
/// [`AccessAction::check`], so the answer given beforehand is the one the use case applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AccessAction {
    /// List roles (`role list`).
    RoleList,
    /// Define or delete a team add-on role, define a job function.
    RoleManage,
    /// List job functions.
    JobFunctionList,
    /// List invitations.
    InviteList,
    /// Invite someone (the roles and sites given are checked when the invitation is made).
    InviteCreate,
    /// Withdraw or resend an invitation.
    InviteManage,
    /// Create an API token (a subset of what the person holds).
    TokenCreate,
    /// Explain or show the matrix of someone else (yourself is always allowed).
    ExplainOthers,
}

impl AccessAction {
    pub const ALL: [AccessAction; 8] = [
        AccessAction::RoleList,
        AccessAction::RoleManage,
        AccessAction::JobFunctionList,
        AccessAction::InviteList,
        AccessAction::InviteCreate,
        AccessAction::InviteManage,
        AccessAction::TokenCreate,
        AccessAction::ExplainOthers,
    ];

    /// The use case behind the action: its declaration in the table is what the gate checks.
    pub fn use_case(self) -> &'static UseCase {
        match self {
            AccessAction::RoleList => &uc::ROLE_LIST,
            AccessAction::RoleManage => &uc::ROLE_ADD,
            AccessAction::JobFunctionList => &uc::JOB_FUNCTION_LIST,
            AccessAction::InviteList => &uc::INVITE_LIST,
            AccessAction::InviteCreate => &uc::INVITE_CREATE,
            AccessAction::InviteManage => &uc::INVITE_RESEND,
            AccessAction::TokenCreate => &uc::TOKEN_CREATE,
            AccessAction::ExplainOthers => &uc::STAFF_LIST,
        }
    }
}

/// One access-management action with the core's answer for the signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActionGate {
    pub action: AccessAction,
    pub allowed: bool,
    pub reason: String,
}

/// What the person may do to one member of the team, with the core's reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberActions {
    pub email: String,
    /// Change the member's base role, add-on roles or sites (`access_change`).
    pub edit: Gate,
    /// Remove the member from the team (`staff_remove`).
    pub remove: Gate,
}

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

fn grantor(session: &Session) -> Grantor<'_> {
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

/// The answer of `explain`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Explanation {
    pub person: String,
    pub action: String,
    pub target: String,
    pub allowed: bool,
    /// The rule that allowed, or the reason that denied.
    pub rule: String,
    pub roles: String,
}

/// One row of the effective matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MatrixRow {
    pub category: String,
    pub permission: String,
    pub held: bool,
    pub from: Vec<String>,
}

/// One Table-1 feature in the effective matrix (checked on the team).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MatrixFeature {
    pub feature: String,
    pub allowed: bool,
    pub rule: String,
}

/// A person's effective access.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Matrix {
    pub person: String,
    pub team: String,
    pub base: Level,
    pub roles: Vec<String>,
    pub is_owner: bool,
    pub all_sites: bool,
    pub sites: Vec<String>,
    pub permissions: Vec<MatrixRow>,
    pub features: Vec<MatrixFeature>,
}

/// A new API token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewToken {
    pub name: String,
    /// Permission names; empty: every permission the creator holds.
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub all_sites: bool,
    /// Sites; empty and not `all_sites`: the creator's own site access.
    #[serde(default)]
    pub sites: Vec<String>,
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

/// A created token: the secret is shown this once.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CreatedToken {
    pub token: String,
    #[serde(flatten)]
    pub info: TokenRow,
}

/// Token secrets: `rdt_<8 hex prefix>_<40 hex secret>`.
pub(crate) fn new_secret(kind: &str) -> (String, String) {
    let prefix: [u8; 4] = rand::random();
    let secret: [u8; 20] = rand::random();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let prefix = hex(&prefix);
    (format!("{kind}_{prefix}_{}", hex(&secret)), prefix)
}

/// Splits `rdt_PREFIX_SECRET` into its prefix.
pub(crate) fn secret_prefix(kind: &str, token: &str) -> Option<String> {
    let rest = token.trim().strip_prefix(kind)?.strip_prefix('_')?;
    let (prefix, secret) = rest.split_once('_')?;
    (prefix.len() == 8 && !secret.is_empty()).then(|| prefix.to_string())
}

impl App {
    /// Signs in with an API token (`RESIDENTDESK_TOKEN`): the creator's current grants cut down
    /// to the token's. Every use, and every failed or refused use, is audited.
    pub fn sign_in_token(&mut self, token: &str) -> AppResult<Session> {
        let tx = self.write_public(&uc::TOKEN_SIGN_IN)?;
        let now = tx.now;
        let failure = |m: &str| AppError::new(ErrorCode::Unauthenticated, m.to_string());
        // Every refusal is committed with its audit entry before the error is returned.
        let refused = |tx: super::gate::PublicRun<'_>, message: &str| -> AppResult<Session> {
            tx.commit()?;
            Err(failure(message))
        };
        let Some(prefix) = secret_prefix("rdt", token) else {
            audit_refusal(&tx, None, "token", "failed", None, None, json!({"reason": "malformed token"}))?;
            return refused(tx, "malformed API token (expected rdt_XXXXXXXX_...)");
        };
        let row = store::tokens::by_prefix(&tx, &prefix)?;
        let Some(row) = row.filter(|r| verify_secret(token.trim(), &r.token_hash)) else {
            let who = format!("token {prefix}");
            audit_refusal(&tx, None, &who, "failed", None, None, json!({"reason": "unknown token"}))?;
            return refused(tx, "unknown API token");
        };
        let who = format!("token {} ({})", row.name, row.prefix);
        let reason = if row.revoked_at.is_some() {
            Some("the token was revoked")
        } else if row.expires_at.is_some_and(|e| e <= now) {
            Some("the token has expired")
        } else if store::staff::get(&tx, row.created_by)?.is_none_or(|c| c.disabled) {
            Some("the token's creator is disabled")
        } else {
            None
        };
        if let Some(reason) = reason {
            let details = json!({"reason": reason});
            audit_refusal(&tx, Some(row.created_by), &who, "denied", Some(row.team_id), Some(&row.name), details)?;
            return refused(tx, reason);
        }
        let session = match token_session(&tx, &row) {
            Ok(s) => s,
            Err(e) => {
                let details = json!({"reason": e.message});
                audit_refusal(&tx, Some(row.created_by), &who, "denied", Some(row.team_id), Some(&row.name), details)?;
                tx.commit()?;
                return Err(e);
            }
        };
        store::tokens::touch(&tx, row.id, now)?;
        tx.audit(Some(row.created_by), &session.actor.email)
            .team(Some(row.team_id))
            .target(row.name.clone())
            .details(json!({"prefix": row.prefix}))
            .write()?;
        tx.commit()?;
        Ok(session)
    }

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

    /// Changes a member's base role, add-on roles or site access: needs `staff.edit` (and
    /// `team.members` when a Team-level role is involved), then grant-only-what-you-hold.
    pub fn access_change(&mut self, session: &Session, email: &str, change: &AccessChange) -> AppResult<Member> {
        let tx = self.write(session, &uc::ACCESS_CHANGE, At::Team)?;
        let (team, now, session) = (tx.ctx.team.clone(), tx.ctx.now, &tx.ctx.session);
        let member = super::staff::find_member(&tx, team.id, email)?;
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
        let updated = super::staff::find_member(&tx, team.id, &member.staff.email)?;
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
                Refusal::Denied("only the owner can transfer ownership".into()),
            ));
        }
        let member = super::staff::find_member(&tx, team.id, email)?;
        if member.level != Level::TeamAdmin.as_str() {
            return Err(AppError::invalid_field(
                "email",
                format!("{} is not a Team administrator; make them one first", member.staff.email),
            ));
        }
        store::staff::transfer_owner(&tx, session.actor.staff_id, member.staff.id)?;
        tx.audit().target(member.staff.email.clone()).details(json!({"from": session.actor.email})).write()?;
        let updated = super::staff::find_member(&tx, team.id, &member.staff.email)?;
        tx.commit()?;
        Ok(updated)
    }

    /// The session of another member of the active team, for explain and matrix: allowed for
    /// yourself; for others with `staff.view` when they are not above you.
    fn session_of(&self, session: &Session, email: Option<&str>, use_case: &'static UseCase) -> AppResult<Session> {
        let rd = self.read(session, use_case, At::Team)?;
        let (now, session) = (rd.ctx.now, &rd.ctx.session);
        let Some(email) = email.filter(|e| !e.trim().eq_ignore_ascii_case(&session.actor.email)) else {
            return Ok(session.clone());
        };
        let team = rd.ctx.team.clone();
        rd.require(Permission::StaffView)?;
        let member = super::staff::find_member(&rd, team.id, email)?;
        let other = build_session(&rd, member.staff.id, Some(team.id))?;
        let within = other.grants.base <= session.grants.base
            && (other.grants.permissions.is_subset(session.grants.permissions)
                || session.grants.permissions.contains(Permission::TeamMembers))
            && other.grants.sites.is_within(&session.grants.sites);
        if !within {
            return Err(refuse(
                &rd,
                now,
                session,
                use_case.name,
                Some(team.id),
                email,
                Refusal::Denied(format!("you cannot look into the access of {email}, who holds more than you")),
            ));
        }
        Ok(other)
    }

    /// Explains a decision: may `email` (default: the person asking) do `action` (a Table-1
    /// feature or a permission) at `place` (a site, or `team`)? Answers with the rule or reason.
    pub fn access_explain(
        &self,
        session: &Session,
        email: Option<&str>,
        action: &str,
        place: &str,
    ) -> AppResult<Explanation> {
        let who = self.session_of(session, email, &uc::ACCESS_EXPLAIN)?;
        let need = match (Feature::parse(action), Permission::parse(action)) {
            (Some(f), _) => Need::Feature(f),
            (None, Some(p)) => Need::Permission(p),
            (None, None) => {
                return Err(AppError::invalid_field(
                    "action",
                    format!("unknown action {action:?}: a Table-1 feature (e.g. manage_residents) or a permission (e.g. residents.export)"),
                ))
            }
        };
        let team = active_team(self.conn(), session)?;
        let tref = team_ref(&team);
        let place_t = place.trim();
        let (decision, target) = if place_t.is_empty() || place_t.eq_ignore_ascii_case("team") {
            (evaluate(&who.actor, &who.grants, need, Target::Team(&tref)), format!("team {}", team.name))
        } else {
            let site = resolve_site(self.conn(), session, place_t)?;
            let sref = super::site_ref(&site);
            (evaluate(&who.actor, &who.grants, need, Target::Site(&sref)), format!("site {}", site.name))
        };
        Ok(Explanation {
            person: who.actor.email.clone(),
            action: action.trim().to_string(),
            target,
            allowed: decision.is_allowed(),
            rule: decision.explanation().to_string(),
            roles: who.grants.holder(),
        })
    }

    /// The effective matrix of `email` (default: the person asking): every permission with the
    /// role it comes from, every Table-1 feature on the team, and the sites reached.
    pub fn access_matrix(&self, session: &Session, email: Option<&str>) -> AppResult<Matrix> {
        let who = self.session_of(session, email, &uc::ACCESS_MATRIX)?;
        let team = active_team(self.conn(), session)?;
        let tref = team_ref(&team);
        let permissions = Permission::ALL
            .into_iter()
            .map(|p| MatrixRow {
                category: p.category().as_str().into(),
                permission: p.as_str().into(),
                held: who.grants.permissions.contains(p),
                from: if who.grants.permissions.contains(p) { who.grants.sources_of(p) } else { vec![] },
            })
            .collect();
        let features = Feature::ALL
            .into_iter()
            .map(|f| {
                let d = evaluate(&who.actor, &who.grants, Need::Feature(f), Target::Team(&tref));
                MatrixFeature { feature: f.as_str().into(), allowed: d.is_allowed(), rule: d.explanation().into() }
            })
            .collect();
        let sites = store::sites::list(self.conn(), &crate::access::Scope::Team(team.id))?
            .into_iter()
            .filter(|s| who.grants.sites.covers(s.id))
            .map(|s| s.name)
            .collect();
        Ok(Matrix {
            person: who.actor.email.clone(),
            team: team.name,
            base: who.grants.base,
            roles: who.grants.addons.iter().map(|a| a.role.clone()).collect(),
            is_owner: who.actor.is_owner,
            all_sites: who.grants.all_sites(),
            sites,
            permissions,
            features,
        })
    }

    /// Creates an API token: a subset of the creator's permissions and sites (refused and
    /// audited otherwise); the secret is returned once and stored as an argon2id hash.
    pub fn token_create(&mut self, session: &Session, new: &NewToken) -> AppResult<CreatedToken> {
        let name = residentdesk_domain::rules::validate_text("name", &new.name, true, 80)?;
        let requested = PermSet::parse_list(&new.permissions).map_err(|e| AppError::invalid_field("permissions", e))?;
        if let Some(d) = new.expires_in_days.filter(|d| *d <= 0 || *d > 3650) {
            return Err(AppError::invalid_field("expires_in_days", format!("{d} is not between 1 and 3650 days")));
        }
        let (secret, prefix) = new_secret("rdt");
        let hash = hash_secret(&secret)?;
        let tx = self.write(session, &uc::TOKEN_CREATE, At::Team)?;
        let (team, now, session) = (tx.ctx.team.clone(), tx.ctx.now, &tx.ctx.session);
        let permissions = if new.permissions.is_empty() { session.grants.permissions } else { requested };
        let sites = if !new.all_sites && new.sites.is_empty() {
            session.grants.sites.clone()
        } else {
            parse_site_access(&tx, session, new.all_sites, &new.sites)?
        };
        grant::check_token(&session.grants, permissions, &sites)
            .map_err(|r| refuse(&tx, now, session, uc::TOKEN_CREATE.name, Some(team.id), &name, r))?;
        let id = store::tokens::insert(
            &tx,
            &store::tokens::NewToken {
                team_id: team.id,
                created_by: session.actor.staff_id,
                name: &name,
                prefix: &prefix,
                token_hash: &hash,
                permissions,
                sites: &sites,
                expires_at: new.expires_in_days.map(|d| now + Duration::days(d)),
            },
            now,
        )?;
        tx.audit()
            .target(name.clone())
            .details(json!({"prefix": prefix, "permissions": permissions, "sites": sites}))
            .write()?;
        let info = store::tokens::list(&tx, team.id)?
            .into_iter()
            .find(|t| t.id == id)
            .ok_or_else(|| AppError::internal("token vanished"))?;
        tx.commit()?;
        Ok(CreatedToken { token: secret, info })
    }

    /// The tokens of the active team: all of them for holders of `team.members`, else your own.
    pub fn token_list(&self, session: &Session) -> AppResult<Vec<TokenRow>> {
        let rd = self.read(session, &uc::TOKEN_LIST, At::Team)?;
        let session = &rd.ctx.session;
        let all = session.grants.permissions.contains(Permission::TeamMembers) && session.token.is_none();
        Ok(store::tokens::list(&rd, rd.ctx.team.id)?
            .into_iter()
            .filter(|t| all || t.created_by == session.actor.staff_id)
            .collect())
    }

    /// Revokes a token by id or prefix: its creator, or a holder of `team.members`.
    pub fn token_revoke(&mut self, session: &Session, reference: &str) -> AppResult<TokenRow> {
        let tx = self.write(session, &uc::TOKEN_REVOKE, At::Team)?;
        let (team, now, session) = (tx.ctx.team.clone(), tx.ctx.now, &tx.ctx.session);
        let reference = reference.trim();
        let found = store::tokens::list(&tx, team.id)?
            .into_iter()
            .find(|t| {
                t.prefix == reference
                    || t.id.to_string() == reference
                    || secret_prefix("rdt", reference).as_deref() == Some(&t.prefix)
            })
            .ok_or_else(|| AppError::not_found(format!("no token {reference:?} in your active team")))?;
        let mine = found.created_by == session.actor.staff_id;
        if !mine {
            tx.require(Permission::TeamMembers)?;
        }
        if !store::tokens::revoke(&tx, found.id, session.actor.staff_id, now)? {
            return Err(AppError::invalid(format!("token {} is already revoked", found.prefix)));
        }
        tx.audit().target(found.name.clone()).details(json!({"prefix": found.prefix})).write()?;
        let after = store::tokens::by_prefix(&tx, &found.prefix)?.unwrap_or(found);
        tx.commit()?;
        Ok(after)
    }

    /// The audit log of the active team as CSV (needs `audit.export`); the export is audited.
    pub fn audit_export_csv(&mut self, session: &Session, since: Option<DateTime<Utc>>) -> AppResult<String> {
        let rd = self.read(session, &uc::AUDIT_EXPORT, At::Team)?;
        let team = rd.ctx.team.clone();
        let entries = store::audit::list(&rd, Some(team.id), since, usize::MAX >> 1)?;
        drop(rd);
        // The one CSV writer and its Excel-safe guard, as for residents.
        let rows = entries.iter().rev().map(|e| {
            [
                e.id.to_string(),
                store::ts(e.at),
                e.actor.clone(),
                e.action.clone(),
                e.outcome.clone(),
                e.team_id.map(|v| v.to_string()).unwrap_or_default(),
                e.site_id.map(|v| v.to_string()).unwrap_or_default(),
                e.target.clone().unwrap_or_default(),
                e.details.to_string(),
            ]
        });
        let out = crate::csvio::export::audit_csv(&crate::csvio::export::AUDIT_HEADER, rows)
            .map_err(|e| AppError::internal(format!("cannot write the audit CSV: {e}")))?;
        let tx = self.write(session, &uc::AUDIT_EXPORT, At::Team)?;
        tx.audit().no_target().details(json!({"rows": entries.len()})).write()?;
        tx.commit()?;
        Ok(out)
    }
}

/// How long an invitation stays valid.
pub const INVITATION_DAYS: i64 = 7;
/// An invitation may be resent once it has been pending this long.
pub const RESEND_AFTER_DAYS: i64 = 2;

/// A new invitation by email with roles and sites.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewInvitation {
    pub email: String,
    #[serde(default)]
    pub display_name: String,
    /// Base role (Table-1 level); may be empty with a job function.
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub job_function: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub all_sites: bool,
    #[serde(default)]
    pub sites: Vec<String>,
}

/// An invitation with its one-time token (shown once) and the text to send.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CreatedInvitation {
    pub invitation: Invitation,
    pub token: String,
    pub text: String,
}

/// An invitation as listed: `state` reads `expired` once a pending one is past its expiry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InvitationView {
    #[serde(flatten)]
    pub invitation: Invitation,
    pub can_resend: bool,
}

fn invitation_state(i: &Invitation, now: DateTime<Utc>) -> String {
    if i.state == "pending" && i.expires_at <= now {
        "expired".into()
    } else {
        i.state.clone()
    }
}

fn invitation_text(conn: &Connection, i: &Invitation, inviter: &str, team: &str, token: &str) -> AppResult<String> {
    let mut roles = vec![i.base.title().to_string()];
    for k in &i.addons {
        roles.push(load_role(conn, i.team_id, k).map(|r| r.name).unwrap_or_else(|_| k.clone()));
    }
    let sites = match &i.sites {
        SiteAccess::AllSites => "every site of the team (including sites added later)".to_string(),
        SiteAccess::Listed(ids) => {
            let mut names = Vec::new();
            for id in ids {
                names.push(store::sites::get(conn, *id)?.map(|s| s.name).unwrap_or_else(|| format!("site #{id}")));
            }
            names.join(", ")
        }
    };
    let hello = if i.display_name.is_empty() { "Hello,".to_string() } else { format!("Hello {},", i.display_name) };
    Ok(format!(
        "{hello}\n\n{inviter} invites you to join the team {team} on ResidentDesk as {} with access to {sites}.\n\n\
         To accept, open ResidentDesk, choose \"I have an invitation\" on the sign-in screen, enter the code\n    {token}\n\
         and choose a password (at least 10 characters); you can decline there too. From the command line:\n    \
         residentdesk invite accept --token {token}    (or: invite reject --token {token})\n\n\
         This invitation is for {} only and expires on {} UTC.\n",
        roles.join(" + "),
        i.email,
        i.expires_at.format("%Y-%m-%d %H:%M"),
    ))
}

/// The assignment an invitation gives (its base role, add-on roles and sites).
fn invitation_assignment(conn: &Connection, inv: &Invitation) -> AppResult<Assignment> {
    let addons = inv.addons.iter().map(|k| load_role(conn, inv.team_id, k)).collect::<AppResult<Vec<_>>>()?;
    Ok(Assignment { base: inv.base, addons, sites: inv.sites.clone() })
}

impl App {
    /// Invites a person by email with roles and sites: the same checks as adding them (the
    /// inviter grants only what they hold). Returns the one-time token and the text to send.
    pub fn invite_create(&mut self, session: &Session, new: &NewInvitation) -> AppResult<CreatedInvitation> {
        let email = residentdesk_domain::rules::normalize_email(&new.email)
            .map_err(|e| AppError::invalid_field("email", e.to_string()))?;
        let display_name = residentdesk_domain::rules::validate_text(
            "name",
            &new.display_name,
            false,
            residentdesk_domain::rules::MAX_NAME_LEN,
        )?;
        let (secret, prefix) = new_secret("rdi");
        let hash = hash_secret(&secret)?;
        let tx = self.write(session, &uc::INVITE_CREATE, At::Team)?;
        let (team, now, session) = (tx.ctx.team.clone(), tx.ctx.now, &tx.ctx.session);
        let (mut base, mut addons, mut all_sites) = (None, Vec::new(), new.all_sites);
        if let Some(jf) = new.job_function.as_deref().filter(|j| !j.trim().is_empty()) {
            let (b, roles, all) = App::job_function_assignment(&tx, team.id, jf)?;
            base = Some(b);
            addons = roles;
            all_sites |= all && new.sites.is_empty();
        }
        if !new.level.trim().is_empty() {
            base = Some(
                Level::parse(&new.level)
                    .ok_or_else(|| AppError::invalid_field("level", format!("unknown level {:?}", new.level)))?,
            );
        }
        let base = base.ok_or_else(|| AppError::invalid_field("level", "give a level or a job function"))?;
        for key in &new.roles {
            let role = load_role(&tx, team.id, key)?;
            if !addons.iter().any(|r: &Role| r.key == role.key) {
                addons.push(role);
            }
        }
        let sites = if base.is_team_level() {
            SiteAccess::AllSites
        } else {
            parse_site_access(&tx, session, all_sites, &new.sites)?
        };
        let assignment = Assignment { base, addons, sites };
        super::staff::check_manage(&tx, now, session, None, Some(&assignment), &uc::INVITE_CREATE)?;
        if let Some(existing) = store::staff::by_email(&tx, &email)? {
            if store::staff::level_in_team(&tx, existing.id, team.id)?.is_some() {
                return Err(AppError::invalid_field("email", format!("{email} is already a member of {}", team.name)));
            }
        }
        if let Some(p) = store::invitations::list(&tx, team.id)?
            .into_iter()
            .find(|i| i.email == email && invitation_state(i, now) == "pending")
        {
            return Err(AppError::invalid_field(
                "email",
                format!("{email} already has a pending invitation (#{}); resend it instead", p.id),
            ));
        }
        let keys: Vec<String> = assignment.addons.iter().map(|r| r.key.clone()).collect();
        let id = store::invitations::insert(
            &tx,
            &store::invitations::NewInvitation {
                team_id: team.id,
                email: &email,
                display_name: &display_name,
                base,
                addons: &keys,
                sites: &assignment.sites,
                token_prefix: &prefix,
                token_hash: &hash,
                invited_by: session.actor.staff_id,
                expires_at: now + Duration::days(INVITATION_DAYS),
            },
            now,
        )?;
        tx.audit()
            .target(email.clone())
            .details(json!({"invitation": id, "access": assignment_json(&assignment)}))
            .write()?;
        let invitation = store::invitations::get(&tx, id)?.ok_or_else(|| AppError::internal("invitation vanished"))?;
        let text = invitation_text(&tx, &invitation, &session.actor.email, &team.name, &secret)?;
        tx.commit()?;
        Ok(CreatedInvitation { invitation, token: secret, text })
    }

    /// The invitations of the active team (needs `staff.view`).
    pub fn invite_list(&self, session: &Session) -> AppResult<Vec<InvitationView>> {
        let rd = self.read(session, &uc::INVITE_LIST, At::Team)?;
        let now = rd.ctx.now;
        Ok(store::invitations::list(&rd, rd.ctx.team.id)?
            .into_iter()
            .map(|mut i| {
                let can_resend = i.state == "pending" && now - i.sent_at > Duration::days(RESEND_AFTER_DAYS);
                i.state = invitation_state(&i, now);
                InvitationView { invitation: i, can_resend }
            })
            .collect())
    }

    /// Accepts an invitation with its token: creates the account with `password` (or, for an
    /// existing account, checks its password under the sign-in's lockout and refuses a
    /// disabled account), gives the invited roles and sites (if the inviter still holds
    /// them) and signs the person in to the team.
    pub fn invite_accept(&mut self, token: &str, display_name: &str, password: &str) -> AppResult<Session> {
        let tx = self.write_public(&uc::INVITE_ACCEPT)?;
        let now = tx.now;
        let inv = match invitation_by_token(&tx, token)? {
            Ok(inv) => inv,
            Err(e) => {
                tx.commit()?;
                return Err(e);
            }
        };
        let existing = store::staff::by_email(&tx, &inv.email)?;
        // An existing account proves itself exactly as at sign-in: lockout counted in this
        // transaction, a disabled or locked account refused, one argon2 verification.
        let tx = match &existing {
            Some(_) => {
                let attempt = super::auth::Attempt { action: uc::INVITE_ACCEPT.name, team_id: Some(inv.team_id) };
                super::auth::verify_account_password(tx, &inv.email, password, attempt, now)?.0
            }
            None => {
                super::auth::check_password(password)?;
                tx
            }
        };
        let name =
            if display_name.trim().is_empty() { inv.display_name.clone() } else { display_name.trim().to_string() };
        let name = if name.is_empty() { inv.email.clone() } else { name };
        let name =
            residentdesk_domain::rules::validate_text("name", &name, true, residentdesk_domain::rules::MAX_NAME_LEN)?;
        let hash = if existing.is_none() { Some(hash_secret(password)?) } else { None };
        let assignment = invitation_assignment(&tx, &inv)?;
        // The inviter must still hold what the invitation gives.
        let inviter = build_session(&tx, inv.invited_by, Some(inv.team_id))?;
        if let Err(r) = grant::check(grantor(&inviter), None, Some(&assignment)) {
            let details = json!({"reason": r.message(), "invitation": inv.id});
            audit_refusal(&tx, None, &inv.email, "denied", Some(inv.team_id), Some(&inv.email), details)?;
            tx.commit()?;
            return Err(AppError::denied(format!(
                "denied: the inviter no longer holds what the invitation gives ({})",
                r.message()
            )));
        }
        if !store::invitations::decide(&tx, inv.id, "accepted", "invitee", now)? {
            return Err(AppError::invalid("the invitation is no longer pending"));
        }
        let staff_id = match &existing {
            Some(s) => s.id,
            None => store::staff::insert(&tx, &inv.email, &name, hash.as_deref(), false, now)?,
        };
        if store::staff::level_in_team(&tx, staff_id, inv.team_id)?.is_some() {
            return Err(AppError::invalid_field("email", format!("{} is already a member of the team", inv.email)));
        }
        write_assignment(&tx, staff_id, inv.team_id, &assignment, Some(inv.invited_by), now)?;
        store::staff::set_active_team(&tx, staff_id, inv.team_id)?;
        tx.audit(Some(staff_id), &inv.email)
            .team(Some(inv.team_id))
            .target(inv.email.clone())
            .details(json!({"invitation": inv.id, "access": assignment_json(&assignment)}))
            .write()?;
        tx.commit()?;
        build_session(self.conn(), staff_id, Some(inv.team_id))
    }

    /// Declines an invitation from the invitee's side, with its token.
    pub fn invite_reject_token(&mut self, token: &str) -> AppResult<Invitation> {
        let tx = self.write_public(&uc::INVITE_DECLINE)?;
        let now = tx.now;
        let inv = match invitation_by_token(&tx, token)? {
            Ok(inv) => inv,
            Err(e) => {
                tx.commit()?;
                return Err(e);
            }
        };
        store::invitations::decide(&tx, inv.id, "rejected", "invitee", now)?;
        tx.audit(None, &inv.email)
            .team(Some(inv.team_id))
            .target(inv.email.clone())
            .details(json!({"invitation": inv.id, "side": "invitee"}))
            .write()?;
        let after = store::invitations::get(&tx, inv.id)?.unwrap_or(inv);
        tx.commit()?;
        Ok(after)
    }

    /// Withdraws (rejects) a pending invitation from the team's side: needs `staff.add`, and
    /// only someone who could have created it (grant only what you hold, against its roles
    /// and sites) may touch it.
    pub fn invite_reject(&mut self, session: &Session, id: i64) -> AppResult<Invitation> {
        let tx = self.write(session, &uc::INVITE_WITHDRAW, At::Team)?;
        let (now, session) = (tx.ctx.now, &tx.ctx.session);
        let inv = team_invitation(&tx, &tx.ctx, id)?;
        if !store::invitations::decide(&tx, inv.id, "rejected", &session.actor.email, now)? {
            return Err(AppError::invalid(format!("invitation #{id} is {}, not pending", inv.state)));
        }
        tx.audit().target(inv.email.clone()).details(json!({"invitation": inv.id, "side": "team"})).write()?;
        let after = store::invitations::get(&tx, inv.id)?.unwrap_or(inv);
        tx.commit()?;
        Ok(after)
    }

    /// Resends a pending invitation that has waited more than 2 days: a new token (the old
    /// one stops working) and a new expiry. Needs `staff.add` and the right to create this
    /// very invitation (its roles and sites), so the code can only reach someone the person
    /// could have invited themselves.
    pub fn invite_resend(&mut self, session: &Session, id: i64) -> AppResult<CreatedInvitation> {
        let (secret, prefix) = new_secret("rdi");
        let hash = hash_secret(&secret)?;
        let tx = self.write(session, &uc::INVITE_RESEND, At::Team)?;
        let (team, now, session) = (tx.ctx.team.clone(), tx.ctx.now, &tx.ctx.session);
        let inv = team_invitation(&tx, &tx.ctx, id)?;
        if inv.state != "pending" {
            return Err(AppError::invalid(format!("invitation #{id} is {}, not pending", inv.state)));
        }
        if now - inv.sent_at <= Duration::days(RESEND_AFTER_DAYS) {
            return Err(AppError::invalid(format!(
                "invitation #{id} was sent at {}; it can be resent once it has been pending for more than {RESEND_AFTER_DAYS} days",
                inv.sent_at.format("%Y-%m-%d %H:%M UTC")
            )));
        }
        store::invitations::renew(&tx, inv.id, &prefix, &hash, now, now + Duration::days(INVITATION_DAYS))?;
        tx.audit().target(inv.email.clone()).details(json!({"invitation": inv.id})).write()?;
        let invitation =
            store::invitations::get(&tx, inv.id)?.ok_or_else(|| AppError::internal("invitation vanished"))?;
        let text = invitation_text(&tx, &invitation, &session.actor.email, &team.name, &secret)?;
        tx.commit()?;
        Ok(CreatedInvitation { invitation, token: secret, text })
    }
}

/// An invitation of the active team that the session could have created: the same
/// grant-only-what-you-hold check as [`App::invite_create`] against its base role, add-on
/// roles and sites (a denial is audited).
fn team_invitation(tx: &rusqlite::Transaction<'_>, ctx: &super::gate::Ctx, id: i64) -> AppResult<Invitation> {
    let inv = store::invitations::get(tx, id)?
        .filter(|i| i.team_id == ctx.team.id)
        .ok_or_else(|| AppError::not_found(format!("no invitation #{id} in your active team")))?;
    let assignment = invitation_assignment(tx, &inv)?;
    super::staff::check_manage(tx, ctx.now, &ctx.session, None, Some(&assignment), ctx.uc)?;
    Ok(inv)
}

/// Finds a pending, unexpired invitation by its token, inside the public use case's
/// transaction. An expired one is marked expired; every refused use is audited there (the
/// caller commits before returning the refusal, the inner `Err`).
fn invitation_by_token(tx: &super::gate::PublicRun<'_>, token: &str) -> AppResult<AppResult<Invitation>> {
    let now = tx.now;
    let failure = |m: &str| AppError::new(ErrorCode::Unauthenticated, m.to_string());
    let found = secret_prefix("rdi", token)
        .map(|p| store::invitations::by_prefix(tx, &p))
        .transpose()?
        .flatten()
        .filter(|i| verify_secret(token.trim(), &i.token_hash));
    let Some(inv) = found else {
        audit_refusal(tx, None, "invitee", "failed", None, None, json!({"reason": "unknown invitation token"}))?;
        return Ok(Err(failure("unknown invitation token")));
    };
    let reason = if inv.state != "pending" {
        Some(format!("the invitation was already {}", inv.state))
    } else if inv.expires_at <= now {
        store::invitations::decide(tx, inv.id, "expired", "system", now)?;
        Some(format!("the invitation expired on {}", inv.expires_at.format("%Y-%m-%d %H:%M UTC")))
    } else {
        None
    };
    if let Some(reason) = reason {
        let details = json!({"reason": reason, "invitation": inv.id});
        audit_refusal(tx, None, &inv.email, "denied", Some(inv.team_id), Some(&inv.email), details)?;
        return Ok(Err(AppError::denied(format!("denied: {reason}"))));
    }
    Ok(Ok(inv))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_a_lookup_prefix() {
        let (secret, prefix) = new_secret("rdt");
        assert_eq!(secret_prefix("rdt", &secret), Some(prefix.clone()));
        assert_eq!(prefix.len(), 8);
        assert_eq!(secret_prefix("rdi", &secret), None);
        assert_eq!(secret_prefix("rdt", "rdt_short"), None);
        assert_ne!(new_secret("rdt").0, secret);
    }
}
