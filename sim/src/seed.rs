//! Initial data: the deterministic `demo` portfolio, a one-site `bench` portfolio, a
//! larger `portfolio` for sync tests and benchmarks, and
//! seed JSON files (`--seed FILE.json`) that define teams, sites, mappings, residents and
//! accounts.

use crate::clock::SimClock;
use crate::model::{Account, AccountLevel, Data, Mapping, Resident, Site, Team};
use chrono::{DateTime, Duration, DurationRound, Utc};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use residentdesk_domain::rules;
use serde::{Deserialize, Serialize};

/// A site in a seed file, with its mappings inline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedSite {
    pub site_id: String,
    pub team_id: String,
    pub name: String,
    pub site_type: String,
    pub time_zone: String,
    #[serde(default)]
    pub service_area_number: String,
    #[serde(default)]
    pub mappings: Vec<Mapping>,
}

/// A resident in a seed file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedResident {
    #[serde(default)]
    pub resident_id: Option<String>,
    pub site_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    pub building: String,
    pub floor: String,
    pub unit: String,
    pub activation_utc: DateTime<Utc>,
    #[serde(default)]
    pub deactivation_utc: Option<DateTime<Utc>>,
    #[serde(default)]
    pub onboarded_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub suspended: bool,
}

/// A whole seed (the `--seed FILE.json` format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Start of the simulated clock; real now when absent.
    #[serde(default)]
    pub now: Option<DateTime<Utc>>,
    /// Whether the clock stands still (moves only when advanced).
    #[serde(default)]
    pub frozen: bool,
    #[serde(default)]
    pub teams: Vec<Team>,
    #[serde(default)]
    pub sites: Vec<SeedSite>,
    #[serde(default)]
    pub residents: Vec<SeedResident>,
    #[serde(default)]
    pub accounts: Vec<Account>,
}

impl Seed {
    /// Reads a seed JSON file.
    pub fn from_file(path: &std::path::Path) -> Result<Seed, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The clock this seed starts.
    pub fn clock(&self) -> SimClock {
        match (self.now, self.frozen) {
            (Some(t), true) => SimClock::frozen(t),
            (Some(t), false) => SimClock::starting_at(t),
            (None, true) => SimClock::frozen(Utc::now()),
            (None, false) => SimClock::real(),
        }
    }

    /// Checks references and turns the seed into stored data.
    pub fn into_data(self, id_seed: u64) -> Result<Data, String> {
        let mut rng = StdRng::seed_from_u64(id_seed ^ 0xda7a);
        let mut data = Data::default();
        for t in &self.teams {
            if data.teams.iter().any(|x| x.team_id == t.team_id) {
                return Err(format!("duplicate team_id {}", t.team_id));
            }
            data.teams.push(t.clone());
        }
        for s in self.sites {
            if !data.teams.iter().any(|t| t.team_id == s.team_id) {
                return Err(format!("site {}: unknown team_id {}", s.site_id, s.team_id));
            }
            if data.sites.iter().any(|x| x.site_id == s.site_id) {
                return Err(format!("duplicate site_id {}", s.site_id));
            }
            rules::parse_time_zone("time_zone", &s.time_zone).map_err(|e| format!("site {}: {e}", s.site_id))?;
            data.mappings.insert(s.site_id.clone(), s.mappings);
            data.sites.push(Site {
                site_id: s.site_id,
                team_id: s.team_id,
                name: s.name,
                site_type: s.site_type,
                time_zone: s.time_zone,
                service_area_number: s.service_area_number,
            });
        }
        let created = self.now.unwrap_or_else(Utc::now);
        let mut emails = std::collections::HashSet::new();
        // A set of the site ids: a million residents over thousands of sites (issue #17)
        // would otherwise compare each resident's site with every site.
        let site_ids: std::collections::HashSet<String> = data.sites.iter().map(|s| s.site_id.clone()).collect();
        for r in self.residents {
            if !site_ids.contains(&r.site_id) {
                return Err(format!("resident {}: unknown site_id {}", r.email, r.site_id));
            }
            let email = rules::normalize_email(&r.email).map_err(|e| format!("resident {}: {e}", r.email))?;
            if !emails.insert(email.clone()) {
                return Err(format!("duplicate resident email {email}"));
            }
            let id = r.resident_id.unwrap_or_else(|| random_uuid(&mut rng));
            data.next_seq += 1;
            data.residents.insert(
                id.clone(),
                Resident {
                    resident_id: id,
                    site_id: r.site_id,
                    first_name: r.first_name,
                    last_name: r.last_name,
                    email,
                    phone: r.phone,
                    building: r.building,
                    floor: r.floor,
                    unit: r.unit,
                    activation_utc: r.activation_utc,
                    deactivation_utc: r.deactivation_utc,
                    onboarded_at: r.onboarded_at,
                    suspended: r.suspended,
                    seq: data.next_seq,
                    created_at: created,
                    updated_at: created,
                    version: 1,
                },
            );
        }
        for a in self.accounts {
            for t in &a.team_ids {
                if !data.teams.iter().any(|x| &x.team_id == t) {
                    return Err(format!("account {}: unknown team {t}", a.email));
                }
            }
            for s in &a.site_ids {
                if !data.sites.iter().any(|x| &x.site_id == s) {
                    return Err(format!("account {}: unknown site {s}", a.email));
                }
            }
            data.accounts.push(a);
        }
        Ok(data)
    }

