//! `residentdesk access|role|invite|token` and `audit export`: staff access management, thin
//! over `app::access`.
//!
//! `access explain ACTION SITE` explains the signed-in actor's own decision (the form
//! `access explain --as EMAIL ACTION SITE`, since `--as` names the actor); `--for EMAIL`
//! explains someone else's while the actor stays authenticated as themselves.

use crate::output::{print_table, Out};
use clap::{Args, Subcommand};
use residentdesk::app::access::{AccessChange, NewInvitation, NewRole, NewToken};
use residentdesk::app::Session;
use residentdesk::{App, AppError, ErrorCode};
use serde_json::json;

#[derive(Subcommand, Debug)]
pub enum AccessCmd {
    /// Why may (or may not) a person do ACTION at SITE? ACTION: a Table-1 feature
    /// (manage_residents, edit_site_settings, ...) or a permission (residents.export, ...);
    /// SITE: a site, or `team`.
    Explain {
        /// The person to explain (default: the actor).
        #[arg(long = "for", value_name = "EMAIL")]
        person: Option<String>,
        action: String,
        #[arg(default_value = "team")]
        site: String,
    },
    /// The effective permissions, Table-1 features and sites of a person.
    Matrix {
        #[arg(long = "for", value_name = "EMAIL")]
        person: Option<String>,
    },
    /// Change a member's base role, add-on roles or site access (grant only what you hold).
    Set {
        email: String,
        /// New base role: staff_user, staff_local_admin, team_user or team_admin.
        #[arg(long)]
        base: Option<String>,
        /// Add-on role to give (repeatable).
        #[arg(long = "grant")]
        grant: Vec<String>,
        /// Add-on role to take away (repeatable).
        #[arg(long = "revoke")]
        revoke: Vec<String>,
        /// Every site of the team, automatically (sites added later included).
        #[arg(long, conflicts_with = "sites")]
        all_sites: bool,
        /// Replace the site list (repeatable).
        #[arg(long = "site")]
        sites: Vec<String>,
    },
    /// Hand the owner flag to another Team administrator (owner only).
    TransferOwner { email: String },
}

#[derive(Subcommand, Debug)]
pub enum RoleCmd {
    /// Built-in and team-defined roles, by category of permission.
    List,
    /// Define an add-on role (Team administrators; only permissions you hold).
    Add {
        key: String,
        #[arg(long)]
        name: String,
        /// Permission (repeatable or comma-separated), e.g. residents.export.
        #[arg(long = "permission", value_delimiter = ',')]
        permissions: Vec<String>,
        /// Only the system may give it.
        #[arg(long)]
        not_assignable: bool,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Delete a team-defined role (and every assignment of it).
    Remove { key: String },
    /// Job functions: templates of initial roles and site access.
    JobFunctions,
    /// Define a job function.
    AddJobFunction {
        key: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        base: String,
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long)]
        all_sites: bool,
    },
}

