//! Integration tests of the core: through the app layer and through the built CLI.

mod access;
mod app_core;
mod audit_chain;
mod backup;
mod cli_core;
mod cli_habits;
mod completions;
mod conflicts;
mod csv;
mod csv_excel;
mod encryption;
mod fixture;
mod gate;
mod idle_lock;
mod local_dates;
mod one_gate;
mod packaging;
mod remote_check;
mod remote_team;
mod rules_corners;
mod rules_sim;
mod sync;
mod sync_lease;
mod transit;
mod views;
