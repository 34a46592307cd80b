//! The simulated remote: stored data, the simulated clock, faults and statistics, and the
//! resident rules as the remote enforces them (using `residentdesk_domain::rules` as the
//! single source of truth). Handlers lock one [`World`] per request.

use crate::assumptions::{self, GRACE_DAYS};
use crate::clock::{truncate, SimClock};
use crate::error::{ApiError, ApiResult};
use crate::faults::{FaultConfig, FaultState};
use crate::model::{Account, Data, Mail, Resident, Site, Team, Token, MAX_LOG};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use residentdesk_domain::rules::{self, Interval, Location, Occupant, RuleError, MAX_LOCATION_LEN, MAX_NAME_LEN};
use residentdesk_domain::wire::{ResidentInput, ResidentObject, TokenResponse};
use residentdesk_domain::{InviteKind, StatusChange};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

/// Request counts, for requests-per-change figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Requests that reached a `/v2` route (faulted ones included).
    pub total: u64,
    /// By `"METHOD /v2/route/{template}"`.
    pub by_route: BTreeMap<String, u64>,
    /// By HTTP status answered.
    pub by_status: BTreeMap<u16, u64>,
    /// Injected faults by kind.
    pub faults: BTreeMap<String, u64>,
}

/// Settings that are not faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub token_lifetime_secs: u64,
    pub job_duration_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token_lifetime_secs: assumptions::DEFAULT_TOKEN_LIFETIME_SECS,
            job_duration_ms: assumptions::DEFAULT_JOB_DURATION_MS,
        }
    }
}

/// Everything behind the lock.
#[derive(Debug)]
pub struct World {
    pub data: Data,
    pub clock: SimClock,
    pub settings: Settings,
    pub faults: FaultState,
    /// The contract assumption the answers contradict, if any (see [`crate::contradict`]).
    pub contradiction: Option<crate::contradict::Contradiction>,
    pub stats: Stats,
    /// Deterministic ids (residents, jobs, seeded teams/sites).
    pub ids: StdRng,
    /// Bumped on every mutation; persistence writes when it moved.
    pub version: u64,
    /// Wire objects (without `Status`) of residents as they were when formatted; an entry is
    /// reused only while the stored resident is still equal to the cached copy.
    wire_cache: RefCell<HashMap<String, WireCacheEntry>>,
    /// When the purge scan last ran (simulated time).
    last_scan: Option<DateTime<Utc>>,
    /// Derived indexes over `data.residents` (see [`World::reindex`]).
    index: Index,
    /// Single-resident reads and writes in order, when kept (see [`crate::history`]).
    pub(crate) history: Option<Vec<crate::history::ResidentAccess>>,
}

/// Residents by site (in creation order) and by email, so lists and writes do not walk
/// every resident of a large portfolio.
#[derive(Debug, Default)]
struct Index {
    by_site: HashMap<String, BTreeMap<u64, String>>,
    by_email: HashMap<String, String>,
}

/// A formatted resident and everything its wire form was derived from (the site and SSID
/// too, so a changed time zone or mapping is never served stale).
#[derive(Debug)]
struct WireCacheEntry {
    resident: Resident,
    site: Site,
    ssid: Option<String>,
    wire: ResidentObject,
    /// The object as JSON with the `Status` it was written with (a list answer of a large
    /// site is mostly these bytes, copied: issue #17's scale bench runs the sim in-process).
    json: RefCell<Option<(Vec<String>, bytes::Bytes)>>,
}

/// What a list answer starts with, before its residents.
pub const LIST_PREFIX: &[u8] = br#"{"Error":null,"Residents":["#;
/// What a list answer ends with, after its residents.
pub const LIST_SUFFIX: &[u8] = b"]}";

/// A validated resident body.
#[derive(Debug, Clone)]
pub struct ValidInput {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub location: Location,
    pub interval: Interval,
}

impl World {
    pub fn new(data: Data, clock: SimClock, settings: Settings, faults: FaultConfig, id_seed: u64) -> Self {
        let mut w = World {
            data,
            clock,
            settings,
            faults: FaultState::new(faults),
            contradiction: None,
            stats: Stats::default(),
            ids: StdRng::seed_from_u64(id_seed ^ 0x5eed_51e5),
            version: 0,
            wire_cache: RefCell::new(HashMap::new()),
            last_scan: None,
            index: Index::default(),
            history: None,
        };
        w.reindex();
        w
    }

