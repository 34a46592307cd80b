//! Sync use cases for every edge: run a pass, the status, the outbox (retry, discard), the
//! conflict inbox (list, resolve per field or whole), and the sync configuration.
//!
//! The configuration (remote URL, service-account email) is a Team-administrator setting
//! (Table-1 "edit team settings"), one per team, in the `team_sync` table. The service
//! account's password is never stored in the database: it goes to the OS keyring (Secret
//! Service, Keychain, Credential Manager) where one answers, otherwise to a file beside the
//! database that only the user can read (mode 0600 on Unix; on Windows the file has only its
//! folder's inherited access list — under the user profile, the user, SYSTEM and the
//! administrators), with a warning (see [`CredentialStore`]). Changing a team's remote URL
//! forgets its password.

use super::gate::At;
use super::outcomes::ResolvedSaid;
use super::usecases as uc;
use super::{App, Session};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::store::{self, conflicts::Conflict, outbox::Entry};
use crate::sync::check::{self, CheckReport};
use crate::sync::client::{check_base_url, Credentials, HttpRemote, RawRemote, RemoteApi, DEFAULT_BASE_URL};
use crate::sync::status::{self, SyncStatus};
use crate::sync::{run_pass, PassReport, ProgressFn, SyncOptions};
use residentdesk_domain::{ConflictKind, OutboxOp, OutboxState, ResidentField};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which side wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    Local,
    Remote,
}

impl Keep {
    pub fn parse(text: &str) -> AppResult<Keep> {
        match text.trim().to_ascii_lowercase().as_str() {
            "local" => Ok(Keep::Local),
            "remote" => Ok(Keep::Remote),
            other => Err(AppError::invalid_field("keep", format!("expected local or remote, got {other:?}"))),
        }
    }
}

/// A person's decision on a conflict: one side for everything, or a side per field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Resolution {
    #[serde(default)]
    pub keep: Option<Keep>,
    #[serde(default)]
    pub fields: BTreeMap<String, Keep>,
}

/// What a resolution did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ResolveOutcome {
    pub conflict_id: i64,
    /// The outbox entry that carries the decision to the remote, if one was needed.
    pub entry_id: Option<i64>,
    /// In English (the CLI's words).
    pub message: String,
    /// The same as a code with its parameters, for the desktop's catalog.
    pub said: ResolvedSaid,
}

/// The sync configuration (never the password).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncConfig {
    pub remote_url: String,
    pub remote_user: Option<String>,
    pub credentials_stored: bool,
    /// Where the password lives, and a warning when it is a plain file.
    pub credential_store: String,
    /// What a change did that the person must know (the remote URL changed, so the stored
    /// password was forgotten); `None` otherwise.
    pub notice: Option<String>,
}

/// The session's active team (the gate of every sync use case has checked there is one).
fn team_of(session: &Session) -> AppResult<i64> {
    session.actor.team_id().ok_or_else(|| AppError::invalid("sync settings belong to a team; this account has none"))
}

/// Where the service account's password is kept, per team: the OS keyring where one
/// answers (an entry per database and team), else a file beside the database readable only
/// by the user (0600) holding each team's entry.
///
/// Before the account was per team (migration 0007) there was one desk-wide entry: a keyring
/// entry named after the database alone, or the file holding `{email, password}`. It still
/// serves every team that has none of its own (as migration 0007 copied the URL and email to
/// every team); the first save or forget hands it to each team and removes it, so forgetting
/// one team's password never leaves it readable through the desk-wide entry.
pub struct CredentialStore {
    team_id: i64,
    /// The database's path (none for an in-memory database).
    db: Option<String>,
    /// Whether the OS keyring may be asked ([`NO_KEYRING_ENV`] switches it off).
    use_keyring: bool,
    /// The fallback file beside the database (mode 0600).
    path: Option<PathBuf>,
}

/// Set to any value to keep credentials in the 0600 file even where an OS keyring exists.
pub const NO_KEYRING_ENV: &str = "RESIDENTDESK_NO_KEYRING";

const KEYRING_SERVICE: &str = "residentdesk-sync";

/// How the fallback file is protected, as the messages say it. Windows has no mode bits:
/// the file gets its folder's inherited access list (std offers no portable way to set one,
/// and the crate forbids the `unsafe` a Win32 security call would need).
#[cfg(unix)]
const FILE_PROTECTION: &str = "mode 0600";
#[cfg(not(unix))]
const FILE_PROTECTION: &str = "protected only by its folder's access list";