/// What a new account or an invitation is granted: level, job function, add-ons, sites
/// (shared by `staff add` and `invite create`).
#[derive(Args, Debug)]
pub struct GrantArgs {
    /// staff_user, staff_local_admin, team_user or team_admin (default: the job function's).
    #[arg(long, default_value = "")]
    pub level: String,
    /// A job function giving the initial roles and site access (see `role job-functions`).
    #[arg(long)]
    pub job_function: Option<String>,
    /// Add-on role (repeatable).
    #[arg(long = "role")]
    pub roles: Vec<String>,
    /// Every site of the team, automatically (sites added later included).
    #[arg(long, conflicts_with = "sites")]
    pub all_sites: bool,
    /// Member site (repeatable; required for Staff-level accounts).
    #[arg(long = "site")]
    pub sites: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum InviteCmd {
    /// Invite a person by email with roles and sites; prints the text to send.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
        #[command(flatten)]
        grant: GrantArgs,
    },
    /// The invitations of the active team.
    List,
    /// Accept with the invitation token (no sign-in; the new password from
    /// RESIDENTDESK_NEW_PASSWORD or --new-password-stdin).
    Accept {
        #[arg(long)]
        token: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Reject: with --token (the invitee), or by id (the team side).
    Reject {
        id: Option<i64>,
        #[arg(long)]
        token: Option<String>,
    },
    /// Resend a pending invitation older than 2 days (a new token).
    Resend { id: i64 },
}

#[derive(Subcommand, Debug)]
pub enum TokenCmd {
    /// Create an API token (a subset of your permissions and sites); shown once.
    Create {
        name: String,
        /// Permission (repeatable or comma-separated); default: all you hold.
        #[arg(long = "permission", value_delimiter = ',')]
        permissions: Vec<String>,
        #[arg(long, conflicts_with = "sites")]
        all_sites: bool,
        /// Site (repeatable); default: your own site access.
        #[arg(long = "site")]
        sites: Vec<String>,
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// Your tokens (all of the team's for Team administrators).
    List,
    /// Revoke a token by id or prefix.
    Revoke { token: String },
}

/// Whether an `invite` command runs without a signed-in actor.
pub fn invite_without_actor(cmd: &InviteCmd) -> bool {
    matches!(cmd, InviteCmd::Accept { .. } | InviteCmd::Reject { id: None, .. })
}

fn usage(msg: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::Usage, msg)
}

pub fn access_cmd(app: &mut App, session: &Session, cmd: &AccessCmd, out: &Out) -> Result<(), AppError> {
    match cmd {
        AccessCmd::Explain { person, action, site } => {
            let e = app.access_explain(session, person.as_deref(), action, site)?;
            out.value(&e, || {
                println!(
                    "{}: {} may {}{} in {}",
                    if e.allowed { "Yes" } else { "No" },
                    e.person,
                    if e.allowed { "" } else { "not " },
                    e.asked.phrase(),
                    e.place
                );
                println!("  because: {}", e.rule);
                println!("  roles:   {}", e.roles);
            });
        }
        AccessCmd::Matrix { person } => {
            let m = app.access_matrix(session, person.as_deref())?;
            out.value(&m, || {
                println!(
                    "{} in team {}: {}{}{}",
                    m.person,
                    m.team,
                    m.base.title(),
                    m.roles.iter().map(|r| format!(" + {r}")).collect::<String>(),
                    if m.is_owner { " (owner)" } else { "" }
                );
                println!(
                    "sites: {}",
                    if m.all_sites { "every site of the team".to_string() } else { m.sites.join(", ") }
                );
                print_table(
                    &["CATEGORY", "PERMISSION", "HELD", "FROM"],
                    m.permissions
                        .iter()
                        .map(|r| {
                            vec![
                                r.category.clone(),
                                r.permission.clone(),
                                if r.held { "yes" } else { "-" }.into(),
                                r.from.join("; "),
                            ]
                        })
                        .collect(),
                );
                println!();
                print_table(
                    &["TASK (TABLE-1)", "ALLOWED", "RULE"],
                    m.features
                        .iter()
                        .map(|f| vec![f.feature.clone(), if f.allowed { "yes" } else { "no" }.into(), f.rule.clone()])
                        .collect(),
                );
            });
        }
        AccessCmd::Set { email, base, grant, revoke, all_sites, sites } => {
            let change = AccessChange {
                base: base.clone(),
                add_roles: grant.clone(),
                remove_roles: revoke.clone(),
                all_sites: all_sites.then_some(true),
                sites: (!sites.is_empty()).then(|| sites.clone()),
            };
            let m = app.access_change(session, email, &change)?;
            out.value(&json!({"member": m}), || {
                println!(
                    "{}: {}{}; sites: {}",
                    m.staff.email,
                    m.level,
                    m.roles.iter().map(|r| format!(" + {r}")).collect::<String>(),
                    if m.all_sites {
                        "all".to_string()
                    } else {
                        m.site_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
                    }
                )
            });
        }
        AccessCmd::TransferOwner { email } => {
            let m = app.owner_transfer(session, email)?;
            out.value(&json!({"owner": m.staff.email}), || println!("{} is now the owner.", m.staff.email));
        }
    }
    Ok(())
}

pub fn role_cmd(app: &mut App, session: &Session, cmd: &RoleCmd, out: &Out) -> Result<(), AppError> {
    match cmd {
        RoleCmd::List => {
            let roles = app.role_list(session)?;
            out.value(&json!({"roles": roles}), || {
                print_table(
                    &["KEY", "NAME", "KIND", "ASSIGNABLE", "YOU CAN GRANT", "PERMISSIONS"],
                    roles
                        .iter()
                        .map(|r| {
                            vec![
                                r.role.key.clone(),
                                r.role.name.clone(),
                                format!("{:?}{}", r.role.kind, if r.role.builtin { " (built-in)" } else { "" }),
                                if r.role.assignable { "yes" } else { "no" }.into(),
                                if r.you_can_grant { "yes" } else { "no" }.into(),
                                r.role.permissions.describe(),
                            ]
                        })
                        .collect(),
                )
            });
        }
        RoleCmd::Add { key, name, permissions, not_assignable, description } => {
            let role = app.role_add(
                session,
                &NewRole {
                    key: key.clone(),
                    name: name.clone(),
                    permissions: permissions.clone(),
                    assignable: !not_assignable,
                    description: description.clone(),
                },
            )?;
            out.value(&role, || println!("Role {} ({}) defined: {}", role.key, role.name, role.permissions.describe()));
        }
        RoleCmd::Remove { key } => {
            let held = app.role_remove(session, key)?;
            out.value(&json!({"removed": key, "revoked_from": held}), || {
                println!("Role {key} removed (taken from {held} member(s)).")
            });
        }
        RoleCmd::JobFunctions => {
            let list = app.job_function_list(session)?;
            out.value(&json!({"job_functions": list}), || {
                print_table(
                    &["KEY", "NAME", "BASE", "ROLES", "SITES"],
                    list.iter()
                        .map(|j| {
                            vec![
                                j.key.clone(),
                                j.name.clone(),
                                j.base.as_str().into(),
                                j.addons.join(","),
                                if j.all_sites { "all" } else { "listed" }.into(),
                            ]
                        })
                        .collect(),
                )
            });
        }
        RoleCmd::AddJobFunction { key, name, base, roles, all_sites } => {
            let j = app.job_function_add(session, key, name, base, roles, *all_sites)?;
            out.value(&j, || println!("Job function {} defined.", j.key));
        }
    }
    Ok(())
}

fn new_password(stdin: bool) -> Result<String, AppError> {
    if stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map_err(|e| usage(format!("cannot read the new password: {e}")))?;
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            return Err(usage("new password expected on standard input"));
        }
        return Ok(line);
    }
    std::env::var("RESIDENTDESK_NEW_PASSWORD")
        .map_err(|_| usage("no new password: set RESIDENTDESK_NEW_PASSWORD or use --new-password-stdin"))
}

