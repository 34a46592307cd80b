//! Resident use cases: add, update, show, list, search, and the lifecycle actions
//! (suspend, unsuspend, terminate, purge, invite, PSK reset).

use super::gate::{audit_by, At, Run};
use super::outcomes::ActionSaid;
use super::usecases::{self as uc, UseCase};
use super::{site_ref, App, Session};
use crate::access::{Feature, Target};
use crate::error::{AppError, AppResult, ErrorDetails};
use crate::store::{self, outbox::NewEntry, residents::Resident, residents::ResidentFields, sites::Site, JsonText};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use residentdesk_domain::dates::{format_wire_utc, parse_user_datetime, site_local};
use residentdesk_domain::rules::{self, Interval, Location, Occupant, RuleError};
use residentdesk_domain::{wire, InviteKind, MainStatus, Marker, OutboxOp, ResidentField, StatusChange, StatusFlags};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A new resident as typed by a person: the shared vocabulary type of `domain/`.
pub use residentdesk_domain::input::ResidentInput;

/// Changes to a resident; `None` leaves a field as it is. `end: Some("")` clears the end.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ResidentPatch {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    /// Only accepted when unchanged: the email is immutable.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub building: Option<String>,
    #[serde(default)]
    pub floor: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
}

pub use crate::error::FieldProblem;

pub(crate) fn problems_to_error(problems: Vec<FieldProblem>) -> AppError {
    let first = problems.first().map(|p| p.message.clone()).unwrap_or_default();
    let message =
        if problems.len() <= 1 { first } else { format!("{first} (and {} more problems)", problems.len() - 1) };
    AppError::invalid(message).with_details(ErrorDetails::problems(problems))
}

/// A resident with its derived status and its dates as the site's calendar days, as every
/// edge shows it (the `..._utc` instants stay for machines; people read the site's days).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ResidentView {
    #[serde(flatten)]
    pub resident: Resident,
    #[cfg_attr(
        feature = "ts",
        ts(type = "Array<\"scheduled\" | \"current\" | \"pending\" | \"suspended\" | \"expired\">")
    )]
    pub status: StatusFlags,
    /// The one status a person reads (issue #18), decided from `status` in the domain.
    pub main_status: MainStatus,
    /// The secondary markers (invitation not accepted, waiting to sync, in conflict). Lists,
    /// search and show include the sync markers; a write's outcome carries the flags' own
    /// (the list reloaded after it shows the rest).
    pub markers: Vec<Marker>,
    pub site_name: String,
    /// The site's IANA time zone, in which the days below are meant.
    pub time_zone: String,
    /// The access start as the site's calendar day, `YYYY-MM-DD` (what the form shows and
    /// takes back unchanged).
    pub start_day: String,
    /// The access start's wall-clock time at the site, `HH:MM`, when it is not midnight.
    pub start_time: Option<String>,
    /// The access end as the site's calendar day; `None`: open-ended.
    pub end_day: Option<String>,
    pub end_time: Option<String>,
}

impl ResidentView {
    fn new(resident: Resident, site: &Site, now: DateTime<Utc>) -> Self {
        let status = resident.flags(now);
        ResidentView::with_status(resident, status, site.name.clone(), &site.time_zone, site_tz(site))
    }

    /// The view of `resident` at a site named `site_name` in the zone `tz` (named `zone`).
    pub(crate) fn with_status(resident: Resident, status: StatusFlags, site_name: String, zone: &str, tz: Tz) -> Self {
        let start = site_local(resident.activation_utc, tz);
        let end = resident.deactivation_utc.map(|d| site_local(d, tz));
        ResidentView {
            start_day: start.day_text(),
            start_time: start.time_text(),
            end_day: end.map(|e| e.day_text()),
            end_time: end.and_then(|e| e.time_text()),
            main_status: status.main(),
            markers: Marker::of(status, false, false),
            resident,
            status,
            site_name,
            time_zone: zone.to_string(),
        }
    }

    /// This view with the sync markers `marks` records for it.
    fn marked(mut self, marks: &store::residents::SyncMarks) -> Self {
        self.markers = marks.markers(self.resident.id, self.status);
        self
    }
}

/// The result of a lifecycle action: what happened, and the resident afterwards (absent
/// once purged).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActionOutcome {
    /// `done` or `no_op`.
    pub outcome: String,
    /// In English (the CLI's words).
    pub message: String,
    /// The same, as a code with its parameters (what the desktop says in the person's language).
    pub said: ActionSaid,
    pub resident: Option<ResidentView>,
    /// What [`App::resident_undo`] needs to take the change back while it is unsent (absent
    /// for actions that cannot be undone, and for no-ops).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub undo: Option<super::undo::UndoHandle>,
}

/// What a lifecycle action did, for its outcome and audit entry.
pub(crate) struct Effect {
    /// False for a no-op (nothing written but the audit entry).
    pub done: bool,
    pub said: ActionSaid,
    pub details: Value,
    /// The outbox entries an undo would withdraw (empty: nothing to undo).
    pub undo: Vec<i64>,
}

