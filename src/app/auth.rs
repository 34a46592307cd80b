//! Sign-in with local staff accounts: argon2id hashes (OWASP parameters), constant-time
//! verification, lockout after 5 failures for 15 minutes, every attempt audited; and
//! `init`, which creates the first Team administrator (the owner).
//!
//! One gate (issue #12): [`verify_account_password`] decides every password attempt inside
//! one immediate transaction (the failure count and the lock are read where the failure is
//! written, so parallel processes get no extra tries), does one argon2 verification whatever
//! the account (unknown, locked, disabled or not) and answers "wrong email or password" to
//! every refusal but the lock; only the audit log keeps the reason.
//!
//! The lock notice (issue #18) says until when the email is locked and who can help, without
//! telling whether an account exists: the lock is a property of the **email typed**, decided
//! identically for every email. Each wrong attempt counts — for an account on its staff row,
//! for an email without one (or a disabled account, whose password never opens it) in the
//! `sign_in_throttle` table with the same rule — and the fifth in a row locks the email for
//! 15 minutes. That fifth attempt and every attempt with the email during the lock answer
//! `sign_in_locked` with `until`; the others keep "wrong email or password". So five tries
//! with a made-up email give the same answers, at the same attempts, as five with a real one.
//! A right password resets an account's count (only someone who knows it can see that), and
//! a Team administrator's password reset lifts the lock.

use super::gate::PublicRun;
use super::usecases as uc;
use super::{session_for, App, Session};
use crate::access::Level;
use crate::error::{AppError, AppResult, ErrorCode, ErrorDetails, ErrorReason};
use crate::store::{self, audit::NewAudit, staff::Staff};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};
use residentdesk_domain::rules;
use serde_json::json;

pub const MAX_FAILURES: i64 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;
pub const MIN_PASSWORD_LEN: usize = 10;

/// argon2id memory (KiB), passes and lanes of new password hashes: the last of OWASP's five
/// equivalent sets (7 MiB, 5 passes; the first is 46 MiB, 1 pass; all "provide an equal level
/// of defense", trading memory for passes). The least memory matters here: a CLI command
/// derives the database key (19 MiB, [`crate::store::key`]) before the database opens and
/// verifies the password after, on top of everything the open holds, so the sign-in's
/// memory sets the peak of every signed-in command (issue #17: an export under 30 MB).
/// Hashes made with other parameters still verify (argon2 reads them from the hash) and are
/// rewritten with these at their next successful sign-in ([`needs_rehash`]).
const HASH_MEMORY_KIB: u32 = 7 * 1024;
const HASH_PASSES: u32 = 5;
const HASH_LANES: u32 = 1;

/// The parameters new hashes get.
fn hash_params() -> Params {
    Params::new(HASH_MEMORY_KIB, HASH_PASSES, HASH_LANES, None).expect("valid argon2 parameters")
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, hash_params())
}

/// Whether a stored hash was made with other parameters (or algorithm) than new hashes get:
/// an older version's hash, rewritten once its password has been verified.
fn needs_rehash(phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else { return false };
    let current = hash_params();
    hash.algorithm != Algorithm::Argon2id.ident()
        || Params::try_from(&hash).map_or(true, |p| {
            (p.m_cost(), p.t_cost(), p.p_cost()) != (current.m_cost(), current.t_cost(), current.p_cost())
        })
}

/// Hashes a secret into a PHC string.
pub fn hash_secret(secret: &str) -> AppResult<String> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| AppError::internal(format!("cannot make salt: {e}")))?;
    argon2()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("cannot hash password: {e}")))
}

/// Verifies a secret against a PHC string (constant-time comparison inside argon2).
pub fn verify_secret(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        count_verification();
        argon2().verify_password(secret.as_bytes(), &h).is_ok()
    })
}

/// The hash verified against when an account has no password to check (unknown email, or
/// no password set), so that the answer costs one argon2 verification like any other. A
/// constant with [`argon2`]'s parameters (a unit test keeps them equal), of a random
/// password nobody knows, never a match (the caller also requires a real hash): computing
/// it at first use would make an unknown email cost a hash more in every new CLI process.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=7168,t=5,p=1$c9O73fooe9LPbgSNqs0sNA$3oXsjdIeGcIvGkK/h9c4BfMOjhMOL6ALbChyQzOfbxs";