    /// The deterministic demo portfolio, relative to `now`: two teams, five sites (PPK-C,
    /// PPK-D and PSK, four time zones), mappings, residents in every status and one account
    /// of each level. Ids do not depend on `now`.
    pub fn demo(now: DateTime<Utc>) -> Seed {
        let mut rng = StdRng::seed_from_u64(0xdeed_2026);
        let now = now.duration_trunc(Duration::seconds(1)).unwrap_or(now);
        let t1 = random_uuid(&mut rng);
        let t2 = random_uuid(&mut rng);
        let teams = vec![
            Team { team_id: t1.clone(), name: "Riverside Living".into() },
            Team { team_id: t2.clone(), name: "Summit Communities".into() },
        ];
        let specs: [DemoSite; 5] = [
            ("Hudson Lofts", "PPK-C", "America/Chicago", "OD-808-78", &["Hudson"], 3, 6),
            ("Lakeview Commons", "PPK-D", "America/New_York", "OD-811-02", &["North", "South"], 2, 5),
            ("Canyon Court", "PSK", "America/Denver", "OD-815-40", &["Canyon"], 2, 6),
            ("Bayside Flats", "PPK-C", "America/Los_Angeles", "OD-902-11", &["Bay"], 3, 4),
            ("Harbour House", "PSK", "Europe/London", "UK-101-07", &["Harbour"], 2, 6),
        ];
        let mut sites = Vec::new();
        for (i, (name, kind, tz, san, buildings, floors, units)) in specs.iter().enumerate() {
            let site_id = random_uuid(&mut rng);
            let team_id = if i < 3 { t1.clone() } else { t2.clone() };
            let mut mappings = Vec::new();
            for (b, building) in buildings.iter().enumerate() {
                for f in 1..=*floors {
                    for u in 1..=*units {
                        mappings.push(Mapping {
                            building: (*building).to_string(),
                            floor: f.to_string(),
                            unit: format!("{f}{u:02}"),
                            passphrase: format!(
                                "{}-{f}{u:02}-{:04}",
                                building.to_ascii_lowercase(),
                                (rng.next_u32() % 10_000)
                            ),
                            ssid: (*name).to_string(),
                            vlan: (100 + b as u32 * 100 + f * 10 + u).to_string(),
                        });
                    }
                }
            }
            sites.push(SeedSite {
                site_id,
                team_id,
                name: (*name).to_string(),
                site_type: (*kind).to_string(),
                time_zone: (*tz).to_string(),
                service_area_number: (*san).to_string(),
                mappings,
            });
        }
        const FIRST: [&str; 12] =
            ["Chris", "Ana", "Bilal", "Dana", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jonas", "Kofi", "Lena"];
        const LAST: [&str; 12] = [
            "Wilson", "Garcia", "Khan", "Okafor", "Yilmaz", "Adeyemi", "Chen", "Tanaka", "Moreau", "Berg", "Mensah",
            "Novak",
        ];
        let mut residents = Vec::new();
        let day = Duration::days(1);
        for (si, site) in sites.iter().enumerate() {
            // (activation offset days, deactivation offset days, onboarded, suspended)
            let shapes: [(i64, Option<i64>, bool, bool); 8] = [
                (-200, None, true, false),     // current
                (-90, Some(180), true, false), // current with an end date
                (-20, None, false, false),     // current + pending
                (-60, None, true, true),       // current + suspended
                (14, Some(380), false, false), // scheduled
                (30, None, false, false),      // scheduled
                (-400, Some(-3), true, false), // expired (terminated 3 days ago, in grace)
                (-5, None, false, false),      // current + pending
            ];
            for (ri, (start, end, onboarded, suspended)) in shapes.iter().enumerate() {
                let m = &site.mappings[ri % site.mappings.len()];
                let first = FIRST[(si * 3 + ri) % FIRST.len()];
                let last = LAST[(si * 5 + ri * 7) % LAST.len()];
                let activation = now + day * (*start as i32);
                residents.push(SeedResident {
                    resident_id: Some(random_uuid(&mut rng)),
                    site_id: site.site_id.clone(),
                    first_name: first.into(),
                    last_name: last.into(),
                    email: format!(
                        "{}.{}.{si}{ri}@residents.example",
                        first.to_ascii_lowercase(),
                        last.to_ascii_lowercase()
                    ),
                    phone: Some(format!("543-6{si}{ri}-90{si}{ri}")),
                    building: m.building.clone(),
                    floor: m.floor.clone(),
                    unit: m.unit.clone(),
                    activation_utc: activation,
                    deactivation_utc: end.map(|e| now + day * (e as i32)),
                    onboarded_at: onboarded.then(|| activation + Duration::hours(2)),
                    suspended: *suspended,
                });
            }
        }
        let site_ids: Vec<String> = sites.iter().map(|s| s.site_id.clone()).collect();
        let accounts = demo_accounts(&t1, &t2, &site_ids);
        Seed { now: None, frozen: false, teams, sites, residents, accounts }
    }

    /// One team, one PPK-C site with `residents` current residents (and 5,100 free units), and one team administrator `bench@sim.test` / `bench-password`.
    pub fn bench(residents: usize, now: DateTime<Utc>) -> Seed {
        let team_id = "team-bench".to_string();
        let site_id = "site-bench".to_string();
        let units = residents + 5_100;
        let mappings: Vec<Mapping> = (0..units)
            .map(|i| Mapping {
                building: format!("B{}", i / 1000),
                floor: format!("{}", (i / 100) % 10),
                unit: format!("{i:05}"),
                passphrase: format!("pass-{i}"),
                ssid: "Bench".into(),
                vlan: format!("{}", 100 + i % 3000),
            })
            .collect();
        let list = (0..residents)
            .map(|i| SeedResident {
                resident_id: None,
                site_id: site_id.clone(),
                first_name: format!("First{i}"),
                last_name: format!("Last{i}"),
                email: format!("resident{i}@bench.example"),
                phone: Some(format!("555-{i:04}")),
                building: mappings[i].building.clone(),
                floor: mappings[i].floor.clone(),
                unit: mappings[i].unit.clone(),
                activation_utc: now - Duration::days(30),
                deactivation_utc: None,
                onboarded_at: (i % 2 == 0).then_some(now - Duration::days(29)),
                suspended: false,
            })
            .collect();
        Seed {
            now: None,
            frozen: false,
            teams: vec![Team { team_id: team_id.clone(), name: "Bench Team".into() }],
            sites: vec![SeedSite {
                site_id,
                team_id: team_id.clone(),
                name: "Bench Site".into(),
                site_type: "PPK-C".into(),
                time_zone: "America/Chicago".into(),
                service_area_number: "BN-000-00".into(),
                mappings,
            }],
            residents: list,
            accounts: vec![Account {
                email: "bench@sim.test".into(),
                password: "bench-password".into(),
                level: AccountLevel::TeamAdmin,
                team_ids: vec![team_id],
                site_ids: vec![],
            }],
        }
    }
}

impl Seed {
    /// A larger portfolio for sync tests and benchmarks: one team `team-scale` with `sites`
    /// sites (`site-0000`, ...; types cycle PPK-C, PPK-D, PSK; zones cycle through four US
    /// zones), each with `residents_per_site` current residents (every other one onboarded)
    /// and `free_units` more units without a resident. One team administrator
    /// `scale@sim.test` / `scale-password`.
    pub fn portfolio(sites: usize, residents_per_site: usize, free_units: usize, now: DateTime<Utc>) -> Seed {
        const KINDS: [&str; 3] = ["PPK-C", "PPK-D", "PSK"];
        const ZONES: [&str; 4] = ["America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles"];
        let team_id = "team-scale".to_string();
        let units = residents_per_site + free_units;
        let mut seed_sites = Vec::with_capacity(sites);
        let mut residents = Vec::with_capacity(sites * residents_per_site);
        for s in 0..sites {
            let site_id = format!("site-{s:04}");
            let mappings: Vec<Mapping> = (0..units)
                .map(|i| Mapping {
                    building: format!("B{}", i / 1000),
                    floor: format!("{}", (i / 100) % 10),
                    unit: format!("{i:05}"),
                    passphrase: format!("pass-{s}-{i}"),
                    ssid: format!("Site {s}"),
                    vlan: format!("{}", 100 + i % 3000),
                })
                .collect();
            for (i, m) in mappings.iter().take(residents_per_site).enumerate() {
                residents.push(SeedResident {
                    resident_id: Some(format!("r-{s:04}-{i:06}")),
                    site_id: site_id.clone(),
                    first_name: format!("First{i}"),
                    last_name: format!("Last{s}"),
                    email: format!("r{s}.{i}@scale.example"),
                    phone: Some(format!("555-{:04}", i % 10_000)),
                    building: m.building.clone(),
                    floor: m.floor.clone(),
                    unit: m.unit.clone(),
                    activation_utc: now - Duration::days(30),
                    deactivation_utc: None,
                    onboarded_at: (i % 2 == 0).then_some(now - Duration::days(29)),
                    suspended: false,
                });
            }
            seed_sites.push(SeedSite {
                site_id,
                team_id: team_id.clone(),
                name: format!("Scale Site {s}"),
                site_type: KINDS[s % KINDS.len()].into(),
                time_zone: ZONES[s % ZONES.len()].into(),
                service_area_number: format!("SC-{s:03}-00"),
                mappings,
            });
        }
        Seed {
            now: None,
            frozen: false,
            teams: vec![Team { team_id: team_id.clone(), name: "Scale Team".into() }],
            sites: seed_sites,
            residents,
            accounts: vec![Account {
                email: "scale@sim.test".into(),
                password: "scale-password".into(),
                level: AccountLevel::TeamAdmin,
                team_ids: vec![team_id],
                site_ids: vec![],
            }],
        }
    }
}

/// Name, type, time zone, service area number, buildings, floors, units per floor.
type DemoSite = (&'static str, &'static str, &'static str, &'static str, &'static [&'static str], u32, u32);

