//! Which actions apply to a resident now, and why the others do not.
//!
//! The desktop offers a resident's actions from this one answer instead of enabling every
//! button and letting the core refuse afterwards. Each state rule is the rule the action
//! itself applies ([`StatusChange::applies_to`], [`rules::invite_kind`],
//! [`rules::check_psk_reset`], [`rules::check_purge`], [`rules::purge_due`]); this module only
//! asks them and turns their answer into a reason a person can read. Whether the session may
//! run the action at all (the role matrix) is the caller's question to the gate, passed in
//! as `permitted`.

use crate::dates::{day_text, site_local};
use crate::rules::{self, InviteKind, RuleError, SiteType, StatusChange};
use crate::status::StatusFlags;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The actions a person may look for on one resident, in the order the desktop shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ResidentAction {
    Edit,
    Suspend,
    Unsuspend,
    Terminate,
    Reinstate,
    ResendInvitation,
    ResetWifiKey,
    DeletePermanently,
}

impl ResidentAction {
    pub const ALL: [ResidentAction; 8] = [
        ResidentAction::Edit,
        ResidentAction::Suspend,
        ResidentAction::Unsuspend,
        ResidentAction::Terminate,
        ResidentAction::Reinstate,
        ResidentAction::ResendInvitation,
        ResidentAction::ResetWifiKey,
        ResidentAction::DeletePermanently,
    ];
}

/// Why an action does not apply now, with what a person needs to know (days are the site's
/// calendar days, `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum NotNow {
    /// The person's role does not allow it here.
    NotPermitted,
    /// The resident's access has ended.
    Ended,
    /// Access has not started; it starts (and the first invitation goes out) on `day`.
    NotStarted { day: String },
    /// Suspending needs a resident who has accepted the invitation.
    NotAccepted,
    /// Already suspended (Unsuspend is offered instead).
    AlreadySuspended,
    /// Not suspended (Suspend is offered instead).
    NotSuspended,
    /// Only an ended resident can be reinstated.
    NotEnded,
    /// The 31-day grace period is over: the resident is being removed.
    GraceOver,
    /// Wi-Fi keys can only be reset at sites with personal keys.
    NoPersonalKeys { site_type: String },
    /// An ended resident is removed automatically on `day` (end of the grace period).
    RemovedAutomatically { day: String },
}

impl NotNow {
    /// Whether a person would look for the action in this state: a reason worth one line.
    /// Unsuspend on someone not suspended, or Reinstate on someone whose access has not
    /// ended, are the other half of an action that is offered: nobody misses them.
    pub fn worth_saying(&self) -> bool {
        !matches!(self, NotNow::AlreadySuspended | NotNow::NotSuspended | NotNow::NotEnded)
    }
}

impl std::fmt::Display for NotNow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotNow::NotPermitted => f.write_str("your role does not allow it here"),
            NotNow::Ended => f.write_str("access has ended"),
            NotNow::NotStarted { day } => write!(f, "access starts on {day}"),
            NotNow::NotAccepted => f.write_str("the invitation has not been accepted yet"),
            NotNow::AlreadySuspended => f.write_str("already suspended"),
            NotNow::NotSuspended => f.write_str("not suspended"),
            NotNow::NotEnded => f.write_str("access has not ended"),
            NotNow::GraceOver => f.write_str("the 31-day grace period is over"),
            NotNow::NoPersonalKeys { site_type } => write!(f, "the site ({site_type}) has no personal Wi-Fi keys"),
            NotNow::RemovedAutomatically { day } => write!(f, "deleted automatically on {day}"),
        }
    }
}

/// One action with the answer for this resident now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActionState {
    pub action: ResidentAction,
    pub available: bool,
    /// Why not, when not available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub why: Option<NotNow>,
    /// When unavailable: whether a person would look for it (show the reason as a line).
    #[serde(default)]
    pub worth_saying: bool,
    /// For "resend invitation": what it sends (a new invitation, or the Wi-Fi details).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional, type = "\"invitation\" | \"wifi_details\""))]
    pub sends: Option<InviteKind>,
}

/// A change that can be undone while it has not been sent: its local effect is reversed and
/// its outbox entry withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Undoable {
    Suspend,
    Unsuspend,
    Terminate,
}

impl Undoable {
    /// What to do instead once the change has been sent.
    pub fn instead(self) -> &'static str {
        match self {
            Undoable::Suspend => "unsuspend the resident instead",
            Undoable::Unsuspend => "suspend the resident again instead",
            Undoable::Terminate => "reinstate the resident instead",
        }
    }
}

/// What the state rules need to know about a resident.
#[derive(Debug, Clone)]
pub struct ResidentFacts {
    pub flags: StatusFlags,
    pub onboarded: bool,
    pub site_type: SiteType,
    pub activation: DateTime<Utc>,
    pub deactivation: Option<DateTime<Utc>>,
    /// The site's zone, in which the days of the reasons are meant.
    pub tz: Tz,
}

