//! `residentdesk audit`: the append-only audit log, listed or exported as CSV, thin over
//! `app::audit` (the export's file handling is `access_cmd::audit_export`).

use crate::access_cmd;
use crate::output::{self, print_table, Out};
use clap::Subcommand;
use residentdesk::app::Session;
use residentdesk::{App, AppError};
use serde_json::json;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum AuditCmd {
    /// The audit log as CSV (needs audit.export), oldest first.
    Export {
        /// YYYY-MM-DD or ISO 8601.
        #[arg(long)]
        since: Option<String>,
        /// Output file (default: standard output).
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// Newest entries first.
    List {
        /// YYYY-MM-DD or ISO 8601.
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

pub fn audit(app: &mut App, session: &Session, cmd: &AuditCmd, out: &Out) -> Result<(), AppError> {
    match cmd {
        AuditCmd::Export { since, output } => {
            let since = since
                .as_deref()
                .map(|s| residentdesk::domain::dates::parse_user_datetime("since", s, chrono_tz::UTC))
                .transpose()
                .map_err(AppError::from)?;
            access_cmd::audit_export(app, session, since, output.as_deref())
        }
        AuditCmd::List { since, limit } => {
            let since = since
                .as_deref()
                .map(|s| residentdesk::domain::dates::parse_user_datetime("since", s, chrono_tz::UTC))
                .transpose()
                .map_err(AppError::from)?;
            let entries = app.audit_list(session, since, *limit)?;
            out.value(&json!({"entries": entries}), || {
                print_table(
                    &["ID", "AT", "ACTOR", "ACTION", "OUTCOME", "TARGET", "DETAILS"],
                    entries
                        .iter()
                        .map(|e| {
                            vec![
                                e.id.to_string(),
                                e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                                e.actor.clone(),
                                e.action.clone(),
                                e.outcome.clone(),
                                e.target.clone().unwrap_or_default(),
                                output::clip(&e.details.to_string(), 60),
                            ]
                        })
                        .collect(),
                );
            });
            Ok(())
        }
    }
}