fn credentials_of(v: &Value) -> Option<Credentials> {
    match (v["email"].as_str(), v["password"].as_str()) {
        (Some(e), Some(p)) => Some(Credentials { email: e.into(), password: p.into() }),
        _ => None,
    }
}

fn parse_credentials(text: &str, source: &str) -> AppResult<Credentials> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| AppError::internal(format!("{source} is not valid JSON: {e}")))?;
    credentials_of(&v).ok_or_else(|| AppError::internal(format!("{source} lacks email or password")))
}

fn credentials_json(c: &Credentials) -> Value {
    json!({"email": c.email, "password": c.password})
}

/// The fallback file's content: each team's entry, and the desk-wide one of older versions.
#[derive(Default)]
struct CredentialFile {
    teams: Map<String, Value>,
    desk_wide: Option<Credentials>,
}

impl CredentialStore {
    /// The store of `team_id`'s service account for the database at `conn`'s path (none for
    /// an in-memory database): the OS keyring (Secret Service, macOS Keychain, Windows
    /// Credential Manager) where one answers, else a file only the user can read.
    pub fn for_team(conn: &rusqlite::Connection, team_id: i64) -> CredentialStore {
        let db = conn.path().filter(|p| !p.is_empty()).map(str::to_string);
        let path = db.as_ref().map(|p| PathBuf::from(format!("{p}.sync-credentials")));
        CredentialStore { team_id, use_keyring: std::env::var_os(NO_KEYRING_ENV).is_none(), db, path }
    }

    /// The keyring entry of `team` (`None` for the desk-wide entry of older versions).
    fn entry(&self, team: Option<i64>) -> Option<keyring::Entry> {
        let db = self.db.as_ref().filter(|_| self.use_keyring)?;
        let user = match team {
            Some(t) => format!("{db}#team-{t}"),
            None => db.clone(),
        };
        keyring::Entry::new(KEYRING_SERVICE, &user).ok()
    }

    fn keyring_get(&self, team: Option<i64>) -> Option<String> {
        self.entry(team).and_then(|e| e.get_password().ok())
    }

    pub fn describe(&self) -> String {
        if self.keyring_get(Some(self.team_id)).is_some() || self.keyring_get(None).is_some() {
            return "the OS keyring".into();
        }
        match &self.path {
            Some(p) => format!(
                "file {} ({FILE_PROTECTION}: no OS keyring answered, so anyone who can read your files as you can read it)",
                p.display()
            ),
            None => "none (in-memory database)".into(),
        }
    }

