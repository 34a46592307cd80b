//! The deterministic demo portfolio: several teams, sites of every type in several time
//! zones, mappings, residents in every status, and one staff account of each level.
//! It scales to 100,000 residents over 250 sites (one transaction, prepared statements).
//!
//! [`App::demo_portfolio`] describes a seeded demo as plain data, so the desktop can start a
//! simulated Site Manager (`sitemanager-sim`) holding the same portfolio: the first sync
//! then links every team, site and resident, and the demo behaves like a connected desk.

use super::auth::hash_secret;
use super::progress::{Progress, Ticker};
use super::App;
use crate::access::Level;
use crate::error::{AppError, AppResult};
use crate::store::{self, residents::ResidentFields, sites::Mapping};
use chrono::Duration;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use residentdesk_domain::rules::{local_midnight, termination_deactivation};
use serde::Serialize;
use serde_json::json;

/// A demo account and its password (printed once by the CLI).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DemoAccount {
    pub email: String,
    pub password: String,
    /// `owner` or a base role's key (the desktop names it in words).
    pub level: String,
    /// The person's name (the desktop's words: name and role).
    pub name: String,
    /// Name, role and reach in English (the CLI's words).
    pub note: String,
}

/// What `demo seed` created.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DemoSummary {
    pub teams: usize,
    pub sites: usize,
    pub residents: usize,
    pub accounts: Vec<DemoAccount>,
}

impl DemoSummary {
    /// The demo's owner account (the one that reads the portfolio back and configures sync).
    pub fn owner(&self) -> AppResult<&DemoAccount> {
        self.accounts
            .iter()
            .find(|a| a.level == "owner")
            .ok_or_else(|| AppError::internal("the demo has no owner account"))
    }
}

/// A demo database's portfolio as plain data (what a simulated remote is seeded with).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemoPortfolio {
    pub teams: Vec<DemoTeam>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemoTeam {
    pub name: String,
    pub sites: Vec<DemoSite>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemoSite {
    pub name: String,
    pub site_type: String,
    pub time_zone: String,
    pub mappings: Vec<Mapping>,
    pub residents: Vec<store::residents::Resident>,
}

/// The service account the demo's simulated remote knows: a Team administrator of every
/// demo team (the password is a demo secret like the staff accounts' ones).
pub const DEMO_SYNC_ACCOUNT: (&str, &str) = ("sync@demo.residentdesk.test", "Demo-Sync-2026");

impl DemoPortfolio {
    /// The portfolio as a `sitemanager-sim` seed file (`--seed FILE.json`, the JSON form of
    /// `sitemanager_sim::Seed`): the same teams, sites, mappings and residents with their
    /// onboarding and suspension, and [`DEMO_SYNC_ACCOUNT`] as a Team administrator of
    /// every team. The simulator's clock runs in real time.
    pub fn to_sim_seed(&self) -> serde_json::Value {
        let (mut teams, mut sites, mut residents, mut team_ids) = (vec![], vec![], vec![], vec![]);
        let wire = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339());
        for (t, team) in self.teams.iter().enumerate() {
            let team_id = format!("demo-team-{}", t + 1);
            teams.push(json!({"team_id": team_id, "name": team.name}));
            for site in &team.sites {
                let site_id = format!("demo-site-{}", sites.len() + 1);
                let mappings: Vec<serde_json::Value> = site
                    .mappings
                    .iter()
                    .map(|m| {
                        json!({
                            "building": m.building, "floor": m.floor, "unit": m.unit,
                            "passphrase": m.passphrase.clone().unwrap_or_default(),
                            "ssid": m.ssid.clone().unwrap_or_default(),
                            "vlan": m.vlan.clone().unwrap_or_default(),
                        })
                    })
                    .collect();
                for r in &site.residents {
                    residents.push(json!({
                        "site_id": site_id,
                        "first_name": r.first_name, "last_name": r.last_name, "email": r.email,
                        "phone": (!r.phone.is_empty()).then_some(&r.phone),
                        "building": r.building, "floor": r.floor, "unit": r.unit,
                        "activation_utc": wire(Some(r.activation_utc)),
                        "deactivation_utc": wire(r.deactivation_utc),
                        "onboarded_at": wire(r.onboarded_at),
                        "suspended": r.suspended,
                    }));
                }
                sites.push(json!({
                    "site_id": site_id, "team_id": team_id, "name": site.name,
                    "site_type": site.site_type, "time_zone": site.time_zone, "mappings": mappings,
                }));
            }
            team_ids.push(team_id);
        }
        let (email, password) = DEMO_SYNC_ACCOUNT;
        json!({
            "teams": teams,
            "sites": sites,
            "residents": residents,
            "accounts": [{"email": email, "password": password, "level": "team_admin", "team_ids": team_ids}],
        })
    }
}

