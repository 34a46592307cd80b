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

    /// When a site pulled at `now` is due again.
    pub fn next_pull(&self, now: DateTime<Utc>, quiet_pulls: u32, spread: f64) -> DateTime<Utc> {
        now + chrono::Duration::from_std(self.delay(quiet_pulls, spread)).unwrap_or(chrono::Duration::MAX)
    }
}

/// Whether a site is due at `now`, given its `next_pull_at` (`None`: at once).
pub fn is_due(next_pull_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    next_pull_at.is_none_or(|at| at <= now)
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
        assert!(is_due(None, now));
        assert!(is_due(Some(now), now));
        assert!(!is_due(Some(now + chrono::Duration::seconds(1)), now));
        assert_eq!(schedule().next_pull(now, 0, 0.5), now + chrono::Duration::seconds(60));
    }
}
