//! The resident rules of PRODUCT.md, as pure functions.
//!
//! Each function decides one rule and returns a [`RuleError`] that names the field and the
//! rule broken, so the CLI, the desktop form, the CSV import report and the simulator's
//! `{"Error": ...}` body all say the same thing.

use crate::status::StatusFlags;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Days an expired resident stays before it is purged automatically.
pub const GRACE_DAYS: i64 = 31;
pub const MAX_NAME_LEN: usize = 100;
pub const MAX_EMAIL_LEN: usize = 254;
pub const MAX_PHONE_LEN: usize = 32;
pub const MAX_LOCATION_LEN: usize = 64;

/// A broken rule, with the field it concerns where there is one (API field names).
/// Serialised as `{"rule": kind, ...parameters}`: the details of the error a rule raises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum RuleError {
    #[error("{} is required", words(field))]
    Required { field: String },
    #[error("{} is invalid: {reason}", words(field))]
    Invalid {
        field: String,
        /// In English (the CLI's words).
        reason: String,
        /// The same as a code, for the desktop's catalog (absent where no code says it yet).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        why: Option<InvalidWhy>,
    },
    #[error("Email {email} already belongs to another resident")]
    EmailTaken { email: String },
    #[error("Email cannot be changed once the resident exists")]
    EmailImmutable,
    #[error("Building/Floor/Unit {building}/{floor}/{unit} is not one of the site's mappings")]
    NotAMapping { building: String, floor: String, unit: String },
    #[error("Unit {unit} is already occupied for these dates by {occupant}")]
    UnitOccupied { unit: String, occupant: String },
    #[error("Access end must be after access start (or the same, for an empty stay)")]
    EndBeforeStart,
    #[error("the resident's access has already ended: they cannot be deleted permanently this way")]
    PurgeExpired,
    #[error("resident is expired; {action} is not possible")]
    Expired { action: String },
    #[error("resident is scheduled (access has not started); {action} is not possible: the first invitation goes out on the activation date, or at once with onboard-now")]
    NotStarted { action: String },
    #[error("onboard-now applies to scheduled residents; this resident is {status}")]
    NotScheduled { status: String },
    #[error(
        "the Wi-Fi key can only be reset at sites with personal Wi-Fi keys (PPK-C or PPK-D); this site is {site_type}"
    )]
    PskResetNotAllowed { site_type: String },
    #[error("Status must be Active or Disabled, not {given:?}")]
    BadStatusChange { given: String },
    #[error("only a resident whose access has ended can be reinstated")]
    NotEnded,
    #[error("the 31-day grace period is over: this resident is being deleted permanently")]
    GraceOver,
    #[error("sending this change to Site Manager has already begun, so it can no longer be undone; {}", change.instead())]
    UndoTooLate { change: crate::actions::Undoable },
    #[error("the resident was changed again since; this change can no longer be undone")]
    UndoChangedSince,
    #[error("this change has already been undone")]
    AlreadyUndone,
    #[error("there is no change to undo")]
    NothingToUndo,
    #[error("unknown bulk action {given:?} (expected one of suspend, unsuspend, terminate, terminate-purge, resend-invites, onboard-now)")]
    BadBulkAction { given: String },
}

/// A field named in a message for a person: a resident field in words ("Access end"), any
/// other name as given.
fn words(field: &str) -> &str {
    crate::vocab::ResidentField::parse(field).map(|f| f.label()).unwrap_or(field)
}

impl RuleError {
    /// The API field this error is about, when there is one (for inline form errors).
    pub fn field(&self) -> Option<&str> {
        match self {
            RuleError::Required { field } | RuleError::Invalid { field, .. } => Some(field),
            RuleError::EmailTaken { .. } | RuleError::EmailImmutable => Some("Email"),
            RuleError::NotAMapping { .. } | RuleError::UnitOccupied { .. } => Some("Unit"),
            RuleError::EndBeforeStart => Some("DeactivationDateUTC"),
            RuleError::BadStatusChange { .. } => Some("Status"),
            RuleError::BadBulkAction { .. } => Some("Action"),
            _ => None,
        }
    }

    /// True when the error is a clash with other data (HTTP 409 at the remote).
    pub fn is_conflict(&self) -> bool {
        matches!(self, RuleError::EmailTaken { .. } | RuleError::UnitOccupied { .. })
    }
}

/// Why a value is not valid, as a code (the words are the catalog's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum InvalidWhy {
    TooLong { max: u32 },
    ControlCharacters,
    EmailNoAt,
    EmailNotAnAddress,
    EmailCharacters,
    EmailDomain,
    PhoneCharacters,
    PhoneNoDigits,
    NotADate,
    TimeZone,
}

fn invalid(field: &str, reason: impl Into<String>, why: InvalidWhy) -> RuleError {
    RuleError::Invalid { field: field.to_string(), reason: reason.into(), why: Some(why) }
}

