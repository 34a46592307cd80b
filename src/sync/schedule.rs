//! The adaptive pull schedule (pure): which sites a pass pulls, and when a site is due again.
//!
//! A one-off pass (`residentdesk sync`, the tests) pulls every site ([`PullPlan::Every`]). The
//! desktop's background worker pulls by schedule ([`PullPlan::Adaptive`]): a site is due when
//! its `next_pull_at` has passed (or it has none: never pulled, or its last pull failed before
//! one was set); after a pull it is due again after [`PullSchedule::delay`] — the pass interval
//! while its pulls find changes, doubling with each pull in a row that found it unchanged, up
//! to `max_factor` times the interval — with a random spread of ± `jitter`, so that desks
//! started together do not pull in step. The site a person has on screen is pulled at every
//! pass and at once when it is opened (`focus`), and a person's "Sync now" pulls every site
//! (`app::worker`). A failed pull leaves the site due: the next pass tries it again.
//!
//! The due times are the desk's clock, which may be wrong for a while: a `next_pull_at` set
//! while the clock ran hours ahead would, once the clock is put right, hold the site back for
//! those hours. No pull ever sets a time further ahead than the longest delay
//! ([`PullSchedule::longest`]), so a time beyond that was set by a clock that has since gone
//! back, and the site counts as due ([`PullSchedule::is_due`]). A clock that ran behind only
//! makes its times pass early: those sites are pulled at once.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// How a pass chooses the sites it pulls.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum PullPlan {
    /// Every site, every pass.
    #[default]
    Every,
    /// The sites that are due, and the ones in `focus` whatever their schedule.
    Adaptive { schedule: PullSchedule, focus: Vec<i64> },
    /// These sites only (the site on screen, pulled at once while the background worker
    /// waits out its random start, see `app::worker`); their schedule is left due.
    Only(Vec<i64>),
}

/// When a pulled site is due again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PullSchedule {
    /// The delay after a pull that found changes (the worker's pass interval).
    pub base: Duration,
    /// The longest delay, as a multiple of `base` (a power of two is reached exactly).
    pub max_factor: u32,
    /// The spread around each delay, as a fraction (0.2: ± 20 %).
    pub jitter: f64,
}

impl PullSchedule {
    /// The background worker's schedule for a pass interval of `base`: a quiet site is pulled
    /// at least every 32 intervals (32 minutes at the desktop's one-minute interval), ± 20 %.
    pub fn for_interval(base: Duration) -> PullSchedule {
        PullSchedule { base, max_factor: 32, jitter: 0.2 }
    }

    /// The delay before the next pull of a site after `quiet_pulls` pulls in a row found it
    /// unchanged; `spread` in [0, 1) places it inside the jitter band (0.5: the middle).
    pub fn delay(&self, quiet_pulls: u32, spread: f64) -> Duration {
        let factor = 2f64.powi(quiet_pulls.min(31) as i32).min(f64::from(self.max_factor.max(1)));
        let jitter = self.jitter.clamp(0.0, 0.9) * (2.0 * spread.clamp(0.0, 1.0) - 1.0);
        self.base.mul_f64(factor * (1.0 + jitter))
    }

    /// The longest delay a pull can set (the cap with the whole jitter band above it).
    pub fn longest(&self) -> Duration {
        self.delay(u32::MAX, 1.0)
    }

    /// Whether a site is due at `now`, given its `next_pull_at` (`None`: at once). A time
    /// further ahead than [`PullSchedule::longest`] was set by a clock that has gone back since
    /// (a desk whose clock ran hours ahead, then was corrected): due, not stalled until then.
    pub fn is_due(&self, next_pull_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        let longest = chrono::Duration::from_std(self.longest()).unwrap_or(chrono::Duration::MAX);
        next_pull_at.is_none_or(|at| at <= now || now.checked_add_signed(longest).is_some_and(|cap| at > cap))
    }

