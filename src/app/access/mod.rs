//! Staff access management: building a session's effective grants from its roles (and API
//! token), roles and job functions, granting and revoking roles and sites ("grant only what
//! you hold"), ownership transfer, API tokens, explain-why and the effective matrix, and
//! invitations. Every grant, revoke, token step and denial is audited.
//!
//! One concern per file: `session` (building and re-reading sessions), `assign` (the
//! assignment a new member is asked to get, for adding and inviting alike), `gates` (how a
//! precondition is checked and a refusal audited), `manage` (the staff-management
//! precondition), `grants` (changing a member's access, ownership), `roles` (roles and job
//! functions), `explain` (explain-why, the effective matrix), `tokens` (API tokens) and
//! `invitations`. Staff management (`app::staff`) builds on these; nothing here depends on it.

mod assign;
mod explain;
mod gates;
mod grants;
mod invitations;
mod manage;
mod roles;
mod session;
mod tokens;

pub use crate::access::session::TokenInfo;
pub use explain::{Explanation, Matrix, MatrixFeature, MatrixRow};
pub use gates::{AccessAction, ActionGate, Gate, MemberActions};
pub use grants::AccessChange;
pub use invitations::{
    invitation_code, invitation_token, CreatedInvitation, InvitationLetter, InvitationView, NewInvitation,
    INVITATION_DAYS, RESEND_AFTER_DAYS,
};
pub use roles::{JobFunctionView, NewRole, RoleView};
pub use tokens::{CreatedToken, NewToken};

pub(crate) use assign::{new_member_assignment, parse_level, AssignmentRequest};
pub(crate) use gates::{refuse, Check};
pub(crate) use grants::{assignment_json, change_check, write_assignment};
pub(crate) use manage::{check_manage, check_manage_with, find_member};
pub(crate) use session::{build_session, load_assignment, rebuild_session};
