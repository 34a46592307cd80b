//! Sign-in with local staff accounts: argon2id hashes (OWASP parameters), constant-time
//! verification, lockout after 5 failures for 15 minutes, every attempt audited; and
//! `init`, which creates the first Team administrator (the owner).

use super::usecases as uc;
use super::{session_for, App, Session};
use crate::access::Level;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::store::{self, audit::NewAudit};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::Duration;
use residentdesk_domain::rules;
use serde_json::json;
use std::sync::LazyLock;

pub const MAX_FAILURES: i64 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;
pub const MIN_PASSWORD_LEN: usize = 10;

/// argon2id with the OWASP minimum: 19 MiB memory, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
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
    PasswordHash::new(phc).is_ok_and(|h| argon2().verify_password(secret.as_bytes(), &h).is_ok())
}

/// A hash to verify against when the account does not exist, so that an unknown email
/// takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_secret("not-a-real-password").unwrap_or_default());

/// Appends the audit entry of one sign-in attempt (ok, failed or refused).
fn audit_sign_in(
    conn: &rusqlite::Connection,
    actor_id: Option<i64>,
    email: &str,
    outcome: &str,
    details: serde_json::Value,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let entry = NewAudit {
        actor_id,
        actor: email,
        action: "sign_in",
        outcome,
        team_id: None,
        site_id: None,
        target: None,
        details: details.into(),
    };
    store::audit::append(conn, &entry, now)?;
    Ok(())
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
        session_for(self.conn(), staff_id)
    }

    /// Signs a person in. Five failures in a row lock the account for 15 minutes.
    pub fn sign_in(&mut self, email: &str, password: &str) -> AppResult<Session> {
        let now = self.now();
        let email = email.trim().to_ascii_lowercase();
        let failure = |message: String| AppError::new(ErrorCode::Unauthenticated, message);
        let Some(staff) = store::staff::by_email(self.conn(), &email)? else {
            let _ = verify_secret(password, &DUMMY_HASH);
            audit_sign_in(self.conn(), None, &email, "failed", json!({"reason": "unknown account"}), now)?;
            return Err(failure("wrong email or password".into()));
        };
        if let Some(until) = staff.locked_until.filter(|u| *u > now) {
            audit_sign_in(
                self.conn(),
                Some(staff.id),
                &email,
                "denied",
                json!({"reason": "locked", "locked_until": until}),
                now,
            )?;
            let minutes = (until - now).num_minutes() + 1;
            return Err(failure(format!(
                "account locked after {MAX_FAILURES} failed sign-ins; try again in {minutes} minutes"
            ))
            .with_details(json!({ "locked_until": until })));
        }
        if staff.disabled {
            audit_sign_in(self.conn(), Some(staff.id), &email, "denied", json!({"reason": "disabled"}), now)?;
            return Err(failure("this account is disabled".into()));
        }
        let ok = staff.password_hash.as_deref().is_some_and(|h| verify_secret(password, h));
        let tx = self.write_public(&uc::SIGN_IN)?;
        if !ok {
            // Count this failure on top of the previous ones (an expired lock starts afresh).
            let lock_expired = staff.locked_until.is_some();
            if lock_expired {
                store::staff::reset_failures(&tx, staff.id)?;
            }
            let failures = staff.failed_attempts * i64::from(!lock_expired) + 1;
            let lock = (failures >= MAX_FAILURES).then(|| now + Duration::minutes(LOCKOUT_MINUTES));
            store::staff::record_failure(&tx, staff.id, lock)?;
            audit_sign_in(
                &tx,
                Some(staff.id),
                &email,
                "failed",
                json!({"failures": failures, "locked": lock.is_some()}),
                now,
            )?;
            tx.commit()?;
            if lock.is_some() {
                return Err(failure(format!(
                    "wrong email or password; the account is now locked for {LOCKOUT_MINUTES} minutes"
                )));
            }
            return Err(failure("wrong email or password".into()));
        }
        store::staff::reset_failures(&tx, staff.id)?;
        audit_sign_in(&tx, Some(staff.id), &email, "ok", json!({}), now)?;
        tx.commit()?;
        session_for(self.conn(), staff.id)
    }

    /// Whether the database has any staff account yet (the first run shows `init`/demo).
    pub fn is_initialised(&self) -> AppResult<bool> {
        Ok(store::staff::count(self.conn())? > 0)
    }
}
