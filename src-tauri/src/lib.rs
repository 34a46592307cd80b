//! The ResidentDesk desktop shell: Tauri 2 commands, one line each over the core's
//! [`App`]. The shell holds the one [`App`] (the single database writer) and the signed-in
//! [`Session`] behind a mutex; every command refreshes the session from the database first
//! (so a change of rights applies at once) and hands the core's [`AppError`] to the web
//! view unchanged, as `{code, message, details}`. Nothing here decides a rule: the core
//! authorises every call, and [`SessionInfo::gates`] is the core's own answer on every use
//! case ([`App::use_case_gates`], decided by the code the use cases run), shown by the UI as
//! enabled or disabled-with-reason.

pub mod commands;
pub mod demo_remote;
pub mod dialogs;
pub mod instance;
pub mod logging;
pub mod maintenance;
#[cfg(all(feature = "e2e", target_os = "linux"))]
mod print_seam;
pub mod remote_team;
pub mod shutdown;
pub mod startup;

use residentdesk::access::Level;
use residentdesk::app::demo::DemoSummary;
use residentdesk::app::gate::UseCaseGate;
use residentdesk::app::idle::{LiveSessions, LiveState};
use residentdesk::app::worker::Worker;
use residentdesk::app::Session;
use residentdesk::error::AppResult;
use residentdesk::store::KeySource;
use residentdesk::sync::client::HttpRemote;
use residentdesk::sync::status::SyncStatus;
use residentdesk::sync::SyncOptions;
use residentdesk::{App, AppError, Clock, SystemClock};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tauri::Manager;

/// How long after a sign-in the day's first backup starts (the first screens come first).
const DAILY_BACKUP_AFTER: Duration = Duration::from_secs(2);

/// How often the background worker syncs on its own.
const SYNC_INTERVAL: Duration = Duration::from_secs(60);

/// What a command returns: the value, or the core's error as it is.
pub type Reply<T> = Result<T, AppError>;

/// The shell's state: the application and the signed-in person.
pub struct Desk {
    inner: Mutex<Inner>,
    db_path: PathBuf,
    /// The background sync worker of the signed-in person (when sync is set up).
    worker: Mutex<Option<Arc<Worker>>>,
    /// The runtime the worker and its event forwarding run on.
    runtime: tokio::runtime::Runtime,
    /// The simulated Site Manager of a demo database (see [`demo_remote`]).
    demo_remote: Mutex<Option<demo_remote::DemoRemote>>,
    /// The file the person chose for an import (`commands::import_choose`).
    import_file: Mutex<Option<PathBuf>>,
    /// The core's live sessions (the idle lock), reachable without the app: signing out
    /// and the lock watcher must not wait for a long import that holds the app.
    live: Arc<LiveSessions>,
    /// Who is signed in (staff id, email), beside the app for the same reason.
    person: Mutex<Option<(i64, String)>>,
    /// Where the database's key came from (the environment or keyring, or the passphrase
    /// typed at start): every other connection of the desk opens with it.
    key: KeySource,
}

struct Inner {
    app: App,
    session: Option<Session>,
}

