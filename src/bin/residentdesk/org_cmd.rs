//! `residentdesk team` and `residentdesk site`: teams and sites, thin over `app::org`.

use crate::output::{print_table, Out};
use crate::staff_cmd::print_members;
use crate::usage;
use clap::Subcommand;
use residentdesk::app::org::SiteSettingsPatch;
use residentdesk::app::Session;
use residentdesk::{App, AppError};
use serde_json::{json, Value};

#[derive(Subcommand, Debug)]
pub enum TeamCmd {
    /// Your teams (the active one marked).
    List,
    /// Make another team active: by id, exact name or an unambiguous part of the name.
    Switch { team: String },
    /// Details of the active team.
    Show,
    /// Team-level members of the active team (Team administrators).
    Members,
    /// Edit the active team's name or settings (Team administrators).
    Settings {
        #[arg(long)]
        name: Option<String>,
        /// KEY=VALUE, repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// After how many idle minutes a desktop session locks; `--minutes N` sets it (1 to 10,
    /// Team administrators).
    IdleLock {
        #[arg(long, value_name = "N")]
        minutes: Option<u32>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SiteCmd {
    /// Sites you can see in the active team.
    List,
    /// One site.
    Show { site: String },
    /// The site's allowed Building/Floor/Unit combinations.
    Mappings { site: String },
    /// Today's date and time at the site, in its time zone (what "today" means for its
    /// residents' dates).
    Today { site: String },
    /// Per site you can see: residents by status, units occupied and free, sync state.
    Overview,
    /// View a site's settings, or edit them with flags (Team administrators).
    Settings {
        site: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long = "type")]
        site_type: Option<String>,
        #[arg(long)]
        time_zone: Option<String>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
}

pub fn team_cmd(app: &mut App, session: &Session, cmd: &TeamCmd, out: &Out) -> Result<(), AppError> {
    match cmd {
        TeamCmd::List => {
            let teams = app.team_list(session)?;
            out.value(&json!({"teams": teams}), || {
                print_table(
                    &["", "ID", "TEAM", "YOUR LEVEL"],
                    teams
                        .iter()
                        .map(|t| {
                            vec![
                                if t.active { "*" } else { "" }.into(),
                                t.id.to_string(),
                                t.name.clone(),
                                t.level.clone(),
                            ]
                        })
                        .collect(),
                );
            });
        }
        TeamCmd::Switch { team } => {
            let s = app.team_switch(session, team)?;
            let (t, level) = s.actor.team.clone().ok_or_else(|| AppError::internal("no active team after switch"))?;
            out.value(&json!({"active_team": {"id": t.id, "name": t.name, "level": level}}), || {
                println!("Active team: {} (you are {})", t.name, level.title());
            });
        }
        TeamCmd::Show => {
            let d = app.team_show(session)?;
            out.value(&d, || {
                println!(
                    "{} (#{})\n  sites: {}\n  your level: {}\n  settings: {}",
                    d.name, d.id, d.sites, d.your_level, d.settings
                );
            });
        }
        TeamCmd::Members => {
            let members = app.team_members(session)?;
            print_members(&members, out);
        }
        TeamCmd::Settings { name, set } => {
            let team = app.team_settings_update(session, name.as_deref(), parse_kv(set)?.as_ref())?;
            out.value(&team, || println!("Team {} saved; settings: {}", team.name, team.settings));
        }
        TeamCmd::IdleLock { minutes } => {
            let lock = match minutes {
                Some(m) => app.set_idle_lock(session, *m)?,
                None => app.idle_lock(session)?,
            };
            out.value(&lock, || {
                println!(
                    "A session idle {} minute(s) locks (default {}, at most {}).",
                    lock.minutes, lock.default_minutes, lock.max_minutes
                )
            });
        }
    }
    Ok(())
}

pub fn site_cmd(app: &mut App, session: &Session, cmd: &SiteCmd, out: &Out) -> Result<(), AppError> {
    match cmd {
        SiteCmd::List => {
            let sites = app.site_list(session)?;
            out.value(&json!({"sites": sites}), || {
                print_table(
                    &["ID", "SITE", "TYPE", "TIME ZONE", "RESIDENTS"],
                    sites
                        .iter()
                        .map(|s| {
                            vec![
                                s.site.id.to_string(),
                                s.site.name.clone(),
                                s.site.site_type.clone(),
                                s.site.time_zone.clone(),
                                s.residents.to_string(),
                            ]
                        })
                        .collect(),
                );
            });
        }
        SiteCmd::Show { site } => {
            let s = app.site_show(session, site)?;
            out.value(&s, || {
                println!(
                    "{} (#{}{})\n  type: {}\n  time zone: {}\n  residents: {}",
                    s.site.name,
                    s.site.id,
                    s.site.remote_id.as_deref().map(|r| format!(", remote {r}")).unwrap_or_default(),
                    s.site.site_type,
                    s.site.time_zone,
                    s.residents
                );
            });
        }
        SiteCmd::Today { site } => {
            let t = app.site_today(session, site)?;
            out.value(&t, || {
                println!("{} {} ({}, {} UTC{})", t.today, t.time, t.time_zone, t.abbreviation, t.utc_offset)
            });
        }
        SiteCmd::Overview => {
            let sites = app.site_overview(session)?;
            out.value(&json!({"sites": sites}), || {
                print_table(
                    &[
                        "SITE",
                        "ACTIVE",
                        "PENDING",
                        "SUSPENDED",
                        "SCHEDULED",
                        "EXPIRED",
                        "UNITS",
                        "OCCUPIED",
                        "LAST PULL",
                        "OUTBOX",
                        "REJECTED",
                        "CONFLICTS",
                    ],
                    sites
                        .iter()
                        .map(|s| {
                            let r = &s.residents;
                            vec![
                                s.name.clone(),
                                r.active.to_string(),
                                r.pending.to_string(),
                                r.suspended.to_string(),
                                r.scheduled.to_string(),
                                r.expired.to_string(),
                                s.units.to_string(),
                                s.units_occupied.to_string(),
                                s.last_pull_at
                                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                                    .unwrap_or("never".into()),
                                s.pending.to_string(),
                                s.rejected.to_string(),
                                s.conflicts.to_string(),
                            ]
                        })
                        .collect(),
                );
            });
        }
        SiteCmd::Mappings { site } => {
            let maps = app.site_mappings(session, site)?;
            out.value(&json!({"mappings": maps}), || {
                print_table(
                    &["BUILDING", "FLOOR", "UNIT", "SSID", "VLAN"],
                    maps.iter()
                        .map(|m| {
                            vec![
                                m.building.clone(),
                                m.floor.clone(),
                                m.unit.clone(),
                                m.ssid.clone().unwrap_or_default(),
                                m.vlan.clone().unwrap_or_default(),
                            ]
                        })
                        .collect(),
                );
            });
        }
        SiteCmd::Settings { site, name, site_type, time_zone, set } => {
            let settings = parse_kv(set)?;
            let edit = name.is_some() || site_type.is_some() || time_zone.is_some() || settings.is_some();
            let s = if edit {
                let patch = SiteSettingsPatch {
                    name: name.clone(),
                    site_type: site_type.clone(),
                    time_zone: time_zone.clone(),
                    settings,
                };
                app.site_settings_update(session, site, &patch)?
            } else {
                app.site_settings(session, site)?
            };
            out.value(&s, || {
                println!(
                    "{}\n  type: {}\n  time zone: {}\n  settings: {}",
                    s.name, s.site_type, s.time_zone, s.settings
                )
            });
        }
    }
    Ok(())
}

fn parse_kv(items: &[String]) -> Result<Option<serde_json::Map<String, Value>>, AppError> {
    if items.is_empty() {
        return Ok(None);
    }
    let mut map = serde_json::Map::new();
    for item in items {
        let (k, v) = item.split_once('=').ok_or_else(|| usage(format!("--set expects KEY=VALUE, got {item:?}")))?;
        if k.trim().is_empty() {
            return Err(usage(format!("--set has an empty key in {item:?}")));
        }
        map.insert(k.trim().to_string(), Value::String(v.to_string()));
    }
    Ok(Some(map))
}
