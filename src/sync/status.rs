//! What sync reports: per site the last successful pull, the counts of pending, in-flight,
//! rejected and conflicting entries, open conflicts, the last error, and the progress of a
//! running pass.

use super::Progress;
use crate::store::{self, sites::Site};
use chrono::{DateTime, Utc};
use residentdesk_domain::OutboxState;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

/// Why the last pass did not end cleanly, as a code with its parameters (`problem`): what the
/// desktop's sync bar says in the person's language; `last_error` keeps the English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum PassProblem {
    /// Site Manager refused the service account's credentials.
    CredentialsRefused,
    /// Another pass held the database.
    Busy { holder: String, since: DateTime<Utc> },
    /// Site Manager could not be reached (changes wait in the outbox).
    Unreachable,
    /// Some changes or sites could not be synced (`count` errors).
    SomeFailed { count: u32 },
    /// The pass stopped on an error of its own (with its reason code, when it has one).
    Stopped {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        reason: Option<crate::error::ErrorReason>,
    },
}

/// Pull state of one site.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteStatus {
    pub site_id: i64,
    pub name: String,
    pub remote_id: Option<String>,
    pub last_pull_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// The sync status of the sites a person can see.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    pub sites: Vec<SiteStatus>,
    pub pending: i64,
    pub in_flight: i64,
    pub rejected: i64,
    /// Entries waiting on a conflict.
    pub conflict: i64,
    /// Open conflicts in the inbox.
    pub open_conflicts: i64,
    /// In English (the CLI's words).
    pub last_error: Option<String>,
    /// The same as a code, when the pass recorded one.
    pub last_problem: Option<PassProblem>,
    pub last_pass_at: Option<DateTime<Utc>>,
    /// Whether a pass is running now (worker only).
    pub running: bool,
    pub progress: Option<Progress>,
}

/// Reads the status for `sites` from the database.
pub fn load(conn: &Connection, sites: &[Site]) -> rusqlite::Result<SyncStatus> {
    let ids: Vec<i64> = sites.iter().map(|s| s.id).collect();
    let states = store::sync_state::site_states(conn, &ids)?;
    let mut out = SyncStatus {
        sites: sites
            .iter()
            .map(|s| {
                let st = states.iter().find(|x| x.site_id == s.id);
                SiteStatus {
                    site_id: s.id,
                    name: s.name.clone(),
                    remote_id: s.remote_id.clone(),
                    last_pull_at: st.and_then(|x| x.last_pull_at),
                    last_error: st.and_then(|x| x.last_error.clone()),
                }
            })
            .collect(),
        ..SyncStatus::default()
    };
    for (state, n) in store::sync_state::counts_for_sites(conn, &ids)? {
        match OutboxState::parse(&state) {
            Some(OutboxState::Pending) => out.pending = n,
            Some(OutboxState::InFlight) => out.in_flight = n,
            Some(OutboxState::Rejected) => out.rejected = n,
            Some(OutboxState::Conflict) => out.conflict = n,
            _ => {}
        }
    }
    out.open_conflicts = store::conflicts::count_open(conn, &ids)?;
    out.last_error = store::sync_state::status_get(conn, "last_error")?.map(|(v, _)| v);
    // Written with the English one; a text of an older version (no code) reads as none.
    out.last_problem = match &out.last_error {
        Some(_) => {
            store::sync_state::status_get(conn, "last_problem")?.and_then(|(v, _)| serde_json::from_str(&v).ok())
        }
        None => None,
    };
    out.last_pass_at = store::sync_state::status_get(conn, "last_pass_at")?.and_then(|(v, _)| store::parse_ts(&v));
    Ok(out)
}
