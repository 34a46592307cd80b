//! Time is passed in: rules never read the system clock, so grace periods and scheduled
//! residents are testable.
//!
//! A process's clock is the system's. Only a build with the `test-clock` feature (this
//! package's own tests, through its self dev-dependency) lets `RESIDENTDESK_NOW` pin it: in
//! any other build whoever sets that variable could skip the sign-in lockout, revive expired
//! tokens and invitations, skip the resend wait and forge audit times (issue #12).

use crate::error::{AppError, ErrorCode};
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

/// A source of the current instant.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved (tests, and `RESIDENTDESK_NOW` in test builds).
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(at))
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
    pub fn advance(&self, by: chrono::Duration) {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *guard += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The variable that pins a test build's clock (an RFC 3339 instant or a date, UTC).
pub const TEST_NOW_VAR: &str = "RESIDENTDESK_NOW";

/// Whether this build reads [`TEST_NOW_VAR`]: only with the `test-clock` feature.
pub const HONOURS_TEST_NOW: bool = cfg!(feature = "test-clock");

/// The clock a process (the CLI) runs on.
pub struct ProcessClock {
    pub clock: Arc<dyn Clock>,
    /// Set when [`TEST_NOW_VAR`] is set but this build ignores it: one line for stderr, so
    /// a script that relied on it learns why its times are real (the run itself goes on).
    pub warning: Option<String>,
}

/// The clock of this process: the system's, or, in a `test-clock` build only, the instant
/// in `RESIDENTDESK_NOW`.
pub fn process_clock() -> Result<ProcessClock, AppError> {
    clock_for(std::env::var(TEST_NOW_VAR).ok().as_deref(), HONOURS_TEST_NOW)
}

/// The decision behind [`process_clock`], apart from the environment and the build so both
/// answers are tested in every build: `value` is the variable's text, `honour` whether the
/// build reads it. An ignored value is never parsed, so a bad one cannot fail a release run.
pub fn clock_for(value: Option<&str>, honour: bool) -> Result<ProcessClock, AppError> {
    let value = value.map(str::trim).filter(|v| !v.is_empty());
    match value {
        Some(text) if honour => {
            let at = residentdesk_domain::dates::parse_user_datetime(TEST_NOW_VAR, text, chrono_tz::UTC)
                .map_err(|e| AppError::new(ErrorCode::Usage, e.to_string()))?;
            Ok(ProcessClock { clock: Arc::new(FixedClock::new(at)), warning: None })
        }
        Some(_) => Ok(ProcessClock {
            clock: Arc::new(SystemClock),
            warning: Some(format!("warning: {TEST_NOW_VAR} is ignored: this build runs on the system clock")),
        }),
        None => Ok(ProcessClock { clock: Arc::new(SystemClock), warning: None }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ignored_test_now_leaves_the_system_clock() {
        // What a release build does with a far-future instant (or garbage): the system
        // clock, one warning, no failure.
        for value in ["2099-01-01T00:00:00Z", "not a date"] {
            let before = Utc::now();
            let p = clock_for(Some(value), false).unwrap();
            let now = p.clock.now();
            assert!(now >= before && now <= Utc::now() + chrono::Duration::seconds(1), "{value}: {now}");
            assert!(p.warning.unwrap().contains("RESIDENTDESK_NOW is ignored"));
        }
        // Unset or blank: the system clock and nothing to say.
        assert!(clock_for(None, false).unwrap().warning.is_none());
        assert!(clock_for(Some("  "), true).unwrap().warning.is_none());
    }

    #[test]
    fn a_test_build_pins_the_clock() {
        let p = clock_for(Some("2099-01-01T00:00:00Z"), true).unwrap();
        assert_eq!(p.clock.now().to_rfc3339(), "2099-01-01T00:00:00+00:00");
        assert!(p.warning.is_none());
        assert_eq!(clock_for(Some("not a date"), true).err().unwrap().code, ErrorCode::Usage);
    }
}
