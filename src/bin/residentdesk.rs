//! The `residentdesk` command line: a thin edge over the app layer, with the same
//! permission checks as the desktop app. Names, flags and exit codes follow
//! shared/design/CLI.md (0 ok, 1 failure, 2 usage, 3 denied, 4 invalid, 5 not found,
//! 6 conflict).
#![forbid(unsafe_code)]

// std's print macros panic when standard output is a pipe whose reader has gone. These
// replace them, by textual scope, here and in every module declared below, so each write
// goes through `output`, which ends the process quietly on a closed pipe instead.
macro_rules! print {
    ($($arg:tt)*) => { $crate::output::print_stdout(format_args!($($arg)*)) };
}
macro_rules! println {
    () => { $crate::output::print_stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::print_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::output::print_stderr(format_args!($($arg)*)) };
}
macro_rules! eprintln {
    () => { $crate::output::print_stderr(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::print_stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

#[path = "residentdesk/access_cmd.rs"]
mod access_cmd;
#[path = "residentdesk/backup_cmd.rs"]
mod backup_cmd;
#[path = "residentdesk/csv_cmd.rs"]
mod csv_cmd;
#[path = "residentdesk/output.rs"]
mod output;
#[path = "residentdesk/remote_cmd.rs"]
mod remote_cmd;
#[path = "residentdesk/sync_cmd.rs"]
mod sync_cmd;

use clap::{Args, Parser, Subcommand};
use output::{print_table, Out};
use residentdesk::app::bulk::BulkReport;
use residentdesk::app::org::SiteSettingsPatch;
use residentdesk::app::residents::{ActionOutcome, ResidentFilter};
use residentdesk::app::staff::{NewStaff, StaffAccess, StaffPatch};
use residentdesk::app::{ResidentInput, ResidentPatch, ResidentView, Session};
use residentdesk::domain::{BulkAction, StatusChange, StatusFlag};
use residentdesk::{App, AppError, ErrorCode};
use serde_json::{json, Value};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "residentdesk",
    version,
    about = "Manage apartment residents' network accounts, offline first",
    long_about = None,
    after_long_help = use_cases_help()
)]
struct Cli {
    /// The SQLite database file (default: the platform data directory).
    #[arg(long, global = true, env = "RESIDENTDESK_DB")]
    db: Option<PathBuf>,
    /// Act as this staff account (password from RESIDENTDESK_PASSWORD or --password-stdin).
    #[arg(long = "as", global = true, value_name = "EMAIL")]
    actor: Option<String>,
    /// Read the actor's password from the first line of standard input.
    #[arg(long, global = true)]
    password_stdin: bool,
    /// Machine output: one JSON document on stdout; errors as JSON on stderr.
    #[arg(long, global = true)]
    json: bool,
    /// Log what happens on stderr (-v: info, -vv: debug, -vvv: trace; RUST_LOG overrides).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Every use case with the permission it needs and what it is aimed at (no sign-in).
    UseCases {
        /// As the Markdown table docs/ARCHITECTURE.md carries.
        #[arg(long)]
        markdown: bool,
    },
    /// Create the database and its first Team administrator (the owner).
    Init {
        #[arg(long)]
        admin_email: String,
        /// Read the admin password from standard input (else RESIDENTDESK_PASSWORD).
        #[arg(long)]
        admin_password_stdin: bool,
        /// The name of the first team.
        #[arg(long, default_value = "My portfolio")]
        team: String,
    },
    /// The demo portfolio.
    #[command(subcommand)]
    Demo(DemoCmd),
    /// Teams: list, switch the active team, details and settings.
    #[command(subcommand)]
    Team(TeamCmd),
    /// Sites you can see, their mappings and settings.
    #[command(subcommand)]
    Site(SiteCmd),
    /// Residents: list, search, show, add, update and lifecycle actions.
    #[command(subcommand)]
    Resident(ResidentCmd),
    /// Apply one action to many residents of a site.
    Bulk {
        /// suspend, unsuspend, terminate, terminate-purge, resend-invites or onboard-now.
        action: String,
        #[arg(long)]
        site: String,
        /// Residents to act on (ids, remote ids or emails); default: every resident of the site.
        #[arg(long, value_delimiter = ',')]
        ids: Vec<String>,
    },
    /// Staff accounts within Table-1.
    #[command(subcommand)]
    Staff(StaffCmd),
    /// The append-only audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Staff access: explain, matrix, a member's roles and sites, ownership.
    #[command(subcommand)]
    Access(access_cmd::AccessCmd),
    /// Roles (built-in and add-on) and job functions.
    #[command(subcommand)]
    Role(access_cmd::RoleCmd),
    /// Invitations by email with roles and sites.
    #[command(subcommand)]
    Invite(access_cmd::InviteCmd),
    /// API tokens for integrators (use with RESIDENTDESK_TOKEN).
    #[command(subcommand)]
    Token(access_cmd::TokenCmd),
    /// One sync pass with the remote (push, then pull), or `sync status`.
    Sync(sync_cmd::SyncArgs),
    /// The remote: `remote check` checks the contract's assumptions with read-only calls.
    #[command(subcommand)]
    Remote(remote_cmd::RemoteCmd),
    /// Sync conflicts waiting for a person.
    #[command(subcommand)]
    Conflict(sync_cmd::ConflictCmd),
    /// Changes waiting to be synced.
    #[command(subcommand)]
    Outbox(OutboxCmd),
    /// Import residents from a CSV file into a site (every row checked first).
    Import {
        /// The CSV file (comma, semicolon or tab; UTF-8 or Windows-1252; API or Site Manager headers).
        file: PathBuf,
        #[arg(long)]
        site: String,
        /// Check every row and report; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import the valid rows even when others have problems (default: all or nothing).
        #[arg(long)]
        valid_only: bool,
    },
    /// Export residents as CSV (one site, or every site you see in the active team).
    Export {
        #[arg(long, conflicts_with = "team", required_unless_present = "team")]
        site: Option<String>,
        /// Every site you can see in the active team.
        #[arg(long)]
        team: bool,
        /// scheduled, current, pending, suspended or expired (repeatable).
        #[arg(long = "status")]
        statuses: Vec<String>,
        #[arg(long)]
        building: Option<String>,
        /// Name, email or unit prefix.
        #[arg(long)]
        search: Option<String>,
        /// api (FirstName, ActivationDateUTC...) or site-manager (First Name, Access Start...).
        #[arg(long, default_value = "api")]
        columns: String,
        /// Excel-safe: UTF-8 BOM, CRLF, formula-like cells neutralised.
        #[arg(long)]
        excel: bool,
        /// Dates in the site's local time instead of UTC.
        #[arg(long)]
        local_dates: bool,
        /// Output file, or - for standard output (the default).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Back up the whole database (while it is in use), list the backups, set how many are kept.
    Backup(backup_cmd::BackupArgs),
    /// Replace the database with a backup (checked first; the owner only).
    Restore(backup_cmd::RestoreArgs),
}

/// `demo seed --big-site N`: the core's `demo_grow_site`, as the demo's owner.
fn grow_first_site(
    app: &mut App,
    summary: &residentdesk::app::demo::DemoSummary,
    n: usize,
) -> Result<(String, u64), AppError> {
    let owner = summary.owner()?;
    let session = app.sign_in(&owner.email, &owner.password)?;
    app.demo_grow_site(&session, n)
}

#[derive(Subcommand, Debug)]
enum DemoCmd {
    /// Seed a deterministic demo portfolio into an empty database.
    Seed {
        #[arg(long, default_value_t = 2000)]
        residents: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Then give the first site N more residents (one site of 10,000+ residents, for the
        /// desktop's scrolling test; the demo itself spreads ~400 per site).
        #[arg(long, value_name = "N")]
        big_site: Option<usize>,
    },
}

#[derive(Subcommand, Debug)]
enum TeamCmd {
    /// Your teams (the active one marked).
    List,
    /// Make another team active: by id, exact name or an unambiguous part of the name.
    Switch { team: String },
    /// Details of the active team.
    Show,
    /// Team-level members of the active team (Team administrators).
    Members,
    /// Edit the active team's name or settings (Team administrators).
    Settings {
        #[arg(long)]
        name: Option<String>,
        /// KEY=VALUE, repeatable.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum SiteCmd {
    /// Sites you can see in the active team.
    List,
    /// One site.
    Show { site: String },
    /// The site's allowed Building/Floor/Unit combinations.
    Mappings { site: String },
    /// View a site's settings, or edit them with flags (Team administrators).
    Settings {
        site: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long = "type")]
        site_type: Option<String>,
        #[arg(long)]
        time_zone: Option<String>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
}

#[derive(Args, Debug)]
struct ResidentFields {
    #[arg(long)]
    first: Option<String>,
    #[arg(long)]
    last: Option<String>,
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    building: Option<String>,
    #[arg(long)]
    floor: Option<String>,
    #[arg(long)]
    unit: Option<String>,
    /// Access start: YYYY-MM-DD (site time) or ISO 8601.
    #[arg(long)]
    start: Option<String>,
    /// Access end: YYYY-MM-DD or ISO 8601 (empty string: open-ended).
    #[arg(long)]
    end: Option<String>,
}

#[derive(Subcommand, Debug)]
enum ResidentCmd {
    /// Residents of a site (the only one you see when you give none), or of every site you
    /// see with --all.
    List {
        #[arg(long, conflicts_with = "all")]
        site: Option<String>,
        /// Every site you can see in the active team.
        #[arg(long)]
        all: bool,
        /// scheduled, current, pending, suspended or expired (repeatable).
        #[arg(long = "status")]
        statuses: Vec<String>,
        #[arg(long)]
        building: Option<String>,
        /// Name, email or unit prefix.
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Search every site you can see by name, email or unit prefix.
    Search {
        query: String,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// One resident (local id, remote id or email).
    Show { resident: String },
    /// Add a resident.
    Add {
        #[arg(long)]
        site: String,
        #[arg(long)]
        email: String,
        #[command(flatten)]
        fields: ResidentFields,
    },
    /// Change a resident's fields (the email cannot change).
    Update {
        resident: String,
        /// Accepted only when unchanged: the email is immutable.
        #[arg(long)]
        email: Option<String>,
        #[command(flatten)]
        fields: ResidentFields,
    },
    /// Suspend a current, onboarded resident.
    Suspend { resident: String },
    /// Unsuspend a suspended resident.
    Unsuspend { resident: String },
    /// End access yesterday; purged automatically after 31 days.
    Terminate { resident: String },
    /// Terminate and remove at once (not for expired residents).
    Purge { resident: String },
    /// Resend the invitation, or the Wi-Fi details once onboarded.
    Invite { resident: String },
    /// Send a personal Wi-Fi key reset link (PPK-C and PPK-D sites).
    PskReset { resident: String },
}

#[derive(Subcommand, Debug)]
enum StaffCmd {
    /// Staff you may manage.
    List,
    /// Add a staff account (password from --new-password-stdin or RESIDENTDESK_NEW_PASSWORD, else generated and printed once).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        grant: access_cmd::GrantArgs,
        /// Read the new account's password from standard input.
        #[arg(long)]
        new_password_stdin: bool,
    },
    /// Change a member's name, level, sites, or disable them in this team (--disable).
    Update {
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        level: Option<String>,
        /// Replaces the member sites (repeatable).
        #[arg(long = "site")]
        sites: Vec<String>,
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        #[arg(long)]
        enable: bool,
    },
    /// Remove a member from the active team.
    Remove { email: String },
    /// Disable an account in every team (or --enable it again): the owner's act alone.
    DisableAccount {
        email: String,
        #[arg(long)]
        enable: bool,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCmd {
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

#[derive(Subcommand, Debug)]
enum OutboxCmd {
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

/// The use-case table, for `--help` (derived from the core's table, never kept by hand).
fn use_cases_help() -> String {
    let mut out = String::from("Use cases and the permission each needs (`residentdesk use-cases`):\n");
    for u in residentdesk::app::usecases::ALL {
        let perm = u.permission.map(|p| p.as_str()).unwrap_or("-");
        out.push_str(&format!("  {:<22} {:<22} {}\n", u.name, perm, u.summary));
    }
    out
}

/// Sends the core's `tracing` events to stderr: warnings and errors by default, more with
/// `-v`, or whatever `RUST_LOG` asks for.
fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

fn main() {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let out = Out { json: cli.json };
    let result = run(cli, &out);
    // Whatever is still buffered goes out before the exit code is decided (a closed pipe
    // still ends quietly).
    output::flush_stdout();
    if let Err(e) = result {
        out.error(&e);
        std::process::exit(e.code.exit_code());
    }
}

/// The system clock; `RESIDENTDESK_NOW` pins it only in a `test-clock` build (the tests),
/// and a release build says on stderr that it ignores it (see `residentdesk::clock`).
fn clock() -> Result<Arc<dyn residentdesk::Clock>, AppError> {
    let process = residentdesk::clock::process_clock()?;
    if let Some(warning) = &process.warning {
        eprintln!("{warning}");
    }
    Ok(process.clock)
}

fn default_db() -> PathBuf {
    residentdesk::store::default_database_path()
}

fn read_stdin_line(what: &str) -> Result<String, AppError> {
    let mut buf = String::new();
    std::io::stdin()
        .read_to_string(&mut buf)
        .map_err(|e| AppError::new(ErrorCode::Usage, format!("cannot read {what} from stdin: {e}")))?;
    let line = buf.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        return Err(AppError::new(ErrorCode::Usage, format!("{what} expected on standard input")));
    }
    Ok(line)
}

fn usage(msg: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::Usage, msg)
}

/// Signs the actor in from `--as` and the password source, then runs the housekeeping that
/// needs a signed-in session (the purge of residents past their 31-day grace period).
fn sign_in(app: &mut App, cli: &Cli) -> Result<Session, AppError> {
    let session = sign_in_only(app, cli)?;
    app.purge_after_grace(&session)?;
    // The daily backup: a failure (full disk, read-only folder) is said, not fatal.
    if let Err(e) = app.backup_if_due(&session) {
        eprintln!("warning: the daily backup was not taken: {}", e.message);
    }
    Ok(session)
}

fn sign_in_only(app: &mut App, cli: &Cli) -> Result<Session, AppError> {
    let Some(email) = &cli.actor else {
        // An API token (integrators): RESIDENTDESK_TOKEN, used when no --as is given.
        if let Some(token) = std::env::var("RESIDENTDESK_TOKEN").ok().filter(|t| !t.trim().is_empty()) {
            return app.sign_in_token(&token);
        }
        return Err(AppError::new(
            ErrorCode::Unauthenticated,
            "who is acting? pass --as EMAIL with RESIDENTDESK_PASSWORD or --password-stdin, or set RESIDENTDESK_TOKEN",
        ));
    };
    let password = if cli.password_stdin {
        read_stdin_line("password")?
    } else {
        std::env::var("RESIDENTDESK_PASSWORD").map_err(|_| {
            AppError::new(ErrorCode::Unauthenticated, "no password: set RESIDENTDESK_PASSWORD or use --password-stdin")
        })?
    };
    app.sign_in(email, &password)
}

fn parse_kv(items: &[String]) -> Result<Option<serde_json::Map<String, Value>>, AppError> {
    if items.is_empty() {
        return Ok(None);
    }
    let mut map = serde_json::Map::new();
    for item in items {
        let (k, v) = item.split_once('=').ok_or_else(|| usage(format!("--set expects KEY=VALUE, got {item:?}")))?;
        if k.trim().is_empty() {
            return Err(usage(format!("--set has an empty key in {item:?}")));
        }
        map.insert(k.trim().to_string(), Value::String(v.to_string()));
    }
    Ok(Some(map))
}

fn run(cli: Cli, out: &Out) -> Result<(), AppError> {
    if let Command::UseCases { markdown } = &cli.command {
        // Static: the table as the core declares it; no database, no sign-in.
        let all = residentdesk::app::usecases::ALL;
        out.value(&json!({"use_cases": all}), || {
            if *markdown {
                print!("{}", residentdesk::app::usecases::markdown_table());
            } else {
                print_table(
                    &["USE CASE", "PERMISSION", "TARGET", "WHO", "AUDITED", "WHAT"],
                    all.iter()
                        .map(|u| {
                            vec![
                                u.name.to_string(),
                                u.permission.map(|p| p.as_str().to_string()).unwrap_or_default(),
                                format!("{:?}", u.target).to_lowercase(),
                                format!("{:?}", u.runs),
                                if u.audited { "yes" } else { "denials" }.to_string(),
                                u.summary.to_string(),
                            ]
                        })
                        .collect(),
                );
            }
        });
        return Ok(());
    }
    let db = cli.db.clone().unwrap_or_else(default_db);
    let mut app = App::open(&db, clock()?)?;
    match &cli.command {
        Command::Init { admin_email, admin_password_stdin, team } => {
            let password = if *admin_password_stdin {
                read_stdin_line("admin password")?
            } else {
                std::env::var("RESIDENTDESK_PASSWORD")
                    .map_err(|_| usage("no admin password: use --admin-password-stdin or RESIDENTDESK_PASSWORD"))?
            };
            let session = app.init(admin_email, &password, team)?;
            out.value(&json!({"database": db, "admin": session.email(), "team": team}), || {
                println!(
                    "Created {} with Team administrator {} (owner) of team {team}.",
                    db.display(),
                    session.email()
                );
            });
            return Ok(());
        }
        Command::Demo(DemoCmd::Seed { residents, seed, big_site }) => {
            if *residents > 1_000_000 || big_site.is_some_and(|n| n > 200_000) {
                return Err(AppError::invalid_field(
                    "residents",
                    "at most 1,000,000 demo residents, 200,000 in the big site",
                ));
            }
            let started = std::time::Instant::now();
            let summary = app.demo_seed(*residents, *seed)?;
            if let Some(n) = big_site.filter(|n| *n > 0) {
                let (site, imported) = grow_first_site(&mut app, &summary, n)?;
                eprintln!("Gave site {site} {imported} more residents.");
            }
            out.value(&summary, || {
                println!(
                    "Seeded {} teams, {} sites, {} residents into {} in {:.1} s.",
                    summary.teams,
                    summary.sites,
                    summary.residents,
                    db.display(),
                    started.elapsed().as_secs_f64()
                );
                println!("\nDemo staff accounts (use with --as EMAIL and RESIDENTDESK_PASSWORD):");
                print_table(
                    &["EMAIL", "PASSWORD", "WHO"],
                    summary
                        .accounts
                        .iter()
                        .map(|a| vec![a.email.clone(), a.password.clone(), a.note.clone()])
                        .collect(),
                );
            });
            return Ok(());
        }
        _ => {}
    }
    if let Command::Invite(cmd) = &cli.command {
        if access_cmd::invite_without_actor(cmd) {
            return access_cmd::invite_anonymous(&mut app, cmd, out);
        }
    }
    let session = sign_in(&mut app, &cli)?;
    match &cli.command {
        Command::Init { .. } | Command::Demo(_) | Command::UseCases { .. } => unreachable!("handled above"),
        Command::Team(cmd) => team_cmd(&mut app, &session, cmd, out),
        Command::Site(cmd) => site_cmd(&mut app, &session, cmd, out),
        Command::Resident(cmd) => resident_cmd(&mut app, &session, cmd, out),
        Command::Bulk { action, site, ids } => {
            let action = BulkAction::parse(action).map_err(|e| usage(e.to_string()))?;
            let report = app.bulk(&session, action, site, ids)?;
            print_bulk(&report, out);
            Ok(())
        }
        Command::Staff(cmd) => staff_cmd(&mut app, &session, cmd, out),
        Command::Backup(args) => backup_cmd::backup(&mut app, &session, args, out),
        Command::Restore(args) => backup_cmd::restore(&mut app, &session, args, out),
        Command::Audit(AuditCmd::Export { since, output }) => {
            let since = since
                .as_deref()
                .map(|s| residentdesk::domain::dates::parse_user_datetime("since", s, chrono_tz::UTC))
                .transpose()
                .map_err(AppError::from)?;
            access_cmd::audit_export(&mut app, &session, since, output.as_deref())
        }
        Command::Access(cmd) => access_cmd::access_cmd(&mut app, &session, cmd, out),
        Command::Role(cmd) => access_cmd::role_cmd(&mut app, &session, cmd, out),
        Command::Invite(cmd) => access_cmd::invite_cmd(&mut app, &session, cmd, out),
        Command::Token(cmd) => access_cmd::token_cmd(&mut app, &session, cmd, out),
        Command::Audit(AuditCmd::List { since, limit }) => {
            let since = since
                .as_deref()
                .map(|s| residentdesk::domain::dates::parse_user_datetime("since", s, chrono_tz::UTC))
                .transpose()
                .map_err(AppError::from)?;
            let entries = app.audit_list(&session, since, *limit)?;
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
        Command::Import { file, site, dry_run, valid_only } => {
            let options = residentdesk::app::csv::ImportOptions { dry_run: *dry_run, valid_only: *valid_only };
            csv_cmd::import(&mut app, &session, file, site, options, out)
        }
        Command::Export { site, team: _, statuses, building, search, columns, excel, local_dates, output } => {
            let args = csv_cmd::ExportArgs {
                site: site.as_deref(),
                statuses: parse_statuses(statuses)?,
                building: building.as_deref(),
                search: search.as_deref(),
                columns,
                excel: *excel,
                local_dates: *local_dates,
                output: output.as_deref(),
            };
            csv_cmd::export(&mut app, &session, args, out)
        }
        Command::Sync(args) => sync_cmd::sync(&mut app, &session, args, cli.password_stdin, out),
        Command::Remote(cmd) => remote_cmd::remote_cmd(&mut app, &session, cmd, cli.password_stdin, out),
        Command::Conflict(cmd) => sync_cmd::conflict(&mut app, &session, cmd, out),
        Command::Outbox(OutboxCmd::Retry { id }) => sync_cmd::outbox_retry(&mut app, &session, *id, out),
        Command::Outbox(OutboxCmd::Discard { id }) => sync_cmd::outbox_discard(&mut app, &session, *id, out),
        Command::Outbox(OutboxCmd::List { all, limit }) => {
            let entries = app.outbox_list(&session, *all, *limit)?;
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

fn team_cmd(app: &mut App, session: &Session, cmd: &TeamCmd, out: &Out) -> Result<(), AppError> {
    match cmd {
        TeamCmd::List => {
            let teams = app.team_list(session)?;
            out.value(&json!({"teams": teams}), || {
                print_table(
                    &["", "ID", "TEAM", "YOUR LEVEL"],
                    teams
                        .iter()
                        .map(|t| {
                            vec![
                                if t.active { "*" } else { "" }.into(),
                                t.id.to_string(),
                                t.name.clone(),
                                t.level.clone(),
                            ]
                        })
                        .collect(),
                );
            });
        }
        TeamCmd::Switch { team } => {
            let s = app.team_switch(session, team)?;
            let (t, level) = s.actor.team.clone().ok_or_else(|| AppError::internal("no active team after switch"))?;
            out.value(&json!({"active_team": {"id": t.id, "name": t.name, "level": level}}), || {
                println!("Active team: {} (you are {})", t.name, level.title());
            });
        }
        TeamCmd::Show => {
            let d = app.team_show(session)?;
            out.value(&d, || {
                println!(
                    "{} (#{})\n  sites: {}\n  your level: {}\n  settings: {}",
                    d.name, d.id, d.sites, d.your_level, d.settings
                );
            });
        }
        TeamCmd::Members => {
            let members = app.team_members(session)?;
            print_members(&members, out);
        }
        TeamCmd::Settings { name, set } => {
            let team = app.team_settings_update(session, name.as_deref(), parse_kv(set)?.as_ref())?;
            out.value(&team, || println!("Team {} saved; settings: {}", team.name, team.settings));
        }
    }
    Ok(())
}

fn site_cmd(app: &mut App, session: &Session, cmd: &SiteCmd, out: &Out) -> Result<(), AppError> {
    match cmd {
        SiteCmd::List => {
            let sites = app.site_list(session)?;
            out.value(&json!({"sites": sites}), || {
                print_table(
                    &["ID", "SITE", "TYPE", "TIME ZONE", "RESIDENTS"],
                    sites
                        .iter()
                        .map(|s| {
                            vec![
                                s.site.id.to_string(),
                                s.site.name.clone(),
                                s.site.site_type.clone(),
                                s.site.time_zone.clone(),
                                s.residents.to_string(),
                            ]
                        })
                        .collect(),
                );
            });
        }
        SiteCmd::Show { site } => {
            let s = app.site_show(session, site)?;
            out.value(&s, || {
                println!(
                    "{} (#{}{})\n  type: {}\n  time zone: {}\n  residents: {}",
                    s.site.name,
                    s.site.id,
                    s.site.remote_id.as_deref().map(|r| format!(", remote {r}")).unwrap_or_default(),
                    s.site.site_type,
                    s.site.time_zone,
                    s.residents
                );
            });
        }
        SiteCmd::Mappings { site } => {
            let maps = app.site_mappings(session, site)?;
            out.value(&json!({"mappings": maps}), || {
                print_table(
                    &["BUILDING", "FLOOR", "UNIT", "SSID", "VLAN"],
                    maps.iter()
                        .map(|m| {
                            vec![
                                m.building.clone(),
                                m.floor.clone(),
                                m.unit.clone(),
                                m.ssid.clone().unwrap_or_default(),
                                m.vlan.clone().unwrap_or_default(),
                            ]
                        })
                        .collect(),
                );
            });
        }
        SiteCmd::Settings { site, name, site_type, time_zone, set } => {
            let settings = parse_kv(set)?;
            let edit = name.is_some() || site_type.is_some() || time_zone.is_some() || settings.is_some();
            let s = if edit {
                let patch = SiteSettingsPatch {
                    name: name.clone(),
                    site_type: site_type.clone(),
                    time_zone: time_zone.clone(),
                    settings,
                };
                app.site_settings_update(session, site, &patch)?
            } else {
                app.site_settings(session, site)?
            };
            out.value(&s, || {
                println!(
                    "{}\n  type: {}\n  time zone: {}\n  settings: {}",
                    s.name, s.site_type, s.time_zone, s.settings
                )
            });
        }
    }
    Ok(())
}

fn parse_statuses(items: &[String]) -> Result<Vec<StatusFlag>, AppError> {
    items
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| {
            StatusFlag::parse(s).ok_or_else(|| {
                AppError::invalid_field(
                    "status",
                    format!("unknown status {s:?} (scheduled, current, pending, suspended, expired)"),
                )
            })
        })
        .collect()
}

fn resident_cmd(app: &mut App, session: &Session, cmd: &ResidentCmd, out: &Out) -> Result<(), AppError> {
    match cmd {
        ResidentCmd::List { site, all, statuses, building, search, limit } => {
            let filter = ResidentFilter {
                statuses: parse_statuses(statuses)?,
                building: building.clone(),
                search: search.clone(),
                limit: *limit,
            };
            let list = match (site, all) {
                (Some(site), _) => app.resident_list(session, site, &filter)?,
                (None, true) => app.resident_list_all(session, &filter)?,
                (None, false) => {
                    let sites = app.site_list(session)?;
                    match sites.as_slice() {
                        [one] => app.resident_list(session, &one.site.id.to_string(), &filter)?,
                        _ => {
                            let names: Vec<&str> = sites.iter().map(|s| s.site.name.as_str()).collect();
                            return Err(usage(format!(
                                "you see {} sites: give --site NAME or --all (sites: {})",
                                sites.len(),
                                names.join(", ")
                            )));
                        }
                    }
                }
            };
            print_residents(&list, out);
        }
        ResidentCmd::Search { query, limit } => {
            let list = app.resident_search(session, query, *limit)?;
            print_residents(&list, out);
        }
        ResidentCmd::Show { resident } => {
            let r = app.resident_show(session, resident)?;
            print_resident(&r, out);
        }
        ResidentCmd::Add { site, email, fields } => {
            let missing: Vec<&str> = [
                ("--first", &fields.first),
                ("--last", &fields.last),
                ("--building", &fields.building),
                ("--floor", &fields.floor),
                ("--unit", &fields.unit),
                ("--start", &fields.start),
            ]
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| *n)
            .collect();
            if !missing.is_empty() {
                return Err(usage(format!("resident add needs {}", missing.join(", "))));
            }
            let input = ResidentInput {
                first_name: fields.first.clone().unwrap_or_default(),
                last_name: fields.last.clone().unwrap_or_default(),
                email: email.clone(),
                phone: fields.phone.clone(),
                building: fields.building.clone().unwrap_or_default(),
                floor: fields.floor.clone().unwrap_or_default(),
                unit: fields.unit.clone().unwrap_or_default(),
                start: fields.start.clone().unwrap_or_default(),
                end: fields.end.clone(),
            };
            let r = app.resident_add(session, site, &input)?;
            print_resident(&r, out);
        }
        ResidentCmd::Update { resident, email, fields } => {
            let patch = ResidentPatch {
                first_name: fields.first.clone(),
                last_name: fields.last.clone(),
                email: email.clone(),
                phone: fields.phone.clone(),
                building: fields.building.clone(),
                floor: fields.floor.clone(),
                unit: fields.unit.clone(),
                start: fields.start.clone(),
                end: fields.end.clone(),
            };
            let r = app.resident_update(session, resident, &patch)?;
            print_resident(&r, out);
        }
        ResidentCmd::Suspend { resident } => {
            print_outcome(&app.resident_set_status(session, resident, StatusChange::Disabled)?, out)
        }
        ResidentCmd::Unsuspend { resident } => {
            print_outcome(&app.resident_set_status(session, resident, StatusChange::Active)?, out)
        }
        ResidentCmd::Terminate { resident } => print_outcome(&app.resident_terminate(session, resident)?, out),
        ResidentCmd::Purge { resident } => print_outcome(&app.resident_purge(session, resident)?, out),
        ResidentCmd::Invite { resident } => print_outcome(&app.resident_invite(session, resident)?, out),
        ResidentCmd::PskReset { resident } => print_outcome(&app.resident_psk_reset(session, resident)?, out),
    }
    Ok(())
}

fn staff_cmd(app: &mut App, session: &Session, cmd: &StaffCmd, out: &Out) -> Result<(), AppError> {
    match cmd {
        StaffCmd::List => print_members(&app.staff_list(session)?, out),
        StaffCmd::Add { email, name, grant, new_password_stdin } => {
            let (password, generated) = if *new_password_stdin {
                (read_stdin_line("new password")?, false)
            } else if let Ok(p) = std::env::var("RESIDENTDESK_NEW_PASSWORD") {
                (p, false)
            } else {
                (output::generate_password(), true)
            };
            let new = NewStaff {
                email: email.clone(),
                display_name: name.clone(),
                level: grant.level.clone(),
                sites: grant.sites.clone(),
                password: password.clone(),
            };
            let access = StaffAccess {
                job_function: grant.job_function.clone(),
                roles: grant.roles.clone(),
                all_sites: grant.all_sites,
            };
            let member = app.staff_add_with(session, &new, &access)?;
            let shown = generated.then_some(password);
            out.value(&json!({"member": member, "generated_password": shown}), || {
                println!("Added {} as {} to your team.", member.staff.email, member.level);
                if let Some(p) = &shown {
                    println!("Their password (shown once): {p}");
                }
            });
        }
        StaffCmd::Update { email, name, level, sites, disable, enable } => {
            let patch = StaffPatch {
                display_name: name.clone(),
                level: level.clone(),
                sites: (!sites.is_empty()).then(|| sites.clone()),
                disabled: if *disable {
                    Some(true)
                } else if *enable {
                    Some(false)
                } else {
                    None
                },
            };
            let m = app.staff_update(session, email, &patch)?;
            print_members(std::slice::from_ref(&m), out);
        }
        StaffCmd::Remove { email } => {
            app.staff_remove(session, email)?;
            out.value(&json!({"removed": email}), || println!("Removed {email} from your active team."));
        }
        StaffCmd::DisableAccount { email, enable } => {
            let m = app.account_disable(session, email, !*enable)?;
            let state = if m.staff.disabled { "disabled in every team" } else { "enabled" };
            out.value(&json!({"member": m}), || println!("{} is now {state}.", m.staff.email));
        }
    }
    Ok(())
}

fn print_members(members: &[residentdesk::store::staff::Member], out: &Out) {
    out.value(&json!({"staff": members}), || {
        print_table(
            &["EMAIL", "NAME", "LEVEL", "SITES", "OWNER", "DISABLED"],
            members
                .iter()
                .map(|m| {
                    vec![
                        m.staff.email.clone(),
                        m.staff.display_name.clone(),
                        m.level.clone(),
                        m.site_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
                        if m.staff.is_owner { "yes" } else { "" }.into(),
                        if m.staff.disabled { "yes" } else { "" }.into(),
                    ]
                })
                .collect(),
        );
    });
}

fn date_cell(d: Option<chrono::DateTime<chrono::Utc>>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "-".into())
}

fn print_residents(list: &[ResidentView], out: &Out) {
    out.value(&json!({"residents": list, "count": list.len()}), || {
        print_table(
            &["ID", "NAME", "EMAIL", "SITE", "BLDG", "FLOOR", "UNIT", "START", "END", "STATUS"],
            list.iter()
                .map(|v| {
                    let r = &v.resident;
                    vec![
                        r.id.to_string(),
                        r.full_name(),
                        r.email.clone(),
                        v.site_name.clone(),
                        r.building.clone(),
                        r.floor.clone(),
                        r.unit.clone(),
                        date_cell(Some(r.activation_utc)),
                        date_cell(r.deactivation_utc),
                        v.status.to_string(),
                    ]
                })
                .collect(),
        );
        println!("{} resident(s)", list.len());
    });
}

fn print_resident(v: &ResidentView, out: &Out) {
    out.value(v, || {
        let r = &v.resident;
        println!(
            "{} <{}>  #{}{}",
            r.full_name(),
            r.email,
            r.id,
            r.remote_id.as_deref().map(|x| format!(" (remote {x})")).unwrap_or_default()
        );
        println!("  site:     {}", v.site_name);
        println!("  unit:     {} / floor {} / unit {}", r.building, r.floor, r.unit);
        println!("  phone:    {}", if r.phone.is_empty() { "-" } else { &r.phone });
        println!(
            "  access:   {} → {}",
            r.activation_utc.to_rfc3339(),
            r.deactivation_utc.map(|d| d.to_rfc3339()).unwrap_or_else(|| "open-ended".into())
        );
        println!("  status:   {}", v.status);
        println!("  onboarded: {}", r.onboarded_at.map(|d| d.to_rfc3339()).unwrap_or_else(|| "not yet".into()));
    });
}

fn print_outcome(o: &ActionOutcome, out: &Out) {
    out.value(o, || println!("{}", o.message));
}

fn print_bulk(report: &BulkReport, out: &Out) {
    out.value(report, || {
        println!(
            "{} at {}: {} of {} succeeded, {} failed",
            report.action,
            report.site,
            report.success.len(),
            report.total,
            report.failed.len()
        );
        let rows = report
            .success
            .iter()
            .map(|i| vec!["ok".to_string(), i.email.clone(), i.result.clone()])
            .chain(report.failed.iter().map(|i| vec!["failed".to_string(), i.email.clone(), i.result.clone()]))
            .collect();
        print_table(&["", "RESIDENT", "RESULT"], rows);
    });
}