const TEAMS: [&str; 3] = ["Riverside Living", "Summit Communities", "Harbor Point Residential"];
const SITE_NAMES: [&str; 12] = [
    "Maple Court",
    "Oak Row",
    "Cedar Lofts",
    "Willow Park",
    "Birch Commons",
    "Aspen Heights",
    "Elm Terrace",
    "Juniper Flats",
    "Linden Square",
    "Hawthorn Place",
    "Spruce Gardens",
    "Magnolia Yards",
];
const SITE_TYPES: [&str; 4] = ["PPK-C", "PPK-D", "PSK", "PPK-C"];
const ZONES: [&str; 5] =
    ["America/Chicago", "America/New_York", "America/Los_Angeles", "America/Denver", "America/Phoenix"];
const FIRST: [&str; 24] = [
    "Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Chloe", "Lucas", "Ivy", "Mason", "Nora", "Owen", "Ruby", "Elijah",
    "Leah", "Caleb", "Sofia", "Isaac", "Grace", "Mateo", "Hazel", "Julian", "Aria", "Chris",
];
const LAST: [&str; 24] = [
    "Wilson", "Garcia", "Nguyen", "Patel", "Smith", "Johnson", "Brown", "Martinez", "Kim", "Lopez", "Clark", "Lewis",
    "Walker", "Hall", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill",
];

impl App {
    /// Seeds the demo portfolio into an empty database. `residents` is the total over all
    /// sites (one site per 400 residents, at least 6); `seed` makes it reproducible.
    pub fn demo_seed(&mut self, residents: usize, seed: u64) -> AppResult<DemoSummary> {
        self.demo_seed_observed(residents, seed, &mut |_| {})
    }

    /// [`App::demo_seed`], telling `progress` how many residents are made (every 1,000 and
    /// at the end, out of `residents`).
    pub fn demo_seed_observed(
        &mut self,
        residents: usize,
        seed: u64,
        progress: &mut dyn FnMut(Progress),
    ) -> AppResult<DemoSummary> {
        if self.is_initialised()? || store::teams::count(self.conn())? > 0 {
            return Err(AppError::invalid("demo seed needs an empty database; use another --db"));
        }
        // One transaction of every row: a large page cache keeps the email indexes' pages
        // (insertion points all over them) from being spilled and read back every few rows.
        let cache = store::set_cache_kib(self.conn(), store::BULK_CACHE_KIB)?;
        let seeded = self.demo_seed_rows(residents, seed, progress);
        store::restore_cache_size(self.conn(), cache);
        seeded
    }

