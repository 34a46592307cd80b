//! `residentdesk views list|save|delete`: a person's saved views (columns, sort, filters per
//! screen), thin over `app::views`.

use crate::output::{print_table, Out};
use crate::usage;
use clap::Subcommand;
use residentdesk::app::views::{NewView, SavedView, ViewSort, ViewState};
use residentdesk::app::Session;
use residentdesk::{App, AppError};
use serde_json::json;

#[derive(Subcommand, Debug)]
pub enum ViewsCmd {
    /// Your saved views and the named views shared with the team (of one screen, or all).
    List {
        #[arg(long)]
        screen: Option<String>,
    },
    /// Save a screen's columns, sort and filters; without --name, the screen's remembered state.
    Save {
        /// The screen (residents, audit, outbox, …).
        #[arg(long)]
        screen: String,
        #[arg(long)]
        name: Option<String>,
        /// Share the named view with the team.
        #[arg(long)]
        shared: bool,
        /// A visible column, in order (repeatable).
        #[arg(long = "column", value_name = "KEY")]
        columns: Vec<String>,
        /// The sort: KEY, or KEY:desc.
        #[arg(long, value_name = "KEY[:desc]")]
        sort: Option<String>,
        /// A filter, NAME=VALUE (repeatable).
        #[arg(long = "filter", value_name = "NAME=VALUE")]
        filters: Vec<String>,
    },
    /// Delete one of your saved views.
    Delete { id: i64 },
}

fn print_views(views: &[SavedView], out: &Out) {
    out.value(&json!({ "views": views }), || {
        print_table(
            &["ID", "SCREEN", "NAME", "SHARED", "OWNER", "SORT", "FILTERS"],
            views
                .iter()
                .map(|v| {
                    vec![
                        v.id.to_string(),
                        v.screen.clone(),
                        v.name.clone().unwrap_or_else(|| "(remembered)".into()),
                        if v.shared { "yes" } else { "" }.into(),
                        v.owner.clone(),
                        v.state
                            .sort
                            .as_ref()
                            .map(|s| format!("{}{}", s.key, if s.descending { ":desc" } else { "" }))
                            .unwrap_or_default(),
                        v.state.filters.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "),
                    ]
                })
                .collect(),
        )
    });
}

pub fn views_cmd(app: &mut App, session: &Session, cmd: &ViewsCmd, out: &Out) -> Result<(), AppError> {
    match cmd {
        ViewsCmd::List { screen } => print_views(&app.view_list(session, screen.as_deref())?, out),
        ViewsCmd::Save { screen, name, shared, columns, sort, filters } => {
            let sort = sort.as_deref().map(|s| match s.rsplit_once(':') {
                Some((key, "desc")) => ViewSort { key: key.to_string(), descending: true },
                Some((key, "asc")) => ViewSort { key: key.to_string(), descending: false },
                _ => ViewSort { key: s.to_string(), descending: false },
            });
            let mut map = std::collections::BTreeMap::new();
            for f in filters {
                let (k, v) = f.split_once('=').ok_or_else(|| usage(format!("--filter {f:?} is not NAME=VALUE")))?;
                map.insert(k.trim().to_string(), v.trim().to_string());
            }
            let view = NewView {
                screen: screen.clone(),
                name: name.clone(),
                shared: *shared,
                state: ViewState { columns: columns.clone(), sort, filters: map },
            };
            let saved = app.view_save(session, &view)?;
            out.value(&saved, || {
                println!("Saved view #{} ({})", saved.id, saved.name.as_deref().unwrap_or("remembered"))
            });
        }
        ViewsCmd::Delete { id } => {
            app.view_delete(session, *id)?;
            out.value(&json!({ "deleted": id }), || println!("Deleted view #{id}"));
        }
    }
    Ok(())
}