/// Validates free text: trimmed, required or not, bounded length, no control characters.
pub fn validate_text(field: &str, value: &str, required: bool, max_len: usize) -> Result<String, RuleError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        if required {
            return Err(RuleError::Required { field: field.to_string() });
        }
        return Ok(String::new());
    }
    if trimmed.chars().count() > max_len {
        let max = u32::try_from(max_len).unwrap_or(u32::MAX);
        return Err(invalid(field, format!("longer than {max_len} characters"), InvalidWhy::TooLong { max }));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(invalid(field, "contains control characters", InvalidWhy::ControlCharacters));
    }
    Ok(trimmed.to_string())
}

/// Validates and normalises an email address (trimmed, lowercased).
///
/// Deliberately simple: one `@`, a non-empty local part, a dotted domain of letters, digits
/// and hyphens, no spaces. Uniqueness is compared on the normalised form.
pub fn normalize_email(value: &str) -> Result<String, RuleError> {
    let email = validate_text("Email", value, true, MAX_EMAIL_LEN)?.to_ascii_lowercase();
    let bad = |reason: &str, why: InvalidWhy| invalid("Email", format!("{email:?} {reason}"), why);
    let (local, domain) = email.split_once('@').ok_or_else(|| bad("has no @", InvalidWhy::EmailNoAt))?;
    if local.is_empty() || domain.contains('@') {
        return Err(bad("is not a valid address", InvalidWhy::EmailNotAnAddress));
    }
    if email.chars().any(|c| c.is_whitespace() || c == '"' || c == ',' || c == ';' || c == '<' || c == '>') {
        return Err(bad("contains characters not allowed in an address", InvalidWhy::EmailCharacters));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2
        || labels
            .iter()
            .any(|l| l.is_empty() || l.starts_with('-') || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Err(bad("has an invalid domain", InvalidWhy::EmailDomain));
    }
    Ok(email)
}

/// Validates a phone number: optional, digits with the usual separators.
pub fn validate_phone(value: &str) -> Result<String, RuleError> {
    let phone = validate_text("PhoneNumber", value, false, MAX_PHONE_LEN)?;
    if !phone.chars().all(|c| c.is_ascii_digit() || " +-().x".contains(c) || c == 'X') {
        return Err(invalid(
            "PhoneNumber",
            format!("{phone:?} may contain only digits, spaces and + - ( ) x"),
            InvalidWhy::PhoneCharacters,
        ));
    }
    if !phone.is_empty() && !phone.chars().any(|c| c.is_ascii_digit()) {
        return Err(invalid("PhoneNumber", "has no digits", InvalidWhy::PhoneNoDigits));
    }
    Ok(phone)
}

/// A PAN mapping: an allowed Building/Floor/Unit combination of a site.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    pub building: String,
    pub floor: String,
    pub unit: String,
}

/// Building/Floor/Unit must be one of the site's mappings (exact match, as the remote does).
pub fn check_mapping<'a>(mappings: impl IntoIterator<Item = &'a Location>, wanted: &Location) -> Result<(), RuleError> {
    if mappings.into_iter().any(|m| m == wanted) {
        Ok(())
    } else {
        Err(RuleError::NotAMapping {
            building: wanted.building.clone(),
            floor: wanted.floor.clone(),
            unit: wanted.unit.clone(),
        })
    }
}

/// A half-open access interval `[start, end)`; `end = None` is open-ended.
///
/// `end == start` is a valid, *empty* stay: it is what terminating a resident whose access
/// has not started leaves behind ([`termination_end`]). An empty stay holds no date, so it
/// overlaps nothing and its resident is expired (see [`Interval::ended_by`]). An end before
/// the start is never valid, so every stored interval can be saved again unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

impl Interval {
    pub fn new(start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> Result<Self, RuleError> {
        if end.is_some_and(|e| e < start) {
            return Err(RuleError::EndBeforeStart);
        }
        Ok(Interval { start, end })
    }

    /// A stay that holds no date at all (`end == start`).
    pub fn is_empty(&self) -> bool {
        self.end.is_some_and(|e| e <= self.start)
    }

    /// True once the stay is over at `now`: its end has passed, or it is empty. This is the
    /// one definition of "expired" — `status::derive_flags` and the occupancy rule use it.
    pub fn ended_by(&self, now: DateTime<Utc>) -> bool {
        self.is_empty() || self.end.is_some_and(|e| e <= now)
    }

    pub fn overlaps(&self, other: &Interval) -> bool {
        if self.is_empty() || other.is_empty() {
            return false;
        }
        let self_before_other = self.end.is_some_and(|e| e <= other.start);
        let other_before_self = other.end.is_some_and(|e| e <= self.start);
        !(self_before_other || other_before_self)
    }
}

/// An existing occupant of a unit, as the occupancy rule sees it.
#[derive(Debug, Clone)]
pub struct Occupant<'a> {
    pub label: &'a str,
    pub interval: Interval,
    pub flags: StatusFlags,
}