    fn read_file(&self) -> AppResult<CredentialFile> {
        let Some(path) = &self.path else { return Ok(CredentialFile::default()) };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(CredentialFile::default()),
            Err(e) => return Err(AppError::internal(format!("cannot read {}: {e}", path.display()))),
        };
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| AppError::internal(format!("{} is not valid JSON: {e}", path.display())))?;
        Ok(CredentialFile { teams: v["teams"].as_object().cloned().unwrap_or_default(), desk_wide: credentials_of(&v) })
    }

    /// Writes the per-team entries (removes the file when none is left).
    fn write_file(&self, teams: &Map<String, Value>) -> AppResult<()> {
        let Some(path) = &self.path else { return Ok(()) };
        if teams.is_empty() {
            return match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(AppError::internal(format!("cannot remove {}: {e}", path.display())))
                }
                _ => Ok(()),
            };
        }
        let text = json!({ "teams": teams }).to_string();
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        use std::io::Write;
        let mut f = opts.open(path).map_err(|e| AppError::internal(format!("cannot write {}: {e}", path.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        f.write_all(text.as_bytes()).map_err(|e| AppError::internal(format!("cannot write {}: {e}", path.display())))
    }

    pub fn load(&self) -> AppResult<Option<Credentials>> {
        if let Some(text) = self.keyring_get(Some(self.team_id)) {
            return parse_credentials(&text, "the keyring entry").map(Some);
        }
        let file = self.read_file()?;
        if let Some(v) = file.teams.get(&self.team_id.to_string()) {
            return Ok(credentials_of(v));
        }
        if let Some(text) = self.keyring_get(None) {
            return parse_credentials(&text, "the keyring entry").map(Some);
        }
        Ok(file.desk_wide)
    }

    /// Hands the desk-wide entry of an older version to each of `teams` (keeping an entry a
    /// team already has) and removes it. Returns the file's per-team entries.
    fn split_desk_wide(&self, teams: &[i64]) -> AppResult<Map<String, Value>> {
        let mut file = self.read_file()?;
        let keyring_wide = self.keyring_get(None).and_then(|t| parse_credentials(&t, "the keyring entry").ok());
        let Some(wide) = keyring_wide.or(file.desk_wide.take()) else { return Ok(file.teams) };
        for team in teams {
            let has_own = self.keyring_get(Some(*team)).is_some() || file.teams.contains_key(&team.to_string());
            if !has_own {
                let kept = self
                    .entry(Some(*team))
                    .is_some_and(|e| e.set_password(&credentials_json(&wide).to_string()).is_ok());
                if !kept {
                    file.teams.insert(team.to_string(), credentials_json(&wide));
                }
            }
        }
        self.write_file(&file.teams)?;
        if let Some(e) = self.entry(None) {
            let _ = e.delete_credential();
        }
        Ok(file.teams)
    }

    /// Keeps `c` as this team's password. `teams`: every team of the database (see
    /// [`CredentialStore`] on the desk-wide entry).
    pub fn save(&self, c: &Credentials, teams: &[i64]) -> AppResult<()> {
        if self.path.is_none() {
            return Err(AppError::invalid("an in-memory database cannot keep sync credentials"));
        }
        let mut entries = self.split_desk_wide(teams)?;
        let key = self.team_id.to_string();
        if let Some(entry) = self.entry(Some(self.team_id)) {
            if entry.set_password(&credentials_json(c).to_string()).is_ok() {
                // The keyring holds them now; no copy stays on disk.
                if entries.remove(&key).is_some() {
                    self.write_file(&entries)?;
                }
                return Ok(());
            }
            if let Some(p) = &self.path {
                tracing::warn!(
                    "no OS keyring answered; keeping the sync credentials in {} ({FILE_PROTECTION})",
                    p.display()
                );
            }
        }
        entries.insert(key, credentials_json(c));
        self.write_file(&entries)
    }

    /// Forgets this team's password (keyring entry and file entry). Returns whether one was
    /// stored. `teams`: every team of the database.
    pub fn forget(&self, teams: &[i64]) -> AppResult<bool> {
        let had = self.load()?.is_some();
        let mut entries = self.split_desk_wide(teams)?;
        if let Some(entry) = self.entry(Some(self.team_id)) {
            match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => {}
                // A keyring that answers but cannot delete must not leave the password usable.
                Err(e) if self.keyring_get(Some(self.team_id)).is_some() => {
                    return Err(AppError::internal(format!(
                        "cannot remove the service account's password from the OS keyring: {e}"
                    )))
                }
                Err(_) => {}
            }
        }
        if entries.remove(&self.team_id.to_string()).is_some() {
            self.write_file(&entries)?;
        }
        Ok(had)
    }
}

/// One full sync pass for `session` (only the sites in its scope), through the gate
/// (`sync.run` needs `sync.operate` on the team; the pass is audited). The executor
/// (`crate::sync`) then writes the outbox states and the pulled residents in its own short
/// transactions, as a pass that talks to the network must.
pub async fn sync_pass<R: RemoteApi>(
    app: &mut App,
    session: &Session,
    remote: &R,
    opts: &SyncOptions,
    progress: Option<ProgressFn<'_>>,
) -> AppResult<PassReport> {
    let fresh = {
        let tx = app.write(session, &uc::SYNC_RUN, At::Team)?;
        tx.audit().write()?;
        let fresh = tx.ctx.session.clone();
        tx.commit()?;
        fresh
    };
    Ok(run_pass(app.sync_db(), &fresh, remote, opts, progress).await?)
}

impl App {
    /// The gate of a background pass (the desktop's worker, every tick): the session as the
    /// database says it is now, if it may still run `sync.run` (a denial is audited; a
    /// successful tick is not, or the log would fill with timer ticks).
    pub fn sync_gate(&self, session: &Session) -> AppResult<Session> {
        // Not the person's activity: a desk left alone with sync running still locks.
        Ok(self.read_in_background(session, &uc::SYNC_RUN, At::Team)?.session)
    }
}