/// The demo's service accounts, one per Table-1 level.
///
/// - `staff.user@demo.sim.test` (Staff user): Hudson Lofts (team 1) and Bayside Flats (team 2);
/// - `staff.admin@demo.sim.test` (Staff local-admin): Lakeview Commons;
/// - `team.user@demo.sim.test` (Team user): every site of Riverside Living;
/// - `team.admin@demo.sim.test` (Team administrator): both teams.
fn demo_accounts(t1: &str, t2: &str, sites: &[String]) -> Vec<Account> {
    vec![
        Account {
            email: "staff.user@demo.sim.test".into(),
            password: "staff-user-pass".into(),
            level: AccountLevel::StaffUser,
            team_ids: vec![],
            site_ids: vec![sites[0].clone(), sites[3].clone()],
        },
        Account {
            email: "staff.admin@demo.sim.test".into(),
            password: "staff-admin-pass".into(),
            level: AccountLevel::StaffLocalAdmin,
            team_ids: vec![],
            site_ids: vec![sites[1].clone()],
        },
        Account {
            email: "team.user@demo.sim.test".into(),
            password: "team-user-pass".into(),
            level: AccountLevel::TeamUser,
            team_ids: vec![t1.to_string()],
            site_ids: vec![],
        },
        Account {
            email: "team.admin@demo.sim.test".into(),
            password: "team-admin-pass".into(),
            level: AccountLevel::TeamAdmin,
            team_ids: vec![t1.to_string(), t2.to_string()],
            site_ids: vec![],
        },
    ]
}

