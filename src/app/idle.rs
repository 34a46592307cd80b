//! The idle lock (issue #15): the core keeps, for each person signed in through this app,
//! the instant of their last activity, and the gate ([`super::gate`]) refuses every use case
//! of a session idle for longer than its team allows, with `unauthenticated` and the reason
//! [`ErrorReason::SessionLocked`]. The edges only show it.
//!
//! - Activity: every use case a person runs through the gate, and what the desktop reports
//!   of the person's keys and pointer ([`LiveSessions::activity`]); the background sync
//!   worker's tick and the housekeeping are not activity (a desk left alone would otherwise
//!   never lock).
//! - Locking is sticky: once the limit has passed, nothing but the person's password again
//!   (a sign-in, which counts toward the lockout rules like any) makes the session live.
//! - Signing out ends the session at once ([`LiveSessions::end`], no database connection
//!   needed, so the desktop can do it while an import holds the app): the next use case is
//!   refused, and a running import or export stops at its next progress tick
//!   ([`LiveSessions::ended`]) with nothing written (an import is one transaction).
//! - API tokens are not tracked: they have their own expiry and revocation, and no person
//!   at a desk to lock out.
//!
//! The table is shared (an [`Arc`]) between the desktop's app and its sync worker's app,
//! so a lock or a sign-out stops the worker's next pass too. A session this app did not
//! start (another app on the same database in the same process, as some tests do) is
//! adopted at its first use; one signed out here stays ended until the person signs in.

use super::gate::At;
use super::usecases::{self as uc, Runs, UseCase};
use super::{App, Session};
use crate::clock::Clock;
use crate::error::{AppError, AppResult, ErrorCode, ErrorDetails, ErrorReason};
use crate::store::{self, teams::Team};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The idle minutes a team gets when it has not chosen (issue #15).
pub const DEFAULT_MINUTES: u32 = 10;
/// The longest a team may choose: a Team administrator may only shorten the default
/// (PRODUCT.md: "locks itself after a few idle minutes").
pub const MAX_MINUTES: u32 = 10;
/// The key of the setting in the team's settings.
pub const SETTING: &str = "idle_lock_minutes";

/// The idle minutes of `team`: its setting, or the default (a stored value outside the
/// bounds, written by hand, is clamped into them).
pub fn minutes_of(team: &Team) -> u32 {
    team.settings
        .get(SETTING)
        .and_then(serde_json::Value::as_u64)
        .map(|m| m.clamp(1, u64::from(MAX_MINUTES)) as u32)
        .unwrap_or(DEFAULT_MINUTES)
}

/// Checks a value for the setting: a whole number of minutes, 1 to [`MAX_MINUTES`] (as a
/// number, or as text, which `team settings --set KEY=VALUE` gives).
pub fn check_minutes(value: &Value) -> AppResult<u32> {
    let number = value.as_u64().or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()));
    match number {
        Some(m) if (1..=u64::from(MAX_MINUTES)).contains(&m) => Ok(m as u32),
        _ => Err(AppError::invalid_field(
            SETTING,
            format!("the idle lock takes a whole number of minutes from 1 to {MAX_MINUTES} (got {value})"),
        )),
    }
}

/// The team's idle lock, as shown and set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IdleLock {
    /// A session idle this many minutes locks.
    pub minutes: u32,
    pub default_minutes: u32,
    pub max_minutes: u32,
}

impl IdleLock {
    fn of(team: &Team) -> IdleLock {
        IdleLock { minutes: minutes_of(team), default_minutes: DEFAULT_MINUTES, max_minutes: MAX_MINUTES }
    }
}

impl App {
    /// `team.idle_lock`: after how many idle minutes a session of the active team locks.
    pub fn idle_lock(&self, session: &Session) -> AppResult<IdleLock> {
        let rd = self.read(session, &uc::IDLE_LOCK_SHOW, At::Team)?;
        Ok(IdleLock::of(&rd.ctx.team))
    }

    /// `team.idle_lock.set`: a Team administrator shortens the idle minutes (1 to 10). It
    /// applies to every session of the team at its next use case.
    pub fn set_idle_lock(&mut self, session: &Session, minutes: u32) -> AppResult<IdleLock> {
        let minutes = check_minutes(&json!(minutes))?;
        let tx = self.write(session, &uc::IDLE_LOCK_SET, At::Team)?;
        let team = tx.ctx.team.clone();
        let before = IdleLock::of(&team);
        let mut settings = team.settings.as_object().cloned().unwrap_or_default();
        settings.insert(SETTING.into(), json!(minutes));
        store::teams::update_settings(&tx, team.id, &team.name, &Value::Object(settings))?;
        let after = store::teams::get(&tx, team.id)?.ok_or_else(|| AppError::internal("team vanished"))?;
        tx.audit().target(team.name.clone()).before_after(before.minutes, minutes).write()?;
        tx.commit()?;
        Ok(IdleLock::of(&after))
    }
}

/// Where a person's session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveState {
    /// In use; locks once `limit` passes after `last`.
    Active { last: DateTime<Utc>, limit: Duration },
    /// Idle for longer than its team allows: only the password again opens it.
    Locked,
    /// Signed out.
    Ended,
}