impl App {
    /// Per-site last pull, entry counts, open conflicts and the last error: the sites where
    /// the session may see residents.
    pub fn sync_status(&self, session: &Session) -> AppResult<SyncStatus> {
        let rd = self.read(session, &uc::SYNC_STATUS, At::Team)?;
        let sites = rd.ctx.sites_allowed(&rd)?;
        Ok(status::load(&rd, &sites)?)
    }

    /// Outbox entries of the sites where the session may see residents, oldest first: those
    /// still waiting or needing attention, or all of them with `all`.
    pub fn outbox_list(&self, session: &Session, all: bool, limit: usize) -> AppResult<Vec<Entry>> {
        let rd = self.read(session, &uc::OUTBOX_LIST, At::Team)?;
        let sites: Vec<i64> = rd.ctx.sites_allowed(&rd)?.iter().map(|s| s.id).collect();
        let states: &[OutboxState] = if all { &OutboxState::ALL } else { &OutboxState::OPEN };
        Ok(store::outbox::list_for_sites(&rd, &sites, states, limit)?)
    }

    /// The sync configuration of the session's team.
    pub fn sync_config(&self, session: &Session) -> AppResult<SyncConfig> {
        let rd = self.read(session, &uc::SYNC_CONFIG, At::Team)?;
        let team = team_of(&rd.ctx.session)?;
        let settings = store::team_sync::get(&rd, team)?;
        let credentials = CredentialStore::for_team(&rd, team);
        Ok(SyncConfig {
            remote_url: settings.remote_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
            remote_user: settings.remote_user,
            credentials_stored: credentials.load()?.is_some(),
            credential_store: credentials.describe(),
            notice: None,
        })
    }

    /// Points sync at the demo's simulated remote after it restarted on another loopback
    /// port (the desktop restarts it with the app). Only a demo database's teams already
    /// synced with a loopback remote are changed, so no real remote can be redirected this
    /// way. Their stored password stays: it is the same simulated remote on this machine.
    pub fn demo_remote_moved(&mut self, url: &str) -> AppResult<()> {
        let loopback = |u: &str| u.starts_with("http://127.0.0.1:");
        let teams: Vec<i64> = store::team_sync::urls(self.conn())?
            .into_iter()
            .filter(|(_, current)| loopback(current))
            .map(|(team, _)| team)
            .collect();
        if !self.is_demo()? || teams.is_empty() || !loopback(url) {
            return Err(AppError::invalid_field(
                "remote",
                "only a demo database's simulated remote can move to another loopback port",
            ));
        }
        let tx = self.write_public(&uc::DEMO_REMOTE_MOVED)?;
        for team in &teams {
            store::team_sync::set_url(&tx, *team, url.trim_end_matches('/'))?;
        }
        tx.audit(None, "system")
            .details(json!({
                "remote_url": url,
                "teams": teams,
                "reason": "the demo's simulated remote restarted on another port"
            }))
            .write()?;
        tx.commit()?;
        Ok(())
    }

