//! `residentdesk outbox`: changes waiting to be synced, thin over `app::sync` (retry and
//! discard are `sync_cmd`'s).

use crate::output::{print_table, Out};
use crate::sync_cmd;
use clap::Subcommand;
use residentdesk::app::Session;
use residentdesk::{App, AppError};
use serde_json::json;

#[derive(Subcommand, Debug)]
pub enum OutboxCmd {
    /// Entries waiting or needing attention (pending, in flight, rejected, conflict).
    List {
        /// Include entries already done or discarded.
        #[arg(long)]
        all: bool,
        #[arg(long, default_value_t = 200)]
        limit: usize,
    },
    /// Send a rejected entry again on the next sync.
    Retry { id: i64 },
    /// Stop trying to send an entry (the local data is kept).
    Discard { id: i64 },
}

pub fn outbox(app: &mut App, session: &Session, cmd: &OutboxCmd, out: &Out) -> Result<(), AppError> {
    match cmd {
        OutboxCmd::Retry { id } => sync_cmd::outbox_retry(app, session, *id, out),
        OutboxCmd::Discard { id } => sync_cmd::outbox_discard(app, session, *id, out),
        OutboxCmd::List { all, limit } => {
            let entries = app.outbox_list(session, *all, *limit)?;
            out.value(&json!({"entries": entries}), || {
                print_table(
                    &["ID", "CREATED", "OP", "RESIDENT", "STATE", "ATTEMPTS", "LAST ERROR"],
                    entries
                        .iter()
                        .map(|e| {
                            vec![
                                e.id.to_string(),
                                e.created_at.format("%Y-%m-%d %H:%M").to_string(),
                                e.op.clone(),
                                e.email.clone().unwrap_or_default(),
                                e.state.clone(),
                                e.attempts.to_string(),
                                e.last_error.clone().unwrap_or_default(),
                            ]
                        })
                        .collect(),
                );
            });
            Ok(())
        }
    }
}