/// The `invite` commands that need no signed-in actor (accept, reject by token).
pub fn invite_anonymous(app: &mut App, cmd: &InviteCmd, new_password_stdin: bool, out: &Out) -> Result<(), AppError> {
    match cmd {
        InviteCmd::Accept { token, name } => {
            let password = new_password(new_password_stdin)?;
            let s = app.invite_accept(token, name, &password)?;
            let team = s.actor.team.as_ref().map(|(t, _)| t.name.clone()).unwrap_or_default();
            out.value(&json!({"accepted": s.actor.email, "team": team, "grants": s.grants}), || {
                println!("Welcome, {}: you are now a {} of team {team}.", s.actor.email, s.grants.holder())
            });
            Ok(())
        }
        InviteCmd::Reject { id: None, token: Some(token) } => {
            let i = app.invite_reject_token(token)?;
            out.value(&i, || println!("Invitation #{} rejected.", i.id));
            Ok(())
        }
        InviteCmd::Reject { id: None, token: None } => Err(usage("invite reject needs an invitation id or --token")),
        _ => Err(usage("this invite command needs a signed-in actor")),
    }
}

pub fn invite_cmd(
    app: &mut App,
    session: &Session,
    cmd: &InviteCmd,
    new_password_stdin: bool,
    out: &Out,
) -> Result<(), AppError> {
    match cmd {
        InviteCmd::Create { email, name, grant } => {
            let created = app.invite_create(
                session,
                &NewInvitation {
                    email: email.clone(),
                    display_name: name.clone(),
                    level: grant.level.clone(),
                    job_function: grant.job_function.clone(),
                    roles: grant.roles.clone(),
                    all_sites: grant.all_sites,
                    sites: grant.sites.clone(),
                },
            )?;
            out.value(&created, || {
                println!(
                    "Invitation #{} created for {}. Send them this text:\n",
                    created.invitation.id, created.invitation.email
                );
                println!("{}", created.text);
                print_invite_command_line(&created.token);
            });
        }
        InviteCmd::List => {
            let list = app.invite_list(session)?;
            out.value(&json!({"invitations": list}), || {
                print_table(
                    &["ID", "EMAIL", "ROLE", "STATE", "SENT", "EXPIRES", "RESEND?"],
                    list.iter()
                        .map(|v| {
                            let i = &v.invitation;
                            vec![
                                i.id.to_string(),
                                i.email.clone(),
                                i.base.as_str().into(),
                                i.state.clone(),
                                i.sent_at.format("%Y-%m-%d").to_string(),
                                i.expires_at.format("%Y-%m-%d").to_string(),
                                match (v.can_resend, v.resend_from) {
                                    (true, _) => "yes".into(),
                                    (false, Some(from)) => format!("from {}", from.format("%Y-%m-%d %H:%M UTC")),
                                    (false, None) => String::new(),
                                },
                            ]
                        })
                        .collect(),
                )
            });
        }
        InviteCmd::Reject { id: Some(id), .. } => {
            let i = app.invite_reject(session, *id)?;
            out.value(&i, || println!("Invitation #{} to {} withdrawn.", i.id, i.email));
        }
        InviteCmd::Resend { id } => {
            let created = app.invite_resend(session, *id)?;
            out.value(&created, || {
                println!(
                    "Invitation #{} renewed (the old token no longer works). Send them this text:\n",
                    created.invitation.id
                );
                println!("{}", created.text);
                print_invite_command_line(&created.token);
            });
        }
        InviteCmd::Accept { .. } | InviteCmd::Reject { id: None, .. } => {
            return invite_anonymous(app, cmd, new_password_stdin, out)
        }
    }
    Ok(())
}

