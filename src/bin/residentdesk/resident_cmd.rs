//! `residentdesk resident` and `residentdesk bulk`: residents one at a time or many at once,
//! thin over `app::residents` and `app::bulk`.

use crate::output::{print_table, Out};
use crate::usage;
use clap::{Args, Subcommand};
use residentdesk::app::bulk::BulkReport;
use residentdesk::app::bulk_check::BulkPreview;
use residentdesk::app::residents::{ActionOutcome, ResidentFilter};
use residentdesk::app::undo::UndoHandle;
use residentdesk::app::{ResidentInput, ResidentPatch, ResidentView, Session};
use residentdesk::domain::{BulkAction, MainStatus, Marker, SkipReason, StatusChange, StatusFlag};
use residentdesk::{App, AppError};
use serde_json::json;

#[derive(Args, Debug)]
pub struct ResidentFields {
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
pub enum ResidentCmd {
    /// Residents of a site (the only one you see when you give none), or of every site you
    /// see with --all.
    List {
        #[arg(long, conflicts_with = "all")]
        site: Option<String>,
        /// Every site you can see in the active team.
        #[arg(long)]
        all: bool,
        /// A main status (scheduled, active, suspended, ended), a marker
        /// (invitation-not-accepted, waiting-to-sync, in-conflict) or a flag (current,
        /// pending, expired); repeatable.
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
    /// Give an ended resident access again (during the 31-day grace period).
    Reinstate { resident: String },
    /// Take back a suspend, unsuspend or terminate not sent yet, by its outbox entries (the
    /// ids `suspend`, `terminate` and `bulk` print; all of them or none).
    Undo {
        #[arg(required = true, num_args = 1..)]
        entries: Vec<i64>,
    },
    /// Which actions apply to a resident now, and why the others do not.
    Actions { resident: String },
}

pub fn parse_statuses(items: &[String]) -> Result<Vec<StatusFlag>, AppError> {
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

/// `resident list --status`: main statuses and markers, and the remote's flags as before (a
/// word that is both, scheduled or suspended, means the same resident either way).
fn list_filter(items: &[String]) -> Result<ResidentFilter, AppError> {
    let mut filter = ResidentFilter::default();
    for s in items.iter().flat_map(|s| s.split(',')) {
        if let Some(flag) = StatusFlag::parse(s) {
            filter.statuses.push(flag);
        } else if let Some(main) = MainStatus::parse(s) {
            filter.main.push(main);
        } else if let Some(marker) = Marker::parse(s) {
            filter.markers.push(marker);
        } else {
            return Err(AppError::invalid_field(
                "status",
                format!(
                    "unknown status {s:?} (scheduled, active, suspended, ended, invitation-not-accepted, \
                     waiting-to-sync, in-conflict, current, pending, expired)"
                ),
            ));
        }
    }
    Ok(filter)
}

pub fn resident_cmd(app: &mut App, session: &Session, cmd: &ResidentCmd, out: &Out) -> Result<(), AppError> {
    match cmd {
        ResidentCmd::List { site, all, statuses, building, search, limit } => {
            let filter = ResidentFilter {
                building: building.clone(),
                search: search.clone(),
                limit: *limit,
                ..list_filter(statuses)?
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
        ResidentCmd::Reinstate { resident } => print_outcome(&app.resident_reinstate(session, resident)?, out),
        ResidentCmd::Undo { entries } => {
            let o = app.resident_undo_entries(session, entries)?;
            out.value(&o, || println!("{}", o.message));
        }
        ResidentCmd::Actions { resident } => {
            let a = app.resident_actions(session, resident)?;
            out.value(&a, || {
                for s in &a.actions {
                    let name = serde_json::to_value(s.action).ok();
                    let name = name.as_ref().and_then(|v| v.as_str()).unwrap_or("?").replace('_', " ");
                    match &s.why {
                        None => println!("{name:<20} available"),
                        Some(why) => println!("{name:<20} not now: {why}"),
                    }
                }
            });
        }
    }
    Ok(())
}

/// `bulk ACTION --site SITE [--ids ...]`: one action on many residents of a site.
pub fn bulk(
    app: &mut App,
    session: &Session,
    action: &str,
    site: &str,
    ids: &[String],
    dry_run: bool,
    out: &Out,
) -> Result<(), AppError> {
    let action = BulkAction::parse(action).map_err(|e| usage(e.to_string()))?;
    if dry_run {
        let preview = app.bulk_check(session, action, site, ids)?;
        print_bulk_preview(&preview, out);
        return Ok(());
    }
    let report = app.bulk(session, action, site, ids)?;
    print_bulk(&report, out);
    Ok(())
}

/// A resident's date as the site's day (and time of day, when it has one).
fn site_date(day: Option<&str>, time: Option<&str>) -> Option<String> {
    day.map(|d| match time {
        Some(t) => format!("{d} {t}"),
        None => d.to_string(),
    })
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
                        v.start_day.clone(),
                        v.end_day.clone().unwrap_or_else(|| "-".into()),
                        status_words(v),
                    ]
                })
                .collect(),
        );
        println!("{} resident(s)", list.len());
    });
}

/// The main status and the markers, as a person reads them ("active, waiting to sync"); the
/// remote's flags stay in `--json`.
fn status_words(v: &ResidentView) -> String {
    std::iter::once(v.main_status.as_str().to_string())
        .chain(v.markers.iter().map(|m| m.as_str().replace('_', " ")))
        .collect::<Vec<_>>()
        .join(", ")
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
            "  access:   {} → {} (site time, {})",
            site_date(Some(&v.start_day), v.start_time.as_deref()).unwrap_or_default(),
            site_date(v.end_day.as_deref(), v.end_time.as_deref()).unwrap_or_else(|| "open-ended".into()),
            v.time_zone
        );
        println!("  status:   {}", status_words(v));
        println!("  onboarded: {}", r.onboarded_at.map(|d| d.to_rfc3339()).unwrap_or_else(|| "not yet".into()));
    });
}

fn print_outcome(o: &ActionOutcome, out: &Out) {
    out.value(o, || {
        println!("{}", o.message);
        print_undo(o.undo.as_ref());
    });
}

/// How to take a change back while it is unsent.
fn print_undo(undo: Option<&UndoHandle>) {
    if let Some(u) = undo {
        let ids: Vec<String> = u.entries.iter().map(i64::to_string).collect();
        println!("to undo before the next sync: residentdesk resident undo {}", ids.join(" "));
    }
}

fn print_bulk_preview(p: &BulkPreview, out: &Out) {
    out.value(p, || {
        println!(
            "{} at {}: {} of {} chosen would change (dry run: nothing changed)",
            p.action, p.site, p.eligible, p.chosen
        );
        for g in &p.skipped {
            println!("  {} skipped: {}", g.count, skip_words(g.reason));
        }
    });
}

/// A skip reason in the CLI's words.
fn skip_words(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::AlreadyEnded => "access already ended",
        SkipReason::NotStarted => "access has not started yet",
        SkipReason::AlreadySuspended => "already suspended",
        SkipReason::NotSuspended => "not suspended",
        SkipReason::InvitationNotAccepted => "invitation not accepted yet",
        SkipReason::AlreadyStarted => "access has already started",
        SkipReason::Unknown => "status unknown",
    }
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
        match report.undo.as_ref() {
            Some(u) if u.entries.len() > 50 => {
                println!("{} changes can be undone before the next sync (ids in `outbox list`)", u.entries.len())
            }
            other => print_undo(other),
        }
    });
}