    /// Rebuilds the derived indexes from `data.residents`. Call it after changing
    /// `data.residents` directly (the handle's `world()` does).
    pub fn reindex(&mut self) {
        self.last_scan = None;
        let mut index = Index::default();
        for r in self.data.residents.values() {
            index.by_site.entry(r.site_id.clone()).or_default().insert(r.seq, r.resident_id.clone());
            index.by_email.insert(r.email.clone(), r.resident_id.clone());
        }
        self.index = index;
    }

    /// Stores a new resident (keeping the indexes).
    pub fn insert_resident(&mut self, r: Resident) {
        self.index.by_site.entry(r.site_id.clone()).or_default().insert(r.seq, r.resident_id.clone());
        self.index.by_email.insert(r.email.clone(), r.resident_id.clone());
        self.data.residents.insert(r.resident_id.clone(), r);
    }

    /// Removes a resident (keeping the indexes).
    pub fn remove_resident(&mut self, id: &str) -> Option<Resident> {
        let r = self.data.residents.remove(id)?;
        if let Some(site) = self.index.by_site.get_mut(&r.site_id) {
            site.remove(&r.seq);
        }
        self.index.by_email.remove(&r.email);
        Some(r)
    }

    /// Whether any resident (expired ones included) holds `email` (normalised).
    pub fn email_taken(&self, email: &str) -> bool {
        self.index.by_email.contains_key(email)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Marks the data changed (for persistence).
    pub fn touch(&mut self) {
        self.version += 1;
    }

    /// A new deterministic UUID string.
    pub fn new_id(&mut self) -> String {
        let mut bytes = [0u8; 16];
        self.ids.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
    }

    pub fn record_mail(&mut self, to: &str, kind: &str, resident_id: Option<&str>) {
        let at = self.now();
        self.data.mail.push(Mail {
            at,
            to: to.to_string(),
            kind: kind.to_string(),
            resident_id: resident_id.map(str::to_string),
        });
        if self.data.mail.len() > MAX_LOG {
            let extra = self.data.mail.len() - MAX_LOG;
            self.data.mail.drain(..extra);
        }
    }

    /// Brings time-driven state up to date: job progress and the automatic purge.
    pub fn tick(&mut self) {
        self.process_jobs();
        let now = self.now();
        // The purge scan walks every resident; once per simulated second is enough (a change
        // that makes a resident due at once clears `last_scan`).
        let fresh = self.last_scan.is_some_and(|at| now >= at && (now - at) < Duration::seconds(1));
        if fresh {
            return;
        }
        self.last_scan = Some(now);
        let retention = Duration::days(assumptions::JOB_RETENTION_DAYS);
        let before = self.data.jobs.len();
        self.data.jobs.retain(|_, j| j.finished_at.is_none_or(|f| now < f || now - f < retention));
        if self.data.jobs.len() != before {
            self.touch();
        }
        let due: Vec<String> = self
            .data
            .residents
            .values()
            .filter(|r| rules::purge_due(r.flags(now), r.deactivation_utc, now))
            .map(|r| r.resident_id.clone())
            .collect();
        if !due.is_empty() {
            for id in due {
                self.remove_resident(&id);
                self.data.auto_purged.push(id);
            }
            if self.data.auto_purged.len() > MAX_LOG {
                let extra = self.data.auto_purged.len() - MAX_LOG;
                self.data.auto_purged.drain(..extra);
            }
            self.touch();
        }
        let expired_tokens: Vec<String> = self
            .data
            .tokens
            .iter()
            .filter(|(_, t)| t.expires_at.checked_add_signed(Duration::days(1)).is_some_and(|e| e < now))
            .map(|(k, _)| k.clone())
            .collect();
        for k in expired_tokens {
            self.data.tokens.remove(&k);
        }
    }

    // ----- auth -------------------------------------------------------------------------

    pub fn account(&self, email: &str) -> Option<&Account> {
        let e = email.trim().to_ascii_lowercase();
        self.data.accounts.iter().find(|a| a.email.to_ascii_lowercase() == e)
    }

    /// `POST /oauth/token` with `Authorization: Password base64(email:password)`.
    pub fn issue_token(&mut self, authorization: Option<&str>) -> ApiResult<TokenResponse> {
        let header = authorization.ok_or_else(|| {
            ApiError::unauthorized("missing Authorization header; expected Password base64(email:password)")
        })?;
        let (scheme, value) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
        if !scheme.eq_ignore_ascii_case(assumptions::TOKEN_AUTH_SCHEME) {
            return Err(ApiError::unauthorized(format!(
                "Authorization scheme must be {}, not {scheme:?}",
                assumptions::TOKEN_AUTH_SCHEME
            )));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                ApiError::unauthorized("Authorization credentials are not valid base64 of email:password")
            })?;
        let (email, password) = decoded
            .split_once(':')
            .ok_or_else(|| ApiError::unauthorized("Authorization credentials must be email:password"))?;
        let account = self
            .account(email)
            .filter(|a| a.password == password)
            .ok_or_else(|| ApiError::unauthorized("invalid email or password"))?
            .email
            .clone();
        let token = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let now = self.now();
        let lifetime = self.settings.token_lifetime_secs;
        self.data.tokens.insert(
            token.clone(),
            Token {
                email: account,
                issued_at: now,
                expires_at: i64::try_from(lifetime)
                    .ok()
                    .and_then(Duration::try_seconds)
                    .and_then(|d| now.checked_add_signed(d))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
            },
        );
        self.touch();
        Ok(TokenResponse {
            access_token: token,
            token_type: Some(assumptions::TOKEN_TYPE.to_string()),
            expires_in: Some(lifetime),
        })
    }

