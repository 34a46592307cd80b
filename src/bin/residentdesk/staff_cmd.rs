//! `residentdesk staff`: staff accounts within Table-1, thin over `app::staff`.

use crate::output::{self, print_table, Out};
use crate::{access_cmd, read_stdin_line};
use clap::Subcommand;
use residentdesk::app::staff::{NewStaff, StaffAccess, StaffPatch};
use residentdesk::app::Session;
use residentdesk::{App, AppError};
use serde_json::json;

#[derive(Subcommand, Debug)]
pub enum StaffCmd {
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
    /// Give a member a one-time temporary password (shown once, valid 24 hours); signing in
    /// with it asks for a new password (RESIDENTDESK_NEW_PASSWORD or --new-password-stdin).
    ResetPassword { email: String },
    /// Disable an account in every team (or --enable it again): the owner's act alone.
    DisableAccount {
        email: String,
        #[arg(long)]
        enable: bool,
    },
}

pub fn staff_cmd(
    app: &mut App,
    session: &Session,
    cmd: &StaffCmd,
    new_password_stdin: bool,
    out: &Out,
) -> Result<(), AppError> {
    match cmd {
        StaffCmd::List => print_members(&app.staff_list(session)?, out),
        StaffCmd::Add { email, name, grant } => {
            let (password, generated) = if new_password_stdin {
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
        StaffCmd::ResetPassword { email } => {
            let t = app.staff_reset_password(session, email)?;
            out.value(&json!({"temporary_password": t}), || {
                println!("Temporary password for {} (shown once): {}", t.email, t.password);
                println!(
                    "It works once, until {}: signing in with it asks them to choose a new password. \
                     Their old password no longer works.",
                    t.expires_at.format("%Y-%m-%d %H:%M UTC")
                );
            });
        }
        StaffCmd::DisableAccount { email, enable } => {
            let m = app.account_disable(session, email, !*enable)?;
            let state = if m.staff.disabled { "disabled in every team" } else { "enabled" };
            out.value(&json!({"member": m}), || println!("{} is now {state}.", m.staff.email));
        }
    }
    Ok(())
}

pub fn print_members(members: &[residentdesk::store::staff::Member], out: &Out) {
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