impl Desk {
    /// Opens (creating and migrating) the database at `path`, keyed from `key`.
    pub fn open(path: &Path, key: KeySource) -> AppResult<Desk> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| AppError::internal(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut app = App::open_with_key(path, desk_clock(), &key)?;
        // The e2e build's seam: `--e2e-idle-minute SECONDS`, an idle "minute" of so many
        // seconds, so a test can wait for the lock (never in a build without `e2e`).
        #[cfg(feature = "e2e")]
        if let Some(seconds) = e2e_idle_minute() {
            app.live_sessions().set_minute(chrono::Duration::seconds(seconds));
        }
        let live = app.live_sessions();
        // A demo database gets its simulated remote back; without it the demo stays usable
        // offline, and the sync bar says why it cannot reach the remote.
        let demo_remote = match demo_remote::resume(&mut app, path) {
            Some(Ok(remote)) => Some(remote),
            Some(Err(e)) => {
                tracing::warn!("the demo's simulated remote did not start: {e}");
                None
            }
            None => None,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("residentdesk-sync")
            .enable_all()
            .build()
            .map_err(|e| AppError::internal(format!("cannot start the sync runtime: {e}")))?;
        Ok(Desk {
            inner: Mutex::new(Inner { app, session: None }),
            db_path: path.to_path_buf(),
            worker: Mutex::new(None),
            runtime,
            demo_remote: Mutex::new(demo_remote),
            import_file: Mutex::new(None),
            live,
            person: Mutex::new(None),
            key,
        })
    }

    /// Another connection to the desk's database (the sync worker's, a connection check's,
    /// the app after a restore), keyed as the desk's and sharing its live sessions, so a
    /// lock or a sign-out applies there too.
    pub fn open_app(&self) -> AppResult<App> {
        let mut app = App::open_with_key(&self.db_path, desk_clock(), &self.key)?;
        app.share_live_sessions(self.live.clone());
        Ok(app)
    }

    /// Seeds the demo portfolio and starts its simulated remote (first run).
    pub fn demo_seed(&self, residents: usize) -> Reply<DemoReady> {
        let mut inner = self.lock();
        let summary = inner.app.demo_seed(residents, 42)?;
        let (remote_url, remote_problem) = match demo_remote::create(&mut inner.app, &self.db_path, &summary) {
            Ok(remote) => {
                let url = remote.base_url();
                *self.demo_remote.lock().unwrap_or_else(|p| p.into_inner()) = Some(remote);
                (Some(url), None)
            }
            Err(e) => (None, Some(e.to_string())),
        };
        Ok(DemoReady { summary, remote_url, remote_problem })
    }

    /// (Re)starts the background sync worker for the signed-in person, on its own
    /// connection to the database, publishing every status change through `emit`. Returns
    /// false (and runs no worker) when sync is not set up (no stored credentials).
    pub fn restart_sync(&self, emit: impl Fn(SyncStatus) + Send + Sync + 'static) -> Reply<bool> {
        self.stop_sync();
        let (session, url, credentials) = {
            let inner = self.lock();
            let Some(session) = inner.session.clone() else { return Ok(false) };
            let Ok(credentials) = inner.app.sync_credentials(&session) else { return Ok(false) };
            let url = inner.app.sync_config(&session)?.remote_url;
            (session, url, credentials)
        };
        let remote = HttpRemote::new(&url, credentials)
            .map_err(|e| AppError::invalid_field("remote", format!("cannot use the remote {url}: {e}")))?;
        // The worker's gate sees the desk's sessions: a lock or a sign-out stops its passes.
        let app = self.open_app()?;
        let worker = {
            let _entered = self.runtime.enter();
            Worker::spawn(
                app,
                session,
                remote,
                SyncOptions::default().in_background().pull_by_schedule(SYNC_INTERVAL, Vec::new()),
                SYNC_INTERVAL,
            )
        };
        let mut status = worker.subscribe();
        self.runtime.spawn(async move {
            loop {
                let now = status.borrow_and_update().clone();
                emit(now);
                if status.changed().await.is_err() {
                    break;
                }
            }
        });
        *self.worker.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(worker));
        Ok(true)
    }

    /// Stops the background worker, if any (after its running pass).
    pub fn stop_sync(&self) {
        let old = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(worker) = old.and_then(|w| Arc::try_unwrap(w).ok()) {
            self.runtime.spawn(async move {
                worker.stop().await;
            });
        }
    }

