//! First connection of a new desk: the remote teams the service account sees, and linking
//! the active team to the one a person chooses (by its remote id or its name). The link is
//! kept by remote id (`teams.remote_id`), so the local team keeps its own name.
//!
//! Without it a team links only to a remote team of exactly its name (`sync::pull::link`, on
//! the first pass), and a new office had to rename its team or start again. Both use cases
//! need `sync.configure`: listing uses the team's stored service account, linking changes
//! where the team's sync goes.

use super::gate::At;
use super::usecases as uc;
use super::{App, Session};
use crate::error::{AppError, AppResult, ErrorDetails, ErrorReason};
use crate::store;
use crate::sync::client::{HttpRemote, RemoteApi, RemoteError, DEFAULT_BASE_URL};
use crate::sync::retry::{retry, RetryPolicy};
use residentdesk_domain::wire::TeamObject;
use serde::Serialize;
use serde_json::json;

/// One remote team the service account sees.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RemoteTeam {
    /// The remote id (`TeamId`).
    pub team_id: String,
    pub name: Option<String>,
    /// The local team of this desk linked to it, if one is.
    pub linked_to: Option<String>,
}

/// The remote teams, and where the active team stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RemoteTeams {
    /// The active (local) team's name.
    pub team: String,
    /// The remote id the active team is linked to, if it is.
    pub linked: Option<String>,
    pub teams: Vec<RemoteTeam>,
}

fn label(t: &TeamObject) -> String {
    match &t.name {
        Some(n) => format!("{n} ({})", t.team_id),
        None => t.team_id.clone(),
    }
}

/// The remote team `choice` names: its remote id exactly, else its name (case and outer
/// spaces aside). An unknown or ambiguous choice is an error listing what the account sees.
pub fn choose<'a>(teams: &'a [TeamObject], choice: &str) -> AppResult<&'a TeamObject> {
    let choice = choice.trim();
    if let Some(t) = teams.iter().find(|t| t.team_id == choice) {
        return Ok(t);
    }
    let named: Vec<&TeamObject> =
        teams.iter().filter(|t| t.name.as_deref().is_some_and(|n| n.trim().eq_ignore_ascii_case(choice))).collect();
    let seen = || {
        if teams.is_empty() {
            "none".to_string()
        } else {
            teams.iter().map(label).collect::<Vec<_>>().join(", ")
        }
    };
    match named.as_slice() {
        [one] => Ok(one),
        [] => Err(AppError::not_found(format!(
            "the service account sees no remote team {choice:?} (by id or name); it sees: {}",
            seen()
        ))
        .with_details(ErrorDetails {
            field: Some(crate::error::ErrorField::Input("remote-team".into())),
            candidates: teams.iter().map(label).collect(),
            ..ErrorDetails::default()
        })),
        many => {
            let names: Vec<String> = many.iter().map(|t| label(t)).collect();
            Err(AppError::invalid(format!(
                "{choice:?} names several remote teams: {}; choose one by its id",
                names.join(", ")
            ))
            .with_details(ErrorDetails { candidates: names, ..ErrorDetails::reason(ErrorReason::Ambiguous) }))
        }
    }
}

fn remote_failed(e: RemoteError) -> AppError {
    match e {
        RemoteError::Auth(_) => AppError::new(crate::ErrorCode::Unauthenticated, e.to_string()),
        other => AppError::internal(format!("reading the remote teams: {other}")),
    }
}

async fn fetch<R: RemoteApi>(remote: &R) -> AppResult<Vec<TeamObject>> {
    retry(&RetryPolicy::default(), true, || remote.teams()).await.map_err(remote_failed)
}

/// The listing: each remote team with the local team linked to it.
fn listing(conn: &rusqlite::Connection, team: &store::teams::Team, teams: Vec<TeamObject>) -> AppResult<RemoteTeams> {
    let mut out = Vec::with_capacity(teams.len());
    for t in teams {
        let linked_to = store::teams::by_remote_id(conn, &t.team_id)?.map(|l| l.name);
        out.push(RemoteTeam { team_id: t.team_id, name: t.name, linked_to });
    }
    Ok(RemoteTeams { team: team.name.clone(), linked: team.remote_id.clone(), teams: out })
}

/// `remote.teams` with a given client: the gate, then one read of the remote's teams.
/// (`&mut`: the future then holds the app exclusively, so it can move to another thread.)
pub async fn remote_teams_with<R: RemoteApi>(app: &mut App, session: &Session, remote: &R) -> AppResult<RemoteTeams> {
    app.read(session, &uc::REMOTE_TEAMS, At::Team)?;
    let teams = fetch(remote).await?;
    let rd = app.read(session, &uc::REMOTE_TEAMS, At::Team)?;
    listing(&rd, &rd.ctx.team, teams)
}