/// The live sessions of an app (and of the apps it shares them with), by staff id.
pub struct LiveSessions {
    clock: Arc<dyn Clock>,
    /// How long one "minute" of the setting lasts: a minute, except in the desktop's e2e
    /// build (`RESIDENTDESK_E2E_IDLE_MINUTE`), which waits for a lock in seconds.
    minute: Mutex<Duration>,
    people: Mutex<HashMap<i64, LiveState>>,
}

impl LiveSessions {
    pub fn new(clock: Arc<dyn Clock>) -> Arc<LiveSessions> {
        Arc::new(LiveSessions { clock, minute: Mutex::new(Duration::minutes(1)), people: Mutex::default() })
    }

    fn people(&self) -> MutexGuard<'_, HashMap<i64, LiveState>> {
        self.people.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The length of one idle minute (see the field). Hidden: only the desktop's e2e build
    /// calls it.
    #[doc(hidden)]
    pub fn set_minute(&self, minute: Duration) {
        *self.minute.lock().unwrap_or_else(|p| p.into_inner()) = minute;
    }

    fn limit(&self, minutes: u32) -> Duration {
        *self.minute.lock().unwrap_or_else(|p| p.into_inner()) * minutes as i32
    }

    /// A person has just proved who they are (sign-in, first set-up, an invitation
    /// accepted): their session is live from now, whatever it was (this is the unlock).
    pub(crate) fn begin(&self, staff_id: i64, team: Option<&Team>) {
        let limit = self.limit(team.map(minutes_of).unwrap_or(DEFAULT_MINUTES));
        self.people().insert(staff_id, LiveState::Active { last: self.clock.now(), limit });
    }

    /// Signs the person out: every later use case of the session is refused, and a running
    /// import or export stops at its next progress tick. Needs no database.
    pub fn end(&self, staff_id: i64) {
        self.people().insert(staff_id, LiveState::Ended);
    }

    /// Whether the person was signed out (what a long import or export checks as it goes).
    pub fn ended(&self, staff_id: i64) -> bool {
        matches!(self.people().get(&staff_id), Some(LiveState::Ended))
    }

    /// Where the person's session stands now (an active one past its limit becomes locked
    /// here): what the desktop's lock watcher asks, without the app.
    pub fn state(&self, staff_id: i64) -> Option<LiveState> {
        let now = self.clock.now();
        let mut people = self.people();
        let state = people.get_mut(&staff_id)?;
        lock_if_idle(state, now);
        Some(*state)
    }

    /// Activity of the person outside any use case (keys and pointer in the desktop): it
    /// extends a live session, never opens a locked or ended one. Returns the state after.
    pub fn activity(&self, staff_id: i64) -> Option<LiveState> {
        let now = self.clock.now();
        let mut people = self.people();
        let state = people.get_mut(&staff_id)?;
        lock_if_idle(state, now);
        if let LiveState::Active { limit, .. } = *state {
            *state = LiveState::Active { last: now, limit };
        }
        Some(*state)
    }

    /// The gate's check of a person's session before use case `uc` in `team`: refused when
    /// signed out or idle past the team's limit; otherwise, unless `quiet`, the use case
    /// counts as activity. The team's current setting is taken into the entry.
    pub(crate) fn check(&self, session: &Session, uc: &UseCase, team: &Team, quiet: bool) -> Result<(), AppError> {
        if session.token.is_some() || matches!(uc.runs, Runs::Anyone | Runs::System) {
            return Ok(());
        }
        let staff_id = session.actor.staff_id;
        let limit = self.limit(minutes_of(team));
        let now = self.clock.now();
        let mut people = self.people();
        let state = people.entry(staff_id).or_insert(LiveState::Active { last: now, limit });
        match *state {
            LiveState::Ended => Err(signed_out()),
            LiveState::Locked => Err(locked(&session.actor.email)),
            LiveState::Active { last, .. } if now - last >= limit => {
                *state = LiveState::Locked;
                Err(locked(&session.actor.email))
            }
            LiveState::Active { last, .. } => {
                *state = LiveState::Active { last: if quiet { last } else { now }, limit };
                Ok(())
            }
        }
    }
}

/// An active session past its limit becomes locked.
fn lock_if_idle(state: &mut LiveState, now: DateTime<Utc>) {
    if let LiveState::Active { last, limit } = *state {
        if now - last >= limit {
            *state = LiveState::Locked;
        }
    }
}

/// The refusal of a use case of a locked session.
pub fn locked(email: &str) -> AppError {
    AppError::new(
        ErrorCode::Unauthenticated,
        format!("the session of {email} is locked after its idle minutes; enter the password again"),
    )
    .with_details(ErrorDetails::reason(ErrorReason::SessionLocked))
}

/// The refusal of a use case of a session signed out (also what stops an import or export
/// under way).
pub fn signed_out() -> AppError {
    AppError::new(ErrorCode::Unauthenticated, "you have signed out; sign in again")
}