    /// The running worker, if sync is set up.
    pub fn worker(&self) -> Option<Arc<Worker>> {
        self.worker.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Runs a task on the desk's runtime (the lock watcher).
    pub fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.runtime.spawn(task);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` without a session (first run, sign-in).
    pub fn anon<T>(&self, f: impl FnOnce(&mut App) -> AppResult<T>) -> Reply<T> {
        f(&mut self.lock().app)
    }

    /// Runs `f` as the signed-in person, with their session refreshed from the database.
    pub fn signed_in<T>(&self, f: impl FnOnce(&mut App, &Session) -> AppResult<T>) -> Reply<T> {
        let mut inner = self.lock();
        let Inner { app, session } = &mut *inner;
        let current = session.as_ref().ok_or_else(not_signed_in)?;
        let fresh = match app.refresh(current) {
            Ok(s) => s,
            Err(e) => {
                // A disabled account or membership, a revoked token: the session ends at this
                // action, as the core decided (the UI goes back to sign-in on `unauthenticated`).
                if e.code == residentdesk::ErrorCode::Unauthenticated {
                    *session = None;
                    *self.person.lock().unwrap_or_else(|p| p.into_inner()) = None;
                    drop(inner);
                    self.stop_sync();
                }
                return Err(e);
            }
        };
        *session = Some(fresh.clone());
        f(app, &fresh)
    }

    /// Runs a use case that yields a new session (sign-in, first set-up, team switch) and
    /// keeps it.
    pub fn start_session(
        &self,
        f: impl FnOnce(&mut App, Option<&Session>) -> AppResult<Session>,
    ) -> Reply<SessionInfo> {
        let mut inner = self.lock();
        let Inner { app, session } = &mut *inner;
        let next = f(app, session.as_ref())?;
        // Another person signed in at the lock screen: the previous person's session ends
        // (the UI discards what they left unsaved).
        if let Some(previous) = session.as_ref().filter(|p| p.actor.staff_id != next.actor.staff_id) {
            app.sign_out(previous);
        }
        // The housekeeping that waits for a signed-in session (never at open): the purge of
        // residents past their 31-day grace, here, and the daily backup, on a connection of
        // its own (neither stops the sign-in).
        if let Err(e) = app.purge_after_grace(&next) {
            tracing::error!("the purge after the grace period failed: {e}");
        }
        self.daily_backup_in_background(next.clone());
        let info = SessionInfo::of(app, &next)?;
        *self.person.lock().unwrap_or_else(|p| p.into_inner()) = Some((next.actor.staff_id, next.actor.email.clone()));
        *session = Some(next);
        Ok(info)
    }

    /// The daily backup due at a sign-in, taken on another connection in a thread of its own:
    /// a copy of a million residents' database takes seconds (`VACUUM INTO` reads one committed
    /// state while the desk goes on writing), and the person's list must not wait for it — nor
    /// share the machine with it while it loads: the copy starts `DAILY_BACKUP_AFTER` later.
    fn daily_backup_in_background(&self, session: Session) {
        let (path, key, live) = (self.db_path.clone(), self.key.clone(), self.live.clone());
        let spawned = std::thread::Builder::new().name("daily-backup".into()).spawn(move || {
            std::thread::sleep(DAILY_BACKUP_AFTER);
            let taken = App::open_with_key(&path, desk_clock(), &key).and_then(|mut app| {
                app.share_live_sessions(live);
                app.backup_if_due(&session)
            });
            if let Err(e) = taken {
                tracing::error!("the daily backup failed: {e}");
            }
        });
        if let Err(e) = spawned {
            tracing::error!("the daily backup could not start: {e}");
        }
    }

    /// Signs the person out: the core ends their session at once, without waiting for the
    /// app (an import or export of theirs under way stops at its next progress tick, with
    /// nothing written), then the shell forgets it.
    pub fn sign_out(&self) {
        if let Some((staff_id, _)) = self.person.lock().unwrap_or_else(|p| p.into_inner()).take() {
            self.live.end(staff_id);
        }
        self.stop_sync();
        self.lock().session = None;
    }

    /// The person's keys and pointer, reported by the UI: activity for the core's idle lock
    /// (it never opens a locked session). Needs no app, so it works during an import.
    pub fn activity(&self) {
        if let Some((staff_id, _)) = self.person.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            self.live.activity(*staff_id);
        }
    }

    /// The signed-in person's email when the core says their session is locked now.
    pub fn locked(&self) -> Option<String> {
        let person = self.person.lock().unwrap_or_else(|p| p.into_inner()).clone();
        person.filter(|(staff_id, _)| self.live.state(*staff_id) == Some(LiveState::Locked)).map(|(_, email)| email)
    }

    /// The signed-in person, if any, with the core's gates.
    pub fn current(&self) -> Reply<Option<SessionInfo>> {
        let mut inner = self.lock();
        let Inner { app, session } = &mut *inner;
        match session.as_ref() {
            None => Ok(None),
            Some(s) => {
                let fresh = app.refresh(s)?;
                let info = match SessionInfo::of(app, &fresh) {
                    // A window reloaded while locked: its screen is gone, so it starts at
                    // sign-in (the same person's password opens their session again).
                    Err(e) if e.reason() == Some(residentdesk::error::ErrorReason::SessionLocked) => return Ok(None),
                    other => other?,
                };
                *session = Some(fresh);
                Ok(Some(info))
            }
        }
    }

    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// Keeps the file chosen for an import.
    pub fn set_import_file(&self, path: PathBuf) {
        *self.import_file.lock().unwrap_or_else(|p| p.into_inner()) = Some(path);
    }

    /// The file chosen for an import, if any.
    pub fn import_file(&self) -> Option<PathBuf> {
        self.import_file.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn not_signed_in() -> AppError {
    AppError::new(residentdesk::ErrorCode::Unauthenticated, "please sign in first")
}

/// The signed-in person as the UI shows them.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct SessionInfo {
    pub staff_id: i64,
    pub email: String,
    pub is_owner: bool,
    pub team_id: Option<i64>,
    pub team_name: Option<String>,
    pub level: Option<Level>,
    /// "Team administrator", "Staff user"... A label only: what the person may do is in
    /// `gates`, because add-on roles and site grants make it differ from the level's.
    pub level_title: Option<String>,
    /// The core's answer on every use case a signed-in person may be asked about, in the
    /// order of the core's use-case table; the UI enables a screen or a control from these.
    pub gates: Vec<UseCaseGate>,
}

impl SessionInfo {
    fn of(app: &App, session: &Session) -> AppResult<SessionInfo> {
        let actor = &session.actor;
        let team = actor.team.as_ref().map(|(t, _)| t.clone());
        Ok(SessionInfo {
            staff_id: actor.staff_id,
            email: actor.email.clone(),
            is_owner: actor.is_owner,
            team_id: team.as_ref().map(|t| t.id),
            team_name: team.map(|t| t.name),
            level: actor.level(),
            level_title: actor.level().map(|l| l.title().to_string()),
            gates: app.use_case_gates(session)?,
        })
    }
}

/// The first-run demo: the portfolio, and the simulated Site Manager it syncs with (or why
/// that could not start; the demo then works offline).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct DemoReady {
    pub summary: DemoSummary,
    pub remote_url: Option<String>,
    pub remote_problem: Option<String>,
}

/// What the UI needs before anyone signs in.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Bootstrap {
    /// False on first run (no staff account yet): the UI offers the demo or a new team.
    pub initialised: bool,
    pub db_path: String,
    /// The real Site Manager API, offered on first run for connecting a new team.
    pub default_remote_url: String,
    pub session: Option<SessionInfo>,
    /// The database waits for its passphrase (nothing else is open yet): the UI asks for it
    /// first (`db_passphrase`).
    pub passphrase: Option<PassphraseNeeded>,
}

/// The passphrase screen's question.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct PassphraseNeeded {
    /// No database file yet: the passphrase chosen now encrypts the new database.
    pub new_database: bool,
}

/// The database: `--db PATH`, or `RESIDENTDESK_DB`, or `residentdesk.db` in the platform's
/// data directory.
pub fn db_path() -> PathBuf {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--db" {
            if let Some(p) = args.next() {
                return PathBuf::from(p);
            }
        }
    }
    if let Some(p) = std::env::var_os("RESIDENTDESK_DB").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    // The same default as the CLI's, on every OS.
    residentdesk::store::default_database_path()
}

/// The clock of every connection of the desk: the system's. In the e2e build only,
/// `--e2e-now INSTANT` (RFC 3339) shifts it so the app starts at that instant and runs on
/// from there, so a test can see a site's "today" around midnight UTC whatever the hour.
fn desk_clock() -> Arc<dyn Clock> {
    #[cfg(feature = "e2e")]
    if let Some(offset) = e2e_clock_offset() {
        return Arc::new(ShiftedClock(offset));
    }
    Arc::new(SystemClock)
}

/// The system clock moved by a fixed offset (the e2e build's `--e2e-now`).
#[cfg(feature = "e2e")]
struct ShiftedClock(chrono::Duration);

#[cfg(feature = "e2e")]
impl Clock for ShiftedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + self.0
    }
}

/// The offset `--e2e-now INSTANT` asks for, taken once, so every connection of the desk
/// (the app's, the worker's, a restore's) keeps the same time.
#[cfg(feature = "e2e")]
fn e2e_clock_offset() -> Option<chrono::Duration> {
    static OFFSET: std::sync::OnceLock<Option<chrono::Duration>> = std::sync::OnceLock::new();
    *OFFSET.get_or_init(|| {
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            if arg == "--e2e-now" {
                let at = args.next().and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())?;
                return Some(at.with_timezone(&chrono::Utc) - chrono::Utc::now());
            }
        }
        None
    })
}

/// The e2e build's `--e2e-idle-minute SECONDS` (see [`Desk::open`]).
#[cfg(feature = "e2e")]
fn e2e_idle_minute() -> Option<i64> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--e2e-idle-minute" {
            return args.next().and_then(|s| s.parse().ok()).filter(|s| *s > 0);
        }
    }
    None
}

/// Starts the desktop: the log first; then Tauri with its plugins, the single-instance one
/// first (a second start on this database hands over to the first window and exits here,
/// before anything else runs); then, in `setup`, the database's lock and the database
/// itself. Only when both are open is the main window created (it is taken out of the
/// configuration for that), so a failed start shows a native message box and no empty
/// window, and the process exits with status 1.
pub fn run() -> Result<(), String> {
    let log = logging::init();
    let path = db_path();
    tracing::info!("ResidentDesk {} starting on {}", env!("CARGO_PKG_VERSION"), path.display());
    let mut context = tauri::generate_context!();
    let windows = std::mem::take(&mut context.config_mut().app.windows);
    let identifier = context.config().identifier.clone();
    let db = path.clone();
    let log_for_setup = log.clone();
    tauri::Builder::default()
        .plugin(instance::single_instance(&identifier, &path))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(commands::handler())
        .setup(move |shell| {
            shutdown::end_cleanly_on_signal(shell.handle());
            match open_for_start(&db) {
                Ok(Start::Open(lock, desk)) => {
                    tracing::info!("opened {} (lock {})", db.display(), lock.path.display());
                    shell.manage(lock);
                    commands::watch_idle_lock(shell.handle(), &desk);
                    shell.manage(*desk);
                }
                Ok(Start::NeedsPassphrase(lock, prompt)) => {
                    // No key from the environment or the keyring: the window asks for the
                    // passphrase (`commands::db_passphrase` opens the desk with it).
                    tracing::info!("{} needs its passphrase (lock {})", db.display(), lock.path.display());
                    shell.manage(lock);
                    shell.manage(prompt);
                }
                Err((failure, details)) => {
                    let text = startup::message(failure, &details, &db, &log_for_setup.describe());
                    tracing::error!("cannot start: {text}");
                    let handle = shell.handle().clone();
                    dialogs::error_then(shell.handle(), "ResidentDesk could not start", &text, move || handle.exit(1));
                    return Ok(());
                }
            }
            for window in &windows {
                let _built = tauri::WebviewWindowBuilder::from_config(shell.handle(), window)?.build()?;
                #[cfg(all(feature = "e2e", target_os = "linux"))]
                print_seam::install(&_built);
            }
            Ok(())
        })
        .run(context)
        .map_err(|e| {
            tracing::error!("the window failed: {e}");
            format!("the window failed: {e} (log: {})", log.describe())
        })
}

/// How the start went: the database is open, or it waits for its passphrase.
enum Start {
    // Boxed: the open desk is large, the prompt small, and a start is made once.
    Open(instance::DatabaseLock, Box<Desk>),
    NeedsPassphrase(instance::DatabaseLock, KeyPrompt),
}

/// The database waiting for its passphrase (neither `RESIDENTDESK_DB_KEY` nor the keyring
/// gave a key): the window's first screen asks for it.
pub struct KeyPrompt {
    pub db_path: PathBuf,
    /// No database file yet: the passphrase chosen now encrypts the new one.
    pub new_database: bool,
}

/// Takes the database's lock and opens it, or says why not.
fn open_for_start(path: &Path) -> Result<Start, (startup::Failure, String)> {
    let lock = instance::lock_for_start(path).map_err(|e| {
        let details = match &e {
            instance::LockError::Held { lock } => format!("{} is held by another ResidentDesk window", lock.display()),
            instance::LockError::Io { lock, error } => format!("cannot create {}: {error}", lock.display()),
        };
        (startup::Failure::of_lock(&e), details)
    })?;
    // The store's own open first, for its typed error (the app's error is text only); the
    // app's open after it finds the database migrated and only opens it.
    if let Err(e) = residentdesk::store::open(path) {
        use residentdesk::store::key::KeyError;
        return match &e {
            residentdesk::store::StoreError::Key(KeyError::Missing { .. }) => {
                Ok(Start::NeedsPassphrase(lock, KeyPrompt { db_path: path.to_path_buf(), new_database: false }))
            }
            residentdesk::store::StoreError::Key(KeyError::NoKeyForNew { .. }) => {
                Ok(Start::NeedsPassphrase(lock, KeyPrompt { db_path: path.to_path_buf(), new_database: true }))
            }
            _ => Err((startup::Failure::of_store(&e), e.to_string())),
        };
    }
    let desk = Desk::open(path, KeySource::Standard).map_err(|e| (startup::Failure::Other, e.to_string()))?;
    Ok(Start::Open(lock, Box::new(desk)))
}

/// Opens the desk with the passphrase typed at start (see [`KeyPrompt`]): a wrong one is
/// refused by the core (`key_wrong`) with nothing written.
pub fn open_with_passphrase(prompt: &KeyPrompt, passphrase: String) -> Reply<Desk> {
    let source = KeySource::Passphrase(passphrase);
    // The store's open first, for its typed key error; then the desk's.
    residentdesk::store::open_keyed(&prompt.db_path, &source).map_err(AppError::from)?;
    Desk::open(&prompt.db_path, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The passphrase typed at start: a new database is created encrypted with it; at the next
    /// start a wrong one is refused as `key_wrong` with the files unchanged, the right one opens.
    #[test]
    fn the_passphrase_typed_at_start_creates_and_opens_the_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("desk.db");
        let prompt = KeyPrompt { db_path: db.clone(), new_database: true };
        drop(open_with_passphrase(&prompt, "Grüne Äpfel 2026".into()).expect("a new database"));
        let header = std::fs::read(&db).expect("read");
        assert_ne!(&header[..16], b"SQLite format 3\0", "encrypted");
        let files = || ["", "-wal"].map(|ext| std::fs::read(format!("{}{ext}", db.display())).ok());
        let before = files();
        let prompt = KeyPrompt { db_path: db.clone(), new_database: false };
        let wrong = open_with_passphrase(&prompt, "not it".into()).err().expect("a wrong passphrase is refused");
        assert_eq!(wrong.reason(), Some(residentdesk::error::ErrorReason::KeyWrong), "{wrong:?}");
        assert!(files() == before, "nothing written");
        let desk = open_with_passphrase(&prompt, "Grüne Äpfel 2026".into()).expect("the right one opens");
        assert!(desk.anon(|app| Ok(app.is_encrypted())).expect("asked"));
    }
}
