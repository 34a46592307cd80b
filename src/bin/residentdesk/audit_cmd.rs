//! `residentdesk audit`: the append-only audit log, listed (by email too), exported as CSV
//! or its hash chain verified, thin over `app::audit` (the export's file handling is
//! `access_cmd::audit_export`).
//!
//! `audit verify` exits 0 when the whole chain verifies and no entry records restored
//! triggers, else 6 (conflict: a person must look); with `--json` the report is printed on
//! stdout in both cases, the error on stderr.

use crate::access_cmd;
use crate::output::{self, print_table, Out};
use clap::Subcommand;
use residentdesk::app::Session;
use residentdesk::{App, AppError, ErrorCode};
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
        /// Only the entries about this resident (found even once their details were scrubbed).
        #[arg(long)]
        email: Option<String>,
    },
    /// Check the hash chain of the whole log; names the first row that breaks it (exit 6).
    Verify,
    /// Set how many days resident details stay in the log before they are scrubbed
    /// (30..=36600; default 2562, 7 years); applied at the next open.
    Retention {
        #[arg(long)]
        days: i64,
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
        AuditCmd::Verify => verify(app, session, out),
        AuditCmd::Retention { days } => {
            let days = app.audit_retention_set(session, *days)?;
            out.value(&json!({ "retention_days": days }), || {
                println!("resident details stay {days} days in the audit log");
            });
            Ok(())
        }
        AuditCmd::List { since, limit, email } => {
            let since = since
                .as_deref()
                .map(|s| residentdesk::domain::dates::parse_user_datetime("since", s, chrono_tz::UTC))
                .transpose()
                .map_err(AppError::from)?;
            let mut entries = match email {
                Some(email) => app.audit_for_email(session, email, *limit)?,
                None => app.audit_list(session, since, *limit)?,
            };
            if email.is_some() {
                if let Some(since) = since {
                    entries.retain(|e| e.at >= since);
                }
            }
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

fn verify(app: &mut App, session: &Session, out: &Out) -> Result<(), AppError> {
    let report = app.audit_verify(session)?;
    out.value(&report, || {
        match &report.first_break {
            None => println!("verified {} of {} rows: the chain holds", report.verified, report.rows),
            Some(b) => println!(
                "broken at row {} ({}): {} ({}); {} rows before it verified",
                b.id,
                b.at,
                b.message,
                serde_json::to_value(b.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
                report.verified
            ),
        }
        for f in &report.findings {
            println!("row {} ({}): {}", f.id, f.at, f.message);
        }
        if let Some(head) = &report.head {
            println!("head {head}");
        }
    });
    if report.ok {
        return Ok(());
    }
    let message = match &report.first_break {
        Some(b) => format!("the audit log's chain breaks at row {}: {}", b.id, b.message),
        None => format!("the audit log records {} restoration(s) of its append-only triggers", report.findings.len()),
    };
    Err(AppError::new(ErrorCode::Conflict, message))
}
