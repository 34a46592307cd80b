//! API tokens: signing in with one (its creator's current grants cut down to the token's),
//! creating one (a subset of what the creator holds), listing and revoking; the secrets'
//! format shared with invitation codes.

use super::gates::{audit_refusal, refuse};
use super::grants::parse_site_access;
use super::session::token_session;
use crate::access::grant;
use crate::access::roles::{PermSet, Permission};
use crate::app::auth::{hash_secret, verify_secret};
use crate::app::gate::At;
use crate::app::usecases as uc;
use crate::app::{App, Session};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::store::{self, tokens::TokenRow};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::json;

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
        let refused = |tx: crate::app::gate::PublicRun<'_>, message: &str| -> AppResult<Session> {
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