    fn demo_seed_rows(
        &mut self,
        residents: usize,
        seed: u64,
        progress: &mut dyn FnMut(Progress),
    ) -> AppResult<DemoSummary> {
        let mut rng = StdRng::seed_from_u64(seed);
        let site_count = residents.div_ceil(400).max(6);
        let per_site = residents / site_count;
        let extra = residents % site_count;
        let accounts = demo_accounts();
        let hashes: Vec<String> = accounts.iter().map(|a| hash_secret(&a.password)).collect::<AppResult<_>>()?;
        let tx = self.write_public(&super::usecases::DEMO_SEED)?;
        let now = tx.now;
        let team_ids: Vec<i64> = TEAMS.iter().map(|t| store::teams::insert(&tx, t, None)).collect::<Result<_, _>>()?;
        let mut site_ids: Vec<Vec<i64>> = vec![Vec::new(); TEAMS.len()];
        let mut made = 0usize;
        let mut ticker = Ticker::new("seed", Some(residents as u64), progress);
        for s in 0..site_count {
            let team = s % TEAMS.len();
            let round = s / SITE_NAMES.len();
            let base = SITE_NAMES[s % SITE_NAMES.len()];
            let name = if round == 0 { base.to_string() } else { format!("{base} {}", round + 1) };
            let site_type = SITE_TYPES[s % SITE_TYPES.len()];
            let zone = ZONES[s % ZONES.len()];
            let site_id = store::sites::insert(&tx, team_ids[team], &name, site_type, zone, None)?;
            site_ids[team].push(site_id);
            let n = per_site + usize::from(s < extra);
            // Enough units for everyone, plus a few free ones for the person trying things.
            let units = n + 10;
            let buildings = ["A", "B", "C"];
            let per_building = units.div_ceil(buildings.len());
            let mut locations = Vec::with_capacity(units);
            for (bi, b) in buildings.iter().enumerate() {
                for k in 0..per_building {
                    let floor = k / 20 + 1;
                    let unit = format!("{}{:02}", floor, k % 20 + 1);
                    let m = Mapping {
                        building: (*b).to_string(),
                        floor: floor.to_string(),
                        unit: format!("{}{}", if bi == 0 { "" } else { *b }, unit),
                        passphrase: Some(format!("pass-{site_id}-{b}{unit}")),
                        ssid: Some(format!("{name} WiFi")),
                        vlan: Some(format!("{}", 100 + k)),
                    };
                    store::sites::insert_mapping(&tx, site_id, &m)?;
                    locations.push(m);
                }
            }
            let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
            for (i, loc) in locations.iter().enumerate().take(n) {
                let first = FIRST[rng.random_range(0..FIRST.len())];
                let last = LAST[rng.random_range(0..LAST.len())];
                let email = format!("{}.{}.{}@residents.example", first.to_lowercase(), last.to_lowercase(), made + i);
                let days_ago = rng.random_range(30..900);
                // Access starts and ends at midnight, site time, as a person would type them.
                let day =
                    |offset: i64| local_midnight((now + Duration::days(offset)).with_timezone(&tz).date_naive(), tz);
                let start = day(-days_ago);
                let kind = i % 20;
                let (activation, deactivation) = match kind {
                    15 | 16 => (day(rng.random_range(3..60)), None), // scheduled
                    17 => (start, Some(termination_deactivation(now - Duration::days(rng.random_range(1..20)), tz))), // expired
                    18 => (start, Some(day(rng.random_range(30..365)))), // ends later
                    _ => (start, None),
                };
                let fields = ResidentFields {
                    first_name: first.to_string(),
                    last_name: last.to_string(),
                    phone: format!("555-{:03}-{:04}", rng.random_range(100..1000), rng.random_range(0..10000)),
                    building: loc.building.clone(),
                    floor: loc.floor.clone(),
                    unit: loc.unit.clone(),
                    activation_utc: activation,
                    deactivation_utc: deactivation,
                };
                let id = store::residents::insert(&tx, site_id, &email, &fields, None, now)?;
                let onboarded = !matches!(kind, 12 | 13 | 15 | 16 | 19);
                let suspended = kind == 14;
                if onboarded || suspended {
                    let onboarded_at = onboarded.then(|| activation + Duration::hours(2));
                    store::residents::set_demo_state(&tx, id, onboarded_at, suspended)?;
                }
            }
            made += n;
            ticker.add(n as u64);
        }
        for (account, hash) in accounts.iter().zip(&hashes) {
            let is_owner = account.level == "owner";
            // The note reads "Name (role, scope)"; the account's display name is the name alone.
            let name = account.note.split(" (").next().unwrap_or(&account.note);
            let staff_id = store::staff::insert(&tx, &account.email, name, Some(hash), is_owner, now)?;
            let memberships: Vec<(usize, Level, Vec<i64>)> = match account.level.as_str() {
                "owner" => (0..TEAMS.len()).map(|t| (t, Level::TeamAdmin, vec![])).collect(),
                "team_admin" => vec![(0, Level::TeamAdmin, vec![])],
                "team_user" => vec![(0, Level::TeamUser, vec![]), (1, Level::TeamUser, vec![])],
                "staff_local_admin" => vec![(0, Level::StaffLocalAdmin, site_ids[0].iter().take(2).copied().collect())],
                _ => vec![
                    (0, Level::StaffUser, site_ids[0].iter().take(1).copied().collect()),
                    (1, Level::StaffUser, site_ids[1].iter().take(1).copied().collect()),
                ],
            };
            for (t, level, sites) in &memberships {
                store::staff::set_membership(&tx, staff_id, team_ids[*t], level.as_str())?;
                store::staff::set_sites(&tx, staff_id, team_ids[*t], sites)?;
            }
            store::staff::set_active_team(&tx, staff_id, team_ids[memberships[0].0])?;
        }
        tx.audit(None, "system").details(json!({"residents": made, "sites": site_count, "seed": seed})).write()?;
        tx.commit()?;
        ticker.finish();
        Ok(DemoSummary { teams: TEAMS.len(), sites: site_count, residents: made, accounts })
    }
}

