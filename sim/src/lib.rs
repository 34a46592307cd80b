//! `sitemanager-sim`: a contract-faithful simulator of the Site Manager Resident Management
//! API v2 (see `shared/spec/api-contract.md`), with injected faults and a controllable clock,
//! for the sync client's tests, the demo, training and integrators.
//!
//! Start one in-process:
//!
//! ```no_run
//! use sitemanager_sim::{Sim, SimConfig};
//! let sim = Sim::start(SimConfig::demo()).unwrap();
//! let base = sim.base_url(); // http://127.0.0.1:PORT/v2
//! sim.advance(chrono::Duration::days(1));
//! sim.shutdown();
//! ```
//!
//! The rules come from `residentdesk_domain`; the decisions where the vendor is silent are
//! in [`assumptions`].

pub mod api;
pub mod assumptions;
pub mod clock;
pub mod contradict;
pub mod control;
pub mod error;
pub mod extract;
pub mod faults;
pub mod history;
pub mod jobs;
pub mod model;
pub mod persist;
pub mod seed;
pub mod server;
pub mod world;

pub use contradict::Contradiction;
pub use error::ApiError;
pub use faults::{FaultConfig, FaultKind, ScriptedFault};
pub use model::{Account, AccountLevel};
pub use seed::Seed;
pub use server::{SeedSource, Sim, SimConfig, SimError, SimHandle};
pub use world::{Settings, Stats, World};
