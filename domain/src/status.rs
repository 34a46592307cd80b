//! Derived resident status flags.
//!
//! Status is never typed in: it follows from the access interval, the onboarding time and
//! the suspension switch, evaluated at a given instant. The remote reports the flags as an
//! array of lowercase strings (`["current","pending"]`); [`StatusFlags`] is that set.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One status label of the remote `Status` array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum StatusFlag {
    /// Activation lies in the future.
    Scheduled,
    /// Inside the access interval.
    Current,
    /// Not yet onboarded (invitation outstanding).
    Pending,
    /// Suspended while current.
    Suspended,
    /// Deactivation has passed (terminated, or access ended); in the 31-day grace period.
    Expired,
}

impl StatusFlag {
    pub const ALL: [StatusFlag; 5] =
        [StatusFlag::Scheduled, StatusFlag::Current, StatusFlag::Pending, StatusFlag::Suspended, StatusFlag::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFlag::Scheduled => "scheduled",
            StatusFlag::Current => "current",
            StatusFlag::Pending => "pending",
            StatusFlag::Suspended => "suspended",
            StatusFlag::Expired => "expired",
        }
    }

    /// Strict, case-insensitive parse of a status label.
    pub fn parse(text: &str) -> Option<StatusFlag> {
        let lower = text.trim().to_ascii_lowercase();
        StatusFlag::ALL.into_iter().find(|f| f.as_str() == lower)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for StatusFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of status flags (small bit set, ordered like [`StatusFlag::ALL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StatusFlags(u8);

impl StatusFlags {
    pub fn empty() -> Self {
        StatusFlags(0)
    }
    pub fn with(mut self, flag: StatusFlag) -> Self {
        self.0 |= flag.bit();
        self
    }
    pub fn contains(self, flag: StatusFlag) -> bool {
        self.0 & flag.bit() != 0
    }
    pub fn iter(self) -> impl Iterator<Item = StatusFlag> {
        StatusFlag::ALL.into_iter().filter(move |f| self.contains(*f))
    }
    /// The flags as the remote's array of lowercase strings.
    pub fn to_strings(self) -> Vec<String> {
        self.iter().map(|f| f.as_str().to_string()).collect()
    }
    /// Bit representation, for storage in an indexed integer column.
    pub fn bits(self) -> u8 {
        self.0
    }
    pub fn from_bits(bits: u8) -> Self {
        StatusFlags(bits & 0b1_1111)
    }
    pub fn is_current(self) -> bool {
        self.contains(StatusFlag::Current)
    }
    pub fn is_expired(self) -> bool {
        self.contains(StatusFlag::Expired)
    }
    pub fn is_pending(self) -> bool {
        self.contains(StatusFlag::Pending)
    }
    pub fn is_suspended(self) -> bool {
        self.contains(StatusFlag::Suspended)
    }
    pub fn is_scheduled(self) -> bool {
        self.contains(StatusFlag::Scheduled)
    }
}

impl fmt::Display for StatusFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels: Vec<&str> = self.iter().map(StatusFlag::as_str).collect();
        f.write_str(&labels.join("+"))
    }
}

impl Serialize for StatusFlags {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for StatusFlags {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let labels: Vec<String> = Vec::deserialize(d)?;
        // Unknown labels are tolerated (the remote may add some); known ones are kept.
        Ok(labels.iter().filter_map(|l| StatusFlag::parse(l)).fold(StatusFlags::empty(), StatusFlags::with))
    }
}

/// The one status a person reads for a resident (issue #18), decided from the flags: a
/// resident is exactly one of these at a time. `Ended` is the expired flag (access over, in the
/// 31-day grace period before the purge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum MainStatus {
    Scheduled,
    Active,
    Suspended,
    Ended,
}

impl MainStatus {
    pub const ALL: [MainStatus; 4] =
        [MainStatus::Scheduled, MainStatus::Active, MainStatus::Suspended, MainStatus::Ended];

    pub fn as_str(self) -> &'static str {
        match self {
            MainStatus::Scheduled => "scheduled",
            MainStatus::Active => "active",
            MainStatus::Suspended => "suspended",
            MainStatus::Ended => "ended",
        }
    }

    /// Strict, case-insensitive parse.
    pub fn parse(text: &str) -> Option<MainStatus> {
        let lower = text.trim().to_ascii_lowercase();
        MainStatus::ALL.into_iter().find(|m| m.as_str() == lower)
    }
}

impl fmt::Display for MainStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary marker beside the main status: something to know about a resident that is not
/// a state of their access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Marker {
    /// Not onboarded yet: the invitation is outstanding (the `pending` flag).
    InvitationNotAccepted,
    /// A change made here has not reached Site Manager yet (an unsettled outbox entry).
    WaitingToSync,
    /// A change made here and one made in Site Manager disagree (an open conflict).
    InConflict,
}

impl Marker {
    pub const ALL: [Marker; 3] = [Marker::InvitationNotAccepted, Marker::WaitingToSync, Marker::InConflict];

    pub fn as_str(self) -> &'static str {
        match self {
            Marker::InvitationNotAccepted => "invitation_not_accepted",
            Marker::WaitingToSync => "waiting_to_sync",
            Marker::InConflict => "in_conflict",
        }
    }

    pub fn parse(text: &str) -> Option<Marker> {
        let lower = text.trim().to_ascii_lowercase().replace('-', "_");
        Marker::ALL.into_iter().find(|m| m.as_str() == lower)
    }

    /// The markers of a resident with `flags`, given whether it has an unsent change and an
    /// open conflict (which the store knows), in [`Marker::ALL`] order.
    pub fn of(flags: StatusFlags, unsent: bool, conflict: bool) -> Vec<Marker> {
        let mut out = Vec::new();
        if flags.is_pending() {
            out.push(Marker::InvitationNotAccepted);
        }
        if unsent {
            out.push(Marker::WaitingToSync);
        }
        if conflict {
            out.push(Marker::InConflict);
        }
        out
    }
}

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl StatusFlags {
    /// The main status: ended (expired) wins, then scheduled, then suspended; a current
    /// resident otherwise is active (pending is a marker, not a status).
    pub fn main(self) -> MainStatus {
        if self.is_expired() {
            MainStatus::Ended
        } else if self.is_scheduled() {
            MainStatus::Scheduled
        } else if self.is_suspended() {
            MainStatus::Suspended
        } else {
            MainStatus::Active
        }
    }
}

/// The inputs that status is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    pub activation_utc: DateTime<Utc>,
    /// `None` means open-ended access.
    pub deactivation_utc: Option<DateTime<Utc>>,
    pub onboarded_at: Option<DateTime<Utc>>,
    pub suspended: bool,
}

/// Derives the flags of a resident at `now`.
///
/// - expired: deactivation at or before `now` (the interval is half-open `[start, end)`), or
///   an empty stay (`end == start`, what terminating a scheduled resident leaves), as
///   [`Interval::ended_by`](crate::rules::Interval::ended_by) defines it;
/// - scheduled: activation after `now`;
/// - current: otherwise; then pending when not onboarded, suspended when switched off.
///
/// This is the one place status is decided. Dates a person types are the site's calendar days
/// (midnight in the site's zone, `dates::parse_user_datetime`), so comparing instants here is
/// comparing site-local days: a stay starting on [`site_today`](crate::dates::site_today) is
/// current at every instant of that day at the site, one starting the next day is scheduled,
/// whatever the UTC date is (tested below for zones west and east of UTC).
pub fn derive_flags(life: &Lifecycle, now: DateTime<Utc>) -> StatusFlags {
    let flags = StatusFlags::empty();
    let stay = crate::rules::Interval { start: life.activation_utc, end: life.deactivation_utc };
    if stay.ended_by(now) {
        return flags.with(StatusFlag::Expired);
    }
    if life.activation_utc > now {
        return flags.with(StatusFlag::Scheduled);
    }
    let mut flags = flags.with(StatusFlag::Current);
    if life.onboarded_at.is_none() {
        flags = flags.with(StatusFlag::Pending);
    }
    if life.suspended {
        flags = flags.with(StatusFlag::Suspended);
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn life(start: DateTime<Utc>, end: Option<DateTime<Utc>>, onboarded: bool, suspended: bool) -> Lifecycle {
        Lifecycle { activation_utc: start, deactivation_utc: end, onboarded_at: onboarded.then_some(start), suspended }
    }

    #[test]
    fn derivation_table() {
        let now = at(2026, 6, 1, 12);
        use StatusFlag::*;
        let cases: Vec<(&str, Lifecycle, Vec<StatusFlag>)> = vec![
            ("future start is scheduled", life(at(2026, 7, 1, 0), None, false, false), vec![Scheduled]),
            ("current not onboarded is pending", life(at(2026, 5, 1, 0), None, false, false), vec![Current, Pending]),
            ("current onboarded", life(at(2026, 5, 1, 0), None, true, false), vec![Current]),
            ("suspended", life(at(2026, 5, 1, 0), None, true, true), vec![Current, Suspended]),
            ("end passed is expired", life(at(2026, 1, 1, 0), Some(at(2026, 5, 31, 0)), true, false), vec![Expired]),
            ("end exactly now is expired", life(at(2026, 1, 1, 0), Some(now), true, false), vec![Expired]),
            ("start exactly now is current", life(now, None, true, false), vec![Current]),
            ("end in future", life(at(2026, 1, 1, 0), Some(at(2026, 6, 1, 13)), true, false), vec![Current]),
            (
                "an empty stay in the future (terminated before it started) is expired, not scheduled",
                life(at(2026, 7, 1, 0), Some(at(2026, 7, 1, 0)), false, false),
                vec![Expired],
            ),
            (
                "expired wins over suspended",
                life(at(2026, 1, 1, 0), Some(at(2026, 2, 1, 0)), true, true),
                vec![Expired],
            ),
        ];
        for (name, l, expected) in cases {
            let got: Vec<StatusFlag> = derive_flags(&l, now).iter().collect();
            assert_eq!(got, expected, "{name}");
        }
    }

    /// Status follows the site's day: at every hour around midnight UTC, a stay starting on
    /// the site's today is current, one starting on the site's tomorrow is scheduled, and one
    /// terminated today (end = the site's yesterday) is expired, west and east of UTC.
    #[test]
    fn status_follows_the_site_day_west_and_east() {
        use crate::dates::site_today;
        use crate::rules::{local_midnight, termination_end};
        use chrono::Duration;
        let zones =
            ["America/Los_Angeles", "Pacific/Pago_Pago", "Asia/Tokyo", "Pacific/Auckland", "Pacific/Kiritimati"];
        for zone in zones {
            let tz: chrono_tz::Tz = zone.parse().unwrap();
            for hour in 0..48 {
                let now = at(2026, 11, 30, 0) + Duration::hours(hour) + Duration::minutes(7);
                let today = site_today(now, tz);
                let start_today = local_midnight(today, tz);
                let flags = derive_flags(&life(start_today, None, false, false), now);
                assert!(flags.is_current() && !flags.is_scheduled(), "{zone} at {now}: starts today → {flags}");
                let tomorrow = local_midnight(today.succ_opt().unwrap(), tz);
                let flags = derive_flags(&life(tomorrow, None, false, false), now);
                assert!(flags.is_scheduled(), "{zone} at {now}: starts tomorrow → {flags}");
                let earlier = local_midnight(today - Duration::days(30), tz);
                let end = termination_end(earlier, now, tz);
                assert!(derive_flags(&life(earlier, Some(end), true, false), now).is_expired(), "{zone} at {now}");
            }
        }
    }

    #[test]
    fn one_main_status_per_flag_set() {
        use StatusFlag::*;
        let set = |l: &[StatusFlag]| l.iter().fold(StatusFlags::empty(), |f, x| f.with(*x));
        let cases = [
            (set(&[Scheduled]), MainStatus::Scheduled),
            (set(&[Current]), MainStatus::Active),
            (set(&[Current, Pending]), MainStatus::Active),
            (set(&[Current, Suspended]), MainStatus::Suspended),
            (set(&[Current, Pending, Suspended]), MainStatus::Suspended),
            (set(&[Expired]), MainStatus::Ended),
        ];
        for (flags, main) in cases {
            assert_eq!(flags.main(), main, "{flags}");
        }
        // Every derivable set has exactly the main status its strongest flag says.
        let now = at(2026, 6, 1, 12);
        let ended = derive_flags(&life(at(2026, 1, 1, 0), Some(at(2026, 2, 1, 0)), true, true), now);
        assert_eq!(ended.main(), MainStatus::Ended);
        assert_eq!(serde_json::to_string(&MainStatus::Ended).unwrap(), r#""ended""#);
        for m in MainStatus::ALL {
            assert_eq!(MainStatus::parse(&m.as_str().to_uppercase()), Some(m));
        }
    }

    #[test]
    fn markers_follow_pending_outbox_and_conflicts() {
        let pending = StatusFlags::empty().with(StatusFlag::Current).with(StatusFlag::Pending);
        let onboarded = StatusFlags::empty().with(StatusFlag::Current);
        assert_eq!(Marker::of(pending, false, false), vec![Marker::InvitationNotAccepted]);
        assert_eq!(Marker::of(onboarded, false, false), vec![]);
        assert_eq!(Marker::of(onboarded, true, true), vec![Marker::WaitingToSync, Marker::InConflict]);
        assert_eq!(serde_json::to_string(&Marker::WaitingToSync).unwrap(), r#""waiting_to_sync""#);
        assert_eq!(Marker::parse("waiting-to-sync"), Some(Marker::WaitingToSync));
        assert_eq!(Marker::parse("nope"), None);
    }

    #[test]
    fn flags_serialize_as_lowercase_array_and_tolerate_unknown() {
        let f = StatusFlags::empty().with(StatusFlag::Pending).with(StatusFlag::Current);
        assert_eq!(serde_json::to_string(&f).unwrap(), r#"["current","pending"]"#);
        let back: StatusFlags = serde_json::from_str(r#"["current","PENDING","mystery"]"#).unwrap();
        assert_eq!(back, f);
        assert_eq!(StatusFlags::from_bits(f.bits()), f);
    }
}
