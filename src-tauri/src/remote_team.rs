//! Settings → "Remote team": the remote teams the service account sees, and linking the
//! active team to the chosen one (a new desk whose team name differs from the remote's).
//! One line each over the core's `App::remote_teams` / `App::remote_link`, which gate and
//! decide everything; run on the shell's runtime with a connection of their own (like the
//! connection check), so the window goes on while the remote answers.

use crate::{Desk, Reply};
use residentdesk::app::remote_team::RemoteTeams;
use residentdesk::AppError;
use tauri::State;

type Desktop<'a> = State<'a, Desk>;

#[tauri::command]
pub async fn remote_teams(desk: Desktop<'_>) -> Reply<RemoteTeams> {
    let session = desk.signed_in(|app, s| app.remote_link_gate(s).map(|_| s.clone()))?;
    let mut app = desk.open_app()?;
    desk.runtime
        .spawn(async move { app.remote_teams(&session).await })
        .await
        .map_err(|e| AppError::internal(format!("listing the remote teams stopped: {e}")))?
}

#[tauri::command]
pub async fn remote_link(desk: Desktop<'_>, team: String) -> Reply<RemoteTeams> {
    let session = desk.signed_in(|app, s| app.remote_link_gate(s).map(|_| s.clone()))?;
    let mut app = desk.open_app()?;
    desk.runtime
        .spawn(async move { app.remote_link(&session, &team).await })
        .await
        .map_err(|e| AppError::internal(format!("linking the remote team stopped: {e}")))?
}
