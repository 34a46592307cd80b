//! `residentdesk remote check`: the contract's assumptions checked against the remote with
//! read-only calls (issue #13), a thin edge over `App::remote_check`; `remote teams` and
//! `remote link TEAM`: the remote teams the service account sees, and linking the active
//! team to one of them (issue #16, a new desk's first connection).
//!
//! Exit codes: 0 every assumption held or was not exercised (and no push is held);
//! 6 (conflict: a person must look) something was contradicted, or an earlier contradiction a
//! push depends on still holds the push; 3 the remote refused the service account's
//! credentials (or the gate refused the actor); 1 the remote could not be reached or the
//! check stopped early. With `--json` the report is printed on stdout in every one of these
//! cases, the error on stderr.

use crate::output::{clip, print_table, Out};
use clap::{Args, Subcommand};
use residentdesk::app::remote_team::RemoteTeams;
use residentdesk::app::Session;
use residentdesk::error::{ErrorDetails, ErrorReason};
use residentdesk::sync::check::{CheckReport, Verdict};
use residentdesk::{App, AppError, ErrorCode};
use serde_json::json;
use std::io::Read;

#[derive(Subcommand, Debug)]
pub enum RemoteCmd {
    /// Check the remote against the contract's assumptions (read-only calls): held,
    /// contradicted (with the value seen) or not exercised, with latency and rate limits.
    Check(CheckArgs),
    /// The remote teams the service account sees, and which local team each is linked to.
    Teams(CheckArgs),
    /// Link the active team to a remote team, by its remote id or name (the link is kept
    /// by remote id; the local team keeps its name).
    Link {
        /// The remote team's id or name.
        team: String,
        #[command(flatten)]
        connection: CheckArgs,
    },
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The remote API base URL (saved; needs sync.configure). Default: the one configured.
    #[arg(long)]
    pub remote: Option<String>,
    /// The service account's email (saved; needs sync.configure).
    #[arg(long)]
    pub remote_user: Option<String>,
    /// Read the service account's password from standard input (saved outside the database).
    #[arg(long)]
    pub remote_password_stdin: bool,
}

fn read_password(actor_used_stdin: bool) -> Result<String, AppError> {
    if actor_used_stdin {
        return Err(AppError::new(
            ErrorCode::Usage,
            "standard input already carried the actor's password; use RESIDENTDESK_PASSWORD for the actor with --remote-password-stdin",
        ));
    }
    let mut buf = String::new();
    std::io::stdin()
        .read_to_string(&mut buf)
        .map_err(|e| AppError::new(ErrorCode::Usage, format!("cannot read the remote password: {e}")))?;
    let line = buf.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        return Err(AppError::new(ErrorCode::Usage, "the remote password was expected on standard input"));
    }
    Ok(line)
}

pub fn remote_cmd(
    app: &mut App,
    session: &Session,
    cmd: &RemoteCmd,
    actor_used_stdin: bool,
    out: &Out,
) -> Result<(), AppError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::internal(format!("cannot start the async runtime: {e}")))?;
    match cmd {
        RemoteCmd::Check(args) => {
            // The gate of `remote.check` first: an actor who may not check learns it before
            // any setting or credential is touched.
            app.remote_check_gate(session)?;
            configure(app, session, args, actor_used_stdin, out)?;
            let report = runtime.block_on(app.remote_check(session))?;
            out.value(&json!({ "report": report }), || print_report(&report));
            outcome(&report)
        }
        RemoteCmd::Teams(args) => {
            // `remote.teams` needs `sync.configure`, as the settings given with it do.
            app.remote_link_gate(session)?;
            configure(app, session, args, actor_used_stdin, out)?;
            let teams = runtime.block_on(app.remote_teams(session))?;
            out.value(&teams, || print_teams(&teams));
            Ok(())
        }
        RemoteCmd::Link { team, connection } => {
            app.remote_link_gate(session)?;
            configure(app, session, connection, actor_used_stdin, out)?;
            let teams = runtime.block_on(app.remote_link(session, team))?;
            out.value(&teams, || {
                println!("Team {} is linked to remote team {}.", teams.team, teams.linked.as_deref().unwrap_or("-"));
            });
            Ok(())
        }
    }
}