/// List filters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ResidentFilter {
    #[serde(default)]
    #[cfg_attr(
        feature = "ts",
        ts(type = "Array<\"scheduled\" | \"current\" | \"pending\" | \"suspended\" | \"expired\">")
    )]
    pub statuses: Vec<residentdesk_domain::StatusFlag>,
    /// Main statuses to keep (any of them); empty: every one. Optional in TypeScript, so
    /// callers that filter by nothing need not name it.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(as = "Option<Vec<MainStatus>>", optional))]
    pub main: Vec<MainStatus>,
    /// Markers a resident must carry (any of them); empty: no condition.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(as = "Option<Vec<Marker>>", optional))]
    pub markers: Vec<Marker>,
    #[serde(default)]
    pub building: Option<String>,
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub limit: Option<usize>,
}

impl ResidentFilter {
    /// Whether a resident passes the filters, its markers included (`marks`: the sync markers
    /// of its site).
    pub fn matches_marked(&self, r: &Resident, flags: StatusFlags, marks: &store::residents::SyncMarks) -> bool {
        if !self.matches(r, flags) {
            return false;
        }
        self.markers.is_empty() || marks.markers(r.id, flags).iter().any(|m| self.markers.contains(m))
    }

    /// Whether a resident passes the status, building and search filters (not the markers:
    /// [`ResidentFilter::matches_marked`]).
    pub fn matches(&self, r: &Resident, flags: StatusFlags) -> bool {
        if !self.statuses.is_empty() && !self.statuses.iter().any(|s| flags.contains(*s)) {
            return false;
        }
        if !self.main.is_empty() && !self.main.contains(&flags.main()) {
            return false;
        }
        if let Some(b) = self.building.as_deref().filter(|b| !b.is_empty()) {
            if !r.building.eq_ignore_ascii_case(b) {
                return false;
            }
        }
        if let Some(q) = self.search.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let q = q.to_lowercase();
            let hit = [&r.first_name, &r.last_name, &r.email, &r.unit].iter().any(|f| f.to_lowercase().starts_with(&q))
                || r.full_name().to_lowercase().starts_with(&q);
            if !hit {
                return false;
            }
        }
        true
    }
}

/// The site's time zone (validated when the site was stored; UTC as a last resort).
pub(crate) fn site_tz(site: &Site) -> Tz {
    site.time_zone.parse().unwrap_or(chrono_tz::UTC)
}

/// The wire body the remote expects for this resident (POST, PUT, import item).
pub fn wire_input(r: &Resident) -> wire::ResidentInput {
    r.wire_input()
}

/// The editable fields as API name → value, for merge bases and audit before/after.
pub fn field_values(r: &Resident) -> Value {
    serde_json::to_value(wire_input(r)).unwrap_or(Value::Null)
}

/// Validates a new resident against every rule (text, email format and uniqueness,
/// mapping, dates, occupancy). Returns the normalised email and fields, or every problem.
pub fn validate_new(
    conn: &Connection,
    site: &Site,
    input: &ResidentInput,
    now: DateTime<Utc>,
) -> Result<(String, ResidentFields), Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let email = match rules::normalize_email(&input.email) {
        Ok(email) => match store::residents::by_email(conn, &email) {
            Ok(Some(existing)) => {
                let hint = if existing.flags(now).is_expired() {
                    " (an expired resident keeps their email for the 31-day grace period; reactivate them by updating their access end instead)"
                } else {
                    ""
                };
                let rule = RuleError::EmailTaken { email: email.clone() };
                problems.push(FieldProblem { message: format!("{rule}{hint}"), ..FieldProblem::from(rule) });
                None
            }
            Ok(None) => Some(email),
            Err(e) => {
                problems.push(FieldProblem::new(ResidentField::Email, format!("cannot check email: {e}")));
                None
            }
        },
        Err(e) => {
            problems.push(e.into());
            None
        }
    };
    let fields = check_fields(conn, site, None, FieldsText::from_input(input), now, &mut problems);
    match (email, fields) {
        (Some(email), Some(fields)) if problems.is_empty() => Ok((email, fields)),
        _ => Err(problems),
    }
}

/// The editable fields as text, before validation.
struct FieldsText<'a> {
    first_name: &'a str,
    last_name: &'a str,
    phone: &'a str,
    building: &'a str,
    floor: &'a str,
    unit: &'a str,
    start: Result<DateTime<Utc>, &'a str>,
    end: Option<Result<DateTime<Utc>, &'a str>>,
}

impl<'a> FieldsText<'a> {
    fn from_input(i: &'a ResidentInput) -> Self {
        FieldsText {
            first_name: &i.first_name,
            last_name: &i.last_name,
            phone: i.phone.as_deref().unwrap_or(""),
            building: &i.building,
            floor: &i.floor,
            unit: &i.unit,
            start: Err(&i.start),
            end: i.end.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(Err),
        }
    }
}