/// One resident per unit per date: the candidate's interval may not overlap the interval
/// of any non-expired resident of the same unit. Both halves of "expired residents free the
/// unit" live here: a candidate whose own stay is over at `now` (back-dated, terminated, or
/// empty) occupies nothing and is not checked; other residents that are expired are skipped.
///
/// The core (add, update, import, onboard-now) and the simulator call this one function, so
/// a back-dated stay is accepted or refused the same way on both sides.
pub fn check_occupancy<'a>(
    unit: &str,
    candidate: &Interval,
    now: DateTime<Utc>,
    occupants: impl IntoIterator<Item = Occupant<'a>>,
) -> Result<(), RuleError> {
    if candidate.ended_by(now) {
        return Ok(());
    }
    for occupant in occupants {
        if !occupant.flags.is_expired() && occupant.interval.overlaps(candidate) {
            return Err(RuleError::UnitOccupied { unit: unit.to_string(), occupant: occupant.label.to_string() });
        }
    }
    Ok(())
}

/// Midnight at the start of `date` in `tz`, in UTC. On a DST gap the first valid instant
/// after midnight is used; on an overlap the earlier one.
pub fn local_midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    local_to_utc(date.and_time(NaiveTime::MIN), tz)
}

/// A site-local wall-clock time in UTC, resolving DST gaps forward and overlaps to the earlier.
pub fn local_to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    let mut probe = local;
    for _ in 0..4 {
        if let Some(dt) = tz.from_local_datetime(&probe).earliest() {
            return dt.with_timezone(&Utc);
        }
        probe += Duration::minutes(30);
    }
    // No zone has a gap longer than two hours; read it as UTC rather than fail.
    Utc.from_utc_datetime(&local)
}

/// The deactivation instant that terminating at `now` sets: the start of the day before
/// today, both in the site's time zone (terminate on Nov 10 → deactivation Nov 9).
pub fn termination_deactivation(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    let yesterday = today.pred_opt().unwrap_or(today);
    local_midnight(yesterday, tz)
}

/// The access end that terminating at `now` stores: the day before today in the site's zone
/// ([`termination_deactivation`]), but never before the access start. A resident whose
/// access has not started yet (scheduled, or starting later today) gets `end = start`: an
/// empty stay, so the resident is expired at once and the stored interval stays valid (a
/// later update — a rename, or a new end in the future to reactivate — passes the rules).
pub fn termination_end(activation: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    termination_deactivation(now, tz).max(activation)
}

/// True once an expired resident's 31-day grace period is over. The grace period runs from
/// the stored access end (for a resident terminated before their access started, that is
/// the start they never reached).
pub fn purge_due(flags: StatusFlags, deactivation: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    flags.is_expired() && deactivation.is_some_and(|d| now >= d + Duration::days(GRACE_DAYS))
}

/// The latest access end a resident can have and still be [`purge_due`] at `now`: a store
/// may pre-select candidates with `deactivation <= purge_cutoff(now)` (an index range), and
/// then decide each one with [`purge_due`].
pub fn purge_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(GRACE_DAYS)
}

/// Onboard now: the resident must be scheduled; the access start moves to `now` (the first
/// invitation goes out at once), the end stays. The caller checks the returned interval
/// with [`check_occupancy`] against the unit's other stays, since the earlier start may
/// now overlap one of them.
pub fn onboard_now(flags: StatusFlags, interval: Interval, now: DateTime<Utc>) -> Result<Interval, RuleError> {
    check_onboard_now(flags)?;
    Interval::new(interval.start.min(now), interval.end)
}

/// Onboard-now applies to scheduled residents only (Table-4).
pub fn check_onboard_now(flags: StatusFlags) -> Result<(), RuleError> {
    if flags.is_scheduled() {
        Ok(())
    } else {
        Err(RuleError::NotScheduled { status: status_text(flags) })
    }
}

fn status_text(flags: StatusFlags) -> String {
    if flags == StatusFlags::empty() {
        "unknown".to_string()
    } else {
        flags.to_string()
    }
}

/// Terminate + purge removes at once, but never an already expired resident.
pub fn check_purge(flags: StatusFlags) -> Result<(), RuleError> {
    if flags.is_expired() {
        Err(RuleError::PurgeExpired)
    } else {
        Ok(())
    }
}

/// The `Status` values of `PATCH .../status`: only `Active` and `Disabled` exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusChange {
    /// Unsuspend.
    Active,
    /// Suspend.
    Disabled,
}

impl StatusChange {
    /// Exact parse, as the remote accepts it.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        match text {
            "Active" => Ok(StatusChange::Active),
            "Disabled" => Ok(StatusChange::Disabled),
            other => Err(RuleError::BadStatusChange { given: other.to_string() }),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            StatusChange::Active => "Active",
            StatusChange::Disabled => "Disabled",
        }
    }
    /// Whether the change has an effect on a resident with `flags`. Outside its states it is a
    /// no-op, not an error: suspend needs current non-pending non-suspended, unsuspend needs
    /// current and suspended.
    pub fn applies_to(self, flags: StatusFlags) -> bool {
        match self {
            StatusChange::Disabled => flags.is_current() && !flags.is_pending() && !flags.is_suspended(),
            StatusChange::Active => flags.is_current() && flags.is_suspended(),
        }
    }
}

