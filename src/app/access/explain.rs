//! Explain-why and the effective matrix: may someone do something somewhere, with the rule or
//! the reason; every permission with the role it comes from.

use super::gates::refuse;
use super::manage::find_member;
use super::session::build_session;
use crate::access::grant::Refusal;
use crate::access::roles::Permission;
use crate::access::{evaluate, Asked, Denial, Feature, Holder, Level, Need, Place, Target};
use crate::app::gate::At;
use crate::app::usecases::{self as uc, UseCase};
use crate::app::{active_team, resolve_site, team_ref, App, Session};
use crate::error::{AppError, AppResult};
use crate::store;
use serde::Serialize;

/// The answer of `explain`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Explanation {
    pub person: String,
    pub action: String,
    pub target: String,
    pub allowed: bool,
    /// The rule that allowed, or the reason that denied (English: the CLI's and the
    /// desktop's Advanced view).
    pub rule: String,
    pub roles: String,
    /// What was asked and where, and the refusal's code when denied: what the desktop says
    /// in the person's language.
    pub asked: Asked,
    pub place: Place,
    pub holder: Holder,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub denial: Option<Denial>,
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
    /// The refusal's code when not allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub denial: Option<Denial>,
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
    /// The base role and add-on roles by key and name (what the desktop names in words).
    pub holder: Holder,
}

impl App {
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
        let member = find_member(&rd, team.id, email)?;
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
                Refusal::Denied(Denial::ExplainAbove { email: email.to_string() }),
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
        let (decision, where_) = if place_t.is_empty() || place_t.eq_ignore_ascii_case("team") {
            (evaluate(&who.actor, &who.grants, need, Target::Team(&tref)), Place::Team { name: team.name.clone() })
        } else {
            let site = resolve_site(self.conn(), session, place_t)?;
            let sref = crate::app::site_ref(&site);
            (evaluate(&who.actor, &who.grants, need, Target::Site(&sref)), Place::Site { name: site.name })
        };
        Ok(Explanation {
            person: who.actor.email.clone(),
            action: action.trim().to_string(),
            target: where_.to_string(),
            allowed: decision.is_allowed(),
            rule: decision.explanation(),
            roles: who.grants.holder(),
            asked: match need {
                Need::Feature(f) => Asked::Feature(f),
                Need::Permission(p) => Asked::Permission(p),
            },
            place: where_,
            holder: who.grants.holder_of(),
            denial: decision.denial().cloned(),
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
                MatrixFeature {
                    feature: f.as_str().into(),
                    allowed: d.is_allowed(),
                    rule: d.explanation(),
                    denial: d.denial().cloned(),
                }
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
            holder: who.grants.holder_of(),
        })
    }
}
