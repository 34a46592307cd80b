//! The simulator's stored data: teams, sites, mappings, residents, accounts, tokens, jobs
//! and the e-mails the remote would have sent. All of it serialises to JSON, which is what
//! `/__sim/state` shows and what `--state FILE` persists.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use residentdesk_domain::rules::{Interval, Location};
use residentdesk_domain::status::{derive_flags, Lifecycle, StatusFlags};
use residentdesk_domain::wire::{JobItem, MappingObject, ResidentObject, SiteObject, TeamObject};
use residentdesk_domain::{dates, BulkAction, SiteType};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A team (the top of the Team → Site → Resident hierarchy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub team_id: String,
    pub name: String,
}

impl Team {
    pub fn to_wire(&self) -> TeamObject {
        TeamObject { team_id: self.team_id.clone(), name: Some(self.name.clone()) }
    }
}

/// A site of a team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub site_id: String,
    pub team_id: String,
    pub name: String,
    /// `PPK-C`, `PPK-D`, `PSK`, ...
    pub site_type: String,
    /// IANA time zone name.
    pub time_zone: String,
    /// Shown as each resident's `ServiceAreaNumber`.
    #[serde(default)]
    pub service_area_number: String,
}

impl Site {
    pub fn tz(&self) -> Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::UTC)
    }
    pub fn kind(&self) -> SiteType {
        SiteType::parse(&self.site_type)
    }
    pub fn to_wire(&self) -> SiteObject {
        SiteObject {
            site_id: self.site_id.clone(),
            name: Some(self.name.clone()),
            site_type: Some(self.site_type.clone()),
            time_zone: Some(self.time_zone.clone()),
        }
    }
}

/// A PAN mapping: an allowed Building/Floor/Unit and its network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    pub building: String,
    pub floor: String,
    pub unit: String,
    pub passphrase: String,
    pub ssid: String,
    pub vlan: String,
}

impl Mapping {
    pub fn location(&self) -> Location {
        Location { building: self.building.clone(), floor: self.floor.clone(), unit: self.unit.clone() }
    }
    pub fn to_wire(&self) -> MappingObject {
        MappingObject {
            building: self.building.clone(),
            floor: self.floor.clone(),
            unit: self.unit.clone(),
            passphrase: Some(self.passphrase.clone()),
            ssid: Some(self.ssid.clone()),
            vlan: Some(self.vlan.clone()),
        }
    }
}

/// A resident as the remote stores it; status is derived from these fields at read time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resident {
    pub resident_id: String,
    pub site_id: String,
    pub first_name: String,
    pub last_name: String,
    /// Normalised (trimmed, lowercased); immutable.
    pub email: String,
    pub phone: Option<String>,
    pub building: String,
    pub floor: String,
    pub unit: String,
    pub activation_utc: DateTime<Utc>,
    pub deactivation_utc: Option<DateTime<Utc>>,
    pub onboarded_at: Option<DateTime<Utc>>,
    pub suspended: bool,
    /// Creation order, for a stable list order.
    pub seq: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped on every change (handy for sync tests).
    #[serde(default)]
    pub version: u64,
}

impl Resident {
    pub fn lifecycle(&self) -> Lifecycle {
        Lifecycle {
            activation_utc: self.activation_utc,
            deactivation_utc: self.deactivation_utc,
            onboarded_at: self.onboarded_at,
            suspended: self.suspended,
        }
    }
    pub fn flags(&self, now: DateTime<Utc>) -> StatusFlags {
        derive_flags(&self.lifecycle(), now)
    }
    pub fn interval(&self) -> Interval {
        Interval { start: self.activation_utc, end: self.deactivation_utc }
    }
    pub fn location(&self) -> Location {
        Location { building: self.building.clone(), floor: self.floor.clone(), unit: self.unit.clone() }
    }

