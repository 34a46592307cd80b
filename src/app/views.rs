//! Saved views (issue #16): a person's columns, sort and filters per screen, remembered in
//! the database per staff account and team (the screen's remembered state has no name), and
//! named views ("Move-outs this month") that their owner may share with the team. Views are
//! a person's, so tokens are refused (`Runs::PeopleOnly`); anyone who may see the team
//! (`team.view`) keeps their own. Only its owner changes or deletes a view.

use super::gate::At;
use super::usecases as uc;
use super::{App, Session};
use crate::error::{AppError, AppResult};
use crate::store;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// At most this many bytes of a view's state (columns, sort and filters are short).
pub const MAX_STATE_BYTES: usize = 16 * 1024;
/// A view's name and a screen's name: at most this many characters.
pub const MAX_NAME_CHARS: usize = 80;

/// A screen's sort: a column key and its direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ViewSort {
    pub key: String,
    #[serde(default)]
    pub descending: bool,
}

/// What a view remembers of a screen. The keys are the screen's own (the UI's column and
/// filter names); the core keeps them, it does not interpret them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ViewState {
    /// The visible columns, in order (empty: the screen's default).
    #[serde(default)]
    pub columns: Vec<String>,
    #[serde(default)]
    pub sort: Option<ViewSort>,
    /// Filter name → value (`status` → `current`, `building` → `B`).
    #[serde(default)]
    pub filters: BTreeMap<String, String>,
}

/// A view to save: `name` `None` is the screen's remembered state (never shared).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewView {
    pub screen: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub shared: bool,
    pub state: ViewState,
}

/// A view as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SavedView {
    pub id: i64,
    pub screen: String,
    /// `None`: the screen's remembered state.
    pub name: Option<String>,
    pub shared: bool,
    /// The owner's email.
    pub owner: String,
    /// Whether the person asking owns it (may change or delete it).
    pub mine: bool,
    pub state: ViewState,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

fn check_name(what: &str, text: &str, screen: bool) -> AppResult<String> {
    let t = text.trim();
    let bad = |why: &str| AppError::invalid_field(what, format!("{what} {t:?} {why}"));
    if t.is_empty() {
        return Err(AppError::invalid_field(what, format!("{what} is required")));
    }
    if t.chars().count() > MAX_NAME_CHARS {
        return Err(bad(&format!("is longer than {MAX_NAME_CHARS} characters")));
    }
    if t.chars().any(char::is_control) {
        return Err(bad("contains control characters"));
    }
    if screen && !t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') {
        return Err(bad("may contain only a-z, 0-9, _ and - (a screen's name, such as residents)"));
    }
    Ok(t.to_string())
}

fn view_of(v: store::views::StoredView, staff_id: i64) -> AppResult<SavedView> {
    let state: ViewState = serde_json::from_str(&v.state)
        .map_err(|e| AppError::internal(format!("saved view #{} is not readable: {e}", v.id)))?;
    Ok(SavedView {
        id: v.id,
        screen: v.screen,
        name: (!v.name.is_empty()).then_some(v.name),
        shared: v.shared,
        owner: v.owner,
        mine: v.staff_id == staff_id,
        state,
        updated_at: v.updated_at,
    })
}

impl App {
    /// The views the person sees in the active team (their own, and named views shared by
    /// others), of one screen or of all.
    pub fn view_list(&self, session: &Session, screen: Option<&str>) -> AppResult<Vec<SavedView>> {
        let rd = self.read(session, &uc::VIEW_LIST, At::Team)?;
        let screen = screen.map(|s| check_name("screen", s, true)).transpose()?;
        let staff = rd.ctx.session.actor.staff_id;
        store::views::visible(&rd, rd.ctx.team.id, staff, screen.as_deref())?
            .into_iter()
            .map(|v| view_of(v, staff))
            .collect()
    }

    /// Saves the person's view of a screen (replacing their view of the same name).
    pub fn view_save(&mut self, session: &Session, view: &NewView) -> AppResult<SavedView> {
        let tx = self.write(session, &uc::VIEW_SAVE, At::Team)?;
        let screen = check_name("screen", &view.screen, true)?;
        let name = view.name.as_deref().map(|n| check_name("name", n, false)).transpose()?;
        if view.shared && name.is_none() {
            return Err(AppError::invalid_field("shared", "only a named view can be shared with the team"));
        }
        let state = serde_json::to_string(&view.state).map_err(|e| AppError::internal(e.to_string()))?;
        if state.len() > MAX_STATE_BYTES {
            return Err(AppError::invalid_field(
                "state",
                format!("a view's columns, sort and filters take {} bytes; at most {MAX_STATE_BYTES}", state.len()),
            ));
        }
        let (team, staff, now) = (tx.ctx.team.id, tx.ctx.session.actor.staff_id, tx.ctx.now);
        let id =
            store::views::save(&tx, team, staff, &screen, name.as_deref().unwrap_or(""), view.shared, &state, now)?;
        tx.audit()
            .target(format!("{screen}/{}", name.as_deref().unwrap_or("(remembered)")))
            .details(json!({"view": id, "screen": screen, "name": name, "shared": view.shared}))
            .write()?;
        let saved = store::views::get(&tx, id)?.ok_or_else(|| AppError::internal("saved view vanished"))?;
        tx.commit()?;
        view_of(saved, staff)
    }

    /// Deletes one of the person's views (a view shared by someone else is theirs to delete).
    pub fn view_delete(&mut self, session: &Session, id: i64) -> AppResult<()> {
        let tx = self.write(session, &uc::VIEW_DELETE, At::Team)?;
        let staff = tx.ctx.session.actor.staff_id;
        let not_found = || AppError::not_found(format!("no saved view #{id} among yours"));
        let v = store::views::get(&tx, id)?.filter(|v| v.team_id == tx.ctx.team.id).ok_or_else(not_found)?;
        if v.staff_id != staff {
            if !v.shared {
                return Err(not_found());
            }
            return Err(AppError::invalid(format!(
                "the view {:?} is {}'s, shared with the team: only its owner can delete it",
                v.name, v.owner
            )));
        }
        store::views::delete(&tx, id)?;
        tx.audit()
            .target(format!("{}/{}", v.screen, if v.name.is_empty() { "(remembered)" } else { &v.name }))
            .details(json!({"view": id}))
            .write()?;
        tx.commit()?;
        Ok(())
    }
}
