//! `residentdesk backup [-o FILE]`, `backup list`, `backup settings --keep N` and
//! `residentdesk restore FILE [--check]`: thin edges over `app::backup`.

use crate::output::{print_table, Out};
use clap::{Args, Subcommand};
use residentdesk::app::Session;
use residentdesk::{App, AppError};
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub cmd: Option<BackupSub>,
    /// Where to write the copy (default: backups/ beside the database, named with the UTC time).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum BackupSub {
    /// The backups beside the database and how many automatic ones are kept.
    List,
    /// How many automatic (daily and before-migration) backups to keep.
    Settings {
        #[arg(long)]
        keep: usize,
    },
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The backup file to restore (checked first; anything else is refused).
    pub file: PathBuf,
    /// Only check the file and show what it holds; change nothing.
    #[arg(long)]
    pub check: bool,
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / f64::from(1u32 << 30)),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

/// `backup`, `backup list`, `backup settings`.
pub fn backup(app: &mut App, session: &Session, args: &BackupArgs, out: &Out) -> Result<(), AppError> {
    let listing = match &args.cmd {
        None => {
            let report = app.backup_create(session, args.output.as_deref())?;
            out.value(&report, || {
                println!("Backed up to {} ({}).", report.path.display(), human_bytes(report.bytes));
            });
            return Ok(());
        }
        Some(BackupSub::List) => app.backup_list(session)?,
        Some(BackupSub::Settings { keep }) => app.backup_settings(session, *keep)?,
    };
    out.value(&listing, || {
        match &listing.folder {
            Some(f) => println!("Backups in {} (the newest {} automatic ones are kept):", f.display(), listing.keep),
            None => println!("An in-memory database has no backup folder."),
        }
        print_table(
            &["TAKEN (UTC)", "KIND", "SIZE", "FILE"],
            listing
                .backups
                .iter()
                .map(|b| {
                    vec![
                        b.taken_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                        b.kind.suffix(),
                        human_bytes(b.bytes),
                        b.name.clone(),
                    ]
                })
                .collect(),
        );
    });
    Ok(())
}

/// `restore FILE [--check]`.
pub fn restore(app: &mut App, session: &Session, args: &RestoreArgs, out: &Out) -> Result<(), AppError> {
    if args.check {
        let facts = app.backup_check(session, &args.file)?;
        out.value(&serde_json::json!({"file": args.file, "check": "ok", "facts": facts}), || {
            println!(
                "{} can be restored: schema version {}, {} team(s), {} resident(s), {} staff, {} unsent change(s).",
                args.file.display(),
                facts.schema_version,
                facts.teams,
                facts.residents,
                facts.staff,
                facts.outbox_unfinished
            );
            println!(
                "Restoring it would lose {} change(s) made since it was taken and {} unsent change(s) it does not have.",
                facts.changes_since, facts.unsent_lost
            );
        });
        return Ok(());
    }
    let report = app.restore(session, &args.file)?;
    out.value(&report, || {
        let o = &report.outbox;
        println!("Restored {}.", report.restored_from.display());
        println!("The database as it was is kept as {}.", report.kept_as.display());
        println!(
            "Outbox: {} already sent (not sent again), {} to send at the next sync, {} in flight to reconcile, \
             {} discarded, {} rejected.",
            o.already_sent, o.still_to_send, o.in_flight, o.discarded, o.rejected
        );
        if o.only_in_replaced > 0 {
            println!(
                "{} unsent change(s) made after this backup are only in {}.",
                o.only_in_replaced,
                report.kept_as.display()
            );
        }
        println!("Run a sync to bring back what the remote has.");
    });
    Ok(())
}
