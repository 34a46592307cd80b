//! Invitations by email with roles and sites: creating one (the same checks as adding the
//! person), listing, resending after 2 days, withdrawing; accepting or declining one with its
//! code. Every step and every refused code is audited.
//!
//! What is sent to the person (issue #18) is a plain letter: who invites them, to which team,
//! as what, at which sites, the invitation code and until when. The desktop writes it in the
//! person's language from [`InvitationLetter`]; [`CreatedInvitation::text`] is the same
//! letter in English for the CLI, which prints its own command line beside it. The code is
//! the one-time token written in groups of four (`rdi-1a2b-…`), easy to read out and paste;
//! accepting takes either form. Refusals carry reason codes (`invitation_*`) with their
//! parameters, so the desktop says them in the person's language too.

use super::assign::{new_member_assignment, AssignmentRequest};
use super::gates::audit_refusal;
use super::grants::{assignment_json, grantor, write_assignment};
use super::manage::check_manage;
use super::session::{build_session, load_role};
use super::tokens::{new_secret, secret_prefix};
use crate::access::grant::{self, Assignment};
use crate::access::roles::SiteAccess;
use crate::app::auth::{hash_secret, verify_secret};
use crate::app::gate::At;
use crate::app::usecases as uc;
use crate::app::{App, Session};
use crate::error::{AppError, AppResult, ErrorCode, ErrorDetails, ErrorReason};
use crate::store::{self, invitations::Invitation};
use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;

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

/// An invitation with its one-time token (shown once), the letter to send (in English, for
/// the CLI) and what that letter says (for the desktop to write it in the person's language).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CreatedInvitation {
    pub invitation: Invitation,
    pub token: String,
    pub text: String,
    pub letter: InvitationLetter,
}

/// What the letter to a new staff member says.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InvitationLetter {
    /// The invited person's name (may be empty) and email.
    pub name: String,
    pub email: String,
    /// Who invites them (their email) and to which team.
    pub inviter: String,
    pub team: String,
    /// The base role, and the names of the add-on roles.
    pub base: crate::access::Level,
    pub addons: Vec<String>,
    /// Every site of the team (`sites` empty), or the sites named.
    pub all_sites: bool,
    pub sites: Vec<String>,
    /// The invitation code: the token in groups of four.
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// An invitation as listed: `state` reads `expired` once a pending one is past its expiry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InvitationView {
    #[serde(flatten)]
    pub invitation: Invitation,
    pub can_resend: bool,
    /// When a pending invitation may be resent (the core's rule: once it has waited
    /// [`RESEND_AFTER_DAYS`] days); `None` when it is not pending.
    pub resend_from: Option<DateTime<Utc>>,
}

/// The invitation code of a token: `rdi_PREFIX_SECRET` as `rdi-` and groups of four.
pub fn invitation_code(token: &str) -> String {
    let hex: String = token.trim().trim_start_matches("rdi").chars().filter(char::is_ascii_hexdigit).collect();
    let groups: Vec<String> = hex.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    format!("rdi-{}", groups.join("-"))
}

/// The token of an invitation code in either form (the code's groups, any case, spaces and
/// line breaks of a pasted letter ignored); text of neither form is returned trimmed.
pub fn invitation_token(code: &str) -> String {
    let code = code.trim();
    if code.contains('_') {
        return code.to_string();
    }
    let plain: String = code.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    match plain.strip_prefix("rdi") {
        Some(hex) if hex.len() == 48 && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
            format!("rdi_{}_{}", &hex[..8], &hex[8..])
        }
        _ => code.to_string(),
    }
}

/// When a pending invitation sent at `sent_at` may be resent.
fn resend_from(sent_at: DateTime<Utc>) -> DateTime<Utc> {
    sent_at + Duration::days(RESEND_AFTER_DAYS)
}

/// A refusal about an invitation, with its reason code and parameters.
fn refusal(code: ErrorCode, message: String, reason: ErrorReason, details: ErrorDetails) -> AppError {
    AppError::new(code, message).with_details(ErrorDetails { reason: Some(reason), ..details })
}

fn invitation_state(i: &Invitation, now: DateTime<Utc>) -> String {
    if i.state == "pending" && i.expires_at <= now {
        "expired".into()
    } else {
        i.state.clone()
    }
}