    /// Sets the session's team's remote URL and/or service account (Team administrators
    /// only). The password goes to the credential store, never to the database.
    ///
    /// A URL must be https (plain http only to this machine: [`check_base_url`]). Changing
    /// it forgets the team's stored password — it was entered for the old remote and must
    /// not be sent to the new one unasked — unless a new password comes with the change; the
    /// answer's `notice` says so and the audit entry records it.
    pub fn sync_configure(
        &mut self,
        session: &Session,
        remote_url: Option<&str>,
        remote_user: Option<&str>,
        password: Option<&str>,
    ) -> AppResult<SyncConfig> {
        // The gate first (a denial is audited), before any credential is touched.
        let team = team_of(&self.read(session, &uc::SYNC_CONFIGURE, At::Team)?.ctx.session)?;
        let url = remote_url.map(|u| u.trim().trim_end_matches('/').to_string());
        if let Some(u) = &url {
            check_base_url(u).map_err(|why| AppError::invalid_field("remote", why))?;
        }
        let user = remote_user.map(|u| u.trim().to_string());
        if let Some(u) = &user {
            if !u.contains('@') {
                return Err(AppError::invalid_field("remote-user", format!("{u:?} is not an email address")));
            }
        }
        let current = store::team_sync::get(self.conn(), team)?;
        let email = user.clone().or(current.remote_user.clone());
        if password.is_some() && email.is_none() {
            return Err(AppError::invalid_field(
                "remote-user",
                "the service account's email is needed with a password",
            ));
        }
        let before = current.remote_url.clone().unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        let moved = url.as_ref().filter(|u| **u != before);
        let teams = store::team_sync::team_ids(self.conn())?;
        let credentials = CredentialStore::for_team(self.conn(), team);
        // Forgotten before the new URL is saved: were the save to fail after, the old
        // password would otherwise be sent to the new remote.
        let forgotten = match moved {
            Some(_) => credentials.forget(&teams)?,
            None => false,
        };
        if let (Some(p), Some(e)) = (password, email) {
            credentials.save(&Credentials { email: e, password: p.to_string() }, &teams)?;
        }
        let tx = self.write(session, &uc::SYNC_CONFIGURE, At::Team)?;
        if let Some(u) = &url {
            store::team_sync::set_url(&tx, team, u)?;
        }
        if let Some(u) = &user {
            store::team_sync::set_user(&tx, team, u)?;
        }
        tx.audit()
            .details(json!({
                "remote_url": url,
                "previous_remote_url": moved.map(|_| before.clone()),
                "remote_user": user,
                "password_changed": password.is_some(),
                "password_forgotten": forgotten,
            }))
            .write()?;
        tx.commit()?;
        let mut config = self.sync_config(session)?;
        if forgotten && password.is_none() {
            config.notice = Some(format!(
                "The remote URL changed from {before} to {}, so the service account's password stored for the \
                 old remote was forgotten: enter it again for the new one.",
                config.remote_url
            ));
        }
        Ok(config)
    }

    /// The stored credentials of the session's team's service account (for building the
    /// client).
    pub fn sync_credentials(&self, session: &Session) -> AppResult<Credentials> {
        let team = team_of(session)?;
        CredentialStore::for_team(self.conn(), team).load()?.ok_or_else(|| {
            AppError::new(
                ErrorCode::Unauthenticated,
                "no sync credentials for this team: run `residentdesk sync --remote-user EMAIL \
                 --remote-password-stdin` once (or enter the password in Settings)",
            )
        })
    }

    /// The site of an outbox entry, for the gate (an entry outside the team is not found).
    fn entry_site(&self, id: i64) -> AppResult<i64> {
        Ok(store::outbox::get(self.conn(), id)?
            .ok_or_else(|| AppError::not_found(format!("outbox entry #{id}")))?
            .site_id)
    }