/// Validates the editable fields; occupancy is checked against the unit's other residents
/// (all but `exclude`). Pushes problems and returns the fields when they are all valid.
/// The checks of an update (text, phone, mapping, interval, occupancy) on fields that come
/// from elsewhere than a form — a conflict's resolution picks them from both sides — so a
/// resolution can never store what an update would refuse.
pub(crate) fn check_resident_fields(
    conn: &Connection,
    site: &Site,
    resident_id: i64,
    f: &ResidentFields,
    now: DateTime<Utc>,
) -> AppResult<ResidentFields> {
    let text = FieldsText {
        first_name: &f.first_name,
        last_name: &f.last_name,
        phone: &f.phone,
        building: &f.building,
        floor: &f.floor,
        unit: &f.unit,
        start: Ok(f.activation_utc),
        end: f.deactivation_utc.map(Ok),
    };
    let mut problems = Vec::new();
    match check_fields(conn, site, Some(resident_id), text, now, &mut problems) {
        Some(checked) if problems.is_empty() => Ok(checked),
        _ => Err(problems_to_error(problems)),
    }
}

fn check_fields(
    conn: &Connection,
    site: &Site,
    exclude: Option<i64>,
    t: FieldsText<'_>,
    now: DateTime<Utc>,
    problems: &mut Vec<FieldProblem>,
) -> Option<ResidentFields> {
    let tz = site_tz(site);
    let mut ok = |r: Result<String, RuleError>| match r {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(e.into());
            None
        }
    };
    let first_name =
        ok(rules::validate_text(ResidentField::FirstName.as_str(), t.first_name, true, rules::MAX_NAME_LEN));
    let last_name = ok(rules::validate_text(ResidentField::LastName.as_str(), t.last_name, true, rules::MAX_NAME_LEN));
    let phone = ok(rules::validate_phone(t.phone));
    let building =
        ok(rules::validate_text(ResidentField::Building.as_str(), t.building, true, rules::MAX_LOCATION_LEN));
    let floor = ok(rules::validate_text(ResidentField::Floor.as_str(), t.floor, true, rules::MAX_LOCATION_LEN));
    let unit = ok(rules::validate_text(ResidentField::Unit.as_str(), t.unit, true, rules::MAX_LOCATION_LEN));
    let mut date = |field: &str, v: Result<DateTime<Utc>, &str>| match v {
        Ok(d) => Some(d),
        Err(text) => match parse_user_datetime(field, text, tz) {
            Ok(d) => Some(d),
            Err(e) => {
                problems.push(e.into());
                None
            }
        },
    };
    let start = date(ResidentField::ActivationDateUTC.as_str(), t.start);
    let end = match t.end {
        None => Some(None),
        Some(v) => date(ResidentField::DeactivationDateUTC.as_str(), v).map(Some),
    };
    let (
        Some(first_name),
        Some(last_name),
        Some(phone),
        Some(building),
        Some(floor),
        Some(unit),
        Some(start),
        Some(end),
    ) = (first_name, last_name, phone, building, floor, unit, start, end)
    else {
        return None;
    };
    let interval = match Interval::new(start, end) {
        Ok(i) => i,
        Err(e) => {
            problems.push(e.into());
            return None;
        }
    };
    let loc = Location { building: building.clone(), floor: floor.clone(), unit: unit.clone() };
    match store::sites::has_mapping(conn, site.id, &loc) {
        Ok(true) => {}
        Ok(false) => {
            problems.push(
                RuleError::NotAMapping {
                    building: loc.building.clone(),
                    floor: loc.floor.clone(),
                    unit: loc.unit.clone(),
                }
                .into(),
            );
            return None;
        }
        Err(e) => {
            problems.push(FieldProblem::new(ResidentField::Unit, format!("cannot check mappings: {e}")));
            return None;
        }
    }
    let fields = ResidentFields {
        first_name,
        last_name,
        phone,
        building,
        floor,
        unit,
        activation_utc: start,
        deactivation_utc: end,
    };
    // Whether a stay that is already over needs checking is the occupancy rule's decision.
    if let Err(p) = check_unit_free(conn, site.id, &fields, &interval, exclude, now) {
        problems.push(p);
        return None;
    }
    Some(fields)
}

/// One resident per unit per date ([`rules::check_occupancy`], both halves) for `interval`
/// in the unit of `f`, against the unit's other residents (all but `exclude`).
pub(crate) fn check_unit_free(
    conn: &Connection,
    site_id: i64,
    f: &ResidentFields,
    interval: &Interval,
    exclude: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), FieldProblem> {
    let others = store::residents::in_unit(conn, site_id, &f.building, &f.floor, &f.unit, exclude)
        .map_err(|e| FieldProblem::new(ResidentField::Unit, format!("cannot check occupancy: {e}")))?;
    let labels: Vec<String> = others.iter().map(|o| format!("{} ({})", o.full_name(), o.email)).collect();
    let occupants = others.iter().zip(&labels).map(|(o, label)| Occupant {
        label,
        interval: Interval { start: o.activation_utc, end: o.deactivation_utc },
        flags: o.flags(now),
    });
    rules::check_occupancy(&f.unit, interval, now, occupants).map_err(FieldProblem::from)
}