fn random_uuid(rng: &mut StdRng) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_deterministic_and_valid() {
        let now = Utc::now();
        let a = Seed::demo(now);
        let b = Seed::demo(now + Duration::days(3));
        assert_eq!(a.teams, b.teams);
        assert_eq!(
            a.sites.iter().map(|s| &s.site_id).collect::<Vec<_>>(),
            b.sites.iter().map(|s| &s.site_id).collect::<Vec<_>>()
        );
        let data = a.into_data(1).unwrap();
        assert_eq!(data.teams.len(), 2);
        assert_eq!(data.sites.len(), 5);
        assert_eq!(data.residents.len(), 40);
        assert_eq!(data.accounts.len(), 4);
        let kinds: std::collections::BTreeSet<&str> = data.sites.iter().map(|s| s.site_type.as_str()).collect();
        assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["PPK-C", "PPK-D", "PSK"]);
    }

    #[test]
    fn portfolio_sizes_and_bad_references() {
        let data = Seed::portfolio(3, 10, 5, Utc::now()).into_data(1).unwrap();
        assert_eq!(data.sites.len(), 3);
        assert_eq!(data.residents.len(), 30);
        assert_eq!(data.mappings["site-0002"].len(), 15);
        let mut bad = Seed::portfolio(1, 1, 0, Utc::now());
        bad.residents[0].site_id = "nope".into();
        assert!(bad.into_data(1).unwrap_err().contains("unknown site_id"));
        let mut bad = Seed::portfolio(1, 1, 0, Utc::now());
        bad.sites[0].time_zone = "Mars/Base".into();
        assert!(bad.into_data(1).is_err());
    }
}