    /// When a site pulled at `now` is due again.
    pub fn next_pull(&self, now: DateTime<Utc>, quiet_pulls: u32, spread: f64) -> DateTime<Utc> {
        now + chrono::Duration::from_std(self.delay(quiet_pulls, spread)).unwrap_or(chrono::Duration::MAX)
    }
}

/// A spread in [0, 1) that differs between sites, desks and pulls (no randomness crate for one
/// number: the standard library's randomly keyed hasher, fed the site and the time).
pub fn spread(site_id: i64, now: DateTime<Utc>) -> f64 {
    use std::hash::BuildHasher;
    let h = std::collections::hash_map::RandomState::new().hash_one((site_id, now.timestamp_nanos_opt()));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> PullSchedule {
        PullSchedule { base: Duration::from_secs(60), max_factor: 32, jitter: 0.2 }
    }

    #[test]
    fn a_changing_site_is_due_every_interval_and_a_quiet_one_ever_less_often_up_to_the_cap() {
        let s = schedule();
        let mid = |quiet| s.delay(quiet, 0.5).as_secs();
        assert_eq!([mid(0), mid(1), mid(2), mid(3), mid(5), mid(6), mid(40)], [60, 120, 240, 480, 1920, 1920, 1920]);
    }

    #[test]
    fn the_jitter_spreads_a_delay_within_its_band() {
        let s = schedule();
        assert_eq!(s.delay(0, 0.0), Duration::from_secs(48));
        assert_eq!(s.delay(0, 1.0), Duration::from_secs(72));
        let spreads: Vec<f64> = (0..200).map(|i| spread(i, Utc::now())).collect();
        assert!(spreads.iter().all(|x| (0.0..1.0).contains(x)));
        // Not all the same: desks and sites do not line up.
        let low = spreads.iter().filter(|x| **x < 0.5).count();
        assert!((40..160).contains(&low), "{low} of 200 below the middle");
    }

    #[test]
    fn a_site_without_a_time_is_due_at_once() {
        let now = Utc::now();
        let s = schedule();
        assert!(s.is_due(None, now));
        assert!(s.is_due(Some(now), now));
        assert!(!s.is_due(Some(now + chrono::Duration::seconds(1)), now));
        assert_eq!(s.next_pull(now, 0, 0.5), now + chrono::Duration::seconds(60));
    }

    #[test]
    fn a_time_set_by_a_clock_hours_ahead_does_not_stall_the_site_once_the_clock_is_right() {
        let s = schedule();
        // The longest a pull ever waits: 32 intervals with the whole +20 % band.
        assert_eq!(s.longest().as_secs(), 2304);
        let right = Utc::now();
        let hours = chrono::Duration::hours;
        // Every time a pull can set, at any spread, is within the longest delay: not due yet.
        for quiet in [0, 1, 5, 40] {
            for spread in [0.0, 0.5, 0.999_999] {
                assert!(!s.is_due(Some(s.next_pull(right, quiet, spread)), right), "{quiet} {spread}");
            }
        }
        // A quiet site pulled while the clock ran 3 hours ahead, then the clock put right.
        let ahead = right + hours(3);
        let set = s.next_pull(ahead, 40, 0.5);
        assert!(s.is_due(Some(set), right), "a time beyond the longest delay is due");
        assert!(s.is_due(Some(right + chrono::Duration::seconds(2305)), right));
        assert!(!s.is_due(Some(right + chrono::Duration::seconds(2300)), right));
        // A clock that ran behind: its times have passed, the sites are due at once.
        let behind = right - hours(5);
        assert!(s.is_due(Some(s.next_pull(behind, 40, 0.999)), right));
        // The far end of time does not overflow.
        assert!(s.is_due(Some(DateTime::<Utc>::MAX_UTC), right));
        assert!(!s.is_due(Some(DateTime::<Utc>::MAX_UTC), DateTime::<Utc>::MAX_UTC - chrono::Duration::seconds(1)));
    }
}