/// Finds a resident by local id, remote id or email, within what the session may see.
pub(crate) fn resolve_resident(conn: &Connection, session: &Session, reference: &str) -> AppResult<(Resident, Site)> {
    let reference = reference.trim();
    let not_found = || AppError::not_found(format!("no resident {reference:?} among the sites you can see"));
    let found = if reference.contains('@') {
        store::residents::by_email(conn, &reference.to_ascii_lowercase())?
    } else if let Ok(id) = reference.parse::<i64>() {
        store::residents::get(conn, id)?
    } else {
        store::residents::by_remote_id(conn, reference)?
    };
    let resident = found.ok_or_else(not_found)?;
    let site = store::sites::get(conn, resident.site_id)?.ok_or_else(not_found)?;
    // Outside the active team or the person's sites, the resident does not exist for them.
    if !crate::access::authorize(&session.actor, Feature::ViewIndividualSites, Target::Site(&site_ref(&site)))
        .is_allowed()
    {
        return Err(not_found());
    }
    Ok((resident, site))
}

/// The last-pulled values of the given fields (the base a 3-way merge compares against).
pub(crate) fn base_of(conn: &Connection, resident_id: i64, fields: &[&str]) -> AppResult<Value> {
    let base = store::residents::remote_base(conn, resident_id)?;
    let mut out = serde_json::Map::new();
    for f in fields {
        out.insert((*f).to_string(), base.as_ref().and_then(|b| b.get(*f)).cloned().unwrap_or(Value::Null));
    }
    Ok(Value::Object(out))
}

impl App {
    /// Adds a resident at a site.
    pub fn resident_add(&mut self, session: &Session, site: &str, input: &ResidentInput) -> AppResult<ResidentView> {
        let tx = self.write(session, &uc::RESIDENT_ADD, At::Site(site))?;
        let (site, now) = (tx.ctx.site().clone(), tx.ctx.now);
        let (email, fields) = validate_new(&tx, &site, input, now).map_err(problems_to_error)?;
        let id = insert_resident(&tx, &tx.ctx.session, &site, &email, &fields, now, uc::RESIDENT_ADD.name)?;
        let resident = store::residents::get(&tx, id)?.ok_or_else(|| AppError::internal("resident vanished"))?;
        tx.commit()?;
        Ok(ResidentView::new(resident, &site, now))
    }

    /// Updates a resident's editable fields. The email cannot change. Moving the access end
    /// into the future reactivates an expired resident (the unit must then be free).
    pub fn resident_update(
        &mut self,
        session: &Session,
        resident: &str,
        patch: &ResidentPatch,
    ) -> AppResult<ResidentView> {
        let tx = self.write(session, &uc::RESIDENT_UPDATE, At::Resident(resident))?;
        let (before, site, now) = (tx.ctx.resident().clone(), tx.ctx.site().clone(), tx.ctx.now);
        if let Some(email) = &patch.email {
            if !email.trim().eq_ignore_ascii_case(&before.email) {
                return Err(RuleError::EmailImmutable.into());
            }
        }
        let text = FieldsText {
            first_name: patch.first_name.as_deref().unwrap_or(&before.first_name),
            last_name: patch.last_name.as_deref().unwrap_or(&before.last_name),
            phone: patch.phone.as_deref().unwrap_or(&before.phone),
            building: patch.building.as_deref().unwrap_or(&before.building),
            floor: patch.floor.as_deref().unwrap_or(&before.floor),
            unit: patch.unit.as_deref().unwrap_or(&before.unit),
            start: match &patch.start {
                Some(s) => Err(s.as_str()),
                None => Ok(before.activation_utc),
            },
            end: match &patch.end {
                Some(e) if e.trim().is_empty() => None,
                Some(e) => Some(Err(e.as_str())),
                None => before.deactivation_utc.map(Ok),
            },
        };
        let mut problems = Vec::new();
        let fields = check_fields(&tx, &site, Some(before.id), text, now, &mut problems);
        let fields = match fields {
            Some(f) if problems.is_empty() => f,
            _ => return Err(problems_to_error(problems)),
        };
        store::residents::update_fields(&tx, before.id, &fields, now)?;
        let after = store::residents::get(&tx, before.id)?.ok_or_else(|| AppError::internal("resident vanished"))?;
        let (old, new) = (field_values(&before), field_values(&after));
        let changed: Vec<&str> = ResidentField::EDITABLE
            .map(ResidentField::as_str)
            .into_iter()
            .filter(|f| old.get(*f) != new.get(*f))
            .collect();
        if changed.is_empty() {
            tx.commit()?;
            return Ok(ResidentView::new(after, &site, now));
        }
        let base = base_of(&tx, after.id, &changed)?;
        store::outbox::append(
            &tx,
            &NewEntry {
                actor_id: Some(tx.ctx.session.actor.staff_id),
                site_id: site.id,
                resident_id: Some(after.id),
                remote_id: after.remote_id.as_deref(),
                email: Some(&after.email),
                op: OutboxOp::Update,
                payload: json!({ "resident": new, "changed": changed }).into(),
                base: base.into(),
            },
            now,
        )?;
        let diff: serde_json::Map<String, Value> = changed
            .iter()
            .map(|f| ((*f).to_string(), json!({ "before": old.get(*f), "after": new.get(*f) })))
            .collect();
        tx.audit().details(Value::Object(diff)).write()?;
        tx.commit()?;
        Ok(ResidentView::new(after, &site, now))
    }

