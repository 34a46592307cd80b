//! Pure resident rules and the Site Manager v2 wire types.
//!
//! This crate does no I/O. It is shared by the ResidentDesk core (which enforces the rules
//! offline) and by `sitemanager-sim` (which enforces the same rules as the remote would), so
//! every rule has one source of truth. Time is always passed in.
#![forbid(unsafe_code)]

pub mod actions;
pub mod dates;
pub mod input;
pub mod rules;
pub mod status;
pub mod vocab;
pub mod wire;

pub use rules::{BulkAction, InvalidWhy, InviteKind, RuleError, SiteType, SkipReason, StatusChange};
pub use status::{derive_flags, Lifecycle, MainStatus, Marker, StatusFlag, StatusFlags};
pub use vocab::{chain_key, ConflictKind, OutboxOp, OutboxState, ResidentField};