/// Whether the state of the resident allows `action` at `now` (permission aside).
pub fn state_rule(action: ResidentAction, f: &ResidentFacts, now: DateTime<Utc>) -> Result<(), NotNow> {
    let start_day = || NotNow::NotStarted { day: day_text(site_local(f.activation, f.tz).day) };
    // The lifecycle rules refuse with a rule error; say it as the reason it is.
    let said = |e: RuleError| match e {
        RuleError::Expired { .. } => NotNow::Ended,
        RuleError::NotStarted { .. } => start_day(),
        RuleError::PskResetNotAllowed { site_type } => NotNow::NoPersonalKeys { site_type },
        RuleError::PurgeExpired => removed_on(f).map_or(NotNow::Ended, |day| NotNow::RemovedAutomatically { day }),
        _ => NotNow::Ended,
    };
    let flags = f.flags;
    match action {
        // Editing is always possible (moving the access end reactivates, the rules check it).
        ResidentAction::Edit => Ok(()),
        ResidentAction::Suspend => {
            if StatusChange::Disabled.applies_to(flags) {
                Ok(())
            } else if flags.is_expired() {
                Err(NotNow::Ended)
            } else if flags.is_scheduled() {
                Err(start_day())
            } else if flags.is_suspended() {
                Err(NotNow::AlreadySuspended)
            } else {
                Err(NotNow::NotAccepted)
            }
        }
        ResidentAction::Unsuspend => {
            if StatusChange::Active.applies_to(flags) {
                Ok(())
            } else {
                Err(NotNow::NotSuspended)
            }
        }
        ResidentAction::Terminate => {
            if crate::BulkAction::Terminate.eligible(flags) {
                Ok(())
            } else {
                Err(NotNow::Ended)
            }
        }
        ResidentAction::Reinstate => reinstate_rule(flags, f.deactivation, now),
        ResidentAction::ResendInvitation => rules::invite_kind(flags, f.onboarded).map(|_| ()).map_err(said),
        ResidentAction::ResetWifiKey => rules::check_psk_reset(&f.site_type, flags).map_err(said),
        ResidentAction::DeletePermanently => rules::check_purge(flags).map_err(said),
    }
}

/// Reinstate applies to an ended resident during the 31-day grace period (after it, the
/// resident is purged at the next housekeeping).
pub fn reinstate_rule(
    flags: StatusFlags,
    deactivation: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), NotNow> {
    if !flags.is_expired() {
        Err(NotNow::NotEnded)
    } else if rules::purge_due(flags, deactivation, now) {
        Err(NotNow::GraceOver)
    } else {
        Ok(())
    }
}

/// The access end a reinstated resident gets: the end they had before they were terminated
/// when that end is still in the future (a lease with a fixed end keeps it), otherwise none
/// (open-ended access).
pub fn reinstated_end(before_termination: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    before_termination.filter(|end| *end > now)
}

/// The site day an ended resident is removed automatically (the end of the grace period).
fn removed_on(f: &ResidentFacts) -> Option<String> {
    f.deactivation.map(|d| day_text(site_local(d + Duration::days(rules::GRACE_DAYS), f.tz).day))
}