    /// One resident, by local id, remote id or email.
    pub fn resident_show(&self, session: &Session, resident: &str) -> AppResult<ResidentView> {
        let rd = self.read(session, &uc::RESIDENT_SHOW, At::Resident(resident))?;
        let marks = store::residents::SyncMarks::of_sites(&rd, &[rd.ctx.site().id])?;
        let ctx = rd.ctx;
        Ok(ResidentView::new(ctx.resident().clone(), ctx.site(), ctx.now).marked(&marks))
    }

    /// The residents of one site, filtered.
    pub fn resident_list(
        &self,
        session: &Session,
        site: &str,
        filter: &ResidentFilter,
    ) -> AppResult<Vec<ResidentView>> {
        let rd = self.read(session, &uc::RESIDENT_LIST, At::Site(site))?;
        let (site, now) = (rd.ctx.site(), rd.ctx.now);
        let tz = site_tz(site);
        let limit = filter.limit.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        let marks = store::residents::SyncMarks::of_sites(&rd, &[site.id])?;
        for r in store::residents::list_site(&rd, site.id)? {
            let flags = r.flags(now);
            if filter.matches_marked(&r, flags, &marks) {
                out.push(ResidentView::with_status(r, flags, site.name.clone(), &site.time_zone, tz).marked(&marks));
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The residents of every site of the active team where the session may see residents,
    /// filtered, site by site (`resident list --all`).
    pub fn resident_list_all(&self, session: &Session, filter: &ResidentFilter) -> AppResult<Vec<ResidentView>> {
        let rd = self.read(session, &uc::RESIDENT_LIST_ALL, At::Team)?;
        let now = rd.ctx.now;
        let limit = filter.limit.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        for site in rd.ctx.sites_allowed(&rd)? {
            let tz = site_tz(&site);
            let marks = store::residents::SyncMarks::of_sites(&rd, &[site.id])?;
            for r in store::residents::list_site(&rd, site.id)? {
                let flags = r.flags(now);
                if filter.matches_marked(&r, flags, &marks) {
                    out.push(
                        ResidentView::with_status(r, flags, site.name.clone(), &site.time_zone, tz).marked(&marks),
                    );
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Prefix search by first name, last name, email or unit across every site the person
    /// can see in the active team (search as you type).
    pub fn resident_search(&self, session: &Session, query: &str, limit: usize) -> AppResult<Vec<ResidentView>> {
        let rd = self.read(session, &uc::RESIDENT_SEARCH, At::Team)?;
        let now = rd.ctx.now;
        let scope = rd.ctx.session.actor.scope();
        let found = store::residents::search(&rd, &scope, query, limit)?;
        let mut sites = std::collections::HashMap::new();
        let mut out = Vec::with_capacity(found.len());
        let mut site_ids: Vec<i64> = found.iter().map(|r| r.site_id).collect();
        site_ids.sort_unstable();
        site_ids.dedup();
        let marks = store::residents::SyncMarks::of_sites(&rd, &site_ids)?;
        for r in found {
            if let std::collections::hash_map::Entry::Vacant(e) = sites.entry(r.site_id) {
                let site = store::sites::get(&rd, r.site_id)?;
                let tz = site.as_ref().map(site_tz).unwrap_or(chrono_tz::UTC);
                let (name, zone) = site.map(|s| (s.name, s.time_zone)).unwrap_or_default();
                e.insert((name, zone, tz));
            }
            let flags = r.flags(now);
            let (site_name, zone, tz) = &sites[&r.site_id];
            out.push(ResidentView::with_status(r, flags, site_name.clone(), zone, *tz).marked(&marks));
        }
        Ok(out)
    }

    /// Suspends (`Disabled`) or unsuspends (`Active`) a resident; outside the states the
    /// change applies to it is a no-op, not an error.
    pub fn resident_set_status(
        &mut self,
        session: &Session,
        resident: &str,
        change: StatusChange,
    ) -> AppResult<ActionOutcome> {
        let action = match change {
            StatusChange::Disabled => &uc::RESIDENT_SUSPEND,
            StatusChange::Active => &uc::RESIDENT_UNSUSPEND,
        };
        self.lifecycle(session, resident, action, |tx, session, r, site, now| {
            let flags = r.flags(now);
            if !change.applies_to(flags) {
                let said = ActionSaid::NothingToDo { name: r.full_name(), status: flags };
                return Ok(Effect { done: false, said, details: json!({ "status": flags }), undo: vec![] });
            }
            let entry = apply_status_change(tx, session, site, r, change, now)?;
            let said = match change {
                StatusChange::Disabled => ActionSaid::Suspended { name: r.full_name() },
                StatusChange::Active => ActionSaid::Unsuspended { name: r.full_name() },
            };
            Ok(Effect { done: true, said, details: json!({ "before": flags }), undo: vec![entry] })
        })
    }

    /// Terminates a resident: access ends the day before today (site time), the resident
    /// is expired for 31 days, then purged automatically. Terminating an expired resident
    /// changes nothing.
    pub fn resident_terminate(&mut self, session: &Session, resident: &str) -> AppResult<ActionOutcome> {
        self.lifecycle(session, resident, &uc::RESIDENT_TERMINATE, |tx, session, r, site, now| {
            let flags = r.flags(now);
            if flags.is_expired() {
                let said = ActionSaid::AlreadyEnded { name: r.full_name() };
                return Ok(Effect { done: false, said, details: json!({ "status": flags }), undo: vec![] });
            }
            let (end, entry) = apply_terminate(tx, session, site, r, now)?;
            let day = end.with_timezone(&site_tz(site)).date_naive();
            let said = ActionSaid::Terminated { name: r.full_name(), day };
            Ok(Effect { done: true, said, details: json!({ "deactivation": end, "before": flags }), undo: vec![entry] })
        })
    }

    /// Terminates and purges at once. Refused for residents already expired.
    pub fn resident_purge(&mut self, session: &Session, resident: &str) -> AppResult<ActionOutcome> {
        self.lifecycle(session, resident, &uc::RESIDENT_PURGE, |tx, session, r, site, now| {
            rules::check_purge(r.flags(now))?;
            apply_purge(tx, session, site, r, now)?;
            let said = ActionSaid::DeletedPermanently { name: r.full_name() };
            Ok(Effect { done: true, said, details: json!({ "before": field_values(r) }), undo: vec![] })
        })
    }

    /// Resends the invitation (not yet onboarded) or the Wi-Fi details (onboarded).
    pub fn resident_invite(&mut self, session: &Session, resident: &str) -> AppResult<ActionOutcome> {
        self.lifecycle(session, resident, &uc::RESIDENT_INVITE, |tx, session, r, site, now| {
            let kind = rules::invite_kind(r.flags(now), r.onboarded_at.is_some())?;
            apply_invite(tx, session, site, r, OutboxOp::Invite, now)?;
            let said = match kind {
                InviteKind::Invitation => ActionSaid::InvitationResent { email: r.email.clone() },
                InviteKind::WifiDetails => ActionSaid::WifiDetailsResent { email: r.email.clone() },
            };
            Ok(Effect { done: true, said, details: json!({ "kind": kind }), undo: vec![] })
        })
    }

    /// Starts a personal PSK reset (PPK-C and PPK-D sites only).
    pub fn resident_psk_reset(&mut self, session: &Session, resident: &str) -> AppResult<ActionOutcome> {
        self.lifecycle(session, resident, &uc::RESIDENT_PSK_RESET, |tx, session, r, site, now| {
            rules::check_psk_reset(&rules::SiteType::parse(&site.site_type), r.flags(now))?;
            append_op(tx, session, site, r, OutboxOp::PskReset, json!({}), now)?;
            let said = ActionSaid::WifiKeyReset { email: r.email.clone() };
            Ok(Effect { done: true, said, details: json!({}), undo: vec![] })
        })
    }

    /// The shape every single-resident lifecycle action shares: the gate resolves the
    /// resident and checks the use case's permission at its site; the action writes the
    /// change and its outbox entry (or decides it is a no-op); then the audit entry, and the
    /// resident as it is afterwards.
    pub(crate) fn lifecycle(
        &mut self,
        session: &Session,
        resident: &str,
        use_case: &'static UseCase,
        apply: impl FnOnce(&Run<'_>, &Session, &Resident, &Site, DateTime<Utc>) -> AppResult<Effect>,
    ) -> AppResult<ActionOutcome> {
        let tx = self.write(session, use_case, At::Resident(resident))?;
        let (r, site, now) = (tx.ctx.resident().clone(), tx.ctx.site().clone(), tx.ctx.now);
        let effect = apply(&tx, &tx.ctx.session, &r, &site, now)?;
        let (outcome, audit_outcome) = if effect.done { ("done", "ok") } else { ("no_op", "no_op") };
        tx.audit().outcome(audit_outcome).details(effect.details).write()?;
        let after = store::residents::get(&tx, r.id)?.map(|a| ResidentView::new(a, &site, now));
        tx.commit()?;
        Ok(ActionOutcome {
            outcome: outcome.into(),
            message: effect.said.to_string(),
            said: effect.said,
            resident: after,
            undo: super::undo::UndoHandle::of(site.id, effect.undo),
        })
    }

    /// Purges every resident whose 31-day grace period is over (local housekeeping; the
    /// remote purges on its own, so no outbox entry is written). It runs only on behalf of a
    /// signed-in session (a person or a token, re-checked by [`App::refresh`]), never at open,
    /// so a database opened with a wrong clock or by nobody deletes nothing; each purge is
    /// audited as the system's act.
    pub fn purge_after_grace(&mut self, session: &Session) -> AppResult<usize> {
        self.refresh(session)?;
        let tx = self.write_public(&uc::AUTO_PURGE)?;
        let now = tx.now;
        // The store pre-selects by the cutoff (an index range); the rule decides each one.
        let candidates = store::residents::deactivated_before(&tx, rules::purge_cutoff(now))?;
        let due: Vec<Resident> =
            candidates.into_iter().filter(|r| rules::purge_due(r.flags(now), r.deactivation_utc, now)).collect();
        for r in &due {
            store::residents::delete(&tx, r.id)?;
            let site = store::sites::get(&tx, r.site_id)?;
            tx.audit(None, "system")
                .team(site.as_ref().map(|s| s.team_id))
                .site(Some(r.site_id))
                .target(r.email.clone())
                .details(json!({"deactivation": r.deactivation_utc, "after_sign_in_of": session.actor.email}))
                .write()?;
        }
        // The remote purges on its own: once nothing of theirs waits in the outbox, their
        // personal data goes too (purge means gone).
        let gone: Vec<store::scrub::Subject> =
            due.iter().map(|r| store::scrub::Subject { resident_id: Some(r.id), email: r.email.clone() }).collect();
        let scrubbed = store::scrub::purged(&tx, &gone, now)?;
        tx.commit()?;
        if scrubbed != store::scrub::Scrubbed::default() {
            store::truncate_wal(self.conn());
        }
        Ok(due.len())
    }
}

/// Inserts a validated resident with its outbox and audit entries (inside the caller's
/// transaction). Shared by single add and import.
pub(crate) fn insert_resident(
    tx: &rusqlite::Transaction<'_>,
    session: &Session,
    site: &Site,
    email: &str,
    fields: &ResidentFields,
    now: DateTime<Utc>,
    action: &str,
) -> AppResult<i64> {
    insert_resident_with(tx, session, site, email, fields, create_entries(email, fields), now, action)
}

/// A new resident's outbox payload and audit details, from one serialisation of its wire
/// fields (an import builds them on its checker thread, off the writer's).
pub(crate) struct CreateEntries {
    payload: JsonText,
    after: JsonText,
}

pub(crate) fn create_entries(email: &str, fields: &ResidentFields) -> CreateEntries {
    // Serialising plain strings into a String cannot fail.
    let wire = serde_json::to_string(&fields.wire(email)).unwrap_or_else(|_| "{}".into());
    CreateEntries { payload: JsonText::wrap("resident", &wire), after: JsonText::wrap("after", &wire) }
}

/// [`insert_resident`] with its entries prepared: the resident, its outbox `create` entry
/// and its audit entry.
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_resident_with(
    tx: &rusqlite::Transaction<'_>,
    session: &Session,
    site: &Site,
    email: &str,
    fields: &ResidentFields,
    entries: CreateEntries,
    now: DateTime<Utc>,
    action: &str,
) -> AppResult<i64> {
    let id = store::residents::insert(tx, site.id, email, fields, None, now)?;
    store::outbox::append(
        tx,
        &NewEntry {
            actor_id: Some(session.actor.staff_id),
            site_id: site.id,
            resident_id: Some(id),
            remote_id: None,
            email: Some(email),
            op: OutboxOp::Create,
            payload: entries.payload,
            base: json!({}).into(),
        },
        now,
    )?;
    audit_by(tx, session, now, action).site(Some(site.id)).target(email).details(entries.after).write()?;
    Ok(id)
}

/// Appends an outbox entry for a lifecycle operation on `r`.
pub(crate) fn append_op(
    tx: &rusqlite::Transaction<'_>,
    session: &Session,
    site: &Site,
    r: &Resident,
    op: OutboxOp,
    payload: Value,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    append_entry(tx, session, site, r, op, payload, json!({}), now)
}

/// Appends an outbox entry for `r` with the last-pulled `base` values of the fields it
/// touches (what a 3-way merge compares against).
#[allow(clippy::too_many_arguments)]
pub(crate) fn append_entry(
    tx: &rusqlite::Transaction<'_>,
    session: &Session,
    site: &Site,
    r: &Resident,
    op: OutboxOp,
    payload: Value,
    base: Value,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    Ok(store::outbox::append(tx, &new_entry(session, site, r, op, payload.into(), base.into()), now)?)
}

/// Suspends or unsuspends `r`; returns the outbox entry, which keeps the switch as it was
/// (the before-image an undo writes back while the entry is unsent).
pub(crate) fn apply_status_change(
    tx: &rusqlite::Transaction<'_>,
    session: &Session,
    site: &Site,
    r: &Resident,
    change: StatusChange,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    store::residents::set_suspended(tx, r.id, change == StatusChange::Disabled, now)?;
    let op = match change {
        StatusChange::Disabled => OutboxOp::Suspend,
        StatusChange::Active => OutboxOp::Unsuspend,
    };
    let entry = new_entry(session, site, r, op, json!({ "Status": change.as_str() }).into(), json!({}).into());
    Ok(store::outbox::append_undoable(tx, &entry, &super::undo::before_suspend(r), now)?)
}

/// Terminates `r`; returns the access end it set and the outbox entry, which keeps the end
/// `r` had before (for an undo while unsent, and for Reinstate to give a lease's end back).
pub(crate) fn apply_terminate(
    tx: &rusqlite::Transaction<'_>,
    session: &Session,
    site: &Site,
    r: &Resident,
    now: DateTime<Utc>,
) -> AppResult<(DateTime<Utc>, i64)> {
    // Never before the access start: a resident whose access has not started gets an empty
    // stay (end = start), so the stored interval stays valid for every later update.
    let end = rules::termination_end(r.activation_utc, now, site_tz(site));
    store::residents::set_deactivation(tx, r.id, Some(end), now)?;
    let field = ResidentField::DeactivationDateUTC.as_str();
    let base = base_of(tx, r.id, &[field])?;
    let entry =
        new_entry(session, site, r, OutboxOp::Terminate, json!({ field: format_wire_utc(end) }).into(), base.into());
    let id = store::outbox::append_undoable(tx, &entry, &super::undo::before_terminate(r), now)?;
    Ok((end, id))
}

/// The outbox entry of a change to `r` by `session`.
fn new_entry<'a>(
    session: &Session,
    site: &Site,
    r: &'a Resident,
    op: OutboxOp,
    payload: JsonText,
    base: JsonText,
) -> NewEntry<'a> {
    NewEntry {
        actor_id: Some(session.actor.staff_id),
        site_id: site.id,
        resident_id: Some(r.id),
        remote_id: r.remote_id.as_deref(),
        email: Some(&r.email),
        op,
        payload,
        base,
    }
}

pub(crate) fn apply_purge(
    tx: &Run<'_>,
    session: &Session,
    site: &Site,
    r: &Resident,
    now: DateTime<Utc>,
) -> AppResult<()> {
    append_op(tx, session, site, r, OutboxOp::Purge, json!({}), now)?;
    store::residents::delete(tx, r.id)?;
    tx.purged(r);
    Ok(())
}

/// Onboard now ([`rules::onboard_now`]): a scheduled resident's access starts now and the
/// first invitation goes out; the earlier start is checked against the unit's other stays
/// ([`rules::check_occupancy`]). A broken rule is returned as the inner error (the bulk
/// action reports it for that resident and goes on); nothing is written then.
pub(crate) fn apply_onboard_now(
    tx: &rusqlite::Transaction<'_>,
    session: &Session,
    site: &Site,
    r: &Resident,
    now: DateTime<Utc>,
) -> AppResult<Result<DateTime<Utc>, FieldProblem>> {
    let stay = Interval { start: r.activation_utc, end: r.deactivation_utc };
    let moved = match rules::onboard_now(r.flags(now), stay, now) {
        Ok(moved) => moved,
        Err(e) => return Ok(Err(e.into())),
    };
    let mut fields = r.editable_fields();
    fields.activation_utc = moved.start;
    if let Err(p) = check_unit_free(tx, site.id, &fields, &moved, Some(r.id), now) {
        return Ok(Err(p));
    }
    store::residents::update_fields(tx, r.id, &fields, now)?;
    // The remote's onboard-now moves its activation the same way (sitemanager-sim does it
    // with the same rule); the next pull brings its exact value back.
    apply_invite(tx, session, site, r, OutboxOp::OnboardNow, now)?;
    Ok(Ok(moved.start))
}

pub(crate) fn apply_invite(
    tx: &rusqlite::Transaction<'_>,
    session: &Session,
    site: &Site,
    r: &Resident,
    op: OutboxOp,
    now: DateTime<Utc>,
) -> AppResult<()> {
    store::residents::set_invited(tx, r.id, now)?;
    append_op(tx, session, site, r, op, json!({}), now)?;
    Ok(())
}