#[cfg(feature = "test-clock")]
thread_local! {
    /// argon2 verifications done on this thread (tests run one per thread).
    static VERIFICATIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn count_verification() {
    #[cfg(feature = "test-clock")]
    VERIFICATIONS.with(|v| v.set(v.get() + 1));
}

/// How many argon2 verifications this thread has done: what lets the tests check that every
/// sign-in answer (unknown, locked, disabled, wrong password) costs the same work, without
/// timing anything. Test builds only (`test-clock`).
#[cfg(feature = "test-clock")]
pub fn argon2_verifications_on_this_thread() -> u64 {
    VERIFICATIONS.with(std::cell::Cell::get)
}

/// How a password attempt is audited: the use case's action (`sign_in`, or
/// `invitation.accept` when an invitation is accepted with an existing account) and team.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt<'a> {
    pub action: &'a str,
    pub team_id: Option<i64>,
}

impl Attempt<'static> {
    pub(crate) const SIGN_IN: Attempt<'static> = Attempt { action: "sign_in", team_id: None };
}

/// Checks the password of the account `email` (normalised) inside the use case's immediate
/// transaction `tx`, which it takes over:
///
/// - right password, account neither locked nor disabled: the failure count is reset and
///   the transaction is handed back with the account, for the caller to go on, audit its
///   own success and commit;
/// - any refusal (unknown account, locked, disabled, wrong password): the failure count and
///   lock, if any, and one audit entry with the reason are written and **committed here**,
///   then the caller gets `unauthenticated` "wrong email or password" — the same answer for
///   every reason, so that neither the message nor the work done tells whether the account
///   exists — or, on the attempt that locks the email and during its lock, `sign_in_locked`
///   with `until`, decided alike for emails with and without an account (see the module
///   documentation). A right password on a locked account is refused too.
///
/// Taking the transaction by value is the point: a refusal returns an error, and a caller
/// that propagated it with `?` would otherwise drop (roll back) the failure it records.
/// Call it before the use case's own writes, which a refusal would commit with it.
pub(crate) fn verify_account_password<'c>(
    tx: PublicRun<'c>,
    email: &str,
    password: &str,
    attempt: Attempt<'_>,
    now: DateTime<Utc>,
) -> AppResult<(PublicRun<'c>, Staff)> {
    // Read in the writing transaction: a parallel attempt waits for this one's verdict.
    let staff = store::staff::by_email(&tx, email)?;
    let real_hash = staff.as_ref().and_then(|s| s.password_hash.as_deref());
    // One verification in every case: the dummy hash stands in for a missing one.
    let matches = verify_secret(password, real_hash.unwrap_or(DUMMY_HASH)) && real_hash.is_some();
    let audit = |outcome: &str, actor_id: Option<i64>, details: serde_json::Value| {
        let entry = NewAudit {
            actor_id,
            actor: email,
            action: attempt.action,
            outcome,
            team_id: attempt.team_id,
            site_id: None,
            target: None,
            details: details.into(),
        };
        store::audit::append(&tx, &entry, now).map(|_| ())
    };
    // The count and the lock of this email: on the account's row, or (no account) in the
    // throttle table, kept alike so that every email is locked, and told so, the same way.
    let (failures_before, locked_until) = match &staff {
        Some(s) => (s.failed_attempts, s.locked_until),
        None => store::sign_in_throttle::get(&tx, email)?,
    };
    if let Some(until) = locked_until.filter(|until| *until > now) {
        // Not counted: the lock runs its 15 minutes from the fifth failure.
        let reason = if staff.is_some() { "locked" } else { "unknown account, locked" };
        audit("denied", staff.as_ref().map(|s| s.id), json!({"reason": reason, "locked_until": until}))?;
        tx.commit()?;
        return Err(locked(email, until));
    }
    let reason = match &staff {
        Some(s) if !s.disabled && matches => {
            if s.failed_attempts != 0 || s.locked_until.is_some() {
                store::staff::reset_failures(&tx, s.id)?;
            }
            // The one moment the password is known: an older hash gets today's parameters.
            if real_hash.is_some_and(needs_rehash) {
                store::staff::replace_password_hash(&tx, s.id, &hash_secret(password)?)?;
            }
            let s = s.clone();
            return Ok((tx, s));
        }
        Some(s) if s.disabled => "disabled",
        Some(_) => "wrong password",
        None => "unknown account",
    };
    // An expired lock starts the count afresh.
    let failures = if locked_until.is_some() { 1 } else { failures_before + 1 };
    let lock = (failures >= MAX_FAILURES).then(|| now + Duration::minutes(LOCKOUT_MINUTES));
    match &staff {
        Some(s) => store::staff::set_failures(&tx, s.id, failures, lock)?,
        None => store::sign_in_throttle::set(&tx, email, failures, lock)?,
    }
    let outcome = if reason == "disabled" { "denied" } else { "failed" };
    audit(
        outcome,
        staff.as_ref().map(|s| s.id),
        json!({"reason": reason, "failures": failures, "locked": lock.is_some(), "locked_until": lock}),
    )?;
    tx.commit()?;
    Err(match lock {
        Some(until) => locked(email, until),
        None => AppError::new(ErrorCode::Unauthenticated, "wrong email or password"),
    })
}