/// `remote.link` with a given client: links the active team to the remote team `choice`
/// (remote id or name) and keeps the link by remote id. Linking again to the same team is a
/// no-op; a team linked to another remote team, or a remote team another local team is
/// linked to, is refused (their sites would mix).
pub async fn remote_link_with<R: RemoteApi>(
    app: &mut App,
    session: &Session,
    remote: &R,
    choice: &str,
) -> AppResult<RemoteTeams> {
    // The gate first (a denial is audited), before the network.
    app.read(session, &uc::REMOTE_LINK, At::Team)?;
    let teams = fetch(remote).await?;
    let chosen = choose(&teams, choice)?.clone();
    let tx = app.write(session, &uc::REMOTE_LINK, At::Team)?;
    let team = tx.ctx.team.clone();
    match team.remote_id.as_deref() {
        Some(id) if id == chosen.team_id => {}
        Some(other) => {
            return Err(AppError::invalid(format!(
                "team {:?} is already linked to remote team {other}; a linked team keeps its link (its sites \
                 are the remote team's)",
                team.name
            )))
        }
        None => {
            if let Some(holder) = store::teams::by_remote_id(&tx, &chosen.team_id)? {
                return Err(AppError::invalid(format!(
                    "remote team {} is already linked to the team {:?} of this desk",
                    label(&chosen),
                    holder.name
                )));
            }
            store::teams::set_remote_id(&tx, team.id, &chosen.team_id)?;
        }
    }
    tx.audit()
        .target(team.name.clone())
        .details(json!({
            "remote_team_id": chosen.team_id,
            "remote_team_name": chosen.name,
            "already_linked": team.remote_id.is_some(),
        }))
        .write()?;
    let linked = store::teams::get(&tx, team.id)?.ok_or_else(|| AppError::internal("team vanished"))?;
    let out = listing(&tx, &linked, teams)?;
    tx.commit()?;
    Ok(out)
}

impl App {
    /// The client of the team's configured remote with its stored service account, after
    /// the gate of `use_case` (so a denial comes before any credential is read).
    fn configured_remote(&self, session: &Session, use_case: &'static uc::UseCase) -> AppResult<HttpRemote> {
        let url = {
            let rd = self.read(session, use_case, At::Team)?;
            store::team_sync::get(&rd, rd.ctx.team.id)?.remote_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_string())
        };
        let credentials = self.sync_credentials(session)?;
        HttpRemote::new(&url, credentials).map_err(|e| AppError::internal(e.to_string()))
    }

    /// `remote.teams` against the configured remote (`residentdesk remote teams`, Settings).
    // A `pub fn` returning the future, so the gate test (tests/it/one_gate.rs), which reads
    // `pub fn` declarations, sees it as a use case the edges may call.
    #[allow(clippy::manual_async_fn)]
    pub fn remote_teams<'a>(
        &'a mut self,
        session: &'a Session,
    ) -> impl std::future::Future<Output = AppResult<RemoteTeams>> + 'a {
        async move {
            let remote = self.configured_remote(session, &uc::REMOTE_TEAMS)?;
            remote_teams_with(self, session, &remote).await
        }
    }

    /// `remote.link` against the configured remote (`residentdesk remote link`, `sync
    /// --remote-team`, Settings).
    #[allow(clippy::manual_async_fn)]
    pub fn remote_link<'a>(
        &'a mut self,
        session: &'a Session,
        choice: &'a str,
    ) -> impl std::future::Future<Output = AppResult<RemoteTeams>> + 'a {
        async move {
            let remote = self.configured_remote(session, &uc::REMOTE_LINK)?;
            remote_link_with(self, session, &remote, choice).await
        }
    }

    /// The gate of `remote.link` alone (a denial is audited): the CLI asks it before it
    /// touches the settings or credentials given with the command.
    pub fn remote_link_gate(&self, session: &Session) -> AppResult<()> {
        self.read(session, &uc::REMOTE_LINK, At::Team).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, name: Option<&str>) -> TeamObject {
        TeamObject { team_id: id.into(), name: name.map(String::from) }
    }

    #[test]
    fn a_choice_is_an_id_or_a_name() {
        let teams = [t("T1", Some("Riverside")), t("T2", Some("Harbor")), t("T3", Some("harbor ")), t("T4", None)];
        assert_eq!(choose(&teams, "T2").unwrap().team_id, "T2");
        assert_eq!(choose(&teams, " riverside ").unwrap().team_id, "T1");
        assert_eq!(choose(&teams, "T4").unwrap().team_id, "T4");
        let ambiguous = choose(&teams, "HARBOR").unwrap_err();
        assert!(
            ambiguous.message.contains("Harbor (T2)") && ambiguous.message.contains("(T3)"),
            "{}",
            ambiguous.message
        );
        let unknown = choose(&teams, "Summit").unwrap_err();
        assert_eq!(unknown.code, crate::ErrorCode::NotFound);
        assert!(unknown.message.contains("it sees: Riverside (T1), Harbor (T2)"), "{}", unknown.message);
        assert!(choose(&[], "x").unwrap_err().message.contains("it sees: none"));
    }
}