    /// Resolves `Authorization: Bearer <token>` to the account (401 when missing, bad, expired).
    pub fn authenticate(&self, authorization: Option<&str>) -> ApiResult<Account> {
        let header = authorization.ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer token"))?;
        let (scheme, token) = header.trim().split_once(' ').unwrap_or(("", ""));
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(ApiError::unauthorized("Authorization must be Bearer <access_token>"));
        }
        let t = self.data.tokens.get(token.trim()).ok_or_else(|| ApiError::unauthorized("invalid access token"))?;
        if t.expires_at <= self.now() {
            return Err(ApiError::unauthorized("access token expired"));
        }
        self.account(&t.email).cloned().ok_or_else(|| ApiError::unauthorized("the token's account no longer exists"))
    }

    // ----- scope ------------------------------------------------------------------------

    /// Whether `account` can reach `site`.
    pub fn can_see_site(&self, account: &Account, site: &Site) -> bool {
        if account.level.is_team_level() {
            account.team_ids.contains(&site.team_id)
        } else {
            account.site_ids.contains(&site.site_id)
        }
    }

    pub fn can_see_team(&self, account: &Account, team_id: &str) -> bool {
        if account.level.is_team_level() {
            account.team_ids.iter().any(|t| t == team_id)
        } else {
            self.data.sites.iter().any(|s| s.team_id == team_id && self.can_see_site(account, s))
        }
    }

    pub fn visible_teams(&self, account: &Account) -> Vec<&Team> {
        self.data.teams.iter().filter(|t| self.can_see_team(account, &t.team_id)).collect()
    }

    pub fn team(&self, team_id: &str) -> ApiResult<&Team> {
        self.data
            .teams
            .iter()
            .find(|t| t.team_id == team_id)
            .ok_or_else(|| ApiError::not_found(format!("Team {team_id} not found")))
    }

    /// 404 for an unknown team, 403 outside the account's teams.
    pub fn team_in_scope(&self, account: &Account, team_id: &str) -> ApiResult<&Team> {
        let team = self.team(team_id)?;
        if !self.can_see_team(account, team_id) {
            return Err(ApiError::forbidden(format!("account {} is not a member of team {team_id}", account.email)));
        }
        Ok(team)
    }

    pub fn visible_sites(&self, account: &Account, team_id: &str) -> ApiResult<Vec<&Site>> {
        self.team_in_scope(account, team_id)?;
        Ok(self.data.sites.iter().filter(|s| s.team_id == team_id && self.can_see_site(account, s)).collect())
    }

    /// 404 for an unknown team or a site not on it, 403 outside the account's scope.
    pub fn site_in_scope(&self, account: &Account, team_id: &str, site_id: &str) -> ApiResult<Site> {
        self.team_in_scope(account, team_id)?;
        let site = self
            .data
            .sites
            .iter()
            .find(|s| s.site_id == site_id && s.team_id == team_id)
            .ok_or_else(|| ApiError::not_found(format!("Site {site_id} not found on team {team_id}")))?;
        if !self.can_see_site(account, site) {
            return Err(ApiError::forbidden(format!(
                "account {} is not a member of site {site_id}; staff users see only their own sites",
                account.email
            )));
        }
        Ok(site.clone())
    }

    pub fn site(&self, site_id: &str) -> Option<&Site> {
        self.data.sites.iter().find(|s| s.site_id == site_id)
    }

    // ----- residents --------------------------------------------------------------------

    /// The SSID of the mapping a resident lives in.
    pub fn ssid_of(&self, r: &Resident) -> Option<&str> {
        self.data.mappings.get(&r.site_id).and_then(|ms| {
            ms.iter()
                .find(|m| m.building == r.building && m.floor == r.floor && m.unit == r.unit)
                .map(|m| m.ssid.as_str())
        })
    }

    pub fn resident_wire(&self, r: &Resident) -> ResidentObject {
        let now = self.now();
        match self.site(&r.site_id) {
            Some(site) => r.to_wire(site, self.ssid_of(r), now),
            None => ResidentObject { resident_id: Some(r.resident_id.clone()), ..ResidentObject::default() },
        }
    }

    /// The list answer of `site` (`{"Error":null,"Residents":[...]}`) as JSON bytes: the same
    /// bytes as [`Self::site_wire_list`] serialized, from each resident's cached JSON
    /// ([`Self::site_wire_parts`] joined).
    pub fn site_wire_json(&self, site: &Site) -> Vec<u8> {
        let parts = self.site_wire_parts(site);
        let mut out = Vec::with_capacity(LIST_PREFIX.len() + parts.iter().map(|p| p.len() + 1).sum::<usize>() + 2);
        out.extend_from_slice(LIST_PREFIX);
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(part);
        }
        out.extend_from_slice(LIST_SUFFIX);
        out
    }

    /// Each resident object of `site`'s list answer, in order, as its cached JSON shared with
    /// the cache (nothing is copied for a resident whose cache entry still holds): the answer
    /// is [`LIST_PREFIX`], these joined by commas, [`LIST_SUFFIX`]. A large site's answer can
    /// so be sent without being built (issue #17's bench runs the simulator in-process).
    pub fn site_wire_parts(&self, site: &Site) -> Vec<bytes::Bytes> {
        let now = self.now();
        let ssids = self.site_ssids(site);
        let mut cache = self.wire_cache.borrow_mut();
        let residents = self.site_residents(&site.site_id);
        let mut out = Vec::with_capacity(residents.len());
        for r in residents {
            let flags = r.flags(now);
            if !assumptions::LIST_INCLUDES_EXPIRED && flags.is_expired() {
                continue;
            }
            let ssid = ssids.get(&(r.building.as_str(), r.floor.as_str(), r.unit.as_str())).copied();
            let entry = Self::cached_wire(&mut cache, r, site, ssid, now);
            let status = flags.to_strings();
            let mut json = entry.json.borrow_mut();
            match json.as_ref() {
                Some((written, bytes)) if *written == status => out.push(bytes.clone()),
                _ => {
                    let mut wire = entry.wire.clone();
                    wire.status = status.clone();
                    let bytes = bytes::Bytes::from(serde_json::to_vec(&wire).unwrap_or_default());
                    out.push(bytes.clone());
                    *json = Some((status, bytes));
                }
            }
        }
        drop(cache);
        self.trim_wire_cache();
        out
    }

    /// Each unit's SSID at `site` (from its mappings).
    fn site_ssids(&self, site: &Site) -> std::collections::HashMap<(&str, &str, &str), &str> {
        self.data
            .mappings
            .get(&site.site_id)
            .map(|ms| {
                ms.iter().map(|m| ((m.building.as_str(), m.floor.as_str(), m.unit.as_str()), m.ssid.as_str())).collect()
            })
            .unwrap_or_default()
    }

    /// The cache entry of `r` as listed at `site` (its wire object without `Status`), made
    /// again when the resident, its site or its unit's SSID changed since it was cached.
    fn cached_wire<'c>(
        cache: &'c mut HashMap<String, WireCacheEntry>,
        r: &Resident,
        site: &Site,
        ssid: Option<&str>,
        now: DateTime<Utc>,
    ) -> &'c WireCacheEntry {
        let fresh = matches!(cache.get(&r.resident_id), Some(e) if e.resident == *r && e.site == *site && e.ssid.as_deref() == ssid);
        if !fresh {
            let mut wire = r.to_wire(site, ssid, now);
            wire.status = Vec::new();
            let entry = WireCacheEntry {
                resident: r.clone(),
                site: site.clone(),
                ssid: ssid.map(str::to_string),
                wire,
                json: RefCell::new(None),
            };
            cache.insert(r.resident_id.clone(), entry);
        }
        &cache[&r.resident_id]
    }

    /// Forgets the entries of residents gone from the world once they outnumber the living.
    fn trim_wire_cache(&self) {
        let mut cache = self.wire_cache.borrow_mut();
        if cache.len() > 4 * self.data.residents.len() + 1024 {
            cache.retain(|id, _| self.data.residents.contains_key(id));
        }
    }

    /// Every resident of `site` as the API lists them, in creation order.
    pub fn site_wire_list(&self, site: &Site) -> Vec<ResidentObject> {
        let now = self.now();
        let ssids = self.site_ssids(site);
        let mut cache = self.wire_cache.borrow_mut();
        let mut out = Vec::new();
        for r in self.site_residents(&site.site_id) {
            let flags = r.flags(now);
            if !assumptions::LIST_INCLUDES_EXPIRED && flags.is_expired() {
                continue;
            }
            let ssid = ssids.get(&(r.building.as_str(), r.floor.as_str(), r.unit.as_str())).copied();
            let mut wire = Self::cached_wire(&mut cache, r, site, ssid, now).wire.clone();
            wire.status = flags.to_strings();
            out.push(wire);
        }
        drop(cache);
        self.trim_wire_cache();
        out
    }

    /// Residents of a site in creation order.
    pub fn site_residents(&self, site_id: &str) -> Vec<&Resident> {
        self.index
            .by_site
            .get(site_id)
            .map(|ids| ids.values().filter_map(|id| self.data.residents.get(id)).collect())
            .unwrap_or_default()
    }

    /// The resident `id` of `site` (404 otherwise).
    pub fn resident_on_site(&self, site: &Site, id: &str) -> ApiResult<&Resident> {
        self.data
            .residents
            .get(id)
            .filter(|r| r.site_id == site.site_id)
            .ok_or_else(|| ApiError::not_found(format!("Resident {id} not found on site {}", site.site_id)))
    }

    /// Validates a POST/PUT body against the site's rules. `existing` is the resident being
    /// updated (its email is kept, and it does not conflict with itself).
    pub fn validate_input(
        &self,
        site: &Site,
        input: &ResidentInput,
        existing: Option<&Resident>,
    ) -> Result<ValidInput, RuleError> {
        let first_name = rules::validate_text("FirstName", &input.first_name, true, MAX_NAME_LEN)?;
        let last_name = rules::validate_text("LastName", &input.last_name, true, MAX_NAME_LEN)?;
        let email = match existing {
            // Email is immutable: on PUT a changed Email is ignored, as the vendor documents.
            Some(_) => None,
            None => {
                let raw = input.email.as_deref().ok_or(RuleError::Required { field: "Email".into() })?;
                let email = rules::normalize_email(raw)?;
                if self.email_taken(&email) {
                    return Err(RuleError::EmailTaken { email });
                }
                Some(email)
            }
        };
        let phone = match input.phone_number.as_deref() {
            None => None,
            Some(p) => Some(rules::validate_phone(p)?).filter(|p| !p.is_empty()),
        };
        let location = Location {
            building: rules::validate_text("Building", &input.building, true, MAX_LOCATION_LEN)?,
            floor: rules::validate_text("Floor", &input.floor, true, MAX_LOCATION_LEN)?,
            unit: rules::validate_text("Unit", &input.unit, true, MAX_LOCATION_LEN)?,
        };
        // Only the candidate mapping with the same Building is handed to the rule, so a site
        // with thousands of mappings does not copy them all on every write.
        let candidates: Vec<Location> = self
            .data
            .mappings
            .get(&site.site_id)
            .into_iter()
            .flatten()
            .filter(|m| m.building == location.building && m.floor == location.floor && m.unit == location.unit)
            .map(|m| m.location())
            .collect();
        rules::check_mapping(&candidates, &location)?;
        let start = parse_input_instant("ActivationDateUTC", &input.activation_date_utc)?;
        let end = match input.deactivation_date_utc.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(parse_input_instant("DeactivationDateUTC", text)?),
        };
        let interval = Interval::new(start, end)?;
        let now = self.now();
        let self_id = existing.map(|r| r.resident_id.as_str());
        let same_unit = self.site_residents(&site.site_id).into_iter().filter(|r| {
            Some(r.resident_id.as_str()) != self_id
                && r.unit == location.unit
                && r.floor == location.floor
                && r.building == location.building
        });
        rules::check_occupancy(
            &location.unit,
            &interval,
            now,
            same_unit.map(|r| Occupant { label: &r.email, interval: r.interval(), flags: r.flags(now) }),
        )?;
        Ok(ValidInput { first_name, last_name, email, phone, location, interval })
    }

    /// Adds a resident (rules already include email uniqueness and occupancy).
    pub fn create_resident(&mut self, site: &Site, input: &ResidentInput) -> Result<Resident, RuleError> {
        let v = self.validate_input(site, input, None)?;
        let now = self.now();
        let id = self.new_id();
        self.data.next_seq += 1;
        let r = Resident {
            resident_id: id.clone(),
            site_id: site.site_id.clone(),
            first_name: v.first_name,
            last_name: v.last_name,
            email: v.email.unwrap_or_default(),
            phone: v.phone,
            building: v.location.building,
            floor: v.location.floor,
            unit: v.location.unit,
            activation_utc: v.interval.start,
            deactivation_utc: v.interval.end,
            onboarded_at: None,
            suspended: false,
            seq: self.data.next_seq,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        self.insert_resident(r.clone());
        self.touch();
        Ok(r)
    }

    /// Updates the editable fields (a changed Email is ignored). Reactivates an expired
    /// resident when the new interval is not over.
    pub fn update_resident(&mut self, site: &Site, id: &str, input: &ResidentInput) -> ApiResult<Resident> {
        let existing = self.resident_on_site(site, id)?.clone();
        let v = self.validate_input(site, input, Some(&existing))?;
        let now = self.now();
        let r =
            self.data.residents.get_mut(id).ok_or_else(|| ApiError::not_found(format!("Resident {id} not found")))?;
        r.first_name = v.first_name;
        r.last_name = v.last_name;
        r.phone = v.phone;
        r.building = v.location.building;
        r.floor = v.location.floor;
        r.unit = v.location.unit;
        r.activation_utc = v.interval.start;
        r.deactivation_utc = v.interval.end;
        r.updated_at = now;
        r.version += 1;
        let out = r.clone();
        if rules::purge_due(out.flags(now), out.deactivation_utc, now) {
            self.last_scan = None;
        }
        self.touch();
        Ok(out)
    }

    /// Terminate: expired at once, deactivation the day before in the site's time zone, but
    /// never before the access start (`rules::termination_end`: a resident whose access has
    /// not started gets an empty stay, end = start).
    pub fn terminate(&mut self, site: &Site, id: &str) -> ApiResult<()> {
        let now = self.now();
        let r = self.resident_on_site(site, id)?;
        if r.flags(now).is_expired() && assumptions::TERMINATE_EXPIRED_IS_NOOP {
            return Ok(());
        }
        let end = rules::termination_end(r.activation_utc, now, site.tz());
        if let Some(r) = self.data.residents.get_mut(id) {
            r.deactivation_utc = Some(end);
            r.updated_at = now;
            r.version += 1;
        }
        self.touch();
        Ok(())
    }

    /// Terminate + purge: removes a non-expired resident at once.
    pub fn purge(&mut self, site: &Site, id: &str) -> ApiResult<()> {
        let now = self.now();
        let r = self.resident_on_site(site, id)?;
        rules::check_purge(r.flags(now))?;
        self.remove_resident(id);
        self.touch();
        Ok(())
    }

    /// Resend invite: invitation when not onboarded, Wi-Fi details when onboarded.
    pub fn invite(&mut self, site: &Site, id: &str) -> ApiResult<InviteKind> {
        let now = self.now();
        let r = self.resident_on_site(site, id)?;
        let kind = rules::invite_kind(r.flags(now), r.onboarded_at.is_some())?;
        let email = r.email.clone();
        self.record_mail(&email, mail_kind(kind), Some(id));
        self.touch();
        Ok(kind)
    }

    pub fn psk_reset(&mut self, site: &Site, id: &str) -> ApiResult<()> {
        let now = self.now();
        let r = self.resident_on_site(site, id)?;
        rules::check_psk_reset(&site.kind(), r.flags(now))?;
        let email = r.email.clone();
        self.record_mail(&email, "psk_reset", Some(id));
        self.touch();
        Ok(())
    }

    /// Suspend / unsuspend; outside their states a no-op, not an error. Returns whether it applied.
    pub fn set_status(&mut self, site: &Site, id: &str, change: StatusChange) -> ApiResult<bool> {
        let now = self.now();
        let r = self.resident_on_site(site, id)?;
        if !change.applies_to(r.flags(now)) {
            return Ok(false);
        }
        if let Some(r) = self.data.residents.get_mut(id) {
            r.suspended = change == StatusChange::Disabled;
            r.updated_at = now;
            r.version += 1;
        }
        self.touch();
        Ok(true)
    }

    /// Completes a resident's onboarding (test control): sets `OnboardedAt`, clears pending.
    pub fn onboard(&mut self, id: &str) -> ApiResult<Resident> {
        let now = self.now();
        let r =
            self.data.residents.get_mut(id).ok_or_else(|| ApiError::not_found(format!("Resident {id} not found")))?;
        if r.onboarded_at.is_none() {
            r.onboarded_at = Some(truncate(now));
            r.updated_at = now;
            r.version += 1;
        }
        let out = r.clone();
        self.touch();
        Ok(out)
    }

    /// Adds or replaces an account (test control).
    pub fn upsert_account(&mut self, mut account: Account) -> ApiResult<()> {
        account.email = account.email.trim().to_string();
        if account.email.is_empty() || !account.email.contains('@') {
            return Err(ApiError::bad_request("email must be an address"));
        }
        if account.password.is_empty() {
            return Err(ApiError::bad_request("password is required"));
        }
        for t in &account.team_ids {
            self.team(t).map_err(|_| ApiError::bad_request(format!("team_ids: unknown team {t}")))?;
        }
        for s in &account.site_ids {
            if self.site(s).is_none() {
                return Err(ApiError::bad_request(format!("site_ids: unknown site {s}")));
            }
        }
        let key = account.email.to_ascii_lowercase();
        self.data.accounts.retain(|a| a.email.to_ascii_lowercase() != key);
        self.data.accounts.push(account);
        self.touch();
        Ok(())
    }

    /// Grace period end of an expired resident (for display in `/__sim/state`).
    pub fn purge_at(r: &Resident) -> Option<DateTime<Utc>> {
        r.deactivation_utc.map(|d| d + Duration::days(GRACE_DAYS))
    }
}

