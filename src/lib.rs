//! ResidentDesk core: the offline model of teams → sites → residents and their staff, the
//! Site Manager rules, the access matrix, the durable outbox and the audit log.
//!
//! Layers (see docs/ARCHITECTURE.md): [`domain`] and [`access`] are pure; [`store`] holds
//! every SQL statement; [`app`] is the one API that the CLI, the desktop shell and the tests
//! call. Every mutation is one immediate transaction: permission check → rule → write →
//! outbox row → audit row → commit.
#![forbid(unsafe_code)]

pub mod access;
pub mod app;
pub mod clock;
pub mod csvio;
pub mod error;
pub mod store;
pub mod sync;

/// The pure resident rules and wire types (the `residentdesk-domain` crate).
pub use residentdesk_domain as domain;

pub use app::App;
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{AppError, ErrorCode};
