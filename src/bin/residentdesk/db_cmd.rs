//! `residentdesk db encrypt` and `residentdesk db rekey` (issue #15): thin edges over
//! `app::encryption`. The new passphrase comes from `--new-key-stdin` (the line after
//! `--db-key-stdin`'s, if both are given) or `RESIDENTDESK_NEW_DB_KEY`; else, or with
//! `--keyring`, a random key is kept in the OS keyring.

use crate::output::Out;
use clap::{Args, Subcommand};
use residentdesk::app::encryption::{new_key_from, NewKey};
use residentdesk::app::Session;
use residentdesk::{App, AppError};

#[derive(Args, Debug)]
pub struct NewKeyArgs {
    /// Read the new passphrase from standard input (the next line).
    #[arg(long, conflicts_with = "keyring")]
    pub new_key_stdin: bool,
    /// A new random key kept in the OS keyring (even when RESIDENTDESK_NEW_DB_KEY is set).
    #[arg(long)]
    pub keyring: bool,
}

#[derive(Subcommand, Debug)]
pub enum DbCmd {
    /// Encrypt a plain database in place (a plain backup is taken first; the owner only).
    Encrypt(NewKeyArgs),
    /// Change the database's key or passphrase (the owner only).
    Rekey(NewKeyArgs),
}

fn new_key(args: &NewKeyArgs) -> Result<NewKey, AppError> {
    if args.keyring {
        return Ok(NewKey::Keyring);
    }
    let passphrase = if args.new_key_stdin { Some(crate::read_stdin_line("new passphrase")?) } else { None };
    Ok(new_key_from(passphrase))
}

pub fn db_cmd(app: &mut App, session: &Session, cmd: &DbCmd, out: &Out) -> Result<(), AppError> {
    let report = match cmd {
        DbCmd::Encrypt(args) => app.db_encrypt(session, &new_key(args)?)?,
        DbCmd::Rekey(args) => app.db_rekey(session, &new_key(args)?)?,
    };
    out.value(&report, || {
        let held = if report.key == "keyring" { "a key kept in the OS keyring" } else { "the passphrase" };
        match cmd {
            DbCmd::Encrypt(_) => println!("Encrypted {} with {held}.", report.database.display()),
            DbCmd::Rekey(_) => println!("Changed the key of {} to {held}.", report.database.display()),
        }
        if let Some(plain) = &report.plain_backup {
            println!(
                "The copy taken first, {}, is NOT encrypted: delete it once you have checked the database.",
                plain.display()
            );
        }
    });
    Ok(())
}