fn invitation_letter(
    conn: &Connection,
    i: &Invitation,
    inviter: &str,
    team: &str,
    token: &str,
) -> AppResult<InvitationLetter> {
    let mut addons = Vec::new();
    for k in &i.addons {
        addons.push(load_role(conn, i.team_id, k).map(|r| r.name).unwrap_or_else(|_| k.clone()));
    }
    let (all_sites, sites) = match &i.sites {
        SiteAccess::AllSites => (true, Vec::new()),
        SiteAccess::Listed(ids) => {
            let mut names = Vec::new();
            for id in ids {
                names.push(store::sites::get(conn, *id)?.map(|s| s.name).unwrap_or_else(|| format!("site #{id}")));
            }
            (false, names)
        }
    };
    Ok(InvitationLetter {
        name: i.display_name.clone(),
        email: i.email.clone(),
        inviter: inviter.to_string(),
        team: team.to_string(),
        base: i.base,
        addons,
        all_sites,
        sites,
        code: invitation_code(token),
        expires_at: i.expires_at,
    })
}

/// The letter in English (the CLI's words; the desktop writes its own from the letter).
fn letter_text(l: &InvitationLetter) -> String {
    let hello = if l.name.is_empty() { "Hello,".to_string() } else { format!("Hello {},", l.name) };
    let mut roles = vec![l.base.title().to_string()];
    roles.extend(l.addons.iter().cloned());
    let sites =
        if l.all_sites { "every site of the team (sites added later too)".to_string() } else { l.sites.join(", ") };
    format!(
        "{hello}\n\n{} invites you to join the team {} on ResidentDesk as {}, with access to {sites}.\n\n\
         To accept, open ResidentDesk, choose \"I have an invitation\" on the sign-in screen and enter this code:\n\n    \
         {}\n\nThen choose your password (at least 10 characters). You can also decline the invitation there.\n\n\
         This invitation is for {} only and expires on {} UTC.\n",
        l.inviter,
        l.team,
        roles.join(" + "),
        l.code,
        l.email,
        l.expires_at.format("%Y-%m-%d %H:%M"),
    )
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
        let request = AssignmentRequest {
            level: &new.level,
            job_function: new.job_function.as_deref(),
            roles: &new.roles,
            all_sites: new.all_sites,
            sites: &new.sites,
        };
        let (assignment, _) = new_member_assignment(&tx, now, session, &team, &email, &request, &uc::INVITE_CREATE)?;
        if let Some(p) = store::invitations::list(&tx, team.id)?
            .into_iter()
            .find(|i| i.email == email && invitation_state(i, now) == "pending")
        {
            return Err(refusal(
                ErrorCode::InvalidInput,
                format!("{email} already has a pending invitation (#{}); resend it instead", p.id),
                ErrorReason::InvitationPending,
                ErrorDetails { email: Some(email.clone()), ..ErrorDetails::field("email") },
            ));
        }
        let keys: Vec<String> = assignment.addons.iter().map(|r| r.key.clone()).collect();
        let id = store::invitations::insert(
            &tx,
            &store::invitations::NewInvitation {
                team_id: team.id,
                email: &email,
                display_name: &display_name,
                base: assignment.base,
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
        let letter = invitation_letter(&tx, &invitation, &session.actor.email, &team.name, &secret)?;
        tx.commit()?;
        Ok(CreatedInvitation { invitation, token: secret, text: letter_text(&letter), letter })
    }

    /// The invitations of the active team (needs `staff.view`).
    pub fn invite_list(&self, session: &Session) -> AppResult<Vec<InvitationView>> {
        let rd = self.read(session, &uc::INVITE_LIST, At::Team)?;
        let now = rd.ctx.now;
        Ok(store::invitations::list(&rd, rd.ctx.team.id)?
            .into_iter()
            .map(|mut i| {
                let can_resend = i.state == "pending" && now - i.sent_at > Duration::days(RESEND_AFTER_DAYS);
                let from = (i.state == "pending").then(|| resend_from(i.sent_at));
                i.state = invitation_state(&i, now);
                InvitationView { invitation: i, can_resend, resend_from: from }
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
                let attempt = crate::app::auth::Attempt { action: uc::INVITE_ACCEPT.name, team_id: Some(inv.team_id) };
                crate::app::auth::verify_account_password(tx, &inv.email, password, attempt, now)?.0
            }
            None => {
                crate::app::auth::check_password(password)?;
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
            ))
            .with_details(ErrorDetails::reason(ErrorReason::InvitationInviterLacks)));
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
        let session = build_session(self.conn(), staff_id, Some(inv.team_id))?;
        self.session_begins(&session);
        Ok(session)
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
            return Err(not_pending(id, &inv.state));
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
            return Err(not_pending(id, &inv.state));
        }
        if now - inv.sent_at <= Duration::days(RESEND_AFTER_DAYS) {
            let from = resend_from(inv.sent_at);
            return Err(refusal(
                ErrorCode::InvalidInput,
                format!(
                    "invitation #{id} was sent at {}; it can be resent once it has been pending for more than {RESEND_AFTER_DAYS} days (from {})",
                    inv.sent_at.format("%Y-%m-%d %H:%M UTC"),
                    from.format("%Y-%m-%d %H:%M UTC")
                ),
                ErrorReason::InvitationTooSoon,
                ErrorDetails { until: Some(from), ..Default::default() },
            ));
        }
        store::invitations::renew(&tx, inv.id, &prefix, &hash, now, now + Duration::days(INVITATION_DAYS))?;
        tx.audit().target(inv.email.clone()).details(json!({"invitation": inv.id})).write()?;
        let invitation =
            store::invitations::get(&tx, inv.id)?.ok_or_else(|| AppError::internal("invitation vanished"))?;
        let letter = invitation_letter(&tx, &invitation, &session.actor.email, &team.name, &secret)?;
        tx.commit()?;
        Ok(CreatedInvitation { invitation, token: secret, text: letter_text(&letter), letter })
    }
}