    /// Moves one outbox entry from one of `from` to `to`, checked and changed in the use
    /// case's transaction (a sync pass that took the entry meanwhile wins; the person is told).
    fn entry_transition(
        &mut self,
        session: &Session,
        use_case: &'static uc::UseCase,
        id: i64,
        from: &[OutboxState],
        to: OutboxState,
    ) -> AppResult<Entry> {
        let site_id = self.entry_site(id)?;
        let tx = self.write(session, use_case, At::SiteId(site_id)).map_err(|e| match e.code {
            ErrorCode::NotFound => AppError::not_found(format!("outbox entry #{id}")),
            _ => e,
        })?;
        let now = tx.ctx.now;
        let e = store::outbox::get(&tx, id)?.ok_or_else(|| AppError::not_found(format!("outbox entry #{id}")))?;
        if !from.iter().any(|s| e.state == *s) {
            return Err(AppError::invalid(format!(
                "entry #{id} is {}; only {} entries can be {}",
                e.state,
                from.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" or "),
                if to == OutboxState::Pending { "retried" } else { "discarded" }
            )));
        }
        // Compare-and-set inside the use case's transaction: a sync pass that took the entry
        // in flight since it was read leaves it alone.
        if !store::sync_state::transition(&tx, id, from, to, e.last_error.as_deref(), now)? {
            return Err(AppError::invalid(format!("entry #{id} changed meanwhile; look again")));
        }
        let mut details = json!({"entry": id, "op": e.op});
        if to == OutboxState::Discarded {
            details["payload"] = e.payload.clone();
        }
        let mut audit = tx.audit().details(details);
        if let Some(email) = &e.email {
            audit = audit.target(email.clone());
        }
        audit.write()?;
        let after = store::outbox::get(&tx, id)?.unwrap_or(e);
        tx.commit()?;
        Ok(after)
    }

    /// Sends a rejected entry again on the next pass (`sync.operate` at the entry's site).
    pub fn outbox_retry(&mut self, session: &Session, id: i64) -> AppResult<Entry> {
        self.entry_transition(session, &uc::OUTBOX_RETRY, id, &[OutboxState::Rejected], OutboxState::Pending)
    }

    /// Gives up sending an entry (pending or rejected). The local data is kept; the next
    /// pull brings the remote's values back for fields no other entry changes.
    pub fn outbox_discard(&mut self, session: &Session, id: i64) -> AppResult<Entry> {
        self.entry_transition(
            session,
            &uc::OUTBOX_DISCARD,
            id,
            &[OutboxState::Rejected, OutboxState::Pending],
            OutboxState::Discarded,
        )
    }

    /// Conflicts of the sites where the session may see residents (open ones unless `all`).
    pub fn conflict_list(&self, session: &Session, all: bool) -> AppResult<Vec<Conflict>> {
        let rd = self.read(session, &uc::CONFLICT_LIST, At::Team)?;
        let ids: Vec<i64> = rd.ctx.sites_allowed(&rd)?.iter().map(|s| s.id).collect();
        Ok(store::conflicts::list_for_sites(&rd, &ids, all)?)
    }

    /// Resolves a conflict. The decision becomes an ordinary outbox entry (when the remote
    /// must change) and an audit entry; the entries the conflict held are superseded.
    pub fn conflict_resolve(&mut self, session: &Session, id: i64, choice: &Resolution) -> AppResult<ResolveOutcome> {
        let site_id = store::conflicts::get(self.conn(), id)?
            .ok_or_else(|| AppError::not_found(format!("conflict #{id}")))?
            .site_id;
        let tx = self.write(session, &uc::CONFLICT_RESOLVE, At::SiteId(site_id)).map_err(|e| match e.code {
            ErrorCode::NotFound => AppError::not_found(format!("conflict #{id}")),
            _ => e,
        })?;
        let (site, now, session) = (tx.ctx.site().clone(), tx.ctx.now, &tx.ctx.session);
        // The state is checked inside the use case's transaction, so a second resolution (or a
        // sync pass) cannot slip in between the check and the change.
        let c = store::conflicts::get(&tx, id)?.ok_or_else(|| AppError::not_found(format!("conflict #{id}")))?;
        if c.state != "open" {
            return Err(AppError::invalid(format!("conflict #{id} is already resolved")));
        }
        let resident = match c.resident_id {
            Some(r) => store::residents::get(&tx, r)?,
            None => None,
        };
        let held: Vec<Entry> = c
            .entry_ids
            .iter()
            .filter_map(|e| store::outbox::get(&tx, *e).ok().flatten())
            .filter(|e| e.state == OutboxState::Conflict)
            .collect();
        let supersede = |tx: &rusqlite::Transaction<'_>| -> AppResult<()> {
            for e in &held {
                store::sync_state::finish_entry(
                    tx,
                    e.id,
                    OutboxState::Discarded,
                    Some(&format!("superseded by the resolution of conflict #{id}")),
                    now,
                )?;
            }
            Ok(())
        };
        let append = |tx: &rusqlite::Transaction<'_>,
                      r: &store::residents::Resident,
                      op: OutboxOp,
                      payload: Value,
                      base: Value|
         -> AppResult<i64> {
            super::residents::append_entry(tx, session, &site, r, op, payload, base, now)
        };
        let mut entry_id = None;
        let said;
        match ConflictKind::parse(&c.kind) {
            Some(ConflictKind::Field) => {
                let r =
                    resident.ok_or_else(|| AppError::not_found("the resident of this conflict no longer exists"))?;
                let disputed: Vec<String> =
                    c.fields.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
                let mut picks = BTreeMap::new();
                for f in &disputed {
                    let k = choice.fields.get(f).copied().or(choice.keep).ok_or_else(|| {
                        AppError::invalid_field(
                            f,
                            format!("choose local or remote for {f} (--field {f}=local|remote or --keep)"),
                        )
                    })?;
                    picks.insert(f.clone(), k);
                }
                if let Some(extra) = choice.fields.keys().find(|f| !disputed.contains(f)) {
                    return Err(AppError::invalid_field(extra, format!("{extra} is not disputed in conflict #{id}")));
                }
                let mut values = match crate::app::residents::field_values(&r) {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                for (f, k) in &picks {
                    if *k == Keep::Remote {
                        values.insert(f.clone(), c.fields[f]["remote"].clone());
                    }
                }
                let fields = crate::sync::merge::to_fields(&crate::sync::merge::normalize(&values))
                    .ok_or_else(|| AppError::invalid("the chosen values do not make a valid resident"))?;
                // The same checks as an update: a resolution never stores what an update refuses.
                let fields = super::residents::check_resident_fields(&tx, &site, r.id, &fields, now)?;
                store::residents::update_fields(&tx, r.id, &fields, now)?;
                let after = store::residents::get(&tx, r.id)?.ok_or_else(|| AppError::internal("resident vanished"))?;
                let mut changed: std::collections::BTreeSet<String> = held
                    .iter()
                    .filter(|e| e.op == OutboxOp::Update)
                    .flat_map(|e| e.payload["changed"].as_array().cloned().unwrap_or_default())
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                for (f, k) in &picks {
                    match k {
                        Keep::Remote => changed.remove(f),
                        Keep::Local => changed.insert(f.clone()),
                    };
                }
                supersede(&tx)?;
                for e in held.iter().filter(|e| e.op != OutboxOp::Update) {
                    store::sync_state::finish_entry(&tx, e.id, OutboxState::Pending, None, now)?;
                }
                if !changed.is_empty() {
                    let base = store::residents::remote_base(&tx, r.id)?.unwrap_or(Value::Null);
                    let base: Map<String, Value> =
                        changed.iter().map(|f| (f.clone(), base.get(f).cloned().unwrap_or(Value::Null))).collect();
                    let payload = json!({"resident": crate::app::residents::field_values(&after), "changed": changed});
                    entry_id = Some(append(&tx, &after, OutboxOp::Update, payload, Value::Object(base))?);
                }
                said = ResolvedSaid::Kept {
                    fields: picks.iter().filter_map(|(f, k)| ResidentField::parse(f).map(|f| (f, *k))).collect(),
                };
            }
            Some(ConflictKind::RemotePurge) => {
                let keep = choice.keep.ok_or_else(|| {
                    AppError::invalid_field("keep", "a purge conflict is resolved with --keep local|remote")
                })?;
                supersede(&tx)?;
                match (keep, resident) {
                    (Keep::Local, Some(r)) => {
                        store::residents::clear_remote_id(&tx, r.id)?;
                        store::residents::set_remote_base(&tx, r.id, &json!({}), now)?;
                        let after =
                            store::residents::get(&tx, r.id)?.ok_or_else(|| AppError::internal("resident vanished"))?;
                        let payload = json!({"resident": crate::app::residents::field_values(&after)});
                        entry_id = Some(append(&tx, &after, OutboxOp::Create, payload, json!({}))?);
                        said = ResolvedSaid::CreatedAgain { email: after.email };
                    }
                    (Keep::Remote, Some(r)) => {
                        store::residents::delete(&tx, r.id)?;
                        said = ResolvedSaid::RemovedHere { email: r.email };
                    }
                    (_, None) => said = ResolvedSaid::Gone,
                }
            }
            Some(ConflictKind::UnitTaken) => {
                let keep = choice.keep.ok_or_else(|| {
                    AppError::invalid_field("keep", "a unit conflict is resolved with --keep local|remote")
                })?;
                match (keep, resident) {
                    (Keep::Local, _) => {
                        for e in &held {
                            store::sync_state::finish_entry(
                                &tx,
                                e.id,
                                OutboxState::Pending,
                                Some("sent again after the unit conflict was resolved"),
                                now,
                            )?;
                        }
                        said = ResolvedSaid::SentAgain;
                    }
                    (Keep::Remote, Some(r)) => {
                        supersede(&tx)?;
                        if r.remote_id.is_none() {
                            store::residents::delete(&tx, r.id)?;
                            said = ResolvedSaid::NotCreated { email: r.email.clone() };
                        } else {
                            let base = store::residents::remote_base(&tx, r.id)?
                                .and_then(|b| b.as_object().cloned())
                                .unwrap_or_default();
                            let mut values = match crate::app::residents::field_values(&r) {
                                Value::Object(m) => m,
                                _ => Map::new(),
                            };
                            for f in [ResidentField::Building, ResidentField::Floor, ResidentField::Unit] {
                                if let Some(v) = base.get(f.as_str()) {
                                    values.insert(f.as_str().into(), v.clone());
                                }
                            }
                            if let Some(fields) = crate::sync::merge::to_fields(&crate::sync::merge::normalize(&values))
                            {
                                let fields = super::residents::check_resident_fields(&tx, &site, r.id, &fields, now)?;
                                store::residents::update_fields(&tx, r.id, &fields, now)?;
                            }
                            said = ResolvedSaid::StaysInRemoteUnit { email: r.email.clone() };
                        }
                    }
                    (Keep::Remote, None) => {
                        supersede(&tx)?;
                        said = ResolvedSaid::Gone;
                    }
                }
            }
            None => return Err(AppError::internal(format!("unknown conflict kind {:?}", c.kind))),
        }
        store::conflicts::resolve(
            &tx,
            id,
            &serde_json::to_value(choice).unwrap_or(Value::Null),
            Some(session.actor.staff_id),
            now,
        )?;
        let mut audit = tx
            .audit()
            .details(json!({"conflict": id, "kind": c.kind, "fields": c.fields, "choice": choice, "entry": entry_id}));
        if let Some(email) = &c.email {
            audit = audit.target(email.clone());
        }
        audit.write()?;
        tx.commit()?;
        Ok(ResolveOutcome { conflict_id: id, entry_id, message: said.to_string(), said })
    }
}