/// What "resend invite" sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteKind {
    /// Not yet onboarded: a new invitation link.
    Invitation,
    /// Onboarded: the Wi-Fi network name and passphrase.
    WifiDetails,
}

/// Pending (not onboarded) → invitation; onboarded → Wi-Fi details; expired → refused;
/// scheduled → refused: the first invitation goes out on the activation date (seed 001), so
/// there is nothing to resend yet — onboard-now sends it early. The single `invite` and the
/// bulk `resend-invites` ([`BulkAction::eligible`]) both decide with this function.
pub fn invite_kind(flags: StatusFlags, onboarded: bool) -> Result<InviteKind, RuleError> {
    if flags.is_expired() {
        return Err(RuleError::Expired { action: "resending an invitation".into() });
    }
    if !flags.is_current() {
        return Err(RuleError::NotStarted { action: "resending an invitation".into() });
    }
    Ok(if onboarded { InviteKind::WifiDetails } else { InviteKind::Invitation })
}

/// A site's type. PSK reset exists only on `PPK-C` and `PPK-D` sites.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SiteType {
    PpkC,
    PpkD,
    Psk,
    Other(String),
}

impl SiteType {
    pub fn parse(text: &str) -> SiteType {
        match text.trim().to_ascii_uppercase().as_str() {
            "PPK-C" => SiteType::PpkC,
            "PPK-D" => SiteType::PpkD,
            "PSK" => SiteType::Psk,
            _ => SiteType::Other(text.trim().to_string()),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            SiteType::PpkC => "PPK-C",
            SiteType::PpkD => "PPK-D",
            SiteType::Psk => "PSK",
            SiteType::Other(s) => s,
        }
    }
    pub fn allows_psk_reset(&self) -> bool {
        matches!(self, SiteType::PpkC | SiteType::PpkD)
    }
}

impl fmt::Display for SiteType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub fn check_psk_reset(site_type: &SiteType, flags: StatusFlags) -> Result<(), RuleError> {
    if !site_type.allows_psk_reset() {
        return Err(RuleError::PskResetNotAllowed { site_type: site_type.to_string() });
    }
    if flags.is_expired() {
        return Err(RuleError::Expired { action: "resetting the Wi-Fi key".into() });
    }
    Ok(())
}

/// The six bulk actions of `POST .../resident/bulkaction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BulkAction {
    Suspend,
    Unsuspend,
    Terminate,
    TerminatePurge,
    ResendInvites,
    OnboardNow,
}

impl BulkAction {
    pub const ALL: [BulkAction; 6] = [
        BulkAction::Suspend,
        BulkAction::Unsuspend,
        BulkAction::Terminate,
        BulkAction::TerminatePurge,
        BulkAction::ResendInvites,
        BulkAction::OnboardNow,
    ];

    pub fn parse(text: &str) -> Result<Self, RuleError> {
        BulkAction::ALL
            .into_iter()
            .find(|a| a.as_str() == text)
            .ok_or_else(|| RuleError::BadBulkAction { given: text.to_string() })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BulkAction::Suspend => "suspend",
            BulkAction::Unsuspend => "unsuspend",
            BulkAction::Terminate => "terminate",
            BulkAction::TerminatePurge => "terminate-purge",
            BulkAction::ResendInvites => "resend-invites",
            BulkAction::OnboardNow => "onboard-now",
        }
    }

    /// Whether a resident in `flags` is in the statuses this action applies to (Table-4).
    ///
    /// - suspend: current, non-pending (and not already suspended);
    /// - unsuspend: current and suspended;
    /// - terminate / terminate-purge: current (pending or not, suspended or not) and scheduled;
    /// - resend-invites: whatever [`invite_kind`] accepts — current and pending (invitation),
    ///   current non-pending (Wi-Fi details);
    /// - onboard-now: whatever [`check_onboard_now`] accepts — scheduled.
    pub fn eligible(self, flags: StatusFlags) -> bool {
        match self {
            BulkAction::Suspend => StatusChange::Disabled.applies_to(flags),
            BulkAction::Unsuspend => StatusChange::Active.applies_to(flags),
            BulkAction::Terminate | BulkAction::TerminatePurge => {
                !flags.is_expired() && (flags.is_current() || flags.is_scheduled())
            }
            // A current resident is pending exactly when not onboarded.
            BulkAction::ResendInvites => invite_kind(flags, !flags.is_pending()).is_ok(),
            BulkAction::OnboardNow => check_onboard_now(flags).is_ok(),
        }
    }

    /// The reason shown for a resident the action skips.
    pub fn ineligible_reason(self, flags: StatusFlags) -> String {
        let status = status_text(flags);
        let wants = match self {
            BulkAction::Suspend => "current, non-pending, unsuspended",
            BulkAction::Unsuspend => "current and suspended",
            BulkAction::Terminate | BulkAction::TerminatePurge => "current or scheduled",
            BulkAction::ResendInvites => "current",
            BulkAction::OnboardNow => "scheduled",
        };
        format!("{} applies to {wants} residents; this resident is {status}", self.as_str())
    }
}