/// The refusal of acting on an invitation that is no longer pending (`state`).
fn not_pending(id: i64, state: &str) -> AppError {
    refusal(
        ErrorCode::InvalidInput,
        format!("invitation #{id} is {state}, not pending"),
        ErrorReason::InvitationNotPending,
        ErrorDetails { state: Some(state.to_string()), ..Default::default() },
    )
}

/// An invitation of the active team that the session could have created: the same
/// grant-only-what-you-hold check as [`App::invite_create`] against its base role, add-on
/// roles and sites (a denial is audited).
fn team_invitation(tx: &rusqlite::Transaction<'_>, ctx: &crate::app::gate::Ctx, id: i64) -> AppResult<Invitation> {
    let inv = store::invitations::get(tx, id)?
        .filter(|i| i.team_id == ctx.team.id)
        .ok_or_else(|| AppError::not_found(format!("no invitation #{id} in your active team")))?;
    let assignment = invitation_assignment(tx, &inv)?;
    check_manage(tx, ctx.now, &ctx.session, None, Some(&assignment), ctx.uc)?;
    Ok(inv)
}

/// Finds a pending, unexpired invitation by its token, inside the public use case's
/// transaction. An expired one is marked expired; every refused use is audited there (the
/// caller commits before returning the refusal, the inner `Err`).
fn invitation_by_token(tx: &crate::app::gate::PublicRun<'_>, token: &str) -> AppResult<AppResult<Invitation>> {
    let now = tx.now;
    let token = &invitation_token(token);
    let found = secret_prefix("rdi", token)
        .map(|p| store::invitations::by_prefix(tx, &p))
        .transpose()?
        .flatten()
        .filter(|i| verify_secret(token.trim(), &i.token_hash));
    let Some(inv) = found else {
        audit_refusal(tx, None, "invitee", "failed", None, None, json!({"reason": "unknown invitation token"}))?;
        return Ok(Err(refusal(
            ErrorCode::Unauthenticated,
            "unknown invitation token".into(),
            ErrorReason::InvitationUnknown,
            ErrorDetails::default(),
        )));
    };
    let reason = if inv.state != "pending" {
        let said = ErrorDetails { state: Some(inv.state.clone()), ..ErrorDetails::reason(ErrorReason::InvitationUsed) };
        Some((format!("the invitation was already {}", inv.state), said))
    } else if inv.expires_at <= now {
        store::invitations::decide(tx, inv.id, "expired", "system", now)?;
        let said = ErrorDetails { until: Some(inv.expires_at), ..ErrorDetails::reason(ErrorReason::InvitationExpired) };
        Some((format!("the invitation expired on {}", inv.expires_at.format("%Y-%m-%d %H:%M UTC")), said))
    } else {
        None
    };
    if let Some((reason, said)) = reason {
        let details = json!({"reason": reason, "invitation": inv.id});
        audit_refusal(tx, None, &inv.email, "denied", Some(inv.team_id), Some(&inv.email), details)?;
        return Ok(Err(AppError::denied(format!("denied: {reason}")).with_details(said)));
    }
    Ok(Ok(inv))
}