/// The contract's assumptions checked against the remote (`remote.check`, issue #13): through
/// the gate (`sync.operate` on the team, audited with the remote's address), then read-only
/// calls to `remote` ([`crate::sync::check::run`]), then the report stored as the last check
/// (a contradiction a push depends on holds the push until a check holds it) and audited
/// with what it found (`remote.check.result`). Like [`sync_pass`], the network is reached
/// outside any transaction.
///
/// `sync.operate`, not `sync.configure`: the check changes no setting and sends nothing; it
/// is what the person who runs the sync does when a push is held, to see why and to clear
/// the hold once the remote is fixed (a check can only clear it by finding the assumption
/// held). Pointing it at another remote or account stays `sync.configure`'s.
pub async fn remote_check_with<R: RawRemote>(app: &mut App, session: &Session, remote: &R) -> AppResult<CheckReport> {
    let (fresh, target) = {
        let tx = app.write(session, &uc::REMOTE_CHECK, At::Team)?;
        tx.audit().details(json!({"remote_url": remote.base_url()})).write()?;
        let fresh = tx.ctx.session.clone();
        let target = check::target(&tx, &fresh)?;
        tx.commit()?;
        (fresh, target)
    };
    let report = check::run(remote, &target, app.now()).await;
    check::record(app.sync_db(), &fresh, report)
}

