//! `residentdesk sync`, `sync status`, `conflict list|resolve` and `outbox retry|discard`:
//! thin edges over `app::sync`. A pass that leaves open conflicts exits 6.

use crate::output::{clip, print_table, Out};
use crate::progress::Bar;
use clap::{Args, Subcommand};
use residentdesk::app::sync::{sync_pass, Keep, Resolution};
use residentdesk::app::Session;
use residentdesk::store::outbox::Entry;
use residentdesk::sync::client::{Credentials, HttpRemote};
use residentdesk::sync::{Progress, SyncOptions};
use residentdesk::{App, AppError, ErrorCode};
use serde_json::json;
use std::io::Read;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SyncArgs {
    #[command(subcommand)]
    pub cmd: Option<SyncSub>,
    /// The remote API base URL (saved; Team administrators). Default: the vendor's production URL.
    #[arg(long)]
    pub remote: Option<String>,
    /// The service account's email (saved; Team administrators).
    #[arg(long)]
    pub remote_user: Option<String>,
    /// Read the service account's password from standard input (saved outside the database).
    #[arg(long)]
    pub remote_password_stdin: bool,
    /// Link the active team to this remote team (its id or name) before the pass: a new
    /// desk's first connection when the names differ (`remote teams` lists them).
    #[arg(long, value_name = "NAME|ID")]
    pub remote_team: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum SyncSub {
    /// Last pull per site, pending / in-flight / rejected / conflict counts, last error.
    Status,
}

#[derive(Subcommand, Debug)]
pub enum ConflictCmd {
    /// Conflicts waiting for a person (both values of every disputed field).
    List {
        /// Include resolved conflicts.
        #[arg(long)]
        all: bool,
    },
    /// Resolve a conflict: one side for everything, or a side per field.
    Resolve {
        id: i64,
        /// local or remote.
        #[arg(long, conflicts_with = "field")]
        keep: Option<String>,
        /// NAME=local|remote, repeatable.
        #[arg(long = "field", value_name = "NAME=local|remote")]
        field: Vec<String>,
    },
}

fn usage(msg: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::Usage, msg)
}

fn read_password(actor_used_stdin: bool) -> Result<String, AppError> {
    if actor_used_stdin {
        return Err(usage(
            "standard input already carried the actor's password; use RESIDENTDESK_PASSWORD for the actor with --remote-password-stdin",
        ));
    }
    let mut buf = String::new();
    std::io::stdin().read_to_string(&mut buf).map_err(|e| usage(format!("cannot read the remote password: {e}")))?;
    let line = buf.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        return Err(usage("the remote password was expected on standard input"));
    }
    Ok(line)
}

/// `sync` (one pass) and `sync status`.
pub fn sync(
    app: &mut App,
    session: &Session,
    args: &SyncArgs,
    actor_used_stdin: bool,
    out: &Out,
) -> Result<(), AppError> {
    if let Some(SyncSub::Status) = args.cmd {
        let st = app.sync_status(session)?;
        let config = app.sync_config(session)?;
        out.value(&json!({"status": st, "config": config}), || {
            println!(
                "Remote: {} as {}",
                config.remote_url,
                config.remote_user.as_deref().unwrap_or("(no service account)")
            );
            println!(
                "Pending {} · in flight {} · rejected {} · waiting on conflicts {} · open conflicts {}",
                st.pending, st.in_flight, st.rejected, st.conflict, st.open_conflicts
            );
            if let Some(at) = st.last_pass_at {
                println!("Last pass: {}", at.format("%Y-%m-%d %H:%M:%S UTC"));
            }
            if let Some(e) = &st.last_error {
                println!("Last error: {e}");
            }
            print_table(
                &["SITE", "REMOTE ID", "LAST PULL", "ERROR"],
                st.sites
                    .iter()
                    .map(|s| {
                        vec![
                            s.name.clone(),
                            s.remote_id.clone().unwrap_or_else(|| "(not linked)".into()),
                            s.last_pull_at
                                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                                .unwrap_or_else(|| "never".into()),
                            clip(s.last_error.as_deref().unwrap_or(""), 60),
                        ]
                    })
                    .collect(),
            );
        });
        return Ok(());
    }
    // The gate of `sync.run` first: a person or token that may not sync learns it before
    // any setting or credential is touched.
    app.sync_gate(session)?;
    let password = if args.remote_password_stdin {
        Some(read_password(actor_used_stdin)?)
    } else {
        std::env::var("RESIDENTDESK_REMOTE_PASSWORD").ok().filter(|p| !p.is_empty())
    };
    if args.remote.is_some() || args.remote_user.is_some() || password.is_some() {
        let config =
            app.sync_configure(session, args.remote.as_deref(), args.remote_user.as_deref(), password.as_deref())?;
        if !out.json && password.is_some() {
            eprintln!("note: the service account's password is kept in the {}", config.credential_store);
        }
        if let Some(notice) = &config.notice {
            eprintln!("note: {notice}");
        }
    }
    // One worker thread besides this one: the pass runs here, and the connections read the
    // next sites' answers on the worker while a pull writes the database (`sync::pull`).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| AppError::internal(format!("cannot start the async runtime: {e}")))?;
    if let Some(team) = &args.remote_team {
        let linked = runtime.block_on(app.remote_link(session, team))?;
        if !out.json {
            eprintln!(
                "note: team {} is linked to remote team {}",
                linked.team,
                linked.linked.as_deref().unwrap_or("-")
            );
        }
    }
    let config = app.sync_config(session)?;
    let credentials: Credentials = app.sync_credentials(session)?;
    let remote = HttpRemote::new(&config.remote_url, credentials).map_err(|e| AppError::internal(e.to_string()))?;
    let started = Instant::now();
    let last = Mutex::new((String::new(), Instant::now()));
    // On a terminal a bar per phase; piped, a line per phase and second as before.
    let bar = Bar::new(out, "sync", "changes", None);
    let lines = !out.json && !crate::progress::wanted(out);
    let progress = |p: Progress| {
        if bar.is_drawn() {
            bar.stage(&p.phase);
            bar.set(p.done, Some(p.total));
            return;
        }
        let mut l = last.lock().unwrap_or_else(|e| e.into_inner());
        if lines && p.total > 0 && (l.0 != p.phase || l.1.elapsed().as_millis() > 1000) {
            eprintln!("{} {}/{}", p.phase, p.done, p.total);
            *l = (p.phase.clone(), Instant::now());
        }
    };
    let report = runtime.block_on(sync_pass(app, session, &remote, &SyncOptions::default(), Some(&progress)));
    bar.finish();
    let report = report?;
    let st = app.sync_status(session)?;
    out.value(&json!({"report": report, "status": st, "requests": remote.requests_sent()}), || {
        println!(
            "Sync pass in {:.1} s: {} sent ({} coalesced), {} rejected, {} waiting on conflicts, {} left for later; \
             pulled {} sites ({} failed): {} added, {} updated, {} removed locally.",
            started.elapsed().as_secs_f64(),
            report.done,
            report.coalesced,
            report.rejected,
            report.conflict_entries,
            report.retry_later,
            report.sites_pulled,
            report.sites_failed,
            report.residents_inserted,
            report.residents_updated,
            report.residents_deleted
        );
        if report.offline {
            println!("The remote could not be reached; changes wait and are sent on the next pass.");
        }
        for e in report.errors.iter().take(10) {
            println!("  - {e}");
        }
        println!("Pending {} · rejected {} · open conflicts {}", st.pending, st.rejected, st.open_conflicts);
    });
    if st.open_conflicts > 0 {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!("{} conflict(s) need a person: see `residentdesk conflict list`", st.open_conflicts),
        ));
    }
    Ok(())
}

