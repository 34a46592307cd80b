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
// Unused today (every message ends a line), kept so a later `eprint!` cannot reach std's.
#[allow(unused_macros)]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::output::print_stderr(format_args!($($arg)*)) };
}
macro_rules! eprintln {
    () => { $crate::output::print_stderr(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::print_stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

#[path = "residentdesk/access_cmd.rs"]
mod access_cmd;
#[path = "residentdesk/audit_cmd.rs"]
mod audit_cmd;
#[path = "residentdesk/backup_cmd.rs"]
mod backup_cmd;
#[path = "residentdesk/completions_cmd.rs"]
mod completions_cmd;
#[path = "residentdesk/csv_cmd.rs"]
mod csv_cmd;
#[path = "residentdesk/db_cmd.rs"]
mod db_cmd;
#[path = "residentdesk/demo_cmd.rs"]
mod demo_cmd;
#[path = "residentdesk/org_cmd.rs"]
mod org_cmd;
#[path = "residentdesk/outbox_cmd.rs"]
mod outbox_cmd;
#[path = "residentdesk/output.rs"]
mod output;
#[path = "residentdesk/progress.rs"]
mod progress;
#[path = "residentdesk/remote_cmd.rs"]
mod remote_cmd;
#[path = "residentdesk/resident_cmd.rs"]
mod resident_cmd;
#[path = "residentdesk/staff_cmd.rs"]
mod staff_cmd;
#[path = "residentdesk/sync_cmd.rs"]
mod sync_cmd;
#[path = "residentdesk/views_cmd.rs"]
mod views_cmd;

use clap::{Parser, Subcommand};
use output::{print_table, Out};
use residentdesk::app::Session;
use residentdesk::error::ErrorDetails;
use residentdesk::{App, AppError, ErrorCode};
use serde_json::json;
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
    /// Read the actor's password from the first line of standard input (the second with
    /// --db-key-stdin).
    #[arg(long, global = true)]
    password_stdin: bool,
    /// Read the database's passphrase from the first line of standard input (else
    /// RESIDENTDESK_DB_KEY, else the OS keyring).
    #[arg(long, global = true)]
    db_key_stdin: bool,
    /// Read a new password from standard input (the line after the other secrets): the
    /// actor's own when signing in with a temporary password, a new account's for `staff add`
    /// and `invite accept` (else RESIDENTDESK_NEW_PASSWORD).
    #[arg(long, global = true)]
    new_password_stdin: bool,
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
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell; no sign-in).
    Completions { shell: clap_complete::Shell },
    /// Print the man page, roff (`residentdesk man | man -l -`; no sign-in).
    Man,
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
    Demo(demo_cmd::DemoCmd),
    /// Teams: list, switch the active team, details and settings.
    #[command(subcommand)]
    Team(org_cmd::TeamCmd),
    /// Sites you can see, their mappings and settings.
    #[command(subcommand)]
    Site(org_cmd::SiteCmd),
    /// Residents: list, search, show, add, update and lifecycle actions.
    #[command(subcommand)]
    Resident(resident_cmd::ResidentCmd),
    /// Apply one action to many residents of a site.
    Bulk {
        /// suspend, unsuspend, terminate, terminate-purge, resend-invites or onboard-now.
        action: String,
        #[arg(long)]
        site: String,
        /// Residents to act on (ids, remote ids or emails); default: every resident of the site.
        #[arg(long, value_delimiter = ',')]
        ids: Vec<String>,
        /// Change nothing: say how many of them the action would change and why not the others.
        #[arg(long)]
        dry_run: bool,
    },
    /// Staff accounts within Table-1.
    #[command(subcommand)]
    Staff(staff_cmd::StaffCmd),
    /// The append-only audit log.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCmd),
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
    Outbox(outbox_cmd::OutboxCmd),
    /// Import residents from a CSV file into a site (every row checked first), or write a
    /// template to fill in (`--template OUT.csv`, no sign-in needed).
    Import {
        /// The CSV file (comma, semicolon or tab; UTF-8 or Windows-1252; API or Site Manager headers).
        #[arg(required_unless_present = "template")]
        file: Option<PathBuf>,
        #[arg(long, required_unless_present = "template")]
        site: Option<String>,
        /// Also write the rows with problems, as in the file plus a Problem column, to this CSV.
        #[arg(long, value_name = "OUT.csv", conflicts_with = "template")]
        problems: Option<PathBuf>,
        /// Write the import's header and one example row to this CSV instead of importing.
        #[arg(long, value_name = "OUT.csv", conflicts_with_all = ["file", "site", "dry_run", "valid_only"])]
        template: Option<PathBuf>,
        /// The template's column names: site-manager (First Name, Access Start, …) or api.
        #[arg(long, default_value = "site-manager", requires = "template")]
        columns: String,
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
    /// The database file's encryption: encrypt a plain one, change the key (the owner only).
    #[command(subcommand)]
    Db(db_cmd::DbCmd),
    /// Your saved views: a screen's columns, sort and filters, named views shared with the team.
    #[command(subcommand)]
    Views(views_cmd::ViewsCmd),
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => usage_error(e),
    };
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

/// A command line clap could not read. `--help` and `--version` print as clap prints them
/// (exit 0); a usage error under `--json` is one JSON document on stderr like every other
/// error (`{"error":{"code":"usage",...}}`), else clap's own text; both exit 2.
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    let wants_json = std::env::args_os().skip(1).take_while(|a| a != "--").any(|a| a == "--json");
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) || !wants_json {
        e.exit();
    }
    let text = e.render().to_string();
    let message = text.lines().next().unwrap_or("").trim_start_matches("error: ").trim().to_string();
    let kind = format!("{:?}", e.kind());
    let kind_snake = kind.chars().fold(String::new(), |mut s, c| {
        if c.is_uppercase() && !s.is_empty() {
            s.push('_');
        }
        s.push(c.to_ascii_lowercase());
        s
    });
    let error = AppError::new(ErrorCode::Usage, if message.is_empty() { text.trim().to_string() } else { message })
        .with_details(ErrorDetails {
            kind: Some(kind_snake),
            help: Some(text.trim_end().to_string()),
            ..ErrorDetails::default()
        });
    Out { json: true }.error(&error);
    std::process::exit(error.code.exit_code());
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

/// The next line of standard input (read whole at the first call): the database
/// passphrase first, then a new passphrase, then the password, each when asked for.
pub(crate) fn read_stdin_line(what: &str) -> Result<String, AppError> {
    static LINES: std::sync::Mutex<Option<std::collections::VecDeque<String>>> = std::sync::Mutex::new(None);
    let mut lines = LINES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if lines.is_none() {
        let mut buf = String::new();
        std::io::stdin()
            .read_to_string(&mut buf)
            .map_err(|e| AppError::new(ErrorCode::Usage, format!("cannot read {what} from stdin: {e}")))?;
        *lines = Some(buf.lines().map(str::to_string).collect());
    }
    let line = lines.as_mut().and_then(|l| l.pop_front()).unwrap_or_default();
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
    match app.sign_in(email, &password) {
        Err(e) if e.reason() == Some(residentdesk::error::ErrorReason::PasswordChangeRequired) => {
            // A temporary password: the new one from stdin or the environment, if given.
            let new = if cli.new_password_stdin {
                Some(read_stdin_line("new password")?)
            } else {
                std::env::var("RESIDENTDESK_NEW_PASSWORD").ok().filter(|p| !p.is_empty())
            };
            match new {
                Some(new) => app.sign_in_with_new_password(email, &password, Some(&new)),
                None => Err(AppError::new(
                    e.code,
                    format!("{}: give it in RESIDENTDESK_NEW_PASSWORD or with --new-password-stdin", e.message),
                )
                .with_details(residentdesk::error::ErrorDetails::reason(
                    residentdesk::error::ErrorReason::PasswordChangeRequired,
                ))),
            }
        }
        other => other,
    }
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
    if let Command::Import { template: Some(out_path), columns, .. } = &cli.command {
        // Static: the core's column vocabulary; no database, no sign-in.
        return csv_cmd::template(out_path, columns, out);
    }
    match &cli.command {
        Command::Completions { shell } => return completions_cmd::completions(*shell),
        Command::Man => return completions_cmd::man(),
        _ => {}
    }
    let db = cli.db.clone().unwrap_or_else(default_db);
    let passphrase = if cli.db_key_stdin { Some(read_stdin_line("database passphrase")?) } else { None };
    let mut app = App::open_with_key(&db, clock()?, &residentdesk::app::encryption::key_source(passphrase))?;
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
        Command::Demo(cmd) => return demo_cmd::demo(&mut app, &db, cmd, out),
        _ => {}
    }
    if let Command::Invite(cmd) = &cli.command {
        if access_cmd::invite_without_actor(cmd) {
            return access_cmd::invite_anonymous(&mut app, cmd, cli.new_password_stdin, out);
        }
    }
    let session = sign_in(&mut app, &cli)?;
    match &cli.command {
        Command::Init { .. }
        | Command::Demo(_)
        | Command::UseCases { .. }
        | Command::Completions { .. }
        | Command::Man => {
            unreachable!("handled above")
        }
        Command::Team(cmd) => org_cmd::team_cmd(&mut app, &session, cmd, out),
        Command::Site(cmd) => org_cmd::site_cmd(&mut app, &session, cmd, out),
        Command::Resident(cmd) => resident_cmd::resident_cmd(&mut app, &session, cmd, out),
        Command::Bulk { action, site, ids, dry_run } => {
            resident_cmd::bulk(&mut app, &session, action, site, ids, *dry_run, out)
        }
        Command::Staff(cmd) => staff_cmd::staff_cmd(&mut app, &session, cmd, cli.new_password_stdin, out),
        Command::Backup(args) => backup_cmd::backup(&mut app, &session, args, out),
        Command::Restore(args) => backup_cmd::restore(&mut app, &session, args, out),
        Command::Db(cmd) => db_cmd::db_cmd(&mut app, &session, cmd, out),
        Command::Audit(cmd) => audit_cmd::audit(&mut app, &session, cmd, out),
        Command::Access(cmd) => access_cmd::access_cmd(&mut app, &session, cmd, out),
        Command::Role(cmd) => access_cmd::role_cmd(&mut app, &session, cmd, out),
        Command::Invite(cmd) => access_cmd::invite_cmd(&mut app, &session, cmd, cli.new_password_stdin, out),
        Command::Token(cmd) => access_cmd::token_cmd(&mut app, &session, cmd, out),
        Command::Import { file, site, dry_run, valid_only, problems, .. } => {
            let options = residentdesk::app::csv::ImportOptions { dry_run: *dry_run, valid_only: *valid_only };
            let (Some(file), Some(site)) = (file, site) else { return Err(usage("import needs FILE and --site")) };
            csv_cmd::import(&mut app, &session, file, site, options, problems.as_deref(), out)
        }
        Command::Export { site, team: _, statuses, building, search, columns, excel, local_dates, output } => {
            let args = csv_cmd::ExportArgs {
                site: site.as_deref(),
                statuses: resident_cmd::parse_statuses(statuses)?,
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
        Command::Outbox(cmd) => outbox_cmd::outbox(&mut app, &session, cmd, out),
        Command::Views(cmd) => views_cmd::views_cmd(&mut app, &session, cmd, out),
    }
}