impl App {
    /// `remote.check` against the configured remote with the stored service account (what
    /// the desktop's Settings → "Check the connection" calls). See [`remote_check_with`].
    // Written as a `pub fn` returning the future so the gate test (tests/it/one_gate.rs), which
    // reads `pub fn` declarations, sees it as a use case the CLI and the desktop may call.
    #[allow(clippy::manual_async_fn)]
    pub fn remote_check<'a>(
        &'a mut self,
        session: &'a Session,
    ) -> impl std::future::Future<Output = AppResult<CheckReport>> + 'a {
        async move {
            // The gate first (a denial is audited), before any credential is read.
            let url = {
                let rd = self.read(session, &uc::REMOTE_CHECK, At::Team)?;
                let team = team_of(&rd.ctx.session)?;
                store::team_sync::get(&rd, team)?.remote_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_string())
            };
            let credentials = self.sync_credentials(session)?;
            let remote = HttpRemote::new(&url, credentials).map_err(|e| AppError::internal(e.to_string()))?;
            remote_check_with(self, session, &remote).await
        }
    }

    /// The gate of `remote.check` alone (a denial is audited): the CLI asks it before it
    /// touches the settings or credentials given with the command.
    pub fn remote_check_gate(&self, session: &Session) -> AppResult<()> {
        self.read(session, &uc::REMOTE_CHECK, At::Team).map(|_| ())
    }

    /// The last check's report, if a check ran (for the desktop's Settings and `sync status`;
    /// as readable as the sync status).
    pub fn remote_check_last(&self, session: &Session) -> AppResult<Option<CheckReport>> {
        let rd = self.read(session, &uc::SYNC_STATUS, At::Team)?;
        check::last(&rd)
    }
}