/// Why a bulk action skips a resident, in words a person reads ("3 are already ended"): one
/// reason per resident [`BulkAction::eligible`] refuses, none for one it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Access has ended (in the grace period).
    AlreadyEnded,
    /// Access has not started yet.
    NotStarted,
    /// Already suspended (suspend).
    AlreadySuspended,
    /// Not suspended (unsuspend).
    NotSuspended,
    /// The invitation is not accepted yet (suspend waits for onboarding).
    InvitationNotAccepted,
    /// Access has already started (onboard now is for scheduled residents).
    AlreadyStarted,
    /// No status at all (should not happen; kept so every refusal has a reason).
    Unknown,
}

impl BulkAction {
    /// Why `self` skips a resident with `flags`; `None` exactly when [`BulkAction::eligible`]
    /// accepts it (the reason is looked for only after the rule refused).
    pub fn skip_reason(self, flags: StatusFlags) -> Option<SkipReason> {
        if self.eligible(flags) {
            return None;
        }
        Some(if flags.is_expired() {
            SkipReason::AlreadyEnded
        } else if flags.is_scheduled() {
            SkipReason::NotStarted
        } else if !flags.is_current() {
            SkipReason::Unknown
        } else {
            match self {
                BulkAction::Suspend if flags.is_suspended() => SkipReason::AlreadySuspended,
                BulkAction::Suspend if flags.is_pending() => SkipReason::InvitationNotAccepted,
                BulkAction::Unsuspend => SkipReason::NotSuspended,
                BulkAction::OnboardNow => SkipReason::AlreadyStarted,
                _ => SkipReason::Unknown,
            }
        })
    }
}