    /// The resident as the API returns it (contract §1.7, field for field).
    pub fn to_wire(&self, site: &Site, ssid: Option<&str>, now: DateTime<Utc>) -> ResidentObject {
        let tz = site.tz();
        ResidentObject {
            activation_date: Some(dates::format_wire_local(self.activation_utc, tz)),
            activation_date_utc: Some(dates::format_wire_utc(self.activation_utc)),
            building: Some(self.building.clone()),
            deactivation_date: self.deactivation_utc.map(|d| dates::format_wire_local(d, tz)),
            deactivation_date_utc: self.deactivation_utc.map(dates::format_wire_utc),
            email: Some(self.email.clone()),
            first_name: Some(self.first_name.clone()),
            floor: Some(self.floor.clone()),
            last_name: Some(self.last_name.clone()),
            mobile: None,
            onboarded_at: self.onboarded_at.map(dates::format_wire_naive_utc),
            phone: self.phone.clone(),
            phone_number: None,
            resident_id: Some(self.resident_id.clone()),
            ssid: ssid.map(str::to_string),
            service_area_number: Some(site.service_area_number.clone()),
            status: self.flags(now).to_strings(),
            uuid: Some(self.resident_id.clone()),
            unit: Some(self.unit.clone()),
        }
    }
}

/// The four Table-1 levels of a Site Manager account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountLevel {
    StaffUser,
    StaffLocalAdmin,
    TeamUser,
    TeamAdmin,
}

impl AccountLevel {
    pub const ALL: [AccountLevel; 4] =
        [AccountLevel::StaffUser, AccountLevel::StaffLocalAdmin, AccountLevel::TeamUser, AccountLevel::TeamAdmin];

    /// Team users and administrators see every site of their teams; staff only their sites.
    pub fn is_team_level(self) -> bool {
        matches!(self, AccountLevel::TeamUser | AccountLevel::TeamAdmin)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            AccountLevel::StaffUser => "staff_user",
            AccountLevel::StaffLocalAdmin => "staff_local_admin",
            AccountLevel::TeamUser => "team_user",
            AccountLevel::TeamAdmin => "team_admin",
        }
    }
}

/// A Site Manager account that can get a token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub email: String,
    pub password: String,
    pub level: AccountLevel,
    /// Teams the account is a member of (team-level accounts).
    #[serde(default)]
    pub team_ids: Vec<String>,
    /// Sites the account is a member of (staff accounts; may span teams).
    #[serde(default)]
    pub site_ids: Vec<String>,
}

/// An issued bearer token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    pub email: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What a job does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobKind {
    /// `POST .../resident/import`; items are the raw JSON rows.
    Import { rows: Vec<serde_json::Value> },
    /// `POST .../resident/bulkaction`; items are resident ids.
    Bulk { action: BulkAction, resident_ids: Vec<String> },
}

/// An import or bulk-action job that progresses on the simulated clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub job_id: String,
    pub team_id: String,
    pub site_id: String,
    /// The account that started it (gets the results e-mail).
    pub owner: String,
    pub created_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub kind: JobKind,
    /// How many items have been processed.
    pub processed: usize,
    pub succeeded: Vec<JobItem>,
    pub failed: Vec<JobItem>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Job {
    pub fn total(&self) -> usize {
        match &self.kind {
            JobKind::Import { rows } => rows.len(),
            JobKind::Bulk { resident_ids, .. } => resident_ids.len(),
        }
    }
    /// The instant item `i` (0-based) is due.
    pub fn due(&self, i: usize) -> DateTime<Utc> {
        let total = self.total().max(1) as u128;
        let offset_ms = (self.duration_ms as u128 * (i as u128 + 1)) / total;
        self.created_at + chrono::Duration::milliseconds(offset_ms.min(i64::MAX as u128) as i64)
    }
}

/// One e-mail the remote would have sent (invitation, Wi-Fi details, PSK reset, job report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mail {
    pub at: DateTime<Utc>,
    pub to: String,
    pub kind: String,
    #[serde(default)]
    pub resident_id: Option<String>,
}

/// Everything the simulator stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Data {
    pub teams: Vec<Team>,
    pub sites: Vec<Site>,
    /// Mappings by site id.
    pub mappings: BTreeMap<String, Vec<Mapping>>,
    /// Residents by resident id.
    pub residents: BTreeMap<String, Resident>,
    pub accounts: Vec<Account>,
    /// Bearer tokens by token value.
    #[serde(default)]
    pub tokens: BTreeMap<String, Token>,
    /// Jobs by job id.
    #[serde(default)]
    pub jobs: BTreeMap<String, Job>,
    /// Sent e-mails, oldest first (bounded).
    #[serde(default)]
    pub mail: Vec<Mail>,
    /// Residents removed by the automatic purge, by id (for tests), bounded.
    #[serde(default)]
    pub auto_purged: Vec<String>,
    #[serde(default)]
    pub next_seq: u64,
}

/// Most e-mails and auto-purge records kept.
pub const MAX_LOG: usize = 10_000;
