//! Preconditions and refusals: how a use case checks a permission (audited, or quietly for the
//! UI), how a refused grant becomes an error and an audited denial, and the gates the desktop
//! shows beside its access-management actions.

use crate::access::grant::Refusal;
use crate::access::{evaluate, Decision, Need, Target};
use crate::app::gate::record_denial;
use crate::app::usecases::{self as uc, UseCase};
use crate::app::{active_team, team_ref, Session};
use crate::error::{AppError, AppResult, ErrorCode, ErrorDetails};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Writes an audit entry of a failed or refused public use case (sign-in with a token, an
/// invitation code) in that use case's own transaction.
#[allow(clippy::too_many_arguments)]
pub(super) fn audit_refusal(
    run: &crate::app::gate::PublicRun<'_>,
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
            let text = reason.to_string();
            record_denial(conn, now, session, action, team_id, None, target, json!({"reason": text, "token": token}));
            AppError::refused(reason)
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
                    let details = json!({ "reason": reason.to_string(), "need": format!("{need:?}"), "token": token });
                    record_denial(conn, now, session, action, team_id, site_id, &name, details);
                    Err(AppError::refused(reason))
                }
            },
            Check::Quiet => match evaluate(&session.actor, &session.grants, need, target) {
                Decision::Allow { .. } => Ok(()),
                Decision::Deny { reason } => Err(AppError::refused(reason)),
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
            (Check::Quiet, Refusal::Denied(reason)) => AppError::refused(reason),
        }
    }
}

/// Whether an action is allowed, and the core's reason when it is not: what the desktop shows
/// beside a disabled button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Gate {
    pub allowed: bool,
    /// Empty when allowed; otherwise the core's message ("denied: ...") in English.
    pub reason: String,
    /// The refusal's code and parameters (the error's details), for the UI to say it in the
    /// person's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub details: Option<ErrorDetails>,
}

impl Gate {
    /// The gate of a quiet check: an `Err` becomes its message. Database errors stay errors.
    pub(crate) fn of(result: AppResult<()>) -> AppResult<Gate> {
        match result {
            Ok(()) => Ok(Gate { allowed: true, reason: String::new(), details: None }),
            Err(e) if matches!(e.code, ErrorCode::PermissionDenied | ErrorCode::InvalidInput) => {
                Ok(Gate { allowed: false, reason: e.message, details: e.details.map(|d| *d) })
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
    /// See [`Gate::details`].
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub details: Option<ErrorDetails>,
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
    /// Give the member a temporary password (`staff_reset_password`).
    pub reset_password: Gate,
}