impl fmt::Display for BulkAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a time zone name (IANA), naming the field on failure.
pub fn parse_time_zone(field: &str, name: &str) -> Result<Tz, RuleError> {
    name.trim().parse::<Tz>().map_err(|_| {
        invalid(field, format!("{name:?} is not an IANA time zone such as America/Chicago"), InvalidWhy::TimeZone)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{derive_flags, Lifecycle, StatusFlag, StatusFlag::*};

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }
    fn flags(list: &[StatusFlag]) -> StatusFlags {
        list.iter().fold(StatusFlags::empty(), |f, x| f.with(*x))
    }

    /// Every flag set a resident can have: a reason exactly when the rule refuses, and never
    /// the catch-all for a derivable set.
    #[test]
    fn skip_reason_agrees_with_eligible() {
        let sets = [
            flags(&[Scheduled]),
            flags(&[Current]),
            flags(&[Current, Pending]),
            flags(&[Current, Suspended]),
            flags(&[Current, Pending, Suspended]),
            flags(&[Expired]),
        ];
        for action in BulkAction::ALL {
            for f in sets {
                let reason = action.skip_reason(f);
                assert_eq!(reason.is_none(), action.eligible(f), "{action} on {f}");
                assert_ne!(reason, Some(SkipReason::Unknown), "{action} on {f}");
            }
        }
        assert_eq!(BulkAction::Suspend.skip_reason(flags(&[Expired])), Some(SkipReason::AlreadyEnded));
        assert_eq!(BulkAction::Suspend.skip_reason(flags(&[Current, Suspended])), Some(SkipReason::AlreadySuspended));
        assert_eq!(
            BulkAction::Suspend.skip_reason(flags(&[Current, Pending])),
            Some(SkipReason::InvitationNotAccepted)
        );
        assert_eq!(BulkAction::Unsuspend.skip_reason(flags(&[Current])), Some(SkipReason::NotSuspended));
        assert_eq!(BulkAction::OnboardNow.skip_reason(flags(&[Current])), Some(SkipReason::AlreadyStarted));
        assert_eq!(BulkAction::Terminate.skip_reason(flags(&[Scheduled])), None);
    }

    #[test]
    fn email_rules() {
        assert_eq!(normalize_email("  Chris.Wilson@Email.COM ").unwrap(), "chris.wilson@email.com");
        for bad in
            ["", "   ", "no-at-sign", "@x.com", "a@b", "a@@b.com", "a b@c.com", "a@-b.com", "a@b..com", "a@b\u{7}.com"]
        {
            let err = normalize_email(bad).unwrap_err();
            assert_eq!(err.field(), Some("Email"), "{bad:?}");
        }
        assert!(normalize_email(&format!("{}@x.com", "a".repeat(260))).is_err());
    }

    #[test]
    fn text_and_phone_rules() {
        assert_eq!(validate_text("FirstName", "  Ann ", true, 100).unwrap(), "Ann");
        assert!(matches!(validate_text("FirstName", "", true, 100), Err(RuleError::Required { .. })));
        assert_eq!(validate_text("Phone", "", false, 10).unwrap(), "");
        assert!(validate_text("FirstName", "A\u{7}nn", true, 100).is_err());
        assert!(validate_text("FirstName", &"x".repeat(101), true, 100).is_err());
        assert_eq!(validate_phone("+1 (543) 678-9012").unwrap(), "+1 (543) 678-9012");
        assert!(validate_phone("call me").is_err());
        assert!(validate_phone("---").is_err());
    }

    #[test]
    fn mapping_must_match_exactly() {
        let maps = [Location { building: "Hudson".into(), floor: "1".into(), unit: "105".into() }];
        assert!(check_mapping(&maps, &maps[0]).is_ok());
        let other = Location { building: "Hudson".into(), floor: "1".into(), unit: "106".into() };
        assert_eq!(check_mapping(&maps, &other).unwrap_err().field(), Some("Unit"));
    }

    #[test]
    fn interval_overlap_table() {
        let i = |s: u32, e: Option<u32>| Interval::new(utc(2026, 1, s, 0), e.map(|e| utc(2026, 1, e, 0))).unwrap();
        let cases = [
            (i(1, Some(10)), i(10, Some(20)), false, "touching at the boundary day does not overlap"),
            (i(1, Some(10)), i(9, Some(20)), true, "one day of overlap"),
            (i(1, None), i(20, Some(25)), true, "open-ended holds the unit forever"),
            (i(5, Some(6)), i(1, None), true, "inside an open-ended interval"),
            (i(1, Some(2)), i(3, None), false, "disjoint"),
        ];
        for (a, b, expected, name) in cases {
            assert_eq!(a.overlaps(&b), expected, "{name}");
            assert_eq!(b.overlaps(&a), expected, "{name} (symmetric)");
        }
        assert_eq!(Interval::new(utc(2026, 1, 2, 0), Some(utc(2026, 1, 1, 0))), Err(RuleError::EndBeforeStart));
        // An empty stay is valid, holds no date, and overlaps nothing.
        let empty = Interval::new(utc(2026, 1, 5, 0), Some(utc(2026, 1, 5, 0))).unwrap();
        assert!(empty.is_empty());
        assert!(!empty.overlaps(&i(1, None)) && !i(1, None).overlaps(&empty));
    }

    /// Corner case 5: both halves of "expired frees the unit" are in `check_occupancy`.
    #[test]
    fn occupancy_table_both_halves() {
        let now = utc(2026, 6, 1, 12);
        let iv = |s: DateTime<Utc>, e: Option<DateTime<Utc>>| Interval::new(s, e).unwrap();
        let occupant = |interval, f: &[StatusFlag]| Occupant { label: "other@x.com", interval, flags: flags(f) };
        let cases: Vec<(&str, Interval, Vec<Occupant<'_>>, bool)> = vec![
            ("free unit", iv(utc(2026, 5, 1, 0), None), vec![], true),
            (
                "overlaps a current stay",
                iv(utc(2026, 5, 1, 0), None),
                vec![occupant(iv(utc(2026, 1, 1, 0), None), &[Current])],
                false,
            ),
            (
                "back-dated candidate, over at now, frees itself even over a current stay",
                iv(utc(2026, 1, 10, 0), Some(utc(2026, 2, 1, 0))),
                vec![occupant(iv(utc(2026, 1, 1, 0), None), &[Current])],
                true,
            ),
            (
                "candidate ending exactly now is over",
                iv(utc(2026, 1, 10, 0), Some(now)),
                vec![occupant(iv(utc(2026, 1, 1, 0), None), &[Current])],
                true,
            ),
            (
                "empty candidate (terminated before it started) occupies nothing",
                iv(utc(2026, 9, 1, 0), Some(utc(2026, 9, 1, 0))),
                vec![occupant(iv(utc(2026, 1, 1, 0), None), &[Current])],
                true,
            ),
            (
                "another resident's expired stay is skipped",
                iv(utc(2026, 5, 1, 0), None),
                vec![occupant(iv(utc(2025, 1, 1, 0), Some(utc(2026, 5, 31, 0))), &[Expired])],
                true,
            ),
            (
                "a scheduled stay that starts inside the candidate's",
                iv(utc(2026, 5, 1, 0), Some(utc(2026, 8, 1, 0))),
                vec![occupant(iv(utc(2026, 7, 1, 0), None), &[Scheduled])],
                false,
            ),
        ];
        for (name, candidate, occupants, ok) in cases {
            assert_eq!(check_occupancy("105", &candidate, now, occupants).is_ok(), ok, "{name}");
        }
    }

    /// Corner case 1: terminating a resident whose access has not started stores end = start.
    #[test]
    fn terminate_table_never_stores_an_end_before_the_start() {
        let chicago: Tz = "America/Chicago".parse().unwrap();
        let now = utc(2026, 11, 11, 18); // Nov 11 in Chicago → yesterday = Nov 10, 06:00 UTC
        let yesterday = utc(2026, 11, 10, 6);
        let cases = [
            ("current since January: yesterday", utc(2026, 1, 1, 0), yesterday),
            ("started yesterday at 10:00: end = start", utc(2026, 11, 10, 16), utc(2026, 11, 10, 16)),
            ("started this morning: end = start", utc(2026, 11, 11, 14), utc(2026, 11, 11, 14)),
            ("scheduled for December: end = start", utc(2026, 12, 1, 6), utc(2026, 12, 1, 6)),
        ];
        for (name, start, expected) in cases {
            let end = termination_end(start, now, chicago);
            assert_eq!(end, expected, "{name}");
            let stay = Interval::new(start, Some(end)).expect(name);
            let life =
                Lifecycle { activation_utc: start, deactivation_utc: Some(end), onboarded_at: None, suspended: false };
            assert!(derive_flags(&life, now).is_expired(), "{name}: expired at once");
            // The stored interval passes the rules again unchanged (a rename), and moving the
            // end into the future reactivates.
            assert!(Interval::new(stay.start, stay.end).is_ok(), "{name}");
            let reactivated = Lifecycle { deactivation_utc: Some(start.max(now) + Duration::days(30)), ..life };
            assert!(!derive_flags(&reactivated, now).is_expired(), "{name}: reactivated");
        }
    }

    /// Corner case 2: onboard-now makes a scheduled resident current, start moved to now.
    #[test]
    fn onboard_now_table() {
        let now = utc(2026, 6, 1, 12);
        let later = Interval::new(utc(2026, 7, 1, 0), Some(utc(2027, 7, 1, 0))).unwrap();
        let moved = onboard_now(flags(&[Scheduled]), later, now).unwrap();
        assert_eq!(moved, Interval { start: now, end: later.end });
        let life = Lifecycle {
            activation_utc: moved.start,
            deactivation_utc: moved.end,
            onboarded_at: None,
            suspended: false,
        };
        assert_eq!(derive_flags(&life, now), flags(&[Current, Pending]), "current after onboard-now");
        for f in [flags(&[Current]), flags(&[Current, Pending]), flags(&[Expired])] {
            let err = onboard_now(f, later, now).unwrap_err();
            assert!(matches!(err, RuleError::NotScheduled { .. }), "{f}");
            assert!(!BulkAction::OnboardNow.eligible(f), "{f}");
        }
        // The earlier start is what the occupancy rule must see: it now overlaps a stay that
        // ends in June, which the scheduled interval did not.
        let june = Occupant {
            label: "june@x.com",
            interval: Interval::new(utc(2026, 1, 1, 0), Some(utc(2026, 6, 20, 0))).unwrap(),
            flags: flags(&[Current]),
        };
        assert!(check_occupancy("105", &later, now, [june.clone()]).is_ok());
        assert!(check_occupancy("105", &moved, now, [june]).is_err());
    }

    #[test]
    fn occupancy_ignores_expired_residents() {
        let cand = Interval::new(utc(2026, 3, 1, 0), None).unwrap();
        let old = Interval::new(utc(2025, 1, 1, 0), None).unwrap();
        let expired = Occupant { label: "old@x.com", interval: old, flags: flags(&[Expired]) };
        let now = utc(2026, 6, 1, 0);
        assert!(check_occupancy("105", &cand, now, [expired.clone()]).is_ok());
        let current = Occupant { flags: flags(&[Current]), ..expired };
        let err = check_occupancy("105", &cand, now, [current]).unwrap_err();
        assert!(err.is_conflict());
    }

    #[test]
    fn terminate_sets_day_before_in_site_zone() {
        let chicago: Tz = "America/Chicago".parse().unwrap();
        // 03:00 UTC on Nov 11 is still Nov 10 in Chicago → deactivation Nov 9, 00:00 local.
        let now = utc(2026, 11, 11, 3);
        let d = termination_deactivation(now, chicago);
        assert_eq!(d.with_timezone(&chicago).date_naive(), NaiveDate::from_ymd_opt(2026, 11, 9).unwrap());
        assert_eq!(d, utc(2026, 11, 9, 6));
        // And the terminated resident is expired at once.
        let life = Lifecycle {
            activation_utc: utc(2026, 1, 1, 0),
            deactivation_utc: Some(d),
            onboarded_at: None,
            suspended: false,
        };
        assert!(derive_flags(&life, now).is_expired());
    }

    #[test]
    fn terminate_on_the_day_after_dst_change() {
        // US DST ended 2026-11-01; terminating on Nov 2 sets Nov 1 00:00 CDT (UTC-5).
        let chicago: Tz = "America/Chicago".parse().unwrap();
        let d = termination_deactivation(utc(2026, 11, 2, 18), chicago);
        assert_eq!(d, utc(2026, 11, 1, 5));
        // A midnight that does not exist (Santiago skips 00:00 on its DST start) moves forward.
        let santiago: Tz = "America/Santiago".parse().unwrap();
        let m = local_midnight(NaiveDate::from_ymd_opt(2026, 9, 6).unwrap(), santiago);
        assert!(m.with_timezone(&santiago).date_naive() == NaiveDate::from_ymd_opt(2026, 9, 6).unwrap());
    }

    #[test]
    fn grace_period_and_purge() {
        let end = utc(2026, 1, 1, 0);
        let exp = flags(&[Expired]);
        assert!(!purge_due(exp, Some(end), utc(2026, 1, 31, 23)));
        assert!(purge_due(exp, Some(end), utc(2026, 2, 1, 0)));
        assert!(!purge_due(flags(&[Current]), Some(end), utc(2027, 1, 1, 0)));
        assert_eq!(check_purge(exp), Err(RuleError::PurgeExpired));
        assert!(check_purge(flags(&[Current, Pending])).is_ok());
    }

    /// Corner case 6: the cutoff a store pre-selects with never leaves out a due resident.
    #[test]
    fn purge_cutoff_bounds_purge_due() {
        let exp = flags(&[Expired]);
        let now = utc(2026, 3, 1, 12);
        for hours in -2000i64..2000 {
            let end = now - Duration::days(GRACE_DAYS) + Duration::hours(hours);
            if purge_due(exp, Some(end), now) {
                assert!(end <= purge_cutoff(now), "due at {end} but after the cutoff");
            }
        }
        assert!(purge_due(exp, Some(purge_cutoff(now)), now), "the cutoff itself is due");
    }

    #[test]
    fn suspend_unsuspend_are_no_ops_outside_their_states() {
        let cases = [
            (StatusChange::Disabled, flags(&[Current]), true),
            (StatusChange::Disabled, flags(&[Current, Pending]), false),
            (StatusChange::Disabled, flags(&[Current, Suspended]), false),
            (StatusChange::Disabled, flags(&[Scheduled]), false),
            (StatusChange::Disabled, flags(&[Expired]), false),
            (StatusChange::Active, flags(&[Current, Suspended]), true),
            (StatusChange::Active, flags(&[Current]), false),
            (StatusChange::Active, flags(&[Expired]), false),
        ];
        for (change, f, expected) in cases {
            assert_eq!(change.applies_to(f), expected, "{change:?} on {f}");
        }
        assert!(StatusChange::parse("Active").is_ok());
        assert!(StatusChange::parse("active").is_err());
        assert!(StatusChange::parse("Suspended").is_err());
    }

    #[test]
    fn invite_and_psk_rules() {
        assert_eq!(invite_kind(flags(&[Current, Pending]), false).unwrap(), InviteKind::Invitation);
        assert_eq!(invite_kind(flags(&[Current]), true).unwrap(), InviteKind::WifiDetails);
        assert!(invite_kind(flags(&[Expired]), true).is_err());
        assert!(check_psk_reset(&SiteType::parse("ppk-c"), flags(&[Current])).is_ok());
        assert!(check_psk_reset(&SiteType::parse("PPK-D"), flags(&[Current])).is_ok());
        assert!(check_psk_reset(&SiteType::parse("PSK"), flags(&[Current])).is_err());
        assert!(check_psk_reset(&SiteType::parse("PPK-C"), flags(&[Expired])).is_err());
    }

    /// Corner case 3: the single invite and bulk resend-invites agree on every status; a
    /// scheduled resident gets its first invitation on the activation date (or onboard-now).
    #[test]
    fn invite_table_agrees_with_resend_invites() {
        let cases = [
            (flags(&[Current, Pending]), false, Some(InviteKind::Invitation)),
            (flags(&[Current]), true, Some(InviteKind::WifiDetails)),
            (flags(&[Current, Suspended]), true, Some(InviteKind::WifiDetails)),
            (flags(&[Scheduled]), false, None),
            (flags(&[Scheduled]), true, None),
            (flags(&[Expired]), false, None),
            (flags(&[Expired]), true, None),
        ];
        for (f, onboarded, expected) in cases {
            let got = invite_kind(f, onboarded).ok();
            assert_eq!(got, expected, "{f} onboarded={onboarded}");
            assert_eq!(BulkAction::ResendInvites.eligible(f), expected.is_some(), "{f}: bulk agrees");
        }
        let err = invite_kind(flags(&[Scheduled]), false).unwrap_err();
        assert!(err.to_string().contains("onboard-now"), "{err}");
    }

    #[test]
    fn bulk_eligibility_table() {
        use BulkAction::*;
        let cur = flags(&[Current]);
        let pend = flags(&[Current, Pending]);
        let susp = flags(&[Current, Suspended]);
        let sched = flags(&[Scheduled]);
        let exp = flags(&[Expired]);
        let table = [
            (Suspend, [true, false, false, false, false]),
            (Unsuspend, [false, false, true, false, false]),
            (Terminate, [true, true, true, true, false]),
            (TerminatePurge, [true, true, true, true, false]),
            (ResendInvites, [true, true, true, false, false]),
            (OnboardNow, [false, false, false, true, false]),
        ];
        for (action, expected) in table {
            let got = [cur, pend, susp, sched, exp].map(|f| action.eligible(f));
            assert_eq!(got, expected, "{action}");
            assert_eq!(BulkAction::parse(action.as_str()).unwrap(), action);
        }
        assert!(BulkAction::parse("delete-all").is_err());
        assert!(Terminate.ineligible_reason(exp).contains("expired"));
    }

    #[test]
    fn time_zone_parse_names_field() {
        assert!(parse_time_zone("TimeZone", "America/Chicago").is_ok());
        assert_eq!(parse_time_zone("TimeZone", "Mars/Base").unwrap_err().field(), Some("TimeZone"));
    }
}