/// Saves the remote and service account given with a command (`sync.configure`'s gate).
fn configure(
    app: &mut App,
    session: &Session,
    args: &CheckArgs,
    actor_used_stdin: bool,
    out: &Out,
) -> Result<(), AppError> {
    let password = if args.remote_password_stdin {
        Some(read_password(actor_used_stdin)?)
    } else {
        std::env::var("RESIDENTDESK_REMOTE_PASSWORD").ok().filter(|p| !p.is_empty())
    };
    if args.remote.is_some() || args.remote_user.is_some() || password.is_some() {
        let config =
            app.sync_configure(session, args.remote.as_deref(), args.remote_user.as_deref(), password.as_deref())?;
        if let (Some(notice), false) = (&config.notice, out.json) {
            eprintln!("note: {notice}");
        }
    }
    Ok(())
}

pub fn print_teams(t: &RemoteTeams) {
    println!(
        "Team {}: {}",
        t.team,
        t.linked.as_deref().map(|l| format!("linked to remote team {l}")).unwrap_or_else(|| "not linked yet".into())
    );
    print_table(
        &["REMOTE ID", "NAME", "LINKED TO"],
        t.teams
            .iter()
            .map(|r| {
                vec![r.team_id.clone(), r.name.clone().unwrap_or_default(), r.linked_to.clone().unwrap_or_default()]
            })
            .collect(),
    );
}

fn print_report(r: &CheckReport) {
    println!(
        "Remote check of {} at {}: {} held, {} contradicted, {} not exercised.",
        r.remote_url,
        r.at.format("%Y-%m-%d %H:%M:%S UTC"),
        r.count(Verdict::Held),
        r.count(Verdict::Contradicted),
        r.count(Verdict::NotExercised)
    );
    let on = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!("Team {} · site {} · job {}", on(&r.team), on(&r.site), on(&r.job));
    println!();
    print_table(
        &["ASSUMPTION", "PUSH", "RESULT", "SEEN"],
        r.assumptions
            .iter()
            .map(|a| {
                let result = match a.result {
                    Verdict::Held => "held",
                    Verdict::Contradicted => "CONTRADICTED",
                    Verdict::NotExercised => "not exercised",
                };
                let seen = a.seen.clone().or_else(|| a.note.clone()).unwrap_or_default();
                vec![a.id.clone(), if a.push { "yes" } else { "" }.into(), result.into(), clip(&seen, 100)]
            })
            .collect(),
    );
    println!();
    print_table(
        &["CALL", "PATH", "STATUS", "MS", "TRIES", "RATE LIMIT", "ERROR"],
        r.calls
            .iter()
            .map(|c| {
                let limits: Vec<String> = c.rate_limit.iter().map(|(k, v)| format!("{k}={v}")).collect();
                vec![
                    c.call.clone(),
                    clip(&c.path, 60),
                    c.status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                    format!("{:.0}", c.latency_ms),
                    c.attempts.to_string(),
                    clip(&limits.join(" "), 50),
                    clip(c.error.as_deref().unwrap_or(""), 60),
                ]
            })
            .collect(),
    );
    for n in &r.notes {
        println!("note: {n}");
    }
    if let Some(s) = &r.stopped {
        println!("The check stopped: {s}");
    }
    if !r.push_held_by.is_empty() {
        println!();
        println!("The push is held (pull goes on) until a check finds these held:");
        for b in &r.push_held_by {
            println!("  - {} (since {}): {}", b.id, b.since.format("%Y-%m-%d %H:%M UTC"), on(&b.seen));
        }
    }
}

/// The exit code, as the module's documentation says.
fn outcome(r: &CheckReport) -> Result<(), AppError> {
    let contradicted: Vec<&str> = r.contradicted().map(|a| a.id.as_str()).collect();
    if !contradicted.is_empty() || !r.push_held_by.is_empty() {
        let held: Vec<&str> = r.push_held_by.iter().map(|b| b.id.as_str()).collect();
        let mut message =
            format!("the remote contradicts {} assumption(s): {}", contradicted.len(), contradicted.join(", "));
        if !held.is_empty() {
            message.push_str(&format!("; the push is held by {}", held.join(", ")));
        }
        return Err(AppError::new(ErrorCode::Conflict, message).with_details(ErrorDetails {
            contradicted: contradicted.into_iter().map(str::to_string).collect(),
            push_held_by: held.into_iter().map(str::to_string).collect(),
            ..ErrorDetails::reason(ErrorReason::AssumptionsContradicted)
        }));
    }
    if r.credentials_refused {
        return Err(AppError::new(ErrorCode::Unauthenticated, r.stopped.clone().unwrap_or_default()));
    }
    if let Some(s) = &r.stopped {
        return Err(AppError::internal(s.clone()));
    }
    Ok(())
}