/// What a resend-invite e-mail is called in the mail log.
pub fn mail_kind(kind: InviteKind) -> &'static str {
    match kind {
        InviteKind::Invitation => "invitation",
        InviteKind::WifiDetails => "wifi_details",
    }
}

/// Parses an input instant: RFC 3339 with an offset, as the `...UTC` fields require.
pub fn parse_input_instant(field: &str, text: &str) -> Result<DateTime<Utc>, RuleError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(RuleError::Required { field: field.to_string() });
    }
    DateTime::parse_from_rfc3339(t).map(|d| truncate(d.with_timezone(&Utc))).map_err(|_| RuleError::Invalid {
        field: field.to_string(),
        reason: format!("{t:?} is not an ISO 8601 date-time with offset such as 2021-11-05T21:10:22+00:00"),
        why: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;
    use chrono::TimeZone;

    fn world() -> World {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let data = Seed::bench(5, now).into_data(1).unwrap();
        World::new(data, SimClock::frozen(now), Settings::default(), FaultConfig::default(), 1)
    }

    fn input(email: &str, unit: &str, start: DateTime<Utc>) -> ResidentInput {
        ResidentInput {
            first_name: "A".into(),
            last_name: "B".into(),
            email: Some(email.into()),
            phone_number: None,
            building: "B0".into(),
            floor: "0".into(),
            unit: unit.into(),
            activation_date_utc: start.to_rfc3339(),
            deactivation_date_utc: None,
        }
    }

    /// Site → resident ids, and email → resident id, both sorted.
    type IndexView = (Vec<(String, Vec<String>)>, Vec<(String, String)>);

    fn index_snapshot(w: &World) -> IndexView {
        let mut sites: Vec<(String, Vec<String>)> =
            w.index.by_site.iter().map(|(k, v)| (k.clone(), v.values().cloned().collect())).collect();
        sites.retain(|(_, v)| !v.is_empty());
        sites.sort();
        let mut emails: Vec<(String, String)> = w.index.by_email.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        emails.sort();
        (sites, emails)
    }

    /// The cached JSON answer is byte for byte what serializing the list gives, also after
    /// a resident's status moves (terminated: its cached bytes must not be reused).
    #[test]
    fn the_cached_list_answer_is_the_serialized_list() {
        let mut w = world();
        let site = w.site("site-bench").cloned().unwrap();
        let expect = |w: &World| {
            let residents = w.site_wire_list(&site);
            serde_json::to_vec(&residentdesk_domain::wire::ResidentsEnvelope { error: None, residents }).unwrap()
        };
        assert_eq!(w.site_wire_json(&site), expect(&w));
        assert_eq!(w.site_wire_json(&site), expect(&w), "from the cache");
        let now = w.now();
        let a = w.create_resident(&site, &input("a@x.example", "00010", now)).unwrap();
        w.terminate(&site, &a.resident_id).unwrap();
        assert_eq!(w.site_wire_json(&site), expect(&w));
        w.clock.advance(Duration::days(3));
        assert_eq!(w.site_wire_json(&site), expect(&w));
    }

    #[test]
    fn indexes_follow_creates_purges_and_the_automatic_purge() {
        let mut w = world();
        let site = w.site("site-bench").cloned().unwrap();
        let now = w.now();
        let a = w.create_resident(&site, &input("a@x.example", "00010", now)).unwrap();
        let b = w.create_resident(&site, &input("b@x.example", "00011", now)).unwrap();
        assert!(w.email_taken("a@x.example"));
        assert_eq!(w.site_residents("site-bench").len(), 7);
        w.purge(&site, &a.resident_id).unwrap();
        assert!(!w.email_taken("a@x.example"));
        w.terminate(&site, &b.resident_id).unwrap();
        w.clock.advance(Duration::days(40));
        w.tick();
        assert!(!w.data.residents.contains_key(&b.resident_id));
        assert!(!w.email_taken("b@x.example"));
        let incremental = index_snapshot(&w);
        w.reindex();
        assert_eq!(incremental, index_snapshot(&w));
    }

    /// The simulator's side of issue #13's corner cases (the core's side is in `tests/it`).
    #[test]
    fn terminate_before_start_back_dated_stays_and_invite_on_scheduled() {
        let mut w = world();
        let site = w.site("site-bench").cloned().unwrap();
        let now = w.now();
        // Terminating a scheduled resident: end = start, expired, and a PUT afterwards works.
        let later = w.create_resident(&site, &input("later@x.example", "00020", now + Duration::days(30))).unwrap();
        assert!(rules::invite_kind(later.flags(now), false).is_err());
        assert!(w.invite(&site, &later.resident_id).is_err(), "no invitation before the activation date");
        w.terminate(&site, &later.resident_id).unwrap();
        let r = w.data.residents[&later.resident_id].clone();
        assert_eq!(r.deactivation_utc, Some(r.activation_utc));
        assert!(r.flags(now).is_expired());
        let mut rename = input("later@x.example", "00020", r.activation_utc);
        rename.first_name = "Renamed".into();
        rename.deactivation_date_utc = Some(r.activation_utc.to_rfc3339());
        assert_eq!(w.update_resident(&site, &later.resident_id, &rename).unwrap().first_name, "Renamed");
        // A back-dated stay that is over frees the unit, even over a current tenancy.
        w.create_resident(&site, &input("now@x.example", "00021", now - Duration::days(40))).unwrap();
        let mut past = input("past@x.example", "00021", now - Duration::days(30));
        past.deactivation_date_utc = Some((now - Duration::days(20)).to_rfc3339());
        assert!(w.create_resident(&site, &past).is_ok());
        let overlap = w.create_resident(&site, &input("overlap@x.example", "00021", now + Duration::days(5)));
        assert!(overlap.unwrap_err().is_conflict());
    }

    #[test]
    fn email_rule_is_case_insensitive_and_occupancy_ignores_the_resident_itself() {
        let mut w = world();
        let site = w.site("site-bench").cloned().unwrap();
        let now = w.now();
        let r = w.create_resident(&site, &input("Case@X.example", "00012", now)).unwrap();
        assert_eq!(r.email, "case@x.example");
        let dup = w.create_resident(&site, &input("CASE@x.example", "00013", now)).unwrap_err();
        assert!(dup.is_conflict());
        // Updating in place does not conflict with the resident's own tenancy.
        let mut upd = input("ignored@x.example", "00012", now);
        upd.first_name = "Z".into();
        let out = w.update_resident(&site, &r.resident_id, &upd).unwrap();
        assert_eq!((out.first_name.as_str(), out.email.as_str()), ("Z", "case@x.example"));
    }
}