/// The answer to the attempt that locks `email`, and to every attempt during the lock:
/// until when, and who can help (`sign_in_locked`, with `until`).
fn locked(email: &str, until: DateTime<Utc>) -> AppError {
    AppError::new(
        ErrorCode::Unauthenticated,
        format!(
            "too many wrong passwords for {email}: signing in with it is blocked until {}; try again then, or ask a \
             Team administrator to reset your password",
            until.format("%Y-%m-%d %H:%M UTC")
        ),
    )
    .with_details(ErrorDetails { until: Some(until), ..ErrorDetails::reason(ErrorReason::SignInLocked) })
}

/// Checks a new password's strength.
pub fn check_password(password: &str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::invalid_field(
            "password",
            format!("password must have at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(AppError::invalid_field("password", "password contains control characters"));
    }
    Ok(())
}

impl App {
    /// Creates the first Team administrator (the owner) and their team. Refused once any
    /// staff account exists.
    pub fn init(&mut self, admin_email: &str, password: &str, team_name: &str) -> AppResult<Session> {
        let email =
            rules::normalize_email(admin_email).map_err(|e| AppError::invalid_field("admin-email", e.to_string()))?;
        check_password(password)?;
        let team_name = rules::validate_text("team", team_name, true, rules::MAX_NAME_LEN)?;
        let hash = hash_secret(password)?;
        let tx = self.write_public(&uc::INIT)?;
        let now = tx.now;
        if store::staff::count(&tx)? > 0 {
            return Err(AppError::invalid("the database is already initialised: it has staff accounts"));
        }
        let team_id = store::teams::insert(&tx, &team_name, None)?;
        let staff_id = store::staff::insert(&tx, &email, "Administrator", Some(&hash), true, now)?;
        store::staff::set_membership(&tx, staff_id, team_id, Level::TeamAdmin.as_str())?;
        store::staff::set_active_team(&tx, staff_id, team_id)?;
        tx.audit(None, "system")
            .team(Some(team_id))
            .target(email.clone())
            .details(json!({"team": team_name}))
            .write()?;
        tx.commit()?;
        let session = session_for(self.conn(), staff_id)?;
        self.session_begins(&session);
        Ok(session)
    }

    /// Signs a person in. Five failures in a row lock the account for 15 minutes; every
    /// refusal says "wrong email or password" (see [`verify_account_password`]). It is also
    /// how an idle-locked session opens again: the same person's password makes their
    /// session live from now (see [`super::idle`]).
    pub fn sign_in(&mut self, email: &str, password: &str) -> AppResult<Session> {
        self.sign_in_with_new_password(email, password, None)
    }

    /// [`App::sign_in`] that also sets a new password: required when the password is a
    /// temporary one from a reset (refused with `password_change_required` without it; an
    /// expired one with `password_expired`), otherwise a change of one's own password. The
    /// new password replaces the old one at once; audited with the sign-in.
    pub fn sign_in_with_new_password(
        &mut self,
        email: &str,
        password: &str,
        new_password: Option<&str>,
    ) -> AppResult<Session> {
        let now = self.now();
        let email = email.trim().to_ascii_lowercase();
        // Checked and hashed before the transaction: argon2 is slow, and the check says
        // nothing about the account.
        if let Some(new) = new_password {
            check_password(new)?;
            if new == password {
                return Err(AppError::invalid_field(
                    "new-password",
                    "the new password must differ from the current one",
                ));
            }
        }
        let new_hash = new_password.map(hash_secret).transpose()?;
        let tx = self.write_public(&uc::SIGN_IN)?;
        let (tx, staff) = verify_account_password(tx, &email, password, Attempt::SIGN_IN, now)?;
        match (staff.password_temporary_until, &new_hash) {
            (Some(until), _) if until <= now => {
                tx.audit(Some(staff.id), &email)
                    .outcome("denied")
                    .details(json!({"reason": "temporary password expired", "expired_at": until}))
                    .write()?;
                tx.commit()?;
                return Err(AppError::new(
                    ErrorCode::Unauthenticated,
                    format!(
                        "this temporary password expired at {}; ask a Team administrator (or whoever manages your \
                         account) for a new one",
                        until.format("%Y-%m-%d %H:%M UTC")
                    ),
                )
                .with_details(ErrorDetails::reason(ErrorReason::PasswordExpired)));
            }
            (Some(_), None) => {
                return Err(AppError::new(
                    ErrorCode::Unauthenticated,
                    "this is a temporary password: choose a new password to finish signing in",
                )
                .with_details(ErrorDetails::reason(ErrorReason::PasswordChangeRequired)));
            }
            (temporary, Some(hash)) => {
                store::staff::set_password_hash(&tx, staff.id, hash)?;
                tx.audit(Some(staff.id), &email)
                    .details(json!({"password_changed": true, "from_temporary": temporary.is_some()}))
                    .write()?;
            }
            (None, None) => {
                tx.audit(Some(staff.id), &email).details(json!({})).write()?;
            }
        }
        tx.commit()?;
        let session = session_for(self.conn(), staff.id)?;
        self.session_begins(&session);
        Ok(session)
    }

    /// Signs the person of `session` out: their session ends at once in this app (and the
    /// apps sharing its live sessions), a running import or export of theirs included.
    pub fn sign_out(&self, session: &Session) {
        self.live_sessions().end(session.actor.staff_id);
    }

    /// Whether the database has any staff account yet (the first run shows `init`/demo).
    pub fn is_initialised(&self) -> AppResult<bool> {
        Ok(store::staff::count(self.conn())? > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        // argon2 verifies with the parameters written in the hash: the dummy must carry the
        // ones new hashes get, or an unknown email would answer faster (or slower).
        let params = |phc: &str| Params::try_from(&PasswordHash::new(phc).unwrap()).unwrap();
        let real = hash_secret("some-password").unwrap();
        assert_eq!(params(DUMMY_HASH), params(&real));
        assert_eq!(PasswordHash::new(DUMMY_HASH).unwrap().algorithm, PasswordHash::new(&real).unwrap().algorithm);
        assert!(!verify_secret("not-a-real-password", DUMMY_HASH));
        assert!(!needs_rehash(DUMMY_HASH) && !needs_rehash(&real));
    }

    #[test]
    fn an_older_versions_hash_needs_rehashing() {
        let old = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).unwrap())
            .hash_password(b"some-password", &SaltString::encode_b64(b"0123456789abcdef").unwrap())
            .unwrap()
            .to_string();
        assert!(needs_rehash(&old), "{old}");
        assert!(verify_secret("some-password", &old), "an older hash no longer verifies");
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::default())
            .hash_password(b"some-password", &SaltString::encode_b64(b"0123456789abcdef").unwrap())
            .unwrap()
            .to_string();
        assert!(needs_rehash(&argon2i), "{argon2i}");
    }
}