/// Every action for the resident now: available when its state rule and `permitted` (the
/// session's grant for it, as the gate decides) both say yes. The state's reason comes first:
/// "access has ended" tells more than "ask a Team administrator".
pub fn applicable(
    f: &ResidentFacts,
    now: DateTime<Utc>,
    permitted: impl Fn(ResidentAction) -> bool,
) -> Vec<ActionState> {
    ResidentAction::ALL
        .into_iter()
        .map(|action| {
            let why = match state_rule(action, f, now) {
                Err(why) => Some(why),
                Ok(()) if !permitted(action) => Some(NotNow::NotPermitted),
                Ok(()) => None,
            };
            let sends = (action == ResidentAction::ResendInvitation)
                .then(|| rules::invite_kind(f.flags, f.onboarded).ok())
                .flatten();
            ActionState {
                action,
                available: why.is_none(),
                worth_saying: why.as_ref().is_some_and(NotNow::worth_saying),
                why,
                sends,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::StatusFlag::{self, *};
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 6, 0, 0).unwrap()
    }
    fn flags(list: &[StatusFlag]) -> StatusFlags {
        list.iter().fold(StatusFlags::empty(), |f, x| f.with(*x))
    }
    fn facts(list: &[StatusFlag], site: &str) -> ResidentFacts {
        ResidentFacts {
            flags: flags(list),
            onboarded: !list.contains(&Pending),
            site_type: SiteType::parse(site),
            activation: utc(2026, 1, 1),
            deactivation: list.contains(&Expired).then(|| utc(2026, 5, 31)),
            tz: "America/Chicago".parse().unwrap(),
        }
    }
    fn available(f: &ResidentFacts, now: DateTime<Utc>) -> Vec<ResidentAction> {
        applicable(f, now, |_| true).into_iter().filter(|a| a.available).map(|a| a.action).collect()
    }

    #[test]
    fn actions_fit_the_state() {
        use ResidentAction::*;
        let now = utc(2026, 6, 1);
        let cases: Vec<(&str, ResidentFacts, Vec<ResidentAction>)> = vec![
            (
                "current at a PPK-C site",
                facts(&[Current], "PPK-C"),
                vec![Edit, Suspend, Terminate, ResendInvitation, ResetWifiKey, DeletePermanently],
            ),
            (
                "current at a PSK site",
                facts(&[Current], "PSK"),
                vec![Edit, Suspend, Terminate, ResendInvitation, DeletePermanently],
            ),
            (
                "pending: no suspend until accepted",
                facts(&[Current, Pending], "PSK"),
                vec![Edit, Terminate, ResendInvitation, DeletePermanently],
            ),
            (
                "suspended",
                facts(&[Current, Suspended], "PPK-D"),
                vec![Edit, Unsuspend, Terminate, ResendInvitation, ResetWifiKey, DeletePermanently],
            ),
            ("scheduled", facts(&[Scheduled], "PSK"), vec![Edit, Terminate, DeletePermanently]),
            ("ended, in the grace period", facts(&[Expired], "PPK-C"), vec![Edit, Reinstate]),
        ];
        for (name, f, expected) in cases {
            assert_eq!(available(&f, now), expected, "{name}");
            // Every unavailable action says why.
            for a in applicable(&f, now, |_| true) {
                assert_eq!(a.available, a.why.is_none(), "{name}: {:?}", a.action);
            }
        }
    }

    #[test]
    fn reasons_say_what_a_person_needs() {
        let now = utc(2026, 6, 1);
        let ended = applicable(&facts(&[Expired], "PSK"), now, |_| true);
        let why = |list: &[ActionState], a: ResidentAction| list.iter().find(|s| s.action == a).unwrap().why.clone();
        assert_eq!(why(&ended, ResidentAction::Terminate), Some(NotNow::Ended));
        assert_eq!(why(&ended, ResidentAction::Suspend), Some(NotNow::Ended));
        // Ended on May 31 (site day): removed automatically 31 days later.
        assert_eq!(
            why(&ended, ResidentAction::DeletePermanently),
            Some(NotNow::RemovedAutomatically { day: "2026-07-01".into() })
        );
        let scheduled = ResidentFacts { activation: utc(2026, 7, 15), ..facts(&[Scheduled], "PSK") };
        let list = applicable(&scheduled, now, |_| true);
        assert_eq!(why(&list, ResidentAction::ResendInvitation), Some(NotNow::NotStarted { day: "2026-07-15".into() }));
        assert_eq!(why(&list, ResidentAction::Suspend), Some(NotNow::NotStarted { day: "2026-07-15".into() }));
        let psk = applicable(&facts(&[Current], "PSK"), now, |_| true);
        assert_eq!(why(&psk, ResidentAction::ResetWifiKey), Some(NotNow::NoPersonalKeys { site_type: "PSK".into() }));
        // The other half of an offered action is not worth a line.
        let unsuspend = psk.iter().find(|s| s.action == ResidentAction::Unsuspend).unwrap();
        assert!(!unsuspend.available && !unsuspend.worth_saying);
        let pending = applicable(&facts(&[Current, Pending], "PSK"), now, |_| true);
        assert_eq!(why(&pending, ResidentAction::Suspend), Some(NotNow::NotAccepted));
        let invite = pending.iter().find(|s| s.action == ResidentAction::ResendInvitation).unwrap();
        assert_eq!(invite.sends, Some(InviteKind::Invitation));
    }

    #[test]
    fn permission_and_state_combine() {
        let now = utc(2026, 6, 1);
        let no_purge = |a: ResidentAction| a != ResidentAction::DeletePermanently;
        let list = applicable(&facts(&[Current], "PSK"), now, no_purge);
        let purge = list.iter().find(|s| s.action == ResidentAction::DeletePermanently).unwrap();
        assert_eq!((purge.available, purge.why.clone()), (false, Some(NotNow::NotPermitted)));
        assert!(purge.worth_saying);
        // The state's reason wins over the permission's.
        let list = applicable(&facts(&[Expired], "PSK"), now, |_| false);
        let term = list.iter().find(|s| s.action == ResidentAction::Terminate).unwrap();
        assert_eq!(term.why, Some(NotNow::Ended));
        assert!(list.iter().all(|s| !s.available));
    }

    #[test]
    fn reinstate_during_the_grace_period_only() {
        let end = utc(2026, 5, 31);
        let exp = flags(&[Expired]);
        assert_eq!(reinstate_rule(exp, Some(end), utc(2026, 6, 30)), Ok(()));
        assert_eq!(reinstate_rule(exp, Some(end), end + Duration::days(rules::GRACE_DAYS)), Err(NotNow::GraceOver));
        assert_eq!(reinstate_rule(flags(&[Current]), None, utc(2026, 6, 1)), Err(NotNow::NotEnded));
        // A lease end still ahead is kept; one already past gives open-ended access.
        let now = utc(2026, 6, 1);
        assert_eq!(reinstated_end(Some(utc(2026, 12, 31)), now), Some(utc(2026, 12, 31)));
        assert_eq!(reinstated_end(Some(utc(2026, 5, 1)), now), None);
        assert_eq!(reinstated_end(None, now), None);
    }
}