impl App {
    /// Every team, site, mapping and resident of a demo database, for seeding its simulated
    /// remote. Only the demo's owner may ask, and only of a database `demo_seed` created.
    pub fn demo_portfolio(&self, session: &super::Session) -> AppResult<DemoPortfolio> {
        let rd = self.read(session, &super::usecases::DEMO_PORTFOLIO, super::gate::At::Team)?;
        if !rd.ctx.session.actor.is_owner || !self.is_demo()? {
            return Err(AppError::invalid("the demo portfolio is only described to the owner of a demo database"));
        }
        let mut teams = Vec::new();
        for (team, _level) in store::teams::for_staff(&rd, rd.ctx.session.actor.staff_id)? {
            let mut sites = Vec::new();
            for site in store::sites::list(&rd, &crate::access::Scope::Team(team.id))? {
                sites.push(DemoSite {
                    mappings: store::sites::mappings(&rd, site.id)?,
                    residents: store::residents::list_site(&rd, site.id)?,
                    name: site.name,
                    site_type: site.site_type,
                    time_zone: site.time_zone,
                });
            }
            teams.push(DemoTeam { name: team.name, sites });
        }
        Ok(DemoPortfolio { teams })
    }

    /// Demo only (`demo seed --big-site N`): adds N units (building "Z") to the first site of
    /// the owner's active team, then N residents through the ordinary CSV import (every rule,
    /// outbox entry and audit entry as for any import). Units come from the remote in real
    /// use, so this is the one use case that writes mappings, for the owner of a demo
    /// database only.
    pub fn demo_grow_site(&mut self, session: &super::Session, n: usize) -> AppResult<(String, u64)> {
        let site = {
            let tx = self.write(session, &super::usecases::DEMO_GROW_SITE, super::gate::At::Team)?;
            if !tx.ctx.session.actor.is_owner || !store::audit::has_action(&tx, "demo.seed")? {
                return Err(AppError::invalid("only the owner of a demo database can grow its first site"));
            }
            let site =
                tx.ctx.sites_allowed(&tx)?.into_iter().next().ok_or_else(|| AppError::internal("no demo site"))?;
            let floor = |k: usize| (k / 100 + 1).to_string();
            for k in 0..n {
                let m = store::sites::Mapping {
                    building: "Z".into(),
                    floor: floor(k),
                    unit: format!("Z{k:06}"),
                    passphrase: None,
                    ssid: Some(format!("{} WiFi", site.name)),
                    vlan: None,
                };
                store::sites::insert_mapping(&tx, site.id, &m)?;
            }
            tx.audit().site(Some(site.id)).target(site.name.clone()).details(json!({"units_added": n})).write()?;
            tx.commit()?;
            site
        };
        let mut csv = String::from("FirstName,LastName,Email,Building,Floor,Unit,ActivationDate\n");
        for k in 0..n {
            csv.push_str(&format!(
                "Big{k},Resident,big.resident.{k}@residents.example,Z,{},Z{k:06},2025-01-01\n",
                k / 100 + 1
            ));
        }
        let report = self.import_commit(session, &site.id.to_string(), csv.as_bytes(), false)?;
        if report.imported as usize != n {
            return Err(AppError::internal(format!("the big site import wrote {} of {n} rows", report.imported)));
        }
        Ok((site.name, report.imported))
    }

    /// Whether this database was created by [`App::demo_seed`] (its audit log says so).
    pub fn is_demo(&self) -> AppResult<bool> {
        Ok(store::audit::has_action(self.conn(), "demo.seed")?)
    }
}

/// The demo staff accounts, one per level (the owner is a Team administrator of every team).
pub fn demo_accounts() -> Vec<DemoAccount> {
    let a = |email: &str, password: &str, level: &str, note: &str| DemoAccount {
        email: email.into(),
        password: password.into(),
        level: level.into(),
        name: note.split(" (").next().unwrap_or(note).into(),
        note: note.into(),
    };
    vec![
        a(
            "owner@demo.residentdesk.test",
            "Demo-Owner-2026",
            "owner",
            "Olivia Owner (owner, Team administrator of every team)",
        ),
        a(
            "teamadmin@demo.residentdesk.test",
            "Demo-TeamAdmin-2026",
            "team_admin",
            "Tariq Admin (Team administrator, Riverside Living)",
        ),
        a(
            "teamuser@demo.residentdesk.test",
            "Demo-TeamUser-2026",
            "team_user",
            "Tess User (Team user, Riverside Living and Summit Communities)",
        ),
        a(
            "localadmin@demo.residentdesk.test",
            "Demo-LocalAdmin-2026",
            "staff_local_admin",
            "Lena Local (Staff local-admin, two Riverside sites)",
        ),
        a(
            "staff@demo.residentdesk.test",
            "Demo-Staff-2026",
            "staff_user",
            "Sam Staff (Staff user, one site in two teams)",
        ),
    ]
}