/// `conflict list` and `conflict resolve`.
pub fn conflict(app: &mut App, session: &Session, cmd: &ConflictCmd, out: &Out) -> Result<(), AppError> {
    match cmd {
        ConflictCmd::List { all } => {
            let list = app.conflict_list(session, *all)?;
            out.value(&json!({"conflicts": list}), || {
                let mut rows = Vec::new();
                for c in &list {
                    let fields = c
                        .fields
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .map(|(f, v)| format!("{f}: local {} / remote {}", v["local"], v["remote"]))
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                        .unwrap_or_default();
                    rows.push(vec![
                        c.id.to_string(),
                        c.kind.clone(),
                        c.email.clone().unwrap_or_default(),
                        c.state.clone(),
                        clip(&c.message, 50),
                        clip(&fields, 80),
                    ]);
                }
                print_table(&["ID", "KIND", "RESIDENT", "STATE", "WHAT", "VALUES"], rows);
            });
            Ok(())
        }
        ConflictCmd::Resolve { id, keep, field } => {
            let mut choice = Resolution { keep: keep.as_deref().map(Keep::parse).transpose()?, ..Default::default() };
            for f in field {
                let (name, side) =
                    f.split_once('=').ok_or_else(|| usage(format!("--field expects NAME=local|remote, got {f:?}")))?;
                choice.fields.insert(name.trim().to_string(), Keep::parse(side)?);
            }
            if choice.keep.is_none() && choice.fields.is_empty() {
                return Err(usage("say what to keep: --keep local|remote or --field NAME=local|remote"));
            }
            let outcome = app.conflict_resolve(session, *id, &choice)?;
            out.value(&outcome, || {
                println!("Conflict #{} resolved: {}.", outcome.conflict_id, outcome.message);
                if let Some(e) = outcome.entry_id {
                    println!("Outbox entry #{e} will carry it to the remote on the next sync.");
                }
            });
            Ok(())
        }
    }
}

fn print_entry(e: &Entry, out: &Out, what: &str) {
    out.value(&json!({"entry": e}), || {
        println!("Outbox entry #{} ({} {}) {what}.", e.id, e.op, e.email.as_deref().unwrap_or(""))
    });
}

/// `outbox retry <ID>`.
pub fn outbox_retry(app: &mut App, session: &Session, id: i64, out: &Out) -> Result<(), AppError> {
    let e = app.outbox_retry(session, id)?;
    print_entry(&e, out, "will be sent again on the next sync");
    Ok(())
}

/// `outbox discard <ID>`.
pub fn outbox_discard(app: &mut App, session: &Session, id: i64, out: &Out) -> Result<(), AppError> {
    let e = app.outbox_discard(session, id)?;
    print_entry(&e, out, "discarded (the local data is kept)");
    Ok(())
}
