//! Teams and sites: list and switch teams (one active team at a time), list and show sites
//! and their mappings, view and edit site and team settings.

use super::gate::At;
use super::usecases as uc;
use super::{session_for, App, Session};
use crate::access::Level;
use crate::error::{AppError, AppResult, ErrorDetails, ErrorReason};
use crate::store::{self, sites::Mapping, sites::Site, teams::Team};
use residentdesk_domain::dates;
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

/// Today at a site: the calendar day and wall-clock time in the site's time zone, on the
/// app's clock. What a form's default dates are ("today" is the site's day, never the UTC
/// date or the desk's).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteToday {
    pub site_id: i64,
    pub site_name: String,
    /// The site's IANA zone (`America/Los_Angeles`).
    pub time_zone: String,
    /// `YYYY-MM-DD` at the site.
    pub today: String,
    /// `HH:MM` at the site.
    pub time: String,
    /// The zone's offset from UTC now, `-08:00`.
    pub utc_offset: String,
    /// The zone's abbreviation now (`PST`, or an offset such as `+13` where the zone has none).
    pub abbreviation: String,
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
        let rd = self.read(session, &uc::TEAM_LIST, At::Team)?;
        let active = rd.ctx.session.actor.team_id();
        Ok(store::teams::for_staff(&rd, rd.ctx.session.actor.staff_id)?
            .into_iter()
            .filter(|(t, _)| rd.ctx.session.token.is_none() || Some(t.id) == active)
            .map(|(t, level)| TeamEntry { active: Some(t.id) == active, id: t.id, name: t.name, level })
            .collect())
    }

    /// Makes another team the active one, by id, exact name, or a fuzzy name that matches
    /// one team only (an ambiguous name is an error listing the candidates).
    pub fn team_switch(&mut self, session: &Session, reference: &str) -> AppResult<Session> {
        // A token is bound to the team and sites it was created for (switching would hand it
        // the creator's full session): the gate refuses it (`team.switch` is for people only).
        self.read(session, &uc::TEAM_SWITCH, At::Team)?;
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
                        .with_details(ErrorDetails {
                            candidates: names.into_iter().map(str::to_string).collect(),
                            ..ErrorDetails::reason(ErrorReason::Ambiguous)
                        }));
                    }
                }
            }
        };
        // The gate checks `team.view` in the chosen team, with the person's grants there.
        let tx = self.write(session, &uc::TEAM_SWITCH, At::TeamId(chosen.id))?;
        store::staff::set_active_team(&tx, session.actor.staff_id, chosen.id)?;
        tx.audit().details(json!({ "from": session.actor.team_id() })).write()?;
        tx.commit()?;
        session_for(self.conn(), session.actor.staff_id)
    }

    /// Details of the active team.
    pub fn team_show(&self, session: &Session) -> AppResult<TeamDetails> {
        let rd = self.read(session, &uc::TEAM_SHOW, At::Team)?;
        let team = rd.ctx.team.clone();
        Ok(TeamDetails {
            id: team.id,
            sites: store::sites::count_in_team(&rd, team.id)?,
            your_level: rd.ctx.session.level().map(|l| l.as_str().to_string()).unwrap_or_default(),
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
        let tx = self.write(session, &uc::TEAM_SETTINGS, At::Team)?;
        let team = tx.ctx.team.clone();
        let new_name = match name {
            Some(n) => rules::validate_text("name", n, true, rules::MAX_NAME_LEN)?,
            None => team.name.clone(),
        };
        let mut merged = team.settings.as_object().cloned().unwrap_or_default();
        if let Some(s) = settings {
            merged.extend(s.clone());
        }
        // The idle lock has its bounds (`team.idle_lock.set`); this generic edit keeps them.
        if let Some(minutes) = settings.and_then(|s| s.get(super::idle::SETTING)) {
            merged.insert(super::idle::SETTING.into(), json!(super::idle::check_minutes(minutes)?));
        }
        store::teams::update_settings(&tx, team.id, &new_name, &Value::Object(merged.clone()))?;
        tx.audit()
            .target(new_name.clone())
            .before_after(
                json!({"name": team.name, "settings": team.settings}),
                json!({"name": new_name, "settings": merged}),
            )
            .write()?;
        let updated = store::teams::get(&tx, team.id)?.ok_or_else(|| AppError::internal("team vanished"))?;
        tx.commit()?;
        Ok(updated)
    }

    /// The sites the person can see: every site of the team for Team users, their member
    /// sites for Staff users.
    pub fn site_list(&self, session: &Session) -> AppResult<Vec<SiteSummary>> {
        let rd = self.read(session, &uc::SITE_LIST, At::Team)?;
        let mut out = Vec::new();
        for site in rd.ctx.sites_allowed(&rd)? {
            let residents = store::residents::count_in_site(&rd, site.id)?;
            out.push(SiteSummary { site, residents });
        }
        Ok(out)
    }

    /// One site (Table-1 "view individual sites").
    pub fn site_show(&self, session: &Session, site: &str) -> AppResult<SiteSummary> {
        let rd = self.read(session, &uc::SITE_SHOW, At::Site(site))?;
        let site = rd.ctx.site().clone();
        let residents = store::residents::count_in_site(&rd, site.id)?;
        Ok(SiteSummary { site, residents })
    }

    /// Today at a site, in its time zone (`site today SITE`, the resident form's default dates).
    pub fn site_today(&self, session: &Session, site: &str) -> AppResult<SiteToday> {
        let rd = self.read(session, &uc::SITE_TODAY, At::Site(site))?;
        let (site, now) = (rd.ctx.site(), rd.ctx.now);
        let tz = super::residents::site_tz(site);
        let local = now.with_timezone(&tz);
        Ok(SiteToday {
            site_id: site.id,
            site_name: site.name.clone(),
            time_zone: tz.name().to_string(),
            today: dates::day_text(dates::site_today(now, tz)),
            time: local.format("%H:%M").to_string(),
            utc_offset: local.format("%:z").to_string(),
            abbreviation: local.format("%Z").to_string(),
        })
    }

    /// The PAN mappings of a site (the allowed Building/Floor/Unit combinations).
    pub fn site_mappings(&self, session: &Session, site: &str) -> AppResult<Vec<Mapping>> {
        let rd = self.read(session, &uc::SITE_MAPPINGS, At::Site(site))?;
        Ok(store::sites::mappings(&rd, rd.ctx.site().id)?)
    }

    /// The settings of a site (Table-1 "view site settings").
    pub fn site_settings(&self, session: &Session, site: &str) -> AppResult<Site> {
        let rd = self.read(session, &uc::SITE_SETTINGS, At::Site(site))?;
        Ok(rd.ctx.site().clone())
    }

    /// Edits a site's settings (Table-1 "edit site settings": Team administrators).
    pub fn site_settings_update(
        &mut self,
        session: &Session,
        site: &str,
        patch: &SiteSettingsPatch,
    ) -> AppResult<Site> {
        let tx = self.write(session, &uc::SITE_SETTINGS_EDIT, At::Site(site))?;
        let site = tx.ctx.site().clone();
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
        tx.audit().target(name.clone()).before_after(&site, &after).write()?;
        tx.commit()?;
        Ok(after)
    }

    /// The Team-level members of the active team (Table-1 "view team members").
    pub fn team_members(&self, session: &Session) -> AppResult<Vec<store::staff::Member>> {
        let rd = self.read(session, &uc::TEAM_MEMBERS, At::Team)?;
        Ok(store::staff::members_of_team(&rd, rd.ctx.team.id)?
            .into_iter()
            .filter(|m| Level::parse(&m.level).is_some_and(Level::is_team_level))
            .collect())
    }
}
