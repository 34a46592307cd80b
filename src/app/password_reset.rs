//! Password reset, offline (issue #18): someone who may manage a member gives them a one-time
//! temporary password (`staff.reset_password`), shown once and valid for 24 hours. The old
//! password stops working at once and a lockout is lifted. Signing in with the temporary
//! password asks for a new one first ([`App::sign_in_with_new_password`]); an expired one
//! is refused with who can help. Everything is audited.
//!
//! Who may reset whom is the gate of managing that member (`staff.edit` at the team, and at
//! the member's sites or `team.members` for a Team-level member, grant-only-what-you-hold);
//! the owner's password is the owner's alone to reset, or a Team administrator could take
//! the ownership over by resetting it.

use super::access::{check_manage_with, find_member, load_assignment, refuse, Check};
use super::gate::At;
use super::usecases as uc;
use super::{active_team, App, Session};
use crate::access::grant::{Current, Refusal};
use crate::access::Denial;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::staff::Member;
use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use serde::Serialize;
use serde_json::json;

/// How long a temporary password signs in.
pub const TEMPORARY_PASSWORD_HOURS: i64 = 24;

/// A temporary password, shown once to the person who reset it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TemporaryPassword {
    pub email: String,
    pub password: String,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub expires_at: DateTime<Utc>,
}

/// Four groups of four characters without look-alikes (no 0/O, 1/l/I): about 92 bits,
/// easy to read out over the phone.
fn temporary_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let group = |rng: &mut rand::rngs::ThreadRng| -> String {
        (0..4).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
    };
    (0..4).map(|_| group(&mut rng)).collect::<Vec<_>>().join("-")
}

/// Whether `session` may reset `member`'s password: the one check the use case applies and
/// the Staff screen shows beforehand (quiet, auditing nothing).
pub(crate) fn reset_check(conn: &Connection, session: &Session, member: &Member, how: Check<'_>) -> AppResult<()> {
    let team = active_team(conn, session)?;
    if member.staff.is_owner && member.staff.id != session.actor.staff_id {
        let reason = Denial::OwnerOnly { use_case: uc::STAFF_RESET_PASSWORD.name.into() };
        return Err(match how {
            Check::Audited(now, action) => {
                refuse(conn, now, session, action, Some(team.id), &member.staff.email, Refusal::Denied(reason))
            }
            Check::Quiet => AppError::refused(reason),
        });
    }
    let assignment =
        load_assignment(conn, member.staff.id, team.id)?.ok_or_else(|| AppError::internal("membership vanished"))?;
    let current = Current { staff_id: member.staff.id, is_owner: member.staff.is_owner, assignment: &assignment };
    check_manage_with(conn, session, Some(current), Some(&assignment), &uc::STAFF_RESET_PASSWORD, how)
}

impl App {
    /// `staff.reset_password`: a one-time temporary password for the member `email` of the
    /// active team (valid [`TEMPORARY_PASSWORD_HOURS`] hours).
    pub fn staff_reset_password(&mut self, session: &Session, email: &str) -> AppResult<TemporaryPassword> {
        let password = temporary_password();
        let hash = super::auth::hash_secret(&password)?;
        let tx = self.write(session, &uc::STAFF_RESET_PASSWORD, At::Team)?;
        let (team, now, session) = (tx.ctx.team.clone(), tx.ctx.now, &tx.ctx.session);
        let member = find_member(&tx, team.id, email)?;
        reset_check(&tx, session, &member, Check::Audited(now, uc::STAFF_RESET_PASSWORD.name))?;
        let expires_at = now + Duration::hours(TEMPORARY_PASSWORD_HOURS);
        store::staff::set_temporary_password(&tx, member.staff.id, &hash, expires_at)?;
        tx.audit().target(member.staff.email.clone()).details(json!({"expires_at": expires_at})).write()?;
        tx.commit()?;
        Ok(TemporaryPassword { email: member.staff.email, password, expires_at })
    }
}
