//! The simulated clock: real time plus a skew that `/__sim/clock/advance` grows, or a frozen
//! instant. Everything time-dependent (status flags, token expiry, grace periods, job
//! progress) reads this clock, so tests can jump days ahead in a millisecond.

use chrono::{DateTime, Datelike, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

/// Simulated time. Serialisable so a persisted simulator keeps its time after a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SimClock {
    /// Added to the real time when not frozen.
    pub skew_ms: i64,
    /// When set, time stands still at this instant (until advanced).
    pub frozen_at: Option<DateTime<Utc>>,
}

impl SimClock {
    /// A clock that follows real time.
    pub fn real() -> Self {
        SimClock::default()
    }

    /// A clock that starts at `start` and then runs at real speed.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        SimClock { skew_ms: (start - Utc::now()).num_milliseconds(), frozen_at: None }
    }

    /// A clock that stands still at `at` until advanced.
    pub fn frozen(at: DateTime<Utc>) -> Self {
        SimClock { skew_ms: 0, frozen_at: Some(truncate(at)) }
    }

    /// The simulated now, truncated to microseconds (the wire's precision).
    pub fn now(&self) -> DateTime<Utc> {
        match self.frozen_at {
            Some(t) => t,
            None => truncate(
                Utc::now().checked_add_signed(Duration::milliseconds(self.skew_ms)).unwrap_or(DateTime::<Utc>::MAX_UTC),
            ),
        }
    }

    /// Moves time forward (or backward, for a negative `by`). Refuses (returns false) to
    /// leave the years 1970..=9999, which every wire date format can carry.
    pub fn advance(&mut self, by: Duration) -> bool {
        let Some(target) = self.now().checked_add_signed(by) else { return false };
        if !(1970..=9999).contains(&target.year()) {
            return false;
        }
        match self.frozen_at.as_mut() {
            Some(t) => *t = truncate(target),
            None => self.skew_ms = self.skew_ms.saturating_add(by.num_milliseconds()),
        }
        true
    }

    /// Sets the simulated time to `at`, keeping the frozen/running mode.
    pub fn set(&mut self, at: DateTime<Utc>) {
        match self.frozen_at.as_mut() {
            Some(t) => *t = truncate(at),
            None => self.skew_ms = (at - Utc::now()).num_milliseconds(),
        }
    }

    /// Freezes at the current simulated instant, or lets time run again.
    pub fn set_frozen(&mut self, frozen: bool) {
        let now = self.now();
        if frozen {
            self.frozen_at = Some(now);
        } else {
            self.frozen_at = None;
            self.skew_ms = (now - Utc::now()).num_milliseconds();
        }
    }
}

/// Truncates to whole microseconds.
pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::microseconds(1)).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn frozen_clock_advances_only_when_told() {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut c = SimClock::frozen(t);
        assert_eq!(c.now(), t);
        assert!(c.advance(Duration::days(2)));
        assert_eq!(c.now(), t + Duration::days(2));
        assert!(!c.advance(Duration::days(365 * 9000)));
        assert_eq!(c.now(), t + Duration::days(2));
    }

    #[test]
    fn running_clock_keeps_skew() {
        let t = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        let mut c = SimClock::starting_at(t);
        assert!((c.now() - t).num_seconds().abs() < 5);
        assert!(c.advance(Duration::days(1)));
        assert!((c.now() - t - Duration::days(1)).num_seconds().abs() < 5);
    }
}