pub fn token_cmd(app: &mut App, session: &Session, cmd: &TokenCmd, out: &Out) -> Result<(), AppError> {
    match cmd {
        TokenCmd::Create { name, permissions, all_sites, sites, expires_in_days } => {
            let t = app.token_create(
                session,
                &NewToken {
                    name: name.clone(),
                    permissions: permissions.clone(),
                    all_sites: *all_sites,
                    sites: sites.clone(),
                    expires_in_days: *expires_in_days,
                },
            )?;
            out.value(&t, || {
                println!("Token {} ({}) created with {}.", t.info.name, t.info.prefix, t.info.permissions.describe());
                println!("Store it now; it is not shown again:\n{}", t.token);
                println!("Use it with: RESIDENTDESK_TOKEN=<token> residentdesk ...");
            });
        }
        TokenCmd::List => {
            let list = app.token_list(session)?;
            out.value(&json!({"tokens": list}), || {
                print_table(
                    &["ID", "NAME", "PREFIX", "PERMISSIONS", "LAST USED", "STATE"],
                    list.iter()
                        .map(|t| {
                            vec![
                                t.id.to_string(),
                                t.name.clone(),
                                t.prefix.clone(),
                                t.permissions.describe(),
                                t.last_used_at.map(|d| d.to_rfc3339()).unwrap_or_else(|| "never".into()),
                                if t.revoked_at.is_some() { "revoked" } else { "live" }.into(),
                            ]
                        })
                        .collect(),
                )
            });
        }
        TokenCmd::Revoke { token } => {
            let t = app.token_revoke(session, token)?;
            out.value(&t, || println!("Token {} ({}) revoked.", t.name, t.prefix));
        }
    }
    Ok(())
}

/// `audit export [--since DATE] [-o FILE]`: the audit log as CSV (needs audit.export).
pub fn audit_export(
    app: &mut App,
    session: &Session,
    since: Option<chrono::DateTime<chrono::Utc>>,
    output: Option<&std::path::Path>,
) -> Result<(), AppError> {
    let csv = app.audit_export_csv(session, since)?;
    match output.filter(|p| p.as_os_str() != "-") {
        Some(path) => {
            let tmp = path.with_extension("part");
            std::fs::write(&tmp, csv.as_bytes())
                .and_then(|_| std::fs::rename(&tmp, path))
                .map_err(|e| AppError::internal(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("Audit log written to {} ({} rows).", path.display(), csv.lines().count().saturating_sub(1));
        }
        None => print!("{csv}"),
    }
    Ok(())
}

/// The command line that accepts an invitation, for people who use the CLI (the letter
/// itself names the code only; the command also takes the code as the letter writes it).
fn print_invite_command_line(token: &str) {
    println!("(Not part of the letter.) From the command line, the invitee can run:");
    println!("    residentdesk invite accept --token {token}    (or: invite reject --token {token})");
}
