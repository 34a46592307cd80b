//! Teams and sites: list and switch teams (one active team at a time), list and show sites
//! and their mappings, view and edit site and team settings.

use super::{active_team, audit_ok, authorize, resolve_site, session_for, site_ref, team_ref, App, Session};
use crate::access::{Feature, Level, Target};
use crate::error::{AppError, AppResult};
use crate::store::{self, sites::Mapping, sites::Site, teams::Team};
use residentdesk_domain::rules::{self, SiteType};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A team as listed for a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TeamEntry {
    pub id: i64,
    pub name: String,
    pub level: String,
    pub active: bool,
}

/// A site with its resident count.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteSummary {
    #[serde(flatten)]
    pub site: Site,
    pub residents: i64,
}

/// Team details (Table-1 "view team details").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TeamDetails {
    pub id: i64,
    pub name: String,
    pub sites: i64,
    pub your_level: String,
    pub settings: Value,
}

/// Editable site settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteSettingsPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub site_type: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Free-form settings merged into the stored ones (e.g. `default_ssid`, `notes`).
    #[serde(default)]
    pub settings: Option<serde_json::Map<String, Value>>,
}

fn lower_alnum(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

impl App {
    /// The teams the person belongs to.
    pub fn team_list(&self, session: &Session) -> AppResult<Vec<TeamEntry>> {
        let active = session.actor.team_id();
        Ok(store::teams::for_staff(&self.conn, session.actor.staff_id)?
            .into_iter()
            .map(|(t, level)| TeamEntry { active: Some(t.id) == active, id: t.id, name: t.name, level })
            .collect())
    }

    /// Makes another team the active one, by id, exact name, or a fuzzy name that matches
    /// one team only (an ambiguous name is an error listing the candidates).
    pub fn team_switch(&mut self, session: &Session, reference: &str) -> AppResult<Session> {
        let now = self.now();
        if session.token.is_some() {
            // A token is bound to the team and sites it was created for; switching would hand
            // it the creator's full session.
            return Err(AppError::denied(
                "denied: an API token works only in the team it was created for; sign in as a person to switch teams",
            ));
        }
        let teams = self.team_list(session)?;
        let reference = reference.trim();
        let by_id = reference.parse::<i64>().ok().and_then(|id| teams.iter().find(|t| t.id == id));
        let exact = teams.iter().find(|t| t.name.eq_ignore_ascii_case(reference));
        let chosen = match by_id.or(exact) {
            Some(t) => t.clone(),
            None => {
                let key = lower_alnum(reference);
                let fuzzy: Vec<&TeamEntry> = if key.is_empty() {
                    vec![]
                } else {
                    teams.iter().filter(|t| lower_alnum(&t.name).contains(&key)).collect()
                };
                match fuzzy.as_slice() {
                    [one] => (*one).clone(),
                    [] => {
                        return Err(AppError::not_found(format!(
                            "no team matches {reference:?}; your teams: {}",
                            teams.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
                        )))
                    }
                    many => {
                        let names: Vec<&str> = many.iter().map(|t| t.name.as_str()).collect();
                        return Err(AppError::invalid(format!(
                            "{reference:?} matches several teams: {}; be more precise",
                            names.join(", ")
                        ))
                        .with_details(json!({ "candidates": names })));
                    }
                }
            }
        };
        let tx = self.begin()?;
        store::staff::set_active_team(&tx, session.actor.staff_id, chosen.id)?;
        audit_ok(
            &tx,
            now,
            Some(session),
            "team.switch",
            "ok",
            Some(chosen.id),
            None,
            Some(&chosen.name),
            json!({ "from": session.actor.team_id() }),
        )?;
        tx.commit()?;
        session_for(&self.conn, session.actor.staff_id)
    }

    /// Details of the active team.
    pub fn team_show(&self, session: &Session) -> AppResult<TeamDetails> {
        let team = active_team(&self.conn, session)?;
        authorize(
            &self.conn,
            self.now(),
            session,
            Feature::ViewTeamDetails,
            Target::Team(&team_ref(&team)),
            "team.show",
        )?;
        Ok(TeamDetails {
            id: team.id,
            sites: store::sites::count_in_team(&self.conn, team.id)?,
            your_level: session.level().map(|l| l.as_str().to_string()).unwrap_or_default(),
            name: team.name,
            settings: team.settings,
        })
    }

    /// Renames the active team and edits its settings (Team administrators).
    pub fn team_settings_update(
        &mut self,
        session: &Session,
        name: Option<&str>,
        settings: Option<&serde_json::Map<String, Value>>,
    ) -> AppResult<Team> {
        let now = self.now();
        let tx = self.begin()?;
        let team = active_team(&tx, session)?;
        authorize(&tx, now, session, Feature::EditTeamSettings, Target::Team(&team_ref(&team)), "team.settings")?;
        let new_name = match name {
            Some(n) => rules::validate_text("name", n, true, rules::MAX_NAME_LEN)?,
            None => team.name.clone(),
        };
        let mut merged = team.settings.as_object().cloned().unwrap_or_default();
        if let Some(s) = settings {
            merged.extend(s.clone());
        }
        store::teams::update_settings(&tx, team.id, &new_name, &Value::Object(merged.clone()))?;
        audit_ok(
            &tx,
            now,
            Some(session),
            "team.settings",
            "ok",
            Some(team.id),
            None,
            Some(&new_name),
            json!({"before": {"name": team.name, "settings": team.settings}, "after": {"name": new_name, "settings": merged}}),
        )?;
        let updated = store::teams::get(&tx, team.id)?.ok_or_else(|| AppError::internal("team vanished"))?;
        tx.commit()?;
        Ok(updated)
    }

    /// The sites the person can see: every site of the team for Team users, their member
    /// sites for Staff users.
    pub fn site_list(&self, session: &Session) -> AppResult<Vec<SiteSummary>> {
        let team = active_team(&self.conn, session)?;
        authorize(
            &self.conn,
            self.now(),
            session,
            Feature::ViewTeamDetails,
            Target::Team(&team_ref(&team)),
            "site.list",
        )?;
        let scope = session.actor.scope();
        let mut out = Vec::new();
        for site in store::sites::list(&self.conn, &scope)? {
            let residents = store::residents::count_in_site(&self.conn, site.id)?;
            out.push(SiteSummary { site, residents });
        }
        Ok(out)
    }

    /// One site (Table-1 "view individual sites").
    pub fn site_show(&self, session: &Session, site: &str) -> AppResult<SiteSummary> {
        let site = resolve_site(&self.conn, session, site)?;
        authorize(
            &self.conn,
            self.now(),
            session,
            Feature::ViewIndividualSites,
            Target::Site(&site_ref(&site)),
            "site.show",
        )?;
        let residents = store::residents::count_in_site(&self.conn, site.id)?;
        Ok(SiteSummary { site, residents })
    }

    /// The PAN mappings of a site (the allowed Building/Floor/Unit combinations).
    pub fn site_mappings(&self, session: &Session, site: &str) -> AppResult<Vec<Mapping>> {
        let site = resolve_site(&self.conn, session, site)?;
        authorize(
            &self.conn,
            self.now(),
            session,
            Feature::ViewIndividualSites,
            Target::Site(&site_ref(&site)),
            "site.mappings",
        )?;
        Ok(store::sites::mappings(&self.conn, site.id)?)
    }

    /// The settings of a site (Table-1 "view site settings").
    pub fn site_settings(&self, session: &Session, site: &str) -> AppResult<Site> {
        let site = resolve_site(&self.conn, session, site)?;
        authorize(
            &self.conn,
            self.now(),
            session,
            Feature::ViewSiteSettings,
            Target::Site(&site_ref(&site)),
            "site.settings",
        )?;
        Ok(site)
    }

    /// Edits a site's settings (Table-1 "edit site settings": Team administrators).
    pub fn site_settings_update(
        &mut self,
        session: &Session,
        site: &str,
        patch: &SiteSettingsPatch,
    ) -> AppResult<Site> {
        let now = self.now();
        let tx = self.begin()?;
        let site = resolve_site(&tx, session, site)?;
        authorize(&tx, now, session, Feature::EditSiteSettings, Target::Site(&site_ref(&site)), "site.settings.edit")?;
        let name = match &patch.name {
            Some(n) => rules::validate_text("name", n, true, rules::MAX_NAME_LEN)?,
            None => site.name.clone(),
        };
        let site_type = match &patch.site_type {
            Some(t) => rules::validate_text("site_type", t, true, 32).map(|t| SiteType::parse(&t).to_string())?,
            None => site.site_type.clone(),
        };
        let time_zone = match &patch.time_zone {
            Some(tz) => rules::parse_time_zone("time_zone", tz)?.name().to_string(),
            None => site.time_zone.clone(),
        };
        let mut settings = site.settings.as_object().cloned().unwrap_or_default();
        if let Some(s) = &patch.settings {
            settings.extend(s.clone());
        }
        store::sites::update_settings(&tx, site.id, &name, &site_type, &time_zone, &Value::Object(settings))?;
        let after = store::sites::get(&tx, site.id)?.ok_or_else(|| AppError::internal("site vanished"))?;
        audit_ok(
            &tx,
            now,
            Some(session),
            "site.settings.edit",
            "ok",
            Some(site.team_id),
            Some(site.id),
            Some(&name),
            json!({"before": site, "after": after}),
        )?;
        tx.commit()?;
        Ok(after)
    }

    /// The Team-level members of the active team (Table-1 "view team members").
    pub fn team_members(&self, session: &Session) -> AppResult<Vec<store::staff::Member>> {
        let team = active_team(&self.conn, session)?;
        authorize(
            &self.conn,
            self.now(),
            session,
            Feature::ViewTeamMembers,
            Target::Team(&team_ref(&team)),
            "team.members",
        )?;
        Ok(store::staff::members_of_team(&self.conn, team.id)?
            .into_iter()
            .filter(|m| Level::parse(&m.level).is_some_and(Level::is_team_level))
            .collect())
    }
}
